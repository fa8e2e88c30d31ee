//! `rust-bench run`: the plan executor the appliance boots into.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rust_bench::results::fixture;
use rust_bench::results::run::Status;

fn write_conf(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("bench.conf");
    std::fs::write(&path, text).unwrap();
    path
}

/// The single run directory under `results`.
fn only_run(results: &Path) -> PathBuf {
    let runs: Vec<_> = std::fs::read_dir(results)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs.into_iter().next().unwrap()
}

#[test]
fn invalid_config_is_recorded_as_failed() {
    let dir = tmpdir("run-bad");
    let conf = write_conf(&dir, "# plan\r\n\r\nrole = foo\r\n");
    let results = dir.join("results");
    let o = run_plan(&conf, &results, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    let expected =
        "bench.conf line 3: role: 'foo' is not a role; use test, cpu-load or memory-load";
    assert!(
        err.lines().last().unwrap().ends_with(expected),
        "stderr: {err}"
    );
    let run_dir = only_run(&results);
    let record = json_file(&run_dir.join("run.json"));
    assert_eq!(record["status"], "failed");
    assert_eq!(record["error"], expected);
    assert!(run_dir.join("report.html").is_file());
}

#[test]
fn garbage_config_is_refused() {
    let dir = tmpdir("run-garbage");
    let conf = dir.join("bench.conf");
    std::fs::write(&conf, b"role = test\n\x00\xff\xfe garbage\n").unwrap();
    let results = dir.join("results");
    let o = run_plan(&conf, &results, &[]);
    assert_eq!(o.status.code(), Some(2));
    let record = json_file(&only_run(&results).join("run.json"));
    assert_eq!(record["status"], "failed");
    assert!(
        record["error"]
            .as_str()
            .unwrap()
            .starts_with("bench.conf line 2: not text"),
        "{record}"
    );
}

#[test]
fn check_prints_what_the_init_needs() {
    let dir = tmpdir("run-check");
    let conf = write_conf(&dir, "role = cpu-load\ntimeout = 90m\npoweroff = no\n");
    let results = dir.join("results");
    let o = run_plan(&conf, &results, &["--check"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // With --results, first the id a run there would take now: the UTC time.
    let out = String::from_utf8_lossy(&o.stdout);
    let (id_line, rest) = out.split_once('\n').unwrap();
    let id = id_line
        .strip_prefix("run_id=")
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        id.len() == 15 && id.as_bytes()[8] == b'-' && id.replace('-', "").parse::<u64>().is_ok(),
        "{out}"
    );
    assert_eq!(rest, "role=cpu-load\ntimeout_s=5400\npoweroff=no\n");
    assert!(!results.exists());
    // Named even where the plan is refused (the run records the refusal under it), and
    // one that is taken is not named again.
    let bad = write_conf(&tmpdir("run-check-bad"), "role = bogus\n");
    std::fs::create_dir_all(results.join(id)).unwrap();
    let o = run_plan(&bad, &results, &["--check"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let again = out
        .strip_prefix("run_id=")
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        again.trim() != id && again.ends_with('\n') && out.lines().count() == 1,
        "{out}"
    );
    // --results is not needed for a check, and without --check it is.
    let o = run(&["run", "--config", conf.to_str().unwrap(), "--check"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "role=cpu-load\ntimeout_s=5400\npoweroff=no\n"
    );
    let o = run(&["run", "--config", conf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--results"), "{}", stderr(&o));
}

#[test]
fn short_plan_completes_with_every_file() {
    let Some(_g) = measuring_as_root("needs root for SCHED_FIFO") else {
        return;
    };
    let dir = tmpdir("run-ok");
    let conf = write_conf(
        &dir,
        &format!(
            "tests = clock-tick, thread-switch\ncpu = {}\npriority = 80\n\
             clock_tick.duration = 1s\nthread_switch.threads = 2, 10\n\
             thread_switch.duration = 300ms\nrt_throttling = keep\ntimeout = 2m\n",
            test_cpu()
        ),
    );
    let results = dir.join("results");
    let o = run_plan(&conf, &results, &["--run-id", "r1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let run_dir = results.join("r1");
    let record = json_file(&run_dir.join("run.json"));
    assert_eq!(record["status"], "complete", "{record}");
    assert_eq!(record["error"], serde_json::Value::Null);
    assert_eq!(record["tests"]["clock-tick"]["status"], "complete");
    assert_eq!(record["tests"]["thread-switch"]["status"], "complete");
    assert_eq!(record["plan"]["clock_tick"]["amount"]["duration"], "1s");
    assert!(record["environment"]["kernel"].is_object());
    for file in [
        "clock-tick.json",
        "clock-tick-timeline.csv",
        "clock-tick-timeline.svg",
        "thread-switch.json",
        "thread-switch-histogram.svg",
        "report.html",
    ] {
        assert!(run_dir.join(file).is_file(), "missing {file}");
    }
    let ct = json_file(&run_dir.join("clock-tick.json"));
    assert_eq!(ct["complete"], true);
    assert!(ct["samples"].as_u64().unwrap() > 0);
    let ts = json_file(&run_dir.join("thread-switch.json"));
    assert_eq!(ts["runs"].as_array().unwrap().len(), 2);
    // The same run id again is refused.
    let again = run_plan(&conf, &results, &["--run-id", "r1"]);
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn timeout_bounds_the_run_and_keeps_partial_results() {
    let Some(_g) = measuring_as_root("needs root for SCHED_FIFO") else {
        return;
    };
    let dir = tmpdir("run-timeout");
    // Lengths the check cannot know (back-to-back timestamps, counted switches) that
    // outlast the timeout on any machine: the plan passes the check, the timeout ends it.
    let conf = write_conf(
        &dir,
        &format!(
            "tests = clock-tick, thread-switch\ncpu = {}\npriority = 80\n\
             clock_tick.samples = 1_000_000_000_000\nclock_tick.loop_us = 0\n\
             thread_switch.switches = 1_000_000_000_000\nrt_throttling = keep\ntimeout = 11s\n",
            test_cpu()
        ),
    );
    let results = dir.join("results");
    let started = Instant::now();
    let o = run_plan(&conf, &results, &[]);
    assert!(started.elapsed() < Duration::from_secs(40));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let run_dir = only_run(&results);
    let record = json_file(&run_dir.join("run.json"));
    assert_eq!(record["status"], "failed");
    assert!(
        record["error"].as_str().unwrap().contains("timeout (11s)"),
        "{record}"
    );
    assert_eq!(record["tests"]["thread-switch"]["status"], "failed");
    let ct = json_file(&run_dir.join("clock-tick.json"));
    assert_eq!(ct["complete"], false);
    assert!(ct["samples"].as_u64().unwrap() > 0);
}

/// `mark-failed` changes a run's status through the results contract: an interrupted run
/// becomes failed with the reason (any text, quotes and backslashes included), a missing
/// run.json is written, a finished run is left alone; each time the status is printed.
#[test]
fn mark_failed_records_what_the_init_saw() {
    let dir = tmpdir("mark-failed");
    let reason = r#"the watchdog said "stop" \ after 120 s"#;
    let mark = |dir: &Path| {
        let o = run(&["mark-failed", dir.to_str().unwrap(), "--reason", reason]);
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8(o.stdout).unwrap()
    };

    // No run.json: one is written, failed, named after its directory.
    let missing = dir.join("20261127-100000");
    assert_eq!(mark(&missing), format!("status=failed\nerror={reason}\n"));
    let record = json_file(&missing.join("run.json"));
    assert_eq!(record["run_id"], "20261127-100000");
    assert_eq!(record["status"], "failed");
    assert_eq!(record["error"], reason);
    assert!(record["rust_bench_version"].is_string());

    // A run cut short (status interrupted): failed with the reason; the rest is kept.
    let cut = dir.join("cut");
    std::fs::create_dir_all(&cut).unwrap();
    let mut cut_record = fixture::run_record("cut", Status::Interrupted, None, &["clock-tick"]);
    cut_record.plan = None;
    let started = serde_json::to_string_pretty(&cut_record).unwrap();
    std::fs::write(cut.join("run.json"), &started).unwrap();
    assert_eq!(mark(&cut), format!("status=failed\nerror={reason}\n"));
    let record = json_file(&cut.join("run.json"));
    assert_eq!(record["status"], "failed");
    assert_eq!(record["error"], reason);
    assert_eq!(record["boot_to_first_sample_s"], 2.5);
    assert_eq!(record["tests"]["clock-tick"]["file"], "clock-tick.json");
    assert!(record["finished"].is_string());
    // The first reason stays.
    let o = run(&["mark-failed", cut.to_str().unwrap(), "--reason", "later"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("status=failed\nerror={reason}\n")
    );

    // A complete run is left as it is.
    let done = dir.join("done");
    std::fs::create_dir_all(&done).unwrap();
    cut_record.status = Status::Complete;
    let complete = serde_json::to_string_pretty(&cut_record).unwrap();
    std::fs::write(done.join("run.json"), &complete).unwrap();
    assert_eq!(mark(&done), "status=complete\nerror=\n");
    assert_eq!(
        std::fs::read_to_string(done.join("run.json")).unwrap(),
        complete
    );

    // A run.json that is not one: an error naming it, and the file untouched.
    let bad = dir.join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("run.json"), "{\"schema\": 1, \"run_id\": ").unwrap();
    let o = run(&["mark-failed", bad.to_str().unwrap(), "--reason", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("run.json"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(bad.join("run.json")).unwrap(),
        "{\"schema\": 1, \"run_id\": "
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `run --check` (what the appliance's init relies on) refuses what a test would refuse
/// after the boot, naming the line.
#[test]
fn check_refuses_what_the_tests_would_refuse() {
    let dir = tmpdir("run-check-limits");
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap_or_default();
    let mut cases = vec![
        (
            "# plan\ntests = thread-switch\nthread_switch.threads = 2, 20000\n",
            "bench.conf line 3: thread_switch.threads: 20000 is out of range (2 to 10000)"
                .to_string(),
        ),
        (
            "clock_tick.loop_us = 500000\n",
            "bench.conf line 1: clock_tick.loop_us: 500000 is out of range (0 to 100000)"
                .to_string(),
        ),
    ];
    if !online.trim().is_empty() && test_cpu() < 99 {
        cases.push((
            "role = test\ncpu = 99\n",
            format!(
                "bench.conf line 2: cpu: CPU 99 is not online on this machine; use one of CPUs {}; \
                 if the plan is for another machine, check it with --check --plan-only",
                online.trim()
            ),
        ));
    }
    for (text, expected) in cases {
        let conf = write_conf(&dir, text);
        let started = Instant::now();
        let o = run_plan(&conf, &dir.join("results"), &["--check"]);
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(o.status.code(), Some(2), "{text}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.trim_end().ends_with(&expected),
            "{text}\nexpected: {expected}\nstderr: {err}"
        );
        // Nothing for the init but the run's id, under which the run records the refusal.
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.starts_with("run_id=") && out.lines().count() == 1,
            "{text}: {out}"
        );
    }
    assert!(!dir.join("results").exists());
}

/// `MB` is 1,000,000 bytes in the config as on the command line.
#[test]
fn memory_load_sizes_mean_the_same_everywhere() {
    let dir = tmpdir("run-mb");
    let conf = write_conf(
        &dir,
        "role = memory-load\nmemory_load.size = 9MB\nload.duration = 200ms\n\
         poweroff = no\ntimeout = 1m\n",
    );
    let results = dir.join("results");
    let o = run_plan(&conf, &results, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let record = json_file(&only_run(&results).join("run.json"));
    assert_eq!(record["plan"]["memory_load_size"], 9_000_000, "{record}");
    assert_eq!(record["memory_load"]["size_bytes"], 9_000_000, "{record}");
    assert_eq!(record["memory_load"]["rule"], "given");
    let copied = record["load"]["bytes_copied"].as_u64().unwrap();
    assert!(copied > 0 && copied.is_multiple_of(9_000_000), "{copied}");
    let o = run(&["load", "memory", "--size", "9MB", "--duration", "100ms"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("(9000000 bytes"), "{}", stderr(&o));
    let o = run(&["load", "memory", "--size", "9MiB", "--duration", "100ms"]);
    assert!(stderr(&o).contains("(9437184 bytes"), "{}", stderr(&o));
    let o = run(&["load", "memory", "--size", "9M", "--duration", "100ms"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a bare M is ambiguous: {}",
        stderr(&o)
    );
}

/// A plan that names its scenario lands, with its label, in run.json and in the report's
/// table of that scenario; a run that names none keeps its own table.
#[test]
fn a_scenario_3_plan_lands_in_the_scenario_3_table() {
    let Some(_g) = measuring_as_root("needs root for SCHED_FIFO") else {
        return;
    };
    let dir = tmpdir("run-scenario");
    let results = dir.join("results");
    for (id, extra) in [
        ("s3", "scenario = 3\nlabel = one CPU load VM\n"),
        ("plain", ""),
    ] {
        let conf = write_conf(
            &dir,
            &format!(
                "tests = thread-switch\ncpu = {}\npriority = 80\nthread_switch.threads = 2\n\
                 thread_switch.duration = 100ms\nrt_throttling = keep\ntimeout = 1m\n{extra}",
                test_cpu()
            ),
        );
        let o = run_plan(&conf, &results, &["--run-id", id]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let record = json_file(&results.join("s3/run.json"));
    assert_eq!(record["scenario"], 3, "{record}");
    assert_eq!(record["label"], "one CPU load VM");
    assert_eq!(record["plan"]["scenario"], 3);
    let plain = json_file(&results.join("plain/run.json"));
    assert_eq!(plain["scenario"], serde_json::Value::Null);
    let o = run(&["report", results.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = String::from_utf8(o.stdout).unwrap();
    let section = |heading: &str| -> Option<String> {
        let at = md.find(heading)? + heading.len();
        let end = md[at..].find("\n## ").map_or(md.len(), |e| at + e);
        Some(md[at..end].to_string())
    };
    assert!(md.contains("| scenario | – | 3 |"), "{md}");
    let s3 = section("## Thread switch latency - scenario 3\n").unwrap_or_else(|| panic!("{md}"));
    assert!(s3.contains(": one CPU load VM |"), "{s3}");
    assert!(
        !md.contains("scenario 1") && !md.contains("scenario 4"),
        "{md}"
    );
    // The run without a scenario: the bare machine column of scenario 3 when this machine
    // is bare metal, else a table of its own.
    match section("## Thread switch latency - other runs\n") {
        Some(other) => assert!(!other.contains("load VM"), "{md}"),
        None => assert!(s3.contains("| bare metal |"), "{md}"),
    }
}

/// Without a size, a memory load copies buffers of at least twice the last-level cache
/// sysfs reports (or, if that is more, buffers that fill half the available memory), and
/// run.json says so.
#[test]
fn the_default_memory_load_exceeds_this_machines_cache() {
    let dir = tmpdir("run-mem-auto");
    let conf = write_conf(
        &dir,
        "role = memory-load\nload.duration = 200ms\npoweroff = no\ntimeout = 1m\n",
    );
    let results = dir.join("results");
    let o = run_plan(&conf, &results, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let record = json_file(&only_run(&results).join("run.json"));
    assert_eq!(record["plan"]["memory_load_size"], "auto", "{record}");
    let m = &record["memory_load"];
    assert_eq!(m["rule"], "auto", "{record}");
    let size = m["size_bytes"].as_u64().unwrap();
    let available = m["mem_available_bytes"].as_u64().unwrap();
    assert!(2 * size <= available / 2, "{record}");
    let llc = sysfs_llc();
    if let Some(llc) = llc {
        assert_eq!(m["llc_bytes"], llc, "{record}");
        assert_eq!(m["llc_source"], "sysfs");
        assert!(
            size >= 2 * llc || size >= available / 4 - (1 << 20),
            "{record}"
        );
    }
    let copied = record["load"]["bytes_copied"].as_u64().unwrap();
    assert!(copied.is_multiple_of(size), "{copied} {size}");
}

/// The largest data or unified cache of CPU 0, read here independently of rust-bench.
fn sysfs_llc() -> Option<u64> {
    let dir = Path::new("/sys/devices/system/cpu/cpu0/cache");
    let mut best: Option<(u32, u64)> = None;
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let read = |n: &str| std::fs::read_to_string(e.path().join(n)).ok();
        let (Some(level), Some(kind), Some(size)) = (read("level"), read("type"), read("size"))
        else {
            continue;
        };
        if kind.trim() == "Instruction" {
            continue;
        }
        let size = size.trim();
        let bytes: u64 = match size.strip_suffix('K') {
            Some(k) => k.parse::<u64>().ok()? << 10,
            None => match size.strip_suffix('M') {
                Some(m) => m.parse::<u64>().ok()? << 20,
                None => size.parse().ok()?,
            },
        };
        let level: u32 = level.trim().parse().ok()?;
        if best.is_none_or(|b| (level, bytes) > b) {
            best = Some((level, bytes));
        }
    }
    best.map(|b| b.1)
}

/// What a listed test needs is checked before any test measures: a plan with osnoise on a
/// kernel whose tracefs has no osnoise tracer (a tracefs look-alike without it, through
/// the tracefs override), or with `clock_tick.attribute = on` without tracefs, fails at
/// once, names the test, the problem and the fix, and measures nothing.
#[test]
fn a_plan_this_machine_cannot_run_fails_before_measuring() {
    let _g = serial();
    let dir = tmpdir("run-preflight");
    // tracefs as Tracefs::open recognises it, offering the tracers this host's kernel has
    // but not osnoise.
    let fake = dir.join("tracing");
    std::fs::create_dir_all(fake.join("instances")).unwrap();
    std::fs::write(fake.join("trace_clock"), "[local] global x86-tsc\n").unwrap();
    std::fs::write(fake.join("available_tracers"), "blk function nop\n").unwrap();
    let plan = |attribute: &str| {
        format!(
            "tests = clock-tick, osnoise\ncpu = {}\npriority = 80\nclock_tick.duration = 20s\n\
             clock_tick.attribute = {attribute}\nosnoise.duration = 20s\nrt_throttling = off\n\
             timeout = 2m\n",
            test_cpu()
        )
    };
    let go = |tracefs: &Path, attribute: &str, id: &str| {
        let conf = write_conf(&dir, &plan(attribute));
        let started = Instant::now();
        let o = bin()
            .env("RUST_BENCH_TRACEFS", tracefs)
            .args([
                "run",
                "--config",
                conf.to_str().unwrap(),
                "--results",
                dir.join("results").to_str().unwrap(),
                "--run-id",
                id,
            ])
            .output()
            .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "it measured first: {}",
            stderr(&o)
        );
        assert!(!o.status.success(), "{}", stderr(&o));
        let run_dir = dir.join("results").join(id);
        for file in ["clock-tick.json", "osnoise.json"] {
            assert!(!run_dir.join(file).exists(), "{file} was written");
        }
        (stderr(&o), json_file(&run_dir.join("run.json")))
    };

    // auto: clock-tick could run (without attribution); osnoise cannot.
    let (err, record) = go(&fake, "auto", "no-tracer");
    assert_eq!(record["status"], "failed", "{record}");
    let error = record["error"].as_str().unwrap();
    assert!(
        error.starts_with("osnoise cannot run on this machine, nothing was measured"),
        "{error}"
    );
    assert!(error.contains("no osnoise tracer"), "{error}");
    assert!(error.contains("drop osnoise from `tests =`"), "{error}");
    assert!(err.contains("no osnoise tracer"), "{err}");
    let tests = &record["tests"];
    assert_eq!(tests["osnoise"]["status"], "failed");
    assert!(
        tests["osnoise"]["error"]
            .as_str()
            .unwrap()
            .contains("CONFIG_OSNOISE_TRACER"),
        "{tests}"
    );
    assert_eq!(tests["clock-tick"]["status"], "failed");
    assert_eq!(
        tests["clock-tick"]["error"],
        "not run: osnoise cannot run on this machine"
    );
    assert_eq!(record["boot_to_first_sample_s"], serde_json::Value::Null);
    // rt_throttling = off was never applied: the machine was left as it was.
    assert_eq!(record["rt_settings"], serde_json::Value::Null, "{record}");
    assert!(record["environment"]["kernel"].is_object(), "{record}");

    // on, without tracefs at all: both are refused, clock-tick first.
    let (_, record) = go(Path::new("/nonexistent/tracing"), "on", "no-tracefs");
    let error = record["error"].as_str().unwrap();
    assert!(
        error.starts_with("clock-tick cannot run on this machine, nothing was measured"),
        "{error}"
    );
    assert!(error.contains("set clock_tick.attribute = auto"), "{error}");
    assert!(
        error.contains("/nonexistent/tracing does not exist"),
        "{error}"
    );
    let tests = &record["tests"];
    assert!(
        tests["osnoise"]["error"]
            .as_str()
            .unwrap()
            .contains("drop osnoise from `tests =`"),
        "{tests}"
    );
}

/// `run --check` on the two plans that used to pass it and then fail: a test this
/// machine's kernel cannot run (osnoise without the osnoise tracer, through a tracefs
/// look-alike), and a plan longer than its timeout. Each is refused, naming the test or
/// the timeout; `--plan-only` checks the osnoise plan for another machine and says what it
/// left to that machine.
#[test]
fn check_refuses_plans_that_would_fail() {
    let dir = tmpdir("run-check-fail");
    let fake = dir.join("tracing");
    std::fs::create_dir_all(fake.join("instances")).unwrap();
    std::fs::write(fake.join("trace_clock"), "[local] global x86-tsc\n").unwrap();
    std::fs::write(fake.join("available_tracers"), "blk function nop\n").unwrap();
    let check = |text: &str, extra: &[&str]| {
        let conf = write_conf(&dir, text);
        bin()
            .env("RUST_BENCH_TRACEFS", &fake)
            .args(["run", "--config", conf.to_str().unwrap(), "--check"])
            .args(extra)
            .output()
            .unwrap()
    };
    let osnoise = format!(
        "tests = clock-tick, osnoise\ncpu = {}\nclock_tick.duration = 10s\nrt_throttling = keep\n",
        test_cpu()
    );

    let o = check(&osnoise, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(o.stdout.is_empty(), "{err}");
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with("rust-bench: error: osnoise cannot run on this machine: ")
            && last.contains("no osnoise tracer")
            && last
                .ends_with("if the plan is for another machine, check it with --check --plan-only"),
        "{err}"
    );
    // What it checked: the tests, their amounts, the expected length.
    assert!(err.contains("rust-bench:   clock-tick: 10s\n"), "{err}");
    assert!(
        err.contains("rust-bench:   osnoise: 1m in whole periods of 1s, about 1m1s\n"),
        "{err}"
    );
    assert!(
        err.contains("expected length: about 1m21s (with about 5s a part to start and write its files), within the timeout (3h)"),
        "{err}"
    );

    let o = check(&osnoise, &["--plan-only"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "role=test\ntimeout_s=10800\npoweroff=yes\n"
    );
    assert!(
        err.contains(&format!(
            "not checked (--plan-only), left to the machine that runs the plan: cpu {cpu} is online; SCHED_FIFO 99 is allowed; osnoise: tracefs and the kernel's osnoise tracer for cpu {cpu}",
            cpu = test_cpu()
        )),
        "{err}"
    );

    let long = "tests = clock-tick\nclock_tick.duration = 1h\ntimeout = 4s\n";
    for extra in [&[][..], &["--plan-only"][..]] {
        let o = check(long, extra);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.trim_end().ends_with(
                "bench.conf line 3: timeout: 4s is not longer than the plan's expected length, about 1h5s (clock-tick 1h, and about 5s a part to start and write its files); raise timeout to 1h7m or more, or shorten the tests"
            ),
            "{err}"
        );
    }
    // `run` refuses it too, before measuring, and records why.
    let conf = write_conf(&dir, long);
    let o = run_plan(&conf, &dir.join("results"), &["--run-id", "long"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let record = json_file(&dir.join("results/long/run.json"));
    assert_eq!(record["status"], "failed");
    assert!(
        record["error"]
            .as_str()
            .unwrap()
            .contains("timeout: 4s is not longer"),
        "{record}"
    );
    // --plan-only belongs to --check.
    let o = run_plan(&conf, &dir.join("results"), &["--plan-only"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// SIGTERM in the middle of a plan: the run is recorded `interrupted` (not failed) with
/// what did not run, says so, and exits with 128 + SIGTERM; `mark-failed` (what the
/// appliance's init runs next) leaves it as it is.
#[test]
fn a_signal_interrupts_the_plan() {
    let Some(_g) = measuring_as_root("needs root for SCHED_FIFO") else {
        return;
    };
    let dir = tmpdir("run-sigterm");
    let conf = write_conf(
        &dir,
        &format!(
            "tests = clock-tick, thread-switch\ncpu = {}\npriority = 80\n\
             clock_tick.duration = 60s\nclock_tick.attribute = off\nthread_switch.duration = 1s\n\
             rt_throttling = keep\ntimeout = 5m\n",
            test_cpu()
        ),
    );
    let results = dir.join("results");
    let child = bin()
        .args(["run", "--config"])
        .arg(&conf)
        .arg("--results")
        .arg(&results)
        .args(["--run-id", "r"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Until clock-tick has written its first checkpoint: it is measuring.
    let json = results.join("r/clock-tick.json");
    let waited = Instant::now();
    while !json.exists() && waited.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    sigterm(child.id());
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(143), "{err}");
    let record = json_file(&results.join("r/run.json"));
    assert_eq!(record["status"], "interrupted", "{record}");
    assert!(record["finished"].is_string(), "{record}");
    let error = record["error"].as_str().unwrap();
    assert!(
        error.starts_with("stopped by SIGTERM before the plan finished: clock-tick stopped after ")
            && error.ends_with("; not run: thread-switch; partial results kept"),
        "{error}"
    );
    let tests = &record["tests"];
    assert_eq!(tests["clock-tick"]["status"], "interrupted", "{tests}");
    assert_eq!(tests["thread-switch"]["status"], "interrupted", "{tests}");
    assert_eq!(
        tests["thread-switch"]["error"],
        "not run: interrupted by SIGTERM"
    );
    assert_eq!(json_file(&json)["end"], "signal");
    assert!(
        err.contains("rust-bench: run r: interrupted (results in "),
        "{err}"
    );
    assert!(
        err.trim_end()
            .ends_with(&format!("rust-bench: run r interrupted: {error}")),
        "{err}"
    );
    let o = run(&[
        "mark-failed",
        results.join("r").to_str().unwrap(),
        "--reason",
        "x",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("status=interrupted\nerror={error}\n")
    );
}
