//! clock-tick --attribute on this machine (as root: it mounts tracefs when needed). The
//! kernel's trace must name what took the CPU.

mod common;
use common::*;

use std::process::Stdio;
use std::time::Duration;

fn cause<'a>(v: &'a serde_json::Value, class: &str, name: &str) -> Option<&'a serde_json::Value> {
    v["attribution"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["class"] == class && c["name"] == name)
}

/// A FIFO thread above the measurement spins 200 µs every 10 ms on the same CPU (the
/// benchmark script's interference): at least 90 % of its spikes carry its name, whether a
/// thread on the other CPUs reads the trace (where there are other CPUs) or the measuring
/// thread itself between bursts (rust-bench confined to the measured CPU, as on a one-CPU
/// VM).
#[test]
fn injected_spikes_are_attributed_to_the_injecting_thread() {
    let Some(_g) = measuring_as_root("tracing needs root") else {
        return;
    };
    let cpu = test_cpu().to_string();
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap();
    if online.trim() != cpu {
        let v = injected_run(&cpu, false);
        let others = v["attribution"]["reader_cpus"].as_str().unwrap_or_else(|| {
            panic!(
                "no reader_cpus with CPUs besides {cpu}: {}",
                v["attribution"]
            )
        });
        assert!(!others.split(',').any(|c| c == cpu), "read on {others}");
    }
    let v = injected_run(&cpu, true);
    assert!(
        v["attribution"].get("reader_cpus").is_none(),
        "{}",
        v["attribution"]
    );
}

/// The injected run, rust-bench confined to `cpu` with taskset where `alone`.
fn injected_run(cpu: &str, alone: bool) -> serde_json::Value {
    let mut inj = bin()
        .args([
            "inject",
            "--cpu",
            cpu,
            "--priority",
            "90",
            "--period-us",
            "10000",
            "--spin-us",
            "200",
            "--duration",
            "7s",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let mut cmd = match alone {
        true => {
            let mut c = std::process::Command::new("taskset");
            c.args(["-c", cpu, env!("CARGO_BIN_EXE_rust-bench")]);
            c
        }
        false => bin(),
    };
    let o = cmd
        .args([
            "clock-tick",
            "--cpu",
            cpu,
            "--priority",
            "80",
            "--duration",
            "4s",
            "--loop-us",
            "0",
            "--threshold-us",
            "100",
            "--no-rt-throttling",
            "--attribute",
            "--json",
            "-",
        ])
        .output()
        .expect("run rust-bench");
    let _ = inj.wait();
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let a = &v["attribution"];
    assert_eq!(a["trace_clock"], "x86-tsc", "{a}");
    assert!(
        a["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "sched:sched_switch")
    );
    // Spikes of the size of the injection (0.8x to 3x the spin).
    let injected = v["spikes"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| (160_000..=600_000).contains(&s["overhead_ns"].as_u64().unwrap()))
        .count() as u64;
    let expected = f(&v, "measured_s") / 0.010;
    assert!(
        injected as f64 >= 0.8 * expected,
        "{injected} injected spikes, expected {expected:.0}"
    );
    let lost = u(&v, "attribution.spikes_unknown");
    let t = cause(&v, "thread", "rb-inject").unwrap_or_else(|| panic!("no rb-inject in {a}"));
    let named = t["spikes"].as_u64().unwrap();
    assert!(
        named + lost >= injected * 9 / 10,
        "{named} spikes attributed to rb-inject ({lost} unknown) of {injected} injected: {a}"
    );
    // And the thread's share of each is about its spin.
    let mean = t["total_ns"].as_u64().unwrap() / named.max(1);
    assert!((150_000..=400_000).contains(&mean), "mean share {mean} ns");
    v
}

/// Without interference the spikes at the tick's rate are the timer interrupt: the local
/// timer vector (and, on a kernel without forced IRQ threading, the TIMER softirq in the
/// interrupt's exit).
#[test]
fn quiet_spikes_are_attributed_to_the_timer_interrupt() {
    let Some(_g) = measuring_as_root("tracing needs root") else {
        return;
    };
    let cpu = test_cpu().to_string();
    let o = run(&[
        "clock-tick",
        "--cpu",
        &cpu,
        "--priority",
        "80",
        "--duration",
        "3s",
        "--loop-us",
        "0",
        "--threshold-us",
        "1",
        "--no-rt-throttling",
        "--attribute",
        "--json",
        "-",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let a = &v["attribution"];
    let timer =
        cause(&v, "vector", "local_timer").unwrap_or_else(|| panic!("no local_timer in {a}"));
    let ticks = timer["spikes"].as_u64().unwrap();
    // At least a tick per 20 ms measured: HZ >= 100, with room for the time this loaded
    // machine takes the CPU away for longer (several ticks then fall into one spike).
    let min = (f(&v, "measured_s") * 50.0) as u64;
    assert!(
        ticks >= min,
        "{ticks} spikes with the local timer, expected >= {min}: {a}"
    );
    // The guest's events explain time: some of it is the timer's.
    assert!(timer["total_ns"].as_u64().unwrap() > 0);
    // Where the kernel traces hrtimer callbacks, the tick's own handler is named too.
    let traced = a["events"].as_array().unwrap();
    if traced.iter().any(|e| e == "timer:hrtimer_expire_entry") {
        let tick = a["causes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["class"] == "timer" && c["name"].as_str().unwrap().starts_with("tick_"));
        assert!(tick, "no tick hrtimer in {a}");
    }
}

/// Without tracefs an attribution run fails before measuring, naming what is missing and
/// the way out; `--attribute=auto` measures without it.
#[test]
fn without_tracefs_it_fails_before_measuring() {
    let _g = serial();
    let cpu = test_cpu().to_string();
    let dir = tmpdir("attr-missing");
    let json = dir.join("ct.json");
    let o = bin()
        .env("RUST_BENCH_TRACEFS", "/nonexistent/tracing")
        .args([
            "clock-tick",
            "--cpu",
            &cpu,
            "--priority",
            "80",
            "--duration",
            "2s",
            "--attribute",
            "--json",
            json.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("/nonexistent/tracing does not exist"), "{e}");
    assert!(e.contains("--attribute=auto"), "{e}");
    assert!(!json.exists(), "a result was written");
    assert!(!e.contains("% done"), "{e}");

    let o = bin()
        .env("RUST_BENCH_TRACEFS", "/nonexistent/tracing")
        .args([
            "clock-tick",
            "--cpu",
            &cpu,
            "--priority",
            "80",
            "--duration",
            "1s",
            "--attribute=auto",
            "--json",
            json.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("measuring without attribution"));
    let v = json_file(&json);
    assert!(v.get("attribution").is_none(), "{}", v["attribution"]);
}

/// The osnoise test drives the kernel's tracer where it exists; where it does not (this
/// host's kernel has no osnoise tracer), it fails before measuring, naming what is missing.
#[test]
fn osnoise_runs_or_names_the_missing_tracer() {
    let Some(_g) = measuring_as_root("tracing needs root") else {
        return;
    };
    let cpu = test_cpu().to_string();
    let dir = tmpdir("osnoise");
    let json = dir.join("osnoise.json");
    let started = std::time::Instant::now();
    let o = run(&[
        "osnoise",
        "--cpu",
        &cpu,
        "--duration",
        "3s",
        "--json",
        json.to_str().unwrap(),
    ]);
    if !o.status.success() {
        let e = stderr(&o);
        assert!(e.contains("no osnoise tracer"), "{e}");
        assert!(e.contains("CONFIG_OSNOISE_TRACER"), "{e}");
        assert!(!json.exists());
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "it measured first"
        );
        return;
    }
    let v = json_file(&json);
    assert_eq!(v["test"], "osnoise");
    assert_eq!(v["complete"], true);
    assert!(u(&v, "noise_ns") >= u(&v, "max_single_noise_ns"));
    // Exactly the periods asked for, and bounded as designed: the 3 periods asked, a period
    // more when the kernel's thread skips its first, the 1 s wait for the last summary, the
    // last reading (2 s at most), and a second for the reader's own scheduling.
    assert_eq!(f(&v, "duration_asked_s"), 3.0);
    assert_eq!((u(&v, "periods_asked"), u(&v, "periods")), (3, 3), "{v}");
    assert!(f(&v, "duration_s") <= 3.0 + 1.0 + 1.0 + 2.0 + 1.0, "{v}");
    assert!(started.elapsed() < Duration::from_secs(15), "it overran");
    // The noise no event names is what the named events leave of the total.
    let named: u64 = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .inspect(|s| assert_ne!(s["class"], "hw", "sample_threshold was enabled: {v}"))
        .map(|s| s["total_ns"].as_u64().unwrap())
        .sum();
    assert_eq!(
        u(&v, "hw_noise_ns"),
        u(&v, "noise_ns").saturating_sub(named),
        "{v}"
    );
}
