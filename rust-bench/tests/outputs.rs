//! Every destination is checked before the first sample: an earlier result is never
//! replaced without `--force`, and an unwritable path fails at once, not after the run.

mod common;
use common::*;

use std::time::{Duration, Instant};

/// The duration the refused runs ask for, and how soon a refusal must come: a refusal
/// before measuring takes a process start, a measurement the duration asked; the bound
/// between them holds on a machine however busy.
const ASKED: &str = "30s";
const BEFORE_MEASURING: Duration = Duration::from_secs(20);

/// Run `args`, expect a one-line usage error containing `needle`, before measuring: no
/// summary on stdout, well before the duration asked.
fn refused_at_once(args: &[&str], needle: &str) {
    let started = Instant::now();
    let o = run(args);
    let took = started.elapsed();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(
        o.stdout.is_empty(),
        "{args:?}: it measured: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(took < BEFORE_MEASURING, "{args:?}: took {took:?}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(
        err.contains(needle),
        "{args:?}: expected '{needle}' in {err}"
    );
    assert!(o.stdout.is_empty(), "{args:?}: measured anyway");
}

#[test]
fn an_earlier_result_in_out_is_kept() {
    let dir = tmpdir("out-exists");
    for (test, file) in [
        ("clock-tick", "clock-tick.json"),
        ("thread-switch", "thread-switch.json"),
        ("osnoise", "osnoise.json"),
        ("timerlat", "timerlat.json"),
    ] {
        std::fs::write(dir.join(file), "{\"earlier\": true}\n").unwrap();
        let cpu = test_cpu().to_string();
        refused_at_once(
            &[
                test,
                "--cpu",
                &cpu,
                "--duration",
                ASKED,
                "--out",
                dir.to_str().unwrap(),
            ],
            "pass --force to replace it",
        );
        assert_eq!(
            std::fs::read_to_string(dir.join(file)).unwrap(),
            "{\"earlier\": true}\n"
        );
    }
    let json = dir.join("earlier.json");
    std::fs::write(&json, "{}\n").unwrap();
    refused_at_once(
        &[
            "clock-tick",
            "--duration",
            ASKED,
            "--json",
            json.to_str().unwrap(),
        ],
        "--force",
    );
    assert_eq!(std::fs::read_to_string(&json).unwrap(), "{}\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unwritable_destinations_fail_before_measuring() {
    refused_at_once(
        &["clock-tick", "--duration", ASKED, "--out", "/proc/x"],
        "/proc/x",
    );
    refused_at_once(
        &["thread-switch", "--duration", ASKED, "--out", "/proc/x"],
        "/proc/x",
    );
    refused_at_once(
        &["osnoise", "--duration", ASKED, "--out", "/proc/x"],
        "/proc/x",
    );
    refused_at_once(
        &["timerlat", "--duration", ASKED, "--out", "/proc/x"],
        "/proc/x",
    );
    refused_at_once(
        &[
            "clock-tick",
            "--duration",
            ASKED,
            "--json",
            "/proc/x/ct.json",
        ],
        "/proc/x",
    );
    let dir = tmpdir("run-unwritable");
    let conf = dir.join("bench.conf");
    std::fs::write(&conf, format!("clock_tick.duration = {ASKED}\n")).unwrap();
    let started = Instant::now();
    let o = run(&[
        "run",
        "--config",
        conf.to_str().unwrap(),
        "--results",
        "/proc/x",
    ]);
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(started.elapsed() < BEFORE_MEASURING);
    assert!(stderr(&o).contains("/proc/x"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn force_replaces_an_earlier_result() {
    let Some(_g) = measuring_as_root("needs root for SCHED_FIFO") else {
        return;
    };
    let dir = tmpdir("out-force");
    std::fs::write(dir.join("clock-tick.json"), "{}\n").unwrap();
    let cpu = test_cpu().to_string();
    let o = run(&[
        "clock-tick",
        "--cpu",
        &cpu,
        "--priority",
        "80",
        "--duration",
        "300ms",
        "--out",
        dir.to_str().unwrap(),
        "--force",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        json_file(&dir.join("clock-tick.json"))["test"],
        "clock-tick"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `clock-tick --json DEST`, measuring briefly (the caller holds the measurement lock).
fn clock_tick_json(dest: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let cpu = test_cpu().to_string();
    let mut args = vec![
        "clock-tick",
        "--cpu",
        &cpu,
        "--priority",
        "80",
        "--duration",
        "200ms",
        "--json",
        dest.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn is_clock_tick_json(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(bytes).is_ok_and(|v| v["test"] == "clock-tick")
}

/// A result goes to a regular file (new, or an earlier one with --force) by a rename; to a
/// character device, a FIFO or standard output in place, and a device node stays one; a
/// directory is refused before measuring.
#[test]
fn json_goes_to_every_kind_of_destination() {
    let Some(_g) = measuring_as_root("needs root for SCHED_FIFO and mknod") else {
        return;
    };
    let dir = tmpdir("json-kinds");

    // A new regular file, then the same with and without --force.
    let file = dir.join("ct.json");
    let o = clock_tick_json(&file, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(is_clock_tick_json(&std::fs::read(&file).unwrap()));
    std::fs::write(&file, "earlier\n").unwrap();
    let o = clock_tick_json(&file, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("pass --force"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "earlier\n");
    let o = clock_tick_json(&file, &["--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(is_clock_tick_json(&std::fs::read(&file).unwrap()));
    assert_eq!(file_type(&file), "regular file");

    // A /dev/null: written in place, with or without --force; it stays a device.
    let null = dir.join("null");
    mknod_char(&null, 1, 3);
    for extra in [&["--force"][..], &[]] {
        let o = clock_tick_json(&null, extra);
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
        assert_eq!(file_type(&null), "character special file");
    }

    // A /dev/full: the write error is an error, after the summary; it stays a device.
    let full = dir.join("full");
    mknod_char(&full, 1, 7);
    let o = clock_tick_json(&full, &["--force"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("No space left on device"),
        "{}",
        stderr(&o)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("clock-tick: "));
    assert_eq!(file_type(&full), "character special file");

    // A FIFO: its reader gets the JSON once (no checkpoint before it).
    let fifo = dir.join("pipe");
    let reader = FifoReader::new(&fifo);
    let o = clock_tick_json(&fifo, &[]);
    let got = reader.received();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        is_clock_tick_json(&got),
        "{}",
        String::from_utf8_lossy(&got)
    );
    assert_eq!(file_type(&fifo), "fifo");

    // A directory: refused before measuring.
    let o = clock_tick_json(&dir, &["--force"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is a directory"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());

    // Standard output by name: the JSON on stdout, the summary on stderr.
    let o = clock_tick_json(std::path::Path::new("/dev/stdout"), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        is_clock_tick_json(&o.stdout),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(stderr(&o).contains("clock-tick: "), "{}", stderr(&o));

    // Nothing but what the test made: no temporary left, nothing renamed over a node.
    assert_eq!(names(&dir), ["ct.json", "full", "null", "pipe"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--out FILE` says that FILE is a file and what to give instead.
#[test]
fn out_naming_a_file_says_it_is_not_a_directory() {
    let dir = tmpdir("out-file");
    let file = dir.join("ct.json");
    std::fs::write(&file, "{}\n").unwrap();
    refused_at_once(
        &[
            "clock-tick",
            "--duration",
            ASKED,
            "--out",
            file.to_str().unwrap(),
        ],
        "is an existing file, not a directory",
    );
    refused_at_once(
        &[
            "clock-tick",
            "--duration",
            ASKED,
            "--out",
            file.to_str().unwrap(),
        ],
        "--json FILE",
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "{}\n");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--out DIR --force` replaces the earlier result's files as a whole (a file the new run
/// does not write goes too) and leaves every other file alone; without --force any of
/// them counts as an earlier result.
#[test]
fn force_replaces_the_earlier_files_as_a_whole() {
    let Some(_g) = measuring_as_root("needs root for SCHED_FIFO") else {
        return;
    };
    let dir = tmpdir("out-force-whole");
    let out = dir.to_str().unwrap();
    std::fs::write(dir.join("clock-tick-attribution.svg"), "<svg/>\n").unwrap();
    let cpu = test_cpu().to_string();
    let args = [
        "clock-tick",
        "--cpu",
        &cpu,
        "--priority",
        "80",
        "--duration",
        "200ms",
        "--out",
        out,
    ];
    let o = run(&args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("clock-tick-attribution.svg"),
        "{}",
        stderr(&o)
    );
    for (file, text) in [
        ("clock-tick.json", "{\"earlier\": true}\n"),
        ("clock-tick-spikes.csv", "earlier\n"),
        ("thread-switch.json", "{\"another test\": true}\n"),
        ("notes.txt", "the user's\n"),
    ] {
        std::fs::write(dir.join(file), text).unwrap();
    }
    let o = run(&[&args[..], &["--force"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        names(&dir),
        [
            "clock-tick-histogram.csv",
            "clock-tick-histogram.svg",
            "clock-tick-spikes.csv",
            "clock-tick-timeline.csv",
            "clock-tick-timeline.svg",
            "clock-tick.json",
            "notes.txt",
            "thread-switch.json",
        ]
    );
    assert_eq!(
        json_file(&dir.join("clock-tick.json"))["test"],
        "clock-tick"
    );
    assert!(
        std::fs::read_to_string(dir.join("clock-tick-spikes.csv"))
            .unwrap()
            .starts_with("t_s,")
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "the user's\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("thread-switch.json")).unwrap(),
        "{\"another test\": true}\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// On a file system too small for everything: the summary is printed, the JSON is written
/// first (without indentation when only that fits), what fits is kept, what does not is
/// named, the exit status is 1, and no temporary file is left. A file system already full
/// is refused before measuring.
#[test]
fn a_full_disk_keeps_the_json_first() {
    let Some(_g) = measuring_as_root("needs root for SCHED_FIFO and mount") else {
        return;
    };
    let cpu = test_cpu().to_string();
    // No spike list (a threshold of 1 s), so that the JSON's size hardly varies from one
    // run to the next: one run measures it.
    let measure = |out: &std::path::Path| {
        run(&[
            "clock-tick",
            "--cpu",
            &cpu,
            "--priority",
            "80",
            "--duration",
            "1s",
            "--threshold-us",
            "1000000",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let sized = tmpdir("full-sized");
    let o = measure(&sized);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read(sized.join("clock-tick.json")).unwrap();
    let pretty = text.len() as u64;
    let compact = text.iter().filter(|b| !matches!(b, b' ' | b'\n')).count() as u64;
    let _ = std::fs::remove_dir_all(&sized);
    assert!(compact * 4 < pretty * 3, "{compact} of {pretty}");

    // Room for the JSON without indentation, not with it.
    let fs = Tmpfs::mount("full-fs", "2m");
    fs.fill((pretty + compact) / 2);
    let out = fs.dir.join("ct");
    let o = measure(&out);
    let err = stderr(&o);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("max overhead"),
        "{err}"
    );
    assert!(err.contains("written without indentation"), "{err}");
    let json = json_file(&out.join("clock-tick.json"));
    assert_eq!(json["complete"], true);
    let kept = names(&out);
    assert!(kept.iter().all(|n| !n.starts_with('.')), "{kept:?}");
    let all = [
        "clock-tick-histogram.csv",
        "clock-tick-histogram.svg",
        "clock-tick-spikes.csv",
        "clock-tick-timeline.csv",
        "clock-tick-timeline.svg",
        "clock-tick.json",
    ];
    let lost: Vec<&str> = all
        .iter()
        .copied()
        .filter(|f| !kept.iter().any(|k| k == f))
        .collect();
    assert!(!lost.is_empty(), "all fitted: {kept:?}");
    assert_eq!(o.status.code(), Some(1), "{err}");
    for f in &lost {
        assert!(
            err.contains(&format!(
                "not written: cannot write {}",
                out.join(f).display()
            )),
            "{f}: {err}"
        );
    }
    assert!(
        err.contains(&format!("{} of 6 result files not written", lost.len())),
        "{err}"
    );

    // Full before measuring: refused at once.
    fs.fill(0);
    let full = fs.dir.join("ct2");
    std::fs::create_dir(&full).unwrap();
    let o = measure(&full);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("No space left on device"),
        "{}",
        stderr(&o)
    );
    // Nothing measured: no summary.
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(names(&full).is_empty());
}

/// A run directory made from the results contract's fixtures (synthetic numbers).
fn fixture_run(results: &std::path::Path) -> std::path::PathBuf {
    use rust_bench::results::{fixture, run::Status, writer};
    let env = fixture::environment(None, false, false);
    let dir = results.join("20261127-100000");
    std::fs::create_dir_all(&dir).unwrap();
    fixture::run_record(
        "20261127-100000",
        Status::Complete,
        Some(&env),
        &["clock-tick"],
    )
    .write(&dir)
    .unwrap();
    let json = writer::to_json(&fixture::clock_tick(&env, 68_000, 78_000)).unwrap();
    std::fs::write(dir.join("clock-tick.json"), json).unwrap();
    dir
}

/// `report --out` and `--histograms` by the same rule: a regular file replaced whole, a
/// device or FIFO written in place (a device node stays one), a directory refused, and a
/// full disk an error that keeps the earlier file whole.
#[test]
fn report_writes_every_kind_of_destination() {
    if !as_root("needs root for mknod and mount") {
        return;
    }
    let dir = tmpdir("report-kinds");
    let run_dir = fixture_run(&dir.join("results"));
    let report = |out: &std::path::Path| {
        run(&[
            "report",
            run_dir.to_str().unwrap(),
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let is_csv = |bytes: &[u8]| bytes.starts_with(b"label,run,");

    let file = dir.join("report.csv");
    std::fs::write(&file, "earlier\n").unwrap();
    let o = report(&file);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(is_csv(&std::fs::read(&file).unwrap()));

    let null = dir.join("null");
    mknod_char(&null, 1, 3);
    let o = report(&null);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(file_type(&null), "character special file");

    let full = dir.join("full");
    mknod_char(&full, 1, 7);
    let o = report(&full);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("No space left on device"),
        "{}",
        stderr(&o)
    );
    assert_eq!(file_type(&full), "character special file");

    let fifo = dir.join("pipe");
    let reader = FifoReader::new(&fifo);
    let o = report(&fifo);
    let got = reader.received();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(is_csv(&got), "{}", String::from_utf8_lossy(&got));
    assert_eq!(file_type(&fifo), "fifo");

    let o = report(&run_dir);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is a directory"), "{}", stderr(&o));

    let o = run(&[
        "report",
        run_dir.to_str().unwrap(),
        "--histograms",
        file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is not a directory"), "{}", stderr(&o));

    let fs = Tmpfs::mount("report-full", "64k");
    let kept = fs.dir.join("report.csv");
    std::fs::write(&kept, "earlier\n").unwrap();
    fs.fill(0);
    let o = report(&kept);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("No space left on device"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "earlier\n");
    assert_eq!(names(&fs.dir), ["filler", "report.csv"]);

    assert_eq!(
        names(&dir),
        ["full", "null", "pipe", "report.csv", "results"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `convert` by the same rule: an existing image only with --force, a device written in
/// place (and still a device), a directory refused, a full disk leaving no file at all.
#[test]
fn convert_writes_every_kind_of_destination() {
    if !as_root("needs root for mknod and mount") {
        return;
    }
    let dir = tmpdir("convert-kinds");
    let disk = dir.join("disk.img");
    let mut bytes = Vec::with_capacity(256 * 1024);
    let mut x: u32 = 7;
    while bytes.len() < 256 * 1024 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    std::fs::write(&disk, &bytes).unwrap();
    let convert = |out: &std::path::Path, extra: &[&str]| {
        let mut args = vec![
            "convert",
            disk.to_str().unwrap(),
            "--vhd",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run(&args)
    };

    let vhd = dir.join("disk.vhd");
    let o = convert(&vhd, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::metadata(&vhd).unwrap().len(), 256 * 1024 + 512);
    let o = convert(&vhd, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    let o = convert(&vhd, &["--force"]);
    assert!(o.status.success(), "{}", stderr(&o));

    let null = dir.join("null");
    mknod_char(&null, 1, 3);
    let o = convert(&null, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(file_type(&null), "character special file");

    let full = dir.join("full");
    mknod_char(&full, 1, 7);
    let o = convert(&full, &["--force"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("No space left on device"),
        "{}",
        stderr(&o)
    );
    assert_eq!(file_type(&full), "character special file");

    let sub = dir.join("sub");
    std::fs::create_dir(&sub).unwrap();
    let o = convert(&sub, &["--force"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is a directory"), "{}", stderr(&o));

    let fs = Tmpfs::mount("convert-full", "128k");
    let o = convert(&fs.dir.join("disk.vhd"), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("No space left on device"),
        "{}",
        stderr(&o)
    );
    assert!(names(&fs.dir).is_empty(), "{:?}", names(&fs.dir));

    assert_eq!(names(&dir), ["disk.img", "disk.vhd", "full", "null", "sub"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `pull` onto a disk too small for the image's results: an error, and nothing of it left
/// behind (no run directory, no temporary file); what was there before stays.
#[test]
fn pull_onto_a_full_disk_leaves_nothing_behind() {
    if !as_root("needs root for mount") {
        return;
    }
    let tools = ["mkfs.vfat", "mmd", "mcopy"];
    let have = |t: &&str| {
        std::process::Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !tools.iter().all(have) {
        assert!(
            std::env::var_os("CI").is_none(),
            "needs {tools:?} (dosfstools, mtools), and CI has them"
        );
        eprintln!("skipped: needs {tools:?} (apt-get install dosfstools mtools)");
        return;
    }
    let dir = tmpdir("pull-full");
    let mut big = Vec::with_capacity(1 << 20);
    let mut x: u32 = 11;
    while big.len() < 1 << 20 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        big.extend_from_slice(&x.to_le_bytes());
    }
    std::fs::write(dir.join("big.bin"), &big).unwrap();
    std::fs::write(dir.join("run.json"), "{\"schema\": 1}\n").unwrap();
    let made = std::process::Command::new("sh")
        .arg("-ec")
        .arg(
            "mkfs.vfat -C disk.img 4096 >/dev/null
             mmd -i disk.img ::results ::results/r1 ::results/r2
             mcopy -i disk.img run.json ::results/r1/
             mcopy -i disk.img run.json big.bin ::results/r2/",
        )
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(made.success());

    let fs = Tmpfs::mount("pull-fs", "512k");
    std::fs::write(fs.dir.join("mine.txt"), "the user's\n").unwrap();
    for dest in [fs.dir.clone(), fs.dir.join("results")] {
        let o = run(&[
            "pull",
            dir.join("disk.img").to_str().unwrap(),
            dest.to_str().unwrap(),
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains("No space left on device"), "{err}");
        assert!(err.contains("nothing new was kept"), "{err}");
        assert_eq!(names(&fs.dir), ["mine.txt"], "{}", dest.display());
    }
    drop(fs);
    let _ = std::fs::remove_dir_all(&dir);
}
