//! The memory load's default buffer size: large enough that the copy misses every cache of
//! the machine it runs on, as the paper's 9 MB did on its 8 MB L3 (docs/config.md).
//!
//! Default: twice the last-level cache the machine sees (sysfs
//! `/sys/devices/system/cpu/cpu0/cache/index*/{level,type,size}`; CPUID leaf 4, or
//! 0x8000001D, only when sysfs has none), so that each of the two buffers alone is twice the
//! cache; both buffers together are capped at half of `MemAvailable` (`/proc/meminfo`).

use std::fs;
use std::path::Path;

use crate::options::Size;
pub use crate::results::run::MemoryLoadSize;

/// Used when neither sysfs nor CPUID tells the cache size: larger than any L3 sold in 2026
/// for one socket, yet small beside the memory of any VM that runs this.
pub const UNKNOWN_CACHE_SIZE: u64 = 256 << 20;

/// The last-level cache (bytes) and where its size came from ("sysfs" or "cpuid").
pub fn last_level_cache() -> Option<(u64, &'static str)> {
    sysfs_llc(Path::new("/sys/devices/system/cpu/cpu0/cache"))
        .map(|b| (b, "sysfs"))
        .or_else(|| cpuid_llc().map(|b| (b, "cpuid")))
}

/// The largest level's data or unified cache under `dir` (`index0`, `index1`, ...).
fn sysfs_llc(dir: &Path) -> Option<u64> {
    let mut best: Option<(u32, u64)> = None;
    for entry in fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if !entry.file_name().to_string_lossy().starts_with("index") {
            continue;
        }
        let read = |name: &str| fs::read_to_string(path.join(name)).ok();
        let Some(level) = read("level").and_then(|l| l.trim().parse::<u32>().ok()) else {
            continue;
        };
        if read("type").is_some_and(|t| t.trim() == "Instruction") {
            continue;
        }
        let Some(bytes) = read("size").and_then(|s| parse_sysfs_size(&s)) else {
            continue;
        };
        if best.is_none_or(|(l, b)| (level, bytes) > (l, b)) {
            best = Some((level, bytes));
        }
    }
    best.map(|(_, b)| b)
}

/// sysfs cache sizes: `32K`, `16384K`, `32M` (powers of 1024).
pub fn parse_sysfs_size(s: &str) -> Option<u64> {
    let t = s.trim();
    let (number, shift) = match t.chars().last()? {
        'K' => (&t[..t.len() - 1], 10),
        'M' => (&t[..t.len() - 1], 20),
        'G' => (&t[..t.len() - 1], 30),
        _ => (t, 0),
    };
    let n: u64 = number.parse().ok()?;
    (n > 0).then(|| n << shift)
}

/// CPUID's deterministic cache parameters: leaf 4 (Intel) or 0x8000001D (AMD); the largest
/// level's data or unified cache.
#[cfg(target_arch = "x86_64")]
fn cpuid_llc() -> Option<u64> {
    let max_basic = crate::platform::tsc::cpuid(0)[0];
    let max_ext = crate::platform::tsc::cpuid(0x8000_0000)[0];
    let leaf = if max_basic >= 4 && cpuid_count(4, 0)[0] & 0x1f != 0 {
        4
    } else if max_ext >= 0x8000_001d {
        0x8000_001d
    } else {
        return None;
    };
    let mut best: Option<(u32, u64)> = None;
    for sub in 0..16 {
        let [eax, ebx, ecx, _] = cpuid_count(leaf, sub);
        let kind = eax & 0x1f;
        if kind == 0 {
            break;
        }
        if kind == 2 {
            continue; // instruction cache
        }
        let level = (eax >> 5) & 0x7;
        let ways = u64::from((ebx >> 22) & 0x3ff) + 1;
        let partitions = u64::from((ebx >> 12) & 0x3ff) + 1;
        let line = u64::from(ebx & 0xfff) + 1;
        let sets = u64::from(ecx) + 1;
        let bytes = ways * partitions * line * sets;
        if best.is_none_or(|(l, b)| (level, bytes) > (l, b)) {
            best = Some((level, bytes));
        }
    }
    best.map(|(_, b)| b)
}

#[cfg(not(target_arch = "x86_64"))]
fn cpuid_llc() -> Option<u64> {
    None
}

#[cfg(target_arch = "x86_64")]
fn cpuid_count(leaf: u32, sub: u32) -> [u32; 4] {
    // `__cpuid_count` is an unsafe fn in older Rust releases and safe in newer ones.
    #[allow(unused_unsafe)]
    // SAFETY: CPUID exists on every x86_64 processor and has no side effects.
    let r = unsafe { core::arch::x86_64::__cpuid_count(leaf, sub) };
    [r.eax, r.ebx, r.ecx, r.edx]
}

/// `MemAvailable` from /proc/meminfo, in bytes.
pub fn mem_available() -> Option<u64> {
    let text = fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The buffer size from the cache and the available memory: twice the cache (taken as
/// [`UNKNOWN_CACHE_SIZE`] when unknown), rounded up to a whole MiB, never below the paper's 9 MiB, and
/// the two buffers together at most half the available memory (at least 1 MiB each).
pub fn default_size(llc: Option<u64>, available: Option<u64>) -> u64 {
    let mib = 1u64 << 20;
    let wanted = llc
        .unwrap_or(UNKNOWN_CACHE_SIZE)
        .saturating_mul(2)
        .div_ceil(mib)
        .saturating_mul(mib)
        .clamp(Size::DEFAULT.0, Size::MAX);
    match available {
        Some(a) => wanted.min((a / 4).max(mib)),
        None => wanted,
    }
}

/// The size of this machine's memory load: `given`, or the default from its cache and
/// memory, with what it was based on.
pub fn choose(given: Option<Size>) -> MemoryLoadSize {
    let llc = last_level_cache();
    let available = mem_available();
    MemoryLoadSize {
        size_bytes: given.map_or_else(|| default_size(llc.map(|l| l.0), available), |s| s.0),
        rule: if given.is_some() { "given" } else { "auto" }.to_string(),
        llc_bytes: llc.map(|l| l.0),
        llc_source: llc.map(|l| l.1.to_string()),
        mem_available_bytes: available,
    }
}

/// One line for the console: the size and its basis.
pub fn describe(m: &MemoryLoadSize) -> String {
    let mib = |b: u64| format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64);
    let basis = match m.rule.as_str() {
        "given" => "as given".to_string(),
        _ => format!(
            "twice the last-level cache ({}), both buffers at most half of MemAvailable ({})",
            m.llc_bytes.map_or_else(
                || format!("unknown: taken as {}", mib(UNKNOWN_CACHE_SIZE)),
                |c| format!("{} from {}", mib(c), m.llc_source.as_deref().unwrap_or("?"))
            ),
            m.mem_available_bytes.map_or("unknown".to_string(), mib)
        ),
    };
    format!(
        "memory load: {} bytes per buffer ({}; {basis})",
        m.size_bytes,
        mib(m.size_bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysfs_sizes() {
        assert_eq!(parse_sysfs_size("32K\n"), Some(32 << 10));
        assert_eq!(parse_sysfs_size("16384K"), Some(16 << 20));
        assert_eq!(parse_sysfs_size("480M"), Some(480 << 20));
        assert_eq!(parse_sysfs_size("x"), None);
    }

    #[test]
    fn the_rule() {
        let mib = 1u64 << 20;
        // The paper's Xeon: 8 MiB L3 gives 16 MiB.
        assert_eq!(default_size(Some(8 * mib), Some(16 << 30)), 16 * mib);
        // A small cache still gets the paper's 9 MiB.
        assert_eq!(default_size(Some(mib), None), 9 * mib);
        // 480 MiB of L3 but 1 GiB available: both buffers within half of it.
        assert_eq!(default_size(Some(480 * mib), Some(1 << 30)), 256 * mib);
        assert_eq!(default_size(None, None), 512 * mib);
    }

    /// The default on this machine is at least twice the LLC sysfs reports (or, if smaller,
    /// the two buffers fill half the available memory). Nothing is allocated.
    #[test]
    fn the_default_exceeds_this_machines_cache() {
        let chosen = choose(None);
        let Some(llc) = sysfs_llc(Path::new("/sys/devices/system/cpu/cpu0/cache")) else {
            eprintln!("skipped: sysfs shows no cache here");
            return;
        };
        assert_eq!(chosen.llc_bytes, Some(llc));
        assert_eq!(chosen.llc_source.as_deref(), Some("sysfs"));
        let available = chosen.mem_available_bytes.expect("MemAvailable");
        let size = chosen.size_bytes;
        assert!(2 * size <= available / 2 + (2 << 20), "{chosen:?}");
        assert!(
            size >= 2 * llc || size >= available / 4 - (1 << 20),
            "{chosen:?}"
        );
        assert_eq!(chosen.rule, "auto");
    }
}
