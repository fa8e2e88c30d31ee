//! Writing result files, by one rule for every file rust-bench writes (a test's `--json` and
//! `--out`, `run`, `report --out` and `--histograms`, `pull`, `convert`), decided by what the
//! destination is when it is written:
//!
//! - a regular file, or a name that does not exist yet: written whole under a temporary name
//!   beside it, then renamed over it (a power cut leaves the old file or the new one, never a
//!   torn one); a symbolic link to a regular file replaces the file it points to;
//! - standard output (`-`, or a path naming the same file, such as `/dev/stdout`): written to
//!   it;
//! - a character device, a FIFO or a socket (`/dev/null`, a named pipe): written in place, as
//!   a shell's `>` would; a write error (`/dev/full`'s ENOSPC) is an error;
//! - a directory, a block device, or a symbolic link to nothing: refused with a message.
//!
//! Nothing is ever renamed over anything but a regular file: run as root, a rename over
//! `/dev/null` would turn the device into a regular file.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

/// Where a file goes, by what its path names now ([`Target::of`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A regular file (`exists`) or a new one, at `path` (a symbolic link resolved):
    /// replaced whole by a rename.
    Replace { path: PathBuf, exists: bool },
    /// This process's standard output.
    Stdout,
    /// A character device, FIFO or socket (`kind` says which): written in place.
    InPlace { path: PathBuf, kind: &'static str },
}

impl Target {
    /// What `path` names, or a usage error saying why it cannot take a file.
    pub fn of(path: &Path) -> Result<Target> {
        let shown = path.display();
        let link = match fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Target::Replace {
                    path: path.to_path_buf(),
                    exists: false,
                });
            }
            Err(e) => return Err(e).with_context(|| format!("cannot look at {shown}")),
        };
        let meta = if link.file_type().is_symlink() {
            match fs::metadata(path) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => crate::usage!(
                    "{shown} is a symbolic link to a file that does not exist; remove the link or give another file"
                ),
                Err(e) => return Err(e).with_context(|| format!("cannot look at {shown}")),
            }
        } else {
            link.clone()
        };
        if is_stdout(&meta) {
            return Ok(Target::Stdout);
        }
        let kind = meta.file_type();
        if kind.is_file() {
            let path = if link.file_type().is_symlink() {
                fs::canonicalize(path).with_context(|| format!("cannot resolve {shown}"))?
            } else {
                path.to_path_buf()
            };
            return Ok(Target::Replace { path, exists: true });
        }
        let in_place = |kind| {
            Ok(Target::InPlace {
                path: path.to_path_buf(),
                kind,
            })
        };
        if kind.is_char_device() {
            in_place("a character device")
        } else if kind.is_fifo() {
            in_place("a FIFO")
        } else if kind.is_socket() {
            in_place("a socket")
        } else if kind.is_dir() {
            crate::usage!("{shown} is a directory; give a file name")
        } else {
            let what = if kind.is_block_device() {
                "a block device"
            } else {
                "a special file"
            };
            crate::usage!(
                "{shown} is {what}; rust-bench writes a result only to a regular file (replaced whole), a character device, a FIFO or a socket: give a file name"
            )
        }
    }

    /// An existing regular file, which writing replaces (the one case `--force` is for).
    pub fn replaces_a_file(&self) -> bool {
        matches!(self, Target::Replace { exists: true, .. })
    }

    /// Written whole by a rename: what checkpoints need (a stream would receive every
    /// checkpoint one after the other).
    pub fn is_file(&self) -> bool {
        matches!(self, Target::Replace { .. })
    }

    /// Prove, before measuring, that the file can be written: for a file, that files can
    /// be created beside it (`flag` names the option in the message). A stream is opened
    /// only when written (a FIFO's open waits for its reader).
    pub fn probe(&self, flag: &str) -> Result<()> {
        match self {
            Target::Replace { path, .. } => probe_writable(parent(path), flag),
            Target::Stdout | Target::InPlace { .. } => Ok(()),
        }
    }

    /// Write `bytes`.
    pub fn write(&self, bytes: &[u8]) -> Result<()> {
        self.write_with(|file| file.write_all(bytes))
    }

    /// Write what `fill` writes into the file it is given.
    pub fn write_with(&self, fill: impl FnOnce(&mut File) -> io::Result<()>) -> Result<()> {
        match self {
            Target::Replace { path, .. } => replace(path, fill),
            Target::Stdout => {
                std::io::stdout().flush().ok();
                let mut out = File::from(std::io::stdout().as_fd().try_clone_to_owned()?);
                fill(&mut out)
                    .and_then(|()| out.flush())
                    .context("cannot write to standard output")
            }
            Target::InPlace { path, kind } => {
                let opened = if *kind == "a socket" {
                    UnixStream::connect(path).map(|s| File::from(OwnedFd::from(s)))
                } else {
                    OpenOptions::new().write(true).open(path)
                };
                opened
                    .and_then(|mut file| fill(&mut file).and_then(|()| file.flush()))
                    .with_context(|| format!("cannot write {} ({kind})", path.display()))
            }
        }
    }
}

/// Write `bytes` to `path` by the rule of this module.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    Target::of(path)?.write(bytes)
}

/// Write a result's JSON (as [`to_json`] makes it) to `path` by the rule of this module;
/// when the disk is too full for it, again without indentation (about half the size), and
/// say so on stderr.
pub fn write_json(path: &Path, json: &[u8]) -> Result<()> {
    let target = Target::of(path)?;
    match target.write(json) {
        Err(e) if target.is_file() && is_full(&e) => {
            target.write(&compact_json(json))?;
            eprintln!(
                "rust-bench: the disk is full: {} written without indentation",
                path.display()
            );
            Ok(())
        }
        written => written,
    }
}

fn is_full(err: &anyhow::Error) -> bool {
    err.root_cause()
        .downcast_ref::<io::Error>()
        .is_some_and(|e| e.kind() == io::ErrorKind::StorageFull)
}

/// `json` without the whitespace between its tokens: the same values, smaller.
pub fn compact_json(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() / 2);
    let (mut in_string, mut escaped) = (false, false);
    for &b in json {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
            in_string = b == b'"';
            out.push(b);
        }
    }
    out.push(b'\n');
    out
}

/// Whether `meta` is the file this process's standard output writes to.
fn is_stdout(meta: &Metadata) -> bool {
    std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .map(File::from)
        .and_then(|f| f.metadata())
        .is_ok_and(|out| out.dev() == meta.dev() && out.ino() == meta.ino())
}

fn parent(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Replace the regular file `path` (or create it): a temporary file next to it, fsync,
/// rename over the target, fsync the file again and the directory. A failure removes the
/// temporary and leaves the old file as it was.
///
/// The second fsync matters on FAT (the appliance's results partition): Linux's vfat writes
/// a renamed file's new directory entry with size 0 and records the real size and first
/// cluster only when the inode is written back, so without it a power cut shortly after the
/// rename leaves an empty file.
fn replace(path: &Path, fill: impl FnOnce(&mut File) -> io::Result<()>) -> Result<()> {
    let dir = parent(path);
    let name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    let result = (|| -> io::Result<()> {
        // A temporary left by a crash is removed, never opened (it might be a link).
        match fs::remove_file(&tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        fill(&mut file)?;
        file.sync_all()?;
        // The rename goes only over a regular file or nothing, whatever came there since.
        if let Ok(now) = fs::symlink_metadata(path)
            && !now.file_type().is_file()
        {
            return Err(io::Error::other(
                "it is no longer a regular file; nothing written",
            ));
        }
        fs::rename(&tmp, path)?;
        file.sync_all()?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// Prove that files can be created in `dir` (what a rename into it needs) by creating and
/// removing one; `flag` names the option in the message.
pub fn probe_writable(dir: &Path, flag: &str) -> Result<()> {
    let probe = dir.join(format!(".rust-bench-probe-{}.tmp", std::process::id()));
    let written = File::create(&probe).and_then(|mut f| f.write_all(b"probe\n"));
    let _ = fs::remove_file(&probe);
    if let Err(e) = written {
        crate::usage!(
            "cannot write in {} ({e}); give {flag} a writable place",
            dir.display()
        );
    }
    Ok(())
}

/// Pretty JSON of `value` with a trailing newline.
pub fn to_json(value: &impl Serialize) -> Result<Vec<u8>> {
    let mut v = serde_json::to_vec_pretty(value).context("cannot serialize results")?;
    v.push(b'\n');
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<std::ffi::OsString> {
        let mut names: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        assert_eq!(
            Target::of(&path).unwrap(),
            Target::Replace {
                path: path.clone(),
                exists: false
            }
        );
        write_file(&path, b"one").unwrap();
        assert!(Target::of(&path).unwrap().replaces_a_file());
        write_file(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(names(dir.path()), vec![std::ffi::OsString::from("a.json")]);
    }

    #[test]
    fn a_link_to_a_file_keeps_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("real.json");
        fs::write(&file, "old").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        write_file(&link, b"new").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&file).unwrap(), b"new");
        let dangling = dir.path().join("dangling.json");
        std::os::unix::fs::symlink(dir.path().join("missing"), &dangling).unwrap();
        let err = write_file(&dangling, b"x").unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
        assert!(
            fs::symlink_metadata(&dangling)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    #[test]
    fn refuses_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_file(dir.path(), b"x").unwrap_err();
        assert!(err.downcast_ref::<crate::error::UsageError>().is_some());
        assert!(err.to_string().contains("is a directory"), "{err}");
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn a_fifo_is_written_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(fifo).unwrap())
        };
        let target = Target::of(&fifo).unwrap();
        assert!(!target.is_file() && !target.replaces_a_file());
        target.write(b"{\"test\": 1}\n").unwrap();
        assert_eq!(reader.join().unwrap(), b"{\"test\": 1}\n");
        assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(names(dir.path()), vec![std::ffi::OsString::from("pipe")]);
    }

    #[test]
    fn a_socket_is_written_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let reader = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            io::Read::read_to_end(&mut s, &mut got).unwrap();
            got
        });
        write_file(&path, b"json\n").unwrap();
        assert_eq!(reader.join().unwrap(), b"json\n");
        assert!(fs::metadata(&path).unwrap().file_type().is_socket());
    }

    #[test]
    fn compact_json_keeps_every_value() {
        let value = serde_json::json!({
            "a": [1, 2.5, -3e-7, null],
            "s": "two  spaces, a \\\" quote\\n and \\\\",
            "o": {"k": true},
        });
        let pretty = to_json(&value).unwrap();
        let compact = compact_json(&pretty);
        assert!(compact.len() < pretty.len() * 3 / 4);
        assert!(!compact[..compact.len() - 1].contains(&b'\n'));
        let back: serde_json::Value = serde_json::from_slice(&compact).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn reports_a_missing_directory() {
        let err = write_file(Path::new("/nonexistent-dir/x.json"), b"x").unwrap_err();
        assert!(
            format!("{err:#}").contains("cannot write /nonexistent-dir/x.json"),
            "{err:#}"
        );
    }
}
