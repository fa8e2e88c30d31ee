//! Test 1 of the paper: clock tick processing duration.
//!
//! One SCHED_FIFO thread, pinned to a CPU, runs a fixed busy loop (`--loop-us`, 68 µs in
//! the paper) over and over and timestamps it with LFENCE-ordered RDTSC. Whenever an
//! interrupt, a higher-priority thread or the hypervisor takes the CPU, that loop lasts
//! longer; `overhead = sample - min` is the time taken away.
//!
//! Method details (see docs/results-format.md):
//! - Timestamps are chained: every sample is the time between two consecutive TSC reads,
//!   and the bookkeeping of a sample is inside the next one. So no instant of a burst is
//!   unobserved (unlike {t0; loop; t1} pairs, which are blind between t1 and the next t0).
//!   With `--loop-us 0` this is exactly oslat's back-to-back method.
//! - The run is cut in bursts (`--burst-ms`) separated by a sleep (`--gap-us`; their
//!   defaults are the flags'): on a one-CPU VM a FIFO thread that never sleeps starves RCU,
//!   timers, kworkers and the console for the whole run, and RT throttling / the fair_server
//!   would cut in anyway. The duty cycle is recorded; nothing is lost inside a burst.
//! - Spikes: a sample is a spike when `sample - min >= threshold`, with `min` the smallest
//!   sample seen so far, starting from a 100 ms warm-up before the first burst (warm-up samples
//!   are not recorded). The final minimum is in `loop_ns.min`; the warm-up's in
//!   `spikes.baseline_ns`.
//! - Memory is fixed: a log-linear histogram, a capped spike list, and a timeline of
//!   per-interval minimum and maximum whose interval doubles whenever it would exceed its cap.

use std::time::Duration;

use anyhow::Result;

use crate::measure::attribution::{self, Attribute, Live, RawSpike};
use crate::platform::environment::{self, Environment};
use crate::platform::rt;
use crate::platform::rt_setup::{RtSetup, RtSetupRecord};
use crate::platform::tsc::{self, Clock, ClockInfo};
use crate::results::clock_tick::{
    self as contract, ClockTick, LoopCalibration, Pauses, Spike, SpikeOverhead, Spikes, Timeline,
};
use crate::results::histogram::Histogram;
use crate::results::stats::{self, HistogramJson};
use crate::results::threshold::Crossings;
use crate::results::trace::TraceReader;
use crate::results::{End, Origin, SCHEMA};

/// When a run ends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Limit {
    Duration(Duration),
    Samples(u64),
}

/// Everything a clock-tick run needs: made from the test's options (`rust-bench clock-tick`'s
/// flags, or a plan's section), which hold every default and range
/// ([`crate::suite::clock_tick`]).
#[derive(Clone, Debug)]
pub struct Options {
    pub cpu: usize,
    pub priority: i32,
    pub limit: Limit,
    /// Busy-loop target in ns (0 = back-to-back timestamps).
    pub loop_ns: u64,
    pub threshold_ns: u64,
    pub burst: Duration,
    pub gap: Duration,
    pub clock: tsc::Choice,
    /// Lift RT throttling and the fair_server for the run (restored afterwards).
    pub lift_rt_throttling: bool,
    /// The RT setup done by the caller (`run`) for the whole plan; `None`: the
    /// measurement does its own, as `lift_rt_throttling` says.
    pub rt_setup: Option<RtSetupRecord>,
    /// How often `checkpoint` is called with a partial report.
    pub checkpoint_every: Duration,
    /// Sleep after a checkpoint, before the next burst, when longer than `gap`. Zero by
    /// default: a checkpoint writes one JSON file synchronously (fsync of the file and its
    /// directory), so its I/O has completed before measuring goes on.
    pub checkpoint_settle: Duration,
    /// Maximum number of spikes listed individually (all are counted):
    /// [`Options::SPIKE_LIST_CAP`].
    pub spike_list_cap: usize,
    /// Maximum number of timeline points (the interval doubles to stay below):
    /// [`Options::TIMELINE_CAP`].
    pub timeline_cap: usize,
    /// Warm-up before the first burst (establishes the minimum; not recorded):
    /// [`Options::WARMUP`].
    pub warmup: Duration,
    /// Initial timeline interval (doubles whenever the timeline would exceed its cap).
    pub timeline_interval: Duration,
    /// Trace the CPU and attribute every spike to its causes.
    pub attribute: Attribute,
    /// How the attribution reads the trace.
    pub trace_reader: TraceReader,
    /// Count the overheads (as spikes are measured) above this many microseconds.
    pub fail_above_us: Option<u64>,
}

impl Options {
    /// The spike list's length in a run (no flag sets it; tests make it smaller).
    pub const SPIKE_LIST_CAP: usize = 10_000;
    /// The timeline's length in a run.
    pub const TIMELINE_CAP: usize = 65_536;
    /// The warm-up in a run.
    pub const WARMUP: Duration = Duration::from_millis(100);
}

/// Timeline values are stored as u32 nanoseconds (half the memory), saturating just below
/// 4.29 s; u32::MAX marks an interval without samples.
const EMPTY_MIN: u32 = u32::MAX;
const TL_SATURATE: u64 = u32::MAX as u64 - 1;

/// The pauses of the measuring thread between bursts (gaps, checkpoints, the trace's
/// reading): what no sample observed.
#[derive(Debug, Default)]
struct PauseStats {
    count: u64,
    /// What the pauses' sleeps asked for (ns).
    planned_ns: u64,
    /// From one burst's last sample to the next burst's first (ticks).
    unobserved_ticks: u64,
    longest_ticks: u64,
    /// When the longest began (ticks since the start).
    longest_at: u64,
    /// The shortest wake-up seen: how long after its deadline a pause ends at best.
    wake_min_ns: Option<u64>,
    /// Pauses that ended the spike threshold or more later than that, and the latest
    /// (beyond that shortest wake-up).
    late: u64,
    late_max_ns: u64,
    /// The last pause's end, not yet followed by a burst (ticks).
    resumed: Option<u64>,
}

/// The measuring state: fixed-size, allocated and touched before the first burst.
struct State {
    clock: Clock,
    start: u64,
    hist: Histogram,
    spike_hist: Histogram,
    spikes: Vec<(u64, u64)>,
    spike_cap: usize,
    spike_count: u64,
    threshold_ns: u64,
    run_min: u64,
    samples: u64,
    // timeline
    interval: u64,
    next_boundary: u64,
    cur_max: u32,
    cur_min: u32,
    tl_max: Vec<u32>,
    tl_min: Vec<u32>,
    tl_cap: usize,
    /// The pauses between bursts.
    pauses: PauseStats,
    /// The tick of the last sample's end of the previous burst.
    prev_last: Option<u64>,
    /// This burst's spikes for attribution (capacity 0 when attribution is off).
    burst_spikes: Vec<RawSpike>,
    /// The overheads above `--fail-above-us` (their time in ticks since the start).
    fail_above: Crossings,
}

impl State {
    fn new(clock: Clock, opts: &Options, start: u64) -> State {
        let interval = clock.ticks(opts.timeline_interval.as_nanos() as u64).max(1);
        // prepare_timeline() keeps a burst's worth of room below the cap; the spare half
        // absorbs a burst overrun by a very long sample, and flush_intervals() never grows
        // the vectors (a reallocation inside a burst would show up as a spike).
        let phys = opts.timeline_cap * 2 + 16;
        let mut tl_max = Vec::with_capacity(phys);
        let mut tl_min = Vec::with_capacity(phys);
        // Touch the timeline and spike buffers so they are resident before measuring.
        tl_max.resize(phys, 0);
        tl_min.resize(phys, 0);
        tl_max.clear();
        tl_min.clear();
        let mut spikes = Vec::with_capacity(opts.spike_list_cap);
        spikes.resize(opts.spike_list_cap, (0, 0));
        spikes.clear();
        let cap = if opts.attribute == Attribute::Off {
            0
        } else {
            attribution::BURST_SPIKES
        };
        let mut burst_spikes = Vec::with_capacity(cap);
        burst_spikes.resize(cap, RawSpike::default());
        burst_spikes.clear();
        State {
            clock,
            start,
            hist: Histogram::new(),
            spike_hist: Histogram::new(),
            spikes,
            spike_cap: opts.spike_list_cap,
            spike_count: 0,
            threshold_ns: opts.threshold_ns,
            run_min: u64::MAX,
            samples: 0,
            interval,
            next_boundary: start + interval,
            cur_max: 0,
            cur_min: EMPTY_MIN,
            tl_max,
            tl_min,
            tl_cap: opts.timeline_cap,
            pauses: PauseStats::default(),
            prev_last: None,
            burst_spikes,
            fail_above: Crossings::new(opts.fail_above_us),
        }
    }

    /// Make room for one burst of `burst_ticks` in the timeline without reallocating inside
    /// it: halve the resolution (merge pairs) until it fits.
    fn prepare_timeline(&mut self, burst_ticks: u64, now: u64) {
        loop {
            let pending = now.saturating_sub(self.next_boundary) / self.interval + 1;
            let during = burst_ticks / self.interval + 2;
            let need = self.tl_max.len() as u64 + pending + during;
            if need <= self.tl_cap as u64 && need <= self.tl_max.capacity() as u64 {
                return;
            }
            self.compact();
            if self.tl_max.is_empty() && self.interval > burst_ticks.max(1) * 4 {
                return;
            }
        }
    }

    fn compact(&mut self) {
        let n = self.tl_max.len();
        // An odd last interval is merged with the current one.
        let pairs = n / 2;
        for i in 0..pairs {
            self.tl_max[i] = self.tl_max[2 * i].max(self.tl_max[2 * i + 1]);
            self.tl_min[i] = self.tl_min[2 * i].min(self.tl_min[2 * i + 1]);
        }
        if n % 2 == 1 {
            self.cur_max = self.cur_max.max(self.tl_max[n - 1]);
            self.cur_min = self.cur_min.min(self.tl_min[n - 1]);
        }
        self.tl_max.truncate(pairs);
        self.tl_min.truncate(pairs);
        self.interval *= 2;
        self.next_boundary = self.start + self.interval * (pairs as u64 + 1);
    }

    #[inline(always)]
    fn flush_intervals(&mut self, now: u64) {
        while now >= self.next_boundary {
            if self.tl_max.len() < self.tl_max.capacity() {
                self.tl_max.push(self.cur_max);
                self.tl_min.push(self.cur_min);
                self.cur_max = 0;
                self.cur_min = EMPTY_MIN;
            }
            // else (only after a stall of tens of thousands of intervals inside one burst):
            // keep accumulating into the current interval rather than reallocate here.
            self.next_boundary += self.interval;
        }
    }

    /// Record one sample of `ns` that started at tick `from` and ended at `to`.
    #[inline(always)]
    fn record(&mut self, ns: u64, from: u64, to: u64) {
        self.hist.record(ns);
        self.samples += 1;
        if ns < self.run_min {
            self.run_min = ns;
        }
        let over = ns - self.run_min;
        self.fail_above.record(over, from - self.start);
        if over >= self.threshold_ns {
            self.spike_count += 1;
            self.spike_hist.record(over);
            if self.spikes.len() < self.spike_cap {
                self.spikes.push((from - self.start, over));
            }
            if self.burst_spikes.len() < self.burst_spikes.capacity() {
                self.burst_spikes.push(RawSpike {
                    from,
                    to,
                    overhead_ns: over,
                });
            }
        }
        if to >= self.next_boundary {
            self.flush_intervals(to);
        }
        let ns32 = ns.min(TL_SATURATE) as u32;
        if ns32 > self.cur_max {
            self.cur_max = ns32;
        }
        if ns32 < self.cur_min {
            self.cur_min = ns32;
        }
    }

    /// A pause planned to sleep until `deadline` (ticks) ended at `to`, `wake_ns` after its
    /// deadline. Like a loop's overhead is measured from the shortest loop, a pause's
    /// lateness is measured from the shortest wake-up: one the spike threshold or more
    /// beyond it is a spike that is no loop, counted and listed with the loop's spikes,
    /// and attributed.
    fn resumed(&mut self, deadline: u64, to: u64, wake_ns: u64) {
        let p = &mut self.pauses;
        p.resumed = Some(to);
        let min = p.wake_min_ns.map_or(wake_ns, |m| m.min(wake_ns));
        p.wake_min_ns = Some(min);
        let late_ns = wake_ns - min;
        let from = deadline + self.clock.ticks(min);
        self.fail_above
            .record(late_ns, from.saturating_sub(self.start));
        if late_ns < self.threshold_ns {
            return;
        }
        p.late += 1;
        p.late_max_ns = p.late_max_ns.max(late_ns);
        self.spike_count += 1;
        self.spike_hist.record(late_ns);
        if self.spikes.len() < self.spike_cap {
            self.spikes.push((from.saturating_sub(self.start), late_ns));
        }
        if self.burst_spikes.len() < self.burst_spikes.capacity() {
            self.burst_spikes.push(RawSpike {
                from,
                to,
                overhead_ns: late_ns,
            });
        }
    }

    /// A burst began at `first` (ticks) and ended at `last`: the stretch since the
    /// previous burst's end is one pause.
    fn after_pause(&mut self, first: u64, last: u64) {
        self.pause_ended(first);
        self.prev_last = Some(last);
    }

    /// The stretch since the previous burst's end ended at `at` (ticks): the next burst,
    /// or the end of the run after a pause.
    fn pause_ended(&mut self, at: u64) {
        self.pauses.resumed = None;
        if let Some(prev) = self.prev_last.take() {
            let p = &mut self.pauses;
            let ticks = at.saturating_sub(prev);
            p.count += 1;
            p.unobserved_ticks += ticks;
            if ticks > p.longest_ticks {
                p.longest_ticks = ticks;
                p.longest_at = prev.saturating_sub(self.start);
            }
        }
    }

    /// One burst: sample until `end` (ticks) or until `max_samples` in total.
    #[inline(never)]
    fn burst(&mut self, iterations: u64, end: u64, max_samples: u64) -> (u64, u64) {
        let clock = self.clock;
        let first = clock.now();
        let mut prev = first;
        while self.samples < max_samples {
            busy(iterations);
            let now = clock.now();
            let ns = clock.to_ns(now.wrapping_sub(prev));
            self.record(ns, prev, now);
            prev = now;
            if now >= end {
                break;
            }
        }
        (first, prev)
    }
}

/// The fixed busy loop: `iterations` rounds that the optimizer cannot remove.
#[inline(never)]
fn busy(iterations: u64) {
    let mut i = 0u64;
    while i < iterations {
        std::hint::black_box(i);
        i += 1;
    }
}

/// Smallest duration of `busy(iterations)` plus one timestamp, over `reps` tries, in ns.
fn min_loop_ns(clock: &Clock, iterations: u64, reps: u32) -> u64 {
    let mut best = u64::MAX;
    let mut prev = clock.now();
    for _ in 0..reps {
        busy(iterations);
        let now = clock.now();
        best = best.min(clock.to_ns(now - prev));
        prev = now;
    }
    best
}

/// Iterations of `busy` so that the minimum sample lasts `target_ns`.
fn calibrate_loop(clock: &Clock, target_ns: u64) -> u64 {
    if target_ns == 0 {
        return 0;
    }
    let base = min_loop_ns(clock, 0, 2000);
    if target_ns <= base {
        return 0;
    }
    // Rough estimate from a short loop, then refine on loops of the target length.
    let probe = 10_000u64;
    let reps = |ns: u64| (20_000_000 / ns.max(1)).clamp(5, 2000) as u32;
    let t = min_loop_ns(clock, probe, 50).saturating_sub(base).max(1);
    let mut iters = ((target_ns - base) as f64 * probe as f64 / t as f64) as u64;
    for _ in 0..4 {
        let got = min_loop_ns(clock, iters, reps(target_ns));
        if got == 0 {
            break;
        }
        let next = (iters as f64 * (target_ns.saturating_sub(base)) as f64
            / (got.saturating_sub(base)).max(1) as f64) as u64;
        if next.abs_diff(iters) <= iters / 1000 {
            iters = next;
            break;
        }
        iters = next.max(1);
    }
    iters
}

/// Tries of about 20 ms each over which the fastest loop speed is looked for.
const CALIBRATION_TRIES: u32 = 8;
/// Bursts at the start of a run after which the loop may still be lengthened (their samples
/// are then discarded and the run starts again).
const CALIBRATION_BURSTS: u64 = 2;
/// A faster speed than this fraction below the best so far lengthens the loop.
const SPEED_TOLERANCE: f64 = 0.002;

/// The loop's length is set by the fastest speed of `busy` seen: the run's minimum sample is
/// the loop at that speed, so it lands on the target. On a busy machine (the host's other
/// load, frequency changes) a calibration that saw only slow moments would give loops that
/// are shorter than the target whenever the CPU is faster; so the speed is sampled in
/// several tries, checked again by the warm-up and by the first bursts, and only ever
/// raised.
struct Calibrator {
    target_ns: u64,
    /// Duration of a sample of zero iterations (the timestamp itself).
    base_ns: u64,
    /// Fastest nanoseconds per iteration seen.
    ns_per_iter: f64,
    /// How often a faster speed lengthened the loop after the first estimate.
    adjustments: u32,
}

impl Calibrator {
    fn new(clock: Clock, target_ns: u64) -> Calibrator {
        let base_ns = min_loop_ns(&clock, 0, 2000);
        let mut cal = Calibrator {
            target_ns,
            base_ns,
            ns_per_iter: f64::INFINITY,
            adjustments: 0,
        };
        if target_ns <= base_ns {
            return cal;
        }
        let first = calibrate_loop(&clock, target_ns).max(1);
        let reps = (20_000_000 / target_ns.max(1)).clamp(5, 2000) as u32;
        let got = min_loop_ns(&clock, first, reps);
        cal.ns_per_iter = got.saturating_sub(base_ns).max(1) as f64 / first as f64;
        for _ in 0..CALIBRATION_TRIES {
            let iters = cal.iterations();
            let got = min_loop_ns(&clock, iters, reps);
            cal.observe(iters, got);
        }
        cal.adjustments = 0;
        cal
    }

    /// Iterations for the target at the fastest speed seen.
    fn iterations(&self) -> u64 {
        if self.target_ns <= self.base_ns || !self.ns_per_iter.is_finite() {
            return 0;
        }
        (((self.target_ns - self.base_ns) as f64 / self.ns_per_iter).round() as u64).max(1)
    }

    /// Note the shortest sample `min_ns` of a loop of `iters`; true when it shows a faster
    /// speed than seen so far (the loop must then be lengthened).
    fn observe(&mut self, iters: u64, min_ns: u64) -> bool {
        if iters == 0 {
            return false;
        }
        let speed = min_ns.saturating_sub(self.base_ns).max(1) as f64 / iters as f64;
        if speed < self.ns_per_iter * (1.0 - SPEED_TOLERANCE) {
            self.ns_per_iter = speed;
            self.adjustments += 1;
            return true;
        }
        false
    }

    fn record(&self, iterations: u64, min_ns: u64) -> LoopCalibration {
        let error = (self.target_ns > 0 && min_ns > 0).then(|| {
            ((min_ns as f64 - self.target_ns as f64) / self.target_ns as f64 * 1e4).round() / 100.0
        });
        let within = error.is_none_or(|e| e.abs() <= 1.0);
        let note = match error {
            Some(e) if !within && e < 0.0 => Some(format!(
                "the shortest loop was {:.2} % below the target: the CPU ran faster at times during the run than at any time while calibrating and in the first bursts (a busy machine: the host's other load, or frequency changes); overheads are still measured from the run's own minimum",
                -e
            )),
            Some(e) if !within => Some(format!(
                "every loop took at least {e:.2} % longer than the target: the CPU was slower during the whole run than while calibrating (a busy machine: the host's other load, or frequency changes); overheads are still measured from the run's own minimum"
            )),
            _ if self.target_ns > 0 && self.target_ns <= self.base_ns => Some(format!(
                "the target is shorter than one timestamp ({} ns): samples are back-to-back timestamps",
                self.base_ns
            )),
            _ => None,
        };
        LoopCalibration {
            target_ns: self.target_ns,
            iterations,
            base_ns: self.base_ns,
            adjustments: self.adjustments,
            min_error_pct: error,
            within_1pct: within,
            note,
        }
    }
}

struct Meta<'a> {
    opts: &'a Options,
    origin: Origin,
    clock_info: ClockInfo,
    environment: Environment,
    rt_setup: RtSetupRecord,
    locked: bool,
    iterations: u64,
    cal: Calibrator,
    baseline: u64,
    bursts: u64,
    measured_ticks: u64,
    wall_start_ns: u64,
    live: Option<Live>,
}

fn build_report(st: &State, m: &Meta, complete: bool, end: End) -> ClockTick {
    let clock = &st.clock;
    let mut max_ns: Vec<Option<u64>> = st.tl_max.iter().map(|&v| Some(v as u64)).collect();
    let mut min_ns: Vec<Option<u64>> = st
        .tl_min
        .iter()
        .map(|&v| (v != EMPTY_MIN).then_some(v as u64))
        .collect();
    for (mx, mn) in max_ns.iter_mut().zip(min_ns.iter()) {
        if mn.is_none() {
            *mx = None;
        }
    }
    if st.cur_min != EMPTY_MIN {
        max_ns.push(Some(st.cur_max as u64));
        min_ns.push(Some(st.cur_min as u64));
    }
    let duration_s = (tsc::monotonic_ns().saturating_sub(m.wall_start_ns)) as f64 / 1e9;
    let measured_s = clock.to_ns(m.measured_ticks) as f64 / 1e9;
    let hz = clock.hz();
    let overhead = (st.spike_count > 0).then(|| SpikeOverhead {
        min: st.spike_hist.min().unwrap_or(0),
        mean: (st.spike_hist.mean().unwrap_or(0.0) * 10.0).round() / 10.0,
        p50: st.spike_hist.quantile(0.5).unwrap_or(0),
        max: st.spike_hist.max().unwrap_or(0),
    });
    let loop_ns = stats::loop_summary(&st.hist, m.opts.loop_ns);
    ClockTick {
        schema: SCHEMA,
        test: contract::NAME.to_string(),
        rust_bench_version: Some(m.origin.rust_bench_version.clone()),
        command_line: Some(m.origin.command_line.clone()),
        started: Some(m.origin.started.clone()),
        complete,
        end,
        samples: st.samples,
        duration_s: round6(duration_s),
        measured_s: round6(measured_s),
        duty_cycle: if duration_s > 0.0 {
            round6((measured_s / duration_s).min(1.0))
        } else {
            0.0
        },
        bursts: m.bursts,
        burst_ms: m.opts.burst.as_millis() as u64,
        gap_us: m.opts.gap.as_micros() as u64,
        checkpoint_settle_ms: m.opts.checkpoint_settle.as_millis() as u64,
        max_overhead_ns: loop_ns.max.saturating_sub(loop_ns.min),
        loop_calibration: Some(m.cal.record(m.iterations, loop_ns.min)),
        loop_ns,
        loop_iterations: m.iterations,
        spikes: Spikes {
            threshold_ns: m.opts.threshold_ns,
            baseline_ns: m.baseline,
            count: st.spike_count,
            overhead_ns: overhead,
            list: st
                .spikes
                .iter()
                .map(|&(t, o)| Spike {
                    t_s: round6(t as f64 / hz),
                    overhead_ns: o,
                })
                .collect(),
            list_cap: st.spike_cap,
            list_truncated: st.spike_count > st.spikes.len() as u64,
        },
        histogram: HistogramJson::from(&st.hist),
        timeline: Timeline {
            interval_s: round6(clock.to_ns(st.interval) as f64 / 1e9),
            max_ns,
            min_ns,
        },
        clock: m.clock_info.clone(),
        priority: m.opts.priority,
        cpu: m.opts.cpu,
        rt_throttling_lifted: m.rt_setup.rt_throttling_lifted,
        rt_setup: Some(m.rt_setup.clone()),
        memory_locked: m.locked,
        environment: m.environment.clone(),
        // A checkpoint takes what is ready; the final report waits for all of it.
        attribution: m.live.as_ref().and_then(|l| l.result(end != End::Running)),
        pauses: Some(Pauses {
            count: st.pauses.count,
            planned_s: round6(st.pauses.planned_ns as f64 / 1e9),
            unobserved_s: round6(clock.to_ns(st.pauses.unobserved_ticks) as f64 / 1e9),
            longest_ns: clock.to_ns(st.pauses.longest_ticks),
            longest_at_s: round6(st.pauses.longest_at as f64 / hz),
            wake_min_ns: st.pauses.wake_min_ns,
            late: st.pauses.late,
            late_max_ns: st.pauses.late_max_ns,
        }),
        fail_above: st
            .fail_above
            .result(m.opts.fail_above_us, |ticks| ticks as f64 / hz),
    }
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// Run clock-tick without checkpoints.
pub fn run(opts: &Options) -> Result<ClockTick> {
    measure(opts, &mut |_| {})
}

/// Run clock-tick on the calling thread (made SCHED_FIFO and pinned for the run, restored
/// afterwards). `checkpoint` is called between bursts about every `opts.checkpoint_every`
/// with a partial result (`complete: false`, `end: "running"`). The run ends early, with
/// `complete: false`, when [`rt::stop_requested`] becomes true (SIGINT/SIGTERM after
/// [`rt::install_stop_handler`]).
pub fn measure(opts: &Options, checkpoint: &mut dyn FnMut(&ClockTick)) -> Result<ClockTick> {
    let origin = Origin::now();
    rt::check_cpu(opts.cpu)?;
    rt::check_fifo(opts.priority)?;
    let (mut setup, rt_setup) = RtSetup::for_measurement(&opts.rt_setup, opts.lift_rt_throttling)?;
    let environment = environment::collect();
    let (clock, clock_info) = tsc::Clock::with_info(opts.clock);
    let mut live = Live::open(attribution::Asked {
        attribute: opts.attribute,
        cpu: opts.cpu,
        source: clock_info.source,
        reader: opts.trace_reader,
        read_every: opts.burst + opts.gap,
    })?;

    let _sched = rt::ThreadSchedGuard::save();
    rt::pin_current_thread(opts.cpu)?;
    rt::set_fifo(opts.priority)?;
    let locked = rt::lock_memory();
    rt::prefault_stack(256 * 1024);

    let mut cal = Calibrator::new(clock, opts.loop_ns);
    let mut iterations = cal.iterations();
    // Warm-up: find the minimum before recording anything; a faster CPU seen here
    // lengthens the loop, and the warm-up starts again (a few times at most).
    let warm_reps = if opts.loop_ns == 0 {
        2_000_000
    } else {
        (opts.warmup.as_nanos() as u64 / opts.loop_ns.max(1)).clamp(10, 100_000) as u32
    };
    let mut baseline = min_loop_ns(&clock, iterations, warm_reps);
    for _ in 0..3 {
        if !cal.observe(iterations, baseline) {
            break;
        }
        iterations = cal.iterations();
        baseline = min_loop_ns(&clock, iterations, warm_reps);
    }

    let mut start = clock.now();
    let wall_start_ns = tsc::monotonic_ns();
    let mut st = State::new(clock, opts, start);
    st.run_min = baseline;
    if let Some(l) = live.as_mut() {
        l.begin(crate::platform::tracefs::current_tid(), start, clock.hz())?;
    }
    let mut meta = Meta {
        opts,
        origin,
        clock_info,
        environment,
        rt_setup,
        locked,
        iterations,
        cal,
        baseline,
        bursts: 0,
        measured_ticks: 0,
        wall_start_ns,
        live,
    };
    let limit_end = |start: u64| match opts.limit {
        Limit::Duration(d) => start + clock.ticks(d.as_nanos() as u64),
        Limit::Samples(_) => u64::MAX,
    };
    let mut run_end = limit_end(start);
    let max_samples = match opts.limit {
        Limit::Duration(_) => u64::MAX,
        Limit::Samples(n) => n,
    };
    let burst_ticks = clock.ticks(opts.burst.as_nanos() as u64).max(1);
    let gap_ns = opts.gap.as_nanos() as u64;
    let mut next_checkpoint = wall_start_ns + opts.checkpoint_every.as_nanos() as u64;
    let mut restarts = 0;
    let end = loop {
        if rt::stop_requested() {
            break End::Signal;
        }
        let now = clock.now();
        if now >= run_end {
            break End::Duration;
        }
        if st.samples >= max_samples {
            break End::Samples;
        }
        st.prepare_timeline(burst_ticks, now);
        let burst_end = run_end.min(now.saturating_add(burst_ticks));
        // Spikes already listed: a late end of the pause before this burst.
        let (spikes_before, listed_before) = (st.spike_count, st.burst_spikes.len());
        let (first, last) = st.burst(meta.iterations, burst_end, max_samples);
        st.after_pause(first, last);
        if let Some(l) = meta.live.as_mut() {
            let listed = (st.burst_spikes.len() - listed_before) as u64;
            let skipped = (st.spike_count - spikes_before) - listed;
            l.after_burst(&st.burst_spikes, skipped)?;
            st.burst_spikes.clear();
        }
        meta.bursts += 1;
        meta.measured_ticks += last - first;
        if rt::stop_requested() {
            break End::Signal;
        }
        // The first bursts check the calibration: a shorter loop than the warm-up's
        // means a faster CPU; lengthen the loop, discard what was measured, start again.
        if meta.bursts <= CALIBRATION_BURSTS
            && restarts < 3
            && st.samples < max_samples
            && meta.cal.observe(meta.iterations, st.run_min)
        {
            restarts += 1;
            meta.iterations = meta.cal.iterations();
            meta.baseline = min_loop_ns(&clock, meta.iterations, warm_reps);
            // The pause first, so that the run's time starts with its next burst (a pause
            // after the new start could use up a short duration before a sample).
            if gap_ns > 0 {
                rt::sleep_until_monotonic(tsc::monotonic_ns() + gap_ns);
            }
            start = clock.now();
            run_end = limit_end(start);
            meta.wall_start_ns = tsc::monotonic_ns();
            meta.bursts = 0;
            meta.measured_ticks = 0;
            st = State::new(clock, opts, start);
            st.run_min = meta.baseline;
            if let Some(l) = meta.live.as_mut() {
                // The attribution starts again with the measurement.
                l.begin(crate::platform::tracefs::current_tid(), start, clock.hz())?;
            }
            next_checkpoint = meta.wall_start_ns + opts.checkpoint_every.as_nanos() as u64;
            continue;
        }
        let mut pause_ns = gap_ns;
        if tsc::monotonic_ns() >= next_checkpoint {
            checkpoint(&build_report(&st, &meta, false, End::Running));
            next_checkpoint = tsc::monotonic_ns() + opts.checkpoint_every.as_nanos() as u64;
            pause_ns = pause_ns.max(opts.checkpoint_settle.as_nanos() as u64);
        }
        if pause_ns > 0 && clock.now() < run_end && st.samples < max_samples {
            // A pause ends at a known deadline: resuming later than it should is a stall
            // no loop saw (the thread was held off while it slept).
            let before = clock.now();
            rt::sleep_until_monotonic(tsc::monotonic_ns() + pause_ns);
            let after = clock.now();
            st.pauses.planned_ns += pause_ns;
            let wake_ns = clock
                .to_ns(after.saturating_sub(before))
                .saturating_sub(pause_ns);
            st.resumed(before + clock.ticks(pause_ns), after, wake_ns);
        }
    };
    // A pause the run ended in counts up to its end.
    if let Some(at) = st.pauses.resumed {
        st.pause_ended(at);
    }
    // Restored before the final report, which says whether it worked.
    if let Some(s) = setup.as_mut() {
        s.restore();
        meta.rt_setup = s.record().clone();
    }
    // A run without a sample measured nothing: never complete.
    let complete = end != End::Signal && st.samples > 0;
    Ok(build_report(&st, &meta, complete, end))
}

/// Test only (the hidden `--hang`, or its key in a plan): become the measuring thread
/// clock-tick would be, pinned at SCHED_FIFO `priority`, and spin for ever without sleeping
/// and without looking at stop requests, as a measuring thread with a bug would. Only an
/// error returns.
pub fn hang(cpu: usize, priority: i32) -> Result<std::convert::Infallible> {
    rt::pin_current_thread(cpu)?;
    rt::set_fifo(priority)?;
    // Plain arithmetic, no `pause` (spin_loop): under QEMU's TCG each pause leaves the
    // translated code, and with -icount the guest's clock would then crawl.
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(ticks_per_ms: f64) -> State {
        let clock = Clock::for_test(ticks_per_ms * 1000.0);
        let opts = Options {
            cpu: 0,
            priority: 99,
            limit: Limit::Samples(10),
            loop_ns: 68_000,
            threshold_ns: 100,
            burst: Duration::from_millis(500),
            gap: Duration::from_millis(2),
            clock: tsc::Choice::Auto,
            lift_rt_throttling: false,
            rt_setup: None,
            checkpoint_every: Duration::from_secs(10),
            checkpoint_settle: Duration::ZERO,
            spike_list_cap: 2,
            timeline_cap: 8,
            warmup: Options::WARMUP,
            timeline_interval: Duration::from_millis(1),
            attribute: Attribute::Off,
            trace_reader: TraceReader::Auto,
            fail_above_us: Some(1),
        };
        State::new(clock, &opts, 1_000)
    }

    #[test]
    fn spikes_against_running_min() {
        // 1 tick = 1 ns, 1 ms = 1e6 ticks.
        let mut st = state(1e6);
        st.run_min = 50;
        for (ns, t) in [
            (50u64, 1_100u64),
            (149, 1_200),
            (150, 1_300),
            (40, 1_400),
            (140, 1_500),
            (1000, 1_600),
        ] {
            st.record(ns, t - 100, t);
        }
        assert_eq!(st.samples, 6);
        assert_eq!(st.spike_count, 3); // 150-50, 140-40, 1000-40
        assert_eq!(st.spikes, vec![(1_200 - 1_000, 100), (1_400 - 1_000, 100)]);
        assert_eq!(st.spike_hist.max(), Some(960));
        assert_eq!(st.hist.min(), Some(40));
        // --fail-above-us 1: only an overhead above 1000 ns crosses, counted from the
        // sample's start.
        assert_eq!(
            st.fail_above.result(Some(1), |t| t as f64).unwrap().crossed,
            0
        );
        for (ns, t) in [(1040, 1_700), (1041, 1_800), (5000, 1_900)] {
            st.record(ns, t - 100, t);
        }
        let f = st.fail_above.result(Some(1), |t| t as f64).unwrap();
        assert_eq!(
            (f.crossed, f.first_at_s, f.first_ns),
            (2, Some(700.0), Some(1001))
        );
    }

    #[test]
    fn calibration_only_lengthens_and_says_how_far() {
        let mut cal = Calibrator {
            target_ns: 68_000,
            base_ns: 30,
            ns_per_iter: 2.0,
            adjustments: 0,
        };
        assert_eq!(cal.iterations(), 33_985);
        // A slower loop changes nothing; a faster one lengthens the loop.
        assert!(!cal.observe(33_985, 70_000));
        assert!(!cal.observe(33_985, 67_990));
        assert!(cal.observe(33_985, 66_000));
        assert_eq!(cal.adjustments, 1);
        assert!(cal.iterations() > 33_985);
        let ok = cal.record(35_000, 68_400);
        assert_eq!(
            (ok.min_error_pct, ok.within_1pct, ok.note),
            (Some(0.59), true, None)
        );
        let short = cal.record(35_000, 61_500);
        assert_eq!(short.min_error_pct, Some(-9.56));
        assert!(!short.within_1pct);
        assert!(short.note.unwrap().contains("9.56 % below the target"));
        let long = cal.record(35_000, 70_000);
        assert!(long.note.unwrap().contains("2.94 % longer"));
        let none = Calibrator {
            target_ns: 0,
            ..cal
        }
        .record(0, 25);
        assert_eq!((none.min_error_pct, none.within_1pct), (None, true));
    }

    #[test]
    fn timeline_compacts() {
        let mut st = state(1e6);
        let ms = 1_000_000u64;
        // One sample per ms for 10 ms, value = ms index.
        for i in 0..10u64 {
            st.record(100 + i, 1_000 + i * ms, 1_000 + i * ms + 10);
        }
        assert_eq!(st.tl_max, (100..109).collect::<Vec<_>>());
        st.prepare_timeline(2 * ms, 1_000 + 10 * ms);
        assert_eq!(st.interval, 2 * ms);
        assert_eq!(st.tl_max, vec![101, 103, 105, 107]);
        assert_eq!(st.tl_min, vec![100, 102, 104, 106]);
        // The odd 9th interval was folded into the current one.
        assert_eq!((st.cur_min, st.cur_max), (108, 109));
    }
}
