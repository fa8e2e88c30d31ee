//! The osnoise test: the kernel's own noise tracer on the test CPU, as a cross-check of
//! clock-tick ([`crate::measure::osnoise`], result [`crate::results::osnoise`]).

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use clap::{Args as ClapArgs, FromArgMatches};
use serde::Serialize;

use crate::measure::osnoise::{self, Options, measure, periods_asked};
use crate::options::duration;
use crate::options::{self, Cpu, FailAboveUs};
use crate::results::environment::Environment;
use crate::results::osnoise::{NAME, Osnoise};
use crate::results::rt_setup::RtSetupRecord;
use crate::results::threshold::FailAbove;
use crate::results::trace::TraceReader;
use crate::results::{read, writer};
use crate::suite::test::{
    CHECKPOINT_EVERY, Cell, Distribution, Figure, Line, Metric, Outputs, Part, Planned, Test,
    TestResult, ser_duration, standalone,
};

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    pub cpu: Cpu,
    #[command(flatten)]
    pub section: Section,
    /// The tracer's period in microseconds (100 to 10000000).
    #[arg(long, default_value_t = 1_000_000, value_parser = options::whole_in(100, 10_000_000))]
    pub period_us: u64,
    /// How long the tracer's thread measures in each period, in microseconds (100 to
    /// 10000000, at most the period).
    #[arg(long, default_value_t = 1_000_000, value_parser = options::whole_in(100, 10_000_000))]
    pub runtime_us: u64,
    #[command(flatten)]
    pub trace_reader: TraceReader,
    #[command(flatten)]
    pub outputs: Outputs,
}

// The options a plan sets in its section of bench.conf (`osnoise.<option>`), as `run.json`
// records them. (Not a doc comment: clap would take it as the subcommand's about line.)
#[derive(Debug, ClapArgs, Serialize)]
pub struct Section {
    /// How long to run the tracer, at least 100ms, e.g. 30s, 5m.
    #[arg(long, default_value = "60s", value_parser = options::test_duration)]
    #[serde(serialize_with = "ser_duration")]
    pub duration: Duration,
    #[command(flatten)]
    #[serde(flatten)]
    pub fail_above: FailAboveUs,
}

/// The measurement the options ask for (from the command line or a plan).
fn options(a: &Args) -> Options {
    Options {
        cpu: a.cpu.0,
        duration: a.section.duration,
        period_us: a.period_us,
        runtime_us: a.runtime_us,
        checkpoint_every: CHECKPOINT_EVERY,
        trace_reader: a.trace_reader,
        fail_above_us: a.section.fail_above.fail_above_us,
    }
}

impl Default for Args {
    /// Every option at its default: what `rust-bench osnoise` alone measures.
    fn default() -> Args {
        let matches = OsnoiseTest.command().get_matches_from([NAME]);
        Args::from_arg_matches(&matches).expect("the defaults are valid")
    }
}

/// The osnoise test.
pub struct OsnoiseTest;

impl Test for OsnoiseTest {
    fn name(&self) -> &'static str {
        NAME
    }

    fn files(&self) -> &'static [&'static str] {
        &["osnoise.json", "osnoise-sources.csv"]
    }

    fn title(&self) -> &'static str {
        "Kernel noise (osnoise tracer)"
    }

    fn method(&self) -> &'static str {
        "The kernel's osnoise tracer runs a thread on the CPU and counts what interrupts it, by source: IRQs, softirqs, NMIs, threads, and hw: the noise the kernel does not name (its total less the named sources'; in a VM the hypervisor, also SMIs and interrupt entry/exit)."
    }

    fn command(&self) -> clap::Command {
        Args::augment_args(clap::Command::new(NAME)).about(
            "Cross-check: run the kernel's osnoise tracer on the CPU and record its noise by source",
        )
    }

    fn section(&self) -> clap::Command {
        Section::augment_args(clap::Command::new(NAME))
    }

    /// A cross-check, run only when a plan lists it.
    fn in_default_plan(&self) -> bool {
        false
    }

    fn planned(&self, matches: &clap::ArgMatches) -> Result<Box<dyn Planned>> {
        Ok(Box::new(Args::from_arg_matches(matches)?))
    }

    fn main(&self, matches: &clap::ArgMatches) -> Result<()> {
        let a = Args::from_arg_matches(matches)?;
        standalone(self, &a.outputs, |every, checkpoint| {
            let opts = Options {
                checkpoint_every: every,
                ..options(&a)
            };
            let planned = opts.duration.as_secs_f64().max(1e-9);
            measure(&opts, &mut |partial| {
                checkpoint(partial, partial.duration_s / planned)
            })
            .map(measured)
        })
    }

    fn read(&self, path: &Path) -> Result<Option<Box<dyn TestResult>>> {
        let result: Option<Osnoise> = read::result(path, Some(NAME))?;
        Ok(result.map(|r| Box::new(r) as Box<dyn TestResult>))
    }
}

impl Planned for Args {
    fn test(&self) -> &'static dyn Test {
        &OsnoiseTest
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.section).unwrap_or_default()
    }

    /// Whole periods, and one more: the kernel's tracer often starts a period late.
    fn part(&self) -> Part {
        let d = self.section.duration;
        let periods = periods_asked(d, self.period_us).max(1);
        Part {
            name: NAME.to_string(),
            amount: format!(
                "{} in whole periods of {}",
                duration::format(d),
                duration::format(Duration::from_micros(self.period_us))
            ),
            length: Some(Duration::from_micros((periods + 1) * self.period_us)),
            estimate: true,
        }
    }

    /// The tracer's own message says what is missing and how to get it.
    fn preflight(&self) -> Result<()> {
        osnoise::preflight(self.cpu.0)
    }

    fn needs(&self) -> Option<String> {
        Some(format!(
            "tracefs and the kernel's osnoise tracer for cpu {}",
            self.cpu
        ))
    }

    fn run(
        &self,
        // The tracer's thread is the kernel's own: the plan's RT setup (done by `run`)
        // applies around it, there is no thread of ours to set up.
        _rt_setup: Option<&RtSetupRecord>,
        checkpoint: &mut dyn FnMut(&dyn TestResult),
    ) -> Result<Box<dyn TestResult>> {
        let result = measure(&options(self), &mut |partial| checkpoint(partial))?;
        Ok(Box::new(measured(result)))
    }
}

/// A run in which the tracer reported no period measured nothing: never complete.
fn measured(mut result: Osnoise) -> Osnoise {
    result.complete &= result.periods > 0;
    result
}

impl TestResult for Osnoise {
    fn name(&self) -> &'static str {
        NAME
    }

    fn complete(&self) -> bool {
        self.complete
    }

    fn missing(&self) -> Vec<String> {
        let asked = self
            .duration_asked_s
            .map(|a| format!(" of the {a:.1} s asked"))
            .unwrap_or_default();
        match (self.complete, self.periods) {
            (true, _) => Vec::new(),
            (false, 0) => vec!["the tracer reported no period".to_string()],
            (false, n) => vec![format!(
                "stopped after {n} periods in {:.1} s{asked}",
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
        let c = &self.counts;
        let pct = |part: u64, whole: u64| match whole {
            0 => "-".to_string(),
            _ => format!("{:.3} %", part as f64 * 100.0 / whole as f64),
        };
        let mut asked = self
            .duration_asked_s
            .map(|a| format!(" (asked {a:.1} s)"))
            .unwrap_or_default();
        if let Some(n) = self.periods_asked.filter(|&n| n > self.periods) {
            asked += &format!(", {} fewer than the {n} asked", n - self.periods);
        }
        let mut s = format!(
            "osnoise: {} periods in {:.1} s{asked} on cpu {}: noise {:.1} us of {:.1} us \
             measured ({}), max per period {:.1} us, max single {:.1} us\n  not named by the \
             kernel (hw: in a VM the hypervisor): {:.1} us ({} of the noise)\n  interference \
             counts: hw {} nmi {} irq {} softirq {} thread {}; {} events lost\n",
            self.periods,
            self.duration_s,
            self.cpu,
            us(self.noise_ns),
            us(self.runtime_ns),
            pct(self.noise_ns, self.runtime_ns),
            us(self.max_period_noise_ns),
            us(self.max_single_noise_ns),
            us(self.hw_ns()),
            pct(self.hw_ns(), self.noise_ns),
            c.hw,
            c.nmi,
            c.irq,
            c.softirq,
            c.thread,
            self.events_lost
        );
        if self.summaries_dropped > 0 {
            s += &format!(
                "  read after the last period asked and not counted: {} summaries, {} noise \
                 events\n",
                self.summaries_dropped, self.events_dropped
            );
        }
        for x in self.sources.iter().take(8) {
            s += &format!(
                "    {:<8} {:<28} {:>7} x  total {:>10.1} us  max {:>8.1} us\n",
                x.class,
                x.name,
                x.count,
                us(x.total_ns),
                us(x.max_ns)
            );
        }
        s
    }

    fn progress(&self) -> String {
        format!(
            "{} periods, noise {:.1} us, max single {:.1} us",
            self.periods,
            self.noise_ns as f64 / 1e3,
            self.max_single_noise_ns as f64 / 1e3
        )
    }

    fn extra_files(&self, put: &mut dyn FnMut(&str, &[u8]) -> Result<()>) -> Result<()> {
        put(
            &format!("{NAME}-sources.csv"),
            self.sources_csv().as_bytes(),
        )
    }

    fn lines(&self) -> Vec<Line> {
        let measured = self.periods > 0;
        let ns =
            |key: u64, name: &str, metric: &str, v: u64| Line::ns(key, name, metric, v, measured);
        let mut lines = vec![
            Line {
                headline: true,
                ..ns(
                    0,
                    "max single noise",
                    "max_single_noise",
                    self.max_single_noise_ns,
                )
            },
            ns(1, "noise, total", "noise_total", self.noise_ns),
            ns(
                2,
                "noise, worst period",
                "noise_worst_period",
                self.max_period_noise_ns,
            ),
        ];
        let share = |key: (u64, u32), name: &str, metric: &str, v: Option<f64>| {
            let (cell, metric) = match v {
                Some(v) if measured => (
                    Cell::Text(format!("{:.2} %", v * 100.0)),
                    Metric::new(metric, v, "fraction"),
                ),
                _ => (Cell::Missing, None),
            };
            Line {
                key,
                ..Line::new(0, name, cell, metric)
            }
        };
        lines.push(share(
            (1, 1),
            "noise, share of the time measured",
            "noise_share",
            (self.runtime_ns > 0).then(|| self.noise_ns as f64 / self.runtime_ns as f64),
        ));
        for (i, (class, total)) in self.by_class().into_iter().enumerate() {
            let name = match class {
                "hw" => "noise not named (hw: hypervisor)".to_string(),
                _ => format!("noise from {class}"),
            };
            lines.push(ns(3 + i as u64, &name, &format!("noise_{class}"), total));
        }
        lines.push(share(
            (3, 1),
            "not named, share of the noise",
            "hw_share",
            self.hw_share(),
        ));
        let asked = self
            .duration_asked_s
            .map(|a| format!(" (asked {a:.0} s)"))
            .unwrap_or_default();
        lines.push(Line::new(
            9,
            "periods",
            Cell::Text(format!(
                "{} in {:.1} s{asked}{}",
                self.periods,
                self.duration_s,
                if self.complete { "" } else { " (partial)" }
            )),
            Metric::new("periods", self.periods as f64, "count"),
        ));
        lines.push(Line::new(
            10,
            "events lost",
            Cell::Text(self.events_lost.to_string()),
            Metric::new("events_lost", self.events_lost as f64, "count"),
        ));
        lines
    }

    /// No distribution of samples: the tracer reports sums and maxima per period.
    fn fail_above(&self) -> Option<&FailAbove> {
        self.fail_above.as_ref()
    }

    fn fail_above_values(&self) -> &'static str {
        "periods' longest single noises"
    }

    fn distributions(&self) -> Vec<Distribution<'_>> {
        Vec::new()
    }

    fn figures(&self, _label: &str) -> Vec<Figure> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::End;
    use crate::results::osnoise::{Counts, NoiseSource};

    fn result(periods: u64) -> Osnoise {
        Osnoise {
            schema: 1,
            test: NAME.to_string(),
            rust_bench_version: None,
            command_line: None,
            started: None,
            complete: true,
            end: End::Duration,
            cpu: 0,
            period_us: 1_000_000,
            runtime_us: 1_000_000,
            duration_s: 3.0,
            duration_asked_s: Some(3.0),
            periods,
            periods_asked: Some(3),
            trace_reader: None,
            buffer_size_kb: None,
            summaries_dropped: 0,
            events_dropped: 0,
            runtime_ns: 3_000_000_000,
            noise_ns: 9_000,
            max_period_noise_ns: 5_000,
            max_single_noise_ns: 4_000,
            fail_above: None,
            min_available_pct: Some(99.9),
            counts: Counts::default(),
            sources: vec![NoiseSource {
                class: "irq".to_string(),
                name: "local_timer".to_string(),
                count: 3,
                total_ns: 6_000,
                max_ns: 4_000,
            }],
            hw_noise_ns: Some(3_000),
            events_lost: 0,
            environment: crate::results::fixture::environment(None, false, false),
        }
    }

    fn metric(lines: &[Line], name: &str) -> Option<(f64, &'static str)> {
        lines
            .iter()
            .filter_map(|l| l.metric.as_ref())
            .find(|m| m.name == name)
            .map(|m| (m.value, m.unit))
    }

    #[test]
    fn lines_carry_the_csv_metrics_and_no_distribution() {
        let r = result(3);
        let lines = r.lines();
        assert!(lines[0].headline);
        assert_eq!(metric(&lines, "max_single_noise"), Some((4_000.0, "ns")));
        assert_eq!(metric(&lines, "noise_irq"), Some((6_000.0, "ns")));
        assert_eq!(metric(&lines, "noise_hw"), Some((3_000.0, "ns")));
        assert_eq!(metric(&lines, "events_lost"), Some((0.0, "count")));
        assert_eq!(metric(&lines, "noise_share"), Some((3e-6, "fraction")));
        assert_eq!(
            metric(&lines, "hw_share"),
            Some((3_000.0 / 9_000.0, "fraction"))
        );
        let hw_share = lines.iter().find(|l| l.name.contains("share of the noise"));
        assert_eq!(hw_share.unwrap().cell, Cell::Text("33.33 %".into()));
        assert_eq!(metric(&lines, "periods"), Some((3.0, "count")));
        assert!(r.distributions().is_empty());
        // Without a period nothing was measured: no latency metric, no zero.
        let none = result(0).lines();
        assert_eq!(metric(&none, "max_single_noise"), None);
        assert_eq!(none[0].cell, Cell::Missing);
    }

    /// A run in which the tracer reported no period measured nothing: never complete,
    /// whatever ended it.
    #[test]
    fn no_period_is_never_complete() {
        let none = measured(result(0));
        assert!(!none.complete());
        assert_eq!(none.missing(), ["the tracer reported no period"]);
        let some = measured(result(3));
        assert!(some.complete());
        assert!(some.missing().is_empty());
        let cut = Osnoise {
            complete: false,
            ..result(2)
        };
        assert_eq!(
            measured(cut).missing(),
            ["stopped after 2 periods in 3.0 s of the 3.0 s asked"]
        );
    }

    /// The test's length, and its estimate in whole periods and one more.
    #[test]
    fn the_length_and_its_estimate() {
        use clap::Parser;
        #[derive(Parser)]
        struct T {
            #[command(flatten)]
            a: Args,
        }
        let t = T::try_parse_from(["x"]).unwrap();
        assert_eq!(t.a.section.duration, Duration::from_secs(60));
        assert!(T::try_parse_from(["x", "--duration", "99ms"]).is_err());
        let t = T::try_parse_from(["x", "--duration", "2500ms"]).unwrap();
        let part = t.a.part();
        assert_eq!(part.amount, "2500ms in whole periods of 1s");
        assert_eq!(part.length, Some(Duration::from_secs(4)));
    }

    #[test]
    fn hw_noise_is_recorded_or_in_older_files_the_hw_sources() {
        let r = result(3);
        assert_eq!(r.hw_ns(), 3_000);
        assert_eq!(r.hw_share(), Some(3_000.0 / 9_000.0));
        assert!(
            r.summary().contains("(33.333 % of the noise)"),
            "{}",
            r.summary()
        );
        assert!(
            r.summary().contains("in 3.0 s (asked 3.0 s)"),
            "{}",
            r.summary()
        );
        // A file written before hw_noise_ns existed: its hw sources stand for it.
        let mut v = serde_json::to_value(&r).unwrap();
        let o = v.as_object_mut().unwrap();
        o.remove("hw_noise_ns");
        o.remove("duration_asked_s");
        o["sources"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "class": "hw", "name": "", "count": 2, "total_ns": 7_000, "max_ns": 5_000
            }));
        let old: Osnoise = serde_json::from_value(v).unwrap();
        assert_eq!((old.hw_noise_ns, old.duration_asked_s), (None, None));
        assert_eq!(old.hw_ns(), 7_000);
        assert_eq!(old.by_class()[0], ("hw", 7_000));
        assert!(
            old.summary().contains("in 3.0 s on cpu"),
            "{}",
            old.summary()
        );
    }
}
