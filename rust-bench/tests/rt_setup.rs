//! Lifting RT throttling lifts the fair_server reservation too, restores both, and says
//! what stayed in force when something could not be lifted.

mod common;
use common::*;

use std::process::Stdio;
use std::time::Duration;

fn rt_runtime() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/sched_rt_runtime_us").ok()
}

fn debugfs_mounted() -> bool {
    std::fs::read_to_string("/proc/self/mounts")
        .unwrap_or_default()
        .lines()
        .any(|l| l.split_whitespace().nth(1) == Some("/sys/kernel/debug"))
}

/// A SCHED_OTHER busy loop on the measured CPU: with RT throttling and the fair_server
/// lifted it never runs while the measurement does, so no sample reaches 45 ms (Linux
/// 6.12's fair_server would give it 50 ms every second). Where the fair_server cannot be
/// lifted (a locked-down kernel refuses debugfs), the run must say so on stderr, in the
/// summary and in the JSON.
#[test]
fn a_busy_ordinary_task_cannot_stall_a_run_without_rt_throttling() {
    let Some(_g) = measuring_as_root("needs root to lift RT throttling") else {
        return;
    };
    let cpu = test_cpu().to_string();
    let (runtime_before, mounted_before) = (rt_runtime(), debugfs_mounted());
    let mut hog = bin()
        .args(["load", "cpu", "--cpu", &cpu, "--duration", "8s"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let o = run(&[
        "clock-tick",
        "--cpu",
        &cpu,
        "--priority",
        "80",
        "--duration",
        "4s",
        "--no-rt-throttling",
        "--json",
        "-",
    ]);
    let _ = hog.kill();
    let _ = hog.wait();
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(rt_runtime(), runtime_before, "RT throttling not restored");
    assert_eq!(
        debugfs_mounted(),
        mounted_before,
        "debugfs left as it was not"
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let setup = &v["rt_setup"];
    assert_eq!(setup["requested"], "off", "{v}");
    assert_eq!(setup["restored"], true, "{setup}");
    let max = u(&v, "loop_ns.max");
    let in_force = setup["in_force"].as_array().unwrap();
    if in_force.is_empty() {
        assert!(
            max < 45_000_000,
            "a {:.1} ms sample with RT throttling and the fair_server lifted",
            max as f64 / 1e6
        );
    } else {
        assert!(
            in_force
                .iter()
                .any(|f| f.as_str().unwrap().starts_with("fair_server")),
            "{setup}"
        );
        assert!(
            err.contains("rust-bench: warning: the fair_server reservation could not be lifted"),
            "{err}"
        );
        assert!(err.contains("in force during the run"), "{err}");
        assert!(
            !setup["fair_server"]["errors"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        eprintln!(
            "note: the fair_server could not be lifted here ({}); longest sample {:.1} ms",
            setup["fair_server"]["errors"][0],
            max as f64 / 1e6
        );
    }
}

/// `run` with `rt_throttling = off` uses the same setup and records it in run.json and in
/// the test's JSON.
#[test]
fn run_records_its_rt_setup() {
    let Some(_g) = measuring_as_root("needs root to lift RT throttling") else {
        return;
    };
    let dir = tmpdir("run-rt-setup");
    let conf = dir.join("bench.conf");
    std::fs::write(
        &conf,
        format!(
            "tests = clock-tick\ncpu = {}\npriority = 80\nclock_tick.duration = 500ms\n\
             rt_throttling = off\ntimeout = 1m\n",
            test_cpu()
        ),
    )
    .unwrap();
    let (runtime_before, mounted_before) = (rt_runtime(), debugfs_mounted());
    let results = dir.join("results");
    let o = run_plan(&conf, &results, &["--run-id", "r"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(rt_runtime(), runtime_before);
    assert_eq!(debugfs_mounted(), mounted_before);
    let record = json_file(&results.join("r/run.json"));
    let settings = &record["rt_settings"];
    assert_eq!(settings["requested"], "off", "{record}");
    assert_eq!(settings["restored"], true, "{settings}");
    assert!(settings["in_force"].is_array());
    let ct = json_file(&results.join("r/clock-tick.json"));
    assert_eq!(ct["rt_setup"]["requested"], "off");
    assert_eq!(
        ct["rt_setup"]["in_force"], settings["in_force"],
        "the test and the run disagree"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A 60 s clock-tick with RT throttling lifted, writing to `dir`, 1.5 s into its run.
fn measure_lifted(dir: &std::path::Path) -> std::process::Child {
    let child = bin()
        .args([
            "clock-tick",
            "--cpu",
            &test_cpu().to_string(),
            "--priority",
            "80",
            "--duration",
            "60s",
            "--no-rt-throttling",
        ])
        .arg("--out")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    child
}

/// SIGTERM ends the measurement early; the settings are still put back.
#[test]
fn a_signal_still_restores_the_settings() {
    let Some(_g) = measuring_as_root("needs root to lift RT throttling") else {
        return;
    };
    let dir = tmpdir("rt-signal");
    let (runtime_before, mounted_before) = (rt_runtime(), debugfs_mounted());
    let child = measure_lifted(&dir);
    assert_eq!(
        rt_runtime().as_deref().map(str::trim),
        Some("-1"),
        "not lifted while measuring"
    );
    sigterm(child.id());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(143), "{}", stderr(&o));
    assert_eq!(rt_runtime(), runtime_before, "RT throttling not restored");
    assert_eq!(debugfs_mounted(), mounted_before);
    let v = json_file(&dir.join("clock-tick.json"));
    assert_eq!(v["end"], "signal");
    assert_eq!(v["rt_setup"]["restored"], true, "{}", v["rt_setup"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two signals at once (an impatient Ctrl-C Ctrl-C): whichever way the race goes, the
/// process ends and RT throttling is put back.
#[test]
fn a_second_signal_still_restores_the_settings() {
    let Some(_g) = measuring_as_root("needs root to lift RT throttling") else {
        return;
    };
    let dir = tmpdir("rt-second-signal");
    let (runtime_before, mounted_before) = (rt_runtime(), debugfs_mounted());
    let child = measure_lifted(&dir);
    assert_eq!(rt_runtime().as_deref().map(str::trim), Some("-1"));
    // Two kill(1)s: one signal of a kind stays pending at most, so two in one call may
    // arrive as one.
    for pause in [5, 0] {
        sigterm(child.id());
        std::thread::sleep(Duration::from_millis(pause));
    }
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    // 128 + SIGTERM either way: the second signal came first (the watcher put the
    // settings back and exited), or the first signal's orderly end won the race.
    assert_eq!(o.status.code(), Some(143), "{err}");
    assert!(
        err.contains("a second stop signal") || err.contains("interrupted by SIGTERM"),
        "{err}"
    );
    assert_eq!(rt_runtime(), runtime_before, "RT throttling not restored");
    assert_eq!(debugfs_mounted(), mounted_before);
    let _ = std::fs::remove_dir_all(&dir);
}
