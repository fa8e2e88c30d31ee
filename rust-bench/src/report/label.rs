//! Naming a run's environment the way the paper does: bare metal, Hyper-V emulated, Hyper-V
//! enlightened, or another hypervisor, from the CPUID hypervisor vendor, VMBus and the
//! kernel's own configuration; on Hyper-V with the VM's generation, from the firmware that
//! booted it (Generation 1: BIOS, Generation 2: UEFI).

use super::model::Run;
use crate::results::environment::{Environment, Firmware};

/// The column heading for a run: its environment's name.
pub fn environment(env: Option<&Environment>) -> String {
    let Some(env) = env else {
        return "unknown environment".to_string();
    };
    let vendor = env
        .hypervisor
        .as_deref()
        .map(|v| v.trim_matches(['\0', ' ']));
    let vmbus = env.vmbus;
    let qemu_cpu = env.cpu_model.as_deref().is_some_and(|m| m.contains("QEMU"));
    let hyperv_kernel = kernel_option(env, "CONFIG_HYPERV");
    let guest_kernel = kernel_option(env, "CONFIG_HYPERVISOR_GUEST");
    let generation = match env.firmware {
        Some(Firmware::Bios) => ", Generation 1",
        Some(Firmware::Uefi) => ", Generation 2",
        None => "",
    };
    let enlightened = format!("Hyper-V enlightened{generation}");
    let name = match vendor {
        None if vmbus => return enlightened,
        // No hypervisor bit, yet QEMU's own CPU model: an emulator that does not say so.
        None if qemu_cpu => "QEMU".to_string(),
        None => return "bare metal".to_string(),
        // The hypervisor bit is set but the vendor leaf is empty.
        Some("") if vmbus => return enlightened,
        Some("") => "unknown hypervisor".to_string(),
        Some("Microsoft Hv") => {
            // Enlightened: the guest talks to Hyper-V (VMBus up, or at least a kernel built
            // for it). Emulated: a kernel without Hyper-V support sees only emulated devices.
            return if vmbus || hyperv_kernel == Some(true) {
                enlightened
            } else {
                format!("Hyper-V emulated{generation}")
            };
        }
        Some(other) => hypervisor_name(other),
    };
    // Under another hypervisor (QEMU in the end-to-end test), name the image's kernel flavour
    // when it is one of the two this project builds.
    match (hyperv_kernel, guest_kernel) {
        (Some(true), _) => format!("{name}, enlightened kernel"),
        (Some(false), Some(false)) => format!("{name}, emulated kernel"),
        _ => name,
    }
}

/// Labels for a set of runs: the `--label` values when given (one per run, checked by the
/// caller), else environment names (with the plan's `label`, when it has one, after a
/// colon). Runs that share a name are told apart by the directory holding them when those
/// differ (e.g. `s1-enlightened/`, `s3-enlightened/` as Get-HvrtResults.ps1 lays them out),
/// else by run id.
pub fn for_runs(runs: &[Run], given: &[String]) -> Vec<String> {
    if !given.is_empty() {
        return given.to_vec();
    }
    let original: Vec<String> = runs
        .iter()
        .map(|run| {
            let env = environment(run.environment.as_ref());
            match run.record.as_ref().and_then(|r| r.label.as_ref()) {
                Some(label) => format!("{env}: {}", label.0),
                None => env,
            }
        })
        .collect();
    let mut labels = original.clone();
    for (i, label) in labels.iter_mut().enumerate() {
        let twins: Vec<usize> = (0..runs.len())
            .filter(|&j| original[j] == original[i])
            .collect();
        if twins.len() < 2 {
            continue;
        }
        let parents: Vec<Option<String>> = twins.iter().map(|&j| parent_name(&runs[j])).collect();
        let distinct = parents.iter().all(Option::is_some)
            && parents
                .iter()
                .enumerate()
                .all(|(a, p)| parents.iter().skip(a + 1).all(|q| q != p));
        *label = match parent_name(&runs[i]) {
            Some(parent) if distinct => format!("{label} ({parent})"),
            _ => format!("{label} ({})", runs[i].id),
        };
    }
    labels
}

/// The name of the directory holding a run directory.
fn parent_name(run: &Run) -> Option<String> {
    let dir = run.dir.canonicalize().unwrap_or_else(|_| run.dir.clone());
    Some(dir.parent()?.file_name()?.to_string_lossy().into_owned())
}

/// `Some(true)` if the kernel option is `y` or `m`, `Some(false)` if the kernel config is
/// known and lacks it, `None` if the kernel config was not recorded.
fn kernel_option(env: &Environment, option: &str) -> Option<bool> {
    let config = env.kernel_config.as_ref()?;
    Some(matches!(
        config.get(option).map(String::as_str),
        Some("y") | Some("m")
    ))
}

/// Friendly names for the CPUID leaf 0x40000000 vendor strings.
fn hypervisor_name(vendor: &str) -> String {
    match vendor {
        "KVMKVMKVM" | "KVMKVMKVM\0\0\0" => "KVM".to_string(),
        "TCGTCGTCGTCG" => "QEMU (TCG)".to_string(),
        "VMwareVMware" => "VMware".to_string(),
        "XenVMMXenVMM" => "Xen".to_string(),
        "VBoxVBoxVBox" => "VirtualBox".to_string(),
        "bhyve bhyve" => "bhyve".to_string(),
        "ACRNACRNACRN" => "ACRN".to_string(),
        "lrpepyh  vr" | "prl hyperv" => "Parallels".to_string(),
        "QNXQVMBSQG" => "QNX hypervisor".to_string(),
        other => format!("hypervisor \"{}\"", other.trim_matches('\0')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixture;

    fn env(hv: Option<&str>, vmbus: bool, hyperv: Option<&str>) -> Environment {
        let mut e = fixture::environment(hv, vmbus, false);
        e.cpu_model = Some("Test CPU".into());
        if let (Some(v), Some(config)) = (hyperv, e.kernel_config.as_mut()) {
            config.insert("CONFIG_HYPERV".to_string(), v.to_string());
        }
        e
    }

    fn bare() -> Environment {
        let mut e = env(None, false, None);
        e.kernel_config = None;
        e
    }

    #[test]
    fn the_papers_three_environments() {
        assert_eq!(environment(Some(&env(None, false, None))), "bare metal");
        assert_eq!(
            environment(Some(&env(Some("Microsoft Hv"), true, Some("y")))),
            "Hyper-V enlightened"
        );
        assert_eq!(
            environment(Some(&env(Some("Microsoft Hv"), false, None))),
            "Hyper-V emulated"
        );
        // An enlightened kernel whose VMBus did not come up is still the enlightened image.
        assert_eq!(
            environment(Some(&env(Some("Microsoft Hv"), false, Some("m")))),
            "Hyper-V enlightened"
        );
    }

    #[test]
    fn hyper_v_generation_from_the_firmware() {
        let with = |firmware, hyperv: Option<&str>| {
            let mut e = env(Some("Microsoft Hv"), hyperv.is_some(), hyperv);
            e.firmware = firmware;
            environment(Some(&e))
        };
        assert_eq!(
            with(Some(Firmware::Uefi), Some("y")),
            "Hyper-V enlightened, Generation 2"
        );
        assert_eq!(
            with(Some(Firmware::Bios), Some("y")),
            "Hyper-V enlightened, Generation 1"
        );
        assert_eq!(
            with(Some(Firmware::Bios), None),
            "Hyper-V emulated, Generation 1"
        );
        // Results from before the firmware was recorded keep their name.
        assert_eq!(with(None, Some("y")), "Hyper-V enlightened");
        // Elsewhere the firmware is no generation.
        let mut qemu = env(Some("TCGTCGTCGTCG"), false, Some("y"));
        qemu.firmware = Some(Firmware::Uefi);
        assert_eq!(environment(Some(&qemu)), "QEMU (TCG), enlightened kernel");
    }

    #[test]
    fn other_hypervisors_name_the_kernel_flavour() {
        assert_eq!(
            environment(Some(&env(Some("TCGTCGTCGTCG"), false, Some("y")))),
            "QEMU (TCG), enlightened kernel"
        );
        assert_eq!(
            environment(Some(&env(Some("KVMKVMKVM"), false, None))),
            "KVM, emulated kernel"
        );
        // A general-purpose guest kernel (hypervisor support, no Hyper-V drivers): no flavour.
        let mut generic = env(Some("KVMKVMKVM"), false, None);
        generic
            .kernel_config
            .as_mut()
            .unwrap()
            .insert("CONFIG_HYPERVISOR_GUEST".into(), "y".into());
        assert_eq!(environment(Some(&generic)), "KVM");
        let no_config = Environment {
            hypervisor: Some("Odd".into()),
            ..bare()
        };
        assert_eq!(environment(Some(&no_config)), "hypervisor \"Odd\"");
        let hidden = Environment {
            hypervisor: Some(String::new()),
            ..bare()
        };
        assert_eq!(environment(Some(&hidden)), "unknown hypervisor");
        let qemu = Environment {
            cpu_model: Some("QEMU Virtual CPU version 2.5+".into()),
            ..bare()
        };
        assert_eq!(environment(Some(&qemu)), "QEMU");
        assert_eq!(environment(None), "unknown environment");
    }
}
