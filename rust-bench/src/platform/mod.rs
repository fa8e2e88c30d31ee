//! The machine: timestamps (TSC, clocks), scheduling and affinity, memory locking, RT
//! throttling, the environment a result records, and the watchdogs' SCHED_DEADLINE and
//! power-off. The unsafe code lives here.

pub mod environment;
pub mod rt;
pub mod tsc;
pub mod watchdog;
