//! Test 2 of the paper: thread switch latency between SCHED_FIFO threads of one priority.
//!
//! N threads, all pinned to one CPU at the same FIFO priority, are released together
//! from a start gate. Each one loops: read the TSC, note it in a shared slot with its id,
//! `sched_yield()`. The thread that runs next reads the TSC first thing and looks at the
//! slot: another thread's id means the yield switched, and the switch took `now - stamp`;
//! its own id means `sched_yield` returned without switching (no other runnable thread).
//! `yields` counts every yield whose outcome was observed, `switched_yields` those that
//! switched (each one is a sample in the histogram, so `switches == switched_yields`).
//!
//! Only one of these threads runs at a time (one CPU, same FIFO priority, no preemption
//! among them), so the shared state is plain relaxed atomics and the histogram uses
//! relaxed loads and stores (no locked instructions on the hot path).
//!
//! Like clock-tick, a run is cut into bursts (`--burst-ms`) separated by a sleep
//! (`--gap-us`): the thread that sees the burst end clears the slot and announces a pause;
//! every thread sleeps until the common resume time; the first stamp after a pause is not
//! a sample.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use anyhow::Result;

use crate::platform::environment::{self, Environment};
use crate::platform::rt;
use crate::platform::rt_setup::{RtSetup, RtSetupRecord};
use crate::platform::tsc::{self, Clock, ClockInfo};
use crate::results::histogram::SharedHistogram;
use crate::results::stats::{self, HistogramJson};
use crate::results::thread_switch::{self as contract, SwitchRun, ThreadSwitch};
use crate::results::threshold::{self, SharedCrossings};
use crate::results::{End, Origin, SCHEMA};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Limit {
    /// Measure this many switches per run (bounded by `Options::timeout`).
    Switches(u64),
    Duration(Duration),
}

/// Everything a thread-switch run needs: made from the test's options
/// (`rust-bench thread-switch`'s flags, or a plan's section), which hold every default and
/// range ([`crate::suite::thread_switch`]).
#[derive(Clone, Debug)]
pub struct Options {
    pub cpu: usize,
    pub priority: i32,
    pub threads: Vec<usize>,
    pub limit: Limit,
    pub timeout: Duration,
    pub burst: Duration,
    pub gap: Duration,
    pub stack_bytes: usize,
    pub clock: tsc::Choice,
    pub lift_rt_throttling: bool,
    /// The RT setup done by the caller (`run`); `None`: the measurement does its own.
    pub rt_setup: Option<RtSetupRecord>,
    pub checkpoint_every: Duration,
    /// Count the switches slower than this many microseconds.
    pub fail_above_us: Option<u64>,
}

const NONE: u32 = u32::MAX;

/// State shared by the threads of one run.
struct Shared {
    clock: Clock,
    slot_id: AtomicU32,
    slot_t: AtomicU64,
    hist: SharedHistogram,
    /// The switches above `--fail-above-us` (their time in ticks since the run's start).
    fail_above: SharedCrossings,
    /// The tick the run started at (set with `started`).
    start_tick: AtomicU64,
    yields: AtomicU64,
    switches: AtomicU64,
    done: AtomicBool,
    end: AtomicU32,
    generation: AtomicU64,
    resume_mono_ns: AtomicU64,
    burst_start: AtomicU64,
    burst_end: AtomicU64,
    measured_ticks: AtomicU64,
    bursts: AtomicU64,
    target: u64,
    /// Set by the first thread through the gate: the run starts there.
    started: AtomicBool,
    wall_start_ns: AtomicU64,
    run_ticks: u64,
    run_end: AtomicU64,
    burst_ticks: u64,
    gap_ns: u64,
    fail_above_us: Option<u64>,
    setup_error: Mutex<Option<String>>,
    gate: Gate,
}

impl Shared {
    fn new(opts: &Options, clock: Clock, target: u64, run_ticks: u64) -> Shared {
        let burst_ticks = clock.ticks(opts.burst.as_nanos() as u64).max(1);
        Shared {
            clock,
            slot_id: AtomicU32::new(NONE),
            slot_t: AtomicU64::new(0),
            hist: SharedHistogram::new(),
            fail_above: SharedCrossings::new(opts.fail_above_us),
            start_tick: AtomicU64::new(0),
            yields: AtomicU64::new(0),
            switches: AtomicU64::new(0),
            done: AtomicBool::new(false),
            end: AtomicU32::new(0),
            generation: AtomicU64::new(0),
            resume_mono_ns: AtomicU64::new(0),
            burst_start: AtomicU64::new(0),
            burst_end: AtomicU64::new(u64::MAX),
            measured_ticks: AtomicU64::new(0),
            bursts: AtomicU64::new(0),
            target,
            started: AtomicBool::new(false),
            wall_start_ns: AtomicU64::new(0),
            run_ticks,
            run_end: AtomicU64::new(u64::MAX),
            burst_ticks,
            gap_ns: opts.gap.as_nanos() as u64,
            fail_above_us: opts.fail_above_us,
            setup_error: Mutex::new(None),
            gate: Gate::new(),
        }
    }
}

const END_SWITCHES: u32 = 1;
const END_DURATION: u32 = 2;
const END_TIMEOUT: u32 = 3;
const END_SIGNAL: u32 = 4;
const END_ERROR: u32 = 5;

/// A start gate that can be opened for everyone or aborted (if a thread cannot start).
struct Gate {
    state: Mutex<(usize, bool)>,
    cv: Condvar,
}

impl Gate {
    fn new() -> Gate {
        Gate {
            state: Mutex::new((0, false)),
            cv: Condvar::new(),
        }
    }

    /// Wait until `n` threads arrived; false if aborted.
    fn wait(&self, n: usize) -> bool {
        let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
        g.0 += 1;
        if g.0 >= n {
            self.cv.notify_all();
        }
        while g.0 < n && !g.1 {
            g = self.cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        !g.1
    }

    fn abort(&self) {
        let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
        g.1 = true;
        self.cv.notify_all();
    }
}

fn worker(id: u32, n: usize, sh: &Shared, cpu: usize, priority: i32) {
    let setup = rt::pin_current_thread(cpu).and_then(|_| rt::set_fifo(priority));
    if let Err(e) = setup {
        let mut slot = sh.setup_error.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert_with(|| format!("{e:#}"));
        sh.end.store(END_ERROR, Relaxed);
        sh.done.store(true, Relaxed);
        drop(slot);
        sh.gate.abort();
        return;
    }
    rt::prefault_stack(16 * 1024);
    if !sh.gate.wait(n) {
        return;
    }
    measure_loop(id, sh);
}

#[inline(never)]
fn measure_loop(id: u32, sh: &Shared) {
    let clock = sh.clock;
    if !sh.started.load(Relaxed) {
        sh.started.store(true, Relaxed);
        sh.wall_start_ns.store(tsc::monotonic_ns(), Relaxed);
        let t = clock.now();
        sh.start_tick.store(t, Relaxed);
        sh.burst_start.store(t, Relaxed);
        sh.burst_end
            .store(t.saturating_add(sh.burst_ticks), Relaxed);
        sh.run_end.store(t.saturating_add(sh.run_ticks), Relaxed);
    }
    let run_end = sh.run_end.load(Relaxed);
    let mut generation = sh.generation.load(Relaxed);
    loop {
        let t = clock.now();
        if sh.done.load(Relaxed) {
            break;
        }
        let who = sh.slot_id.load(Relaxed);
        if who != NONE {
            bump(&sh.yields);
            if who != id {
                let from = sh.slot_t.load(Relaxed);
                let ns = clock.to_ns(t.wrapping_sub(from));
                sh.hist.record(ns);
                sh.fail_above
                    .record(ns, from.saturating_sub(sh.start_tick.load(Relaxed)));
                bump(&sh.switches);
            }
            sh.slot_id.store(NONE, Relaxed);
        }
        if sh.switches.load(Relaxed) >= sh.target || t >= run_end || rt::stop_requested() {
            let why = if rt::stop_requested() {
                END_SIGNAL
            } else if sh.switches.load(Relaxed) >= sh.target {
                END_SWITCHES
            } else if sh.target == u64::MAX {
                END_DURATION
            } else {
                END_TIMEOUT
            };
            sh.measured_ticks.store(
                sh.measured_ticks.load(Relaxed) + t.saturating_sub(sh.burst_start.load(Relaxed)),
                Relaxed,
            );
            sh.end.store(why, Relaxed);
            sh.done.store(true, Relaxed);
            break;
        }
        let g = sh.generation.load(Relaxed);
        if g != generation || t >= sh.burst_end.load(Relaxed) {
            if g == generation {
                // This thread ends the burst and announces the pause.
                let resume_mono = tsc::monotonic_ns() + sh.gap_ns;
                let resume_tick = t + sh.clock.ticks(sh.gap_ns);
                sh.measured_ticks.store(
                    sh.measured_ticks.load(Relaxed)
                        + t.saturating_sub(sh.burst_start.load(Relaxed)),
                    Relaxed,
                );
                bump(&sh.bursts);
                sh.burst_start.store(resume_tick, Relaxed);
                sh.burst_end
                    .store(resume_tick.saturating_add(sh.burst_ticks), Relaxed);
                sh.resume_mono_ns.store(resume_mono, Relaxed);
                sh.generation.store(g + 1, Relaxed);
            }
            generation = sh.generation.load(Relaxed);
            rt::sleep_until_monotonic(sh.resume_mono_ns.load(Relaxed));
            continue;
        }
        let stamp = clock.now();
        sh.slot_t.store(stamp, Relaxed);
        sh.slot_id.store(id, Relaxed);
        std::thread::yield_now();
    }
}

#[inline(always)]
fn bump(a: &AtomicU64) {
    a.store(a.load(Relaxed) + 1, Relaxed);
}

struct Common {
    origin: Origin,
    clock_info: ClockInfo,
    environment: Environment,
    rt_setup: RtSetupRecord,
    locked: bool,
}

fn report(opts: &Options, c: &Common, runs: Vec<SwitchRun>, complete: bool) -> ThreadSwitch {
    ThreadSwitch {
        schema: SCHEMA,
        test: contract::NAME.to_string(),
        rust_bench_version: Some(c.origin.rust_bench_version.clone()),
        command_line: Some(c.origin.command_line.clone()),
        started: Some(c.origin.started.clone()),
        complete,
        threads_asked: opts.threads.clone(),
        fail_above: threshold::combined(
            runs.iter()
                .scan(0.0, |started_s, r| {
                    let part = (*started_s, r.fail_above.as_ref());
                    *started_s += r.duration_s;
                    Some(part)
                })
                .filter_map(|(at, f)| Some((at, f?))),
        ),
        runs,
        clock: c.clock_info.clone(),
        priority: opts.priority,
        cpu: opts.cpu,
        burst_ms: opts.burst.as_millis() as u64,
        gap_us: opts.gap.as_micros() as u64,
        rt_throttling_lifted: c.rt_setup.rt_throttling_lifted,
        rt_setup: Some(c.rt_setup.clone()),
        memory_locked: c.locked,
        environment: c.environment.clone(),
    }
}

fn run_of(sh: &Shared, threads: usize, running: bool) -> SwitchRun {
    let opts_fail_above_us = sh.fail_above_us;
    let h = sh.hist.snapshot();
    let wall_start = sh.wall_start_ns.load(Relaxed);
    let duration_s = if wall_start == 0 {
        0.0
    } else {
        tsc::monotonic_ns().saturating_sub(wall_start) as f64 / 1e9
    };
    let measured_s = sh.clock.to_ns(sh.measured_ticks.load(Relaxed)) as f64 / 1e9;
    let end = match (running, sh.end.load(Relaxed)) {
        (true, _) => End::Running,
        (_, END_SWITCHES) => End::Switches,
        (_, END_DURATION) => End::Duration,
        (_, END_TIMEOUT) => End::Timeout,
        (_, END_SIGNAL) => End::Signal,
        _ => End::Error,
    };
    let r6 = |v: f64| (v * 1e6).round() / 1e6;
    SwitchRun {
        threads,
        switches: h.count(),
        yields: sh.yields.load(Relaxed),
        switched_yields: sh.switches.load(Relaxed),
        duration_s: r6(duration_s),
        measured_s: r6(measured_s),
        duty_cycle: if duration_s > 0.0 {
            r6((measured_s / duration_s).min(1.0))
        } else {
            0.0
        },
        bursts: sh.bursts.load(Relaxed) + u64::from(!running),
        switch_ns: stats::summary(&h),
        histogram: HistogramJson::from(&h),
        fail_above: sh
            .fail_above
            .snapshot()
            .result(opts_fail_above_us, |ticks| ticks as f64 / sh.clock.hz()),
        // A run without a switch measured nothing: never complete.
        complete: matches!(end, End::Switches | End::Duration) && h.count() > 0,
        end,
    }
}

/// Run thread-switch without checkpoints.
pub fn run(opts: &Options) -> Result<ThreadSwitch> {
    measure(opts, &mut |_| {})
}

/// Run every thread count of `opts.threads` in turn. The calling thread only starts and
/// watches the workers (it is not made real-time); `checkpoint` is called from it about
/// every `opts.checkpoint_every` and after each run with the report so far
/// (`complete: false`). Stops early on [`rt::stop_requested`].
pub fn measure(opts: &Options, checkpoint: &mut dyn FnMut(&ThreadSwitch)) -> Result<ThreadSwitch> {
    let origin = Origin::now();
    rt::check_cpu(opts.cpu)?;
    rt::check_fifo(opts.priority)?;
    let (mut setup, rt_setup) = RtSetup::for_measurement(&opts.rt_setup, opts.lift_rt_throttling)?;
    let environment = environment::collect();
    let (clock, clock_info) = Clock::with_info(opts.clock);
    let locked = rt::lock_memory();
    let mut common = Common {
        origin,
        clock_info,
        environment,
        rt_setup,
        locked,
    };
    let mut runs: Vec<SwitchRun> = Vec::new();
    let mut interrupted = false;
    for &n in &opts.threads {
        if rt::stop_requested() {
            interrupted = true;
            break;
        }
        let run = one_run(opts, clock, n, &mut |partial: SwitchRun| {
            let mut all = runs.clone();
            all.push(partial);
            checkpoint(&report(opts, &common, all, false));
        })?;
        interrupted |= run.end == End::Signal;
        runs.push(run);
        if !interrupted && runs.len() < opts.threads.len() {
            checkpoint(&report(opts, &common, runs.clone(), false));
        }
    }
    let complete =
        !interrupted && runs.len() == opts.threads.len() && runs.iter().all(|r| r.complete);
    // Restored before the final report, which says whether it worked.
    if let Some(s) = setup.as_mut() {
        s.restore();
        common.rt_setup = s.record().clone();
    }
    Ok(report(opts, &common, runs, complete))
}

fn one_run(
    opts: &Options,
    clock: Clock,
    n: usize,
    progress: &mut dyn FnMut(SwitchRun),
) -> Result<SwitchRun> {
    let (target, run_ticks) = match opts.limit {
        Limit::Switches(k) => (k, clock.ticks(opts.timeout.as_nanos() as u64)),
        Limit::Duration(d) => (u64::MAX, clock.ticks(d.as_nanos() as u64)),
    };
    let sh = Shared::new(opts, clock, target, run_ticks);
    let spawn_error = std::thread::scope(|s| -> Option<String> {
        let mut spawn_error = None;
        for id in 0..n {
            let shr = &sh;
            let (cpu, prio) = (opts.cpu, opts.priority);
            let spawned = std::thread::Builder::new()
                .name(format!("ts-{id}"))
                .stack_size(opts.stack_bytes)
                .spawn_scoped(s, move || worker(id as u32, n, shr, cpu, prio));
            if let Err(e) = spawned {
                spawn_error = Some(format!(
                    "cannot start thread {} of {n}: {e}; use fewer --threads or raise the thread limit",
                    id + 1
                ));
                sh.done.store(true, Relaxed);
                sh.gate.abort();
                break;
            }
        }
        // Watch the run from here (not real-time) and hand out checkpoints.
        let mut next = tsc::monotonic_ns() + opts.checkpoint_every.as_nanos() as u64;
        // Safety net: workers end the run themselves at `run_end`; if they cannot
        // (stuck), give up 30 s later rather than hang.
        let give_up = clock
            .now()
            .saturating_add(run_ticks)
            .saturating_add(clock.ticks(60_000_000_000));
        while !sh.done.load(Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
            if clock.now() > give_up {
                sh.end.store(END_TIMEOUT, Relaxed);
                sh.done.store(true, Relaxed);
            }
            if tsc::monotonic_ns() >= next && !sh.done.load(Relaxed) {
                progress(run_of(&sh, n, true));
                next = tsc::monotonic_ns() + opts.checkpoint_every.as_nanos() as u64;
            }
        }
        spawn_error
    });
    if let Some(e) = spawn_error {
        anyhow::bail!(e);
    }
    if let Some(e) = sh
        .setup_error
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    {
        anyhow::bail!(e);
    }
    Ok(run_of(&sh, n, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_without_a_switch_has_no_statistics() {
        let opts = Options {
            cpu: 0,
            priority: 99,
            threads: vec![2],
            limit: Limit::Switches(10),
            timeout: Duration::from_secs(60),
            burst: Duration::from_millis(500),
            gap: Duration::from_millis(2),
            stack_bytes: 64 << 10,
            clock: tsc::Choice::Auto,
            lift_rt_throttling: false,
            rt_setup: None,
            checkpoint_every: Duration::from_secs(10),
            fail_above_us: Some(5),
        };
        let clock = Clock::for_test(1e9);
        let sh = Shared::new(&opts, clock, 10, 1_000_000);
        sh.end.store(END_SIGNAL, Relaxed);
        let run = run_of(&sh, 2, false);
        assert_eq!(run.switches, 0);
        assert_eq!(run.switch_ns, None);
        assert_eq!(run.end, End::Signal);
        let json = serde_json::to_value(&run).unwrap();
        assert_eq!(json["switch_ns"], serde_json::Value::Null);
        assert_eq!(
            json["fail_above"],
            serde_json::json!({"threshold_us": 5, "crossed": 0, "first_at_s": null, "first_ns": null})
        );
    }

    #[test]
    fn gate_opens_and_aborts() {
        let g = Gate::new();
        std::thread::scope(|s| {
            let a = s.spawn(|| g.wait(2));
            assert!(g.wait(2));
            assert!(a.join().unwrap());
        });
        let g = Gate::new();
        std::thread::scope(|s| {
            let a = s.spawn(|| g.wait(3));
            std::thread::sleep(Duration::from_millis(10));
            g.abort();
            assert!(!a.join().unwrap());
        });
    }
}
