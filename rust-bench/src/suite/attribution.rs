//! clock-tick's attribution as the report shows it, beside the test that measures it: the
//! table "where the time went" (per class: spikes, total, max; the largest spikes with their
//! breakdown) and a stacked bar.

use crate::figures::svg::{self, format_ns};
use crate::results::attribution::{Attribution, Class};
use crate::suite::test::{Cell, Line, Metric};

/// The classes of the bar and the table, their row names and colours.
const CLASSES: [(Class, &str, &str); 8] = [
    (Class::Irq, "device IRQs", "#1f77b4"),
    (Class::Vector, "IRQ vectors (timer, IPIs)", "#6baed6"),
    (Class::Timer, "hrtimer callbacks (tick, timers)", "#17becf"),
    (Class::Softirq, "softirqs", "#2ca02c"),
    (Class::Nmi, "NMIs", "#9467bd"),
    (Class::Thread, "other threads", "#ff7f0e"),
    (
        Class::Unexplained,
        "unexplained (hypervisor, firmware)",
        "#d62728",
    ),
    (Class::Unknown, "unknown (events lost)", "#999999"),
];

/// How many of the largest spikes the table lists.
const LARGEST_ROWS: usize = 3;

/// The share of a run above which the attribution's own time is called out: the spikes of
/// that time were not measured.
const COSTLY_SHARE: f64 = 0.05;

/// The attribution's own time as a share of a run of `duration_s`.
pub fn cost_share(a: &Attribution, duration_s: f64) -> f64 {
    if duration_s > 0.0 {
        a.drain_ns as f64 / 1e9 / duration_s
    } else {
        0.0
    }
}

/// Where another thread read the trace: `; the trace read on CPU 0 in 12.3 ms`.
pub fn reader_note(a: &Attribution) -> String {
    match &a.reader_cpus {
        Some(cpus) => format!(
            "; the trace read on CPU {cpus} in {}",
            format_ns(a.reader_ns as f64)
        ),
        None => String::new(),
    }
}

/// The report lines of an attribution of a run of `duration_s`, with keys from `key0` on.
pub fn lines(a: &Attribution, duration_s: f64, key0: u64) -> Vec<Line> {
    let share = cost_share(a, duration_s);
    let mut cost = format!(
        "{} ({:.1} % of the run) reading {} events, {} lost",
        format_ns(a.drain_ns as f64),
        share * 100.0,
        svg::group_thousands(a.events_read),
        svg::group_thousands(a.events_lost)
    );
    cost += &reader_note(a);
    if share > COSTLY_SHARE {
        cost += "; nothing was measured meanwhile: see the duty cycle";
    }
    let mut out = vec![Line::new(
        key0,
        "attribution's own time".to_string(),
        Cell::Text(cost),
        Metric::new("attribution_time", a.drain_ns as f64, "ns"),
    )];
    let key0 = key0 + 1;
    for (i, (class, name, _)) in CLASSES.iter().enumerate() {
        let c = a.classes.iter().find(|c| c.class == *class);
        let (cell, metric) = match c {
            Some(c) => (
                Cell::Text(format!(
                    "{} in {} spikes, max {}",
                    format_ns(c.total_ns as f64),
                    c.spikes,
                    format_ns(c.max_ns as f64)
                )),
                Metric::new(
                    format!("spike_time_{}", class.as_str()),
                    c.total_ns as f64,
                    "ns",
                ),
            ),
            None => (Cell::Text("–".to_string()), None),
        };
        out.push(Line::new(
            key0 + i as u64,
            format!("spike time: {name}"),
            cell,
            metric,
        ));
    }
    for (i, s) in a.largest.iter().take(LARGEST_ROWS).enumerate() {
        out.push(Line::new(
            key0 + CLASSES.len() as u64 + i as u64,
            format!("largest spike {}", i + 1),
            Cell::Text(breakdown(s.overhead_ns, s.t_s, &s.parts)),
            None,
        ));
    }
    out
}

fn breakdown(overhead_ns: u64, t_s: f64, parts: &[crate::results::attribution::Part]) -> String {
    let parts: Vec<String> = parts
        .iter()
        .take(4)
        .map(|p| {
            let who = if p.name.is_empty() {
                p.class.as_str().to_string()
            } else {
                format!("{} {}", p.class.as_str(), p.name)
            };
            format!("{who} {}", format_ns(p.ns as f64))
        })
        .collect();
    format!(
        "{} at {:.3} s: {}",
        format_ns(overhead_ns as f64),
        t_s,
        parts.join(", ")
    )
}

/// The figures' layout: width, left margin, bar width.
const WIDTH: f64 = 760.0;
const LEFT: f64 = 20.0;
const BAR_W: f64 = 720.0;

/// The title (wrapped to the figure's width) as SVG text lines from y = 20; returns the
/// text and the height it takes beyond one line.
fn title_lines(title: &str) -> (String, f64) {
    let lines = svg::wrap(title, 15.0, WIDTH - LEFT - 8.0, 3);
    let mut s = String::new();
    for (i, line) in lines.iter().enumerate() {
        s += &format!(
            "<text x=\"{LEFT}\" y=\"{}\" font-size=\"15\" font-weight=\"600\" fill=\"#111\" font-family=\"sans-serif\">{}</text>\n",
            20.0 + 18.0 * i as f64,
            svg::escape(line)
        );
    }
    (s, 18.0 * (lines.len() - 1) as f64)
}

fn svg_open(h: f64) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{h}\" viewBox=\"0 0 {WIDTH} {h}\" role=\"img\">\n\
         <rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{h}\" fill=\"#ffffff\"/>\n"
    )
}

/// A stacked bar of the spikes' time per class, values as text.
pub fn figure(a: &Attribution, title: &str) -> String {
    let total: u64 = a.classes.iter().map(|c| c.total_ns).sum();
    if total == 0 {
        return svg::empty(title, "No spike to attribute.");
    }
    let rows = CLASSES
        .iter()
        .filter(|(c, _, _)| a.classes.iter().any(|x| x.class == *c))
        .count();
    let (title, dy) = title_lines(title);
    let h = 110.0 + 20.0 * rows as f64 + dy;
    let mut s = svg_open(h);
    s += &title;
    s += &format!(
        "<text x=\"{LEFT}\" y=\"{}\" font-size=\"12\" fill=\"#555\" font-family=\"sans-serif\">{}</text>\n",
        38.0 + dy,
        svg::escape(&format!(
            "{} of spike overhead in {} spikes, by what the guest's trace shows",
            format_ns(total as f64),
            a.spikes_attributed + a.spikes_unknown
        ))
    );
    let mut x = LEFT;
    let mut y = 80.0 + dy;
    for (class, name, color) in CLASSES {
        let Some(c) = a.classes.iter().find(|c| c.class == class) else {
            continue;
        };
        let share = c.total_ns as f64 / total as f64;
        let width = share * BAR_W;
        s += &format!(
            "<rect x=\"{x:.1}\" y=\"{}\" width=\"{width:.1}\" height=\"20\" fill=\"{color}\"><title>{}</title></rect>\n",
            48.0 + dy,
            svg::escape(&format!("{name}: {}", format_ns(c.total_ns as f64)))
        );
        x += width;
        s += &format!(
            "<rect x=\"{LEFT}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{color}\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#333\" font-family=\"sans-serif\">{}</text>\n",
            y,
            LEFT + 18.0,
            y + 10.5,
            svg::escape(&svg::fit(
                &format!(
                    "{name}: {} ({:.1} %) in {} spikes, max {}",
                    format_ns(c.total_ns as f64),
                    share * 100.0,
                    c.spikes,
                    format_ns(c.max_ns as f64)
                ),
                12.0,
                BAR_W - 18.0
            ))
        );
        y += 20.0;
    }
    s += "</svg>\n";
    s
}

/// One stacked bar per run (label, its attribution, seconds measured), on one scale: the
/// figure that shows whether a variant moved time from the hypervisor into the guest or
/// removed it. Under each bar, each class's time beside its colour, in as many lines as
/// they need.
pub fn figure_runs(runs: &[(String, Attribution, f64)]) -> String {
    let title = "Clock tick test: where the spikes' time went, per run";
    let most = runs
        .iter()
        .map(|(_, a, _)| a.classes.iter().map(|c| c.total_ns).sum::<u64>())
        .max()
        .unwrap_or(0);
    if most == 0 {
        return svg::empty(title, "No spike to attribute.");
    }
    let (title, mut y) = title_lines(title);
    let mut body = String::new();
    y += 40.0;
    for (label, a, measured_s) in runs {
        let total: u64 = a.classes.iter().map(|c| c.total_ns).sum();
        let heading = format!(
            "{label}: {} in {} spikes over {measured_s:.0} s measured",
            format_ns(total as f64),
            a.spikes_attributed + a.spikes_unknown
        );
        for line in svg::wrap(&heading, 12.0, BAR_W, 2) {
            body += &format!(
                "<text x=\"{LEFT}\" y=\"{:.1}\" font-size=\"12\" font-weight=\"600\" fill=\"#111\" font-family=\"sans-serif\">{}</text>\n",
                y + 10.0,
                svg::escape(&line)
            );
            y += 15.0;
        }
        let mut x = LEFT;
        let mut values = Vec::new();
        for (class, name, color) in CLASSES {
            let Some(c) = a.classes.iter().find(|c| c.class == class) else {
                continue;
            };
            let width = c.total_ns as f64 / most as f64 * BAR_W;
            body += &format!(
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"18\" fill=\"{color}\"><title>{}</title></rect>\n",
                y + 3.0,
                svg::escape(&format!("{name}: {}", format_ns(c.total_ns as f64)))
            );
            x += width;
            values.push((format!("{name} {}", format_ns(c.total_ns as f64)), color));
        }
        // The values, each after a swatch of its colour, wrapped to the bar's width.
        y += 26.0;
        let mut vx = LEFT;
        for (text, color) in values {
            let w = 16.0 + svg::text_width(&text, 11.0) + 14.0;
            if vx > LEFT && vx + w > LEFT + BAR_W {
                vx = LEFT;
                y += 16.0;
            }
            body += &format!(
                "<rect x=\"{vx:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{color}\"/>\n\
                 <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#333\" font-family=\"sans-serif\">{}</text>\n",
                y + 3.0,
                vx + 14.0,
                y + 12.0,
                svg::escape(&text)
            );
            vx += w;
        }
        y += 26.0;
    }
    let mut s = svg_open(y);
    s += &title;
    s += &body;
    s += "</svg>\n";
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::attribution::{AttributedSpike, CauseTotal, Part};

    fn sample() -> Attribution {
        let t = |class, total_ns, spikes| CauseTotal {
            class,
            name: String::new(),
            spikes,
            total_ns,
            max_ns: total_ns / spikes,
        };
        Attribution {
            trace_reader: None,
            trace_clock: "x86-tsc".into(),
            events: vec![],
            buffer_size_kb: 4096,
            events_read: 10,
            events_lost: 0,
            drain_ns: 0,
            reader_cpus: None,
            reader_ns: 0,
            spikes_attributed: 3,
            spikes_unknown: 0,
            spikes_skipped: 0,
            classes: vec![
                t(Class::Vector, 30_000, 3),
                t(Class::Unexplained, 90_000, 3),
            ],
            causes: vec![],
            largest: vec![AttributedSpike {
                t_s: 1.5,
                overhead_ns: 50_000,
                parts: vec![
                    Part {
                        class: Class::Unexplained,
                        name: String::new(),
                        ns: 40_000,
                    },
                    Part {
                        class: Class::Vector,
                        name: "local_timer".into(),
                        ns: 10_000,
                    },
                ],
            }],
        }
    }

    #[test]
    fn table_and_bar() {
        let mut a = sample();
        a.drain_ns = 20_000_000;
        let l = lines(&a, 10.0, 10);
        assert_eq!(l.len(), 1 + CLASSES.len() + 1);
        // The attribution's own time first: 20 ms of a 10 s run.
        assert_eq!(l[0].key, (10, 0));
        assert_eq!(
            l[0].cell.text(),
            "20 ms (0.2 % of the run) reading 10 events, 0 lost"
        );
        let m = l[0].metric.as_ref().unwrap();
        assert_eq!((m.name.as_str(), m.value), ("attribution_time", 2e7));
        // Beyond 5 % of the run, the table says what it cost.
        a.drain_ns = 1_000_000_000;
        let costly = lines(&a, 10.0, 10);
        assert!(
            costly[0].cell.text().starts_with("1 s (10.0 % of the run)")
                && costly[0]
                    .cell
                    .text()
                    .contains("nothing was measured meanwhile"),
            "{}",
            costly[0].cell.text()
        );
        let l = &l[1..];
        assert_eq!(l[1].name, "spike time: IRQ vectors (timer, IPIs)");
        assert_eq!(l[1].cell.text(), "30 µs in 3 spikes, max 10 µs");
        assert_eq!(l[0].cell.text(), "–");
        // Only the classes with spike time are CSV metrics, their totals unchanged.
        assert_eq!(l[0].metric, None);
        let m = l[1].metric.as_ref().unwrap();
        assert_eq!(
            (m.name.as_str(), m.value, m.unit),
            ("spike_time_vector", 30_000.0, "ns")
        );
        assert_eq!(l[8].metric, None);
        assert!(
            l[8].cell
                .text()
                .contains("unexplained 40 µs, vector local_timer 10 µs"),
            "{}",
            l[8].cell.text()
        );
        let svg = figure(&a, "t");
        assert!(
            svg.contains("unexplained (hypervisor, firmware): 90 µs (75.0 %) in 3 spikes"),
            "{svg}"
        );
        assert!(svg.contains("width=\"540.0\""), "{svg}");
        // Two runs on one scale: the second, half as long, draws half as wide.
        let mut b = sample();
        b.classes[1].total_ns = 30_000;
        let svg = figure_runs(&[("A".into(), a, 10.0), ("B".into(), b, 10.0)]);
        assert!(
            svg.contains("A: 120 µs in 3 spikes over 10 s measured"),
            "{svg}"
        );
        assert!(svg.contains("width=\"180.0\""), "{svg}");
        assert!(
            svg.contains("unexplained (hypervisor, firmware) 30 µs"),
            "{svg}"
        );
    }
}
