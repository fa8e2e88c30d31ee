//! Reading `results/` out of a FAT file system with the `fatfs` crate, read-only, bounded
//! (depth, entry count, total size) so a damaged directory chain cannot loop forever.

use std::io::{Read, Seek, SeekFrom, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};

use anyhow::Result;

use super::chains::{self, Problems};
use crate::usage;

/// At most this many entries and this many bytes are read: far more than any results
/// directory holds, little enough that a damaged file system cannot exhaust memory.
const MAX_ENTRIES: usize = 100_000;
const MAX_BYTES: u64 = 4 << 30;
const MAX_DEPTH: usize = 8;

/// A file found under `results/`: its path below `results/`, one name per level, and bytes.
#[derive(Debug, Clone)]
pub struct Found {
    pub path: Vec<String>,
    pub data: Vec<u8>,
}

/// What a walk of `results/` found.
#[derive(Debug)]
pub struct Results {
    pub label: String,
    pub files: Vec<Found>,
    /// Directories (paths below `results/`), so empty run directories come along too.
    pub dirs: Vec<Vec<String>>,
    /// Entries left out because their names cannot be files on this system.
    pub skipped: Vec<String>,
}

/// Mount the FAT file system on `volume` and read all of `results/`.
pub fn read_results<T: Read + Write + Seek>(volume: T) -> Result<Results> {
    // fatfs validates what it reads; catch_unwind is the last line of defence should a damaged
    // image still reach an assertion inside it: the user gets an error, not a crash.
    // The default hook would print a multi-line panic report before the one-line error.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = catch_unwind(AssertUnwindSafe(|| walk(volume)));
    std::panic::set_hook(hook);
    match outcome {
        Ok(r) => r,
        Err(_) => usage!("the FAT file system is damaged (its structures contradict each other)"),
    }
}

fn walk<T: Read + Write + Seek>(mut volume: T) -> Result<Results> {
    // fatfs follows a looping or out-of-range cluster chain without a word: check them first.
    let problems = chains::check(&mut volume);
    if let Err(e) = volume.seek(SeekFrom::Start(0)) {
        usage!("cannot read the FAT partition ({e}); the image is damaged");
    }
    let fs = match fatfs::FileSystem::new(volume, fatfs::FsOptions::new()) {
        Ok(fs) => fs,
        Err(e) => usage!("no readable FAT file system on the partition ({e})"),
    };
    let label = fs.volume_label().trim().to_string();
    let root = fs.root_dir();
    let results = match find_dir(&root, "results") {
        Ok(Some(d)) => d,
        Ok(None) => usage!(
            "the FAT volume{} has no results/ directory; is this an hvrt image, and has it run?",
            if label.is_empty() {
                String::new()
            } else {
                format!(" \"{label}\"")
            }
        ),
        Err(e) => usage!("cannot read the FAT root directory: {e}; the image is damaged"),
    };
    let mut out = Results {
        label,
        files: Vec::new(),
        dirs: Vec::new(),
        skipped: Vec::new(),
    };
    let mut budget = Budget {
        entries: 0,
        bytes: 0,
    };
    let mut walk = Walk {
        path: Vec::new(),
        short: Vec::new(),
        problems,
    };
    collect(&results, &mut walk, &mut out, &mut budget)?;
    Ok(out)
}

/// Where the walk is: the path below `results/` in long names (for messages and output)
/// and in short names (to find the chain problems found beforehand).
struct Walk {
    path: Vec<String>,
    short: Vec<Vec<u8>>,
    problems: Problems,
}

impl Walk {
    /// Refuse the entry the walk is at if its cluster chain is broken.
    fn check_chain(&self) -> Result<()> {
        if let Some(problem) = self.problems.get(&self.short) {
            let name = if self.path.is_empty() {
                "results/".to_string()
            } else {
                format!("results/{}", self.path.join("/"))
            };
            usage!(
                "{name}: its cluster chain {problem}: the file system is damaged; nothing was copied (check the partition with fsck.vfat or chkdsk)"
            );
        }
        Ok(())
    }
}

struct Budget {
    entries: usize,
    bytes: u64,
}

fn find_dir<'a, T: Read + Write + Seek>(
    dir: &fatfs::Dir<'a, T>,
    name: &str,
) -> std::io::Result<Option<fatfs::Dir<'a, T>>> {
    for entry in dir.iter().take(MAX_ENTRIES) {
        let entry = entry?;
        if entry.is_dir() && entry.file_name().eq_ignore_ascii_case(name) {
            return Ok(Some(entry.to_dir()));
        }
    }
    Ok(None)
}

fn collect<T: Read + Write + Seek>(
    dir: &fatfs::Dir<'_, T>,
    walk: &mut Walk,
    out: &mut Results,
    budget: &mut Budget,
) -> Result<()> {
    if walk.path.len() > MAX_DEPTH {
        usage!(
            "results/{} is nested deeper than any run directory: the file system is damaged",
            walk.path.join("/")
        );
    }
    walk.check_chain()?;
    for entry in dir.iter() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => usage!(
                "cannot read directory results/{}: {e}; the image is damaged",
                walk.path.join("/")
            ),
        };
        budget.entries += 1;
        if budget.entries > MAX_ENTRIES {
            usage!("results/ holds more than {MAX_ENTRIES} entries: the file system is damaged");
        }
        let name = entry.file_name();
        if name == "." || name == ".." {
            continue;
        }
        if !is_safe_name(&name) {
            let mut dir = String::from("results/");
            for part in &walk.path {
                dir += part;
                dir.push('/');
            }
            out.skipped
                .push(format!("{} in {dir}", crate::error::quote(&name)));
            continue;
        }
        walk.path.push(name);
        walk.short.push(entry.short_file_name_as_bytes().to_vec());
        if entry.is_dir() {
            out.dirs.push(walk.path.clone());
            collect(&entry.to_dir(), walk, out, budget)?;
        } else {
            walk.check_chain()?;
            let path = &walk.path;
            let len = entry.len();
            budget.bytes += len;
            if budget.bytes > MAX_BYTES {
                usage!("results/ holds more than {MAX_BYTES} bytes: the file system is damaged");
            }
            let mut data = Vec::with_capacity(len.min(64 << 20) as usize);
            if let Err(e) = entry.to_file().take(len).read_to_end(&mut data) {
                usage!(
                    "cannot read results/{}: {e}; the image is damaged",
                    path.join("/")
                );
            }
            if (data.len() as u64) < len {
                usage!(
                    "results/{} is {len} bytes long but its clusters hold {}: the file system is damaged",
                    path.join("/"),
                    data.len()
                );
            }
            out.files.push(Found {
                path: path.clone(),
                data,
            });
        }
        walk.path.pop();
        walk.short.pop();
    }
    Ok(())
}

/// A name that is one plain path component on Linux and on Windows.
pub fn is_safe_name(name: &str) -> bool {
    const RESERVED: [&str; 22] = [
        "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
        "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ];
    let stem = name.split('.').next().unwrap_or("").to_ascii_uppercase();
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.ends_with(['.', ' '])
        && !name.chars().any(|c| {
            c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
        })
        && !RESERVED.contains(&stem.as_str())
}

#[cfg(test)]
mod tests {
    use super::is_safe_name;

    #[test]
    fn names_that_cannot_escape_or_break_windows() {
        for ok in ["run.json", "20261127-100000", "clock-tick.svg", "a b"] {
            assert!(is_safe_name(ok), "{ok}");
        }
        for bad in [
            "", ".", "..", "a/b", "a\\b", "c:", "nul", "COM1.txt", "x.", "tab\t", "q?",
        ] {
            assert!(!is_safe_name(bad), "{bad}");
        }
    }
}
