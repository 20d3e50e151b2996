//! A cache of every revision's `revision.toml` in one file (`<cache>/revisions.json`), so that
//! `heads`, `history` and `current` at a thousand revisions read one file and look at a thousand
//! (`stat`) instead of opening, reading and parsing a thousand.
//!
//! Like git's index, an entry is trusted only while its file's size, modification and change
//! times and inode are the ones seen when it was read; and only once those times are older than
//! the index itself by a margin (`SETTLED`): a file rewritten within one tick of the clock the
//! file system stamps with, at the same size, would otherwise keep its old entry. An index that
//! is missing, unreadable or of another format is no index: the files are read as before. Never
//! a source of truth, and never an error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use migrate_core::revision::RevisionMeta;
use serde::{Deserialize, Serialize};

const INDEX_FILE: &str = "revisions.json";
/// Bumped whenever what is stored changes.
const FORMAT: u32 = 1;
/// How much older than the index a file's times must be for its entry to be trusted. Linux
/// stamps files from a clock that ticks every few milliseconds, FAT every two seconds.
const SETTLED: Duration = Duration::from_secs(2);

/// What identifies one version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    size: u64,
    modified_ns: u128,
    changed_ns: u128,
    inode: u64,
}

#[derive(Serialize, Deserialize)]
struct Index {
    format: u32,
    /// When the index was written, after every entry in it was read (ns since the epoch).
    written_ns: u128,
    /// Per revision folder (its name under `versions/`).
    entries: HashMap<String, Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    stamp: Stamp,
    meta: RevisionMeta,
}

/// Every `file` (each a revision folder's `revision.toml`, keyed by its folder's name), parsed by
/// `parse` unless the index in `cache_dir` holds it unchanged; the index is rewritten when
/// anything had to be read. Results in the files' order.
pub fn read_all<P>(
    files: &[(String, PathBuf)],
    cache_dir: Option<&Path>,
    parse: P,
) -> Vec<anyhow::Result<RevisionMeta>>
where
    P: Fn(&Path) -> anyhow::Result<RevisionMeta> + Sync,
{
    let index_path = cache_dir.map(|dir| dir.join(INDEX_FILE));
    let mut index = index_path.as_deref().and_then(load);
    let trusted_before = index
        .as_ref()
        .map_or(0, |i| i.written_ns.saturating_sub(SETTLED.as_nanos()));
    // `stat` first, then read: a file changed in between is stored with its older stamp and
    // read again next time. On one thread: at a thousand files two threads cost more to start
    // than they save (heads at N=1000: 6.2 ms on one, 6.5 ms on two).
    let stamps = stamps(files);
    let mut cached = |name: &str, stamp: &Option<Stamp>| {
        let entry = index.as_mut()?.entries.remove(name)?;
        let stamp = (*stamp)?;
        let settled = stamp.modified_ns < trusted_before && stamp.changed_ns < trusted_before;
        (entry.stamp == stamp && settled).then_some(entry.meta)
    };
    let looked_up: Vec<Option<RevisionMeta>> = files
        .iter()
        .zip(&stamps)
        .map(|((name, _), stamp)| cached(name, stamp))
        .collect();
    let missing: Vec<usize> = (0..files.len())
        .filter(|&i| looked_up[i].is_none())
        .collect();
    // Parsed in the files' order, so they fill the gaps in that order.
    let mut parsed = crate::parallel::map(&missing, 64, |&i| parse(&files[i].1)).into_iter();
    let results: Vec<anyhow::Result<RevisionMeta>> = looked_up
        .into_iter()
        .map(|found| found.map_or_else(|| parsed.next().expect("one per gap"), Ok))
        .collect();
    if missing.is_empty() {
        return results; // nothing was read: the index holds it all already
    }
    if let Some(path) = index_path {
        if results.iter().all(|r| r.is_ok()) {
            let entries = files
                .iter()
                .zip(&stamps)
                .zip(&results)
                .filter_map(|(((name, _), stamp), meta)| {
                    let meta = meta.as_ref().ok()?.clone();
                    Some((
                        name.clone(),
                        Entry {
                            stamp: (*stamp)?,
                            meta,
                        },
                    ))
                })
                .collect();
            save(&path, entries);
        }
    }
    results
}

/// Each file's stamp. On Unix each is looked up relative to its revision folder's parent,
/// opened once: at a thousand files the `stat`s were a third of `heads`, and looking each path
/// up from the root about 40% of their time (BENCHMARKS.md, session 11).
fn stamps(files: &[(String, PathBuf)]) -> Vec<Option<Stamp>> {
    #[cfg(unix)]
    {
        let mut folder: Option<(&Path, Option<rustix::fd::OwnedFd>)> = None;
        files
            .iter()
            .map(|(_, file)| {
                let parent = file.parent().and_then(Path::parent)?;
                if folder.as_ref().map(|(dir, _)| *dir) != Some(parent) {
                    use rustix::fs::{Mode, OFlags};
                    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
                    folder = Some((parent, rustix::fs::open(parent, flags, Mode::empty()).ok()));
                }
                match &folder {
                    Some((dir, Some(fd))) => {
                        let relative = file.strip_prefix(dir).ok()?;
                        let stat = rustix::fs::statat(fd, relative, rustix::fs::AtFlags::empty());
                        stat.ok().map(|s| Stamp::of(&s))
                    }
                    _ => stamp(file),
                }
            })
            .collect()
    }
    #[cfg(not(unix))]
    files.iter().map(|(_, file)| stamp(file)).collect()
}

fn stamp(file: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(file).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(Stamp {
            size: meta.len(),
            modified_ns: Stamp::ns(meta.mtime(), meta.mtime_nsec()),
            changed_ns: Stamp::ns(meta.ctime(), meta.ctime_nsec()),
            inode: meta.ino(),
        })
    }
    #[cfg(not(unix))]
    {
        let modified_ns = meta
            .modified()
            .ok()?
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_nanos();
        Some(Stamp {
            size: meta.len(),
            modified_ns,
            changed_ns: modified_ns,
            inode: 0,
        })
    }
}

impl Stamp {
    /// The field types differ between platforms (`i64` here, `i32` on 32-bit ones).
    #[cfg(unix)]
    #[allow(clippy::unnecessary_cast)]
    fn of(stat: &rustix::fs::Stat) -> Stamp {
        Stamp {
            size: stat.st_size as u64,
            modified_ns: Stamp::ns(stat.st_mtime as i64, stat.st_mtime_nsec as i64),
            changed_ns: Stamp::ns(stat.st_ctime as i64, stat.st_ctime_nsec as i64),
            inode: stat.st_ino as u64,
        }
    }

    /// Nanoseconds since the epoch; times before it count as the epoch.
    fn ns(seconds: i64, nanoseconds: i64) -> u128 {
        seconds.max(0) as u128 * 1_000_000_000 + nanoseconds.max(0) as u128
    }
}

fn load(path: &Path) -> Option<Index> {
    let bytes = std::fs::read(path).ok()?;
    let index: Index = serde_json::from_slice(&bytes).ok()?;
    (index.format == FORMAT).then_some(index)
}

/// Written to a temporary file and renamed over the old one, so a reader never sees half of it;
/// a cache folder that cannot be written (a read-only deployment) is left be.
fn save(path: &Path, entries: HashMap<String, Entry>) {
    let Some(dir) = path.parent() else { return };
    let written_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let index = Index {
        format: FORMAT,
        written_ns,
        entries,
    };
    let Ok(text) = serde_json::to_vec(&index) else {
        return;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let temporary = dir.join(format!("{INDEX_FILE}.{}.tmp", std::process::id()));
    if std::fs::write(&temporary, text).is_ok() && std::fs::rename(&temporary, path).is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_revision(dir: &Path, id: &str, message: &str) -> (String, PathBuf) {
        let folder = dir.join(format!("{id}_x"));
        std::fs::create_dir_all(&folder).unwrap();
        let file = folder.join("revision.toml");
        std::fs::write(
            &file,
            format!("id = \"{id}\"\ndown_revisions = []\nmessage = \"{message}\"\n"),
        )
        .unwrap();
        (format!("{id}_x"), file)
    }

    fn parse_counting(
        count: &std::sync::atomic::AtomicUsize,
    ) -> impl Fn(&Path) -> anyhow::Result<RevisionMeta> + Sync + '_ {
        move |file| {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(toml::from_str(&std::fs::read_to_string(file)?)?)
        }
    }

    /// Makes every stored entry old enough to be trusted, as if the index were written long
    /// after the files.
    fn age_index(cache: &Path) {
        let path = cache.join(INDEX_FILE);
        let mut index = load(&path).unwrap();
        index.written_ns += 10 * SETTLED.as_nanos();
        std::fs::write(&path, serde_json::to_vec(&index).unwrap()).unwrap();
    }

    #[test]
    fn unchanged_files_come_from_the_index_and_a_changed_one_is_read_again() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("cache");
        let files = vec![
            write_revision(root.path(), "a1", "first"),
            write_revision(root.path(), "b2", "second"),
        ];
        let reads = std::sync::atomic::AtomicUsize::new(0);
        let first = read_all(&files, Some(&cache), parse_counting(&reads));
        assert_eq!(first[1].as_ref().unwrap().message, "second");
        assert_eq!(reads.load(std::sync::atomic::Ordering::Relaxed), 2);

        // Just written: not yet trusted (a same-size rewrite within the clock's tick would
        // look unchanged), so both are read again.
        read_all(&files, Some(&cache), parse_counting(&reads));
        assert_eq!(reads.load(std::sync::atomic::Ordering::Relaxed), 4);

        age_index(&cache);
        let cached = read_all(&files, Some(&cache), parse_counting(&reads));
        assert_eq!(reads.load(std::sync::atomic::Ordering::Relaxed), 4);
        assert_eq!(cached[0].as_ref().unwrap().message, "first");

        // Same size, other text, a later time (set: within one tick of the file system's clock
        // the time would not move, the case the aged index above gave up protecting against).
        let (_, rewritten) = write_revision(root.path(), "b2", "sec0nd");
        std::fs::File::options()
            .write(true)
            .open(&rewritten)
            .unwrap()
            .set_modified(SystemTime::now() + Duration::from_secs(60))
            .unwrap();
        let changed = read_all(&files, Some(&cache), parse_counting(&reads));
        assert_eq!(reads.load(std::sync::atomic::Ordering::Relaxed), 5);
        assert_eq!(changed[1].as_ref().unwrap().message, "sec0nd");
    }

    #[test]
    fn a_damaged_index_or_no_cache_folder_reads_the_files() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("cache");
        let files = vec![write_revision(root.path(), "a1", "first")];
        let reads = std::sync::atomic::AtomicUsize::new(0);
        std::fs::create_dir_all(&cache).unwrap();
        std::fs::write(cache.join(INDEX_FILE), b"{ not json").unwrap();
        let read = read_all(&files, Some(&cache), parse_counting(&reads));
        assert_eq!(read[0].as_ref().unwrap().id, "a1");
        let none = read_all(&files, None, parse_counting(&reads));
        assert_eq!(none[0].as_ref().unwrap().id, "a1");
        assert_eq!(reads.load(std::sync::atomic::Ordering::Relaxed), 2);
    }
}
