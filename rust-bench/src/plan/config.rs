//! The run configuration (`bench.conf` on the appliance's FAT partition).
//!
//! One `key = value` per line, `#` starts a comment, blank lines are ignored. Files edited on
//! Windows work as they are: CRLF line ends and a UTF-8 byte order mark are accepted. Every
//! problem is reported as one line naming the file, the line, what is wrong and how to fix
//! it. `docs/config.md` documents every key.

use crate::results::trace::TraceReader;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::error::quote;
use crate::plan::duration;
use crate::plan::options::{
    self, Attribute, Count, Cpu, Label, LoopUs, MemorySize, Priority, Scenario, Threads,
    ThresholdUs,
};

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

/// The tests a plan can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TestName {
    ClockTick,
    ThreadSwitch,
    /// Not in [`TestName::ALL`]: run only when listed.
    Osnoise,
}

impl TestName {
    pub const ALL: [TestName; 2] = [TestName::ClockTick, TestName::ThreadSwitch];

    pub fn as_str(self) -> &'static str {
        match self {
            TestName::ClockTick => "clock-tick",
            TestName::ThreadSwitch => "thread-switch",
            TestName::Osnoise => "osnoise",
        }
    }
}

impl fmt::Display for TestName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long a test runs: a count (samples, switches) or a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Amount {
    Count(u64),
    #[serde(serialize_with = "ser_duration")]
    Duration(Duration),
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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClockTickPlan {
    pub amount: Amount,
    pub loop_us: LoopUs,
    pub threshold_us: ThresholdUs,
    /// Attribute spikes to their causes from the kernel's trace (`clock_tick.attribute`).
    pub attribute: Attribute,
    /// Test only (`clock_tick.hang`, not in [`KEYS`]): make the run hang, to prove that
    /// the watchdogs still end it.
    #[serde(skip_serializing_if = "Hang::is_no")]
    pub hang: Hang,
}

/// Test only: how `clock_tick.hang` makes a run hang.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Hang {
    /// `no`: measure.
    No,
    /// `yes`: clock-tick's measuring thread spins for ever at its SCHED_FIFO priority,
    /// never sleeping and deaf to stop requests; rust-bench's deadline thread ends the run.
    Yes,
    /// `unwatched`: the same, and rust-bench's deadline thread is not started, so only the
    /// appliance's watchdog (`rust-bench watchdog`) can end it.
    Unwatched,
}

impl Hang {
    fn is_no(&self) -> bool {
        *self == Hang::No
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThreadSwitchPlan {
    pub threads: Vec<Threads>,
    pub amount: Amount,
}

/// A parsed, validated `bench.conf`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub role: Role,
    pub tests: Vec<TestName>,
    pub cpu: Cpu,
    pub priority: Priority,
    pub clock_tick: ClockTickPlan,
    pub thread_switch: ThreadSwitchPlan,
    /// How long the osnoise test runs (`osnoise.duration`).
    #[serde(serialize_with = "ser_duration")]
    pub osnoise_duration: Duration,
    /// How the attribution and the osnoise test read the kernel's trace (`trace_reader`).
    pub trace_reader: TraceReader,
    /// Bytes copied per round by the memory load (`auto`: from the machine's cache).
    pub memory_load_size: MemorySize,
    /// `None`: run until the timeout.
    #[serde(serialize_with = "ser_opt_duration")]
    pub load_duration: Option<Duration>,
    pub rt_throttling: RtThrottling,
    pub poweroff: bool,
    /// Hard bound on the whole run.
    #[serde(serialize_with = "ser_duration")]
    pub timeout: Duration,
    /// The paper's scenario (1-7) this run belongs to, if any.
    pub scenario: Option<Scenario>,
    /// A free name for the run.
    pub label: Option<Label>,
}

/// Each thread-switch run's default length: long enough to hold the host's once-a-second
/// events 120 times (the paper's 1,000,000 switches take about half a second today).
pub const THREAD_SWITCH_DEFAULT: Duration = Duration::from_secs(120);

impl Default for Plan {
    /// The paper's plan, but each thread-switch run measured for two minutes instead of
    /// 1,000,000 switches; also what `board/hyperv/bench.conf` spells out.
    fn default() -> Self {
        Plan {
            role: Role::Test,
            tests: TestName::ALL.to_vec(),
            cpu: Cpu::DEFAULT,
            priority: Priority::DEFAULT,
            clock_tick: ClockTickPlan {
                amount: Amount::Count(50_000_000),
                loop_us: LoopUs::DEFAULT,
                threshold_us: ThresholdUs::DEFAULT,
                attribute: Attribute::Auto,
                hang: Hang::No,
            },
            thread_switch: ThreadSwitchPlan {
                threads: Threads::DEFAULT.to_vec(),
                amount: Amount::Duration(THREAD_SWITCH_DEFAULT),
            },
            osnoise_duration: Duration::from_secs(60),
            trace_reader: TraceReader::Auto,
            memory_load_size: MemorySize::Auto,
            load_duration: None,
            rt_throttling: RtThrottling::Off,
            poweroff: true,
            timeout: Duration::from_secs(3 * 3600),
            scenario: None,
            label: None,
        }
    }
}

fn ser_duration<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&duration::format(*d))
}

fn ser_opt_duration<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&duration::format(*d)),
        None => s.serialize_str("forever"),
    }
}

/// One part of a plan (a listed test, or the load of a load role): what it is asked to do
/// and about how long that takes. `rust-bench run --check` prints them.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The test's name, or `cpu load` / `memory load`.
    pub name: String,
    /// What it is asked to do, as a person reads it: `50000000 samples of a 68 us loop`.
    pub amount: String,
    /// About how long it measures (or loads); None when that depends on the machine (a
    /// count of switches, of back-to-back timestamps) or a load runs until the timeout.
    pub length: Option<Duration>,
    /// The length is an estimate from the amount (not the amount itself).
    pub estimate: bool,
}

/// What a test takes beyond its measuring time: calibrating, starting its threads,
/// writing its files (1 to 2 s on the machines this was written on).
pub const START_UP: Duration = Duration::from_secs(5);

impl Plan {
    /// The plan's parts, in the order they run.
    pub fn parts(&self) -> Vec<Part> {
        let part = |name: &str, amount: String, length: Option<Duration>| Part {
            name: name.to_string(),
            amount,
            length,
            estimate: false,
        };
        let estimate = |name: &str, amount: String, length: Option<Duration>| Part {
            estimate: true,
            ..part(name, amount, length)
        };
        match self.role {
            Role::CpuLoad | Role::MemoryLoad => {
                let name = if self.role == Role::CpuLoad {
                    "cpu load"
                } else {
                    "memory load"
                };
                vec![match self.load_duration {
                    Some(d) => part(name, format!("for {}", duration::format(d)), Some(d)),
                    None => part(name, "until the timeout".to_string(), None),
                }]
            }
            Role::Test => self
                .tests
                .iter()
                .map(|&test| {
                    let name = test.as_str();
                    match test {
                        TestName::ClockTick => {
                            let c = &self.clock_tick;
                            match c.amount {
                                Amount::Duration(d) => part(name, duration::format(d), Some(d)),
                                Amount::Count(n) => {
                                    // Bursts of measuring with a pause between them.
                                    let o = crate::suite::clock_tick::Args::default();
                                    let busy = o.burst_ms as f64 * 1e-3;
                                    let share = (busy + o.gap_us as f64 * 1e-6) / busy;
                                    let ns = c.loop_us.ns();
                                    estimate(
                                        name,
                                        format!("{n} samples of a {} us loop", c.loop_us),
                                        (ns > 0).then(|| {
                                            Duration::from_secs_f64(
                                                n as f64 * ns as f64 * 1e-9 * share,
                                            )
                                        }),
                                    )
                                }
                            }
                        }
                        TestName::ThreadSwitch => {
                            let t = &self.thread_switch;
                            let runs = t.threads.len();
                            let counts = t
                                .threads
                                .iter()
                                .map(|t| t.to_string())
                                .collect::<Vec<_>>()
                                .join(", ");
                            let s = if runs == 1 { "" } else { "s" };
                            let each = format!("{runs} run{s} ({counts} threads)");
                            match t.amount {
                                Amount::Duration(d) => {
                                    let all = d * runs as u32;
                                    let total = if runs == 1 {
                                        String::new()
                                    } else {
                                        format!(", {} in all", duration::format(all))
                                    };
                                    part(
                                        name,
                                        format!("{each} of {}{total}", duration::format(d)),
                                        Some(all),
                                    )
                                }
                                Amount::Count(n) => {
                                    part(name, format!("{each} of {n} switches"), None)
                                }
                            }
                        }
                        TestName::Osnoise => {
                            // Whole periods, and the kernel's tracer often starts a
                            // period late.
                            let period = crate::suite::osnoise::Args::default().period_us;
                            let periods = (self.osnoise_duration.as_micros() as u64)
                                .div_ceil(period)
                                .max(1);
                            estimate(
                                name,
                                format!(
                                    "{} in whole periods of {}",
                                    duration::format(self.osnoise_duration),
                                    duration::format(Duration::from_micros(period))
                                ),
                                Some(Duration::from_micros((periods + 1) * period)),
                            )
                        }
                    }
                })
                .collect(),
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
    /// A plan made to hang (`clock_tick.hang`) is meant to, and a load that runs until the
    /// timeout ends there.
    fn check_timeout(&self) -> Result<(), String> {
        let until_timeout = self.role != Role::Test && self.load_duration.is_none();
        if self.clock_tick.hang != Hang::No || until_timeout {
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
            "{} is not longer than the plan's expected length, about {} ({parts}and about {} a part to start and write its files); raise timeout to {} or more, or shorten {}",
            duration::format(self.timeout),
            approx(expected),
            approx(START_UP),
            approx(round_up(expected.mul_f64(1.1))),
            if self.role == Role::Test {
                "the tests"
            } else {
                "load.duration"
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

/// Every key the file may contain, with a short description (for the unknown-key message).
pub const KEYS: &[&str] = &[
    "role",
    "tests",
    "cpu",
    "priority",
    "clock_tick.samples",
    "clock_tick.duration",
    "clock_tick.loop_us",
    "clock_tick.threshold_us",
    "clock_tick.attribute",
    "osnoise.duration",
    "trace_reader",
    "thread_switch.threads",
    "thread_switch.switches",
    "thread_switch.duration",
    "memory_load.size",
    "load.duration",
    "rt_throttling",
    "poweroff",
    "timeout",
    "scenario",
    "label",
];

/// Keys for tests only, accepted but not listed in messages or docs/config.md.
const HIDDEN_KEYS: &[&str] = &["clock_tick.hang"];

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
#[allow(dead_code)] // used by the tests and for plans read elsewhere
pub fn parse(file: &str, bytes: &[u8]) -> Result<Plan, ConfigError> {
    parse_for(file, bytes, false)
}

/// Parse; `machine`: also check the plan against this machine.
fn parse_for(file: &str, bytes: &[u8], machine: bool) -> Result<Plan, ConfigError> {
    let err = |line: Option<usize>, message: String| ConfigError {
        file: file.to_string(),
        line,
        message,
    };
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut entries: BTreeMap<&'static str, (usize, String)> = BTreeMap::new();
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
        let key = text[..eq].trim();
        let Some(&known) = KEYS.iter().chain(HIDDEN_KEYS).find(|k| **k == key) else {
            let lower = key.to_ascii_lowercase();
            let message = match KEYS.iter().find(|k| **k == lower) {
                Some(k) => format!(
                    "unknown key {}; keys are lower case: write '{k}'",
                    quote(key)
                ),
                None => format!(
                    "unknown key {}; use one of {} (see docs/config.md)",
                    quote(key),
                    KEYS.join(", ")
                ),
            };
            return Err(err(Some(number), message));
        };
        let value = value_of(known, &text[eq + 1..])
            .map_err(|m| err(Some(number), format!("{known}: {m}")))?;
        if value.is_empty() {
            return Err(err(
                Some(number),
                format!("'{known}' has no value; give one or remove the line"),
            ));
        }
        if let Some((first, _)) = entries.get(known) {
            return Err(err(
                Some(number),
                format!("'{known}' is already set on line {first}; keep only one of the two lines"),
            ));
        }
        entries.insert(known, (number, value));
    }
    build(&entries, machine).map_err(|(line, message)| err(line, message))
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

type Entries = BTreeMap<&'static str, (usize, String)>;
type Fail = (Option<usize>, String);

/// Turn the raw entries into a plan, checking each value (with the option types the
/// command line uses, see [`crate::plan::options`]) and the combinations. `machine`: also check
/// what depends on this machine (the CPU is online).
fn build(entries: &Entries, machine: bool) -> Result<Plan, Fail> {
    let mut plan = Plan::default();
    let get = |key: &str| entries.get(key).map(|(n, v)| (*n, v.as_str()));
    // An option's own message, prefixed with its key and placed on its line.
    fn at(n: usize, key: &'static str) -> impl Fn(String) -> Fail {
        move |m| (Some(n), format!("{key}: {m}"))
    }
    if let Some((n, v)) = get("role") {
        plan.role = parse_role(v).map_err(|m| (Some(n), m))?;
    }
    if let Some((n, v)) = get("tests") {
        plan.tests = parse_tests(v).map_err(|m| (Some(n), m))?;
    }
    if let Some((n, v)) = get("cpu") {
        plan.cpu = Cpu::parse(v).map_err(at(n, "cpu"))?;
    }
    if machine {
        let line = get("cpu").map(|(n, _)| n);
        plan.cpu
            .check_usable()
            .map_err(|m| (line, format!("cpu: {m}")))?;
    }
    if let Some((n, v)) = get("priority") {
        plan.priority = Priority::parse(v).map_err(at(n, "priority"))?;
    }
    plan.clock_tick.amount = parse_amount(
        get("clock_tick.samples"),
        get("clock_tick.duration"),
        ("clock_tick.samples", "clock_tick.duration"),
        plan.clock_tick.amount,
    )?;
    if let Some((n, v)) = get("clock_tick.loop_us") {
        plan.clock_tick.loop_us = LoopUs::parse(v).map_err(at(n, "clock_tick.loop_us"))?;
    }
    if let Some((n, v)) = get("clock_tick.threshold_us") {
        plan.clock_tick.threshold_us =
            ThresholdUs::parse(v).map_err(at(n, "clock_tick.threshold_us"))?;
    }
    if let Some((n, v)) = get("clock_tick.attribute") {
        plan.clock_tick.attribute = Attribute::parse(v).map_err(at(n, "clock_tick.attribute"))?;
    }
    if let Some((n, v)) = get("osnoise.duration") {
        plan.osnoise_duration = options::test_duration(v).map_err(at(n, "osnoise.duration"))?;
    }
    if let Some((n, v)) = get("trace_reader") {
        plan.trace_reader = <TraceReader as clap::ValueEnum>::from_str(v, false)
            .map_err(|_| format!("'{v}' is not auto, binary or text"))
            .map_err(at(n, "trace_reader"))?;
    }
    if let Some((n, v)) = get("clock_tick.hang") {
        plan.clock_tick.hang = match v {
            "no" => Hang::No,
            "yes" => Hang::Yes,
            "unwatched" => Hang::Unwatched,
            _ => {
                return Err((
                    Some(n),
                    format!("clock_tick.hang is {}; use no, yes or unwatched", quote(v)),
                ));
            }
        };
    }
    if let Some((n, v)) = get("thread_switch.threads") {
        plan.thread_switch.threads =
            Threads::parse_list(v).map_err(at(n, "thread_switch.threads"))?;
    }
    plan.thread_switch.amount = parse_amount(
        get("thread_switch.switches"),
        get("thread_switch.duration"),
        ("thread_switch.switches", "thread_switch.duration"),
        plan.thread_switch.amount,
    )?;
    if let Some((n, v)) = get("memory_load.size") {
        plan.memory_load_size = MemorySize::parse(v).map_err(at(n, "memory_load.size"))?;
    }
    if let Some((n, v)) = get("load.duration") {
        plan.load_duration = options::Until::parse(v)
            .map(|u| u.0)
            .map_err(at(n, "load.duration"))?;
    }
    if let Some((n, v)) = get("rt_throttling") {
        plan.rt_throttling = parse_rt_throttling(v).map_err(|m| (Some(n), m))?;
    }
    if let Some((n, v)) = get("poweroff") {
        plan.poweroff = parse_yes_no(v, "poweroff").map_err(|m| (Some(n), m))?;
    }
    if let Some((n, v)) = get("timeout") {
        plan.timeout = options::positive_duration(v).map_err(at(n, "timeout"))?;
    }
    if let Some((n, v)) = get("scenario") {
        plan.scenario = Some(Scenario::parse(v).map_err(at(n, "scenario"))?);
    }
    if let Some((n, v)) = get("label") {
        plan.label = Some(Label::parse(v).map_err(at(n, "label"))?);
    }
    plan.check_timeout()
        .map_err(|m| (get("timeout").map(|(n, _)| n), format!("timeout: {m}")))?;
    Ok(plan)
}

fn parse_role(v: &str) -> Result<Role, String> {
    match v.to_ascii_lowercase().as_str() {
        "test" => Ok(Role::Test),
        "cpu-load" => Ok(Role::CpuLoad),
        "memory-load" => Ok(Role::MemoryLoad),
        _ => Err(format!(
            "unknown role {}; use test, cpu-load or memory-load",
            quote(v)
        )),
    }
}

fn parse_tests(v: &str) -> Result<Vec<TestName>, String> {
    let mut tests = Vec::new();
    for item in v.split(',').map(str::trim) {
        let test = match item.to_ascii_lowercase().as_str() {
            "clock-tick" => TestName::ClockTick,
            "thread-switch" => TestName::ThreadSwitch,
            "osnoise" => TestName::Osnoise,
            "" => {
                return Err("empty entry in the test list; separate test names with commas".into());
            }
            _ => {
                return Err(format!(
                    "unknown test {}; use clock-tick, thread-switch and/or osnoise, separated by commas",
                    quote(item)
                ));
            }
        };
        if tests.contains(&test) {
            return Err(format!(
                "test '{test}' is listed twice; list each test once"
            ));
        }
        tests.push(test);
    }
    Ok(tests)
}

/// A test's length: a count key or a duration key, not both.
fn parse_amount(
    count: Option<(usize, &str)>,
    time: Option<(usize, &str)>,
    keys: (&str, &str),
    default: Amount,
) -> Result<Amount, Fail> {
    match (count, time) {
        (Some((n, _)), Some((m, _))) => Err((
            Some(n.max(m)),
            format!(
                "both {} (line {n}) and {} (line {m}) are set; keep one of them",
                keys.0, keys.1
            ),
        )),
        (Some((n, v)), None) => Count::parse(v)
            .map(|c| Amount::Count(c.0))
            .map_err(|m| (Some(n), format!("{}: {m}", keys.0))),
        (None, Some((n, v))) => options::test_duration(v)
            .map(Amount::Duration)
            .map_err(|m| (Some(n), format!("{}: {m}", keys.1))),
        (None, None) => Ok(default),
    }
}

fn parse_rt_throttling(v: &str) -> Result<RtThrottling, String> {
    match v.to_ascii_lowercase().as_str() {
        "off" => Ok(RtThrottling::Off),
        "keep" => Ok(RtThrottling::Keep),
        _ => Err(format!(
            "rt_throttling must be off or keep, not {}",
            quote(v)
        )),
    }
}

fn parse_yes_no(v: &str, key: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err(format!("{key} must be yes or no, not {}", quote(v))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Plan {
        parse("bench.conf", text.as_bytes()).unwrap()
    }

    fn fail(text: &[u8]) -> String {
        parse("bench.conf", text).unwrap_err().to_string()
    }

    #[test]
    fn empty_file_is_the_papers_plan() {
        assert_eq!(ok(""), Plan::default());
        assert_eq!(ok("# nothing\n\n   \n"), Plan::default());
    }

    #[test]
    fn the_hang_knob_is_accepted_but_not_listed() {
        assert_eq!(ok("").clock_tick.hang, Hang::No);
        assert_eq!(ok("clock_tick.hang = yes\n").clock_tick.hang, Hang::Yes);
        assert_eq!(
            ok("clock_tick.hang = unwatched\n").clock_tick.hang,
            Hang::Unwatched
        );
        let err = fail(b"clock_tick.hang = maybe\n");
        assert!(err.contains("use no, yes or unwatched"), "{err}");
        assert!(!fail(b"colour = blue\n").contains("clock_tick.hang"));
        let json = serde_json::to_value(ok("")).unwrap();
        assert!(json["clock_tick"].get("hang").is_none(), "{json}");
        let json = serde_json::to_value(ok("clock_tick.hang = yes\n")).unwrap();
        assert_eq!(json["clock_tick"]["hang"], "yes");
    }

    #[test]
    fn reads_every_key() {
        let plan = ok("role = test\n\
             tests = thread-switch\n\
             cpu = 1\n\
             priority = 80\n\
             clock_tick.duration = 2s\n\
             clock_tick.loop_us = 0\n\
             clock_tick.threshold_us = 5.5\n\
             thread_switch.threads = 2, 100\n\
             thread_switch.duration = 1s\n\
             memory_load.size = 16MiB\n\
             load.duration = 10m\n\
             rt_throttling = keep\n\
             poweroff = no\n\
             timeout = 5m\n\
             scenario = 3\n\
             label = enlightened, one CPU load\n");
        assert_eq!(plan.tests, vec![TestName::ThreadSwitch]);
        assert_eq!(plan.cpu, Cpu(1));
        assert_eq!(plan.priority, Priority(80));
        assert_eq!(
            plan.clock_tick.amount,
            Amount::Duration(Duration::from_secs(2))
        );
        assert_eq!(plan.clock_tick.loop_us, LoopUs(0.0));
        assert_eq!(plan.clock_tick.threshold_us, ThresholdUs(5.5));
        assert_eq!(plan.thread_switch.threads, vec![Threads(2), Threads(100)]);
        assert_eq!(
            plan.thread_switch.amount,
            Amount::Duration(Duration::from_secs(1))
        );
        assert_eq!(
            plan.memory_load_size,
            MemorySize::Fixed(crate::plan::options::Size(16 << 20))
        );
        assert_eq!(plan.load_duration, Some(Duration::from_secs(600)));
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
        assert_eq!(plan.clock_tick.amount, Amount::Count(50_000_000));
    }

    #[test]
    fn unknown_role_names_the_line_and_the_fix() {
        assert_eq!(
            fail(b"# x\n\nrole = foo\n"),
            "bench.conf line 3: unknown role 'foo'; use test, cpu-load or memory-load"
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
        let plan = ok("clock_tick.attribute = Off\nosnoise.duration = 5s\n");
        assert_eq!(plan.clock_tick.attribute, Attribute::Off);
        assert_eq!(plan.osnoise_duration, Duration::from_secs(5));
        assert!(
            ok("thread_switch.threads = 2, 10000\nclock_tick.loop_us = 100000\nclock_tick.samples = 10\n")
                .clock_tick
                .loop_us
                .eq(&LoopUs(100_000.0))
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
        assert_eq!(
            plan.clock_tick.amount,
            Amount::Duration(Duration::from_millis(100))
        );
        // The timeout and a load's duration are not a test's: any length above zero.
        assert_eq!(
            ok("role = cpu-load\nload.duration = 50ms\n").load_duration,
            Some(Duration::from_millis(50))
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
        assert_eq!(ok("tests = Clock-Tick\n").tests, vec![TestName::ClockTick]);
        assert!(
            fail(b"tests = clock_tick\n").contains("unknown test 'clock_tick'; use clock-tick")
        );
        // The documented synonyms of yes/no and of on/off.
        assert!(!ok("poweroff = off\n").poweroff);
        assert_eq!(
            ok("clock_tick.attribute = yes\n").clock_tick.attribute,
            Attribute::On
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
        // The paper's plan: 50 million loops of 68 us in bursts of 500 ms with 2 ms
        // pauses, and two runs of 2 minutes.
        let (paper, unknown) = Plan::default().expected_length();
        assert!(!unknown);
        let measured = 50e6 * 68e-6 * 502.0 / 500.0 + 240.0;
        assert!(
            (paper.as_secs_f64() - measured - 10.0).abs() < 1.0,
            "{paper:?}"
        );
        // A length that depends on the machine is not compared: back-to-back timestamps,
        // counted switches.
        let plan = ok(
            "clock_tick.samples = 1000000000000\nclock_tick.loop_us = 0\n\
             thread_switch.switches = 1000000000000\ntimeout = 11s\n",
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
        use crate::plan::options::Size;
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
        let json = serde_json::to_value(Plan::default()).unwrap();
        assert_eq!(json["role"], "test");
        assert_eq!(json["tests"][0], "clock-tick");
        assert_eq!(json["clock_tick"]["amount"]["count"], 50_000_000);
        assert_eq!(json["thread_switch"]["amount"]["duration"], "2m");
        assert_eq!(json["load_duration"], "forever");
        assert_eq!(json["timeout"], "3h");
        assert_eq!(json["rt_throttling"], "off");
        assert_eq!(json["memory_load_size"], "auto");
    }
}
