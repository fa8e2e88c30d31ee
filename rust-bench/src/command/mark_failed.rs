//! `rust-bench mark-failed`: record a run that did not finish as failed, for the appliance's
//! init when `rust-bench run` was killed, crashed or overran its timeout. It changes
//! `run.json` only through the results contract, atomically, and prints the run's status.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args as ClapArgs;

use crate::results::run::{RunRecord, Status};

/// Record a run that did not finish as failed, and print its status.
#[derive(Debug, ClapArgs)]
#[command(after_help = "\
A run.json still saying \"interrupted\" without a `finished` time (the run did not record its \
end) becomes \"failed\" with REASON as its error; a run directory without run.json gets one \
saying so (the directory is created if needed); a run that recorded its end (complete, \
failed, or interrupted by a signal) is left as it is. Prints the run's status as `status=` and `error=` \
lines (the appliance's init shows them on the console).")]
pub struct Args {
    /// The run directory (results/<run-id>/).
    #[arg(value_name = "RUN_DIR")]
    pub dir: PathBuf,
    /// Why the run failed (recorded as `error`).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

pub fn main(args: Args) -> Result<()> {
    let (record, _) = mark(&args.dir, &args.reason)?;
    print!(
        "status={}\nerror={}\n",
        record.status.as_str(),
        record.error.as_deref().unwrap_or("").replace('\n', " ")
    );
    Ok(())
}

/// Mark the run in `dir` failed because of `reason`, as [`Args`] describes (also used by
/// `rust-bench watchdog`); returns the run's record and whether this changed it.
pub fn mark(dir: &Path, reason: &str) -> Result<(RunRecord, bool)> {
    let record = match RunRecord::read(dir)? {
        // It recorded its end: complete, failed, or interrupted by a signal.
        Some(record) if record.status != Status::Interrupted || record.finished.is_some() => {
            return Ok((record, false));
        }
        Some(mut record) => {
            record.fail(reason);
            record
        }
        None => {
            fs::create_dir_all(dir).with_context(|| {
                format!(
                    "cannot create {}; check that the disk is writable and not full",
                    dir.display()
                )
            })?;
            let id = dir
                .canonicalize()
                .ok()
                .as_deref()
                .and_then(|d| d.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| dir.display().to_string());
            let mut record = RunRecord::start(&id, None);
            record.fail(reason);
            record
        }
    };
    record.write(dir)?;
    Ok((record, true))
}
