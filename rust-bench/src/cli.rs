//! The command line: one subcommand per job. Each subcommand's flags live in its own module.

use clap::{Parser, Subcommand};

/// Real-time latency suite: clock tick processing duration and thread switch latency.
#[derive(Debug, Parser)]
#[command(name = "rust-bench", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Test 1: clock tick processing duration (a fixed busy loop timed with the TSC).
    ClockTick(crate::clock_tick::Args),
    /// Test 2: thread switch latency between SCHED_FIFO threads of one priority.
    ThreadSwitch(crate::thread_switch::Args),
    /// Act as a load VM: burn a CPU or copy memory in a loop.
    Load(crate::load::Args),
    /// Execute a plan file (bench.conf) and write a results directory.
    Run(crate::run::Args),
    /// Render the paper's tables and figures from one or more result directories.
    Report(crate::report::Args),
    /// Copy results/ out of a disk image (.img, .vhd, .vhdx) without mounting it.
    Pull(crate::pull::Args),
    /// Periodic interference for tests and benchmarks: a FIFO thread that wakes every
    /// period and busy-spins.
    #[command(hide = true)]
    Inject(crate::inject::Args),
    /// The appliance's last resort: after a time, stop the real-time threads, mark the run
    /// failed and switch the machine off (SCHED_DEADLINE: a spinning FIFO 99 thread cannot
    /// starve it).
    #[command(hide = true)]
    Watchdog(crate::watchdog::Args),
}
