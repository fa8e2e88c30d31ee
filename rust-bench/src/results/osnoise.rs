//! `osnoise.json`: the kernel's osnoise tracer on the test CPU (docs/results-format.md).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::results::End;
use crate::results::environment::Environment;

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
    /// Wall time the tracer ran.
    pub duration_s: f64,
    /// Periods the tracer reported (one summary line each).
    pub periods: u64,
    /// Time the tracer's thread measured, summed over the periods.
    pub runtime_ns: u64,
    /// Noise (time taken from the thread) summed over the periods.
    pub noise_ns: u64,
    /// The noisiest period's noise.
    pub max_period_noise_ns: u64,
    /// The longest single noise.
    pub max_single_noise_ns: u64,
    /// The lowest share of the CPU left to the thread in one period, percent.
    pub min_available_pct: Option<f64>,
    /// The tracer's interference counters summed over the periods.
    pub counts: Counts,
    /// Per source, from the tracer's noise events, largest total first.
    pub sources: Vec<NoiseSource>,
    /// Events the kernel lost.
    pub events_lost: u64,
    pub environment: Environment,
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

    /// Noise summed per class from `sources`, in the order hw, nmi, irq, softirq, thread.
    pub fn by_class(&self) -> Vec<(&'static str, u64)> {
        ["hw", "nmi", "irq", "softirq", "thread"]
            .into_iter()
            .map(|c| {
                (
                    c,
                    self.sources
                        .iter()
                        .filter(|s| s.class == c)
                        .map(|s| s.total_ns)
                        .sum(),
                )
            })
            .collect()
    }
}
