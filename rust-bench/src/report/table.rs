//! The paper's tables, one column per run (environment): built once, then written as
//! Markdown, long-form CSV, or HTML (see `html.rs`).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::Value;

use super::model::Run;
use super::svg::{format_ns, group_thousands};

/// One cell of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A duration in nanoseconds, printed as ns, µs or ms.
    Ns(f64),
    Text(String),
    /// Not measured in this run.
    Missing,
}

impl Cell {
    pub fn text(&self) -> String {
        match self {
            Cell::Ns(v) => format_ns(*v),
            Cell::Text(t) => t.clone(),
            Cell::Missing => "–".to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    /// The headline rows (what the paper's tables report) are shown in bold.
    pub headline: bool,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub title: String,
    /// Text cells read left-aligned (descriptions) rather than as figures.
    pub text_left: bool,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

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
        });
    };
    add("run", &|r| Some(r.id.clone()));
    add("status", &|r| {
        Some(match (&r.status, &r.error) {
            (Some(s), Some(e)) if s != "complete" => format!("{s}: {e}"),
            (Some(s), _) => s.clone(),
            (None, _) if r.is_partial() => "partial".to_string(),
            (None, _) => "complete".to_string(),
        })
    });
    add("kernel", &|r| {
        let k = r.environment.as_ref()?.kernel.as_ref()?;
        let release = k.release.clone()?;
        Some(match k.preempt_rt {
            Some(true) => format!("{release} (PREEMPT_RT)"),
            Some(false) => format!("{release} (not PREEMPT_RT)"),
            None => release,
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
        let v = r.environment.as_ref()?.vmbus?;
        Some(if v { "yes" } else { "no" }.to_string())
    });
    add("clocksource", &|r| {
        r.environment.as_ref()?.clocksource.clone()
    });
    add("CPU", &|r| r.environment.as_ref()?.cpu_model.clone());
    add("RT throttling", &|r| {
        rt_throttling(r.environment_json.as_ref()?)
    });
    Table {
        title: "Environments".to_string(),
        text_left: true,
        columns: labels.to_vec(),
        rows,
    }
}

/// RT throttling and the fair_server as they were during the run: never "off" while a
/// reservation for ordinary tasks remained (or may have: Linux 6.12 and later reserve
/// 50 ms/s by default, and a result that could not read it says so).
fn rt_throttling(env: &Value) -> Option<String> {
    let t = env.get("rt_throttling")?;
    let runtime = t.get("sched_rt_runtime_us")?;
    let period = t.get("sched_rt_period_us").and_then(Value::as_i64);
    let fair = fair_server_in_force(env);
    Some(match (runtime.as_i64(), period, fair) {
        (Some(-1), _, None) => "off (sched_rt_runtime_us = -1)".to_string(),
        (Some(-1), _, Some(f)) => format!("sched_rt_runtime_us = -1, but {f}"),
        (Some(r), Some(p), f) => with_fair(format!("{r} of {p} µs"), f),
        (Some(r), None, f) => with_fair(format!("sched_rt_runtime_us = {r}"), f),
        (None, _, f) => with_fair(runtime.to_string(), f),
    })
}

fn with_fair(text: String, fair: Option<String>) -> String {
    match fair {
        Some(f) => format!("{text}; {f}"),
        None => text,
    }
}

/// What the fair_server reserved during the run ("fair_server 50 ms/s"), if anything.
fn fair_server_in_force(env: &Value) -> Option<String> {
    let new_kernel = env
        .get("kernel")
        .and_then(|k| k.get("release"))
        .and_then(Value::as_str)
        .is_some_and(|r| crate::rt_setup::kernel_at_least(r, 6, 12));
    let unknown = "fair_server not readable (50 ms/s by default)";
    let Some(Value::Object(cpus)) = env.get("rt_throttling").and_then(|t| t.get("fair_server"))
    else {
        return new_kernel.then(|| unknown.to_string());
    };
    let mut values: Vec<String> = Vec::new();
    for server in cpus.values() {
        let runtime = server.get("runtime_ns").and_then(Value::as_u64);
        let period = server.get("period_ns").and_then(Value::as_u64);
        let value = match (runtime, period) {
            (Some(0), _) => continue,
            (Some(r), Some(p)) => format!("fair_server {}", crate::rt_setup::per_period(r, p)),
            _ => unknown.to_string(),
        };
        if !values.contains(&value) {
            values.push(value);
        }
    }
    (!values.is_empty()).then(|| values.join(", "))
}

/// Test 1: clock tick processing duration. The headline is the paper's: max overhead.
pub fn clock_tick(runs: &[Run], labels: &[String]) -> Table {
    let col = |f: &dyn Fn(&super::model::ClockTick) -> Cell| -> Vec<Cell> {
        runs.iter()
            .map(|r| r.clock_tick.as_ref().map(f).unwrap_or(Cell::Missing))
            .collect()
    };
    let rows = vec![
        Row {
            name: "max overhead (max − min loop)".to_string(),
            headline: true,
            cells: col(&|c| Cell::Ns(c.max_overhead_ns)),
        },
        Row {
            name: "loop duration, min".to_string(),
            headline: false,
            cells: col(&|c| Cell::Ns(c.loop_ns.min)),
        },
        Row {
            name: "loop duration, max".to_string(),
            headline: false,
            cells: col(&|c| Cell::Ns(c.loop_ns.max)),
        },
        Row {
            name: "spikes".to_string(),
            headline: false,
            cells: col(&|c| match &c.spikes {
                Some(s) => match (s.count, s.threshold_ns) {
                    (Some(n), Some(t)) => Cell::Text(format!("{n} (≥ {})", format_ns(t))),
                    (Some(n), None) => Cell::Text(n.to_string()),
                    _ => Cell::Missing,
                },
                None => Cell::Missing,
            }),
        },
        Row {
            name: "samples".to_string(),
            headline: false,
            cells: col(&|c| {
                let mut t = group_thousands(c.samples);
                if let Some(d) = c.duration_s {
                    let _ = write!(t, " in {d:.0} s");
                }
                if !c.complete {
                    t.push_str(" (partial)");
                }
                Cell::Text(t)
            }),
        },
        Row {
            name: "clock".to_string(),
            headline: false,
            cells: col(&|c| match &c.clock {
                Some(clock) => Cell::Text(clock_text(clock)),
                None => Cell::Missing,
            }),
        },
    ];
    Table {
        title: "Clock tick processing duration".to_string(),
        text_left: false,
        columns: labels.to_vec(),
        rows,
    }
}

/// Thread counts measured by any run, ascending.
pub fn thread_counts(runs: &[Run]) -> Vec<u64> {
    let set: BTreeSet<u64> = runs
        .iter()
        .filter_map(|r| r.thread_switch.as_ref())
        .flat_map(|t| t.runs.iter().map(|r| r.threads))
        .collect();
    set.into_iter().collect()
}

/// The switch statistics of `run` for `threads` threads, if it measured them.
pub fn switch_stat(run: &Run, threads: u64, stat: Stat) -> Option<f64> {
    let t = run.thread_switch.as_ref()?;
    let r = t.runs.iter().find(|r| r.threads == threads)?;
    match stat {
        Stat::Min => r.switch_ns.min,
        Stat::Mean => r.switch_ns.mean,
        Stat::Max => r.switch_ns.max,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    Min,
    Mean,
    Max,
}

impl Stat {
    pub const ALL: [Stat; 3] = [Stat::Min, Stat::Mean, Stat::Max];

    pub fn name(self) -> &'static str {
        match self {
            Stat::Min => "min",
            Stat::Mean => "mean",
            Stat::Max => "max",
        }
    }
}

/// Test 2: thread switch latency, min / mean / max for each thread count.
pub fn thread_switch(runs: &[Run], labels: &[String]) -> Table {
    let mut rows = Vec::new();
    for n in thread_counts(runs) {
        for stat in Stat::ALL {
            rows.push(Row {
                name: format!("{n} threads, {}", stat.name()),
                headline: stat != Stat::Mean,
                cells: runs
                    .iter()
                    .map(|r| {
                        switch_stat(r, n, stat)
                            .map(Cell::Ns)
                            .unwrap_or(Cell::Missing)
                    })
                    .collect(),
            });
        }
    }
    Table {
        title: "Thread switch latency".to_string(),
        text_left: false,
        columns: labels.to_vec(),
        rows,
    }
}

/// Long-form CSV: `label,metric,value_ns`, one line per run and measured metric.
pub fn csv(runs: &[Run], labels: &[String]) -> String {
    let mut out = String::from("label,metric,value_ns\n");
    let counts = thread_counts(runs);
    for (run, label) in runs.iter().zip(labels) {
        let label = csv_field(label);
        if let Some(c) = &run.clock_tick {
            let _ = writeln!(
                out,
                "{label},clock_tick_max_overhead,{}",
                number(c.max_overhead_ns)
            );
        }
        for &n in &counts {
            for stat in Stat::ALL {
                if let Some(v) = switch_stat(run, n, stat) {
                    let _ = writeln!(
                        out,
                        "{label},thread_switch_{}@{n},{}",
                        stat.name(),
                        number(v)
                    );
                }
            }
        }
    }
    out
}

/// A Markdown document: the environments and both tables, with notes on partial runs.
pub fn markdown(runs: &[Run], labels: &[String]) -> String {
    let mut out = String::from("# Real-time latency report\n\n");
    let measured_clock_tick = runs.iter().any(|r| r.clock_tick.is_some());
    for table in [
        environments(runs, labels),
        clock_tick(runs, labels),
        thread_switch(runs, labels),
    ] {
        if table.rows.is_empty() || (table.title.starts_with("Clock") && !measured_clock_tick) {
            continue;
        }
        let _ = writeln!(out, "## {}\n", table.title);
        out.push_str(&markdown_table(&table));
        out.push('\n');
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
        if let Some(status) = &run.status
            && status != "complete"
        {
            let why = run
                .error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            notes.push(format!(
                "{label} ({}): run {status}{why}; its numbers cover only what was measured before it stopped.",
                run.dir.display()
            ));
        } else if run.is_partial() {
            notes.push(format!(
                "{label} ({}): partial results (a checkpoint); the run did not finish.",
                run.dir.display()
            ));
        }
        if let Some(env) = &run.environment
            && let Some(k) = &env.kernel
            && k.preempt_rt == Some(false)
        {
            notes.push(format!("{label}: the kernel is not PREEMPT_RT."));
        }
        if let Some(v) = run
            .environment_json
            .as_ref()
            .and_then(|e| e.get("rt_throttling"))
            .and_then(|t| t.get("sched_rt_runtime_us"))
            .and_then(Value::as_i64)
            && v >= 0
        {
            notes.push(format!(
                "{label}: RT throttling was on (sched_rt_runtime_us = {v}): it can stop a busy real-time thread for tens of milliseconds every second."
            ));
        }
        if let Some(fair) = run.environment_json.as_ref().and_then(fair_server_in_force) {
            notes.push(format!(
                "{label}: the reservation for ordinary tasks stayed during the run ({fair}): a busy ordinary task on the measured CPU can stop a real-time thread for that long every second."
            ));
        }
    }
    notes
}

fn clock_text(clock: &super::model::Clock) -> String {
    let source = clock.source.clone().unwrap_or_else(|| "?".to_string());
    // A frequency says something only for the TSC (clock_gettime counts nanoseconds).
    match clock.hz {
        Some(hz) if hz >= 1e6 && source == "tsc" => format!("{source}, {:.3} GHz", hz / 1e9),
        _ => source,
    }
}

/// Integers as integers, fractions as Rust prints them (shortest round trip).
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

fn csv_field(s: &str) -> String {
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
    use super::*;

    fn env(release: &str, runtime: i64, fair: Value) -> Value {
        serde_json::json!({
            "kernel": {"release": release},
            "rt_throttling": {"sched_rt_runtime_us": runtime, "sched_rt_period_us": 1000000,
                              "fair_server": fair},
        })
    }

    /// The environment table never says "off" while the fair_server may reserve time.
    #[test]
    fn off_only_when_nothing_remains() {
        let zero = serde_json::json!({"cpu0": {"runtime_ns": 0, "period_ns": 1000000000}});
        let kept = serde_json::json!({"cpu0": {"runtime_ns": 50000000, "period_ns": 1000000000}});
        let unreadable = serde_json::json!({"cpu0": {"runtime_ns": null, "period_ns": null}});
        let cell = |e: Value| rt_throttling(&e).unwrap();
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
