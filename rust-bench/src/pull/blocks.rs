//! What the image readers and writers share: random access to a virtual disk, reading a
//! structure at an offset, and writing with holes.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

use anyhow::Result;

use crate::usage;

/// Random access to a virtual disk: `read_at` fills `buf` from virtual offset `offset`
/// (callers never read past `len`). Unallocated areas read as zeros.
pub trait Blocks {
    fn len(&self) -> u64;
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
}

/// Read exactly `buf.len()` bytes at `offset`; a short file is a truncated image.
pub fn read_exact_at(file: &mut File, offset: u64, buf: &mut [u8]) -> Result<()> {
    let result = file
        .seek(SeekFrom::Start(offset))
        .and_then(|_| file.read_exact(buf));
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            usage!("the image ends at a structure it needs (offset {offset}): it is truncated")
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("cannot read at offset {offset}"))),
    }
}

const ZEROS: [u8; 4096] = [0; 4096];

/// Whether `b` holds only zeros (a block a writer may leave unallocated).
pub fn is_zero(b: &[u8]) -> bool {
    b.chunks(ZEROS.len()).all(|c| c == &ZEROS[..c.len()])
}

/// Write `buf` at `at` in `out`, leaving its all-zero 4 KiB pieces as holes (they read as
/// zeros as long as the file is extended past them).
pub fn write_sparse(out: &mut File, at: u64, buf: &[u8]) -> io::Result<()> {
    for (i, piece) in buf.chunks(ZEROS.len()).enumerate() {
        if !is_zero(piece) {
            out.seek(SeekFrom::Start(at + (i * ZEROS.len()) as u64))?;
            out.write_all(piece)?;
        }
    }
    Ok(())
}

/// The I/O error a reader returns when the image is damaged beneath a valid header.
pub fn damaged(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}
