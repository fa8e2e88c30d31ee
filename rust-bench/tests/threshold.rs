//! The pass/fail threshold (`--fail-above-us`, `<test>.fail_above_us`) as every test has
//! it: the run completes, `fail_above` records what crossed, and the exit status is 3 when
//! anything did. The checks hold whatever this machine measures: a threshold of the range's
//! maximum (10 s) is never crossed by a run of a second, a wake-up is never 1 µs late or
//! less (tests/wakeup.rs), and otherwise the exit status and `fail_above` must agree.

mod common;
use common::*;

use std::path::Path;
use std::process::Output;

use serde_json::Value;

const NEVER: &str = "10000000";

fn measure(test: &str, extra: &[&str]) -> Output {
    let cpu = test_cpu().to_string();
    let mut args = vec![test, "--cpu", &cpu, "--priority", "80"];
    args.extend_from_slice(extra);
    run(&args)
}

/// What a `fail_above` must say whatever was measured: the threshold given, and a first
/// crossing (when, how large) exactly when something crossed; the exit status 3 exactly
/// then.
fn consistent(o: &Output, fa: &Value, threshold_us: u64, duration_s: f64) -> u64 {
    assert_eq!(u(fa, "threshold_us"), threshold_us, "{fa}");
    let crossed = u(fa, "crossed");
    if crossed == 0 {
        assert!(
            fa["first_at_s"].is_null() && fa["first_ns"].is_null(),
            "{fa}"
        );
        assert!(o.status.success(), "{}", stderr(o));
    } else {
        assert_eq!(o.status.code(), Some(3), "{}", stderr(o));
        assert!(
            stderr(o).contains(&format!("above --fail-above-us {threshold_us} us")),
            "{}",
            stderr(o)
        );
        let first_ns = u(fa, "first_ns");
        assert!(first_ns > threshold_us * 1000, "{fa}");
        let at = f(fa, "first_at_s");
        assert!((0.0..=duration_s + 1e-3).contains(&at), "{fa}");
    }
    crossed
}

#[test]
fn clock_tick_records_its_crossings_and_exits_with_3_only_then() {
    let Some(_g) = measuring_as_root("needs root for SCHED_FIFO") else {
        return;
    };
    let dir = tmpdir("threshold-clock-tick");
    let json = dir.join("ct.json");
    let json = json.to_str().unwrap();
    let o = measure(
        "clock-tick",
        &["--duration", "1s", "--fail-above-us", NEVER, "--json", json],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json_file(Path::new(json));
    assert_eq!(v["complete"], true);
    assert_eq!(consistent(&o, &v["fail_above"], 10_000_000, 1.0), 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains("pass: no overheads above"));

    let o = measure(
        "clock-tick",
        &[
            "--duration",
            "1s",
            "--fail-above-us",
            "1",
            "--json",
            json,
            "--force",
        ],
    );
    let v = json_file(Path::new(json));
    assert_eq!(v["complete"], true);
    let crossed = consistent(&o, &v["fail_above"], 1, f(&v, "duration_s"));
    // Each crossing is a sample or a pause: never more than those.
    assert!(
        crossed <= u(&v, "samples") + u(&v, "pauses.count") + 1,
        "{v}"
    );
}

#[test]
fn thread_switch_records_its_crossings_over_all_runs() {
    let Some(_g) = measuring_as_root("needs root for SCHED_FIFO") else {
        return;
    };
    let dir = tmpdir("threshold-thread-switch");
    let json = dir.join("ts.json");
    let json = json.to_str().unwrap();
    for (threshold, us) in [(NEVER, 10_000_000), ("1", 1)] {
        let o = measure(
            "thread-switch",
            &[
                "--threads",
                "2,3",
                "--duration",
                "300ms",
                "--fail-above-us",
                threshold,
                "--json",
                json,
                "--force",
            ],
        );
        let v = json_file(Path::new(json));
        assert_eq!(v["complete"], true, "{}", stderr(&o));
        let total: f64 = v["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| f(r, "duration_s"))
            .sum();
        let crossed = consistent(&o, &v["fail_above"], us, total);
        let mut sum = 0;
        for r in v["runs"].as_array().unwrap() {
            let c = u(r, "fail_above.crossed");
            assert!(c <= u(r, "switches"), "{r}");
            if c > 0 {
                assert!(u(r, "fail_above.first_ns") <= u(r, "switch_ns.max"), "{r}");
            }
            sum += c;
        }
        assert_eq!(crossed, sum);
        if us == 10_000_000 {
            assert_eq!(crossed, 0);
        }
    }
}

/// `rust-bench run`: every test of the plan runs, run.json records the test that crossed
/// its threshold (and each test's `fail_above`) with the status `complete`, the report
/// shows it, and the exit status is 3.
#[test]
fn a_plan_completes_and_names_the_tests_that_crossed() {
    let Some(_g) = measuring_as_root("needs root for SCHED_FIFO") else {
        return;
    };
    let dir = tmpdir("threshold-plan");
    let conf = dir.join("bench.conf");
    std::fs::write(
        &conf,
        format!(
            "tests = clock-tick, thread-switch, wakeup\ncpu = {}\npriority = 80\n\
             clock_tick.duration = 1s\nclock_tick.fail_above_us = {NEVER}\n\
             thread_switch.threads = 2\nthread_switch.duration = 300ms\n\
             wakeup.duration = 1s\nwakeup.fail_above_us = 1\n\
             rt_throttling = keep\ntimeout = 2m\n",
            test_cpu()
        ),
    )
    .unwrap();
    let results = dir.join("results");
    let o = run_plan(&conf, &results, &["--run-id", "r1"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let last = stderr(&o).lines().last().unwrap_or_default().to_string();
    assert!(
        last.contains("run r1 complete, threshold crossed: wakeup ")
            && last.contains(" above 1 us"),
        "{last}"
    );
    let run_dir = results.join("r1");
    let record = json_file(&run_dir.join("run.json"));
    assert_eq!(record["status"], "complete", "{record}");
    assert!(record["error"].is_null(), "{record}");
    assert_eq!(record["threshold_crossed"], serde_json::json!(["wakeup"]));
    for test in ["clock-tick", "thread-switch", "wakeup"] {
        assert_eq!(record["tests"][test]["status"], "complete", "{record}");
    }
    // The plan records the key; a test without one has none.
    assert_eq!(record["plan"]["wakeup"]["fail_above_us"], 1);
    assert!(record["plan"]["thread_switch"]["fail_above_us"].is_null());
    assert!(record["tests"]["thread-switch"].get("fail_above").is_none());
    let ts = json_file(&run_dir.join("thread-switch.json"));
    assert!(ts["fail_above"].is_null(), "{}", ts["fail_above"]);
    // run.json holds each result's own `fail_above`.
    let wakeup = json_file(&run_dir.join("wakeup.json"));
    assert_eq!(
        record["tests"]["wakeup"]["fail_above"],
        wakeup["fail_above"]
    );
    assert_eq!(u(&wakeup, "fail_above.crossed"), u(&wakeup, "samples"));
    let ct = json_file(&run_dir.join("clock-tick.json"));
    assert_eq!(
        record["tests"]["clock-tick"]["fail_above"],
        ct["fail_above"]
    );
    assert_eq!(u(&ct, "fail_above.crossed"), 0);
    assert_eq!(u(&ct, "fail_above.threshold_us"), 10_000_000);
    // The report shows both, each in its test's table.
    let html = std::fs::read_to_string(run_dir.join("report.html")).unwrap();
    assert_eq!(
        html.matches("threshold (--fail-above-us)").count(),
        2,
        "{html}"
    );
    assert!(html.contains("FAIL: "), "{html}");
    assert!(html.contains("pass: none above"), "{html}");
}

/// The option is the same in every test of the suite (each measures a latency): a value
/// out of its range is refused before anything is measured, the message naming the flag
/// (exit status 2). A test added without the threshold fails here.
#[test]
fn every_test_refuses_a_threshold_out_of_range() {
    for test in rust_bench::suite::TESTS.iter().map(|t| t.name()) {
        for value in ["0", "10000001", "1.5"] {
            let o = run(&[test, "--fail-above-us", value]);
            assert_eq!(o.status.code(), Some(2), "{test} {value}: {}", stderr(&o));
            let err = stderr(&o);
            assert!(
                err.contains(&format!("'{value}' for '--fail-above-us <US>'")),
                "{test}: {err}"
            );
        }
        let help = run(&[test, "--help"]);
        let help = String::from_utf8_lossy(&help.stdout);
        assert!(help.contains("--fail-above-us <US>"), "{test}: {help}");
        assert!(help.contains("status 3"), "{test}: {help}");
        assert!(help.contains("Exit status: 0 "), "{test}: {help}");
        assert!(help.contains("; 3 complete, but"), "{test}: {help}");
    }
    for command in [&["--help"][..], &["run", "--help"]] {
        let help = run(command);
        let help = String::from_utf8_lossy(&help.stdout);
        assert!(help.contains("; 3 complete, but"), "{command:?}: {help}");
    }
}
