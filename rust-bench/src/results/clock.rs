//! The `clock` object of the results: which clock timed the samples, and why.

use serde::{Deserialize, Serialize};

/// Which clock the measurements use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Tsc,
    ClockGettime,
}

impl std::fmt::Display for Source {
    /// The name the JSON uses.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Source::Tsc => "tsc",
            Source::ClockGettime => "clock_gettime",
        })
    }
}

/// The `clock` object of the results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClockInfo {
    pub source: Source,
    /// Ticks per second (1e9 for clock_gettime).
    pub hz: f64,
    /// Whether CPUID reports an invariant TSC.
    pub invariant_tsc: bool,
    /// Why this source was chosen.
    pub reason: String,
}
