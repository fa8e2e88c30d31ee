//! The measuring loops: one module per test. Below the tests ([`crate::suite`]), which hold
//! every option's default and range: the loops' docs link up to them, their code does not
//! import them.

pub mod attribution;
pub mod clock_tick;
pub mod osnoise;
pub mod thread_switch;
pub mod timerlat;
pub mod wakeup;
