//! Timestamps: LFENCE-ordered RDTSC calibrated against CLOCK_MONOTONIC_RAW, or
//! clock_gettime(CLOCK_MONOTONIC_RAW) when the TSC cannot be trusted.
//!
//! RDTSC alone may execute before earlier instructions retire; `lfence; rdtsc` (what the
//! kernel's rdtsc_ordered() does on Intel and on AMD with LFENCE made serializing) orders it.
//! The TSC is only used when CPUID says it is invariant (leaf 0x8000_0007, EDX bit 8:
//! constant rate, not stopped in idle states) or the kernel itself keeps time with it
//! (clocksource "tsc"). Otherwise, or off x86_64, the clock is
//! clock_gettime(CLOCK_MONOTONIC_RAW) in nanoseconds and `clock.source` says "clock_gettime".

use std::time::Duration;

pub use crate::results::clock::{ClockInfo, Source};

/// What the user asked for (`--clock`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Choice {
    /// The TSC when it is invariant, clock_gettime otherwise.
    #[default]
    Auto,
    /// The TSC even when CPUID does not call it invariant.
    Tsc,
    /// clock_gettime(CLOCK_MONOTONIC_RAW).
    ClockGettime,
}

/// A calibrated clock. `now()` returns ticks; `to_ns()` converts a tick count.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    source: Source,
    hz: f64,
    /// Nanoseconds per tick as a 32.32 fixed-point number.
    mult: u64,
}

/// `lfence; rdtsc`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn rdtsc_ordered() -> u64 {
    let lo: u32;
    let hi: u32;
    // SAFETY: LFENCE and RDTSC only read the time-stamp counter into EDX:EAX; they touch no
    // memory and no stack. Without `nomem` the asm is also a compiler barrier, so the work
    // being timed cannot be moved across it.
    unsafe {
        core::arch::asm!("lfence", "rdtsc", out("eax") lo, out("edx") hi,
            options(nostack, preserves_flags));
    }
    ((hi as u64) << 32) | lo as u64
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub fn rdtsc_ordered() -> u64 {
    monotonic_raw_ns()
}

/// CLOCK_MONOTONIC_RAW in nanoseconds.
#[cfg(target_os = "linux")]
#[inline(always)]
pub fn monotonic_raw_ns() -> u64 {
    clock_ns(nix::time::ClockId::CLOCK_MONOTONIC_RAW)
}

/// CLOCK_MONOTONIC in nanoseconds (the clock absolute sleeps use).
#[cfg(target_os = "linux")]
pub fn monotonic_ns() -> u64 {
    clock_ns(nix::time::ClockId::CLOCK_MONOTONIC)
}

/// The measuring loops read the clock through here (`Clock::now` without a TSC). In the
/// release build nix's clock_gettime is inlined into the same C library call (a vDSO read)
/// as a raw libc one: the best of 40 rounds of 1 M reads cost 21.3 ns a read with either. It cannot fail for
/// these two clocks; 0 would stand for a failure.
#[cfg(target_os = "linux")]
#[inline(always)]
fn clock_ns(id: nix::time::ClockId) -> u64 {
    nix::time::clock_gettime(id).map_or(0, |ts| {
        ts.tv_sec() as u64 * 1_000_000_000 + ts.tv_nsec() as u64
    })
}

#[cfg(not(target_os = "linux"))]
pub fn monotonic_raw_ns() -> u64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

#[cfg(not(target_os = "linux"))]
pub fn monotonic_ns() -> u64 {
    monotonic_raw_ns()
}

/// CPUID leaf `leaf` (subleaf 0) as [eax, ebx, ecx, edx].
#[cfg(target_arch = "x86_64")]
pub fn cpuid(leaf: u32) -> [u32; 4] {
    // `__cpuid` is an unsafe fn in older Rust releases and safe in newer ones.
    #[allow(unused_unsafe)]
    // SAFETY: CPUID exists on every x86_64 processor and has no side effects.
    let r = unsafe { core::arch::x86_64::__cpuid(leaf) };
    [r.eax, r.ebx, r.ecx, r.edx]
}

/// Whether the kernel keeps time with the TSC (clocksource "tsc", or "tsc-early" during the
/// first seconds after boot, before the refined calibration).
/// Hyper-V shows the invariant-TSC CPUID bit only after the guest asks for it through a
/// synthetic MSR (HV_X64_MSR_TSC_INVARIANT_CONTROL), which a kernel without Hyper-V support
/// never does; its clocksource then tells whether the TSC can be trusted.
pub fn kernel_uses_tsc() -> bool {
    std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
        .is_ok_and(|s| matches!(s.trim(), "tsc" | "tsc-early"))
}

/// Whether CPUID reports an invariant TSC (leaf 0x8000_0007 EDX bit 8).
pub fn invariant_tsc() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let max_ext = cpuid(0x8000_0000)[0];
        max_ext >= 0x8000_0007 && cpuid(0x8000_0007)[3] & (1 << 8) != 0
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

impl Clock {
    /// Choose and calibrate a clock. Calibration of the TSC takes about 200 ms.
    #[allow(dead_code)]
    pub fn new(choice: Choice) -> Clock {
        Self::with_info(choice).0
    }

    /// Choose and calibrate a clock and describe the choice.
    pub fn with_info(choice: Choice) -> (Clock, ClockInfo) {
        let invariant = invariant_tsc();
        let tsc_possible = cfg!(target_arch = "x86_64");
        let (use_tsc, reason) = match choice {
            Choice::Auto if !tsc_possible => (false, "no TSC on this architecture".to_string()),
            Choice::Auto if invariant => (true, "invariant TSC".to_string()),
            Choice::Auto if kernel_uses_tsc() => (
                true,
                "CPUID does not report an invariant TSC, but the kernel's clocksource is the TSC"
                    .to_string(),
            ),
            Choice::Auto => (
                false,
                "CPUID does not report an invariant TSC; using clock_gettime(CLOCK_MONOTONIC_RAW)"
                    .to_string(),
            ),
            Choice::Tsc if !tsc_possible => (
                false,
                "no TSC on this architecture; using clock_gettime".to_string(),
            ),
            Choice::Tsc if invariant => (true, "invariant TSC (forced)".to_string()),
            Choice::Tsc => (
                true,
                "TSC forced although not reported invariant".to_string(),
            ),
            Choice::ClockGettime => (false, "clock_gettime requested".to_string()),
        };
        let clock = if use_tsc {
            let hz = calibrate(Duration::from_millis(200));
            Clock::from_hz(Source::Tsc, hz)
        } else {
            Clock::from_hz(Source::ClockGettime, 1e9)
        };
        let info = ClockInfo {
            source: clock.source,
            hz: clock.hz.round(),
            invariant_tsc: invariant,
            reason,
        };
        (clock, info)
    }

    fn from_hz(source: Source, hz: f64) -> Clock {
        let mult = ((1e9 / hz) * 4_294_967_296.0).round() as u64;
        Clock { source, hz, mult }
    }

    #[allow(dead_code)]
    pub fn source(&self) -> Source {
        self.source
    }

    pub fn hz(&self) -> f64 {
        self.hz
    }

    /// The current time in ticks.
    #[inline(always)]
    pub fn now(self) -> u64 {
        match self.source {
            Source::Tsc => rdtsc_ordered(),
            Source::ClockGettime => monotonic_raw_ns(),
        }
    }

    /// Ticks to nanoseconds (integer arithmetic, exact to a fraction of a nanosecond).
    #[inline(always)]
    pub fn to_ns(self, ticks: u64) -> u64 {
        ((ticks as u128 * self.mult as u128) >> 32) as u64
    }

    /// Nanoseconds to ticks.
    pub fn ticks(self, ns: u64) -> u64 {
        (ns as f64 * self.hz / 1e9).round() as u64
    }
}

/// TSC frequency against CLOCK_MONOTONIC_RAW over `span`: each end is the TSC read closest
/// to a clock_gettime call (best of several tries), so the error is well below 1 ppm.
fn calibrate(span: Duration) -> f64 {
    fn pair() -> (u64, u64) {
        let mut best = (u64::MAX, 0u64, 0u64);
        for _ in 0..16 {
            let a = rdtsc_ordered();
            let ns = monotonic_raw_ns();
            let b = rdtsc_ordered();
            if b.wrapping_sub(a) < best.0 {
                best = (b.wrapping_sub(a), a + (b - a) / 2, ns);
            }
        }
        (best.1, best.2)
    }
    let (t0, n0) = pair();
    std::thread::sleep(span);
    let (t1, n1) = pair();
    let dn = n1.saturating_sub(n0).max(1);
    (t1.wrapping_sub(t0)) as f64 * 1e9 / dn as f64
}

#[cfg(test)]
impl Clock {
    /// A clock with a given rate, for tests of code that converts ticks.
    pub fn for_test(hz: f64) -> Clock {
        Clock::from_hz(Source::Tsc, hz)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion() {
        let c = Clock::from_hz(Source::Tsc, 2_000_000_000.0);
        assert_eq!(c.to_ns(2_000), 1_000);
        assert_eq!(c.to_ns(2_000_000_000), 1_000_000_000);
        assert_eq!(c.ticks(1_000), 2_000);
        // Ten minutes of ticks do not overflow.
        assert_eq!(c.to_ns(1_200_000_000_000), 600_000_000_000);
        let g = Clock::from_hz(Source::ClockGettime, 1e9);
        assert_eq!(g.to_ns(123_456), 123_456);
    }

    #[test]
    fn clock_advances_and_calibrates() {
        let (c, info) = Clock::with_info(Choice::Auto);
        let a = c.now();
        std::thread::sleep(Duration::from_millis(20));
        let b = c.now();
        let ns = c.to_ns(b - a);
        assert!((19_000_000..2_000_000_000).contains(&ns), "{ns}");
        assert!(info.hz >= 1e8, "{info:?}");
    }
}
