//! The machine: timestamps (TSC, clocks), scheduling and affinity, memory locking, RT
//! throttling, and the environment a result records. The unsafe code lives here.

pub mod environment;
pub mod rt;
pub mod tracefs;
pub mod tsc;
