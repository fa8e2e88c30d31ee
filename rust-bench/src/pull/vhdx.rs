//! VHDX (Microsoft's [MS-VHDX] specification, version 1). Read: file identifier, the two
//! headers (the current one has the higher sequence number and a valid CRC-32C), the region
//! table (BAT and metadata regions), the metadata items that size the disk, and the block
//! allocation table. A file with a log still to replay, or a differencing disk, is refused
//! rather than read wrongly. Written: dynamic disks laid out as qemu-img and Hyper-V lay them
//! out, all-zero blocks left unallocated.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

use anyhow::Result;

use super::blocks::{Blocks, damaged, is_zero, read_exact_at, write_sparse};
use super::crc32c::crc32c;
use crate::usage;

pub const SIGNATURE: &[u8; 8] = b"vhdxfile";
const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;
const HEADER_SIZE: usize = 4096;
const REGION_TABLE_SIZE: usize = 64 * 1024;
// The header section: file identifier, then two headers, then two region tables.
const HEADER_AT: [u64; 2] = [64 * KIB, 128 * KIB];
const REGION_TABLE_AT: [u64; 2] = [192 * KIB, 256 * KIB];
// A header's fields, as byte offsets (little-endian numbers).
const H_SEQUENCE: usize = 8;
const H_LOG_GUID: usize = 48;
const H_VERSION: usize = 66;
// A metadata table entry: item GUID, then offset and length (in the region).
const M_OFFSET: usize = 16;
const M_LENGTH: usize = 20;

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
const PHYSICAL_SECTOR_SIZE: [u8; 16] = guid(
    0xCDA348C7,
    0x445D,
    0x4471,
    [0x9C, 0xC9, 0xE9, 0x88, 0x52, 0x51, 0xC5, 0x56],
);
const PAGE_83_DATA: [u8; 16] = guid(
    0xBECA12AB,
    0xB2E6,
    0x4523,
    [0x93, 0xEF, 0xC3, 0x09, 0xE0, 0x00, 0xC7, 0x46],
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
    log_guid.copy_from_slice(&h[H_LOG_GUID..H_LOG_GUID + 16]);
    Ok(Some(Header {
        sequence: le64(&h, H_SEQUENCE),
        log_guid,
        version: le16(&h, H_VERSION),
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
        let h1 = read_header(&mut file, HEADER_AT[0])?;
        let h2 = read_header(&mut file, HEADER_AT[1])?;
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
        let regions = match read_regions(&mut file, REGION_TABLE_AT[0])? {
            Some(r) => r,
            None => match read_regions(&mut file, REGION_TABLE_AT[1])? {
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
                let off = le32(e, M_OFFSET) as usize;
                let len = le32(e, M_LENGTH) as usize;
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

/// The block size written: 1 MiB, the smallest the format allows, as Microsoft recommends for
/// the disks of Linux guests (and the finest grain for leaving zeros unallocated).
const WRITE_BLOCK: u64 = MIB;
/// The largest disk written here (the format's own limit is 64 TiB).
pub const MAX_SIZE: u64 = 16 << 40;

fn put(b: &mut [u8], at: usize, bytes: &[u8]) {
    b[at..at + bytes.len()].copy_from_slice(bytes);
}

/// Fill in the CRC-32C of a structure whose checksum field is at offset 4.
fn seal(b: &mut [u8]) {
    b[4..8].fill(0);
    let sum = crc32c(b);
    put(b, 4, &sum.to_le_bytes());
}

/// Random GUIDs of a new file: file write, data write, and the disk's page 83 identifier.
pub struct Ids {
    pub file_write: [u8; 16],
    pub data_write: [u8; 16],
    pub disk: [u8; 16],
}

/// Write the `size` bytes of `disk` (`size` a multiple of 512, at most [`MAX_SIZE`]) to `out`
/// as a dynamic VHDX: the header section in the first MiB (file identifier, two headers, two
/// region tables), an empty log in the second, then the BAT and the metadata (512-byte
/// logical, 4096-byte physical sectors, as Hyper-V makes them), each region 1 MiB-aligned,
/// then the payload blocks that hold anything but zeros. `creator` names the writer.
pub fn write(
    disk: &mut impl Read,
    size: u64,
    out: &mut File,
    creator: &str,
    ids: &Ids,
) -> io::Result<()> {
    let (log_at, log_len, bat_at) = (MIB, MIB, 2 * MIB);
    let chunk_ratio = ((1u64 << 23) * 512) / WRITE_BLOCK;
    let blocks = size.div_ceil(WRITE_BLOCK);
    let entries = blocks + blocks.saturating_sub(1) / chunk_ratio;
    let bat_len = (entries * 8).next_multiple_of(MIB);
    let meta_at = bat_at + bat_len;
    let meta_len = MIB;

    // Payload blocks first; the structures that make the file valid are written last.
    let mut bat = vec![0u8; bat_len as usize];
    let mut next = meta_at + meta_len;
    let mut buf = vec![0u8; WRITE_BLOCK as usize];
    for block in 0..blocks {
        let n = (size - block * WRITE_BLOCK).min(WRITE_BLOCK) as usize;
        buf[n..].fill(0);
        disk.read_exact(&mut buf[..n])?;
        let entry = if is_zero(&buf) {
            PAYLOAD_ZERO
        } else {
            write_sparse(out, next, &buf)?;
            next += WRITE_BLOCK;
            PAYLOAD_FULLY_PRESENT | (next - WRITE_BLOCK)
        };
        // Every chunk_ratio payload entries, the table holds one sector-bitmap entry (zero:
        // not present, as a disk without a parent has none).
        let index = (block + block / chunk_ratio) as usize;
        put(&mut bat, index * 8, &entry.to_le_bytes());
    }

    let mut ident = vec![0u8; 64 * KIB as usize];
    put(&mut ident, 0, SIGNATURE);
    let name: Vec<u8> = creator
        .encode_utf16()
        .take(255)
        .flat_map(u16::to_le_bytes)
        .collect();
    put(&mut ident, 8, &name);

    let mut meta = vec![0u8; meta_len as usize];
    put(&mut meta, 0, b"metadata");
    let disk_id = ids.disk;
    let items: [(&[u8; 16], Vec<u8>, u32); 5] = [
        // Flags: 4 is required, 2 a property of the virtual disk.
        (
            &FILE_PARAMETERS,
            [(WRITE_BLOCK as u32).to_le_bytes(), [0; 4]].concat(),
            4,
        ),
        (&VIRTUAL_DISK_SIZE, size.to_le_bytes().to_vec(), 6),
        (&PAGE_83_DATA, disk_id.to_vec(), 6),
        (&LOGICAL_SECTOR_SIZE, 512u32.to_le_bytes().to_vec(), 6),
        (&PHYSICAL_SECTOR_SIZE, 4096u32.to_le_bytes().to_vec(), 6),
    ];
    put(&mut meta, 10, &(items.len() as u16).to_le_bytes());
    let mut item_at = 64 * KIB as usize;
    for (i, (id, value, flags)) in items.iter().enumerate() {
        let e = 32 + i * 32;
        put(&mut meta, e, *id);
        put(&mut meta, e + M_OFFSET, &(item_at as u32).to_le_bytes());
        put(&mut meta, e + M_LENGTH, &(value.len() as u32).to_le_bytes());
        put(&mut meta, e + 24, &flags.to_le_bytes());
        put(&mut meta, item_at, value);
        item_at += value.len();
    }

    let mut regions = vec![0u8; REGION_TABLE_SIZE];
    put(&mut regions, 0, b"regi");
    put(&mut regions, 8, &2u32.to_le_bytes());
    for (i, (id, at, len)) in [
        (BAT_REGION, bat_at, bat_len),
        (METADATA_REGION, meta_at, meta_len),
    ]
    .iter()
    .enumerate()
    {
        let e = 16 + i * 32;
        put(&mut regions, e, id);
        put(&mut regions, e + 16, &at.to_le_bytes());
        put(&mut regions, e + 24, &(*len as u32).to_le_bytes());
        put(&mut regions, e + 28, &1u32.to_le_bytes()); // required
    }
    seal(&mut regions);

    let mut writes = vec![(0, ident), (bat_at, bat), (meta_at, meta)];
    for (sequence, (&header_at, &table_at)) in HEADER_AT.iter().zip(&REGION_TABLE_AT).enumerate() {
        let mut h = vec![0u8; HEADER_SIZE];
        put(&mut h, 0, b"head");
        put(&mut h, H_SEQUENCE, &(sequence as u64).to_le_bytes());
        put(&mut h, 16, &ids.file_write);
        put(&mut h, 32, &ids.data_write);
        put(&mut h, H_VERSION, &1u16.to_le_bytes());
        put(&mut h, 68, &(log_len as u32).to_le_bytes());
        put(&mut h, 72, &log_at.to_le_bytes());
        seal(&mut h);
        writes.push((header_at, h));
        writes.push((table_at, regions.clone()));
    }
    for (at, bytes) in writes {
        out.seek(SeekFrom::Start(at))?;
        out.write_all(&bytes)?;
    }
    out.set_len(next)
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
