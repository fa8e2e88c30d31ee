//! Reading result directories: `run.json` plus the tests' JSON files (docs/results-format.md).
//!
//! A run directory is what `rust-bench run` writes (`results/<run-id>/`) or what a single
//! test writes with `--out DIR`: at least one of `run.json`, `clock-tick.json`,
//! `thread-switch.json`. A directory holding run directories (such as `results/`) stands for
//! all of them, in name order (run ids are timestamps, so that is time order).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Deserialize;
use serde_json::Value;

use crate::usage;

pub const SCHEMA: u64 = 1;
pub const RUN_FILE: &str = "run.json";
pub const CLOCK_TICK_FILE: &str = "clock-tick.json";
pub const THREAD_SWITCH_FILE: &str = "thread-switch.json";

/// One run, as far as the tables and figures need it. The raw JSON is kept for the figures.
#[derive(Debug, Clone)]
pub struct Run {
    pub dir: PathBuf,
    /// `run_id` from run.json, or the directory's name.
    pub id: String,
    /// `complete`, `failed`, `interrupted` (run.json), or `None` for a single test's output.
    pub status: Option<String>,
    pub error: Option<String>,
    pub environment: Option<Environment>,
    pub environment_json: Option<Value>,
    pub clock_tick: Option<ClockTick>,
    pub clock_tick_json: Option<Value>,
    pub thread_switch: Option<ThreadSwitch>,
    pub thread_switch_json: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ClockTick {
    pub samples: u64,
    #[serde(default)]
    pub duration_s: Option<f64>,
    pub loop_ns: LoopNs,
    pub max_overhead_ns: f64,
    #[serde(default)]
    pub spikes: Option<Spikes>,
    #[serde(default)]
    pub clock: Option<Clock>,
    #[serde(default = "yes")]
    pub complete: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LoopNs {
    pub min: f64,
    pub max: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Spikes {
    #[serde(default)]
    pub threshold_ns: Option<f64>,
    #[serde(default)]
    pub count: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Clock {
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub hz: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ThreadSwitch {
    pub runs: Vec<SwitchRun>,
    #[serde(default = "yes")]
    pub complete: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SwitchRun {
    pub threads: u64,
    pub switch_ns: SwitchNs,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SwitchNs {
    // null when a run has no switch yet (a checkpoint taken right at its start).
    pub min: Option<f64>,
    pub mean: Option<f64>,
    pub max: Option<f64>,
}

/// The machine a run measured. Every field is optional here: labelling copes with less.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Environment {
    pub kernel: Option<Kernel>,
    pub hypervisor: Option<String>,
    pub vmbus: Option<bool>,
    pub clocksource: Option<String>,
    pub cpu_model: Option<String>,
    pub invariant_tsc: Option<bool>,
    pub cmdline: Option<String>,
    pub kernel_config: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Kernel {
    pub release: Option<String>,
    pub version: Option<String>,
    pub preempt_rt: Option<bool>,
}

fn yes() -> bool {
    true
}

impl Run {
    pub fn is_partial(&self) -> bool {
        self.status.as_deref().is_some_and(|s| s != "complete")
            || self.clock_tick.as_ref().is_some_and(|c| !c.complete)
            || self.thread_switch.as_ref().is_some_and(|t| !t.complete)
    }
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
                "{}: not a directory; give a results/<run-id>/ directory (run.json, clock-tick.json, thread-switch.json) or results/",
                path.display()
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
                "{}: not a run directory (no run.json, clock-tick.json or thread-switch.json) and holds none",
                path.display()
            );
        }
        inner.sort();
        out.extend(inner);
    }
    Ok(out)
}

fn is_run_dir(dir: &Path) -> bool {
    [RUN_FILE, CLOCK_TICK_FILE, THREAD_SWITCH_FILE]
        .iter()
        .any(|f| dir.join(f).is_file())
}

/// Load a run directory strictly: every file it has or names must parse and follow the
/// schema. Errors are one line naming the file (usage errors: exit status 2).
pub fn load(dir: &Path) -> Result<Run> {
    let run_json = read_optional(&dir.join(RUN_FILE))?;
    if let Some(r) = &run_json {
        check_schema(&dir.join(RUN_FILE), r, None)?;
    }
    let status = run_json
        .as_ref()
        .and_then(|r| r.get("status"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut run = Run {
        dir: dir.to_path_buf(),
        id: run_json
            .as_ref()
            .and_then(|r| r.get("run_id"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| dir_name(dir)),
        error: run_json
            .as_ref()
            .and_then(|r| r.get("error"))
            .and_then(Value::as_str)
            .map(str::to_string),
        status,
        environment: None,
        environment_json: None,
        clock_tick: None,
        clock_tick_json: None,
        thread_switch: None,
        thread_switch_json: None,
    };

    for (test, file) in [
        ("clock-tick", CLOCK_TICK_FILE),
        ("thread-switch", THREAD_SWITCH_FILE),
    ] {
        let named = run_json.as_ref().and_then(|r| listed_file(r, test));
        let path = dir.join(named.as_deref().unwrap_or(file));
        let Some(json) = read_optional(&path)? else {
            if named.is_some() && must_exist(run_json.as_ref(), test) {
                usage!(
                    "{}: missing, though {} lists it; copy the whole run directory (rust-bench pull copies them whole)",
                    path.display(),
                    RUN_FILE
                );
            }
            continue;
        };
        check_schema(&path, &json, Some(test))?;
        match test {
            "clock-tick" => {
                run.clock_tick = Some(parse(&path, &json)?);
                run.clock_tick_json = Some(json);
            }
            _ => {
                run.thread_switch = Some(parse(&path, &json)?);
                run.thread_switch_json = Some(json);
            }
        }
    }
    if run_json.is_none() && run.clock_tick.is_none() && run.thread_switch.is_none() {
        usage!(
            "{}: not a run directory (no run.json, clock-tick.json or thread-switch.json)",
            dir.display()
        );
    }

    let env = [&run_json, &run.clock_tick_json, &run.thread_switch_json]
        .into_iter()
        .flatten()
        .find_map(|j| j.get("environment").filter(|e| e.is_object()).cloned());
    if let Some(env) = env {
        let file = if run_json.is_some() {
            RUN_FILE
        } else {
            "test JSON"
        };
        match serde_json::from_value::<Environment>(env.clone()) {
            Ok(e) => run.environment = Some(e),
            Err(e) => usage!(
                "{}: environment does not follow the results format: {e}",
                dir.join(file).display()
            ),
        }
        run.environment_json = Some(env);
    }
    Ok(run)
}

/// The file run.json names for a test (`tests.<name>.file`), if any.
fn listed_file(run: &Value, test: &str) -> Option<String> {
    let entry = run.get("tests")?.get(test)?;
    match entry.get("file").and_then(Value::as_str) {
        Some(f) if is_plain_name(f) => Some(f.to_string()),
        Some(_) => None,
        None => entry.is_object().then(|| format!("{test}.json")),
    }
}

/// A test file run.json lists must exist unless that test did not complete
/// (a failed or interrupted run may stop before writing it).
fn must_exist(run: Option<&Value>, test: &str) -> bool {
    let Some(run) = run else { return false };
    let test_status = run
        .get("tests")
        .and_then(|t| t.get(test))
        .and_then(|t| t.get("status"))
        .and_then(Value::as_str);
    test_status == Some("complete")
}

/// A file name without directories, so a crafted run.json cannot point outside its run.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['/', '\\', ':']) && name != "." && name != ".."
}

fn read_optional(path: &Path) -> Result<Option<Value>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => usage!("{}: cannot read: {e}", path.display()),
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_eof() => usage!(
            "{}: truncated JSON ({e}); the run was probably cut off while writing: rerun it or remove the directory",
            path.display()
        ),
        Err(e) => usage!("{}: not valid JSON ({e})", path.display()),
    }
}

fn check_schema(path: &Path, json: &Value, test: Option<&str>) -> Result<()> {
    if !json.is_object() {
        usage!("{}: expected a JSON object", path.display());
    }
    match json.get("schema") {
        Some(Value::Number(n)) if n.as_u64() == Some(SCHEMA) => {}
        Some(Value::Number(n)) => usage!(
            "{}: schema {n}, this rust-bench reads schema {SCHEMA}; use the rust-bench that wrote it",
            path.display()
        ),
        Some(_) => usage!("{}: \"schema\" is not a number", path.display()),
        None => usage!(
            "{}: no \"schema\" field; not a rust-bench results file",
            path.display()
        ),
    }
    if let Some(test) = test {
        match json.get("test").and_then(Value::as_str) {
            Some(t) if t == test => {}
            Some(t) => usage!(
                "{}: holds test \"{t}\", expected \"{test}\"",
                path.display()
            ),
            None => usage!("{}: no \"test\" field", path.display()),
        }
    }
    Ok(())
}

fn parse<T: serde::de::DeserializeOwned>(path: &Path, json: &Value) -> Result<T> {
    match serde_json::from_value(json.clone()) {
        Ok(t) => Ok(t),
        Err(e) => usage!(
            "{}: does not follow the results format: {e}",
            path.display()
        ),
    }
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
