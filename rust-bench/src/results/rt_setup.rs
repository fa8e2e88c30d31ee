//! `rt_setup` of the tests' results and `rt_settings` of `run.json`: what a measurement's RT
//! setup asked for, did, and left in force (made by `platform/rt_setup.rs`).

use serde::{Deserialize, Serialize};

/// `rt_setup` in the results: what was asked, done, and left in force.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RtSetupRecord {
    /// `"off"`: lift RT throttling and the fair_server for the run; `"keep"`: leave both.
    pub requested: String,
    /// sched_rt_runtime_us was set to -1 by this run (false when it already was, or kept).
    pub rt_throttling_lifted: bool,
    pub fair_server: FairServerRecord,
    /// What still limits a busy real-time thread during the run, one entry each (e.g.
    /// "RT throttling 50 ms/s", "fair_server 50 ms/s on cpu0-1"); empty: nothing.
    pub in_force: Vec<String>,
    /// Every warning printed on stderr about the setup (after "rust-bench: warning: ").
    pub warnings: Vec<String>,
    /// Everything changed was put back; null while the run is going on.
    pub restored: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FairServerRecord {
    /// debugfs was mounted by this run (and unmounted after it).
    pub debugfs_mounted: bool,
    /// Each CPU whose runtime this run set to 0, with the value before.
    pub changed: Vec<FairServerChange>,
    /// Why a reservation could not be read or lifted.
    pub errors: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FairServerChange {
    pub cpu: String,
    pub runtime_ns_before: u64,
}
