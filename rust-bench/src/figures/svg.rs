//! A tiny SVG chart writer: one plot area, two axes (linear or log), lines, points, bars and a
//! legend. Output is a plain SVG string with no scripts and no external references, so a
//! browser, an image viewer or a Markdown renderer shows it as is.

use std::fmt::Write as _;

/// Colours that stay distinct for colour-blind readers (Okabe and Ito).
pub const PALETTE: [&str; 7] = [
    "#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#7F7F7F",
];

const FONT: &str =
    "font-family=\"system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif\"";

/// The width of an average character in em, taken generously (text in DejaVu Sans, the
/// widest of the usual sans-serif fonts, averages about 0.55 em; digits are 0.64 em), so that
/// text laid out with [`text_width`] stays inside its figure in any browser.
pub const TEXT_EM: f64 = 0.62;

/// How wide `text` is drawn at `size` px, estimated from its length ([`TEXT_EM`]).
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * TEXT_EM
}

/// `text` cut to fit `width` px at `size` px, ending with "…" when cut.
pub fn fit(text: &str, size: f64, width: f64) -> String {
    if text_width(text, size) <= width {
        return text.to_string();
    }
    let keep = ((width / (size * TEXT_EM)).floor() as usize).saturating_sub(1);
    let mut out: String = text.chars().take(keep).collect();
    // Cut between words when that loses at most a third of the room.
    let mid_word = text.chars().nth(keep).is_some_and(|c| c != ' ');
    if let Some(space) = out.rfind(' ')
        && mid_word
        && out[..space].chars().count() * 3 >= keep * 2
    {
        out.truncate(space);
    }
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// `text` broken at spaces into lines of at most `width` px at `size` px (a word wider than
/// a line is broken inside), at most `max_lines` of them, the last one cut with "…" when
/// text remains.
pub fn wrap(text: &str, size: f64, width: f64, max_lines: usize) -> Vec<String> {
    let per_line = ((width / (size * TEXT_EM)).floor() as usize).max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = line.chars().count();
            let gap = usize::from(used > 0);
            if used + gap + word.len() <= per_line {
                if gap == 1 {
                    line.push(' ');
                }
                line.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // A word longer than a whole line: as much as fits, the rest on the next.
            let rest = word.split_off(per_line);
            lines.push(word.iter().collect());
            word = rest;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    if lines.len() > max_lines.max(1) {
        let rest = lines.split_off(max_lines.max(1) - 1).join(" ");
        lines.push(fit(&rest, size, width));
    }
    lines
}

/// How the numbers on an axis are printed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unit {
    /// Values are nanoseconds; ticks are printed as ns, µs, ms or s.
    Nanos,
    /// Values are seconds (elapsed time).
    Seconds,
    /// Plain counts (1, 10, 1k, 1M).
    Count,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Linear,
    Log,
}

/// One axis: its range, how it is scaled and how its ticks are written.
#[derive(Clone, Debug)]
pub struct Axis {
    pub label: String,
    pub kind: Kind,
    pub lo: f64,
    pub hi: f64,
    pub unit: Unit,
}

impl Axis {
    /// A linear axis over `[lo, hi]`, widened to round tick values.
    pub fn linear(label: &str, lo: f64, hi: f64, unit: Unit) -> Axis {
        let (lo, hi) = sane_range(lo, hi);
        let step = nice_step((hi - lo) / 6.0);
        Axis {
            label: label.to_string(),
            kind: Kind::Linear,
            lo: (lo / step).floor() * step,
            hi: (hi / step).ceil() * step,
            unit,
        }
    }

    /// A linear axis over exactly `[lo, hi]` (time axes: the data fills the plot).
    pub fn linear_tight(label: &str, lo: f64, hi: f64, unit: Unit) -> Axis {
        let (lo, hi) = sane_range(lo, hi);
        Axis {
            label: label.to_string(),
            kind: Kind::Linear,
            lo,
            hi,
            unit,
        }
    }

    /// A log axis over `[lo, hi]` (both > 0), widened to whole decades.
    pub fn log(label: &str, lo: f64, hi: f64, unit: Unit) -> Axis {
        let lo = if lo > 0.0 && lo.is_finite() { lo } else { 1.0 };
        let hi = if hi > lo && hi.is_finite() {
            hi
        } else {
            lo * 10.0
        };
        let lo = 10f64.powf(lo.log10().floor());
        let mut hi = 10f64.powf(hi.log10().ceil());
        if hi <= lo {
            hi = lo * 10.0;
        }
        Axis {
            label: label.to_string(),
            kind: Kind::Log,
            lo,
            hi,
            unit,
        }
    }

    /// A log axis for counts: from just below 1, so a bucket holding one sample still shows
    /// as a bar, up to the decade above `max`.
    pub fn log_counts(label: &str, max: f64) -> Axis {
        let mut a = Axis::log(label, 1.0, max.max(2.0), Unit::Count);
        a.lo = 0.4;
        a
    }

    /// Where `v` falls on the axis, 0.0 at `lo` and 1.0 at `hi` (clamped).
    fn fraction(&self, v: f64) -> f64 {
        let f = match self.kind {
            Kind::Linear => (v - self.lo) / (self.hi - self.lo),
            Kind::Log => {
                let v = v.max(self.lo * 1e-3);
                (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
            }
        };
        if f.is_finite() {
            f.clamp(-0.02, 1.02)
        } else {
            0.0
        }
    }

    fn ticks(&self) -> Vec<f64> {
        match self.kind {
            Kind::Linear => {
                let step = nice_step((self.hi - self.lo) / 6.0);
                let first = (self.lo / step).ceil() as i64;
                let last = (self.hi / step).floor() as i64;
                (first..=last).map(|i| i as f64 * step).collect()
            }
            Kind::Log => {
                let first = self.lo.log10().ceil() as i32;
                let last = self.hi.log10().round() as i32;
                let decades = (last - first).max(1);
                let stride = (decades as f64 / 8.0).ceil().max(1.0) as i32;
                let mut ticks: Vec<f64> = (first..=last)
                    .filter(|e| (e - first) % stride == 0)
                    .map(|e| 10f64.powi(e))
                    .collect();
                if decades <= 2 {
                    for e in first..last {
                        let base = 10f64.powi(e);
                        ticks.push(2.0 * base);
                        ticks.push(5.0 * base);
                    }
                    ticks.sort_by(f64::total_cmp);
                }
                ticks
            }
        }
    }

    /// Text for a tick, in a unit chosen once for the whole axis so ticks compare at a glance.
    fn tick_label(&self, v: f64) -> String {
        match self.unit {
            Unit::Count => format_count(v),
            Unit::Seconds => format_plain(v),
            Unit::Nanos => match self.kind {
                Kind::Log => format_ns(v),
                Kind::Linear => {
                    let (div, suffix) = time_unit(self.hi.abs().max(self.lo.abs()));
                    format!("{} {suffix}", format_plain(v / div))
                }
            },
        }
    }
}

/// The pixel layout of a chart.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
}

impl Default for Frame {
    fn default() -> Self {
        Frame {
            width: 760.0,
            height: 380.0,
            left: 78.0,
            right: 24.0,
            top: 66.0,
            bottom: 56.0,
        }
    }
}

/// A chart being drawn. Add marks, then call [`Chart::finish`].
pub struct Chart {
    frame: Frame,
    title: String,
    subtitle: String,
    x: Axis,
    y: Axis,
    body: String,
    /// Marks outside the plot area (not clipped): category names under the x axis.
    outside: String,
    /// Opacity of bars: below 1 where series overlap.
    bar_opacity: f64,
    legend: Vec<(String, String)>,
}

impl Chart {
    pub fn new(title: &str, x: Axis, y: Axis) -> Chart {
        Chart::with_frame(title, x, y, Frame::default())
    }

    pub fn with_frame(title: &str, x: Axis, y: Axis, frame: Frame) -> Chart {
        Chart {
            frame,
            title: title.to_string(),
            subtitle: String::new(),
            x,
            y,
            body: String::new(),
            outside: String::new(),
            bar_opacity: 1.0,
            legend: Vec::new(),
        }
    }

    /// A second, smaller line under the title (what was measured, where).
    pub fn subtitle(&mut self, text: &str) {
        self.subtitle = text.to_string();
    }

    pub fn px(&self, x: f64) -> f64 {
        let f = &self.frame;
        f.left + self.x.fraction(x) * (f.width - f.left - f.right)
    }

    pub fn py(&self, y: f64) -> f64 {
        let f = &self.frame;
        f.height - f.bottom - self.y.fraction(y) * (f.height - f.top - f.bottom)
    }

    fn plot_bottom(&self) -> f64 {
        self.frame.height - self.frame.bottom
    }

    pub fn legend(&mut self, label: &str, color: &str) {
        self.legend.push((label.to_string(), color.to_string()));
    }

    /// A connected line through `points` (data coordinates).
    pub fn line(&mut self, points: &[(f64, f64)], color: &str, width: f64) {
        if points.is_empty() {
            return;
        }
        let mut d = String::with_capacity(points.len() * 14);
        for (i, &(x, y)) in points.iter().enumerate() {
            let cmd = if i == 0 { 'M' } else { 'L' };
            let _ = write!(d, "{cmd}{:.1} {:.1}", self.px(x), self.py(y));
        }
        let _ = writeln!(
            self.body,
            "<path d=\"{d}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{width}\" stroke-linejoin=\"round\"/>"
        );
    }

    /// Small dots, one per point (the paper's scatter of loop durations).
    pub fn dots(&mut self, points: &[(f64, f64)], color: &str, radius: f64) {
        let mut d = String::with_capacity(points.len() * 24);
        for &(x, y) in points {
            // A zero-length path segment with round caps draws a dot cheaply.
            let _ = write!(d, "M{:.1} {:.1}h0", self.px(x), self.py(y));
        }
        let _ = writeln!(
            self.body,
            "<path d=\"{d}\" stroke=\"{color}\" stroke-width=\"{:.1}\" stroke-linecap=\"round\"/>",
            radius * 2.0
        );
    }

    /// A bar from the bottom of the plot up to `y` (works on log axes too).
    pub fn bar(&mut self, x0: f64, x1: f64, y: f64, color: &str, tooltip: &str) {
        let bottom = self.plot_bottom();
        let top = self.py(y);
        let (a, b) = (self.px(x0), self.px(x1));
        let opacity = if self.bar_opacity < 1.0 {
            format!(" fill-opacity=\"{}\"", self.bar_opacity)
        } else {
            String::new()
        };
        let _ = writeln!(
            self.body,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{color}\"{opacity}><title>{}</title></rect>",
            a.min(b),
            top,
            (b - a).abs().max(0.8),
            (bottom - top).max(0.0),
            escape(tooltip)
        );
    }

    /// Draw the following bars see-through, so overlapping series stay visible.
    pub fn set_bar_opacity(&mut self, opacity: f64) {
        self.bar_opacity = opacity.clamp(0.05, 1.0);
    }

    /// A horizontal reference line across the plot with a label at its right end.
    pub fn hline(&mut self, y: f64, color: &str, label: &str) {
        let f = self.frame;
        let py = self.py(y);
        let _ = writeln!(
            self.body,
            "<line x1=\"{:.1}\" y1=\"{py:.1}\" x2=\"{:.1}\" y2=\"{py:.1}\" stroke=\"{color}\" stroke-width=\"1\" stroke-dasharray=\"5 4\"/>",
            f.left,
            f.width - f.right
        );
        if !label.is_empty() {
            let _ = writeln!(
                self.body,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"{color}\" {FONT}>{}</text>",
                f.width - f.right - 4.0,
                py - 4.0,
                escape(label)
            );
        }
    }

    /// Text at a data position (e.g. a value above a bar).
    pub fn text(&mut self, x: f64, y: f64, text: &str, size: f64, anchor: &str) {
        let _ = writeln!(
            self.body,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"{size}\" text-anchor=\"{anchor}\" fill=\"#333\" {FONT}>{}</text>",
            self.px(x),
            self.py(y) - 3.0,
            escape(text)
        );
    }

    /// Text running upwards from just above data point (`x`, `y`): a value over a bar too
    /// narrow to carry it level.
    pub fn text_up(&mut self, x: f64, y: f64, text: &str, size: f64) {
        let (px, py) = (self.px(x) + size * 0.35, self.py(y) - 3.0);
        let _ = writeln!(
            self.body,
            "<text x=\"{px:.1}\" y=\"{py:.1}\" font-size=\"{size}\" text-anchor=\"start\" fill=\"#333\" transform=\"rotate(-90 {px:.1} {py:.1})\" {FONT}>{}</text>",
            escape(text)
        );
    }

    /// Text below the x axis at data position `x` (category names of a bar chart), at most
    /// `width` px wide (smaller type down to 9 px, then cut); a `\n` starts a second line.
    pub fn x_category(&mut self, x: f64, text: &str, width: f64) {
        let px = self.px(x);
        let longest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        let size = (width / (longest.max(1) as f64 * TEXT_EM)).clamp(9.0, 12.0);
        let size = (size * 2.0).floor() / 2.0;
        let _ = write!(
            self.outside,
            "<text x=\"{px:.1}\" y=\"{:.1}\" font-size=\"{size}\" text-anchor=\"middle\" fill=\"#222\" {FONT}>",
            self.plot_bottom() + 18.0
        );
        for (i, line) in text.lines().enumerate() {
            let dy = if i == 0 { 0.0 } else { 14.0 };
            let _ = write!(
                self.outside,
                "<tspan x=\"{px:.1}\" dy=\"{dy}\">{}</tspan>",
                escape(&fit(line, size, width))
            );
        }
        let _ = writeln!(self.outside, "</text>");
    }

    /// The finished SVG document. `x_ticks: false` hides the numeric x ticks (bar charts).
    ///
    /// Above the plot: the title, the subtitle and the legend, each wrapped to the figure's
    /// width; when they take more than a line each, the figure grows by what they need.
    pub fn finish_with(self, x_ticks: bool) -> String {
        let f = self.frame;
        let (left, right) = (f.left, f.width - f.right);
        let (top, bottom) = (f.top, f.height - f.bottom);
        let text_w = f.width - left - 8.0;
        let title = wrap(&self.title, 15.0, text_w, 3);
        let subtitle = match self.subtitle.is_empty() {
            true => Vec::new(),
            false => wrap(&self.subtitle, 11.5, text_w, 3),
        };
        let legend = legend_rows(&self.legend, right - left - 8.0);
        let below_title = 18.0 * (title.len() - 1) as f64;
        let below_subtitle = below_title + 15.0 * subtitle.len().saturating_sub(1) as f64;
        let dy = below_subtitle + 16.0 * legend.len().saturating_sub(1) as f64;
        let (w, h) = (f.width, f.height + dy);
        let mut s = String::with_capacity(self.body.len() + 4096);
        let _ = writeln!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\">"
        );
        let _ = writeln!(s, "<title>{}</title>", escape(&self.title));
        let _ = writeln!(
            s,
            "<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>"
        );
        for (i, line) in title.iter().enumerate() {
            let _ = writeln!(
                s,
                "<text x=\"{left}\" y=\"{}\" font-size=\"15\" font-weight=\"600\" fill=\"#111\" {FONT}>{}</text>",
                20.0 + 18.0 * i as f64,
                escape(line)
            );
        }
        for (i, line) in subtitle.iter().enumerate() {
            let _ = writeln!(
                s,
                "<text x=\"{left}\" y=\"{}\" font-size=\"11.5\" fill=\"#555\" {FONT}>{}</text>",
                37.0 + below_title + 15.0 * i as f64,
                escape(line)
            );
        }
        // Legend: one row at the top right of the plot, or as many rows as it needs from the
        // left.
        for (i, row) in legend.iter().enumerate() {
            let total: f64 = row.iter().map(|(_, _, width)| width).sum();
            let mut x = match legend.len() {
                1 => (right - total).max(left + 4.0),
                _ => left + 4.0,
            };
            let y = top - 12.0 + below_subtitle + 16.0 * i as f64;
            for (label, color, width) in row {
                let _ = writeln!(
                    s,
                    "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"12\" height=\"10\" rx=\"2\" fill=\"{color}\"/>",
                    y - 9.0
                );
                let _ = writeln!(
                    s,
                    "<text x=\"{:.1}\" y=\"{y:.1}\" font-size=\"11.5\" fill=\"#222\" {FONT}>{}</text>",
                    x + 16.0,
                    escape(label)
                );
                x += width;
            }
        }
        // The plot and its axes, below what the header needs.
        if dy > 0.0 {
            let _ = writeln!(s, "<g transform=\"translate(0 {dy})\">");
        }
        // Grid and y ticks.
        for t in self.y.ticks() {
            let py = self.py(t);
            if !(top - 0.5..=bottom + 0.5).contains(&py) {
                continue;
            }
            let _ = writeln!(
                s,
                "<line x1=\"{left}\" y1=\"{py:.1}\" x2=\"{right}\" y2=\"{py:.1}\" stroke=\"#e4e4e4\" stroke-width=\"1\"/>"
            );
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#444\" {FONT}>{}</text>",
                left - 6.0,
                py + 4.0,
                escape(&self.y.tick_label(t))
            );
        }
        if x_ticks {
            for t in self.x.ticks() {
                let px = self.px(t);
                if !(left - 0.5..=right + 0.5).contains(&px) {
                    continue;
                }
                let _ = writeln!(
                    s,
                    "<line x1=\"{px:.1}\" y1=\"{top}\" x2=\"{px:.1}\" y2=\"{bottom}\" stroke=\"#f0f0f0\" stroke-width=\"1\"/>"
                );
                let _ = writeln!(
                    s,
                    "<text x=\"{px:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#444\" {FONT}>{}</text>",
                    bottom + 16.0,
                    escape(&self.x.tick_label(t))
                );
            }
        }
        // Several charts share one HTML page: each needs its own clip id.
        let clip = format!(
            "plot-{:016x}",
            fnv1a(self.title.as_bytes(), self.body.as_bytes())
        );
        let _ = writeln!(
            s,
            "<clipPath id=\"{clip}\"><rect x=\"{left}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"/></clipPath>",
            top - 4.0,
            right - left,
            bottom - top + 8.0
        );
        let _ = writeln!(s, "<g clip-path=\"url(#{clip})\">");
        s.push_str(&self.body);
        let _ = writeln!(s, "</g>");
        s.push_str(&self.outside);
        // Axes.
        let _ = writeln!(
            s,
            "<path d=\"M{left} {top}V{bottom}H{right}\" fill=\"none\" stroke=\"#333\" stroke-width=\"1\"/>"
        );
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#222\" {FONT}>{}</text>",
            (left + right) / 2.0,
            f.height - 12.0,
            escape(&fit(&self.x.label, 12.0, right - left))
        );
        let _ = writeln!(
            s,
            "<text transform=\"translate(16 {:.1}) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\" fill=\"#222\" {FONT}>{}</text>",
            (top + bottom) / 2.0,
            escape(&fit(&self.y.label, 12.0, bottom - top))
        );
        if dy > 0.0 {
            let _ = writeln!(s, "</g>");
        }
        s.push_str("</svg>\n");
        s
    }

    pub fn finish(self) -> String {
        self.finish_with(true)
    }
}

/// The legend's entries (label cut to the row if need be, colour, width with its swatch and
/// the gap after it) in rows of at most `width` px.
fn legend_rows(entries: &[(String, String)], width: f64) -> Vec<Vec<(String, String, f64)>> {
    let mut rows: Vec<Vec<(String, String, f64)>> = Vec::new();
    let mut used = 0.0;
    for (label, color) in entries {
        let label = fit(label, 11.5, width - 26.0);
        let w = 26.0 + text_width(&label, 11.5);
        if rows.is_empty() || used + w > width {
            rows.push(Vec::new());
            used = 0.0;
        }
        used += w;
        if let Some(row) = rows.last_mut() {
            row.push((label, color.clone(), w));
        }
    }
    rows
}

/// A chart with a single message instead of data (a test that recorded nothing).
pub fn empty(title: &str, message: &str) -> String {
    let f = Frame::default();
    let text_w = f.width - f.left - 8.0;
    let title_lines = wrap(title, 15.0, text_w, 3);
    let message_lines = wrap(message, 13.0, text_w, 3);
    let below_title = 18.0 * (title_lines.len() - 1) as f64;
    let (w, h) = (
        f.width,
        140.0 + below_title + 17.0 * (message_lines.len() - 1) as f64,
    );
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\">\n\
         <rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\n"
    );
    for (i, line) in title_lines.iter().enumerate() {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"15\" font-weight=\"600\" fill=\"#111\" {FONT}>{}</text>",
            f.left,
            20.0 + 18.0 * i as f64,
            escape(line)
        );
    }
    for (i, line) in message_lines.iter().enumerate() {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"13\" fill=\"#666\" {FONT}>{}</text>",
            f.left,
            70.0 + below_title + 17.0 * i as f64,
            escape(line)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// FNV-1a over two byte strings: a stable, content-derived id.
fn fnv1a(a: &[u8], b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in a.iter().chain(b) {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// XML-escape text for element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn sane_range(lo: f64, hi: f64) -> (f64, f64) {
    let lo = if lo.is_finite() { lo } else { 0.0 };
    let hi = if hi.is_finite() { hi } else { lo + 1.0 };
    if hi > lo {
        (lo, hi)
    } else if lo == 0.0 {
        (0.0, 1.0)
    } else {
        (lo - lo.abs() * 0.1, lo + lo.abs() * 0.1)
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
pub fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let base = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * base >= raw {
            return m * base;
        }
    }
    10.0 * base
}

/// The unit in which to print a duration of about `ns` nanoseconds: (divisor, suffix).
pub fn time_unit(ns: f64) -> (f64, &'static str) {
    if ns >= 1e9 {
        (1e9, "s")
    } else if ns >= 1e6 {
        (1e6, "ms")
    } else if ns >= 1e3 {
        (1e3, "µs")
    } else {
        (1.0, "ns")
    }
}

/// A duration in nanoseconds, three significant digits, in the unit that suits it:
/// `430 ns`, `11.2 µs`, `7.19 ms`.
pub fn format_ns(ns: f64) -> String {
    if !ns.is_finite() {
        return "–".to_string();
    }
    let (div, suffix) = time_unit(ns.abs());
    format!("{} {suffix}", three_digits(ns / div))
}

/// Three significant digits without trailing zeros after the point: 7.19, 63.0 → 63, 0.43.
pub fn three_digits(v: f64) -> String {
    let a = v.abs();
    let s = if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    trim_zeros(s)
}

/// `50000000` → `50,000,000`.
pub fn group_thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn format_plain(v: f64) -> String {
    if v == v.round() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        trim_zeros(format!("{v:.3}"))
    }
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn format_count(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{}G", format_plain(v / 1e9))
    } else if a >= 1e6 {
        format!("{}M", format_plain(v / 1e6))
    } else if a >= 1e3 {
        format!("{}k", format_plain(v / 1e3))
    } else {
        format_plain(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_the_paper() {
        assert_eq!(format_ns(430.0), "430 ns");
        assert_eq!(format_ns(11_200.0), "11.2 µs");
        assert_eq!(format_ns(7_190_000.0), "7.19 ms");
        assert_eq!(format_ns(63_000.0), "63 µs");
        assert_eq!(format_ns(1_620_000.0), "1.62 ms");
        assert_eq!(format_ns(0.0), "0 ns");
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(13.0), 20.0);
        assert_eq!(nice_step(4000.0), 5000.0);
    }

    #[test]
    fn log_axis_spans_whole_decades() {
        let a = Axis::log("x", 430.0, 7_190_000.0, Unit::Nanos);
        assert_eq!((a.lo, a.hi), (100.0, 10_000_000.0));
        assert_eq!(a.ticks().len(), 6);
    }

    #[test]
    fn degenerate_ranges_do_not_break_the_scale() {
        for (lo, hi) in [
            (5.0, 5.0),
            (0.0, 0.0),
            (f64::NAN, 3.0),
            (3.0, f64::INFINITY),
        ] {
            let a = Axis::linear("x", lo, hi, Unit::Seconds);
            assert!(a.hi > a.lo, "{lo} {hi} -> {} {}", a.lo, a.hi);
            assert!(!a.ticks().is_empty());
        }
    }

    #[test]
    fn text_fits_its_width() {
        // 10 px type: 6.2 px a character, so 100 px hold 16 characters.
        assert_eq!(fit("short", 10.0, 100.0), "short");
        let cut = fit("a label far too long for the room", 10.0, 100.0);
        assert_eq!(cut, "a label far too…");
        assert_eq!(
            fit("many words: abcdefghijklmnop", 10.0, 100.0),
            "many words:…"
        );
        assert!(text_width(&cut, 10.0) <= 100.0);
        let lines = wrap("one two three four five six seven", 10.0, 100.0, 5);
        assert_eq!(lines, ["one two three", "four five six", "seven"]);
        assert!(lines.iter().all(|l| text_width(l, 10.0) <= 100.0));
        // A word longer than a line is broken inside; beyond the last line, cut.
        assert_eq!(
            wrap(&"x".repeat(40), 10.0, 100.0, 5),
            ["x".repeat(16), "x".repeat(16), "x".repeat(8)]
        );
        let two = wrap("one two three four five six seven", 10.0, 100.0, 2);
        assert_eq!(two, ["one two three", "four five six…"]);
        assert_eq!(wrap("", 10.0, 100.0, 3), [""]);
    }

    #[test]
    fn a_long_title_and_legend_make_the_chart_taller() {
        let chart = |title: &str, legend: &[&str]| {
            let mut c = Chart::new(
                title,
                Axis::linear("x", 0.0, 1.0, Unit::Seconds),
                Axis::linear("y", 0.0, 1.0, Unit::Nanos),
            );
            for l in legend {
                c.legend(l, PALETTE[0]);
            }
            c.finish()
        };
        let short = chart("t", &["a"]);
        assert!(short.contains("height=\"380\""), "{short}");
        assert!(!short.contains("<g transform"), "{short}");
        // Two more title lines (18 px each) and one more legend row (16 px).
        let long = chart(&"word ".repeat(40), &[&"x".repeat(60), &"y".repeat(60)]);
        assert!(long.contains("height=\"432\""), "{long}");
        assert!(long.contains("<g transform=\"translate(0 52)\">"), "{long}");
    }

    #[test]
    fn text_is_escaped() {
        let mut c = Chart::new(
            "a<b & \"c\"",
            Axis::linear("x", 0.0, 1.0, Unit::Seconds),
            Axis::linear("y", 0.0, 1.0, Unit::Nanos),
        );
        c.legend("<x>", PALETTE[0]);
        let s = c.finish();
        assert!(s.contains("a&lt;b &amp; &quot;c&quot;"));
        assert!(!s.contains("<x>"));
    }
}
