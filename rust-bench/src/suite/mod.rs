//! The tests of the suite, each one thing ([`test::Test`]): its options (its subcommand's
//! flags, of which some are its section of bench.conf), its measurement, its result and its
//! report. The command line, the plan, `rust-bench run` and `rust-bench report` know them
//! only through [`TESTS`].

pub mod attribution;
pub mod clock_tick;
pub mod osnoise;
pub mod test;
pub mod thread_switch;
pub mod timerlat;
pub mod wakeup;

use crate::suite::test::Test;

/// Every test, in the order the report shows them. A new test is one module implementing
/// [`Test`] and one line here (and its keys in docs/config.md, which a unit test compares
/// with its options).
pub static TESTS: &[&dyn Test] = &[
    &clock_tick::ClockTickTest,
    &thread_switch::ThreadSwitchTest,
    &osnoise::OsnoiseTest,
    &wakeup::WakeupTest,
    &timerlat::TimerlatTest,
];

/// The test named `name`.
pub fn find(name: &str) -> Option<&'static dyn Test> {
    TESTS.iter().copied().find(|t| t.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixture;
    use crate::suite::test::TestResult;

    /// `--out DIR --force` removes exactly [`Test::files`]: every file a result writes must
    /// be listed there, or a second run would leave the first one's beside its own.
    #[test]
    fn every_file_a_result_writes_is_listed() {
        let env = fixture::environment(None, false, false);
        let results: [&dyn TestResult; 2] = [
            &fixture::clock_tick(&env, 68_000, 90_000),
            &fixture::thread_switch(&env, &[(2, [400.0, 500.0, 900.0])]),
        ];
        for result in results {
            let test = find(result.name()).unwrap();
            let mut written = vec![format!("{}.json", result.name())];
            result
                .extra_files(&mut |file, _| {
                    written.push(file.to_string());
                    Ok(())
                })
                .unwrap();
            for file in &written {
                assert!(test.files().contains(&file.as_str()), "{file} not listed");
            }
        }
        for test in TESTS {
            assert_eq!(test.files()[0], test.file());
            assert!(test.files().iter().all(|f| f.starts_with(test.name())));
        }
    }
}
