//! The results contract: one type per result file, used to write it and to read it
//! (docs/results-format.md describes exactly these types), and how files are written.
//!
//! - `clock-tick.json`: [`clock_tick::ClockTick`]
//! - `thread-switch.json`: [`thread_switch::ThreadSwitch`]
//! - `wakeup.json`: [`wakeup::Wakeup`]
//! - `osnoise.json`: [`osnoise::Osnoise`]
//! - `timerlat.json`: [`timerlat::Timerlat`]
//! - `run.json`: [`run::RunRecord`]
//!
//! Shared parts: [`environment::Environment`], [`threshold::FailAbove`], [`clock::ClockInfo`], the histogram
//! ([`stats::HistogramJson`], bucket layout in [`histogram`]) and summaries ([`stats`]).

pub mod attribution;
pub mod clock;
pub mod clock_tick;
pub mod environment;
#[doc(hidden)]
pub mod fixture;
pub mod histogram;
pub mod osnoise;
pub mod read;
pub mod rt_setup;
pub mod run;
pub mod stats;
pub mod thread_switch;
pub mod threshold;
pub mod time;
pub mod timerlat;
pub mod trace;
pub mod wakeup;
pub mod writer;

use serde::{Deserialize, Serialize};

/// The `schema` of every result file.
pub const SCHEMA: u32 = 1;

/// Why a test (or one thread-switch run) ended: `end` in the results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum End {
    /// clock-tick reached `--samples`, wakeup `--loops`.
    Samples,
    /// thread-switch reached `--switches`.
    Switches,
    /// The planned duration passed.
    Duration,
    /// thread-switch's `--timeout` passed before `--switches`.
    Timeout,
    /// SIGINT or SIGTERM (or the plan's timeout) stopped it.
    Signal,
    /// A thread could not be set up.
    Error,
    /// Still measuring: a checkpoint.
    Running,
}

impl End {
    /// The word the JSON uses.
    pub fn as_str(self) -> &'static str {
        match self {
            End::Samples => "samples",
            End::Switches => "switches",
            End::Duration => "duration",
            End::Timeout => "timeout",
            End::Signal => "signal",
            End::Error => "error",
            End::Running => "running",
        }
    }
}

/// Who wrote a result file, how and when: `rust_bench_version`, `command_line` and
/// `started` of every result file (null in files from before these fields existed).
#[derive(Clone, Debug, PartialEq)]
pub struct Origin {
    pub rust_bench_version: String,
    pub command_line: Vec<String>,
    /// UTC, RFC 3339.
    pub started: String,
}

impl Origin {
    /// This process, starting now.
    pub fn now() -> Origin {
        Origin {
            rust_bench_version: VERSION.to_string(),
            command_line: std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            started: time::utc_now(),
        }
    }
}

/// This rust-bench's version (`rust_bench_version`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
