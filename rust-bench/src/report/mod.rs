//! `rust-bench report`: the paper's tables and figures from result directories.
//!
//! Formats: `md` (the default, on a terminal or not: it reads well in both and pastes into
//! any issue or README), `csv` (long form, for spreadsheets and scripts), `html` (one
//! self-contained page with the tables and the figures).

pub mod grid;
pub mod histogram;
pub mod html;
pub mod label;
pub mod model;
pub mod paper;
pub mod table;

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args as ClapArgs, ValueEnum};

use crate::results::writer;
use crate::usage;

#[derive(Debug, ClapArgs)]
#[command(after_help = "\
Each RUN_DIR is a run directory (run.json, or a test's file such as clock-tick.json), or any \
other directory, which stands for every run directory beneath it at any depth (in path order: \
within results/, time order). A run named twice is reported once.
Columns are labelled from each run's environment (bare metal, Hyper-V emulated, Hyper-V \
enlightened, or another hypervisor) unless --label names them: one --label per run, or none.

Examples:
  rust-bench report results/
  rust-bench report bare/ emulated/ enlightened/ --format html --out report.html
  rust-bench report results/* --label bare --label emu --label enl --format csv
  rust-bench report results/ --histograms hist/ --histogram-width 1us --histogram-max 200us")]
pub struct Args {
    /// Result directories: results/<run-id>/, or a directory with runs beneath it.
    #[arg(value_name = "RUN_DIR", required = true)]
    pub dirs: Vec<PathBuf>,
    /// Column label for each run, in order (repeat the flag, once per run); without it, runs
    /// are named from their environment.
    #[arg(long = "label", value_name = "L")]
    pub labels: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Md)]
    pub format: Format,
    /// Write to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Add the paper's published values (Hyper-V Server 2012, Xeon E3-1220v2, Linux
    /// 3.8.4-rt2) as reference columns, and the targets others publish for a test, with
    /// their sources.
    #[arg(long)]
    pub paper: bool,
    /// Also write fixed-width histograms into DIR (created if needed), one file per run and
    /// test, LABEL.TEST-histogram.dat, in the layout of cyclictest -h.
    #[arg(long, value_name = "DIR")]
    pub histograms: Option<PathBuf>,
    /// Bucket width of those histograms, e.g. 1us (the default), 100ns, 10us.
    #[arg(long, value_name = "WIDTH", value_parser = nanos)]
    pub histogram_width: Option<u64>,
    /// Their range's end (exclusive; samples beyond count as overflows); default: just past
    /// the largest sample.
    #[arg(long, value_name = "MAX", value_parser = nanos)]
    pub histogram_max: Option<u64>,
}

fn nanos(s: &str) -> Result<u64, String> {
    let d = crate::options::duration::parse(s)?;
    match u64::try_from(d.as_nanos()) {
        Ok(ns) if ns > 0 => Ok(ns),
        _ => Err(format!(
            "{} is not a positive duration such as 1us or 100ns",
            crate::error::quote(s)
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, ValueEnum)]
pub enum Format {
    /// Markdown tables.
    Md,
    /// Long form: label,run,scenario,test,metric,value,unit.
    Csv,
    /// One self-contained HTML page with tables and SVG figures.
    Html,
}

pub fn main(args: Args) -> Result<()> {
    let found = model::expand(&args.dirs)?;
    for line in &found.duplicates {
        eprintln!("rust-bench: note: {line}");
    }
    let dirs = found.dirs;
    if !args.labels.is_empty() && args.labels.len() != dirs.len() {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        usage!(
            "{} label{} for {} run{} ({}); give one --label per run, in this order, or none",
            args.labels.len(),
            plural(args.labels.len()),
            dirs.len(),
            plural(dirs.len()),
            listed(&dirs)
        );
    }
    let runs = dirs
        .iter()
        .map(|d| model::load(d))
        .collect::<Result<Vec<_>>>()?;
    let labels = label::for_runs(&runs, &args.labels);
    if args.histograms.is_none() && (args.histogram_width.is_some() || args.histogram_max.is_some())
    {
        usage!(
            "--histogram-width and --histogram-max shape the files --histograms DIR writes; add --histograms DIR"
        );
    }
    if let Some(dir) = &args.histograms {
        write_histograms(dir, &runs, &labels, &args)?;
    }
    let text = match args.format {
        Format::Md => table::markdown(&runs, &labels, args.paper),
        Format::Csv => table::csv(&runs, &labels, args.paper),
        Format::Html => html::render_runs(&runs, &labels, args.paper),
    };
    match &args.out {
        Some(path) => writer::write_file(path, text.as_bytes())?,
        None => {
            let mut stdout = std::io::stdout().lock();
            if let Err(e) = stdout
                .write_all(text.as_bytes())
                .and_then(|_| stdout.flush())
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                return Err(e).context("cannot write to standard output");
            }
        }
    }
    Ok(())
}

/// The run directories for a message: the first few, then how many more.
fn listed(dirs: &[PathBuf]) -> String {
    const SHOWN: usize = 6;
    let mut names: Vec<String> = dirs
        .iter()
        .take(SHOWN)
        .map(|d| d.display().to_string())
        .collect();
    if dirs.len() > SHOWN {
        names.push(format!("and {} more", dirs.len() - SHOWN));
    }
    names.join(", ")
}

/// The fixed-width histograms: one file per run and test, named from the column's label.
fn write_histograms(
    dir: &std::path::Path,
    runs: &[model::Run],
    labels: &[String],
    args: &Args,
) -> Result<()> {
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for (run, label) in runs.iter().zip(labels) {
        for result in &run.results {
            let columns = result.distributions();
            if columns.is_empty() {
                // A test without a distribution of samples (osnoise) has no histogram.
                continue;
            }
            let fixed = match histogram::rebin(
                &columns,
                args.histogram_width.unwrap_or(1000),
                args.histogram_max,
            ) {
                Ok(f) => f,
                Err(e) => usage!("{} {}: {e}", label, result.name()),
            };
            let name = format!("{}.{}-histogram.dat", histogram::slug(label), result.name());
            let path = dir.join(&name);
            if files.iter().any(|(p, _)| *p == path) {
                usage!(
                    "two runs would write {}: give each run its own --label",
                    path.display()
                );
            }
            let title = format!("rust-bench {} histogram: {label}", result.name());
            let source = format!("{} (run {})", run.dir.display(), run.id);
            files.push((path, histogram::text(&title, &source, &columns, &fixed)));
        }
    }
    if std::fs::metadata(dir).is_ok_and(|m| !m.is_dir()) {
        usage!(
            "--histograms {} is not a directory; give a directory (created if needed)",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create {}; check the path", dir.display()))?;
    for (path, text) in &files {
        writer::write_file(path, text.as_bytes())?;
        eprintln!("rust-bench: wrote {}", path.display());
    }
    Ok(())
}
