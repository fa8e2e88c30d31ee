//! The run configuration (`bench.conf` on the appliance's FAT partition).
//!
//! One `key = value` per line, `#` starts a comment, blank lines are ignored. Files edited on
//! Windows work as they are: CRLF line ends and a UTF-8 byte order mark are accepted. Every
//! problem is reported as one line naming the file, the line, what is wrong and how to fix
//! it. `docs/config.md` documents every key (a test below compares them).
//!
//! Every key is an option of a command line, with its one parser, range and default: a
//! plan-wide key (`cpu = 1`) is an argument of [`Plan`]'s own command (`--cpu=1`), a key of a
//! test's section (`clock_tick.loop_us = 68`) an argument of that test's subcommand
//! (`clock-tick --loop-us=68`, see [`Test::section`]), which is given the plan-wide keys it
//! has flags for too (`--cpu`) and the plan's own defaults ([`Test::plan_defaults`]). So the
//! file is checked by the command line's rules, once, when it is read. This module knows no
//! test by name: it reaches them through [`suite::TESTS`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use clap::{ArgAction, Args as ClapArgs, FromArgMatches};
use serde::Serialize;

use crate::error::quote;
use crate::options::duration;
use crate::options::{self, Cpu, MemorySize, Priority, Until};
use crate::results::run::{Label, Scenario};
use crate::results::trace::TraceReader;
use crate::suite::test::{Hang, Part, Planned, Test, plan_key, section_name};
use crate::suite::{self, TESTS};

/// The plan-wide keys this module and `rust-bench run` name in their own checks and
/// messages; each is its argument's long name below, and so its key.
pub const TIMEOUT: &str = "timeout";
pub const LOAD_DURATION: &str = "load.duration";
pub const RT_THROTTLING: &str = "rt_throttling";

/// What this machine does when it boots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Run the listed tests and write results.
    Test,
    /// Burn the CPU in a loop (a load VM).
    CpuLoad,
    /// Copy memory in a loop (a load VM).
    MemoryLoad,
}

impl Role {
    fn parse(v: &str) -> Result<Role, String> {
        match v.trim().to_ascii_lowercase().as_str() {
            "test" => Ok(Role::Test),
            "cpu-load" => Ok(Role::CpuLoad),
            "memory-load" => Ok(Role::MemoryLoad),
            _ => Err(format!(
                "{} is not a role; use test, cpu-load or memory-load",
                quote(v.trim())
            )),
        }
    }
}

/// What to do with the kernel's RT throttling for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RtThrottling {
    /// Lift it (and the fair_server reservation) for the run, restore it afterwards.
    Off,
    /// Leave the kernel's settings as they are.
    Keep,
}

impl RtThrottling {
    fn parse(v: &str) -> Result<RtThrottling, String> {
        match v.trim().to_ascii_lowercase().as_str() {
            "off" => Ok(RtThrottling::Off),
            "keep" => Ok(RtThrottling::Keep),
            _ => Err(format!("{} is not off or keep", quote(v.trim()))),
        }
    }
}

fn yes_no(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err(format!("{} is not yes or no", quote(v.trim()))),
    }
}

/// The tests a plan runs, in order (`tests = clock-tick, thread-switch`).
#[derive(Clone)]
pub struct Tests(pub Vec<&'static dyn Test>);

impl Tests {
    /// Those of [`suite::TESTS`] a plan runs unless it lists its own.
    fn default_plan() -> Tests {
        Tests(
            TESTS
                .iter()
                .copied()
                .filter(|t| t.in_default_plan())
                .collect(),
        )
    }

    /// Test names, separated by commas, not case-sensitive.
    fn parse(v: &str) -> Result<Tests, String> {
        let mut tests: Vec<&'static dyn Test> = Vec::new();
        for item in v.split(',').map(str::trim) {
            if item.is_empty() {
                return Err("empty entry in the test list; separate test names with commas".into());
            }
            let Some(test) = suite::find(&item.to_ascii_lowercase()) else {
                let names: Vec<&str> = TESTS.iter().map(|t| t.name()).collect();
                let (last, others) = names.split_last().unwrap_or((&"", &[]));
                return Err(format!(
                    "unknown test {}; use {} and/or {last}, separated by commas",
                    quote(item),
                    others.join(", ")
                ));
            };
            if tests.iter().any(|t| t.name() == test.name()) {
                return Err(format!(
                    "test '{}' is listed twice; list each test once",
                    test.name()
                ));
            }
            tests.push(test);
        }
        Ok(Tests(tests))
    }

    fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|t| t.name()).collect()
    }
}

impl fmt::Display for Tests {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(", "))
    }
}

impl fmt::Debug for Tests {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl Serialize for Tests {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.names())
    }
}

/// A parsed, validated `bench.conf`: its plan-wide keys, each an argument of this struct's
/// command (`memory_load.size` is `--memory-load.size`), and the sections of the tests it
/// lists. Serialized ([`Plan::to_json`]) as `run.json` records it.
#[derive(Debug, ClapArgs, Serialize)]
pub struct Plan {
    /// What this machine does.
    #[arg(long, default_value = "test", value_parser = Role::parse)]
    pub role: Role,
    /// The tests to run, in order.
    #[arg(long, default_value_t = Tests::default_plan(), value_parser = Tests::parse)]
    pub tests: Tests,
    // The CPU the tests (or the load) are pinned to.
    #[command(flatten)]
    pub cpu: Cpu,
    #[command(flatten)]
    pub priority: Priority,
    // How the tests that read the kernel's trace read it.
    #[command(flatten)]
    pub trace_reader: TraceReader,
    /// Bytes copied per round by the memory load (`auto`: from the machine's cache).
    #[arg(long = "memory-load.size", default_value_t = MemorySize::Auto, value_parser = MemorySize::parse)]
    pub memory_load_size: MemorySize,
    /// How long a load runs (`forever`: until the timeout).
    #[arg(long = LOAD_DURATION, default_value = "forever", value_parser = Until::parse)]
    #[serde(serialize_with = "ser_until")]
    pub load_duration: Until,
    /// Lift RT throttling for a test run (a plan's default, where the command line keeps
    /// the machine's settings unless asked).
    #[arg(long = RT_THROTTLING, default_value = "off", value_parser = RtThrottling::parse)]
    pub rt_throttling: RtThrottling,
    #[arg(long, action = ArgAction::Set, default_value = "yes", value_parser = yes_no)]
    pub poweroff: bool,
    /// Hard bound on the whole run.
    #[arg(long = TIMEOUT, default_value = "3h", value_parser = options::positive_duration)]
    #[serde(serialize_with = "crate::suite::test::ser_duration")]
    pub timeout: Duration,
    /// The paper's scenario (1-7) this run belongs to, if any.
    #[arg(long, value_parser = Scenario::parse)]
    pub scenario: Option<Scenario>,
    /// A free name for the run.
    #[arg(long, value_parser = Label::parse)]
    pub label: Option<Label>,
    /// The listed tests as the plan runs them, in order; recorded each under its
    /// section's name.
    #[arg(skip)]
    #[serde(flatten, serialize_with = "ser_sections")]
    pub planned: Vec<Box<dyn Planned>>,
}

fn ser_sections<S: serde::Serializer>(
    planned: &[Box<dyn Planned>],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(
        planned
            .iter()
            .map(|p| (section_name(p.test().name()), p.to_json())),
    )
}

fn ser_until<S: serde::Serializer>(u: &Until, s: S) -> Result<S::Ok, S::Error> {
    match u.0 {
        Some(d) => s.serialize_str(&duration::format(d)),
        None => s.serialize_str("forever"),
    }
}

impl Default for Plan {
    /// The plan of an empty file: every key at its default (docs/config.md); also what
    /// `board/hyperv/bench.conf` spells out.
    fn default() -> Self {
        parse("bench.conf", b"").expect("the defaults make a plan")
    }
}

impl PartialEq for Plan {
    /// Plans are equal when they would run alike: their records are.
    fn eq(&self, other: &Plan) -> bool {
        self.to_json() == other.to_json()
    }
}

/// What a test takes beyond its measuring time: calibrating, starting its threads,
/// writing its files (1 to 2 s on the machines this was written on).
pub const START_UP: Duration = Duration::from_secs(5);

impl Plan {
    /// The plan as `run.json` records it: every plan-wide key, and each listed test's
    /// section under the section's name.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The listed test the plan makes hang (a knob for the watchdogs' tests), if any.
    pub fn hang(&self) -> Option<(&'static str, Hang)> {
        self.planned
            .iter()
            .find(|p| p.hang() != Hang::No)
            .map(|p| (p.test().name(), p.hang()))
    }

    /// The plan's parts, in the order they run.
    pub fn parts(&self) -> Vec<Part> {
        match self.role {
            Role::CpuLoad | Role::MemoryLoad => {
                let name = if self.role == Role::CpuLoad {
                    "cpu load"
                } else {
                    "memory load"
                };
                let (amount, length) = match self.load_duration.0 {
                    Some(d) => (format!("for {}", duration::format(d)), Some(d)),
                    None => ("until the timeout".to_string(), None),
                };
                vec![Part {
                    name: name.to_string(),
                    amount,
                    length,
                    estimate: false,
                }]
            }
            Role::Test => self.planned.iter().map(|p| p.part()).collect(),
        }
    }

    /// About how long the plan takes: every part's length plus [`START_UP`] each, and
    /// whether some part's length is not known (then the plan takes longer).
    pub fn expected_length(&self) -> (Duration, bool) {
        let parts = self.parts();
        let known = parts.iter().filter_map(|p| p.length).sum::<Duration>();
        let unknown = parts.iter().any(|p| p.length.is_none());
        (known + START_UP * parts.len() as u32, unknown)
    }

    /// Refuse a plan that would fail at its timeout: one whose expected length reaches it.
    /// A plan made to hang is meant to, and a load that runs until the timeout ends there.
    fn check_timeout(&self) -> Result<(), String> {
        let until_timeout = self.role != Role::Test && self.load_duration.0.is_none();
        if self.hang().is_some() || until_timeout {
            return Ok(());
        }
        let (expected, _) = self.expected_length();
        if expected < self.timeout {
            return Ok(());
        }
        let parts: String = self
            .parts()
            .into_iter()
            .filter_map(|p| Some(format!("{} {}, ", p.name, approx(p.length?))))
            .collect();
        Err(format!(
            "{} is not longer than the plan's expected length, about {} ({parts}and about {} a part to start and write its files); raise {TIMEOUT} to {} or more, or shorten {}",
            duration::format(self.timeout),
            approx(expected),
            approx(START_UP),
            approx(round_up(expected.mul_f64(1.1))),
            if self.role == Role::Test {
                "the tests"
            } else {
                LOAD_DURATION
            }
        ))
    }
}

/// A length for people: whole seconds in hours, minutes and seconds (`1h1m8s`, `57m54s`,
/// `9s`).
pub fn approx(d: Duration) -> String {
    let s = d.as_secs_f64().ceil() as u64;
    let parts = [(s / 3600, "h"), (s / 60 % 60, "m"), (s % 60, "s")];
    let text: String = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if text.is_empty() {
        "0s".to_string()
    } else {
        text
    }
}

/// Rounded up to a whole minute from ten minutes on, else to a whole second.
fn round_up(d: Duration) -> Duration {
    let s = d.as_secs_f64().ceil() as u64;
    Duration::from_secs(if s >= 600 { s.div_ceil(60) * 60 } else { s })
}

/// The command whose arguments are the plan-wide keys.
fn plan_command() -> clap::Command {
    Plan::augment_args(clap::Command::new("bench.conf"))
}

/// The arguments of `cmd` that take a value, by their long name.
fn value_args(cmd: &clap::Command) -> impl Iterator<Item = (&str, &clap::Arg)> {
    cmd.get_arguments()
        .filter(|a| a.get_action().takes_values())
        .filter_map(|a| Some((a.get_long()?, a)))
}

/// One key of the file: an argument of the plan's command or of a test's.
struct Key {
    /// As the file spells it: `cpu`, `memory_load.size`, `clock_tick.loop_us`.
    name: String,
    /// The test whose section holds it; None for a plan-wide key.
    test: Option<&'static dyn Test>,
    /// Its argument's long name: `cpu`, `memory-load.size`, `loop-us`.
    long: String,
    /// A knob for tests, accepted but neither listed in messages nor documented.
    hidden: bool,
}

impl Key {
    /// The command whose argument it is.
    fn command(&self) -> clap::Command {
        match self.test {
            Some(test) => test.command(),
            None => plan_command(),
        }
    }

    /// Check a value with the key's own parser, as the command line would; the error is
    /// the option's message, without the key.
    fn check(&self, value: &str) -> Result<(), String> {
        parse_args(&self.command(), [arg(&self.long, value)]).map(drop)
    }

    /// Its default in a plan, as the file would spell it: the plan's own
    /// ([`Test::plan_defaults`]), else none when it is excluded by one of those (a plan
    /// that counts a test's samples by default has no default duration), else its flag's.
    fn plan_default(&self) -> Option<String> {
        if let Some(test) = self.test {
            let defaults = test.plan_defaults();
            if let Some((_, value)) = defaults.iter().find(|(l, _)| *l == self.long) {
                return Some(value.to_string());
            }
            let cmd = test.command();
            if defaults.iter().any(|(l, _)| excludes(&cmd, l, &self.long)) {
                return None;
            }
        }
        let cmd = self.command();
        let (_, arg) = value_args(&cmd).find(|(l, _)| *l == self.long)?;
        let values: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    }

    /// Whether it and `other` exclude each other (`clock_tick.samples`, `.duration`).
    fn excludes(&self, other: &Key) -> bool {
        let same = match (self.test, other.test) {
            (Some(a), Some(b)) => a.name() == b.name(),
            (None, None) => true,
            _ => false,
        };
        same && excludes(&self.command(), &self.long, &other.long)
    }
}

/// Whether the arguments `a` and `b` of `cmd` exclude each other (either says so).
fn excludes(cmd: &clap::Command, a: &str, b: &str) -> bool {
    let find = |long: &str| {
        value_args(cmd)
            .find(|(l, _)| *l == long)
            .map(|(_, arg)| arg)
    };
    let (Some(a), Some(b)) = (find(a), find(b)) else {
        return false;
    };
    let names = |x: &clap::Arg, y: &clap::Arg| {
        cmd.get_arg_conflicts_with(x)
            .iter()
            .any(|c| c.get_id() == y.get_id())
    };
    names(a, b) || names(b, a)
}

/// Every key: the plan-wide ones, then each test's section, in the order of
/// [`suite::TESTS`].
fn keys() -> Vec<Key> {
    let plan = plan_command();
    let mut keys: Vec<Key> = value_args(&plan)
        .map(|(long, a)| Key {
            name: long.replace('-', "_"),
            test: None,
            long: long.to_string(),
            hidden: a.is_hide_set(),
        })
        .collect();
    for &test in TESTS {
        let section = test.section();
        keys.extend(value_args(&section).map(|(long, a)| Key {
            name: plan_key(test.name(), long),
            test: Some(test),
            long: long.to_string(),
            hidden: a.is_hide_set(),
        }));
    }
    keys
}

/// `key = value` as a command line argument: `--key=value` (a negative number or a value
/// that starts with `-` stays the value).
fn arg(long: &str, value: &str) -> String {
    format!("--{long}={value}")
}

/// Parse `args` with `cmd`; a refusal is the option's own message (what its parser said,
/// or which values it takes).
fn parse_args(
    cmd: &clap::Command,
    args: impl IntoIterator<Item = String>,
) -> Result<clap::ArgMatches, String> {
    let argv = std::iter::once(cmd.get_name().to_string()).chain(args);
    cmd.clone().try_get_matches_from(argv).map_err(|e| {
        use clap::error::{ContextKind, ContextValue};
        if let Some(source) = std::error::Error::source(&e) {
            return source.to_string();
        }
        let context = |kind| match e.get(kind) {
            Some(ContextValue::String(s)) => Some(s.clone()),
            Some(ContextValue::Strings(v)) => Some(v.join(", ")),
            _ => None,
        };
        match (
            context(ContextKind::InvalidValue),
            e.get(ContextKind::ValidValue),
        ) {
            (Some(value), Some(ContextValue::Strings(valid))) => {
                let (last, others) = valid.split_last().map_or(("", &[][..]), |(l, o)| (l, o));
                let list = if others.is_empty() {
                    last.to_string()
                } else {
                    format!("{} or {last}", others.join(", "))
                };
                format!("{} is not {list}", quote(&value))
            }
            _ => e
                .kind()
                .as_str()
                .unwrap_or("not a valid command line")
                .to_string(),
        }
    })
}

/// A problem in the file: which line, what, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(n) => write!(f, "{} line {n}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Read and parse a config file; `machine`: for this machine (its CPU must be online). I/O
/// problems and bad content both become a [`ConfigError`].
pub fn load(path: &Path, machine: bool) -> Result<Plan, ConfigError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let bytes = std::fs::read(path).map_err(|e| ConfigError {
        file: path.display().to_string(),
        line: None,
        message: format!("cannot read it ({e}); check the path and that the disk is readable"),
    })?;
    parse_for(&name, &bytes, machine)
}

/// Parse the bytes of a config file; `file` names it in messages. Nothing is checked
/// against this machine (see [`load`]).
pub fn parse(file: &str, bytes: &[u8]) -> Result<Plan, ConfigError> {
    parse_for(file, bytes, false)
}

/// One `key = value` of the file.
struct Entry {
    /// Its key, in [`keys`].
    key: usize,
    line: usize,
    value: String,
}

/// Parse; `machine`: also check the plan against this machine.
fn parse_for(file: &str, bytes: &[u8], machine: bool) -> Result<Plan, ConfigError> {
    let err = |line: Option<usize>, message: String| ConfigError {
        file: file.to_string(),
        line,
        message,
    };
    let keys = keys();
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut entries: Vec<Entry> = Vec::new();
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let number = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text = std::str::from_utf8(raw).map_err(|e| {
            err(
                Some(number),
                format!(
                    "not text (invalid byte 0x{:02x} at column {}); save the file as plain text (UTF-8)",
                    raw[e.valid_up_to()],
                    e.valid_up_to() + 1
                ),
            )
        })?;
        if let Some(c) = text.chars().find(|c| c.is_control() && *c != '\t') {
            return Err(err(
                Some(number),
                format!(
                    "control character U+{:04X} in the line; save the file as plain text",
                    c as u32
                ),
            ));
        }
        // A `#` before the first `=` starts a comment: the line holds no key.
        let Some(eq) = text.find('=').filter(|&eq| !text[..eq].contains('#')) else {
            let content = text.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            return Err(err(
                Some(number),
                format!(
                    "expected 'key = value', found {}; add '=' or comment it out with '#'",
                    quote(content)
                ),
            ));
        };
        let name = text[..eq].trim();
        let Some(key) = keys.iter().position(|k| k.name == name) else {
            let listed: Vec<&str> = keys
                .iter()
                .filter(|k| !k.hidden)
                .map(|k| k.name.as_str())
                .collect();
            let lower = name.to_ascii_lowercase();
            let message = match listed.iter().find(|k| **k == lower) {
                Some(k) => format!(
                    "unknown key {}; keys are lower case: write '{k}'",
                    quote(name)
                ),
                None => format!(
                    "unknown key {}; use one of {} (see docs/config.md)",
                    quote(name),
                    listed.join(", ")
                ),
            };
            return Err(err(Some(number), message));
        };
        let known = &keys[key].name;
        let value = value_of(known, &text[eq + 1..])
            .map_err(|m| err(Some(number), format!("{known}: {m}")))?;
        if value.is_empty() {
            return Err(err(
                Some(number),
                format!("'{known}' has no value; give one or remove the line"),
            ));
        }
        if let Some(first) = entries.iter().find(|e| e.key == key) {
            return Err(err(
                Some(number),
                format!(
                    "'{known}' is already set on line {}; keep only one of the two lines",
                    first.line
                ),
            ));
        }
        entries.push(Entry {
            key,
            line: number,
            value,
        });
    }
    build(&entries, &keys, machine).map_err(|(line, message)| err(line, message))
}

/// The value after a key's `=`: the text up to a `#` (which starts a comment), trimmed; or
/// the text between two double quotes, which may hold a `#`, followed by nothing but
/// spaces and a comment. A quote anywhere else is refused rather than kept in the value.
fn value_of(key: &str, text: &str) -> Result<String, String> {
    let text = text.trim_start();
    let quote_fix =
        format!("put the whole value in double quotes ({key} = \"...\") or remove the quotes");
    if let Some(quoted) = text.strip_prefix('"') {
        let Some(end) = quoted.find('"') else {
            return Err(format!(
                "the value's opening quote is not closed; {quote_fix}"
            ));
        };
        let after = quoted[end + 1..].trim_start();
        if !after.is_empty() && !after.starts_with('#') {
            let stray = after.split('#').next().unwrap_or(after).trim_end();
            return Err(format!("'{stray}' follows the quoted value; {quote_fix}"));
        }
        return Ok(quoted[..end].to_string());
    }
    let value = text.split('#').next().unwrap_or("").trim();
    if value.contains('"') {
        return Err(format!("a quote inside the value '{value}'; {quote_fix}"));
    }
    Ok(value.to_string())
}

type Fail = (Option<usize>, String);

/// Turn the entries into a plan: each value checked by its own parser (in the file's
/// order, so the first mistake is the one named), then the keys that exclude each other,
/// then the plan-wide keys and every test's section parsed whole (a test's section is
/// checked whether or not the plan lists the test), then the plan's length against its
/// timeout. `machine`: also check what depends on this machine (the CPU is online).
fn build(entries: &[Entry], keys: &[Key], machine: bool) -> Result<Plan, Fail> {
    for e in entries {
        let key = &keys[e.key];
        key.check(&e.value)
            .map_err(|m| (Some(e.line), format!("{}: {m}", key.name)))?;
    }
    for (i, later) in entries.iter().enumerate() {
        if let Some(first) = entries[..i]
            .iter()
            .find(|e| keys[e.key].excludes(&keys[later.key]))
        {
            return Err((
                Some(later.line),
                format!(
                    "both {} (line {}) and {} (line {}) are set; keep one of them",
                    keys[first.key].name, first.line, keys[later.key].name, later.line
                ),
            ));
        }
    }
    let line_of = |name: &str| {
        entries
            .iter()
            .find(|e| keys[e.key].name == name)
            .map(|e| e.line)
    };
    let given = |test: Option<&'static str>| {
        entries
            .iter()
            .filter(move |e| keys[e.key].test.map(|t| t.name()) == test)
    };
    let plan_cmd = plan_command();
    let plan_args = given(None).map(|e| arg(&keys[e.key].long, &e.value));
    let matches = parse_args(&plan_cmd, plan_args).map_err(|m| (None, m))?;
    let mut plan = Plan::from_arg_matches(&matches).map_err(|e| (None, e.to_string()))?;
    if machine {
        plan.cpu
            .check_usable()
            .map_err(|m| (line_of(Cpu::LONG), format!("{}: {m}", Cpu::LONG)))?;
    }
    let mut sections = BTreeMap::new();
    for &test in TESTS {
        let cmd = test.command();
        let mine: Vec<&Entry> = given(Some(test.name())).collect();
        let mut args: Vec<String> = mine
            .iter()
            .map(|e| arg(&keys[e.key].long, &e.value))
            .collect();
        // The plan-wide keys it has a flag for (`--cpu`), as the plan has them.
        for (long, _) in value_args(&cmd) {
            let shared = value_args(&plan_cmd).find(|(l, _)| *l == long);
            if let Some(raw) = shared.and_then(|(_, a)| matches.get_raw(a.get_id().as_str())) {
                let values: Vec<String> = raw.map(|v| v.to_string_lossy().into_owned()).collect();
                args.push(arg(long, &values.join(",")));
            }
        }
        // The plan's own defaults, unless it sets the option or one that excludes it.
        for &(long, value) in test.plan_defaults() {
            let set = mine.iter().any(|e| {
                let given = &keys[e.key].long;
                given == long || excludes(&cmd, given, long)
            });
            if !set {
                args.push(arg(long, value));
            }
        }
        let section = section_name(test.name());
        let matches = parse_args(&cmd, args).map_err(|m| (None, format!("{section}: {m}")))?;
        sections.insert(test.name(), matches);
    }
    for test in &plan.tests.0 {
        let planned = test
            .planned(&sections[test.name()])
            .map_err(|e| (None, format!("{}: {e:#}", test.name())))?;
        plan.planned.push(planned);
    }
    plan.check_timeout()
        .map_err(|m| (line_of(TIMEOUT), format!("{TIMEOUT}: {m}")))?;
    Ok(plan)
}

/// A test's subcommand as the command line shows it: each option a plan sets says its key
/// in the help (`[bench.conf: clock_tick.loop_us]`) and the plan's default where it differs
/// from the flag's; each flag a plan-wide key feeds says that key.
pub fn test_command(test: &'static dyn Test) -> clap::Command {
    let keys = keys();
    let mut cmd = test.command();
    let notes: Vec<(String, String)> = value_args(&cmd)
        .filter(|(_, a)| !a.is_hide_set())
        .filter_map(|(long, a)| {
            let flag: Vec<String> = a
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect();
            let key = keys
                .iter()
                .find(|k| k.long == long && k.test.is_none_or(|t| t.name() == test.name()))?;
            let note = if key.test.is_some() {
                match key.plan_default() {
                    Some(v) if v == flag.join(",") => format!("[bench.conf: {}]", key.name),
                    Some(v) => format!("[bench.conf: {} = {v} by default]", key.name),
                    None if flag.is_empty() => format!("[bench.conf: {}]", key.name),
                    None => format!("[bench.conf: {}, unset by default]", key.name),
                }
            } else {
                format!("[bench.conf: {}, a plan-wide key]", key.name)
            };
            Some((a.get_id().to_string(), note))
        })
        .collect();
    for (id, note) in notes {
        cmd = cmd.mut_arg(id, |a| {
            let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            a.help(format!("{help} {note}"))
        });
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Until;

    fn ok(text: &str) -> Plan {
        parse("bench.conf", text.as_bytes()).unwrap()
    }

    fn fail(text: &[u8]) -> String {
        parse("bench.conf", text).unwrap_err().to_string()
    }

    /// A listed test's section, as run.json records it.
    fn section(plan: &Plan, name: &str) -> serde_json::Value {
        plan.to_json()[name].clone()
    }

    #[test]
    fn empty_file_is_the_papers_plan() {
        assert_eq!(ok(""), Plan::default());
        assert_eq!(ok("# nothing\n\n   \n"), Plan::default());
    }

    #[test]
    fn the_hang_knob_is_accepted_but_not_listed() {
        assert_eq!(ok("").hang(), None);
        assert_eq!(
            ok("clock_tick.hang = yes\n").hang(),
            Some(("clock-tick", Hang::Yes))
        );
        assert_eq!(
            ok("clock_tick.hang = unwatched\n").hang(),
            Some(("clock-tick", Hang::Unwatched))
        );
        // Only a listed test hangs.
        assert_eq!(
            ok("tests = thread-switch\nclock_tick.hang = yes\n").hang(),
            None
        );
        let err = fail(b"clock_tick.hang = maybe\n");
        assert_eq!(
            err,
            "bench.conf line 1: clock_tick.hang: 'maybe' is not no, yes or unwatched"
        );
        assert!(!fail(b"colour = blue\n").contains("clock_tick.hang"));
        let json = section(&ok(""), "clock_tick");
        assert!(json.get("hang").is_none(), "{json}");
        let json = section(&ok("clock_tick.hang = yes\n"), "clock_tick");
        assert_eq!(json["hang"], "yes");
    }

    #[test]
    fn reads_every_key() {
        let plan = ok("role = test\n\
             tests = thread-switch, clock-tick, osnoise\n\
             cpu = 1\n\
             priority = 80\n\
             clock_tick.duration = 2s\n\
             clock_tick.loop_us = 0\n\
             clock_tick.threshold_us = 5.5\n\
             clock_tick.attribute = off\n\
             trace_reader = text\n\
             osnoise.duration = 3s\n\
             thread_switch.threads = 2, 100\n\
             thread_switch.duration = 1s\n\
             memory_load.size = 16MiB\n\
             load.duration = 10m\n\
             rt_throttling = keep\n\
             poweroff = no\n\
             timeout = 5m\n\
             scenario = 3\n\
             label = enlightened, one CPU load\n");
        assert_eq!(
            plan.tests.names(),
            ["thread-switch", "clock-tick", "osnoise"]
        );
        let order: Vec<&str> = plan.planned.iter().map(|p| p.test().name()).collect();
        assert_eq!(order, plan.tests.names());
        assert_eq!(plan.cpu, Cpu(1));
        assert_eq!(plan.priority, Priority(80));
        assert_eq!(plan.trace_reader, TraceReader::Text);
        let clock_tick = section(&plan, "clock_tick");
        assert_eq!(clock_tick["amount"]["duration"], "2s");
        assert_eq!(clock_tick["loop_us"], 0.0);
        assert_eq!(clock_tick["threshold_us"], 5.5);
        assert_eq!(clock_tick["attribute"], "off");
        let thread_switch = section(&plan, "thread_switch");
        assert_eq!(thread_switch["threads"], serde_json::json!([2, 100]));
        assert_eq!(thread_switch["amount"]["duration"], "1s");
        assert_eq!(section(&plan, "osnoise")["duration"], "3s");
        assert_eq!(
            plan.memory_load_size,
            MemorySize::Fixed(crate::options::Size(16 << 20))
        );
        assert_eq!(plan.load_duration, Until(Some(Duration::from_secs(600))));
        assert_eq!(plan.rt_throttling, RtThrottling::Keep);
        assert!(!plan.poweroff);
        assert_eq!(plan.timeout, Duration::from_secs(300));
        assert_eq!(plan.scenario, Some(Scenario(3)));
        assert_eq!(plan.label, Some(Label("enlightened, one CPU load".into())));
    }

    #[test]
    fn windows_files_work() {
        let plan = ok("\u{feff}role = cpu-load\r\n# comment\r\npoweroff = No\r\n");
        assert_eq!(plan.role, Role::CpuLoad);
        assert!(!plan.poweroff);
    }

    #[test]
    fn trailing_comments_and_grouped_digits() {
        let plan = ok("clock_tick.samples = 50_000_000   # the paper\n");
        assert_eq!(section(&plan, "clock_tick")["amount"]["count"], 50_000_000);
    }

    #[test]
    fn unknown_role_names_the_line_and_the_fix() {
        assert_eq!(
            fail(b"# x\n\nrole = foo\n"),
            "bench.conf line 3: role: 'foo' is not a role; use test, cpu-load or memory-load"
        );
    }

    #[test]
    fn garbage_bytes_are_an_error() {
        let msg = fail(b"role = test\n\xff\xfe\x00garbage\n");
        assert!(msg.starts_with("bench.conf line 2: not text"), "{msg}");
        let msg = fail(b"role = te\x00st\n");
        assert!(
            msg.starts_with("bench.conf line 1: control character"),
            "{msg}"
        );
    }

    #[test]
    fn negative_values_are_errors() {
        let msg = fail(b"clock_tick.duration = -5s\n");
        assert!(msg.contains("line 1") && msg.contains("negative"), "{msg}");
        let msg = fail(b"timeout = -1h\n");
        assert!(msg.contains("negative"), "{msg}");
        let msg = fail(b"thread_switch.switches = -3\n");
        assert!(msg.contains("negative"), "{msg}");
        let msg = fail(b"clock_tick.loop_us = -68\n");
        assert!(msg.contains("negative"), "{msg}");
    }

    #[test]
    fn structural_errors() {
        assert!(fail(b"colour = blue\n").contains("unknown key 'colour'"));
        assert!(fail(b"just words\n").contains("expected 'key = value'"));
        assert!(fail(b"cpu =\n").contains("has no value"));
        let msg = fail(b"cpu = 0\ncpu = 1\n");
        assert!(
            msg.starts_with("bench.conf line 2:") && msg.contains("line 1"),
            "{msg}"
        );
        let msg = fail(b"clock_tick.samples = 5\nclock_tick.duration = 5s\n");
        assert!(msg.contains("keep one"), "{msg}");
    }

    #[test]
    fn value_errors() {
        assert!(fail(b"priority = 100\n").contains("out of range"));
        assert!(fail(b"priority = 0\n").contains("out of range"));
        assert!(fail(b"tests = clock-tick, ping\n").contains("unknown test 'ping'"));
        assert!(fail(b"tests = clock-tick, clock-tick\n").contains("twice"));
        assert!(fail(b"thread_switch.threads = 1\n").contains("out of range"));
        assert!(fail(b"thread_switch.threads = 2,,3\n").contains("whole number"));
        assert!(fail(b"clock_tick.samples = 0\n").contains("at least 1"));
        assert!(fail(b"timeout = 0s\n").contains("longer than zero"));
        assert!(fail(b"clock_tick.duration = 0\n").contains("out of range (at least 100ms"));
        assert!(fail(b"poweroff = maybe\n").contains("yes or no"));
        assert!(fail(b"rt_throttling = sometimes\n").contains("off or keep"));
        assert!(fail(b"memory_load.size = 9 parsecs\n").contains("unknown unit"));
        assert!(fail(b"clock_tick.threshold_us = 0\n").contains("out of range"));
        // The threshold: one option, one range, in every test's section.
        let names: Vec<&str> = crate::suite::TESTS.iter().map(|t| t.name()).collect();
        let all = format!("tests = {}\n", names.join(", "));
        for section in names.iter().map(|n| crate::suite::test::section_name(n)) {
            for (value, why) in [
                ("0", "0 is out of range (1 to 10000000)"),
                ("10000001", "10000001 is out of range (1 to 10000000)"),
                ("4.5", "'4.5' is not a whole number"),
            ] {
                let text = format!("# gate\n{section}.fail_above_us = {value}\n");
                let msg = fail(text.as_bytes());
                let want = format!("bench.conf line 2: {section}.fail_above_us: {why}");
                assert!(msg.starts_with(&want), "{msg}");
            }
            let plan = ok(&format!("{all}{section}.fail_above_us = 10_000_000\n"));
            assert_eq!(self::section(&plan, &section)["fail_above_us"], 10_000_000);
            assert!(self::section(&ok(&all), &section)["fail_above_us"].is_null());
        }
        assert_eq!(
            fail(b"scenario = 8\n"),
            "bench.conf line 1: scenario: 8 is out of range (1 to 7)"
        );
    }

    /// What a test would refuse after an hour of measuring, the check refuses at once,
    /// naming the line and the key.
    #[test]
    fn the_tests_limits_are_the_configs() {
        assert_eq!(
            fail(b"# plan\n\ntests = thread-switch\nthread_switch.threads = 2, 20000\n"),
            "bench.conf line 4: thread_switch.threads: 20000 is out of range (2 to 10000)"
        );
        assert_eq!(
            fail(b"clock_tick.loop_us = 500000\n"),
            "bench.conf line 1: clock_tick.loop_us: 500000 is out of range (0 to 100000)"
        );
        assert_eq!(
            fail(b"clock_tick.attribute = maybe\n"),
            "bench.conf line 1: clock_tick.attribute: 'maybe' is not on, off or auto"
        );
        let msg = fail(b"tests = osnoise\nosnoise.duration = 0s\n");
        assert!(
            msg.starts_with(
                "bench.conf line 2: osnoise.duration: '0s' is out of range (at least 100ms"
            ),
            "{msg}"
        );
        let plan =
            ok("tests = clock-tick, osnoise\nclock_tick.attribute = Off\nosnoise.duration = 5s\n");
        assert_eq!(section(&plan, "clock_tick")["attribute"], "off");
        assert_eq!(section(&plan, "osnoise")["duration"], "5s");
        let plan = ok(
            "thread_switch.threads = 2, 10000\nclock_tick.loop_us = 100000\nclock_tick.samples = 10\n",
        );
        assert_eq!(section(&plan, "clock_tick")["loop_us"], 100_000.0);
        assert_eq!(
            section(&plan, "thread_switch")["threads"],
            serde_json::json!([2, 10_000])
        );
    }

    /// A test asked to measure for less than any test's longest sample could measure
    /// nothing: refused, wherever a test's duration is given.
    #[test]
    fn durations_that_cannot_yield_a_sample_are_refused() {
        for key in [
            "clock_tick.duration",
            "thread_switch.duration",
            "osnoise.duration",
        ] {
            for short in ["1ns", "1ms", "99ms"] {
                assert_eq!(
                    fail(format!("{key} = {short}\n").as_bytes()),
                    format!(
                        "bench.conf line 1: {key}: '{short}' is out of range (at least 100ms, so that any test can take a sample); e.g. 10s"
                    )
                );
            }
        }
        let plan = ok("clock_tick.duration = 100ms\nthread_switch.duration = 100ms\n");
        assert_eq!(section(&plan, "clock_tick")["amount"]["duration"], "100ms");
        // The timeout and a load's duration are not a test's: any length above zero.
        assert_eq!(
            ok("role = cpu-load\nload.duration = 50ms\n").load_duration,
            Until(Some(Duration::from_millis(50)))
        );
    }

    /// The documented grammar, exactly: keys are lower case, `#` starts a comment unless
    /// the value is in double quotes, `_` only groups digits.
    #[test]
    fn the_grammar_is_followed_exactly() {
        assert_eq!(
            fail(b"CPU = 1\n"),
            "bench.conf line 1: unknown key 'CPU'; keys are lower case: write 'cpu'"
        );
        assert_eq!(
            fail(b"# x\nClock_Tick.Samples = 5\n"),
            "bench.conf line 2: unknown key 'Clock_Tick.Samples'; keys are lower case: write 'clock_tick.samples'"
        );
        // A `#` ends an unquoted value; quotes keep it, and are not part of the value.
        assert_eq!(
            ok("label = crlf bom run #3\n").label,
            Some(Label("crlf bom run".into()))
        );
        assert_eq!(
            ok("label = \"crlf bom run #3\"  # note\n").label,
            Some(Label("crlf bom run #3".into()))
        );
        assert_eq!(ok("label=\"x\"\r\n").label, Some(Label("x".into())));
        assert_eq!(ok("cpu = \"1\"\n").cpu, Cpu(1));
        assert_eq!(
            fail(b"label = \"crlf bom\" run #3\n"),
            "bench.conf line 1: label: 'run' follows the quoted value; put the whole value in double quotes (label = \"...\") or remove the quotes"
        );
        assert_eq!(
            fail(b"label = crlf \"bom\"\n"),
            "bench.conf line 1: label: a quote inside the value 'crlf \"bom\"'; put the whole value in double quotes (label = \"...\") or remove the quotes"
        );
        assert!(
            fail(b"label = \"run #3\n").contains("label: the value's opening quote is not closed")
        );
        assert!(fail(b"label = \"\"\n").contains("'label' has no value"));
        // A `#` before the `=` makes the line a comment, or an error without a key.
        assert_eq!(ok("# cpu = 5\n  # x = y\n"), Plan::default());
        assert!(fail(b"cpu # = 5\n").contains("expected 'key = value', found 'cpu'"));
        // `_` only between digits.
        assert_eq!(
            fail(b"clock_tick.samples = _5__0\n"),
            "bench.conf line 1: clock_tick.samples: '_5__0' is not a whole number ('_' may only stand between two digits, as in 50_000_000); give a whole number such as 1000000"
        );
        for bad in ["5__0", "50_", "_50"] {
            assert!(
                fail(format!("thread_switch.switches = {bad}\n").as_bytes())
                    .contains("not a whole number"),
                "{bad}"
            );
        }
        // Test names as documented (not case-sensitive), no other spelling.
        assert_eq!(ok("tests = Clock-Tick\n").tests.names(), ["clock-tick"]);
        assert!(
            fail(b"tests = clock_tick\n").contains("unknown test 'clock_tick'; use clock-tick")
        );
        // The documented synonyms of yes/no and of on/off.
        assert!(!ok("poweroff = off\n").poweroff);
        assert_eq!(
            section(&ok("clock_tick.attribute = yes\n"), "clock_tick")["attribute"],
            "on"
        );
    }

    /// A plan whose expected length reaches its timeout would fail at the timeout: refused
    /// when it is read, naming the timeout's line and a timeout that fits.
    #[test]
    fn the_timeout_must_exceed_the_expected_length() {
        assert_eq!(
            fail(b"tests = clock-tick\nclock_tick.duration = 1h\ntimeout = 4s\n"),
            "bench.conf line 3: timeout: 4s is not longer than the plan's expected length, about 1h5s (clock-tick 1h, and about 5s a part to start and write its files); raise timeout to 1h7m or more, or shorten the tests"
        );
        // Without a timeout line: the default's, without a line number.
        let msg = fail(b"clock_tick.duration = 3h\n");
        assert!(
            msg.starts_with("bench.conf: timeout: 3h is not longer"),
            "{msg}"
        );
        // Every part counts, osnoise in whole periods and one more, and 5 s each to start.
        let plan = ok(
            "tests = clock-tick, thread-switch, osnoise\nclock_tick.duration = 10s\n\
             thread_switch.threads = 2, 100, 1000\nthread_switch.duration = 1s\n\
             osnoise.duration = 2500ms\n",
        );
        assert_eq!(
            plan.expected_length(),
            (Duration::from_secs(10 + 3 + 4 + 15), false)
        );
        assert!(fail(b"tests = thread-switch, osnoise\nthread_switch.threads = 2\nthread_switch.duration = 10s\nosnoise.duration = 10s\ntimeout = 31s\n").contains("timeout: 31s is not longer"));
        ok(
            "tests = thread-switch, osnoise\nthread_switch.threads = 2\nthread_switch.duration = 10s\nosnoise.duration = 10s\ntimeout = 37s\n",
        );
        // The default plan: the paper's 50 million loops of 68 us in bursts of 500 ms with
        // 2 ms pauses and two runs of 2 minutes, then a minute of wake-up latency.
        let (default, unknown) = Plan::default().expected_length();
        assert!(!unknown);
        let measured = 50e6 * 68e-6 * 502.0 / 500.0 + 240.0 + 60.0;
        assert!(
            (default.as_secs_f64() - measured - 15.0).abs() < 1.0,
            "{default:?}"
        );
        // A length that depends on the machine is not compared: back-to-back timestamps,
        // counted switches.
        let plan = ok(
            "clock_tick.samples = 1000000000000\nclock_tick.loop_us = 0\n\
             thread_switch.switches = 1000000000000\ntests = clock-tick, thread-switch\n\
             timeout = 11s\n",
        );
        assert_eq!(plan.expected_length(), (Duration::from_secs(10), true));
        // A load for longer than the timeout fails at the timeout; until the timeout is its
        // plan.
        assert!(
            fail(b"role = cpu-load\nload.duration = 10m\ntimeout = 5m\n")
                .contains("or shorten load.duration")
        );
        ok("role = memory-load\ntimeout = 5s\n");
        // A plan made to hang is meant to overrun its timeout.
        ok("clock_tick.duration = 1h\nclock_tick.hang = yes\ntimeout = 2s\n");
    }

    #[test]
    fn an_offline_cpu_is_refused_by_load() {
        let dir = std::env::temp_dir().join(format!("rust-bench-conf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bench.conf");
        std::fs::write(&path, "role = test\ncpu = 99\n").unwrap();
        // The file itself is fine; this machine has no CPU 99.
        assert_eq!(ok("cpu = 99\n").cpu, Cpu(99));
        if crate::platform::rt::usable_cpus().len() < 99
            && !crate::platform::rt::usable_cpus().is_empty()
        {
            let msg = load(&path, true).unwrap_err().to_string();
            assert_eq!(load(&path, false).unwrap().cpu, Cpu(99));
            assert!(
                msg.starts_with("bench.conf line 2: cpu: CPU 99 is not online"),
                "{msg}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sizes() {
        use crate::options::Size;
        let fixed = |s: Size| MemorySize::Fixed(s);
        assert_eq!(
            ok("memory_load.size = auto\n").memory_load_size,
            MemorySize::Auto
        );
        assert_eq!(
            ok("memory_load.size = 9MiB\n").memory_load_size,
            fixed(Size(9 << 20))
        );
        assert_eq!(
            ok("memory_load.size = 9 MB\n").memory_load_size,
            fixed(Size(9_000_000))
        );
        assert_eq!(
            ok("memory_load.size = 4096\n").memory_load_size,
            fixed(Size(4096))
        );
        assert!(fail(b"memory_load.size = -1MiB\n").contains("negative"));
        assert!(fail(b"memory_load.size = 0\n").contains("out of range"));
    }

    #[test]
    fn the_boards_default_is_the_papers_plan() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../board/hyperv/bench.conf");
        if let Ok(bytes) = std::fs::read(&path) {
            assert_eq!(parse("bench.conf", &bytes).unwrap(), Plan::default());
        }
    }

    #[test]
    fn plan_serializes_readably() {
        let json = Plan::default().to_json();
        assert_eq!(json["role"], "test");
        assert_eq!(json["tests"][0], "clock-tick");
        assert_eq!(json["clock_tick"]["amount"]["count"], 50_000_000);
        assert_eq!(json["thread_switch"]["amount"]["duration"], "2m");
        assert_eq!(json["load_duration"], "forever");
        assert_eq!(json["timeout"], "3h");
        assert_eq!(json["rt_throttling"], "off");
        assert_eq!(json["memory_load_size"], "auto");
        // Only the listed tests' sections.
        assert!(json.get("osnoise").is_none(), "{json}");
        let json = ok("tests = osnoise\n").to_json();
        assert_eq!(json["osnoise"]["duration"], "1m");
        assert!(json.get("clock_tick").is_none(), "{json}");
    }

    /// Each key is one option: no two keys alike, a test's section never takes a plan-wide
    /// key's name (which the plan gives every test that has the flag), and every key takes
    /// a value.
    #[test]
    fn every_key_is_one_option() {
        let keys = keys();
        for (i, key) in keys.iter().enumerate() {
            assert!(
                keys[..i].iter().all(|k| k.name != key.name),
                "{} twice",
                key.name
            );
            if key.test.is_some() {
                assert!(
                    !keys.iter().any(|k| k.test.is_none() && k.long == key.long),
                    "{} hides a plan-wide key",
                    key.name
                );
            }
        }
        for test in TESTS {
            let section = test.section();
            for arg in section.get_arguments() {
                assert!(arg.get_action().takes_values(), "{:?}", arg.get_id());
            }
            for (long, value) in test.plan_defaults() {
                let key = keys
                    .iter()
                    .find(|k| k.test.is_some_and(|t| t.name() == test.name()) && k.long == *long)
                    .unwrap_or_else(|| panic!("{}: no option {long} in its section", test.name()));
                assert_eq!(key.check(value), Ok(()));
            }
        }
    }

    /// A plan gives each test the plan-wide keys it has a flag for: the CPU, the priority,
    /// the trace reader, the plan's timeout (thread-switch's bound on a run).
    #[test]
    fn tests_get_the_plan_wide_keys_they_have_flags_for() {
        let plan = ok("tests = thread-switch, osnoise\ncpu = 1\npriority = 42\n\
             trace_reader = text\ntimeout = 20m\nthread_switch.switches = 5\n");
        let debug: Vec<String> = plan.planned.iter().map(|p| format!("{p:?}")).collect();
        assert!(debug[0].contains("cpu: Cpu(1)"), "{}", debug[0]);
        assert!(debug[0].contains("priority: Priority(42)"), "{}", debug[0]);
        assert!(debug[0].contains("timeout: 1200s"), "{}", debug[0]);
        assert!(debug[1].contains("cpu: Cpu(1)"), "{}", debug[1]);
        assert!(debug[1].contains("trace_reader: Text"), "{}", debug[1]);
        // The defaults are the plan's too.
        let plan = ok("tests = thread-switch\nthread_switch.switches = 5\n");
        assert!(format!("{:?}", plan.planned[0]).contains("timeout: 10800s"));
    }

    /// `--help` names each option's key in a plan, and the plan's default where it differs.
    #[test]
    fn the_flags_help_names_their_keys() {
        let mut cmd = test_command(crate::suite::find("clock-tick").unwrap());
        let help = cmd.render_long_help().to_string();
        for note in [
            "[bench.conf: clock_tick.loop_us]",
            "[bench.conf: clock_tick.samples = 50000000 by default]",
            "[bench.conf: clock_tick.duration, unset by default]",
            "[bench.conf: clock_tick.attribute = auto by default]",
            "[bench.conf: cpu, a plan-wide key]",
        ] {
            assert!(help.contains(note), "{note} missing:\n{help}");
        }
        assert!(!help.contains("--hang"), "{help}");
        assert!(!help.contains("burst_ms"), "{help}");
    }

    /// docs/config.md's table of keys is the definitions': every key and no other, each
    /// with the plan's default, and with the range its parser enforces (tried at the edges
    /// the table gives); each of the plan's own defaults is in the table of defaults that
    /// differ from the command line's.
    #[test]
    fn the_documented_keys_are_the_definitions() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/config.md");
        let text = std::fs::read_to_string(&path).expect("docs/config.md");
        let table = text.split("\n## Keys\n").nth(1).expect("a Keys section");
        let rows: Vec<Vec<String>> = table
            .lines()
            .skip_while(|l| !l.starts_with("| `"))
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                l.split('|')
                    .skip(1)
                    .take(3)
                    .map(|c| c.trim().to_string())
                    .collect()
            })
            .collect();
        let keys = keys();
        for key in keys.iter().filter(|k| !k.hidden) {
            let row = rows.iter().find(|r| r[0] == format!("`{}`", key.name));
            let Some(row) = row else {
                panic!("{} is not in docs/config.md's table of keys", key.name);
            };
            let (values, default) = (&row[1], &row[2]);
            let documented = default.replace(['`', ' '], "");
            let defined = key
                .plan_default()
                .map_or("—".to_string(), |d| d.replace(' ', ""));
            assert_eq!(documented, defined, "{}'s default", key.name);
            for (value, accepted) in probes(values) {
                assert_eq!(
                    key.check(&value).is_ok(),
                    accepted,
                    "{} = {value}: docs/config.md says {values}",
                    key.name
                );
            }
        }
        for row in &rows {
            let name = row[0].trim_matches('`');
            assert!(
                keys.iter().any(|k| !k.hidden && k.name == name),
                "docs/config.md documents {name}, which is no option's key"
            );
        }
        let tests = &rows.iter().find(|r| r[0] == "`tests`").unwrap()[1];
        for test in TESTS {
            assert!(tests.contains(&format!("`{}`", test.name())), "{tests}");
        }
        let differ = text
            .split("\n## Defaults on the command line and in a plan\n")
            .nth(1)
            .and_then(|t| t.split("\n## ").next())
            .expect("a section on the defaults that differ");
        for test in TESTS {
            for (long, value) in test.plan_defaults() {
                let key = plan_key(test.name(), long);
                assert!(
                    differ.contains(&format!("`{key} = {value}`")),
                    "{key} = {value} is not among docs/config.md's defaults that differ"
                );
            }
        }
    }

    /// What a table cell of values says a key takes, as values to try and whether each is
    /// accepted: every `quoted` value; both ends of `A to B` and the values just beyond
    /// (one away from a whole number, a tenth of the last digit from a decimal);
    /// `at least A` and `≥ A` and the value just below (a number keeps its unit: `100ms`,
    /// `64 GiB`); a length in `characters` as that many characters.
    fn probes(values: &str) -> Vec<(String, bool)> {
        let mut probes: Vec<(String, bool)> = values
            .split('`')
            .skip(1)
            .step_by(2)
            .map(|v| (v.to_string(), true))
            .collect();
        let plain = values.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let words: Vec<&str> = plain
            .split(|c: char| c.is_whitespace() || ",()".contains(c))
            .filter(|w| !w.is_empty())
            .collect();
        let units = ["B", "KiB", "MiB", "GiB", "kB", "KB", "MB", "GB"];
        // The quantity that starts at word i: its number, its decimals and its unit.
        let quantity = |i: usize| -> Option<(f64, usize, String)> {
            let w = *words.get(i)?;
            let split = w
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(w.len());
            let (number, unit) = w.split_at(split);
            let decimals = number.split('.').nth(1).map_or(0, str::len);
            let unit = match (unit, words.get(i + 1)) {
                ("", Some(next)) if units.contains(next) => format!(" {next}"),
                _ => unit.to_string(),
            };
            Some((number.parse().ok()?, decimals, unit))
        };
        let chars = words.contains(&"characters");
        let show = |(n, decimals, unit): &(f64, usize, String), by: f64| -> String {
            if chars {
                return "x".repeat((n + by).max(0.0) as usize);
            }
            // A whole number's neighbour is one away; a decimal's a tenth of its last digit.
            let places = if *decimals == 0 { 0 } else { decimals + 1 };
            let step = 10f64.powi(-(places as i32));
            format!("{:.*}{unit}", places, n + by * step)
        };
        for (i, w) in words.iter().enumerate() {
            match *w {
                "to" if i > 0 => {
                    let low = if i >= 2 && units.contains(&words[i - 1]) {
                        quantity(i - 2)
                    } else {
                        quantity(i - 1)
                    };
                    if let (Some(low), Some(high)) = (low, quantity(i + 1)) {
                        probes.push((show(&low, 0.0), true));
                        probes.push((show(&high, 0.0), true));
                        probes.push((show(&low, -1.0), false));
                        probes.push((show(&high, 1.0), false));
                    }
                }
                "least" | "≥" => {
                    if let Some(low) = quantity(i + 1) {
                        probes.push((show(&low, 0.0), true));
                        probes.push((show(&low, -1.0), false));
                    }
                }
                _ => {}
            }
        }
        probes
    }
}
