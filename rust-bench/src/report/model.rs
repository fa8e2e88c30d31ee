//! Reading result directories: `run.json` plus the tests' JSON files (docs/results-format.md).
//!
//! A run directory is what `rust-bench run` writes (`results/<run-id>/`) or what a single
//! test writes with `--out DIR`: `run.json` or at least one test's result file
//! (`clock-tick.json`, ...). A directory holding run directories (such as `results/`) stands for
//! all of them, in name order (run ids are timestamps, so that is time order).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::results::environment::Environment;
use crate::results::run::{self, RunRecord, Status};
use crate::suite::TESTS;
use crate::suite::test::TestResult;
use crate::usage;

/// One run directory, read through the results contract.
pub struct Run {
    pub dir: PathBuf,
    /// `run_id` from run.json, or the directory's name.
    pub id: String,
    /// run.json; None for a single test's `--out` directory.
    pub record: Option<RunRecord>,
    /// The tests' results, in the order of [`TESTS`].
    pub results: Vec<Box<dyn TestResult>>,
    /// The machine: run.json's environment, else the first test's.
    pub environment: Option<Environment>,
}

impl Run {
    /// `complete`, `failed`, `interrupted` (run.json), or None for a single test's output.
    pub fn status(&self) -> Option<Status> {
        self.record.as_ref().map(|r| r.status)
    }

    /// Why the run failed, from run.json.
    pub fn error(&self) -> Option<&str> {
        self.record.as_ref()?.error.as_deref()
    }

    /// The result of the test `name`, if the run has one.
    pub fn result(&self, name: &str) -> Option<&dyn TestResult> {
        self.results
            .iter()
            .find(|r| r.name() == name)
            .map(|r| r.as_ref())
    }

    pub fn is_partial(&self) -> bool {
        self.status().is_some_and(|s| s != Status::Complete)
            || self.results.iter().any(|r| !r.complete())
    }
}

/// What a run directory holds: run.json or a test's result file.
fn file_names() -> String {
    let mut names = vec![run::FILE.to_string()];
    names.extend(TESTS.iter().map(|t| t.file()));
    let last = names.pop().unwrap_or_default();
    format!("{} or {last}", names.join(", "))
}

/// Expand the command line's directories into run directories: a run directory stands for
/// itself; any other directory for the run directories directly inside it.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if !path.exists() {
            usage!(
                "{}: no such directory; give a results/<run-id>/ directory or results/",
                path.display()
            );
        }
        if !path.is_dir() {
            usage!(
                "{}: not a directory; give a results/<run-id>/ directory ({}) or results/",
                path.display(),
                file_names()
            );
        }
        if is_run_dir(path) {
            out.push(path.clone());
            continue;
        }
        let mut inner: Vec<PathBuf> = match fs::read_dir(path) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir() && is_run_dir(p))
                .collect(),
            Err(e) => usage!("{}: cannot list: {e}", path.display()),
        };
        if inner.is_empty() {
            usage!(
                "{}: not a run directory (no {}) and holds none",
                path.display(),
                file_names()
            );
        }
        inner.sort();
        out.extend(inner);
    }
    Ok(out)
}

fn is_run_dir(dir: &Path) -> bool {
    dir.join(run::FILE).is_file() || TESTS.iter().any(|t| dir.join(t.file()).is_file())
}

/// Load a run directory strictly: every file it has or names must parse and follow the
/// results contract. Errors are one line naming the file (usage errors: exit status 2).
pub fn load(dir: &Path) -> Result<Run> {
    let record = RunRecord::read(dir)?;
    let mut results = Vec::new();
    for test in TESTS {
        let entry = record.as_ref().and_then(|r| r.tests.get(test.name()));
        let named = entry.map(|e| e.file.as_str()).filter(|f| is_plain_name(f));
        let path = dir.join(named.map(str::to_string).unwrap_or_else(|| test.file()));
        match test.read(&path)? {
            Some(result) => results.push(result),
            // A file run.json lists must exist when that test completed (a failed or
            // interrupted one may have stopped before writing it).
            None if entry.is_some_and(|e| e.status == Status::Complete) => usage!(
                "{}: missing, though {} lists it; copy the whole run directory (rust-bench pull copies them whole)",
                path.display(),
                run::FILE
            ),
            None => {}
        }
    }
    if record.is_none() && results.is_empty() {
        usage!(
            "{}: not a run directory (no {})",
            dir.display(),
            file_names()
        );
    }
    let environment = record
        .as_ref()
        .and_then(|r| r.environment.clone())
        .or_else(|| results.first().map(|r| r.environment().clone()));
    Ok(Run {
        dir: dir.to_path_buf(),
        id: record
            .as_ref()
            .map(|r| r.run_id.clone())
            .unwrap_or_else(|| dir_name(dir)),
        record,
        results,
        environment,
    })
}

/// A file name without directories, so a crafted run.json cannot point outside its run.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['/', '\\', ':']) && name != "." && name != ".."
}

fn dir_name(dir: &Path) -> String {
    dir.canonicalize()
        .ok()
        .as_deref()
        .unwrap_or(dir)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string())
}
