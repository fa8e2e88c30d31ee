//! What a test is: its options (a subcommand, whose options a plan sets in its section of
//! bench.conf), its measurement, its result (a file of the results contract), its summary,
//! its files, and what the report shows of it. The command line, `rust-bench run` and
//! `rust-bench report` only go through these traits, over the list of tests in
//! `suite/mod.rs`.

use std::cell;
use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::error::{Interrupted, ThresholdCrossed, UsageError};
use crate::figures::svg::{format_ns, group_thousands};
use crate::options::duration;
use crate::results::environment::Environment;
use crate::results::rt_setup::RtSetupRecord;
use crate::results::stats::HistogramJson;
use crate::results::threshold::FailAbove;
use crate::results::writer::{self, Target};

/// How often a test checkpoints (writes its JSON so far, for a run cut short).
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(10);

/// Checkpoints may take at most 1/CHECKPOINT_SHARE of the time (0.2 %): after one whose
/// writing took longer than CHECKPOINT_EVERY / CHECKPOINT_SHARE (20 ms; a long clock-tick
/// run's timeline is megabytes of JSON), the next ones are skipped accordingly.
pub const CHECKPOINT_SHARE: u32 = 500;

/// One test of the suite.
pub trait Test: Sync {
    /// The name: the subcommand, `test` in its result file, the file's stem, the key in
    /// run.json's `tests` and in the plan's `tests`.
    fn name(&self) -> &'static str;

    /// Its result file in a run directory.
    fn file(&self) -> String {
        format!("{}.json", self.name())
    }

    /// Every file its result may write into a directory, the JSON first: what
    /// `--out DIR --force` replaces as a whole (no other file there is touched).
    fn files(&self) -> &'static [&'static str];

    /// The heading of its table in a report.
    fn title(&self) -> &'static str;

    /// One or two sentences under its table: how it measures, what the headline means.
    fn method(&self) -> &'static str;

    /// The subcommand, with all its options: the one definition of each (its type, range
    /// and default), for the command line and for a plan.
    fn command(&self) -> clap::Command;

    /// The options a plan sets in the test's section of bench.conf: a command holding only
    /// those of [`Test::command`]'s arguments. `clock_tick.loop_us = 68` in a plan is
    /// `rust-bench clock-tick --loop-us=68` ([`plan_key`]).
    fn section(&self) -> clap::Command;

    /// Where a plan's default differs from the command line's: `(option, value)` pairs,
    /// given to [`Test::command`]'s parser when the plan sets neither the option nor one
    /// that excludes it. docs/config.md says why, and `--help` shows each beside the flag.
    fn plan_defaults(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// Whether a plan that does not list its tests (`tests =`) runs this one.
    fn in_default_plan(&self) -> bool {
        true
    }

    /// The test as a plan runs it, from [`Test::command`]'s matches of the options the plan
    /// gives it.
    fn planned(&self, matches: &clap::ArgMatches) -> Result<Box<dyn Planned>>;

    /// `rust-bench <name> ...`: measure as the options say, write the result where they
    /// say, print the summary.
    fn main(&self, args: &clap::ArgMatches) -> Result<()>;

    /// Read its result file (the contract type); None when the file does not exist.
    fn read(&self, path: &Path) -> Result<Option<Box<dyn TestResult>>>;

    /// Targets others publish in this test's terms, shown where a report shows references
    /// (`report --paper`): targets to compare with, never measurements.
    fn targets(&self) -> &'static [PublishedTarget] {
        &[]
    }
}

/// A target someone published for what a test measures, with where it comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublishedTarget {
    /// The target as its source states it: "maximum below 40 µs over 60 s".
    pub target: &'static str,
    /// Who publishes it, for what, and where (a document's title, a repository's file).
    pub source: &'static str,
}

impl PublishedTarget {
    /// One line: the target, then its source.
    pub fn text(&self) -> String {
        format!("{} ({})", self.target, self.source)
    }
}

/// The name of a test's section in a plan (and in `run.json`'s plan): the test's name with
/// `_` for `-` (`clock_tick`).
pub fn section_name(test: &str) -> String {
    test.replace('-', "_")
}

/// The key of a test's option in a plan: its section's name, a dot, and the option's long
/// name with `_` for `-` (`clock_tick.loop_us`).
pub fn plan_key(test: &str, option: &str) -> String {
    format!("{}.{}", section_name(test), option.replace('-', "_"))
}

/// A test as a plan runs it: its options as the plan gave them (its section of bench.conf
/// and the plan-wide keys it has flags for), checked when the plan was read.
pub trait Planned: fmt::Debug + Send + Sync {
    fn test(&self) -> &'static dyn Test;

    /// Its section as `run.json` records the plan.
    fn to_json(&self) -> serde_json::Value;

    /// What it is asked to do and about how long that takes (`run --check` prints it).
    fn part(&self) -> Part;

    /// Whether the plan made it hang (a knob for the watchdogs' tests).
    fn hang(&self) -> Hang {
        Hang::No
    }

    /// Check, before any test of the plan measures, that this machine has what the test
    /// needs as the plan asks (`rust-bench run` calls it for every listed test first). An
    /// error names the problem and the fix (`run` adds that the test can be dropped from
    /// the plan).
    fn preflight(&self) -> Result<()> {
        Ok(())
    }

    /// What [`Planned::preflight`] checks, for `run --check` to say what it checked (or,
    /// with `--plan-only`, what it left to the machine that runs the plan); None when it
    /// checks nothing.
    fn needs(&self) -> Option<String> {
        None
    }

    /// Measure (`rust-bench run`), under the plan's RT setup (`rt_setup`, done and restored
    /// by `run`; `None`: the test does its own as its options say). `checkpoint` is called
    /// about every [`CHECKPOINT_EVERY`] with the result so far.
    fn run(
        &self,
        rt_setup: Option<&RtSetupRecord>,
        checkpoint: &mut dyn FnMut(&dyn TestResult),
    ) -> Result<Box<dyn TestResult>>;
}

/// Test only: how a plan makes a test hang (a hidden option, so not in docs/config.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Hang {
    /// Measure.
    #[default]
    No,
    /// The measuring thread spins for ever at its SCHED_FIFO priority, never sleeping and
    /// deaf to stop requests; rust-bench's deadline thread ends the run.
    Yes,
    /// The same, and rust-bench's deadline thread is not started, so only the appliance's
    /// watchdog (`rust-bench watchdog`) can end it.
    Unwatched,
}

impl Hang {
    pub fn is_no(&self) -> bool {
        *self == Hang::No
    }
}

/// How long a test runs: a count (samples, switches) or a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Amount {
    Count(u64),
    #[serde(serialize_with = "ser_duration")]
    Duration(Duration),
}

/// A duration as a plan writes it (`2m`).
pub fn ser_duration<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&duration::format(*d))
}

/// One part of a plan (a listed test, or the load of a load role): what it is asked to do
/// and about how long that takes. `rust-bench run --check` prints them.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The test's name, or `cpu load` / `memory load`.
    pub name: String,
    /// What it is asked to do, as a person reads it: `50000000 samples of a 68 us loop`.
    pub amount: String,
    /// About how long it measures (or loads); None when that depends on the machine (a
    /// count of switches, of back-to-back timestamps) or a load runs until the timeout.
    pub length: Option<Duration>,
    /// The length is an estimate from the amount (not the amount itself).
    pub estimate: bool,
}

/// A test's result, as the writers, the console and the report use it.
pub trait TestResult {
    /// The test's name ([`Test::name`]).
    fn name(&self) -> &'static str;

    /// The test ended as asked (not cut short, not a checkpoint) and measured something.
    fn complete(&self) -> bool;

    /// For a result that is not complete: what of the asked work it lacks, one item each
    /// ("no sample was measured", "the 100-thread run never started"); empty when
    /// complete. Why it stopped is the caller's to say (a signal, the plan's timeout).
    fn missing(&self) -> Vec<String>;

    fn environment(&self) -> &Environment;

    /// The result file's contents.
    fn to_json(&self) -> Result<Vec<u8>>;

    /// A short human summary (several lines).
    fn summary(&self) -> String;

    /// One line on how far it got, for the console at a checkpoint.
    fn progress(&self) -> String;

    /// Its files beside the JSON (CSV, SVG), made once at the end: each is handed to `put`
    /// in turn, so that only one is held in memory at a time.
    fn extra_files(&self, put: &mut dyn FnMut(&str, &[u8]) -> Result<()>) -> Result<()>;

    /// Its lines in the report's table (and the long-form CSV and comparison chart).
    fn lines(&self) -> Vec<Line>;

    /// Its figures, titled with `label` when not empty.
    fn figures(&self, label: &str) -> Vec<Figure>;

    /// Its sample distributions, one column each in the fixed-width histogram export.
    fn distributions(&self) -> Vec<Distribution<'_>>;

    /// What its pass/fail threshold found (`fail_above` in its file), None without one. A
    /// test gets the threshold by flattening [`crate::options::FailAboveUs`] into its
    /// section (`--fail-above-us`, `<section>.fail_above_us`), counting its values with
    /// [`crate::results::threshold::Crossings`] and returning them here: the exit status
    /// ([`ThresholdCrossed`]), run.json and the report take it from here alone.
    fn fail_above(&self) -> Option<&FailAbove> {
        None
    }

    /// What its values compared with the threshold are, plural (`wake-up latencies`), for
    /// the messages about them.
    fn fail_above_values(&self) -> &'static str {
        "values"
    }
}

/// The threshold's line in a summary (`FAIL: ...` when crossed); None without one.
pub fn fail_above_summary(result: &dyn TestResult) -> Option<String> {
    let f = result.fail_above()?;
    let what = result.fail_above_values();
    Some(match (f.first_at_s, f.first_ns) {
        (Some(at), first) if f.is_crossed() => format!(
            "  FAIL: {} {what} above --fail-above-us {} us, the first at {at:.3} s{}",
            group_thousands(f.crossed),
            f.threshold_us,
            first.map_or(String::new(), |ns| format!(
                " ({:.3} us)",
                ns as f64 / 1000.0
            )),
        ),
        _ => format!(
            "  pass: no {what} above --fail-above-us {} us",
            f.threshold_us
        ),
    })
}

/// What a crossed threshold says as the command's last line, its results written; None
/// when it was not crossed (or not given).
pub fn crossed_message(result: &dyn TestResult) -> Option<String> {
    let f = result.fail_above().filter(|f| f.is_crossed())?;
    Some(format!(
        "{}: threshold crossed: {} {} above --fail-above-us {} us, the first at {:.3} s; results written",
        result.name(),
        group_thousands(f.crossed),
        result.fail_above_values(),
        f.threshold_us,
        f.first_at_s.unwrap_or(0.0)
    ))
}

/// A result's lines in the report: its own ([`TestResult::lines`]), and the threshold's
/// when it had one, last.
pub fn report_lines(result: &dyn TestResult) -> Vec<Line> {
    let mut lines = result.lines();
    if let Some(f) = result.fail_above() {
        let limit = format_ns(f.threshold_us as f64 * 1000.0);
        let text = match (f.first_at_s, f.is_crossed()) {
            (Some(at), true) => format!(
                "FAIL: {} above {limit}, the first at {}{}",
                group_thousands(f.crossed),
                seconds(at),
                f.first_ns
                    .map_or(String::new(), |ns| format!(" ({})", format_ns(ns as f64))),
            ),
            _ => format!("pass: none above {limit}"),
        };
        lines.push(Line::new(
            u64::MAX,
            "threshold (--fail-above-us)",
            Cell::Text(text),
            Metric::new("above_threshold", f.crossed as f64, "count"),
        ));
    }
    lines
}

/// One distribution of samples: the exact (log-linear) histogram and its exact extremes.
pub struct Distribution<'a> {
    /// The column's name: `loop`, `2_threads`.
    pub column: String,
    pub histogram: &'a HistogramJson,
    /// How many samples the histogram holds.
    pub samples: u64,
    /// Exact minimum and maximum (ns); None without a sample.
    pub min: Option<u64>,
    pub max: Option<u64>,
}

/// One cell of a report table.
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

/// One line a result contributes to its test's table.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Orders the lines of several runs in one table (lines of equal key share a row).
    pub key: (u64, u32),
    /// The row's name.
    pub name: String,
    /// The headline rows (what the paper's tables report) are shown in bold.
    pub headline: bool,
    pub cell: Cell,
    /// The number as a long-form CSV metric, when it is one.
    pub metric: Option<Metric>,
    /// Its group in the comparison chart across runs, when it belongs there.
    pub compare: Option<String>,
}

impl Line {
    /// A row of its own key `(key, 0)`, neither a headline nor in the comparison chart.
    pub fn new(key: u64, name: impl Into<String>, cell: Cell, metric: Option<Metric>) -> Line {
        Line {
            key: (key, 0),
            name: name.into(),
            headline: false,
            cell,
            metric,
            compare: None,
        }
    }

    /// A duration row: `ns` as the cell and as the CSV metric `metric`; when nothing was
    /// `measured`, an empty cell and no metric rather than a 0 that reads as a measurement.
    pub fn ns(key: u64, name: &str, metric: &str, ns: u64, measured: bool) -> Line {
        if measured {
            Line::new(
                key,
                name,
                Cell::Ns(ns as f64),
                Metric::new(metric, ns as f64, "ns"),
            )
        } else {
            Line::new(key, name, Cell::Missing, None)
        }
    }
}

/// A row of the long-form CSV: `max_overhead`, `min@2` (a thread-switch value for 2
/// threads); the value is the result file's number, unchanged.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: String,
    pub value: f64,
    /// `ns`, `s`, `count`, `fraction` or `percent`.
    pub unit: &'static str,
}

impl Metric {
    pub fn new(name: impl Into<String>, value: f64, unit: &'static str) -> Option<Metric> {
        Some(Metric {
            name: name.into(),
            value,
            unit,
        })
    }
}

/// A figure: its file name beside the result (`clock-tick-timeline.svg`), the SVG, a caption.
pub struct Figure {
    pub file: String,
    pub svg: String,
    pub caption: &'static str,
}

/// Write a result and all its files into `dir` (created if needed), the JSON first. A file
/// that cannot be written (a full disk) does not stop the others: what fits is kept, and
/// the error names what was not written.
pub fn write_all_files(dir: &Path, result: &dyn TestResult) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| {
        format!(
            "cannot create {}; check the path and permissions",
            dir.display()
        )
    })?;
    let mut unwritten = Unwritten::default();
    let json = result.to_json()?;
    unwritten.attempt(&dir.join(json_name(result)), |p| {
        writer::write_json(p, &json)
    });
    write_extra_files(dir, result, &mut unwritten)?;
    unwritten.into_result()
}

/// Write only the result's JSON, `dir/<name>.json`: what a checkpoint needs.
pub fn write_json_file(dir: &Path, result: &dyn TestResult) -> Result<PathBuf> {
    let p = dir.join(json_name(result));
    writer::write_json(&p, &result.to_json()?)?;
    Ok(p)
}

fn json_name(result: &dyn TestResult) -> String {
    format!("{}.json", result.name())
}

/// The result's files beside its JSON (CSV, SVG), each attempted.
fn write_extra_files(dir: &Path, result: &dyn TestResult, unwritten: &mut Unwritten) -> Result<()> {
    result.extra_files(&mut |file, bytes| {
        unwritten.attempt(&dir.join(file), |p| writer::write_file(p, bytes));
        Ok(())
    })
}

/// The files of a result that could not be written, each named on stderr when it fails
/// and all counted in one error once every other file has been tried.
#[derive(Default)]
struct Unwritten {
    kept: Vec<String>,
    /// Why each of the others was not written.
    failed: Vec<String>,
}

impl Unwritten {
    fn attempt(&mut self, path: &Path, write: impl FnOnce(&Path) -> Result<()>) {
        self.record(path.display().to_string(), write(path));
    }

    fn record(&mut self, name: String, written: Result<()>) {
        match written {
            Ok(()) => self.kept.push(name),
            Err(err) => {
                eprintln!("rust-bench: not written: {err:#}");
                self.failed.push(err.root_cause().to_string());
            }
        }
    }

    fn into_result(self) -> Result<()> {
        let Some(cause) = self.failed.first() else {
            return Ok(());
        };
        let kept = if self.kept.is_empty() {
            "none: the summary above is all that is left of this measurement".to_string()
        } else {
            self.kept.join(", ")
        };
        anyhow::bail!(
            "{} of {} result files not written ({cause}), named above; kept: {kept}; free space on that disk, or write elsewhere, to keep them all",
            self.failed.len(),
            self.failed.len() + self.kept.len(),
        )
    }
}

/// When checkpoints write: each time unless the last write took more than
/// 1/[`CHECKPOINT_SHARE`] of the time since, so that writing never takes more than that
/// share of the run.
#[derive(Default)]
pub struct Pacer {
    next: cell::Cell<Option<Instant>>,
}

impl Pacer {
    /// Run `write` if it is time to; whether it ran.
    pub fn write(&self, write: impl FnOnce()) -> bool {
        let start = Instant::now();
        if self.next.get().is_some_and(|next| start < next) {
            return false;
        }
        write();
        self.next
            .set(Some(start + start.elapsed() * CHECKPOINT_SHARE));
        true
    }
}

/// Where a test run from the command line writes its results (`--out`, `--json`).
struct Destinations<'a> {
    test: &'a dyn Test,
    out: Option<&'a Path>,
    json: Option<&'a str>,
    /// Replace an earlier result (`--force`).
    force: bool,
    pacer: Pacer,
    /// The earlier result's files in `--out` have been removed (`--force`).
    cleared: cell::Cell<bool>,
}

impl Destinations<'_> {
    /// Before the first sample: create `--out`, refuse to replace an earlier result without
    /// `--force`, and prove every destination writable (a file is created and removed in
    /// it), so that a measurement is never lost to a bad path after it ran.
    pub fn prepare(&self) -> Result<()> {
        if let Some(dir) = self.out {
            if let Ok(meta) = std::fs::metadata(dir)
                && !meta.is_dir()
            {
                crate::usage!(
                    "--out {} is {}, not a directory: --out takes a directory (created if needed) for the JSON, CSV and SVG files; to write only the JSON to a file, use --json FILE",
                    dir.display(),
                    if meta.is_file() {
                        "an existing file"
                    } else {
                        "a special file"
                    }
                );
            }
            if let Err(e) = std::fs::create_dir_all(dir) {
                crate::usage!(
                    "cannot create the --out directory {} ({e}); pick a writable directory",
                    dir.display()
                );
            }
            let earlier = self
                .test
                .files()
                .iter()
                .map(|f| dir.join(f))
                .find(|p| p.symlink_metadata().is_ok());
            if let Some(earlier) = earlier
                && !self.force
            {
                crate::usage!(
                    "{} holds an earlier result ({}); pick another --out directory or pass --force to replace it",
                    dir.display(),
                    earlier.display()
                );
            }
            writer::probe_writable(dir, "--out")?;
        }
        if let Some(dest) = self.json {
            let target = self.json_target(dest)?;
            if target.replaces_a_file() && !self.force {
                crate::usage!(
                    "--json {dest} exists (an earlier result?); pick another file or pass --force to replace it"
                );
            }
            target.probe("--json")?;
        }
        Ok(())
    }

    /// What `--json DEST` names now.
    fn json_target(&self, dest: &str) -> Result<Target> {
        if dest == "-" {
            return Ok(Target::Stdout);
        }
        Target::of(Path::new(dest)).map_err(|e| match e.downcast::<UsageError>() {
            Ok(UsageError(why)) => UsageError(format!("--json {why}")).into(),
            Err(e) => e.context("--json"),
        })
    }

    /// Before a write into `--out`: the directory (again, if it went away meanwhile) and,
    /// with `--force`, at the first write, no file of the earlier result (the regular files
    /// of [`Test::files`], nothing else), so that the files of two runs never mix.
    fn ready_out(&self, dir: &Path) {
        let _ = std::fs::create_dir_all(dir);
        if !self.force || self.cleared.replace(true) {
            return;
        }
        for file in self.test.files() {
            let path = dir.join(file);
            if path.symlink_metadata().is_ok_and(|m| m.is_file())
                && let Err(e) = std::fs::remove_file(&path)
            {
                eprintln!(
                    "rust-bench: warning: cannot remove the earlier {}: {e}",
                    path.display()
                );
            }
        }
    }

    /// A partial result (between bursts): only the JSON, in `--out` and `--json FILE` (a
    /// file: a stream gets the final result alone), so that a run cut short leaves what it
    /// measured; paced by [`Pacer`]. Failures are warnings.
    pub fn checkpoint(&self, result: &dyn TestResult) {
        let json_file = self
            .json
            .filter(|dest| self.json_target(dest).is_ok_and(|t| t.is_file()));
        if self.out.is_none() && json_file.is_none() {
            return;
        }
        self.pacer.write(|| {
            let mut written = Ok(());
            if let Some(dir) = self.out {
                self.ready_out(dir);
                written = write_json_file(dir, result).map(drop);
            }
            if let Some(file) = json_file
                && written.is_ok()
            {
                written = result
                    .to_json()
                    .and_then(|bytes| writer::write_json(Path::new(file), &bytes));
            }
            if let Err(e) = written {
                eprintln!("rust-bench: warning: checkpoint not written: {e:#}");
            }
        });
    }

    /// The final result: the summary first (on stdout; on stderr when the JSON goes
    /// there), so that the measurement is shown whatever happens to the files; then the
    /// JSON (in `--out` and `--json`), then the `--out` CSV and SVG files. A file that
    /// cannot be written does not stop the others; the error names it. A result that is
    /// not complete says so in the summary's first line, with what it lacks, and ends in
    /// an error: [`Interrupted`] after a stop signal, a failure otherwise.
    pub fn finish(&self, result: &dyn TestResult) -> Result<()> {
        let json_target = self.json.map(|dest| self.json_target(dest));
        let signal = crate::platform::rt::stop_signal();
        let shortfall = (!result.complete()).then(|| {
            let why = match signal {
                Some(s) => format!("interrupted by {}", crate::platform::rt::signal_name(s)),
                None => "incomplete".to_string(),
            };
            shortfall(result, &why)
        });
        let mut text = shortfall
            .iter()
            .map(|l| format!("{l}\n"))
            .collect::<String>();
        text += &result.summary();
        if let Some(line) = fail_above_summary(result) {
            text += &line;
            text.push('\n');
        }
        if matches!(json_target, Some(Ok(Target::Stdout))) {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
        let json = result.to_json()?;
        let mut unwritten = Unwritten::default();
        if let Some(dir) = self.out {
            self.ready_out(dir);
            unwritten.attempt(&dir.join(json_name(result)), |p| {
                writer::write_json(p, &json)
            });
        }
        if let (Some(dest), Some(target)) = (self.json, json_target) {
            let name = if dest == "-" { "standard output" } else { dest };
            let written = target.and_then(|t| match t {
                Target::Stdout => t.write(&json),
                _ => writer::write_json(Path::new(dest), &json),
            });
            unwritten.record(name.to_string(), written);
        }
        if let Some(dir) = self.out {
            write_extra_files(dir, result, &mut unwritten)?;
        }
        unwritten.into_result()?;
        match (shortfall, signal) {
            (None, _) => Ok(()),
            (Some(message), Some(signal)) => Err(Interrupted { signal, message }.into()),
            (Some(message), None) => Err(anyhow::anyhow!(message)),
        }
    }
}

/// The first line of an incomplete result's summary: the test, `why` it ended early
/// (`interrupted by SIGINT`, `incomplete`) and what it lacks.
pub fn shortfall(result: &dyn TestResult, why: &str) -> String {
    format!(
        "{}: {why}: {}; partial results kept",
        result.name(),
        result.missing().join("; ")
    )
}

// Lifting RT throttling from a test's subcommand: the same flag for every test that has it.
// (Not a doc comment: clap would take it as the about line of every subcommand it is
// flattened into.)
#[derive(Debug, clap::Args)]
pub struct RtThrottlingFlag {
    /// Lift RT throttling (sched_rt_runtime_us = -1) and the fair_server reservation
    /// (debugfs sched/fair_server/cpu*/runtime = 0) for the run, and restore both afterwards.
    /// Not by default: from the command line rust-bench changes the machine's settings only
    /// when asked; a plan lifts them by default (rt_throttling = off, docs/config.md).
    #[arg(long)]
    pub no_rt_throttling: bool,
}

// Where a test's own subcommand writes: the same three options for every test. (Not a doc
// comment: clap would take it as the about line of every subcommand it is flattened into.)
#[derive(Debug, clap::Args)]
pub struct Outputs {
    /// Write the JSON result to FILE ('-' for standard output). A regular file is replaced
    /// whole; a character device, FIFO or socket (/dev/stdout, a pipe) is written in place.
    #[arg(long, value_name = "FILE")]
    pub json: Option<String>,
    /// Write the test's JSON, CSV and SVG files into DIR (created if needed; an earlier
    /// result there is kept unless --force is given).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace an earlier result (refused otherwise): the file --json FILE, or all of the
    /// test's own files in --out DIR, so that two runs never mix (other files are left).
    #[arg(long)]
    pub force: bool,
}

/// A test's own subcommand (`rust-bench <name> ...`): SIGINT/SIGTERM end the measurement,
/// the destinations are proven before the first sample, every checkpoint is written and
/// shown as progress on a terminal, then the result and its files are written; a complete
/// result that crossed its `--fail-above-us` then ends in [`ThresholdCrossed`]. `measure`
/// gets the checkpoint interval and a callback for each partial result with the fraction
/// of the planned work done.
pub fn standalone<R: TestResult>(
    test: &dyn Test,
    outputs: &Outputs,
    measure: impl FnOnce(Duration, &mut dyn FnMut(&R, f64)) -> Result<R>,
) -> Result<()> {
    let progress = Progress::new(test.name());
    crate::platform::rt::install_stop_handler();
    let dest = Destinations {
        test,
        out: outputs.out.as_deref(),
        json: outputs.json.as_deref(),
        force: outputs.force,
        pacer: Pacer::default(),
        cleared: cell::Cell::new(false),
    };
    dest.prepare()?;
    let result = measure(progress.interval(), &mut |partial, done| {
        dest.checkpoint(partial);
        progress.show(done);
    })?;
    dest.finish(&result)?;
    match crossed_message(&result) {
        Some(message) => Err(ThresholdCrossed(message).into()),
        None => Ok(()),
    }
}

/// Progress of a test run from the command line: percent done and time left, on stderr
/// when it is a terminal.
struct Progress {
    name: &'static str,
    start: Instant,
    shown: bool,
}

impl Progress {
    pub fn new(name: &'static str) -> Progress {
        Progress {
            name,
            start: Instant::now(),
            shown: std::io::stderr().is_terminal(),
        }
    }

    /// How often the test should call [`Progress::show`] (through its checkpoints): often
    /// enough that a terminal sees a line at least every 10 s.
    pub fn interval(&self) -> Duration {
        if self.shown {
            Duration::from_secs(5)
        } else {
            CHECKPOINT_EVERY
        }
    }

    /// `done`: the fraction of the planned work done so far (0 to 1).
    pub fn show(&self, done: f64) {
        if self.shown {
            eprintln!("{}", self.line(done, self.start.elapsed()));
        }
    }

    fn line(&self, done: f64, elapsed: Duration) -> String {
        let done = done.clamp(0.0, 1.0);
        let left = if done > 0.0 {
            format!(
                ", about {} left",
                human_seconds(elapsed.as_secs_f64() * (1.0 - done) / done)
            )
        } else {
            String::new()
        };
        format!(
            "rust-bench: {}: {:.0} % done{left}",
            self.name,
            done * 100.0
        )
    }
}

/// A measured time for a table: `0.55 s`, `20.0 s`, `3600 s`.
pub fn seconds(s: f64) -> String {
    match s {
        s if s < 10.0 => format!("{s:.2} s"),
        s if s < 100.0 => format!("{s:.1} s"),
        s => format!("{s:.0} s"),
    }
}

fn human_seconds(s: f64) -> String {
    let s = s.round() as u64;
    match s {
        0..=99 => format!("{s} s"),
        100..=5999 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_are_paced() {
        // Quick writes all happen (checkpoints come seconds apart).
        let pacer = Pacer::default();
        assert!(pacer.write(|| ()));
        std::thread::sleep(Duration::from_millis(50));
        assert!(pacer.write(|| ()));
        // A slow write pushes the next one back by 500 times its length.
        let slow = Pacer::default();
        assert!(slow.write(|| std::thread::sleep(Duration::from_millis(30))));
        let next = slow.next.get().unwrap();
        assert!(next >= Instant::now() + Duration::from_secs(14), "{next:?}");
        assert!(!slow.write(|| panic!("too early")));
    }

    /// The threshold as every test shows it: in the summary, the exit message and the
    /// report, from [`TestResult::fail_above`] alone.
    #[test]
    fn the_threshold_is_shown_alike_for_every_test() {
        use crate::results::fixture;
        let env = fixture::environment(None, false, false);
        let mut r = fixture::clock_tick(&env, 68_000, 90_000);
        assert_eq!(fail_above_summary(&r), None);
        assert_eq!(crossed_message(&r), None);
        let plain = report_lines(&r);
        assert_eq!(plain, r.lines());
        r.fail_above = Some(FailAbove {
            threshold_us: 20,
            crossed: 0,
            first_at_s: None,
            first_ns: None,
        });
        assert_eq!(
            fail_above_summary(&r).unwrap(),
            "  pass: no overheads above --fail-above-us 20 us"
        );
        assert_eq!(crossed_message(&r), None);
        let line = report_lines(&r).pop().unwrap();
        assert_eq!(line.cell, Cell::Text("pass: none above 20 µs".into()));
        r.fail_above = Some(FailAbove {
            threshold_us: 20,
            crossed: 1234,
            first_at_s: Some(77.5),
            first_ns: Some(22_000),
        });
        assert_eq!(
            fail_above_summary(&r).unwrap(),
            "  FAIL: 1,234 overheads above --fail-above-us 20 us, the first at 77.500 s (22.000 us)"
        );
        assert_eq!(
            crossed_message(&r).unwrap(),
            "clock-tick: threshold crossed: 1,234 overheads above --fail-above-us 20 us, the first at 77.500 s; results written"
        );
        let lines = report_lines(&r);
        assert_eq!(lines.len(), plain.len() + 1);
        let line = lines.last().unwrap();
        assert_eq!(line.name, "threshold (--fail-above-us)");
        assert_eq!(line.metric, Metric::new("above_threshold", 1234.0, "count"));
        assert!(line.key > plain.iter().map(|l| l.key).max().unwrap());
        assert_eq!(
            line.cell.text(),
            "FAIL: 1,234 above 20 µs, the first at 77.5 s (22 µs)"
        );
    }

    #[test]
    fn progress_lines() {
        let p = Progress {
            name: "clock-tick",
            start: Instant::now(),
            shown: false,
        };
        assert_eq!(
            p.line(0.25, Duration::from_secs(10)),
            "rust-bench: clock-tick: 25 % done, about 30 s left"
        );
        assert_eq!(
            p.line(0.0, Duration::from_secs(1)),
            "rust-bench: clock-tick: 0 % done"
        );
        assert_eq!(
            p.line(0.25, Duration::from_secs(3600)),
            "rust-bench: clock-tick: 25 % done, about 3 h 0 min left"
        );
        assert_eq!(human_seconds(150.0), "2 min 30 s");
    }
}
