//! The plan: bench.conf, durations, one type per option (shared by the tests' flags and
//! bench.conf), `rust-bench run`, and `rust-bench mark-failed` for a run that could not
//! record its own end.

pub mod config;
pub mod duration;
pub mod mark_failed;
pub mod options;
pub mod run;
