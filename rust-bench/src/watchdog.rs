//! The last resort against a run that does not end: watchdogs that the measuring threads
//! cannot starve.
//!
//! The tests measure at SCHED_FIFO (99 in the paper's plan) with RT throttling and the
//! fair_server lifted, so a measuring thread that stops sleeping (a bug, a clock that goes
//! backwards) would keep every SCHED_OTHER task off the CPU for good. The watchdogs here run
//! under SCHED_DEADLINE, which the kernel schedules before every SCHED_FIFO priority, with a
//! small budget ([`RUNTIME`] every [`PERIOD`]): they preempt the measurement the moment their
//! timer fires, and the measurement keeps its priority, as in the paper.
//!
//! Firing, a watchdog first takes the CPU back from the real-time threads: writing a file and
//! switching off need the kernel's interrupt threads (SCHED_FIFO 50 on PREEMPT_RT) and
//! workers, which a spinning SCHED_FIFO 99 thread would starve. `rust-bench run`'s own
//! deadline thread moves its process's other threads to SCHED_OTHER; `rust-bench watchdog`
//! (the appliance's) moves every real-time user thread to SCHED_OTHER and stops its process
//! with SIGSTOP, then marks the run failed, syncs and powers the machine off.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args as ClapArgs;

use crate::rt;

/// SCHED_DEADLINE budget: at most this much CPU time...
pub const RUNTIME: Duration = Duration::from_millis(2);
/// ...in every period (2 %; the kernel admits deadline tasks up to the RT limit, 95 %).
pub const PERIOD: Duration = Duration::from_millis(100);

/// Switch the machine off after a time, whatever is running (the appliance's last resort).
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Seconds to wait before acting.
    #[arg(long, value_name = "SECONDS")]
    pub after: u64,
    /// Why the machine is switched off: printed on the console and recorded in run.json.
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// The run's run.json: marked failed with the reason if it still says interrupted.
    #[arg(long, value_name = "FILE")]
    pub run_json: Option<PathBuf>,
    /// Test only: do everything but the power-off (exit instead), log on stderr, and take
    /// the CPU back only from processes started by the watchdog's parent.
    #[arg(long, hide = true)]
    pub no_poweroff: bool,
}

/// `rust-bench watchdog`.
pub fn main(args: Args) -> Result<()> {
    let log = |line: &str| say(line, !args.no_poweroff);
    if let Err(err) = enter_deadline() {
        log(&format!(
            "warning: {err:#}; the watchdog falls back to SCHED_FIFO 99"
        ));
        if let Err(err) = rt::set_fifo(99) {
            log(&format!(
                "warning: {err:#}; the watchdog runs at normal priority"
            ));
        }
    }
    std::thread::sleep(Duration::from_secs(args.after));
    let scope = if args.no_poweroff {
        Scope::SiblingsOf(parent_pid())
    } else {
        Scope::All
    };
    let frozen = freeze_realtime(scope);
    log(&args.reason);
    if !frozen.is_empty() {
        log(&format!(
            "watchdog: stopped the real-time processes {}",
            frozen.join(", ")
        ));
    }
    if let Some(file) = &args.run_json {
        match mark_failed(file, &args.reason) {
            Ok(true) => log(&format!("watchdog: {} marked failed", file.display())),
            Ok(false) => {}
            Err(err) => log(&format!("watchdog: {err:#}")),
        }
    }
    if args.no_poweroff {
        return Ok(());
    }
    power_off()
}

/// Where a watchdog's lines go: the kernel log (the console, timestamped) on the appliance,
/// stderr otherwise. Writing to /dev/kmsg never waits for the console.
fn say(line: &str, kmsg: bool) {
    if kmsg
        && let Ok(mut f) = fs::OpenOptions::new().write(true).open("/dev/kmsg")
        && f.write_all(format!("<5>rust-bench: {line}\n").as_bytes())
            .is_ok()
    {
        return;
    }
    eprintln!("rust-bench: {line}");
}

/// Move the calling thread to SCHED_DEADLINE with the watchdog's budget. The thread's
/// affinity must allow every CPU (the kernel refuses a deadline task pinned to fewer).
#[cfg(target_os = "linux")]
pub fn enter_deadline() -> Result<()> {
    let period = PERIOD.as_nanos() as u64;
    let attr = libc::sched_attr {
        size: std::mem::size_of::<libc::sched_attr>() as u32,
        sched_policy: libc::SCHED_DEADLINE as u32,
        sched_flags: 0,
        sched_nice: 0,
        sched_priority: 0,
        sched_runtime: RUNTIME.as_nanos() as u64,
        sched_deadline: period,
        sched_period: period,
    };
    // SAFETY: sched_setattr(2) on the calling thread (pid 0) only reads `attr`, a valid,
    // fully initialised sched_attr whose `size` field is its own size.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_sched_setattr,
            0,
            &attr as *const libc::sched_attr,
            0,
        )
    };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        anyhow::bail!(
            "cannot run the watchdog under SCHED_DEADLINE ({err}); run as root, on all CPUs (no taskset)"
        );
    }
    Ok(())
}

/// The calling thread's kernel id.
#[cfg(target_os = "linux")]
fn gettid() -> i32 {
    // SAFETY: gettid(2) has no arguments and cannot fail.
    unsafe { libc::gettid() }
}

/// Move a thread to SCHED_OTHER; true when it worked.
#[cfg(target_os = "linux")]
fn make_normal(tid: i32) -> bool {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: sched_setscheduler(2) only reads `param`, a valid sched_param.
    unsafe { libc::sched_setscheduler(tid, libc::SCHED_OTHER, &param) == 0 }
}

/// Move every other thread of this process to SCHED_OTHER, so that the kernel's threads
/// (interrupts, writeback) run again even if a measuring thread spins. Returns how many.
#[cfg(target_os = "linux")]
pub fn demote_other_threads() -> usize {
    let me = gettid();
    task_ids(Path::new("/proc/self/task"))
        .into_iter()
        .filter(|&tid| tid != me && make_normal(tid))
        .count()
}

/// Which processes the outer watchdog may stop.
#[derive(Debug, Clone, Copy)]
enum Scope {
    /// Every user process but this one and init.
    All,
    /// Only processes descending from this one (tests: never touch the rest of the host).
    SiblingsOf(i32),
}

/// Numeric entries of a /proc directory.
fn task_ids(dir: &Path) -> Vec<i32> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect()
}

/// The fields of /proc/.../stat after the command name: field 3 (state) is index 0.
fn stat_fields(path: &Path) -> Option<Vec<String>> {
    let text = fs::read_to_string(path).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// stat field N (1-based, as in proc(5)).
fn field(fields: &[String], n: usize) -> Option<&str> {
    fields.get(n.checked_sub(3)?).map(String::as_str)
}

const PF_KTHREAD: u64 = 0x0020_0000;

fn parent_pid() -> i32 {
    stat_fields(Path::new("/proc/self/stat"))
        .and_then(|f| field(&f, 4)?.parse().ok())
        .unwrap_or(1)
}

/// Stop every user process (in `scope`) that has a thread under SCHED_FIFO, SCHED_RR or
/// SCHED_DEADLINE: its real-time threads are moved to SCHED_OTHER at once, then the process
/// gets SIGSTOP (taken when a spinning thread next returns to user space, at the next
/// tick). Waits up to 2 s for them to stop. Returns "PID (name)" for each.
#[cfg(target_os = "linux")]
fn freeze_realtime(scope: Scope) -> Vec<String> {
    let me = std::process::id() as i32;
    let mut parents = std::collections::HashMap::new();
    let mut candidates = Vec::new();
    for pid in task_ids(Path::new("/proc")) {
        let Some(stat) = stat_fields(&Path::new("/proc").join(pid.to_string()).join("stat")) else {
            continue;
        };
        if let Some(ppid) = field(&stat, 4).and_then(|p| p.parse::<i32>().ok()) {
            parents.insert(pid, ppid);
        }
        let kernel = field(&stat, 9)
            .and_then(|f| f.parse::<u64>().ok())
            .is_none_or(|flags| flags & PF_KTHREAD != 0);
        if pid != me && pid != 1 && !kernel {
            candidates.push(pid);
        }
    }
    let in_scope = |pid: i32| match scope {
        Scope::All => true,
        Scope::SiblingsOf(root) => {
            let mut p = pid;
            for _ in 0..64 {
                match parents.get(&p) {
                    Some(&parent) if parent == root => return true,
                    Some(&parent) if parent > 1 => p = parent,
                    _ => return false,
                }
            }
            false
        }
    };
    let mut frozen = Vec::new();
    for pid in candidates.into_iter().filter(|&p| in_scope(p)) {
        let tasks = Path::new("/proc").join(pid.to_string()).join("task");
        let realtime: Vec<i32> = task_ids(&tasks)
            .into_iter()
            .filter(|tid| {
                stat_fields(&tasks.join(tid.to_string()).join("stat"))
                    .and_then(|f| field(&f, 41)?.parse::<i32>().ok())
                    .is_some_and(|policy| {
                        matches!(
                            policy,
                            libc::SCHED_FIFO | libc::SCHED_RR | libc::SCHED_DEADLINE
                        )
                    })
            })
            .collect();
        if realtime.is_empty() {
            continue;
        }
        for &tid in &realtime {
            make_normal(tid);
        }
        // SAFETY: kill(2) with a valid signal number; it has no memory-safety preconditions.
        unsafe { libc::kill(pid, libc::SIGSTOP) };
        let name = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        frozen.push((pid, format!("{pid} ({})", name.trim())));
    }
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until
        && !frozen.iter().all(|(pid, _)| {
            stat_fields(Path::new(&format!("/proc/{pid}/stat")))
                .and_then(|f| field(&f, 3).map(|s| s == "T" || s == "t" || s == "Z"))
                .unwrap_or(true)
        })
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    frozen.into_iter().map(|(_, name)| name).collect()
}

/// Mark a pretty-printed run.json that still says `"status": "interrupted"` as failed with
/// `reason` (kept if it has an error already). The file is edited in place, key order and
/// all, and written atomically. Returns whether it changed anything.
pub fn mark_failed(file: &Path, reason: &str) -> Result<bool> {
    let text = fs::read_to_string(file)
        .with_context(|| format!("cannot read {} to mark the run failed", file.display()))?;
    let Some(updated) = failed_text(&text, reason) else {
        return Ok(false);
    };
    crate::output::write_atomic(file, updated.as_bytes())
        .with_context(|| format!("cannot mark {} failed", file.display()))?;
    Ok(true)
}

/// The text of a run record marked failed, or None when its status is not `interrupted`.
fn failed_text(text: &str, reason: &str) -> Option<String> {
    // Top-level keys of serde_json's pretty printer sit at exactly two spaces.
    let status = "\n  \"status\": \"interrupted\"";
    if !text.contains(status) {
        return None;
    }
    let reason = serde_json::to_string(reason).ok()?;
    let mut out = text.replacen(status, "\n  \"status\": \"failed\"", 1);
    out = out.replacen(
        "\n  \"error\": null",
        &format!("\n  \"error\": {reason}"),
        1,
    );
    serde_json::from_str::<serde_json::Value>(&out).ok()?;
    Some(out)
}

/// Flush the file systems and switch the machine off (reboot(2) with RB_POWER_OFF: no
/// fork, no init involved, so it works from a SCHED_DEADLINE process).
#[cfg(target_os = "linux")]
fn power_off() -> Result<()> {
    // SAFETY: sync(2) and reboot(2) take no pointers; reboot needs CAP_SYS_BOOT and only
    // returns on failure.
    unsafe {
        libc::sync();
        libc::reboot(libc::RB_POWER_OFF);
    }
    let err = std::io::Error::last_os_error();
    anyhow::bail!("cannot switch the machine off ({err}); the watchdog needs root")
}

/// Test only (`clock_tick.hang = yes` in a plan): become the measuring thread clock-tick
/// would be, pinned at SCHED_FIFO `priority`, and spin for ever without sleeping and
/// without looking at stop requests, as a measuring thread with a bug would.
#[cfg(target_os = "linux")]
pub fn spin_forever(cpu: usize, priority: i32) -> Result<bool> {
    rt::pin_current_thread(cpu)?;
    rt::set_fifo(priority)?;
    // Plain arithmetic, no `pause` (spin_loop): under QEMU's TCG each pause leaves the
    // translated code, and with -icount the guest's clock would then crawl.
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

#[cfg(not(target_os = "linux"))]
mod stubs {
    use super::Scope;
    use anyhow::Result;

    fn unsupported() -> anyhow::Error {
        anyhow::anyhow!("the watchdog needs Linux")
    }
    pub fn enter_deadline() -> Result<()> {
        Err(unsupported())
    }
    pub fn demote_other_threads() -> usize {
        0
    }
    pub(super) fn freeze_realtime(_scope: Scope) -> Vec<String> {
        Vec::new()
    }
    pub(super) fn power_off() -> Result<()> {
        Err(unsupported())
    }
    pub fn spin_forever(_cpu: usize, _priority: i32) -> Result<bool> {
        Err(unsupported())
    }
}
#[cfg(not(target_os = "linux"))]
use stubs::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_only_an_interrupted_run() {
        let text = "{\n  \"schema\": 1,\n  \"status\": \"interrupted\",\n  \"error\": null,\n  \"tests\": {\n    \"clock-tick\": {\n      \"status\": \"interrupted\"\n    }\n  }\n}\n";
        let out = failed_text(text, "the \"watchdog\" fired").unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["status"], "failed");
        assert_eq!(v["error"], "the \"watchdog\" fired");
        assert_eq!(v["tests"]["clock-tick"]["status"], "interrupted");
        assert!(out.find("schema") < out.find("status"), "key order kept");
        assert!(failed_text(&out, "again").is_none());
        let with_error = text.replace("\"error\": null", "\"error\": \"first\"");
        let v: serde_json::Value =
            serde_json::from_str(&failed_text(&with_error, "second").unwrap()).unwrap();
        assert_eq!(v["error"], "first");
    }

    #[test]
    fn stat_fields_after_the_name() {
        let dir = std::env::temp_dir().join(format!("rb-stat-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("stat");
        fs::write(&file, "42 (a (b) c) R 7 42 42 0 -1 4194560 0").unwrap();
        let f = stat_fields(&file).unwrap();
        assert_eq!(field(&f, 3), Some("R"));
        assert_eq!(field(&f, 4), Some("7"));
        assert_eq!(field(&f, 9), Some("4194560"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
