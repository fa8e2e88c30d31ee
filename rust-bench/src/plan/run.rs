//! `rust-bench run`: execute a plan file (`bench.conf`) and write `RESULTS/<run-id>/`.
//!
//! The run directory always says how the run went: `run.json` is written first with
//! `status: interrupted` and rewritten at the end with `complete` or `failed`, so a machine
//! switched off mid-run leaves `interrupted` and whatever the tests had checkpointed.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use clap::Args as ClapArgs;

use crate::error::UsageError;
use crate::load;
use crate::plan::config::{self, Hang, Plan, Role, RtThrottling, TestName};
use crate::platform::rt_setup::{self, RtSetup, RtSetupRecord};
use crate::platform::{environment, rt, watchdog};
use crate::results::run::{RunRecord, Status, TestRecord};
use crate::results::time::{utc_now, utc_stamp};
use crate::results::writer::write_atomic;
use crate::suite::{self, test};

/// Execute a plan file and write a results directory.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The plan (bench.conf; see docs/config.md).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Directory in which the run directory <run-id>/ is created (not needed with --check).
    #[arg(long, value_name = "DIR", required_unless_present = "check")]
    pub results: Option<PathBuf>,
    /// Name of the run directory (default: the UTC start time, YYYYMMDD-HHMMSS, plus -N if
    /// that is taken).
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// Only check the config: print `role=`, `timeout_s=` and `poweroff=` lines (for the
    /// appliance's init) and exit, creating nothing.
    #[arg(long)]
    pub check: bool,
}

/// The run directory and its record, shared with the deadline watcher.
struct Run {
    dir: PathBuf,
    record: Mutex<RunRecord>,
}

impl Run {
    fn save(&self) -> Result<()> {
        let record = self.record.lock().unwrap_or_else(|e| e.into_inner());
        record.write(&self.dir)
    }

    fn update(&self, change: impl FnOnce(&mut RunRecord)) -> Result<()> {
        change(&mut self.record.lock().unwrap_or_else(|e| e.into_inner()));
        self.save()
    }

    /// Mark the run failed (keeping the first reason) and save.
    fn fail(&self, reason: &str) -> Result<()> {
        self.update(|r| r.fail(reason))
    }
}

pub fn main(args: Args) -> Result<()> {
    if args.check {
        let plan = config::load(&args.config).map_err(|e| UsageError(e.to_string()))?;
        print!("{}", summary_lines(&plan));
        return Ok(());
    }
    let Some(results) = args.results.as_deref() else {
        return Err(UsageError("rust-bench run needs --results DIR".to_string()).into());
    };
    fs::create_dir_all(results).with_context(|| {
        format!(
            "cannot create the results directory {}; check that the disk is writable and not full",
            results.display()
        )
    })?;
    let (run_id, dir) = create_run_dir(results, args.run_id.as_deref())?;
    let run = Arc::new(Run {
        dir,
        record: Mutex::new(RunRecord::start(
            &run_id,
            Some(args.config.display().to_string()),
        )),
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
    let plan_json = serde_json::to_value(&plan)?;
    run.update(|r| {
        r.plan = Some(plan_json);
        r.scenario = plan.scenario;
        r.label = plan.label.clone();
    })?;
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
        status.as_str(),
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
    // Tests run under the plan's RT setup; a load VM leaves the settings alone.
    let mut setup = if plan.role == Role::Test {
        register_tests(run, plan)?;
        // A plan this machine cannot run fails before any setting is touched.
        if !preflight(run, plan)? {
            let environment = environment::collect();
            return run.update(|r| r.environment = Some(environment));
        }
        let lift = plan.rt_throttling == RtThrottling::Off;
        Some(RtSetup::apply(lift).map_err(|e| {
            anyhow::anyhow!(
                "cannot lift RT throttling as the config asks (rt_throttling = off): {}; run as root or set rt_throttling = keep",
                e.root_cause()
            )
        })?)
    } else {
        None
    };
    let record = setup.as_ref().map(|s| s.record().clone());
    let environment = environment::collect();
    run.update(|r| {
        r.environment = Some(environment);
        r.rt_settings = record.clone();
    })?;
    let timeout_ends_plan = plan.role != Role::Test && plan.load_duration.is_none();
    if plan.clock_tick.hang != Hang::Unwatched {
        watch_deadline(Arc::clone(run), plan.timeout, timeout_ends_plan);
    }
    let result = match plan.role {
        Role::Test => run_tests(run, plan, record.as_ref()),
        Role::CpuLoad | Role::MemoryLoad => run_load(run, plan),
    };
    if let Some(s) = setup.as_mut() {
        s.restore();
        let done = s.record().clone();
        run.update(|r| r.rt_settings = Some(done))?;
    }
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

/// Each listed test in run.json, interrupted until it ends.
fn register_tests(run: &Run, plan: &Plan) -> Result<()> {
    run.update(|r| {
        for test in &plan.tests {
            r.tests.insert(
                test.to_string(),
                TestRecord {
                    status: Status::Interrupted,
                    file: suite::find(test.as_str())
                        .map(|t| t.file())
                        .unwrap_or_else(|| format!("{test}.json")),
                    error: None,
                },
            );
        }
    })
}

/// Run each listed test; a failing test fails the run but the others still run.
fn run_tests(run: &Arc<Run>, plan: &Plan, setup: Option<&RtSetupRecord>) -> Result<()> {
    mark_first_sample(run)?;
    for &test in &plan.tests {
        if let Some(reason) = stop_reason(plan) {
            run.update(|r| set_test(r, test, Status::Failed, Some(format!("not run: {reason}"))))?;
            continue;
        }
        say(&format!("{test}: starting"));
        let started = Instant::now();
        let outcome =
            measure(test, plan, &run.dir, setup).and_then(|complete| match stop_reason(plan) {
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

/// Every listed test's preflight, before the first one measures: whether all can run. If
/// one cannot, the run fails at once: that test records why, the others that they were
/// not run, and nothing is measured.
fn preflight(run: &Run, plan: &Plan) -> Result<bool> {
    let failures: Vec<(TestName, String)> = plan
        .tests
        .iter()
        .filter_map(|&test| {
            let found = suite::find(test.as_str())?;
            found.preflight(plan).err().map(|e| (test, one_line(&e)))
        })
        .collect();
    let Some((first, why)) = failures.first() else {
        return Ok(true);
    };
    // Said once, as the run's error (the last line on the console, and run.json's `error`);
    // each test's own reason is in its entry of run.json.
    let mut reason = format!("{first} cannot run on this machine, nothing was measured: {why}");
    for (test, why) in failures.iter().skip(1) {
        reason += &format!("; {test} cannot run either: {why}");
    }
    run.update(|r| {
        for &test in &plan.tests {
            let error = match failures.iter().find(|(t, _)| *t == test) {
                Some((_, why)) => why.clone(),
                None => format!("not run: {first} cannot run on this machine"),
            };
            set_test(r, test, Status::Failed, Some(error));
        }
        r.status = Status::Failed;
        r.error.get_or_insert(reason);
    })?;
    Ok(false)
}

fn set_test(record: &mut RunRecord, test: TestName, status: Status, error: Option<String>) {
    if let Some(t) = record.tests.get_mut(test.as_str()) {
        t.status = status;
        t.error = error;
    }
}

/// Run one test: its JSON at each checkpoint (what a run cut short needs), all its files
/// (JSON, CSV, SVG) once at the end; returns whether it completed.
fn measure(test: TestName, plan: &Plan, dir: &Path, setup: Option<&RtSetupRecord>) -> Result<bool> {
    let Some(test) = suite::find(test.as_str()) else {
        anyhow::bail!("{test}: no such test in this rust-bench");
    };
    let name = test.name();
    let pacer = test::Pacer::default();
    let result = test.run_planned(plan, setup, &mut |partial| {
        pacer.write(|| {
            if let Err(err) = test::write_json_file(dir, partial) {
                say(&format!(
                    "warning: {name} checkpoint not written: {}",
                    one_line(&err)
                ));
            }
        });
        say(&format!("{name}: {}", partial.progress()));
    })?;
    test::write_all_files(dir, result.as_ref())?;
    for line in result.summary().lines() {
        say(line);
    }
    Ok(result.complete())
}

/// Run the load loop of a load machine until its duration, the timeout or a signal.
fn run_load(run: &Run, plan: &Plan) -> Result<()> {
    let kind = match plan.role {
        Role::MemoryLoad => {
            let chosen = load::size::choose(plan.memory_load_size.fixed());
            say(&load::size::describe(&chosen));
            let size = chosen.size_bytes;
            run.update(|r| r.memory_load = Some(chosen))?;
            load::LoadKind::Memory { size }
        }
        _ => load::LoadKind::Cpu,
    };
    say("load: running");
    let stats = load::generate(kind, Some(plan.cpu.0), plan.load_duration)?;
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
/// SCHED_DEADLINE (see `platform::watchdog`), so a spinning SCHED_FIFO measuring thread cannot
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
        rt_setup::restore_now();
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
                "invalid run id {}; use letters, digits and dashes",
                crate::error::quote(id)
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

#[cfg(test)]
mod tests {
    use super::*;

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
