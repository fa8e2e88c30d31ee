//! `clock-tick.json`: the result of the clock tick test (docs/results-format.md).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::results::threshold::FailAbove;

use crate::results::End;
use crate::results::attribution::Attribution;
use crate::results::clock::ClockInfo;
use crate::results::environment::Environment;
use crate::results::rt_setup::RtSetupRecord;
use crate::results::stats::{HistogramJson, LoopSummary};

/// The test's name: `test` in its file, the file's stem, the subcommand.
pub const NAME: &str = "clock-tick";

/// The clock-tick result (`clock-tick.json`). See docs/results-format.md.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClockTick {
    pub schema: u32,
    /// [`NAME`].
    pub test: String,
    /// This rust-bench's version (null in files written before it was recorded).
    #[serde(default)]
    pub rust_bench_version: Option<String>,
    /// The command line of the process that measured (`rust-bench run ...` for a plan).
    #[serde(default)]
    pub command_line: Option<Vec<String>>,
    /// When the test started (UTC, RFC 3339).
    #[serde(default)]
    pub started: Option<String>,
    /// False in a checkpoint and when the run was interrupted.
    pub complete: bool,
    /// Why the run ended: samples, duration, signal, or running in a checkpoint.
    pub end: End,
    pub samples: u64,
    pub duration_s: f64,
    pub measured_s: f64,
    pub duty_cycle: f64,
    pub bursts: u64,
    pub burst_ms: u64,
    pub gap_us: u64,
    pub checkpoint_settle_ms: u64,
    pub loop_ns: LoopSummary,
    pub loop_iterations: u64,
    /// How the loop was calibrated and how far its shortest sample is from the target
    /// (null in files written before it was recorded).
    #[serde(default)]
    pub loop_calibration: Option<LoopCalibration>,
    pub max_overhead_ns: u64,
    pub spikes: Spikes,
    pub histogram: HistogramJson,
    pub timeline: Timeline,
    pub clock: ClockInfo,
    pub priority: i32,
    pub cpu: usize,
    pub rt_throttling_lifted: bool,
    /// What the RT setup did and left in force (null in files written before it was
    /// recorded).
    #[serde(default)]
    pub rt_setup: Option<RtSetupRecord>,
    pub memory_locked: bool,
    pub environment: Environment,
    /// Where the spikes' time went, from the kernel's trace; absent when attribution was
    /// off (docs/results-format.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<Attribution>,
    /// The measuring thread's pauses between bursts; absent in files written before it
    /// existed.
    #[serde(default)]
    pub pauses: Option<Pauses>,
    /// What `--fail-above-us` found (the samples' and pauses' overheads above it, as
    /// spikes are measured), when given; absent in files written before it existed.
    #[serde(default)]
    pub fail_above: Option<FailAbove>,
}

/// `loop_calibration`: the busy loop's calibration and how well it held.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoopCalibration {
    pub target_ns: u64,
    /// Busy-loop iterations per sample (as `loop_iterations`).
    pub iterations: u64,
    /// Shortest sample of zero iterations (one timestamp).
    pub base_ns: u64,
    /// How often the loop was lengthened after the first estimate because a faster CPU
    /// was seen (in the warm-up or the first bursts, whose samples were then discarded).
    pub adjustments: u32,
    /// (loop_ns.min - target) / target in percent; null without a loop or a sample.
    pub min_error_pct: Option<f64>,
    /// The shortest loop is within 1 % of the target.
    pub within_1pct: bool,
    /// How far and why, when it is not.
    pub note: Option<String>,
}

/// The pauses of the measuring thread between bursts (the gaps, the settle after a
/// checkpoint, the trace's reading for the attribution): time no sample observed. A pause
/// ends at a known deadline; a thread held off beyond it (by a higher-priority thread, an
/// interrupt storm, the hypervisor) resumes late, and a lateness of the spike threshold or
/// more beyond the best wake-up is counted as a spike (in `spikes.count` and `spikes.list`,
/// and attributed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pauses {
    /// Pauses between bursts.
    pub count: u64,
    /// What their sleeps asked for (s).
    pub planned_s: f64,
    /// From each burst's last sample to the next burst's first, summed (s): the planned
    /// sleeps, the trace's reading, checkpoints and any lateness.
    pub unobserved_s: f64,
    /// The longest of those stretches, and when it began (s since the start).
    pub longest_ns: u64,
    pub longest_at_s: f64,
    /// How long after its deadline a pause ended at best (the sleep's own wake-up
    /// latency); None without a pause.
    pub wake_min_ns: Option<u64>,
    /// Pauses that ended the spike threshold or more later than the best wake-up seen so
    /// far (as a loop's overhead is measured from the shortest loop so far), and the
    /// latest of them, beyond that best wake-up.
    pub late: u64,
    pub late_max_ns: u64,
}

impl Pauses {
    /// The sleep one pause planned, on average (ns).
    pub fn planned_per_pause_ns(&self) -> u64 {
        (self.planned_s * 1e9 / self.count.max(1) as f64).round() as u64
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Spikes {
    pub threshold_ns: u64,
    /// Minimum loop duration found by the warm-up (the first reference for overheads).
    pub baseline_ns: u64,
    pub count: u64,
    /// Overhead statistics over all spikes; null when there was none.
    pub overhead_ns: Option<SpikeOverhead>,
    /// The first `list_cap` spikes.
    pub list: Vec<Spike>,
    pub list_cap: usize,
    pub list_truncated: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpikeOverhead {
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub max: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spike {
    /// Start of the sample, seconds since the start of the run.
    pub t_s: f64,
    pub overhead_ns: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Timeline {
    pub interval_s: f64,
    /// Per interval, the longest sample that ended in it (null: no sample, e.g. between bursts).
    pub max_ns: Vec<Option<u64>>,
    pub min_ns: Vec<Option<u64>>,
}

impl Timeline {
    /// The same timeline with neighbouring intervals merged (max of maxima, min of minima)
    /// until at most `points` remain.
    pub fn merged(&self, points: usize) -> Timeline {
        let n = self.max_ns.len().max(self.min_ns.len());
        let k = n.div_ceil(points.max(1)).max(1);
        let merge = |s: &[Option<u64>], pick: fn(u64, u64) -> u64| -> Vec<Option<u64>> {
            s.chunks(k)
                .map(|c| c.iter().flatten().copied().reduce(pick))
                .collect()
        };
        Timeline {
            interval_s: self.interval_s * k as f64,
            max_ns: merge(&self.max_ns, u64::max),
            min_ns: merge(&self.min_ns, u64::min),
        }
    }
}

impl ClockTick {
    /// A copy with the timeline merged down to at most `points` intervals (for figures,
    /// which cannot show more than a few thousand points anyway), without ever holding a
    /// second full-resolution timeline.
    pub fn with_timeline_points(&self, points: usize) -> ClockTick {
        ClockTick {
            schema: self.schema,
            test: self.test.clone(),
            rust_bench_version: self.rust_bench_version.clone(),
            command_line: self.command_line.clone(),
            started: self.started.clone(),
            complete: self.complete,
            end: self.end,
            samples: self.samples,
            duration_s: self.duration_s,
            measured_s: self.measured_s,
            duty_cycle: self.duty_cycle,
            bursts: self.bursts,
            burst_ms: self.burst_ms,
            gap_us: self.gap_us,
            checkpoint_settle_ms: self.checkpoint_settle_ms,
            loop_ns: self.loop_ns.clone(),
            loop_iterations: self.loop_iterations,
            loop_calibration: self.loop_calibration.clone(),
            max_overhead_ns: self.max_overhead_ns,
            spikes: self.spikes.clone(),
            histogram: self.histogram.clone(),
            timeline: self.timeline.merged(points),
            clock: self.clock.clone(),
            priority: self.priority,
            cpu: self.cpu,
            rt_throttling_lifted: self.rt_throttling_lifted,
            rt_setup: self.rt_setup.clone(),
            memory_locked: self.memory_locked,
            environment: self.environment.clone(),
            attribution: self.attribution.clone(),
            pauses: self.pauses.clone(),
            fail_above: self.fail_above.clone(),
        }
    }
}

impl ClockTick {
    /// `t_s,min_ns,max_ns` per timeline interval (`clock-tick-timeline.csv`; t_s = interval
    /// start; empty fields = no sample).
    pub fn timeline_csv(&self) -> String {
        let mut s = String::from("t_s,min_ns,max_ns\n");
        let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
        for (i, (mn, mx)) in self
            .timeline
            .min_ns
            .iter()
            .zip(&self.timeline.max_ns)
            .enumerate()
        {
            let t = i as f64 * self.timeline.interval_s;
            let _ = writeln!(s, "{:.6},{},{}", t, opt(*mn), opt(*mx));
        }
        s
    }

    /// `t_s,overhead_ns` per listed spike (`clock-tick-spikes.csv`).
    pub fn spikes_csv(&self) -> String {
        let mut s = String::from("t_s,overhead_ns\n");
        for sp in &self.spikes.list {
            let _ = writeln!(s, "{:.6},{}", sp.t_s, sp.overhead_ns);
        }
        s
    }

    /// `lower_ns,upper_ns,count` per non-empty bucket (`clock-tick-histogram.csv`).
    pub fn histogram_csv(&self) -> String {
        self.histogram.csv(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_merge() {
        let t = Timeline {
            interval_s: 0.001,
            max_ns: vec![Some(5), None, Some(7), Some(1), None],
            min_ns: vec![Some(4), None, Some(2), Some(1), None],
        };
        let m = t.merged(2);
        assert_eq!(m.interval_s, 0.003);
        assert_eq!(m.max_ns, vec![Some(7), Some(1)]);
        assert_eq!(m.min_ns, vec![Some(2), Some(1)]);
        assert_eq!(t.merged(10).max_ns, t.max_ns);
    }
}
