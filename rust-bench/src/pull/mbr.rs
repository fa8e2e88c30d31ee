//! Finding the FAT file system on a disk: the first FAT partition of an MBR partition table,
//! or the whole disk when it holds a FAT file system without a partition table.

use std::io::{Read, Seek, SeekFrom};

use anyhow::Result;

use crate::usage;

const SECTOR: u64 = 512;
const FAT_TYPES: [u8; 6] = [0x01, 0x04, 0x06, 0x0B, 0x0C, 0x0E];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// 1 to 4 for an MBR entry, 0 for a file system spanning the whole disk.
    pub number: usize,
    pub start: u64,
    pub len: u64,
}

pub fn find_fat<D: Read + Seek>(disk: &mut D, disk_len: u64) -> Result<Partition> {
    let mut s = [0u8; 512];
    disk.seek(SeekFrom::Start(0))?;
    if let Err(e) = disk.read_exact(&mut s) {
        usage!("cannot read the partition table: {e}");
    }
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
    let mut seen = Vec::new();
    for i in 0..4 {
        let e = &s[446 + i * 16..446 + (i + 1) * 16];
        let (status, kind) = (e[0], e[4]);
        if status != 0x00 && status != 0x80 {
            usage!(
                "MBR entry {} has status {status:#04x} (expected 0x00 or 0x80): not a partition table, or a damaged one",
                i + 1
            );
        }
        if kind == 0 {
            continue;
        }
        if kind == 0xEE {
            usage!(
                "the disk has a GPT partition table; hvrt images use MBR, and pull reads only MBR disks"
            );
        }
        seen.push(format!("{kind:#04x}"));
        if !FAT_TYPES.contains(&kind) {
            continue;
        }
        let start = u64::from(u32::from_le_bytes([e[8], e[9], e[10], e[11]])) * SECTOR;
        let len = u64::from(u32::from_le_bytes([e[12], e[13], e[14], e[15]])) * SECTOR;
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
        return Ok(Partition {
            number: i + 1,
            start,
            len,
        });
    }
    if seen.is_empty() {
        usage!("the partition table is empty: no FAT partition to read results from");
    }
    usage!(
        "no FAT partition on the disk (partition types {}); hvrt images keep results on a FAT partition",
        seen.join(", ")
    )
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
    fn explains_what_it_found_instead() {
        let msg = |d| find(d).unwrap_err().to_string();
        assert!(
            msg(disk(&[(0, 0x83, 2048, 100)]))
                .contains("no FAT partition on the disk (partition types 0x83)")
        );
        assert!(msg(disk(&[(0, 0xEE, 1, 100)])).contains("GPT"));
        assert!(msg(disk(&[])).contains("partition table is empty"));
        assert!(msg(disk(&[(0, 0x0C, 2048, 1 << 30)])).contains("truncated"));
        assert!(msg(disk(&[(0x13, 0x0C, 2048, 1)])).contains("status 0x13"));
        assert!(msg(vec![0u8; 4096]).contains("not an hvrt image"));
    }
}
