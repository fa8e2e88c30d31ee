//! Real measurements on this machine (run as root, like CI). They run one at a time.

mod common;
use common::*;

use std::process::Stdio;
use std::time::Duration;

#[test]
fn clock_tick_short_run() {
    let _g = serial();
    let dir = tmpdir("ct");
    let json = dir.join("ct.json");
    let cpu = test_cpu().to_string();
    let o = run(&[
        "clock-tick",
        "--cpu",
        &cpu,
        "--priority",
        "80",
        "--duration",
        "2s",
        "--loop-us",
        "20",
        "--threshold-us",
        "50",
        "--json",
        json.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json_file(&json);
    assert_eq!(v["schema"], 1);
    assert_eq!(v["test"], "clock-tick");
    assert_eq!(v["complete"], true);
    assert_eq!(v["end"], "duration");
    let samples = u(&v, "samples");
    assert!(samples > 10_000, "{samples}");
    let (min, p50, p99, p999, p9999, max) = (
        u(&v, "loop_ns.min"),
        u(&v, "loop_ns.p50"),
        u(&v, "loop_ns.p99"),
        u(&v, "loop_ns.p999"),
        u(&v, "loop_ns.p9999"),
        u(&v, "loop_ns.max"),
    );
    assert!(
        min <= p50 && p50 <= p99 && p99 <= p999 && p999 <= p9999 && p9999 <= max,
        "{}",
        v["loop_ns"]
    );
    assert_eq!(u(&v, "loop_ns.target"), 20_000);
    // The calibrated loop lands within 1 % of its target, or the result says how far and
    // why (a CPU slower through the whole run than while calibrating: the host's other
    // load). tests/calibration.rs checks the figures of that note.
    let cal = &v["loop_calibration"];
    if !(19_800..=20_200).contains(&min) {
        assert_eq!(cal["within_1pct"], false, "min {min}: {cal}");
        assert!(cal["note"].is_string(), "min {min}: {cal}");
    }
    assert_eq!(u(&v, "max_overhead_ns"), max - min);
    let d = f(&v, "duration_s");
    assert!((1.9..3.0).contains(&d), "{d}");
    // 500 ms bursts with 2 ms gaps: 0.996 on a quiet machine; gaps overshoot under load.
    assert!(f(&v, "duty_cycle") > 0.5 && f(&v, "duty_cycle") <= 1.0);
    // Histogram counts add up to the samples.
    let total: u64 = v["histogram"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b[1].as_u64().unwrap())
        .sum();
    assert_eq!(total, samples);
    assert_eq!(v["histogram"]["unit"], "ns");
    // Spikes: counted, and the list holds at most the count.
    let count = u(&v, "spikes.count");
    assert!(v["spikes"]["list"].as_array().unwrap().len() as u64 <= count);
    assert_eq!(u(&v, "spikes.threshold_ns"), 50_000);
    // Timeline: about one point per millisecond.
    let tl = v["timeline"]["max_ns"].as_array().unwrap();
    assert!((1500..=2600).contains(&tl.len()), "{}", tl.len());
    assert_eq!(v["timeline"]["min_ns"].as_array().unwrap().len(), tl.len());
    assert_eq!(v["clock"]["source"], "tsc");
    assert!(f(&v, "clock.hz") > 1e8);
    assert_eq!(u(&v, "priority"), 80);
    assert_eq!(u(&v, "cpu").to_string(), cpu);
    let env = &v["environment"];
    for k in [
        "kernel",
        "hypervisor",
        "vmbus",
        "clocksource",
        "cpu_model",
        "invariant_tsc",
        "cmdline",
        "os_release",
        "rt_throttling",
        "kernel_config",
    ] {
        assert!(env.get(k).is_some(), "environment.{k} missing");
    }
    // Who measured, how and when.
    assert_eq!(v["rust_bench_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["command_line"][1], "clock-tick");
    assert_eq!(v["command_line"][3], cpu.as_str());
    assert!(
        v["started"].as_str().unwrap().ends_with('Z'),
        "{}",
        v["started"]
    );
    assert!(env["kernel"]["release"].is_string());
    assert!(env["rt_throttling"]["sched_rt_runtime_us"].is_i64());
    for f in [
        "clock-tick.json",
        "clock-tick-timeline.csv",
        "clock-tick-histogram.csv",
        "clock-tick-spikes.csv",
    ] {
        assert!(dir.join("out").join(f).exists(), "{f} missing");
    }
    let csv = std::fs::read_to_string(dir.join("out/clock-tick-timeline.csv")).unwrap();
    assert!(csv.starts_with("t_s,min_ns,max_ns\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn clock_tick_exact_sample_count_back_to_back() {
    let _g = serial();
    let cpu = test_cpu().to_string();
    let o = run(&[
        "clock-tick",
        "--cpu",
        &cpu,
        "--priority",
        "80",
        "--samples",
        "300000",
        "--loop-us",
        "0",
        "--json",
        "-",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(u(&v, "samples"), 300_000);
    assert_eq!(v["end"], "samples");
    assert!(u(&v, "loop_ns.min") < 1_000, "{}", v["loop_ns"]);
    // The human summary went to stderr, stdout is only JSON.
    assert!(stderr(&o).contains("clock-tick:"));
}

/// A FIFO thread above the measurement wakes every 10 ms and spins 300 µs on the same CPU:
/// clock-tick must see one spike per injection (while it measures), each about 300 µs.
#[test]
fn clock_tick_sees_injected_interference() {
    let _g = serial();
    let cpu = test_cpu().to_string();
    let before = std::fs::read_to_string("/proc/sys/kernel/sched_rt_runtime_us").ok();
    let mut inj = bin()
        .args([
            "inject",
            "--cpu",
            &cpu,
            "--priority",
            "90",
            "--period-us",
            "10000",
            "--spin-us",
            "300",
            "--duration",
            "6s",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let mut args = vec![
        "clock-tick",
        "--cpu",
        &cpu,
        "--priority",
        "80",
        "--duration",
        "4s",
        "--loop-us",
        "0",
    ];
    args.extend([
        "--threshold-us",
        "100",
        "--burst-ms",
        "1000",
        "--gap-us",
        "1000",
        "--json",
        "-",
    ]);
    if is_root() {
        args.push("--no-rt-throttling");
    }
    let o = run(&args);
    let _ = inj.wait();
    assert!(o.status.success(), "{}", stderr(&o));
    if is_root() {
        let after = std::fs::read_to_string("/proc/sys/kernel/sched_rt_runtime_us").ok();
        assert_eq!(before, after, "RT throttling was not restored");
    }
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let measured = f(&v, "measured_s");
    let expected = measured / 0.010;
    // Spikes caused by the injection: overhead between 0.8x and 2x the spin. Other spikes
    // (host or kernel noise) are counted separately by the tool but excluded here.
    let list = v["spikes"]["list"].as_array().unwrap();
    assert!(!v["spikes"]["list_truncated"].as_bool().unwrap());
    let mut sizes: Vec<u64> = list
        .iter()
        .map(|s| s["overhead_ns"].as_u64().unwrap())
        .filter(|&o| (240_000..=600_000).contains(&o))
        .collect();
    let n = sizes.len() as f64;
    assert!(
        (n - expected).abs() <= 0.15 * expected,
        "{n} injected spikes, expected {expected:.0} ({measured} s measured)"
    );
    assert!(u(&v, "spikes.count") as f64 >= 0.85 * expected);
    sizes.sort_unstable();
    let median = sizes[sizes.len() / 2];
    assert!(
        (290_000..=360_000).contains(&median),
        "median spike {median} ns for a 300 us spin"
    );
}

#[test]
fn thread_switch_two_and_hundred_threads() {
    let _g = serial();
    let cpu = test_cpu().to_string();
    let o = run(&[
        "thread-switch",
        "--cpu",
        &cpu,
        "--priority",
        "80",
        "--threads",
        "2,100",
        "--switches",
        "50000",
        "--json",
        "-",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema"], 1);
    assert_eq!(v["test"], "thread-switch");
    assert_eq!(v["complete"], true);
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for (run, threads) in runs.iter().zip([2u64, 100]) {
        assert_eq!(u(run, "threads"), threads);
        assert_eq!(u(run, "switches"), 50_000);
        assert_eq!(u(run, "switched_yields"), 50_000);
        assert!(u(run, "yields") >= 50_000);
        let (min, mean, p50, p99, max) = (
            u(run, "switch_ns.min"),
            f(run, "switch_ns.mean"),
            u(run, "switch_ns.p50"),
            u(run, "switch_ns.p99"),
            u(run, "switch_ns.max"),
        );
        assert!(
            min > 0 && min <= p50 && p50 <= p99 && p99 <= max,
            "{}",
            run["switch_ns"]
        );
        assert!(mean >= min as f64 && mean <= max as f64);
        // A same-priority switch is well below a millisecond on any machine worth testing.
        assert!(p50 < 100_000, "p50 {p50}");
        let total: u64 = run["histogram"]["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b[1].as_u64().unwrap())
            .sum();
        assert_eq!(total, 50_000);
        assert_eq!(run["complete"], true);
    }
}

#[test]
fn thread_switch_duration_with_bursts() {
    let _g = serial();
    let cpu = test_cpu().to_string();
    let dir = tmpdir("ts");
    let o = run(&[
        "thread-switch",
        "--cpu",
        &cpu,
        "--priority",
        "80",
        "--threads",
        "3",
        "--duration",
        "1200ms",
        "--burst-ms",
        "200",
        "--gap-us",
        "2000",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json_file(&dir.join("thread-switch.json"));
    let run = &v["runs"][0];
    assert_eq!(run["end"], "duration");
    assert!(u(run, "bursts") >= 5, "{run}");
    assert!(u(run, "switches") > 1000);
    assert!(f(run, "duty_cycle") < 1.0);
    assert!(dir.join("thread-switch-runs.csv").exists());
    assert!(dir.join("thread-switch-histogram.csv").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_ends_cleanly_with_partial_results() {
    let _g = serial();
    let cpu = test_cpu().to_string();
    let dir = tmpdir("sig");
    let child = bin()
        .args([
            "clock-tick",
            "--cpu",
            &cpu,
            "--priority",
            "80",
            "--duration",
            "60s",
            "--burst-ms",
            "100",
        ])
        .arg("--out")
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    sigterm(child.id());
    let o = child.wait_with_output().unwrap();
    let v = json_file(&dir.join("clock-tick.json"));
    assert_eq!(v["complete"], false);
    assert_eq!(v["end"], "signal");
    assert!(u(&v, "samples") > 0);
    // Interrupted: 128 + SIGTERM, said first in the summary and last on stderr.
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(143), "{err}");
    let out = String::from_utf8_lossy(&o.stdout);
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("clock-tick: interrupted by SIGTERM: stopped after ")
            && first.ends_with("; partial results kept"),
        "{out}"
    );
    assert!(
        err.trim_end().ends_with(&format!("rust-bench: {first}")),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Ctrl-C during thread-switch's first run: the summary says first that it was
/// interrupted and which run never started, the JSON lists the thread counts asked, and
/// the exit status is 128 + SIGINT.
#[test]
fn sigint_says_which_runs_never_started() {
    let _g = serial();
    let dir = tmpdir("sigint-ts");
    let child = bin()
        .args([
            "thread-switch",
            "--cpu",
            &test_cpu().to_string(),
            "--priority",
            "80",
            "--threads",
            "2,100",
            "--duration",
            "60s",
        ])
        .arg("--out")
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let st = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    let out = String::from_utf8_lossy(&o.stdout);
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("thread-switch: interrupted by SIGINT: the 2-thread run stopped after ")
            && first.ends_with("; the 100-thread run never started; partial results kept"),
        "{out}"
    );
    assert!(err.contains("the 100-thread run never started"), "{err}");
    let v = json_file(&dir.join("thread-switch.json"));
    assert_eq!(v["complete"], false);
    assert_eq!(v["threads_asked"], serde_json::json!([2, 100]));
    assert_eq!(v["runs"].as_array().unwrap().len(), 1, "{v}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A run that took no sample is never complete, whatever ended it (here a duration
/// shorter than anything the command line or a plan accepts, through the library).
#[test]
fn a_run_without_a_sample_is_not_complete() {
    use rust_bench::measure::clock_tick::{self, Limit, Options};
    let _g = serial();
    if !is_root() {
        eprintln!("skipped: needs root for SCHED_FIFO");
        return;
    }
    let r = clock_tick::run(&Options {
        cpu: test_cpu(),
        priority: 80,
        limit: Limit::Duration(Duration::from_nanos(1)),
        warmup: Duration::from_millis(10),
        ..Options::from_args(&rust_bench::suite::clock_tick::Args::default())
    })
    .unwrap();
    assert_eq!(r.samples, 0);
    assert!(!r.complete, "0 samples, complete");
}

#[test]
fn loads_run_and_stop() {
    let _g = serial();
    let o = run(&["load", "cpu", "--duration", "300ms"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["load", "memory", "--size", "1MiB", "--duration", "300ms"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("GiB copied"));
    let child = bin()
        .args(["load", "memory", "--size", "4MiB"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    sigterm(child.id());
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

/// A checkpoint writes only the JSON (what a run cut short needs); the CSV and SVG files
/// are made once, at the end.
#[test]
fn checkpoints_write_only_the_json() {
    let _g = serial();
    let cpu = test_cpu().to_string();
    let dir = tmpdir("checkpoint");
    let mut child = bin()
        .args([
            "clock-tick",
            "--cpu",
            &cpu,
            "--priority",
            "80",
            "--duration",
            "60s",
        ])
        .arg("--out")
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let json = dir.join("clock-tick.json");
    let waited = std::time::Instant::now();
    while !json.exists() && waited.elapsed() < Duration::from_secs(20) {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("clock-tick ended early: {status}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let names = |dir: &std::path::Path| -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    };
    let at_checkpoint = names(&dir);
    let v = json_file(&json);
    sigterm(child.id());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(143), "{}", stderr(&o));
    assert_eq!(
        at_checkpoint,
        ["clock-tick.json"],
        "written at a checkpoint"
    );
    assert_eq!(v["end"], "running");
    assert_eq!(v["checkpoint_settle_ms"], 0);
    assert_eq!(
        names(&dir),
        [
            "clock-tick-histogram.csv",
            "clock-tick-histogram.svg",
            "clock-tick-spikes.csv",
            "clock-tick-timeline.csv",
            "clock-tick-timeline.svg",
            "clock-tick.json",
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// On a terminal, a test says how far it is and how long it has left, at least every 10 s.
#[test]
fn progress_on_a_terminal() {
    let _g = serial();
    let cpu = test_cpu().to_string();
    let command = format!(
        "{} clock-tick --cpu {cpu} --priority 80 --duration 12s",
        env!("CARGO_BIN_EXE_rust-bench")
    );
    // script(1) gives the command a terminal and copies what it prints.
    let o = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("script(1) from util-linux");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{text}");
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("% done")).collect();
    assert!(lines.len() >= 2, "{text}");
    assert!(
        lines[0].starts_with("rust-bench: clock-tick: ") && lines[0].contains(" s left"),
        "{text}"
    );
    // Without a terminal, nothing of the kind.
    let quiet = run(&[
        "clock-tick",
        "--cpu",
        &cpu,
        "--priority",
        "80",
        "--duration",
        "6s",
    ]);
    assert!(quiet.status.success(), "{}", stderr(&quiet));
    assert!(!stderr(&quiet).contains("% done"), "{}", stderr(&quiet));
}
