//! VHD (Virtual Hard Disk image format specification, Microsoft, 2006). Read: fixed disks
//! (data, then a 512-byte footer) and dynamic disks (footer copy, dynamic header, block
//! allocation table, blocks of sector bitmap + data, footer). Differencing disks need their
//! parent and are refused. Written: fixed disks.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

use anyhow::Result;

use super::blocks::{Blocks, damaged, read_exact_at, write_sparse};
use crate::usage;

pub const COOKIE: &[u8; 8] = b"conectix";
const SPARSE_COOKIE: &[u8; 8] = b"cxsparse";
const SECTOR: u64 = 512;
const UNALLOCATED: u32 = 0xFFFF_FFFF;
/// The largest disk the format holds: 2040 GiB.
pub const MAX_SIZE: u64 = 2040 << 30;

// The footer's fields, as byte offsets (big-endian numbers).
const DATA_OFFSET: usize = 16;
const CURRENT_SIZE: usize = 48;
const DISK_TYPE: usize = 60;
const FOOTER_CHECKSUM: usize = 64;
const FIXED: u32 = 2;
const DYNAMIC: u32 = 3;
const DIFFERENCING: u32 = 4;

pub struct Vhd {
    file: File,
    size: u64,
    dynamic: Option<Dynamic>,
}

struct Dynamic {
    block_size: u64,
    /// Sector offset of each block in the file (`UNALLOCATED` for none).
    bat: Vec<u32>,
    bitmap_bytes: u64,
    file_len: u64,
    /// The sector bitmap of the block read last: (block, bitmap).
    cached: Option<(usize, Vec<u8>)>,
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn be64(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(x)
}

/// The one's complement of the byte sum, with the checksum field itself taken as zero.
fn checksum(b: &[u8], field: usize) -> u32 {
    let sum = b
        .iter()
        .enumerate()
        .filter(|(i, _)| !(field..field + 4).contains(i))
        .fold(0u32, |s, (_, &x)| s.wrapping_add(u32::from(x)));
    !sum
}

impl Vhd {
    pub fn open(mut file: File, file_len: u64, footer: &[u8; 512]) -> Result<Vhd> {
        if checksum(footer, FOOTER_CHECKSUM) != be32(footer, FOOTER_CHECKSUM) {
            usage!("VHD footer checksum does not match: the image is damaged");
        }
        let size = be64(footer, CURRENT_SIZE);
        let disk_type = be32(footer, DISK_TYPE);
        match disk_type {
            FIXED => {
                if size.checked_add(SECTOR).is_none_or(|need| need > file_len) {
                    usage!(
                        "fixed VHD of {size} bytes in a file of {file_len}: the image is truncated"
                    );
                }
                Ok(Vhd {
                    file,
                    size,
                    dynamic: None,
                })
            }
            DYNAMIC => {
                let header_at = be64(footer, DATA_OFFSET);
                let mut h = [0u8; 1024];
                if header_at.checked_add(1024).is_none_or(|end| end > file_len) {
                    usage!(
                        "VHD dynamic header lies beyond the end of the file: the image is truncated"
                    );
                }
                read_exact_at(&mut file, header_at, &mut h)?;
                if &h[..8] != SPARSE_COOKIE {
                    usage!(
                        "VHD dynamic header not found where the footer points: the image is damaged"
                    );
                }
                if checksum(&h, 36) != be32(&h, 36) {
                    usage!("VHD dynamic header checksum does not match: the image is damaged");
                }
                let table_at = be64(&h, 16);
                let entries = u64::from(be32(&h, 28));
                let block_size = u64::from(be32(&h, 32));
                if !block_size.is_power_of_two() || !(SECTOR..=1 << 28).contains(&block_size) {
                    usage!("VHD block size {block_size} is not valid: the image is damaged");
                }
                if entries.saturating_mul(block_size) < size {
                    usage!("VHD block table covers less than the disk size: the image is damaged");
                }
                if entries > 1 << 24 {
                    usage!(
                        "VHD block table of {entries} entries is implausibly large: the image is damaged"
                    );
                }
                if table_at.saturating_add(entries * 4) > file_len {
                    usage!(
                        "VHD block table lies beyond the end of the file: the image is truncated"
                    );
                }
                let mut raw = vec![0u8; (entries * 4) as usize];
                read_exact_at(&mut file, table_at, &mut raw)?;
                let bat = raw.chunks_exact(4).map(|c| be32(c, 0)).collect();
                let sectors_per_block = block_size / SECTOR;
                let bitmap_bytes = sectors_per_block.div_ceil(8).div_ceil(SECTOR) * SECTOR;
                Ok(Vhd {
                    file,
                    size,
                    dynamic: Some(Dynamic {
                        block_size,
                        bat,
                        bitmap_bytes,
                        file_len,
                        cached: None,
                    }),
                })
            }
            DIFFERENCING => usage!(
                "a differencing VHD holds only changes to its parent disk; open the parent, or merge them first (qemu-img convert)"
            ),
            other => usage!("VHD disk type {other} is not fixed (2) or dynamic (3)"),
        }
    }

    pub fn is_dynamic(&self) -> bool {
        self.dynamic.is_some()
    }
}

/// The footer of a fixed disk of `size` bytes (a multiple of 512, at most [`MAX_SIZE`]).
///
/// The creator is written as Hyper-V's ("win "): readers take the disk size from the footer's
/// size field only for the creators they know to do so (qemu: "win ", "qem2", "d2v ", "tap",
/// "CTXS"); for any other they compute it from the CHS geometry, which rounds most sizes down
/// and would cut off the end of the disk.
pub fn fixed_footer(size: u64, timestamp: u32, id: [u8; 16]) -> [u8; 512] {
    let mut f = [0u8; 512];
    f[..8].copy_from_slice(COOKIE);
    f[8..12].copy_from_slice(&2u32.to_be_bytes()); // features: reserved bit, always set
    f[12..16].copy_from_slice(&0x0001_0000u32.to_be_bytes()); // format version 1.0
    f[DATA_OFFSET..DATA_OFFSET + 8].copy_from_slice(&u64::MAX.to_be_bytes()); // none: fixed
    f[24..28].copy_from_slice(&timestamp.to_be_bytes());
    f[28..32].copy_from_slice(b"win ");
    f[32..36].copy_from_slice(&0x000A_0000u32.to_be_bytes()); // creator version 10.0
    f[36..40].copy_from_slice(b"Wi2k"); // creator host OS: Windows
    f[40..48].copy_from_slice(&size.to_be_bytes()); // original size
    f[CURRENT_SIZE..CURRENT_SIZE + 8].copy_from_slice(&size.to_be_bytes());
    let (cylinders, heads, sectors) = geometry(size / SECTOR);
    f[56..58].copy_from_slice(&cylinders.to_be_bytes());
    f[58] = heads;
    f[59] = sectors;
    f[DISK_TYPE..DISK_TYPE + 4].copy_from_slice(&FIXED.to_be_bytes());
    f[68..84].copy_from_slice(&id);
    let sum = checksum(&f, FOOTER_CHECKSUM);
    f[FOOTER_CHECKSUM..FOOTER_CHECKSUM + 4].copy_from_slice(&sum.to_be_bytes());
    f
}

/// The CHS geometry of a disk of `total` sectors, by the specification's algorithm.
fn geometry(total: u64) -> (u16, u8, u8) {
    let total = total.min(65535 * 16 * 255);
    let (sectors, heads, cylinders_times_heads) = if total >= 65535 * 16 * 63 {
        (255, 16, total / 255)
    } else {
        let mut sectors = 17;
        let mut cth = total / sectors;
        let mut heads = cth.div_ceil(1024).max(4);
        if cth >= heads * 1024 || heads > 16 {
            (sectors, heads, cth) = (31, 16, total / 31);
        }
        if cth >= heads * 1024 {
            (sectors, heads, cth) = (63, 16, total / 63);
        }
        (sectors, heads, cth)
    };
    (
        (cylinders_times_heads / heads) as u16,
        heads as u8,
        sectors as u8,
    )
}

/// Write the `size` bytes of `disk` to `out` as a fixed VHD: the disk, then its footer. Zeros
/// become holes in `out` where the file system allows.
pub fn write_fixed(
    disk: &mut impl Read,
    size: u64,
    out: &mut File,
    timestamp: u32,
    id: [u8; 16],
) -> io::Result<()> {
    let mut buf = vec![0u8; 1 << 20];
    let mut at = 0;
    while at < size {
        let n = (size - at).min(buf.len() as u64) as usize;
        disk.read_exact(&mut buf[..n])?;
        write_sparse(out, at, &buf[..n])?;
        at += n as u64;
    }
    out.seek(SeekFrom::Start(size))?;
    out.write_all(&fixed_footer(size, timestamp, id))
}

impl Blocks for Vhd {
    fn len(&self) -> u64 {
        self.size
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let Some(d) = &mut self.dynamic else {
            self.file.seek(SeekFrom::Start(offset))?;
            return self.file.read_exact(buf);
        };
        let mut done = 0usize;
        while done < buf.len() {
            let at = offset + done as u64;
            let block = (at / d.block_size) as usize;
            let within = at % d.block_size;
            // One sector at most per step: the sector bitmap says, sector by sector, whether
            // data is present.
            let step = (SECTOR - within % SECTOR).min((buf.len() - done) as u64) as usize;
            let out = &mut buf[done..done + step];
            let entry = *d
                .bat
                .get(block)
                .ok_or_else(|| damaged(format!("VHD read past its block table at {at}")))?;
            if entry == UNALLOCATED {
                out.fill(0);
            } else {
                let block_at = u64::from(entry) * SECTOR;
                if block_at + d.bitmap_bytes + d.block_size > d.file_len {
                    return Err(damaged(format!(
                        "VHD block {block} lies beyond the end of the file: the image is truncated"
                    )));
                }
                if d.cached.as_ref().is_none_or(|(b, _)| *b != block) {
                    let mut bitmap = vec![0u8; d.bitmap_bytes as usize];
                    self.file.seek(SeekFrom::Start(block_at))?;
                    self.file.read_exact(&mut bitmap)?;
                    d.cached = Some((block, bitmap));
                }
                let sector = (within / SECTOR) as usize;
                let present = d
                    .cached
                    .as_ref()
                    .is_some_and(|(_, bm)| bm[sector / 8] & (0x80 >> (sector % 8)) != 0);
                if present {
                    self.file
                        .seek(SeekFrom::Start(block_at + d.bitmap_bytes + within))?;
                    self.file.read_exact(out)?;
                } else {
                    out.fill(0);
                }
            }
            done += step;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_follows_the_specification() {
        // 8 MiB: 17 sectors per track, at least 4 heads.
        assert_eq!(geometry(16_384), (240, 4, 17));
        // 256 MiB: 17, then 31, then 63 sectors per track with 16 heads.
        assert_eq!(geometry(524_288), (520, 16, 63));
        // Past 127 GiB the geometry stays at its largest.
        assert_eq!(geometry(1 << 40), (65535, 16, 255));
    }

    #[test]
    fn the_fixed_footer_reads_back() {
        let f = fixed_footer(129 << 20, 7, [9; 16]);
        assert_eq!(&f[..8], COOKIE);
        assert_eq!(checksum(&f, FOOTER_CHECKSUM), be32(&f, FOOTER_CHECKSUM));
        assert_eq!(be64(&f, CURRENT_SIZE), 129 << 20);
        assert_eq!(be32(&f, DISK_TYPE), FIXED);
        assert_eq!(be64(&f, DATA_OFFSET), u64::MAX);
        assert_eq!(&f[28..32], b"win ");
    }
}
