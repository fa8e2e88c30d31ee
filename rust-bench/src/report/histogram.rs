//! The fixed-width histogram export (`report --histograms DIR`): zero-filled buckets of one
//! width from 0, one file per run and test, in the layout of cyclictest's `-h` (a `#`
//! comment header, then `<bucket> <count>...` lines, one count column per distribution,
//! then `# Total:`, `# Min Latencies:`, `# Max Latencies:`, `# Histogram Overflows:`). The
//! result file's log-linear histogram stays the exact record; this is a view of it.

use std::fmt::Write as _;

use crate::suite::test::Distribution;

/// More buckets than this in one file is a mistake in the options, not a histogram.
pub const MAX_BUCKETS: u64 = 10_000_000;

/// The rebinned histogram of some distributions on one grid.
pub struct Fixed {
    pub width_ns: u64,
    /// One count per bucket, per column.
    pub counts: Vec<Vec<u64>>,
    /// Samples at or above the range's end, per column.
    pub overflows: Vec<u64>,
    /// Samples whose log-linear bucket is wider than `width_ns` (placed by their bucket's
    /// lower bound), over all columns.
    pub approximate: u64,
}

/// Rebin onto buckets `[i·width, (i+1)·width)` for `i` from 0 up to the bucket of `max_ns`
/// (the range's end, exclusive), or up to the largest maximum when `max_ns` is None.
/// Each log-linear bucket counts in the fixed bucket of its lower bound.
pub fn rebin(
    columns: &[Distribution],
    width_ns: u64,
    max_ns: Option<u64>,
) -> Result<Fixed, String> {
    let width_ns = width_ns.max(1);
    let buckets = match max_ns {
        Some(m) => m.div_ceil(width_ns).max(1),
        None => columns.iter().filter_map(|c| c.max).max().unwrap_or(0) / width_ns + 1,
    };
    if buckets > MAX_BUCKETS {
        return Err(format!(
            "{buckets} buckets of {width_ns} ns; at most {MAX_BUCKETS}: give a wider --histogram-width or a lower --histogram-max"
        ));
    }
    let mut fixed = Fixed {
        width_ns,
        counts: Vec::with_capacity(columns.len()),
        overflows: Vec::with_capacity(columns.len()),
        approximate: 0,
    };
    for column in columns {
        let mut counts = vec![0u64; buckets as usize];
        let mut overflow = 0;
        let h = column.histogram;
        for &[lower, count] in &h.buckets {
            let i = lower / width_ns;
            match counts.get_mut(i as usize) {
                Some(c) => *c += count,
                None => overflow += count,
            }
            let log_width =
                crate::results::histogram::width(crate::results::histogram::index(lower));
            if (lower + log_width - 1) / width_ns != i {
                fixed.approximate += count;
            }
        }
        fixed.counts.push(counts);
        fixed.overflows.push(overflow);
    }
    Ok(fixed)
}

/// The file: `title` and `source` in the header, bucket lower bounds in µs.
pub fn text(title: &str, source: &str, columns: &[Distribution], fixed: &Fixed) -> String {
    let us = |ns: u64| crate::report::table::number(ns as f64 / 1000.0);
    let names: Vec<&str> = columns.iter().map(|c| c.column.as_str()).collect();
    let buckets = fixed.counts.first().map_or(0, Vec::len) as u64;
    let mut s = String::new();
    let _ = writeln!(s, "# {title}");
    let _ = writeln!(s, "# from {source}");
    let _ = writeln!(
        s,
        "# fixed-width buckets of {} us from 0 to {} us (exclusive), zero-filled",
        us(fixed.width_ns),
        us(fixed.width_ns * buckets)
    );
    let _ = writeln!(
        s,
        "# columns: bucket (lower bound, us) then the count of samples of: {}",
        names.join(" ")
    );
    if fixed.approximate > 0 {
        let _ = writeln!(
            s,
            "# {} samples lie in log-linear buckets (at most 1/128 of their value wide) that straddle a boundary of these buckets: each is counted in the bucket of its log-linear bucket's lower bound; the result file's histogram is the exact record",
            fixed.approximate
        );
    }
    s.push_str("# Histogram\n");
    for i in 0..buckets as usize {
        s.push_str(&us(i as u64 * fixed.width_ns));
        for c in &fixed.counts {
            let _ = write!(s, " {}", c[i]);
        }
        s.push('\n');
    }
    let row = |f: &dyn Fn(usize) -> String| (0..columns.len()).map(f).collect::<Vec<_>>().join(" ");
    let _ = writeln!(s, "# Total: {}", row(&|i| columns[i].samples.to_string()));
    let opt = |v: Option<u64>| v.map(us).unwrap_or_else(|| "-".to_string());
    let _ = writeln!(s, "# Min Latencies: {}", row(&|i| opt(columns[i].min)));
    let _ = writeln!(s, "# Max Latencies: {}", row(&|i| opt(columns[i].max)));
    let _ = writeln!(
        s,
        "# Histogram Overflows: {}",
        row(&|i| fixed.overflows[i].to_string())
    );
    s
}

/// A file name's part from a column label: lower case letters, digits and single dashes.
pub fn slug(label: &str) -> String {
    let mut out = String::new();
    for c in label.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "run".to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::histogram::Histogram;
    use crate::results::stats::HistogramJson;

    fn column(h: &HistogramJson, n: u64) -> Distribution<'_> {
        Distribution {
            column: "loop".to_string(),
            histogram: h,
            samples: n,
            min: h.buckets.first().map(|b| b[0]),
            max: h.buckets.last().map(|b| b[0]),
        }
    }

    #[test]
    fn zero_filled_and_summing_to_the_samples() {
        let mut h = Histogram::new();
        for v in [500, 900, 1000, 2_500, 2_999, 70_000, 300_000] {
            h.record(v);
        }
        let j = HistogramJson::from(&h);
        let cols = [column(&j, 7)];
        let f = rebin(&cols, 1000, None).unwrap();
        assert_eq!(f.counts[0].len(), 300);
        assert_eq!(f.counts[0][..4], [2, 1, 2, 0]);
        assert_eq!(f.counts[0].iter().sum::<u64>(), 7);
        assert_eq!(f.overflows, [0]);
        // 2.999, 70 and 300 µs lie in log-linear buckets (16 ns, 512 ns, 2 µs wide) that
        // straddle a boundary of the 1 µs buckets.
        assert_eq!(f.approximate, 3);
        let t = text("t", "src", &cols, &f);
        assert!(t.contains("\n# Histogram\n0 2\n1 1\n2 2\n3 0\n"), "{t}");
        assert!(t.ends_with("# Total: 7\n# Min Latencies: 0.5\n# Max Latencies: 299.008\n# Histogram Overflows: 0\n"), "{t}");
        let cut = rebin(&cols, 1000, Some(3000)).unwrap();
        assert_eq!(cut.counts[0], [2, 1, 2]);
        assert_eq!(cut.overflows, [2]);
        assert!(rebin(&cols, 1, Some(u64::MAX)).is_err());
    }

    #[test]
    fn slugs() {
        assert_eq!(
            slug("Hyper-V enlightened (s1-enlightened)"),
            "hyper-v-enlightened-s1-enlightened"
        );
        assert_eq!(slug("bare metal"), "bare-metal");
        assert_eq!(slug("µ"), "run");
    }
}
