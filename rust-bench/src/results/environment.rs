//! The `environment` object of the results: what the machine looked like during a run
//! (collected by the platform layer, `platform/environment.rs`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    /// PRETTY_NAME from /etc/os-release (the distribution or image); null when absent.
    #[serde(default)]
    pub os_release: Option<String>,
    /// How the machine booted: UEFI (Linux shows /sys/firmware/efi) or BIOS. On Hyper-V this
    /// is the VM's generation: Generation 1 boots through BIOS, Generation 2 through UEFI.
    /// null in results written before it was recorded.
    #[serde(default)]
    pub firmware: Option<Firmware>,
    /// UEFI Secure Boot, from the firmware's SecureBoot variable (through efivarfs); null
    /// under BIOS, or where the variable cannot be read (efivarfs not mounted).
    #[serde(default)]
    pub secure_boot: Option<bool>,
    /// /proc/cmdline.
    pub cmdline: Option<String>,
    pub rt_throttling: Throttling,
    /// /proc/config.gz as {"CONFIG_X": "y"|"m"|value}; options that are not set are absent;
    /// null when the kernel does not provide /proc/config.gz.
    pub kernel_config: Option<BTreeMap<String, String>>,
}

/// The firmware that booted the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Firmware {
    #[serde(rename = "UEFI")]
    Uefi,
    #[serde(rename = "BIOS")]
    Bios,
}

impl Firmware {
    pub fn as_str(self) -> &'static str {
        match self {
            Firmware::Uefi => "UEFI",
            Firmware::Bios => "BIOS",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Kernel {
    pub release: Option<String>,
    pub version: Option<String>,
    /// The version string contains "PREEMPT_RT" (or /sys/kernel/realtime says 1).
    pub preempt_rt: bool,
    pub machine: Option<String>,
}

/// The RT throttling settings in force: `rt_throttling` in the environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Throttling {
    /// -1 means unlimited (throttling off); null when unreadable.
    pub sched_rt_runtime_us: Option<i64>,
    pub sched_rt_period_us: Option<i64>,
    /// Per-CPU fair_server dl-server (Linux >= 6.12), from debugfs; null when not readable
    /// (no such kernel feature, or debugfs not mounted).
    pub fair_server: Option<BTreeMap<String, FairServer>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FairServer {
    pub runtime_ns: Option<u64>,
    pub period_ns: Option<u64>,
}
