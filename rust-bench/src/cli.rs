//! The command line: one subcommand per job. Each subcommand's flags live in its own module;
//! the tests' subcommands come from the list of tests ([`crate::suite::TESTS`]).

use clap::{CommandFactory, Parser, Subcommand};

use crate::suite;

/// Real-time latency suite: clock tick processing duration and thread switch latency.
#[derive(Debug, Parser)]
#[command(name = "rust-bench", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands that are not tests.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Act as a load VM: burn a CPU or copy memory in a loop.
    Load(crate::load::Args),
    /// Execute a plan file (bench.conf) and write a results directory.
    Run(crate::plan::run::Args),
    /// Render the paper's tables and figures from one or more result directories.
    Report(crate::report::Args),
    /// Record a run that did not finish as failed, and print its status (for the
    /// appliance's init).
    MarkFailed(crate::plan::mark_failed::Args),
    /// Copy results/ out of a disk image (.img, .vhd, .vhdx) without mounting it.
    Pull(crate::pull::Args),
    /// Write a disk image as a fixed VHD and/or a VHDX for Hyper-V.
    Convert(crate::pull::convert::Args),
    /// Periodic interference for tests and benchmarks: a FIFO thread that wakes every
    /// period and busy-spins.
    #[command(hide = true)]
    Inject(crate::load::inject::Args),
    /// The appliance's last resort: after a time, stop the real-time threads, mark the run
    /// failed and switch the machine off (SCHED_DEADLINE: a spinning FIFO 99 thread cannot
    /// starve it).
    #[command(hide = true)]
    Watchdog(crate::plan::watchdog::Args),
}

/// The whole command line: the tests first, then the other subcommands.
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    let others: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for (i, name) in others.into_iter().enumerate() {
        cmd = cmd.mut_subcommand(name, |s| s.display_order(suite::TESTS.len() + i));
    }
    for (i, test) in suite::TESTS.iter().enumerate() {
        cmd = cmd.subcommand(test.command().display_order(i));
    }
    cmd
}
