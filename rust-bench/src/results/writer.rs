//! Writing result files: atomically (a power cut leaves either the old or the new file,
//! never a torn one), JSON to a file or standard output.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

/// Write `bytes` to `path` atomically: a temporary file next to it, fsync, rename over the
/// target, fsync the file again and the directory.
///
/// The second fsync matters on FAT (the appliance's results partition): Linux's vfat writes
/// a renamed file's new directory entry with size 0 and records the real size and first
/// cluster only when the inode is written back, so without it a power cut shortly after the
/// rename leaves an empty file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    let result = (|| -> Result<()> {
        let mut file =
            File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
        file.sync_all()
            .with_context(|| format!("cannot write {}", path.display()))?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("cannot sync directory {}", dir.display()))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Prove that files can be created in `dir` (what [`write_atomic`] does) by creating and
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

/// Write `bytes` to standard output (`--json -`).
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .context("cannot write to standard output")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("rust-bench-output-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.json")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reports_a_missing_directory() {
        let err = write_atomic(Path::new("/nonexistent-dir/x.json"), b"x").unwrap_err();
        assert!(err.to_string().contains("cannot create"));
    }
}
