//! `rust-bench watchdog`: the appliance's last resort against a run that does not end.
//! `hvrt-init` starts it with the plan's timeout plus a margin. It sleeps under
//! SCHED_DEADLINE, so a measuring thread spinning at SCHED_FIFO 99 cannot starve it; when it
//! fires it stops the real-time processes, marks the run failed (as `rust-bench mark-failed`
//! does), syncs and switches the machine off itself. The machine side (SCHED_DEADLINE,
//! stopping, reboot(2)) is in [`crate::platform::watchdog`].

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Args as ClapArgs;

use crate::command::mark_failed;
use crate::platform::rt;
use crate::platform::watchdog::{self, Scope};

/// Switch the machine off after a time, whatever is running (the appliance's last resort).
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Seconds to wait before acting.
    #[arg(long, value_name = "SECONDS")]
    pub after: u64,
    /// Why the machine is switched off: printed on the console and recorded in run.json.
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// The run directory (results/<run-id>/): its run.json is marked failed with the reason
    /// if it still says interrupted (or written saying so if there is none).
    #[arg(long, value_name = "RUN_DIR")]
    pub run_dir: Option<PathBuf>,
    /// Test only: do everything but the power-off (exit instead), log on stderr, and take
    /// the CPU back only from processes started by the watchdog's parent.
    #[arg(long, hide = true)]
    pub no_poweroff: bool,
}

/// `rust-bench watchdog`.
pub fn main(args: Args) -> Result<()> {
    let log = |line: &str| say(line, !args.no_poweroff);
    if let Err(err) = watchdog::enter_deadline() {
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
        Scope::SiblingsOf(watchdog::parent_pid())
    } else {
        Scope::All
    };
    let frozen = watchdog::freeze_realtime(scope);
    log(&args.reason);
    if !frozen.is_empty() {
        log(&format!(
            "watchdog: stopped the real-time processes {}",
            frozen.join(", ")
        ));
    }
    if let Some(dir) = &args.run_dir {
        match mark_failed::mark(dir, &args.reason) {
            Ok((_, true)) => log(&format!(
                "watchdog: {} marked failed",
                dir.join("run.json").display()
            )),
            Ok((_, false)) => {}
            Err(err) => log(&format!("watchdog: {err:#}")),
        }
    }
    if args.no_poweroff {
        return Ok(());
    }
    watchdog::power_off()
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

#[cfg(test)]
mod tests {
    use crate::command::mark_failed::mark;
    use crate::results::run::{RunRecord, Status, TestRecord};

    #[test]
    fn marks_only_an_interrupted_run() {
        let dir = tempfile::tempdir().unwrap();
        let mut record = RunRecord::start("r", None);
        record.tests.insert(
            "clock-tick".into(),
            TestRecord {
                status: Status::Interrupted,
                file: "clock-tick.json".into(),
                error: None,
                fail_above: None,
            },
        );
        record.write(dir.path()).unwrap();
        let (marked, changed) = mark(dir.path(), "the \"watchdog\" fired").unwrap();
        assert!(changed);
        assert_eq!(marked.status, Status::Failed);
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("run.json")).unwrap()).unwrap();
        assert_eq!(v["status"], "failed");
        assert_eq!(v["error"], "the \"watchdog\" fired");
        assert_eq!(v["tests"]["clock-tick"]["status"], "interrupted");
        let (again, changed) = mark(dir.path(), "again").unwrap();
        assert!(!changed, "a failed run is left as it is");
        assert_eq!(again.error.as_deref(), Some("the \"watchdog\" fired"));

        let with_error = tempfile::tempdir().unwrap();
        let mut record = RunRecord::start("r", None);
        record.error = Some("first".into());
        record.write(with_error.path()).unwrap();
        let (marked, _) = mark(with_error.path(), "second").unwrap();
        assert_eq!(marked.status, Status::Failed);
        assert_eq!(marked.error.as_deref(), Some("first"));
    }
}
