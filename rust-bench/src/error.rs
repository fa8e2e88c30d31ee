//! Errors as the user sees them: one line, what went wrong and how to fix it.
//!
//! Input and usage errors exit with 2, failures while running exit with 1, a measurement
//! interrupted by a signal with 128 + the signal's number (130 for SIGINT, 143 for
//! SIGTERM).

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

/// Return early with a [`UsageError`] built like `format!`.
#[macro_export]
macro_rules! usage {
    ($($arg:tt)*) => {
        return Err(anyhow::Error::new($crate::error::UsageError(format!($($arg)*))))
    };
}

/// Print an error chain on one line and pick the exit status.
pub fn report(err: &anyhow::Error) -> ExitCode {
    if let Some(stop) = err.downcast_ref::<Interrupted>() {
        eprintln!("rust-bench: {}", stop.message.replace('\n', " "));
        return ExitCode::from(u8::try_from(128 + stop.signal).unwrap_or(1));
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

/// Help and version go to stdout as clap prints them; every other parse error becomes one line.
pub fn clap_exit(err: clap::Error) -> ExitCode {
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
                one_line_clap(&err.render().to_string())
            );
            ExitCode::from(2)
        }
    }
}

/// clap's rendered error on one line: the message, the lines that belong to it (e.g. the
/// names of missing arguments, which clap lists below "...were not provided:"), and where
/// to read more (the subcommand's help when clap's usage line names one).
fn one_line_clap(text: &str) -> String {
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
    let command = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Usage: rust-bench "))
        .and_then(|rest| rest.split_whitespace().next())
        .filter(|word| word.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
    match command {
        Some(sub) => format!("{message}; see 'rust-bench {sub} --help'"),
        None => format!("{message}; see 'rust-bench --help'"),
    }
}

#[cfg(test)]
mod tests {
    use super::one_line_clap;

    #[test]
    fn missing_arguments_keep_their_names() {
        let text = "error: the following required arguments were not provided:\n  --config <FILE>\n  --results <DIR>\n\nUsage: rust-bench run --config <FILE> --results <DIR>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line_clap(text),
            "the following required arguments were not provided: --config <FILE>, --results <DIR>; see 'rust-bench run --help'"
        );
        let top = "error: unrecognized subcommand 'x'\n\nUsage: rust-bench <COMMAND>\n";
        assert_eq!(
            one_line_clap(top),
            "unrecognized subcommand 'x'; see 'rust-bench --help'"
        );
    }
}
