//! `timerlat.json`: the result of the timerlat test (the kernel's timerlat tracer;
//! docs/results-format.md).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::results::End;
use crate::results::environment::Environment;
use crate::results::stats::HistogramJson;
use crate::results::threshold::FailAbove;
use crate::results::trace::TraceReader;

/// The test's name: `test` in its file, the file's stem, the subcommand.
pub const NAME: &str = "timerlat";

/// The timerlat result (`timerlat.json`). See docs/results-format.md.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Timerlat {
    pub schema: u32,
    /// [`NAME`].
    pub test: String,
    pub rust_bench_version: Option<String>,
    pub command_line: Option<Vec<String>>,
    /// When the test started (UTC, RFC 3339).
    pub started: Option<String>,
    /// The run ended as asked, measured an activation, and read a sample of the period
    /// after its window (so the window was read whole).
    pub complete: bool,
    /// duration, signal, or running (a checkpoint).
    pub end: End,
    pub cpu: usize,
    /// The tracer's period (`osnoise/timerlat_period_us`).
    pub period_us: u64,
    /// The window measured: the periods from the first activation read, this long.
    pub duration_asked_s: f64,
    /// The periods in the window: `duration_asked_s` over the period, rounded up.
    pub periods_asked: u64,
    /// From the tracer's start to the end of the reading (s, monotonic clock).
    pub duration_s: f64,
    /// Activations of the window whose IRQ sample was read.
    pub activations: u64,
    /// Of those, the activations whose thread sample was read too.
    pub thread_samples: u64,
    /// Periods of the window without an activation: the tracer skips the periods that
    /// passed while its thread was held off (as cyclictest counts overflows), and a lost
    /// sample leaves one too.
    pub periods_missed: u64,
    /// Samples read after the window (of the periods that followed it), not counted.
    pub samples_dropped: u64,
    /// From the timer's expiry to its handler (the tracer's `context irq` samples).
    pub irq_latency_ns: Option<Latency>,
    /// From the timer's expiry to the tracer's thread running (`context thread`).
    pub thread_latency_ns: Option<Latency>,
    pub irq_histogram: HistogramJson,
    pub thread_histogram: HistogramJson,
    /// 1 µs buckets of both latencies, as `rtla timerlat hist` prints them.
    pub fixed_histogram: FixedHistogram,
    /// The activation of the largest thread latency, and what delayed it (rtla timerlat's
    /// auto-analysis); null before the first complete activation.
    pub worst: Option<Worst>,
    /// What `--fail-above-us` found (the thread latencies above it), when given; absent in
    /// files written before timerlat took a threshold.
    #[serde(default)]
    pub fail_above: Option<FailAbove>,
    /// Events not read: overwritten or dropped by the kernel, or left unread at the end.
    pub events_lost: u64,
    pub trace_reader: Option<TraceReader>,
    /// The instance's ring buffer of the measured CPU, KiB.
    pub buffer_size_kb: Option<u64>,
    pub environment: Environment,
}

/// A latency's summary (ns).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub p99: u64,
    pub p9999: u64,
    pub max: u64,
}

/// Fixed-width histograms of 1 µs buckets of the IRQ and the thread latencies.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FixedHistogram {
    /// Buckets 0 to limit_us − 1 µs.
    pub limit_us: u64,
    /// The non-empty buckets as [µs, IRQ count, thread count]: latencies of `µs` to
    /// `µs + 1` µs.
    pub buckets: Vec<[u64; 3]>,
    /// Latencies of `limit_us` or more.
    pub irq_overflow: u64,
    pub thread_overflow: u64,
}

/// The worst activation and what delayed it, as `rtla timerlat -a` analyses it: the
/// noise events the tracer recorded from the timer's expiry to its thread's sample.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Worst {
    /// The tracer's activation number.
    pub seqnum: u64,
    /// When the timer expired, s after the first activation's.
    pub at_s: f64,
    pub irq_latency_ns: u64,
    pub thread_latency_ns: u64,
    /// From the timer's expiry to the start of its handler (idle exit, a handler already
    /// running, interrupts off, or the hypervisor holding the CPU).
    pub irq_delay_ns: u64,
    /// An IRQ or NMI that ran until after the timer expired, delaying its handler.
    pub previous_irq: Option<Source>,
    /// The timer's own handler.
    pub timer_irq_ns: u64,
    /// The thread that ran when the timer expired and ran on before the tracer's thread
    /// (net of the interrupts it suffered; `swapper/N`, the idle task, when the CPU was
    /// idle, as rtla names it); null when its noise event was not read.
    pub blocking_thread: Option<Source>,
    /// Interference after the timer's handler, by class (net times, as the tracer gives
    /// them).
    pub nmi_ns: u64,
    pub irq_ns: u64,
    pub softirq_ns: u64,
    pub thread_ns: u64,
    /// The thread latency no guest event explains: what the handler's delay, the timer's
    /// handler, the blocking thread and the interference leave of it (in a VM, mostly the
    /// hypervisor; also the scheduler's own switch).
    pub unexplained_ns: u64,
    /// The interference's sources, the longest first (at most [`MAX_SOURCES`]; the rest
    /// summed as `others`).
    pub sources: Vec<Source>,
}

/// How many sources a worst activation keeps.
pub const MAX_SOURCES: usize = 16;

/// One source of delay: class (`nmi`, `irq`, `softirq`, `thread`, `others`), name (an
/// IRQ's description, a softirq's vector name, a thread's command), count and total.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub class: String,
    pub name: String,
    pub count: u64,
    pub total_ns: u64,
}

impl Timerlat {
    /// `lower_us,irq,thread` for every bucket, then `>=LIMIT,IRQ,THREAD`
    /// (`timerlat-histogram.csv`), as `rtla timerlat hist` lists them.
    pub fn histogram_csv(&self) -> String {
        let h = &self.fixed_histogram;
        let mut s = String::from("lower_us,irq,thread\n");
        let mut buckets = h.buckets.iter().peekable();
        for us in 0..h.limit_us {
            let (irq, thread) = match buckets.peek() {
                Some([b, i, t]) if *b == us => {
                    buckets.next();
                    (*i, *t)
                }
                _ => (0, 0),
            };
            let _ = writeln!(s, "{us},{irq},{thread}");
        }
        let _ = writeln!(
            s,
            ">={},{},{}",
            h.limit_us, h.irq_overflow, h.thread_overflow
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_csv_lists_every_bucket_and_the_overflow() {
        let h = FixedHistogram {
            limit_us: 3,
            buckets: vec![[0, 5, 0], [2, 1, 4]],
            irq_overflow: 0,
            thread_overflow: 2,
        };
        let mut t: Timerlat = serde_json::from_value(serde_json::json!({
            "schema": 1, "test": "timerlat", "rust_bench_version": null, "command_line": null,
            "started": null, "complete": true, "end": "duration", "cpu": 0, "period_us": 1000,
            "duration_asked_s": 1.0, "periods_asked": 1000, "duration_s": 1.2,
            "activations": 6, "thread_samples": 6, "periods_missed": 994,
            "samples_dropped": 0, "irq_latency_ns": null, "thread_latency_ns": null,
            "irq_histogram": {"unit": "ns", "relative_error": 0.0039, "sub_buckets": 128, "buckets": []},
            "thread_histogram": {"unit": "ns", "relative_error": 0.0039, "sub_buckets": 128, "buckets": []},
            "fixed_histogram": FixedHistogram::default(), "worst": null, "events_lost": 0,
            "trace_reader": "binary", "buffer_size_kb": 64,
            "environment": crate::results::fixture::environment(None, false, false),
        }))
        .unwrap();
        t.fixed_histogram = h;
        assert_eq!(
            t.histogram_csv(),
            "lower_us,irq,thread\n0,5,0\n1,0,0\n2,1,4\n>=3,0,2\n"
        );
    }
}
