//! Helpers shared by the integration tests (included with `mod common;`).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Mutex;

/// Measurements must not run at the same time (they share CPUs and RT throttling).
pub static SERIAL: Mutex<()> = Mutex::new(());

/// Held while a test measures: excludes the other tests of this process and, through an
/// flock on a file in /tmp, measuring tests of other checkouts run at the same time.
pub struct Serial {
    _guard: std::sync::MutexGuard<'static, ()>,
    _lock: nix::fcntl::Flock<std::fs::File>,
}

pub fn serial() -> Serial {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open("/tmp/rust-bench-measure.lock")
        .expect("open the measurement lock file");
    // Blocks until the lock is ours; released when `Serial` is dropped.
    let lock = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
        .unwrap_or_else(|(_, e)| panic!("cannot lock /tmp/rust-bench-measure.lock: {e}"));
    Serial {
        _guard: guard,
        _lock: lock,
    }
}

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rust-bench"))
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run rust-bench")
}

/// The CPU to measure on: the last online CPU (CPU 0 takes most interrupts).
pub fn test_cpu() -> usize {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap_or_default();
    text.trim()
        .split([',', '-'])
        .filter_map(|s| s.parse().ok())
        .max()
        .unwrap_or(0)
}

pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

pub fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rust-bench-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn json_file(p: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

pub fn u(v: &serde_json::Value, path: &str) -> u64 {
    let mut cur = v;
    for k in path.split('.') {
        cur = &cur[k];
    }
    cur.as_u64()
        .unwrap_or_else(|| panic!("{path} is not an unsigned number: {cur}"))
}

pub fn f(v: &serde_json::Value, path: &str) -> f64 {
    let mut cur = v;
    for k in path.split('.') {
        cur = &cur[k];
    }
    cur.as_f64()
        .unwrap_or_else(|| panic!("{path} is not a number: {cur}"))
}

/// `rust-bench run --config <conf> --results <results> <extra>`.
pub fn run_plan(conf: &std::path::Path, results: &std::path::Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "--config",
        conf.to_str().unwrap(),
        "--results",
        results.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// The measurement lock for a test that needs root (`why`: "needs root for SCHED_FIFO").
/// Without root the test is skipped, except under CI, which runs as root: there a skip
/// would pass a test that did not run.
pub fn measuring_as_root(why: &str) -> Option<Serial> {
    as_root(why).then(serial)
}

/// Whether a test that needs root (`why`: "needs root for mknod") may go on: without root
/// it is skipped, except under CI, which runs as root.
pub fn as_root(why: &str) -> bool {
    if is_root() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{why}, and CI runs as root"
    );
    eprintln!("skipped: {why}");
    false
}

/// A tmpfs of `size` (mount's `size=`, e.g. `200k`) on a fresh directory (needs root),
/// unmounted and removed when dropped: a small file system to fill.
pub struct Tmpfs {
    pub dir: PathBuf,
}

impl Tmpfs {
    pub fn mount(name: &str, size: &str) -> Tmpfs {
        let dir = tmpdir(name);
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .expect("run mount");
        assert!(
            st.success(),
            "mount a {size} tmpfs on {}: {st}",
            dir.display()
        );
        Tmpfs { dir }
    }

    /// Fill it, leaving about `free` bytes.
    pub fn fill(&self, free: u64) {
        let filler = self.dir.join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0x55u8; 4096];
        while std::io::Write::write_all(&mut f, &chunk).is_ok() {}
        drop(f);
        let len = std::fs::metadata(&filler).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&filler)
            .unwrap()
            .set_len(len.saturating_sub(free))
            .unwrap();
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A character device node `major:minor` at `path` (needs root): 1:3 is a /dev/null,
/// 1:7 a /dev/full.
pub fn mknod_char(path: &std::path::Path, major: u32, minor: u32) {
    let st = Command::new("mknod")
        .arg(path)
        .args(["c", &major.to_string(), &minor.to_string()])
        .status()
        .expect("run mknod");
    assert!(st.success(), "mknod {}: {st}", path.display());
}

/// A FIFO and a thread reading all it receives.
pub struct FifoReader {
    path: PathBuf,
    thread: std::thread::JoinHandle<Vec<u8>>,
}

impl FifoReader {
    /// Make the FIFO at `path` and start reading it.
    pub fn new(path: &std::path::Path) -> FifoReader {
        let st = Command::new("mkfifo")
            .arg(path)
            .status()
            .expect("run mkfifo");
        assert!(st.success(), "mkfifo {}: {st}", path.display());
        let path = path.to_path_buf();
        let read = path.clone();
        FifoReader {
            path,
            thread: std::thread::spawn(move || std::fs::read(read).unwrap()),
        }
    }

    /// What it received. When no writer came (the test failed), an empty one stands in,
    /// so that the reader ends rather than hangs.
    pub fn received(self) -> Vec<u8> {
        use std::os::unix::fs::OpenOptionsExt;
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&self.path);
        self.thread.join().unwrap()
    }
}

/// The type of the file at `path` as `stat -c %F` prints it ("character special file").
pub fn file_type(path: &std::path::Path) -> String {
    let o = Command::new("stat")
        .args(["-c", "%F"])
        .arg(path)
        .output()
        .expect("run stat");
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// The names in `dir`, sorted.
pub fn names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Send SIGTERM to process `pid` (as a user's `kill` would).
pub fn sigterm(pid: u32) {
    let st = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(st.success(), "kill -TERM {pid}: {st}");
}
