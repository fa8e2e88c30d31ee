//! clock-tick sees what holds its thread off while it pauses between bursts: a
//! higher-priority thread that takes the CPU during a gap makes the pause end late, and the
//! run says so (a late resume counted as a spike, the longest unobserved stretch, the
//! summary's warning) instead of a clean maximum.

mod common;
use common::*;

use std::time::{Duration, Instant};

/// The scheduler state of a thread (`R`, `S`, ...) and its policy (1: SCHED_FIFO), from
/// /proc.
fn state(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split_whitespace().collect();
    // After the command: state is field 3 of stat(5), policy field 41.
    Some((
        fields.first()?.chars().next()?,
        fields.get(38)?.parse().ok()?,
    ))
}

/// The thread sleeps in clock_nanosleep: a pause between bursts (not a write, say).
fn in_nanosleep(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/wchan")).is_ok_and(|w| w.contains("nanosleep"))
}

/// Pin the calling thread to `cpu` at SCHED_FIFO `prio`.
fn become_fifo_on(cpu: usize, prio: i32) {
    use nix::sched::{CpuSet, sched_setaffinity};
    let mut set = CpuSet::new();
    set.set(cpu).unwrap();
    // Not rt::pin_current_thread: it checks `cpu` against this thread's current affinity.
    sched_setaffinity(nix::unistd::Pid::from_raw(0), &set).unwrap();
    rust_bench::platform::rt::set_fifo(prio).unwrap();
}

#[test]
fn a_thread_held_off_during_a_gap_is_seen() {
    let Some(_g) = measuring_as_root("needs root for SCHED_FIFO") else {
        return;
    };
    let cpu = test_cpu();
    if cpu == 0 {
        eprintln!("skipped: needs a second CPU to watch the measured one from");
        return;
    }
    let dir = tmpdir("pauses");
    let json = dir.join("ct.json");
    // 100 ms bursts, 20 ms gaps: a gap is long enough to be caught from the other CPU.
    let child = bin()
        .args([
            "clock-tick",
            "--cpu",
            &cpu.to_string(),
            "--priority",
            "80",
            "--duration",
            "3s",
            "--burst-ms",
            "100",
            "--gap-us",
            "20000",
            "--no-rt-throttling",
            "--json",
            json.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Watch from CPU 0: once the measuring thread is real-time and past its warm-up and
    // first bursts, wait for it to sleep in a gap, then take its CPU at a higher priority
    // for 50 ms; three times, 300 ms apart (one is enough to be seen).
    let spun = std::thread::spawn(move || {
        become_fifo_on(0, 90);
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until && state(pid).is_some_and(|(_, policy)| policy != 1) {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(500));
        let mut spins = 0;
        let until = Instant::now() + Duration::from_secs(2);
        while spins < 3 && Instant::now() < until {
            if in_nanosleep(pid) {
                become_fifo_on(cpu, 90);
                let spin = Instant::now();
                while spin.elapsed() < Duration::from_millis(50) {
                    std::hint::spin_loop();
                }
                become_fifo_on(0, 90);
                spins += 1;
                std::thread::sleep(Duration::from_millis(300));
            }
        }
        spins > 0
    });
    let o = child.wait_with_output().unwrap();
    assert!(
        spun.join().unwrap(),
        "the measuring thread was never seen sleeping"
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}{}", out, stderr(&o));
    let v = json_file(&json);
    // The stall is no loop sample: a late resume, a spike, the longest stretch.
    assert!(u(&v, "pauses.late") >= 1, "{}", v["pauses"]);
    assert!(u(&v, "pauses.late_max_ns") >= 25_000_000, "{}", v["pauses"]);
    assert!(
        u(&v, "pauses.longest_ns") >= u(&v, "pauses.late_max_ns"),
        "{}",
        v["pauses"]
    );
    assert!(u(&v, "spikes.count") >= 1);
    let listed = v["spikes"]["list"].as_array().unwrap();
    assert!(
        listed
            .iter()
            .any(|s| s["overhead_ns"].as_u64().unwrap() >= 25_000_000),
        "{listed:?}"
    );
    assert!(out.contains("held off while paused"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
