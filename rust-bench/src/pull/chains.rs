//! FAT cluster chains checked before any file is read.
//!
//! The `fatfs` crate follows a file's chain as far as the file's length asks: a chain that
//! loops back gives the right number of bytes, repeating earlier clusters, and a cluster
//! number beyond the volume reads whatever lies there. So `pull` first walks `results/`
//! itself, from the boot sector and the first FAT, and checks every chain: each cluster
//! inside the volume, none visited twice, ending in an end-of-chain mark, long enough for
//! the file's size. Entries are matched to what `fatfs` lists by their short (8.3) names.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom};

/// A FAT larger than this is not checked (no hvrt volume comes near it).
const MAX_FAT_BYTES: u64 = 64 << 20;
const MAX_DEPTH: usize = 8;
const MAX_ENTRIES: usize = 100_000;

/// Problems found, by the short-name path below `results/` (one name per level, as
/// `fatfs::DirEntry::short_file_name_as_bytes` gives them).
#[derive(Debug, Default)]
pub struct Problems(HashMap<Vec<Vec<u8>>, String>);

impl Problems {
    /// What is wrong with the chain of this entry, if anything.
    pub fn get(&self, short_path: &[Vec<u8>]) -> Option<&str> {
        self.0.get(short_path).map(String::as_str)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FatType {
    Fat12,
    Fat16,
    Fat32,
}

struct Volume<'a, T> {
    disk: &'a mut T,
    fat_type: FatType,
    fat: Vec<u8>,
    cluster_bytes: u64,
    data_start: u64,
    /// The highest valid cluster number.
    last_cluster: u32,
    root: Root,
}

enum Root {
    /// FAT12/16: a fixed region (offset, bytes).
    Fixed(u64, u64),
    /// FAT32: a cluster chain.
    Cluster(u32),
}

/// Walk `results/` and check every cluster chain in it. A volume this cannot make sense
/// of gives no problems: `fatfs` then says what is wrong with it.
pub fn check<T: Read + Seek>(disk: &mut T) -> Problems {
    let mut problems = Problems::default();
    if let Some(mut volume) = Volume::open(disk) {
        volume.walk_results(&mut problems);
    }
    problems
}

fn u16_at(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn u32_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]))
}

impl<'a, T: Read + Seek> Volume<'a, T> {
    fn open(disk: &'a mut T) -> Option<Volume<'a, T>> {
        let mut boot = [0u8; 512];
        disk.seek(SeekFrom::Start(0)).ok()?;
        disk.read_exact(&mut boot).ok()?;
        let bytes_per_sector = u16_at(&boot, 11);
        let sectors_per_cluster = u64::from(boot[13]);
        let reserved = u16_at(&boot, 14);
        let fats = u64::from(boot[16]);
        let root_entries = u16_at(&boot, 17);
        let total = match u16_at(&boot, 19) {
            0 => u32_at(&boot, 32),
            n => n,
        };
        let fat_sectors = match u16_at(&boot, 22) {
            0 => u32_at(&boot, 36),
            n => n,
        };
        if !(512..=4096).contains(&bytes_per_sector)
            || sectors_per_cluster == 0
            || reserved == 0
            || fats == 0
            || fat_sectors == 0
        {
            return None;
        }
        let root_sectors = (root_entries * 32).div_ceil(bytes_per_sector);
        let first_data = reserved + fats * fat_sectors + root_sectors;
        let clusters = total.checked_sub(first_data)? / sectors_per_cluster;
        let fat_type = if clusters < 4085 {
            FatType::Fat12
        } else if clusters < 65525 {
            FatType::Fat16
        } else {
            FatType::Fat32
        };
        let fat_bytes = fat_sectors * bytes_per_sector;
        if fat_bytes > MAX_FAT_BYTES {
            return None;
        }
        let mut fat = vec![0u8; fat_bytes as usize];
        disk.seek(SeekFrom::Start(reserved * bytes_per_sector))
            .ok()?;
        disk.read_exact(&mut fat).ok()?;
        let root = match fat_type {
            FatType::Fat32 => Root::Cluster(u32_at(&boot, 44) as u32),
            _ => Root::Fixed(
                (reserved + fats * fat_sectors) * bytes_per_sector,
                root_entries * 32,
            ),
        };
        Some(Volume {
            disk,
            fat_type,
            fat,
            cluster_bytes: sectors_per_cluster * bytes_per_sector,
            data_start: first_data * bytes_per_sector,
            last_cluster: u32::try_from(clusters + 1).ok()?,
            root,
        })
    }

    /// The FAT entry of `cluster`: Ok(Some(next)), Ok(None) at the end of the chain, or
    /// what is wrong.
    fn next(&self, cluster: u32) -> Result<Option<u32>, String> {
        let c = cluster as usize;
        let (value, end, bad) = match self.fat_type {
            FatType::Fat12 => {
                let at = c + c / 2;
                let Some(b) = self.fat.get(at..at + 2) else {
                    return Err(format!("cluster {cluster} has no entry in the FAT"));
                };
                let v = u16::from_le_bytes([b[0], b[1]]);
                let v = if c % 2 == 1 { v >> 4 } else { v & 0xFFF };
                (u32::from(v), 0xFF8, 0xFF7)
            }
            FatType::Fat16 => {
                let Some(b) = self.fat.get(2 * c..2 * c + 2) else {
                    return Err(format!("cluster {cluster} has no entry in the FAT"));
                };
                (u32::from(u16::from_le_bytes([b[0], b[1]])), 0xFFF8, 0xFFF7)
            }
            FatType::Fat32 => {
                let Some(b) = self.fat.get(4 * c..4 * c + 4) else {
                    return Err(format!("cluster {cluster} has no entry in the FAT"));
                };
                (
                    u32::from_le_bytes([b[0], b[1], b[2], b[3]]) & 0x0FFF_FFFF,
                    0x0FFF_FFF8,
                    0x0FFF_FFF7,
                )
            }
        };
        match value {
            v if v >= end => Ok(None),
            v if v == bad => Err(format!(
                "runs into cluster {cluster}, which the FAT marks bad"
            )),
            0 => Err(format!(
                "runs into cluster {cluster}, which the FAT marks free"
            )),
            v => Ok(Some(v)),
        }
    }

    /// The clusters of the chain from `first`, or what is wrong with it.
    fn chain(&self, first: u32) -> Result<Vec<u32>, String> {
        let mut clusters = Vec::new();
        let mut seen = HashSet::new();
        let mut cluster = first;
        loop {
            if cluster < 2 || cluster > self.last_cluster {
                return Err(format!(
                    "points at cluster {cluster}, outside the volume's clusters 2 to {}",
                    self.last_cluster
                ));
            }
            if !seen.insert(cluster) {
                return Err(format!(
                    "loops back to cluster {cluster} after {} clusters",
                    clusters.len()
                ));
            }
            clusters.push(cluster);
            match self.next(cluster)? {
                Some(next) => cluster = next,
                None => return Ok(clusters),
            }
        }
    }

    fn read_at(&mut self, offset: u64, bytes: u64) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; bytes as usize];
        self.disk.seek(SeekFrom::Start(offset)).ok()?;
        self.disk.read_exact(&mut buf).ok()?;
        Some(buf)
    }

    /// The bytes of a directory whose chain is sound.
    fn read_chain(&mut self, clusters: &[u32]) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for &c in clusters {
            let offset = self.data_start + u64::from(c - 2) * self.cluster_bytes;
            out.extend(self.read_at(offset, self.cluster_bytes)?);
        }
        Some(out)
    }

    fn walk_results(&mut self, problems: &mut Problems) {
        let root = match self.root {
            Root::Fixed(offset, bytes) => self.read_at(offset, bytes),
            Root::Cluster(first) => match self.chain(first) {
                Ok(clusters) => self.read_chain(&clusters),
                Err(_) => None,
            },
        };
        let Some(root) = root else { return };
        let Some(results) = entries(&root, self.fat_type)
            .into_iter()
            .find(|e| e.is_dir && e.short.eq_ignore_ascii_case(b"RESULTS"))
        else {
            return;
        };
        let mut budget = MAX_ENTRIES;
        let mut path = Vec::new();
        self.walk(results.first_cluster, &mut path, problems, &mut budget);
    }

    fn walk(
        &mut self,
        first: u32,
        path: &mut Vec<Vec<u8>>,
        problems: &mut Problems,
        budget: &mut usize,
    ) {
        let data = match self.chain(first) {
            Ok(clusters) => self.read_chain(&clusters),
            Err(problem) => {
                problems.0.insert(path.clone(), problem);
                return;
            }
        };
        let Some(data) = data else { return };
        if path.len() > MAX_DEPTH {
            return;
        }
        for entry in entries(&data, self.fat_type) {
            if *budget == 0 {
                return;
            }
            *budget -= 1;
            path.push(entry.short.clone());
            if entry.is_dir {
                self.walk(entry.first_cluster, path, problems, budget);
            } else if let Some(problem) = self.check_file(&entry) {
                problems.0.insert(path.clone(), problem);
            }
            path.pop();
        }
    }

    fn check_file(&self, entry: &Entry) -> Option<String> {
        if entry.size == 0 {
            return None;
        }
        if entry.first_cluster == 0 {
            return Some(format!("has {} bytes but no clusters", entry.size));
        }
        match self.chain(entry.first_cluster) {
            Err(problem) => Some(problem),
            Ok(clusters) => {
                let needed = u64::from(entry.size).div_ceil(self.cluster_bytes);
                (needed > clusters.len() as u64).then(|| {
                    format!(
                        "has {} clusters where its {} bytes need {needed}",
                        clusters.len(),
                        entry.size
                    )
                })
            }
        }
    }
}

struct Entry {
    short: Vec<u8>,
    is_dir: bool,
    first_cluster: u32,
    size: u32,
}

/// The live entries of a directory's bytes, without `.`, `..`, long-name parts and the
/// volume label.
fn entries(data: &[u8], fat_type: FatType) -> Vec<Entry> {
    let mut out = Vec::new();
    for raw in data.chunks_exact(32) {
        match raw[0] {
            0x00 => break,
            0xE5 => continue,
            _ => {}
        }
        let attrs = raw[11];
        if attrs & 0x0F == 0x0F || attrs & 0x08 != 0 {
            continue;
        }
        let mut name = [0u8; 11];
        name.copy_from_slice(&raw[..11]);
        let short = short_name(&name);
        if short == b"." || short == b".." {
            continue;
        }
        let high = if fat_type == FatType::Fat32 {
            u32::from(u16::from_le_bytes([raw[20], raw[21]])) << 16
        } else {
            0
        };
        out.push(Entry {
            short,
            is_dir: attrs & 0x10 != 0,
            first_cluster: high | u32::from(u16::from_le_bytes([raw[26], raw[27]])),
            size: u32::from_le_bytes([raw[28], raw[29], raw[30], raw[31]]),
        });
    }
    out
}

/// "NAME    EXT" as "NAME.EXT", as fatfs spells a short name.
fn short_name(raw: &[u8; 11]) -> Vec<u8> {
    let base = raw[..8]
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(0, |p| p + 1);
    let ext = raw[8..]
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(0, |p| p + 1);
    let mut name = raw[..base].to_vec();
    if ext > 0 {
        name.push(b'.');
        name.extend_from_slice(&raw[8..8 + ext]);
    }
    if name.first() == Some(&0x05) {
        name[0] = 0xE5;
    }
    name
}

#[cfg(test)]
mod tests {
    use super::short_name;

    #[test]
    fn short_names_as_fatfs_spells_them() {
        assert_eq!(short_name(b"RUN     JSO"), b"RUN.JSO");
        assert_eq!(short_name(b"RESULTS    "), b"RESULTS");
        assert_eq!(short_name(b"\x05AB     C  "), b"\xE5AB.C");
    }
}
