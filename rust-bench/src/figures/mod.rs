//! The figures, as SVG strings drawn from the tests' results (docs/results-format.md):
//!
//! - the loop duration over time, per-interval maximum and minimum (the paper's figures 2–3);
//! - a latency histogram with a log count axis (the OSADL style);
//! - a comparison across runs: grouped bars, one group per metric, one bar per environment.
//!
//! A checkpoint written mid-run, or a run cut short, gives a smaller figure or a note, never
//! an error.

pub mod svg;

use self::svg::{Axis, Chart, PALETTE, Unit, format_ns, group_thousands};
use crate::results::clock_tick::ClockTick;
use crate::results::stats::HistogramJson;
use crate::results::thread_switch::ThreadSwitch;

/// At most this many points per series: long runs are merged (max of maxima, min of minima)
/// so a figure stays a few hundred kilobytes at most.
const MAX_POINTS: usize = 1500;

/// The loop duration over time: for every timeline interval, the longest and the shortest
/// loop. The gap between them is what interrupts and the hypervisor took.
pub fn clock_tick_timeline(r: &ClockTick, label: &str) -> String {
    let title = titled("Clock tick test: loop duration over time", label);
    if r.timeline.max_ns.iter().all(Option::is_none) {
        return svg::empty(
            &title,
            "No timeline recorded (the run stopped before one interval).",
        );
    }
    // Merged down to at most MAX_POINTS intervals (max of maxima, min of minima), without
    // a second full-resolution copy of a long run's timeline.
    let timeline = r.timeline.merged(MAX_POINTS);
    let interval = Some(timeline.interval_s)
        .filter(|v| *v > 0.0 && v.is_finite())
        .unwrap_or(1.0);
    let series =
        |s: &[Option<u64>]| -> Vec<Option<f64>> { s.iter().map(|v| v.map(|v| v as f64)).collect() };
    let (max, min) = (series(&timeline.max_ns), series(&timeline.min_ns));
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
    chart.subtitle(&clock_tick_summary(r, interval));
    let threshold = spike_threshold(r);
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
pub fn clock_tick_histogram(r: &ClockTick, label: &str) -> String {
    let title = titled("Clock tick test: loop duration histogram", label);
    let buckets = buckets(&r.histogram);
    if buckets.is_empty() {
        return svg::empty(&title, "No histogram recorded.");
    }
    let widths = Widths::of(&r.histogram);
    let mut chart = histogram_chart(&title, &[&buckets], widths, "loop duration");
    chart.subtitle(&format!(
        "{} samples · bucket width ≤ {} % of its value · counts on a log scale",
        group_thousands(r.samples),
        svg::three_digits(widths.max_fraction() * 100.0)
    ));
    sticks(&mut chart, &buckets, widths, PALETTE[0]);
    chart.finish()
}

/// One histogram per thread count, overlaid.
pub fn thread_switch_histogram(r: &ThreadSwitch, label: &str) -> String {
    let title = titled("Thread switch latency histogram", label);
    let mut all = Vec::new();
    let mut widths = Widths::Relative(0.01);
    for run in &r.runs {
        let b = buckets(&run.histogram);
        if !b.is_empty() {
            widths = Widths::of(&run.histogram);
            all.push((run.threads, b));
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
    // At most 1000 wide: the page shows a figure at most 1000 px wide, and a wider one
    // would only have smaller type.
    let frame = svg::Frame {
        width: (140.0 + groups.len() as f64 * (36.0 + 22.0 * series.len() as f64))
            .clamp(760.0, 1000.0),
        ..svg::Frame::default()
    };
    let n = series.len() as f64;
    let width = 0.8 / n;
    // Every bar carries its value: level over a bar wide enough for it, else running
    // upwards, with room above the tallest bar for it.
    let group_px = (frame.width - frame.left - frame.right) / groups.len() as f64;
    let bar_px = group_px * width;
    let level = bar_px >= 40.0;
    let top = match level {
        true => hi * 2.0,
        false => hi * (hi / lo).max(10.0).powf(0.3),
    };
    let x = Axis::linear_tight("", 0.0, groups.len() as f64, Unit::Count);
    let y = Axis::log("latency (log scale)", lo, top, Unit::Nanos);
    let mut chart = Chart::with_frame(title, x, y, frame);
    for (g, (name, values)) in groups.iter().enumerate() {
        chart.x_category(g as f64 + 0.5, name, group_px - 4.0);
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
            if level {
                chart.text(x0 + width * 0.46, *v, &format_ns(*v), 9.0, "middle");
            } else {
                chart.text_up(x0 + width * 0.46, *v, &format_ns(*v), 9.0);
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

fn clock_tick_summary(r: &ClockTick, interval: f64) -> String {
    let mut parts = vec![
        format!("{} samples", group_thousands(r.samples)),
        format!("{:.0} s", r.duration_s),
        format!("loop {}", format_ns(r.loop_ns.target as f64)),
    ];
    if r.samples > 0 {
        parts.push(format!(
            "max overhead {}",
            format_ns(r.max_overhead_ns as f64)
        ));
    }
    parts.push(format!("one point per {}", seconds(interval)));
    if !r.complete {
        parts.push("partial (checkpoint)".to_string());
    }
    parts.join(" · ")
}

/// Where a loop counts as a spike: its baseline (the shortest loop) plus the threshold.
fn spike_threshold(r: &ClockTick) -> Option<f64> {
    let baseline = match r.spikes.baseline_ns {
        0 if r.samples > 0 => r.loop_ns.min,
        0 => return None,
        b => b,
    };
    Some((baseline + r.spikes.threshold_ns) as f64)
}

fn seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{} s", svg::three_digits(s))
    } else {
        format!("{} ms", svg::three_digits(s * 1000.0))
    }
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

/// Non-empty buckets as `(lower_ns, count)`.
fn buckets(h: &HistogramJson) -> Vec<(f64, f64)> {
    h.buckets
        .iter()
        .filter(|[_, count]| *count > 0)
        .map(|&[lower, count]| (lower as f64, count as f64))
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
    fn of(h: &HistogramJson) -> Widths {
        match h.sub_buckets {
            sub @ 1..=65536 if sub.is_power_of_two() => Widths::LogLinear { sub: sub as f64 },
            _ => Widths::Relative(
                Some(h.relative_error)
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
    use crate::results::clock_tick::Timeline;
    use crate::results::fixture;

    fn is_svg(s: &str) {
        assert!(
            s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{s}"
        );
        assert!(s.trim_end().ends_with("</svg>"));
        assert!(!s.contains("NaN") && !s.contains("inf"), "{s}");
    }

    fn clock_tick() -> ClockTick {
        let env = fixture::environment(None, false, false);
        ClockTick {
            samples: 50_000_000,
            ..fixture::clock_tick(&env, 68_010, 78_010)
        }
    }

    #[test]
    fn clock_tick_gives_a_timeline_and_a_histogram() {
        let r = clock_tick();
        let timeline = clock_tick_timeline(&r, "");
        let histogram = clock_tick_histogram(&r, "");
        is_svg(&timeline);
        is_svg(&histogram);
        assert!(timeline.contains("max overhead 10 µs"), "{timeline}");
        assert!(histogram.contains("50,000,000 samples"));
    }

    #[test]
    fn thread_switch_overlays_each_thread_count() {
        let env = fixture::environment(None, false, false);
        let r = fixture::thread_switch(
            &env,
            &[
                (2, [430.0, 500.0, 11_200.0]),
                (1000, [600.0, 700.0, 11_450.0]),
            ],
        );
        let s = thread_switch_histogram(&r, "");
        is_svg(&s);
        assert!(s.contains("2 threads") && s.contains("1000 threads"));
    }

    #[test]
    fn partial_results_still_draw() {
        let mut empty = clock_tick();
        empty.samples = 0;
        empty.complete = false;
        empty.histogram.buckets.clear();
        empty.timeline = Timeline {
            interval_s: 0.0,
            max_ns: vec![None, None],
            min_ns: vec![],
        };
        for s in [
            clock_tick_timeline(&empty, ""),
            clock_tick_histogram(&empty, ""),
        ] {
            is_svg(&s);
        }
        let env = fixture::environment(None, false, false);
        let mut ts = fixture::thread_switch(&env, &[(2, [1.0, 2.0, 3.0])]);
        ts.runs[0].histogram.buckets.clear();
        ts.runs[0].switch_ns = None;
        is_svg(&thread_switch_histogram(&ts, ""));
        ts.runs.clear();
        is_svg(&thread_switch_histogram(&ts, ""));
    }

    #[test]
    fn long_timelines_are_merged_keeping_extremes() {
        let n = 10_000;
        let mut r = clock_tick();
        r.timeline = Timeline {
            interval_s: 1.0,
            max_ns: (0..n)
                .map(|i| Some(if i == 4321 { 9_000_000 } else { 100_000 }))
                .collect(),
            min_ns: (0..n)
                .map(|i| Some(if i == 77 { 1 } else { 70_000 }))
                .collect(),
        };
        let s = clock_tick_timeline(&r, "");
        is_svg(&s);
        assert!(s.contains("one point per 7 s"), "{s}");
        assert!(s.len() < 400_000, "{}", s.len());
    }

    #[test]
    fn gaps_break_the_line() {
        let runs = runs_of_values(&[Some(1.0), Some(2.0), None, None, Some(3.0), None], 0.5);
        assert_eq!(runs, vec![vec![(0.0, 1.0), (0.5, 2.0)], vec![(2.0, 3.0)]]);
        assert!(runs_of_values(&[None, None], 1.0).is_empty());
    }

    #[test]
    fn bucket_widths_follow_the_results_format() {
        let mut h = fixture::histogram(&[(100, 1)]);
        let w = Widths::of(&h);
        assert_eq!(w.width(100.0), 1.0);
        assert_eq!(w.width(255.0), 1.0);
        assert_eq!(w.width(256.0), 2.0);
        assert_eq!(w.width(67_584.0), 512.0);
        assert_eq!(w.width(65_536.0), 512.0);
        assert_eq!(w.width(65_535.0), 256.0);
        h.sub_buckets = 0;
        h.relative_error = 0.01;
        assert_eq!(Widths::of(&h).width(10_000.0), 200.0);
    }
    #[test]
    fn comparison_has_one_bar_per_measured_value() {
        let series = vec!["bare metal".to_string(), "Hyper-V enlightened".to_string()];
        let groups = vec![
            (
                "max overhead".to_string(),
                vec![Some(10_300.0), Some(4_080_000.0)],
            ),
            ("max @2".to_string(), vec![Some(11_200.0), None]),
        ];
        let s = comparison("Comparison", &series, &groups);
        is_svg(&s);
        assert_eq!(s.matches("<rect x=").count() - 1 - 2 - 1, 3, "{s}");
        assert!(s.contains("4.08 ms"));
        // Each value stands as text on its bar, not only in a tooltip.
        for v in ["10.3 µs", "4.08 ms", "11.2 µs"] {
            assert_eq!(s.matches(&format!(">{v}</text>")).count(), 1, "{v} in {s}");
        }
    }

    #[test]
    fn narrow_bars_carry_their_values_upright() {
        let series: Vec<String> = (0..8).map(|i| format!("run {i}")).collect();
        let groups: Vec<(String, Vec<Option<f64>>)> = (0..5)
            .map(|g| {
                let values = (0..8).map(|s| Some(1000.0 * (1 + g * 8 + s) as f64));
                (format!("group {g}"), values.collect())
            })
            .collect();
        let s = comparison("Comparison", &series, &groups);
        is_svg(&s);
        assert_eq!(s.matches("transform=\"rotate(-90").count(), 40, "{s}");
        assert_eq!(s.matches(">40 µs</text>").count(), 1, "{s}");
    }
}
