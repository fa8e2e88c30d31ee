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
use crate::results::rt_setup::{FairServerChange, FairServerRecord, RtSetupRecord};
use crate::results::threshold::FailAbove;
use crate::results::{Origin, SCHEMA, read, writer};

/// The file's name in a run directory.
pub const FILE: &str = "run.json";

/// The paper's scenario a run belongs to (1 to 7: bare VM, then the six load scenarios).
/// Its rule (range, parser) is the plan option's, in `options`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Scenario(pub u8);

/// A free name for a run (`enlightened, 2 load VMs`), shown beside its column. Its rule
/// (length, characters) is the plan option's, in `options`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Label(pub String);

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
    /// What its `fail_above_us` threshold found (its result's `fail_above`), when the plan
    /// gave it one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_above: Option<FailAbove>,
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
    /// The paper's scenario (1-7) the plan names (`scenario` in bench.conf); null if none.
    #[serde(default)]
    pub scenario: Option<Scenario>,
    /// The plan's free `label`; null if none.
    #[serde(default)]
    pub label: Option<Label>,
    #[serde(default)]
    pub environment: Option<Environment>,
    /// The plan's RT setup; null for a load role.
    #[serde(default, deserialize_with = "rt_settings")]
    pub rt_settings: Option<RtSetupRecord>,
    /// /proc/uptime when the first test started.
    #[serde(default)]
    pub boot_to_first_sample_s: Option<f64>,
    #[serde(default)]
    pub tests: BTreeMap<String, TestRecord>,
    /// The tests whose `fail_above_us` threshold was crossed, in the plan's order (each
    /// test's count in its `fail_above`): the run still completes, and `rust-bench run`
    /// exits with status 3 when its status is `complete`. Absent in files written before
    /// it was recorded.
    #[serde(default)]
    pub threshold_crossed: Vec<String>,
    /// What a load role did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadStats>,
    /// The memory load's size and its basis (role `memory-load` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_load: Option<MemoryLoadSize>,
}

/// `rt_settings` as files written before it was an `rt_setup` object recorded it: read
/// into an [`RtSetupRecord`] (their `in_force` and `warnings` were not recorded: empty).
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct OlderRtSettings {
    requested: String,
    rt_throttling_lifted: bool,
    fair_server: Option<OlderFairServer>,
    #[serde(default)]
    restored: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct OlderFairServer {
    changed: Vec<OlderFairServerChange>,
    errors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct OlderFairServerChange {
    file: String,
    before: String,
}

impl From<OlderRtSettings> for RtSetupRecord {
    fn from(o: OlderRtSettings) -> RtSetupRecord {
        let fair = o.fair_server.unwrap_or(OlderFairServer {
            changed: Vec::new(),
            errors: Vec::new(),
        });
        RtSetupRecord {
            requested: o.requested,
            rt_throttling_lifted: o.rt_throttling_lifted,
            fair_server: FairServerRecord {
                debugfs_mounted: false,
                changed: fair
                    .changed
                    .into_iter()
                    .map(|c| FairServerChange {
                        // .../fair_server/cpuN/runtime
                        cpu: Path::new(&c.file)
                            .parent()
                            .and_then(|p| p.file_name())
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or(c.file.clone()),
                        runtime_ns_before: c.before.trim().parse().unwrap_or(0),
                    })
                    .collect(),
                errors: fair.errors,
            },
            in_force: Vec::new(),
            warnings: Vec::new(),
            restored: o.restored,
        }
    }
}

/// `rt_settings`: an [`RtSetupRecord`], or the older form of it.
fn rt_settings<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<RtSetupRecord>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Now(RtSetupRecord),
        Older(OlderRtSettings),
    }
    Ok(Option::<Either>::deserialize(d)?.map(|e| match e {
        Either::Now(r) => r,
        Either::Older(o) => o.into(),
    }))
}

/// The memory load's buffer size and what it was based on: `memory_load`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryLoadSize {
    /// Bytes of each of the two buffers, copied back and forth: the bytes copied per round.
    pub size_bytes: u64,
    /// `auto` (from the cache and the memory, docs/config.md) or `given`.
    pub rule: String,
    /// The last-level cache the machine reports; null if neither sysfs nor CPUID told it.
    pub llc_bytes: Option<u64>,
    /// Where that came from: `sysfs` or `cpuid`.
    pub llc_source: Option<String>,
    /// `MemAvailable` of /proc/meminfo when the load started.
    pub mem_available_bytes: Option<u64>,
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
            scenario: None,
            label: None,
            environment: None,
            rt_settings: None,
            boot_to_first_sample_s: None,
            tests: BTreeMap::new(),
            threshold_crossed: Vec::new(),
            load: None,
            memory_load: None,
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

    /// Write `dir/run.json` (replaced whole, see [`writer`]).
    pub fn write(&self, dir: &Path) -> Result<()> {
        writer::write_json(&dir.join(FILE), &writer::to_json(self)?)
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
                fail_above: None,
            },
        );
        r.tests.insert(
            "wakeup".into(),
            TestRecord {
                status: Status::Complete,
                file: "wakeup.json".into(),
                error: None,
                fail_above: Some(FailAbove {
                    threshold_us: 40,
                    crossed: 3,
                    first_at_s: Some(1.25),
                    first_ns: Some(41_000),
                }),
            },
        );
        r.threshold_crossed.push("wakeup".into());
        r.write(dir.path()).unwrap();
        assert_eq!(RunRecord::read(dir.path()).unwrap(), Some(r.clone()));
        r.fail("first");
        r.fail("second");
        assert_eq!(r.status, Status::Failed);
        assert_eq!(r.error.as_deref(), Some("first"));
        assert!(r.finished.is_some());
        assert_eq!(RunRecord::read(&dir.path().join("none")).unwrap(), None);
    }

    #[test]
    fn older_rt_settings_read_as_an_rt_setup() {
        let older = serde_json::json!({
            "requested": "off",
            "rt_throttling_lifted": true,
            "fair_server": {
                "changed": [{
                    "file": "/sys/kernel/debug/sched/fair_server/cpu1/runtime",
                    "before": "50000000",
                    "during": "0"
                }],
                "errors": []
            },
            "restored": true
        });
        let r: RtSetupRecord = rt_settings(older).unwrap().unwrap();
        assert_eq!(r.requested, "off");
        assert_eq!(r.fair_server.changed[0].cpu, "cpu1");
        assert_eq!(r.fair_server.changed[0].runtime_ns_before, 50_000_000);
        assert_eq!(r.restored, Some(true));
        assert_eq!(rt_settings(serde_json::Value::Null).unwrap(), None);
    }
}
