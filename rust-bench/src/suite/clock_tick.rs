//! The clock tick test (the paper's test 1) as one thing: its options, its measurement
//! ([`crate::measure::clock_tick`]), its result ([`crate::results::clock_tick`]), its
//! summary, its files and its part of the report.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use clap::{Args as ClapArgs, FromArgMatches};
use serde::Serialize;

use crate::figures;
use crate::figures::svg::{format_ns, group_thousands};
use crate::measure::clock_tick::{Limit, Options, hang, measure};
use crate::options::duration;
use crate::options::{self, Attribute, Count, Cpu, FailAboveUs, LoopUs, Priority, ThresholdUs};
use crate::platform::tracefs::{Tracefs, wanted_events};
use crate::platform::{rt_setup, tsc};
use crate::results::clock_tick::{ClockTick, LoopCalibration, NAME};
use crate::results::environment::Environment;
use crate::results::rt_setup::RtSetupRecord;
use crate::results::threshold::FailAbove;
use crate::results::trace::TraceReader;
use crate::results::{read, writer};
use crate::suite::test::{
    Amount, CHECKPOINT_EVERY, Cell, Distribution, Figure, Hang, Line, Metric, Outputs, Part,
    Planned, RtThrottlingFlag, Test, TestResult, plan_key, seconds, standalone,
};

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    pub cpu: Cpu,
    #[command(flatten)]
    pub priority: Priority,
    #[command(flatten)]
    pub section: Section,
    /// Length of one measuring burst in milliseconds (1 to 3600000).
    #[arg(long, default_value_t = 500, value_parser = options::whole_in(1, 3_600_000))]
    pub burst_ms: u64,
    /// Sleep between bursts in microseconds (0 to 10000000; 0 = no sleep: only for multi-CPU
    /// machines).
    #[arg(long, default_value_t = 2000, value_parser = options::whole_in(0, 10_000_000))]
    pub gap_us: u64,
    /// Timestamp source.
    #[arg(long, value_enum, default_value_t)]
    pub clock: tsc::Choice,
    #[command(flatten)]
    pub throttling: RtThrottlingFlag,
    /// Initial timeline interval in microseconds (doubles whenever the timeline is full).
    #[arg(long, hide = true, default_value_t = 1000, value_parser = options::whole_in(1, 3_600_000_000))]
    pub timeline_us: u64,
    #[command(flatten)]
    pub trace_reader: TraceReader,
    #[command(flatten)]
    pub outputs: Outputs,
}

// The options a plan sets in its section of bench.conf (`clock_tick.<option>`), as
// `run.json` records them (the length as `amount`). (Not a doc comment: clap would take it
// as the subcommand's about line.)
#[derive(Debug, ClapArgs, Serialize)]
pub struct Section {
    /// How long to measure, at least 100ms, e.g. 10s, 5m, 1h, unless --samples is given (a
    /// quick look from the command line).
    #[arg(long, default_value = "10s", value_parser = options::test_duration, conflicts_with = "samples")]
    #[serde(skip)]
    pub duration: Duration,
    /// How many samples to take (at least 1; the paper: 50000000).
    #[arg(long, value_parser = Count::parse)]
    #[serde(skip)]
    pub samples: Option<Count>,
    /// Busy-loop length in microseconds (0 to 100000; 0 = back-to-back timestamps, oslat's
    /// method).
    #[arg(long, default_value_t = LoopUs::DEFAULT, value_parser = LoopUs::parse)]
    pub loop_us: LoopUs,
    /// A sample whose overhead (sample - minimum) reaches this many microseconds is a spike
    /// (0.001 to 1000000).
    #[arg(long, default_value_t = ThresholdUs::DEFAULT, value_parser = ThresholdUs::parse)]
    pub threshold_us: ThresholdUs,
    /// Trace the measured CPU and split every spike into its causes (IRQ handlers, vectors,
    /// softirqs, NMIs, other threads, unexplained). `auto`: only where tracefs is available.
    /// Off unless given: from the command line rust-bench changes the machine's tracing only
    /// when asked.
    #[arg(long, num_args = 0..=1, require_equals = true, value_parser = Attribute::parse,
          default_value_t = Attribute::Off, default_missing_value = "on")]
    pub attribute: Attribute,
    /// Make the run hang (a knob for the watchdogs' tests): the measuring thread spins for
    /// ever, deaf to stop requests.
    #[arg(long, hide = true, value_enum, default_value_t)]
    #[serde(skip_serializing_if = "Hang::is_no")]
    pub hang: Hang,
    #[command(flatten)]
    #[serde(flatten)]
    pub fail_above: FailAboveUs,
}

impl Section {
    /// How long it measures: the samples when given, else the duration.
    pub fn amount(&self) -> Amount {
        match self.samples {
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
                Amount::Count(n) => Limit::Samples(n),
                Amount::Duration(d) => Limit::Duration(d),
            },
            loop_ns: s.loop_us.ns(),
            threshold_ns: s.threshold_us.ns(),
            fail_above_us: s.fail_above.fail_above_us,
            burst: Duration::from_millis(a.burst_ms),
            gap: Duration::from_micros(a.gap_us),
            clock: a.clock,
            lift_rt_throttling: a.throttling.no_rt_throttling,
            rt_setup: None,
            checkpoint_every: CHECKPOINT_EVERY,
            checkpoint_settle: Duration::ZERO,
            spike_list_cap: Options::SPIKE_LIST_CAP,
            timeline_cap: Options::TIMELINE_CAP,
            warmup: Options::WARMUP,
            timeline_interval: Duration::from_micros(a.timeline_us),
            attribute: s.attribute,
            trace_reader: a.trace_reader,
        }
    }
}

impl Default for Args {
    /// Every option at its default: what `rust-bench clock-tick` alone measures.
    fn default() -> Args {
        let matches = ClockTickTest.command().get_matches_from([NAME]);
        Args::from_arg_matches(&matches).expect("the defaults are valid")
    }
}

/// The clock tick test.
pub struct ClockTickTest;

impl Test for ClockTickTest {
    fn name(&self) -> &'static str {
        NAME
    }

    fn files(&self) -> &'static [&'static str] {
        &[
            "clock-tick.json",
            "clock-tick-timeline.csv",
            "clock-tick-histogram.csv",
            "clock-tick-spikes.csv",
            "clock-tick-timeline.svg",
            "clock-tick-histogram.svg",
            "clock-tick-attribution.svg",
        ]
    }

    fn title(&self) -> &'static str {
        "Clock tick processing duration"
    }

    fn method(&self) -> &'static str {
        "A SCHED_FIFO thread times a fixed busy loop with the TSC; a loop grows when an interrupt, the tick or the hypervisor takes the CPU. Max overhead = longest loop − shortest loop."
    }

    fn command(&self) -> clap::Command {
        Args::augment_args(clap::Command::new(NAME))
            .about("Test 1: clock tick processing duration (a fixed busy loop timed with the TSC)")
    }

    fn section(&self) -> clap::Command {
        Section::augment_args(clap::Command::new(NAME))
    }

    /// A plan measures the paper's hour, 50 million samples (the command line: a quick look
    /// of 10 s), and attributes its spikes where the kernel can trace them (the command
    /// line changes the machine's tracing only when asked).
    fn plan_defaults(&self) -> &'static [(&'static str, &'static str)] {
        &[("samples", "50000000"), ("attribute", "auto")]
    }

    fn planned(&self, matches: &clap::ArgMatches) -> Result<Box<dyn Planned>> {
        Ok(Box::new(Args::from_arg_matches(matches)?))
    }

    fn main(&self, matches: &clap::ArgMatches) -> Result<()> {
        let args = Args::from_arg_matches(matches)?;
        if args.section.hang != Hang::No {
            match hang(args.cpu.0, args.priority.0)? {}
        }
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
        let result: Option<ClockTick> = read::result(path, Some(NAME))?;
        Ok(result.map(|r| Box::new(r) as Box<dyn TestResult>))
    }
}

impl Planned for Args {
    fn test(&self) -> &'static dyn Test {
        &ClockTickTest
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

    /// The samples' length, in bursts with a pause between them.
    fn part(&self) -> Part {
        let s = &self.section;
        let (amount, length, estimate) = match s.amount() {
            Amount::Duration(d) => (duration::format(d), Some(d), false),
            Amount::Count(n) => {
                let busy = self.burst_ms as f64 * 1e-3;
                let share = (busy + self.gap_us as f64 * 1e-6) / busy;
                let ns = s.loop_us.ns();
                let length =
                    (ns > 0).then(|| Duration::from_secs_f64(n as f64 * ns as f64 * 1e-9 * share));
                (
                    format!("{n} samples of a {} us loop", s.loop_us),
                    length,
                    true,
                )
            }
        };
        Part {
            name: NAME.to_string(),
            amount,
            length,
            estimate,
        }
    }

    fn hang(&self) -> Hang {
        self.section.hang
    }

    /// Attribution `on` needs tracefs and the tracepoints it records (`auto` measures
    /// without attribution where they are missing, and says so).
    fn preflight(&self) -> Result<()> {
        if self.needs().is_none() {
            return Ok(());
        }
        let key = plan_key(NAME, "attribute");
        Tracefs::open()
            .and_then(|fs| wanted_events(&fs.root().join("events")).map(drop))
            .map_err(|e| {
                anyhow::anyhow!(
                    "{key} = on needs the kernel's tracing: {e:#}; set {key} = auto \
                     (attribution where tracing exists) or off in the plan"
                )
            })
    }

    fn needs(&self) -> Option<String> {
        let s = &self.section;
        (s.attribute == Attribute::On && s.hang == Hang::No).then(|| {
            format!(
                "tracefs and the tracepoints attribution records ({} = on)",
                plan_key(NAME, "attribute")
            )
        })
    }

    fn run(
        &self,
        rt_setup: Option<&RtSetupRecord>,
        checkpoint: &mut dyn FnMut(&dyn TestResult),
    ) -> Result<Box<dyn TestResult>> {
        if self.section.hang != Hang::No {
            eprintln!(
                "rust-bench: {NAME}: made to hang (a knob for tests): spinning without sleeping, deaf to stop requests"
            );
            match hang(self.cpu.0, self.priority.0)? {}
        }
        let opts = Options {
            rt_setup: rt_setup.cloned(),
            ..Options::from_args(self)
        };
        let result = measure(&opts, &mut |partial| checkpoint(partial))?;
        Ok(Box::new(result))
    }
}

/// The fraction of the planned run done.
fn done(opts: &Options, r: &ClockTick) -> f64 {
    match opts.limit {
        Limit::Duration(d) => r.duration_s / d.as_secs_f64().max(1e-9),
        Limit::Samples(n) => r.samples as f64 / n.max(1) as f64,
    }
}

impl TestResult for ClockTick {
    fn name(&self) -> &'static str {
        NAME
    }

    fn complete(&self) -> bool {
        self.complete
    }

    fn missing(&self) -> Vec<String> {
        match (self.complete, self.samples) {
            (true, _) => Vec::new(),
            (false, 0) => vec!["no sample was measured".to_string()],
            (false, n) => vec![format!(
                "stopped after {} samples in {:.1} s",
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
        summary_text(self)
    }

    fn progress(&self) -> String {
        format!(
            "{} samples, max overhead {:.1} us, {} spikes",
            self.samples,
            self.max_overhead_ns as f64 / 1e3,
            self.spikes.count
        )
    }

    fn extra_files(&self, put: &mut dyn FnMut(&str, &[u8]) -> Result<()>) -> Result<()> {
        // Each file is made, written and dropped in turn, so that a long run's large
        // timeline is held in one form at a time (the 16 MiB budget).
        put(
            &format!("{NAME}-timeline.csv"),
            self.timeline_csv().as_bytes(),
        )?;
        put(
            &format!("{NAME}-histogram.csv"),
            self.histogram_csv().as_bytes(),
        )?;
        put(&format!("{NAME}-spikes.csv"), self.spikes_csv().as_bytes())?;
        for figure in self.figures("") {
            put(&figure.file, figure.svg.as_bytes())?;
        }
        Ok(())
    }

    fn lines(&self) -> Vec<Line> {
        // A run cut short before its first sample has no loop to show: no figure at all
        // rather than zeros that read as a measurement.
        let measured = self.samples > 0;
        let ns =
            |key: u64, name: &str, metric: &str, v: u64| Line::ns(key, name, metric, v, measured);
        let mut samples = group_thousands(self.samples);
        if !self.complete {
            samples.push_str(" (partial)");
        }
        let clock = match self.clock.source.to_string().as_str() {
            // A frequency says something only for the TSC (clock_gettime counts ns).
            "tsc" if self.clock.hz >= 1e6 => format!("tsc, {:.3} GHz", self.clock.hz / 1e9),
            source => source.to_string(),
        };
        let l = &self.loop_ns;
        let mut lines = vec![Line {
            headline: true,
            compare: measured.then(|| "clock tick\nmax overhead".to_string()),
            ..ns(
                0,
                "max overhead (max − min loop)",
                "max_overhead",
                self.max_overhead_ns,
            )
        }];
        // How well the busy loop held its target, beside the overhead it qualifies.
        if let Some(c) = &self.loop_calibration {
            lines.push(calibration_line(c));
        }
        lines.extend([
            ns(1, "loop duration, min", "loop_min", l.min),
            ns(2, "loop duration, p50", "loop_p50", l.p50),
            ns(3, "loop duration, p99", "loop_p99", l.p99),
            ns(4, "loop duration, p99.99", "loop_p9999", l.p9999),
            ns(5, "loop duration, max", "loop_max", l.max),
            Line::new(
                6,
                "spikes",
                Cell::Text(group_thousands(self.spikes.count)),
                Metric::new("spikes", self.spikes.count as f64, "count"),
            ),
            Line::new(
                7,
                "spike threshold (overhead ≥)",
                Cell::Ns(self.spikes.threshold_ns as f64),
                Metric::new("spike_threshold", self.spikes.threshold_ns as f64, "ns"),
            ),
            Line::new(
                8,
                "samples",
                Cell::Text(samples),
                Metric::new("samples", self.samples as f64, "count"),
            ),
            Line::new(
                9,
                "measured time",
                Cell::Text(format!(
                    "{} of {}",
                    seconds(self.measured_s),
                    seconds(self.duration_s)
                )),
                Metric::new("measured", self.measured_s, "s"),
            ),
            Line::new(
                10,
                "duty cycle",
                Cell::Text(format!("{:.1} %", self.duty_cycle * 100.0)),
                Metric::new("duty_cycle", self.duty_cycle, "fraction"),
            ),
            Line::new(11, "clock", Cell::Text(clock), None),
        ]);
        // Beside the max: what no loop saw, between bursts.
        if let Some(p) = &self.pauses {
            let mut text = format!(
                "{} at {} (planned {})",
                format_ns(p.longest_ns as f64),
                seconds(p.longest_at_s),
                format_ns(p.planned_per_pause_ns() as f64)
            );
            if p.late > 0 {
                text += &format!(
                    "; {} {} late, the latest by {}",
                    p.late,
                    if p.late == 1 {
                        "pause ended"
                    } else {
                        "pauses ended"
                    },
                    format_ns(p.late_max_ns as f64)
                );
            }
            lines.push(Line {
                key: (0, 2),
                ..Line::new(
                    0,
                    "longest unobserved stretch",
                    Cell::Text(text),
                    Metric::new("longest_unobserved", p.longest_ns as f64, "ns"),
                )
            });
            lines.push(Line {
                key: (0, 3),
                ..Line::new(
                    0,
                    "late resumes",
                    Cell::Text(group_thousands(p.late)),
                    Metric::new("late_resumes", p.late as f64, "count"),
                )
            });
        }
        if let Some(a) = &self.attribution {
            lines.extend(crate::suite::attribution::lines(a, self.duration_s, 12));
        }
        lines
    }

    fn distributions(&self) -> Vec<Distribution<'_>> {
        let measured = self.samples > 0;
        vec![Distribution {
            column: "loop".to_string(),
            histogram: &self.histogram,
            samples: self.samples,
            min: measured.then_some(self.loop_ns.min),
            max: measured.then_some(self.loop_ns.max),
        }]
    }

    fn fail_above(&self) -> Option<&FailAbove> {
        self.fail_above.as_ref()
    }

    fn fail_above_values(&self) -> &'static str {
        "overheads"
    }

    fn figures(&self, label: &str) -> Vec<Figure> {
        let mut figures = vec![
            Figure {
                file: format!("{NAME}-timeline.svg"),
                svg: figures::clock_tick_timeline(self, label),
                caption: "Every loop's duration is folded into one interval's longest (top) and shortest (bottom): the paper's figures 2 and 3.",
            },
            Figure {
                file: format!("{NAME}-histogram.svg"),
                svg: figures::clock_tick_histogram(self, label),
                caption: "",
            },
        ];
        if let Some(a) = &self.attribution {
            let title = if label.is_empty() {
                "Clock tick test: where the spikes' time went".to_string()
            } else {
                format!("Clock tick test: where the spikes' time went — {label}")
            };
            figures.push(Figure {
                file: format!("{NAME}-attribution.svg"),
                svg: crate::suite::attribution::figure(a, &title),
                caption: "The spikes' overhead split by the kernel's trace of the CPU: guest IRQ handlers and vectors, softirqs, NMIs and other threads; unexplained is time no guest event covers (the hypervisor, firmware).",
            });
        }
        figures
    }
}

/// The loop calibration's row, right under the max overhead: the note when the shortest
/// loop missed its target by more than 1 % (or the target is shorter than a timestamp),
/// else how close it came; its CSV metric is `min_error_pct` unchanged.
fn calibration_line(c: &LoopCalibration) -> Line {
    let cell = match (&c.note, c.min_error_pct) {
        (Some(note), _) => Cell::Text(note.clone()),
        (None, Some(e)) => Cell::Text(format!(
            "shortest loop {e:+.2} % from the target (within 1 %)"
        )),
        (None, None) => Cell::Missing,
    };
    let metric = c
        .min_error_pct
        .and_then(|e| Metric::new("loop_min_error", e, "percent"));
    Line {
        key: (0, 1),
        ..Line::new(0, "loop calibration", cell, metric)
    }
}

/// A short human summary.
fn summary_text(r: &ClockTick) -> String {
    let l = &r.loop_ns;
    let us = |ns: u64| ns as f64 / 1000.0;
    let mut s = format!(
        "clock-tick: {} samples in {:.1} s (duty cycle {:.1} %), clock {} {:.0} MHz, cpu {} prio {}\n",
        r.samples,
        r.duration_s,
        r.duty_cycle * 100.0,
        r.clock.source,
        r.clock.hz / 1e6,
        r.cpu,
        r.priority
    );
    if let Some(p) = r.pauses.as_ref().filter(|p| p.late > 0) {
        s += &format!(
            "  held off while paused: {} of {} pauses ended late, the latest by {:.3} us; the \
             longest stretch no loop saw was {:.3} us at {:.3} s (planned {:.3} us)\n",
            p.late,
            p.count,
            us(p.late_max_ns),
            us(p.longest_ns),
            p.longest_at_s,
            us(p.planned_per_pause_ns())
        );
    }
    s += &format!(
        "  loop (us): target {:.3} min {:.3} p50 {:.3} p99 {:.3} p99.99 {:.3} max {:.3}\n",
        us(l.target),
        us(l.min),
        us(l.p50),
        us(l.p99),
        us(l.p9999),
        us(l.max)
    );
    s += &format!(
        "  max overhead {:.3} us; spikes >= {:.3} us: {}",
        us(r.max_overhead_ns),
        us(r.spikes.threshold_ns),
        r.spikes.count
    );
    if let Some(o) = &r.spikes.overhead_ns {
        s += &format!(
            " (overhead min {:.3} p50 {:.3} max {:.3} us)",
            us(o.min),
            us(o.p50),
            us(o.max)
        );
    }
    s += "\n";
    if let Some(note) = r.loop_calibration.as_ref().and_then(|c| c.note.as_ref()) {
        s += &format!("  loop calibration: {note}\n");
    }
    if let Some(p) = &r.pauses {
        s += &format!(
            "  pauses: {} between bursts, {:.3} s unobserved ({:.3} s planned), longest {:.3} us \
             at {:.3} s; {} ended late\n",
            p.count,
            p.unobserved_s,
            p.planned_s,
            us(p.longest_ns),
            p.longest_at_s,
            p.late
        );
    }
    if let Some(a) = &r.attribution {
        s += &format!(
            "  attribution ({} trace, {} events, {} lost): {} spikes split, {} unknown; \
             its own time {:.3} s ({:.1} % of the run){}\n",
            a.trace_clock,
            a.events_read,
            a.events_lost,
            a.spikes_attributed,
            a.spikes_unknown,
            a.drain_ns as f64 / 1e9,
            crate::suite::attribution::cost_share(a, r.duration_s) * 100.0,
            crate::suite::attribution::reader_note(a)
        );
        for c in a.causes.iter().take(8) {
            s += &format!(
                "    {:<11} {:<28} {:>7} spikes  total {:>10.1} us  max {:>8.1} us\n",
                c.class.as_str(),
                c.name,
                c.spikes,
                us(c.total_ns),
                us(c.max_ns)
            );
        }
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
    fn options_from_args() {
        use clap::Parser;
        #[derive(Parser)]
        struct T {
            #[command(flatten)]
            a: Args,
        }
        let t = T::try_parse_from([
            "x",
            "--samples",
            "5",
            "--loop-us",
            "0",
            "--threshold-us",
            "2.5",
        ])
        .unwrap();
        let o = Options::from_args(&t.a);
        assert_eq!(o.limit, Limit::Samples(5));
        assert_eq!(o.loop_ns, 0);
        assert_eq!(o.threshold_ns, 2500);
        assert_eq!(o.fail_above_us, None);
        let t = T::try_parse_from(["x", "--fail-above-us", "40"]).unwrap();
        assert_eq!(Options::from_args(&t.a).fail_above_us, Some(40));
        let Err(err) = T::try_parse_from(["x", "--fail-above-us", "0"]) else {
            panic!("--fail-above-us 0 accepted");
        };
        let err = err.to_string();
        assert!(err.contains("--fail-above-us"), "{err}");
        assert!(err.contains("0 is out of range (1 to 10000000)"), "{err}");
        assert!(T::try_parse_from(["x", "--samples", "5", "--duration", "1s"]).is_err());
        // Without either, the flags' default: a quick look of 10 s.
        let o = Options::from_args(&Args::default());
        assert_eq!(o.limit, Limit::Duration(Duration::from_secs(10)));
        assert_eq!(
            (o.burst, o.gap),
            (Duration::from_millis(500), Duration::from_millis(2))
        );
        let t = T::try_parse_from(["x", "--duration", "1m"]).unwrap();
        assert_eq!(
            Options::from_args(&t.a).limit,
            Limit::Duration(Duration::from_secs(60))
        );
        assert!(T::try_parse_from(["x", "--samples", "0"]).is_err());
        assert!(T::try_parse_from(["x", "--priority", "100"]).is_err());
        assert!(T::try_parse_from(["x", "--duration", "soon"]).is_err());
    }
}
