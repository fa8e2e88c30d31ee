//! Periodic interference for tests and benchmarks (hidden subcommand `inject`): a SCHED_FIFO
//! thread that wakes every `--period-us` on an absolute schedule and busy-spins for
//! `--spin-us`. Run at a higher priority than the measuring thread, on the same CPU, it
//! takes the CPU away periodically by a known amount; a latency tool should then see about
//! `duration / period` spikes of about `spin` each.

use std::time::Duration;

use anyhow::Result;
use clap::Args as ClapArgs;
use serde::Serialize;

use crate::options::duration;
use crate::options::{Cpu, Priority, whole_in};
use crate::platform::{rt, tsc};

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// CPU to disturb.
    #[arg(long, default_value_t = Cpu::DEFAULT, value_parser = Cpu::parse)]
    pub cpu: Cpu,
    /// SCHED_FIFO priority (above the measuring thread's).
    #[arg(long, default_value_t = Priority::DEFAULT, value_parser = Priority::parse)]
    pub priority: Priority,
    /// Wake-up period in microseconds (100 to 10000000).
    #[arg(long, default_value_t = 10_000, value_parser = whole_in(100, 10_000_000))]
    pub period_us: u64,
    /// Busy-spin per wake-up in microseconds (1 to 1000000).
    #[arg(long, default_value_t = 200, value_parser = whole_in(1, 1_000_000))]
    pub spin_us: u64,
    /// How long to inject (e.g. 10s).
    #[arg(long, value_parser = crate::options::positive_duration)]
    pub duration: Duration,
    /// Wait this long before the first injection (lets the measurement start).
    #[arg(long, default_value = "0s", value_parser = parse_delay)]
    pub delay: Duration,
}

fn parse_delay(s: &str) -> Result<Duration, String> {
    if s.trim() == "0" || s.trim() == "0s" {
        Ok(Duration::ZERO)
    } else {
        duration::parse(s)
    }
}

/// The injecting thread's name (its `comm` in the kernel's trace).
pub const THREAD_NAME: &std::ffi::CStr = c"rb-inject";

/// What the injector did.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Injected {
    pub injections: u64,
    pub period_us: u64,
    pub spin_us: u64,
    /// Mean actual spin per injection in ns (as measured by CLOCK_MONOTONIC).
    pub mean_spin_ns: u64,
}

/// Inject on the calling thread (made FIFO and pinned) until `duration` passes.
pub fn inject(
    cpu: usize,
    priority: i32,
    period: Duration,
    spin: Duration,
    duration: Duration,
    delay: Duration,
) -> Result<Injected> {
    rt::check_cpu(cpu)?;
    // Named, so that a trace (clock-tick --attribute) shows it as itself.
    crate::platform::tracefs::set_thread_name(THREAD_NAME);
    rt::pin_current_thread(cpu)?;
    rt::set_fifo(priority)?;
    rt::lock_memory();
    let period_ns = period.as_nanos() as u64;
    let spin_ns = spin.as_nanos() as u64;
    let start = tsc::monotonic_ns() + delay.as_nanos() as u64;
    let end = start + duration.as_nanos() as u64;
    let mut next = start + period_ns;
    let mut injections = 0u64;
    let mut spun = 0u64;
    while next < end && !rt::stop_requested() {
        rt::sleep_until_monotonic(next);
        let woke = tsc::monotonic_ns();
        let mut now = woke;
        while now < woke + spin_ns {
            std::hint::spin_loop();
            now = tsc::monotonic_ns();
        }
        spun += now - woke;
        injections += 1;
        next += period_ns;
        // Do not try to catch up on missed periods (keep the rate, not a burst).
        while next <= now {
            next += period_ns;
        }
    }
    Ok(Injected {
        injections,
        period_us: period_ns / 1000,
        spin_us: spin_ns / 1000,
        mean_spin_ns: spun.checked_div(injections).unwrap_or(0),
    })
}

/// `rust-bench inject`: prints one JSON line with what was injected.
pub fn main(args: Args) -> Result<()> {
    rt::install_stop_handler();
    let r = inject(
        args.cpu.0,
        args.priority.0,
        Duration::from_micros(args.period_us),
        Duration::from_micros(args.spin_us),
        args.duration,
        args.delay,
    )?;
    println!("{}", serde_json::to_string(&r)?);
    Ok(())
}
