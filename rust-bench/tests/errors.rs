//! Bad input gives one clear line on stderr and a non-zero exit, never a panic.

mod common;
use common::*;

fn one_line_error(args: &[&str], code: i32, needle: &str) {
    let o = run(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err}");
    assert!(err.starts_with("rust-bench: error: "), "{args:?}: {err}");
    assert!(
        err.contains(needle),
        "{args:?}: expected '{needle}' in: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn unknown_flag() {
    one_line_error(&["clock-tick", "--bogus"], 2, "--bogus");
    one_line_error(&["thread-switch", "--bogus"], 2, "--bogus");
    one_line_error(&["frobnicate"], 2, "frobnicate");
}

#[test]
fn missing_arguments_are_named() {
    one_line_error(
        &["report"],
        2,
        "not provided: <RUN_DIR>...; see 'rust-bench report --help'",
    );
    one_line_error(
        &["pull"],
        2,
        "not provided: <IMAGE>; see 'rust-bench pull --help'",
    );
    one_line_error(
        &["run"],
        2,
        "not provided: --config <FILE>, --results <DIR>; see 'rust-bench run --help'",
    );
    one_line_error(
        &["run", "--config", "x"],
        2,
        "not provided: --results <DIR>;",
    );
}

#[test]
fn zero_threads() {
    one_line_error(&["thread-switch", "--threads", "0"], 2, "(2 to 10000)");
    one_line_error(&["thread-switch", "--threads", "2,0"], 2, "(2 to 10000)");
    one_line_error(
        &["thread-switch", "--threads", "2,20000"],
        2,
        "20000 is out of range (2 to 10000)",
    );
    one_line_error(
        &["thread-switch", "--threads", "two"],
        2,
        "not a whole number",
    );
}

#[test]
fn missing_cpu() {
    one_line_error(
        &["clock-tick", "--cpu", "999", "--duration", "1s"],
        2,
        "CPU 999 is not online on this machine; use one of CPUs",
    );
    one_line_error(
        &["thread-switch", "--cpu", "999", "--threads", "2"],
        2,
        "is not online",
    );
    one_line_error(
        &["load", "cpu", "--cpu", "999", "--duration", "1s"],
        2,
        "is not online",
    );
    one_line_error(
        &["clock-tick", "--cpu", "4095", "--duration", "1s"],
        2,
        "4095 is out of range (0 to 1023)",
    );
}

#[test]
fn bad_duration_and_numbers() {
    one_line_error(&["clock-tick", "--duration", "soon"], 2, "invalid duration");
    one_line_error(
        &["clock-tick", "--duration", "5 parsecs"],
        2,
        "unknown unit",
    );
    one_line_error(&["thread-switch", "--duration=-3s"], 2, "negative duration");
    one_line_error(&["load", "cpu", "--duration", "x"], 2, "invalid duration");
    one_line_error(&["clock-tick", "--samples", "0"], 2, "--samples");
    one_line_error(&["clock-tick", "--priority", "100"], 2, "--priority");
    one_line_error(
        &["clock-tick", "--threshold-us", "0"],
        2,
        "0 is out of range (0.001 to 1000000)",
    );
    one_line_error(
        &["clock-tick", "--samples", "5", "--duration", "1s"],
        2,
        "cannot be used with",
    );
    one_line_error(&["load", "memory", "--size", "9XB"], 2, "unknown unit");
    one_line_error(
        &["clock-tick", "--loop-us", "200000"],
        2,
        "200000 is out of range (0 to 100000)",
    );
    one_line_error(&["load", "memory", "--size", "9M"], 2, "unknown unit 'M'");
}

/// A test's duration too short to take a sample is refused before anything is measured,
/// by every test, naming the floor.
#[test]
fn a_duration_that_cannot_yield_a_sample_is_refused() {
    for test in ["clock-tick", "thread-switch", "osnoise"] {
        for short in ["1ns", "1ms", "99ms"] {
            one_line_error(
                &[test, "--cpu", "0", "--duration", short],
                2,
                &format!("'{short}' is out of range (at least 100ms"),
            );
        }
    }
}

/// As an unprivileged user (tests run as root in CI, so drop to nobody with setpriv).
#[test]
fn no_permission_for_fifo() {
    if !is_root() {
        // Already unprivileged: the binary itself must refuse.
        one_line_error(
            &["clock-tick", "--duration", "1s", "--cpu", "0"],
            1,
            "no permission for SCHED_FIFO",
        );
        return;
    }
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(setpriv) = setpriv else {
        eprintln!("setpriv not found; skipping the unprivileged check");
        return;
    };
    for args in [
        vec!["clock-tick", "--duration", "1s", "--cpu", "0"],
        vec![
            "thread-switch",
            "--threads",
            "2",
            "--switches",
            "10",
            "--cpu",
            "0",
        ],
    ] {
        let o = std::process::Command::new(setpriv)
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
            ])
            .arg(env!("CARGO_BIN_EXE_rust-bench"))
            .args(&args)
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("no permission for SCHED_FIFO"), "{err}");
        assert!(err.contains("CAP_SYS_NICE"), "{err}");
    }
}

#[test]
fn help_lists_subcommands() {
    let o = run(&["--help"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    for s in ["clock-tick", "thread-switch", "load"] {
        assert!(out.contains(s), "{out}");
    }
    let o = run(&["clock-tick", "--help"]);
    let out = String::from_utf8_lossy(&o.stdout);
    for s in [
        "--cpu",
        "--priority",
        "--duration",
        "--samples",
        "--loop-us",
        "--threshold-us",
        "--json",
        "--out",
        "--burst-ms",
        "--gap-us",
    ] {
        assert!(out.contains(s), "{s} missing from: {out}");
    }
}
