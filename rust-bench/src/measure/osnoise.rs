//! The kernel's own noise measurement (the osnoise tracer) on the test CPU, driven through
//! tracefs without rtla: a tracing instance runs the tracer, its per-period summaries and
//! its per-source noise events are read every second and summed. A cross-check of
//! clock-tick's attribution with the kernel's in-kernel workload.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::measure::attribution::{find_cpu_field, split_fields};
use crate::platform::tracefs::{Pipe, Tracefs, cpumask};
use crate::platform::{environment, rt, tsc};
use crate::results::osnoise::{self as contract, Counts, NoiseSource, Osnoise};
use crate::results::{End, Origin, SCHEMA};

/// What an osnoise run needs.
#[derive(Clone, Debug)]
pub struct Options {
    pub cpu: usize,
    pub duration: Duration,
    pub period_us: u64,
    pub runtime_us: u64,
    pub checkpoint_every: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cpu: 0,
            duration: Duration::from_secs(30),
            period_us: 1_000_000,
            runtime_us: 1_000_000,
            checkpoint_every: Duration::from_secs(10),
        }
    }
}

/// The instance's name under `instances/`.
pub const INSTANCE: &str = "hvrt-osnoise";

/// The tracer's noise events.
const EVENTS: [&str; 5] = [
    "sample_threshold",
    "nmi_noise",
    "irq_noise",
    "softirq_noise",
    "thread_noise",
];

/// One parsed line of the osnoise instance's trace.
#[derive(Clone, Debug, PartialEq)]
pub enum Line {
    /// A period's summary: runtime, noise and max single noise (µs), % available, and
    /// the counters hw, nmi, irq, softirq, thread.
    Summary {
        runtime_us: u64,
        noise_us: u64,
        available_pct: f64,
        max_single_us: u64,
        counts: [u64; 5],
    },
    /// One noise: class, name, duration.
    Noise {
        class: &'static str,
        name: String,
        ns: u64,
    },
    Lost(u64),
}

/// Parse one line of the instance's `trace_pipe`.
pub fn parse_line(line: &str) -> Option<Line> {
    let line = line.trim_end();
    if let Some(rest) = line.trim_start().strip_prefix("CPU:") {
        let n = rest.split("[LOST ").nth(1)?.split_whitespace().next()?;
        return Some(Line::Lost(n.parse().ok()?));
    }
    let at = find_cpu_field(line)?;
    let rest = &line[at..];
    let (_flags, _ts, body) = split_fields(&rest[rest.find(']')? + 1..])?;
    if let Some((event, args)) = body.split_once(": ") {
        let class = match event {
            "sample_threshold" => "hw",
            "nmi_noise" => "nmi",
            "irq_noise" => "irq",
            "softirq_noise" => "softirq",
            "thread_noise" => "thread",
            _ => return None,
        };
        let (who, after) = args.split_once("start ").unwrap_or(("", args));
        let ns: u64 = after
            .split("duration ")
            .nth(1)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        // "local_timer:236", "TIMER:1", "kworker/1:1:123": drop the number.
        let who = who.trim();
        let name = who.rsplit_once(':').map_or(who, |(n, _)| n).trim();
        return Some(Line::Noise {
            class,
            name: name.to_string(),
            ns,
        });
    }
    let f: Vec<&str> = body.split_whitespace().collect();
    if f.len() < 9 {
        return None;
    }
    let n = |i: usize| f[i].parse::<u64>().ok();
    Some(Line::Summary {
        runtime_us: n(0)?,
        noise_us: n(1)?,
        available_pct: f[2].parse().ok()?,
        max_single_us: n(3)?,
        counts: [n(4)?, n(5)?, n(6)?, n(7)?, n(8)?],
    })
}

/// The sums so far.
#[derive(Debug, Default)]
struct Sums {
    periods: u64,
    runtime_ns: u64,
    noise_ns: u64,
    max_period_noise_ns: u64,
    max_single_noise_ns: u64,
    min_available_pct: Option<f64>,
    counts: Counts,
    sources: BTreeMap<(&'static str, String), NoiseSource>,
    lost: u64,
}

impl Sums {
    fn add(&mut self, line: Line) {
        match line {
            Line::Summary {
                runtime_us,
                noise_us,
                available_pct,
                max_single_us,
                counts,
            } => {
                self.periods += 1;
                self.runtime_ns += runtime_us * 1000;
                self.noise_ns += noise_us * 1000;
                self.max_period_noise_ns = self.max_period_noise_ns.max(noise_us * 1000);
                self.max_single_noise_ns = self.max_single_noise_ns.max(max_single_us * 1000);
                self.min_available_pct = Some(
                    self.min_available_pct
                        .map_or(available_pct, |m| m.min(available_pct)),
                );
                let c = &mut self.counts;
                c.hw += counts[0];
                c.nmi += counts[1];
                c.irq += counts[2];
                c.softirq += counts[3];
                c.thread += counts[4];
            }
            Line::Noise { class, name, ns } => {
                let s = self
                    .sources
                    .entry((class, name.clone()))
                    .or_insert_with(|| NoiseSource {
                        class: class.to_string(),
                        name,
                        count: 0,
                        total_ns: 0,
                        max_ns: 0,
                    });
                s.count += 1;
                s.total_ns += ns;
                s.max_ns = s.max_ns.max(ns);
            }
            Line::Lost(n) => self.lost += n,
        }
    }
}

/// The tracer's global settings (`osnoise/`), restored after the run.
struct Saved {
    dir: PathBuf,
    values: Vec<(&'static str, String)>,
}

impl Saved {
    fn save(dir: &Path) -> Saved {
        let values = ["cpus", "period_us", "runtime_us"]
            .into_iter()
            .filter_map(|f| Some((f, fs::read_to_string(dir.join(f)).ok()?.trim().to_string())))
            .collect();
        Saved {
            dir: dir.to_path_buf(),
            values,
        }
    }
}

impl Drop for Saved {
    fn drop(&mut self) {
        // runtime before period when shrinking, period before runtime when growing:
        // write both orders; one of them is accepted.
        for _ in 0..2 {
            for (f, v) in &self.values {
                let _ = fs::write(self.dir.join(f), v);
            }
        }
    }
}

/// The instance running the tracer; stopped and removed when dropped.
struct Instance {
    dir: PathBuf,
    /// A private instance (removed afterwards) rather than the top level.
    private: bool,
    /// `tracing_on` to restore at the top level.
    tracing_on: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = fs::write(self.dir.join("tracing_on"), "0");
        let _ = fs::write(self.dir.join("current_tracer"), "nop");
        for e in EVENTS {
            let _ = fs::write(self.dir.join(format!("events/osnoise/{e}/enable")), "0");
        }
        if self.private {
            let _ = fs::remove_dir(&self.dir);
        } else {
            let _ = fs::write(self.dir.join("tracing_on"), &self.tracing_on);
        }
    }
}

/// Enable the noise events in `dir` and make osnoise its tracer (tracing off).
fn start_tracer(dir: &Path) -> Result<()> {
    write(&dir.join("tracing_on"), "0")?;
    for e in EVENTS {
        let p = dir.join(format!("events/osnoise/{e}/enable"));
        if p.exists() {
            write(&p, "1")?;
        }
    }
    write(&dir.join("current_tracer"), "osnoise")
}

/// Run the tracer in `instances/hvrt-osnoise` (the global buffer untouched) or, where the
/// kernel does not allow it in an instance, at the top level when no tracer is in use there.
fn open_instance(root: &Path, cpu: usize) -> Result<Instance> {
    let dir = root.join("instances").join(INSTANCE);
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
        private: true,
        tracing_on: String::new(),
    };
    write(&dir.join("tracing_cpumask"), &cpumask(cpu))?;
    write(&dir.join("buffer_size_kb"), "4096")?;
    let in_instance = match start_tracer(&dir) {
        Ok(()) => return Ok(instance),
        Err(e) => e,
    };
    drop(instance);
    let current = fs::read_to_string(root.join("current_tracer")).unwrap_or_default();
    if current.trim() != "nop" {
        return Err(in_instance.context(format!(
            "the osnoise tracer cannot run in a tracing instance here, and the top level's \
             tracer is in use ({}); set it to nop or drop osnoise from the tests",
            current.trim()
        )));
    }
    eprintln!(
        "rust-bench: osnoise: the tracer cannot run in a tracing instance ({in_instance:#}); \
         using the top level"
    );
    let top = Instance {
        dir: root.to_path_buf(),
        private: false,
        tracing_on: fs::read_to_string(root.join("tracing_on"))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|_| "1".to_string()),
    };
    start_tracer(root).context("cannot start the osnoise tracer")?;
    Ok(top)
}

fn write(path: &Path, value: &str) -> Result<()> {
    fs::write(path, value).with_context(|| format!("cannot write '{value}' to {}", path.display()))
}

/// Check that the kernel offers the osnoise tracer under `fs`.
pub fn check(fs: &Tracefs) -> Result<()> {
    let tracers = fs.available_tracers();
    if !tracers.iter().any(|t| t == "osnoise") {
        bail!(
            "the kernel has no osnoise tracer (available_tracers in {}: {}); the osnoise test \
             needs a kernel with CONFIG_OSNOISE_TRACER (the hvrt kernels have it); drop osnoise \
             from the tests",
            fs.root().display(),
            tracers.join(" ")
        );
    }
    Ok(())
}

/// Run the osnoise tracer on `opts.cpu` for `opts.duration`; `checkpoint` gets the
/// result so far about every `opts.checkpoint_every`.
pub fn measure(opts: &Options, checkpoint: &mut dyn FnMut(&Osnoise)) -> Result<Osnoise> {
    if opts.runtime_us == 0 || opts.runtime_us > opts.period_us {
        crate::usage!("the osnoise runtime must be between 1 us and the period");
    }
    let origin = Origin::now();
    rt::check_cpu(opts.cpu)?;
    let tracefs = Tracefs::open()
        .context("the osnoise test drives the kernel's osnoise tracer through tracefs")?;
    check(&tracefs)?;
    let environment = environment::collect();
    let osnoise_dir = tracefs.root().join("osnoise");
    let _saved = Saved::save(&osnoise_dir);
    write(&osnoise_dir.join("cpus"), &opts.cpu.to_string())?;
    // The runtime may not exceed the period: set whichever keeps that true first.
    let (period, runtime) = (opts.period_us.to_string(), opts.runtime_us.to_string());
    if fs::write(osnoise_dir.join("period_us"), &period).is_err() {
        write(&osnoise_dir.join("runtime_us"), &runtime)?;
        write(&osnoise_dir.join("period_us"), &period)?;
    }
    write(&osnoise_dir.join("runtime_us"), &runtime)?;
    // The tracer first: the kernel refuses to change it while its trace_pipe is open.
    let instance = open_instance(tracefs.root(), opts.cpu)?;
    let dir = instance.dir.clone();
    let mut pipe = Pipe::open(&dir.join("trace_pipe"), 16 << 20)?;
    write(&dir.join("tracing_on"), "1")?;

    let start = Instant::now();
    let mut sums = Sums::default();
    let mut next_checkpoint = start + opts.checkpoint_every;
    let report = |sums: &Sums, complete: bool, end: End| Osnoise {
        schema: SCHEMA,
        test: contract::NAME.to_string(),
        rust_bench_version: Some(origin.rust_bench_version.clone()),
        command_line: Some(origin.command_line.clone()),
        started: Some(origin.started.clone()),
        complete,
        end,
        cpu: opts.cpu,
        period_us: opts.period_us,
        runtime_us: opts.runtime_us,
        duration_s: (start.elapsed().as_secs_f64() * 1e6).round() / 1e6,
        periods: sums.periods,
        runtime_ns: sums.runtime_ns,
        noise_ns: sums.noise_ns,
        max_period_noise_ns: sums.max_period_noise_ns,
        max_single_noise_ns: sums.max_single_noise_ns,
        min_available_pct: sums.min_available_pct,
        counts: sums.counts.clone(),
        sources: {
            let mut v: Vec<NoiseSource> = sums.sources.values().cloned().collect();
            v.sort_by_key(|s| std::cmp::Reverse(s.total_ns));
            v
        },
        events_lost: sums.lost,
        environment: environment.clone(),
    };
    let end = loop {
        if rt::stop_requested() {
            break End::Signal;
        }
        if start.elapsed() >= opts.duration {
            break End::Duration;
        }
        let left = opts.duration.saturating_sub(start.elapsed());
        rt::sleep_until_monotonic(
            tsc::monotonic_ns() + left.min(Duration::from_secs(1)).as_nanos() as u64,
        );
        pipe.drain(&mut |l| {
            if let Some(x) = parse_line(l) {
                sums.add(x);
            }
        })?;
        if Instant::now() >= next_checkpoint {
            checkpoint(&report(&sums, false, End::Running));
            next_checkpoint = Instant::now() + opts.checkpoint_every;
        }
    };
    write(&dir.join("tracing_on"), "0")?;
    pipe.drain(&mut |l| {
        if let Some(x) = parse_line(l) {
            sums.add(x);
        }
    })?;
    drop(pipe);
    drop(instance);
    Ok(report(&sums, end != End::Signal, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_summaries_and_noise() {
        let l = "           <...>-859     [000] ....    81.637220: 1000000        190  99.98100       9     18      0   1007     18      1";
        assert_eq!(
            parse_line(l),
            Some(Line::Summary {
                runtime_us: 1_000_000,
                noise_us: 190,
                available_pct: 99.981,
                max_single_us: 9,
                counts: [18, 0, 1007, 18, 1],
            })
        );
        let l = "  osnoise/1-859  [001] d.h.  5.000001: irq_noise: local_timer:236 start 5.000000990 duration 1245 ns";
        assert_eq!(
            parse_line(l),
            Some(Line::Noise {
                class: "irq",
                name: "local_timer".into(),
                ns: 1245
            })
        );
        let l = "  osnoise/1-859  [001] ....  5.1: thread_noise: kworker/1:1:123 start 5.000 duration 30000 ns";
        assert_eq!(
            parse_line(l),
            Some(Line::Noise {
                class: "thread",
                name: "kworker/1:1".into(),
                ns: 30000
            })
        );
        let l = "  osnoise/1-859  [001] ....  5.1: sample_threshold: start 5.000 duration 7000 ns interference 1";
        assert_eq!(
            parse_line(l),
            Some(Line::Noise {
                class: "hw",
                name: String::new(),
                ns: 7000
            })
        );
        assert_eq!(parse_line("CPU:1 [LOST 3 EVENTS]"), Some(Line::Lost(3)));
        assert_eq!(parse_line("# tracer: osnoise"), None);
    }

    #[test]
    fn sums() {
        let mut s = Sums::default();
        for l in [
            "  o-1 [001] ....  1.0: 1000000  200  99.98 9 1 0 10 2 1",
            "  o-1 [001] ....  2.0: 1000000  100  99.99 12 0 0 10 2 0",
            "  o-1 [001] d.h.  2.1: irq_noise: local_timer:236 start 2.0 duration 1000 ns",
            "  o-1 [001] d.h.  2.2: irq_noise: local_timer:236 start 2.1 duration 3000 ns",
        ] {
            s.add(parse_line(l).unwrap());
        }
        assert_eq!(
            (s.periods, s.noise_ns, s.max_period_noise_ns),
            (2, 300_000, 200_000)
        );
        assert_eq!(s.max_single_noise_ns, 12_000);
        assert_eq!(s.min_available_pct, Some(99.98));
        assert_eq!((s.counts.hw, s.counts.irq, s.counts.thread), (1, 20, 1));
        let t = &s.sources[&("irq", "local_timer".to_string())];
        assert_eq!((t.count, t.total_ns, t.max_ns), (2, 4000, 3000));
    }
}
