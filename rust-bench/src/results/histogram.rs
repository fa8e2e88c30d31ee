//! A log-linear histogram of nanosecond values with a fixed, small memory footprint.
//!
//! Layout (HDR-histogram style): values below 2^S (S = [`SUB_BITS`] = 7, i.e. below 128 ns)
//! have one bucket each and are exact. Above that every power of two is split into 2^S = 128
//! equal buckets, so a bucket is at most 1/128 of its lower bound wide. The whole u64 range
//! takes 7424 buckets (58 KiB of counters); recording is a few integer instructions
//! (leading-zero count, shift, add), no allocation and no branch on the data beyond one compare.
//!
//! Percentiles use the nearest-rank definition (the value of rank ceil(q * n), 1-based) and
//! report the middle of the bucket holding that rank, clamped to the exact minimum and maximum.
//! The reported value is therefore within 1/256 (0.39 %) of the true order statistic
//! ([`RELATIVE_ERROR`]); counts, minimum, maximum and mean are exact.

use std::sync::atomic::{AtomicU64, Ordering};

/// log2 of the number of buckets per power of two.
pub const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS;
/// Number of buckets covering 0..=u64::MAX.
pub const BUCKETS: usize = ((64 - SUB_BITS + 1) as usize) << SUB_BITS;
/// Worst-case relative error of a reported percentile (half a bucket: 2^-(S+1)).
pub const RELATIVE_ERROR: f64 = 1.0 / (2u64 << SUB_BITS) as f64;

/// Bucket index of a value.
#[inline(always)]
pub fn index(value: u64) -> usize {
    if value < SUB {
        value as usize
    } else {
        let exp = 63 - value.leading_zeros(); // >= SUB_BITS
        let shift = exp - SUB_BITS;
        (((shift + 1) as usize) << SUB_BITS) + ((value >> shift) - SUB) as usize
    }
}

/// Smallest value that falls into bucket `i`.
pub fn lower_bound(i: usize) -> u64 {
    let k = i >> SUB_BITS;
    let m = (i as u64) & (SUB - 1);
    if k == 0 { m } else { (SUB + m) << (k - 1) }
}

/// Width of bucket `i` (number of distinct values it holds).
pub fn width(i: usize) -> u64 {
    let k = i >> SUB_BITS;
    if k == 0 { 1 } else { 1 << (k - 1) }
}

/// A histogram owned by one thread.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Box<[u64]>,
    count: u64,
    sum: u128,
    min: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    pub fn new() -> Self {
        let mut counts = vec![0u64; BUCKETS].into_boxed_slice();
        // Touch every page now so the first samples do not take page faults.
        for c in counts.iter_mut() {
            *c = std::hint::black_box(0);
        }
        Histogram {
            counts,
            count: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }

    /// Record one value. O(1), no allocation.
    #[inline(always)]
    pub fn record(&mut self, value: u64) {
        // index() < BUCKETS for every u64, so this never panics.
        self.counts[index(value)] += 1;
        self.count += 1;
        self.sum += value as u128;
        if value < self.min {
            self.min = value;
        }
        if value > self.max {
            self.max = value;
        }
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Exact minimum (None when empty).
    pub fn min(&self) -> Option<u64> {
        (self.count > 0).then_some(self.min)
    }

    /// Exact maximum (None when empty).
    pub fn max(&self) -> Option<u64> {
        (self.count > 0).then_some(self.max)
    }

    /// Exact arithmetic mean (None when empty).
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }

    /// Exact sum of all recorded values.
    #[cfg(test)]
    pub fn sum(&self) -> u128 {
        self.sum
    }

    /// Nearest-rank percentile, `q` in [0, 1] (0 gives the minimum, 1 the maximum).
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let q = q.clamp(0.0, 1.0);
        // The small epsilon keeps 0.999 * 10000 at rank 9990 despite rounding in q.
        let rank = ((q * self.count as f64 - 1e-9).ceil() as u64).clamp(1, self.count);
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let mid = lower_bound(i) + width(i) / 2;
                return Some(mid.clamp(self.min, self.max));
            }
        }
        Some(self.max)
    }

    /// Number of recorded values >= `value`, exact when `value` is a bucket lower bound,
    /// otherwise counting the whole bucket that holds `value`.
    #[allow(dead_code)] // for callers that count spikes after the fact
    pub fn count_at_least(&self, value: u64) -> u64 {
        self.counts[index(value)..].iter().sum()
    }

    /// Non-empty buckets as (lower bound, count), ascending.
    pub fn buckets(&self) -> Vec<(u64, u64)> {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(i, c)| (lower_bound(i), *c))
            .collect()
    }

    /// Add all counts of `other` to this histogram.
    #[allow(dead_code)] // for callers that combine runs
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += *b;
        }
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }
}

/// A histogram shared by threads that take turns on one CPU (thread-switch): plain relaxed
/// loads and stores (no locked read-modify-write), which is exact as long as only one thread
/// records at a time, and never undefined behaviour otherwise (at worst a lost count).
pub struct SharedHistogram {
    counts: Box<[AtomicU64]>,
    count: AtomicU64,
    sum: AtomicU64,
    min: AtomicU64,
    max: AtomicU64,
}

impl Default for SharedHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl SharedHistogram {
    pub fn new() -> Self {
        let counts: Box<[AtomicU64]> = (0..BUCKETS).map(|_| AtomicU64::new(0)).collect();
        SharedHistogram {
            counts,
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0),
            min: AtomicU64::new(u64::MAX),
            max: AtomicU64::new(0),
        }
    }

    #[inline(always)]
    fn bump(a: &AtomicU64, by: u64) {
        a.store(
            a.load(Ordering::Relaxed).wrapping_add(by),
            Ordering::Relaxed,
        );
    }

    /// Record one value (see the type's note on concurrency).
    #[inline(always)]
    pub fn record(&self, value: u64) {
        Self::bump(&self.counts[index(value)], 1);
        Self::bump(&self.count, 1);
        Self::bump(&self.sum, value);
        if value < self.min.load(Ordering::Relaxed) {
            self.min.store(value, Ordering::Relaxed);
        }
        if value > self.max.load(Ordering::Relaxed) {
            self.max.store(value, Ordering::Relaxed);
        }
    }

    #[allow(dead_code)]
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// A consistent-enough copy (exact once the recording threads have stopped).
    pub fn snapshot(&self) -> Histogram {
        let counts: Box<[u64]> = self
            .counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let count = counts.iter().sum();
        Histogram {
            counts,
            count,
            sum: self.sum.load(Ordering::Relaxed) as u128,
            min: self.min.load(Ordering::Relaxed),
            max: self.max.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        assert_eq!(BUCKETS, 7424);
        assert_eq!(RELATIVE_ERROR, 1.0 / 256.0);
        for v in 0..128u64 {
            assert_eq!(index(v), v as usize);
            assert_eq!(lower_bound(v as usize), v);
        }
        assert_eq!(index(128), 128);
        assert_eq!(index(255), 255);
        assert_eq!(index(256), 256);
        assert_eq!(index(257), 256);
        assert_eq!(index(258), 257);
        assert_eq!(lower_bound(256), 256);
        assert_eq!(width(256), 2);
        assert_eq!(index(u64::MAX), BUCKETS - 1);
        assert_eq!(
            lower_bound(BUCKETS - 1) + (width(BUCKETS - 1) - 1),
            u64::MAX
        );
        // Every bucket starts where the previous one ended.
        for i in 1..BUCKETS {
            assert_eq!(
                lower_bound(i),
                lower_bound(i - 1) + width(i - 1),
                "bucket {i}"
            );
            assert_eq!(index(lower_bound(i)), i);
            assert_eq!(index(lower_bound(i) - 1), i - 1);
        }
    }

    #[test]
    fn bucket_width_is_within_relative_error() {
        for i in 128..BUCKETS {
            assert!(width(i) as f64 / lower_bound(i) as f64 <= 1.0 / 128.0);
        }
    }

    #[test]
    fn exact_small_values() {
        let mut h = Histogram::new();
        for v in 1..=100u64 {
            h.record(v);
        }
        assert_eq!(h.count(), 100);
        assert_eq!(h.min(), Some(1));
        assert_eq!(h.max(), Some(100));
        assert_eq!(h.mean(), Some(50.5));
        assert_eq!(h.quantile(0.5), Some(50));
        assert_eq!(h.quantile(0.99), Some(99));
        assert_eq!(h.quantile(0.999), Some(100));
        assert_eq!(h.quantile(0.0), Some(1));
        assert_eq!(h.quantile(1.0), Some(100));
        assert_eq!(h.count_at_least(91), 10);
        assert_eq!(h.buckets().len(), 100);
        assert_eq!(h.buckets()[0], (1, 1));
    }

    #[test]
    fn large_values_midpoint_and_clamp() {
        let mut h = Histogram::new();
        // 1000 = 0b1111101000: exponent 9, bucket width 4, bucket [1000, 1004).
        h.record(1000);
        h.record(1001);
        h.record(1003);
        assert_eq!(index(1000), index(1003));
        assert_eq!(lower_bound(index(1000)), 1000);
        assert_eq!(width(index(1000)), 4);
        // Midpoint 1002, clamped into [1000, 1003].
        assert_eq!(h.quantile(0.5), Some(1002));
        assert_eq!(h.quantile(1.0), Some(1002));
        assert_eq!(h.max(), Some(1003));
        assert_eq!(h.min(), Some(1000));
        assert_eq!(h.buckets(), vec![(1000, 3)]);
        let mut one = Histogram::new();
        one.record(1_000_000);
        assert_eq!(one.quantile(0.5), Some(1_000_000));
    }

    #[test]
    fn percentile_error_is_bounded() {
        let mut h = Histogram::new();
        let mut values: Vec<u64> = (0..20_000u64)
            .map(|i| 100 + i * i * 37 % 10_000_000)
            .collect();
        for &v in &values {
            h.record(v);
        }
        values.sort_unstable();
        for q in [0.5, 0.9, 0.99, 0.999, 0.9999] {
            let rank = ((q * values.len() as f64 - 1e-9).ceil() as usize).max(1);
            let exact = values[rank - 1] as f64;
            let got = h.quantile(q).unwrap() as f64;
            assert!(
                (got - exact).abs() <= exact * RELATIVE_ERROR + 0.5,
                "q={q} {got} vs {exact}"
            );
        }
    }

    #[test]
    fn merge_and_shared() {
        let shared = SharedHistogram::new();
        let mut a = Histogram::new();
        for v in [5u64, 500, 50_000] {
            shared.record(v);
            a.record(v);
        }
        let s = shared.snapshot();
        assert_eq!(s.count(), 3);
        assert_eq!(s.min(), Some(5));
        assert_eq!(s.max(), Some(50_000));
        assert_eq!(s.sum(), 50_505);
        assert_eq!(s.buckets(), a.buckets());
        let mut m = Histogram::new();
        m.merge(&a);
        m.merge(&s);
        assert_eq!(m.count(), 6);
        // 500 is in the 2-wide bucket [500, 502): reported as its middle.
        assert_eq!(m.quantile(0.5), Some(501));
        let empty = Histogram::new();
        assert_eq!(empty.quantile(0.5), None);
        assert_eq!(empty.min(), None);
    }
}
