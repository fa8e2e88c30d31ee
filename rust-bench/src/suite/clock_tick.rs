//! The clock tick test (the paper's test 1) as one thing: its options, its measurement
//! ([`crate::measure::clock_tick`]), its result ([`crate::results::clock_tick`]), its
//! summary, its files and its part of the report.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use clap::{Args as ClapArgs, FromArgMatches};

use crate::figures;
use crate::figures::svg::group_thousands;
use crate::measure::clock_tick::{Limit, Options, hang, measure};
use crate::plan::config::{Amount, Hang, Plan};
use crate::plan::duration;
use crate::platform::{rt, tsc};
use crate::results::clock_tick::{ClockTick, NAME};
use crate::results::environment::Environment;
use crate::results::{read, writer};
use crate::suite::test::{
    CHECKPOINT_EVERY, Cell, Destinations, Figure, Line, Pacer, Progress, Test, TestResult,
};

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// CPU to measure on.
    #[arg(long, default_value_t = 0)]
    pub cpu: usize,
    /// SCHED_FIFO priority of the measuring thread (1-99).
    #[arg(long, default_value_t = 99, value_parser = clap::value_parser!(i32).range(1..=99))]
    pub priority: i32,
    /// How long to measure, e.g. 10s, 5m, 1h (default 10s unless --samples is given).
    #[arg(long, value_parser = duration::clap_duration, conflicts_with = "samples")]
    pub duration: Option<Duration>,
    /// How many samples to take (the paper: 50000000).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub samples: Option<u64>,
    /// Busy-loop length in microseconds (0 = back-to-back timestamps, oslat's method).
    #[arg(long, default_value_t = 68.0, value_parser = parse_loop_us)]
    pub loop_us: f64,
    /// A sample whose overhead (sample - minimum) reaches this many microseconds is a spike.
    #[arg(long, default_value_t = 20.0, value_parser = parse_threshold_us)]
    pub threshold_us: f64,
    /// Length of one measuring burst in milliseconds.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub burst_ms: u64,
    /// Sleep between bursts in microseconds (0 = no sleep: only for multi-CPU machines).
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(0..=10_000_000))]
    pub gap_us: u64,
    /// Timestamp source.
    #[arg(long, value_enum, default_value_t)]
    pub clock: tsc::Choice,
    /// Lift RT throttling (sched_rt_runtime_us = -1) for the run and restore it afterwards.
    #[arg(long)]
    pub no_rt_throttling: bool,
    /// Initial timeline interval in microseconds (doubles whenever the timeline is full).
    #[arg(long, hide = true, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=3_600_000_000))]
    pub timeline_us: u64,
    /// Write the JSON result to FILE ('-' for standard output).
    #[arg(long, value_name = "FILE")]
    pub json: Option<String>,
    /// Write clock-tick.json and the CSV files into DIR (created if needed).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

fn parse_loop_us(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (0.0..=100_000.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "'{s}' is not a loop length in microseconds between 0 and 100000"
        )),
    }
}

fn parse_threshold_us(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 10_000_000.0 => Ok(v),
        _ => Err(format!("'{s}' is not a positive threshold in microseconds")),
    }
}

impl Options {
    /// Build options from the command line.
    pub fn from_args(a: &Args) -> Options {
        let limit = match (a.samples, a.duration) {
            (Some(n), _) => Limit::Samples(n),
            (None, Some(d)) => Limit::Duration(d),
            (None, None) => Limit::Duration(Duration::from_secs(10)),
        };
        Options {
            cpu: a.cpu,
            priority: a.priority,
            limit,
            loop_ns: (a.loop_us * 1000.0).round() as u64,
            threshold_ns: (a.threshold_us * 1000.0).round() as u64,
            burst: Duration::from_millis(a.burst_ms),
            gap: Duration::from_micros(a.gap_us),
            clock: a.clock,
            lift_rt_throttling: a.no_rt_throttling,
            timeline_interval: Duration::from_micros(a.timeline_us),
            ..Options::default()
        }
    }
}

/// The clock tick test.
pub struct ClockTickTest;

impl Test for ClockTickTest {
    fn name(&self) -> &'static str {
        NAME
    }

    fn title(&self) -> &'static str {
        "Clock tick processing duration"
    }

    fn method(&self) -> &'static str {
        "A SCHED_FIFO thread times a fixed busy loop with the TSC; a loop grows when an interrupt, the tick or the hypervisor takes the CPU. Max overhead = longest loop − shortest loop."
    }

    fn command(&self) -> clap::Command {
        Args::augment_args(
            clap::Command::new(NAME).about(
                "Test 1: clock tick processing duration (a fixed busy loop timed with the TSC)",
            ),
        )
    }

    fn main(&self, matches: &clap::ArgMatches) -> Result<()> {
        let args = Args::from_arg_matches(matches)?;
        let progress = Progress::new(NAME);
        let opts = Options {
            checkpoint_every: progress.interval(),
            ..Options::from_args(&args)
        };
        rt::install_stop_handler();
        let dest = Destinations {
            out: args.out.as_deref(),
            json: args.json.as_deref(),
            pacer: Pacer::default(),
        };
        let result = measure(&opts, &mut |partial| {
            dest.checkpoint(partial);
            progress.show(done(&opts, partial));
        })?;
        dest.finish(&result)
    }

    fn run_planned(
        &self,
        plan: &Plan,
        checkpoint: &mut dyn FnMut(&dyn TestResult),
    ) -> Result<Box<dyn TestResult>> {
        if plan.clock_tick.hang != Hang::No {
            eprintln!(
                "rust-bench: {NAME}: clock_tick.hang (a test knob): spinning without sleeping, deaf to stop requests"
            );
            match hang(plan.cpu, plan.priority)? {}
        }
        let opts = Options {
            cpu: plan.cpu,
            priority: plan.priority,
            limit: match plan.clock_tick.amount {
                Amount::Count(n) => Limit::Samples(n),
                Amount::Duration(d) => Limit::Duration(d),
            },
            loop_ns: (plan.clock_tick.loop_us * 1000.0).round() as u64,
            threshold_ns: ((plan.clock_tick.threshold_us * 1000.0).round() as u64).max(1),
            checkpoint_every: CHECKPOINT_EVERY,
            ..Options::default()
        };
        let result = measure(&opts, &mut |partial| checkpoint(partial))?;
        Ok(Box::new(result))
    }

    fn read(&self, path: &Path) -> Result<Option<Box<dyn TestResult>>> {
        let result: Option<ClockTick> = read::result(path, Some(NAME))?;
        Ok(result.map(|r| Box::new(r) as Box<dyn TestResult>))
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
        let ns = |v: u64| {
            if measured {
                Cell::Ns(v as f64)
            } else {
                Cell::Missing
            }
        };
        let line = |key: u64, name: &str, headline: bool, cell: Cell| Line {
            key: (key, 0),
            name: name.to_string(),
            headline,
            cell,
            metric: None,
            compare: None,
        };
        let mut samples = group_thousands(self.samples);
        samples.push_str(&format!(" in {:.0} s", self.duration_s));
        if !self.complete {
            samples.push_str(" (partial)");
        }
        let clock = match self.clock.source.to_string().as_str() {
            // A frequency says something only for the TSC (clock_gettime counts ns).
            "tsc" if self.clock.hz >= 1e6 => format!("tsc, {:.3} GHz", self.clock.hz / 1e9),
            source => source.to_string(),
        };
        vec![
            Line {
                metric: measured.then(|| {
                    (
                        "clock_tick_max_overhead".to_string(),
                        self.max_overhead_ns as f64,
                    )
                }),
                compare: measured.then(|| "clock tick\nmax overhead".to_string()),
                ..line(
                    0,
                    "max overhead (max − min loop)",
                    true,
                    ns(self.max_overhead_ns),
                )
            },
            line(1, "loop duration, min", false, ns(self.loop_ns.min)),
            line(2, "loop duration, max", false, ns(self.loop_ns.max)),
            line(
                3,
                "spikes",
                false,
                Cell::Text(format!(
                    "{} (≥ {})",
                    self.spikes.count,
                    crate::figures::svg::format_ns(self.spikes.threshold_ns as f64)
                )),
            ),
            line(4, "samples", false, Cell::Text(samples)),
            line(5, "clock", false, Cell::Text(clock)),
        ]
    }

    fn figures(&self, label: &str) -> Vec<Figure> {
        vec![
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
        ]
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
        assert!(T::try_parse_from(["x", "--samples", "5", "--duration", "1s"]).is_err());
        assert!(T::try_parse_from(["x", "--samples", "0"]).is_err());
        assert!(T::try_parse_from(["x", "--priority", "100"]).is_err());
        assert!(T::try_parse_from(["x", "--duration", "soon"]).is_err());
    }
}
