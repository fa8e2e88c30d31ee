//! `rust-bench pull` on real images made here with the usual tools (sfdisk, mkfs.vfat,
//! mtools, qemu-img), compared file by file with what mtools extracts; and on truncated,
//! corrupted and foreign images, which must give one clear line and never a panic.
//!
//! Needs: sfdisk (fdisk), mkfs.vfat (dosfstools), mmd/mcopy (mtools), qemu-img (qemu-utils).
//! Without them these tests say so loudly and pass without checking anything, except under
//! `HVRT_E2E_REQUIRED=1` (set by `make test`, after `make e2e`), where that is a failure.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const TOOLS: [&str; 5] = ["sfdisk", "mkfs.vfat", "mmd", "mcopy", "qemu-img"];

fn have_tools() -> bool {
    let missing: Vec<&str> = TOOLS
        .iter()
        .copied()
        .filter(|t| {
            !std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .any(|d| d.join(t).is_file())
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        !e2e_required(),
        "HVRT_E2E_REQUIRED=1 but {} missing (apt-get install fdisk dosfstools mtools qemu-utils)",
        missing.join(", ")
    );
    eprintln!(
        "\n*** SKIPPED: pull image tests need {} (apt-get install fdisk dosfstools mtools qemu-utils) ***\n",
        missing.join(", ")
    );
    false
}

/// `make test` runs these after `make e2e`: there, a missing tool or image is a failure.
fn e2e_required() -> bool {
    std::env::var_os("HVRT_E2E_REQUIRED").is_some_and(|v| v == "1")
}

fn sh(script: &str, dir: &Path) {
    let o = Command::new("sh")
        .arg("-ec")
        .arg(script)
        .current_dir(dir)
        .output()
        .expect("run sh");
    assert!(
        o.status.success(),
        "{script}\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn rust_bench(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rust-bench"))
        .args(args)
        .output()
        .expect("run rust-bench")
}

/// Files under `root`, relative path -> bytes.
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    fs::read(&p).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// A fresh, empty directory under the test's scratch area.
fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("pull")
        .join(name);
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// Shared images, made once: the hvrt layout (MBR, FAT32 with 512-byte clusters from 1 MiB,
/// label HVRT) with two run directories, in every container format; plus small FAT16 copies
/// for the corruption tests.
struct Images {
    dir: PathBuf,
}

fn images() -> Option<&'static Images> {
    static IMAGES: OnceLock<Option<Images>> = OnceLock::new();
    IMAGES
        .get_or_init(|| {
            if !have_tools() {
                return None;
            }
            let dir = scratch("images");
            // Contents: JSON like a run's, a file spanning many clusters and several VHD
            // blocks, a long name with spaces, an empty file, a nested directory.
            let mut big = Vec::with_capacity(5_000_000);
            let mut x: u32 = 12345;
            while big.len() < 5_000_000 {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                big.extend_from_slice(&x.to_le_bytes());
            }
            let src = dir.join("src/results");
            fs::create_dir_all(src.join("20261127-100000")).unwrap();
            fs::create_dir_all(src.join("20261127-110000-2/more")).unwrap();
            fs::write(
                src.join("20261127-100000/run.json"),
                b"{\"schema\": 1, \"status\": \"complete\"}\n",
            )
            .unwrap();
            fs::write(
                src.join("20261127-100000/clock-tick.json"),
                b"{\"schema\": 1, \"test\": \"clock-tick\"}\n",
            )
            .unwrap();
            fs::write(src.join("20261127-110000-2/big.bin"), &big).unwrap();
            fs::write(
                src.join("20261127-110000-2/a long file name with spaces.txt"),
                b"hello\r\n",
            )
            .unwrap();
            fs::write(src.join("20261127-110000-2/empty"), b"").unwrap();
            fs::write(
                src.join("20261127-110000-2/more/report.html"),
                b"<!DOCTYPE html>",
            )
            .unwrap();
            sh(
                "truncate -s 72M disk.img
                 echo 'start=2048, type=c, bootable' | sfdisk -q disk.img
                 mkfs.vfat -F 32 -s 1 -n HVRT --offset 2048 disk.img 72704 >/dev/null
                 mcopy -s -i disk.img@@1M src/results ::
                 qemu-img convert -O vpc -o subformat=fixed,force_size=on disk.img fixed.vhd
                 qemu-img convert -O vpc disk.img dynamic.vhd
                 qemu-img convert -O vhdx disk.img disk.vhdx
                 mkdir mtools && mcopy -s -n -i disk.img@@1M ::results mtools/
                 # Small FAT16 images for the corruption tests.
                 truncate -s 8M small.img
                 echo 'start=2048, type=6' | sfdisk -q small.img
                 mkfs.vfat -F 16 -s 1 -n HVRT --offset 2048 small.img 7168 >/dev/null
                 mmd -i small.img@@1M ::results ::results/r1
                 mcopy -i small.img@@1M src/results/20261127-100000/run.json ::results/r1/
                 mcopy -i small.img@@1M src/results/20261127-110000-2/big.bin ::results/r1/
                 qemu-img convert -O vpc -o subformat=fixed,force_size=on small.img small-fixed.vhd
                 qemu-img convert -O vpc small.img small-dynamic.vhd
                 qemu-img convert -O vhdx small.img small.vhdx",
                &dir,
            );
            Some(Images { dir })
        })
        .as_ref()
}

#[test]
fn every_container_gives_what_mtools_extracts() {
    let Some(img) = images() else { return };
    let expected = tree(&img.dir.join("mtools/results"));
    assert_eq!(expected.len(), 6, "{:?}", expected.keys());
    for name in ["disk.img", "fixed.vhd", "dynamic.vhd", "disk.vhdx"] {
        let image = img.dir.join(name);
        let out = scratch(&format!("out-{name}"));
        let o = rust_bench(&[Path::new("pull"), &image, &out]);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let said = String::from_utf8_lossy(&o.stdout);
        assert!(
            said.contains("pulled 2 runs") && said.contains("6 new files"),
            "{said}"
        );
        assert!(
            tree(&out) == expected,
            "{name}: pulled files differ from mtools' extraction"
        );

        // The container reader checked independently: qemu-img's raw conversion of this very
        // file, extracted by mtools, must match too.
        let check = scratch(&format!("check-{name}"));
        sh(
            &format!(
                "qemu-img convert -O raw '{}' raw.img && mkdir x && mcopy -s -n -i raw.img@@1M ::results x/",
                image.display()
            ),
            &check,
        );
        assert!(
            tree(&check.join("x/results")) == expected,
            "{name}: qemu-img's view differs"
        );
    }
    // Empty run directories come along too.
    let out = scratch("out-dirs");
    assert!(
        rust_bench(&[Path::new("pull"), &img.dir.join("small.img"), &out])
            .status
            .success()
    );
    assert!(out.join("r1").is_dir());
}

#[test]
fn a_bare_fat_file_system_without_partition_table() {
    let Some(img) = images() else { return };
    let dir = scratch("bare-fat");
    sh(
        &format!(
            "mkfs.vfat -C bare.img 4096 >/dev/null && mmd -i bare.img ::results ::results/r && mcopy -i bare.img '{}' ::results/r/run.json",
            img.dir
                .join("src/results/20261127-100000/run.json")
                .display()
        ),
        &dir,
    );
    let out = dir.join("out");
    let o = rust_bench(&[Path::new("pull"), &dir.join("bare.img"), &out]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        fs::read(out.join("r/run.json")).unwrap(),
        fs::read(img.dir.join("src/results/20261127-100000/run.json")).unwrap()
    );
}

/// A GPT disk as the image that boots under BIOS and UEFI has it: an EFI system partition
/// (FAT, with a results/ directory of its own to tell them apart) before the partition
/// labelled HVRT. pull must take the one labelled HVRT, and qemu-img's VHDX of it too.
#[test]
fn a_gpt_disk_with_an_efi_system_partition() {
    let Some(img) = images() else { return };
    let dir = scratch("gpt-esp");
    sh(
        &format!(
            "truncate -s 48M gpt.img
             printf 'start=2048, size=16384, type=U\\nstart=18432, size=75776, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\\n' |
                 sfdisk -q --label gpt gpt.img
             mkfs.vfat -F 16 -s 1 -n EFI --offset 2048 gpt.img 8192 >/dev/null
             mmd -i gpt.img@@1M ::results ::results/not-this-one
             mkfs.vfat -F 32 -s 1 -n HVRT --offset 18432 gpt.img 37888 >/dev/null
             mcopy -s -i gpt.img@@9M '{}' ::
             qemu-img convert -O vhdx gpt.img gpt.vhdx",
            img.dir.join("src/results").display()
        ),
        &dir,
    );
    let expected = tree(&img.dir.join("mtools/results"));
    for name in ["gpt.img", "gpt.vhdx"] {
        let out = dir.join(format!("out-{name}"));
        let o = rust_bench(&[Path::new("pull"), &dir.join(name), &out]);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("FAT volume HVRT"),
            "{name}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        assert!(tree(&out) == expected, "{name}: pulled files differ");
    }
}

#[test]
fn pulling_again_merges_and_never_overwrites_silently() {
    let Some(img) = images() else { return };
    let image = img.dir.join("fixed.vhd");
    let out = scratch("merge");
    let first = rust_bench(&[Path::new("pull"), &image, &out]);
    assert!(first.status.success());

    // Same image again: nothing new, nothing replaced.
    let again = rust_bench(&[Path::new("pull"), &image, &out]);
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("0 new files, 6 unchanged, 0 replaced")
    );

    // A local change and a local deletion: refused as a whole, nothing touched.
    let changed = out.join("20261127-100000/run.json");
    let deleted = out.join("20261127-110000-2/empty");
    fs::write(&changed, b"edited").unwrap();
    fs::remove_file(&deleted).unwrap();
    let refused = rust_bench(&[Path::new("pull"), &image, &out]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("differs from the image's copies") && err.contains("--overwrite"),
        "{err}"
    );
    assert_eq!(fs::read(&changed).unwrap(), b"edited");
    assert!(
        !deleted.exists(),
        "nothing may be copied when a file conflicts"
    );

    let forced = Command::new(env!("CARGO_BIN_EXE_rust-bench"))
        .arg("pull")
        .arg(&image)
        .arg(&out)
        .arg("--overwrite")
        .output()
        .unwrap();
    assert!(forced.status.success());
    assert!(
        String::from_utf8_lossy(&forced.stdout).contains("1 new file, 4 unchanged, 1 replaced")
    );
    assert_eq!(tree(&out), tree(&img.dir.join("mtools/results")));

    // Another run appearing later merges in beside the old ones.
    let other = scratch("merge-other");
    sh(
        &format!(
            "cp '{}' d.img && mmd -i d.img@@1M ::results/20261128-090000",
            img.dir.join("disk.img").display()
        ),
        &other,
    );
    let merged = rust_bench(&[Path::new("pull"), &other.join("d.img"), &out]);
    assert!(
        merged.status.success(),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    assert!(out.join("20261128-090000").is_dir() && out.join("20261127-100000/run.json").is_file());
}

/// A failing pull: exit status 2, one line on stderr that names the image, no panic.
fn assert_clear_failure(o: &Output, what: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{what}: {err}");
    assert_eq!(o.status.code(), Some(2), "{what}: {err}");
    assert_eq!(err.lines().count(), 1, "{what}: {err}");
    assert!(err.starts_with("rust-bench: error: "), "{what}: {err}");
}

#[test]
fn foreign_and_garbage_inputs_are_refused_clearly() {
    let Some(img) = images() else { return };
    let dir = scratch("foreign");
    let mut noise = vec![0u8; 3 << 20];
    let mut x: u64 = 99;
    for b in noise.iter_mut() {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        *b = (x >> 56) as u8;
    }
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("noise.img", noise.clone(), "not an hvrt image"),
        ("noise.vhd", noise.clone(), "no VHD footer"),
        ("noise.vhdx", noise.clone(), "no VHDX signature"),
        ("zeros.img", vec![0u8; 1 << 20], "not an hvrt image"),
        ("tiny.img", b"hello".to_vec(), "too small"),
        (
            "text.img",
            b"just some text\n".repeat(100),
            "not an hvrt image",
        ),
    ];
    for (name, bytes, needle) in cases {
        let path = dir.join(name);
        fs::write(&path, bytes).unwrap();
        let o = rust_bench(&[Path::new("pull"), &path, &dir.join("out")]);
        assert_clear_failure(&o, name);
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(needle),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    sh(
        "truncate -s 4M gpt.img && echo 'start=2048, type=L' | sfdisk -q --label gpt gpt.img
         truncate -s 4M linux.img && echo 'start=2048, type=83' | sfdisk -q linux.img
         truncate -s 8M nores.img && echo 'start=2048, type=6' | sfdisk -q nores.img
         mkfs.vfat -F 16 -s 1 -n OTHER --offset 2048 nores.img 7168 >/dev/null",
        &dir,
    );
    for (name, needle) in [
        ("gpt.img", "GPT"),
        (
            "linux.img",
            "no FAT partition on the disk (partition types 0x83)",
        ),
        (
            "nores.img",
            "FAT volume \"OTHER\" has no results/ directory",
        ),
        ("missing.img", "no such file"),
    ] {
        let o = rust_bench(&[Path::new("pull"), &dir.join(name), &dir.join("out")]);
        assert_clear_failure(&o, name);
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(needle),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert!(!dir.join("out").exists(), "a failed pull writes nothing");
    let _ = img;
}

/// The first cluster of a file on the FAT volume at 1 MiB of `image`, as mtools sees it
/// (`mshowfat` prints `::/path <first-last ...>`), and the end of its first run.
fn first_clusters(image: &Path, file: &str) -> (u64, u64) {
    let o = Command::new("mshowfat")
        .arg("-i")
        .arg(format!("{}@@1M", image.display()))
        .arg(format!("::{file}"))
        .output()
        .expect("run mshowfat");
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    let run = text
        .split('<')
        .nth(1)
        .and_then(|r| r.split([' ', '>']).next())
        .unwrap_or_else(|| panic!("mshowfat {file}: {text}"));
    let (a, b) = run.split_once('-').unwrap_or((run, run));
    (a.parse().unwrap(), b.parse().unwrap())
}

/// Set FAT entry `cluster` to `value` in every FAT of the volume at 1 MiB.
fn set_fat_entry(bytes: &mut [u8], entry_bytes: usize, cluster: u64, value: u32) {
    let boot = 1 << 20;
    let le16 = |at: usize| u16::from_le_bytes([bytes[boot + at], bytes[boot + at + 1]]) as usize;
    let sector = le16(11);
    let reserved = le16(14);
    let fats = bytes[boot + 16] as usize;
    let fat_sectors = match le16(22) {
        0 => u32::from_le_bytes(bytes[boot + 36..boot + 40].try_into().unwrap()) as usize,
        n => n,
    };
    for i in 0..fats {
        let at = boot + (reserved + i * fat_sectors) * sector + cluster as usize * entry_bytes;
        bytes[at..at + entry_bytes].copy_from_slice(&value.to_le_bytes()[..entry_bytes]);
    }
}

#[test]
fn looping_and_out_of_range_cluster_chains_are_refused() {
    let Some(img) = images() else { return };
    let dir = scratch("chains");
    // (image, FAT entry size, file, which entry of its chain, new value or None: back to
    // the chain's first cluster, what the error must say)
    type Case<'a> = (&'a str, usize, &'a str, u64, Option<u32>, &'a str);
    let cases: [Case; 5] = [
        (
            "small.img",
            2,
            "results/r1/big.bin",
            2,
            None,
            "loops back to cluster",
        ),
        (
            "small.img",
            2,
            "results/r1/big.bin",
            2,
            Some(0xFFF0),
            "outside the volume's clusters",
        ),
        (
            "small.img",
            2,
            "results/r1/run.json",
            0,
            None,
            "loops back to cluster",
        ),
        (
            "disk.img",
            4,
            "results/20261127-110000-2/big.bin",
            7,
            None,
            "loops back to cluster",
        ),
        (
            "disk.img",
            4,
            "results/20261127-100000/run.json",
            0,
            Some(0x00FF_FFFF),
            "outside the volume's clusters",
        ),
    ];
    for (i, (source, entry_bytes, file, step, value, needle)) in cases.into_iter().enumerate() {
        let (first, last) = first_clusters(&img.dir.join(source), file);
        assert!(
            first + step <= last,
            "{file}: chain {first}-{last} is not contiguous enough"
        );
        let mut bytes = fs::read(img.dir.join(source)).unwrap();
        set_fat_entry(
            &mut bytes,
            entry_bytes,
            first + step,
            value.unwrap_or(first as u32),
        );
        let image = dir.join(format!("case{i}.img"));
        fs::write(&image, &bytes).unwrap();
        let out = dir.join(format!("out{i}"));
        let o = rust_bench(&[Path::new("pull"), &image, &out]);
        let what = format!("{source} {file} entry {step} -> {value:?}");
        assert_clear_failure(&o, &what);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(file) && err.contains(needle), "{what}: {err}");
        assert!(!out.exists(), "{what}: a refused pull copies nothing");
    }
}

#[test]
fn truncated_and_corrupted_images_never_panic() {
    let Some(img) = images() else { return };
    let dir = scratch("damaged");
    let mut x: u64 = 7;
    let mut next = || {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        x >> 33
    };
    let mut ran = 0;
    for name in [
        "small.img",
        "small-fixed.vhd",
        "small-dynamic.vhd",
        "small.vhdx",
    ] {
        let original = fs::read(img.dir.join(name)).unwrap();
        let len = original.len();
        let mut variants: Vec<Vec<u8>> = Vec::new();
        for cut in [
            1usize,
            511,
            4096,
            65_536,
            200_000,
            1 << 20,
            len / 2,
            len - 512,
            len - 1,
        ] {
            if cut < len {
                variants.push(original[..cut].to_vec());
            }
        }
        // Corrupt bytes where the structures are: MBR and VHD footer copy / dynamic header /
        // BAT (start), VHD footer (end), VHDX headers, region tables and metadata, and the FAT
        // boot sector, FATs and root directory of the raw and fixed images (from 1 MiB).
        let hot = [
            (0, 4096),
            (len - 512, 512),
            (64 << 10, 4096),
            (128 << 10, 4096),
            (192 << 10, 64 << 10),
            (256 << 10, 64 << 10),
            (1 << 20, 160 << 10),
            (2 << 20, 64 << 10),
        ];
        for round in 0..32 {
            let mut v = original.clone();
            for _ in 0..(1 + round % 6) {
                let (start, span) = hot[next() as usize % hot.len()];
                let at = (start + next() as usize % span).min(len - 1);
                match round % 4 {
                    0 => v[at] ^= 1 << (next() % 8),
                    1 => v[at] = next() as u8,
                    2 => {
                        let page = at & !4095;
                        v[page..(page + 4096).min(len)].fill(0);
                    }
                    _ => {
                        let end = (at + 4).min(len);
                        v[at..end].fill(0xFF);
                    }
                }
            }
            variants.push(v);
        }
        for (i, v) in variants.iter().enumerate() {
            let ext = Path::new(name).extension().unwrap().to_str().unwrap();
            let path = dir.join(format!("v{i}.{ext}"));
            fs::write(&path, v).unwrap();
            let out = dir.join(format!("out-{name}-{i}"));
            let o = rust_bench(&[Path::new("pull"), &path, &out]);
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(!err.contains("panicked"), "{name} variant {i}: {err}");
            match o.status.code() {
                Some(0) => {}
                Some(2) => assert_eq!(err.lines().count(), 1, "{name} variant {i}: {err}"),
                other => panic!("{name} variant {i}: exit {other:?}: {err}"),
            }
            ran += 1;
        }
    }
    assert!(ran > 140);
}

/// The images the end-to-end test booted (`make e2e` leaves them in output/e2e/<variant>/),
/// when they are there: pull from each VHD and VHDX must give what mtools extracts from
/// qemu-img's raw conversion of the same file, and every pulled run must report.
#[test]
fn end_to_end_images_when_present() {
    if !have_tools() {
        return;
    }
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("../output/e2e");
    // output/e2e/<variant>/hvrt-<variant>.vhd and .vhdx, and those of a boot under other
    // firmware, output/e2e/<variant>/<firmware>/hvrt-<variant>.vhdx.
    let mut images = Vec::new();
    let mut dirs: Vec<PathBuf> = Vec::new();
    for variant in fs::read_dir(&e2e).into_iter().flatten().flatten() {
        dirs.push(variant.path());
        dirs.extend(
            fs::read_dir(variant.path())
                .into_iter()
                .flatten()
                .flatten()
                .map(|d| d.path()),
        );
    }
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        for e in fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with("hvrt-") && (name.ends_with(".vhd") || name.ends_with(".vhdx")) {
                images.push(e.path());
            }
        }
    }
    images.sort();
    if images.is_empty() {
        assert!(
            !e2e_required(),
            "HVRT_E2E_REQUIRED=1 but no end-to-end images in {}; run make e2e first",
            e2e.display()
        );
        eprintln!(
            "note: no end-to-end images in {} (make e2e makes them); nothing to check",
            e2e.display()
        );
        return;
    }
    let mut with_results = 0;
    for image in images {
        let name = image
            .strip_prefix(&e2e)
            .unwrap()
            .to_string_lossy()
            .replace('/', "-");
        let out = scratch(&format!("e2e-{name}"));
        let o = rust_bench(&[Path::new("pull"), &image, &out.join("pulled")]);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        sh(
            &format!(
                "qemu-img convert -O raw '{}' raw.img && mkdir mtools && mcopy -s -n -i raw.img@@1M ::results mtools/ && rm raw.img",
                image.display()
            ),
            &out,
        );
        let expected = tree(&out.join("mtools/results"));
        if expected.is_empty() {
            // Not booted (e.g. the VHDX beside the booted VHD): nothing pulled, nothing made.
            assert!(
                !out.join("pulled").exists(),
                "{name}: pulled files from an empty results/"
            );
            continue;
        }
        with_results += 1;
        assert!(
            tree(&out.join("pulled")) == expected,
            "{name}: pull differs from mtools"
        );
        let r = Command::new(env!("CARGO_BIN_EXE_rust-bench"))
            .arg("report")
            .arg(out.join("pulled"))
            .output()
            .unwrap();
        assert!(
            r.status.success(),
            "{name}: report: {}",
            String::from_utf8_lossy(&r.stderr)
        );
    }
    assert!(
        with_results > 0,
        "none of the end-to-end images holds results"
    );
}
