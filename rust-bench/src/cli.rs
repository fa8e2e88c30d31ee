//! The command line: one subcommand per job. Each subcommand's flags live in its own module;
//! the tests' subcommands come from the list of tests ([`crate::suite::TESTS`]).

use clap::{CommandFactory, Parser, Subcommand};

use crate::suite;

/// Real-time latency suite: clock tick processing duration and thread switch latency.
#[derive(Debug, Parser)]
#[command(
    name = "rust-bench",
    version,
    about,
    propagate_version = true,
    after_help = crate::error::EXIT_STATUSES
)]
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
    Run(crate::command::run::Args),
    /// Render the paper's tables and figures from one or more result directories.
    Report(crate::report::Args),
    /// Record a run that did not finish as failed, and print its status (for the
    /// appliance's init).
    MarkFailed(crate::command::mark_failed::Args),
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
    Watchdog(crate::command::watchdog::Args),
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
    cmd = cmd.mut_subcommand("run", |s| s.after_help(crate::error::EXIT_STATUSES));
    for (i, test) in suite::TESTS.iter().enumerate() {
        cmd = cmd.subcommand(
            crate::plan::config::test_command(*test)
                .display_order(i)
                .after_help(crate::error::EXIT_STATUSES),
        );
    }
    negative_numbers_reach_their_parser(cmd)
}

/// Every option's value goes to the option's own parser, a negative number too (`--cpu -1`
/// is "'-1' cannot be negative", not an unknown flag `-1`).
fn negative_numbers_reach_their_parser(cmd: clap::Command) -> clap::Command {
    cmd.mut_args(|arg| {
        if arg.get_action().takes_values() {
            arg.allow_negative_numbers(true)
        } else {
            arg
        }
    })
    .mut_subcommands(negative_numbers_reach_their_parser)
}

/// The longest argument the command line takes: a path's limit (Linux's PATH_MAX). A longer
/// one is refused before parsing, so that no message echoes more than this of an argument
/// (values themselves are cut shorter by [`crate::error::quote`]).
pub const ARG_MAX: usize = 4096;

/// Why the command line is refused before parsing, if it is: an argument longer than
/// [`ARG_MAX`].
pub fn too_long(args: &[std::ffi::OsString]) -> Option<String> {
    let arg = args.iter().skip(1).find(|a| a.len() > ARG_MAX)?;
    Some(format!(
        "{} is longer than any value rust-bench takes (at most {ARG_MAX} bytes, a path's limit)",
        crate::error::quote(&arg.to_string_lossy())
    ))
}

/// The command the user invoked, as far as its words name subcommands: `rust-bench`,
/// `rust-bench run`, `rust-bench load cpu` (what an error points at for `--help`).
pub fn invoked(args: &[std::ffi::OsString]) -> String {
    let mut cmd = command();
    let mut words = vec![cmd.get_name().to_string()];
    for arg in args.iter().skip(1) {
        let Some(sub) = arg.to_str().and_then(|a| cmd.find_subcommand(a)).cloned() else {
            break;
        };
        words.push(sub.get_name().to_string());
        cmd = sub;
    }
    words.join(" ")
}
