//! One self-contained HTML page (inline CSS and SVG, no scripts, no external assets): the
//! tables, a comparison across runs, and each run's figures. The appliance writes one for its
//! own run as `report.html`, so a Windows user who attaches the disk double-clicks one file.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use super::label;
use super::model::{self, Run};
use super::table::{self, Cell, Table};
use crate::figures::{self, svg::escape};
use crate::suite::TESTS;

/// Text cells longer than this many characters are descriptions, and may wrap.
const WRAP_TEXT: usize = 32;

const CSS: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f5f6f8; color: #1d2228;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 32px 60px; }
header { margin-bottom: 20px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 2px solid #dde1e6; }
h3 { font-size: 16px; margin: 22px 0 8px; }
.sub { color: #5a6470; margin: 0; }
.card { background: #fff; border: 1px solid #dde1e6; border-radius: 8px; padding: 14px 16px;
  margin: 10px 0 18px; overflow-x: auto; }
table { border-collapse: collapse; min-width: 520px; font-variant-numeric: tabular-nums; }
.tablecard { display: inline-block; max-width: 100%; vertical-align: top; }
th, td { padding: 6px 12px; border-bottom: 1px solid #eceef1; vertical-align: top; }
thead th { text-align: right; font-weight: 600; color: #333; border-bottom: 2px solid #cfd5dc;
  min-width: 9em; }
thead th:first-child, tbody th { text-align: left; }
tbody th { font-weight: normal; color: #3a424b; white-space: nowrap; }
td { text-align: right; white-space: nowrap; }
td.text { text-align: left; white-space: normal; }
td.wrap { white-space: normal; min-width: 18em; }
tr.headline th, tr.headline td { font-weight: 650; color: #000; }
tr.headline th, tr.headline td { background: #f3f7fc; }
td.missing { color: #9aa3ad; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 13px; font-weight: 600; }
.complete { background: #e3f4ea; color: #16653a; }
.failed { background: #fde8e8; color: #9b1c1c; }
.interrupted, .partial { background: #fff4d6; color: #8a5a00; }
.notes { background: #fffaf0; border-color: #f1dfb4; }
.notes li { margin: 4px 0; }
figure { margin: 0 0 18px; }
figure svg { width: 100%; max-width: 1000px; height: auto; display: block; margin: 0 auto; }
figcaption { color: #5a6470; font-size: 13px; margin-top: 4px; }
footer { color: #7a848f; font-size: 13px; margin-top: 40px; }
code { font-family: ui-monospace, "Cascadia Mono", Consolas, monospace; font-size: 13px; }
"#;

/// The page for one run directory (the appliance's `report.html`). Failed and interrupted
/// runs get a page too: it says what happened and shows what was measured.
pub fn render_run(run_dir: &Path) -> Result<String> {
    let run = model::load(run_dir)?;
    let labels = label::for_runs(std::slice::from_ref(&run), &[]);
    let title = format!("hvrt run {} — {}", run.id, labels[0]);
    Ok(render(&title, std::slice::from_ref(&run), &labels, false))
}

/// The page comparing several runs, one column per run.
pub fn render_runs(runs: &[Run], labels: &[String], paper: bool) -> String {
    let title = if runs.len() == 1 {
        format!("hvrt run {} — {}", runs[0].id, labels[0])
    } else {
        format!("hvrt latency report — {} runs", runs.len())
    };
    render(&title, runs, labels, paper)
}

fn render(title: &str, runs: &[Run], labels: &[String], paper: bool) -> String {
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<header><h1>{}</h1><p class=\"sub\">Clock tick processing duration and thread switch latency, after Fayyad-Kazan, Perneel and Timmerman (2013). Status: {}</p></header>",
        escape(title),
        runs.iter()
            .zip(labels)
            .map(|(r, l)| {
                let status = status_of(r);
                if runs.len() == 1 {
                    badge(&status)
                } else {
                    format!("{} {}", escape(l), badge(&status))
                }
            })
            .collect::<Vec<_>>()
            .join(" · ")
    );

    let notes = table::notes(runs, labels);
    if !notes.is_empty() {
        body.push_str("<div class=\"card notes\"><ul>");
        for n in notes {
            let _ = write!(body, "<li>{}</li>", escape(&n));
        }
        body.push_str("</ul></div>\n");
    }

    let all_tables = table::test_tables(runs, labels);
    // A test has a section when some run has its result or asked for it (its plan lists
    // it); one that no run asked for is left out.
    for test in TESTS
        .iter()
        .filter(|t| runs.iter().any(|r| r.asked_for(t.name())))
    {
        let _ = writeln!(body, "<h2>{}</h2>", escape(test.title()));
        let tables: Vec<&table::Table> = all_tables
            .iter()
            .filter(|(name, _)| *name == test.name())
            .map(|(_, t)| t)
            .collect();
        if tables.is_empty() {
            body.push_str("<p class=\"sub\">Not measured.</p>\n");
            if paper {
                targets(&mut body, *test);
            }
            continue;
        }
        for t in tables {
            let mut t = t.clone();
            if t.title != test.title() {
                let _ = writeln!(body, "<h3>{}</h3>", escape(&t.title));
            }
            if paper {
                super::paper::extend(&mut t, Some(test.name()));
            }
            body.push_str(&html_table(&t));
        }
        let _ = writeln!(body, "<p class=\"sub\">{}</p>", escape(test.method()));
        if paper {
            targets(&mut body, *test);
        }
    }

    if runs.len() > 1 {
        body.push_str("<h2>Comparison</h2>\n");
        figure(
            &mut body,
            &figures::comparison(
                "Worst and best cases per environment",
                labels,
                &table::comparison_groups(runs),
            ),
            "Latency on a log scale; each bar carries its value.",
        );
    }

    let attributed = attributions(runs, labels);
    if !attributed.is_empty() {
        body.push_str("<h2>Where the clock tick spikes' time went</h2>\n");
        figure(
            &mut body,
            &crate::suite::attribution::figure_runs(&attributed),
            "From the kernel's trace of the measured CPU: guest IRQ handlers and vectors, softirqs, NMIs, other threads; unexplained is time no guest event covers (the hypervisor, firmware). One scale for all runs.",
        );
    }

    for (run, label) in runs.iter().zip(labels) {
        let _ = writeln!(
            body,
            "<h2>Figures: {} <span class=\"sub\">({})</span></h2>",
            escape(label),
            escape(&run.id)
        );
        for result in &run.results {
            for f in result.figures(label) {
                figure(&mut body, &f.svg, f.caption);
            }
        }
        if run.results.is_empty() {
            body.push_str("<p class=\"sub\">No test results in this run.</p>\n");
        }
    }

    body.push_str("<h2>Environments</h2>\n");
    let mut environments = table::environments(runs, labels);
    if paper {
        super::paper::extend(&mut environments, None);
    }
    body.push_str(&html_table(&environments));
    let dirs: Vec<String> = runs
        .iter()
        .map(|r| format!("<code>{}</code>", escape(&r.dir.display().to_string())))
        .collect();
    let _ = writeln!(
        body,
        "<footer>Made by rust-bench {} from {}.</footer>",
        env!("CARGO_PKG_VERSION"),
        dirs.join(", ")
    );

    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        escape(title)
    )
}

/// A test's published targets, as a list under its tables: not measurements.
fn targets(body: &mut String, test: &dyn crate::suite::test::Test) {
    if test.targets().is_empty() {
        return;
    }
    body.push_str("<p class=\"sub\">Published targets, not measurements:</p>\n<ul class=\"sub\">");
    for target in test.targets() {
        let _ = write!(body, "<li>{}</li>", escape(&target.text()));
    }
    body.push_str("</ul>\n");
}

/// The runs whose clock-tick result has an attribution (read again from the contract
/// type, one file at a time).
fn attributions(
    runs: &[Run],
    labels: &[String],
) -> Vec<(String, crate::results::attribution::Attribution, f64)> {
    use crate::results::clock_tick::{ClockTick, NAME};
    runs.iter()
        .zip(labels)
        .filter_map(|(run, label)| {
            let path = run.dir.join(format!("{NAME}.json"));
            let r: ClockTick = crate::results::read::result(&path, Some(NAME)).ok()??;
            Some((label.clone(), r.attribution?, r.measured_s))
        })
        .collect()
}

fn status_of(run: &Run) -> String {
    match run.status() {
        Some(s) => s.as_str().to_string(),
        None if run.is_partial() => "partial".to_string(),
        None => "complete".to_string(),
    }
}

fn badge(status: &str) -> String {
    let class = match status {
        "complete" | "failed" | "interrupted" | "partial" => status,
        _ => "partial",
    };
    format!("<span class=\"badge {class}\">{}</span>", escape(status))
}

fn figure(body: &mut String, svg: &str, caption: &str) {
    body.push_str("<figure class=\"card\">\n");
    body.push_str(svg);
    if !caption.is_empty() {
        let _ = writeln!(body, "<figcaption>{}</figcaption>", escape(caption));
    }
    body.push_str("</figure>\n");
}

pub fn html_table(table: &Table) -> String {
    let mut s = String::from("<div class=\"card tablecard\"><table>\n<thead><tr><th></th>");
    for c in &table.columns {
        let _ = write!(s, "<th>{}</th>", escape(c));
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for row in &table.rows {
        let class = if row.headline {
            " class=\"headline\""
        } else {
            ""
        };
        let _ = write!(s, "<tr{class}><th>{}</th>", escape(&row.name));
        for cell in &row.cells {
            let class = match cell {
                Cell::Ns(_) => "",
                Cell::Text(_) if table.text_left => " class=\"text\"",
                // A description (a spike's breakdown) wraps; a figure stays on one line.
                Cell::Text(t) if t.chars().count() > WRAP_TEXT => " class=\"wrap\"",
                Cell::Text(_) => "",
                Cell::Missing => " class=\"missing\"",
            };
            let _ = write!(s, "<td{class}>{}</td>", escape(&cell.text()));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table></div>\n");
    s
}
