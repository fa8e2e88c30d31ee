//! `rust-bench convert DISK --vhd OUT.vhd --vhdx OUT.vhdx`: write a disk image as a fixed VHD
//! and/or a VHDX for Hyper-V, with the same definitions of the formats that `pull` reads.
//!
//! Every destination is checked before anything is written; each is written by the rule of
//! [`crate::results::writer`] (a file under a temporary name beside it, renamed into place
//! when complete, so a failure never leaves a partial image under the final name).

use std::collections::hash_map::RandomState;
use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Result;
use clap::Args as ClapArgs;

use super::{image, vhd, vhdx};
use crate::results::writer::Target;
use crate::usage;

#[derive(Debug, ClapArgs)]
#[command(after_help = "\
Writes a fixed VHD (the disk, then its 512-byte footer) and a dynamic VHDX (1 MiB blocks, \
512-byte logical sectors; all-zero blocks left unallocated), as Hyper-V reads them. An existing \
file is replaced only with --force. SOURCE_DATE_EPOCH, if set, dates the VHD footer.

Example:
  rust-bench convert hvrt-enlightened.img --vhd hvrt-enlightened.vhd --vhdx hvrt-enlightened.vhdx")]
pub struct Args {
    /// The disk: a raw image (a .vhd or .vhdx is read too).
    #[arg(value_name = "DISK")]
    pub image: PathBuf,
    /// Write a fixed VHD here.
    #[arg(long, value_name = "OUT.vhd")]
    pub vhd: Option<PathBuf>,
    /// Write a VHDX here.
    #[arg(long, value_name = "OUT.vhdx")]
    pub vhdx: Option<PathBuf>,
    /// Replace existing files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Clone, Copy)]
enum Kind {
    Vhd,
    Vhdx,
}

pub fn main(args: Args) -> Result<()> {
    let outputs: Vec<(Kind, &PathBuf)> = [(Kind::Vhd, &args.vhd), (Kind::Vhdx, &args.vhdx)]
        .into_iter()
        .filter_map(|(k, p)| p.as_ref().map(|p| (k, p)))
        .collect();
    if outputs.is_empty() {
        usage!("nothing to write: give --vhd OUT.vhd and/or --vhdx OUT.vhdx");
    }
    let disk = image::open(&args.image)?;
    let size = disk.len();
    drop(disk);
    if size % 512 != 0 {
        usage!(
            "{}: {size} bytes is not a whole number of 512-byte sectors; pad it (truncate -s) first",
            args.image.display()
        );
    }
    for &(kind, out) in &outputs {
        check_destination(&args.image, out, args.force)?;
        let max = match kind {
            Kind::Vhd => vhd::MAX_SIZE,
            Kind::Vhdx => vhdx::MAX_SIZE,
        };
        if size > max {
            usage!(
                "{}: {size} bytes is more than {} can hold ({max})",
                args.image.display(),
                out.display()
            );
        }
    }
    if let [(_, a), (_, b)] = outputs[..]
        && same_file(a, b)
    {
        usage!("--vhd and --vhdx name the same file {}", a.display());
    }

    for (kind, out) in outputs {
        let mut disk = image::open(&args.image)?;
        Target::of(out)?.write_with(|file| match kind {
            Kind::Vhd => vhd::write_fixed(&mut disk, size, file, timestamp(), guid()),
            Kind::Vhdx => {
                let ids = vhdx::Ids {
                    file_write: guid(),
                    data_write: guid(),
                    disk: guid(),
                };
                let creator = concat!("rust-bench ", env!("CARGO_PKG_VERSION"));
                vhdx::write(&mut disk, size, file, creator, &ids)
            }
        })?;
        let name = match kind {
            Kind::Vhd => "fixed VHD",
            Kind::Vhdx => "VHDX",
        };
        println!("wrote {} ({name} of {size} bytes)", out.display());
    }
    Ok(())
}

/// Refuse a destination that cannot be written or would be replaced without --force.
fn check_destination(input: &Path, out: &Path, force: bool) -> Result<()> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        usage!(
            "{}: directory {} does not exist; create it first",
            out.display(),
            parent.display()
        );
    }
    if same_file(input, out) {
        usage!(
            "{}: is the disk being converted; name another file",
            out.display()
        );
    }
    if Target::of(out)?.replaces_a_file() && !force {
        usage!(
            "{}: already exists; remove it, or pass --force to replace it",
            out.display()
        );
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    resolved(a) == resolved(b)
}

/// The absolute path of a file, or of the file that would be created there.
fn resolved(p: &Path) -> PathBuf {
    fs::canonicalize(p)
        .ok()
        .or_else(|| {
            let dir = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            Some(fs::canonicalize(dir).ok()?.join(p.file_name()?))
        })
        .unwrap_or_else(|| p.to_path_buf())
}

/// Seconds since 2000-01-01 00:00:00 UTC, the VHD epoch: SOURCE_DATE_EPOCH's if set (a
/// reproducible build), else now's.
fn timestamp() -> u32 {
    const VHD_EPOCH: u64 = 946_684_800;
    let unix = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    u32::try_from(unix.saturating_sub(VHD_EPOCH)).unwrap_or(u32::MAX)
}

/// A random (version 4) GUID, in the on-disk byte order, from the standard library's
/// randomly keyed hasher.
fn guid() -> [u8; 16] {
    let mut g = [0u8; 16];
    for (i, half) in g.chunks_exact_mut(8).enumerate() {
        let mut h = RandomState::new().build_hasher();
        h.write_usize(i);
        h.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        half.copy_from_slice(&h.finish().to_le_bytes());
    }
    g[7] = (g[7] & 0x0F) | 0x40;
    g[8] = (g[8] & 0x3F) | 0x80;
    g
}
