//! `thread-switch.json`: the result of the thread switch test (docs/results-format.md).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::results::End;
use crate::results::clock::ClockInfo;
use crate::results::environment::Environment;
use crate::results::rt_setup::RtSetupRecord;
use crate::results::stats::{HistogramJson, Summary};
use crate::results::threshold::FailAbove;

/// The test's name: `test` in its file, the file's stem, the subcommand.
pub const NAME: &str = "thread-switch";

/// The thread-switch result (`thread-switch.json`). See docs/results-format.md.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ThreadSwitch {
    pub schema: u32,
    /// [`NAME`].
    pub test: String,
    /// This rust-bench's version (null in files written before it was recorded).
    #[serde(default)]
    pub rust_bench_version: Option<String>,
    /// The command line of the process that measured (`rust-bench run ...` for a plan).
    #[serde(default)]
    pub command_line: Option<Vec<String>>,
    /// When the test started (UTC, RFC 3339).
    #[serde(default)]
    pub started: Option<String>,
    /// Every requested run finished as asked.
    pub complete: bool,
    /// The thread counts asked for, one run each, in order; a count without its run in
    /// `runs` never started. Empty in files written before it was recorded.
    #[serde(default)]
    pub threads_asked: Vec<usize>,
    /// What `--fail-above-us` found over all runs (the switch latencies above it; each
    /// run's first crossing time counts from the test's start as the runs' durations add
    /// up), when given; absent in files written before it existed.
    #[serde(default)]
    pub fail_above: Option<FailAbove>,
    pub runs: Vec<SwitchRun>,
    pub clock: ClockInfo,
    pub priority: i32,
    pub cpu: usize,
    pub burst_ms: u64,
    pub gap_us: u64,
    pub rt_throttling_lifted: bool,
    /// What the RT setup did and left in force (null in files written before it was
    /// recorded).
    #[serde(default)]
    pub rt_setup: Option<RtSetupRecord>,
    pub memory_locked: bool,
    pub environment: Environment,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SwitchRun {
    pub threads: usize,
    /// Measured switches (samples in `switch_ns` and `histogram`).
    pub switches: u64,
    /// sched_yield calls whose outcome was observed.
    pub yields: u64,
    /// Of those, the ones after which another thread ran (== switches).
    pub switched_yields: u64,
    pub duration_s: f64,
    pub measured_s: f64,
    pub duty_cycle: f64,
    pub bursts: u64,
    /// Null when the run measured no switch (cut short before the first one).
    pub switch_ns: Option<Summary>,
    pub histogram: HistogramJson,
    /// What `--fail-above-us` found in this run (`first_at_s` since the run's start), when
    /// given; absent in files written before it existed.
    #[serde(default)]
    pub fail_above: Option<FailAbove>,
    /// False while running (checkpoint) or when interrupted / timed out.
    pub complete: bool,
    /// switches, duration, timeout, signal, error, or running.
    pub end: End,
}

impl ThreadSwitch {
    /// One line per run (`thread-switch-runs.csv`); the statistics are empty for a run
    /// without a switch.
    pub fn runs_csv(&self) -> String {
        let mut s = String::from(
            "threads,switches,yields,switched_yields,min_ns,mean_ns,p50_ns,p99_ns,max_ns,complete\n",
        );
        for run in &self.runs {
            let stats = match &run.switch_ns {
                Some(n) => format!("{},{},{},{},{}", n.min, n.mean, n.p50, n.p99, n.max),
                None => ",,,,".to_string(),
            };
            let _ = writeln!(
                s,
                "{},{},{},{},{},{}",
                run.threads, run.switches, run.yields, run.switched_yields, stats, run.complete
            );
        }
        s
    }

    /// `threads,lower_ns,upper_ns,count` per run and non-empty bucket
    /// (`thread-switch-histogram.csv`).
    pub fn histogram_csv(&self) -> String {
        let mut h = String::from("threads,lower_ns,upper_ns,count\n");
        for run in &self.runs {
            let body = run.histogram.csv(Some(run.threads));
            h.push_str(body.split_once('\n').map(|x| x.1).unwrap_or(""));
        }
        h
    }
}
