//! Example results built from the contract types, for tests of the readers (the report's
//! tables and figures). The numbers are synthetic, shaped after the paper's tables; they
//! are not measurements.

use std::collections::BTreeMap;

use crate::results::attribution::{AttributedSpike, Attribution, CauseTotal, Class, Part};
use crate::results::clock::{ClockInfo, Source};
use crate::results::clock_tick::{
    self, ClockTick, LoopCalibration, Spike, SpikeOverhead, Spikes, Timeline,
};
use crate::results::environment::{Environment, Kernel, Throttling};
use crate::results::histogram::{self, Histogram};
use crate::results::run::{RunRecord, Status, TestRecord};
use crate::results::stats::{HistogramJson, LoopSummary, Summary};
use crate::results::thread_switch::{self, SwitchRun, ThreadSwitch};
use crate::results::{End, SCHEMA, VERSION};

/// A PREEMPT_RT machine: bare metal (`hypervisor` None), or a guest of `hypervisor`, with
/// VMBus up or not, on a kernel built with CONFIG_HYPERV or not.
pub fn environment(hypervisor: Option<&str>, vmbus: bool, hyperv_kernel: bool) -> Environment {
    let mut config = BTreeMap::new();
    config.insert("CONFIG_PREEMPT_RT".to_string(), "y".to_string());
    if hyperv_kernel {
        config.insert("CONFIG_HYPERV".to_string(), "y".to_string());
    }
    Environment {
        kernel: Kernel {
            release: Some("6.12.91-rt".into()),
            version: Some("#1 SMP PREEMPT_RT".into()),
            preempt_rt: true,
            machine: Some("x86_64".into()),
        },
        hypervisor: hypervisor.map(str::to_string),
        vmbus,
        clocksource: Some("tsc".into()),
        cpu_model: Some("Test CPU @ 3.10GHz".into()),
        invariant_tsc: true,
        cpus_online: Some("0-1".into()),
        hostname: Some("hvrt".into()),
        os_release: Some("Buildroot 2026.02.3".into()),
        firmware: None,
        secure_boot: None,
        cmdline: Some("quiet".into()),
        rt_throttling: Throttling {
            sched_rt_runtime_us: Some(-1),
            sched_rt_period_us: Some(1_000_000),
            fair_server: None,
        },
        kernel_config: Some(config),
    }
}

fn clock() -> ClockInfo {
    ClockInfo {
        source: Source::Tsc,
        hz: 3.1e9,
        invariant_tsc: true,
        reason: "invariant TSC".into(),
    }
}

/// The histogram of `values` (value, count).
pub fn histogram(values: &[(u64, u64)]) -> HistogramJson {
    let mut h = Histogram::new();
    for &(v, n) in values {
        for _ in 0..n.min(1000) {
            h.record(v);
        }
    }
    let mut json = HistogramJson::from(&h);
    // Large counts without recording each sample: scale the bucket of each value.
    for &(v, n) in values {
        let lower = histogram::lower_bound(histogram::index(v));
        if let Some(b) = json.buckets.iter_mut().find(|b| b[0] == lower) {
            b[1] = n;
        }
    }
    json
}

/// The calibration record of a loop of `target` ns whose shortest sample took `min` ns: within
/// 1 %, or with a note saying how far it missed.
pub fn loop_calibration(target: u64, min: u64) -> LoopCalibration {
    let error = ((min as f64 - target as f64) / target as f64 * 1e4).round() / 100.0;
    let within = error.abs() <= 1.0;
    LoopCalibration {
        target_ns: target,
        iterations: 123_456,
        base_ns: 25,
        adjustments: 0,
        min_error_pct: Some(error),
        within_1pct: within,
        note: (!within).then(|| {
            format!(
                "the shortest loop was {:.2} % {} the target",
                error.abs(),
                if error < 0.0 { "below" } else { "above" }
            )
        }),
    }
}

/// A complete clock-tick result: 1,000,000 loops of `min` ns, one of `max` ns after 77 s.
pub fn clock_tick(env: &Environment, min: u64, max: u64) -> ClockTick {
    let n = 120;
    ClockTick {
        schema: SCHEMA,
        test: clock_tick::NAME.to_string(),
        rust_bench_version: Some(VERSION.to_string()),
        command_line: Some(vec!["rust-bench".into(), "clock-tick".into()]),
        started: Some("2026-11-27T10:00:00Z".into()),
        complete: true,
        end: End::Duration,
        samples: 1_000_000,
        duration_s: 120.0,
        measured_s: 118.8,
        duty_cycle: 0.99,
        bursts: 240,
        burst_ms: 500,
        gap_us: 5000,
        checkpoint_settle_ms: 0,
        attribution: None,
        pauses: None,
        fail_above: None,
        loop_ns: LoopSummary {
            target: 68_000,
            min,
            mean: (min + 100) as f64,
            p50: min + 20,
            p99: min + 8000,
            p999: min + 8100,
            p9999: min + 8200,
            max,
        },
        loop_iterations: 123_456,
        loop_calibration: Some(loop_calibration(68_000, min)),
        max_overhead_ns: max - min,
        spikes: Spikes {
            threshold_ns: 20_000,
            baseline_ns: min,
            count: u64::from(max - min >= 20_000),
            overhead_ns: (max - min >= 20_000).then_some(SpikeOverhead {
                min: max - min,
                mean: (max - min) as f64,
                p50: max - min,
                max: max - min,
            }),
            list: if max - min >= 20_000 {
                vec![Spike {
                    t_s: 77.2,
                    overhead_ns: max - min,
                }]
            } else {
                Vec::new()
            },
            list_cap: 10_000,
            list_truncated: false,
        },
        histogram: histogram(&[(min, 990_000), (min + 8000, 9999), (max, 1)]),
        timeline: Timeline {
            interval_s: 1.0,
            max_ns: (0..n)
                .map(|i| Some(if i == 77 { max } else { min + 8000 }))
                .collect(),
            min_ns: (0..n).map(|_| Some(min)).collect(),
        },
        clock: clock(),
        priority: 99,
        cpu: 0,
        rt_throttling_lifted: true,
        rt_setup: None,
        memory_locked: true,
        environment: env.clone(),
    }
}

/// A complete thread-switch result: for each `(threads, [min, mean, max])`, 100,000 switches.
pub fn thread_switch(env: &Environment, stats: &[(usize, [f64; 3])]) -> ThreadSwitch {
    let runs = stats
        .iter()
        .map(|&(threads, [min, mean, max])| SwitchRun {
            threads,
            switches: 100_000,
            yields: 100_000,
            switched_yields: 100_000,
            duration_s: 1.0,
            measured_s: 0.99,
            duty_cycle: 0.99,
            bursts: 2,
            switch_ns: Some(Summary {
                min: min as u64,
                mean,
                p50: mean as u64,
                p99: (max * 0.5) as u64,
                max: max as u64,
            }),
            histogram: histogram(&[(min as u64, 99_999), (max as u64, 1)]),
            fail_above: None,
            complete: true,
            end: End::Switches,
        })
        .collect();
    ThreadSwitch {
        schema: SCHEMA,
        test: thread_switch::NAME.to_string(),
        rust_bench_version: Some(VERSION.to_string()),
        command_line: Some(vec!["rust-bench".into(), "thread-switch".into()]),
        started: Some("2026-11-27T10:30:00Z".into()),
        complete: true,
        threads_asked: stats.iter().map(|s| s.0).collect(),
        fail_above: None,
        runs,
        clock: clock(),
        priority: 99,
        cpu: 0,
        burst_ms: 500,
        gap_us: 5000,
        rt_throttling_lifted: true,
        rt_setup: None,
        memory_locked: true,
        environment: env.clone(),
    }
}

/// A run record whose `tests` are all `status`, with their usual file names.
pub fn run_record(
    id: &str,
    status: Status,
    env: Option<&Environment>,
    tests: &[&str],
) -> RunRecord {
    RunRecord {
        schema: SCHEMA,
        rust_bench_version: Some(VERSION.to_string()),
        command_line: Some(vec![
            "rust-bench".into(),
            "run".into(),
            "--config".into(),
            "/mnt/bench.conf".into(),
        ]),
        run_id: id.to_string(),
        status,
        error: None,
        started: "2026-11-27T10:00:00Z".into(),
        finished: (status != Status::Interrupted).then(|| "2026-11-27T11:00:00Z".into()),
        config_file: Some("/mnt/bench.conf".into()),
        plan: Some(serde_json::json!({"role": "test"})),
        scenario: None,
        label: None,
        environment: env.cloned(),
        rt_settings: None,
        boot_to_first_sample_s: Some(2.5),
        tests: tests
            .iter()
            .map(|t| {
                (
                    t.to_string(),
                    TestRecord {
                        status,
                        file: format!("{t}.json"),
                        error: None,
                        fail_above: None,
                    },
                )
            })
            .collect(),
        threshold_crossed: Vec::new(),
        load: None,
        memory_load: None,
    }
}

/// An attribution with every class, shaped after a 10 s run on a busy 2-CPU KVM guest.
pub fn attribution() -> Attribution {
    let total = |class, spikes, total_ns, max_ns| CauseTotal {
        class,
        name: String::new(),
        spikes,
        total_ns,
        max_ns,
    };
    let part = |class, name: &str, ns| Part {
        class,
        name: name.to_string(),
        ns,
    };
    Attribution {
        trace_reader: Some(crate::results::trace::TraceReader::Binary),
        trace_clock: "x86-tsc".into(),
        events: vec!["irq:irq_handler_entry".into(), "sched:sched_switch".into()],
        buffer_size_kb: 2048,
        events_read: 19_752,
        events_lost: 12,
        drain_ns: 77_806_298,
        reader_cpus: None,
        reader_ns: 0,
        spikes_attributed: 3_919,
        spikes_unknown: 3,
        spikes_skipped: 0,
        classes: vec![
            total(Class::Irq, 650, 2_038_659, 107_159),
            total(Class::Vector, 2_059, 17_422_215, 329_892),
            total(Class::Timer, 2_036, 6_552_787, 189_182),
            total(Class::Softirq, 1_853, 24_548_776, 782_097),
            total(Class::Nmi, 2, 41_200, 30_100),
            total(Class::Thread, 75, 383_800_989, 51_638_400),
            total(Class::Unexplained, 3_921, 98_670_528, 4_746_232),
            total(Class::Unknown, 3, 1_204_000, 700_000),
        ],
        causes: vec![CauseTotal {
            name: "cc1".into(),
            ..total(Class::Thread, 8, 243_501_200, 51_605_100)
        }],
        largest: vec![AttributedSpike {
            t_s: 1.107_783,
            overhead_ns: 52_083_243,
            parts: vec![
                part(Class::Thread, "cc1", 51_605_100),
                part(Class::Vector, "local_timer", 205_947),
                part(Class::Timer, "tick_nohz_handler", 181_200),
                part(Class::Thread, "kworker/1:2", 33_300),
                part(Class::Unexplained, "", 30_045),
            ],
        }],
    }
}
