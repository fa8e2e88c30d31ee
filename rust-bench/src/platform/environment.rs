//! What the machine looked like during a run: kernel, hypervisor, clock, RT throttling,
//! kernel configuration. Every field is read-only information; missing data becomes null.

use std::collections::BTreeMap;
use std::io::Read;

use crate::results::environment::Throttling;
pub use crate::results::environment::{Environment, Firmware, Kernel};

/// Where Linux shows what UEFI handed over; absent after a BIOS boot.
const EFI_DIR: &str = "/sys/firmware/efi";
/// UEFI's SecureBoot variable (EFI_GLOBAL_VARIABLE's GUID) in efivarfs: 4 bytes of
/// attributes, then 1 when Secure Boot is on, 0 when it is off.
const SECURE_BOOT_VARIABLE: &str =
    "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c";
/// x86's boot_params as the kernel received them (root only); its byte 0x1ec holds what the
/// EFI stub found of Secure Boot (PREEMPT_RT kernels run without UEFI's runtime services, so
/// without efivarfs).
const BOOT_PARAMS: &str = "/sys/kernel/boot_params/data";
const BOOT_PARAMS_SECURE_BOOT: usize = 0x1ec;

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
        os_release: std::fs::read_to_string("/etc/os-release")
            .ok()
            .and_then(|text| os_release_pretty_name(&text)),
        firmware: firmware(),
        secure_boot: secure_boot_state(),
        cmdline: read_trim("/proc/cmdline"),
        rt_throttling: Throttling::read(),
        kernel_config: kernel_config(),
    }
}

fn uname() -> (Option<String>, Option<String>, Option<String>) {
    #[cfg(target_os = "linux")]
    {
        if let Ok(u) = nix::sys::utsname::uname() {
            let s = |f: &std::ffi::OsStr| Some(f.to_string_lossy().into_owned());
            return (s(u.release()), s(u.version()), s(u.machine()));
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

/// UEFI when Linux was started by UEFI firmware, else BIOS (on x86, the only other way a PC
/// boots); unknown elsewhere.
fn firmware() -> Option<Firmware> {
    if std::path::Path::new(EFI_DIR).is_dir() {
        Some(Firmware::Uefi)
    } else if cfg!(target_arch = "x86_64") {
        Some(Firmware::Bios)
    } else {
        None
    }
}

/// Secure Boot's state: the SecureBoot variable's (efivarfs), else what the kernel's EFI stub
/// noted in boot_params; unknown after a BIOS boot or where neither can be read.
fn secure_boot_state() -> Option<bool> {
    if let Some(state) = std::fs::read(SECURE_BOOT_VARIABLE)
        .ok()
        .and_then(|v| secure_boot(&v))
    {
        return Some(state);
    }
    if !std::path::Path::new(EFI_DIR).is_dir() {
        return None;
    }
    std::fs::read(BOOT_PARAMS)
        .ok()
        .and_then(|p| boot_params_secure_boot(&p))
}

/// boot_params' secure_boot byte (the kernel's enum efi_secureboot_mode): 2 disabled,
/// 3 enabled; 0 (unset: the kernel was not entered through its EFI stub) and 1 (unknown)
/// say nothing.
pub fn boot_params_secure_boot(params: &[u8]) -> Option<bool> {
    match params.get(BOOT_PARAMS_SECURE_BOOT)? {
        2 => Some(false),
        3 => Some(true),
        _ => None,
    }
}

/// Secure Boot's state from the SecureBoot variable as efivarfs reads it.
pub fn secure_boot(variable: &[u8]) -> Option<bool> {
    match variable.get(4)? {
        0 => Some(false),
        1 => Some(true),
        _ => None,
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

/// PRETTY_NAME of an os-release file (quotes and backslash escapes removed).
pub fn os_release_pretty_name(text: &str) -> Option<String> {
    let value = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("PRETTY_NAME="))?
        .trim();
    let unquoted = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value);
    let mut out = String::new();
    let mut chars = unquoted.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    (!out.is_empty()).then_some(out)
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
    fn os_release_names() {
        assert_eq!(
            os_release_pretty_name("NAME=x\nPRETTY_NAME=\"Buildroot 2026.02.3\"\nID=buildroot\n"),
            Some("Buildroot 2026.02.3".to_string())
        );
        assert_eq!(
            os_release_pretty_name("PRETTY_NAME='Debian \\\"x\\\"'"),
            Some("Debian \"x\"".to_string())
        );
        assert_eq!(
            os_release_pretty_name("PRETTY_NAME=plain\n"),
            Some("plain".into())
        );
        assert_eq!(os_release_pretty_name("NAME=x\n"), None);
        assert_eq!(os_release_pretty_name("PRETTY_NAME=\"\"\n"), None);
    }

    #[test]
    fn secure_boot_variable() {
        assert_eq!(secure_boot(&[6, 0, 0, 0, 1]), Some(true));
        assert_eq!(secure_boot(&[6, 0, 0, 0, 0]), Some(false));
        assert_eq!(secure_boot(&[6, 0, 0, 0, 7]), None);
        assert_eq!(secure_boot(&[6, 0, 0, 0]), None);
        let params = |mode: u8| {
            let mut p = vec![0u8; 4096];
            p[0x1ec] = mode;
            boot_params_secure_boot(&p)
        };
        assert_eq!(params(2), Some(false));
        assert_eq!(params(3), Some(true));
        assert_eq!(params(0), None);
        assert_eq!(params(1), None);
        assert_eq!(boot_params_secure_boot(&[0u8; 16]), None);
    }

    #[test]
    fn collect_here() {
        let e = collect();
        assert!(e.kernel.release.is_some());
        // This machine's own boot, as Linux shows it.
        let efi = std::path::Path::new(EFI_DIR).is_dir();
        assert_eq!(
            e.firmware,
            Some(if efi { Firmware::Uefi } else { Firmware::Bios })
        );
        let json = serde_json::to_value(&e).unwrap();
        for key in [
            "kernel",
            "hypervisor",
            "vmbus",
            "clocksource",
            "cpu_model",
            "invariant_tsc",
            "cmdline",
            "os_release",
            "firmware",
            "secure_boot",
            "rt_throttling",
            "kernel_config",
        ] {
            assert!(json.get(key).is_some(), "{key}");
        }
    }
}
