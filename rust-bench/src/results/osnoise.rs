//! `osnoise.json`: the kernel's osnoise tracer on the test CPU (docs/results-format.md).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::results::End;
use crate::results::environment::Environment;
use crate::results::threshold::FailAbove;
use crate::results::trace::TraceReader;

/// The test's name: `test` in its file, the file's stem, the subcommand.
pub const NAME: &str = "osnoise";

/// The osnoise result (`osnoise.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Osnoise {
    pub schema: u32,
    /// [`NAME`].
    pub test: String,
    #[serde(default)]
    pub rust_bench_version: Option<String>,
    #[serde(default)]
    pub command_line: Option<Vec<String>>,
    #[serde(default)]
    pub started: Option<String>,
    pub complete: bool,
    pub end: End,
    pub cpu: usize,
    /// The tracer's period and, within it, how long its thread measures (µs).
    pub period_us: u64,
    pub runtime_us: u64,
    /// Wall time the test took, from tracing on to the last reading of the trace.
    pub duration_s: f64,
    /// The duration asked for (`--duration`, `osnoise.duration`); absent in older files.
    #[serde(default)]
    pub duration_asked_s: Option<f64>,
    /// Periods counted (one summary line each): the first `periods_asked` the tracer
    /// reported, fewer only when the run was stopped or the last summary never came.
    pub periods: u64,
    /// The periods the run asked for: the duration over the period, rounded up. Absent in
    /// files written before it existed.
    #[serde(default)]
    pub periods_asked: Option<u64>,
    /// How the trace was read: `binary` (`trace_pipe_raw`) or `text` (`trace_pipe`);
    /// absent in files written before the binary reader existed (text).
    #[serde(default)]
    pub trace_reader: Option<TraceReader>,
    /// The instance's ring buffer of the measured CPU, KiB; absent in older files (1024).
    #[serde(default)]
    pub buffer_size_kb: Option<u64>,
    /// Summaries of later periods that the reading found (the tracer runs on until it is
    /// stopped) and did not count, and the noise events that came with them.
    #[serde(default)]
    pub summaries_dropped: u64,
    #[serde(default)]
    pub events_dropped: u64,
    /// Time the tracer's thread measured, summed over the periods.
    pub runtime_ns: u64,
    /// Noise (time taken from the thread) summed over the periods.
    pub noise_ns: u64,
    /// The noisiest period's noise.
    pub max_period_noise_ns: u64,
    /// The longest single noise.
    pub max_single_noise_ns: u64,
    /// What `--fail-above-us` found (the periods whose longest single noise is above it;
    /// the first's time is its period's start), when given; absent in files written
    /// before it existed.
    #[serde(default)]
    pub fail_above: Option<FailAbove>,
    /// The lowest share of the CPU left to the thread in one period, percent.
    pub min_available_pct: Option<f64>,
    /// The tracer's interference counters summed over the periods.
    pub counts: Counts,
    /// Per source, from the tracer's noise events, largest total first.
    pub sources: Vec<NoiseSource>,
    /// Noise the kernel does not name: `noise_ns` minus the time the named noise events
    /// (`sources`) account for, never below 0 ([`unnamed_noise_ns`]). In a VM the
    /// hypervisor (also SMIs and interrupt entry/exit). An upper bound when events were
    /// lost. Absent (None) in files written before it existed, whose `hw` sources (the
    /// tracer's `sample_threshold` events) stand for it.
    #[serde(default)]
    pub hw_noise_ns: Option<u64>,
    /// Events not read: lost by the kernel (overwritten or dropped) or left unread in the
    /// buffer at the end.
    pub events_lost: u64,
    pub environment: Environment,
}

/// The noise the kernel does not name: the summaries' `noise_ns` minus the time the named
/// noise events (every class but `hw`) account for, never below 0.
pub fn unnamed_noise_ns(noise_ns: u64, sources: &[NoiseSource]) -> u64 {
    let named: u64 = sources
        .iter()
        .filter(|s| s.class != "hw")
        .map(|s| s.total_ns)
        .sum();
    noise_ns.saturating_sub(named)
}

/// How often each kind of noise interfered.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Noise with no guest event: the hypervisor in a VM (the tracer's "HW" column).
    pub hw: u64,
    pub nmi: u64,
    pub irq: u64,
    pub softirq: u64,
    pub thread: u64,
}

/// One source of noise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoiseSource {
    /// `hw`, `nmi`, `irq`, `softirq` or `thread`.
    pub class: String,
    /// The IRQ's or vector's name, the softirq, the thread's command ("" for hw and nmi).
    pub name: String,
    pub count: u64,
    pub total_ns: u64,
    pub max_ns: u64,
}

impl Osnoise {
    /// `class,name,count,total_ns,max_ns` per source (`osnoise-sources.csv`).
    pub fn sources_csv(&self) -> String {
        let mut s = String::from("class,name,count,total_ns,max_ns\n");
        for x in &self.sources {
            let _ = writeln!(
                s,
                "{},\"{}\",{},{},{}",
                x.class,
                x.name.replace('"', "\"\""),
                x.count,
                x.total_ns,
                x.max_ns
            );
        }
        s
    }

    /// The noise of one class summed over `sources`.
    fn class_total(&self, class: &str) -> u64 {
        self.sources
            .iter()
            .filter(|s| s.class == class)
            .map(|s| s.total_ns)
            .sum()
    }

    /// The noise the kernel does not name ([`Osnoise::hw_noise_ns`]); in an older file, its
    /// `hw` sources.
    pub fn hw_ns(&self) -> u64 {
        self.hw_noise_ns.unwrap_or_else(|| self.class_total("hw"))
    }

    /// The share of the noise the kernel does not name, 0 to 1; None without noise.
    pub fn hw_share(&self) -> Option<f64> {
        (self.noise_ns > 0).then(|| self.hw_ns() as f64 / self.noise_ns as f64)
    }

    /// Noise per class, in the order hw ([`Osnoise::hw_ns`]), nmi, irq, softirq, thread
    /// (`sources` summed by class).
    pub fn by_class(&self) -> Vec<(&'static str, u64)> {
        ["hw", "nmi", "irq", "softirq", "thread"]
            .into_iter()
            .map(|c| match c {
                "hw" => (c, self.hw_ns()),
                _ => (c, self.class_total(c)),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(class: &str, total_ns: u64) -> NoiseSource {
        NoiseSource {
            class: class.to_string(),
            name: String::new(),
            count: 1,
            total_ns,
            max_ns: total_ns,
        }
    }

    #[test]
    fn unnamed_noise_is_what_the_named_events_leave() {
        let named = [source("irq", 3_000), source("thread", 2_000)];
        assert_eq!(unnamed_noise_ns(10_000, &named), 5_000);
        // Never below 0: events below the tracer's threshold still name their time.
        assert_eq!(unnamed_noise_ns(4_000, &named), 0);
        // hw sources (sample_threshold events, in older files) name nothing.
        assert_eq!(unnamed_noise_ns(10_000, &[source("hw", 9_000)]), 10_000);
        assert_eq!(unnamed_noise_ns(0, &[]), 0);
    }
}
