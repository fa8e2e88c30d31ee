//! Reading result directories: `run.json` plus the tests' JSON files (docs/results-format.md).
//!
//! A run directory is what `rust-bench run` writes (`results/<run-id>/`) or what a single
//! test writes with `--out DIR`: `run.json` or at least one test's result file
//! (`clock-tick.json`, ...). Any other directory (such as `results/`) stands for every run
//! directory beneath it, at any depth ([`expand`]).

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

    /// Whether the run has a result of the test `name` or its plan lists it.
    pub fn asked_for(&self, name: &str) -> bool {
        self.result(name).is_some()
            || self
                .record
                .as_ref()
                .is_some_and(|r| r.tests.contains_key(name))
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

/// The run directories the command line names, in order, each once.
#[derive(Debug, Default, PartialEq)]
pub struct Found {
    pub dirs: Vec<PathBuf>,
    /// A line for each run named more than once (reported once, at its first place).
    pub duplicates: Vec<String>,
}

/// Expand the command line's directories into run directories, by one rule: a run directory
/// stands for itself; any other directory for every run directory beneath it, at any depth,
/// in path order (run ids are timestamps, so within a directory that is time order). A run
/// named more than once (directly and through its parent, or twice) counts once.
pub fn expand(paths: &[PathBuf]) -> Result<Found> {
    let mut found = Found::default();
    // The canonical path of each run found, and the argument that named it first.
    let mut seen: Vec<(PathBuf, &Path)> = Vec::new();
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
        let mut runs = Vec::new();
        let mut visited = Vec::new();
        collect(path, &mut runs, &mut visited)?;
        if runs.is_empty() {
            usage!(
                "{}: not a run directory (no {}) and holds none, at any depth",
                path.display(),
                file_names()
            );
        }
        for dir in runs {
            let key = dir.canonicalize().unwrap_or_else(|_| dir.clone());
            match seen.iter().find(|(k, _)| *k == key) {
                Some((_, first)) => found.duplicates.push(format!(
                    "{} is named twice (by {} and by {}); it is reported once",
                    dir.display(),
                    first.display(),
                    path.display()
                )),
                None => {
                    seen.push((key, path));
                    found.dirs.push(dir);
                }
            }
        }
    }
    Ok(found)
}

/// The run directories at or beneath `dir`, in path order; `visited` (canonical paths)
/// keeps a directory reached twice through a symbolic link from being walked again.
fn collect(dir: &Path, out: &mut Vec<PathBuf>, visited: &mut Vec<PathBuf>) -> Result<()> {
    let key = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    if visited.contains(&key) {
        return Ok(());
    }
    visited.push(key);
    if is_run_dir(dir) {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    let mut inner: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect(),
        Err(e) => usage!("{}: cannot list: {e}", dir.display()),
    };
    inner.sort();
    for d in inner {
        collect(&d, out, visited)?;
    }
    Ok(())
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
