//! The timerlat test: the kernel's own timer latency tracer on the test CPU, as one thing:
//! its options, its measurement ([`crate::measure::timerlat`]), its result
//! ([`crate::results::timerlat`]), its summary, its files and its part of the report.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use clap::{Args as ClapArgs, FromArgMatches};
use serde::Serialize;

use crate::figures::svg::group_thousands;
use crate::measure::timerlat::{self, Options, measure};
use crate::options::duration;
use crate::options::{self, Cpu, FailAboveUs};
use crate::results::environment::Environment;
use crate::results::rt_setup::RtSetupRecord;
use crate::results::threshold::FailAbove;
use crate::results::timerlat::{Latency, NAME, Source, Timerlat};
use crate::results::{read, writer};
use crate::suite::test::{
    CHECKPOINT_EVERY, Cell, Distribution, Figure, Line, Metric, Outputs, Part, Planned, Test,
    TestResult, seconds, ser_duration, standalone,
};

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    pub cpu: Cpu,
    #[command(flatten)]
    pub section: Section,
    #[command(flatten)]
    pub outputs: Outputs,
}

// The options a plan sets in its section of bench.conf (`timerlat.<option>`), as `run.json`
// records them. (Not a doc comment: clap would take it as the subcommand's about line.)
#[derive(Debug, ClapArgs, Serialize)]
pub struct Section {
    /// How long to run the tracer, at least 100ms, e.g. 10s, 5m, 12h.
    #[arg(long, default_value = "10s", value_parser = options::test_duration)]
    #[serde(serialize_with = "ser_duration")]
    pub duration: Duration,
    /// The tracer's period in microseconds (100 to 1000000; rtla timerlat -p).
    #[arg(long, default_value_t = 1000, value_parser = options::whole_in(100, 1_000_000))]
    pub period_us: u64,
    #[command(flatten)]
    #[serde(flatten)]
    pub fail_above: FailAboveUs,
}

/// The measurement the options ask for (from the command line or a plan).
fn options(a: &Args) -> Options {
    Options {
        cpu: a.cpu.0,
        duration: a.section.duration,
        period_us: a.section.period_us,
        fail_above_us: a.section.fail_above.fail_above_us,
        checkpoint_every: CHECKPOINT_EVERY,
    }
}

/// The timerlat test.
pub struct TimerlatTest;

impl Test for TimerlatTest {
    fn name(&self) -> &'static str {
        NAME
    }

    fn files(&self) -> &'static [&'static str] {
        &["timerlat.json", "timerlat-histogram.csv"]
    }

    fn title(&self) -> &'static str {
        "Timer latency (timerlat tracer)"
    }

    fn method(&self) -> &'static str {
        "The kernel's timerlat tracer arms a timer every period on the CPU and records how late its handler ran (IRQ latency) and how late the kernel thread it wakes ran (thread latency); its noise events say what delayed the worst activation, as rtla timerlat -a does, and what no guest event explains (in a VM, mostly the hypervisor)."
    }

    fn command(&self) -> clap::Command {
        Args::augment_args(clap::Command::new(NAME)).about(
            "Timer latency: run the kernel's timerlat tracer on the CPU and record its IRQ and thread latencies and what delayed the worst",
        )
    }

    fn section(&self) -> clap::Command {
        Section::augment_args(clap::Command::new(NAME))
    }

    /// A plan measures a minute (the command line: a quick look of 10 s).
    fn plan_defaults(&self) -> &'static [(&'static str, &'static str)] {
        &[("duration", "60s")]
    }

    /// The kernel's view of the same latency as wakeup's, run only when a plan lists it.
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
        })
    }

    fn read(&self, path: &Path) -> Result<Option<Box<dyn TestResult>>> {
        let result: Option<Timerlat> = read::result(path, Some(NAME))?;
        Ok(result.map(|r| Box::new(r) as Box<dyn TestResult>))
    }
}

impl Planned for Args {
    fn test(&self) -> &'static dyn Test {
        &TimerlatTest
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.section).unwrap_or_default()
    }

    fn part(&self) -> Part {
        let d = self.section.duration;
        Part {
            name: NAME.to_string(),
            amount: format!(
                "{} of activations every {}",
                duration::format(d),
                duration::format(Duration::from_micros(self.section.period_us))
            ),
            length: Some(d),
            estimate: false,
        }
    }

    /// The tracer's own message says what is missing and how to get it.
    fn preflight(&self) -> Result<()> {
        timerlat::preflight(self.cpu.0)
    }

    fn needs(&self) -> Option<String> {
        Some(format!(
            "tracefs and the kernel's timerlat tracer for cpu {}",
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
        Ok(Box::new(result))
    }
}

/// `min .. max` of a latency, in µs.
fn latency_line(name: &str, l: &Latency) -> String {
    let us = |ns: u64| ns as f64 / 1000.0;
    format!(
        "  {name} latency (us): min {:.3} mean {:.3} p50 {:.3} p99 {:.3} p99.99 {:.3} max {:.3}\n",
        us(l.min),
        l.mean / 1000.0,
        us(l.p50),
        us(l.p99),
        us(l.p9999),
        us(l.max)
    )
}

fn source_text(s: &Source) -> String {
    format!(
        "{} {} {:.1} us",
        s.class,
        if s.name.is_empty() { "-" } else { &s.name },
        s.total_ns as f64 / 1000.0
    )
}

impl TestResult for Timerlat {
    fn name(&self) -> &'static str {
        NAME
    }

    fn complete(&self) -> bool {
        self.complete
    }

    fn missing(&self) -> Vec<String> {
        match (self.complete, self.activations) {
            (true, _) => Vec::new(),
            (false, 0) => vec!["the tracer recorded no activation".to_string()],
            (false, n) => vec![format!(
                "stopped after {} activations of the {} periods asked, in {:.1} s",
                group_thousands(n),
                group_thousands(self.periods_asked),
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
            "timerlat: {} activations ({} with the thread's sample) in {:.1} s (asked {:.1} s), \
             every {} us, cpu {}; {} periods without an activation, {} events lost\n",
            self.activations,
            self.thread_samples,
            self.duration_s,
            self.duration_asked_s,
            self.period_us,
            self.cpu,
            self.periods_missed,
            self.events_lost
        );
        if let Some(l) = &self.irq_latency_ns {
            s += &latency_line("IRQ", l);
        }
        if let Some(l) = &self.thread_latency_ns {
            s += &latency_line("thread", l);
        }
        if let Some(w) = &self.worst {
            s += &format!(
                "  worst: activation #{} at {:.3} s, IRQ {:.1} us, thread {:.1} us: IRQ delay \
                 {:.1} us, timer IRQ {:.1} us, blocking thread {:.1} us, NMI {:.1} us, IRQ \
                 {:.1} us, softirq {:.1} us, thread {:.1} us, not explained {:.1} us\n",
                w.seqnum,
                w.at_s,
                us(w.irq_latency_ns),
                us(w.thread_latency_ns),
                us(w.irq_delay_ns),
                us(w.timer_irq_ns),
                us(w.blocking_thread.as_ref().map_or(0, |b| b.total_ns)),
                us(w.nmi_ns),
                us(w.irq_ns),
                us(w.softirq_ns),
                us(w.thread_ns),
                us(w.unexplained_ns)
            );
            if let Some(p) = &w.previous_irq {
                s += &format!("    previous IRQ: {}\n", source_text(p));
            }
            if let Some(b) = &w.blocking_thread {
                s += &format!("    blocking thread: {}\n", source_text(b));
            }
            for x in w.sources.iter().take(8) {
                s += &format!("    {:>5} x {}\n", x.count, source_text(x));
            }
        }
        s
    }

    fn progress(&self) -> String {
        let max = |l: &Option<Latency>| l.as_ref().map_or(0, |l| l.max) as f64 / 1e3;
        format!(
            "{} activations, max IRQ {:.1} us, max thread {:.1} us",
            self.activations,
            max(&self.irq_latency_ns),
            max(&self.thread_latency_ns)
        )
    }

    fn extra_files(&self, put: &mut dyn FnMut(&str, &[u8]) -> Result<()>) -> Result<()> {
        put(
            &format!("{NAME}-histogram.csv"),
            self.histogram_csv().as_bytes(),
        )
    }

    fn lines(&self) -> Vec<Line> {
        let thread = self.thread_latency_ns.clone().unwrap_or_default();
        let irq = self.irq_latency_ns.clone().unwrap_or_default();
        let (t_measured, i_measured) = (
            self.thread_latency_ns.is_some(),
            self.irq_latency_ns.is_some(),
        );
        let mean = |key: u64, name: &str, metric: &str, l: &Latency, measured: bool| {
            Line::new(
                key,
                name,
                if measured {
                    Cell::Ns(l.mean)
                } else {
                    Cell::Missing
                },
                measured
                    .then(|| Metric::new(metric, l.mean, "ns"))
                    .flatten(),
            )
        };
        let count = |key: u64, name: &str, metric: &str, v: u64| {
            Line::new(
                key,
                name,
                Cell::Text(group_thousands(v)),
                Metric::new(metric, v as f64, "count"),
            )
        };
        let t = |key, name, metric, v| Line::ns(key, name, metric, v, t_measured);
        let i = |key, name, metric, v| Line::ns(key, name, metric, v, i_measured);
        let mut activations = group_thousands(self.activations);
        if !self.complete {
            activations.push_str(" (partial)");
        }
        let mut lines = vec![
            Line {
                headline: true,
                compare: t_measured.then(|| "timerlat thread\nmax latency".to_string()),
                ..t(0, "thread latency, max", "thread_max", thread.max)
            },
            t(1, "thread latency, p99.99", "thread_p9999", thread.p9999),
            t(2, "thread latency, p99", "thread_p99", thread.p99),
            t(3, "thread latency, p50", "thread_p50", thread.p50),
            mean(
                4,
                "thread latency, mean",
                "thread_mean",
                &thread,
                t_measured,
            ),
            t(5, "thread latency, min", "thread_min", thread.min),
            Line {
                compare: i_measured.then(|| "timerlat IRQ\nmax latency".to_string()),
                ..i(6, "IRQ latency, max", "irq_max", irq.max)
            },
            i(7, "IRQ latency, p99.99", "irq_p9999", irq.p9999),
            i(8, "IRQ latency, p99", "irq_p99", irq.p99),
            i(9, "IRQ latency, p50", "irq_p50", irq.p50),
            mean(10, "IRQ latency, mean", "irq_mean", &irq, i_measured),
            i(11, "IRQ latency, min", "irq_min", irq.min),
        ];
        let w = self.worst.clone().unwrap_or_default();
        let measured = self.worst.is_some();
        let ns = |key, name, metric, v| Line::ns(key, name, metric, v, measured);
        lines.extend([
            ns(
                12,
                "worst: IRQ handler delay",
                "worst_irq_delay",
                w.irq_delay_ns,
            ),
            ns(13, "worst: timer IRQ", "worst_timer_irq", w.timer_irq_ns),
            ns(
                14,
                "worst: blocking thread",
                "worst_blocking_thread",
                w.blocking_thread.as_ref().map_or(0, |b| b.total_ns),
            ),
            ns(15, "worst: NMIs", "worst_nmi", w.nmi_ns),
            ns(16, "worst: IRQs", "worst_irq", w.irq_ns),
            ns(17, "worst: softirqs", "worst_softirq", w.softirq_ns),
            ns(18, "worst: threads", "worst_thread", w.thread_ns),
            ns(
                19,
                "worst: not explained (hypervisor)",
                "worst_unexplained",
                w.unexplained_ns,
            ),
            Line::new(
                20,
                "activations",
                Cell::Text(activations),
                Metric::new("activations", self.activations as f64, "count"),
            ),
            Line::new(
                21,
                "period",
                Cell::Ns(self.period_us as f64 * 1000.0),
                Metric::new("period", self.period_us as f64 * 1000.0, "ns"),
            ),
            count(
                22,
                "periods without an activation",
                "periods_missed",
                self.periods_missed,
            ),
            count(23, "events lost", "events_lost", self.events_lost),
            Line::new(
                24,
                "measured time",
                Cell::Text(seconds(self.duration_s)),
                Metric::new("duration", self.duration_s, "s"),
            ),
        ]);
        lines
    }

    fn distributions(&self) -> Vec<Distribution<'_>> {
        vec![
            Distribution {
                column: "timerlat_irq".to_string(),
                histogram: &self.irq_histogram,
                samples: self.activations,
                min: self.irq_latency_ns.as_ref().map(|l| l.min),
                max: self.irq_latency_ns.as_ref().map(|l| l.max),
            },
            Distribution {
                column: "timerlat_thread".to_string(),
                histogram: &self.thread_histogram,
                samples: self.thread_samples,
                min: self.thread_latency_ns.as_ref().map(|l| l.min),
                max: self.thread_latency_ns.as_ref().map(|l| l.max),
            },
        ]
    }

    fn figures(&self, _label: &str) -> Vec<Figure> {
        Vec::new()
    }

    fn fail_above(&self) -> Option<&FailAbove> {
        self.fail_above.as_ref()
    }

    fn fail_above_values(&self) -> &'static str {
        "thread latencies"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::timerlat::Worst;

    fn result(worst: bool) -> Timerlat {
        let latency = |base: u64| {
            serde_json::json!({"min": base, "mean": base as f64 * 1.5, "p50": base + 1,
                "p99": base * 2, "p9999": base * 3, "max": base * 4})
        };
        let mut t: Timerlat = serde_json::from_value(serde_json::json!({
            "schema": 1, "test": "timerlat", "rust_bench_version": null, "command_line": null,
            "started": null, "complete": true, "end": "duration", "cpu": 1, "period_us": 1000,
            "duration_asked_s": 2.0, "periods_asked": 2000, "duration_s": 2.3,
            "activations": 1990, "thread_samples": 1990, "periods_missed": 10,
            "samples_dropped": 2, "irq_latency_ns": latency(1_000),
            "thread_latency_ns": latency(5_000),
            "irq_histogram": {"unit": "ns", "relative_error": 0.0039, "sub_buckets": 128, "buckets": []},
            "thread_histogram": {"unit": "ns", "relative_error": 0.0039, "sub_buckets": 128, "buckets": []},
            "fixed_histogram": {"limit_us": 1000, "buckets": [], "irq_overflow": 0, "thread_overflow": 0},
            "worst": null, "events_lost": 0, "trace_reader": "binary", "buffer_size_kb": 1024,
            "environment": crate::results::fixture::environment(None, false, false),
        }))
        .unwrap();
        if worst {
            t.worst = Some(Worst {
                seqnum: 7,
                at_s: 0.006,
                irq_latency_ns: 4_000,
                thread_latency_ns: 20_000,
                irq_delay_ns: 3_000,
                timer_irq_ns: 1_000,
                softirq_ns: 500,
                unexplained_ns: 15_500,
                ..Worst::default()
            });
        }
        t
    }

    fn metric(lines: &[Line], name: &str) -> Option<(f64, &'static str)> {
        lines
            .iter()
            .filter_map(|l| l.metric.as_ref())
            .find(|m| m.name == name)
            .map(|m| (m.value, m.unit))
    }

    #[test]
    fn lines_carry_both_latencies_and_the_worst_activation() {
        let r = result(true);
        let lines = r.lines();
        assert!(lines[0].headline);
        assert_eq!(metric(&lines, "thread_max"), Some((20_000.0, "ns")));
        assert_eq!(metric(&lines, "irq_max"), Some((4_000.0, "ns")));
        assert_eq!(metric(&lines, "irq_mean"), Some((1_500.0, "ns")));
        assert_eq!(metric(&lines, "worst_unexplained"), Some((15_500.0, "ns")));
        assert_eq!(metric(&lines, "worst_blocking_thread"), Some((0.0, "ns")));
        assert_eq!(metric(&lines, "periods_missed"), Some((10.0, "count")));
        let names: Vec<&str> = lines
            .iter()
            .filter_map(|l| l.metric.as_ref().map(|m| m.name.as_str()))
            .collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        let compared: Vec<_> = lines.iter().filter_map(|l| l.compare.clone()).collect();
        assert_eq!(compared.len(), 2);
        let d = r.distributions();
        assert_eq!(d.len(), 2);
        assert_eq!(
            (d[1].column.as_str(), d[1].max),
            ("timerlat_thread", Some(20_000))
        );
        assert!(
            r.summary().contains("not explained 15.5 us"),
            "{}",
            r.summary()
        );
        // Without a worst activation its rows are empty, not 0.
        let lines = result(false).lines();
        assert_eq!(metric(&lines, "worst_unexplained"), None);
        assert!(
            lines
                .iter()
                .any(|l| l.name.starts_with("worst") && l.cell == Cell::Missing)
        );
    }

    #[test]
    fn an_incomplete_run_says_what_it_lacks() {
        let mut r = result(false);
        r.complete = false;
        assert_eq!(
            r.missing(),
            ["stopped after 1,990 activations of the 2,000 periods asked, in 2.3 s"]
        );
        r.activations = 0;
        assert_eq!(r.missing(), ["the tracer recorded no activation"]);
    }

    #[test]
    fn options_and_the_plan_length() {
        use clap::Parser;
        #[derive(Parser)]
        struct T {
            #[command(flatten)]
            a: Args,
        }
        let t = T::try_parse_from(["x"]).unwrap();
        let o = options(&t.a);
        assert_eq!((o.duration, o.period_us), (Duration::from_secs(10), 1000));
        let t = T::try_parse_from(["x", "--duration", "2s", "--period-us", "500"]).unwrap();
        let part = t.a.part();
        assert_eq!(part.amount, "2s of activations every 500us");
        assert_eq!(part.length, Some(Duration::from_secs(2)));
        assert!(T::try_parse_from(["x", "--period-us", "99"]).is_err());
        assert!(T::try_parse_from(["x", "--duration", "99ms"]).is_err());
    }
}
