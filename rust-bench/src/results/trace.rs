//! How a test read the kernel's trace (`trace_reader` in `clock-tick.json`'s attribution
//! and in `osnoise.json`).

use serde::{Deserialize, Serialize};

/// How a trace is read: the kernel's binary pages, or its text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TraceReader {
    /// Binary where the kernel's layouts can be read, else text (a result records which).
    #[default]
    Auto,
    /// `per_cpu/cpuN/trace_pipe_raw`: whole pages copied, decoded by rust-bench.
    Binary,
    /// `trace_pipe`: every event formatted as text by the kernel, parsed by rust-bench (the
    /// fallback, and the way to compare).
    Text,
}

impl std::fmt::Display for TraceReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TraceReader {
    pub fn as_str(self) -> &'static str {
        match self {
            TraceReader::Auto => "auto",
            TraceReader::Binary => "binary",
            TraceReader::Text => "text",
        }
    }
}
