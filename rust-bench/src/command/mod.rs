//! The plan's commands, above every layer they use: `rust-bench run` (runs a plan's tests,
//! writes the run directory and its report), `rust-bench mark-failed` for a run that could
//! not record its own end, and `rust-bench watchdog`, the appliance's last resort for a run
//! that does not end.

pub mod mark_failed;
pub mod run;
pub mod watchdog;
