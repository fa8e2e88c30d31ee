//! The plan: bench.conf, durations and sizes, `rust-bench run`, and `rust-bench mark-failed`
//! for a run that could not record its own end.

pub mod config;
pub mod duration;
pub mod mark_failed;
pub mod run;
