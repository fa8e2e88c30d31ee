//! The watchdogs end a run whose measuring thread spins without sleeping (the test-only
//! `clock_tick.hang` knob): rust-bench's own deadline thread, and `rust-bench watchdog`, the
//! appliance's last resort (here with its hidden `--no-poweroff`: it stops the spinning
//! process and marks the run failed, and exits instead of switching the machine off).
//! That they preempt a SCHED_FIFO 99 thread on the only CPU is shown by `make e2e`.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn write_conf(dir: &Path, hang: &str, timeout: &str) -> PathBuf {
    let path = dir.join("bench.conf");
    std::fs::write(
        &path,
        format!(
            "tests = clock-tick\ncpu = {}\npriority = 80\nclock_tick.duration = 1h\n\
             clock_tick.hang = {hang}\nrt_throttling = keep\ntimeout = {timeout}\n",
            test_cpu()
        ),
    )
    .unwrap();
    path
}

fn start_run(conf: &Path, results: &Path) -> Child {
    bin()
        .args(["run", "--config"])
        .arg(conf)
        .arg("--results")
        .arg(results)
        .args(["--run-id", "r"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rust-bench run")
}

/// Field N (1-based, proc(5)) of /proc/PID/stat.
fn stat_field(pid: u32, n: usize) -> String {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    rest.split_whitespace()
        .nth(n - 3)
        .unwrap_or_default()
        .to_string()
}

/// The scheduling policies of a process's threads.
fn policies(pid: u32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| {
            d.flatten()
                .map(|t| {
                    let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
                    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
                    rest.split_whitespace().nth(38).unwrap_or("?").to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Wait until the run's clock-tick thread is SCHED_FIFO (policy 1).
fn wait_until_spinning(child: &Child) {
    let until = Instant::now() + Duration::from_secs(20);
    while !policies(child.id()).iter().any(|p| p == "1") {
        assert!(Instant::now() < until, "the run never became SCHED_FIFO");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_appliance_watchdog_stops_a_spinning_run_and_marks_it_failed() {
    let Some(_g) = measuring_as_root("needs root for SCHED_FIFO and SCHED_DEADLINE") else {
        return;
    };
    let dir = tmpdir("watchdog-outer");
    let results = dir.join("results");
    let mut child = start_run(&write_conf(&dir, "unwatched", "1h"), &results);
    wait_until_spinning(&child);
    let run_dir = results.join("r");
    let reason = "the watchdog switched the machine off: test";
    let started = Instant::now();
    let o = run(&[
        "watchdog",
        "--after",
        "1",
        "--reason",
        reason,
        "--run-dir",
        run_dir.to_str().unwrap(),
        "--no-poweroff",
    ]);
    let took = started.elapsed();
    let state = stat_field(child.id(), 3);
    let after = policies(child.id());
    child.kill().unwrap();
    child.wait().unwrap();
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        !err.contains("falls back"),
        "not under SCHED_DEADLINE: {err}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}: {err}");
    assert!(
        err.contains(&format!("stopped the real-time processes {} (", child.id())),
        "{err}"
    );
    assert_eq!(state, "T", "the spinning run is stopped: {err}");
    assert!(after.iter().all(|p| p == "0"), "policies now {after:?}");
    assert!(err.contains("r/run.json marked failed"), "{err}");
    let record = json_file(&run_dir.join("run.json"));
    assert_eq!(record["status"], "failed");
    assert_eq!(record["error"], reason);
}

#[test]
fn the_run_ends_itself_when_its_measuring_thread_spins() {
    let Some(_g) = measuring_as_root("needs root for SCHED_FIFO and SCHED_DEADLINE") else {
        return;
    };
    let dir = tmpdir("watchdog-inner");
    let results = dir.join("results");
    let started = Instant::now();
    let child = start_run(&write_conf(&dir, "yes", "1s"), &results);
    let o = child.wait_with_output().unwrap();
    let took = started.elapsed();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    // The timeout (1 s), then the grace (5 s at least), then the exit.
    assert!(took < Duration::from_secs(20), "took {took:?}: {err}");
    assert!(took >= Duration::from_secs(6), "took {took:?}: {err}");
    assert!(err.contains("spinning without sleeping"), "{err}");
    assert!(
        !err.contains("warning: cannot run the watchdog under SCHED_DEADLINE"),
        "{err}"
    );
    let record = json_file(&results.join("r/run.json"));
    assert_eq!(record["status"], "failed");
    let error = record["error"].as_str().unwrap();
    assert!(
        error.starts_with("rust-bench's watchdog ended the run: it was still going 5s after the plan's timeout (1s)"),
        "{error}"
    );
    assert_eq!(record["plan"]["clock_tick"]["hang"], "yes");
}
