//! `rust-bench report`: the paper's tables and figures from result directories.
//!
//! Formats: `md` (the default, on a terminal or not: it reads well in both and pastes into
//! any issue or README), `csv` (long form, for spreadsheets and scripts), `html` (one
//! self-contained page with the tables and the figures).

pub mod attribution;
pub mod html;
pub mod label;
pub mod model;
pub mod table;

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args as ClapArgs, ValueEnum};

use crate::usage;

#[derive(Debug, ClapArgs)]
#[command(after_help = "\
Each RUN_DIR is a results/<run-id>/ directory (run.json, clock-tick.json, thread-switch.json) or \
a directory holding such directories, e.g. results/ (expanded in name order, i.e. time order).
Columns are labelled from each run's environment (bare metal, Hyper-V emulated, Hyper-V \
enlightened, or another hypervisor) unless --label names them.

Examples:
  rust-bench report results/
  rust-bench report bare/ emulated/ enlightened/ --format html --out report.html
  rust-bench report results/* --label bare --label emu --label enl --format csv")]
pub struct Args {
    /// Result directories: results/<run-id>/ or a directory of them.
    #[arg(value_name = "RUN_DIR", required = true)]
    pub dirs: Vec<PathBuf>,
    /// Column label for each run, in order (repeat the flag); unlabelled runs are named from
    /// their environment.
    #[arg(long = "label", value_name = "L")]
    pub labels: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Md)]
    pub format: Format,
    /// Write to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, ValueEnum)]
pub enum Format {
    /// Markdown tables.
    Md,
    /// Long form: label,metric,value_ns.
    Csv,
    /// One self-contained HTML page with tables and SVG figures.
    Html,
}

pub fn main(args: Args) -> Result<()> {
    let dirs = model::expand(&args.dirs)?;
    if args.labels.len() > dirs.len() {
        usage!(
            "{} labels for {} runs; give one --label per run directory, in order",
            args.labels.len(),
            dirs.len()
        );
    }
    let runs = dirs
        .iter()
        .map(|d| model::load(d))
        .collect::<Result<Vec<_>>>()?;
    let labels = label::for_runs(&runs, &args.labels);
    let text = match args.format {
        Format::Md => table::markdown(&runs, &labels),
        Format::Csv => table::csv(&runs, &labels),
        Format::Html => html::render_runs(&runs, &labels),
    };
    match &args.out {
        Some(path) => write_file(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
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

/// Write the whole file or leave the old one: a temporary file renamed into place.
fn write_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
