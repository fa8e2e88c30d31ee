//! The machine side of the watchdogs that the measuring threads cannot starve:
//! SCHED_DEADLINE, taking the CPU back from real-time threads, and the power-off.
//!
//! The tests measure at SCHED_FIFO (99 in the paper's plan) with RT throttling and the
//! fair_server lifted, so a measuring thread that stops sleeping (a bug, a clock that goes
//! backwards) would keep every SCHED_OTHER task off the CPU for good. A watchdog runs under
//! SCHED_DEADLINE ([`enter_deadline`]), which the kernel schedules before every SCHED_FIFO
//! priority, with a small budget ([`RUNTIME`] every [`PERIOD`]): it preempts the
//! measurement the moment its timer fires, and the measurement keeps its priority, as in
//! the paper.
//!
//! Firing, a watchdog first takes the CPU back from the real-time threads: writing a file and
//! switching off need the kernel's interrupt threads (SCHED_FIFO 50 on PREEMPT_RT) and
//! workers, which a spinning SCHED_FIFO 99 thread would starve. `rust-bench run`'s own
//! deadline thread moves its process's other threads to SCHED_OTHER
//! ([`demote_other_threads`]); `rust-bench watchdog` (the appliance's) moves every real-time
//! user thread to SCHED_OTHER and stops its process ([`freeze_realtime`]), then marks the run
//! failed and switches the machine off ([`power_off`]).

use std::fs;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;

/// SCHED_DEADLINE budget: at most this much CPU time...
pub const RUNTIME: Duration = Duration::from_millis(2);
/// ...in every period (2 %; the kernel admits deadline tasks up to the RT limit, 95 %).
pub const PERIOD: Duration = Duration::from_millis(100);

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
    // nix has no sched_setattr (and glibc before 2.41 no wrapper): the raw system call.
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

/// Move a thread to SCHED_OTHER; true when it worked.
#[cfg(target_os = "linux")]
fn make_normal(tid: i32) -> bool {
    let param = libc::sched_param { sched_priority: 0 };
    // nix has no sched_setscheduler (nor sched_param).
    // SAFETY: sched_setscheduler(2) only reads `param`, a valid sched_param; a thread id that
    // is gone only makes it fail (ESRCH).
    unsafe { libc::sched_setscheduler(tid, libc::SCHED_OTHER, &param) == 0 }
}

/// Move every other thread of this process to SCHED_OTHER, so that the kernel's threads
/// (interrupts, writeback) run again even if a measuring thread spins. Returns how many.
#[cfg(target_os = "linux")]
pub fn demote_other_threads() -> usize {
    let me = nix::unistd::gettid().as_raw();
    task_ids(Path::new("/proc/self/task"))
        .into_iter()
        .filter(|&tid| tid != me && make_normal(tid))
        .count()
}

/// Which processes [`freeze_realtime`] may stop.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// Every user process but this one and init.
    All,
    /// Only processes descending from this one (tests: never touch the rest of the host).
    SiblingsOf(i32),
}

/// Numeric entries of a /proc directory.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
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

#[cfg(target_os = "linux")]
const PF_KTHREAD: u64 = 0x0020_0000;

/// The parent of this process (1 when it cannot be read).
pub fn parent_pid() -> i32 {
    stat_fields(Path::new("/proc/self/stat"))
        .and_then(|f| field(&f, 4)?.parse().ok())
        .unwrap_or(1)
}

/// Stop every user process (in `scope`) that has a thread under SCHED_FIFO, SCHED_RR or
/// SCHED_DEADLINE: its real-time threads are moved to SCHED_OTHER at once, then the process
/// gets SIGSTOP (taken when a spinning thread next returns to user space, at the next
/// tick). Waits up to 2 s for them to stop. Returns "PID (name)" for each.
#[cfg(target_os = "linux")]
pub fn freeze_realtime(scope: Scope) -> Vec<String> {
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
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGSTOP,
        );
        let name = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        frozen.push((pid, format!("{pid} ({})", name.trim())));
    }
    let until = std::time::Instant::now() + Duration::from_secs(2);
    while std::time::Instant::now() < until
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

/// Flush the file systems and switch the machine off (reboot(2) with RB_POWER_OFF: no
/// fork, no init involved, so it works from a SCHED_DEADLINE process).
#[cfg(target_os = "linux")]
pub fn power_off() -> Result<()> {
    nix::unistd::sync();
    // reboot needs CAP_SYS_BOOT and only returns on failure.
    let Err(errno) = nix::sys::reboot::reboot(nix::sys::reboot::RebootMode::RB_POWER_OFF);
    let err = std::io::Error::from(errno);
    anyhow::bail!("cannot switch the machine off ({err}); the watchdog needs root")
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
    pub fn freeze_realtime(_scope: Scope) -> Vec<String> {
        Vec::new()
    }
    pub fn power_off() -> Result<()> {
        Err(unsupported())
    }
}
#[cfg(not(target_os = "linux"))]
pub use stubs::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_after_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("stat");
        fs::write(&file, "42 (a (b) c) R 7 42 42 0 -1 4194560 0").unwrap();
        let f = stat_fields(&file).unwrap();
        assert_eq!(field(&f, 3), Some("R"));
        assert_eq!(field(&f, 4), Some("7"));
        assert_eq!(field(&f, 9), Some("4194560"));
    }
}
