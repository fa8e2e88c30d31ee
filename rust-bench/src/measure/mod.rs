//! The measuring loops: one module per test.

pub mod attribution;
pub mod clock_tick;
pub mod osnoise;
pub mod thread_switch;
pub mod wakeup;
