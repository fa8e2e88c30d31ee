//! The kernel's own noise measurement (the osnoise tracer) on the test CPU, driven through
//! tracefs without rtla: a tracing instance runs the tracer, its per-period summaries and
//! its per-source noise events are read every second and summed. A cross-check of
//! clock-tick's attribution with the kernel's in-kernel workload.
//!
//! Bounded: the tracer's `sample_threshold` event (one per hardware or hypervisor gap, a
//! flood under emulation) is not enabled; the noise no event names is the summaries' total
//! less the named events' time. Each second's reading stops after [`DRAIN_BUDGET`] or at
//! the end of the run, and the last reading, once tracing is off, after [`FINAL_DRAIN_MAX`];
//! what is left unread counts as lost, as what the kernel overwrote or dropped does.

mod binary;

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::measure::attribution::{find_cpu_field, split_fields};
use crate::platform::trace_raw::{Decoder, Item};
use crate::platform::tracefs::{self, Entry as TraceEntry, TracePipe, buffer_stats};
use crate::platform::tracer::{Instance, Saved, Tracer, events_lost, write};
use crate::platform::{environment, rt};
use crate::results::osnoise::{self as contract, Counts, NoiseSource, Osnoise};
use crate::results::threshold::Crossings;
use crate::results::trace::TraceReader;
use crate::results::{End, Origin, SCHEMA};

/// What an osnoise run needs: made from the test's options (`rust-bench osnoise`'s flags,
/// or a plan's section), which hold every default and range ([`crate::suite::osnoise`]).
#[derive(Clone, Debug)]
pub struct Options {
    pub cpu: usize,
    pub duration: Duration,
    pub period_us: u64,
    pub runtime_us: u64,
    pub checkpoint_every: Duration,
    pub trace_reader: TraceReader,
    /// Count the periods whose longest single noise is above this many microseconds.
    pub fail_above_us: Option<u64>,
}

/// The instance's name under `instances/`.
pub const INSTANCE: &str = "hvrt-osnoise";

/// The tracer: in its own instance or, where the kernel refuses that, at the top level if
/// no tracer is in use there.
const TRACER: Tracer = Tracer {
    name: "osnoise",
    instance: INSTANCE,
    events: &EVENTS,
    top_level_fallback: true,
    config: "CONFIG_OSNOISE_TRACER",
    settings: "osnoise",
};

/// The tracer's noise events that name their source. Not `sample_threshold`: it fires for
/// every gap no guest event explains, thousands a second in an emulated VM, and its time
/// is the summaries' noise less these events' (see [`contract::unnamed_noise_ns`]).
const EVENTS: [&str; 4] = ["nmi_noise", "irq_noise", "softirq_noise", "thread_noise"];

/// Noise events a second the instance's buffer is sized for (with room for four times as
/// many, [`tracefs::buffer_kb_for`]): a 1000 Hz tick's IRQ and softirq, and more.
const EVENTS_PER_S: u64 = 5_000;

/// How often the trace is read while the tracer runs, from another CPU. On a one-CPU
/// machine, where a reading is noise in the measured period, only at checkpoints.
const DRAIN_EVERY: Duration = Duration::from_secs(1);

/// How long one reading may take while the tracer runs (on a one-CPU machine, reading is
/// itself noise on the measured CPU).
const DRAIN_BUDGET: Duration = Duration::from_millis(100);

/// How long the last reading, once tracing is off, may take.
const FINAL_DRAIN_MAX: Duration = Duration::from_secs(2);

/// How long after its period's end the run waits for the last period's summary (the
/// tracer's thread writes it at the end of its runtime, a little after the period's end
/// as counted from the tracer's start).
const LAST_SUMMARY_WAIT: Duration = Duration::from_secs(1);

/// How often the trace is read while waiting for the last summary.
const SUMMARY_POLL: Duration = Duration::from_millis(100);

/// Text handed over per read of `trace_pipe` (the deadline is checked between reads).
const READ_CHUNK: usize = 64 * 1024;

/// One parsed line of the osnoise instance's trace.
#[derive(Clone, Debug, PartialEq)]
pub enum Line {
    /// A period's summary: runtime, noise and max single noise (ns; the text gives µs), %
    /// available, and the counters hw, nmi, irq, softirq, thread.
    Summary {
        runtime_ns: u64,
        noise_ns: u64,
        available_pct: f64,
        max_single_ns: u64,
        counts: [u64; 5],
    },
    /// One noise: class, name, duration.
    Noise {
        class: &'static str,
        name: String,
        ns: u64,
    },
    Lost(u64),
}

/// Parse one line of the instance's `trace_pipe`.
pub fn parse_line(line: &str) -> Option<Line> {
    let line = line.trim_end();
    if let Some(rest) = line.trim_start().strip_prefix("CPU:") {
        let n = rest.split("[LOST ").nth(1)?.split_whitespace().next()?;
        return Some(Line::Lost(n.parse().ok()?));
    }
    let at = find_cpu_field(line)?;
    let rest = &line[at..];
    let (_flags, _ts, body) = split_fields(&rest[rest.find(']')? + 1..])?;
    if let Some((event, args)) = body.split_once(": ") {
        let class = match event {
            "sample_threshold" => "hw",
            "nmi_noise" => "nmi",
            "irq_noise" => "irq",
            "softirq_noise" => "softirq",
            "thread_noise" => "thread",
            _ => return None,
        };
        let (who, after) = args.split_once("start ").unwrap_or(("", args));
        let ns: u64 = after
            .split("duration ")
            .nth(1)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        // "local_timer:236", "TIMER:1", "kworker/1:1:123": drop the number.
        let who = who.trim();
        let name = who.rsplit_once(':').map_or(who, |(n, _)| n).trim();
        return Some(Line::Noise {
            class,
            name: name.to_string(),
            ns,
        });
    }
    let f: Vec<&str> = body.split_whitespace().collect();
    if f.len() < 9 {
        return None;
    }
    let n = |i: usize| f[i].parse::<u64>().ok();
    Some(Line::Summary {
        runtime_ns: n(0)? * 1000,
        noise_ns: n(1)? * 1000,
        available_pct: f[2].parse().ok()?,
        max_single_ns: n(3)? * 1000,
        counts: [n(4)?, n(5)?, n(6)?, n(7)?, n(8)?],
    })
}

/// The sums so far, of the first [`Sums::asked`] periods: a summary read after those (a
/// later period's) and the noise events that come with it are read and dropped, so that a
/// run is the periods it asked for whenever the reading finds the summaries.
#[derive(Debug, Default)]
struct Sums {
    /// The periods the run counts (None: every period, until the run is stopped).
    asked: Option<u64>,
    periods: u64,
    runtime_ns: u64,
    noise_ns: u64,
    max_period_noise_ns: u64,
    max_single_noise_ns: u64,
    /// The periods whose longest single noise is above `--fail-above-us` (their index).
    fail_above: Crossings,
    min_available_pct: Option<f64>,
    counts: Counts,
    sources: BTreeMap<(&'static str, String), NoiseSource>,
    /// Noise events of the period under way: they join `sources` with its summary, so
    /// that the named noise and the summaries' total cover the same periods.
    pending: BTreeMap<(&'static str, String), NoiseSource>,
    /// Events the trace said were lost (`[LOST N EVENTS]` lines).
    lost: u64,
    /// Summaries and noise events of periods beyond `asked`, read and not counted.
    summaries_dropped: u64,
    events_dropped: u64,
}

impl Sums {
    fn new(asked: Option<u64>, fail_above_us: Option<u64>) -> Sums {
        Sums {
            asked,
            fail_above: Crossings::new(fail_above_us),
            ..Sums::default()
        }
    }

    /// All the periods asked for are in.
    fn full(&self) -> bool {
        self.asked.is_some_and(|a| self.periods >= a)
    }

    fn add(&mut self, line: Line) {
        if self.full() {
            match line {
                Line::Summary { .. } => self.summaries_dropped += 1,
                Line::Noise { .. } => self.events_dropped += 1,
                Line::Lost(n) => self.lost += n,
            }
            return;
        }
        match line {
            Line::Summary {
                runtime_ns,
                noise_ns,
                available_pct,
                max_single_ns,
                counts,
            } => {
                self.fail_above.record(max_single_ns, self.periods);
                self.periods += 1;
                self.runtime_ns += runtime_ns;
                self.noise_ns += noise_ns;
                self.max_period_noise_ns = self.max_period_noise_ns.max(noise_ns);
                self.max_single_noise_ns = self.max_single_noise_ns.max(max_single_ns);
                self.min_available_pct = Some(
                    self.min_available_pct
                        .map_or(available_pct, |m| m.min(available_pct)),
                );
                let c = &mut self.counts;
                c.hw += counts[0];
                c.nmi += counts[1];
                c.irq += counts[2];
                c.softirq += counts[3];
                c.thread += counts[4];
                for (key, p) in std::mem::take(&mut self.pending) {
                    match self.sources.entry(key) {
                        Entry::Vacant(v) => {
                            v.insert(p);
                        }
                        Entry::Occupied(o) => {
                            let s = o.into_mut();
                            s.count += p.count;
                            s.total_ns += p.total_ns;
                            s.max_ns = s.max_ns.max(p.max_ns);
                        }
                    }
                }
            }
            Line::Noise { class, name, ns } => {
                let s = self
                    .pending
                    .entry((class, name.clone()))
                    .or_insert_with(|| NoiseSource {
                        class: class.to_string(),
                        name,
                        count: 0,
                        total_ns: 0,
                        max_ns: 0,
                    });
                s.count += 1;
                s.total_ns += ns;
                s.max_ns = s.max_ns.max(ns);
            }
            Line::Lost(n) => self.lost += n,
        }
    }
}

/// The trace as the run reads it, and the clock it waits on: the kernel's `trace_pipe` and
/// the monotonic clock, or a stand-in in the tests.
trait Trace {
    fn now(&self) -> Instant;
    /// Sleep until `at` (at once if it has passed).
    fn sleep_until(&mut self, at: Instant);
    /// Read what the trace holds into `sums` until it is empty or `until`.
    fn drain_until(&mut self, sums: &mut Sums, until: Instant) -> Result<()>;
}

/// The instance's buffer of the measured CPU, in binary form (with the decoding of its
/// records) or as text.
struct KernelTrace {
    pipe: TracePipe,
    decode: Option<binary::Decode>,
}

impl KernelTrace {
    /// What reading the trace as `reader` asks needs from the kernel's `events/` (the
    /// binary layouts and the osnoise records' formats; None: text), loaded before the
    /// tracer starts, so that its first period does not pay for it.
    fn prepare(events: &Path, reader: TraceReader) -> Result<Option<(Decoder, binary::Decode)>> {
        let Some(layouts) = tracefs::layouts(events, reader)? else {
            return Ok(None);
        };
        match binary::Decode::load(events) {
            Ok(decode) => Ok(Some((layouts, decode))),
            Err(e) if reader == TraceReader::Auto => {
                eprintln!("rust-bench: osnoise: reading the trace as text: {e:#}");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The instance `dir`'s pipe of `cpu`, binary with what [`KernelTrace::prepare`] gave.
    fn open(dir: &Path, cpu: usize, prepared: Option<(Decoder, binary::Decode)>) -> Result<Self> {
        let (layouts, decode) = prepared.unzip();
        Ok(KernelTrace {
            pipe: TracePipe::open_with(dir, cpu, layouts, READ_CHUNK)?,
            decode,
        })
    }
}

impl Trace for KernelTrace {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep_until(&mut self, at: Instant) {
        rt::sleep_until_stopped(at);
    }

    /// One chunk at a time, the deadline checked between chunks.
    fn drain_until(&mut self, sums: &mut Sums, until: Instant) -> Result<()> {
        let decode = &self.decode;
        while Instant::now() < until {
            let read = self.pipe.drain(&mut |entry| {
                let line = match entry {
                    TraceEntry::Line(l) => parse_line(l),
                    TraceEntry::Item(Item::Record(r)) => decode.as_ref().and_then(|d| d.line(&r)),
                    TraceEntry::Item(Item::Lost(n)) => Some(Line::Lost(n)),
                };
                if let Some(x) = line {
                    sums.add(x);
                }
            })?;
            if read == 0 {
                break;
            }
        }
        Ok(())
    }
}

/// The run ends with the period it is in: whole periods, each with its summary. Read the
/// trace until the summaries asked for are in, from a period after the end of the last one
/// (counted from `start`: the tracer's thread skips its first period when it runs before
/// the kernel has registered the instance, as it starts the thread first, and then every
/// summary comes a period late), every [`SUMMARY_POLL`] for [`LAST_SUMMARY_WAIT`]. Never
/// before: on a one-CPU machine a reading is noise in the period under way, and from then
/// on that period is one the run does not count. However late a summary comes, a reading
/// counts only the periods asked for ([`Sums`]).
fn wait_for_summaries(
    trace: &mut impl Trace,
    sums: &mut Sums,
    start: Instant,
    period_us: u64,
) -> Result<()> {
    let Some(want) = sums.asked else {
        return Ok(());
    };
    let late = start + Duration::from_micros((want + 1) * period_us);
    let readings = LAST_SUMMARY_WAIT.as_millis() / SUMMARY_POLL.as_millis();
    for at in (1..=readings as u32).map(|k| late + SUMMARY_POLL * k) {
        trace.sleep_until(at);
        if rt::stop_requested() {
            return Ok(());
        }
        let until = trace.now() + DRAIN_BUDGET;
        trace.drain_until(sums, until)?;
        if sums.full() {
            return Ok(());
        }
    }
    Ok(())
}

/// The periods a run of `duration` asks for: the duration over the period, rounded up.
pub fn periods_asked(duration: Duration, period_us: u64) -> u64 {
    (duration.as_micros() as u64).div_ceil(period_us)
}

/// Everything [`measure`] needs on `cpu` before it starts: the CPU, tracefs, the tracer.
pub fn preflight(cpu: usize) -> Result<()> {
    TRACER.open_tracefs(cpu).map(drop)
}

/// Run the osnoise tracer on `opts.cpu` for `opts.duration`; `checkpoint` gets the
/// result so far about every `opts.checkpoint_every`.
pub fn measure(opts: &Options, checkpoint: &mut dyn FnMut(&Osnoise)) -> Result<Osnoise> {
    if opts.runtime_us == 0 || opts.runtime_us > opts.period_us {
        crate::usage!("the osnoise runtime must be between 1 us and the period");
    }
    let origin = Origin::now();
    let tracefs = TRACER.open_tracefs(opts.cpu)?;
    let environment = environment::collect();
    let osnoise_dir = tracefs.root().join("osnoise");
    let _saved = Saved::save(&osnoise_dir, &["cpus", "period_us", "runtime_us"]);
    write(&osnoise_dir.join("cpus"), &opts.cpu.to_string())?;
    // The runtime may not exceed the period: set whichever keeps that true first.
    let (period, runtime) = (opts.period_us.to_string(), opts.runtime_us.to_string());
    if fs::write(osnoise_dir.join("period_us"), &period).is_err() {
        write(&osnoise_dir.join("runtime_us"), &runtime)?;
        write(&osnoise_dir.join("period_us"), &period)?;
    }
    write(&osnoise_dir.join("runtime_us"), &runtime)?;
    // The tracer first: the kernel refuses to change it while its trace_pipe is open. The
    // events since it started wait in the buffer; the run is timed from its start.
    // Read the trace from another CPU where there is one, every second: reading on the
    // measured CPU is itself noise there (thread noise named rust-bench). On a one-CPU
    // machine only at checkpoints and after the last period, into a buffer sized for that.
    let other = rt::usable_cpus().into_iter().find(|&c| c != opts.cpu);
    let read_every = match other {
        Some(_) => DRAIN_EVERY,
        None => opts.checkpoint_every.max(DRAIN_EVERY),
    };
    let buffer_kb = tracefs::buffer_kb_for(EVENTS_PER_S, read_every, tracefs::mem_available_kb());
    let prepared = KernelTrace::prepare(&tracefs.root().join("events"), opts.trace_reader)?;
    let (instance, start) = Instance::open(tracefs.root(), &TRACER, opts.cpu, buffer_kb)?;
    // Restored afterwards.
    let _sched = rt::ThreadSchedGuard::save();
    if let Some(other) = other {
        let _ = rt::pin_current_thread(other);
    }
    let dir = instance.dir().to_path_buf();
    let mut trace = KernelTrace::open(&dir, opts.cpu, prepared)?;
    let trace_reader = trace.pipe.reader();
    // At the top level the buffer may hold an earlier count.
    let (_, lost_before) = buffer_stats(&dir, opts.cpu);
    let deadline = start + opts.duration;
    let asked = periods_asked(opts.duration, opts.period_us);
    let mut sums = Sums::new(Some(asked), opts.fail_above_us);
    let mut next_checkpoint = start + opts.checkpoint_every;
    let report = |sums: &Sums, complete: bool, end: End, lost: u64| {
        let mut sources: Vec<NoiseSource> = sums.sources.values().cloned().collect();
        sources.sort_by_key(|s| std::cmp::Reverse(s.total_ns));
        Osnoise {
            schema: SCHEMA,
            test: contract::NAME.to_string(),
            rust_bench_version: Some(origin.rust_bench_version.clone()),
            command_line: Some(origin.command_line.clone()),
            started: Some(origin.started.clone()),
            complete,
            end,
            cpu: opts.cpu,
            period_us: opts.period_us,
            runtime_us: opts.runtime_us,
            duration_s: (start.elapsed().as_secs_f64() * 1e6).round() / 1e6,
            duration_asked_s: Some(opts.duration.as_secs_f64()),
            periods: sums.periods,
            periods_asked: Some(asked),
            trace_reader: Some(trace_reader),
            buffer_size_kb: Some(buffer_kb),
            summaries_dropped: sums.summaries_dropped,
            events_dropped: sums.events_dropped,
            runtime_ns: sums.runtime_ns,
            noise_ns: sums.noise_ns,
            max_period_noise_ns: sums.max_period_noise_ns,
            max_single_noise_ns: sums.max_single_noise_ns,
            fail_above: sums.fail_above.result(opts.fail_above_us, |period| {
                (period * opts.period_us) as f64 / 1e6
            }),
            min_available_pct: sums.min_available_pct,
            counts: sums.counts.clone(),
            hw_noise_ns: Some(contract::unnamed_noise_ns(sums.noise_ns, &sources)),
            sources,
            events_lost: lost,
            environment: environment.clone(),
        }
    };
    let lost_so_far = |sums: &Sums, unread: u64| {
        let (_, lost) = buffer_stats(&dir, opts.cpu);
        events_lost(sums.lost, lost.saturating_sub(lost_before), unread)
    };
    let end = loop {
        if rt::stop_requested() {
            break End::Signal;
        }
        // The last stretch: no reading before the wait for the summaries.
        let now = Instant::now();
        if now + read_every >= deadline {
            break End::Duration;
        }
        trace.sleep_until(now + read_every);
        trace.drain_until(&mut sums, (Instant::now() + DRAIN_BUDGET).min(deadline))?;
        if Instant::now() >= next_checkpoint {
            checkpoint(&report(&sums, false, End::Running, lost_so_far(&sums, 0)));
            next_checkpoint = Instant::now() + opts.checkpoint_every;
        }
    };
    let end = match end {
        End::Duration => {
            wait_for_summaries(&mut trace, &mut sums, start, opts.period_us)?;
            if rt::stop_requested() {
                End::Signal
            } else {
                End::Duration
            }
        }
        end => end,
    };
    // Nothing is written once tracing is off: the last reading is bounded by the buffer,
    // and by FINAL_DRAIN_MAX; what it leaves counts as lost.
    write(&dir.join("tracing_on"), "0")?;
    trace.drain_until(&mut sums, Instant::now() + FINAL_DRAIN_MAX)?;
    let (unread, _) = buffer_stats(&dir, opts.cpu);
    let lost = lost_so_far(&sums, unread);
    drop(trace);
    drop(instance);
    Ok(report(&sums, end != End::Signal, end, lost))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_summaries_and_noise() {
        let l = "           <...>-859     [000] ....    81.637220: 1000000        190  99.98100       9     18      0   1007     18      1";
        assert_eq!(
            parse_line(l),
            Some(Line::Summary {
                runtime_ns: 1_000_000_000,
                noise_ns: 190_000,
                available_pct: 99.981,
                max_single_ns: 9_000,
                counts: [18, 0, 1007, 18, 1],
            })
        );
        let l = "  osnoise/1-859  [001] d.h.  5.000001: irq_noise: local_timer:236 start 5.000000990 duration 1245 ns";
        assert_eq!(
            parse_line(l),
            Some(Line::Noise {
                class: "irq",
                name: "local_timer".into(),
                ns: 1245
            })
        );
        let l = "  osnoise/1-859  [001] ....  5.1: thread_noise: kworker/1:1:123 start 5.000 duration 30000 ns";
        assert_eq!(
            parse_line(l),
            Some(Line::Noise {
                class: "thread",
                name: "kworker/1:1".into(),
                ns: 30000
            })
        );
        let l = "  osnoise/1-859  [001] ....  5.1: sample_threshold: start 5.000 duration 7000 ns interference 1";
        assert_eq!(
            parse_line(l),
            Some(Line::Noise {
                class: "hw",
                name: String::new(),
                ns: 7000
            })
        );
        assert_eq!(parse_line("CPU:1 [LOST 3 EVENTS]"), Some(Line::Lost(3)));
        assert_eq!(parse_line("# tracer: osnoise"), None);
    }

    #[test]
    fn sums() {
        let mut s = Sums::new(None, Some(10));
        for l in [
            "  o-1 [001] ....  1.0: 1000000  200  99.98 9 1 0 10 2 1",
            "  o-1 [001] d.h.  1.1: irq_noise: local_timer:236 start 1.0 duration 1000 ns",
            "  o-1 [001] d.h.  1.2: irq_noise: local_timer:236 start 1.1 duration 3000 ns",
            "  o-1 [001] ....  2.0: 1000000  100  99.99 12 0 0 10 2 0",
            // A period without its summary: its noise is not counted.
            "  o-1 [001] d.h.  2.1: irq_noise: local_timer:236 start 2.0 duration 5000 ns",
            "  o-1 [001] d.s.  2.2: softirq_noise: TIMER:1 start 2.1 duration 700 ns",
        ] {
            s.add(parse_line(l).unwrap());
        }
        assert_eq!(
            (s.periods, s.noise_ns, s.max_period_noise_ns),
            (2, 300_000, 200_000)
        );
        assert_eq!(s.max_single_noise_ns, 12_000);
        // --fail-above-us 10: the second period's 12 us (the first's 9 us is not above).
        let f = s.fail_above.result(Some(10), |p| p as f64).unwrap();
        assert_eq!(
            (f.crossed, f.first_at_s, f.first_ns),
            (1, Some(1.0), Some(12_000))
        );
        assert_eq!(s.min_available_pct, Some(99.98));
        assert_eq!((s.counts.hw, s.counts.irq, s.counts.thread), (1, 20, 1));
        let t = &s.sources[&("irq", "local_timer".to_string())];
        assert_eq!((t.count, t.total_ns, t.max_ns), (2, 4000, 3000));
        assert_eq!(s.sources.len(), 1, "{:?}", s.sources);
        // Its summary brings them in.
        s.add(parse_line("  o-1 [001] ....  3.0: 1000000  6  99.99 5 0 0 1 1 0").unwrap());
        let t = &s.sources[&("irq", "local_timer".to_string())];
        assert_eq!((t.count, t.total_ns, t.max_ns), (3, 9000, 5000));
        assert_eq!(s.sources[&("softirq", "TIMER".to_string())].total_ns, 700);
        assert!(s.pending.is_empty());
    }

    /// A trace whose lines arrive at set times after `start`, on a clock of its own that
    /// each sleep moves to its deadline plus `oversleep` (a loaded machine wakes late).
    struct StandIn {
        start: Instant,
        now: Instant,
        lines: std::collections::VecDeque<(u64, String)>,
        oversleep: Duration,
    }

    impl StandIn {
        /// `periods`: when each period's summary arrives (ms after the start, None: never);
        /// each period also has one `irq_noise` event of 1000 ns half a period before its end.
        fn new(periods: &[Option<u64>], oversleep_ms: u64) -> StandIn {
            let mut lines = Vec::new();
            for (k, summary_ms) in periods.iter().enumerate() {
                let end_ms = 1000 * (k as u64 + 1);
                lines.push((
                    end_ms - 500,
                    "  o-1 [001] d.h.  1.1: irq_noise: local_timer:236 start 1.0 duration 1000 ns"
                        .to_string(),
                ));
                if let Some(at) = summary_ms {
                    lines.push((
                        *at,
                        "  o-1 [001] ....  1.0: 1000000  100  99.99 9 1 0 10 2 1".to_string(),
                    ));
                }
            }
            lines.sort_by_key(|(at, _)| *at);
            let start = Instant::now();
            StandIn {
                start,
                now: start,
                lines: lines.into(),
                oversleep: Duration::from_millis(oversleep_ms),
            }
        }

        /// A run of 3 periods of 1 s, read as the measurement reads it after its deadline.
        fn run(mut self) -> (Sums, Duration) {
            let mut sums = Sums::new(Some(periods_asked(Duration::from_secs(3), 1_000_000)), None);
            // The run's own readings up to its deadline, on time.
            self.now = self.start + Duration::from_secs(3);
            let until = self.now;
            self.drain_until(&mut sums, until).unwrap();
            let start = self.start;
            wait_for_summaries(&mut self, &mut sums, start, 1_000_000).unwrap();
            (sums, self.now - self.start)
        }
    }

    impl Trace for StandIn {
        fn now(&self) -> Instant {
            self.now
        }

        fn sleep_until(&mut self, at: Instant) {
            self.now = self.now.max(at + self.oversleep);
        }

        fn drain_until(&mut self, sums: &mut Sums, _until: Instant) -> Result<()> {
            let now_ms = (self.now - self.start).as_millis() as u64;
            while self.lines.front().is_some_and(|(at, _)| *at <= now_ms) {
                let (_, line) = self.lines.pop_front().unwrap();
                sums.add(parse_line(&line).unwrap());
            }
            Ok(())
        }
    }

    #[test]
    fn a_late_last_summary_counts_and_the_next_period_does_not() {
        // The third summary comes 150 ms late, after the first look for it; by the next
        // look the fourth period's event and summary are there too.
        let (s, _) = StandIn::new(&[Some(1000), Some(2000), Some(3150), Some(4000)], 0).run();
        assert_eq!(
            (s.periods, s.noise_ns, s.runtime_ns),
            (3, 300_000, 3_000_000_000)
        );
        assert_eq!(s.sources[&("irq", "local_timer".to_string())].count, 3);
        assert_eq!((s.summaries_dropped, s.events_dropped), (1, 1));
    }

    #[test]
    fn a_later_period_already_in_the_trace_is_not_counted() {
        // The machine wakes the reading 1.2 s late: the fourth period is already there.
        let (s, _) = StandIn::new(&[Some(1000), Some(2000), Some(3000), Some(4000)], 1200).run();
        assert_eq!((s.periods, s.noise_ns), (3, 300_000));
        assert_eq!(s.sources[&("irq", "local_timer".to_string())].count, 3);
        assert_eq!((s.summaries_dropped, s.events_dropped), (1, 1));
    }

    #[test]
    fn a_skipped_first_period_is_waited_for() {
        // The tracer's thread skipped its first period: every summary comes a period late.
        let (s, _) = StandIn::new(&[None, Some(2000), Some(3000), Some(4000)], 0).run();
        assert_eq!(s.periods, 3);
        assert_eq!((s.summaries_dropped, s.events_dropped), (0, 0));
    }

    #[test]
    fn the_wait_for_a_summary_that_never_comes_is_bounded() {
        let (s, waited) = StandIn::new(&[Some(1000), Some(2000)], 0).run();
        assert_eq!(s.periods, 2);
        // The last look: a period after the last period's end, plus LAST_SUMMARY_WAIT.
        assert_eq!(waited, Duration::from_secs(4) + LAST_SUMMARY_WAIT);
    }
}
