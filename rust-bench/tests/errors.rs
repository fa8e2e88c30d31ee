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
    for test in ["clock-tick", "thread-switch", "osnoise", "timerlat"] {
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

/// A negative number reaches the option's own parser instead of reading as a flag.
#[test]
fn negative_numbers_are_values() {
    one_line_error(
        &["clock-tick", "--cpu", "-1"],
        2,
        "invalid value '-1' for '--cpu <CPU>': '-1' cannot be negative",
    );
    one_line_error(
        &["thread-switch", "--threads", "-2"],
        2,
        "'-2' cannot be negative",
    );
    one_line_error(
        &["osnoise", "--period-us", "-5"],
        2,
        "'-5' cannot be negative",
    );
}

/// Every parse error points at the --help of the command the user typed.
#[test]
fn errors_point_at_the_subcommands_help() {
    for (args, help) in [
        (
            vec!["clock-tick", "--cpu", "x"],
            "; see 'rust-bench clock-tick --help'",
        ),
        (
            vec!["thread-switch", "--stack-kib", "1"],
            "; see 'rust-bench thread-switch --help'",
        ),
        (
            vec!["load", "cpu", "--duration", "x"],
            "; see 'rust-bench load cpu --help'",
        ),
        (
            vec!["report", "r", "--format", "pdf"],
            "; see 'rust-bench report --help'",
        ),
        (
            vec!["clock-tick", "--bogus"],
            "; see 'rust-bench clock-tick --help'",
        ),
        (vec!["frobnicate"], "; see 'rust-bench --help'"),
    ] {
        let o = run(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.trim_end().ends_with(help), "{args:?}: {err}");
    }
}

/// Each plain numeric flag: its range in --help, and the same range, in the one style of
/// every range error, when a value lies outside it.
#[test]
fn ranges_are_in_the_help_and_in_one_style() {
    for (test, flag, range, outside) in [
        ("clock-tick", "--burst-ms", "1 to 3600000", "0"),
        ("clock-tick", "--gap-us", "0 to 10000000", "10000001"),
        ("clock-tick", "--priority", "1 to 99", "0"),
        ("clock-tick", "--loop-us", "0 to 100000", "100001"),
        ("thread-switch", "--burst-ms", "1 to 3600000", "3600001"),
        ("thread-switch", "--gap-us", "0 to 10000000", "20000000"),
        ("thread-switch", "--stack-kib", "32 to 8192", "16"),
        ("thread-switch", "--threads", "2 to 10000", "1"),
        ("osnoise", "--period-us", "100 to 10000000", "99"),
        ("osnoise", "--runtime-us", "100 to 10000000", "10000001"),
    ] {
        let help = String::from_utf8_lossy(&run(&[test, "--help"]).stdout).to_string();
        let start = help
            .find(&format!("{flag} <"))
            .unwrap_or_else(|| panic!("{test} --help lacks {flag}: {help}"));
        let entry = &help[start..];
        let entry = &entry[..entry.find("\n      --").unwrap_or(entry.len())];
        let entry = entry.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            entry.contains(&format!("({range}")),
            "{test} --help: no range for {flag}: {entry}"
        );
        one_line_error(
            &[test, flag, outside],
            2,
            &format!("{outside} is out of range ({range})"),
        );
        let err = stderr(&run(&[test, flag, outside]));
        assert!(!err.contains("is not in"), "{err}");
    }
}

/// The top-level --help says what each test measures: each test's own about line.
#[test]
fn the_tests_are_described_by_what_they_measure() {
    let top = String::from_utf8_lossy(&run(&["--help"]).stdout).to_string();
    assert!(!top.contains("Where a test"), "{top}");
    for test in rust_bench::suite::TESTS {
        let about = test.command().get_about().unwrap().to_string();
        let line = top
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{} ", test.name())))
            .unwrap_or_else(|| panic!("no line for {} in {top}", test.name()));
        assert!(
            line.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .ends_with(&about),
            "{line}"
        );
        let own = String::from_utf8_lossy(&run(&[test.name(), "--help"]).stdout).to_string();
        assert!(own.starts_with(&about), "{own}");
    }
}

/// A long value is echoed only in part, with its length: on the command line (clap's own
/// messages and the options' parsers; an argument longer than a path can be is refused
/// before parsing) and in a plan (whose errors go to the console and into run.json).
#[test]
fn long_values_are_cut() {
    let long = "7".repeat(1000);
    for args in [
        vec!["clock-tick", "--duration", long.as_str()],
        vec!["clock-tick", "--cpu", long.as_str()],
        vec!["thread-switch", "--burst-ms", long.as_str()],
        vec!["clock-tick", "--loop-us", long.as_str()],
        vec!["report", "r", "--format", long.as_str()],
        vec!["clock-tick", long.as_str()],
    ] {
        let o = run(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.len() < 400, "{} bytes: {err}", err.len());
        assert!(err.contains("…' (1000 bytes)"), "{err}");
    }
    let huge = "x".repeat(100_000);
    for args in [
        vec!["report", huge.as_str()],
        vec!["run", "--config", huge.as_str(), "--check"],
        vec!["pull", huge.as_str()],
        vec!["clock-tick", "--out", huge.as_str()],
    ] {
        let o = run(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{}", &err[..err.len().min(300)]);
        assert!(err.len() < 400, "{} bytes: {}", err.len(), &err[..300]);
        assert!(
            err.contains("…' (100000 bytes) is longer than any value rust-bench takes"),
            "{err}"
        );
        assert!(
            err.trim_end()
                .ends_with(&format!("see 'rust-bench {} --help'", args[0]))
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("bench.conf");
    let value = "x".repeat(10 << 20);
    for line in [
        format!("role = {value}\n"),
        format!("{value} = 1\n"),
        format!("clock_tick.duration = {value}\n"),
        format!("label = {value}\n"),
    ] {
        std::fs::write(&plan, &line).unwrap();
        let o = run(&["run", "--config", plan.to_str().unwrap(), "--check"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{}", &err[..err.len().min(300)]);
        assert_eq!(err.lines().count(), 1, "{}", &err[..300]);
        // Bounded whatever the value; the unknown key's message also lists every key.
        assert!(err.len() < 1000, "{} bytes: {}", err.len(), &err[..300]);
        assert!(err.contains("…' (10485760 bytes)"), "{err}");
    }
}

/// A plan whose test cannot run on this machine (osnoise or timerlat without the kernel's tracer)
/// says why once: as the run's error, not again in lines before it.
#[test]
fn a_preflight_failure_is_said_once() {
    let tracers =
        std::fs::read_to_string("/sys/kernel/tracing/available_tracers").unwrap_or_default();
    for test in ["osnoise", "timerlat"] {
        if !is_root() || tracers.split_whitespace().any(|t| t == test) {
            eprintln!("\n*** SKIPPED: needs root and a kernel without the {test} tracer ***\n");
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("bench.conf");
        std::fs::write(&plan, format!("tests = {test}\ncpu = 0\n")).unwrap();
        let results = dir.path().join("results");
        let o = run(&[
            "run",
            "--config",
            plan.to_str().unwrap(),
            "--results",
            results.to_str().unwrap(),
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert_eq!(err.matches(&format!("{test} tracer")).count(), 1, "{err}");
        let last = err.lines().last().unwrap();
        assert!(
            last.starts_with(&format!(
                "rust-bench: error: {test} cannot run on this machine"
            )),
            "{err}"
        );
        assert!(
            last.ends_with(&format!("or drop {test} from `tests =` in the plan")),
            "{err}"
        );
    }
}

/// pull names an entry it skips for its name with its directory, one slash between parts.
#[test]
fn a_skipped_name_is_shown_without_a_doubled_slash() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    let mut disk = std::io::Cursor::new(vec![0u8; 4 << 20]);
    fatfs::format_volume(&mut disk, fatfs::FormatVolumeOptions::new()).unwrap();
    {
        let fs = fatfs::FileSystem::new(&mut disk, fatfs::FsOptions::new()).unwrap();
        let results = fs.root_dir().create_dir("results").unwrap();
        results.create_file("AUX").unwrap();
        let run = results.create_dir("r1").unwrap();
        run.create_file("run.json").unwrap();
        run.create_file("nul.txt").unwrap();
    }
    std::fs::write(&image, disk.into_inner()).unwrap();
    let out = dir.path().join("out");
    let o = run(&["pull", image.to_str().unwrap(), out.to_str().unwrap()]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(
        err,
        "rust-bench: warning: skipped 'AUX' in results/: its name cannot be a file here\n\
         rust-bench: warning: skipped 'nul.txt' in results/r1/: its name cannot be a file here\n"
    );
    assert!(!err.contains("//"), "{err}");
}
