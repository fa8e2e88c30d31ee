//! `run.json`: what `rust-bench run` did with a plan (docs/results-format.md).
//!
//! Written first with `status: interrupted`, rewritten as the run goes and last with the
//! outcome, so a machine switched off mid-run leaves `interrupted`. The appliance's init
//! changes a run's status only through `rust-bench mark-failed` and `rust-bench watchdog`,
//! which use these types.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::results::environment::Environment;
use crate::results::{Origin, SCHEMA, read, writer};

/// The file's name in a run directory.
pub const FILE: &str = "run.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not finished (yet): on disk while the run is in progress, so a power cut leaves it.
    Interrupted,
    Complete,
    Failed,
}

impl Status {
    /// The word the JSON uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Interrupted => "interrupted",
            Status::Complete => "complete",
            Status::Failed => "failed",
        }
    }
}

/// One planned test: `tests.<name>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestRecord {
    pub status: Status,
    /// Its result file, next to run.json.
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub schema: u32,
    /// The rust-bench that wrote the file.
    #[serde(default)]
    pub rust_bench_version: Option<String>,
    /// Its command line.
    #[serde(default)]
    pub command_line: Option<Vec<String>>,
    pub run_id: String,
    pub status: Status,
    /// Why the run failed (the first reason); null otherwise.
    pub error: Option<String>,
    /// UTC, RFC 3339.
    pub started: String,
    pub finished: Option<String>,
    /// The plan file as given.
    #[serde(default)]
    pub config_file: Option<String>,
    /// The parsed plan, every key with its effective value (docs/config.md); null when the
    /// config could not be read.
    #[serde(default)]
    pub plan: Option<Value>,
    #[serde(default)]
    pub environment: Option<Environment>,
    #[serde(default)]
    pub rt_settings: Option<RtSettings>,
    /// /proc/uptime when the first test started.
    #[serde(default)]
    pub boot_to_first_sample_s: Option<f64>,
    #[serde(default)]
    pub tests: BTreeMap<String, TestRecord>,
    /// What a load role did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadStats>,
}

/// `rt_settings`: what the run changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RtSettings {
    /// The plan's `rt_throttling`: "off" or "keep".
    pub requested: String,
    /// sched_rt_runtime_us was set to -1 by this run.
    pub rt_throttling_lifted: bool,
    /// The fair_server runtimes changed; null when kept.
    pub fair_server: Option<FairServerChanges>,
    /// Everything was put back at the end; null until then.
    #[serde(default)]
    pub restored: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FairServerChanges {
    pub changed: Vec<FairServerChange>,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FairServerChange {
    pub file: String,
    pub before: String,
    pub during: String,
}

/// Counters of a load role's run: `load`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadStats {
    pub seconds: f64,
    /// Busy-loop rounds (cpu) or buffers copied (memory).
    pub rounds: u64,
    pub bytes_copied: u64,
}

impl RunRecord {
    /// The record of a run that has just started (`status: interrupted`).
    pub fn start(run_id: &str, config_file: Option<String>) -> RunRecord {
        let origin = Origin::now();
        RunRecord {
            schema: SCHEMA,
            rust_bench_version: Some(origin.rust_bench_version),
            command_line: Some(origin.command_line),
            run_id: run_id.to_string(),
            status: Status::Interrupted,
            error: None,
            started: origin.started,
            finished: None,
            config_file,
            plan: None,
            environment: None,
            rt_settings: None,
            boot_to_first_sample_s: None,
            tests: BTreeMap::new(),
            load: None,
        }
    }

    /// Mark the run failed, keeping the first reason; `finished` is set if it was not.
    pub fn fail(&mut self, reason: &str) {
        self.status = Status::Failed;
        self.error.get_or_insert_with(|| reason.to_string());
        self.finished
            .get_or_insert_with(crate::results::time::utc_now);
    }

    /// Read `dir/run.json`; None when there is none.
    pub fn read(dir: &Path) -> Result<Option<RunRecord>> {
        read::result(&dir.join(FILE), None)
    }

    /// Write `dir/run.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<()> {
        writer::write_atomic(&dir.join(FILE), &writer::to_json(self)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = RunRecord::start("20261127-100000", Some("bench.conf".into()));
        r.tests.insert(
            "clock-tick".into(),
            TestRecord {
                status: Status::Interrupted,
                file: "clock-tick.json".into(),
                error: None,
            },
        );
        r.write(dir.path()).unwrap();
        assert_eq!(RunRecord::read(dir.path()).unwrap(), Some(r.clone()));
        r.fail("first");
        r.fail("second");
        assert_eq!(r.status, Status::Failed);
        assert_eq!(r.error.as_deref(), Some("first"));
        assert!(r.finished.is_some());
        assert_eq!(RunRecord::read(&dir.path().join("none")).unwrap(), None);
    }
}
