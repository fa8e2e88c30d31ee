//! `rust-bench wakeup` measuring on this machine (as root, under the measurement lock).

mod common;
use common::*;

use std::process::{Output, Stdio};
use std::time::Duration;

fn wakeup(extra: &[&str]) -> Output {
    let cpu = test_cpu().to_string();
    let mut args = vec!["wakeup", "--cpu", &cpu, "--priority", "80"];
    args.extend_from_slice(extra);
    run(&args)
}

/// The sample count follows from the design: the deadlines within the duration are
/// duration / interval, each one either slept to (a sample) or skipped (an overflow; no
/// checkpoint falls within 2 s), and an overflow at the end may count deadlines past it.
#[test]
fn a_short_run_wakes_at_every_deadline_of_its_duration() {
    let Some(_g) = measuring_as_root("needs root for SCHED_FIFO") else {
        return;
    };
    let dir = tmpdir("wakeup-short");
    let o = wakeup(&["--duration", "2s", "--out", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json_file(&dir.join("wakeup.json"));
    assert_eq!(
        (&v["test"], &v["complete"], &v["end"]),
        (&"wakeup".into(), &true.into(), &"duration".into())
    );
    let (samples, overflows) = (u(&v, "samples"), u(&v, "overflows"));
    assert_eq!(u(&v, "checkpoint_skipped"), 0);
    assert!(samples <= 2000, "{samples}");
    assert!(samples + overflows >= 2000, "{samples} + {overflows}");
    assert!(samples > 0);
    let keys = ["min", "p50", "p99", "p9999", "max"];
    let lat: Vec<u64> = keys
        .iter()
        .map(|k| u(&v, &format!("latency_ns.{k}")))
        .collect();
    assert!(lat.windows(2).all(|w| w[0] <= w[1]), "{lat:?}");
    let mean = f(&v, "latency_ns.mean");
    assert!(lat[0] as f64 <= mean && mean <= lat[4] as f64, "{mean}");
    // Every wake-up is in the fixed histogram or beyond it, once.
    let fixed = &v["fixed_histogram"];
    assert_eq!(fixed["limit_us"], 1000);
    let counted: u64 = fixed["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b[1].as_u64().unwrap())
        .sum();
    assert_eq!(counted + u(fixed, "overflow"), samples);
    let csv = std::fs::read_to_string(dir.join("wakeup-histogram.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 1000 + 1, "{csv}");
    assert!(csv.ends_with(&format!(">=1000,{}\n", u(fixed, "overflow"))));
    assert!(v["fail_above"].is_null());

    // --loops: exactly that many wake-ups.
    let o = wakeup(&["--loops", "300", "--interval-us", "200", "--json", "-"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((u(&v, "samples"), &v["end"]), (300, &"samples".into()));
    assert_eq!(u(&v, "interval_ns"), 200_000);
}

/// A 200 µs spin at priority 90 every 10 ms on the same CPU holds the wake-up off. The
/// interval, 1.03 ms, is not a divisor of the 10 ms period: the deadlines' phases in the
/// period step by 10 µs and cover it every 1,000 wake-ups (about a second), so some of the
/// 3 s of deadlines fall within the first 50 µs of a spin and wake 150 µs late or more.
#[test]
fn injected_interference_shows_in_the_max() {
    let Some(_g) = measuring_as_root("needs root for SCHED_FIFO") else {
        return;
    };
    let cpu = test_cpu().to_string();
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
            "200",
            "--duration",
            "5s",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let o = wakeup(&[
        "--duration",
        "3s",
        "--interval-us",
        "1030",
        "--no-rt-throttling",
        "--json",
        "-",
    ]);
    let _ = inj.wait();
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let max = u(&v, "latency_ns.max");
    assert!(
        max >= 150_000,
        "max {max} ns under a 200 us spin every 10 ms"
    );
}

/// `--fail-above-us`: the run completes, records the wake-ups beyond it and when the first
/// was, and exits with 3; a threshold no wake-up reaches exits with 0 and records none. No
/// wake-up is 1 µs late or less: the timer interrupt, the switch back to the thread and the
/// clock's reading take longer on any machine.
#[test]
fn fail_above_exits_with_3_and_records_the_crossing() {
    let Some(_g) = measuring_as_root("needs root for SCHED_FIFO") else {
        return;
    };
    let dir = tmpdir("wakeup-fail");
    let json = dir.join("w.json");
    let o = wakeup(&[
        "--duration",
        "1s",
        "--fail-above-us",
        "1",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("wake-up latencies above --fail-above-us 1 us"),
        "{}",
        stderr(&o)
    );
    let v = json_file(&json);
    assert_eq!(v["complete"], true);
    let samples = u(&v, "samples");
    assert_eq!(u(&v, "fail_above.threshold_us"), 1);
    assert_eq!(u(&v, "fail_above.crossed"), samples);
    let first = f(&v, "fail_above.first_at_s");
    assert!((0.0..=f(&v, "duration_s")).contains(&first), "{first}");
    let first_ns = u(&v, "fail_above.first_ns");
    assert!(
        (1001..=u(&v, "latency_ns.max")).contains(&first_ns),
        "{first_ns}"
    );

    let o = wakeup(&[
        "--duration",
        "1s",
        "--fail-above-us",
        "10000000",
        "--json",
        json.to_str().unwrap(),
        "--force",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json_file(&json);
    assert_eq!(u(&v, "fail_above.crossed"), 0);
    assert!(v["fail_above"]["first_at_s"].is_null());
    assert!(v["fail_above"]["first_ns"].is_null());
}

/// Memory does not grow with the length: the maximum RSS of a 2 s and a 20 s run of
/// wake-ups every 100 µs (20,000 and 200,000 samples), written alike, within 1 MiB.
#[test]
fn memory_does_not_grow_with_the_length() {
    let Some(_g) = measuring_as_root("needs root for SCHED_FIFO") else {
        return;
    };
    assert!(
        std::path::Path::new("/usr/bin/time").exists(),
        "/usr/bin/time not found; install the 'time' package"
    );
    let dir = tmpdir("wakeup-rss");
    let cpu = test_cpu().to_string();
    let max_rss_kib = |duration: &str| {
        let o = std::process::Command::new("/usr/bin/time")
            .args([
                "-v",
                env!("CARGO_BIN_EXE_rust-bench"),
                "wakeup",
                "--cpu",
                &cpu,
            ])
            .args([
                "--priority",
                "80",
                "--interval-us",
                "100",
                "--duration",
                duration,
            ])
            .args(["--force", "--out", dir.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let v = json_file(&dir.join("wakeup.json"));
        assert!(u(&v, "samples") > 0);
        stderr(&o)
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("Maximum resident set size (kbytes): ")
            })
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no maximum RSS in {}", stderr(&o)))
    };
    let short = max_rss_kib("2s");
    let long = max_rss_kib("20s");
    assert!(
        short.abs_diff(long) <= 1024,
        "max RSS {short} KiB for 2 s, {long} KiB for 20 s"
    );
}
