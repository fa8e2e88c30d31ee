//! The thread switch test (the paper's test 2) as one thing: its options, its measurement
//! ([`crate::measure::thread_switch`]), its result ([`crate::results::thread_switch`]), its
//! summary, its files and its part of the report.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use clap::{Args as ClapArgs, FromArgMatches};
use serde::Serialize;

use crate::figures;
use crate::figures::svg::group_thousands;
use crate::measure::thread_switch::{Limit, Options, measure};
use crate::options::duration;
use crate::options::{self, Count, Cpu, FailAboveUs, Priority, Threads};
use crate::platform::{rt_setup, tsc};
use crate::results::End;
use crate::results::environment::Environment;
use crate::results::rt_setup::RtSetupRecord;
use crate::results::thread_switch::{NAME, ThreadSwitch};
use crate::results::threshold::FailAbove;
use crate::results::{read, writer};
use crate::suite::test::{
    Amount, CHECKPOINT_EVERY, Cell, Distribution, Figure, Line, Metric, Outputs, Part, Planned,
    RtThrottlingFlag, Test, TestResult, seconds, standalone,
};

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    pub cpu: Cpu,
    #[command(flatten)]
    pub priority: Priority,
    #[command(flatten)]
    pub section: Section,
    /// Upper bound on one run when counting switches.
    #[arg(long, default_value = "10m", value_parser = options::positive_duration)]
    pub timeout: Duration,
    /// Length of one measuring burst in milliseconds (1 to 3600000).
    #[arg(long, default_value_t = 500, value_parser = options::whole_in(1, 3_600_000))]
    pub burst_ms: u64,
    /// Sleep between bursts in microseconds (0 to 10000000; 0 = no sleep).
    #[arg(long, default_value_t = 2000, value_parser = options::whole_in(0, 10_000_000))]
    pub gap_us: u64,
    /// Stack size of each thread in KiB (32 to 8192).
    #[arg(long, default_value_t = 64, value_parser = options::whole_in(32, 8192))]
    pub stack_kib: u64,
    /// Timestamp source.
    #[arg(long, value_enum, default_value_t)]
    pub clock: tsc::Choice,
    #[command(flatten)]
    pub throttling: RtThrottlingFlag,
    #[command(flatten)]
    pub outputs: Outputs,
}

// The options a plan sets in its section of bench.conf (`thread_switch.<option>`), as
// `run.json` records them (the length as `amount`). (Not a doc comment: clap would take it
// as the subcommand's about line.)
#[derive(Debug, ClapArgs, Serialize)]
pub struct Section {
    /// Thread counts, one run each, comma-separated (2 to 10000 each).
    #[arg(long, value_delimiter = ',', default_value = "2,1000", value_parser = Threads::parse)]
    pub threads: Vec<Threads>,
    /// Switches to measure per run, at least 1, unless --duration is given (the paper's
    /// count).
    #[arg(long, default_value_t = Count(1_000_000), value_parser = Count::parse, conflicts_with = "duration")]
    #[serde(skip)]
    pub switches: Count,
    /// Measure each run for this long instead of a number of switches, at least 100ms
    /// (e.g. 10s).
    #[arg(long, value_parser = options::test_duration)]
    #[serde(skip)]
    pub duration: Option<Duration>,
    #[command(flatten)]
    #[serde(flatten)]
    pub fail_above: FailAboveUs,
}

impl Section {
    /// How long each run measures: the duration when given, else the switches.
    pub fn amount(&self) -> Amount {
        match self.duration {
            Some(d) => Amount::Duration(d),
            None => Amount::Count(self.switches.0),
        }
    }
}

impl Options {
    /// The measurement the options ask for (from the command line or a plan).
    pub fn from_args(a: &Args) -> Options {
        Options {
            cpu: a.cpu.0,
            priority: a.priority.0,
            threads: a.section.threads.iter().map(|t| t.0).collect(),
            limit: match a.section.amount() {
                Amount::Count(n) => Limit::Switches(n),
                Amount::Duration(d) => Limit::Duration(d),
            },
            timeout: a.timeout,
            burst: Duration::from_millis(a.burst_ms),
            gap: Duration::from_micros(a.gap_us),
            stack_bytes: (a.stack_kib * 1024) as usize,
            clock: a.clock,
            lift_rt_throttling: a.throttling.no_rt_throttling,
            rt_setup: None,
            checkpoint_every: CHECKPOINT_EVERY,
            fail_above_us: a.section.fail_above.fail_above_us,
        }
    }
}

impl Default for Args {
    /// Every option at its default: what `rust-bench thread-switch` alone measures.
    fn default() -> Args {
        let matches = ThreadSwitchTest.command().get_matches_from([NAME]);
        Args::from_arg_matches(&matches).expect("the defaults are valid")
    }
}

/// The thread switch test.
pub struct ThreadSwitchTest;

impl Test for ThreadSwitchTest {
    fn name(&self) -> &'static str {
        NAME
    }

    fn files(&self) -> &'static [&'static str] {
        &[
            "thread-switch.json",
            "thread-switch-runs.csv",
            "thread-switch-histogram.csv",
            "thread-switch-histogram.svg",
        ]
    }

    fn title(&self) -> &'static str {
        "Thread switch latency"
    }

    fn method(&self) -> &'static str {
        "N SCHED_FIFO threads of one priority on one CPU, each calling sched_yield; a switch is the time from one thread's last timestamp to the next thread's first."
    }

    fn command(&self) -> clap::Command {
        Args::augment_args(clap::Command::new(NAME))
            .about("Test 2: thread switch latency between SCHED_FIFO threads of one priority")
    }

    fn section(&self) -> clap::Command {
        Section::augment_args(clap::Command::new(NAME))
    }

    /// A plan measures each run for 2 minutes, long enough to hold the host's
    /// once-a-second events 120 times (the command line: the paper's 1,000,000 switches,
    /// about half a second today).
    fn plan_defaults(&self) -> &'static [(&'static str, &'static str)] {
        &[("duration", "2m")]
    }

    fn planned(&self, matches: &clap::ArgMatches) -> Result<Box<dyn Planned>> {
        Ok(Box::new(Args::from_arg_matches(matches)?))
    }

    fn main(&self, matches: &clap::ArgMatches) -> Result<()> {
        let args = Args::from_arg_matches(matches)?;
        standalone(self, &args.outputs, |every, checkpoint| {
            let opts = Options {
                checkpoint_every: every,
                ..Options::from_args(&args)
            };
            measure(&opts, &mut |partial| {
                checkpoint(partial, done(&opts, partial))
            })
        })
    }

    fn read(&self, path: &Path) -> Result<Option<Box<dyn TestResult>>> {
        let result: Option<ThreadSwitch> = read::result(path, Some(NAME))?;
        Ok(result.map(|r| Box::new(r) as Box<dyn TestResult>))
    }
}

impl Planned for Args {
    fn test(&self) -> &'static dyn Test {
        &ThreadSwitchTest
    }

    fn to_json(&self) -> serde_json::Value {
        #[derive(Serialize)]
        struct Json<'a> {
            amount: Amount,
            #[serde(flatten)]
            section: &'a Section,
        }
        let json = Json {
            amount: self.section.amount(),
            section: &self.section,
        };
        serde_json::to_value(json).unwrap_or_default()
    }

    /// One run per thread count, each of the same length.
    fn part(&self) -> Part {
        let threads = &self.section.threads;
        let runs = threads.len();
        let counts = threads
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let s = if runs == 1 { "" } else { "s" };
        let each = format!("{runs} run{s} ({counts} threads)");
        let (amount, length) = match self.section.amount() {
            Amount::Duration(d) => {
                let all = d * runs as u32;
                let total = if runs == 1 {
                    String::new()
                } else {
                    format!(", {} in all", duration::format(all))
                };
                let amount = format!("{each} of {}{total}", duration::format(d));
                (amount, Some(all))
            }
            Amount::Count(n) => (format!("{each} of {n} switches"), None),
        };
        Part {
            name: NAME.to_string(),
            amount,
            length,
            estimate: false,
        }
    }

    fn run(
        &self,
        rt_setup: Option<&RtSetupRecord>,
        checkpoint: &mut dyn FnMut(&dyn TestResult),
    ) -> Result<Box<dyn TestResult>> {
        let opts = Options {
            rt_setup: rt_setup.cloned(),
            ..Options::from_args(self)
        };
        let result = measure(&opts, &mut |partial| checkpoint(partial))?;
        Ok(Box::new(result))
    }
}

/// The fraction of the planned runs done.
fn done(opts: &Options, r: &ThreadSwitch) -> f64 {
    let finished = r.runs.iter().filter(|run| run.end != End::Running).count() as f64;
    let current = r
        .runs
        .iter()
        .find(|run| run.end == End::Running)
        .map(|run| match opts.limit {
            Limit::Switches(k) => run.switches as f64 / k.max(1) as f64,
            Limit::Duration(d) => run.duration_s / d.as_secs_f64().max(1e-9),
        })
        .unwrap_or(0.0);
    (finished + current.min(1.0)) / opts.threads.len().max(1) as f64
}

impl TestResult for ThreadSwitch {
    fn name(&self) -> &'static str {
        NAME
    }

    fn complete(&self) -> bool {
        self.complete
    }

    fn missing(&self) -> Vec<String> {
        if self.complete {
            return Vec::new();
        }
        let mut missing: Vec<String> = self
            .runs
            .iter()
            .filter(|run| !run.complete)
            .map(|run| {
                let n = run.threads;
                match run.end {
                    _ if run.switches == 0 => format!("the {n}-thread run measured no switch"),
                    End::Timeout => format!(
                        "the {n}-thread run reached its timeout after {} switches",
                        group_thousands(run.switches)
                    ),
                    End::Error => format!("the {n}-thread run could not set up its threads"),
                    _ => format!(
                        "the {n}-thread run stopped after {} switches in {:.2} s",
                        group_thousands(run.switches),
                        run.duration_s
                    ),
                }
            })
            .collect();
        for &n in self.threads_asked.iter().skip(self.runs.len()) {
            missing.push(format!("the {n}-thread run never started"));
        }
        if missing.is_empty() {
            missing.push("not every run finished".to_string());
        }
        missing
    }

    fn environment(&self) -> &Environment {
        &self.environment
    }

    fn to_json(&self) -> Result<Vec<u8>> {
        writer::to_json(self)
    }

    fn summary(&self) -> String {
        summary_text(self)
    }

    fn progress(&self) -> String {
        match self.runs.last() {
            Some(r) => format!("{} threads: {} switches", r.threads, r.switches),
            None => "starting".to_string(),
        }
    }

    fn extra_files(&self, put: &mut dyn FnMut(&str, &[u8]) -> Result<()>) -> Result<()> {
        put(&format!("{NAME}-runs.csv"), self.runs_csv().as_bytes())?;
        put(
            &format!("{NAME}-histogram.csv"),
            self.histogram_csv().as_bytes(),
        )?;
        for figure in self.figures("") {
            put(&figure.file, figure.svg.as_bytes())?;
        }
        Ok(())
    }

    fn lines(&self) -> Vec<Line> {
        let mut lines = Vec::new();
        for run in &self.runs {
            let n = run.threads;
            let line = |i: u32, what: &str, cell: Cell, metric: Option<Metric>| Line {
                key: (n as u64, i),
                name: format!("{n} threads, {what}"),
                headline: false,
                cell,
                metric,
                compare: None,
            };
            let mut switches = group_thousands(run.switches);
            if !run.complete {
                switches.push_str(" (partial)");
            }
            lines.push(line(
                0,
                "switches",
                Cell::Text(switches),
                Metric::new(format!("switches@{n}"), run.switches as f64, "count"),
            ));
            lines.push(line(
                1,
                "measured time",
                Cell::Text(seconds(run.measured_s)),
                Metric::new(format!("measured@{n}"), run.measured_s, "s"),
            ));
            // A run without a switch has no statistics: no cell, never a 0 ns (files from
            // before switch_ns could be null held zeros there).
            let stats = run.switch_ns.as_ref().filter(|_| run.switches > 0);
            let values: [(&str, Option<f64>); 5] = [
                ("min", stats.map(|s| s.min as f64)),
                ("mean", stats.map(|s| s.mean)),
                ("p50", stats.map(|s| s.p50 as f64)),
                ("p99", stats.map(|s| s.p99 as f64)),
                ("max", stats.map(|s| s.max as f64)),
            ];
            for (i, (stat, value)) in values.into_iter().enumerate() {
                let headline = stat == "min" || stat == "max";
                lines.push(Line {
                    headline,
                    compare: (headline && value.is_some())
                        .then(|| format!("switch {stat}\n{n} threads")),
                    ..line(
                        2 + i as u32,
                        stat,
                        value.map(Cell::Ns).unwrap_or(Cell::Missing),
                        value.and_then(|v| Metric::new(format!("{stat}@{n}"), v, "ns")),
                    )
                });
            }
        }
        lines
    }

    fn fail_above(&self) -> Option<&FailAbove> {
        self.fail_above.as_ref()
    }

    fn fail_above_values(&self) -> &'static str {
        "switch latencies"
    }

    fn distributions(&self) -> Vec<Distribution<'_>> {
        self.runs
            .iter()
            .map(|run| {
                let stats = run.switch_ns.as_ref().filter(|_| run.switches > 0);
                Distribution {
                    column: format!("{}_threads", run.threads),
                    histogram: &run.histogram,
                    samples: run.switches,
                    min: stats.map(|s| s.min),
                    max: stats.map(|s| s.max),
                }
            })
            .collect()
    }

    fn figures(&self, label: &str) -> Vec<Figure> {
        vec![Figure {
            file: format!("{NAME}-histogram.svg"),
            svg: figures::thread_switch_histogram(self, label),
            caption: "",
        }]
    }
}

/// A short human summary.
fn summary_text(r: &ThreadSwitch) -> String {
    let mut s = format!(
        "thread-switch: cpu {} prio {}, clock {} {:.0} MHz\n",
        r.cpu,
        r.priority,
        r.clock.source,
        r.clock.hz / 1e6
    );
    for run in &r.runs {
        let stats = match &run.switch_ns {
            Some(n) => format!(
                "switch (us) min {:.3} mean {:.3} p50 {:.3} p99 {:.3} max {:.3}",
                n.min as f64 / 1e3,
                n.mean / 1e3,
                n.p50 as f64 / 1e3,
                n.p99 as f64 / 1e3,
                n.max as f64 / 1e3
            ),
            None => "no switch measured".to_string(),
        };
        s += &format!(
            "  {:>5} threads: {} switches ({} of {} yields switched) in {:.2} s; {stats}\n",
            run.threads, run.switches, run.switched_yields, run.yields, run.duration_s,
        );
    }
    if let Some(setup) = &r.rt_setup {
        s += &rt_setup::summary_line(setup);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flags_defaults() {
        use clap::Parser;
        #[derive(Parser)]
        struct T {
            #[command(flatten)]
            a: Args,
        }
        let t = T::try_parse_from(["x"]).unwrap();
        assert_eq!(t.a.section.threads, [Threads(2), Threads(1000)]);
        // The paper's count unless a duration is given; not both.
        assert_eq!(Options::from_args(&t.a).limit, Limit::Switches(1_000_000));
        let t = T::try_parse_from(["x", "--duration", "3s"]).unwrap();
        assert_eq!(
            Options::from_args(&t.a).limit,
            Limit::Duration(Duration::from_secs(3))
        );
        assert!(T::try_parse_from(["x", "--duration", "3s", "--switches", "5"]).is_err());
    }

    /// What an interrupted result lacks: each run cut short, each run never started.
    #[test]
    fn missing_runs_are_named() {
        let env = crate::results::fixture::environment(None, false, false);
        let mut r = crate::results::fixture::thread_switch(&env, &[(2, [500.0, 600.0, 9000.0])]);
        assert!(r.missing().is_empty());
        r.complete = false;
        r.threads_asked = vec![2, 100, 1000];
        r.runs[0].complete = false;
        r.runs[0].end = End::Signal;
        assert_eq!(
            r.missing(),
            [
                "the 2-thread run stopped after 100,000 switches in 1.00 s",
                "the 100-thread run never started",
                "the 1000-thread run never started"
            ]
        );
        r.runs[0].switches = 0;
        assert_eq!(r.missing()[0], "the 2-thread run measured no switch");
    }

    #[test]
    fn thread_counts() {
        assert_eq!(Threads::parse("2"), Ok(Threads(2)));
        assert!(Threads::parse("0").is_err());
        assert!(Threads::parse("1").is_err());
        assert!(Threads::parse("x").is_err());
        assert!(Threads::parse("100000").is_err());
    }
}
