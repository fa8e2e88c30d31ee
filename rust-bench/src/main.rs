//! rust-bench: parse the command line and hand it to the library.

use std::process::ExitCode;

use clap::Parser;

use rust_bench::cli::{Cli, Command};
use rust_bench::{error, load, measure, plan, pull, report};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return error::clap_exit(err),
    };
    let result = match cli.command {
        Command::ClockTick(args) => measure::clock_tick::main(args),
        Command::ThreadSwitch(args) => measure::thread_switch::main(args),
        Command::Load(args) => load::main(args),
        Command::Run(args) => plan::run::main(args),
        Command::Report(args) => report::main(args),
        Command::Pull(args) => pull::main(args),
        Command::Convert(args) => pull::convert::main(args),
        Command::Inject(args) => load::inject::main(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => error::report(&err),
    }
}
