//! Wake-up latency, cyclictest's method.
//!
//! One SCHED_FIFO thread, pinned to a CPU, sleeps to absolute deadlines on CLOCK_MONOTONIC
//! (`clock_nanosleep` with TIMER_ABSTIME) one interval apart, reads the clock as soon as it
//! wakes and records how late it woke (now − deadline). The next deadline is the previous
//! one plus the interval; a thread that woke after that one too skips to the first
//! deadline still ahead and counts each one it skipped as an overflow (cyclictest's
//! count). As cyclictest does, it holds /dev/cpu_dma_latency at 0 for the run, so that a
//! wake-up does not include leaving a deep idle state. Memory is fixed whatever the length: a log-linear histogram and an array of
//! 1 µs buckets, allocated and touched before the first deadline.

use std::time::Duration;

use anyhow::Result;

use crate::platform::environment;
use crate::platform::rt;
use crate::platform::rt_setup::{RtSetup, RtSetupRecord};
use crate::platform::tsc::monotonic_ns;
use crate::results::histogram::Histogram;
use crate::results::stats::HistogramJson;
use crate::results::threshold::Crossings;
use crate::results::wakeup::{self as contract, FixedHistogram, Latency, Wakeup};
use crate::results::{End, Origin, SCHEMA};

/// When a run ends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Limit {
    /// The deadlines that fall less than this long after the first one.
    Duration(Duration),
    /// This many wake-ups.
    Loops(u64),
}

/// Everything a wakeup run needs: made from the test's options ([`crate::suite::wakeup`]),
/// which hold every default and range.
#[derive(Clone, Debug)]
pub struct Options {
    pub cpu: usize,
    pub priority: i32,
    pub limit: Limit,
    pub interval_ns: u64,
    /// The fixed histogram's last bucket ends here (µs).
    pub histogram_us: u64,
    /// Count the wake-ups later than this (µs).
    pub fail_above_us: Option<u64>,
    /// Lift RT throttling and the fair_server for the run (restored afterwards).
    pub lift_rt_throttling: bool,
    /// The RT setup done by the caller (`run`) for the whole plan; `None`: the
    /// measurement does its own, as `lift_rt_throttling` says.
    pub rt_setup: Option<RtSetupRecord>,
    /// How often `checkpoint` is called with a partial result.
    pub checkpoint_every: Duration,
}

/// The measuring state: fixed-size.
struct State {
    hist: Histogram,
    /// 1 µs buckets, then the overflow count.
    fixed: Vec<u64>,
    fixed_over: u64,
    samples: u64,
    overflows: u64,
    checkpoint_skipped: u64,
    fail_above: Crossings,
}

impl State {
    fn new(histogram_us: u64, fail_above_us: Option<u64>) -> State {
        State {
            hist: Histogram::new(),
            fixed: vec![0; histogram_us as usize],
            fixed_over: 0,
            samples: 0,
            overflows: 0,
            checkpoint_skipped: 0,
            fail_above: Crossings::new(fail_above_us),
        }
    }

    /// One wake-up `late_ns` after its deadline, `at_ns` after the first deadline.
    #[inline(always)]
    fn record(&mut self, late_ns: u64, at_ns: u64) {
        self.hist.record(late_ns);
        self.samples += 1;
        match self.fixed.get_mut((late_ns / 1000) as usize) {
            Some(c) => *c += 1,
            None => self.fixed_over += 1,
        }
        self.fail_above.record(late_ns, at_ns);
    }
}

/// Skip the deadlines `now` has passed: the first one after `now`, and how many were
/// skipped (`next` included when passed).
fn next_deadline(next: u64, now: u64, interval: u64) -> (u64, u64) {
    if now <= next {
        return (next, 0);
    }
    let skipped = (now - next) / interval + 1;
    (next + skipped * interval, skipped)
}

fn build(st: &State, m: &Meta, complete: bool, end: End, now: u64) -> Wakeup {
    let h = &st.hist;
    let latency = (|| {
        Some(Latency {
            min: h.min()?,
            mean: (h.mean()? * 10.0).round() / 10.0,
            p50: h.quantile(0.5)?,
            p99: h.quantile(0.99)?,
            p9999: h.quantile(0.9999)?,
            max: h.max()?,
        })
    })();
    Wakeup {
        schema: SCHEMA,
        test: contract::NAME.to_string(),
        rust_bench_version: Some(m.origin.rust_bench_version.clone()),
        command_line: Some(m.origin.command_line.clone()),
        started: Some(m.origin.started.clone()),
        complete,
        end,
        interval_ns: m.opts.interval_ns,
        samples: st.samples,
        overflows: st.overflows,
        checkpoint_skipped: st.checkpoint_skipped,
        duration_s: round6(now.saturating_sub(m.first) as f64 / 1e9),
        latency_ns: latency,
        histogram: HistogramJson::from(h),
        fixed_histogram: FixedHistogram {
            limit_us: m.opts.histogram_us,
            buckets: st
                .fixed
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(us, c)| [us as u64, *c])
                .collect(),
            overflow: st.fixed_over,
        },
        fail_above: st
            .fail_above
            .result(m.opts.fail_above_us, |ns| ns as f64 / 1e9),
        priority: m.opts.priority,
        cpu: m.opts.cpu,
        rt_throttling_lifted: m.rt_setup.rt_throttling_lifted,
        rt_setup: Some(m.rt_setup.clone()),
        memory_locked: m.locked,
        cpu_dma_latency_zero: m.cpu_dma_latency_zero,
        environment: m.environment.clone(),
    }
}

struct Meta<'a> {
    opts: &'a Options,
    origin: Origin,
    environment: crate::results::environment::Environment,
    rt_setup: RtSetupRecord,
    locked: bool,
    cpu_dma_latency_zero: bool,
    /// The first deadline (CLOCK_MONOTONIC ns).
    first: u64,
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// Run the test on the calling thread (made SCHED_FIFO and pinned for the run, restored
/// afterwards). `checkpoint` is called about every `opts.checkpoint_every` with a partial
/// result (`complete: false`, `end: "running"`); the deadlines its writing covers are
/// skipped and counted as `checkpoint_skipped`, not as late wake-ups. The run ends early,
/// with `complete: false`, when [`rt::stop_requested`] becomes true.
pub fn measure(opts: &Options, checkpoint: &mut dyn FnMut(&Wakeup)) -> Result<Wakeup> {
    let origin = Origin::now();
    rt::check_cpu(opts.cpu)?;
    rt::check_fifo(opts.priority)?;
    let (mut setup, rt_setup) = RtSetup::for_measurement(&opts.rt_setup, opts.lift_rt_throttling)?;
    let environment = environment::collect();

    let _sched = rt::ThreadSchedGuard::save();
    rt::pin_current_thread(opts.cpu)?;
    rt::set_fifo(opts.priority)?;
    let locked = rt::lock_memory();
    // Held until the run returns (the file's drop withdraws the request).
    let dma_latency = rt::hold_cpu_dma_latency_zero();
    rt::prefault_stack(256 * 1024);
    let mut st = State::new(opts.histogram_us, opts.fail_above_us);

    let interval = opts.interval_ns.max(1);
    let first = monotonic_ns() + interval;
    let mut meta = Meta {
        opts,
        origin,
        environment,
        rt_setup,
        locked,
        cpu_dma_latency_zero: dma_latency.is_some(),
        first,
    };
    let (last_deadline, max_samples) = match opts.limit {
        Limit::Duration(d) => (first + d.as_nanos() as u64, u64::MAX),
        Limit::Loops(n) => (u64::MAX, n),
    };
    let every = opts.checkpoint_every.as_nanos() as u64;
    let mut next_checkpoint = first + every;
    let mut deadline = first;
    let end = loop {
        if rt::stop_requested() {
            break End::Signal;
        }
        if st.samples >= max_samples {
            break End::Samples;
        }
        if deadline >= last_deadline {
            break End::Duration;
        }
        rt::sleep_until_monotonic(deadline);
        let now = monotonic_ns();
        if now < deadline {
            // Woken early by a signal: look at the stop flag, then sleep again.
            continue;
        }
        st.record(now - deadline, now - first);
        let (next, skipped) = next_deadline(deadline + interval, now, interval);
        st.overflows += skipped;
        deadline = next;
        if now >= next_checkpoint {
            checkpoint(&build(&st, &meta, false, End::Running, now));
            let after = monotonic_ns();
            let (next, skipped) = next_deadline(deadline, after, interval);
            st.checkpoint_skipped += skipped;
            deadline = next;
            next_checkpoint = after + every;
        }
    };
    let now = monotonic_ns().min(last_deadline);
    if let Some(s) = setup.as_mut() {
        s.restore();
        meta.rt_setup = s.record().clone();
    }
    let complete = end != End::Signal && st.samples > 0;
    Ok(build(&st, &meta, complete, end, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_wake_ups_skip_to_the_next_deadline_ahead() {
        // On time, or before the next deadline: nothing skipped.
        assert_eq!(next_deadline(2000, 1500, 1000), (2000, 0));
        assert_eq!(next_deadline(2000, 2000, 1000), (2000, 0));
        // Just past the next deadline: one overflow; 3.5 intervals past: four.
        assert_eq!(next_deadline(2000, 2001, 1000), (3000, 1));
        assert_eq!(next_deadline(2000, 5500, 1000), (6000, 4));
    }

    #[test]
    fn buckets_and_threshold() {
        let mut st = State::new(3, Some(1));
        for (late, at) in [(0, 10), (999, 20), (1000, 30), (2999, 40), (3000, 50)] {
            st.record(late, at);
        }
        assert_eq!(st.fixed, vec![2, 1, 1]);
        assert_eq!(st.fixed_over, 1);
        let f = st.fail_above.result(Some(1), |ns| ns as f64).unwrap();
        assert_eq!(
            (f.crossed, f.first_at_s, f.first_ns),
            (2, Some(40.0), Some(2999))
        );
        assert_eq!((st.hist.min(), st.hist.max()), (Some(0), Some(3000)));
    }
}
