//! The plan: bench.conf (whose keys are the plan's and the tests' flags, parsed by the
//! flags' own parsers), durations, one type per option, `rust-bench run`, `rust-bench
//! mark-failed` for a run that could not record its own end, and `rust-bench watchdog`, the
//! appliance's last resort for a run that does not end.

pub mod config;
pub mod mark_failed;
pub mod run;
pub mod watchdog;
