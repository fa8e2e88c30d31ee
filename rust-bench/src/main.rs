//! rust-bench: the hvrt latency suite.
//!
//! Measures what Fayyad-Kazan, Perneel and Timmerman measured on Hyper-V in 2013 (clock tick
//! processing duration, thread switch latency), runs the appliance's plan, and turns results
//! into the paper's tables and figures.

mod cli;
mod clock_tick;
mod config;
mod duration;
mod environment;
mod error;
mod histogram;
mod inject;
mod load;
mod output;
mod pull;
mod report;
mod rt;
mod run;
mod stats;
mod thread_switch;
mod tsc;
mod watchdog;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return error::clap_exit(err),
    };
    let result = match cli.command {
        Command::ClockTick(args) => clock_tick::main(args),
        Command::ThreadSwitch(args) => thread_switch::main(args),
        Command::Load(args) => load::main(args),
        Command::Run(args) => run::main(args),
        Command::Report(args) => report::main(args),
        Command::Pull(args) => pull::main(args),
        Command::Inject(args) => inject::main(args),
        Command::Watchdog(args) => watchdog::main(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => error::report(&err),
    }
}
