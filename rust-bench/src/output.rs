//! Writing results: atomic file writes (a power cut leaves either the old or the new file,
//! never a torn one), JSON, and the per-test files of `--out DIR`.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::histogram;

/// Write `bytes` to `path` atomically: a temporary file next to it, fsync, rename over the
/// target, fsync the file again and the directory.
///
/// The second fsync matters on FAT (the appliance's results partition): Linux's vfat writes
/// a renamed file's new directory entry with size 0 and records the real size and first
/// cluster only when the inode is written back, so without it a power cut shortly after the
/// rename leaves an empty file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    let result = (|| -> Result<()> {
        let mut file =
            File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
        file.sync_all()
            .with_context(|| format!("cannot write {}", path.display()))?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("cannot sync directory {}", dir.display()))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Prove that files can be created in `dir` (what [`write_atomic`] does) by creating and
/// removing one; `flag` names the option in the message.
pub fn probe_writable(dir: &Path, flag: &str) -> Result<()> {
    let probe = dir.join(format!(".rust-bench-probe-{}.tmp", std::process::id()));
    let written = File::create(&probe).and_then(|mut f| f.write_all(b"probe\n"));
    let _ = fs::remove_file(&probe);
    if let Err(e) = written {
        crate::usage!(
            "cannot write in {} ({e}); give {flag} a writable place",
            dir.display()
        );
    }
    Ok(())
}

/// Pretty JSON of `value` with a trailing newline.
pub fn to_json(value: &impl Serialize) -> Result<Vec<u8>> {
    let mut v = serde_json::to_vec_pretty(value).context("cannot serialize results")?;
    v.push(b'\n');
    Ok(v)
}

/// Write JSON to a file (atomically) or, for "-", to standard output.
pub fn write_json(dest: &str, value: &impl Serialize) -> Result<()> {
    let bytes = to_json(value)?;
    if dest == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(&bytes)
            .context("cannot write to standard output")?;
        out.flush().ok();
        Ok(())
    } else {
        write_atomic(Path::new(dest), &bytes)
    }
}

/// Timeline intervals handed to the figures (they merge further, to their own resolution).
const FIGURE_POINTS: usize = 6000;

/// A test result to be written by [`write_test_files`].
#[derive(Clone, Copy)]
pub enum TestReport<'a> {
    ClockTick(&'a crate::clock_tick::Report),
    ThreadSwitch(&'a crate::thread_switch::Report),
}

impl TestReport<'_> {
    /// The test's name, also the stem of its files ("clock-tick", "thread-switch").
    pub fn name(&self) -> &'static str {
        match self {
            TestReport::ClockTick(_) => "clock-tick",
            TestReport::ThreadSwitch(_) => "thread-switch",
        }
    }

    fn complete(&self) -> bool {
        match self {
            TestReport::ClockTick(r) => r.complete,
            TestReport::ThreadSwitch(r) => r.complete,
        }
    }

    fn summary_text(&self) -> String {
        match self {
            TestReport::ClockTick(r) => crate::clock_tick::summary_text(r),
            TestReport::ThreadSwitch(r) => crate::thread_switch::summary_text(r),
        }
    }
}

impl Serialize for TestReport<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        match self {
            TestReport::ClockTick(r) => r.serialize(serializer),
            TestReport::ThreadSwitch(r) => r.serialize(serializer),
        }
    }
}

/// Where a test run from the command line writes its results (`--out`, `--json`).
pub struct Destinations<'a> {
    pub out: Option<&'a Path>,
    pub json: Option<&'a str>,
    /// Replace an earlier result (`--force`).
    pub force: bool,
}

impl Destinations<'_> {
    /// Before the first sample: create `--out`, refuse to replace an earlier result without
    /// `--force`, and prove every destination writable (a file is created and removed in
    /// it), so that a measurement is never lost to a bad path after it ran.
    pub fn prepare(&self, test: &str) -> Result<()> {
        if let Some(dir) = self.out {
            if let Err(e) = fs::create_dir_all(dir) {
                crate::usage!(
                    "cannot create the --out directory {} ({e}); pick a writable directory",
                    dir.display()
                );
            }
            let earlier = dir.join(format!("{test}.json"));
            if earlier.exists() && !self.force {
                crate::usage!(
                    "{} holds an earlier result ({}); pick another --out directory or pass --force to replace it",
                    dir.display(),
                    earlier.display()
                );
            }
            probe_writable(dir, "--out")?;
        }
        if let Some(dest) = self.json.filter(|d| *d != "-") {
            let path = Path::new(dest);
            if path.is_dir() {
                crate::usage!("--json {dest} is a directory; give a file name");
            }
            if path.exists() && !self.force {
                crate::usage!(
                    "--json {dest} exists (an earlier result?); pick another file or pass --force to replace it"
                );
            }
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            probe_writable(dir, "--json")?;
        }
        Ok(())
    }

    /// A partial report (between bursts): the `--out` files, kept going on failure.
    pub fn checkpoint(&self, report: TestReport) {
        if let Some(dir) = self.out
            && let Err(e) = write_test_files(dir, report)
        {
            eprintln!("rust-bench: warning: checkpoint not written: {e:#}");
        }
    }

    /// The final report: the `--out` files, the JSON, and the summary on stdout (on stderr
    /// when the JSON goes to stdout).
    pub fn finish(&self, report: TestReport) -> Result<()> {
        if let Some(dir) = self.out {
            write_test_files(dir, report)?;
        }
        if let Some(dest) = self.json {
            write_json(dest, &report)?;
        }
        let text = report.summary_text();
        if self.json == Some("-") {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
        if !report.complete() {
            eprintln!(
                "rust-bench: {} incomplete (interrupted or timed out); partial results written",
                report.name()
            );
        }
        Ok(())
    }
}

/// Write every file of one test into `dir` (created if needed) and return their paths:
/// `<test>.json` plus CSV files (clock-tick: `-timeline.csv`, `-histogram.csv`,
/// `-spikes.csv`; thread-switch: `-runs.csv`, `-histogram.csv`).
/// This is the single place where a test's files are produced: figures (SVG) belong here.
pub fn write_test_files(dir: &Path, report: TestReport) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| {
        format!(
            "cannot create {}; check the path and permissions",
            dir.display()
        )
    })?;
    let name = report.name();
    // Each file is generated, written and dropped in turn, so that a long run's large
    // timeline is held in memory in one form at a time (the 16 MiB budget).
    let mut paths = Vec::new();
    let mut put = |file: String, bytes: &[u8]| -> Result<()> {
        let p = dir.join(file);
        write_atomic(&p, bytes)?;
        paths.push(p);
        Ok(())
    };
    match report {
        TestReport::ClockTick(r) => {
            put(format!("{name}.json"), &to_json(r)?)?;
            put(
                format!("{name}-timeline.csv"),
                clock_tick_timeline_csv(r).as_bytes(),
            )?;
            put(
                format!("{name}-histogram.csv"),
                histogram_csv(None, &r.histogram.buckets).as_bytes(),
            )?;
            put(
                format!("{name}-spikes.csv"),
                clock_tick_spikes_csv(r).as_bytes(),
            )?;
        }
        TestReport::ThreadSwitch(r) => {
            put(format!("{name}.json"), &to_json(r)?)?;
            put(
                format!("{name}-runs.csv"),
                thread_switch_runs_csv(r).as_bytes(),
            )?;
            let mut h = String::from("threads,lower_ns,upper_ns,count\n");
            for run in &r.runs {
                let body = histogram_csv(Some(run.threads), &run.histogram.buckets);
                h.push_str(body.split_once('\n').map(|x| x.1).unwrap_or(""));
            }
            put(format!("{name}-histogram.csv"), h.as_bytes())?;
        }
    }
    // Figures, drawn from the same data as the JSON (the timeline merged down to a few
    // thousand points first: a figure shows no more, and a full-resolution JSON value of a
    // one-hour run would cost several MiB).
    let json = match report {
        TestReport::ClockTick(r) => serde_json::to_value(r.with_timeline_points(FIGURE_POINTS))?,
        TestReport::ThreadSwitch(r) => serde_json::to_value(r)?,
    };
    for (file, svg) in crate::report::figures::for_test(&json) {
        put(file, svg.as_bytes())?;
    }
    Ok(paths)
}

/// `t_s,min_ns,max_ns` per timeline interval (t_s = interval start; empty fields = no sample).
pub fn clock_tick_timeline_csv(r: &crate::clock_tick::Report) -> String {
    let mut s = String::from("t_s,min_ns,max_ns\n");
    let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
    for (i, (mn, mx)) in r.timeline.min_ns.iter().zip(&r.timeline.max_ns).enumerate() {
        let t = i as f64 * r.timeline.interval_s;
        let _ = writeln!(s, "{:.6},{},{}", t, opt(*mn), opt(*mx));
    }
    s
}

/// `t_s,overhead_ns` per listed spike.
pub fn clock_tick_spikes_csv(r: &crate::clock_tick::Report) -> String {
    let mut s = String::from("t_s,overhead_ns\n");
    for sp in &r.spikes.list {
        let _ = writeln!(s, "{:.6},{}", sp.t_s, sp.overhead_ns);
    }
    s
}

/// `[threads,]lower_ns,upper_ns,count` per non-empty bucket (upper is exclusive).
pub fn histogram_csv(threads: Option<usize>, buckets: &[[u64; 2]]) -> String {
    let mut s = String::new();
    if threads.is_some() {
        s.push_str("threads,");
    }
    s.push_str("lower_ns,upper_ns,count\n");
    for [lower, count] in buckets {
        let upper = lower.saturating_add(histogram::width(histogram::index(*lower)));
        if let Some(t) = threads {
            let _ = write!(s, "{t},");
        }
        let _ = writeln!(s, "{lower},{upper},{count}");
    }
    s
}

/// One line per thread-switch run.
pub fn thread_switch_runs_csv(r: &crate::thread_switch::Report) -> String {
    let mut s = String::from(
        "threads,switches,yields,switched_yields,min_ns,mean_ns,p50_ns,p99_ns,max_ns,complete\n",
    );
    for run in &r.runs {
        let n = &run.switch_ns;
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{}",
            run.threads,
            run.switches,
            run.yields,
            run.switched_yields,
            n.min,
            n.mean,
            n.p50,
            n.p99,
            n.max,
            run.complete
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("rust-bench-output-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.json")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reports_a_missing_directory() {
        let err = write_atomic(Path::new("/nonexistent-dir/x.json"), b"x").unwrap_err();
        assert!(err.to_string().contains("cannot create"));
    }

    #[test]
    fn histogram_csv_bounds() {
        let s = histogram_csv(None, &[[3, 2], [1000, 1]]);
        assert_eq!(s, "lower_ns,upper_ns,count\n3,4,2\n1000,1004,1\n");
        let t = histogram_csv(Some(2), &[[3, 2]]);
        assert_eq!(t, "threads,lower_ns,upper_ns,count\n2,3,4,2\n");
    }
}
