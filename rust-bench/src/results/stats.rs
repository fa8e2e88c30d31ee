//! Summary statistics as they appear in the results (all in nanoseconds).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::results::histogram::{self, Histogram};

/// The clock-tick loop summary: `loop_ns` in the JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoopSummary {
    /// The intended loop duration (`--loop-us` in ns).
    pub target: u64,
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub p9999: u64,
    pub max: u64,
}

/// min/mean/p50/p99/max: `switch_ns` in the thread-switch JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

/// The JSON form of a histogram: non-empty buckets as [lower_ns, count].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistogramJson {
    pub unit: String,
    /// Bound on the relative error of a reported percentile.
    pub relative_error: f64,
    /// Buckets per power of two (values below this are exact, one bucket each).
    pub sub_buckets: u64,
    pub buckets: Vec<[u64; 2]>,
}

impl HistogramJson {
    pub fn from(h: &Histogram) -> Self {
        HistogramJson {
            unit: "ns".to_string(),
            relative_error: histogram::RELATIVE_ERROR,
            sub_buckets: 1 << histogram::SUB_BITS,
            buckets: h.buckets().into_iter().map(|(l, c)| [l, c]).collect(),
        }
    }
}

impl HistogramJson {
    /// `[threads,]lower_ns,upper_ns,count` per non-empty bucket (upper is exclusive).
    pub fn csv(&self, threads: Option<usize>) -> String {
        let mut s = String::new();
        if threads.is_some() {
            s.push_str("threads,");
        }
        s.push_str("lower_ns,upper_ns,count\n");
        for [lower, count] in &self.buckets {
            let upper = lower.saturating_add(histogram::width(histogram::index(*lower)));
            if let Some(t) = threads {
                let _ = write!(s, "{t},");
            }
            let _ = writeln!(s, "{lower},{upper},{count}");
        }
        s
    }
}

fn round_mean(m: f64) -> f64 {
    (m * 10.0).round() / 10.0
}

pub fn loop_summary(h: &Histogram, target: u64) -> LoopSummary {
    if h.count() == 0 {
        return LoopSummary {
            target,
            ..Default::default()
        };
    }
    LoopSummary {
        target,
        min: h.min().unwrap_or(0),
        mean: round_mean(h.mean().unwrap_or(0.0)),
        p50: h.quantile(0.5).unwrap_or(0),
        p99: h.quantile(0.99).unwrap_or(0),
        p999: h.quantile(0.999).unwrap_or(0),
        p9999: h.quantile(0.9999).unwrap_or(0),
        max: h.max().unwrap_or(0),
    }
}

/// The summary of a histogram; None when it holds no sample (written as null, never as
/// zeros that would read as a measurement).
pub fn summary(h: &Histogram) -> Option<Summary> {
    Some(Summary {
        min: h.min()?,
        mean: round_mean(h.mean()?),
        p50: h.quantile(0.5)?,
        p99: h.quantile(0.99)?,
        max: h.max()?,
    })
}

#[cfg(test)]
/// Exact nearest-rank percentile of a sorted slice (used to check the histogram and for short lists).
pub fn exact_quantile(sorted: &[u64], q: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = ((q.clamp(0.0, 1.0) * n as f64 - 1e-9).ceil() as usize).clamp(1, n);
    Some(sorted[rank - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loop_summary_exact() {
        let mut h = Histogram::new();
        // 9980 samples of 70 ns, 19 of 100 ns, one of 120 ns: all below 128, so exact.
        for _ in 0..9980 {
            h.record(70);
        }
        for _ in 0..19 {
            h.record(100);
        }
        h.record(120);
        let s = loop_summary(&h, 68);
        assert_eq!(
            s,
            LoopSummary {
                target: 68,
                min: 70,
                mean: 70.1,
                p50: 70,
                p99: 70,
                p999: 100,
                p9999: 100,
                max: 120,
            }
        );
    }

    #[test]
    fn summary_exact() {
        let mut h = Histogram::new();
        for v in [430u64, 440, 450, 460, 11_200] {
            h.record(v);
        }
        let s = summary(&h).unwrap();
        // 430..460 lie in 2-wide buckets starting at even values: midpoints equal lower+1.
        assert_eq!(s.min, 430);
        assert_eq!(s.max, 11_200);
        assert_eq!(s.mean, 2596.0);
        assert_eq!(s.p50, 451);
        assert_eq!(s.p99, 11_200);
        assert_eq!(summary(&Histogram::new()), None);
    }

    #[test]
    fn exact_quantiles() {
        let v: Vec<u64> = (1..=10).collect();
        assert_eq!(exact_quantile(&v, 0.5), Some(5));
        assert_eq!(exact_quantile(&v, 0.99), Some(10));
        assert_eq!(exact_quantile(&v, 0.0), Some(1));
        assert_eq!(exact_quantile(&[], 0.5), None);
    }

    #[test]
    fn histogram_csv_bounds() {
        let mut h = Histogram::new();
        h.record(3);
        h.record(3);
        h.record(1000);
        let j = HistogramJson::from(&h);
        assert_eq!(j.csv(None), "lower_ns,upper_ns,count\n3,4,2\n1000,1004,1\n");
        let mut one = Histogram::new();
        one.record(3);
        let t = HistogramJson::from(&one).csv(Some(2));
        assert_eq!(t, "threads,lower_ns,upper_ns,count\n2,3,4,1\n");
    }

    #[test]
    fn histogram_json() {
        let mut h = Histogram::new();
        h.record(3);
        h.record(3);
        h.record(1000);
        let j = HistogramJson::from(&h);
        assert_eq!(j.buckets, vec![[3, 2], [1000, 1]]);
        assert_eq!(j.sub_buckets, 128);
    }
}
