//! The plan: bench.conf, durations and sizes, and `rust-bench run`.

pub mod config;
pub mod duration;
pub mod run;
