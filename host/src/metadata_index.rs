//! A cache of every revision's `revision.toml` in one file (`<cache>/revisions.index`), so that
//! `heads`, `history` and `current` at a thousand revisions read one file and look at a thousand
//! (`stat`) instead of opening, reading and parsing a thousand.
//!
//! Like git's index, an entry is trusted only while its file's size, modification and change
//! times and inode are the ones seen when it was read; and only once those times are older than
//! the index itself by a margin (`SETTLED`): a file rewritten within one tick of the clock the
//! file system stamps with, at the same size, would otherwise keep its old entry. The folder
//! of revisions is listed again only when its own stamp moved: a folder added, removed or
//! renamed in it changes its modification time. An index that is missing, unreadable or of
//! another format is no index: the files are read as before. Never a source of truth, and
//! never an error.
//!
//! It also holds the graph's heads (`heads_summary`): while every file is the one it was made
//! from, `current` and `heads` look up the few revisions they show (`read_summary`) instead of
//! building the graph of all of them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use migrate_core::revision::RevisionMeta;

use crate::heads_summary::{self, HeadsSummary};
use crate::index_codec::{put_meta, put_text, Reader};

/// A binary file (`index_codec`): serde_json took a third of `heads` at N=1000 parsing the
/// same entries as text (BENCHMARKS.md, session 12).
const INDEX_FILE: &str = "revisions.index";
/// The text index earlier versions wrote, removed when this one is written.
const OLD_INDEX_FILE: &str = "revisions.json";
/// Bumped whenever what is stored changes. Written first, so that a file of another format is
/// recognised before the rest is read (3 was postcard's, BENCHMARKS.md session 17; 5 added the
/// heads).
const FORMAT: u32 = 5;
/// A stamp's bytes in the index.
const STAMP_BYTES: usize = 48;
/// How much older than the index a file's times must be for its entry to be trusted. Linux
/// stamps files from a clock that ticks every few milliseconds, FAT every two seconds.
const SETTLED: Duration = Duration::from_secs(2);

/// What identifies one version of a file (or folder) without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    size: u64,
    modified_ns: u128,
    changed_ns: u128,
    inode: u64,
}

/// The start of the index (`decode_head` says how it is laid out); an `Entry` per name follows,
/// in the names' order. The entries are decoded one at a time as they are checked: at a
/// thousand revisions, decoding them into one vector first and moving each out again faulted
/// in a few hundred KiB of fresh pages.
struct Head<'a> {
    /// When the index was written, after every entry in it was read (ns since the epoch).
    written_ns: u128,
    /// The folder of revisions itself, seen before it was listed.
    folder: Stamp,
    /// Its revision folders, in their order (borrowed from the file's bytes).
    names: Vec<&'a str>,
    /// The graph's heads when it was written, if the graph built (`heads_summary`).
    heads: Option<Vec<String>>,
}

struct Entry {
    stamp: Stamp,
    meta: RevisionMeta,
}

/// Where the files are: `<path>/<name>/<file>` for each revision folder `name`.
pub struct Folder<'a> {
    pub path: &'a Path,
    pub file: &'a str,
}

impl Folder<'_> {
    fn file_of(&self, name: &str) -> PathBuf {
        self.path.join(name).join(self.file)
    }
}

/// The revision folders, in their order, and each one's file as parsed.
pub struct Revisions {
    pub names: Vec<String>,
    pub metas: Vec<anyhow::Result<RevisionMeta>>,
}

/// Every revision folder in `folder` (from `list`, called unless the index holds the listing
/// unchanged) and its file, parsed by `parse` unless the index in `cache_dir` holds it
/// unchanged; the index is rewritten when anything had to be read or listed.
pub fn read_all<L, P>(
    folder: &Folder,
    cache_dir: Option<&Path>,
    list: L,
    parse: P,
) -> anyhow::Result<Revisions>
where
    L: FnOnce() -> anyhow::Result<Vec<String>>,
    P: Fn(&Path) -> anyhow::Result<RevisionMeta> + Sync,
{
    let index_path = cache_dir.map(|dir| dir.join(INDEX_FILE));
    let bytes = index_path
        .as_deref()
        .and_then(|path| std::fs::read(path).ok())
        .unwrap_or_default();
    let index = decode_head(&bytes);
    let trusted_before = index.as_ref().map_or(0, |(head, _)| trusted_before(head));
    let settled = |stamp: &Stamp| is_settled(stamp, trusted_before);
    // Seen before the listing: a change made while listing shows as a new stamp next time.
    let folder_stamp = stamp(folder.path);
    let listed = match &index {
        Some((head, _)) if holds_listing(head, folder_stamp.as_ref()) => None,
        _ => Some(list()?),
    };
    // Listed (no index, a folder that moved, or one that moved too recently to be trusted):
    // the index is written again with what the listing found.
    let relisted = listed.is_some();
    let names: Vec<String> = match (listed, &index) {
        (Some(names), _) => names,
        (None, Some((head, _))) => head.names.iter().map(|name| name.to_string()).collect(),
        (None, None) => unreachable!("listed unless the index holds the listing"),
    };
    // `stat` first, then read: a file changed in between is stored with its older stamp and
    // read again next time. On one thread: two threads' `stat`s took as long as one's
    // (BENCHMARKS.md, sessions 14 and 15).
    let stamps: Vec<Option<Stamp>> = stamps(folder, &names).collect();
    let mut stored = Stored::new(index, &names);
    let mut missing = Vec::new();
    let looked_up: Vec<Option<RevisionMeta>> = names
        .iter()
        .zip(&stamps)
        .enumerate()
        .map(|(i, (name, stamp))| {
            let found = stored
                .take_unchanged(name, stamp.as_ref().filter(|stamp| settled(stamp)))
                .flatten();
            if found.is_none() {
                missing.push(i);
            }
            found
        })
        .collect();
    // Parsed in the files' order, so they fill the gaps in that order.
    let mut parsed =
        crate::parallel::map(&missing, 64, |&i| parse(&folder.file_of(&names[i]))).into_iter();
    let metas: Vec<anyhow::Result<RevisionMeta>> = looked_up
        .into_iter()
        .map(|found| found.map_or_else(|| parsed.next().expect("one per gap"), Ok))
        .collect();
    let changed = !missing.is_empty() || relisted;
    if let (true, Some(path), Some(folder_stamp)) = (changed, index_path, folder_stamp) {
        save(&path, folder_stamp, &names, &stamps, &metas);
    }
    Ok(Revisions { names, metas })
}

/// The graph's heads and a look-up of every revision from the index in `cache_dir`, if it
/// holds the folder's listing and every file as they are now (what `read_all` would take from
/// it without reading a file) and the graph built when it was written. Every file is still
/// looked at (`stat`), none is read, and nothing is decoded but the revisions asked for.
pub fn read_summary(folder: &Folder, cache_dir: &Path) -> Option<HeadsSummary> {
    let bytes = std::fs::read(cache_dir.join(INDEX_FILE)).ok()?;
    let (head, body) = decode_head(&bytes)?;
    let trusted_before = trusted_before(&head);
    if !holds_listing(&head, stamp(folder.path).as_ref()) {
        return None;
    }
    // Looked at one by one, up to the first that changed.
    let mut now = stamps(folder, &head.names);
    let unchanged = body.stamps.clone().all(|stored| {
        now.next()
            .flatten()
            .is_some_and(|now| now == Stamp::from_bytes(stored) && is_settled(&now, trusted_before))
    });
    drop(now);
    if !unchanged {
        return None;
    }
    let (count, heads) = (head.names.len(), head.heads?);
    let (metas_at, text_at) = (bytes.len() - body.metas.rest().len(), body.text_at);
    // The text after the fixed-size stamps (the folder names first), moved to the front of
    // its own buffer: no copy into fresh pages.
    let mut text = bytes;
    text.drain(..text_at);
    let text = String::from_utf8(text).ok()?;
    HeadsSummary::new(heads, count, text, metas_at - text_at, 0)?.with_folders(folder.path, 0)
}

/// Stamps older than this (ns since the epoch) are trusted: see `SETTLED`.
fn trusted_before(head: &Head) -> u128 {
    head.written_ns.saturating_sub(SETTLED.as_nanos())
}

fn is_settled(stamp: &Stamp, trusted_before: u128) -> bool {
    stamp.modified_ns < trusted_before && stamp.changed_ns < trusted_before
}

/// Whether the index's listing of the folder is the folder's, now stamped `now`: a folder added,
/// removed or renamed in it changes its stamp.
fn holds_listing(head: &Head, now: Option<&Stamp>) -> bool {
    now == Some(&head.folder) && is_settled(&head.folder, trusted_before(head))
}

/// The index's entries, each taken once: decoded in turn while the names are the index's (the
/// usual case: nothing decoded ahead, no hashing), looked up by name once they are not.
enum Stored<'a> {
    Nothing,
    InOrder(Body<'a>),
    ByName(HashMap<&'a str, Entry>),
}

impl<'a> Stored<'a> {
    fn new(index: Option<(Head<'a>, Body<'a>)>, names: &[String]) -> Stored<'a> {
        let Some((head, mut body)) = index else {
            return Stored::Nothing;
        };
        if head.names.iter().eq(names.iter()) {
            return Stored::InOrder(body);
        }
        let mut by_name = HashMap::with_capacity(head.names.len());
        for name in head.names {
            let Some(entry) = body.next_entry() else {
                break; // a damaged tail: those files are read
            };
            by_name.insert(name, entry);
        }
        Stored::ByName(by_name)
    }

    /// The entry for the next name (in order), or for `name`, taken: `Some(Some(meta))` when
    /// its stamp is `now`, `Some(None)` when it is another or there is no `now`, `None` when
    /// there is no entry.
    fn take_unchanged(&mut self, name: &str, now: Option<&Stamp>) -> Option<Option<RevisionMeta>> {
        let entry = match self {
            Stored::Nothing => None,
            Stored::InOrder(body) => {
                let entry = body.next_entry();
                if entry.is_none() {
                    *self = Stored::Nothing;
                }
                entry
            }
            Stored::ByName(by_name) => by_name.remove(name),
        }?;
        Some(Some(entry.meta).filter(|_| Some(&entry.stamp) == now))
    }
}

/// The entries after the head: their stamps, fixed-size, then their metadata, text.
struct Body<'a> {
    stamps: std::slice::ChunksExact<'a, u8>,
    metas: Reader<'a>,
    /// Where the text (names, heads, metadata) starts in the file.
    text_at: usize,
}

impl Body<'_> {
    fn next_entry(&mut self) -> Option<Entry> {
        Some(Entry {
            stamp: Stamp::from_bytes(self.stamps.next()?),
            meta: self.metas.meta()?,
        })
    }
}

/// Each file's stamp, looked at as the iterator is advanced. On Unix each is looked up
/// relative to the folder, opened once: at a thousand files the `stat`s were a third of
/// `heads`, and looking each path up from the root about 40% of their time (BENCHMARKS.md,
/// session 11).
fn stamps<'a, S: AsRef<str>>(
    folder: &'a Folder,
    names: &'a [S],
) -> impl Iterator<Item = Option<Stamp>> + 'a {
    #[cfg(unix)]
    let dir = {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        rustix::fs::open(folder.path, flags, Mode::empty()).ok()
    };
    #[cfg(unix)]
    let mut relative = String::new();
    names.iter().map(move |name| {
        #[cfg(unix)]
        if let Some(dir) = &dir {
            relative.clear();
            relative.extend([name.as_ref(), "/", folder.file]);
            let stat = rustix::fs::statat(dir, relative.as_str(), rustix::fs::AtFlags::empty());
            return stat.ok().map(|s| Stamp::of(&s));
        }
        stamp(&folder.file_of(name.as_ref()))
    })
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

    /// Written as little-endian numbers: size, modification and change times, inode.
    fn to_bytes(self) -> [u8; STAMP_BYTES] {
        let mut bytes = [0; STAMP_BYTES];
        bytes[..8].copy_from_slice(&self.size.to_le_bytes());
        bytes[8..24].copy_from_slice(&self.modified_ns.to_le_bytes());
        bytes[24..40].copy_from_slice(&self.changed_ns.to_le_bytes());
        bytes[40..].copy_from_slice(&self.inode.to_le_bytes());
        bytes
    }

    /// From `to_bytes`' bytes (`STAMP_BYTES` of them).
    fn from_bytes(bytes: &[u8]) -> Stamp {
        let at = |range: std::ops::Range<usize>| &bytes[range];
        let u64_at = |range| u64::from_le_bytes(at(range).try_into().expect("8 bytes"));
        let u128_at = |range| u128::from_le_bytes(at(range).try_into().expect("16 bytes"));
        Stamp {
            size: u64_at(0..8),
            modified_ns: u128_at(8..24),
            changed_ns: u128_at(24..40),
            inode: u64_at(40..48),
        }
    }

    /// Nanoseconds since the epoch; times before it count as the epoch.
    fn ns(seconds: i64, nanoseconds: i64) -> u128 {
        seconds.max(0) as u128 * 1_000_000_000 + nanoseconds.max(0) as u128
    }
}

/// The index's head and its entries, if it is an index of this format. The file: the format,
/// the time it was written and the folder's stamp, the number of entries and each one's stamp
/// (little-endian, fixed-size: compared by value, not decoded digit by digit), then the
/// folder names, the graph's heads and each entry's metadata (`index_codec`, checked as UTF-8
/// once).
fn decode_head(bytes: &[u8]) -> Option<(Head<'_>, Body<'_>)> {
    let (format, rest) = bytes.split_first_chunk::<4>()?;
    if u32::from_le_bytes(*format) != FORMAT {
        return None;
    }
    let (written_ns, rest) = rest.split_first_chunk::<16>()?;
    let (folder, rest) = rest.split_first_chunk::<STAMP_BYTES>()?;
    let (count, rest) = rest.split_first_chunk::<8>()?;
    let count = usize::try_from(u64::from_le_bytes(*count)).ok()?;
    let stamps_len = count.checked_mul(STAMP_BYTES)?;
    let (stamps, text) = rest.split_at_checked(stamps_len)?;
    let mut metas = Reader::new(text)?;
    let names = (0..count)
        .map(|_| metas.text())
        .collect::<Option<Vec<&str>>>()?;
    let heads = heads_summary::read_heads(&mut metas)?;
    let head = Head {
        written_ns: u128::from_le_bytes(*written_ns),
        folder: Stamp::from_bytes(folder),
        names,
        heads,
    };
    let stamps = stamps.chunks_exact(STAMP_BYTES);
    let text_at = bytes.len() - text.len();
    Some((
        head,
        Body {
            stamps,
            metas,
            text_at,
        },
    ))
}

/// `head.heads` is not written: the heads are those of `metas`' graph.
fn encode(head: &Head, stamps: &[Stamp], metas: &[&RevisionMeta]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&head.written_ns.to_le_bytes());
    out.extend_from_slice(&head.folder.to_bytes());
    out.extend_from_slice(&(stamps.len() as u64).to_le_bytes());
    for stamp in stamps {
        out.extend_from_slice(&stamp.to_bytes());
    }
    for name in &head.names {
        put_text(&mut out, name);
    }
    heads_summary::put_heads(&mut out, metas.iter().map(|&meta| meta.clone()).collect());
    for meta in metas {
        put_meta(&mut out, meta);
    }
    out
}

/// Written to a temporary file and renamed over the old one, so a reader never sees half of it;
/// a cache folder that cannot be written (a read-only deployment) is left be. Only an index
/// of every revision is written: none when a file could not be read or parsed.
fn save(
    path: &Path,
    folder: Stamp,
    names: &[String],
    stamps: &[Option<Stamp>],
    metas: &[anyhow::Result<RevisionMeta>],
) {
    let Some(stamps) = stamps.iter().copied().collect::<Option<Vec<Stamp>>>() else {
        return;
    };
    let Some(metas) = metas
        .iter()
        .map(|meta| meta.as_ref().ok())
        .collect::<Option<Vec<&RevisionMeta>>>()
    else {
        return;
    };
    let Some(dir) = path.parent() else { return };
    let written_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let head = Head {
        written_ns,
        folder,
        names: names.iter().map(String::as_str).collect(),
        heads: None,
    };
    let bytes = encode(&head, &stamps, &metas);
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
    use std::sync::atomic::{AtomicUsize, Ordering};

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

    /// Counts the files parsed and the folder listings made.
    #[derive(Default)]
    struct Counts {
        parsed: AtomicUsize,
        listed: AtomicUsize,
    }

    impl Counts {
        fn get(&self) -> (usize, usize) {
            (
                self.parsed.load(Ordering::Relaxed),
                self.listed.load(Ordering::Relaxed),
            )
        }
    }

    /// `read_all` over the revision folders in `root` (every folder but `cache`).
    fn read(root: &Path, cache: Option<&Path>, counts: &Counts) -> Revisions {
        let folder = Folder {
            path: root,
            file: "revision.toml",
        };
        let list = || {
            counts.listed.fetch_add(1, Ordering::Relaxed);
            let mut names: Vec<String> = std::fs::read_dir(root)?
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|name| name != "cache")
                .collect();
            names.sort();
            Ok(names)
        };
        let parse = |file: &Path| {
            counts.parsed.fetch_add(1, Ordering::Relaxed);
            Ok(toml::from_str(&std::fs::read_to_string(file)?)?)
        };
        read_all(&folder, cache, list, parse).unwrap()
    }

    fn messages(read: &Revisions) -> Vec<&str> {
        let metas = read.metas.iter();
        metas
            .map(|m| m.as_ref().unwrap().message.as_str())
            .collect()
    }

    /// Sets a file's modification time (its change time becomes now).
    fn set_modified(file: &Path, time: SystemTime) {
        let file = std::fs::File::options().write(true).open(file).unwrap();
        file.set_modified(time).unwrap();
    }

    /// Makes the index and every stamp in it old enough to be trusted, as if the index were
    /// written long after the files and folders.
    fn age_index(cache: &Path) {
        let path = cache.join(INDEX_FILE);
        let bytes = std::fs::read(&path).unwrap();
        let (head, _) = decode_head(&bytes).unwrap();
        let written_ns = head.written_ns + 10 * SETTLED.as_nanos();
        let mut aged = bytes.clone();
        aged[4..20].copy_from_slice(&written_ns.to_le_bytes());
        std::fs::write(&path, aged).unwrap();
    }

    #[test]
    fn unchanged_files_come_from_the_index_and_a_changed_one_is_read_again() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("cache");
        write_revision(root.path(), "a1", "first");
        write_revision(root.path(), "b2", "second");
        let counts = Counts::default();
        let first = read(root.path(), Some(&cache), &counts);
        assert_eq!(first.names, ["a1_x", "b2_x"]);
        assert_eq!(messages(&first), ["first", "second"]);
        assert_eq!(counts.get(), (2, 1));

        // Just written: not yet trusted (a same-size rewrite within the clock's tick would
        // look unchanged), so both are read and the folder listed again.
        read(root.path(), Some(&cache), &counts);
        assert_eq!(counts.get(), (4, 2));

        age_index(&cache);
        let cached = read(root.path(), Some(&cache), &counts);
        assert_eq!(counts.get(), (4, 2), "nothing read, nothing listed");
        assert_eq!(cached.names, ["a1_x", "b2_x"]);
        assert_eq!(messages(&cached), ["first", "second"]);
        assert_eq!(cached.metas[1].as_ref().unwrap().id, "b2");

        // Same size, other text, a later time (set: within one tick of the file system's clock
        // the time would not move, the case the aged index above gave up protecting against).
        // Written in place, as some editors do: the folders around it do not change.
        write_revision(root.path(), "b2", "sec0nd");
        set_modified(
            &root.path().join("b2_x/revision.toml"),
            SystemTime::now() + Duration::from_secs(60),
        );
        let changed = read(root.path(), Some(&cache), &counts);
        assert_eq!(
            counts.get(),
            (5, 2),
            "the one file read, the folder not listed"
        );
        assert_eq!(messages(&changed), ["first", "sec0nd"]);
    }

    #[test]
    fn a_revision_folder_added_or_removed_is_seen_without_listing_every_time() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("cache");
        write_revision(root.path(), "b2", "second");
        write_revision(root.path(), "c3", "third");
        let counts = Counts::default();
        read(root.path(), Some(&cache), &counts);
        age_index(&cache);
        // A folder sorted before the others shifts every position by one: the entries are
        // found by name, and only the new folder's file is read.
        write_revision(root.path(), "a1", "first");
        let added = read(root.path(), Some(&cache), &counts);
        assert_eq!(counts.get(), (3, 2));
        assert_eq!(added.names, ["a1_x", "b2_x", "c3_x"]);
        assert_eq!(messages(&added), ["first", "second", "third"]);
        age_index(&cache);
        read(root.path(), Some(&cache), &counts);
        assert_eq!(counts.get(), (3, 2), "the new listing is kept");
        std::fs::remove_dir_all(root.path().join("b2_x")).unwrap();
        let removed = read(root.path(), Some(&cache), &counts);
        assert_eq!(counts.get(), (3, 3), "listed again, nothing read");
        assert_eq!(removed.names, ["a1_x", "c3_x"]);
        assert_eq!(messages(&removed), ["first", "third"]);
    }

    /// The summary answers only where `read_all` would read no file and list no folder, and
    /// only for a graph that builds: it has the graph's heads, each revision's metadata and its
    /// folder.
    #[test]
    fn the_summary_answers_only_while_every_file_is_the_one_indexed() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("cache");
        let folder = Folder {
            path: root.path(),
            file: "revision.toml",
        };
        write_revision(root.path(), "a1", "first");
        write_revision(root.path(), "b2", "second");
        let counts = Counts::default();
        read(root.path(), Some(&cache), &counts);
        assert!(read_summary(&folder, &cache).is_none(), "not yet trusted");
        // (The cache folder made inside the folder listed moved its stamp: listed again.)
        read(root.path(), Some(&cache), &counts);

        age_index(&cache);
        let summary = read_summary(&folder, &cache).expect("every file unchanged");
        assert_eq!(summary.heads(), ["a1", "b2"], "two bases, two heads");
        assert_eq!(summary.get("b2").unwrap().message, "second");
        assert_eq!(summary.source("b2"), Some(root.path().join("b2_x")));
        assert_eq!(summary.get("c3"), None);

        // Rewritten in place (a later time, the same size): no summary until indexed again.
        write_revision(root.path(), "b2", "sec0nd");
        set_modified(
            &root.path().join("b2_x/revision.toml"),
            SystemTime::now() + Duration::from_secs(60),
        );
        assert!(read_summary(&folder, &cache).is_none(), "a file changed");
        // Its time put back in the past, indexed again and the index aged: as a later run
        // would find it.
        set_modified(
            &root.path().join("b2_x/revision.toml"),
            SystemTime::now() - Duration::from_secs(60),
        );
        read(root.path(), Some(&cache), &counts);
        age_index(&cache);
        let summary = read_summary(&folder, &cache).expect("indexed again");
        assert_eq!(summary.get("b2").unwrap().message, "sec0nd");

        // A revision folder added: the listing is no longer the index's.
        write_revision(root.path(), "c3", "third");
        assert!(read_summary(&folder, &cache).is_none(), "a folder added");

        // A graph that does not build has no summary, however old its index.
        std::fs::write(
            root.path().join("c3_x/revision.toml"),
            "id = \"c3\"\ndown_revisions = [\"gone\"]\nmessage = \"third\"\n",
        )
        .unwrap();
        let with_c3 = read(root.path(), Some(&cache), &counts);
        assert_eq!(with_c3.names.len(), 3, "indexed, every file parsed");
        age_index(&cache);
        assert!(
            read_summary(&folder, &cache).is_none(),
            "c3's parent is unknown"
        );
    }

    #[test]
    fn a_damaged_index_one_of_another_format_or_no_cache_folder_reads_the_files() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("cache");
        write_revision(root.path(), "a1", "first");
        let counts = Counts::default();
        std::fs::create_dir_all(&cache).unwrap();
        for damaged in [
            &b"{ not an index"[..],
            &[3, 0xff, 0xff, 0xff][..],
            &[2, 0][..],
        ] {
            std::fs::write(cache.join(INDEX_FILE), damaged).unwrap();
            let read = read(root.path(), Some(&cache), &counts);
            assert_eq!(read.metas[0].as_ref().unwrap().id, "a1");
        }
        // An index cut short after its head: the entries it lacks are read.
        read(root.path(), Some(&cache), &counts);
        age_index(&cache);
        let path = cache.join(INDEX_FILE);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 4]).unwrap();
        let cut = read(root.path(), Some(&cache), &counts);
        assert_eq!(messages(&cut), ["first"]);
        let none = read(root.path(), None, &counts);
        assert_eq!(none.metas[0].as_ref().unwrap().id, "a1");
        assert_eq!(counts.get().0, 6);
    }

    #[test]
    fn writing_the_index_removes_the_text_one_earlier_versions_wrote() {
        let root = tempfile::tempdir().unwrap();
        let cache = root.path().join("cache");
        std::fs::create_dir_all(&cache).unwrap();
        std::fs::write(cache.join(OLD_INDEX_FILE), "{}").unwrap();
        write_revision(root.path(), "a1", "first");
        read(root.path(), Some(&cache), &Counts::default());
        assert!(cache.join(INDEX_FILE).is_file());
        assert!(!cache.join(OLD_INDEX_FILE).exists());
    }
}
