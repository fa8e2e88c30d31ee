//! One RT setup for every measurement (`clock-tick` and `thread-switch` with
//! `--no-rt-throttling`, and `run` with `rt_throttling = off`): lift RT throttling
//! (`sched_rt_runtime_us = -1`) and the fair_server reservation (Linux 6.12's dl-server,
//! `/sys/kernel/debug/sched/fair_server/cpuN/runtime = 0`; debugfs is mounted for the run if
//! it is not, and unmounted afterwards), then put everything back: when the guard is
//! dropped (also after SIGINT/SIGTERM, which only end the measurement) or through
//! [`restore_now`] before an emergency exit.
//!
//! What cannot be lifted is warned about on stderr and recorded in [`RtSetupRecord`]
//! (`rt_setup` in the results), whose `in_force` says what still limits a busy real-time
//! thread ("fair_server 50 ms/s on cpu0-1"): a result never claims "off" while a reservation
//! remains.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::platform::rt::{RT_PERIOD, RT_RUNTIME, format_cpu_list};
pub use crate::results::rt_setup::{FairServerChange, FairServerRecord, RtSetupRecord};
use anyhow::{Context, Result};

pub const DEBUGFS: &str = "/sys/kernel/debug";
pub const FAIR_SERVER: &str = "/sys/kernel/debug/sched/fair_server";

/// What must be put back. Global so that an emergency exit can restore it too.
#[derive(Default)]
struct Saved {
    rt_runtime: Option<String>,
    fair: Vec<(PathBuf, String)>,
    unmount: bool,
}

static SAVED: Mutex<Option<Saved>> = Mutex::new(None);

/// The setup of one measurement; restores what it changed when dropped.
pub struct RtSetup {
    record: RtSetupRecord,
}

/// Whether [`RtSetup::apply`] could lift RT throttling here: its knob opens for writing
/// (nothing is written). For `run --check`.
pub fn check_can_lift() -> Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(RT_RUNTIME)
        .map(drop)
        .with_context(|| {
            format!("cannot write {RT_RUNTIME} to lift RT throttling; run as root, or set rt_throttling = keep")
        })
}

impl RtSetup {
    /// `lift`: lift RT throttling and the fair_server; otherwise only describe what is in
    /// force. Fails only when RT throttling itself cannot be lifted (before anything else
    /// is changed); a fair_server that stays is a warning.
    pub fn apply(lift: bool) -> Result<RtSetup> {
        let mut record = RtSetupRecord {
            requested: if lift { "off" } else { "keep" }.to_string(),
            rt_throttling_lifted: false,
            fair_server: FairServerRecord::default(),
            in_force: Vec::new(),
            warnings: Vec::new(),
            restored: None,
        };
        let mut saved = Saved::default();
        if lift {
            // A second Ctrl-C must not leave RT throttling lifted.
            crate::platform::rt::on_second_signal(|| {
                restore_now();
            });
            let old = std::fs::read_to_string(RT_RUNTIME).with_context(|| {
                format!("cannot read {RT_RUNTIME}; RT throttling cannot be lifted on this system")
            })?;
            if old.trim() != "-1" {
                std::fs::write(RT_RUNTIME, "-1").with_context(|| {
                    format!("cannot write -1 to {RT_RUNTIME} to lift RT throttling; run as root, or drop --no-rt-throttling (rt_throttling = keep in bench.conf)")
                })?;
                saved.rt_runtime = Some(old.trim().to_string());
                record.rt_throttling_lifted = true;
            }
            *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = Some(saved);
            lift_fair_server(&mut record.fair_server);
        }
        record.in_force = in_force();
        if lift {
            if let Some(fair) = record
                .in_force
                .iter()
                .find(|f| f.starts_with("fair_server"))
            {
                let why = record
                    .fair_server
                    .errors
                    .first()
                    .cloned()
                    .unwrap_or_default();
                record.warnings.push(format!(
                    "the fair_server reservation could not be lifted ({why}): {fair} stays in force, so a busy ordinary task on the measured CPU can stop the measurement for that long"
                ));
            }
        } else if !record.in_force.is_empty() {
            record.warnings.push(format!(
                "{} in force: a busy SCHED_FIFO thread can lose that much time; lift it for the run with --no-rt-throttling (rt_throttling = off in bench.conf)",
                record.in_force.join(", ")
            ));
        }
        for w in &record.warnings {
            eprintln!("rust-bench: warning: {w}");
        }
        Ok(RtSetup { record })
    }

    /// The setup of one measurement: the caller's (`given`, done by `run` for the whole
    /// plan; nothing to restore here) or its own, lifting as `lift` says.
    pub fn for_measurement(
        given: &Option<RtSetupRecord>,
        lift: bool,
    ) -> Result<(Option<RtSetup>, RtSetupRecord)> {
        if let Some(record) = given {
            return Ok((None, record.clone()));
        }
        let setup = RtSetup::apply(lift)?;
        let record = setup.record().clone();
        Ok((Some(setup), record))
    }

    /// What was asked, done and left in force (`restored` set after [`RtSetup::restore`]).
    pub fn record(&self) -> &RtSetupRecord {
        &self.record
    }

    /// Put back everything changed; true when all of it was. Later calls do nothing.
    pub fn restore(&mut self) -> bool {
        if self.record.restored.is_none() {
            self.record.restored = Some(restore_now());
        }
        self.record.restored.unwrap_or(true)
    }
}

impl Drop for RtSetup {
    fn drop(&mut self) {
        self.restore();
    }
}

/// The summary's line on what limited the measurement ("" when nothing did).
pub fn summary_line(r: &RtSetupRecord) -> String {
    if r.in_force.is_empty() {
        return String::new();
    }
    format!(
        "  in force during the run (rt_throttling {}): {}\n",
        r.requested,
        r.in_force.join(", ")
    )
}

/// Put back whatever a live [`RtSetup`] changed (for an exit that skips destructors).
pub fn restore_now() -> bool {
    let Some(saved) = SAVED.lock().unwrap_or_else(|e| e.into_inner()).take() else {
        return true;
    };
    let mut ok = true;
    for (file, before) in saved.fair.iter().rev() {
        if let Err(e) = std::fs::write(file, before) {
            eprintln!(
                "rust-bench: warning: could not restore {} to {before}: {e}; write it by hand",
                file.display()
            );
            ok = false;
        }
    }
    if let Some(old) = &saved.rt_runtime
        && let Err(e) = std::fs::write(RT_RUNTIME, old)
    {
        eprintln!(
            "rust-bench: warning: could not restore {RT_RUNTIME} to {old}: {e}; write it by hand"
        );
        ok = false;
    }
    if saved.unmount && !unmount_debugfs() {
        ok = false;
    }
    ok
}

/// Set every CPU's fair_server runtime to 0, mounting debugfs first if needed.
fn lift_fair_server(rec: &mut FairServerRecord) {
    if !Path::new(FAIR_SERVER).is_dir() && !debugfs_mounted() {
        match mount_debugfs() {
            Ok(()) => {
                rec.debugfs_mounted = true;
                with_saved(|s| s.unmount = true);
            }
            Err(e) => {
                if has_fair_server_kernel() {
                    rec.errors
                        .push(format!("cannot mount debugfs on {DEBUGFS}: {e}"));
                }
                return;
            }
        }
    }
    let Ok(entries) = std::fs::read_dir(FAIR_SERVER) else {
        if has_fair_server_kernel() {
            rec.errors.push(format!(
                "{FAIR_SERVER} does not exist (a kernel without CONFIG_SCHED_DEBUG?)"
            ));
        }
        return;
    };
    let mut cpus: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    cpus.sort();
    for dir in cpus {
        let cpu = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = dir.join("runtime");
        let before = match std::fs::read_to_string(&file) {
            Ok(text) => text.trim().to_string(),
            Err(e) => {
                rec.errors.push(fs_error("read", &file, &e));
                continue;
            }
        };
        if before == "0" {
            continue;
        }
        match std::fs::write(&file, "0") {
            Ok(()) => {
                with_saved(|s| s.fair.push((file.clone(), before.clone())));
                rec.changed.push(FairServerChange {
                    cpu,
                    runtime_ns_before: before.parse().unwrap_or(0),
                });
            }
            Err(e) => rec.errors.push(fs_error("write 0 to", &file, &e)),
        }
    }
}

fn with_saved(change: impl FnOnce(&mut Saved)) {
    if let Some(s) = SAVED.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        change(s);
    }
}

fn fs_error(what: &str, file: &Path, e: &std::io::Error) -> String {
    let hint = if e.kind() == std::io::ErrorKind::PermissionDenied {
        "; the kernel restricts debugfs (lockdown?), see dmesg"
    } else {
        ""
    };
    format!("cannot {what} {}: {e}{hint}", file.display())
}

/// What limits a busy real-time thread now: RT throttling and each fair_server reservation.
fn in_force() -> Vec<String> {
    let mut out = Vec::new();
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
    };
    if let (Some(r), Some(p)) = (read(RT_RUNTIME), read(RT_PERIOD))
        && r >= 0
        && r < p
    {
        out.push(format!(
            "RT throttling {}",
            per_period((p - r) as u64 * 1000, p as u64 * 1000)
        ));
    }
    // fair_server reservations, grouped by value: "fair_server 50 ms/s on cpu0-1".
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    let mut add = |value: String, cpu: usize| match groups.iter_mut().find(|g| g.0 == value) {
        Some(g) => g.1.push(cpu),
        None => groups.push((value, vec![cpu])),
    };
    match std::fs::read_dir(FAIR_SERVER) {
        Ok(entries) => {
            let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            dirs.sort();
            for dir in dirs {
                let Some(cpu) = dir
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_prefix("cpu"))
                    .and_then(|n| n.parse::<usize>().ok())
                else {
                    continue;
                };
                let num = |f: &str| {
                    std::fs::read_to_string(dir.join(f))
                        .ok()
                        .and_then(|s| s.trim().parse::<u64>().ok())
                };
                match (num("runtime"), num("period")) {
                    (Some(0), _) => {}
                    (Some(r), Some(p)) => add(per_period(r, p), cpu),
                    _ => add(
                        "(not readable; Linux's default is 50 ms/s)".to_string(),
                        cpu,
                    ),
                }
            }
        }
        Err(_) if has_fair_server_kernel() => add(
            "(not reachable: debugfs is not mounted; Linux's default is 50 ms/s)".to_string(),
            usize::MAX,
        ),
        Err(_) => {}
    }
    for (value, cpus) in groups {
        out.push(if cpus == [usize::MAX] {
            format!("fair_server {value}")
        } else if value.starts_with('(') {
            format!("fair_server on cpu{} {value}", format_cpu_list(&cpus))
        } else {
            format!("fair_server {value} on cpu{}", format_cpu_list(&cpus))
        });
    }
    out
}

/// "50 ms/s", or "50 ms per 800 ms" for another period.
pub fn per_period(runtime_ns: u64, period_ns: u64) -> String {
    let ms = |ns: u64| {
        let v = ns as f64 / 1e6;
        if v.fract() == 0.0 {
            format!("{v:.0} ms")
        } else {
            format!("{v} ms")
        }
    };
    if period_ns == 1_000_000_000 {
        format!("{}/s", ms(runtime_ns))
    } else {
        format!("{} per {}", ms(runtime_ns), ms(period_ns))
    }
}

/// Linux 6.12 and later reserve time for ordinary tasks with the fair_server.
fn has_fair_server_kernel() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    kernel_at_least(&release, 6, 12)
}

pub fn kernel_at_least(release: &str, major: u32, minor: u32) -> bool {
    let mut parts = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a, b) >= (major, minor)
}

fn debugfs_mounted() -> bool {
    std::fs::read_to_string("/proc/self/mounts").is_ok_and(|m| {
        m.lines()
            .any(|l| l.split_whitespace().nth(1) == Some(DEBUGFS))
    })
}

#[cfg(target_os = "linux")]
fn mount_debugfs() -> std::io::Result<()> {
    let fstype = Some("debugfs");
    nix::mount::mount(
        fstype,
        DEBUGFS,
        fstype,
        nix::mount::MsFlags::empty(),
        None::<&str>,
    )
    .map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn mount_debugfs() -> std::io::Result<()> {
    Err(std::io::Error::other("debugfs needs Linux"))
}

#[cfg(target_os = "linux")]
fn unmount_debugfs() -> bool {
    use nix::mount::{MntFlags, umount2};
    // Busy (a file still open elsewhere): detach it, it goes when released.
    let unmounted =
        umount2(DEBUGFS, MntFlags::empty()).or_else(|_| umount2(DEBUGFS, MntFlags::MNT_DETACH));
    if let Err(errno) = unmounted {
        let e = std::io::Error::from(errno);
        eprintln!("rust-bench: warning: could not unmount {DEBUGFS}: {e}; unmount it by hand");
        return false;
    }
    true
}

#[cfg(not(target_os = "linux"))]
fn unmount_debugfs() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_and_versions() {
        assert_eq!(per_period(50_000_000, 1_000_000_000), "50 ms/s");
        assert_eq!(per_period(50_000_000, 800_000_000), "50 ms per 800 ms");
        assert_eq!(per_period(2_500_000, 1_000_000_000), "2.5 ms/s");
        assert!(kernel_at_least("6.12.0-rt5", 6, 12));
        assert!(kernel_at_least("6.18.44-fc-v782", 6, 12));
        assert!(!kernel_at_least("6.6.30", 6, 12));
        assert!(kernel_at_least("7.0", 6, 12));
    }

    #[test]
    fn keep_changes_nothing() {
        let before = std::fs::read_to_string(RT_RUNTIME).ok();
        let mounted = debugfs_mounted();
        let mut setup = RtSetup::apply(false).unwrap();
        assert_eq!(setup.record().requested, "keep");
        assert!(!setup.record().rt_throttling_lifted);
        assert!(setup.record().fair_server.changed.is_empty());
        assert!(setup.restore());
        assert_eq!(std::fs::read_to_string(RT_RUNTIME).ok(), before);
        assert_eq!(debugfs_mounted(), mounted);
    }
}
