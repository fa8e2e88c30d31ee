//! `rust-bench report` end to end on run directories written here. The numbers are synthetic
//! test fixtures built from the results contract's types (shaped after the paper's tables),
//! not measurements.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rust_bench::results::End;
use rust_bench::results::environment::Environment;
use rust_bench::results::fixture;
use rust_bench::results::run::Status;
use serde_json::{Value, json};

fn rust_bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rust-bench"))
        .args(args)
        .output()
        .expect("run rust-bench")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).expect("utf-8")
}

/// One line on stderr, exit status 2, mentioning every `needle`.
fn usage_error(o: &Output, needles: &[&str]) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line please: {err}");
    assert!(err.starts_with("rust-bench: error: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "{err:?} lacks {n:?}");
    }
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn environment(hypervisor: Option<&str>, vmbus: bool, hyperv: bool) -> Environment {
    fixture::environment(hypervisor, vmbus, hyperv)
}

/// A clock-tick result built from the results contract, as JSON (so that tests can break it).
fn clock_tick(env: &Environment, min: u64, max: u64) -> Value {
    serde_json::to_value(fixture::clock_tick(env, min, max)).unwrap()
}

fn thread_switch(env: &Environment, stats: &[(usize, [f64; 3])]) -> Value {
    serde_json::to_value(fixture::thread_switch(env, stats)).unwrap()
}

fn write(dir: &Path, name: &str, v: &Value) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(name), serde_json::to_string_pretty(v).unwrap()).unwrap();
}

fn run_json(id: &str, status: Status, env: &Environment) -> Value {
    let record = fixture::run_record(id, status, Some(env), &["clock-tick", "thread-switch"]);
    serde_json::to_value(record).unwrap()
}

/// results/ with three runs: bare metal, Hyper-V emulated, Hyper-V enlightened.
fn three_runs(root: &Path) -> PathBuf {
    let results = root.join("results");
    let runs = [
        (
            "20261127-100000",
            environment(None, false, false),
            68_000,
            78_000,
            [430.0, 520.5, 11_200.0],
            [450.0, 610.0, 11_450.0],
        ),
        (
            "20261127-110000",
            environment(Some("Microsoft Hv"), false, false),
            68_100,
            7_258_100,
            [3_000.0, 4_100.0, 3_530_000.0],
            [3_100.0, 4_000.0, 1_240_000.0],
        ),
        (
            "20261127-120000",
            environment(Some("Microsoft Hv"), true, true),
            68_050,
            4_148_050,
            [900.0, 1_000.25, 63_000.0],
            [950.0, 1_200.0, 687_000.0],
        ),
    ];
    for (id, env, min, max, two, thousand) in runs {
        let dir = results.join(id);
        write(&dir, "run.json", &run_json(id, Status::Complete, &env));
        write(&dir, "clock-tick.json", &clock_tick(&env, min, max));
        write(
            &dir,
            "thread-switch.json",
            &thread_switch(&env, &[(2, two), (1000, thousand)]),
        );
    }
    results
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

#[test]
fn markdown_has_one_column_per_environment() {
    let t = tmp();
    let results = three_runs(t.path());
    let md = stdout(&rust_bench(&["report", results.to_str().unwrap()]));
    assert!(
        md.contains("| | bare metal | Hyper-V emulated | Hyper-V enlightened |"),
        "{md}"
    );
    assert!(
        md.contains(
            "| **max overhead (max − min loop)** | **10 µs** | **7.19 ms** | **4.08 ms** |"
        ),
        "{md}"
    );
    assert!(
        md.contains("| **2 threads, min** | **430 ns** | **3 µs** | **900 ns** |"),
        "{md}"
    );
    assert!(
        md.contains("| **1000 threads, max** | **11.4 µs** | **1.24 ms** | **687 µs** |"),
        "{md}"
    );
}

/// Every metric the long-form CSV must hold for a run, from its JSON files: (test, metric,
/// value, unit).
fn expected_metrics(dir: &Path) -> Vec<(&'static str, String, f64, &'static str)> {
    let mut out = Vec::new();
    if let Ok(bytes) = fs::read(dir.join("clock-tick.json")) {
        let ct: Value = serde_json::from_slice(&bytes).unwrap();
        let f = |v: &Value| v.as_f64().unwrap();
        let mut m =
            |name: &str, v: &Value, unit| out.push(("clock-tick", name.to_string(), f(v), unit));
        m("max_overhead", &ct["max_overhead_ns"], "ns");
        if !ct["pauses"].is_null() {
            m("longest_unobserved", &ct["pauses"]["longest_ns"], "ns");
            m("late_resumes", &ct["pauses"]["late"], "count");
        }
        for p in ["min", "p50", "p99", "p9999", "max"] {
            m(&format!("loop_{p}"), &ct["loop_ns"][p], "ns");
        }
        m("spikes", &ct["spikes"]["count"], "count");
        m("spike_threshold", &ct["spikes"]["threshold_ns"], "ns");
        m("samples", &ct["samples"], "count");
        m("measured", &ct["measured_s"], "s");
        m("duty_cycle", &ct["duty_cycle"], "fraction");
        if !ct["loop_calibration"]["min_error_pct"].is_null() {
            m(
                "loop_min_error",
                &ct["loop_calibration"]["min_error_pct"],
                "percent",
            );
        }
    }
    if let Ok(bytes) = fs::read(dir.join("thread-switch.json")) {
        let ts: Value = serde_json::from_slice(&bytes).unwrap();
        for run in ts["runs"].as_array().unwrap() {
            let n = run["threads"].as_u64().unwrap();
            let mut m = |name: &str, v: &Value, unit| {
                out.push((
                    "thread-switch",
                    format!("{name}@{n}"),
                    v.as_f64().unwrap(),
                    unit,
                ))
            };
            m("switches", &run["switches"], "count");
            m("measured", &run["measured_s"], "s");
            for stat in ["min", "mean", "p50", "p99", "max"] {
                m(stat, &run["switch_ns"][stat], "ns");
            }
        }
    }
    out
}

/// The CSV's rows for `label` are exactly the expected metrics of `dir`, values equal to the
/// JSON's.
fn assert_csv_matches(csv: &str, label: &str, dir: &Path) {
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("label,run,scenario,test,metric,value,unit")
    );
    let rows: Vec<Vec<&str>> = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|r| r[0] == label)
        .collect();
    let expected = expected_metrics(dir);
    assert!(!expected.is_empty());
    // The plan's scenario from run.json, empty without one (or without run.json).
    let scenario = fs::read_to_string(dir.join("run.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["scenario"].as_u64())
        .map_or(String::new(), |n| n.to_string());
    for (test, metric, value, unit) in &expected {
        let row = rows
            .iter()
            .find(|r| r[3] == *test && r[4] == metric)
            .unwrap_or_else(|| panic!("no row {label},{test},{metric} in\n{csv}"));
        assert_eq!(row.len(), 7, "{row:?}");
        assert_eq!(row[2], scenario, "{label} {metric}");
        assert_eq!(row[5].parse::<f64>().unwrap(), *value, "{label} {metric}");
        assert_eq!(row[6], *unit, "{label} {metric}");
    }
    assert_eq!(rows.len(), expected.len(), "{csv}");
}

/// Every CSV number must be the very number in the JSON it came from.
#[test]
fn csv_numbers_are_the_json_numbers() {
    let t = tmp();
    let results = three_runs(t.path());
    let csv = stdout(&rust_bench(&[
        "report",
        results.to_str().unwrap(),
        "--format",
        "csv",
    ]));
    let mut dirs: Vec<PathBuf> = fs::read_dir(&results)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    let labels = ["bare metal", "Hyper-V emulated", "Hyper-V enlightened"];
    for (dir, label) in dirs.iter().zip(labels) {
        assert_csv_matches(&csv, label, dir);
    }
    assert_eq!(csv.lines().count(), 1 + 3 * (12 + 2 * 7), "{csv}");
    assert!(
        csv.contains("Hyper-V enlightened,20261127-120000,,thread-switch,mean@2,1000.25,ns\n"),
        "{csv}"
    );
}

#[test]
fn labels_and_several_directories() {
    let t = tmp();
    let results = three_runs(t.path());
    let mut dirs: Vec<String> = fs::read_dir(&results)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    dirs.sort();
    let mut args = vec![
        "report",
        "--format",
        "csv",
        "--label",
        "bare, quoted \"x\"",
        "--label",
        "emu",
        "--label",
        "Hyper-V enlightened",
    ];
    args.extend(dirs.iter().map(String::as_str));
    let csv = stdout(&rust_bench(&args));
    assert!(
        csv.contains(
            "\"bare, quoted \"\"x\"\"\",20261127-100000,,clock-tick,max_overhead,10000,ns\n"
        ),
        "{csv}"
    );
    assert!(
        csv.contains("emu,20261127-110000,,clock-tick,max_overhead,7190000,ns\n"),
        "{csv}"
    );
    assert!(
        csv.contains("Hyper-V enlightened,20261127-120000,,clock-tick,max_overhead,4080000,ns\n"),
        "{csv}"
    );

    // One --label per run, or none: fewer or more are refused with the counts.
    let too_many = rust_bench(&["report", dirs[0].as_str(), "--label", "a", "--label", "b"]);
    usage_error(&too_many, &["2 labels for 1 run (", "one --label per run"]);
    let r = results.to_str().unwrap();
    let too_few = rust_bench(&["report", r, "--label", "a"]);
    usage_error(&too_few, &["1 label for 3 runs (", &dirs[0], &dirs[2]]);
    let three = rust_bench(&["report", r, "--label", "a", "--label", "b", "--label", "c"]);
    let md = stdout(&three);
    assert!(md.contains("| | a | b | c |"), "{md}");
}

/// One rule finds runs: a run directory stands for itself, any other directory for every
/// run directory beneath it at any depth, in path order; a run named twice counts once.
#[test]
fn runs_are_found_at_any_depth_and_counted_once() {
    let t = tmp();
    let root = t.path();
    let env = environment(Some("Microsoft Hv"), true, true);
    let runs = [
        "kit/s1-enlightened/results/20261127-100000",
        "kit/s3-enlightened/results/20261127-100000",
        "results/20261127-110000",
        "results/20261127-120000",
    ];
    for (i, run) in runs.iter().enumerate() {
        let dir = root.join(run);
        let id = dir.file_name().unwrap().to_str().unwrap().to_string();
        let record = fixture::run_record(&id, Status::Complete, Some(&env), &["clock-tick"]);
        write(&dir, "run.json", &serde_json::to_value(record).unwrap());
        write(
            &dir,
            "clock-tick.json",
            &clock_tick(&env, 68_000, 70_000 + i as u64 * 1000),
        );
    }
    // A directory without runs beneath it and a file are left alone.
    fs::create_dir_all(root.join("hist")).unwrap();
    fs::write(root.join("results/report.html"), "x").unwrap();
    let r = root.to_str().unwrap();
    let rows = |o: &Output| -> Vec<String> {
        stdout(o)
            .lines()
            .skip(1)
            .filter(|l| l.contains(",max_overhead,"))
            .map(|l| l.split(',').nth(5).unwrap().to_string())
            .collect()
    };
    let all = rust_bench(&["report", r, "--format", "csv"]);
    assert_eq!(rows(&all), ["2000", "3000", "4000", "5000"], "path order");
    assert!(all.stderr.is_empty(), "{all:?}");
    // The same runs again, directly and through their parents: each counted once, and
    // said so on stderr.
    let results = root.join("results");
    let one = results.join("20261127-110000");
    let twice = rust_bench(&[
        "report",
        one.to_str().unwrap(),
        r,
        results.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert_eq!(rows(&twice), ["4000", "2000", "3000", "5000"]);
    let err = String::from_utf8_lossy(&twice.stderr);
    assert_eq!(err.lines().count(), 3, "{err}");
    assert!(
        err.contains(&format!(
            "rust-bench: note: {} is named twice (by {} and by {r}); it is reported once",
            one.display(),
            one.display()
        )),
        "{err}"
    );
    // A label per run found, in that order.
    let labels = rust_bench(&["report", r, "--label", "a", "--format", "csv"]);
    usage_error(&labels, &["1 label for 4 runs ("]);
}

#[test]
fn html_is_one_self_contained_page() {
    let t = tmp();
    let results = three_runs(t.path());
    let out = t.path().join("report.html");
    stdout(&rust_bench(&[
        "report",
        results.to_str().unwrap(),
        "--format",
        "html",
        "--out",
        out.to_str().unwrap(),
    ]));
    let html = fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Figures: a comparison, then per run a timeline and two histograms.
    assert_eq!(html.matches("<svg ").count(), 1 + 3 * 3);
    for external in ["src=", "href=", "<script", "url(http", "@import"] {
        assert!(!html.contains(external), "external reference {external}");
    }
    assert!(html.contains("7.19 ms"));
}

#[test]
fn a_single_tests_out_dir_is_a_run() {
    let t = tmp();
    let env = environment(None, false, false);
    let dir = t.path().join("ct");
    write(&dir, "clock-tick.json", &clock_tick(&env, 68_000, 70_000));
    let csv = stdout(&rust_bench(&[
        "report",
        dir.to_str().unwrap(),
        "--format",
        "csv",
    ]));
    assert!(
        csv.starts_with(
            "label,run,scenario,test,metric,value,unit\nbare metal,ct,,clock-tick,max_overhead,2000,ns\n"
        ),
        "{csv}"
    );
    assert_csv_matches(&csv, "bare metal", &dir);
}

/// The CSV names the paper's scenario of each run whose plan named one.
#[test]
fn csv_names_the_scenario() {
    let t = tmp();
    let env = environment(Some("Microsoft Hv"), true, true);
    let dir = t.path().join("results").join("20261127-130000");
    let mut record = run_json("20261127-130000", Status::Complete, &env);
    record["scenario"] = 3.into();
    write(&dir, "run.json", &record);
    write(&dir, "clock-tick.json", &clock_tick(&env, 68_000, 70_000));
    write(
        &dir,
        "thread-switch.json",
        &thread_switch(&env, &[(2, [430.0, 520.5, 11_200.0])]),
    );
    let csv = stdout(&rust_bench(&[
        "report",
        dir.to_str().unwrap(),
        "--format",
        "csv",
    ]));
    let label = csv.lines().nth(1).unwrap().split(',').next().unwrap();
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .contains(",20261127-130000,3,clock-tick,"),
        "{csv}"
    );
    assert_csv_matches(&csv, label, &dir);
}

#[test]
fn same_environment_twice_is_told_apart_by_run_id() {
    let t = tmp();
    let env = environment(None, false, false);
    for id in ["20261127-100000", "20261127-100000-2"] {
        let dir = t.path().join(id);
        write(&dir, "run.json", &run_json(id, Status::Complete, &env));
        write(&dir, "clock-tick.json", &clock_tick(&env, 68_000, 70_000));
        write(
            &dir,
            "thread-switch.json",
            &thread_switch(&env, &[(2, [1.0, 2.0, 3.0])]),
        );
    }
    let csv = stdout(&rust_bench(&[
        "report",
        t.path().to_str().unwrap(),
        "--format",
        "csv",
    ]));
    assert!(csv.contains("bare metal (20261127-100000),"), "{csv}");
    assert!(csv.contains("bare metal (20261127-100000-2),"), "{csv}");
}

#[test]
fn interrupted_runs_are_reported_with_a_note() {
    let t = tmp();
    let env = environment(Some("Microsoft Hv"), true, true);
    let dir = t.path().join("20261127-130000");
    let mut run = run_json("20261127-130000", Status::Interrupted, &env);
    run["tests"]["thread-switch"]["status"] = json!("interrupted");
    write(&dir, "run.json", &run);
    let mut ct = clock_tick(&env, 68_000, 99_000);
    ct["complete"] = json!(false);
    write(&dir, "clock-tick.json", &ct);
    let md = stdout(&rust_bench(&["report", dir.to_str().unwrap()]));
    assert!(md.contains("run interrupted"), "{md}");
    assert!(md.contains("(partial)"), "{md}");
    assert!(!md.contains("## Thread switch latency"), "{md}");
}

#[test]
fn malformed_run_directories_get_one_clear_line() {
    let t = tmp();
    let env = environment(None, false, false);

    // A file run.json lists as complete is missing.
    let missing = t.path().join("missing");
    write(&missing, "run.json", &run_json("m", Status::Complete, &env));
    write(&missing, "clock-tick.json", &clock_tick(&env, 1, 2));
    usage_error(
        &rust_bench(&["report", missing.to_str().unwrap()]),
        &["thread-switch.json", "missing"],
    );

    // Truncated JSON (power cut while writing).
    let truncated = t.path().join("truncated");
    write(
        &truncated,
        "run.json",
        &run_json("t", Status::Complete, &env),
    );
    let full = serde_json::to_string(&clock_tick(&env, 1, 2)).unwrap();
    fs::write(truncated.join("clock-tick.json"), &full[..full.len() / 2]).unwrap();
    usage_error(
        &rust_bench(&["report", truncated.to_str().unwrap()]),
        &["clock-tick.json", "truncated"],
    );

    // Not JSON at all.
    let garbage = t.path().join("garbage");
    fs::create_dir_all(&garbage).unwrap();
    fs::write(garbage.join("run.json"), b"\xff\xfe garbage").unwrap();
    usage_error(
        &rust_bench(&["report", garbage.to_str().unwrap()]),
        &["run.json", "not valid JSON"],
    );

    // Another schema.
    let schema = t.path().join("schema");
    let mut ct = clock_tick(&env, 1, 2);
    ct["schema"] = json!(2);
    write(&schema, "clock-tick.json", &ct);
    usage_error(
        &rust_bench(&["report", schema.to_str().unwrap()]),
        &["clock-tick.json", "schema 2"],
    );

    // A required field missing or of the wrong type.
    let field = t.path().join("field");
    let mut ts = thread_switch(&env, &[(2, [1.0, 2.0, 3.0])]);
    ts["runs"][0]["switch_ns"]["max"] = json!("slow");
    write(&field, "thread-switch.json", &ts);
    usage_error(
        &rust_bench(&["report", field.to_str().unwrap()]),
        &["thread-switch.json", "results format"],
    );

    // The wrong test in a file.
    let swapped = t.path().join("swapped");
    write(&swapped, "clock-tick.json", &thread_switch(&env, &[]));
    usage_error(
        &rust_bench(&["report", swapped.to_str().unwrap()]),
        &["clock-tick.json", "\"thread-switch\""],
    );

    // Not a run directory, nor one holding runs; a path that does not exist; a file.
    let empty = t.path().join("empty");
    fs::create_dir_all(&empty).unwrap();
    usage_error(
        &rust_bench(&["report", empty.to_str().unwrap()]),
        &["not a run directory"],
    );
    usage_error(
        &rust_bench(&["report", "/nonexistent/results"]),
        &["no such directory"],
    );
    usage_error(
        &rust_bench(&["report", missing.join("run.json").to_str().unwrap()]),
        &["not a directory"],
    );
}

/// The same check on real measurements from this machine: `clock-tick --out` and
/// `thread-switch --out` into one directory, then every CSV number against its JSON.
#[test]
fn report_numbers_match_a_real_measurement() {
    let t = tmp();
    let dir = t.path().join("host");
    let d = dir.to_str().unwrap();
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let cpu = (cpus - 1).to_string();
    let ct = rust_bench(&["clock-tick", "--cpu", &cpu, "--duration", "1s", "--out", d]);
    if !ct.status.success() {
        let err = String::from_utf8_lossy(&ct.stderr);
        assert!(
            err.contains("permission") || err.contains("SCHED_FIFO") || err.contains("privilege"),
            "clock-tick failed for another reason than permissions: {err}"
        );
        eprintln!("\n*** SKIPPED: measuring needs SCHED_FIFO (run as root): {err} ***\n");
        return;
    }
    let ts = rust_bench(&[
        "thread-switch",
        "--cpu",
        &cpu,
        "--threads",
        "2,50",
        "--switches",
        "20000",
        "--out",
        d,
    ]);
    stdout(&ts);

    let csv = stdout(&rust_bench(&[
        "report", d, "--format", "csv", "--label", "host",
    ]));
    assert_csv_matches(&csv, "host", &dir);
    assert_eq!(
        csv.lines().count(),
        1 + expected_metrics(&dir).len(),
        "{csv}"
    );

    // The fixed-width histograms: zero-filled 1 µs buckets whose counts sum to the samples.
    let hist = t.path().join("hist");
    stdout(&rust_bench(&[
        "report",
        d,
        "--label",
        "host",
        "--histograms",
        hist.to_str().unwrap(),
    ]));
    let ct: Value =
        serde_json::from_slice(&fs::read(dir.join("clock-tick.json")).unwrap()).unwrap();
    let ts: Value =
        serde_json::from_slice(&fs::read(dir.join("thread-switch.json")).unwrap()).unwrap();
    let switches: Vec<u64> = ts["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["switches"].as_u64().unwrap())
        .collect();
    let ct_max_us = ct["loop_ns"]["max"].as_u64().unwrap() / 1000;
    for (file, samples) in [
        (
            "host.clock-tick-histogram.dat",
            vec![ct["samples"].as_u64().unwrap()],
        ),
        ("host.thread-switch-histogram.dat", switches),
    ] {
        let text = fs::read_to_string(hist.join(file)).unwrap();
        let mut sums = vec![0u64; samples.len()];
        let mut buckets = Vec::new();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let fields: Vec<u64> = line.split(' ').map(|f| f.parse().unwrap()).collect();
            assert_eq!(fields.len(), 1 + samples.len(), "{line}");
            buckets.push(fields[0]);
            for (sum, count) in sums.iter_mut().zip(&fields[1..]) {
                *sum += count;
            }
        }
        assert_eq!(sums, samples, "{file}");
        // Every 1 µs bucket from 0, none left out.
        assert_eq!(
            buckets,
            (0..buckets.len() as u64).collect::<Vec<_>>(),
            "{file}"
        );
        if file.contains("clock-tick") {
            assert_eq!(buckets.len() as u64, ct_max_us + 1, "{file}");
        }
        assert!(text.contains("\n# Histogram Overflows: "), "{file}");
    }

    // And the page renders from it, figures included.
    let html = stdout(&rust_bench(&["report", d, "--format", "html"]));
    assert_eq!(html.matches("<svg ").count(), 3);
}

#[test]
fn a_failed_run_without_test_files_still_reports() {
    let t = tmp();
    let dir = t.path().join("20261127-140000");
    let env = environment(None, false, false);
    let mut run = run_json("20261127-140000", Status::Failed, &env);
    run["environment"] = Value::Null;
    run["error"] = json!("the config has an unknown role 'tset'");
    run["tests"] = json!({});
    write(&dir, "run.json", &run);
    let md = stdout(&rust_bench(&["report", dir.to_str().unwrap()]));
    assert!(
        md.contains("failed: the config has an unknown role 'tset'"),
        "{md}"
    );
    assert!(!md.contains("## Clock tick"), "{md}");
    let html = stdout(&rust_bench(&[
        "report",
        dir.to_str().unwrap(),
        "--format",
        "html",
    ]));
    assert!(html.contains("badge failed"), "{html}");
}

#[test]
fn scenarios_from_the_hyper_v_kit_are_told_apart_by_their_directory() {
    let t = tmp();
    let env = environment(Some("Microsoft Hv"), true, true);
    for scenario in ["s1-enlightened", "s3-enlightened"] {
        let dir = t.path().join(scenario).join("20261127-100000");
        write(
            &dir,
            "run.json",
            &run_json("20261127-100000", Status::Complete, &env),
        );
        write(&dir, "clock-tick.json", &clock_tick(&env, 68_000, 70_000));
        write(
            &dir,
            "thread-switch.json",
            &thread_switch(&env, &[(2, [1.0, 2.0, 3.0])]),
        );
    }
    let s1 = t.path().join("s1-enlightened");
    let s3 = t.path().join("s3-enlightened");
    let csv = stdout(&rust_bench(&[
        "report",
        s1.to_str().unwrap(),
        s3.to_str().unwrap(),
        "--format",
        "csv",
    ]));
    assert!(
        csv.contains(
            "Hyper-V enlightened (s1-enlightened),20261127-100000,,clock-tick,max_overhead,2000,ns\n"
        ),
        "{csv}"
    );
    assert!(
        csv.contains(
            "Hyper-V enlightened (s3-enlightened),20261127-100000,,clock-tick,max_overhead,2000,ns\n"
        ),
        "{csv}"
    );
}

/// A thread-switch cut short while its 1000-thread run had not measured a switch yet: that
/// run's statistics are null in the file (never zeros), and no report shows a 0 ns for it.
#[test]
fn a_cut_short_thread_switch_shows_no_zero() {
    let t = tmp();
    let env = environment(Some("Microsoft Hv"), true, true);
    let id = "20261127-150000";
    let dir = t.path().join(id);
    let mut ts = fixture::thread_switch(
        &env,
        &[
            (2, [900.0, 1000.0, 63_000.0]),
            (1000, [950.0, 1200.0, 9000.0]),
        ],
    );
    ts.complete = false;
    let cut = &mut ts.runs[1];
    cut.switches = 0;
    cut.yields = 0;
    cut.switched_yields = 0;
    cut.switch_ns = None;
    cut.histogram.buckets.clear();
    cut.complete = false;
    cut.end = End::Signal;
    let json = serde_json::to_value(&ts).unwrap();
    assert_eq!(json["runs"][1]["switch_ns"], Value::Null);
    let mut run = run_json(id, Status::Failed, &env);
    run["error"] = json!("stopped by a signal before the plan finished");
    write(&dir, "run.json", &run);
    write(&dir, "thread-switch.json", &json);
    let d = dir.to_str().unwrap();

    let md = stdout(&rust_bench(&["report", d]));
    assert!(md.contains("| **1000 threads, min** | – |"), "{md}");
    assert!(md.contains("| **2 threads, min** | **900 ns** |"), "{md}");
    for zero in ["| 0 ns", "**0 ns**", " 0 ns |"] {
        assert!(!md.contains(zero), "{zero} in {md}");
    }
    let csv = stdout(&rust_bench(&["report", d, "--format", "csv"]));
    assert!(!csv.contains("min@1000"), "{csv}");
    assert!(!csv.contains("max@1000"), "{csv}");
    assert!(
        csv.contains(",thread-switch,switches@1000,0,count\n"),
        "{csv}"
    );
    assert!(csv.contains(",thread-switch,min@2,900,ns\n"), "{csv}");
    let html = stdout(&rust_bench(&["report", d, "--format", "html"]));
    assert!(!html.contains(">0 ns<"), "a 0 ns cell in the page");
}

/// A file from before `switch_ns` could be null held zeros for a run without a switch: the
/// report does not show them either.
#[test]
fn old_zeros_for_a_run_without_a_switch_are_not_shown() {
    let t = tmp();
    let env = environment(None, false, false);
    let dir = t.path().join("old");
    let mut ts = thread_switch(&env, &[(2, [430.0, 500.0, 900.0]), (1000, [1.0, 1.0, 1.0])]);
    let run = &mut ts["runs"][1];
    for k in ["switches", "yields", "switched_yields"] {
        run[k] = json!(0);
    }
    run["switch_ns"] = json!({"min": 0, "mean": 0.0, "p50": 0, "p99": 0, "max": 0});
    for k in ["rust_bench_version", "command_line", "started"] {
        ts.as_object_mut().unwrap().remove(k);
    }
    write(&dir, "thread-switch.json", &ts);
    let md = stdout(&rust_bench(&["report", dir.to_str().unwrap()]));
    assert!(md.contains("| **1000 threads, max** | – |"), "{md}");
    assert!(!md.contains("**0 ns**"), "{md}");
}

/// `report --paper`: a reference column per machine, scenario and table of the paper, whose
/// cells (and CSV rows) carry the values exactly as data/paper.tsv writes them.
#[test]
fn paper_columns_carry_the_data_files_values() {
    let t = tmp();
    let results = three_runs(t.path());
    let r = results.to_str().unwrap();
    let data =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/paper.tsv")).unwrap();
    let rows: Vec<Vec<&str>> = data
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("table\t"))
        .map(|l| l.split('\t').collect())
        .collect();
    assert!(rows.len() >= 7, "{rows:?}");

    let md = stdout(&rust_bench(&["report", r, "--paper"]));
    let header = "paper 2013: bare machine (Xeon E3-1220v2, Linux 3.8.4-rt2)";
    assert!(
        md.contains(&format!("| Hyper-V enlightened | {header} |")),
        "{md}"
    );
    let csv = stdout(&rust_bench(&["report", r, "--paper", "--format", "csv"]));
    let html = stdout(&rust_bench(&["report", r, "--paper", "--format", "html"]));
    for row in &rows {
        let [_, test, scenario, machine, metric, threads, value, unit] = row[..] else {
            panic!("{row:?}")
        };
        assert_eq!(machine, "bare", "a new machine: extend this test");
        let shown = format!("{value} {}", if unit == "us" { "µs" } else { unit });
        let name = match (metric, threads) {
            ("max_overhead", _) => "**max overhead (max − min loop)**".to_string(),
            ("loop_no_tick", _) => "busy loop without a tick (paper)".to_string(),
            ("loop_with_tick", _) => "busy loop with a tick (paper)".to_string(),
            ("tick_duration", _) => "one tick's handling (paper)".to_string(),
            (m, n) => format!("**{n} threads, {m}**"),
        };
        let line = md
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no row {name} in\n{md}"));
        assert!(line.ends_with(&format!("| {shown} |")), "{line}");
        let metric = match threads {
            "-" => metric.to_string(),
            n => format!("{metric}@{n}"),
        };
        let expected = format!("\"{header}\",paper,{scenario},{test},{metric},{value},{unit}\n");
        assert!(csv.contains(&expected), "{expected} not in\n{csv}");
        assert!(html.contains(&format!("<td>{shown}</td>")), "{shown}");
    }
    assert_eq!(csv.matches(",paper,").count(), rows.len(), "{csv}");
    // Without --paper, none of it.
    let plain = stdout(&rust_bench(&["report", r]));
    assert!(!plain.contains("paper 2013"), "{plain}");
}

/// The histogram options: a width or range without --histograms, or a range too fine for
/// one file, is refused with what to do instead.
#[test]
fn histogram_options_are_checked() {
    let t = tmp();
    let results = three_runs(t.path());
    let r = results.to_str().unwrap();
    let alone = rust_bench(&["report", r, "--histogram-width", "2us"]);
    assert!(!alone.status.success());
    assert!(
        String::from_utf8_lossy(&alone.stderr).contains("--histograms"),
        "{alone:?}"
    );
    let h = t.path().join("h");
    let h = h.to_str().unwrap();
    let bad = rust_bench(&["report", r, "--histograms", h, "--histogram-width", "0us"]);
    assert!(!bad.status.success());
    let fine = rust_bench(&[
        "report",
        r,
        "--histograms",
        h,
        "--histogram-width",
        "1ns",
        "--histogram-max",
        "1h",
    ]);
    usage_error(&fine, &["buckets", "--histogram-width", "--histogram-max"]);
    // One file per run and test, named from the label.
    stdout(&rust_bench(&[
        "report",
        r,
        "--histograms",
        h,
        "--histogram-width",
        "10us",
    ]));
    let mut names: Vec<String> = fs::read_dir(h)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 6, "{names:?}");
    assert!(names.contains(&"hyper-v-emulated.clock-tick-histogram.dat".to_string()));
    let text =
        fs::read_to_string(Path::new(h).join("hyper-v-enlightened.thread-switch-histogram.dat"))
            .unwrap();
    assert!(text.contains("# columns: bucket (lower bound, us) then the count of samples of: 2_threads 1000_threads\n"), "{text}");
    assert!(text.contains("\n0 "), "{text}");
    assert!(text.contains("\n10 "), "{text}");
}

/// A busy loop that missed its target: the calibration's note stands right under the max
/// overhead in the Markdown and HTML tables, and its error is a CSV metric.
#[test]
fn a_calibration_miss_stands_beside_the_max_overhead() {
    let t = tmp();
    let env = environment(None, false, false);
    let dir = t.path().join("ct");
    let mut ct = fixture::clock_tick(&env, 57_000, 99_000);
    let note = "the shortest loop was 16.18 % below the target: the CPU ran faster at times during the run than at any time while calibrating";
    ct.loop_calibration = Some(fixture::loop_calibration(68_000, 57_000));
    if let Some(c) = ct.loop_calibration.as_mut() {
        c.note = Some(note.to_string());
    }
    write(&dir, "clock-tick.json", &serde_json::to_value(&ct).unwrap());
    let d = dir.to_str().unwrap();
    let md = stdout(&rust_bench(&["report", d]));
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| ")).collect();
    let at = rows
        .iter()
        .position(|l| l.starts_with("| **max overhead"))
        .unwrap();
    assert_eq!(
        rows[at + 1],
        format!("| loop calibration | {note} |"),
        "{md}"
    );
    let html = stdout(&rust_bench(&["report", d, "--format", "html"]));
    let max = html.find("<th>max overhead (max − min loop)</th>").unwrap();
    let row = &html[max..];
    let row = &row[row.find("<tr>").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.starts_with("<tr><th>loop calibration</th>") && row.contains(note),
        "{row}"
    );
    let csv = stdout(&rust_bench(&["report", d, "--format", "csv"]));
    assert!(
        csv.contains("\nbare metal,ct,,clock-tick,loop_min_error,-16.18,percent\n"),
        "{csv}"
    );
    assert_csv_matches(&csv, "bare metal", &dir);
    // Within 1 %: how close, and no note.
    let close = t.path().join("close");
    let ct = fixture::clock_tick(&env, 68_100, 78_000);
    write(
        &close,
        "clock-tick.json",
        &serde_json::to_value(&ct).unwrap(),
    );
    let md = stdout(&rust_bench(&["report", close.to_str().unwrap()]));
    assert!(
        md.contains("| loop calibration | shortest loop +0.15 % from the target (within 1 %) |"),
        "{md}"
    );
}

/// Where a text of a figure is drawn: its box in the figure's coordinates (from its length
/// at the figures' own generous width per character, `svg::TEXT_EM`, and its type size),
/// and the clip rectangle it is drawn in, if any.
#[derive(Debug)]
struct TextBox {
    text: String,
    size: f64,
    x: (f64, f64),
    y: (f64, f64),
    clip: Option<[f64; 4]>,
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    Some(&tag[start..start + tag[start..].find('"')?])
}

fn num(tag: &str, name: &str) -> f64 {
    attr(tag, name).map_or(0.0, |v| v.parse().unwrap())
}

/// The numbers inside `name(...)` in a transform.
fn transform_args(transform: &str, name: &str) -> Option<Vec<f64>> {
    let start = transform.find(&format!("{name}("))? + name.len() + 1;
    let inner = &transform[start..start + transform[start..].find(')')?];
    Some(
        inner
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect(),
    )
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The SVG's width and height, and the box of each of its texts (each tspan a text).
fn text_boxes(svg: &str) -> (f64, f64, Vec<TextBox>) {
    let em = rust_bench::figures::svg::TEXT_EM;
    let open = &svg[..svg.find('>').unwrap()];
    let (w, h) = (num(open, "width"), num(open, "height"));
    let mut boxes = Vec::new();
    // Each open <g>: its translation and clip, as absolute coordinates.
    type Group = ((f64, f64), Option<[f64; 4]>);
    let mut groups: Vec<Group> = vec![((0.0, 0.0), None)];
    let mut clips: Vec<(String, [f64; 4])> = Vec::new();
    let mut clip_id: Option<String> = None;
    let mut rest = &svg[open.len()..];
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        let end = rest.find('>').unwrap();
        let tag = &rest[..=end];
        let (offset, clip) = *groups.last().unwrap();
        if tag.starts_with("</g") {
            groups.pop();
        } else if tag.starts_with("<g") {
            let t = attr(tag, "transform")
                .and_then(|t| transform_args(t, "translate"))
                .unwrap_or_else(|| vec![0.0, 0.0]);
            let clip = match attr(tag, "clip-path") {
                Some(url) => {
                    let id = &url[5..url.len() - 1];
                    Some(clips.iter().find(|(c, _)| c == id).unwrap().1)
                }
                None => clip,
            };
            groups.push(((offset.0 + t[0], offset.1 + t[1]), clip));
        } else if tag.starts_with("<clipPath") {
            clip_id = attr(tag, "id").map(str::to_string);
        } else if tag.starts_with("<rect") && clip_id.is_some() {
            let (x, y) = (num(tag, "x") + offset.0, num(tag, "y") + offset.1);
            let r = [x, y, x + num(tag, "width"), y + num(tag, "height")];
            clips.push((clip_id.take().unwrap(), r));
        } else if tag.starts_with("<text") {
            let close = rest.find("</text>").unwrap();
            let content = &rest[end + 1..close];
            let size = num(tag, "font-size");
            let anchor = attr(tag, "text-anchor").unwrap_or("start");
            let transform = attr(tag, "transform").unwrap_or("");
            let mut lines: Vec<(f64, f64, String)> = Vec::new();
            if content.contains("<tspan") {
                let mut y = num(tag, "y");
                for part in content.split("<tspan").skip(1) {
                    let (head, text) = part.split_once('>').unwrap();
                    let head = format!(" {head}");
                    y += num(&head, "dy");
                    let text = &text[..text.find("</tspan>").unwrap()];
                    lines.push((num(&head, "x"), y, unescape(text)));
                }
            } else {
                lines.push((num(tag, "x"), num(tag, "y"), unescape(content)));
            }
            for (x, y, text) in lines {
                let long = text.chars().count() as f64 * size * em;
                let (a0, a1) = match anchor {
                    "middle" => (-long / 2.0, long / 2.0),
                    "end" => (-long, 0.0),
                    _ => (0.0, long),
                };
                let (bx, by) = if transform.contains("rotate(-90") {
                    // Written upwards from its origin.
                    let (ox, oy) = match transform_args(transform, "translate") {
                        Some(t) => (t[0] + x, t[1] + y),
                        None => (x, y),
                    };
                    ((ox - size, ox + 0.3 * size), (oy - a1, oy - a0))
                } else {
                    assert!(transform.is_empty(), "{tag}");
                    ((x + a0, x + a1), (y - size, y + 0.3 * size))
                };
                boxes.push(TextBox {
                    text,
                    size,
                    x: (bx.0 + offset.0, bx.1 + offset.0),
                    y: (by.0 + offset.1, by.1 + offset.1),
                    clip,
                });
            }
            rest = &rest[close..];
            continue;
        }
        rest = &rest[end + 1..];
    }
    (w, h, boxes)
}

/// The smallest type a figure may show on the page, in px.
const SMALLEST_PX: f64 = 6.0;

/// How wide the page shows a figure in a window `viewport` px wide: main is at most 1120 px
/// with 32 px padding, a card 16 px padding and a 1 px border, an SVG at most 1000 px.
fn figure_px(viewport: f64) -> f64 {
    (viewport.min(1120.0) - 2.0 * 32.0 - 2.0 * 17.0).min(1000.0)
}

/// Every text of `svg` inside the figure and inside its clip, and (at each window width in
/// `viewports`, for a figure of the page) no smaller than SMALLEST_PX.
fn check_svg(svg: &str, what: &str, viewports: &[f64]) -> usize {
    let (w, h, boxes) = text_boxes(svg);
    assert!(w > 0.0 && h > 0.0, "{what}: no size");
    for b in &boxes {
        let inside = |r: [f64; 4]| {
            b.x.0 >= r[0] - 0.5 && b.x.1 <= r[2] + 0.5 && b.y.0 >= r[1] - 0.5 && b.y.1 <= r[3] + 0.5
        };
        assert!(
            inside([0.0, 0.0, w, h]),
            "{what}: text runs out of the {w}x{h} figure: {b:?}"
        );
        if let Some(clip) = b.clip {
            assert!(inside(clip), "{what}: text cut by its clip {clip:?}: {b:?}");
        }
        for &viewport in viewports {
            let px = b.size * figure_px(viewport) / w;
            assert!(
                px >= SMALLEST_PX,
                "{what}: at {viewport} px, '{}' is {px:.1} px high",
                b.text
            );
        }
    }
    boxes.len()
}

fn svgs(html: &str) -> Vec<&str> {
    html.match_indices("<svg ")
        .map(|(i, _)| &html[i..i + html[i..].find("</svg>").unwrap() + 6])
        .collect()
}

/// The checker itself: a text past the edge, cut by its clip, or too small is caught.
#[test]
fn the_figure_checker_finds_overflow() {
    let ok = r#"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50"><text x="10" y="20" font-size="10">short</text></svg>"#;
    assert_eq!(check_svg(ok, "ok", &[1280.0]), 1);
    for bad in [
        r#"<svg width="100" height="50"><text x="10" y="20" font-size="10">a text too long for it</text></svg>"#,
        r#"<svg width="100" height="50"><text x="95" y="20" font-size="10" text-anchor="middle">abc</text></svg>"#,
        r#"<svg width="100" height="50"><g transform="translate(0 40)"><text x="10" y="20" font-size="10">low</text></g></svg>"#,
        r#"<svg width="100" height="50"><text transform="translate(16 25) rotate(-90)" font-size="10" text-anchor="middle">a long upright</text></svg>"#,
        r#"<svg width="100" height="50"><clipPath id="c"><rect x="0" y="20" width="100" height="30"/></clipPath><g clip-path="url(#c)"><text x="10" y="25" font-size="10">cut</text></g></svg>"#,
        r#"<svg width="100" height="50"><text x="10" y="40" font-size="10"><tspan x="10" dy="0">a</tspan><tspan x="10" dy="14">b</tspan></text></svg>"#,
    ] {
        let caught = std::panic::catch_unwind(|| check_svg(bad, "bad", &[]));
        assert!(caught.is_err(), "not caught: {bad}");
    }
    let tiny =
        r#"<svg width="4000" height="50"><text x="10" y="20" font-size="9">tiny</text></svg>"#;
    assert!(std::panic::catch_unwind(|| check_svg(tiny, "tiny", &[800.0])).is_err());
}

/// Every figure the report and the tests draw, from realistic results (the paper's three
/// environments, a run with attribution, five thread counts, a run cut short before its first
/// sample) and with long labels: each text inside its figure at the widths the page shows
/// them in a 1280 px and an 800 px window, and inside its figure as a file of its own.
#[test]
fn every_figure_keeps_its_text_inside_at_1280_and_800_px() {
    use rust_bench::suite::test::TestResult;
    let t = tmp();
    let results = three_runs(t.path());
    let env = environment(Some("Microsoft Hv"), true, true);
    let plan_label = "all-to-all, three CPU-load VMs on the Xeon host, second of three runs ..";
    assert_eq!(plan_label.chars().count(), 72);

    let mut ct = fixture::clock_tick(&env, 57_000, 52_140_000);
    ct.attribution = Some(fixture::attribution());
    ct.loop_calibration = Some(fixture::loop_calibration(68_000, 57_000));
    let ts = fixture::thread_switch(
        &env,
        &[
            (2, [900.0, 1_000.0, 63_000.0]),
            (10, [920.0, 1_050.0, 70_000.0]),
            (100, [950.0, 1_100.0, 90_000.0]),
            (1000, [980.0, 1_200.0, 687_000.0]),
            (10000, [1_000.0, 1_300.0, 5_870_000.0]),
        ],
    );
    let id = "20261127-130000";
    let dir = results.join(id);
    let mut record = fixture::run_record(
        id,
        Status::Complete,
        Some(&env),
        &["clock-tick", "thread-switch"],
    );
    record.label = Some(rust_bench::results::run::Label::parse(plan_label).unwrap());
    record.scenario = Some(rust_bench::results::run::Scenario(5));
    write(&dir, "run.json", &serde_json::to_value(&record).unwrap());
    write(&dir, "clock-tick.json", &serde_json::to_value(&ct).unwrap());
    write(
        &dir,
        "thread-switch.json",
        &serde_json::to_value(&ts).unwrap(),
    );

    let mut cut = fixture::clock_tick(&env, 68_000, 70_000);
    cut.samples = 0;
    cut.complete = false;
    cut.histogram.buckets.clear();
    cut.timeline.max_ns = vec![None; 3];
    cut.timeline.min_ns = vec![None; 3];
    cut.loop_calibration = None;
    let cut_dir = results.join("20261127-140000");
    write(
        &cut_dir,
        "clock-tick.json",
        &serde_json::to_value(&cut).unwrap(),
    );

    let r = results.to_str().unwrap();
    let long = "Hyper-V enlightened (Generation 1, one virtual processor reserved at 100 %), PREEMPT_RT 6.12 with the enlightened fragment, all-to-all with three CPU-load VMs";
    let labelled: Vec<&str> = vec!["bare", "emu", "enl", long, "cut short"];
    let mut with_labels = vec!["report", r, "--format", "html", "--paper"];
    for l in &labelled {
        with_labels.extend(["--label", l]);
    }
    let mut checked = 0;
    for args in [
        vec!["report", r, "--format", "html"],
        with_labels,
        vec!["report", dir.to_str().unwrap(), "--format", "html"],
    ] {
        let html = stdout(&rust_bench(&args));
        let figures = svgs(&html);
        assert!(figures.len() >= 3, "{args:?}");
        for (i, svg) in figures.iter().enumerate() {
            checked += check_svg(svg, &format!("{args:?} figure {i}"), &[1280.0, 800.0]);
        }
    }
    // The same figures as files beside a result, and titled with a long label.
    let results: Vec<Box<dyn TestResult>> = vec![Box::new(ct), Box::new(ts), Box::new(cut)];
    for result in &results {
        result
            .extra_files(&mut |file, bytes| {
                if file.ends_with(".svg") {
                    checked += check_svg(std::str::from_utf8(bytes).unwrap(), file, &[]);
                }
                Ok(())
            })
            .unwrap();
        for f in result.figures(long) {
            checked += check_svg(&f.svg, &f.file, &[1280.0, 800.0]);
        }
    }
    assert!(checked > 500, "{checked} texts");
}

/// The page has a section for each test some run measured or asked for, and none for a
/// test no run asked for; its captions say what the figures show.
#[test]
fn the_page_shows_the_tests_the_runs_asked_for() {
    let t = tmp();
    let results = three_runs(t.path());
    let r = results.to_str().unwrap();
    let html = stdout(&rust_bench(&["report", r, "--format", "html", "--paper"]));
    assert!(
        html.contains("<h2>Clock tick processing duration</h2>"),
        "{html}"
    );
    assert!(html.contains("<h2>Thread switch latency</h2>"), "{html}");
    assert!(!html.contains("Kernel noise"), "a section no run asked for");
    assert!(!html.contains("Not measured."), "{html}");
    assert!(!html.contains("ten times"), "the axis marks 2 and 5 too");
    assert!(!html.contains("lost in the text"), "{html}");
    // A run whose plan listed osnoise, which did not run: the section says so.
    let env = environment(None, false, false);
    let id = "20261127-150000";
    let mut record = fixture::run_record(id, Status::Failed, Some(&env), &["osnoise"]);
    record.error = Some("osnoise cannot run on this machine".into());
    write(
        &results.join(id),
        "run.json",
        &serde_json::to_value(record).unwrap(),
    );
    let html = stdout(&rust_bench(&["report", r, "--format", "html"]));
    let at = html.find("<h2>Kernel noise (osnoise tracer)</h2>").unwrap();
    assert!(html[at..].contains("Not measured."), "{html}");
}
