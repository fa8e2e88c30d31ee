//! The figures, as SVG strings drawn from a test's JSON (docs/results-format.md):
//!
//! - the loop duration over time, per-interval maximum and minimum (the paper's figures 2–3);
//! - a latency histogram with a log count axis (the OSADL style);
//! - a comparison across runs: grouped bars, one group per metric, one bar per environment.
//!
//! Everything here reads JSON leniently: a checkpoint written mid-run, or a field a newer
//! suite added or an older one lacks, gives a smaller figure or a note, never an error.

use serde_json::Value;

use super::svg::{self, Axis, Chart, PALETTE, Unit, format_ns, group_thousands};

/// At most this many points per series: long runs are merged (max of maxima, min of minima)
/// so a figure stays a few hundred kilobytes at most.
const MAX_POINTS: usize = 1500;

/// The figures for one test's JSON, as `(file name, SVG)` pairs, e.g.
/// `clock-tick-timeline.svg`, `clock-tick-histogram.svg`, `thread-switch-histogram.svg`.
/// Unknown tests give no figures. Called by the tests' `--out DIR` and by `rust-bench run`.
pub fn for_test(json: &Value) -> Vec<(String, String)> {
    match json.get("test").and_then(Value::as_str) {
        Some("clock-tick") => vec![
            (
                "clock-tick-timeline.svg".to_string(),
                clock_tick_timeline(json, ""),
            ),
            (
                "clock-tick-histogram.svg".to_string(),
                clock_tick_histogram(json, ""),
            ),
        ],
        Some("thread-switch") => vec![(
            "thread-switch-histogram.svg".to_string(),
            thread_switch_histogram(json, ""),
        )],
        _ => Vec::new(),
    }
}

/// The loop duration over time: for every timeline interval, the longest and the shortest
/// loop. The gap between them is what interrupts and the hypervisor took.
pub fn clock_tick_timeline(json: &Value, label: &str) -> String {
    let title = titled("Clock tick test: loop duration over time", label);
    let timeline = json.get("timeline");
    let interval = timeline
        .and_then(|t| num(t.get("interval_s")))
        .filter(|v| *v > 0.0)
        .unwrap_or(1.0);
    let max = series(timeline.and_then(|t| t.get("max_ns")));
    let min = series(timeline.and_then(|t| t.get("min_ns")));
    if max.iter().all(Option::is_none) {
        return svg::empty(
            &title,
            "No timeline recorded (the run stopped before one interval).",
        );
    }
    let (max, min, interval) = merge_intervals(&max, &min, interval);
    let points = |s: &[Option<f64>]| -> Vec<(f64, f64)> {
        s.iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (i as f64 * interval, v)))
            .collect()
    };
    let (max_pts, min_pts) = (points(&max), points(&min));
    let ys = max_pts.iter().chain(&min_pts).map(|p| p.1);
    let (lo, hi) = bounds(ys);
    let end = max.len().max(min.len()) as f64 * interval;
    let x = Axis::linear_tight("time since start (s)", 0.0, end * 1.01, Unit::Seconds);
    let log = lo > 0.0 && hi / lo > 30.0;
    let y_label = if log {
        "loop duration (log scale)"
    } else {
        "loop duration"
    };
    let y = if log {
        Axis::log(y_label, lo, hi, Unit::Nanos)
    } else {
        let pad = ((hi - lo) * 0.08).max(hi * 0.002);
        Axis::linear(y_label, (lo - pad).max(0.0), hi + pad, Unit::Nanos)
    };
    let mut chart = Chart::new(&title, x, y);
    chart.subtitle(&clock_tick_summary(json, interval));
    let threshold = spike_threshold(json);
    if let Some(t) = threshold {
        chart.hline(t, "#8c8c8c", "");
    }
    let radius = if max_pts.len() > 600 { 1.1 } else { 1.6 };
    // The shortest loops as a line, broken where intervals hold no sample (between bursts,
    // or inside one very long loop) so a gap is never drawn as a slope.
    for run in runs_of_values(&min, interval) {
        if run.len() == 1 {
            chart.dots(&run, PALETTE[0], radius);
        } else {
            chart.line(&run, PALETTE[0], 1.4);
        }
    }
    chart.dots(&max_pts, PALETTE[1], radius);
    chart.legend("longest loop per interval", PALETTE[1]);
    chart.legend("shortest", PALETTE[0]);
    if threshold.is_some() {
        chart.legend("spike threshold", "#8c8c8c");
    }
    chart.finish()
}

/// The histogram of loop durations, log count axis.
pub fn clock_tick_histogram(json: &Value, label: &str) -> String {
    let title = titled("Clock tick test: loop duration histogram", label);
    let h = json.get("histogram");
    let buckets = buckets(h);
    if buckets.is_empty() {
        return svg::empty(&title, "No histogram recorded.");
    }
    let widths = Widths::of(h);
    let mut chart = histogram_chart(&title, &[&buckets], widths, "loop duration");
    let samples = num(json.get("samples")).unwrap_or(0.0);
    chart.subtitle(&format!(
        "{} samples · bucket width ≤ {} % of its value · counts on a log scale",
        group_thousands(samples as u64),
        svg::three_digits(widths.max_fraction() * 100.0)
    ));
    sticks(&mut chart, &buckets, widths, PALETTE[0]);
    chart.finish()
}

/// One histogram per thread count, overlaid.
pub fn thread_switch_histogram(json: &Value, label: &str) -> String {
    let title = titled("Thread switch latency histogram", label);
    let runs: Vec<&Value> = json
        .get("runs")
        .and_then(Value::as_array)
        .map(|r| r.iter().collect())
        .unwrap_or_default();
    let mut all = Vec::new();
    let mut widths = Widths::of(None);
    for run in &runs {
        let b = buckets(run.get("histogram"));
        if !b.is_empty() {
            widths = Widths::of(run.get("histogram"));
            let threads = num(run.get("threads")).unwrap_or(0.0);
            all.push((threads, b));
        }
    }
    if all.is_empty() {
        return svg::empty(&title, "No histogram recorded.");
    }
    let refs: Vec<&Vec<(f64, f64)>> = all.iter().map(|(_, b)| b).collect();
    let mut chart = histogram_chart(&title, &refs, widths, "switch latency");
    chart.subtitle(
        "SCHED_FIFO threads of one priority on one CPU, sched_yield · counts on a log scale",
    );
    if all.len() > 1 {
        chart.set_bar_opacity(0.6);
    }
    for (i, (threads, b)) in all.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        sticks(&mut chart, b, widths, color);
        chart.legend(&format!("{threads} threads"), color);
    }
    chart.finish()
}

/// A grouped bar chart on a log axis. `groups` are the metrics (x categories); each holds one
/// value per series (environment), `None` where that run did not measure it.
pub fn comparison(title: &str, series: &[String], groups: &[(String, Vec<Option<f64>>)]) -> String {
    let values = groups.iter().flat_map(|(_, v)| v.iter().flatten().copied());
    let (lo, hi) = bounds(values.filter(|v| *v > 0.0));
    if groups.is_empty() || series.is_empty() || hi <= 0.0 {
        return svg::empty(title, "Nothing to compare.");
    }
    let frame = svg::Frame {
        width: (140.0 + groups.len() as f64 * (36.0 + 22.0 * series.len() as f64))
            .clamp(760.0, 1100.0),
        ..svg::Frame::default()
    };
    let x = Axis::linear_tight("", 0.0, groups.len() as f64, Unit::Count);
    let y = Axis::log("latency (log scale)", lo, hi * 1.5, Unit::Nanos);
    let mut chart = Chart::with_frame(title, x, y, frame);
    let n = series.len() as f64;
    let width = 0.8 / n;
    // Values printed over the bars only where a bar is wide enough to carry them.
    let bar_px = (frame.width - frame.left - frame.right) / groups.len() as f64 * width;
    let print_values = bar_px >= 40.0;
    for (g, (name, values)) in groups.iter().enumerate() {
        chart.x_category(g as f64 + 0.5, name);
        for (s, value) in values.iter().enumerate() {
            let Some(v) = value else { continue };
            let x0 = g as f64 + 0.1 + s as f64 * width;
            let color = PALETTE[s % PALETTE.len()];
            let tip = format!(
                "{}: {} = {}",
                series[s],
                name.replace('\n', " "),
                format_ns(*v)
            );
            chart.bar(x0, x0 + width * 0.92, *v, color, &tip);
            if print_values {
                chart.text(x0 + width * 0.46, *v, &format_ns(*v), 9.0, "middle");
            }
        }
    }
    for (s, name) in series.iter().enumerate() {
        chart.legend(name, PALETTE[s % PALETTE.len()]);
    }
    chart.finish_with(false)
}

fn titled(title: &str, label: &str) -> String {
    if label.is_empty() {
        title.to_string()
    } else {
        format!("{title} — {label}")
    }
}

fn histogram_chart(title: &str, all: &[&Vec<(f64, f64)>], widths: Widths, what: &str) -> Chart {
    let xs = all.iter().flat_map(|b| b.iter().map(|p| p.0));
    let (lo, hi) = bounds(xs);
    let hi = hi + widths.width(hi);
    let max_count = all
        .iter()
        .flat_map(|b| b.iter().map(|p| p.1))
        .fold(1.0, f64::max);
    let x = if lo > 0.0 && hi / lo > 20.0 {
        Axis::log(&format!("{what} (log scale)"), lo, hi, Unit::Nanos)
    } else {
        let pad = ((hi - lo) * 0.05).max(hi * 0.002);
        Axis::linear(what, (lo - pad).max(0.0), hi + pad, Unit::Nanos)
    };
    let y = Axis::log_counts("samples (log scale)", max_count * 1.2);
    Chart::new(title, x, y)
}

/// One thin bar per non-empty bucket, from its lower bound over its width.
fn sticks(chart: &mut Chart, buckets: &[(f64, f64)], widths: Widths, color: &str) {
    for &(lower, count) in buckets {
        let upper = lower + widths.width(lower);
        let tip = format!(
            "{} – {}: {} samples",
            format_ns(lower),
            format_ns(upper),
            count
        );
        chart.bar(lower, upper, count.max(1.0), color, &tip);
    }
}

fn clock_tick_summary(json: &Value, interval: f64) -> String {
    let mut parts = Vec::new();
    if let Some(n) = num(json.get("samples")) {
        parts.push(format!("{} samples", group_thousands(n as u64)));
    }
    if let Some(d) = num(json.get("duration_s")) {
        parts.push(format!("{d:.0} s"));
    }
    if let Some(t) = num(json.get("loop_ns").and_then(|l| l.get("target"))) {
        parts.push(format!("loop {}", format_ns(t)));
    }
    if let Some(o) = num(json.get("max_overhead_ns")) {
        parts.push(format!("max overhead {}", format_ns(o)));
    }
    parts.push(format!("one point per {}", seconds(interval)));
    if json.get("complete").and_then(Value::as_bool) == Some(false) {
        parts.push("partial (checkpoint)".to_string());
    }
    parts.join(" · ")
}

/// Where a loop counts as a spike: its baseline (the shortest loop) plus the threshold.
fn spike_threshold(json: &Value) -> Option<f64> {
    let spikes = json.get("spikes");
    let baseline = num(spikes.and_then(|s| s.get("baseline_ns")))
        .or_else(|| num(json.get("loop_ns").and_then(|l| l.get("min"))))?;
    let threshold = num(spikes.and_then(|s| s.get("threshold_ns")))?;
    Some(baseline + threshold)
}

fn seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{} s", svg::three_digits(s))
    } else {
        format!("{} ms", svg::three_digits(s * 1000.0))
    }
}

/// Merge neighbouring intervals until at most `MAX_POINTS` remain.
fn merge_intervals(
    max: &[Option<f64>],
    min: &[Option<f64>],
    interval: f64,
) -> (Vec<Option<f64>>, Vec<Option<f64>>, f64) {
    let n = max.len().max(min.len());
    if n <= MAX_POINTS {
        return (max.to_vec(), min.to_vec(), interval);
    }
    let k = n.div_ceil(MAX_POINTS);
    let merge = |s: &[Option<f64>], pick: fn(f64, f64) -> f64| -> Vec<Option<f64>> {
        s.chunks(k)
            .map(|c| c.iter().flatten().copied().reduce(pick))
            .collect()
    };
    (
        merge(max, f64::max),
        merge(min, f64::min),
        interval * k as f64,
    )
}

/// Consecutive intervals that hold a value, as separate point lists.
fn runs_of_values(series: &[Option<f64>], interval: f64) -> Vec<Vec<(f64, f64)>> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for (i, v) in series.iter().enumerate() {
        match v {
            Some(v) => current.push((i as f64 * interval, *v)),
            None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

fn num(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64).filter(|f| f.is_finite())
}

fn series(v: Option<&Value>) -> Vec<Option<f64>> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().map(|x| num(Some(x))).collect())
        .unwrap_or_default()
}

/// `[[lower_ns, count], ...]`, dropping malformed entries and empty buckets.
fn buckets(h: Option<&Value>) -> Vec<(f64, f64)> {
    let Some(list) = h.and_then(|h| h.get("buckets")).and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|b| {
            let pair = b.as_array()?;
            let lower = num(pair.first())?;
            let count = num(pair.get(1))?;
            (count > 0.0 && lower >= 0.0).then_some((lower, count))
        })
        .collect()
}

/// How wide a histogram bucket is (docs/results-format.md): log-linear with `sub` buckets per
/// power of two (exact, width 1, below `2 * sub`); or, for histograms that do not say, a
/// width of twice the stated relative error.
#[derive(Clone, Copy, Debug)]
enum Widths {
    LogLinear { sub: f64 },
    Relative(f64),
}

impl Widths {
    fn of(h: Option<&Value>) -> Widths {
        let sub = num(h.and_then(|h| h.get("sub_buckets")));
        match sub {
            Some(sub) if (1.0..=65536.0).contains(&sub) && (sub as u64).is_power_of_two() => {
                Widths::LogLinear { sub }
            }
            _ => Widths::Relative(
                num(h.and_then(|h| h.get("relative_error")))
                    .filter(|r| *r > 0.0 && *r < 0.5)
                    .map(|r| 2.0 * r)
                    .unwrap_or(0.01),
            ),
        }
    }

    fn width(self, lower: f64) -> f64 {
        match self {
            Widths::LogLinear { sub } if lower >= 2.0 * sub => {
                2f64.powf(lower.log2().floor() - sub.log2())
            }
            Widths::LogLinear { .. } => 1.0,
            Widths::Relative(r) => (lower * r).max(1.0),
        }
    }

    /// The widest a bucket gets relative to its lower bound.
    fn max_fraction(self) -> f64 {
        match self {
            Widths::LogLinear { sub } => 1.0 / sub,
            Widths::Relative(r) => r,
        }
    }
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn clock_tick() -> Value {
        json!({
            "schema": 1, "test": "clock-tick", "samples": 50_000_000u64, "duration_s": 3612.5,
            "loop_ns": {"target": 68000, "min": 68010, "mean": 68400, "p50": 68100,
                        "p99": 76000, "p999": 76100, "p9999": 80000, "max": 78010},
            "max_overhead_ns": 10000,
            "spikes": {"threshold_ns": 20000, "count": 0,
                       "overhead_ns": {"min": null, "p50": null, "max": null}, "list": []},
            "histogram": {"unit": "ns", "buckets": [[68000, 46000000], [76000, 3999990], [78000, 10]],
                          "relative_error": 0.01},
            "timeline": {"interval_s": 1.0, "max_ns": [76100, 78010, 76050], "min_ns": [68010, 68020, 68015]},
            "clock": {"source": "tsc", "hz": 3_100_000_000u64},
            "complete": true
        })
    }

    fn is_svg(s: &str) {
        assert!(
            s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{s}"
        );
        assert!(s.trim_end().ends_with("</svg>"));
        assert!(!s.contains("NaN") && !s.contains("inf"), "{s}");
    }

    #[test]
    fn clock_tick_gives_a_timeline_and_a_histogram() {
        let figs = for_test(&clock_tick());
        let names: Vec<&str> = figs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["clock-tick-timeline.svg", "clock-tick-histogram.svg"]
        );
        for (_, s) in &figs {
            is_svg(s);
        }
        assert!(figs[0].1.contains("max overhead 10 µs"));
        assert!(figs[1].1.contains("50,000,000 samples"));
    }

    #[test]
    fn thread_switch_overlays_each_thread_count() {
        let j = json!({"schema": 1, "test": "thread-switch", "runs": [
            {"threads": 2, "switches": 1000, "switch_ns": {"min": 430, "mean": 500, "p50": 480, "p99": 900, "max": 11200},
             "histogram": {"unit": "ns", "buckets": [[430, 900], [11000, 1]], "relative_error": 0.01}},
            {"threads": 1000, "switches": 1000, "switch_ns": {"min": 600, "mean": 700, "p50": 650, "p99": 990, "max": 11450},
             "histogram": {"unit": "ns", "buckets": [[600, 999], [11400, 1]], "relative_error": 0.01}}
        ]});
        let figs = for_test(&j);
        assert_eq!(figs.len(), 1);
        is_svg(&figs[0].1);
        assert!(figs[0].1.contains("2 threads") && figs[0].1.contains("1000 threads"));
    }

    #[test]
    fn partial_or_odd_json_still_draws() {
        for j in [
            json!({"test": "clock-tick"}),
            json!({"test": "clock-tick", "timeline": {"interval_s": 0, "max_ns": [null, "x", 5], "min_ns": []}}),
            json!({"test": "clock-tick", "histogram": {"buckets": [[1], "y", [-4, 3], [7, 0]]}}),
            json!({"test": "thread-switch", "runs": "nope"}),
            json!({"test": "thread-switch", "runs": [{"threads": 2}]}),
        ] {
            for (_, s) in for_test(&j) {
                is_svg(&s);
            }
        }
        assert!(for_test(&json!({"test": "other"})).is_empty());
        assert!(for_test(&json!(null)).is_empty());
    }

    #[test]
    fn long_timelines_are_merged_keeping_extremes() {
        let n = 10_000;
        let max: Vec<Option<f64>> = (0..n)
            .map(|i| Some(if i == 4321 { 9e6 } else { 1e5 }))
            .collect();
        let min: Vec<Option<f64>> = (0..n)
            .map(|i| Some(if i == 77 { 1.0 } else { 7e4 }))
            .collect();
        let (mx, mn, interval) = merge_intervals(&max, &min, 1.0);
        assert!(mx.len() <= MAX_POINTS);
        assert_eq!(interval, 7.0);
        assert_eq!(mx.iter().flatten().copied().fold(0.0, f64::max), 9e6);
        assert_eq!(mn.iter().flatten().copied().fold(f64::MAX, f64::min), 1.0);
    }

    #[test]
    fn gaps_break_the_line() {
        let runs = runs_of_values(&[Some(1.0), Some(2.0), None, None, Some(3.0), None], 0.5);
        assert_eq!(runs, vec![vec![(0.0, 1.0), (0.5, 2.0)], vec![(2.0, 3.0)]]);
        assert!(runs_of_values(&[None, None], 1.0).is_empty());
    }

    #[test]
    fn bucket_widths_follow_the_results_format() {
        let h = json!({"relative_error": 1.0 / 256.0, "sub_buckets": 128});
        let w = Widths::of(Some(&h));
        assert_eq!(w.width(100.0), 1.0);
        assert_eq!(w.width(255.0), 1.0);
        assert_eq!(w.width(256.0), 2.0);
        assert_eq!(w.width(67_584.0), 512.0);
        assert_eq!(w.width(65_536.0), 512.0);
        assert_eq!(w.width(65_535.0), 256.0);
        let old = Widths::of(Some(&json!({"relative_error": 0.01})));
        assert_eq!(old.width(10_000.0), 200.0);
    }

    #[test]
    fn comparison_has_one_bar_per_measured_value() {
        let series = vec!["bare metal".to_string(), "Hyper-V enlightened".to_string()];
        let groups = vec![
            (
                "max overhead".to_string(),
                vec![Some(10_000.0), Some(4_080_000.0)],
            ),
            ("max @2".to_string(), vec![Some(11_200.0), None]),
        ];
        let s = comparison("Comparison", &series, &groups);
        is_svg(&s);
        assert_eq!(s.matches("<rect x=").count() - 1 - 2 - 1, 3, "{s}");
        assert!(s.contains("4.08 ms"));
    }
}
