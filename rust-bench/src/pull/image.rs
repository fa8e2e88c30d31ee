//! A disk image's virtual bytes, whatever holds them: a raw image, a VHD (fixed or dynamic)
//! or a VHDX. The format is recognised by its signatures, not by the file name.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use anyhow::Result;

use super::blocks::{Blocks, read_exact_at};
use super::{vhd, vhdx};
use crate::usage;

/// The container formats `pull` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Raw,
    VhdFixed,
    VhdDynamic,
    Vhdx,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Raw => "raw disk image",
            Format::VhdFixed => "fixed VHD",
            Format::VhdDynamic => "dynamic VHD",
            Format::Vhdx => "VHDX",
        }
    }
}

/// A virtual disk as a seekable, read-only byte stream.
pub struct Disk {
    blocks: Box<dyn Blocks>,
    pos: u64,
    pub format: Format,
}

/// Open an image file and recognise its format.
pub fn open(path: &Path) -> Result<Disk> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            usage!(
                "{}: no such file; give a .img, .vhd or .vhdx disk image",
                path.display()
            )
        }
        Err(e) => usage!("{}: cannot open: {e}", path.display()),
    };
    let file_len = match file.metadata() {
        Ok(m) if m.is_dir() => usage!(
            "{}: is a directory; give a .img, .vhd or .vhdx disk image",
            path.display()
        ),
        Ok(m) => m.len(),
        Err(e) => usage!("{}: cannot read: {e}", path.display()),
    };
    if file_len < 512 {
        usage!(
            "{}: only {file_len} bytes, too small for a disk image",
            path.display()
        );
    }
    let mut head = [0u8; 8];
    read_exact_at(&mut file, 0, &mut head)?;
    let mut tail = [0u8; 512];
    read_exact_at(&mut file, file_len - 512, &mut tail)?;
    let mut first = [0u8; 512];
    read_exact_at(&mut file, 0, &mut first)?;

    let (blocks, format): (Box<dyn Blocks>, Format) = if &head == vhdx::SIGNATURE {
        (Box::new(vhdx::Vhdx::open(file, file_len)?), Format::Vhdx)
    } else if &tail[..8] == vhd::COOKIE || &first[..8] == vhd::COOKIE {
        // A fixed VHD has its footer at the end; a dynamic one also keeps a copy at the start.
        let footer = if &tail[..8] == vhd::COOKIE {
            tail
        } else {
            first
        };
        let vhd = vhd::Vhd::open(file, file_len, &footer)?;
        let format = if vhd.is_dynamic() {
            Format::VhdDynamic
        } else {
            Format::VhdFixed
        };
        (Box::new(vhd), format)
    } else {
        // A name that promises a container must hold one: a VHD that lost its footer or a
        // file renamed by mistake is better refused than read as raw bytes.
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("vhd") => usage!(
                "{}: no VHD footer (\"conectix\") at the end or the start: a truncated VHD, or not a VHD",
                path.display()
            ),
            Some("vhdx") => usage!(
                "{}: no VHDX signature (\"vhdxfile\") at the start: not a VHDX, or a damaged one",
                path.display()
            ),
            _ => {}
        }
        let raw = Raw {
            file,
            len: file_len,
        };
        (Box::new(raw), Format::Raw)
    };
    Ok(Disk {
        blocks,
        pos: 0,
        format,
    })
}

impl Disk {
    pub fn len(&self) -> u64 {
        self.blocks.len()
    }
}

impl Read for Disk {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.blocks.len().saturating_sub(self.pos);
        let n = (buf.len() as u64).min(left) as usize;
        if n == 0 {
            return Ok(0);
        }
        self.blocks.read_at(self.pos, &mut buf[..n])?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Disk {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = seek_to(self.pos, self.blocks.len(), to)?;
        Ok(self.pos)
    }
}

/// A window onto a part of a stream (a partition of a disk), read-only.
pub struct Slice<T> {
    inner: T,
    start: u64,
    len: u64,
    pos: u64,
}

impl<T: Read + Seek> Slice<T> {
    pub fn new(inner: T, start: u64, len: u64) -> Slice<T> {
        Slice {
            inner,
            start,
            len,
            pos: 0,
        }
    }
}

impl<T: Read + Seek> Read for Slice<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let n = (buf.len() as u64).min(left) as usize;
        if n == 0 {
            return Ok(0);
        }
        self.inner.seek(SeekFrom::Start(self.start + self.pos))?;
        let got = self.inner.read(&mut buf[..n])?;
        self.pos += got as u64;
        Ok(got)
    }
}

impl<T: Read + Seek> Seek for Slice<T> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = seek_to(self.pos, self.len, to)?;
        Ok(self.pos)
    }
}

/// `pull` never writes to an image: the FAT library's rare bookkeeping writes fail here.
impl<T> Write for Slice<T> {
    fn write(&mut self, _buf: &[u8]) -> io::Result<usize> {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "the image is opened read-only",
        ))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn seek_to(pos: u64, len: u64, to: SeekFrom) -> io::Result<u64> {
    let target = match to {
        SeekFrom::Start(n) => Some(n),
        SeekFrom::Current(d) => pos.checked_add_signed(d),
        SeekFrom::End(d) => len.checked_add_signed(d),
    };
    target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))
}

/// A raw image: the file is the disk.
struct Raw {
    file: File,
    len: u64,
}

impl Blocks for Raw {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.read_exact(buf)
    }
}
