//! `rust-bench convert` proved by readers that share nothing with it: libvhdi's `vhdiinfo`,
//! `qemu-img check`, `qemu-img convert` back to raw (compared byte for byte with `cmp`), and
//! `qemu-img compare`; then rust-bench's own `pull`, which must find the files mtools put in.
//!
//! Needs: sfdisk (fdisk), mkfs.vfat (dosfstools), mcopy (mtools), qemu-img (qemu-utils),
//! vhdiinfo (libvhdi-utils), cmp (diffutils). Without them these tests say so loudly and pass
//! without checking anything, except under `HVRT_E2E_REQUIRED=1` (set by `make test`), where
//! that is a failure.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TOOLS: [&str; 6] = [
    "sfdisk",
    "mkfs.vfat",
    "mcopy",
    "qemu-img",
    "vhdiinfo",
    "cmp",
];

fn have_tools() -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let missing: Vec<&str> = TOOLS
        .iter()
        .copied()
        .filter(|t| !std::env::split_paths(&path).any(|d| d.join(t).is_file()))
        .collect();
    if missing.is_empty() {
        return true;
    }
    let install = "apt-get install fdisk dosfstools mtools qemu-utils libvhdi-utils diffutils";
    assert!(
        std::env::var_os("HVRT_E2E_REQUIRED").is_none_or(|v| v != "1"),
        "HVRT_E2E_REQUIRED=1 but {} missing ({install})",
        missing.join(", ")
    );
    eprintln!(
        "\n*** SKIPPED: convert tests need {} ({install}) ***\n",
        missing.join(", ")
    );
    false
}

/// Run a shell script in `dir`; its output, which must be a success.
fn sh(script: &str, dir: &Path) -> String {
    let o = Command::new("sh")
        .arg("-ec")
        .arg(script)
        .current_dir(dir)
        .output()
        .expect("run sh");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{script}\n{text}");
    text
}

fn convert(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rust-bench"))
        .arg("convert")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run rust-bench")
}

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("convert")
        .join(name);
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// Both files, checked by every independent reader, and converted back to `raw` byte for byte.
fn check_written(dir: &Path, raw: &str, size: u64) {
    let vhd = sh("vhdiinfo disk.vhd", dir);
    assert!(
        vhd.contains("Fixed") && vhd.contains(&format!("({size} bytes)")),
        "{vhd}"
    );
    let vhdx = sh("vhdiinfo disk.vhdx", dir);
    assert!(
        vhdx.contains("VHDX") && vhdx.contains(&format!("({size} bytes)")),
        "{vhdx}"
    );
    // qemu-img checks only VHDX (it has no check for VHD); its view of both must match.
    let check = sh("qemu-img check -f vhdx disk.vhdx", dir);
    assert!(check.contains("No errors were found"), "{check}");
    let info = sh("qemu-img info -f vpc disk.vhd", dir);
    assert!(info.contains(&format!("({size} bytes)")), "{info}");
    sh(
        &format!(
            "qemu-img convert -f vpc -O raw disk.vhd back-vhd.img
             qemu-img convert -f vhdx -O raw disk.vhdx back-vhdx.img
             cmp {raw} back-vhd.img
             cmp {raw} back-vhdx.img
             # A fixed VHD is the disk itself, then its footer.
             cmp -n {size} {raw} disk.vhd
             test $(stat -c %s disk.vhd) -eq $(({size} + 512))"
        ),
        dir,
    );
}

#[test]
fn written_images_pass_the_independent_readers_and_pull() {
    if !have_tools() {
        return;
    }
    let dir = scratch("hvrt");
    // The hvrt layout (MBR, FAT32 from 1 MiB) with a run in results/, a disk size that is no
    // whole number of blocks, and data in its last sectors.
    let mut noise = Vec::with_capacity(3_000_000);
    let mut x: u32 = 4242;
    while noise.len() < 3_000_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        noise.extend_from_slice(&x.to_le_bytes());
    }
    fs::create_dir_all(dir.join("src/results/20261130-101500")).unwrap();
    fs::write(dir.join("src/results/20261130-101500/big.bin"), &noise).unwrap();
    fs::write(
        dir.join("src/results/20261130-101500/run.json"),
        b"{\"schema\": 1}\n",
    )
    .unwrap();
    let size = 72 * 1024 * 1024 + 3 * 512;
    sh(
        &format!(
            "truncate -s {size} disk.img
             echo 'start=2048, type=c, bootable' | sfdisk -q disk.img
             mkfs.vfat -F 32 -s 1 -n HVRT --offset 2048 disk.img 72704 >/dev/null
             mcopy -s -i disk.img@@1M src/results ::
             printf 'the last sectors' | dd of=disk.img bs=512 seek=$(({size} / 512 - 1)) conv=notrunc 2>/dev/null"
        ),
        &dir,
    );
    let o = convert(
        &dir,
        &["disk.img", "--vhd", "disk.vhd", "--vhdx", "disk.vhdx"],
    );
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        said.contains("wrote disk.vhd (fixed VHD") && said.contains("wrote disk.vhdx (VHDX"),
        "{said}"
    );
    check_written(&dir, "disk.img", size);
    // The unallocated blocks are left out: the FAT and the data span a few MiB of 72.
    let vhdx_len = fs::metadata(dir.join("disk.vhdx")).unwrap().len();
    assert!(vhdx_len < 16 << 20, "VHDX of {vhdx_len} bytes");

    // rust-bench's own reader finds the run that mtools put in, in both.
    for image in ["disk.vhd", "disk.vhdx"] {
        let out = dir.join(format!("pulled-{image}"));
        let o = Command::new(env!("CARGO_BIN_EXE_rust-bench"))
            .arg("pull")
            .arg(dir.join(image))
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(
            fs::read(out.join("20261130-101500/big.bin")).unwrap(),
            noise,
            "{image}"
        );
    }
}

#[test]
fn a_disk_beyond_4_gib_has_sector_bitmap_entries_in_its_bat() {
    if !have_tools() {
        return;
    }
    // With 1 MiB blocks and 512-byte sectors, the VHDX block table holds a sector bitmap entry
    // after every 4096 payload entries: data on both sides of 4 GiB must land where readers
    // look for it. The disk is sparse; only a few blocks hold data.
    let dir = scratch("big");
    let size: u64 = (4 << 30) + (5 << 20) + 4096;
    sh(
        &format!(
            "truncate -s {size} disk.img
             for at in 0 4095 4096 4097 4100; do
                 echo \"block $at\" | dd of=disk.img bs=1M seek=$at conv=notrunc 2>/dev/null
             done
             printf end | dd of=disk.img bs=1 seek=$(({size} - 3)) conv=notrunc 2>/dev/null"
        ),
        &dir,
    );
    let o = convert(
        &dir,
        &["disk.img", "--vhdx", "disk.vhdx", "--vhd", "disk.vhd"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let check = sh("qemu-img check -f vhdx disk.vhdx", &dir);
    assert!(check.contains("No errors were found"), "{check}");
    sh(
        "qemu-img compare -f vhdx -F raw disk.vhdx disk.img
         qemu-img compare -f vpc -F raw disk.vhd disk.img",
        &dir,
    );
    let info = sh("vhdiinfo disk.vhdx", &dir);
    assert!(info.contains(&format!("({size} bytes)")), "{info}");
    // Six blocks of data after the 4 MiB of headers, log, BAT and metadata.
    let len = fs::metadata(dir.join("disk.vhdx")).unwrap().len();
    assert_eq!(len, (4 + 6) << 20);
}

#[test]
fn destinations_are_checked_before_anything_is_written() {
    let dir = scratch("refusals");
    fs::write(dir.join("disk.img"), vec![0u8; 1 << 20]).unwrap();
    fs::write(dir.join("odd.img"), vec![1u8; 1000]).unwrap();
    fs::write(dir.join("old.vhdx"), b"keep me").unwrap();
    let refused = |args: &[&str], needle: &str| {
        let o = convert(&dir, args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    };
    refused(
        &["disk.img", "--vhd", "new.vhd", "--vhdx", "old.vhdx"],
        "old.vhdx: already exists; remove it, or pass --force",
    );
    refused(
        &["disk.img", "--vhd", "no/such/dir/x.vhd"],
        "does not exist",
    );
    refused(&["disk.img"], "give --vhd OUT.vhd and/or --vhdx OUT.vhdx");
    refused(
        &["odd.img", "--vhd", "odd.vhd"],
        "not a whole number of 512-byte sectors",
    );
    refused(
        &["disk.img", "--vhd", "disk.img", "--force"],
        "is the disk being converted",
    );
    refused(
        &["disk.img", "--vhd", "x", "--vhdx", "./x"],
        "name the same file",
    );
    refused(&["missing.img", "--vhd", "m.vhd"], "no such file");
    assert!(!dir.join("new.vhd").exists(), "nothing may be written");
    assert_eq!(fs::read(dir.join("old.vhdx")).unwrap(), b"keep me");
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // --force replaces, and the result is a VHDX.
    let o = convert(&dir, &["disk.img", "--vhdx", "old.vhdx", "--force"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(&fs::read(dir.join("old.vhdx")).unwrap()[..8], b"vhdxfile");
}
