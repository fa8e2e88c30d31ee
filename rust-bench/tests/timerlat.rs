//! `rust-bench timerlat`: the kernel's timerlat tracer where this machine's kernel has it;
//! where it does not (this host's kernel has no timerlat tracer), a clear error before
//! anything is measured, from the command line and from a plan.

mod common;
use common::*;

use std::path::Path;
use std::time::{Duration, Instant};

/// A short run measures every activation of its window, or, without the tracer, fails at
/// once naming what is missing.
#[test]
fn timerlat_runs_or_names_the_missing_tracer() {
    let Some(_g) = measuring_as_root("tracing needs root") else {
        return;
    };
    let cpu = test_cpu().to_string();
    let dir = tmpdir("timerlat");
    let started = Instant::now();
    let o = run(&[
        "timerlat",
        "--cpu",
        &cpu,
        "--duration",
        "2s",
        "--out",
        dir.to_str().unwrap(),
    ]);
    if !o.status.success() {
        let e = stderr(&o);
        assert!(e.contains("no timerlat tracer"), "{e}");
        assert!(e.contains("CONFIG_TIMERLAT_TRACER"), "{e}");
        assert!(!dir.join("timerlat.json").exists());
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "it measured first"
        );
        return;
    }
    let v = json_file(&dir.join("timerlat.json"));
    assert_eq!(
        (&v["test"], &v["complete"], &v["end"]),
        (&"timerlat".into(), &true.into(), &"duration".into()),
        "{v}"
    );
    assert_eq!(u(&v, "periods_asked"), 2000);
    let activations = u(&v, "activations");
    assert!(activations > 0 && activations <= 2000, "{v}");
    assert_eq!(u(&v, "periods_missed"), 2000 - activations);
    assert!(u(&v, "thread_samples") <= activations);
    for which in ["irq", "thread"] {
        let keys = ["min", "p50", "p99", "p9999", "max"];
        let lat: Vec<u64> = keys
            .iter()
            .map(|k| u(&v, &format!("{which}_latency_ns.{k}")))
            .collect();
        assert!(lat.windows(2).all(|w| w[0] <= w[1]), "{which}: {lat:?}");
    }
    // The worst activation is the one of the largest thread latency.
    assert_eq!(
        u(&v, "worst.thread_latency_ns"),
        u(&v, "thread_latency_ns.max")
    );
    let csv = std::fs::read_to_string(dir.join("timerlat-histogram.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 1000 + 1, "{csv}");
    assert!(started.elapsed() < Duration::from_secs(10), "it overran");
}

/// A plan listing timerlat on a kernel whose tracefs has no timerlat tracer (a tracefs
/// look-alike without it, through the tracefs override) fails at once, names the test, the
/// problem and the fix, and measures nothing; `run --check` says what it checks.
#[test]
fn a_plan_with_timerlat_fails_before_measuring_without_the_tracer() {
    let _g = serial();
    let dir = tmpdir("timerlat-preflight");
    let fake = dir.join("tracing");
    std::fs::create_dir_all(fake.join("instances")).unwrap();
    std::fs::write(fake.join("trace_clock"), "[local] global x86-tsc\n").unwrap();
    std::fs::write(fake.join("available_tracers"), "blk function nop\n").unwrap();
    let conf = dir.join("bench.conf");
    std::fs::write(
        &conf,
        format!(
            "tests = wakeup, timerlat\ncpu = {}\npriority = 80\nwakeup.duration = 20s\n\
             timerlat.duration = 20s\ntimerlat.period_us = 500\nrt_throttling = off\n\
             timeout = 2m\n",
            test_cpu()
        ),
    )
    .unwrap();
    let plan = |extra: &[&str]| {
        let mut args = vec!["run", "--config", conf.to_str().unwrap()];
        args.extend_from_slice(extra);
        bin()
            .env("RUST_BENCH_TRACEFS", &fake)
            .args(&args)
            .output()
            .unwrap()
    };

    let o = plan(&["--check", "--plan-only"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("20s of activations every 500us"), "{err}");
    assert!(err.contains("the kernel's timerlat tracer"), "{err}");

    let results = dir.join("results");
    let started = Instant::now();
    let o = plan(&[
        "--results",
        results.to_str().unwrap(),
        "--run-id",
        "no-tracer",
    ]);
    let err = stderr(&o);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it measured first: {err}"
    );
    assert!(!o.status.success(), "{err}");
    assert_eq!(err.matches("no timerlat tracer").count(), 1, "{err}");
    let run_dir = results.join("no-tracer");
    for file in ["wakeup.json", "timerlat.json"] {
        assert!(!run_dir.join(file).exists(), "{file} was written");
    }
    let record = json_file(&run_dir.join("run.json"));
    assert_eq!(record["status"], "failed", "{record}");
    let error = record["error"].as_str().unwrap();
    assert!(
        error.starts_with("timerlat cannot run on this machine, nothing was measured"),
        "{error}"
    );
    assert!(error.contains("no timerlat tracer"), "{error}");
    assert!(error.contains("drop timerlat from `tests =`"), "{error}");
    let tests = &record["tests"];
    assert!(
        tests["timerlat"]["error"]
            .as_str()
            .unwrap()
            .contains("CONFIG_TIMERLAT_TRACER"),
        "{tests}"
    );
    assert_eq!(
        tests["wakeup"]["error"],
        "not run: timerlat cannot run on this machine"
    );
    assert_eq!(record["plan"]["timerlat"]["period_us"], 500, "{record}");
}

/// The options' ranges are refused before anything is measured.
#[test]
fn timerlat_options_out_of_range_are_refused() {
    for (args, needle) in [
        (
            &["timerlat", "--period-us", "99"][..],
            "99 is out of range (100 to 1000000)",
        ),
        (
            &["timerlat", "--duration", "99ms"][..],
            "'99ms' is out of range (at least 100ms",
        ),
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty());
    }
    assert!(!Path::new("timerlat.json").exists());
}
