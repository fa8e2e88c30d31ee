//! `wakeup.json`: the result of the wake-up latency test (cyclictest's method;
//! docs/results-format.md).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::results::End;
use crate::results::environment::Environment;
use crate::results::rt_setup::RtSetupRecord;
use crate::results::stats::HistogramJson;
pub use crate::results::threshold::FailAbove;

/// The test's name: `test` in its file, the file's stem, the subcommand.
pub const NAME: &str = "wakeup";

/// The wake-up result (`wakeup.json`). See docs/results-format.md.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Wakeup {
    pub schema: u32,
    /// [`NAME`].
    pub test: String,
    pub rust_bench_version: Option<String>,
    pub command_line: Option<Vec<String>>,
    /// When the test started (UTC, RFC 3339).
    pub started: Option<String>,
    /// The run ended as asked and measured at least one wake-up.
    pub complete: bool,
    /// duration, samples, signal, or running (a checkpoint).
    pub end: End,
    /// The period between deadlines (ns).
    pub interval_ns: u64,
    /// Wake-ups measured (one per deadline slept to).
    pub samples: u64,
    /// Deadlines passed while the thread was still held off (it woke after the next
    /// deadline): each is skipped and counted, as cyclictest counts them.
    pub overflows: u64,
    /// Deadlines skipped, not counted as overflows, while a checkpoint was written.
    pub checkpoint_skipped: u64,
    /// From the first deadline to the end (s).
    pub duration_s: f64,
    /// How late the thread woke (now − deadline); null without a sample.
    pub latency_ns: Option<Latency>,
    /// All wake-ups in the log-linear histogram (exact min, max and mean; percentiles
    /// within 0.39 %).
    pub histogram: HistogramJson,
    /// cyclictest's `-h` histogram: 1 µs buckets up to `limit_us`.
    pub fixed_histogram: FixedHistogram,
    /// What `--fail-above-us` found (the wake-up latencies above it), when given.
    pub fail_above: Option<FailAbove>,
    pub priority: i32,
    pub cpu: usize,
    pub rt_throttling_lifted: bool,
    pub rt_setup: Option<RtSetupRecord>,
    pub memory_locked: bool,
    /// /dev/cpu_dma_latency was held at 0 during the run (no deep idle states).
    pub cpu_dma_latency_zero: bool,
    pub environment: Environment,
}

/// The wake-up latency's summary (ns).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub p99: u64,
    pub p9999: u64,
    pub max: u64,
}

/// A fixed-width histogram of 1 µs buckets, as `cyclictest -h LIMIT` prints it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FixedHistogram {
    /// Buckets 0 to limit_us − 1 µs.
    pub limit_us: u64,
    /// The non-empty buckets as [µs, count]: a wake-up of `µs` to `µs + 1` µs late.
    pub buckets: Vec<[u64; 2]>,
    /// Wake-ups `limit_us` or more late.
    pub overflow: u64,
}

impl Wakeup {
    /// `lower_us,count` for every bucket, then `>=LIMIT,count` (`wakeup-histogram.csv`),
    /// as `cyclictest -h` lists them.
    pub fn histogram_csv(&self) -> String {
        let h = &self.fixed_histogram;
        let mut s = String::from("lower_us,count\n");
        let mut buckets = h.buckets.iter().peekable();
        for us in 0..h.limit_us {
            let count = match buckets.peek() {
                Some([b, c]) if *b == us => {
                    buckets.next();
                    *c
                }
                _ => 0,
            };
            let _ = writeln!(s, "{us},{count}");
        }
        let _ = writeln!(s, ">={},{}", h.limit_us, h.overflow);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_csv_lists_every_bucket_and_the_overflow() {
        let h = FixedHistogram {
            limit_us: 4,
            buckets: vec![[1, 5], [3, 2]],
            overflow: 7,
        };
        let w: Wakeup = serde_json::from_value(serde_json::json!({
            "schema": 1, "test": "wakeup", "rust_bench_version": null, "command_line": null,
            "started": null, "complete": true, "end": "duration", "interval_ns": 1000000,
            "samples": 14, "overflows": 0, "checkpoint_skipped": 0, "duration_s": 1.0,
            "latency_ns": null,
            "histogram": {"unit": "ns", "relative_error": 0.0039, "sub_buckets": 128, "buckets": []},
            "fixed_histogram": h, "fail_above": null, "priority": 80, "cpu": 1,
            "rt_throttling_lifted": false, "rt_setup": null, "memory_locked": true,
            "cpu_dma_latency_zero": true,
            "environment": crate::results::fixture::environment(None, false, false),
        }))
        .unwrap();
        assert_eq!(
            w.histogram_csv(),
            "lower_us,count\n0,0\n1,5\n2,0\n3,2\n>=4,7\n"
        );
    }
}
