//! Real-time setup: SCHED_FIFO, CPU affinity, locked memory, RT throttling, stop signals,
//! absolute sleeps. Everything here is Linux-specific; other systems get stubs that fail
//! with a clear message, so the report and pull commands still build there.

#[cfg(target_os = "linux")]
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::Mutex;
#[cfg(target_os = "linux")]
use std::sync::OnceLock;
#[cfg(target_os = "linux")]
use std::sync::atomic::AtomicI32;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;

use crate::results::environment::{FairServer, Throttling};

pub const RT_RUNTIME: &str = "/proc/sys/kernel/sched_rt_runtime_us";
pub const RT_PERIOD: &str = "/proc/sys/kernel/sched_rt_period_us";

static STOP: AtomicBool = AtomicBool::new(false);

/// True once SIGINT or SIGTERM arrived (after [`install_stop_handler`]) or [`request_stop`].
#[inline(always)]
pub fn stop_requested() -> bool {
    STOP.load(Ordering::Relaxed)
}

/// Ask the running measurement to end at its next check.
#[allow(dead_code)] // for the plan executor (e.g. on its own timeout)
pub fn request_stop() {
    STOP.store(true, Ordering::Relaxed);
    wake_sleepers();
}

/// Wakes [`sleep_until_stopped`] when a stop is requested.
static STOP_WAKE: (std::sync::Mutex<()>, std::sync::Condvar) =
    (std::sync::Mutex::new(()), std::sync::Condvar::new());

fn wake_sleepers() {
    let _held = STOP_WAKE.0.lock().unwrap_or_else(|e| e.into_inner());
    STOP_WAKE.1.notify_all();
}

/// Sleep until `deadline`, or until a stop is requested (a signal, or [`request_stop`]):
/// a long sleep that need not wake now and then to look for a stop.
pub fn sleep_until_stopped(deadline: std::time::Instant) {
    let mut held = STOP_WAKE.0.lock().unwrap_or_else(|e| e.into_inner());
    while !stop_requested() {
        let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) else {
            return;
        };
        held = match STOP_WAKE.1.wait_timeout(held, left) {
            Ok((g, _)) => g,
            Err(e) => e.into_inner().0,
        };
    }
}

/// Forget an earlier stop request (before a new measurement in the same process).
#[allow(dead_code)]
pub fn clear_stop() {
    STOP.store(false, Ordering::Relaxed);
    #[cfg(target_os = "linux")]
    SIGNAL.store(0, Ordering::Relaxed);
}

/// The first stop signal that arrived (0: none).
#[cfg(target_os = "linux")]
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// The signal that asked the measurement to stop (SIGINT or SIGTERM), if one did; None
/// also when only [`request_stop`] did.
pub fn stop_signal() -> Option<i32> {
    #[cfg(target_os = "linux")]
    {
        Some(SIGNAL.load(Ordering::Relaxed)).filter(|&s| s != 0)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// `SIGINT`, `SIGTERM`, or `signal N`.
pub fn signal_name(signal: i32) -> String {
    #[cfg(target_os = "linux")]
    {
        match signal {
            libc::SIGINT => return "SIGINT".to_string(),
            libc::SIGTERM => return "SIGTERM".to_string(),
            _ => {}
        }
    }
    format!("signal {signal}")
}

/// What a second stop signal runs before the process exits (see [`on_second_signal`]).
static CLEANUPS: Mutex<Vec<fn()>> = Mutex::new(Vec::new());

/// The write end of the pipe through which the signal handler wakes the stop watcher (set
/// once, never closed; reading it is an atomic load, which a signal handler may do).
#[cfg(target_os = "linux")]
static SIGNAL_PIPE: OnceLock<OwnedFd> = OnceLock::new();

/// Run `cleanup` if a second SIGINT or SIGTERM ends the process before the first one's
/// orderly end (e.g. put back the RT settings, stop a kernel tracer). Registered once per
/// function; each runs at most once.
pub fn on_second_signal(cleanup: fn()) {
    let mut list = CLEANUPS.lock().unwrap_or_else(|e| e.into_inner());
    if !list.contains(&cleanup) {
        list.push(cleanup);
    }
}

#[cfg(target_os = "linux")]
extern "C" fn on_stop_signal(signal: libc::c_int) {
    // Atomic operations and a write(2) to a pipe: all async-signal-safe.
    let _ = SIGNAL.compare_exchange(0, signal, Ordering::Relaxed, Ordering::Relaxed);
    STOP.store(true, Ordering::Relaxed);
    if let Some(fd) = SIGNAL_PIPE.get() {
        // The signal's number (SIGINT 2, SIGTERM 15) as the byte, for the exit status. A full
        // pipe (EAGAIN, non-blocking) only drops a wake-up already pending.
        let _ = nix::unistd::write(fd, &[signal as u8]);
    }
}

/// Make SIGINT and SIGTERM set the stop flag instead of killing the process, so a run ends
/// cleanly and still writes its (incomplete) results. A second signal runs the cleanups
/// registered with [`on_second_signal`] and exits with status 128 + that signal's number
/// (130 for SIGINT, 143 for SIGTERM): nothing the run changed on the machine is left behind
/// by an impatient user.
pub fn install_stop_handler() {
    #[cfg(target_os = "linux")]
    {
        use nix::fcntl::{FcntlArg, OFlag, fcntl};
        use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
        if SIGNAL_PIPE.get().is_none()
            && let Ok((read_end, write_end)) = nix::unistd::pipe2(OFlag::O_CLOEXEC)
        {
            // Non-blocking, so that the handler can never block.
            let _ = fcntl(&write_end, FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
            let spawned = std::thread::Builder::new()
                .name("rust-bench-stop".into())
                .spawn(move || watch_stop_signals(read_end));
            if spawned.is_ok() {
                let _ = SIGNAL_PIPE.set(write_end);
            }
        }
        // Without the watcher (no pipe), SA_RESETHAND keeps "a second signal terminates".
        let flags = if SIGNAL_PIPE.get().is_none() {
            SaFlags::SA_RESETHAND
        } else {
            SaFlags::empty()
        };
        let action = SigAction::new(SigHandler::Handler(on_stop_signal), flags, SigSet::empty());
        for sig in [Signal::SIGINT, Signal::SIGTERM] {
            // SAFETY: nix's sigaction is unsafe because a handler may interrupt any code;
            // on_stop_signal does only async-signal-safe work (atomic operations, a OnceLock
            // read, which is an atomic load, and one write(2)), and nothing else in the
            // process handles SIGINT or SIGTERM.
            unsafe {
                let _ = sigaction(sig, &action);
            }
        }
    }
}

/// The stop watcher: at the second signal, run the cleanups and exit.
#[cfg(target_os = "linux")]
fn watch_stop_signals(fd: OwnedFd) {
    let mut seen = 0;
    let mut byte = [0u8; 1];
    loop {
        match nix::unistd::read(&fd, &mut byte) {
            Ok(1) => {
                seen += 1;
                wake_sleepers();
            }
            Err(nix::errno::Errno::EINTR) => continue,
            _ => return,
        }
        if seen >= 2 {
            eprintln!(
                "rust-bench: a second stop signal: putting the machine's settings back, then exiting"
            );
            let cleanups = CLEANUPS.lock().unwrap_or_else(|e| e.into_inner()).clone();
            for cleanup in cleanups {
                cleanup();
            }
            std::process::exit(128 + i32::from(byte[0]));
        }
    }
}

/// Parse a kernel CPU list such as "0-3,5,7-8".
pub fn parse_cpu_list(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.trim().parse::<usize>(), b.trim().parse::<usize>()) {
                    out.extend(a..=b.min(a + 4096));
                }
            }
            None => {
                if let Ok(a) = part.trim().parse() {
                    out.push(a);
                }
            }
        }
    }
    out
}

/// Format CPUs as a compact list ("0-3,6").
pub fn format_cpu_list(cpus: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let start = cpus[i];
        let mut end = start;
        while i + 1 < cpus.len() && cpus[i + 1] == end + 1 {
            i += 1;
            end = cpus[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(",")
}

/// CPUs this process may run on: online and in its affinity mask.
pub fn usable_cpus() -> Vec<usize> {
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online")
        .map(|s| parse_cpu_list(&s))
        .unwrap_or_default();
    #[cfg(target_os = "linux")]
    {
        use nix::sched::{CpuSet, sched_getaffinity};
        if let Ok(set) = sched_getaffinity(nix::unistd::Pid::from_raw(0)) {
            let allowed: Vec<usize> = (0..CpuSet::count())
                .filter(|&i| set.is_set(i).unwrap_or(false))
                .collect();
            if online.is_empty() {
                return allowed;
            }
            return online.into_iter().filter(|c| allowed.contains(c)).collect();
        }
    }
    online
}

/// Check that `cpu` exists, is online and allowed (a usage error naming the valid CPUs).
pub fn check_cpu(cpu: usize) -> Result<()> {
    let cpus = usable_cpus();
    if !cpus.is_empty() && !cpus.contains(&cpu) {
        crate::usage!(
            "CPU {cpu} is not online on this machine; use one of CPUs {}",
            format_cpu_list(&cpus)
        );
    }
    Ok(())
}

/// Pin the calling thread to one CPU.
#[cfg(target_os = "linux")]
pub fn pin_current_thread(cpu: usize) -> Result<()> {
    check_cpu(cpu)?;
    pin_current_thread_to(&[cpu]).map_err(|e| match e.is::<crate::error::UsageError>() {
        true => e,
        false => anyhow::anyhow!("{e}; pick another CPU with --cpu"),
    })
}

/// Pin the calling thread to `cpus` (online CPUs, each below `CPU_SETSIZE`).
#[cfg(target_os = "linux")]
pub fn pin_current_thread_to(cpus: &[usize]) -> Result<()> {
    let mut set = nix::sched::CpuSet::new();
    for &cpu in cpus {
        if set.set(cpu).is_err() {
            crate::usage!("CPU {cpu} is beyond the supported CPU numbers; pick a smaller one");
        }
    }
    if let Err(errno) = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set) {
        let err = std::io::Error::from(errno);
        anyhow::bail!(
            "cannot pin the thread to CPU {}: {err}",
            format_cpu_list(cpus)
        );
    }
    Ok(())
}

/// Make the calling thread SCHED_FIFO at `priority`.
#[cfg(target_os = "linux")]
pub fn set_fifo(priority: i32) -> Result<()> {
    set_policy(libc::SCHED_FIFO, priority)
}

#[cfg(target_os = "linux")]
fn set_policy(policy: libc::c_int, priority: i32) -> Result<()> {
    let param = libc::sched_param {
        sched_priority: priority,
    };
    let rc = set_own_sched(policy, &param);
    if rc == libc::EPERM {
        anyhow::bail!(
            "no permission for SCHED_FIFO priority {priority}; run as root or grant CAP_SYS_NICE/rtprio (e.g. '@realtime - rtprio 99' in /etc/security/limits.conf)"
        );
    }
    if rc != 0 {
        let err = std::io::Error::from_raw_os_error(rc);
        anyhow::bail!(
            "cannot set scheduling policy {policy} priority {priority}: {err}; use a priority between 1 and 99"
        );
    }
    Ok(())
}

/// pthread_setschedparam(3) on the calling thread: 0, or the error number.
#[cfg(target_os = "linux")]
fn set_own_sched(policy: libc::c_int, param: &libc::sched_param) -> libc::c_int {
    // nix has no pthread_setschedparam (nor sched_setscheduler, nor sched_param).
    // SAFETY: pthread_self() is the calling thread, alive during the call; `param` is a valid
    // sched_param that the call only reads.
    unsafe { libc::pthread_setschedparam(libc::pthread_self(), policy, param) }
}

/// Fail early, with the one-line message, when SCHED_FIFO at `priority` is not allowed
/// (tried on a short-lived thread, so the caller's scheduling is untouched).
pub fn check_fifo(priority: i32) -> Result<()> {
    // A small stack: glibc caches exited threads' stacks, and a later mlockall would lock
    // (and fault in) a default 2 MiB one.
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn_scoped(s, || set_fifo(priority))
            .map_err(|e| anyhow::anyhow!("cannot start a thread: {e}"))?
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the SCHED_FIFO probe thread failed")))
    })
}

/// Saves the calling thread's scheduling policy and affinity; restores them when dropped,
/// so a measurement can run on the caller's thread and leave it as it was.
#[cfg(target_os = "linux")]
pub struct ThreadSchedGuard {
    policy: libc::c_int,
    param: libc::sched_param,
    affinity: Option<nix::sched::CpuSet>,
}

#[cfg(target_os = "linux")]
impl ThreadSchedGuard {
    pub fn save() -> ThreadSchedGuard {
        let mut policy = 0;
        let mut param = libc::sched_param { sched_priority: 0 };
        // nix has no pthread_getschedparam.
        // SAFETY: pthread_self() is the calling thread, alive during the call; both
        // out-pointers are valid for writes of their types.
        unsafe { libc::pthread_getschedparam(libc::pthread_self(), &mut policy, &mut param) };
        ThreadSchedGuard {
            policy,
            param,
            affinity: nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)).ok(),
        }
    }
}

#[cfg(target_os = "linux")]
impl Drop for ThreadSchedGuard {
    fn drop(&mut self) {
        set_own_sched(self.policy, &self.param);
        if let Some(set) = &self.affinity {
            let _ = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), set);
        }
    }
}

/// Lock all current and future memory (mlockall). Returns false (with a warning on stderr)
/// when the kernel refuses.
#[cfg(target_os = "linux")]
pub fn lock_memory() -> bool {
    use nix::sys::mman::{MlockAllFlags, mlockall};
    if let Err(errno) = mlockall(MlockAllFlags::MCL_CURRENT | MlockAllFlags::MCL_FUTURE) {
        let err = std::io::Error::from(errno);
        eprintln!(
            "rust-bench: warning: mlockall failed ({err}); page faults may disturb the measurement"
        );
        return false;
    }
    true
}

/// Ask the kernel to keep every CPU out of idle states that take longer than 0 µs to leave,
/// as cyclictest does by default: a PM QoS request through /dev/cpu_dma_latency, in force
/// while the returned file is open and withdrawn by the kernel when it is closed (also when
/// the process dies), so nothing is left to restore. None (with a warning on stderr) where
/// the device is missing or refused: the wake-ups then include leaving an idle state.
pub fn hold_cpu_dma_latency_zero() -> Option<std::fs::File> {
    use std::io::Write;
    let held = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/cpu_dma_latency")
        .and_then(|mut f| f.write_all(&0i32.to_ne_bytes()).map(|()| f));
    match held {
        Ok(f) => Some(f),
        Err(e) => {
            eprintln!(
                "rust-bench: warning: cannot hold /dev/cpu_dma_latency at 0 ({e}); wake-ups may include leaving a deep idle state"
            );
            None
        }
    }
}

/// Touch `bytes` of stack so the measured code never takes a stack page fault.
#[inline(never)]
pub fn prefault_stack(bytes: usize) {
    const CHUNK: usize = 16 * 1024;
    fn touch(depth: usize) {
        let buf = [0u8; CHUNK];
        std::hint::black_box(&buf);
        if depth > 0 {
            touch(depth - 1);
        }
    }
    touch(bytes / CHUNK);
}

/// Sleep until CLOCK_MONOTONIC reaches `deadline_ns` (absolute; early wake-ups by signals
/// return early, which callers treat as "check the stop flag").
#[cfg(target_os = "linux")]
pub fn sleep_until_monotonic(deadline_ns: u64) {
    use nix::sys::time::TimeSpec;
    use nix::time::{ClockId, ClockNanosleepFlags, clock_nanosleep};
    let deadline = TimeSpec::from_duration(std::time::Duration::from_nanos(deadline_ns));
    let _ = clock_nanosleep(
        ClockId::CLOCK_MONOTONIC,
        ClockNanosleepFlags::TIMER_ABSTIME,
        &deadline,
    );
}

fn read_i64(path: impl AsRef<Path>) -> Option<i64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

impl Throttling {
    pub fn read() -> Throttling {
        let dir = Path::new("/sys/kernel/debug/sched/fair_server");
        let fair_server = std::fs::read_dir(dir).ok().map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with("cpu"))
                .map(|e| {
                    let p = e.path();
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        FairServer {
                            runtime_ns: read_i64(p.join("runtime")).map(|v| v as u64),
                            period_ns: read_i64(p.join("period")).map(|v| v as u64),
                        },
                    )
                })
                .collect()
        });
        Throttling {
            sched_rt_runtime_us: read_i64(RT_RUNTIME),
            sched_rt_period_us: read_i64(RT_PERIOD),
            fair_server,
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod stubs {
    use anyhow::Result;

    fn unsupported() -> anyhow::Error {
        anyhow::anyhow!(
            "real-time measurement needs Linux; run the tests on the machine being measured"
        )
    }
    pub fn pin_current_thread(_cpu: usize) -> Result<()> {
        Err(unsupported())
    }
    pub fn pin_current_thread_to(_cpus: &[usize]) -> Result<()> {
        Err(unsupported())
    }
    pub fn set_fifo(_priority: i32) -> Result<()> {
        Err(unsupported())
    }
    pub fn lock_memory() -> bool {
        false
    }
    pub fn sleep_until_monotonic(deadline_ns: u64) {
        let now = crate::platform::tsc::monotonic_ns();
        if deadline_ns > now {
            std::thread::sleep(std::time::Duration::from_nanos(deadline_ns - now));
        }
    }
    pub struct ThreadSchedGuard;
    impl ThreadSchedGuard {
        pub fn save() -> ThreadSchedGuard {
            ThreadSchedGuard
        }
    }
}
#[cfg(not(target_os = "linux"))]
pub use stubs::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-3,5,7-8\n"), vec![0, 1, 2, 3, 5, 7, 8]);
        assert_eq!(parse_cpu_list("0"), vec![0]);
        assert_eq!(parse_cpu_list(""), Vec::<usize>::new());
        assert_eq!(format_cpu_list(&[0, 1, 2, 3, 5, 7, 8]), "0-3,5,7-8");
        assert_eq!(format_cpu_list(&[1]), "1");
    }
}
