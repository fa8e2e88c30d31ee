//! Finding the FAT file system that holds the results on a disk: the FAT partition labelled
//! HVRT (else the first FAT partition) of an MBR or a GPT partition table, or the whole disk
//! when it holds a FAT file system without a partition table.
//!
//! An image that boots under UEFI has a GPT with two FAT partitions, the EFI system partition
//! and the results (labelled HVRT): the label tells them apart.

use std::io::{Read, Seek, SeekFrom};

use anyhow::Result;

use crate::usage;

const SECTOR: u64 = 512;
const FAT_TYPES: [u8; 6] = [0x01, 0x04, 0x06, 0x0B, 0x0C, 0x0E];
/// The MBR partition type of a protective MBR: the disk has a GPT.
const GPT_PROTECTIVE: u8 = 0xEE;
/// The volume label of the results partition (post-image.sh, hvrt-init).
const LABEL: &str = "HVRT";
/// More GPT entries than any partitioning tool writes (128 is the usual number).
const MAX_GPT_ENTRIES: u64 = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// 1 to 4 for an MBR entry, the entry's number (from 1) in a GPT, 0 for a file system
    /// spanning the whole disk.
    pub number: usize,
    pub start: u64,
    pub len: u64,
}

pub fn find_fat<D: Read + Seek>(disk: &mut D, disk_len: u64) -> Result<Partition> {
    let s = read_sector(disk, 0, "the partition table")?;
    if s[510..512] != [0x55, 0xAA] {
        usage!(
            "no partition table and no FAT file system at the start of the disk: not an hvrt image (or an empty one)"
        );
    }
    if looks_like_fat_boot_sector(&s) {
        return Ok(Partition {
            number: 0,
            start: 0,
            len: disk_len,
        });
    }
    let entries = mbr_entries(&s)?;
    let candidates = if entries.iter().any(|e| e.kind == GPT_PROTECTIVE) {
        gpt_fat_partitions(disk, disk_len)?
    } else {
        mbr_fat_partitions(&entries, disk_len)?
    };
    // The results partition by its label; else the first FAT partition, as before labels.
    for p in &candidates {
        if let Ok(boot) = read_sector(disk, p.start, "a partition")
            && looks_like_fat_boot_sector(&boot)
            && boot_sector_label(&boot) == LABEL
        {
            return Ok(p.clone());
        }
    }
    Ok(candidates[0].clone())
}

struct MbrEntry {
    kind: u8,
    start_lba: u32,
    sectors: u32,
}

fn mbr_entries(s: &[u8; 512]) -> Result<Vec<MbrEntry>> {
    let mut out = Vec::new();
    for i in 0..4 {
        let e = &s[446 + i * 16..446 + (i + 1) * 16];
        let status = e[0];
        if status != 0x00 && status != 0x80 {
            usage!(
                "MBR entry {} has status {status:#04x} (expected 0x00 or 0x80): not a partition table, or a damaged one",
                i + 1
            );
        }
        out.push(MbrEntry {
            kind: e[4],
            start_lba: u32::from_le_bytes([e[8], e[9], e[10], e[11]]),
            sectors: u32::from_le_bytes([e[12], e[13], e[14], e[15]]),
        });
    }
    Ok(out)
}

/// The MBR entries of a FAT type, in table order (at least one).
fn mbr_fat_partitions(entries: &[MbrEntry], disk_len: u64) -> Result<Vec<Partition>> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if e.kind == 0 {
            continue;
        }
        seen.push(format!("{:#04x}", e.kind));
        if !FAT_TYPES.contains(&e.kind) {
            continue;
        }
        let start = u64::from(e.start_lba) * SECTOR;
        let len = u64::from(e.sectors) * SECTOR;
        if len == 0 || start == 0 {
            usage!(
                "MBR partition {} is empty or starts at sector 0: a damaged partition table",
                i + 1
            );
        }
        if start + len > disk_len {
            usage!(
                "partition {} ends at byte {} but the disk has {disk_len}: the image is truncated",
                i + 1,
                start + len
            );
        }
        out.push(Partition {
            number: i + 1,
            start,
            len,
        });
    }
    if seen.is_empty() {
        usage!("the partition table is empty: no FAT partition to read results from");
    }
    if out.is_empty() {
        usage!(
            "no FAT partition on the disk (partition types {}); hvrt images keep results on a FAT partition",
            seen.join(", ")
        );
    }
    Ok(out)
}

/// The GPT's partitions that hold a FAT file system, in table order (at least one). GPT
/// partition types say little about the file system inside (the results partition is
/// "Microsoft basic data", the EFI system partition has its own type), so the first sector
/// decides.
fn gpt_fat_partitions<D: Read + Seek>(disk: &mut D, disk_len: u64) -> Result<Vec<Partition>> {
    let h = read_sector(disk, SECTOR, "the GPT header")?;
    if &h[0..8] != b"EFI PART" {
        usage!(
            "the protective MBR announces a GPT, but sector 1 holds no GPT header: a damaged partition table"
        );
    }
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let entries_lba = u64_at(&h, 72);
    let count = u64::from(u32_at(&h, 80));
    let entry_size = u64::from(u32_at(&h, 84));
    if !(128..=4096).contains(&entry_size) || entry_size % 8 != 0 || count > MAX_GPT_ENTRIES {
        usage!(
            "the GPT header describes {count} entries of {entry_size} bytes: a damaged partition table"
        );
    }
    let table_start = entries_lba.checked_mul(SECTOR).filter(|&s| s >= 2 * SECTOR);
    let Some(table_start) = table_start.filter(|&s| s + count * entry_size <= disk_len) else {
        usage!(
            "the GPT's partition entries (from sector {entries_lba}) lie outside the disk: a damaged or truncated image"
        );
    };
    let mut table = vec![0u8; (count * entry_size) as usize];
    disk.seek(SeekFrom::Start(table_start))?;
    if let Err(e) = disk.read_exact(&mut table) {
        usage!("cannot read the GPT's partition entries: {e}");
    }
    let mut used = 0;
    let mut out = Vec::new();
    for (i, e) in table.chunks_exact(entry_size as usize).enumerate() {
        if e[0..16].iter().all(|&b| b == 0) {
            continue;
        }
        used += 1;
        let (first, last) = (u64_at(e, 32), u64_at(e, 40));
        let end = last.checked_add(1).and_then(|n| n.checked_mul(SECTOR));
        let Some(end) = end.filter(|&end| first > 0 && first <= last && end <= disk_len) else {
            usage!(
                "GPT partition {} (sectors {first} to {last}) does not fit the disk of {disk_len} bytes: a damaged partition table, or a truncated image",
                i + 1
            );
        };
        let start = first * SECTOR;
        let boot = read_sector(disk, start, "a partition")?;
        if looks_like_fat_boot_sector(&boot) {
            out.push(Partition {
                number: i + 1,
                start,
                len: end - start,
            });
        }
    }
    if out.is_empty() {
        usage!(
            "no FAT file system in any of the GPT's {used} partitions; hvrt images keep results on a FAT partition labelled {LABEL}"
        );
    }
    Ok(out)
}

fn read_sector<D: Read + Seek>(disk: &mut D, at: u64, what: &str) -> Result<[u8; 512]> {
    let mut s = [0u8; 512];
    disk.seek(SeekFrom::Start(at))?;
    if let Err(e) = disk.read_exact(&mut s) {
        usage!("cannot read {what}: {e}");
    }
    Ok(s)
}

/// A FAT boot sector: an x86 jump, a power-of-two sector size, and "FAT" where FAT12/16 or
/// FAT32 keep their type string.
fn looks_like_fat_boot_sector(s: &[u8; 512]) -> bool {
    let jump = s[0] == 0xEB || s[0] == 0xE9;
    let bytes_per_sector = u16::from_le_bytes([s[11], s[12]]);
    let fat_name = &s[54..57] == b"FAT" || &s[82..85] == b"FAT";
    jump && fat_name
        && bytes_per_sector.is_power_of_two()
        && (512..=4096).contains(&bytes_per_sector)
}

/// The volume label of a FAT boot sector: FAT32 keeps it at byte 71, FAT12/16 at 43.
fn boot_sector_label(s: &[u8; 512]) -> String {
    let at = if &s[82..85] == b"FAT" { 71 } else { 43 };
    String::from_utf8_lossy(&s[at..at + 11]).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn disk(entries: &[(u8, u8, u32, u32)]) -> Vec<u8> {
        let mut d = vec![0u8; 4 * 1024 * 1024];
        d[510] = 0x55;
        d[511] = 0xAA;
        for (i, &(status, kind, start, len)) in entries.iter().enumerate() {
            let e = &mut d[446 + i * 16..446 + (i + 1) * 16];
            e[0] = status;
            e[4] = kind;
            e[8..12].copy_from_slice(&start.to_le_bytes());
            e[12..16].copy_from_slice(&len.to_le_bytes());
        }
        d
    }

    /// A FAT32 boot sector labelled `label` at sector `lba` of `d`.
    fn fat32(d: &mut [u8], lba: u32, label: &str) {
        let s = &mut d[lba as usize * 512..(lba as usize + 1) * 512];
        s[0] = 0xEB;
        s[11..13].copy_from_slice(&512u16.to_le_bytes());
        s[82..90].copy_from_slice(b"FAT32   ");
        s[71..82].copy_from_slice(format!("{label:<11}").as_bytes());
        s[510] = 0x55;
        s[511] = 0xAA;
    }

    /// A protective MBR and a GPT with partitions (type byte, first, last sector).
    fn gpt(parts: &[(u8, u64, u64)]) -> Vec<u8> {
        let mut d = disk(&[(0, GPT_PROTECTIVE, 1, 8191)]);
        let h = &mut d[512..1024];
        h[0..8].copy_from_slice(b"EFI PART");
        h[72..80].copy_from_slice(&2u64.to_le_bytes());
        h[80..84].copy_from_slice(&128u32.to_le_bytes());
        h[84..88].copy_from_slice(&128u32.to_le_bytes());
        for (i, &(kind, first, last)) in parts.iter().enumerate() {
            let e = &mut d[1024 + i * 128..1024 + (i + 1) * 128];
            e[0] = kind;
            e[32..40].copy_from_slice(&first.to_le_bytes());
            e[40..48].copy_from_slice(&last.to_le_bytes());
        }
        d
    }

    fn find(d: Vec<u8>) -> Result<Partition> {
        let len = d.len() as u64;
        find_fat(&mut Cursor::new(d), len)
    }

    #[test]
    fn picks_the_first_fat_partition() {
        let p = find(disk(&[(0x00, 0x83, 2048, 100), (0x80, 0x0C, 4096, 2048)])).unwrap();
        assert_eq!(
            p,
            Partition {
                number: 2,
                start: 4096 * 512,
                len: 2048 * 512
            }
        );
    }

    #[test]
    fn picks_the_partition_labelled_hvrt() {
        let mut d = disk(&[(0, 0x0C, 2048, 100), (0, 0x0C, 4096, 100)]);
        fat32(&mut d, 2048, "OTHER");
        fat32(&mut d, 4096, "HVRT");
        assert_eq!(find(d).unwrap().number, 2);
    }

    #[test]
    fn reads_a_gpt_and_skips_the_efi_system_partition() {
        // An EFI system partition first, a BIOS boot partition without a file system, then
        // the results: as the image that boots under BIOS and UEFI lays them out.
        let mut d = gpt(&[(1, 2048, 4095), (2, 4096, 4159), (3, 6144, 8191)]);
        fat32(&mut d, 2048, "EFI");
        fat32(&mut d, 6144, "HVRT");
        assert_eq!(
            find(d.clone()).unwrap(),
            Partition {
                number: 3,
                start: 6144 * 512,
                len: 2048 * 512
            }
        );
        // Without the label: the first FAT partition.
        fat32(&mut d, 6144, "NONAME");
        assert_eq!(find(d).unwrap().number, 1);
    }

    #[test]
    fn explains_what_it_found_instead() {
        let msg = |d| find(d).unwrap_err().to_string();
        assert!(
            msg(disk(&[(0, 0x83, 2048, 100)]))
                .contains("no FAT partition on the disk (partition types 0x83)")
        );
        assert!(msg(disk(&[(0, GPT_PROTECTIVE, 1, 100)])).contains("no GPT header"));
        assert!(msg(disk(&[])).contains("partition table is empty"));
        assert!(msg(disk(&[(0, 0x0C, 2048, 1 << 30)])).contains("truncated"));
        assert!(msg(disk(&[(0x13, 0x0C, 2048, 1)])).contains("status 0x13"));
        assert!(msg(vec![0u8; 4096]).contains("not an hvrt image"));
        assert!(
            msg(gpt(&[(1, 2048, 4095)]))
                .contains("no FAT file system in any of the GPT's 1 partitions")
        );
        assert!(msg(gpt(&[(1, 2048, 1 << 20)])).contains("does not fit the disk"));
        let mut bad = gpt(&[]);
        bad[512 + 80..512 + 84].copy_from_slice(&1_000_000u32.to_le_bytes());
        assert!(msg(bad).contains("damaged partition table"));
    }
}
