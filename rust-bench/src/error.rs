//! Errors as the user sees them: one line, what went wrong and how to fix it.
//!
//! Input and usage errors exit with 2, failures while running exit with 1, a measurement
//! interrupted by a signal with 128 + the signal's number (130 for SIGINT, 143 for
//! SIGTERM), a test whose `--fail-above-us` threshold was crossed, or a plan (`rust-bench
//! run`) that completed with such a test, with 3 (the run completed and its results are
//! written).

use std::fmt;
use std::process::ExitCode;

/// An error in what the user gave us (flags, files, config). Exits with status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A test or a plan stopped by SIGINT or SIGTERM before its end, its partial results kept:
/// `message` says what did not run. Exits with 128 + `signal`.
#[derive(Debug)]
pub struct Interrupted {
    pub signal: i32,
    pub message: String,
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Interrupted {}

/// A measurement that completed, its results written, but crossed the threshold it was
/// given (`rust-bench <test> --fail-above-us`, or `<test>.fail_above_us` in a plan that
/// completed): `message` says how. Exits with [`THRESHOLD_CROSSED`].
#[derive(Debug)]
pub struct ThresholdCrossed(pub String);

impl fmt::Display for ThresholdCrossed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ThresholdCrossed {}

/// The exit status of a [`ThresholdCrossed`].
pub const THRESHOLD_CROSSED: u8 = 3;

/// The exit statuses, as `--help` lists them below the options of `rust-bench`, `run` and
/// each test.
pub const EXIT_STATUSES: &str = "Exit status: 0 done (a plan: complete); 1 failed; 2 refused \
input (flags, a plan); 3 complete, but a test's --fail-above-us threshold (a plan's \
<test>.fail_above_us) was crossed, results written; 130 or 143 interrupted by SIGINT or \
SIGTERM, partial results kept.";

/// Return early with a [`UsageError`] built like `format!`.
#[macro_export]
macro_rules! usage {
    ($($arg:tt)*) => {
        return Err(anyhow::Error::new($crate::error::UsageError(format!($($arg)*))))
    };
}

/// How many characters of a value a message shows: enough to recognise it, never a whole
/// file pasted into a flag or a plan (a message goes to the console and into run.json).
pub const QUOTE_MAX: usize = 64;

/// A value the user gave, quoted for a message: whole when it is short, else its first
/// characters and its length (`'xxxxxxxx…' (10485875 bytes)`). Every message that echoes
/// what the user gave goes through this.
pub fn quote(value: &str) -> String {
    if value.chars().count() <= QUOTE_MAX {
        return format!("'{value}'");
    }
    let start: String = value.chars().take(QUOTE_MAX - 16).collect();
    format!("'{start}…' ({} bytes)", value.len())
}

/// Print an error chain on one line and pick the exit status.
pub fn report(err: &anyhow::Error) -> ExitCode {
    if let Some(stop) = err.downcast_ref::<Interrupted>() {
        eprintln!("rust-bench: {}", stop.message.replace('\n', " "));
        return ExitCode::from(u8::try_from(128 + stop.signal).unwrap_or(1));
    }
    if let Some(crossed) = err.downcast_ref::<ThresholdCrossed>() {
        eprintln!("rust-bench: {}", crossed.0.replace('\n', " "));
        return ExitCode::from(THRESHOLD_CROSSED);
    }
    let mut line = err.to_string();
    for cause in err.chain().skip(1) {
        line.push_str(": ");
        line.push_str(&cause.to_string());
    }
    eprintln!("rust-bench: error: {}", line.replace('\n', " "));
    if err.downcast_ref::<UsageError>().is_some() {
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    }
}

/// Help and version go to stdout as clap prints them; every other parse error becomes one
/// line ending with where to read more: `help` is the command whose `--help` to name
/// (`rust-bench clock-tick`, from the words the user typed: [`crate::cli::invoked`]).
pub fn clap_exit(err: clap::Error, help: &str) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => {
            eprintln!(
                "rust-bench: error: {}",
                one_line_clap(&quoted_values(&err), help)
            );
            ExitCode::from(2)
        }
    }
}

/// A command line refused before parsing (see [`crate::cli::too_long`]): one line, the
/// `--help` to read, exit status 2.
pub fn usage_exit(message: &str, help: &str) -> ExitCode {
    eprintln!("rust-bench: error: {message}; see '{help} --help'");
    ExitCode::from(2)
}

/// clap's rendered error, each value it echoes from the command line cut by [`quote`].
fn quoted_values(err: &clap::Error) -> String {
    use clap::error::ContextValue;
    let mut text = err.render().to_string();
    for (_, value) in err.context() {
        let values: Vec<&String> = match value {
            ContextValue::String(s) => vec![s],
            ContextValue::Strings(v) => v.iter().collect(),
            _ => Vec::new(),
        };
        for v in values {
            if v.chars().count() > QUOTE_MAX {
                text = text.replace(&format!("'{v}'"), &quote(v));
            }
        }
    }
    text
}

/// clap's rendered error on one line: the message, the lines that belong to it (e.g. the
/// names of missing arguments, which clap lists below "...were not provided:"), and where
/// to read more (`help`'s --help).
fn one_line_clap(text: &str, help: &str) -> String {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("invalid arguments");
    let mut message = first.strip_prefix("error: ").unwrap_or(first).to_string();
    let details: Vec<&str> = lines
        .by_ref()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    if !details.is_empty() {
        if !message.ends_with(':') {
            message.push(':');
        }
        message.push(' ');
        message.push_str(&details.join(", "));
    }
    format!("{message}; see '{help} --help'")
}

#[cfg(test)]
mod tests {
    use super::{QUOTE_MAX, one_line_clap, quote};

    #[test]
    fn missing_arguments_keep_their_names() {
        let text = "error: the following required arguments were not provided:\n  --config <FILE>\n  --results <DIR>\n\nUsage: rust-bench run --config <FILE> --results <DIR>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line_clap(text, "rust-bench run"),
            "the following required arguments were not provided: --config <FILE>, --results <DIR>; see 'rust-bench run --help'"
        );
        let top = "error: unrecognized subcommand 'x'\n\nUsage: rust-bench <COMMAND>\n";
        assert_eq!(
            one_line_clap(top, "rust-bench"),
            "unrecognized subcommand 'x'; see 'rust-bench --help'"
        );
    }

    #[test]
    fn long_values_are_cut() {
        assert_eq!(quote("5 parsecs"), "'5 parsecs'");
        let exact = "x".repeat(QUOTE_MAX);
        assert_eq!(quote(&exact), format!("'{exact}'"));
        let long = "é".repeat(5_000_000);
        let q = quote(&long);
        assert!(q.ends_with("…' (10000000 bytes)"), "{q}");
        assert!(q.chars().count() < QUOTE_MAX + 24, "{q}");
    }
}
