//! The run configuration (`bench.conf` on the appliance's FAT partition).
//!
//! One `key = value` per line, `#` starts a comment, blank lines are ignored. Files edited on
//! Windows work as they are: CRLF line ends and a UTF-8 byte order mark are accepted. Every
//! problem is reported as one line naming the file, the line, what is wrong and how to fix
//! it. `docs/config.md` documents every key.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::plan::duration;

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
}

impl TestName {
    pub const ALL: [TestName; 2] = [TestName::ClockTick, TestName::ThreadSwitch];

    pub fn as_str(self) -> &'static str {
        match self {
            TestName::ClockTick => "clock-tick",
            TestName::ThreadSwitch => "thread-switch",
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
    pub loop_us: f64,
    pub threshold_us: f64,
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
    pub threads: Vec<usize>,
    pub amount: Amount,
}

/// A parsed, validated `bench.conf`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub role: Role,
    pub tests: Vec<TestName>,
    pub cpu: usize,
    pub priority: i32,
    pub clock_tick: ClockTickPlan,
    pub thread_switch: ThreadSwitchPlan,
    /// Bytes copied per round by the memory load.
    pub memory_load_size: u64,
    /// `None`: run until the timeout.
    #[serde(serialize_with = "ser_opt_duration")]
    pub load_duration: Option<Duration>,
    pub rt_throttling: RtThrottling,
    pub poweroff: bool,
    /// Hard bound on the whole run.
    #[serde(serialize_with = "ser_duration")]
    pub timeout: Duration,
}

impl Default for Plan {
    /// The paper's plan; also what `board/hyperv/bench.conf` spells out.
    fn default() -> Self {
        Plan {
            role: Role::Test,
            tests: TestName::ALL.to_vec(),
            cpu: 0,
            priority: 99,
            clock_tick: ClockTickPlan {
                amount: Amount::Count(50_000_000),
                loop_us: 68.0,
                threshold_us: 20.0,
                hang: Hang::No,
            },
            thread_switch: ThreadSwitchPlan {
                threads: vec![2, 1000],
                amount: Amount::Count(1_000_000),
            },
            memory_load_size: 9 * 1024 * 1024,
            load_duration: None,
            rt_throttling: RtThrottling::Off,
            poweroff: true,
            timeout: Duration::from_secs(3 * 3600),
        }
    }
}

/// A duration written back the way [`duration::parse`] reads it, in the largest unit that
/// keeps it exact (`90m`, `5s`, `250ms`).
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".to_string();
    }
    let units: [(&str, u128); 5] = [
        ("h", 3_600_000_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
    ];
    for (unit, size) in units {
        if ns.is_multiple_of(size) {
            return format!("{}{unit}", ns / size);
        }
    }
    format!("{ns}ns")
}

fn ser_duration<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*d))
}

fn ser_opt_duration<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&format_duration(*d)),
        None => s.serialize_str("forever"),
    }
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
    "thread_switch.threads",
    "thread_switch.switches",
    "thread_switch.duration",
    "memory_load.size",
    "load.duration",
    "rt_throttling",
    "poweroff",
    "timeout",
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

/// Read and parse a config file. I/O problems and bad content both become a [`ConfigError`].
pub fn load(path: &Path) -> Result<Plan, ConfigError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let bytes = std::fs::read(path).map_err(|e| ConfigError {
        file: path.display().to_string(),
        line: None,
        message: format!("cannot read it ({e}); check the path and that the disk is readable"),
    })?;
    parse(&name, &bytes)
}

/// Parse the bytes of a config file; `file` names it in messages.
pub fn parse(file: &str, bytes: &[u8]) -> Result<Plan, ConfigError> {
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
        let content = text.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let Some((key, value)) = content.split_once('=') else {
            return Err(err(
                Some(number),
                format!(
                    "expected 'key = value', found '{content}'; add '=' or comment it out with '#'"
                ),
            ));
        };
        let key = key.trim().to_ascii_lowercase();
        let value = value.trim().to_string();
        let Some(&known) = KEYS.iter().chain(HIDDEN_KEYS).find(|k| **k == key) else {
            return Err(err(
                Some(number),
                format!(
                    "unknown key '{key}'; use one of {} (see docs/config.md)",
                    KEYS.join(", ")
                ),
            ));
        };
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
    build(&entries).map_err(|(line, message)| err(line, message))
}

type Entries = BTreeMap<&'static str, (usize, String)>;
type Fail = (Option<usize>, String);

/// Turn the raw entries into a plan, checking each value and the combinations.
fn build(entries: &Entries) -> Result<Plan, Fail> {
    let mut plan = Plan::default();
    let get = |key: &str| entries.get(key).map(|(n, v)| (*n, v.as_str()));
    if let Some((n, v)) = get("role") {
        plan.role = parse_role(v).map_err(|m| (Some(n), m))?;
    }
    if let Some((n, v)) = get("tests") {
        plan.tests = parse_tests(v).map_err(|m| (Some(n), m))?;
    }
    if let Some((n, v)) = get("cpu") {
        plan.cpu = parse_count(v, "cpu", "a CPU number such as 0")
            .and_then(|c| usize::try_from(c).map_err(|_| "cpu is too large".to_string()))
            .map_err(|m| (Some(n), m))?;
    }
    if let Some((n, v)) = get("priority") {
        plan.priority = parse_priority(v).map_err(|m| (Some(n), m))?;
    }
    plan.clock_tick.amount = parse_amount(
        get("clock_tick.samples"),
        get("clock_tick.duration"),
        ("clock_tick.samples", "clock_tick.duration"),
        plan.clock_tick.amount,
    )?;
    if let Some((n, v)) = get("clock_tick.loop_us") {
        plan.clock_tick.loop_us =
            parse_micros(v, "clock_tick.loop_us", 0.0).map_err(|m| (Some(n), m))?;
    }
    if let Some((n, v)) = get("clock_tick.threshold_us") {
        plan.clock_tick.threshold_us =
            parse_micros(v, "clock_tick.threshold_us", f64::MIN_POSITIVE)
                .map_err(|m| (Some(n), m))?;
    }
    if let Some((n, v)) = get("clock_tick.hang") {
        plan.clock_tick.hang = match v {
            "no" => Hang::No,
            "yes" => Hang::Yes,
            "unwatched" => Hang::Unwatched,
            _ => {
                return Err((
                    Some(n),
                    format!("clock_tick.hang is '{v}'; use no, yes or unwatched"),
                ));
            }
        };
    }
    if let Some((n, v)) = get("thread_switch.threads") {
        plan.thread_switch.threads = parse_threads(v).map_err(|m| (Some(n), m))?;
    }
    plan.thread_switch.amount = parse_amount(
        get("thread_switch.switches"),
        get("thread_switch.duration"),
        ("thread_switch.switches", "thread_switch.duration"),
        plan.thread_switch.amount,
    )?;
    if let Some((n, v)) = get("memory_load.size") {
        plan.memory_load_size = parse_size(v).map_err(|m| (Some(n), m))?;
    }
    if let Some((n, v)) = get("load.duration") {
        plan.load_duration = parse_load_duration(v).map_err(|m| (Some(n), m))?;
    }
    if let Some((n, v)) = get("rt_throttling") {
        plan.rt_throttling = parse_rt_throttling(v).map_err(|m| (Some(n), m))?;
    }
    if let Some((n, v)) = get("poweroff") {
        plan.poweroff = parse_yes_no(v, "poweroff").map_err(|m| (Some(n), m))?;
    }
    if let Some((n, v)) = get("timeout") {
        plan.timeout = parse_positive_duration(v, "timeout").map_err(|m| (Some(n), m))?;
    }
    Ok(plan)
}

fn parse_role(v: &str) -> Result<Role, String> {
    match v.to_ascii_lowercase().as_str() {
        "test" => Ok(Role::Test),
        "cpu-load" => Ok(Role::CpuLoad),
        "memory-load" => Ok(Role::MemoryLoad),
        _ => Err(format!(
            "unknown role '{v}'; use test, cpu-load or memory-load"
        )),
    }
}

fn parse_tests(v: &str) -> Result<Vec<TestName>, String> {
    let mut tests = Vec::new();
    for item in v.split(',').map(str::trim) {
        let test = match item.to_ascii_lowercase().as_str() {
            "clock-tick" | "clock_tick" => TestName::ClockTick,
            "thread-switch" | "thread_switch" => TestName::ThreadSwitch,
            "" => {
                return Err("empty entry in the test list; separate test names with commas".into());
            }
            _ => {
                return Err(format!(
                    "unknown test '{item}'; use clock-tick and/or thread-switch, separated by commas"
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

/// A non-negative whole number; `_` may group digits (`50_000_000`).
fn parse_count(v: &str, key: &str, example: &str) -> Result<u64, String> {
    if v.starts_with('-') {
        return Err(format!("{key} cannot be negative ('{v}'); give {example}"));
    }
    let digits: String = v.chars().filter(|c| *c != '_').collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{key} must be a whole number, not '{v}'; give {example}"
        ));
    }
    digits
        .parse()
        .map_err(|_| format!("{key} '{v}' is too large; give {example}"))
}

fn parse_priority(v: &str) -> Result<i32, String> {
    let p = parse_count(v, "priority", "a SCHED_FIFO priority from 1 to 99")?;
    if !(1..=99).contains(&p) {
        return Err(format!(
            "priority {p} is out of range; use 1 to 99 (99 is the highest)"
        ));
    }
    Ok(p as i32)
}

/// Microseconds as a plain (possibly fractional) number, at least `min`.
fn parse_micros(v: &str, key: &str, min: f64) -> Result<f64, String> {
    let value: f64 = v
        .parse()
        .ok()
        .filter(|x: &f64| x.is_finite())
        .ok_or_else(|| {
            format!("{key} must be a number of microseconds, not '{v}'; e.g. {key} = 68")
        })?;
    if value < 0.0 {
        return Err(format!(
            "{key} cannot be negative ('{v}'); give a number of microseconds"
        ));
    }
    if value < min {
        return Err(format!(
            "{key} must be greater than 0; give a number of microseconds"
        ));
    }
    if value > 1_000_000.0 {
        return Err(format!(
            "{key} = {v} is more than a second; give microseconds, e.g. 68"
        ));
    }
    Ok(value)
}

fn parse_threads(v: &str) -> Result<Vec<usize>, String> {
    let mut list = Vec::new();
    for item in v.split(',').map(str::trim) {
        let n = parse_count(
            item,
            "thread_switch.threads",
            "thread counts such as 2, 1000",
        )?;
        if !(2..=100_000).contains(&n) {
            return Err(format!(
                "thread_switch.threads entry {n} is out of range; use 2 to 100000 threads (a switch needs two)"
            ));
        }
        list.push(n as usize);
    }
    Ok(list)
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
        (Some((n, v)), None) => {
            let c = parse_count(v, keys.0, "a whole number such as 1000000")
                .map_err(|m| (Some(n), m))?;
            if c == 0 {
                return Err((Some(n), format!("{} must be at least 1", keys.0)));
            }
            Ok(Amount::Count(c))
        }
        (None, Some((n, v))) => parse_positive_duration(v, keys.1)
            .map(Amount::Duration)
            .map_err(|m| (Some(n), m)),
        (None, None) => Ok(default),
    }
}

fn parse_positive_duration(v: &str, key: &str) -> Result<Duration, String> {
    if v.starts_with('-') {
        return Err(format!(
            "{key} cannot be negative ('{v}'); e.g. {key} = 10s"
        ));
    }
    let number = v.trim_end_matches(|c: char| c.is_alphabetic() || c == 'µ' || c == ' ');
    if number.parse::<f64>().is_ok_and(|n| n == 0.0) {
        return Err(format!("{key} must be longer than zero; e.g. {key} = 10s"));
    }
    duration::parse(v).map_err(|m| format!("{key}: {m}"))
}

fn parse_load_duration(v: &str) -> Result<Option<Duration>, String> {
    if v.eq_ignore_ascii_case("forever") {
        return Ok(None);
    }
    parse_positive_duration(v, "load.duration").map(Some)
}

fn parse_rt_throttling(v: &str) -> Result<RtThrottling, String> {
    match v.to_ascii_lowercase().as_str() {
        "off" => Ok(RtThrottling::Off),
        "keep" => Ok(RtThrottling::Keep),
        _ => Err(format!("rt_throttling must be off or keep, not '{v}'")),
    }
}

fn parse_yes_no(v: &str, key: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err(format!("{key} must be yes or no, not '{v}'")),
    }
}

/// A size in bytes: `9MiB`, `512KiB`, `1GiB`, `4096` (bytes); `MB`/`KB`/`GB` mean the same
/// powers of 1024 as on Windows.
pub fn parse_size(v: &str) -> Result<u64, String> {
    let hint = "write a number and a unit, e.g. 9MiB, 512KiB or 1GiB";
    if v.trim_start().starts_with('-') {
        return Err(format!("size cannot be negative ('{v}'); {hint}"));
    }
    let s = v.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("invalid size '{v}'; {hint}"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("unknown unit in size '{v}'; {hint}")),
    };
    let bytes = number
        .checked_mul(scale)
        .ok_or_else(|| format!("size '{v}' is too large; {hint}"))?;
    if bytes == 0 {
        return Err(format!("size must be larger than zero; {hint}"));
    }
    Ok(bytes)
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
             timeout = 5m\n");
        assert_eq!(plan.tests, vec![TestName::ThreadSwitch]);
        assert_eq!(plan.cpu, 1);
        assert_eq!(plan.priority, 80);
        assert_eq!(
            plan.clock_tick.amount,
            Amount::Duration(Duration::from_secs(2))
        );
        assert_eq!(plan.clock_tick.loop_us, 0.0);
        assert_eq!(plan.clock_tick.threshold_us, 5.5);
        assert_eq!(plan.thread_switch.threads, vec![2, 100]);
        assert_eq!(
            plan.thread_switch.amount,
            Amount::Duration(Duration::from_secs(1))
        );
        assert_eq!(plan.memory_load_size, 16 << 20);
        assert_eq!(plan.load_duration, Some(Duration::from_secs(600)));
        assert_eq!(plan.rt_throttling, RtThrottling::Keep);
        assert!(!plan.poweroff);
        assert_eq!(plan.timeout, Duration::from_secs(300));
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
        assert!(fail(b"poweroff = maybe\n").contains("yes or no"));
        assert!(fail(b"rt_throttling = sometimes\n").contains("off or keep"));
        assert!(fail(b"memory_load.size = 9 parsecs\n").contains("unknown unit"));
        assert!(fail(b"clock_tick.threshold_us = 0\n").contains("greater than 0"));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("9MiB"), Ok(9 << 20));
        assert_eq!(parse_size("9 MB"), Ok(9 << 20));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("-1MiB").is_err());
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn the_boards_default_is_the_papers_plan() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../board/hyperv/bench.conf");
        if let Ok(bytes) = std::fs::read(&path) {
            assert_eq!(parse("bench.conf", &bytes).unwrap(), Plan::default());
        }
    }

    #[test]
    fn durations_round_trip() {
        for text in ["90m", "5s", "250ms", "68us", "2h", "61s"] {
            assert_eq!(format_duration(duration::parse(text).unwrap()), text);
        }
    }

    #[test]
    fn plan_serializes_readably() {
        let json = serde_json::to_value(Plan::default()).unwrap();
        assert_eq!(json["role"], "test");
        assert_eq!(json["tests"][0], "clock-tick");
        assert_eq!(json["clock_tick"]["amount"]["count"], 50_000_000);
        assert_eq!(json["load_duration"], "forever");
        assert_eq!(json["timeout"], "3h");
        assert_eq!(json["rt_throttling"], "off");
    }
}
