//! The wake-up latency test (cyclictest's method) as one thing: its options, its
//! measurement ([`crate::measure::wakeup`]), its result ([`crate::results::wakeup`]), its
//! summary, its files and its part of the report.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use clap::{Args as ClapArgs, FromArgMatches};
use serde::Serialize;

use crate::figures::svg::group_thousands;
use crate::measure::wakeup::{Limit, Options, measure};
use crate::options::duration;
use crate::options::{self, Count, Cpu, FailAboveUs, Priority};
use crate::platform::rt_setup;
use crate::results::environment::Environment;
use crate::results::read;
use crate::results::rt_setup::RtSetupRecord;
use crate::results::threshold::FailAbove;
use crate::results::wakeup::{NAME, Wakeup};
use crate::results::writer;
use crate::suite::test::{
    Amount, CHECKPOINT_EVERY, Cell, Distribution, Figure, Line, Metric, Outputs, Part, Planned,
    PublishedTarget, RtThrottlingFlag, Test, TestResult, seconds, standalone,
};

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    pub cpu: Cpu,
    #[command(flatten)]
    pub priority: Priority,
    #[command(flatten)]
    pub section: Section,
    #[command(flatten)]
    pub throttling: RtThrottlingFlag,
    #[command(flatten)]
    pub outputs: Outputs,
}

// The options a plan sets in its section of bench.conf (`wakeup.<option>`), as `run.json`
// records them (the length as `amount`). (Not a doc comment: clap would take it as the
// subcommand's about line.)
#[derive(Debug, ClapArgs, Serialize)]
pub struct Section {
    /// How long to measure, at least 100ms, e.g. 10s, 5m, 12h, unless --loops is given.
    #[arg(long, default_value = "10s", value_parser = options::test_duration, conflicts_with = "loops")]
    #[serde(skip)]
    pub duration: Duration,
    /// How many wake-ups to measure (at least 1), instead of the duration.
    #[arg(long, value_parser = Count::parse)]
    #[serde(skip)]
    pub loops: Option<Count>,
    /// The period between deadlines in microseconds (10 to 1000000; cyclictest -i).
    #[arg(long, default_value_t = 1000, value_parser = options::whole_in(10, 1_000_000))]
    pub interval_us: u64,
    /// The fixed histogram's limit in microseconds: 1 us buckets up to it, and a count
    /// of the wake-ups later still (1 to 100000; cyclictest -h).
    #[arg(long, default_value_t = 1000, value_parser = options::whole_in(1, 100_000))]
    pub histogram_us: u64,
    #[command(flatten)]
    #[serde(flatten)]
    pub fail_above: FailAboveUs,
}

impl Section {
    /// How long it measures: the loops when given, else the duration.
    pub fn amount(&self) -> Amount {
        match self.loops {
            Some(n) => Amount::Count(n.0),
            None => Amount::Duration(self.duration),
        }
    }
}

impl Options {
    /// The measurement the options ask for (from the command line or a plan).
    pub fn from_args(a: &Args) -> Options {
        let s = &a.section;
        Options {
            cpu: a.cpu.0,
            priority: a.priority.0,
            limit: match s.amount() {
                Amount::Count(n) => Limit::Loops(n),
                Amount::Duration(d) => Limit::Duration(d),
            },
            interval_ns: s.interval_us * 1000,
            histogram_us: s.histogram_us,
            fail_above_us: s.fail_above.fail_above_us,
            lift_rt_throttling: a.throttling.no_rt_throttling,
            rt_setup: None,
            checkpoint_every: CHECKPOINT_EVERY,
        }
    }
}

/// The wake-up latency test.
pub struct WakeupTest;

impl Test for WakeupTest {
    fn name(&self) -> &'static str {
        NAME
    }

    fn files(&self) -> &'static [&'static str] {
        &["wakeup.json", "wakeup-histogram.csv"]
    }

    fn title(&self) -> &'static str {
        "Wake-up latency (cyclictest's method)"
    }

    fn method(&self) -> &'static str {
        "A SCHED_FIFO thread sleeps to absolute deadlines on CLOCK_MONOTONIC one interval apart and records how late it woke: the timer interrupt, the scheduler and whatever holds the CPU (an interrupt, the hypervisor) all add to it."
    }

    fn command(&self) -> clap::Command {
        Args::augment_args(clap::Command::new(NAME)).about(
            "Wake-up latency: sleep to periodic absolute deadlines and record how late each wake-up is (cyclictest's method)",
        )
    }

    fn section(&self) -> clap::Command {
        Section::augment_args(clap::Command::new(NAME))
    }

    /// A plan measures a minute (the command line: a quick look of 10 s).
    fn plan_defaults(&self) -> &'static [(&'static str, &'static str)] {
        &[("duration", "60s")]
    }

    /// Not the paper's, but the measure real-time users compare hypervisors with today:
    /// a minute of it follows the paper's tests.
    fn in_default_plan(&self) -> bool {
        true
    }

    fn planned(&self, matches: &clap::ArgMatches) -> Result<Box<dyn Planned>> {
        Ok(Box::new(Args::from_arg_matches(matches)?))
    }

    /// Real-time VM platforms state their gates in cyclictest's terms, the maximum wake-up
    /// latency.
    fn targets(&self) -> &'static [PublishedTarget] {
        &[
            PublishedTarget {
                target: "cyclictest maximum below 40 µs over 12 h, interval 200 µs, in a real-time guest",
                source: "OpenShift Virtualization documentation, \"Configuring a virtual machine for real-time workloads\", verification step",
            },
            PublishedTarget {
                target: "cyclictest maximum below 40 µs over 60 s",
                source: "KubeVirt's periodic real-time CI lane, kubevirt/project-infra: KUBEVIRT_E2E_REALTIME_LATENCY_THRESHOLD = 40, KUBEVIRT_E2E_CYCLIC_DURATION_IN_SECONDS = 60",
            },
        ]
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
        let result: Option<Wakeup> = read::result(path, Some(NAME))?;
        Ok(result.map(|r| Box::new(r) as Box<dyn TestResult>))
    }
}

impl Planned for Args {
    fn test(&self) -> &'static dyn Test {
        &WakeupTest
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

    /// The duration, or the loops times the interval.
    fn part(&self) -> Part {
        let s = &self.section;
        let (amount, length, estimate) = match s.amount() {
            Amount::Duration(d) => (duration::format(d), d, false),
            Amount::Count(n) => (
                format!("{n} wake-ups {} us apart", s.interval_us),
                Duration::from_micros(n.saturating_mul(s.interval_us)),
                true,
            ),
        };
        Part {
            name: NAME.to_string(),
            amount,
            length: Some(length),
            estimate,
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

/// The fraction of the planned run done.
fn done(opts: &Options, r: &Wakeup) -> f64 {
    match opts.limit {
        Limit::Duration(d) => r.duration_s / d.as_secs_f64().max(1e-9),
        Limit::Loops(n) => r.samples as f64 / n.max(1) as f64,
    }
}

impl TestResult for Wakeup {
    fn name(&self) -> &'static str {
        NAME
    }

    fn complete(&self) -> bool {
        self.complete
    }

    fn missing(&self) -> Vec<String> {
        match (self.complete, self.samples) {
            (true, _) => Vec::new(),
            (false, 0) => vec!["no wake-up was measured".to_string()],
            (false, n) => vec![format!(
                "stopped after {} wake-ups in {:.1} s",
                group_thousands(n),
                self.duration_s
            )],
        }
    }

    fn environment(&self) -> &Environment {
        &self.environment
    }

    fn to_json(&self) -> Result<Vec<u8>> {
        writer::to_json(self)
    }

    fn summary(&self) -> String {
        let us = |ns: u64| ns as f64 / 1000.0;
        let mut s = format!(
            "wakeup: {} wake-ups in {:.1} s, every {} us, cpu {} prio {}; {} overflows\n",
            self.samples,
            self.duration_s,
            self.interval_ns / 1000,
            self.cpu,
            self.priority,
            self.overflows
        );
        if let Some(l) = &self.latency_ns {
            s += &format!(
                "  latency (us): min {:.3} mean {:.3} p50 {:.3} p99 {:.3} p99.99 {:.3} max {:.3}\n",
                us(l.min),
                l.mean / 1000.0,
                us(l.p50),
                us(l.p99),
                us(l.p9999),
                us(l.max)
            );
        }
        if self.fixed_histogram.overflow > 0 {
            s += &format!(
                "  {} wake-ups beyond the histogram's {} us\n",
                self.fixed_histogram.overflow, self.fixed_histogram.limit_us
            );
        }
        if self.checkpoint_skipped > 0 {
            s += &format!(
                "  {} deadlines skipped while checkpoints were written\n",
                self.checkpoint_skipped
            );
        }
        if let Some(setup) = &self.rt_setup {
            s += &rt_setup::summary_line(setup);
        }
        s
    }

    fn progress(&self) -> String {
        format!(
            "{} wake-ups, max {:.1} us, {} overflows",
            self.samples,
            self.latency_ns.as_ref().map_or(0, |l| l.max) as f64 / 1e3,
            self.overflows
        )
    }

    fn extra_files(&self, put: &mut dyn FnMut(&str, &[u8]) -> Result<()>) -> Result<()> {
        put(
            &format!("{NAME}-histogram.csv"),
            self.histogram_csv().as_bytes(),
        )
    }

    fn lines(&self) -> Vec<Line> {
        let l = self.latency_ns.clone().unwrap_or_default();
        let measured = self.latency_ns.is_some();
        let ns =
            |key: u64, name: &str, metric: &str, v: u64| Line::ns(key, name, metric, v, measured);
        let mut samples = group_thousands(self.samples);
        if !self.complete {
            samples.push_str(" (partial)");
        }
        let count = |key: u64, name: &str, metric: &str, v: u64| {
            Line::new(
                key,
                name,
                Cell::Text(group_thousands(v)),
                Metric::new(metric, v as f64, "count"),
            )
        };
        vec![
            Line {
                headline: true,
                compare: measured.then(|| "wake-up\nmax latency".to_string()),
                ..ns(0, "max latency", "max", l.max)
            },
            ns(1, "latency, p99.99", "p9999", l.p9999),
            ns(2, "latency, p99", "p99", l.p99),
            ns(3, "latency, p50", "p50", l.p50),
            Line::new(
                4,
                "latency, mean",
                if measured {
                    Cell::Ns(l.mean)
                } else {
                    Cell::Missing
                },
                measured
                    .then(|| Metric::new("mean", l.mean, "ns"))
                    .flatten(),
            ),
            ns(5, "latency, min", "min", l.min),
            Line::new(
                6,
                "wake-ups",
                Cell::Text(samples),
                Metric::new("samples", self.samples as f64, "count"),
            ),
            Line::new(
                7,
                "interval",
                Cell::Ns(self.interval_ns as f64),
                Metric::new("interval", self.interval_ns as f64, "ns"),
            ),
            count(
                8,
                "overflows (deadlines missed)",
                "overflows",
                self.overflows,
            ),
            Line::new(
                9,
                "measured time",
                Cell::Text(seconds(self.duration_s)),
                Metric::new("duration", self.duration_s, "s"),
            ),
        ]
    }

    fn distributions(&self) -> Vec<Distribution<'_>> {
        vec![Distribution {
            column: "wakeup".to_string(),
            histogram: &self.histogram,
            samples: self.samples,
            min: self.latency_ns.as_ref().map(|l| l.min),
            max: self.latency_ns.as_ref().map(|l| l.max),
        }]
    }

    fn figures(&self, _label: &str) -> Vec<Figure> {
        Vec::new()
    }

    fn fail_above(&self) -> Option<&FailAbove> {
        self.fail_above.as_ref()
    }

    fn fail_above_values(&self) -> &'static str {
        "wake-up latencies"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_from_args() {
        use clap::Parser;
        #[derive(Parser)]
        struct T {
            #[command(flatten)]
            a: Args,
        }
        let t = T::try_parse_from(["x", "--loops", "5", "--interval-us", "100"]).unwrap();
        let o = Options::from_args(&t.a);
        assert_eq!((o.limit, o.interval_ns), (Limit::Loops(5), 100_000));
        assert_eq!(o.fail_above_us, None);
        let t = T::try_parse_from(["x", "--fail-above-us", "40"]).unwrap();
        let o = Options::from_args(&t.a);
        assert_eq!(o.limit, Limit::Duration(Duration::from_secs(10)));
        assert_eq!((o.interval_ns, o.fail_above_us), (1_000_000, Some(40)));
        assert!(T::try_parse_from(["x", "--loops", "5", "--duration", "1s"]).is_err());
        assert!(T::try_parse_from(["x", "--interval-us", "5"]).is_err());
        assert!(T::try_parse_from(["x", "--fail-above-us", "0"]).is_err());
    }
}
