//! VHDX (Microsoft's [MS-VHDX] specification, version 1), read-only: file identifier, the
//! two headers (the current one has the higher sequence number and a valid CRC-32C), the
//! region table (BAT and metadata regions), the metadata items that size the disk, and the
//! block allocation table. A file with a log still to replay, or a differencing disk, is
//! refused rather than read wrongly.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use anyhow::Result;

use super::crc32c::crc32c;
use super::image::{Blocks, damaged, read_exact_at};
use crate::usage;

pub const SIGNATURE: &[u8; 8] = b"vhdxfile";
const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;
const HEADER_SIZE: usize = 4096;
const REGION_TABLE_SIZE: usize = 64 * 1024;

// GUIDs as stored on disk (the first three fields little-endian).
const BAT_REGION: [u8; 16] = guid(
    0x2DC27766,
    0xF623,
    0x4200,
    [0x9D, 0x64, 0x11, 0x5E, 0x9B, 0xFD, 0x4A, 0x08],
);
const METADATA_REGION: [u8; 16] = guid(
    0x8B7CA206,
    0x4790,
    0x4B9A,
    [0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E],
);
const FILE_PARAMETERS: [u8; 16] = guid(
    0xCAA16737,
    0xFA36,
    0x4D43,
    [0xB3, 0xB6, 0x33, 0xF0, 0xAA, 0x44, 0xE7, 0x6B],
);
const VIRTUAL_DISK_SIZE: [u8; 16] = guid(
    0x2FA54224,
    0xCD1B,
    0x4876,
    [0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4, 0xB8],
);
const LOGICAL_SECTOR_SIZE: [u8; 16] = guid(
    0x8141BF1D,
    0xA96F,
    0x4709,
    [0xBA, 0x47, 0xF2, 0x33, 0xA8, 0xFA, 0xAB, 0x5F],
);

const fn guid(a: u32, b: u16, c: u16, d: [u8; 8]) -> [u8; 16] {
    let a = a.to_le_bytes();
    let b = b.to_le_bytes();
    let c = c.to_le_bytes();
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d[0], d[1], d[2], d[3], d[4], d[5], d[6],
        d[7],
    ]
}

// BAT entry states for payload blocks.
const PAYLOAD_NOT_PRESENT: u64 = 0;
const PAYLOAD_UNDEFINED: u64 = 1;
const PAYLOAD_ZERO: u64 = 2;
const PAYLOAD_UNMAPPED: u64 = 3;
const PAYLOAD_FULLY_PRESENT: u64 = 6;

pub struct Vhdx {
    file: File,
    file_len: u64,
    size: u64,
    block_size: u64,
    chunk_ratio: u64,
    bat: Vec<u64>,
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le64(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

/// CRC-32C of a structure whose checksum field (at offset 4) counts as zero.
fn checksum_ok(b: &[u8]) -> bool {
    let stored = le32(b, 4);
    let mut copy = b.to_vec();
    copy[4..8].fill(0);
    crc32c(&copy) == stored
}

struct Header {
    sequence: u64,
    log_guid: [u8; 16],
    version: u16,
}

fn read_header(file: &mut File, at: u64) -> Result<Option<Header>> {
    let mut h = vec![0u8; HEADER_SIZE];
    read_exact_at(file, at, &mut h)?;
    if &h[..4] != b"head" || !checksum_ok(&h) {
        return Ok(None);
    }
    let mut log_guid = [0u8; 16];
    log_guid.copy_from_slice(&h[48..64]);
    Ok(Some(Header {
        sequence: le64(&h, 8),
        log_guid,
        version: le16(&h, 66),
    }))
}

/// A region table entry: (GUID, file offset, length).
type Region = ([u8; 16], u64, u64);

/// The entries of the region table at `at`, or `None` if that copy is not valid.
fn read_regions(file: &mut File, at: u64) -> Result<Option<Vec<Region>>> {
    let mut t = vec![0u8; REGION_TABLE_SIZE];
    read_exact_at(file, at, &mut t)?;
    if &t[..4] != b"regi" || !checksum_ok(&t) {
        return Ok(None);
    }
    let count = le32(&t, 8) as usize;
    if count > 2047 {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let e = &t[16 + i * 32..16 + (i + 1) * 32];
        let mut id = [0u8; 16];
        id.copy_from_slice(&e[..16]);
        out.push((id, le64(e, 16), u64::from(le32(e, 24))));
    }
    Ok(Some(out))
}

impl Vhdx {
    pub fn open(mut file: File, file_len: u64) -> Result<Vhdx> {
        if file_len < MIB {
            usage!("VHDX of {file_len} bytes is too short for its headers: the image is truncated");
        }
        let h1 = read_header(&mut file, 64 * KIB)?;
        let h2 = read_header(&mut file, 128 * KIB)?;
        let header = match (h1, h2) {
            (Some(a), Some(b)) => {
                if a.sequence >= b.sequence {
                    a
                } else {
                    b
                }
            }
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => {
                usage!("VHDX has no valid header (both fail their checksum): the image is damaged")
            }
        };
        if header.version != 1 {
            usage!(
                "VHDX version {} is not supported (only version 1 exists)",
                header.version
            );
        }
        if header.log_guid != [0u8; 16] {
            usage!(
                "the VHDX has a log still to replay (it was not closed cleanly); attach it once in Hyper-V or run 'qemu-img check -r all' on a copy, then pull again"
            );
        }
        let regions = match read_regions(&mut file, 192 * KIB)? {
            Some(r) => r,
            None => match read_regions(&mut file, 256 * KIB)? {
                Some(r) => r,
                None => usage!("VHDX region table is damaged (both copies fail their checksum)"),
            },
        };
        let find = |id: &[u8; 16], name: &str| -> Result<(u64, u64)> {
            match regions.iter().find(|(g, _, _)| g == id) {
                Some(&(_, off, len)) if off.checked_add(len).is_some_and(|end| end <= file_len) => {
                    Ok((off, len))
                }
                Some(_) => usage!(
                    "VHDX {name} region lies beyond the end of the file: the image is truncated"
                ),
                None => usage!("VHDX has no {name} region: the image is damaged"),
            }
        };
        let (bat_at, bat_len) = find(&BAT_REGION, "block table")?;
        let (meta_at, meta_len) = find(&METADATA_REGION, "metadata")?;
        if meta_len > 16 * MIB || bat_len > 256 * MIB {
            usage!("VHDX regions are implausibly large: the image is damaged");
        }

        let mut meta = vec![0u8; meta_len as usize];
        read_exact_at(&mut file, meta_at, &mut meta)?;
        if meta.len() < 32 || &meta[..8] != b"metadata" {
            usage!("VHDX metadata table not found: the image is damaged");
        }
        let count = le16(&meta, 10) as usize;
        let item = |id: &[u8; 16], need: usize| -> Option<&[u8]> {
            (0..count.min(2047)).find_map(|i| {
                let e = meta.get(32 + i * 32..32 + (i + 1) * 32)?;
                if &e[..16] != id {
                    return None;
                }
                let off = le32(e, 16) as usize;
                let len = le32(e, 20) as usize;
                if len < need {
                    return None;
                }
                meta.get(off..off.checked_add(len)?)
            })
        };
        let Some(params) = item(&FILE_PARAMETERS, 8) else {
            usage!("VHDX metadata lacks the file parameters: the image is damaged");
        };
        let block_size = u64::from(le32(params, 0));
        if le32(params, 4) & 2 != 0 {
            usage!(
                "a differencing VHDX holds only changes to its parent disk; open the parent, or merge them first (qemu-img convert)"
            );
        }
        let Some(size) = item(&VIRTUAL_DISK_SIZE, 8).map(|b| le64(b, 0)) else {
            usage!("VHDX metadata lacks the virtual disk size: the image is damaged");
        };
        let Some(sector) = item(&LOGICAL_SECTOR_SIZE, 4).map(|b| u64::from(le32(b, 0))) else {
            usage!("VHDX metadata lacks the logical sector size: the image is damaged");
        };
        if !(MIB..=256 * MIB).contains(&block_size) || !block_size.is_power_of_two() {
            usage!("VHDX block size {block_size} is not valid: the image is damaged");
        }
        if sector != 512 && sector != 4096 {
            usage!("VHDX logical sector size {sector} is not 512 or 4096: the image is damaged");
        }
        if size == 0 || size > 64 * 1024 * 1024 * MIB {
            usage!("VHDX virtual size {size} is not valid: the image is damaged");
        }
        let chunk_ratio = ((1u64 << 23) * sector) / block_size;
        let blocks = size.div_ceil(block_size);
        let entries = blocks + blocks.saturating_sub(1) / chunk_ratio;
        if entries * 8 > bat_len {
            usage!("VHDX block table is shorter than the disk needs: the image is damaged");
        }
        let mut raw = vec![0u8; (entries * 8) as usize];
        read_exact_at(&mut file, bat_at, &mut raw)?;
        let bat = raw.chunks_exact(8).map(|c| le64(c, 0)).collect();
        Ok(Vhdx {
            file,
            file_len,
            size,
            block_size,
            chunk_ratio,
            bat,
        })
    }
}

impl Blocks for Vhdx {
    fn len(&self) -> u64 {
        self.size
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let mut done = 0usize;
        while done < buf.len() {
            let at = offset + done as u64;
            let block = at / self.block_size;
            let within = at % self.block_size;
            let step = (self.block_size - within).min((buf.len() - done) as u64) as usize;
            let out = &mut buf[done..done + step];
            // Every chunk_ratio payload entries, the table holds one sector-bitmap entry.
            let index = (block + block / self.chunk_ratio) as usize;
            let entry = *self
                .bat
                .get(index)
                .ok_or_else(|| damaged(format!("VHDX read past its block table at {at}")))?;
            match entry & 7 {
                PAYLOAD_FULLY_PRESENT => {
                    let block_at = (entry >> 20) * MIB;
                    if block_at + within + step as u64 > self.file_len {
                        return Err(damaged(format!(
                            "VHDX block {block} lies beyond the end of the file: the image is truncated"
                        )));
                    }
                    self.file.seek(SeekFrom::Start(block_at + within))?;
                    self.file.read_exact(out)?;
                }
                PAYLOAD_NOT_PRESENT | PAYLOAD_UNDEFINED | PAYLOAD_ZERO | PAYLOAD_UNMAPPED => {
                    out.fill(0)
                }
                state => {
                    return Err(damaged(format!(
                        "VHDX block {block} has state {state}, not valid in a disk without a parent"
                    )));
                }
            }
            done += step;
        }
        Ok(())
    }
}
