//! A cache of every revision's `revision.toml` in one file (`<cache>/revisions.index`), so that
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

/// A binary file (postcard): serde_json took a third of `heads` at N=1000 parsing the same
/// entries as text (BENCHMARKS.md, session 12).
const INDEX_FILE: &str = "revisions.index";
/// The text index earlier versions wrote, removed when this one is written.
const OLD_INDEX_FILE: &str = "revisions.json";
/// Bumped whenever what is stored changes. Written first, so that a file of another format is
/// recognised before the rest is parsed.
const FORMAT: u32 = 2;
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
    /// When the index was written, after every entry in it was read (ns since the epoch).
    written_ns: u128,
    /// Per revision folder (its name under `versions/`), in the folders' order.
    entries: Vec<(String, Entry)>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    stamp: Stamp,
    #[serde(with = "StoredMeta")]
    meta: RevisionMeta,
}

/// How `RevisionMeta` is stored here: every field always written, since a format that does not
/// name its fields cannot skip empty ones as `revision.toml` does (serde's remote derive: the
/// fields are listed once, for both directions).
#[derive(Serialize, Deserialize)]
#[serde(remote = "RevisionMeta")]
struct StoredMeta {
    id: String,
    down_revisions: Vec<String>,
    message: String,
    created: String,
    branch_labels: Vec<String>,
    depends_on: Vec<String>,
}

/// Where the files are: `<folder>/<name>/<file>` for each name, names in the folder's order.
pub struct Files<'a> {
    pub folder: &'a Path,
    pub names: &'a [String],
    pub file: &'a str,
}

impl Files<'_> {
    fn path(&self, name: &str) -> PathBuf {
        self.folder.join(name).join(self.file)
    }
}

/// Every file (each a revision folder's `revision.toml`), parsed by `parse` unless the index in
/// `cache_dir` holds it unchanged; the index is rewritten when anything had to be read. Results
/// in the names' order.
pub fn read_all<P>(
    files: &Files,
    cache_dir: Option<&Path>,
    parse: P,
) -> Vec<anyhow::Result<RevisionMeta>>
where
    P: Fn(&Path) -> anyhow::Result<RevisionMeta> + Sync,
{
    let index_path = cache_dir.map(|dir| dir.join(INDEX_FILE));
    let index = index_path.as_deref().and_then(load);
    let trusted_before = index
        .as_ref()
        .map_or(0, |i| i.written_ns.saturating_sub(SETTLED.as_nanos()));
    // `stat` first, then read: a file changed in between is stored with its older stamp and
    // read again next time. On one thread: at a thousand files two threads cost more to start
    // than they save (heads at N=1000: 6.2 ms on one, 6.5 ms on two).
    let stamps = stamps(files);
    let mut stored = Stored::from(index.map(|i| i.entries).unwrap_or_default());
    let looked_up: Vec<Option<RevisionMeta>> = files
        .names
        .iter()
        .zip(&stamps)
        .enumerate()
        .map(|(i, (name, stamp))| {
            let entry = stored.take(i, name)?;
            let stamp = (*stamp)?;
            let settled = stamp.modified_ns < trusted_before && stamp.changed_ns < trusted_before;
            (entry.stamp == stamp && settled).then_some(entry.meta)
        })
        .collect();
    let missing: Vec<usize> = (0..files.names.len())
        .filter(|&i| looked_up[i].is_none())
        .collect();
    // Parsed in the files' order, so they fill the gaps in that order.
    let mut parsed =
        crate::parallel::map(&missing, 64, |&i| parse(&files.path(&files.names[i]))).into_iter();
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
                .names
                .iter()
                .zip(&stamps)
                .zip(&results)
                .filter_map(|((name, stamp), meta)| {
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

/// The index's entries, each taken once: by position while the folders are the ones it was
/// written for (the usual case, no hashing), by name once they are not.
struct Stored {
    entries: Vec<Option<(String, Entry)>>,
    by_name: Option<HashMap<String, usize>>,
}

impl Stored {
    fn from(entries: Vec<(String, Entry)>) -> Stored {
        Stored {
            entries: entries.into_iter().map(Some).collect(),
            by_name: None,
        }
    }

    fn take(&mut self, position: usize, name: &str) -> Option<Entry> {
        let in_place = self.entries.get(position).and_then(Option::as_ref);
        let at = if in_place.is_some_and(|(stored, _)| stored == name) {
            position
        } else {
            let entries = &self.entries;
            let by_name = self.by_name.get_or_insert_with(|| {
                let named = entries.iter().enumerate();
                named
                    .filter_map(|(i, e)| Some((e.as_ref()?.0.clone(), i)))
                    .collect()
            });
            *by_name.get(name)?
        };
        self.entries.get_mut(at)?.take().map(|(_, entry)| entry)
    }
}

/// Each file's stamp. On Unix each is looked up relative to the folder, opened once: at a
/// thousand files the `stat`s were a third of `heads`, and looking each path up from the root
/// about 40% of their time (BENCHMARKS.md, session 11).
fn stamps(files: &Files) -> Vec<Option<Stamp>> {
    #[cfg(unix)]
    {
        use rustix::fs::{AtFlags, Mode, OFlags};
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        if let Ok(folder) = rustix::fs::open(files.folder, flags, Mode::empty()) {
            let mut relative = String::new();
            return files
                .names
                .iter()
                .map(|name| {
                    relative.clear();
                    relative.extend([name.as_str(), "/", files.file]);
                    let stat = rustix::fs::statat(&folder, relative.as_str(), AtFlags::empty());
                    stat.ok().map(|s| Stamp::of(&s))
                })
                .collect();
        }
    }
    files
        .names
        .iter()
        .map(|name| stamp(&files.path(name)))
        .collect()
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
    let (format, rest) = postcard::take_from_bytes::<u32>(&bytes).ok()?;
    if format != FORMAT {
        return None;
    }
    postcard::from_bytes(rest).ok()
}

fn encode(index: &Index) -> Option<Vec<u8>> {
    let mut bytes = postcard::to_allocvec(&FORMAT).ok()?;
    bytes.extend(postcard::to_allocvec(index).ok()?);
    Some(bytes)
}

/// Written to a temporary file and renamed over the old one, so a reader never sees half of it;
/// a cache folder that cannot be written (a read-only deployment) is left be.
fn save(path: &Path, entries: Vec<(String, Entry)>) {
    let Some(dir) = path.parent() else { return };
    let written_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let Some(bytes) = encode(&Index {
        written_ns,
        entries,
    }) else {
        return;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let temporary = dir.join(format!("{INDEX_FILE}.{}.tmp", std::process::id()));
    if std::fs::write(&temporary, bytes).is_ok() && std::fs::rename(&temporary, path).is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    let _ = std::fs::remove_file(dir.join(OLD_INDEX_FILE));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_revision(dir: &Path, id: &str, message: &str) -> String {
        let folder = dir.join(format!("{id}_x"));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(
            folder.join("revision.toml"),
            format!("id = \"{id}\"\ndown_revisions = []\nmessage = \"{message}\"\n"),
        )
        .unwrap();
        format!("{id}_x")
    }

    fn files<'a>(folder: &'a Path, names: &'a [String]) -> Files<'a> {
        Files {
            folder,
            names,
            file: "revision.toml",
        }
    }

    fn parse_counting(
        count: &std::sync::atomic::AtomicUsize,
    ) -> impl Fn(&Path) -> anyhow::Result<RevisionMeta> + Sync + '_ {
        move |file| {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(toml::from_str(&std::fs::read_to_string(file)?)?)
        }
    }

    fn reads(count: &std::sync::atomic::AtomicUsize) -> usize {
        count.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Makes every stored entry old enough to be trusted, as if the index were written long
    /// after the files.
    fn age_index(cache: &Path) {
        let path = cache.join(INDEX_FILE);
        let mut index = load(&path).unwrap();
        index.written_ns += 10 * SETTLED.as_nanos();
        std::fs::write(&path, encode(&index).unwrap()).unwrap();
    }

    #[test]
    fn unchanged_files_come_from_the_index_and_a_changed_one_is_read_again() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("cache");
        let names = vec![
            write_revision(root.path(), "a1", "first"),
            write_revision(root.path(), "b2", "second"),
        ];
        let files = files(root.path(), &names);
        let count = std::sync::atomic::AtomicUsize::new(0);
        let first = read_all(&files, Some(&cache), parse_counting(&count));
        assert_eq!(first[1].as_ref().unwrap().message, "second");
        assert_eq!(reads(&count), 2);

        // Just written: not yet trusted (a same-size rewrite within the clock's tick would
        // look unchanged), so both are read again.
        read_all(&files, Some(&cache), parse_counting(&count));
        assert_eq!(reads(&count), 4);

        age_index(&cache);
        let cached = read_all(&files, Some(&cache), parse_counting(&count));
        assert_eq!(reads(&count), 4);
        assert_eq!(cached[0].as_ref().unwrap().message, "first");
        assert_eq!(cached[1].as_ref().unwrap().id, "b2");

        // Same size, other text, a later time (set: within one tick of the file system's clock
        // the time would not move, the case the aged index above gave up protecting against).
        write_revision(root.path(), "b2", "sec0nd");
        std::fs::File::options()
            .write(true)
            .open(root.path().join("b2_x/revision.toml"))
            .unwrap()
            .set_modified(SystemTime::now() + Duration::from_secs(60))
            .unwrap();
        let changed = read_all(&files, Some(&cache), parse_counting(&count));
        assert_eq!(reads(&count), 5);
        assert_eq!(changed[1].as_ref().unwrap().message, "sec0nd");
    }

    #[test]
    fn entries_are_found_by_name_when_folders_come_and_go() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("cache");
        let names = vec![
            write_revision(root.path(), "b2", "second"),
            write_revision(root.path(), "c3", "third"),
        ];
        let count = std::sync::atomic::AtomicUsize::new(0);
        read_all(
            &files(root.path(), &names),
            Some(&cache),
            parse_counting(&count),
        );
        age_index(&cache);
        // A folder sorted before the others shifts every position by one.
        let mut more = vec![write_revision(root.path(), "a1", "first")];
        more.extend(names);
        let read = read_all(
            &files(root.path(), &more),
            Some(&cache),
            parse_counting(&count),
        );
        assert_eq!(reads(&count), 3, "only the new folder is read");
        let messages: Vec<&str> = read
            .iter()
            .map(|r| r.as_ref().unwrap().message.as_str())
            .collect();
        assert_eq!(messages, ["first", "second", "third"]);
    }

    #[test]
    fn a_damaged_index_one_of_another_format_or_no_cache_folder_reads_the_files() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("cache");
        let names = vec![write_revision(root.path(), "a1", "first")];
        let files = files(root.path(), &names);
        let count = std::sync::atomic::AtomicUsize::new(0);
        std::fs::create_dir_all(&cache).unwrap();
        for damaged in [
            &b"{ not an index"[..],
            &[2, 0xff, 0xff, 0xff][..],
            &[1, 0][..],
        ] {
            std::fs::write(cache.join(INDEX_FILE), damaged).unwrap();
            let read = read_all(&files, Some(&cache), parse_counting(&count));
            assert_eq!(read[0].as_ref().unwrap().id, "a1");
        }
        let none = read_all(&files, None, parse_counting(&count));
        assert_eq!(none[0].as_ref().unwrap().id, "a1");
        assert_eq!(reads(&count), 4);
    }

    #[test]
    fn writing_the_index_removes_the_text_one_earlier_versions_wrote() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("cache");
        std::fs::create_dir_all(&cache).unwrap();
        std::fs::write(cache.join(OLD_INDEX_FILE), "{}").unwrap();
        let names = vec![write_revision(root.path(), "a1", "first")];
        let count = std::sync::atomic::AtomicUsize::new(0);
        read_all(
            &files(root.path(), &names),
            Some(&cache),
            parse_counting(&count),
        );
        assert!(cache.join(INDEX_FILE).is_file());
        assert!(!cache.join(OLD_INDEX_FILE).exists());
    }
}
