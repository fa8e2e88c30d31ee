//! The kernel's own latency measurement (the timerlat tracer) on the test CPU, driven
//! through tracefs without rtla: a tracing instance runs the tracer, whose timer fires
//! every period on the CPU and records, per activation, how late its handler ran (the IRQ
//! latency) and how late the tracer's thread it wakes ran (the thread latency). The noise
//! events of the same instance (`osnoise:*_noise`) say what delayed the worst activation,
//! as `rtla timerlat -a` analyses it.
//!
//! Bounded: the trace is read in the kernel's binary form every second (on a one-CPU
//! machine at checkpoints), into fixed-size histograms and the analysis of the activation
//! under way, whatever the length. The run counts the activations of a window of whole
//! periods from the first one read; each reading stops after [`DRAIN_BUDGET`], the last one,
//! tracing off, after [`FINAL_DRAIN_MAX`]; what is left unread counts as lost, as what the
//! kernel overwrote or dropped does.

mod binary;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::platform::trace_raw::{Decoder, Item};
use crate::platform::tracefs::{self, Entry as TraceEntry, TracePipe, buffer_stats};
use crate::platform::tracer::{Instance, Saved, Tracer, events_lost, write};
use crate::platform::{environment, rt};
use crate::results::histogram::Histogram;
use crate::results::stats::HistogramJson;
use crate::results::threshold::Crossings;
use crate::results::timerlat::{
    self as contract, FixedHistogram, Latency, MAX_SOURCES, Source, Timerlat, Worst,
};
use crate::results::trace::TraceReader;
use crate::results::{End, Origin, SCHEMA};

/// What a timerlat run needs: made from the test's options (`rust-bench timerlat`'s
/// flags, or a plan's section), which hold every default and range
/// ([`crate::suite::timerlat`]).
#[derive(Clone, Debug)]
pub struct Options {
    pub cpu: usize,
    pub duration: Duration,
    pub period_us: u64,
    /// Count the thread latencies above this many µs (`--fail-above-us`).
    pub fail_above_us: Option<u64>,
    pub checkpoint_every: Duration,
}

/// The instance's name under `instances/`.
pub const INSTANCE: &str = "hvrt-timerlat";

/// The noise events the analysis of the worst activation reads.
const NOISE_EVENTS: [&str; 4] = ["nmi_noise", "irq_noise", "softirq_noise", "thread_noise"];

/// The tracer, in its own instance only.
const TRACER: Tracer = Tracer {
    name: "timerlat",
    instance: INSTANCE,
    events: &NOISE_EVENTS,
    top_level_fallback: false,
    config: "CONFIG_TIMERLAT_TRACER",
    settings: "osnoise/timerlat_period_us",
};

/// The fixed histogram's 1 µs buckets (`timerlat-histogram.csv`).
pub const FIXED_LIMIT_US: u64 = 1000;

/// Sources one activation's analysis keeps apart; the rest are summed as `others`.
const ANALYSIS_SOURCES: usize = 64;

/// How often the trace is read while the tracer runs, from another CPU. On a one-CPU
/// machine, where a reading is noise on the measured CPU, only at checkpoints.
const DRAIN_EVERY: Duration = Duration::from_secs(1);

/// How long one reading may take while the tracer runs.
const DRAIN_BUDGET: Duration = Duration::from_millis(100);

/// How long the last reading, once tracing is off, may take.
const FINAL_DRAIN_MAX: Duration = Duration::from_secs(2);

/// How long after the window's end the run waits for a sample of the period after it
/// (which says the window was read whole), and how often it looks.
const LAST_SAMPLE_WAIT: Duration = Duration::from_secs(1);
const SAMPLE_POLL: Duration = Duration::from_millis(100);

/// Bytes of pages per reading.
const READ_CHUNK: usize = 64 * 1024;

/// A delay's class, as the tracer's noise events name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    Nmi,
    Irq,
    Softirq,
    Thread,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Nmi => "nmi",
            Class::Irq => "irq",
            Class::Softirq => "softirq",
            Class::Thread => "thread",
        }
    }
}

/// One record of the instance's trace.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A sample of the tracer: when it was written (trace clock, ns), by which task (the
    /// one interrupted, for an IRQ sample; 0 is idle), the activation, whether it is its
    /// thread's (else its IRQ's) and the latency.
    Sample {
        ts: u64,
        pid: i32,
        seqnum: u64,
        thread: bool,
        latency_ns: u64,
    },
    /// A noise: its class, source, task, start (trace clock) and duration (ns).
    Noise {
        class: Class,
        name: String,
        pid: i32,
        start: u64,
        duration: u64,
    },
    Lost(u64),
}

/// An IRQ or NMI seen while no activation was under way: the one that may still have run
/// when the next timer expired.
#[derive(Clone, Debug)]
struct Before {
    start: u64,
    duration: u64,
    source: Source,
}

/// The activation under way, from its IRQ sample to its thread's, analysed as
/// `rtla timerlat -a` does.
#[derive(Clone, Debug)]
struct Activation {
    seqnum: u64,
    /// When the timer expired: the IRQ sample's time less its latency.
    expiry: u64,
    irq_latency_ns: u64,
    /// The task the timer interrupted (0: the idle task, whose noise after the handler
    /// is the idle exit: the blocking thread, as rtla names it).
    run_pid: i32,
    timer_irq: Option<(u64, u64)>,
    previous_irq: Option<Source>,
    blocking: Option<Source>,
    sums: [u64; 4],
    sources: BTreeMap<(Class, String), Source>,
}

impl Activation {
    fn add(&mut self, class: Class, name: &str, duration: u64) {
        self.sums[class as usize] += duration;
        let key = (class, name.to_string());
        let key = if self.sources.len() >= ANALYSIS_SOURCES && !self.sources.contains_key(&key) {
            (class, "others".to_string())
        } else {
            key
        };
        let s = self.sources.entry(key).or_insert_with_key(|(c, n)| Source {
            class: c.as_str().to_string(),
            name: n.clone(),
            count: 0,
            total_ns: 0,
        });
        s.count += 1;
        s.total_ns += duration;
    }

    /// What delayed it, its thread latency known.
    fn worst(&self, thread_latency_ns: u64, first_expiry: u64) -> Worst {
        let (irq_delay_ns, timer_irq_ns) = match self.timer_irq {
            Some((start, duration)) => (start.saturating_sub(self.expiry), duration),
            None => (self.irq_latency_ns, 0),
        };
        let [nmi_ns, irq_ns, softirq_ns, thread_ns] = self.sums;
        let blocking = self.blocking.as_ref().map_or(0, |b| b.total_ns);
        let explained = irq_delay_ns + timer_irq_ns + blocking + nmi_ns + irq_ns + softirq_ns;
        let mut sources: Vec<Source> = self.sources.values().cloned().collect();
        sources.sort_by(|a, b| b.total_ns.cmp(&a.total_ns).then(a.name.cmp(&b.name)));
        if sources.len() > MAX_SOURCES {
            let rest = sources.split_off(MAX_SOURCES - 1);
            sources.push(Source {
                class: "others".to_string(),
                name: String::new(),
                count: rest.iter().map(|s| s.count).sum(),
                total_ns: rest.iter().map(|s| s.total_ns).sum(),
            });
        }
        Worst {
            seqnum: self.seqnum,
            at_s: self.expiry.saturating_sub(first_expiry) as f64 / 1e9,
            irq_latency_ns: self.irq_latency_ns,
            thread_latency_ns,
            irq_delay_ns,
            previous_irq: self.previous_irq.clone(),
            timer_irq_ns,
            blocking_thread: self.blocking.clone(),
            nmi_ns,
            irq_ns,
            softirq_ns,
            thread_ns,
            unexplained_ns: thread_latency_ns.saturating_sub(explained + thread_ns),
            sources,
        }
    }
}

/// Everything read so far: bounded, whatever the length.
struct Sums {
    period_ns: u64,
    periods_asked: u64,
    /// The first activation's expiry; the window's end (the last period's middle, so that a
    /// timer firing a little early or late is counted in its own period).
    first_expiry: Option<u64>,
    window_end: u64,
    /// The first activation after the window: its samples and those after are not counted.
    cutoff: Option<u64>,
    activations: u64,
    thread_samples: u64,
    samples_dropped: u64,
    irq: Histogram,
    thread: Histogram,
    /// 1 µs buckets: [IRQ, thread].
    fixed: Vec<[u64; 2]>,
    over: [u64; 2],
    lost: u64,
    before: Option<Before>,
    current: Option<Activation>,
    worst: Option<Worst>,
    /// The thread latencies above `--fail-above-us`, at their expiry's ns after the first's.
    fail_above: Crossings,
}

impl Sums {
    fn new(period_us: u64, duration: Duration, fail_above_us: Option<u64>) -> Sums {
        Sums {
            period_ns: period_us * 1000,
            periods_asked: periods_asked(duration, period_us),
            first_expiry: None,
            window_end: 0,
            cutoff: None,
            activations: 0,
            thread_samples: 0,
            samples_dropped: 0,
            irq: Histogram::new(),
            thread: Histogram::new(),
            fixed: vec![[0; 2]; FIXED_LIMIT_US as usize],
            over: [0; 2],
            lost: 0,
            before: None,
            current: None,
            worst: None,
            fail_above: Crossings::new(fail_above_us),
        }
    }

    /// A sample of the period after the window was read: the window is whole.
    fn window_read(&self) -> bool {
        self.cutoff.is_some()
    }

    fn record(&mut self, which: usize, ns: u64) {
        let h = if which == 0 {
            &mut self.irq
        } else {
            &mut self.thread
        };
        h.record(ns);
        match self.fixed.get_mut((ns / 1000) as usize) {
            Some(b) => b[which] += 1,
            None => self.over[which] += 1,
        }
    }

    fn add(&mut self, event: Event) {
        match event {
            Event::Lost(n) => self.lost += n,
            Event::Sample {
                ts,
                pid,
                seqnum,
                thread: false,
                latency_ns,
            } => {
                self.current = None;
                let expiry = ts.saturating_sub(latency_ns);
                if self.first_expiry.is_none() {
                    self.first_expiry = Some(expiry);
                    self.window_end = expiry
                        + (self.periods_asked * self.period_ns).saturating_sub(self.period_ns / 2);
                }
                if self.cutoff.is_some() || expiry >= self.window_end {
                    self.cutoff.get_or_insert(seqnum);
                    self.samples_dropped += 1;
                    return;
                }
                self.activations += 1;
                self.record(0, latency_ns);
                self.current = Some(Activation {
                    seqnum,
                    expiry,
                    irq_latency_ns: latency_ns,
                    run_pid: pid,
                    timer_irq: None,
                    previous_irq: None,
                    blocking: None,
                    sums: [0; 4],
                    sources: BTreeMap::new(),
                });
            }
            Event::Sample {
                seqnum,
                thread: true,
                latency_ns,
                ..
            } => {
                if self.cutoff.is_some_and(|c| seqnum >= c) {
                    self.samples_dropped += 1;
                    return;
                }
                // Counted with its IRQ sample only: without it (lost, or before the
                // reading began) it belongs to no activation of the window.
                let Some(a) = self.current.take().filter(|a| a.seqnum == seqnum) else {
                    return;
                };
                self.thread_samples += 1;
                self.record(1, latency_ns);
                let since_first = a.expiry - self.first_expiry.unwrap_or(a.expiry);
                self.fail_above.record(latency_ns, since_first);
                if self
                    .worst
                    .as_ref()
                    .is_none_or(|w| latency_ns > w.thread_latency_ns)
                {
                    self.worst = Some(a.worst(latency_ns, self.first_expiry.unwrap_or(0)));
                }
            }
            Event::Noise {
                class,
                name,
                pid,
                start,
                duration,
            } => {
                let Some(a) = self.current.as_mut() else {
                    if matches!(class, Class::Irq | Class::Nmi) {
                        self.before = Some(Before {
                            start,
                            duration,
                            source: Source {
                                class: class.as_str().to_string(),
                                name,
                                count: 1,
                                total_ns: duration,
                            },
                        });
                    }
                    return;
                };
                match class {
                    // The first IRQ after the sample is the timer's own (its noise event is
                    // written as it returns): it says when the handler started; an IRQ or
                    // NMI that ran into the expiry before it delayed it.
                    Class::Irq if a.timer_irq.is_none() => {
                        a.timer_irq = Some((start, duration));
                        a.previous_irq = self
                            .before
                            .take()
                            .filter(|b| b.start + b.duration > a.expiry && b.start < start)
                            .map(|b| b.source);
                    }
                    Class::Thread if pid == a.run_pid && a.blocking.is_none() => {
                        a.blocking = Some(Source {
                            class: "thread".to_string(),
                            name,
                            count: 1,
                            total_ns: duration,
                        });
                    }
                    _ => a.add(class, &name, duration),
                }
            }
        }
    }

    fn latency(h: &Histogram) -> Option<Latency> {
        Some(Latency {
            min: h.min()?,
            mean: h.mean()?,
            p50: h.quantile(0.5)?,
            p99: h.quantile(0.99)?,
            p9999: h.quantile(0.9999)?,
            max: h.max()?,
        })
    }

    fn fixed_histogram(&self) -> FixedHistogram {
        FixedHistogram {
            limit_us: FIXED_LIMIT_US,
            buckets: self
                .fixed
                .iter()
                .enumerate()
                .filter(|(_, b)| b[0] + b[1] > 0)
                .map(|(us, b)| [us as u64, b[0], b[1]])
                .collect(),
            irq_overflow: self.over[0],
            thread_overflow: self.over[1],
        }
    }
}

/// The periods a run of `duration` asks for: the duration over the period, rounded up.
pub fn periods_asked(duration: Duration, period_us: u64) -> u64 {
    (duration.as_micros() as u64).div_ceil(period_us).max(1)
}

/// Everything [`measure`] needs on `cpu` before it starts: the CPU, tracefs, the tracer.
pub fn preflight(cpu: usize) -> Result<()> {
    TRACER.open_tracefs(cpu).map(drop)
}

/// The instance's buffer of the measured CPU, decoded.
struct Trace {
    pipe: TracePipe,
    decode: binary::Decode,
}

impl Trace {
    /// Read what the buffer holds into `sums` until it is empty or `until`.
    fn drain_until(&mut self, sums: &mut Sums, until: Instant) -> Result<()> {
        let decode = &self.decode;
        while Instant::now() < until {
            let read = self.pipe.drain(&mut |entry| {
                let event = match entry {
                    TraceEntry::Item(Item::Record(r)) => decode.event(&r),
                    TraceEntry::Item(Item::Lost(n)) => Some(Event::Lost(n)),
                    TraceEntry::Line(_) => None,
                };
                if let Some(e) = event {
                    sums.add(e);
                }
            })?;
            if read == 0 {
                break;
            }
        }
        Ok(())
    }
}

/// Run the timerlat tracer on `opts.cpu` for `opts.duration`; `checkpoint` gets the result
/// so far about every `opts.checkpoint_every`.
pub fn measure(opts: &Options, checkpoint: &mut dyn FnMut(&Timerlat)) -> Result<Timerlat> {
    let origin = Origin::now();
    let tracefs = TRACER.open_tracefs(opts.cpu)?;
    let environment = environment::collect();
    let events = tracefs.root().join("events");
    let decoder = Decoder::load(&events)
        .context("the timerlat test reads the kernel's trace in its binary form")?;
    let decode = binary::Decode::load(&events)?;
    let osnoise_dir = tracefs.root().join("osnoise");
    let _saved = Saved::save(&osnoise_dir, &["cpus", "timerlat_period_us"]);
    write(&osnoise_dir.join("cpus"), &opts.cpu.to_string())?;
    write(
        &osnoise_dir.join("timerlat_period_us"),
        &opts.period_us.to_string(),
    )?;
    // Read from another CPU where there is one: reading on the measured CPU delays its
    // thread. On a one-CPU machine only at checkpoints, into a buffer sized for that.
    let other = rt::usable_cpus().into_iter().find(|&c| c != opts.cpu);
    let read_every = match other {
        Some(_) => DRAIN_EVERY,
        None => opts.checkpoint_every.max(DRAIN_EVERY),
    };
    // Two samples an activation and a few noise events (the timer's IRQ, its softirq,
    // the thread it preempts), and the CPU's other events.
    let events_per_s = 6 * 1_000_000 / opts.period_us + 2_000;
    let buffer_kb = tracefs::buffer_kb_for(events_per_s, read_every, tracefs::mem_available_kb());
    let mut sums = Sums::new(opts.period_us, opts.duration, opts.fail_above_us);
    let (instance, start) = Instance::open(tracefs.root(), &TRACER, opts.cpu, buffer_kb)?;
    let _sched = rt::ThreadSchedGuard::save();
    if let Some(other) = other {
        let _ = rt::pin_current_thread(other);
    }
    let dir = instance.dir().to_path_buf();
    let mut trace = Trace {
        pipe: TracePipe::open_with(&dir, opts.cpu, Some(decoder), READ_CHUNK)?,
        decode,
    };
    let report = |sums: &Sums, complete: bool, end: End, lost: u64| Timerlat {
        schema: SCHEMA,
        test: contract::NAME.to_string(),
        rust_bench_version: Some(origin.rust_bench_version.clone()),
        command_line: Some(origin.command_line.clone()),
        started: Some(origin.started.clone()),
        complete,
        end,
        cpu: opts.cpu,
        period_us: opts.period_us,
        duration_asked_s: opts.duration.as_secs_f64(),
        periods_asked: sums.periods_asked,
        duration_s: (start.elapsed().as_secs_f64() * 1e6).round() / 1e6,
        activations: sums.activations,
        thread_samples: sums.thread_samples,
        periods_missed: sums.periods_asked.saturating_sub(sums.activations),
        samples_dropped: sums.samples_dropped,
        irq_latency_ns: Sums::latency(&sums.irq),
        thread_latency_ns: Sums::latency(&sums.thread),
        irq_histogram: HistogramJson::from(&sums.irq),
        thread_histogram: HistogramJson::from(&sums.thread),
        fixed_histogram: sums.fixed_histogram(),
        worst: sums.worst.clone(),
        fail_above: sums
            .fail_above
            .result(opts.fail_above_us, |ns| ns as f64 / 1e9),
        events_lost: lost,
        trace_reader: Some(TraceReader::Binary),
        buffer_size_kb: Some(buffer_kb),
        environment: environment.clone(),
    };
    let lost_so_far = |sums: &Sums, unread: u64| {
        let (_, lost) = buffer_stats(&dir, opts.cpu);
        events_lost(sums.lost, lost, unread)
    };
    let deadline = start + opts.duration;
    let mut next_checkpoint = start + opts.checkpoint_every;
    let mut end = loop {
        if rt::stop_requested() {
            break End::Signal;
        }
        let now = Instant::now();
        if now >= deadline {
            break End::Duration;
        }
        rt::sleep_until_stopped((now + read_every).min(deadline));
        trace.drain_until(&mut sums, Instant::now() + DRAIN_BUDGET)?;
        if Instant::now() >= next_checkpoint {
            checkpoint(&report(&sums, false, End::Running, lost_so_far(&sums, 0)));
            next_checkpoint = Instant::now() + opts.checkpoint_every;
        }
    };
    // The window is counted from the first activation, a little after the start: look
    // for a sample of the period after it, for LAST_SAMPLE_WAIT at most.
    let mut waited = Duration::ZERO;
    while end == End::Duration && !sums.window_read() && waited < LAST_SAMPLE_WAIT {
        rt::sleep_until_stopped(Instant::now() + SAMPLE_POLL);
        waited += SAMPLE_POLL;
        if rt::stop_requested() {
            end = End::Signal;
            break;
        }
        trace.drain_until(&mut sums, Instant::now() + DRAIN_BUDGET)?;
    }
    // Nothing is written once tracing is off: the last reading is bounded by the buffer
    // and FINAL_DRAIN_MAX; what it leaves counts as lost.
    write(&dir.join("tracing_on"), "0")?;
    trace.drain_until(&mut sums, Instant::now() + FINAL_DRAIN_MAX)?;
    let (unread, _) = buffer_stats(&dir, opts.cpu);
    let lost = lost_so_far(&sums, unread);
    drop(trace);
    drop(instance);
    let complete = end == End::Duration && sums.activations > 0 && sums.window_read();
    Ok(report(&sums, complete, end, lost))
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use super::*;

    fn irq(ts: u64, pid: i32, seqnum: u64, latency_ns: u64) -> Event {
        Event::Sample {
            ts,
            pid,
            seqnum,
            thread: false,
            latency_ns,
        }
    }

    fn thread(ts: u64, seqnum: u64, latency_ns: u64) -> Event {
        Event::Sample {
            ts,
            pid: 900,
            seqnum,
            thread: true,
            latency_ns,
        }
    }

    fn noise(class: Class, name: &str, pid: i32, start: u64, duration: u64) -> Event {
        Event::Noise {
            class,
            name: name.into(),
            pid,
            start,
            duration,
        }
    }

    /// `--fail-above-us` counts the thread latencies above it (a thread's latency includes
    /// its IRQ's), the first at its expiry's time after the first activation's.
    #[test]
    fn a_threshold_counts_the_thread_latencies_above_it() {
        let mut s = Sums::new(1000, Duration::from_millis(10), Some(5));
        s.add(irq(1_000_500, 0, 1, 500));
        s.add(thread(1_002_000, 1, 2_000));
        s.add(irq(2_003_000, 0, 2, 3_000));
        s.add(thread(2_012_000, 2, 12_000));
        s.add(irq(3_001_000, 0, 3, 1_000));
        s.add(thread(3_006_000, 3, 6_000));
        let f = s.fail_above.result(Some(5), |ns| ns as f64 / 1e9).unwrap();
        assert_eq!(
            (f.threshold_us, f.crossed, f.first_at_s, f.first_ns),
            (5, 2, Some(0.001), Some(12_000))
        );
        assert_eq!(s.fail_above.result(None, |ns| ns as f64), None);
    }

    /// The worst activation's delays, as rtla timerlat -a takes them apart: a previous IRQ
    /// running into the expiry, the timer's handler, the thread that ran on, interference,
    /// and what no event explains.
    #[test]
    fn the_worst_activation_is_taken_apart() {
        let mut s = Sums::new(1000, Duration::from_millis(10), None);
        // Activation 1 at 1 ms: quiet.
        s.add(irq(1_000_500, 0, 1, 500));
        s.add(noise(Class::Irq, "local_timer", 0, 1_000_300, 900));
        s.add(thread(1_002_000, 1, 2_000));
        // An IRQ before activation 2 that runs into its expiry (2 ms).
        s.add(noise(Class::Irq, "eth0", 50, 1_999_000, 1_500));
        s.add(irq(2_003_000, 50, 2, 3_000));
        s.add(noise(Class::Irq, "local_timer", 50, 2_002_000, 1_200));
        s.add(noise(Class::Softirq, "TIMER", 50, 2_003_500, 700));
        // The task the timer interrupted runs on (its noise), then another thread.
        s.add(noise(Class::Thread, "busy", 50, 2_004_000, 4_000));
        s.add(noise(Class::Thread, "kworker/0:1", 60, 2_008_000, 1_000));
        s.add(noise(Class::Irq, "local_timer", 50, 2_009_000, 300));
        s.add(thread(2_012_000, 2, 12_000));
        assert_eq!((s.activations, s.thread_samples), (2, 2));
        let w = s.worst.clone().unwrap();
        assert_eq!((w.seqnum, w.at_s), (2, 0.001));
        assert_eq!((w.irq_latency_ns, w.thread_latency_ns), (3_000, 12_000));
        assert_eq!((w.irq_delay_ns, w.timer_irq_ns), (2_000, 1_200));
        assert_eq!(w.previous_irq.unwrap().name, "eth0");
        let b = w.blocking_thread.unwrap();
        assert_eq!((b.name.as_str(), b.total_ns), ("busy", 4_000));
        assert_eq!(
            (w.nmi_ns, w.irq_ns, w.softirq_ns, w.thread_ns),
            (0, 300, 700, 1_000)
        );
        // 12 000 - (2 000 + 1 200 + 4 000 + 300 + 700 + 1 000)
        assert_eq!(w.unexplained_ns, 2_800);
        // From idle: the idle task's noise is the blocking thread, as rtla names it.
        let mut idle = Sums::new(1000, Duration::from_millis(10), None);
        idle.add(irq(1_004_000, 0, 1, 4_000));
        idle.add(noise(Class::Irq, "local_timer", 0, 1_003_000, 1_000));
        idle.add(noise(Class::Thread, "swapper/0", 0, 1_004_000, 2_000));
        idle.add(thread(1_007_000, 1, 7_000));
        let iw = idle.worst.unwrap();
        assert_eq!(iw.blocking_thread.unwrap().name, "swapper/0");
        assert_eq!(
            (iw.irq_delay_ns, iw.thread_ns, iw.unexplained_ns),
            (3_000, 0, 1_000)
        );
        assert_eq!(w.sources[0].name, "kworker/0:1");
        assert_eq!(w.sources.len(), 3);
        let t = Sums::latency(&s.thread).unwrap();
        assert_eq!((t.min, t.max), (2_000, 12_000));
        let h = s.fixed_histogram();
        assert_eq!(h.buckets, vec![[0, 1, 0], [2, 0, 1], [3, 1, 0], [12, 0, 1]]);
    }

    /// The window is whole periods from the first activation: a sample of the period
    /// after it closes it, and it and later samples are read and not counted.
    #[test]
    fn samples_after_the_window_are_dropped() {
        let mut s = Sums::new(1000, Duration::from_millis(3), None);
        for k in 1..=5u64 {
            // Activation 3 was skipped (its period passed while the thread was held off).
            if k == 3 {
                continue;
            }
            s.add(irq(k * 1_000_000 + 400, 0, k, 400));
            s.add(thread(k * 1_000_000 + 900, k, 900));
        }
        assert_eq!((s.activations, s.thread_samples), (2, 2));
        assert_eq!(s.samples_dropped, 4);
        assert!(s.window_read());
        assert_eq!(s.periods_asked, 3);
        // A thread sample without its IRQ sample belongs to no activation.
        let mut s = Sums::new(1000, Duration::from_millis(3), None);
        s.add(thread(900, 7, 900));
        s.add(Event::Lost(3));
        assert_eq!((s.activations, s.thread_samples, s.lost), (0, 0, 3));
        assert!(!s.window_read());
    }

    /// The recorded trace of the tracer in a guest (tests/data/trace-raw/timerlat: 57
    /// activations of 1 ms, a busy shell on the CPU), analysed: its worst activation (#2,
    /// 49.5 µs) interrupted the shell (pid 90), which ran on for 24.3 µs before the tracer's
    /// thread, after the timer's handler of 16.2 µs.
    #[test]
    fn the_recorded_trace_is_analysed() {
        use crate::platform::trace_raw::Decoder;
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/trace-raw/timerlat");
        let events = dir.join("events");
        let decode = binary::Decode::load(&events).unwrap();
        let decoder = Decoder::load(&events).unwrap();
        let raw = fs::read(dir.join("cpu0.raw")).unwrap();
        let mut s = Sums::new(1000, Duration::from_secs(1), None);
        for page in raw.chunks(decoder.page_size()) {
            decoder
                .page(page, &mut |item| match item {
                    Item::Record(r) => s.add(decode.event(&r).unwrap()),
                    Item::Lost(n) => s.add(Event::Lost(n)),
                })
                .unwrap();
        }
        assert_eq!((s.activations, s.thread_samples, s.lost), (57, 57, 0));
        assert!(!s.window_read());
        let w = s.worst.clone().unwrap();
        assert_eq!(
            (w.seqnum, w.irq_latency_ns, w.thread_latency_ns),
            (2, 4_016, 49_520)
        );
        assert_eq!(w.timer_irq_ns, 16_216);
        assert!(w.irq_delay_ns < w.irq_latency_ns, "{w:?}");
        assert_eq!(w.previous_irq, None);
        let b = w.blocking_thread.clone().unwrap();
        assert_eq!((b.name.as_str(), b.total_ns), ("sh", 24_256));
        assert_eq!(
            (w.nmi_ns, w.irq_ns, w.softirq_ns, w.thread_ns),
            (0, 0, 0, 0)
        );
        assert_eq!(
            w.unexplained_ns,
            49_520 - w.irq_delay_ns - 16_216 - 24_256,
            "{w:?}"
        );
        let t = Sums::latency(&s.thread).unwrap();
        assert_eq!(t.max, 49_520);
    }

    #[test]
    fn the_sources_of_an_activation_are_bounded() {
        let mut s = Sums::new(1000, Duration::from_secs(1), None);
        s.add(irq(1_000_400, 0, 1, 400));
        for k in 0..200u64 {
            s.add(noise(
                Class::Thread,
                &format!("t{k}"),
                10 + k as i32,
                1_001_000 + k,
                1 + k,
            ));
        }
        s.add(thread(1_010_000, 1, 10_000));
        let w = s.worst.unwrap();
        assert_eq!(w.sources.len(), MAX_SOURCES);
        assert_eq!(w.sources.last().unwrap().class, "others");
        let total: u64 = w.sources.iter().map(|x| x.total_ns).sum();
        assert_eq!(total, (1..=200).sum::<u64>());
        assert_eq!(w.thread_ns, total);
    }
}
