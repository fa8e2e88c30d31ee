//! A tracer of the kernel's osnoise family (osnoise, timerlat) run through tracefs: the
//! check that the kernel has it, its global `osnoise/` settings saved and restored, the
//! tracing instance that runs it, stopped when dropped or when a second stop signal ends
//! rust-bench at once, and the count of the events its buffer lost.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::platform::rt;
use crate::platform::tracefs::{Tracefs, cpumask};

/// A tracer and how it is run.
#[derive(Clone, Copy, Debug)]
pub struct Tracer {
    /// Its name in `current_tracer`.
    pub name: &'static str,
    /// The private instance's name under `instances/`.
    pub instance: &'static str,
    /// The `osnoise/*` events enabled while it runs (those the kernel lacks are skipped).
    pub events: &'static [&'static str],
    /// Where an instance cannot run it, run it at the top level if no tracer is in use there.
    pub top_level_fallback: bool,
    /// The kernel option that provides it.
    pub config: &'static str,
    /// A path under tracefs that its settings need (`osnoise`, `osnoise/timerlat_period_us`).
    pub settings: &'static str,
}

impl Tracer {
    /// Check that the kernel offers the tracer under `fs`, and its settings.
    pub fn check(&self, fs: &Tracefs) -> Result<()> {
        let name = self.name;
        let tracers = fs.available_tracers();
        if !tracers.iter().any(|t| t == name) {
            bail!(
                "the kernel has no {name} tracer (available_tracers in {}: {}); the {name} \
                 test needs a kernel with {} (the hvrt kernels have it)",
                fs.root().display(),
                tracers.join(" "),
                self.config
            );
        }
        let settings = fs.root().join(self.settings);
        if !settings.exists() {
            bail!(
                "the kernel lists the {name} tracer but {} is missing",
                settings.display()
            );
        }
        Ok(())
    }

    /// Everything a run of the tracer on `cpu` needs before it starts: the CPU, tracefs
    /// (returned) and the tracer.
    pub fn open_tracefs(&self, cpu: usize) -> Result<Tracefs> {
        rt::check_cpu(cpu)?;
        let name = self.name;
        let fs = Tracefs::open().with_context(|| {
            format!("the {name} test drives the kernel's {name} tracer through tracefs")
        })?;
        self.check(&fs)?;
        Ok(fs)
    }
}

/// Global settings (files of `osnoise/`), restored when dropped.
pub struct Saved {
    dir: PathBuf,
    values: Vec<(&'static str, String)>,
}

impl Saved {
    /// Save the `files` of `dir` that can be read.
    pub fn save(dir: &Path, files: &[&'static str]) -> Saved {
        let values = files
            .iter()
            .filter_map(|&f| Some((f, fs::read_to_string(dir.join(f)).ok()?.trim().to_string())))
            .collect();
        Saved {
            dir: dir.to_path_buf(),
            values,
        }
    }
}

impl Drop for Saved {
    fn drop(&mut self) {
        // Settings bound to each other (the runtime may not exceed the period) are accepted
        // in one order only: what the first pass could not write is written again.
        let failed: Vec<_> = self
            .values
            .iter()
            .filter(|(f, v)| fs::write(self.dir.join(f), v).is_err())
            .collect();
        for (f, v) in failed {
            let _ = fs::write(self.dir.join(f), v);
        }
    }
}

/// The directory of the tracer while it runs, for [`stop_now`].
static RUNNING: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Stop the tracer when a second stop signal ends rust-bench at once: its workload, thread
/// or timer would otherwise keep the CPU busy after rust-bench is gone.
fn stop_now() {
    if let Some(dir) = RUNNING.lock().unwrap_or_else(|e| e.into_inner()).take() {
        let _ = fs::write(dir.join("tracing_on"), "0");
        let _ = fs::write(dir.join("current_tracer"), "nop");
    }
}

/// The instance running a tracer; stopped (and removed, if private) when dropped.
pub struct Instance {
    dir: PathBuf,
    events: &'static [&'static str],
    /// A private instance (removed afterwards) rather than the top level.
    private: bool,
    /// `tracing_on` to restore at the top level.
    tracing_on: String,
}

impl Instance {
    /// The instance's directory (the tracefs root at the top level).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Run `tracer` in `instances/<tracer.instance>` under the tracefs `root` (the global
    /// buffer untouched), tracing `cpu` into a buffer of `buffer_kb`, or at the top level as
    /// [`Tracer::top_level_fallback`] allows. Returns it and when the tracer started.
    pub fn open(
        root: &Path,
        tracer: &Tracer,
        cpu: usize,
        buffer_kb: u64,
    ) -> Result<(Instance, Instant)> {
        let dir = root.join("instances").join(tracer.instance);
        if dir.exists() {
            fs::remove_dir(&dir).with_context(|| {
                format!(
                    "a tracing instance {} exists and cannot be removed; is another rust-bench \
                     running? remove it with rmdir",
                    dir.display()
                )
            })?;
        }
        fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let instance = Instance {
            dir: dir.clone(),
            events: tracer.events,
            private: true,
            tracing_on: String::new(),
        };
        write(&dir.join("tracing_cpumask"), &cpumask(cpu))?;
        write(&dir.join("buffer_size_kb"), &buffer_kb.to_string())?;
        let in_instance = match start(&dir, tracer) {
            Ok(started) => return Ok((instance.running(), started)),
            Err(e) if tracer.top_level_fallback => e,
            Err(e) => return Err(e),
        };
        drop(instance);
        let name = tracer.name;
        let current = fs::read_to_string(root.join("current_tracer")).unwrap_or_default();
        if current.trim() != "nop" {
            return Err(in_instance.context(format!(
                "the {name} tracer cannot run in a tracing instance here, and the top level's \
                 tracer is in use ({}); set it to nop or drop {name} from the tests",
                current.trim()
            )));
        }
        eprintln!(
            "rust-bench: {name}: the tracer cannot run in a tracing instance ({in_instance:#}); \
             using the top level"
        );
        let top = Instance {
            dir: root.to_path_buf(),
            events: tracer.events,
            private: false,
            tracing_on: fs::read_to_string(root.join("tracing_on"))
                .map(|v| v.trim().to_string())
                .unwrap_or_else(|_| "1".to_string()),
        };
        let started =
            start(root, tracer).with_context(|| format!("cannot start the {name} tracer"))?;
        Ok((top.running(), started))
    }

    /// Make it the one [`stop_now`] stops.
    fn running(self) -> Instance {
        rt::on_second_signal(stop_now);
        *RUNNING.lock().unwrap_or_else(|e| e.into_inner()) = Some(self.dir.clone());
        self
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        RUNNING.lock().unwrap_or_else(|e| e.into_inner()).take();
        let _ = fs::write(self.dir.join("tracing_on"), "0");
        let _ = fs::write(self.dir.join("current_tracer"), "nop");
        for e in self.events {
            let _ = fs::write(self.dir.join(format!("events/osnoise/{e}/enable")), "0");
        }
        if self.private {
            let _ = fs::remove_dir(&self.dir);
        } else {
            let _ = fs::write(self.dir.join("tracing_on"), &self.tracing_on);
        }
    }
}

/// Enable the tracer's events in `dir` and make it the tracer, tracing on: the osnoise
/// tracer's workload starts with it, and skips a whole period when it finds tracing off
/// (switching tracing on later does not wake it). Returns when it started.
fn start(dir: &Path, tracer: &Tracer) -> Result<Instant> {
    write(&dir.join("tracing_on"), "1")?;
    for e in tracer.events {
        let p = dir.join(format!("events/osnoise/{e}/enable"));
        if p.exists() {
            write(&p, "1")?;
        }
    }
    let started = Instant::now();
    let set = write(&dir.join("current_tracer"), tracer.name);
    if tracer.top_level_fallback {
        set?;
    } else {
        set.with_context(|| {
            format!(
                "the {} tracer cannot run in a tracing instance here",
                tracer.name
            )
        })?;
    }
    Ok(started)
}

/// Write `value` to the tracefs file `path`.
pub fn write(path: &Path, value: &str) -> Result<()> {
    fs::write(path, value).with_context(|| format!("cannot write '{value}' to {}", path.display()))
}

/// Events not read: what the trace said was lost or the buffer's counters say was
/// overwritten or dropped (the same events, counted twice over), plus what was left unread.
pub fn events_lost(lost_lines: u64, overrun_dropped: u64, unread: u64) -> u64 {
    lost_lines.max(overrun_dropped) + unread
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAKE: Tracer = Tracer {
        name: "osnoise",
        instance: "hvrt-test",
        events: &["irq_noise"],
        top_level_fallback: false,
        config: "CONFIG_OSNOISE_TRACER",
        settings: "osnoise",
    };

    /// The tests that drop an instance, which clears [`RUNNING`], one at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn read(p: &Path) -> String {
        fs::read_to_string(p).unwrap()
    }

    #[test]
    fn saved_settings_are_restored() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        fs::write(dir.join("cpus"), "0-3\n").unwrap();
        fs::write(dir.join("period_us"), "1000000\n").unwrap();
        let saved = Saved::save(dir, &["cpus", "period_us", "runtime_us"]);
        fs::write(dir.join("cpus"), "1").unwrap();
        fs::write(dir.join("period_us"), "500").unwrap();
        drop(saved);
        assert_eq!(read(&dir.join("cpus")), "0-3");
        assert_eq!(read(&dir.join("period_us")), "1000000");
        // Not there when saved: not written.
        assert!(!dir.join("runtime_us").exists());
    }

    #[test]
    fn a_private_instance_is_set_up_started_and_stopped() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let root = tempfile::tempdir().unwrap();
        fs::create_dir(root.path().join("instances")).unwrap();
        let (instance, started) = Instance::open(root.path(), &FAKE, 2, 640).unwrap();
        let dir = root.path().join("instances/hvrt-test");
        assert_eq!(instance.dir(), dir);
        assert!(started <= Instant::now());
        assert_eq!(read(&dir.join("tracing_cpumask")), cpumask(2));
        assert_eq!(read(&dir.join("buffer_size_kb")), "640");
        assert_eq!(read(&dir.join("tracing_on")), "1");
        assert_eq!(read(&dir.join("current_tracer")), "osnoise");
        assert_eq!(
            RUNNING.lock().unwrap_or_else(|e| e.into_inner()).as_deref(),
            Some(dir.as_path())
        );
        drop(instance);
        assert!(RUNNING.lock().unwrap_or_else(|e| e.into_inner()).is_none());
        // A real instance goes with rmdir; here its files keep it, stopped.
        assert_eq!(read(&dir.join("tracing_on")), "0");
        assert_eq!(read(&dir.join("current_tracer")), "nop");
    }

    #[test]
    fn a_stale_instance_that_cannot_be_removed_is_named() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("instances/hvrt-test");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("trace"), "").unwrap();
        let e = Instance::open(root.path(), &FAKE, 0, 64).err().unwrap();
        assert!(
            format!("{e}").contains("is another rust-bench running? remove it with rmdir"),
            "{e}"
        );
    }

    #[test]
    fn the_top_level_is_restored() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        fs::create_dir_all(dir.join("events/osnoise/irq_noise")).unwrap();
        fs::write(dir.join("events/osnoise/irq_noise/enable"), "0").unwrap();
        let top = Instance {
            dir: dir.to_path_buf(),
            events: FAKE.events,
            private: false,
            tracing_on: "1".to_string(),
        };
        start(dir, &FAKE).unwrap();
        assert_eq!(read(&dir.join("events/osnoise/irq_noise/enable")), "1");
        drop(top);
        assert_eq!(read(&dir.join("events/osnoise/irq_noise/enable")), "0");
        assert_eq!(read(&dir.join("current_tracer")), "nop");
        assert_eq!(read(&dir.join("tracing_on")), "1");
        assert!(dir.exists());
    }

    #[test]
    fn lost_events_are_counted_once_and_unread_ones_added() {
        // The trace's LOST lines and the buffer's overrun count the same events.
        assert_eq!(events_lost(5, 5, 0), 5);
        assert_eq!(events_lost(0, 7, 0), 7);
        assert_eq!(events_lost(3, 0, 0), 3);
        // Left in the buffer at the end: lost too.
        assert_eq!(events_lost(5, 5, 100), 105);
        assert_eq!(events_lost(0, 0, 0), 0);
    }
}
