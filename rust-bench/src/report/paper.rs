//! `report --paper`: the values Fayyad-Kazan, Perneel and Timmerman published (2013), from
//! `data/paper.tsv` (built in), as reference columns beside the runs. Each column is one
//! machine, scenario and table of the paper; a value stands in the row of the same metric
//! (`max_overhead`, `max@2`), and a value the runs have no row for gets its own row.

use super::grid::{Cell, Row, Table};

/// The data file, as the repository holds it (docs/report.md, "The paper's values").
pub const DATA: &str = include_str!("../../data/paper.tsv");

/// The paper's machine and kernel, for every column's name (data/paper.tsv's header).
pub const CPU: &str = "Intel Xeon E3-1220v2 (4 cores at 3.1 GHz, no Hyper-Threading, 8 MB L3)";
pub const KERNEL: &str = "3.8.4-rt2 (PREEMPT_RT, HZ=1000)";
pub const HYPERVISOR: &str = "Hyper-V Server 2012";

/// One row of the data file; every field as the file writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub table: String,
    pub test: String,
    pub scenario: String,
    pub machine: String,
    pub metric: String,
    pub threads: String,
    pub value: String,
    pub unit: String,
}

impl Value {
    /// The report's metric name for it: `max_overhead`, `min@2`.
    pub fn metric_name(&self) -> String {
        match self.threads.as_str() {
            "-" => self.metric.clone(),
            n => format!("{}@{n}", self.metric),
        }
    }

    /// The cell text: the value exactly as the file writes it, with its unit.
    pub fn text(&self) -> String {
        let unit = if self.unit == "us" { "µs" } else { &self.unit };
        format!("{} {unit}", self.value)
    }

    /// A row name for a value the runs have no row for.
    fn row_name(&self) -> String {
        let what = match self.metric.as_str() {
            "loop_no_tick" => "busy loop without a tick",
            "loop_with_tick" => "busy loop with a tick",
            "tick_duration" => "one tick's handling",
            other => other,
        };
        match self.threads.as_str() {
            "-" => format!("{what} (paper)"),
            n => format!("{n} threads, {what} (paper)"),
        }
    }
}

/// The values of the data file, in its order.
pub fn values() -> Vec<Value> {
    parse(DATA).expect("data/paper.tsv is checked by the tests")
}

/// Parse the data file: `#` comments, one header line, then tab-separated rows of 8 fields.
pub fn parse(text: &str) -> Result<Vec<Value>, String> {
    let mut rows = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty());
    match rows.next() {
        Some((_, "table\ttest\tscenario\tmachine\tmetric\tthreads\tvalue\tunit")) => {}
        other => return Err(format!("no header line; found {other:?}")),
    }
    rows.map(|(i, line)| {
        let f: Vec<&str> = line.split('\t').collect();
        let [table, test, scenario, machine, metric, threads, value, unit] = f[..] else {
            return Err(format!("line {}: {} fields, not 8", i + 1, f.len()));
        };
        Ok(Value {
            table: table.into(),
            test: test.into(),
            scenario: scenario.into(),
            machine: machine.into(),
            metric: metric.into(),
            threads: threads.into(),
            value: value.into(),
            unit: unit.into(),
        })
    })
    .collect()
}

/// The reference columns: (name, machine, its values), in the file's order.
pub fn columns() -> Vec<(String, String, Vec<Value>)> {
    let mut out: Vec<(String, String, Vec<Value>)> = Vec::new();
    for v in values() {
        let name = column_name(&v);
        match out.iter_mut().find(|c| c.0 == name) {
            Some(c) => c.2.push(v),
            None => out.push((name, v.machine.clone(), vec![v])),
        }
    }
    out
}

/// A reference column's heading: the paper, the machine (and scenario), the table when the
/// data file knows its number, the hardware and kernel.
fn column_name(v: &Value) -> String {
    let table = match v.table.as_str() {
        "-" => String::new(),
        t => format!("table {t}; "),
    };
    match v.machine.as_str() {
        "bare" => format!("paper 2013: bare machine ({table}Xeon E3-1220v2, Linux 3.8.4-rt2)"),
        m => format!(
            "paper 2013: Hyper-V {m}, scenario {} ({table}{HYPERVISOR}, Xeon E3-1220v2, Linux 3.8.4-rt2)",
            v.scenario
        ),
    }
}

/// Add the reference columns to a test's table (`test`: its name), or to the environments
/// table (None). A scenario's table gets the bare machine's columns and that scenario's.
pub fn extend(table: &mut Table, test: Option<&str>) {
    let scenario = table.scenario;
    for (name, machine, values) in columns() {
        if let Some(n) = scenario
            && machine != "bare"
            && values.first().map(|v| v.scenario.as_str()) != Some(n.to_string().as_str())
        {
            continue;
        }
        let Some(test) = test else {
            table.columns.push(name);
            for row in &mut table.rows {
                row.cells.push(environment_cell(&row.name, &machine));
            }
            continue;
        };
        let values: Vec<&Value> = values.iter().filter(|v| v.test == test).collect();
        // No column of dashes for a test this machine's table of the paper did not measure.
        if values.is_empty() {
            continue;
        }
        table.columns.push(name);
        let width = table.columns.len();
        for row in &mut table.rows {
            let v = values
                .iter()
                .find(|v| row.metric.as_deref() == Some(v.metric_name().as_str()));
            row.cells
                .push(v.map(|v| Cell::Text(v.text())).unwrap_or(Cell::Missing));
        }
        for v in values {
            if table
                .rows
                .iter()
                .any(|r| r.metric.as_deref() == Some(v.metric_name().as_str()))
            {
                continue;
            }
            let mut cells = vec![Cell::Missing; width - 1];
            cells.push(Cell::Text(v.text()));
            table.rows.push(Row {
                name: v.row_name(),
                headline: false,
                cells,
                metric: Some(v.metric_name()),
            });
        }
        // Rows added for an earlier column have no cell in this one yet.
        for row in &mut table.rows {
            row.cells.resize(width, Cell::Missing);
        }
    }
}

fn environment_cell(row: &str, machine: &str) -> Cell {
    let text = match row {
        "run" => "published values (data/paper.tsv)",
        "kernel" => KERNEL,
        "hypervisor (CPUID)" if machine == "bare" => "none",
        "hypervisor (CPUID)" => HYPERVISOR,
        "CPU" => CPU,
        _ => return Cell::Missing,
    };
    Cell::Text(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_parses() {
        let v = values();
        assert!(v.len() >= 7, "{v:?}");
        let max = v.iter().find(|v| v.metric_name() == "max@1000").unwrap();
        assert_eq!(
            (max.value.as_str(), max.text()),
            ("11.45", "11.45 µs".to_string())
        );
        assert!(parse("table\tx\n").is_err());
        assert!(
            parse("table\ttest\tscenario\tmachine\tmetric\tthreads\tvalue\tunit\n-\tx\n").is_err()
        );
    }

    /// A test the paper measured gets its reference columns; one it did not gets none (a
    /// column of dashes says nothing).
    #[test]
    fn reference_columns_only_where_the_paper_has_values() {
        let table = |test: &str| {
            let mut t = Table {
                title: test.to_string(),
                text_left: false,
                columns: vec!["run".into()],
                rows: vec![Row {
                    name: "max".into(),
                    headline: true,
                    cells: vec![Cell::Missing],
                    metric: Some("max".into()),
                }],
                scenario: None,
            };
            extend(&mut t, Some(test));
            t.columns.len()
        };
        let measured = &values()[0].test;
        assert!(table(measured) > 1);
        assert_eq!(table("not-in-the-paper"), 1);
    }
}
