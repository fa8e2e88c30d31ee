//! `fail_above`: what a test's `--fail-above-us` threshold found, the same in every result
//! file that has one (docs/results-format.md), and the fixed-size counters a measurement
//! keeps for it: how many values crossed the threshold, when the first did and how large
//! it was. A test gives its results one through [`crate::suite::test::TestResult::fail_above`].

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::{Deserialize, Serialize};

/// What `--fail-above-us` found: `fail_above` in a result (null without the option).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FailAbove {
    pub threshold_us: u64,
    /// The values above the threshold (what a value is, each test says: a wake-up's
    /// latency, a sample's tick overhead, a switch's latency, a period's longest noise).
    pub crossed: u64,
    /// When the first of them was (s since the test's start); null when none was.
    pub first_at_s: Option<f64>,
    /// The first of them (ns); null when none was. Absent in files written before it was
    /// recorded.
    #[serde(default)]
    pub first_ns: Option<u64>,
}

impl FailAbove {
    /// The threshold was crossed at least once.
    pub fn is_crossed(&self) -> bool {
        self.crossed > 0
    }
}

/// The threshold in ns: a value is above it when larger; `None` (no threshold) is never
/// crossed.
pub fn limit_ns(threshold_us: Option<u64>) -> u64 {
    threshold_us.map_or(u64::MAX, |us| us.saturating_mul(1000))
}

/// The counters of one measurement: fixed-size, whatever the length of the run.
#[derive(Clone, Copy, Debug)]
pub struct Crossings {
    limit_ns: u64,
    crossed: u64,
    /// When the first crossing was, in the measurement's own unit (ns, ticks, periods).
    first_at: Option<u64>,
    first_ns: u64,
}

impl Default for Crossings {
    /// No threshold: never crossed.
    fn default() -> Crossings {
        Crossings::new(None)
    }
}

impl Crossings {
    pub fn new(threshold_us: Option<u64>) -> Crossings {
        Crossings {
            limit_ns: limit_ns(threshold_us),
            crossed: 0,
            first_at: None,
            first_ns: 0,
        }
    }

    /// One value of `value_ns`, at `at` (the measurement's unit of time).
    #[inline(always)]
    pub fn record(&mut self, value_ns: u64, at: u64) {
        if value_ns > self.limit_ns {
            if self.crossed == 0 {
                self.first_at = Some(at);
                self.first_ns = value_ns;
            }
            self.crossed += 1;
        }
    }

    /// `fail_above` for a threshold of `threshold_us` (none: null); `seconds` turns the
    /// first crossing's time into seconds since the test's start.
    pub fn result(
        &self,
        threshold_us: Option<u64>,
        seconds: impl Fn(u64) -> f64,
    ) -> Option<FailAbove> {
        let threshold_us = threshold_us?;
        Some(FailAbove {
            threshold_us,
            crossed: self.crossed,
            first_at_s: self.first_at.map(|at| round6(seconds(at))),
            first_ns: (self.crossed > 0).then_some(self.first_ns),
        })
    }
}

/// [`Crossings`] kept by threads that take turns on one CPU (thread-switch): relaxed
/// loads and stores, no locked instruction, as its histogram.
#[derive(Debug)]
pub struct SharedCrossings {
    limit_ns: u64,
    crossed: AtomicU64,
    /// u64::MAX: none yet.
    first_at: AtomicU64,
    first_ns: AtomicU64,
}

impl SharedCrossings {
    pub fn new(threshold_us: Option<u64>) -> SharedCrossings {
        SharedCrossings {
            limit_ns: limit_ns(threshold_us),
            crossed: AtomicU64::new(0),
            first_at: AtomicU64::new(u64::MAX),
            first_ns: AtomicU64::new(0),
        }
    }

    /// One value, from the thread that runs now (only one at a time).
    #[inline(always)]
    pub fn record(&self, value_ns: u64, at: u64) {
        if value_ns > self.limit_ns {
            self.crossed.store(self.crossed.load(Relaxed) + 1, Relaxed);
            if self.first_at.load(Relaxed) == u64::MAX {
                self.first_at.store(at, Relaxed);
                self.first_ns.store(value_ns, Relaxed);
            }
        }
    }

    /// The counters as they stand.
    pub fn snapshot(&self) -> Crossings {
        let first = self.first_at.load(Relaxed);
        Crossings {
            limit_ns: self.limit_ns,
            crossed: self.crossed.load(Relaxed),
            first_at: (first != u64::MAX).then_some(first),
            first_ns: self.first_ns.load(Relaxed),
        }
    }
}

/// The crossings of several parts of one test (thread-switch's runs, one per thread
/// count, in the order they ran), as one: their counts summed and the first crossing of the
/// first part that had one, its `first_at_s` shifted by when the part started (s since the
/// test's start).
pub fn combined<'a>(parts: impl IntoIterator<Item = (f64, &'a FailAbove)>) -> Option<FailAbove> {
    let mut all: Option<FailAbove> = None;
    for (started_s, part) in parts {
        let total = all.get_or_insert_with(|| FailAbove {
            threshold_us: part.threshold_us,
            ..FailAbove::default()
        });
        total.crossed += part.crossed;
        if total.first_at_s.is_none()
            && let Some(at) = part.first_at_s
        {
            total.first_at_s = Some(round6(started_s + at));
            total.first_ns = part.first_ns;
        }
    }
    all
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_values_above_the_threshold_cross() {
        let mut c = Crossings::new(Some(1));
        for (v, at) in [(1000, 10), (1001, 20), (500, 30), (3000, 40)] {
            c.record(v, at);
        }
        let f = c.result(Some(1), |at| at as f64 / 100.0).unwrap();
        assert_eq!(
            f,
            FailAbove {
                threshold_us: 1,
                crossed: 2,
                first_at_s: Some(0.2),
                first_ns: Some(1001),
            }
        );
        assert!(f.is_crossed());
        let none = Crossings::new(Some(5)).result(Some(5), |_| 0.0).unwrap();
        assert_eq!(
            (none.crossed, none.first_at_s, none.first_ns),
            (0, None, None)
        );
        assert_eq!(Crossings::new(None).result(None, |_| 0.0), None);
        let mut never = Crossings::new(None);
        never.record(u64::MAX, 1);
        assert_eq!(never.crossed, 0);
    }

    #[test]
    fn shared_counters_and_parts_combined() {
        let s = SharedCrossings::new(Some(2));
        for (v, at) in [(2000, 1), (2500, 7), (9000, 9)] {
            s.record(v, at);
        }
        let part = s.snapshot().result(Some(2), |at| at as f64).unwrap();
        assert_eq!(
            (part.crossed, part.first_at_s, part.first_ns),
            (2, Some(7.0), Some(2500))
        );
        let quiet = FailAbove {
            threshold_us: 2,
            ..FailAbove::default()
        };
        let all = combined([(0.0, &quiet), (1.5, &part), (4.0, &part)]).unwrap();
        assert_eq!(
            (all.crossed, all.first_at_s, all.first_ns),
            (4, Some(8.5), Some(2500))
        );
        assert_eq!(combined([]), None);
        // Files from before `first_ns` read.
        let old: FailAbove =
            serde_json::from_str(r#"{"threshold_us":1,"crossed":0,"first_at_s":null}"#).unwrap();
        assert_eq!(old.first_ns, None);
        // The JSON round trip.
        let back: FailAbove = serde_json::from_value(serde_json::to_value(&all).unwrap()).unwrap();
        assert_eq!(back, all);
        assert_eq!(
            serde_json::to_value(&part).unwrap(),
            serde_json::json!({"threshold_us": 2, "crossed": 2, "first_at_s": 7.0, "first_ns": 2500})
        );
    }
}
