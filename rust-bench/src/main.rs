//! rust-bench: parse the command line and hand it to the library.

use std::process::ExitCode;

use clap::FromArgMatches;

use rust_bench::cli::{self, Command};
use rust_bench::{command, error, load, pull, report, suite};

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(message) = cli::too_long(&args) {
        return error::usage_exit(&message, &cli::invoked(&args));
    }
    let matches = match cli::command().try_get_matches_from(&args) {
        Ok(matches) => matches,
        Err(err) => return error::clap_exit(err, &cli::invoked(&args)),
    };
    let test = matches
        .subcommand()
        .and_then(|(name, args)| Some((suite::find(name)?, args)));
    let result = match test {
        Some((test, args)) => test.main(args),
        None => match Command::from_arg_matches(&matches) {
            Ok(Command::Load(args)) => load::main(args),
            Ok(Command::Run(args)) => command::run::main(args),
            Ok(Command::Report(args)) => report::main(args),
            Ok(Command::MarkFailed(args)) => command::mark_failed::main(args),
            Ok(Command::Pull(args)) => pull::main(args),
            Ok(Command::Convert(args)) => pull::convert::main(args),
            Ok(Command::Inject(args)) => load::inject::main(args),
            Ok(Command::Watchdog(args)) => command::watchdog::main(args),
            Err(err) => return error::clap_exit(err, &cli::invoked(&args)),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => error::report(&err),
    }
}
