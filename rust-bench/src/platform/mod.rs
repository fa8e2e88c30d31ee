//! The machine: timestamps (TSC, clocks), scheduling and affinity, memory locking, the RT
//! setup (RT throttling and the fair_server), tracefs, the environment a result records, and
//! the watchdogs' SCHED_DEADLINE and power-off. The unsafe code lives here.

pub mod environment;
pub mod kallsyms;
pub mod rt;
pub mod rt_setup;
pub mod trace_raw;
pub mod tracefs;
pub mod tracer;
pub mod tsc;
pub mod watchdog;
