//! `rust-bench run`: execute a plan file (`bench.conf`) and write `RESULTS/<run-id>/`.
//!
//! The run directory always says how the run went: `run.json` is written first with
//! `status: interrupted` and rewritten at the end with `complete` or `failed`, so a machine
//! switched off mid-run leaves `interrupted` and whatever the tests had checkpointed. A plan
//! stopped by SIGINT or SIGTERM ends `interrupted` too, with its `finished` time and what did
//! not run, and exits with 128 + the signal ([`Interrupted`]). A plan whose tests crossed
//! their `fail_above_us` thresholds still runs all of them and ends `complete`, run.json
//! naming those tests (`threshold_crossed`), and exits with 3 ([`ThresholdCrossed`]).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use clap::Args as ClapArgs;

use crate::error::{Interrupted, ThresholdCrossed, UsageError};
use crate::load;
use crate::options::duration;
use crate::plan::config::{self, Plan, Role, RtThrottling};
use crate::platform::rt_setup::{self, RtSetup, RtSetupRecord};
use crate::platform::{environment, rt, watchdog};
use crate::results::run::{RunRecord, Status, TestRecord};
use crate::results::threshold::FailAbove;
use crate::results::time::{utc_now, utc_stamp};
use crate::results::writer::write_file;
use crate::suite::test::{self, Hang, Planned};

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
    /// Only check that the plan can run here, creating nothing: its values, its expected
    /// length against its timeout, and what this machine must have (the CPU, SCHED_FIFO,
    /// lifting RT throttling, each test's needs such as the osnoise tracer). Says on
    /// stderr what it checked and prints `role=`, `timeout_s=` and `poweroff=` lines (for
    /// the appliance's init), and with --results first the `run_id=` a run started there
    /// now would get (pass it as --run-id), printed even where the plan is refused.
    #[arg(long)]
    pub check: bool,
    /// With --check: check the plan only, not this machine, for a plan meant for another
    /// one (a VHD's bench.conf checked on a workstation); lists the machine's checks it
    /// left to the machine that runs the plan.
    #[arg(long, requires = "check")]
    pub plan_only: bool,
}

/// The run directory and its record, shared with the deadline watcher.
struct Run {
    dir: PathBuf,
    record: Mutex<RunRecord>,
    /// The signal that stopped the plan before its end, once one did.
    interrupted: Mutex<Option<i32>>,
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
        return check(&args.config, !args.plan_only, args.results.as_deref());
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
        interrupted: Mutex::new(None),
    });
    say(&format!("run {run_id}: results in {}", run.dir.display()));
    let plan = match config::load(&args.config, true) {
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
    let interrupted = *run.interrupted.lock().unwrap_or_else(|e| e.into_inner());
    let record = match &outcome {
        Ok(()) => run.update(|r| {
            // Still `interrupted` from the start, unless a signal stopped the plan.
            if r.status == Status::Interrupted && interrupted.is_none() {
                r.status = Status::Complete;
            }
            r.finished = Some(utc_now());
        }),
        Err(err) => run.fail(&one_line(err)),
    };
    write_report(&run);
    let (status, error, crossed) = {
        let r = run.record.lock().unwrap_or_else(|e| e.into_inner());
        (r.status, r.error.clone(), crossed_counts(&r))
    };
    let threshold = match crossed.as_str() {
        "" => String::new(),
        counts => format!(", threshold crossed: {counts}"),
    };
    say(&format!(
        "run {run_id}: {}{threshold} (results in {})",
        status.as_str(),
        run.dir.display()
    ));
    outcome?;
    record?;
    let error = error.unwrap_or_else(|| format!("the run {}", status.as_str()));
    match (status, interrupted) {
        (Status::Failed, _) => anyhow::bail!("{error}"),
        (Status::Interrupted, Some(signal)) => Err(Interrupted {
            signal,
            message: format!("run {run_id} interrupted: {error}"),
        }
        .into()),
        (Status::Complete, _) if !crossed.is_empty() => Err(ThresholdCrossed(format!(
            "run {run_id} complete, threshold crossed: {crossed}; results written"
        ))
        .into()),
        _ => Ok(()),
    }
}

/// The tests of a run whose threshold was crossed, with how many of their values did
/// (`wakeup 12 above 40 us, osnoise 1 above 100 us`); empty when none was.
fn crossed_counts(r: &RunRecord) -> String {
    r.threshold_crossed
        .iter()
        .filter_map(|test| {
            let f = r.tests.get(test)?.fail_above.as_ref()?;
            Some(format!("{test} {} above {} us", f.crossed, f.threshold_us))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `run --check`: the plan, its expected length against its timeout (both when it is
/// read) and, with `machine`, what this machine must have for it; what was checked goes to
/// stderr, the lines the appliance's init reads to stdout.
fn check(config: &Path, machine: bool, results: Option<&Path>) -> Result<()> {
    // First, so that the id is known even where the plan is refused: the run then records
    // the refusal under it.
    if let Some(results) = results {
        println!("run_id={}", free_run_id(results)?);
    }
    let another = "if the plan is for another machine, check it with --check --plan-only";
    let plan = config::load(config, machine).map_err(|e| match config::load(config, false) {
        // The plan is fine; this machine is not (its CPU).
        Ok(_) if machine => UsageError(format!("{e}; {another}")),
        _ => UsageError(e.to_string()),
    })?;
    say(&describe(&plan));
    for part in plan.parts() {
        let length = match part.length {
            Some(l) if part.estimate => format!(", about {}", config::approx(l)),
            None if plan.role == Role::Test => ", a length that depends on the machine".into(),
            _ => String::new(),
        };
        say(&format!("  {}: {}{length}", part.name, part.amount));
    }
    let timeout = duration::format(plan.timeout);
    if plan.role != Role::Test && plan.load_duration.0.is_none() {
        say(&format!(
            "  expected length: the timeout ({timeout}), which ends the load"
        ));
    } else if let Some((test, _)) = plan.hang() {
        say(&format!(
            "  expected length: none, {test} is made to hang (a knob for tests): the run overruns its timeout ({timeout})"
        ));
    } else {
        let (expected, _) = plan.expected_length();
        let unknown: Vec<String> = plan
            .parts()
            .into_iter()
            .filter(|p| p.length.is_none())
            .map(|p| p.name)
            .collect();
        let more = if unknown.is_empty() {
            String::new()
        } else {
            format!(" and what {} takes on the machine", unknown.join(" and "))
        };
        say(&format!(
            "  expected length: about {}{more} (with about {} a part to start and write its files), within the timeout ({timeout})",
            config::approx(expected),
            config::approx(config::START_UP),
        ));
    }
    let needs = machine_needs(&plan);
    if machine {
        machine_check(&plan).map_err(|e| UsageError(format!("{}; {another}", one_line(&e))))?;
        say(&format!("checked on this machine: {}", needs.join("; ")));
    } else {
        say(&format!(
            "not checked (--plan-only), left to the machine that runs the plan: {}",
            needs.join("; ")
        ));
    }
    print!("{}", summary_lines(&plan));
    Ok(())
}

/// What the machine that runs `plan` must have, as [`machine_check`] checks it.
fn machine_needs(plan: &Plan) -> Vec<String> {
    let mut needs = vec![format!("cpu {} is online", plan.cpu)];
    if plan.role == Role::Test {
        needs.push(format!("SCHED_FIFO {} is allowed", plan.priority));
        if plan.rt_throttling == RtThrottling::Off {
            needs.push(format!(
                "RT throttling can be lifted ({} = off)",
                config::RT_THROTTLING
            ));
        }
        for planned in &plan.planned {
            if let Some(need) = planned.needs() {
                needs.push(format!("{}: {need}", planned.test().name()));
            }
        }
    }
    needs
}

/// Check on this machine what [`machine_needs`] lists (the CPU was checked when the plan
/// was read): the first problem, naming the test and the fix.
fn machine_check(plan: &Plan) -> Result<()> {
    if plan.role != Role::Test {
        return Ok(());
    }
    for planned in &plan.planned {
        if let Some(why) = cannot_run(planned.as_ref()) {
            let test = planned.test().name();
            anyhow::bail!("{test} cannot run on this machine: {why}");
        }
    }
    rt::check_fifo(plan.priority.0)?;
    if plan.rt_throttling == RtThrottling::Off {
        rt_setup::check_can_lift()?;
    }
    Ok(())
}

/// Why a listed test cannot run on this machine, with the test's fix and the plan's way
/// out; None when it can.
fn cannot_run(planned: &dyn Planned) -> Option<String> {
    let err = planned.preflight().err()?;
    let test = planned.test().name();
    Some(format!(
        "{}; or drop {test} from `tests =` in the plan",
        one_line(&err)
    ))
}

/// `report.html` for the run as it stands; a problem here is a warning, not a failure.
fn write_report(run: &Run) {
    let written = crate::report::html::render_run(&run.dir)
        .and_then(|page| write_file(&run.dir.join("report.html"), page.as_bytes()));
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
                "cannot lift RT throttling as the config asks ({key} = off): {}; run as root or set {key} = keep",
                e.root_cause(),
                key = config::RT_THROTTLING,
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
    let timeout_ends_plan = plan.role != Role::Test && plan.load_duration.0.is_none();
    if plan.hang().is_none_or(|(_, hang)| hang != Hang::Unwatched) {
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

/// Why the plan stopped before its end.
#[derive(Clone, Copy)]
enum Stop {
    /// The plan's timeout: the run failed.
    Timeout,
    /// SIGINT or SIGTERM: the run was interrupted.
    Signal(i32),
}

impl Stop {
    /// Why the plan ended early, if it did.
    fn now() -> Option<Stop> {
        if TIMED_OUT.load(Ordering::SeqCst) {
            Some(Stop::Timeout)
        } else if rt::stop_requested() {
            Some(Stop::Signal(rt::stop_signal().unwrap_or(libc::SIGTERM)))
        } else {
            None
        }
    }

    fn reason(self, plan: &Plan) -> String {
        match self {
            Stop::Timeout => timeout_reason(plan.timeout),
            Stop::Signal(s) => format!("interrupted by {}", rt::signal_name(s)),
        }
    }

    fn status(self) -> Status {
        match self {
            Stop::Timeout => Status::Failed,
            Stop::Signal(_) => Status::Interrupted,
        }
    }
}

/// Each listed test in run.json, interrupted until it ends.
fn register_tests(run: &Run, plan: &Plan) -> Result<()> {
    run.update(|r| {
        for planned in &plan.planned {
            let test = planned.test();
            r.tests.insert(
                test.name().to_string(),
                TestRecord {
                    status: Status::Interrupted,
                    file: test.file(),
                    error: None,
                    fail_above: None,
                },
            );
        }
    })
}

/// Run each listed test; a failing test fails the run but the others still run. After the
/// plan's timeout the tests left fail; after a signal they are not run and the run is
/// interrupted, its error listing what did not run.
fn run_tests(run: &Arc<Run>, plan: &Plan, setup: Option<&RtSetupRecord>) -> Result<()> {
    mark_first_sample(run)?;
    let mut cut: Vec<String> = Vec::new();
    let mut not_run: Vec<&str> = Vec::new();
    for planned in &plan.planned {
        let test = planned.test().name();
        if let Some(stop) = Stop::now() {
            let error = format!("not run: {}", stop.reason(plan));
            run.update(|r| set_test(r, test, stop.status(), Some(error)))?;
            not_run.push(test);
            continue;
        }
        say(&format!("{test}: starting"));
        let started = Instant::now();
        let mut fail_above = None;
        let outcome = measure(planned.as_ref(), plan, &run.dir, setup).and_then(|(missing, f)| {
            fail_above = f;
            if missing.is_empty() {
                return Ok(None);
            }
            let missing = missing.join("; ");
            match Stop::now() {
                Some(Stop::Signal(s)) => Ok(Some((s, missing))),
                Some(Stop::Timeout) => anyhow::bail!(
                    "{}: {missing}; partial results kept",
                    timeout_reason(plan.timeout)
                ),
                None => anyhow::bail!("{missing}; partial results kept"),
            }
        });
        match outcome {
            Ok(None) => {
                say(&format!(
                    "{test}: complete in {:.1} s",
                    started.elapsed().as_secs_f64()
                ));
                run.update(|r| {
                    set_test(r, test, Status::Complete, None);
                    record_threshold(r, test, fail_above.take());
                })?;
            }
            Ok(Some((signal, missing))) => {
                let error = format!(
                    "interrupted by {}: {missing}; partial results kept",
                    rt::signal_name(signal)
                );
                run.update(|r| {
                    set_test(r, test, Status::Interrupted, Some(error));
                    record_threshold(r, test, fail_above.take());
                })?;
                cut.push(format!("{test} {missing}"));
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
    if let Some(Stop::Signal(signal)) = Stop::now()
        && (!cut.is_empty() || !not_run.is_empty())
    {
        if !not_run.is_empty() {
            cut.push(format!("not run: {}", not_run.join(", ")));
        }
        let reason = format!(
            "stopped by {} before the plan finished: {}; partial results kept",
            rt::signal_name(signal),
            cut.join("; ")
        );
        interrupt(run, signal, reason)?;
    }
    Ok(())
}

/// Record that a signal stopped the plan before its end: `interrupted` (unless a test
/// failed already), with `reason` as the error.
fn interrupt(run: &Run, signal: i32, reason: String) -> Result<()> {
    *run.interrupted.lock().unwrap_or_else(|e| e.into_inner()) = Some(signal);
    run.update(|r| {
        r.error.get_or_insert(reason);
        r.finished = Some(utc_now());
    })
}

/// Every listed test's preflight, before the first one measures: whether all can run. If
/// one cannot, the run fails at once: that test records why, the others that they were
/// not run, and nothing is measured.
fn preflight(run: &Run, plan: &Plan) -> Result<bool> {
    let failures: Vec<(&str, String)> = plan
        .planned
        .iter()
        .filter_map(|p| Some((p.test().name(), cannot_run(p.as_ref())?)))
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
        for test in plan.tests.0.iter().map(|t| t.name()) {
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

/// A measured test's threshold (its result's `fail_above`), and the test among those that
/// crossed theirs when it did.
fn record_threshold(record: &mut RunRecord, test: &str, fail_above: Option<FailAbove>) {
    let Some(f) = fail_above else {
        return;
    };
    if f.is_crossed() && !record.threshold_crossed.iter().any(|t| t == test) {
        record.threshold_crossed.push(test.to_string());
    }
    if let Some(t) = record.tests.get_mut(test) {
        t.fail_above = Some(f);
    }
}

fn set_test(record: &mut RunRecord, test: &str, status: Status, error: Option<String>) {
    if let Some(t) = record.tests.get_mut(test) {
        t.status = status;
        t.error = error;
    }
}

/// Run one test: its JSON at each checkpoint (what a run cut short needs), its summary and
/// all its files (JSON, CSV, SVG) once at the end; returns what it lacks (nothing when it
/// completed) and what its threshold found.
fn measure(
    planned: &dyn Planned,
    plan: &Plan,
    dir: &Path,
    setup: Option<&RtSetupRecord>,
) -> Result<(Vec<String>, Option<FailAbove>)> {
    let name = planned.test().name();
    let pacer = test::Pacer::default();
    let result = planned.run(setup, &mut |partial| {
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
    // The summary first: the measurement is on the console whatever happens to the files.
    if !result.complete() {
        let why = match Stop::now() {
            Some(stop @ Stop::Signal(_)) => stop.reason(plan),
            Some(Stop::Timeout) => "stopped at the plan's timeout".to_string(),
            None => "incomplete".to_string(),
        };
        say(&test::shortfall(result.as_ref(), &why));
    }
    for line in result.summary().lines() {
        say(line);
    }
    if let Some(line) = test::fail_above_summary(result.as_ref()) {
        say(line.trim_start());
    }
    test::write_all_files(dir, result.as_ref())?;
    Ok((result.missing(), result.fail_above().cloned()))
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
    let stats = load::generate(kind, Some(plan.cpu.0), plan.load_duration.0)?;
    say(&format!(
        "load: {} rounds in {:.1} s",
        stats.rounds, stats.seconds
    ));
    let failure = (TIMED_OUT.load(Ordering::SeqCst) && plan.load_duration.0.is_some())
        .then(|| timeout_reason(plan.timeout));
    run.update(|r| {
        r.load = Some(stats);
        if let Some(reason) = &failure {
            r.status = Status::Failed;
            r.error.get_or_insert_with(|| reason.clone());
        }
    })?;
    match Stop::now() {
        Some(Stop::Signal(signal)) => {
            let until = match plan.load_duration.0 {
                Some(d) => format!("the {} asked", duration::format(d)),
                None => "the plan's timeout".to_string(),
            };
            let reason = format!(
                "stopped by {} after {:.1} s, before {until}",
                rt::signal_name(signal),
                stats.seconds
            );
            interrupt(run, signal, reason)
        }
        _ => Ok(()),
    }
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
        "the plan's timeout ({}) was reached before the plan finished; raise '{}' in the config or shorten the tests",
        duration::format(timeout),
        config::TIMEOUT
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
                duration::format(timeout)
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
            duration::format(grace),
            duration::format(timeout)
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
    for id in run_ids(&stamp) {
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
    Err(too_many_runs(&stamp, results))
}

/// The run ids of a run started at `stamp`, in the order they are tried: the stamp, then
/// the stamp with `-1`, `-2`, ... where it is taken.
fn run_ids(stamp: &str) -> impl Iterator<Item = String> + '_ {
    (0..1000).map(move |n| match n {
        0 => stamp.to_string(),
        n => format!("{stamp}-{n}"),
    })
}

fn too_many_runs(stamp: &str, results: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "too many runs named {stamp}-N in {}; clean it up",
        results.display()
    )
}

/// The id [`create_run_dir`] would give a run started now in `results` (nothing created).
fn free_run_id(results: &Path) -> Result<String> {
    let stamp = utc_stamp(SystemTime::now());
    run_ids(&stamp)
        .find(|id| !results.join(id).exists())
        .ok_or_else(|| too_many_runs(&stamp, results))
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
            "plan: tests {} on cpu {} at SCHED_FIFO {}, {} {}, timeout {}",
            plan.tests,
            plan.cpu,
            plan.priority,
            config::RT_THROTTLING,
            if plan.rt_throttling == RtThrottling::Off {
                "off"
            } else {
                "kept"
            },
            duration::format(plan.timeout)
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
                .0
                .map(duration::format)
                .unwrap_or_else(|| format!(
                    "ever (until the timeout, {})",
                    duration::format(plan.timeout)
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
        // The id --check names is the one a run would take: free, and then taken.
        let free = free_run_id(&base).unwrap();
        assert!(!base.join(&free).exists());
        let (taken, _) = create_run_dir(&base, None).unwrap();
        assert!(free == taken || taken > free, "{free} then {taken}");
        assert_ne!(free_run_id(&base).unwrap(), taken);
        fs::remove_dir_all(&base).unwrap();
    }
}
