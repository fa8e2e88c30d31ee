//! The tests of the suite, each one thing ([`test::Test`]): the command line, `rust-bench
//! run` and `rust-bench report` know them only through [`TESTS`].

pub mod clock_tick;
pub mod osnoise;
pub mod test;
pub mod thread_switch;

use crate::suite::test::Test;

/// Every test, in the order the report shows them. A new test is one module implementing
/// [`Test`] and one line here.
pub static TESTS: &[&dyn Test] = &[
    &clock_tick::ClockTickTest,
    &thread_switch::ThreadSwitchTest,
    &osnoise::OsnoiseTest,
];

/// The test named `name`.
pub fn find(name: &str) -> Option<&'static dyn Test> {
    TESTS.iter().copied().find(|t| t.name() == name)
}
