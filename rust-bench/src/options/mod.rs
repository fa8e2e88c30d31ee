//! One home for the rules of every option: each option is one type with one parser, one
//! range and one default, used alike by the command line (clap `value_parser`) and by
//! `bench.conf`, so that `run --check` refuses exactly what a test would refuse.
//!
//! Error texts name the value and the allowed range, without the option's name: clap
//! prefixes them with the flag (`invalid value '20000' for '--threads'`), the config with
//! the file, line and key (`bench.conf line 4: thread_switch.threads: 20000 is out of range
//! (2 to 10000)`).
//!
//! Sizes: `kB`/`KB`, `MB`, `GB` are SI (powers of 1000), `KiB`, `MiB`, `GiB` powers of 1024,
//! everywhere; a bare number is bytes.
//!
//! Below the tests and loads that use these types: the one link up, to [`crate::load::size`],
//! is documentation (what `auto` means), not an import.

pub mod duration;

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::error::quote;
use crate::results::run::{Label, Scenario};
use crate::results::trace::TraceReader;

/// A whole number; a single `_` between two digits may group them (`50_000_000`).
fn whole(s: &str, example: &str) -> Result<u64, String> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err(format!("{} cannot be negative; give {example}", quote(t)));
    }
    if t.is_empty()
        || !t
            .split('_')
            .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()))
    {
        let hint = if t.contains('_') {
            " ('_' may only stand between two digits, as in 50_000_000)"
        } else {
            ""
        };
        return Err(format!(
            "{} is not a whole number{hint}; give {example}",
            quote(t)
        ));
    }
    let digits: String = t.chars().filter(|c| *c != '_').collect();
    digits
        .parse()
        .map_err(|_| format!("{} is too large; give {example}", quote(t)))
}

/// A finite decimal number of microseconds.
fn micros(s: &str, example: &str) -> Result<f64, String> {
    let t = s.trim();
    let value: f64 = t
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| {
            format!(
                "{} is not a number of microseconds; give {example}",
                quote(t)
            )
        })?;
    if value < 0.0 {
        return Err(format!("{} cannot be negative; give {example}", quote(t)));
    }
    Ok(value)
}

/// The one style of every range error: `100 is out of range (1 to 99)`.
fn out_of_range(
    value: impl fmt::Display,
    min: impl fmt::Display,
    max: impl fmt::Display,
) -> String {
    let value = value.to_string();
    let value = match value.chars().count() {
        n if n > crate::error::QUOTE_MAX => quote(&value),
        _ => value,
    };
    format!("{value} is out of range ({min} to {max})")
}

/// A whole number from `min` to `max`: the parser of a plain numeric flag (`--burst-ms`,
/// `--gap-us`), with the same messages as the options' own types.
pub fn whole_in(
    min: u64,
    max: u64,
) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync + 'static {
    move |s| {
        let n = whole(s, &format!("a whole number from {min} to {max}"))?;
        if !(min..=max).contains(&n) {
            return Err(out_of_range(n, min, max));
        }
        Ok(n)
    }
}

/// The CPU a test or a load is pinned to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Cpu(pub usize);

impl Cpu {
    pub const DEFAULT: Cpu = Cpu(0);
    /// The kernel's CPU_SETSIZE: affinity masks hold CPUs 0 to 1023.
    pub const MAX: usize = 1023;

    pub fn parse(s: &str) -> Result<Cpu, String> {
        let n = whole(s, "a CPU number such as 0")?;
        if n > Self::MAX as u64 {
            return Err(out_of_range(n, 0, Self::MAX));
        }
        Ok(Cpu(n as usize))
    }

    /// Refuse a CPU that is not online or not allowed to this process (what the
    /// measurement refuses when it pins itself).
    pub fn check_usable(self) -> Result<(), String> {
        crate::platform::rt::check_cpu(self.0).map_err(|e| e.to_string())
    }
}

/// SCHED_FIFO priority of the measuring threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Priority(pub i32);

impl Priority {
    pub const DEFAULT: Priority = Priority(99);
    pub const MIN: i32 = 1;
    pub const MAX: i32 = 99;

    pub fn parse(s: &str) -> Result<Priority, String> {
        let n = whole(s, "a SCHED_FIFO priority from 1 to 99")?;
        if !(Self::MIN as u64..=Self::MAX as u64).contains(&n) {
            return Err(out_of_range(n, Self::MIN, Self::MAX));
        }
        Ok(Priority(n as i32))
    }
}

/// Threads of one thread-switch run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Threads(pub usize);

impl Threads {
    /// A switch needs two threads.
    pub const MIN: usize = 2;
    /// Most threads one run may use.
    pub const MAX: usize = 10_000;

    pub fn parse(s: &str) -> Result<Threads, String> {
        let n = whole(s, "thread counts such as 2, 1000")?;
        if !(Self::MIN as u64..=Self::MAX as u64).contains(&n) {
            return Err(out_of_range(n, Self::MIN, Self::MAX));
        }
        Ok(Threads(n as usize))
    }

    /// A comma-separated list (bench.conf; clap splits the list itself).
    pub fn parse_list(s: &str) -> Result<Vec<Threads>, String> {
        s.split(',').map(Threads::parse).collect()
    }
}

/// How many samples or switches a test takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Count(pub u64);

impl Count {
    pub fn parse(s: &str) -> Result<Count, String> {
        let n = whole(s, "a whole number such as 1000000")?;
        if n == 0 {
            return Err(format!("{n} is out of range (at least 1)"));
        }
        Ok(Count(n))
    }
}

/// The clock-tick busy loop in microseconds (0: back-to-back timestamps).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct LoopUs(pub f64);

impl LoopUs {
    pub const DEFAULT: LoopUs = LoopUs(68.0);
    /// 100 ms: longer loops are not a clock tick measurement any more.
    pub const MAX: f64 = 100_000.0;

    pub fn parse(s: &str) -> Result<LoopUs, String> {
        let v = micros(s, "microseconds such as 68")?;
        if v > Self::MAX {
            return Err(out_of_range(v, 0, Self::MAX));
        }
        Ok(LoopUs(v))
    }

    pub fn ns(self) -> u64 {
        (self.0 * 1000.0).round() as u64
    }
}

impl fmt::Display for LoopUs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The clock-tick spike threshold in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ThresholdUs(pub f64);

impl ThresholdUs {
    pub const DEFAULT: ThresholdUs = ThresholdUs(20.0);
    /// The smallest threshold that is still a whole nanosecond.
    pub const MIN: f64 = 0.001;
    pub const MAX: f64 = 1_000_000.0;

    pub fn parse(s: &str) -> Result<ThresholdUs, String> {
        let v = micros(s, "microseconds such as 20")?;
        if !(Self::MIN..=Self::MAX).contains(&v) {
            return Err(out_of_range(v, Self::MIN, Self::MAX));
        }
        Ok(ThresholdUs(v))
    }

    pub fn ns(self) -> u64 {
        ((self.0 * 1000.0).round() as u64).max(1)
    }
}

impl fmt::Display for ThresholdUs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

// A test's pass/fail threshold (`--fail-above-us`, `<test>.fail_above_us` in a plan): the
// same option in every latency test, flattened into its section. (Not a doc comment: clap
// would take it as the about line of every subcommand it is flattened into.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, clap::Args)]
pub struct FailAboveUs {
    /// Fail above this many microseconds (1 to 10000000): count the test's values above
    /// it and record how many and the first (when, and how large) in the result's
    /// `fail_above`. The run completes; when any value crossed it, rust-bench exits with
    /// status 3.
    #[arg(long, value_name = "US", value_parser = FailAboveUs::parse)]
    pub fail_above_us: Option<u64>,
}

impl FailAboveUs {
    pub const MIN: u64 = 1;
    /// 10 s.
    pub const MAX: u64 = 10_000_000;

    pub fn parse(s: &str) -> Result<u64, String> {
        let n = whole(s, "microseconds such as 100")?;
        if !(Self::MIN..=Self::MAX).contains(&n) {
            return Err(out_of_range(n, Self::MIN, Self::MAX));
        }
        Ok(n)
    }
}

/// A size in bytes: `kB`/`KB`, `MB`, `GB` are powers of 1000 (SI), `KiB`, `MiB`, `GiB`
/// powers of 1024, a bare number (or `B`) is bytes. Units are not case-sensitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Size(pub u64);

impl Size {
    /// The paper's memory load: 9 MiB.
    pub const DEFAULT: Size = Size(9 << 20);
    pub const MAX: u64 = 64 << 30;

    pub fn parse(s: &str) -> Result<Size, String> {
        let hint = "write a number and a unit, e.g. 9MiB (9437184 bytes) or 9MB (9000000 bytes)";
        let t = s.trim();
        if t.starts_with('-') {
            return Err(format!("{} cannot be negative; {hint}", quote(t)));
        }
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let value: f64 = number
            .parse()
            .map_err(|_| format!("{} is not a size; {hint}", quote(t)))?;
        let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1.0,
            "kb" => 1e3,
            "mb" => 1e6,
            "gb" => 1e9,
            "kib" => 1024.0,
            "mib" => 1024.0 * 1024.0,
            "gib" => 1024.0 * 1024.0 * 1024.0,
            _ => {
                return Err(format!(
                    "{} has an unknown unit {}; {hint}",
                    quote(t),
                    quote(unit.trim())
                ));
            }
        };
        let bytes = (value * scale).round();
        if !(1.0..=Self::MAX as f64).contains(&bytes) {
            return Err(format!("{} is out of range (1 B to 64 GiB)", quote(t)));
        }
        Ok(Size(bytes as u64))
    }
}

impl fmt::Display for Size {
    /// The way [`Size::parse`] reads it: `9MiB`, `512KiB`, or bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
            if self.0 >= 1 << shift && self.0.is_multiple_of(1 << shift) {
                return write!(f, "{}{unit}", self.0 >> shift);
            }
        }
        write!(f, "{}", self.0)
    }
}

/// The rule of a run's [`Scenario`] (the type is the results': `run.json` records it).
impl Scenario {
    pub const MIN: u8 = 1;
    pub const MAX: u8 = 7;

    pub fn parse(s: &str) -> Result<Scenario, String> {
        let n = whole(s, "the paper's scenario number, 1 to 7")?;
        if !(Self::MIN as u64..=Self::MAX as u64).contains(&n) {
            return Err(out_of_range(n, Self::MIN, Self::MAX));
        }
        Ok(Scenario(n as u8))
    }
}

/// The rule of a run's [`Label`] (the type is the results': `run.json` records it).
impl Label {
    /// Characters, so a label stays a column heading.
    pub const MAX: usize = 80;

    pub fn parse(s: &str) -> Result<Label, String> {
        let t = s.trim();
        let n = t.chars().count();
        if n == 0 || n > Self::MAX {
            return Err(format!(
                "{} has {n} characters; give a short name of 1 to {} characters",
                quote(t),
                Self::MAX
            ));
        }
        if t.chars().any(char::is_control) {
            return Err("control characters are not allowed in a label".to_string());
        }
        Ok(Label(t.to_string()))
    }
}

/// The memory load's buffer size: `auto` (twice the last-level cache, capped by the
/// available memory: [`crate::load::size`]) or a fixed [`Size`] such as the paper's `9MB`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MemorySize {
    #[default]
    Auto,
    Fixed(Size),
}

impl MemorySize {
    pub fn parse(s: &str) -> Result<MemorySize, String> {
        if s.trim().eq_ignore_ascii_case("auto") {
            return Ok(MemorySize::Auto);
        }
        Size::parse(s)
            .map(MemorySize::Fixed)
            .map_err(|m| format!("{m}; or auto (twice the last-level cache)"))
    }

    pub fn fixed(self) -> Option<Size> {
        match self {
            MemorySize::Auto => None,
            MemorySize::Fixed(s) => Some(s),
        }
    }
}

impl fmt::Display for MemorySize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemorySize::Auto => f.write_str("auto"),
            MemorySize::Fixed(s) => write!(f, "{s}"),
        }
    }
}

/// `"auto"`, or the bytes as a number.
impl Serialize for MemorySize {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            MemorySize::Auto => s.serialize_str("auto"),
            MemorySize::Fixed(size) => s.serialize_u64(size.0),
        }
    }
}

/// A duration above zero (`500ms`, `5s`, `10m`, `1h30m`; a bare number is seconds).
pub fn positive_duration(s: &str) -> Result<Duration, String> {
    let d = crate::options::duration::parse(s)?;
    if d.is_zero() {
        return Err(format!(
            "{} must be longer than zero; e.g. 10s",
            quote(s.trim())
        ));
    }
    Ok(d)
}

/// The shortest time a test may be asked to measure: clock-tick's longest sample (a busy
/// loop of [`LoopUs::MAX`], 100 ms), so that every test can take at least one sample
/// whatever its other settings. A shorter duration would measure nothing.
pub const MIN_TEST_DURATION: Duration = Duration::from_millis(100);

/// How long a test measures (each test's `--duration`, in a plan too): at least
/// [`MIN_TEST_DURATION`].
pub fn test_duration(s: &str) -> Result<Duration, String> {
    let d = crate::options::duration::parse(s)?;
    if d < MIN_TEST_DURATION {
        return Err(format!(
            "'{}' is out of range (at least 100ms, so that any test can take a sample); e.g. 10s",
            s.trim()
        ));
    }
    Ok(d)
}

/// How long a load runs: a duration above zero, or `forever` (`None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Until(pub Option<Duration>);

impl Until {
    pub fn parse(s: &str) -> Result<Until, String> {
        if s.trim().eq_ignore_ascii_case("forever") {
            return Ok(Until(None));
        }
        positive_duration(s)
            .map(|d| Until(Some(d)))
            .map_err(|m| format!("{m}, or forever"))
    }
}

/// Whether clock-tick attributes its spikes to their causes from the kernel's trace
/// (`--attribute`, in a plan too).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Attribute {
    /// No tracing.
    #[default]
    Off,
    /// Trace and attribute; fail before measuring when tracing is not available.
    On,
    /// Trace and attribute where tracing is available; otherwise measure without (said on
    /// stderr).
    Auto,
}

impl Attribute {
    pub fn parse(s: &str) -> Result<Attribute, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "on" | "yes" | "true" => Ok(Attribute::On),
            "off" | "no" | "false" => Ok(Attribute::Off),
            "auto" => Ok(Attribute::Auto),
            _ => Err(format!("{} is not on, off or auto", quote(s.trim()))),
        }
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Attribute::Off => "off",
            Attribute::On => "on",
            Attribute::Auto => "auto",
        })
    }
}

/// An option that is the same flag wherever it is taken (each test's subcommand, a plan's
/// plan-wide key): its type is flattened into a command (`#[command(flatten)] cpu: Cpu`),
/// which gets `--$long` with this help, default and parser.
macro_rules! flag {
    ($t:ty, $long:literal, $value_name:literal, $help:expr, $default:expr, $parser:expr) => {
        impl $t {
            /// Its flag's long name, which is its key in a plan too.
            pub const LONG: &'static str = $long;
        }

        impl clap::FromArgMatches for $t {
            fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
                m.get_one::<$t>($long).copied().ok_or_else(|| {
                    clap::Error::raw(
                        clap::error::ErrorKind::MissingRequiredArgument,
                        concat!("--", $long, " has no value"),
                    )
                })
            }

            fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
                *self = Self::from_arg_matches(m)?;
                Ok(())
            }
        }

        impl clap::Args for $t {
            fn augment_args(cmd: clap::Command) -> clap::Command {
                static DEFAULT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                let default: &'static str = DEFAULT.get_or_init(|| {
                    let default: $t = $default;
                    default.to_string()
                });
                cmd.arg(
                    clap::Arg::new($long)
                        .long($long)
                        .value_name($value_name)
                        .help($help)
                        .default_value(default)
                        .value_parser($parser),
                )
            }

            fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
                Self::augment_args(cmd)
            }
        }
    };
}

flag!(
    Cpu,
    "cpu",
    "CPU",
    format!("CPU to measure on (an online CPU, 0 to {})", Cpu::MAX),
    Cpu::DEFAULT,
    Cpu::parse
);
flag!(
    Priority,
    "priority",
    "PRIORITY",
    format!(
        "SCHED_FIFO priority of the measuring threads ({} to {})",
        Priority::MIN,
        Priority::MAX
    ),
    Priority::DEFAULT,
    Priority::parse
);
flag!(
    TraceReader,
    "trace-reader",
    "TRACE_READER",
    "How the kernel's trace is read: `auto` (binary pages where the kernel's layouts can be \
     read, else text), `binary`, or `text` (to compare their cost)",
    TraceReader::Auto,
    clap::builder::EnumValueParser::<TraceReader>::new()
);

macro_rules! display_inner {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    )*};
}
display_inner!(Cpu, Priority, Threads, Count, Scenario, Label);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(Priority::parse("99"), Ok(Priority(99)));
        assert_eq!(
            Priority::parse("100").unwrap_err(),
            "100 is out of range (1 to 99)"
        );
        assert_eq!(
            Threads::parse("20000").unwrap_err(),
            "20000 is out of range (2 to 10000)"
        );
        assert_eq!(Threads::parse(" 10000 "), Ok(Threads(10_000)));
        assert!(Threads::parse("1").is_err());
        assert_eq!(
            LoopUs::parse("500000").unwrap_err(),
            "500000 is out of range (0 to 100000)"
        );
        assert_eq!(LoopUs::parse("0").unwrap().ns(), 0);
        assert!(LoopUs::parse("-1").unwrap_err().contains("negative"));
        assert!(ThresholdUs::parse("0").is_err());
        assert_eq!(FailAboveUs::parse("1_000"), Ok(1000));
        assert_eq!(
            FailAboveUs::parse("10000001").unwrap_err(),
            "10000001 is out of range (1 to 10000000)"
        );
        assert!(FailAboveUs::parse("0").is_err());
        assert_eq!(ThresholdUs::parse("2.5").unwrap().ns(), 2500);
        assert!(Cpu::parse("1024").is_err());
        assert_eq!(Cpu::parse("3"), Ok(Cpu(3)));
        assert_eq!(Count::parse("50_000_000"), Ok(Count(50_000_000)));
        assert_eq!(Count::parse("5000_0000"), Ok(Count(50_000_000)));
        assert!(Count::parse("0").is_err());
        for bad in ["_5__0", "5__0", "_50", "50_", "5_0_", "_", "5 0", "5_x"] {
            let err = Count::parse(bad).unwrap_err();
            assert!(err.contains("is not a whole number"), "{bad}: {err}");
        }
        assert!(
            Count::parse("_5__0")
                .unwrap_err()
                .contains("'_' may only stand between two digits")
        );
        assert!(Cpu::parse("1_").is_err());
        assert_eq!(test_duration("100ms"), Ok(Duration::from_millis(100)));
        for short in ["1ns", "1ms", "99ms", "0"] {
            let err = test_duration(short).unwrap_err();
            assert!(
                err.contains("out of range (at least 100ms"),
                "{short}: {err}"
            );
        }
        assert!(
            positive_duration("0s")
                .unwrap_err()
                .contains("longer than zero")
        );
        assert_eq!(Until::parse("Forever"), Ok(Until(None)));
        assert_eq!(Until::parse("3s"), Ok(Until(Some(Duration::from_secs(3)))));
        assert!(Until::parse("0").is_err());
        assert_eq!(Scenario::parse("3"), Ok(Scenario(3)));
        assert_eq!(
            Scenario::parse("8").unwrap_err(),
            "8 is out of range (1 to 7)"
        );
        assert!(Scenario::parse("0").is_err());
        assert_eq!(
            Label::parse(" enlightened ").unwrap(),
            Label("enlightened".into())
        );
        assert!(Label::parse(&"x".repeat(81)).is_err());
        assert_eq!(Attribute::parse(" On "), Ok(Attribute::On));
        assert_eq!(Attribute::parse("auto"), Ok(Attribute::Auto));
        assert_eq!(
            Attribute::parse("maybe").unwrap_err(),
            "'maybe' is not on, off or auto"
        );
    }

    #[test]
    fn offline_cpus_are_refused() {
        let usable = crate::platform::rt::usable_cpus();
        if let Some(&last) = usable.last() {
            assert!(Cpu(last).check_usable().is_ok());
            let msg = Cpu(Cpu::MAX).check_usable().unwrap_err();
            assert!(msg.contains("not online"), "{msg}");
        }
    }

    #[test]
    fn mb_is_si_mib_is_binary() {
        assert_eq!(Size::parse("9MB"), Ok(Size(9_000_000)));
        assert_eq!(Size::parse("9mb"), Ok(Size(9_000_000)));
        assert_eq!(Size::parse("9 MiB"), Ok(Size(9 << 20)));
        assert_eq!(Size::parse("512KiB"), Ok(Size(512 << 10)));
        assert_eq!(Size::parse("1kB"), Ok(Size(1000)));
        assert_eq!(Size::parse("4096"), Ok(Size(4096)));
        for size in [
            Size::DEFAULT,
            Size(512 << 10),
            Size(9_000_000),
            Size(1 << 30),
        ] {
            assert_eq!(Size::parse(&size.to_string()), Ok(size));
        }
        assert_eq!(Size::DEFAULT.to_string(), "9MiB");
        assert_eq!(MemorySize::parse("Auto"), Ok(MemorySize::Auto));
        assert_eq!(
            MemorySize::parse("9MB"),
            Ok(MemorySize::Fixed(Size(9_000_000)))
        );
        assert!(MemorySize::parse("9M").unwrap_err().contains("or auto"));
        for bad in ["", "MiB", "9M", "9 parsecs", "0", "-1MiB", "100GiB"] {
            assert!(Size::parse(bad).is_err(), "{bad} should not parse");
        }
    }
}
