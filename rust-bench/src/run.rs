//! `rust-bench run`: execute a plan file (`bench.conf`) and write `RESULTS/<run-id>/`.
//!
//! The run directory always says how the run went: `run.json` is written first with
//! `status: interrupted` and rewritten at the end with `complete` or `failed`, so a machine
//! switched off mid-run leaves `interrupted` and whatever the tests had checkpointed.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use serde::Serialize;
use serde_json::Value;

use crate::config::{self, Amount, Hang, Plan, Role, RtThrottling, TestName};
use crate::error::UsageError;
use crate::output::{self, TestReport, write_atomic};
use crate::{clock_tick, environment, load, rt, thread_switch, watchdog};

/// Execute a plan file and write a results directory.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The plan (bench.conf; see docs/config.md).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Directory in which the run directory <run-id>/ is created.
    #[arg(long, value_name = "DIR")]
    pub results: PathBuf,
    /// Name of the run directory (default: the UTC start time, YYYYMMDD-HHMMSS, plus -N if
    /// that is taken).
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// Only check the config: print `role=`, `timeout_s=` and `poweroff=` lines (for the
    /// appliance's init) and exit, creating nothing.
    #[arg(long)]
    pub check: bool,
}

/// How often partial results are written while a test runs.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Interrupted,
    Complete,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
struct TestRecord {
    status: Status,
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// `run.json`.
#[derive(Debug, Clone, Serialize)]
struct RunRecord {
    schema: u32,
    run_id: String,
    status: Status,
    error: Option<String>,
    started: String,
    finished: Option<String>,
    config_file: String,
    plan: Option<Plan>,
    environment: Option<Value>,
    rt_settings: Option<Value>,
    boot_to_first_sample_s: Option<f64>,
    tests: BTreeMap<String, TestRecord>,
    /// What a load role did.
    #[serde(skip_serializing_if = "Option::is_none")]
    load: Option<load::LoadStats>,
}

/// The run directory and its record, shared with the deadline watcher.
struct Run {
    dir: PathBuf,
    record: Mutex<RunRecord>,
}

impl Run {
    fn save(&self) -> Result<()> {
        let record = self.record.lock().unwrap_or_else(|e| e.into_inner());
        let mut text = serde_json::to_string_pretty(&*record)?;
        text.push('\n');
        write_atomic(&self.dir.join("run.json"), text.as_bytes())
    }

    fn update(&self, change: impl FnOnce(&mut RunRecord)) -> Result<()> {
        change(&mut self.record.lock().unwrap_or_else(|e| e.into_inner()));
        self.save()
    }

    /// Mark the run failed (keeping the first reason) and save.
    fn fail(&self, reason: &str) -> Result<()> {
        self.update(|r| {
            r.status = Status::Failed;
            r.error.get_or_insert_with(|| reason.to_string());
            r.finished = Some(utc_now());
        })
    }
}

pub fn main(args: Args) -> Result<()> {
    if args.check {
        let plan = config::load(&args.config).map_err(|e| UsageError(e.to_string()))?;
        print!("{}", summary_lines(&plan));
        return Ok(());
    }
    fs::create_dir_all(&args.results).with_context(|| {
        format!(
            "cannot create the results directory {}; check that the disk is writable and not full",
            args.results.display()
        )
    })?;
    let (run_id, dir) = create_run_dir(&args.results, args.run_id.as_deref())?;
    let run = Arc::new(Run {
        dir,
        record: Mutex::new(RunRecord {
            schema: 1,
            run_id: run_id.clone(),
            status: Status::Interrupted,
            error: None,
            started: utc_now(),
            finished: None,
            config_file: args.config.display().to_string(),
            plan: None,
            environment: None,
            rt_settings: None,
            boot_to_first_sample_s: None,
            tests: BTreeMap::new(),
            load: None,
        }),
    });
    say(&format!("run {run_id}: results in {}", run.dir.display()));
    let plan = match config::load(&args.config) {
        Ok(plan) => plan,
        Err(err) => {
            let message = err.to_string();
            run.fail(&message).ok();
            write_report(&run);
            return Err(anyhow::Error::new(UsageError(message)));
        }
    };
    run.update(|r| r.plan = Some(plan.clone()))?;
    let outcome = execute(&run, &plan);
    let record = match &outcome {
        Ok(()) => run.update(|r| {
            if r.status == Status::Interrupted {
                r.status = Status::Complete;
            }
            r.finished = Some(utc_now());
        }),
        Err(err) => run.fail(&one_line(err)),
    };
    write_report(&run);
    let status = run.record.lock().unwrap_or_else(|e| e.into_inner()).status;
    say(&format!(
        "run {run_id}: {} (results in {})",
        serde_json::to_value(status)?.as_str().unwrap_or("?"),
        run.dir.display()
    ));
    outcome?;
    record?;
    if status == Status::Failed {
        let error = run
            .record
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .error
            .clone();
        anyhow::bail!("{}", error.unwrap_or_else(|| "the run failed".into()));
    }
    Ok(())
}

/// `report.html` for the run as it stands; a problem here is a warning, not a failure.
fn write_report(run: &Run) {
    let written = crate::report::html::render_run(&run.dir)
        .and_then(|page| write_atomic(&run.dir.join("report.html"), page.as_bytes()));
    if let Err(err) = written {
        say(&format!("warning: no report.html: {}", one_line(&err)));
    }
}

/// Run the plan: settings, tests or load, and restore the settings whatever happens.
fn execute(run: &Arc<Run>, plan: &Plan) -> Result<()> {
    say(&describe(plan));
    rt::install_stop_handler();
    let lift = plan.role == Role::Test && plan.rt_throttling == RtThrottling::Off;
    let throttle = if lift {
        Some(rt::ThrottleGuard::lift().map_err(|e| {
            anyhow::anyhow!(
                "cannot lift RT throttling as the config asks (rt_throttling = off): {}; run as root or set rt_throttling = keep",
                e.root_cause()
            )
        })?)
    } else {
        None
    };
    let fair = if lift {
        Some(FairServerGuard::lift())
    } else {
        None
    };
    let environment = serde_json::to_value(environment::collect())?;
    run.update(|r| {
        r.environment = Some(environment);
        r.rt_settings = Some(serde_json::json!({
            "requested": plan.rt_throttling,
            "rt_throttling_lifted": throttle.as_ref().is_some_and(|g| g.lifted()),
            "fair_server": fair.as_ref().map(FairServerGuard::record),
        }));
    })?;
    let timeout_ends_plan = plan.role != Role::Test && plan.load_duration.is_none();
    if plan.clock_tick.hang != Hang::Unwatched {
        watch_deadline(Arc::clone(run), plan.timeout, timeout_ends_plan);
    }
    let result = match plan.role {
        Role::Test => run_tests(run, plan),
        Role::CpuLoad | Role::MemoryLoad => run_load(run, plan),
    };
    drop(throttle);
    let restored = fair.map(FairServerGuard::restore).unwrap_or(true);
    run.update(|r| {
        if let Some(Value::Object(map)) = &mut r.rt_settings {
            map.insert("restored".into(), Value::Bool(restored));
        }
    })?;
    result
}

/// Why a test ended early, if it did: the plan's timeout or a signal.
fn stop_reason(plan: &Plan) -> Option<String> {
    if TIMED_OUT.load(Ordering::SeqCst) {
        Some(timeout_reason(plan.timeout))
    } else if rt::stop_requested() {
        Some("stopped by a signal before the plan finished".to_string())
    } else {
        None
    }
}

/// Run each listed test; a failing test fails the run but the others still run.
fn run_tests(run: &Arc<Run>, plan: &Plan) -> Result<()> {
    run.update(|r| {
        for test in &plan.tests {
            r.tests.insert(
                test.to_string(),
                TestRecord {
                    status: Status::Interrupted,
                    file: format!("{test}.json"),
                    error: None,
                },
            );
        }
    })?;
    mark_first_sample(run)?;
    for &test in &plan.tests {
        if let Some(reason) = stop_reason(plan) {
            run.update(|r| set_test(r, test, Status::Failed, Some(format!("not run: {reason}"))))?;
            continue;
        }
        say(&format!("{test}: starting"));
        let started = Instant::now();
        let outcome = measure(test, plan, &run.dir).and_then(|complete| match stop_reason(plan) {
            Some(reason) if !complete => anyhow::bail!("{reason}; partial results kept"),
            _ if !complete => {
                anyhow::bail!("ended before its planned length; partial results kept")
            }
            _ => Ok(()),
        });
        match outcome {
            Ok(()) => {
                say(&format!(
                    "{test}: complete in {:.1} s",
                    started.elapsed().as_secs_f64()
                ));
                run.update(|r| set_test(r, test, Status::Complete, None))?;
            }
            Err(err) => {
                let reason = format!("{test} failed: {}", one_line(&err));
                say(&reason);
                run.update(|r| {
                    set_test(r, test, Status::Failed, Some(one_line(&err)));
                    r.status = Status::Failed;
                    r.error.get_or_insert(reason);
                })?;
            }
        }
    }
    Ok(())
}

fn set_test(record: &mut RunRecord, test: TestName, status: Status, error: Option<String>) {
    if let Some(t) = record.tests.get_mut(test.as_str()) {
        t.status = status;
        t.error = error;
    }
}

/// Writes a test's files at each checkpoint and prints a progress line.
fn checkpointer<'a>(
    test: TestName,
    dir: &'a Path,
    write: impl Fn(&Path) -> Result<Vec<PathBuf>> + 'a,
    progress: impl Fn() -> String + 'a,
) -> impl FnMut() + 'a {
    move || {
        if let Err(err) = write(dir) {
            say(&format!(
                "warning: {test} checkpoint not written: {}",
                one_line(&err)
            ));
        }
        say(&format!("{test}: {}", progress()));
    }
}

/// Run one test, checkpointing its files into `dir`; returns whether it completed.
fn measure(test: TestName, plan: &Plan, dir: &Path) -> Result<bool> {
    match test {
        TestName::ClockTick => {
            if plan.clock_tick.hang != Hang::No {
                say(
                    "clock-tick: clock_tick.hang (a test knob): spinning without sleeping, deaf to stop requests",
                );
                return watchdog::spin_forever(plan.cpu, plan.priority);
            }
            let opts = clock_tick::Options {
                cpu: plan.cpu,
                priority: plan.priority,
                limit: match plan.clock_tick.amount {
                    Amount::Count(n) => clock_tick::Limit::Samples(n),
                    Amount::Duration(d) => clock_tick::Limit::Duration(d),
                },
                loop_ns: (plan.clock_tick.loop_us * 1000.0).round() as u64,
                threshold_ns: ((plan.clock_tick.threshold_us * 1000.0).round() as u64).max(1),
                checkpoint_every: CHECKPOINT_EVERY,
                ..clock_tick::Options::default()
            };
            let report = clock_tick::measure(&opts, &mut |partial| {
                checkpointer(
                    test,
                    dir,
                    |d| output::write_test_files(d, TestReport::ClockTick(partial)),
                    || {
                        format!(
                            "{} samples, max overhead {:.1} us, {} spikes",
                            partial.samples,
                            partial.max_overhead_ns as f64 / 1e3,
                            partial.spikes.count
                        )
                    },
                )()
            })?;
            output::write_test_files(dir, TestReport::ClockTick(&report))?;
            for line in clock_tick::summary_text(&report).lines() {
                say(line);
            }
            Ok(report.complete)
        }
        TestName::ThreadSwitch => {
            let opts = thread_switch::Options {
                cpu: plan.cpu,
                priority: plan.priority,
                threads: plan.thread_switch.threads.clone(),
                limit: match plan.thread_switch.amount {
                    Amount::Count(n) => thread_switch::Limit::Switches(n),
                    Amount::Duration(d) => thread_switch::Limit::Duration(d),
                },
                timeout: plan.timeout,
                checkpoint_every: CHECKPOINT_EVERY,
                ..thread_switch::Options::default()
            };
            let report = thread_switch::measure(&opts, &mut |partial| {
                checkpointer(
                    test,
                    dir,
                    |d| output::write_test_files(d, TestReport::ThreadSwitch(partial)),
                    || match partial.runs.last() {
                        Some(r) => format!("{} threads: {} switches", r.threads, r.switches),
                        None => "starting".to_string(),
                    },
                )()
            })?;
            output::write_test_files(dir, TestReport::ThreadSwitch(&report))?;
            for line in thread_switch::summary_text(&report).lines() {
                say(line);
            }
            Ok(report.complete)
        }
    }
}

/// Run the load loop of a load machine until its duration, the timeout or a signal.
fn run_load(run: &Run, plan: &Plan) -> Result<()> {
    let kind = match plan.role {
        Role::MemoryLoad => load::LoadKind::Memory {
            size: plan.memory_load_size,
        },
        _ => load::LoadKind::Cpu,
    };
    say("load: running");
    let stats = load::generate(kind, Some(plan.cpu), plan.load_duration)?;
    say(&format!(
        "load: {} rounds in {:.1} s",
        stats.rounds, stats.seconds
    ));
    let reason = if TIMED_OUT.load(Ordering::SeqCst) && plan.load_duration.is_some() {
        Some(timeout_reason(plan.timeout))
    } else if rt::stop_requested() && !TIMED_OUT.load(Ordering::SeqCst) {
        Some("stopped by a signal".to_string())
    } else {
        None
    };
    run.update(|r| {
        r.load = Some(stats);
        if let Some(reason) = &reason {
            r.status = Status::Failed;
            r.error.get_or_insert_with(|| reason.clone());
        }
    })
}

/// Note when measuring starts: in the kernel log (a timestamped console line) and run.json.
fn mark_first_sample(run: &Run) -> Result<()> {
    let uptime = fs::read_to_string("/proc/uptime").ok().and_then(|s| {
        s.split_whitespace()
            .next()
            .and_then(|t| t.parse::<f64>().ok())
    });
    if let Ok(mut kmsg) = fs::OpenOptions::new().write(true).open("/dev/kmsg") {
        let _ = kmsg.write_all(b"rust-bench: first sample\n");
    }
    run.update(|r| r.boot_to_first_sample_s = uptime)
}

const FAIR_SERVER: &str = "/sys/kernel/debug/sched/fair_server";

/// The fair_server (6.12's dl-server that reserves CPU time for ordinary tasks), set to zero
/// runtime for a test run and restored afterwards. Problems are recorded, not fatal.
struct FairServerGuard {
    /// (runtime file, value before) for every CPU changed.
    changed: Vec<(PathBuf, String)>,
    errors: Vec<String>,
}

impl FairServerGuard {
    fn lift() -> FairServerGuard {
        let mut guard = FairServerGuard {
            changed: Vec::new(),
            errors: Vec::new(),
        };
        let Ok(entries) = fs::read_dir(FAIR_SERVER) else {
            return guard;
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path().join("runtime"))
            .collect();
        files.sort();
        for file in files {
            let result = fs::read_to_string(&file).and_then(|before| {
                fs::write(&file, "0")?;
                Ok(before.trim().to_string())
            });
            match result {
                Ok(before) => guard.changed.push((file, before)),
                Err(e) => guard.errors.push(format!("{}: {e}", file.display())),
            }
        }
        for e in &guard.errors {
            say(&format!(
                "warning: could not set the fair_server runtime to 0: {e}"
            ));
        }
        guard
    }

    fn record(&self) -> Value {
        serde_json::json!({
            "changed": self.changed.iter().map(|(file, before)| serde_json::json!({
                "file": file.display().to_string(), "before": before, "during": "0",
            })).collect::<Vec<_>>(),
            "errors": self.errors,
        })
    }

    /// Put back every value; true when all were restored.
    fn restore(self) -> bool {
        let mut ok = true;
        for (file, before) in self.changed.iter().rev() {
            if let Err(e) = fs::write(file, before) {
                say(&format!(
                    "warning: could not restore {}: {e}",
                    file.display()
                ));
                ok = false;
            }
        }
        ok
    }
}

/// Set when the plan's timeout has passed.
static TIMED_OUT: AtomicBool = AtomicBool::new(false);

/// How long the run may take to wind down after the timeout before it is cut short: the
/// timeout itself, between 5 s and a minute.
fn timeout_grace(timeout: Duration) -> Duration {
    timeout.clamp(Duration::from_secs(5), Duration::from_secs(60))
}

fn timeout_reason(timeout: Duration) -> String {
    format!(
        "the plan's timeout ({}) was reached before the plan finished; raise 'timeout' in the config or shorten the tests",
        config::format_duration(timeout)
    )
}

/// At the plan's timeout, ask the tests (or the load) to stop, keeping what they measured;
/// if the run has not ended after a grace period, record the failure and exit. `ends_plan`:
/// the timeout is the plan's normal end (a load that runs "forever"). The thread runs under
/// SCHED_DEADLINE (see watchdog.rs), so a spinning SCHED_FIFO measuring thread cannot
/// starve it; before recording, it moves the process's other threads to SCHED_OTHER so
/// the kernel's interrupt threads can complete the write.
fn watch_deadline(run: Arc<Run>, timeout: Duration, ends_plan: bool) {
    std::thread::spawn(move || {
        if let Err(err) = watchdog::enter_deadline() {
            say(&format!(
                "warning: {err:#}; the plan's timeout is watched at normal priority"
            ));
        }
        std::thread::sleep(timeout);
        TIMED_OUT.store(true, Ordering::SeqCst);
        if ends_plan {
            say(&format!(
                "the plan's timeout ({}) has passed: stopping the load",
                config::format_duration(timeout)
            ));
        } else {
            say(&timeout_reason(timeout));
        }
        rt::request_stop();
        let grace = timeout_grace(timeout);
        std::thread::sleep(grace);
        let demoted = watchdog::demote_other_threads();
        let reason = format!(
            "rust-bench's watchdog ended the run: it was still going {} after the plan's timeout ({}), deaf to the stop request",
            config::format_duration(grace),
            config::format_duration(timeout)
        );
        let _ = run.fail(&reason);
        say(&format!(
            "{reason}; exiting ({demoted} threads moved to SCHED_OTHER)"
        ));
        std::process::exit(1);
    });
}

/// Create `<results>/<id>`: the given id, or the UTC time with `-N` appended if taken.
fn create_run_dir(results: &Path, wanted: Option<&str>) -> Result<(String, PathBuf)> {
    if let Some(id) = wanted {
        if id.is_empty() || id.contains(['/', '\\']) || id.starts_with('.') {
            return Err(anyhow::Error::new(UsageError(format!(
                "invalid run id '{id}'; use letters, digits and dashes"
            ))));
        }
        let dir = results.join(id);
        return match fs::create_dir(&dir) {
            Ok(()) => Ok((id.to_string(), dir)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(anyhow::Error::new(
                UsageError(format!("{} exists; pick another --run-id", dir.display())),
            )),
            Err(e) => Err(e).with_context(|| {
                format!(
                    "cannot create {}; check that the disk is writable and not full",
                    dir.display()
                )
            }),
        };
    }
    let stamp = utc_stamp(SystemTime::now());
    for n in 0..1000 {
        let id = if n == 0 {
            stamp.clone()
        } else {
            format!("{stamp}-{n}")
        };
        let dir = results.join(&id);
        match fs::create_dir(&dir) {
            Ok(()) => return Ok((id, dir)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e).with_context(|| {
                    format!(
                        "cannot create {}; check that the disk is writable and not full",
                        dir.display()
                    )
                });
            }
        }
    }
    anyhow::bail!(
        "too many runs named {stamp}-N in {}; clean it up",
        results.display()
    )
}

/// The settings the appliance's init needs, as `name=value` lines.
fn summary_lines(plan: &Plan) -> String {
    let role = serde_json::to_value(plan.role)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    format!(
        "role={role}\ntimeout_s={}\npoweroff={}\n",
        plan.timeout.as_secs().max(1),
        if plan.poweroff { "yes" } else { "no" }
    )
}

/// The plan in one console line.
fn describe(plan: &Plan) -> String {
    match plan.role {
        Role::Test => format!(
            "plan: tests {} on cpu {} at SCHED_FIFO {}, rt_throttling {}, timeout {}",
            plan.tests
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            plan.cpu,
            plan.priority,
            if plan.rt_throttling == RtThrottling::Off {
                "off"
            } else {
                "kept"
            },
            config::format_duration(plan.timeout)
        ),
        Role::CpuLoad | Role::MemoryLoad => format!(
            "plan: {} on cpu {} for {}",
            if plan.role == Role::CpuLoad {
                "cpu load"
            } else {
                "memory load"
            },
            plan.cpu,
            plan.load_duration
                .map(config::format_duration)
                .unwrap_or_else(|| format!(
                    "ever (until the timeout, {})",
                    config::format_duration(plan.timeout)
                ))
        ),
    }
}

/// A progress line on stderr (the console on the appliance).
fn say(line: &str) {
    eprintln!("rust-bench: {line}");
}

fn one_line(err: &anyhow::Error) -> String {
    let mut line = err.to_string();
    for cause in err.chain().skip(1) {
        line.push_str(": ");
        line.push_str(&cause.to_string());
    }
    line.replace('\n', " ")
}

/// Seconds since the epoch as (year, month, day, hour, minute, second) in UTC.
fn civil(t: SystemTime) -> (i64, u32, u32, u32, u32, u32) {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (rest / 3600) as u32,
        (rest % 3600 / 60) as u32,
        (rest % 60) as u32,
    )
}

/// `YYYYMMDD-HHMMSS` in UTC: the default run id.
fn utc_stamp(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = civil(t);
    format!("{y:04}{mo:02}{d:02}-{h:02}{mi:02}{s:02}")
}

/// RFC 3339 UTC time, e.g. `2026-11-27T20:15:00Z`.
fn utc_now() -> String {
    let (y, mo, d, h, mi, s) = civil(SystemTime::now());
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formatting() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_810_500);
        assert_eq!(utc_stamp(t), "20261127-201500");
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101-000000");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(utc_stamp(leap), "20000229-000000");
    }

    #[test]
    fn summary_for_the_init() {
        assert_eq!(
            summary_lines(&Plan::default()),
            "role=test\ntimeout_s=10800\npoweroff=yes\n"
        );
    }

    #[test]
    fn run_ids_get_a_suffix_when_taken() {
        let base = std::env::temp_dir().join(format!("rust-bench-run-{}", std::process::id()));
        fs::create_dir_all(&base).unwrap();
        let (a, _) = create_run_dir(&base, None).unwrap();
        let (b, _) = create_run_dir(&base, None).unwrap();
        assert_ne!(a, b);
        assert!(b.starts_with(&a[..15]));
        assert!(create_run_dir(&base, Some("../x")).is_err());
        let (c, dir) = create_run_dir(&base, Some("mine")).unwrap();
        assert_eq!(c, "mine");
        assert!(dir.is_dir());
        assert!(create_run_dir(&base, Some("mine")).is_err());
        fs::remove_dir_all(&base).unwrap();
    }
}
