//! The machine: timestamps (TSC, clocks), scheduling and affinity, memory locking, the RT
//! setup (RT throttling and the fair_server), and the environment a result records. The
//! unsafe code lives here.

pub mod environment;
pub mod rt;
pub mod rt_setup;
pub mod tracefs;
pub mod tsc;
