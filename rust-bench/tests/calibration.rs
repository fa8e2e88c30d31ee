//! The clock-tick loop is the length asked for: its shortest sample within 1 % of
//! `--loop-us`, or the result says how far and why.

mod common;
use common::*;

#[test]
fn the_shortest_loop_is_the_target_or_the_result_says_why() {
    let Some(_g) = measuring_as_root("needs root for SCHED_FIFO") else {
        return;
    };
    let cpu = test_cpu().to_string();
    let dir = tmpdir("calibration");
    let json = dir.join("ct.json");
    let o = run(&[
        "clock-tick",
        "--cpu",
        &cpu,
        "--priority",
        "80",
        "--duration",
        "3s",
        "--loop-us",
        "68",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json_file(&json);
    let cal = &v["loop_calibration"];
    assert_eq!(u(cal, "target_ns"), 68_000, "{v}");
    assert_eq!(u(cal, "iterations"), u(&v, "loop_iterations"));
    let min = u(&v, "loop_ns.min") as f64;
    let error = (min - 68_000.0) / 68_000.0 * 100.0;
    let recorded = f(cal, "min_error_pct");
    assert!((recorded - error).abs() < 0.01, "{recorded} vs {error}");
    let summary = String::from_utf8_lossy(&o.stdout).into_owned();
    if error.abs() <= 1.0 {
        assert_eq!(cal["within_1pct"], true);
        assert!(cal["note"].is_null(), "{cal}");
    } else {
        assert_eq!(cal["within_1pct"], false);
        let note = cal["note"].as_str().unwrap();
        assert!(note.contains(&format!("{:.2} %", error.abs())), "{note}");
        assert!(summary.contains("loop calibration: "), "{summary}");
        eprintln!("note: shortest loop {min} ns ({error:.2} %): {note}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
