//! `rust-bench pull IMAGE [DIR]`: copy `results/` out of a disk image without root and
//! without mounting: raw `.img`, `.vhd` (fixed or dynamic) or `.vhdx`, MBR or GPT (or a
//! bare FAT file system), FAT12/16/32.
//!
//! Existing files are never overwritten silently: run directories merge into DIR, a file that
//! is already there with the same bytes is left alone, and if any file differs nothing is
//! copied at all unless `--overwrite` is given.

mod blocks;
mod chains;
pub mod convert;
mod crc32c;
mod fat;
mod image;
mod partition;
mod vhd;
mod vhdx;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args as ClapArgs;

use crate::results::writer;
use crate::usage;

#[derive(Debug, ClapArgs)]
#[command(after_help = "\
Reads the image's FAT partition directly: no root, no mount, works on Linux and Windows.
Run directories merge into DIR; files already there with the same content are skipped; if a \
file differs, nothing is copied unless --overwrite is given.

Examples:
  rust-bench pull hvrt-enlightened.vhd
  rust-bench pull hvrt-emulated.vhdx results/emulated
  rust-bench report results/")]
pub struct Args {
    /// Disk image: .img (raw), .vhd (fixed or dynamic) or .vhdx.
    #[arg(value_name = "IMAGE")]
    pub image: PathBuf,
    /// Where to copy the run directories.
    #[arg(value_name = "DIR", default_value = "results")]
    pub dir: PathBuf,
    /// Replace files in DIR that differ from the image's copies.
    #[arg(long)]
    pub overwrite: bool,
}

/// What a pull did.
#[derive(Debug, Default, PartialEq)]
pub struct Summary {
    pub runs: Vec<String>,
    pub new: usize,
    pub unchanged: usize,
    pub replaced: usize,
}

pub fn main(args: Args) -> Result<()> {
    let (summary, format, skipped) = pull(&args.image, &args.dir, args.overwrite)?;
    for s in &skipped {
        eprintln!("rust-bench: warning: skipped {s}: its name cannot be a file here");
    }
    if summary.runs.is_empty() && summary.new + summary.unchanged + summary.replaced == 0 {
        eprintln!(
            "rust-bench: {}: results/ is empty: the image has not run yet",
            args.image.display()
        );
        return Ok(());
    }
    println!(
        "pulled {} run{} from {} ({}) into {}: {} new file{}, {} unchanged, {} replaced",
        summary.runs.len(),
        if summary.runs.len() == 1 { "" } else { "s" },
        args.image.display(),
        format,
        args.dir.display(),
        summary.new,
        if summary.new == 1 { "" } else { "s" },
        summary.unchanged,
        summary.replaced
    );
    for run in &summary.runs {
        println!("  {}", args.dir.join(run).display());
    }
    Ok(())
}

/// Copy the image's `results/` into `dest`. Returns what was done, the image format's name,
/// and entries skipped for their names.
pub fn pull(
    image_path: &Path,
    dest: &Path,
    overwrite: bool,
) -> Result<(Summary, String, Vec<String>)> {
    let with_image = |e: anyhow::Error| prefix(e, image_path);
    let mut disk = image::open(image_path).map_err(with_image)?;
    let mut format = disk.format.name().to_string();
    let disk_len = disk.len();
    let part = partition::find_fat(&mut disk, disk_len).map_err(with_image)?;
    let volume = image::Slice::new(disk, part.start, part.len);
    let found = fat::read_results(volume).map_err(with_image)?;
    if !found.label.is_empty() {
        format.push_str(&format!(", FAT volume {}", found.label));
    }

    // Plan first: nothing is written if anything conflicts.
    let mut summary = Summary::default();
    let mut conflicts = Vec::new();
    let mut writes = Vec::new();
    for file in &found.files {
        let target = join(dest, &file.path);
        // Only a regular file is read to compare (a FIFO or a device could block or never
        // end); anything else there is a conflict.
        let old = match fs::metadata(&target) {
            Ok(m) if m.is_file() => Some(fs::read(&target)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        };
        match old {
            Some(Ok(old)) if old == file.data => summary.unchanged += 1,
            Some(Ok(_)) | None => {
                conflicts.push(target.clone());
                writes.push((target, &file.data, false));
            }
            Some(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                summary.new += 1;
                writes.push((target, &file.data, true));
            }
            Some(Err(e)) => {
                return Err(
                    anyhow::Error::new(e).context(format!("cannot read {}", target.display()))
                );
            }
        }
    }
    if !conflicts.is_empty() && !overwrite {
        usage!(
            "{} file{} in {} differ{} from the image's copies (first: {}); nothing was copied: pull into another directory, or pass --overwrite to replace them",
            conflicts.len(),
            if conflicts.len() == 1 { "" } else { "s" },
            dest.display(),
            if conflicts.len() == 1 { "s" } else { "" },
            conflicts[0].display()
        );
    }
    summary.replaced = conflicts.len();

    // What this pull adds (new files and the directories it makes) is taken back if a
    // write fails (a full disk): no partial run directory is left behind.
    let mut added = Added::default();
    let written = (|| -> Result<()> {
        for d in &found.dirs {
            added.create_dir(&join(dest, d))?;
        }
        for (target, data, new) in writes {
            if let Some(parent) = target.parent() {
                added.create_dir(parent)?;
            }
            writer::write_file(&target, data)?;
            if new {
                added.files.push(target);
            }
        }
        Ok(())
    })();
    if let Err(err) = written {
        added.take_back();
        let replaced = if summary.replaced > 0 {
            " (a file already replaced keeps the image's copy)"
        } else {
            ""
        };
        return Err(err.context(format!(
            "nothing new was kept in {}{replaced}; free space there, or pull into another directory",
            dest.display()
        )));
    }
    let mut runs: Vec<String> = found
        .dirs
        .iter()
        .filter(|d| d.len() == 1)
        .map(|d| d[0].clone())
        .collect();
    runs.sort();
    summary.runs = runs;
    Ok((summary, format, found.skipped))
}

fn join(dest: &Path, parts: &[String]) -> PathBuf {
    parts.iter().fold(dest.to_path_buf(), |p, c| p.join(c))
}

/// Name the image in an error, keeping it a usage error when it was one.
fn prefix(e: anyhow::Error, image: &Path) -> anyhow::Error {
    match e.downcast::<crate::error::UsageError>() {
        Ok(u) => {
            let text = u.0;
            let shown = image.display().to_string();
            if text.starts_with(&shown) {
                anyhow::Error::new(crate::error::UsageError(text))
            } else {
                anyhow::Error::new(crate::error::UsageError(format!("{shown}: {text}")))
            }
        }
        Err(e) => e.context(image.display().to_string()),
    }
}

/// The files and directories a pull created, in the order it created them.
#[derive(Default)]
struct Added {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl Added {
    /// `create_dir_all`, noting each directory it makes.
    fn create_dir(&mut self, dir: &Path) -> Result<()> {
        let missing: Vec<&Path> = dir
            .ancestors()
            .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
            .collect();
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        self.dirs
            .extend(missing.into_iter().rev().map(Path::to_path_buf));
        Ok(())
    }

    /// Remove them again, newest first.
    fn take_back(&self) {
        for file in self.files.iter().rev() {
            let _ = fs::remove_file(file);
        }
        for dir in self.dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
}
