//! The kernel's tracing (tracefs): found or mounted for a run, and a private instance
//! (`instances/hvrt`, so the global buffer is left alone) that records, on the measured
//! CPU only and on the samples' own clock, the events that can take that CPU from the
//! measuring thread. Its per-CPU buffer is read between bursts, non-blocking, in the
//! kernel's binary form (`trace_pipe_raw`, [`crate::platform::trace_raw`]) or, where that
//! cannot work, as text (`trace_pipe`); the events the kernel lost are counted from the
//! binary pages' own markers, or for text from `per_cpu/cpuN/stats`.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::platform::trace_raw::{Decoder, Format, Item, RawPipe};
use anyhow::{Context, Result, bail};

/// Where tracefs is mounted (hvrt-init mounts it there in the images).
pub const DEFAULT_ROOT: &str = "/sys/kernel/tracing";

/// Overrides [`DEFAULT_ROOT`] (tests point it at a missing path).
pub const ROOT_ENV: &str = "RUST_BENCH_TRACEFS";

/// The instance's name under `instances/`.
pub const INSTANCE: &str = "hvrt";

pub use crate::results::trace::TraceReader as Reader;

/// The per-CPU ring buffer (KiB) for `events_per_s` read every `read_every`: four times
/// what that rate writes in binary form between two readings (at most 64 bytes an event),
/// at least 1 MiB, and at most a 32nd of the memory available (`available_kb`; 0: unknown).
pub fn buffer_kb_for(events_per_s: u64, read_every: std::time::Duration, available_kb: u64) -> u64 {
    let bytes = events_per_s as f64 * read_every.as_secs_f64() * 64.0 * 4.0;
    let kb = (bytes / 1024.0).ceil() as u64;
    let cap = if available_kb == 0 {
        64 * 1024
    } else {
        (available_kb / 32).max(1024)
    };
    kb.clamp(1024, cap)
}

/// `MemAvailable` of /proc/meminfo in KiB (0 when it cannot be read).
pub fn mem_available_kb() -> u64 {
    fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// What a reading hands over: a line of text, or a binary page's item.
#[derive(Clone, Copy, Debug)]
pub enum Entry<'a> {
    Line(&'a str),
    Item(Item<'a>),
}

/// A CPU's buffer, read whichever way it can be.
#[derive(Debug)]
pub enum TracePipe {
    Text(Pipe),
    Binary {
        pipe: RawPipe,
        decoder: Decoder,
        /// Pages read, kept between readings (no allocation once grown).
        pages: Vec<u8>,
        max_pages: usize,
    },
}

impl TracePipe {
    /// Open `dir/per_cpu/cpuN`'s pipe as `reader` asks (the layouts from `dir/events`);
    /// `text_budget`: bytes of text at most per reading, the binary one reads at most that
    /// many bytes of pages (whole pages).
    pub fn open(dir: &Path, cpu: usize, reader: Reader, text_budget: usize) -> Result<TracePipe> {
        TracePipe::open_with(dir, cpu, layouts(&dir.join("events"), reader)?, text_budget)
    }

    /// Open `dir/per_cpu/cpuN`'s pipe: binary with `layouts` ([`layouts`]), else text.
    pub fn open_with(
        dir: &Path,
        cpu: usize,
        layouts: Option<Decoder>,
        text_budget: usize,
    ) -> Result<TracePipe> {
        let per_cpu = dir.join(format!("per_cpu/cpu{cpu}"));
        Ok(match layouts {
            Some(decoder) => TracePipe::Binary {
                pipe: RawPipe::open(&per_cpu.join("trace_pipe_raw"), decoder.page_size())?,
                max_pages: (text_budget / decoder.page_size()).max(1),
                decoder,
                pages: Vec::new(),
            },
            None => TracePipe::Text(Pipe::open(&per_cpu.join("trace_pipe"), text_budget)?),
        })
    }

    /// Which way it reads.
    pub fn reader(&self) -> Reader {
        match self {
            TracePipe::Text(_) => Reader::Text,
            TracePipe::Binary { .. } => Reader::Binary,
        }
    }

    /// Hand everything the buffer holds now to `each`; returns how many entries (lines or
    /// pages' items) were handed over.
    pub fn drain(&mut self, each: &mut dyn FnMut(Entry)) -> Result<u64> {
        let mut n = 0u64;
        match self {
            TracePipe::Text(pipe) => pipe.drain(&mut |l| {
                n += 1;
                each(Entry::Line(l));
            })?,
            TracePipe::Binary {
                pipe,
                decoder,
                pages,
                max_pages,
            } => {
                pages.clear();
                pipe.read_pages(pages, *max_pages)?;
                for page in pages.chunks(decoder.page_size()) {
                    decoder.page(page, &mut |item| {
                        n += 1;
                        each(Entry::Item(item));
                    })?;
                }
            }
        }
        Ok(n)
    }
}

/// The kernel's binary layouts under `events` where `reader` wants the binary form: None
/// for text, and for `auto` where they cannot be read (said on stderr). Loaded apart from
/// opening the pipe, so that a tracer already running need not wait for it.
pub fn layouts(events: &Path, reader: Reader) -> Result<Option<Decoder>> {
    match reader {
        Reader::Text => Ok(None),
        Reader::Binary => Decoder::load(events).map(Some),
        Reader::Auto => Ok(Decoder::load(events)
            .inspect_err(|e| eprintln!("rust-bench: reading the trace as text: {e:#}"))
            .ok()),
    }
}

/// The formats of `events` (`system/event` names) under the instance's `events/`.
pub fn formats(dir: &Path, events: &[String]) -> Result<Vec<Format>> {
    events
        .iter()
        .map(|e| Format::load(&dir.join("events"), e))
        .collect()
}

/// The per-CPU ring buffer (KiB) of the attribution's instance, sized by
/// [`buffer_kb_for`]: the events of a 1000 Hz tick (about ten each) and room for a storm of
/// interrupts twice as dense, read after each burst.
pub fn attribution_buffer_kb(read_every: std::time::Duration) -> u64 {
    buffer_kb_for(20_000, read_every, mem_available_kb())
}

/// A mounted tracefs; unmounted when dropped if this process mounted it.
#[derive(Debug)]
pub struct Tracefs {
    root: PathBuf,
    mounted_here: bool,
}

impl Tracefs {
    /// tracefs at `$RUST_BENCH_TRACEFS` or [`DEFAULT_ROOT`], mounted there for the run when
    /// it is not mounted yet.
    pub fn open() -> Result<Tracefs> {
        let root = std::env::var_os(ROOT_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_ROOT));
        Tracefs::open_at(&root)
    }

    pub fn open_at(root: &Path) -> Result<Tracefs> {
        if is_tracefs(root) {
            return Ok(Tracefs {
                root: root.to_path_buf(),
                mounted_here: false,
            });
        }
        if !root.is_dir() {
            bail!(
                "tracefs is not available: {} does not exist (a kernel without CONFIG_FTRACE/\
                 tracefs); use a kernel with tracing (the hvrt kernels have it)",
                root.display()
            );
        }
        mount(root).with_context(|| {
            format!(
                "tracefs is not mounted at {} and mounting it failed; mount it \
                 (mount -t tracefs tracefs {}) as root",
                root.display(),
                root.display()
            )
        })?;
        if !is_tracefs(root) {
            let _ = umount(root);
            bail!(
                "{} was mounted as tracefs but has no trace_clock; check the kernel's tracing \
                 support (CONFIG_FTRACE)",
                root.display()
            );
        }
        Ok(Tracefs {
            root: root.to_path_buf(),
            mounted_here: true,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether this process mounted it (and unmounts it when done).
    pub fn mounted_here(&self) -> bool {
        self.mounted_here
    }

    /// The tracers the kernel offers (`available_tracers`).
    pub fn available_tracers(&self) -> Vec<String> {
        fs::read_to_string(self.root.join("available_tracers"))
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Tracefs {
    fn drop(&mut self) {
        if self.mounted_here {
            let _ = umount(&self.root);
        }
    }
}

fn is_tracefs(root: &Path) -> bool {
    root.join("trace_clock").is_file() && root.join("instances").is_dir()
}

#[cfg(target_os = "linux")]
fn mount(root: &Path) -> Result<()> {
    let fstype = Some("tracefs");
    nix::mount::mount(
        fstype,
        root,
        fstype,
        nix::mount::MsFlags::empty(),
        None::<&str>,
    )
    .map_err(|e| std::io::Error::from(e).into())
}

#[cfg(target_os = "linux")]
fn umount(root: &Path) -> Result<()> {
    nix::mount::umount2(root, nix::mount::MntFlags::empty())
        .map_err(|e| std::io::Error::from(e).into())
}

#[cfg(not(target_os = "linux"))]
fn mount(_root: &Path) -> Result<()> {
    bail!("tracefs exists only on Linux")
}

#[cfg(not(target_os = "linux"))]
fn umount(_root: &Path) -> Result<()> {
    Ok(())
}

/// `tracing_cpumask` for one CPU: hex, in comma-separated groups of 32 CPUs.
pub fn cpumask(cpu: usize) -> String {
    let groups = cpu / 32 + 1;
    (0..groups)
        .rev()
        .map(|g| {
            if g == cpu / 32 {
                format!("{:08x}", 1u32 << (cpu % 32))
            } else {
                "00000000".to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The events that can take a CPU from a thread, as `system/event`, of those `events`
/// (the instance's `events/` directory) offers: device IRQs, every traced x86 system
/// vector (entry and exit), hrtimer callbacks, softirqs, NMIs and scheduler switches.
pub fn wanted_events(events: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for e in [
        "irq/irq_handler_entry",
        "irq/irq_handler_exit",
        "irq/softirq_entry",
        "irq/softirq_exit",
        "sched/sched_switch",
    ] {
        if !events.join(e).is_dir() {
            bail!(
                "the kernel has no {} tracepoint ({}); attribution needs a kernel with \
                 CONFIG_FTRACE and tracepoints",
                e.replace('/', ":"),
                events.join(e).display()
            );
        }
        out.push(e.to_string());
    }
    for e in [
        "nmi/nmi_handler",
        "timer/hrtimer_expire_entry",
        "timer/hrtimer_expire_exit",
    ] {
        if events.join(e).is_dir() {
            out.push(e.to_string());
        }
    }
    if let Ok(dir) = fs::read_dir(events.join("irq_vectors")) {
        let mut names: Vec<String> = dir
            .flatten()
            .map(|d| d.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for n in &names {
            if let Some(v) = n.strip_suffix("_entry")
                && names.iter().any(|x| *x == format!("{v}_exit"))
            {
                out.push(format!("irq_vectors/{v}_entry"));
                out.push(format!("irq_vectors/{v}_exit"));
            }
        }
    }
    Ok(out)
}

/// A `trace_pipe` read without blocking, line by line, at most `budget` bytes per drain.
#[derive(Debug)]
pub struct Pipe {
    file: File,
    partial: Vec<u8>,
    buf: Vec<u8>,
    budget: usize,
}

impl Pipe {
    pub fn open(path: &Path, budget: usize) -> Result<Pipe> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        Ok(Pipe {
            file,
            partial: Vec::new(),
            buf: vec![0; 256 * 1024],
            budget,
        })
    }

    /// Hand every complete line available now to `line`.
    pub fn drain(&mut self, line: &mut dyn FnMut(&str)) -> Result<()> {
        let mut budget = self.budget;
        loop {
            let n = match self.file.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e).context("reading a trace"),
            };
            self.partial.extend_from_slice(&self.buf[..n]);
            if let Some(end) = self.partial.iter().rposition(|&b| b == b'\n') {
                for l in self.partial[..end].split(|&b| b == b'\n') {
                    line(&String::from_utf8_lossy(l));
                }
                self.partial.drain(..=end);
            }
            budget = budget.saturating_sub(n);
            if budget == 0 {
                break;
            }
        }
        Ok(())
    }
}

/// A tracing instance recording one CPU; removed (and tracefs unmounted if it was mounted
/// for it) when dropped.
#[derive(Debug)]
pub struct Session {
    fs: Tracefs,
    dir: PathBuf,
    cpu: usize,
    pipe: Option<TracePipe>,
    reader: Reader,
    pub trace_clock: String,
    pub events: Vec<String>,
    pub buffer_kb: u64,
    lost_seen: u64,
}

impl Session {
    /// Set up `instances/hvrt` on `cpu` with `trace_clock` and a per-CPU buffer of
    /// `buffer_kb`, read as `reader` asks, and start recording.
    pub fn start(
        fs: Tracefs,
        cpu: usize,
        trace_clock: &str,
        reader: Reader,
        buffer_kb: u64,
    ) -> Result<Session> {
        let dir = fs.root.join("instances").join(INSTANCE);
        if dir.exists() {
            // Left by a run that was killed: remove it (fails if someone is reading it).
            fs::remove_dir(&dir).with_context(|| {
                format!(
                    "a tracing instance {} exists and cannot be removed; is another \
                     rust-bench running? remove it with rmdir",
                    dir.display()
                )
            })?;
        }
        fs::create_dir(&dir)
            .with_context(|| format!("cannot create the tracing instance {}", dir.display()))?;
        let mut s = Session {
            fs,
            dir,
            cpu,
            pipe: None,
            reader,
            trace_clock: trace_clock.to_string(),
            events: Vec::new(),
            buffer_kb,
            lost_seen: 0,
        };
        s.setup()?;
        Ok(s)
    }

    fn write(&self, file: &str, value: &str) -> Result<()> {
        let path = self.dir.join(file);
        fs::write(&path, value)
            .with_context(|| format!("cannot write '{value}' to {}", path.display()))
    }

    fn setup(&mut self) -> Result<()> {
        self.write("tracing_on", "0")?;
        let clocks = fs::read_to_string(self.dir.join("trace_clock")).unwrap_or_default();
        if !clocks
            .split_whitespace()
            .any(|c| c.trim_matches(['[', ']']) == self.trace_clock)
        {
            bail!(
                "the kernel has no '{}' trace clock (offers: {}); attribution needs the \
                 samples' own clock in the trace",
                self.trace_clock,
                clocks.trim()
            );
        }
        self.write("trace_clock", &self.trace_clock.clone())?;
        self.write("tracing_cpumask", &cpumask(self.cpu))?;
        self.write("buffer_size_kb", &self.buffer_kb.to_string())?;
        self.events = wanted_events(&self.dir.join("events"))?;
        for e in &self.events {
            self.write(&format!("events/{e}/enable"), "1")?;
        }
        // Bounded: at most four times the buffer's size in text per drain (the binary
        // reading: that many bytes of pages).
        self.pipe = Some(TracePipe::open(
            &self.dir,
            self.cpu,
            self.reader,
            self.buffer_kb as usize * 1024 * 4,
        )?);
        self.lost_seen = self.lost_total();
        self.write("tracing_on", "1")
    }

    /// Overrun plus dropped events of the CPU's buffer so far.
    fn lost_total(&self) -> u64 {
        buffer_stats(&self.dir, self.cpu).1
    }

    /// Read everything recorded so far, handing each line or record to `each`; returns
    /// the events the kernel lost since the previous call that the reading did not hand
    /// over itself (as a binary page's [`Item::Lost`] or a text `[LOST N EVENTS]` line).
    pub fn drain(&mut self, each: &mut dyn FnMut(Entry)) -> Result<u64> {
        if let Some(pipe) = self.pipe.as_mut() {
            pipe.drain(each)?;
            // The binary pages say themselves where events were lost (Item::Lost); the
            // text needs the buffer's counters, a file the kernel formats at each reading.
            if let TracePipe::Binary { .. } = pipe {
                return Ok(0);
            }
        }
        let total = self.lost_total();
        let lost = total.saturating_sub(self.lost_seen);
        self.lost_seen = total;
        Ok(lost)
    }

    /// Which way the trace is read.
    pub fn reader(&self) -> Reader {
        self.pipe.as_ref().map_or(self.reader, TracePipe::reader)
    }

    /// The formats of the events enabled (for decoding binary records).
    pub fn formats(&self) -> Result<Vec<Format>> {
        formats(&self.dir, &self.events)
    }

    /// The `system:event` names enabled.
    pub fn event_names(&self) -> Vec<String> {
        self.events.iter().map(|e| e.replace('/', ":")).collect()
    }

    fn teardown(&mut self) {
        let _ = self.write("tracing_on", "0");
        self.pipe = None;
        for e in &self.events {
            let _ = fs::write(self.dir.join(format!("events/{e}/enable")), "0");
        }
        let _ = fs::remove_dir(&self.dir);
    }

    pub fn tracefs(&self) -> &Tracefs {
        &self.fs
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.teardown();
    }
}

/// The calling thread's id (the pid in the trace).
pub fn current_tid() -> u32 {
    // nix makes the system call itself: C libraries without a gettid wrapper do too.
    nix::unistd::gettid().as_raw() as u32
}

/// Name the calling thread (its `comm`, 15 bytes at most), as traces show it.
pub fn set_thread_name(name: &std::ffi::CStr) {
    let _ = nix::sys::prctl::set_name(name);
}

/// The buffer's `entries` (unread) and `overrun` + `dropped events` (lost) on `cpu`.
pub fn buffer_stats(dir: &Path, cpu: usize) -> (u64, u64) {
    let stats = fs::read_to_string(dir.join(format!("per_cpu/cpu{cpu}/stats"))).unwrap_or_default();
    let field = |name: &str| -> u64 {
        stats
            .lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(k, _)| k.trim() == name)
            .filter_map(|(_, v)| v.trim().parse::<u64>().ok())
            .sum()
    };
    (field("entries"), field("overrun") + field("dropped events"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpumasks() {
        assert_eq!(cpumask(0), "00000001");
        assert_eq!(cpumask(1), "00000002");
        assert_eq!(cpumask(31), "80000000");
        assert_eq!(cpumask(33), "00000002,00000000");
    }

    #[test]
    fn missing_tracefs_is_named() {
        let e = Tracefs::open_at(Path::new("/nonexistent/tracing")).unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("/nonexistent/tracing does not exist"), "{msg}");
        // The kernel's fix; each caller adds its own way out (tests/attribution.rs).
        assert!(msg.contains("use a kernel with tracing"), "{msg}");
        assert!(!msg.contains("--attribute"), "{msg}");
    }

    #[test]
    fn reads_the_buffer_counters() {
        let dir = std::env::temp_dir().join(format!("rust-bench-tracefs-{}", std::process::id()));
        fs::create_dir_all(dir.join("per_cpu/cpu1")).unwrap();
        fs::write(
            dir.join("per_cpu/cpu1/stats"),
            "entries: 12\noverrun: 3\ncommit overrun: 9\nbytes: 4096\n\
             oldest event ts: 5.1\nnow ts: 6.2\ndropped events: 2\nread events: 40\n",
        )
        .unwrap();
        assert_eq!(buffer_stats(&dir, 1), (12, 5));
        assert_eq!(buffer_stats(&dir, 0), (0, 0));
        fs::remove_dir_all(&dir).unwrap();
    }
}
