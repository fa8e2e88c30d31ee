//! The paper's tables, one column per run (environment): built once, then written as
//! Markdown, long-form CSV, or HTML (see `html.rs`). Each test gives its own lines
//! ([`crate::suite::test::TestResult::lines`]); a table is the union of its runs' lines.

use std::collections::BTreeMap;
use std::fmt::Write as _;

pub use super::grid::{Cell, Row, Table};
use super::model::Run;
use crate::platform::rt_setup;
use crate::results::environment::{Environment, Firmware};
use crate::results::run::Status;
use crate::suite::TESTS;
use crate::suite::test::{Line, Test, report_lines};

/// The runs' environments: what each column measured.
pub fn environments(runs: &[Run], labels: &[String]) -> Table {
    let mut rows = Vec::new();
    let mut add = |name: &str, f: &dyn Fn(&Run) -> Option<String>| {
        let cells: Vec<Cell> = runs
            .iter()
            .map(|r| f(r).map(Cell::Text).unwrap_or(Cell::Missing))
            .collect();
        rows.push(Row {
            name: name.to_string(),
            headline: false,
            cells,
            metric: None,
        });
    };
    add("run", &|r| Some(r.id.clone()));
    let scenario = |r: &Run| r.record.as_ref()?.scenario;
    if runs.iter().any(|r| scenario(r).is_some()) {
        add("scenario", &|r| scenario(r).map(|s| s.to_string()));
    }
    add("status", &|r| {
        Some(match (r.status(), r.error()) {
            (Some(s), Some(e)) if s != Status::Complete => format!("{}: {e}", s.as_str()),
            (Some(s), _) => s.as_str().to_string(),
            (None, _) if r.is_partial() => "partial".to_string(),
            (None, _) => "complete".to_string(),
        })
    });
    add("kernel", &|r| {
        let k = &r.environment.as_ref()?.kernel;
        let release = k.release.clone()?;
        Some(match k.preempt_rt {
            true => format!("{release} (PREEMPT_RT)"),
            false => format!("{release} (not PREEMPT_RT)"),
        })
    });
    add("hypervisor (CPUID)", &|r| {
        let e = r.environment.as_ref()?;
        Some(match e.hypervisor.as_deref().map(str::trim) {
            Some(v) if !v.is_empty() => v.to_string(),
            _ => "none".to_string(),
        })
    });
    add("VMBus", &|r| {
        let v = r.environment.as_ref()?.vmbus;
        Some(if v { "yes" } else { "no" }.to_string())
    });
    add("firmware", &|r| {
        let e = r.environment.as_ref()?;
        let firmware = e.firmware?.as_str();
        Some(match e.secure_boot {
            Some(true) => format!("{firmware}, Secure Boot on"),
            Some(false) => format!("{firmware}, Secure Boot off"),
            None => firmware.to_string(),
        })
    });
    add("clocksource", &|r| {
        r.environment.as_ref()?.clocksource.clone()
    });
    add("CPU", &|r| r.environment.as_ref()?.cpu_model.clone());
    add("OS", &|r| r.environment.as_ref()?.os_release.clone());
    add("RT throttling", &|r| rt_throttling(r.environment.as_ref()?));
    Table {
        title: "Environments".to_string(),
        text_left: true,
        columns: labels.to_vec(),
        rows,
        scenario: None,
    }
}

/// RT throttling and the fair_server as they were during the run: never "off" while a
/// reservation for ordinary tasks remained (or may have: Linux 6.12 and later reserve
/// 50 ms/s by default, and a result that could not read it says so).
fn rt_throttling(env: &Environment) -> Option<String> {
    let t = &env.rt_throttling;
    let fair = fair_server_in_force(env);
    Some(match (t.sched_rt_runtime_us, t.sched_rt_period_us, fair) {
        (Some(-1), _, None) => "off (sched_rt_runtime_us = -1)".to_string(),
        (Some(-1), _, Some(f)) => format!("sched_rt_runtime_us = -1, but {f}"),
        (Some(r), Some(p), f) => with_fair(format!("{r} of {p} µs"), f),
        (Some(r), None, f) => with_fair(format!("sched_rt_runtime_us = {r}"), f),
        (None, _, f) => f?,
    })
}

fn with_fair(text: String, fair: Option<String>) -> String {
    match fair {
        Some(f) => format!("{text}; {f}"),
        None => text,
    }
}

/// What the fair_server reserved during the run ("fair_server 50 ms/s"), if anything.
fn fair_server_in_force(env: &Environment) -> Option<String> {
    let new_kernel = env
        .kernel
        .release
        .as_deref()
        .is_some_and(|r| rt_setup::kernel_at_least(r, 6, 12));
    let unknown = "fair_server not readable (50 ms/s by default)";
    let Some(cpus) = &env.rt_throttling.fair_server else {
        return new_kernel.then(|| unknown.to_string());
    };
    let mut values: Vec<String> = Vec::new();
    for server in cpus.values() {
        let value = match (server.runtime_ns, server.period_ns) {
            (Some(0), _) => continue,
            (Some(r), Some(p)) => format!("fair_server {}", rt_setup::per_period(r, p)),
            _ => unknown.to_string(),
        };
        if !values.contains(&value) {
            values.push(value);
        }
    }
    (!values.is_empty()).then(|| values.join(", "))
}

/// A test's table: the union of its runs' lines, in key order; None when no run has it.
pub fn for_test(test: &dyn Test, runs: &[Run], labels: &[String]) -> Option<Table> {
    let runs: Vec<&Run> = runs.iter().collect();
    for_test_of(test, &runs, labels)
}

/// A group of runs shown in tables of their own: one of the paper's scenarios, or (None)
/// the runs that name no scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub scenario: Option<u8>,
    /// Indices into the runs, in column order.
    pub runs: Vec<usize>,
}

/// How the tables are laid out. Without scenarios: one section of every run (one table per
/// test). With them (the paper's tables 1-16): one section per scenario, in number order,
/// its columns bare machine, emulated, enlightened, then anything else; a bare-metal run
/// that names no scenario is the bare machine column of every scenario. Runs that name no
/// scenario and are not bare metal follow in a section of their own.
pub fn sections(runs: &[Run]) -> Vec<Section> {
    let scenario = |r: &Run| r.record.as_ref().and_then(|rec| rec.scenario).map(|s| s.0);
    let all: Vec<usize> = (0..runs.len()).collect();
    let mut numbers: Vec<u8> = runs.iter().filter_map(scenario).collect();
    numbers.sort_unstable();
    numbers.dedup();
    if numbers.is_empty() {
        return vec![Section {
            scenario: None,
            runs: all,
        }];
    }
    // Then Generation 1 before Generation 2 of the same kind (BIOS before UEFI).
    let kind = |i: &usize| {
        let env = runs[*i].environment.as_ref();
        let uefi = env.and_then(|e| e.firmware) == Some(Firmware::Uefi);
        (kind_rank(&super::label::environment(env)), uefi)
    };
    let bare: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| scenario(&runs[i]).is_none() && kind(&i).0 == 0)
        .collect();
    let mut out: Vec<Section> = numbers
        .iter()
        .map(|&n| {
            let mut members: Vec<usize> = bare.clone();
            members.extend(
                all.iter()
                    .copied()
                    .filter(|&i| scenario(&runs[i]) == Some(n)),
            );
            members.sort_by_key(|i| (kind(i), *i));
            Section {
                scenario: Some(n),
                runs: members,
            }
        })
        .collect();
    let rest: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| scenario(&runs[i]).is_none() && !bare.contains(&i))
        .collect();
    if !rest.is_empty() {
        out.push(Section {
            scenario: None,
            runs: rest,
        });
    }
    out
}

/// The paper's column order: bare machine, emulated, enlightened, anything else.
fn kind_rank(environment: &str) -> u8 {
    if environment == "bare metal" {
        0
    } else if environment.contains("emulated") {
        1
    } else if environment.contains("enlightened") {
        2
    } else {
        3
    }
}

/// Every test's tables, section by section: (test name, table). A scenario's tables are
/// titled "... - scenario N"; with scenarios, the runs naming none are "... - other runs".
pub fn test_tables(runs: &[Run], labels: &[String]) -> Vec<(&'static str, Table)> {
    let sections = sections(runs);
    let scenarios = sections.iter().any(|s| s.scenario.is_some());
    let mut out = Vec::new();
    for test in TESTS {
        for section in &sections {
            let members: Vec<&Run> = section.runs.iter().map(|&i| &runs[i]).collect();
            let names: Vec<String> = section.runs.iter().map(|&i| labels[i].clone()).collect();
            if let Some(mut table) = for_test_of(*test, &members, &names) {
                table.scenario = section.scenario;
                match section.scenario {
                    Some(n) => table.title = format!("{} - scenario {n}", table.title),
                    None if scenarios => table.title = format!("{} - other runs", table.title),
                    None => {}
                }
                out.push((test.name(), table));
            }
        }
    }
    out
}

fn for_test_of(test: &dyn Test, runs: &[&Run], labels: &[String]) -> Option<Table> {
    let lines: Vec<Option<Vec<Line>>> = runs
        .iter()
        .map(|r| r.result(test.name()).map(report_lines))
        .collect();
    if lines.iter().all(Option::is_none) {
        return None;
    }
    let mut rows: BTreeMap<(u64, u32), (String, bool, Option<String>)> = BTreeMap::new();
    for line in lines.iter().flatten().flatten() {
        let row = rows
            .entry(line.key)
            .or_insert_with(|| (line.name.clone(), line.headline, None));
        if row.2.is_none() {
            row.2 = line.metric.as_ref().map(|m| m.name.clone());
        }
    }
    let rows = rows
        .into_iter()
        .map(|(key, (name, headline, metric))| Row {
            name,
            headline,
            metric,
            cells: lines
                .iter()
                .map(|l| {
                    l.iter()
                        .flatten()
                        .find(|line| line.key == key)
                        .map(|line| line.cell.clone())
                        .unwrap_or(Cell::Missing)
                })
                .collect(),
        })
        .collect();
    Some(Table {
        title: test.title().to_string(),
        text_left: false,
        columns: labels.to_vec(),
        rows,
        scenario: None,
    })
}

/// One value per run, None where a run did not measure it.
pub type Values = Vec<Option<f64>>;

/// A group of the comparison chart: its name and one value per run.
pub type Group = (String, Values);

/// The comparison across runs: one group per line a test marks for it (in test and key
/// order), one value per run.
pub fn comparison_groups(runs: &[Run]) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for test in TESTS {
        let mut keyed: BTreeMap<((u64, u32), String), Values> = BTreeMap::new();
        for (i, run) in runs.iter().enumerate() {
            let Some(result) = run.result(test.name()) else {
                continue;
            };
            for line in report_lines(result) {
                if let (Some(group), Some(metric)) = (line.compare, line.metric) {
                    keyed
                        .entry((line.key, group))
                        .or_insert_with(|| vec![None; runs.len()])[i] = Some(metric.value);
                }
            }
        }
        groups.extend(
            keyed
                .into_iter()
                .map(|((_, group), values)| (group, values)),
        );
    }
    groups
}

/// The long-form CSV's header.
pub const CSV_HEADER: &str = "label,run,scenario,test,metric,value,unit\n";

/// Long-form CSV: `label,run,scenario,test,metric,value,unit`, one line per run and
/// measured metric; `scenario` is the paper's scenario (1-7) the run's plan names, empty
/// if none. With `paper`, the paper's values follow as rows of the run `paper`, each value
/// and unit exactly as data/paper.tsv writes them.
pub fn csv(runs: &[Run], labels: &[String], paper: bool) -> String {
    let mut out = String::from(CSV_HEADER);
    for (run, label) in runs.iter().zip(labels) {
        let (label, id) = (csv_field(label), csv_field(&run.id));
        let scenario = run
            .record
            .as_ref()
            .and_then(|r| r.scenario)
            .map_or(String::new(), |s| s.0.to_string());
        for result in &run.results {
            let mut lines = report_lines(result.as_ref());
            lines.sort_by_key(|l| l.key);
            for m in lines.into_iter().filter_map(|l| l.metric) {
                let _ = writeln!(
                    out,
                    "{label},{id},{scenario},{},{},{},{}",
                    result.name(),
                    m.name,
                    number(m.value),
                    m.unit
                );
            }
        }
    }
    if paper {
        for (label, _, values) in super::paper::columns() {
            for v in values {
                let _ = writeln!(
                    out,
                    "{},paper,{},{},{},{},{}",
                    csv_field(&label),
                    csv_field(&v.scenario),
                    v.test,
                    v.metric_name(),
                    v.value,
                    v.unit
                );
            }
        }
    }
    out
}

/// A Markdown document: the environments and both tables, with notes on partial runs.
pub fn markdown(runs: &[Run], labels: &[String], paper: bool) -> String {
    let mut out = String::from("# Real-time latency report\n\n");
    let tables = std::iter::once((None, environments(runs, labels))).chain(
        test_tables(runs, labels)
            .into_iter()
            .map(|(test, table)| (Some(test), table)),
    );
    for (test, mut table) in tables {
        if paper {
            super::paper::extend(&mut table, test);
        }
        if table.rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "## {}\n", table.title);
        out.push_str(&markdown_table(&table));
        out.push('\n');
    }
    if paper {
        out.push_str(&markdown_targets(runs));
    }
    let notes = notes(runs, labels);
    if !notes.is_empty() {
        out.push_str("## Notes\n\n");
        for n in notes {
            let _ = writeln!(out, "- {n}");
        }
        out.push('\n');
    }
    out.push_str("Max overhead is the longest loop minus the shortest: the most time anything (an interrupt, the tick, the hypervisor) took from the measuring thread at once.\n");
    out
}

/// The published targets of the tests some run asked for, as a section of their own:
/// targets to compare with, not measurements.
fn markdown_targets(runs: &[Run]) -> String {
    let mut out = String::new();
    for test in TESTS
        .iter()
        .filter(|t| runs.iter().any(|r| r.asked_for(t.name())))
    {
        if test.targets().is_empty() {
            continue;
        }
        if out.is_empty() {
            out.push_str("## Published targets\n\nWhat others require, in the same terms: targets, not measurements.\n\n");
        }
        for target in test.targets() {
            let _ = writeln!(out, "- {}: {}", test.title(), md_escape(&target.text()));
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

pub fn markdown_table(table: &Table) -> String {
    let mut out = String::from("|");
    out.push_str(" |");
    for c in &table.columns {
        let _ = write!(out, " {} |", md_escape(c));
    }
    out.push_str("\n|---|");
    for _ in &table.columns {
        out.push_str("---:|");
    }
    out.push('\n');
    for row in &table.rows {
        let name = md_escape(&row.name);
        if row.headline {
            let _ = write!(out, "| **{name}** |");
        } else {
            let _ = write!(out, "| {name} |");
        }
        for cell in &row.cells {
            let text = md_escape(&cell.text());
            if row.headline && matches!(cell, Cell::Ns(_)) {
                let _ = write!(out, " **{text}** |");
            } else {
                let _ = write!(out, " {text} |");
            }
        }
        out.push('\n');
    }
    out
}

/// Things a reader must know before trusting a column.
pub fn notes(runs: &[Run], labels: &[String]) -> Vec<String> {
    let mut notes = Vec::new();
    for (run, label) in runs.iter().zip(labels) {
        if let Some(status) = run.status()
            && status != Status::Complete
        {
            let why = run.error().map(|e| format!(": {e}")).unwrap_or_default();
            notes.push(format!(
                "{label} ({}): run {}{why}; its numbers cover only what was measured before it stopped.",
                run.dir.display(),
                status.as_str()
            ));
        } else if run.is_partial() {
            notes.push(format!(
                "{label} ({}): partial results (a checkpoint); the run did not finish.",
                run.dir.display()
            ));
        }
        if let Some(env) = &run.environment
            && !env.kernel.preempt_rt
        {
            notes.push(format!("{label}: the kernel is not PREEMPT_RT."));
        }
        if let Some(v) = run
            .environment
            .as_ref()
            .and_then(|e| e.rt_throttling.sched_rt_runtime_us)
            && v >= 0
        {
            notes.push(format!(
                "{label}: RT throttling was on (sched_rt_runtime_us = {v}): it can stop a busy real-time thread for tens of milliseconds every second."
            ));
        }
        if let Some(fair) = run.environment.as_ref().and_then(fair_server_in_force) {
            notes.push(format!(
                "{label}: the reservation for ordinary tasks stayed during the run ({fair}): a busy ordinary task on the measured CPU can stop a real-time thread for that long every second."
            ));
        }
    }
    notes
}

/// Integers as integers, fractions as Rust prints them (shortest round trip).
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod rt_tests {
    use serde_json::Value;

    use super::*;

    fn env(release: &str, runtime: i64, fair: Value) -> Environment {
        let mut env = crate::results::fixture::environment(None, false, false);
        env.kernel.release = Some(release.to_string());
        env.rt_throttling = serde_json::from_value(serde_json::json!({
            "sched_rt_runtime_us": runtime, "sched_rt_period_us": 1000000, "fair_server": fair,
        }))
        .unwrap();
        env
    }

    /// The environment table never says "off" while the fair_server may reserve time.
    #[test]
    fn off_only_when_nothing_remains() {
        let zero = serde_json::json!({"cpu0": {"runtime_ns": 0, "period_ns": 1000000000}});
        let kept = serde_json::json!({"cpu0": {"runtime_ns": 50000000, "period_ns": 1000000000}});
        let unreadable = serde_json::json!({"cpu0": {"runtime_ns": null, "period_ns": null}});
        let cell = |e: Environment| rt_throttling(&e).unwrap();
        assert_eq!(
            cell(env("6.12.1", -1, zero)),
            "off (sched_rt_runtime_us = -1)"
        );
        assert_eq!(
            cell(env("6.6.1", -1, Value::Null)),
            "off (sched_rt_runtime_us = -1)"
        );
        assert_eq!(
            cell(env("6.12.1", -1, kept.clone())),
            "sched_rt_runtime_us = -1, but fair_server 50 ms/s"
        );
        assert_eq!(
            cell(env("6.12.1", 950000, kept)),
            "950000 of 1000000 µs; fair_server 50 ms/s"
        );
        for fair in [unreadable, Value::Null] {
            let text = cell(env("6.18.44", -1, fair));
            assert!(!text.starts_with("off"), "{text}");
            assert!(text.contains("fair_server not readable"), "{text}");
        }
    }
}

#[cfg(test)]
mod section_tests {
    use super::*;
    use crate::results::fixture;
    use crate::results::run::Scenario;

    fn run(id: &str, env: Environment, scenario: Option<u8>) -> Run {
        let mut record = fixture::run_record(id, Status::Complete, Some(&env), &[]);
        record.scenario = scenario.map(Scenario);
        Run {
            dir: std::path::PathBuf::from(id),
            id: id.to_string(),
            record: Some(record),
            results: Vec::new(),
            environment: Some(env),
        }
    }

    /// The paper's layout: per scenario, bare machine, emulated, enlightened, whatever the
    /// order the runs came in; a bare run without a scenario is in every scenario.
    #[test]
    fn scenarios_in_the_papers_column_order() {
        let hv = Some("Microsoft Hv");
        let runs = vec![
            run("enl3", fixture::environment(hv, true, true), Some(3)),
            run("emu3", fixture::environment(hv, false, false), Some(3)),
            run("bare", fixture::environment(None, false, false), None),
            run("enl1", fixture::environment(hv, true, true), Some(1)),
            run(
                "kvm",
                fixture::environment(Some("KVMKVMKVM"), false, false),
                None,
            ),
        ];
        let s = sections(&runs);
        let ids = |sec: &Section| -> Vec<&str> {
            sec.runs.iter().map(|&i| runs[i].id.as_str()).collect()
        };
        assert_eq!(s.len(), 3, "{s:?}");
        assert_eq!((s[0].scenario, ids(&s[0])), (Some(1), vec!["bare", "enl1"]));
        assert_eq!(
            (s[1].scenario, ids(&s[1])),
            (Some(3), vec!["bare", "emu3", "enl3"])
        );
        assert_eq!((s[2].scenario, ids(&s[2])), (None, vec!["kvm"]));
        // Without scenarios: one section of every run, in the given order.
        let plain: Vec<Run> = vec![
            run("a", fixture::environment(hv, true, true), None),
            run("b", fixture::environment(None, false, false), None),
        ];
        assert_eq!(
            sections(&plain),
            vec![Section {
                scenario: None,
                runs: vec![0, 1]
            }]
        );
    }

    /// With the references (`--paper`), a test's published targets follow the tables, with
    /// their sources, for the tests some run asked for; without, or for other tests, none.
    #[test]
    fn published_targets_only_with_the_references() {
        let env = fixture::environment(None, false, false);
        let mut asked = run("a", env.clone(), None);
        let with_targets = crate::suite::TESTS
            .iter()
            .find(|t| !t.targets().is_empty())
            .expect("a test publishes targets");
        asked.record = Some(fixture::run_record(
            "a",
            Status::Complete,
            Some(&env),
            &[with_targets.name()],
        ));
        let labels = vec!["a".to_string()];
        let md = markdown(std::slice::from_ref(&asked), &labels, true);
        assert!(md.contains("## Published targets"), "{md}");
        for target in with_targets.targets() {
            assert!(md.contains(target.source), "{md}");
            assert!(md.contains(target.target), "{md}");
        }
        assert!(!markdown(std::slice::from_ref(&asked), &labels, false).contains("Published"));
        let other = run("b", env, None);
        assert!(!markdown(&[other], &labels, true).contains("Published"));
        let html = crate::report::html::render_runs(&[asked], &labels, true);
        assert!(
            html.contains("Published targets, not measurements"),
            "{html}"
        );
    }

    /// Generation 1 and Generation 2 of the enlightened image in one scenario: side by side,
    /// Generation 1 first, each column saying which it is.
    #[test]
    fn generations_side_by_side() {
        let hv = Some("Microsoft Hv");
        let with = |firmware, secure_boot| {
            let mut e = fixture::environment(hv, true, true);
            e.firmware = Some(firmware);
            e.secure_boot = secure_boot;
            e
        };
        let runs = vec![
            run("gen2", with(Firmware::Uefi, Some(false)), Some(1)),
            run("gen1", with(Firmware::Bios, None), Some(1)),
        ];
        let s = sections(&runs);
        assert_eq!(s[0].runs, vec![1, 0]);
        let labels = crate::report::label::for_runs(&runs, &[]);
        assert_eq!(
            labels,
            vec![
                "Hyper-V enlightened, Generation 2",
                "Hyper-V enlightened, Generation 1"
            ]
        );
        let table = environments(&runs, &labels);
        let row = table.rows.iter().find(|r| r.name == "firmware").unwrap();
        assert_eq!(
            row.cells,
            vec![
                Cell::Text("UEFI, Secure Boot off".into()),
                Cell::Text("BIOS".into())
            ]
        );
    }
}
