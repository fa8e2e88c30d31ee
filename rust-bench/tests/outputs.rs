//! Every destination is checked before the first sample: an earlier result is never
//! replaced without `--force`, and an unwritable path fails at once, not after the run.

mod common;
use common::*;

use std::time::{Duration, Instant};

/// Run `args`, expect a one-line usage error containing `needle` within a second.
fn refused_at_once(args: &[&str], needle: &str) {
    let started = Instant::now();
    let o = run(args);
    let took = started.elapsed();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(took < Duration::from_secs(1), "{args:?}: took {took:?}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(
        err.contains(needle),
        "{args:?}: expected '{needle}' in {err}"
    );
    assert!(o.stdout.is_empty(), "{args:?}: measured anyway");
}

#[test]
fn an_earlier_result_in_out_is_kept() {
    let dir = tmpdir("out-exists");
    for (test, file) in [
        ("clock-tick", "clock-tick.json"),
        ("thread-switch", "thread-switch.json"),
        ("osnoise", "osnoise.json"),
    ] {
        std::fs::write(dir.join(file), "{\"earlier\": true}\n").unwrap();
        let cpu = test_cpu().to_string();
        refused_at_once(
            &[
                test,
                "--cpu",
                &cpu,
                "--duration",
                "5s",
                "--out",
                dir.to_str().unwrap(),
            ],
            "pass --force to replace it",
        );
        assert_eq!(
            std::fs::read_to_string(dir.join(file)).unwrap(),
            "{\"earlier\": true}\n"
        );
    }
    let json = dir.join("earlier.json");
    std::fs::write(&json, "{}\n").unwrap();
    refused_at_once(
        &[
            "clock-tick",
            "--duration",
            "5s",
            "--json",
            json.to_str().unwrap(),
        ],
        "--force",
    );
    assert_eq!(std::fs::read_to_string(&json).unwrap(), "{}\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unwritable_destinations_fail_before_measuring() {
    refused_at_once(
        &["clock-tick", "--duration", "5s", "--out", "/proc/x"],
        "/proc/x",
    );
    refused_at_once(
        &["thread-switch", "--duration", "5s", "--out", "/proc/x"],
        "/proc/x",
    );
    refused_at_once(
        &["osnoise", "--duration", "5s", "--out", "/proc/x"],
        "/proc/x",
    );
    refused_at_once(
        &[
            "clock-tick",
            "--duration",
            "5s",
            "--json",
            "/proc/x/ct.json",
        ],
        "/proc/x",
    );
    let dir = tmpdir("run-unwritable");
    let conf = dir.join("bench.conf");
    std::fs::write(&conf, "clock_tick.duration = 5s\n").unwrap();
    let started = Instant::now();
    let o = run(&[
        "run",
        "--config",
        conf.to_str().unwrap(),
        "--results",
        "/proc/x",
    ]);
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(stderr(&o).contains("/proc/x"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn force_replaces_an_earlier_result() {
    let Some(_g) = measuring_as_root("needs root for SCHED_FIFO") else {
        return;
    };
    let dir = tmpdir("out-force");
    std::fs::write(dir.join("clock-tick.json"), "{}\n").unwrap();
    let cpu = test_cpu().to_string();
    let o = run(&[
        "clock-tick",
        "--cpu",
        &cpu,
        "--priority",
        "80",
        "--duration",
        "300ms",
        "--out",
        dir.to_str().unwrap(),
        "--force",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        json_file(&dir.join("clock-tick.json"))["test"],
        "clock-tick"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
