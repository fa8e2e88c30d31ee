//! What the machine looked like during a run: kernel, hypervisor, clock, RT throttling,
//! kernel configuration. Every field is read-only information; missing data becomes null.

use std::collections::BTreeMap;
use std::io::Read;

use serde::Serialize;

use crate::platform::rt::Throttling;

#[derive(Clone, Debug, Serialize)]
pub struct Environment {
    pub kernel: Kernel,
    /// CPUID hypervisor vendor (leaf 0x4000_0000), e.g. "Microsoft Hv", "KVMKVMKVM";
    /// null when CPUID's hypervisor bit is clear (bare metal, or a hidden hypervisor).
    pub hypervisor: Option<String>,
    /// Whether /sys/bus/vmbus exists (Hyper-V VMBus driver present).
    pub vmbus: bool,
    /// Current clocksource (/sys/devices/system/clocksource/clocksource0/current_clocksource).
    pub clocksource: Option<String>,
    pub cpu_model: Option<String>,
    /// CPUID 0x8000_0007 EDX bit 8.
    pub invariant_tsc: bool,
    /// Online CPUs as a kernel CPU list ("0-3").
    pub cpus_online: Option<String>,
    pub hostname: Option<String>,
    /// /proc/cmdline.
    pub cmdline: Option<String>,
    pub rt_throttling: Throttling,
    /// /proc/config.gz as {"CONFIG_X": "y"|"m"|value}; options that are not set are absent;
    /// null when the kernel does not provide /proc/config.gz.
    pub kernel_config: Option<BTreeMap<String, String>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Kernel {
    pub release: Option<String>,
    pub version: Option<String>,
    /// The version string contains "PREEMPT_RT" (or /sys/kernel/realtime says 1).
    pub preempt_rt: bool,
    pub machine: Option<String>,
}

fn read_trim(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Collect the environment. Cheap (a few file reads and /proc/config.gz decompression).
pub fn collect() -> Environment {
    let (release, version, machine) = uname();
    let preempt_rt = version.as_deref().is_some_and(|v| v.contains("PREEMPT_RT"))
        || read_trim("/sys/kernel/realtime").as_deref() == Some("1");
    Environment {
        kernel: Kernel {
            release,
            version,
            preempt_rt,
            machine,
        },
        hypervisor: hypervisor(),
        vmbus: std::path::Path::new("/sys/bus/vmbus").exists(),
        clocksource: read_trim("/sys/devices/system/clocksource/clocksource0/current_clocksource"),
        cpu_model: cpu_model(),
        invariant_tsc: crate::platform::tsc::invariant_tsc(),
        cpus_online: read_trim("/sys/devices/system/cpu/online"),
        hostname: read_trim("/proc/sys/kernel/hostname"),
        cmdline: read_trim("/proc/cmdline"),
        rt_throttling: Throttling::read(),
        kernel_config: kernel_config(),
    }
}

fn uname() -> (Option<String>, Option<String>, Option<String>) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: a zeroed utsname is valid; uname fills it with NUL-terminated strings.
        let mut u: libc::utsname = unsafe { std::mem::zeroed() };
        // SAFETY: `u` is valid for writes.
        if unsafe { libc::uname(&mut u) } == 0 {
            let s = |f: &[libc::c_char]| {
                let bytes: Vec<u8> = f
                    .iter()
                    .take_while(|&&c| c != 0)
                    .map(|&c| c as u8)
                    .collect();
                Some(String::from_utf8_lossy(&bytes).into_owned())
            };
            return (s(&u.release), s(&u.version), s(&u.machine));
        }
    }
    (
        read_trim("/proc/sys/kernel/osrelease"),
        read_trim("/proc/sys/kernel/version"),
        None,
    )
}

/// The CPUID hypervisor vendor string, or None when the hypervisor bit (leaf 1 ECX bit 31)
/// is clear.
pub fn hypervisor() -> Option<String> {
    #[cfg(target_arch = "x86_64")]
    {
        use crate::platform::tsc::cpuid;
        if cpuid(1)[2] & (1 << 31) == 0 {
            return None;
        }
        let r = cpuid(0x4000_0000);
        let mut bytes = Vec::with_capacity(12);
        for reg in [r[1], r[2], r[3]] {
            bytes.extend_from_slice(&reg.to_le_bytes());
        }
        let s: String = String::from_utf8_lossy(&bytes)
            .trim_end_matches('\0')
            .trim()
            .to_string();
        Some(s.replace('\0', ""))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        None
    }
}

fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

fn kernel_config() -> Option<BTreeMap<String, String>> {
    let file = std::fs::File::open("/proc/config.gz").ok()?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .ok()?;
    Some(parse_kernel_config(&text))
}

/// Parse a kernel .config: `CONFIG_X=y` lines into a map (string values unquoted);
/// comments, including "# CONFIG_X is not set", are skipped.
pub fn parse_kernel_config(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| l.starts_with("CONFIG_"))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .map(|v| v.replace("\\\"", "\"").replace("\\\\", "\\"))
                .unwrap_or_else(|| v.to_string());
            (k.trim().to_string(), v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parsing() {
        let m = parse_kernel_config(
            "#\n# comment\nCONFIG_PREEMPT_RT=y\nCONFIG_HZ=1000\n# CONFIG_HYPERV is not set\nCONFIG_LOCALVERSION=\"-rt\"\nCONFIG_E1000=m\n",
        );
        assert_eq!(m.len(), 4);
        assert_eq!(m["CONFIG_PREEMPT_RT"], "y");
        assert_eq!(m["CONFIG_HZ"], "1000");
        assert_eq!(m["CONFIG_LOCALVERSION"], "-rt");
        assert_eq!(m["CONFIG_E1000"], "m");
        assert!(!m.contains_key("CONFIG_HYPERV"));
    }

    #[test]
    fn collect_here() {
        let e = collect();
        assert!(e.kernel.release.is_some());
        let json = serde_json::to_value(&e).unwrap();
        for key in [
            "kernel",
            "hypervisor",
            "vmbus",
            "clocksource",
            "cpu_model",
            "invariant_tsc",
            "cmdline",
            "rt_throttling",
            "kernel_config",
        ] {
            assert!(json.get(key).is_some(), "{key}");
        }
    }
}
