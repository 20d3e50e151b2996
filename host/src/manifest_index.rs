//! `build/manifest.index`: `build/manifest.toml` as parsed, in binary form (`index_codec`),
//! beside it. A deployment's `heads`, `history`, `current` and `status` read the graph from the
//! manifest; at a thousand revisions parsing its TOML was 17.6 M of `heads`' 26.5 M
//! instructions (BENCHMARKS.md, session 17).
//!
//! It also holds the graph's heads (`heads_summary`), so that `current` and `heads` look up
//! the few revisions they show instead of building the graph of all of them.
//!
//! The TOML stays the one truth: the index holds the BLAKE3 hash of the text it was made from,
//! and is used only while the text hashes the same. An index that is missing, damaged, of
//! another format or made from other text is no index: the TOML is parsed, as before. Hashing
//! rather than comparing file stamps, since a deployment is copied (times and inodes change,
//! the bytes do not).

use std::path::{Path, PathBuf};

use crate::heads_summary::{self, HeadsSummary};
use crate::index_codec::{put_meta, put_number, put_text, Reader};
use crate::manifest::{Entry, Manifest};

const INDEX_FILE: &str = "manifest.index";
/// Bumped whenever what is stored changes; written first (2 added the heads).
const FORMAT: u128 = 2;
/// Each entry's component hash, after its metadata.
const TEXTS_AFTER_META: usize = 1;

pub fn path(build_dir: &Path) -> PathBuf {
    build_dir.join(INDEX_FILE)
}

/// The manifest `text` parses to, if `build_dir` holds an index made from that very text.
pub fn read(build_dir: &Path, text: &str) -> Option<Manifest> {
    let index = std::fs::read_to_string(path(build_dir)).ok()?;
    let (format, _, mut reader) = read_head(&index, &text_hash(text))?;
    let revisions = reader.list(|reader| {
        let (meta, blake3) = (reader.meta()?, reader.text()?);
        Some(Entry::new_hashed(meta, blake3.to_owned()))
    })?;
    reader.is_empty().then_some(Manifest { format, revisions })
}

/// The heads and a look-up of the entries, if `build_dir` holds an index made from the text
/// `manifest` holds now, by a build whose graph built.
pub fn read_summary(build_dir: &Path, manifest: &Path) -> Option<HeadsSummary> {
    let index = std::fs::read_to_string(path(build_dir)).ok()?;
    let (_, heads, mut reader) = read_head(&index, &file_hash(manifest)?)?;
    let count = reader.count()?;
    let entries_at = index.len() - reader.rest().len();
    HeadsSummary::new(heads?, count, index, entries_at, TEXTS_AFTER_META)
}

/// The manifest's format and the heads (if the graph built), with a reader at the entries,
/// if `index` is an index of this format made from the text whose hash is `text_hash` (a file
/// that is not UTF-8 is none: every one written is).
fn read_head<'a>(
    index: &'a str,
    text_hash: &str,
) -> Option<(u32, Option<Vec<String>>, Reader<'a>)> {
    let mut reader = Reader::of_text(index);
    if reader.number()? != FORMAT || reader.text()? != text_hash {
        return None;
    }
    let format = u32::try_from(reader.number()?).ok()?;
    let heads = heads_summary::read_heads(&mut reader)?;
    Some((format, heads, reader))
}

/// Writes the index of `manifest`, parsed from `text`, unless the one there already holds it.
pub fn write(build_dir: &Path, text: &str, manifest: &Manifest) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let mut bytes = Vec::new();
    put_number(&mut bytes, FORMAT);
    put_text(&mut bytes, &text_hash(text));
    put_number(&mut bytes, u128::from(manifest.format));
    let entries = manifest
        .revisions
        .iter()
        .map(|entry| entry.clone().into_parts());
    // Heads only for a manifest `Manifest::read` accepts: the summary skips its checks.
    if manifest.check(&crate::manifest::path(build_dir)).is_ok() {
        heads_summary::put_heads(&mut bytes, entries.clone().map(|(meta, _)| meta).collect());
    } else {
        heads_summary::put_no_heads(&mut bytes);
    }
    put_number(&mut bytes, manifest.revisions.len() as u128);
    for (meta, blake3) in entries {
        put_meta(&mut bytes, &meta);
        put_text(&mut bytes, &blake3);
    }
    let file = path(build_dir);
    if std::fs::read(&file).ok().as_deref() != Some(bytes.as_slice()) {
        std::fs::write(&file, bytes).with_context(|| format!("writing {}", file.display()))?;
    }
    Ok(())
}

/// The BLAKE3 hash of the manifest's text, in hex.
fn text_hash(text: &str) -> String {
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

/// `text_hash` of the text in `file`, read a piece at a time: the manifest of a thousand
/// revisions is 180 KiB, which read whole only to be hashed faulted in 46 fresh pages.
fn file_hash(file: &Path) -> Option<String> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(file).ok()?;
    let mut hasher = blake3::Hasher::new();
    // 16 KiB: as many chunks as BLAKE3 hashes side by side with AVX-512.
    let mut piece = vec![0; 16 * 1024];
    loop {
        match file.read(&mut piece) {
            Ok(0) => return Some(hasher.finalize().to_hex().to_string()),
            Ok(read) => hasher.update(&piece[..read]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_core::revision::RevisionMeta;

    fn manifest() -> Manifest {
        let meta = |id: &str, down: &[&str]| RevisionMeta {
            id: id.into(),
            down_revisions: down.iter().map(|d| d.to_string()).collect(),
            message: format!("message of {id}"),
            created: "2026-12-02T10:00:00Z".into(),
            branch_labels: if down.is_empty() {
                vec!["trunk".into()]
            } else {
                vec![]
            },
            depends_on: vec![],
        };
        Manifest::new(vec![
            Entry::new(&meta("a1", &[]), b"first"),
            Entry::new(&meta("b2", &["a1"]), b"second"),
        ])
    }

    /// Read back as written while the text is the same; no index for any other text, for a
    /// damaged or missing file, or for one of another format.
    #[test]
    fn the_index_answers_only_for_the_text_it_was_made_from() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = manifest();
        let text = "the manifest's text";
        assert!(read(dir.path(), text).is_none(), "no index yet");
        write(dir.path(), text, &manifest).unwrap();
        assert_eq!(read(dir.path(), text), Some(manifest.clone()));
        assert!(read(dir.path(), "the manifest's text, edited").is_none());

        let bytes = std::fs::read(path(dir.path())).unwrap();
        let mut other_format = bytes.clone();
        other_format[0] = 7;
        for damaged in [
            &bytes[..bytes.len() - 3],
            &bytes[..2],
            &other_format[..],
            b"",
        ] {
            std::fs::write(path(dir.path()), damaged).unwrap();
            assert!(read(dir.path(), text).is_none());
        }
    }

    /// The heads are the graph's and any entry is found, for the text the index was made from;
    /// a manifest `Manifest::read` refuses or whose graph does not build has no summary (its
    /// commands go the long way and say what is wrong), though it has an index.
    #[test]
    fn the_summary_holds_the_graphs_heads_only_for_a_manifest_that_reads() {
        let dir = tempfile::tempdir().unwrap();
        let text = "the manifest's text, ".repeat(2000);
        let (text, manifest_file) = (text.as_str(), dir.path().join("manifest.toml"));
        std::fs::write(&manifest_file, text).unwrap();
        let manifest = manifest();
        write(dir.path(), text, &manifest).unwrap();
        let summary = read_summary(dir.path(), &manifest_file).expect("a summary");
        assert_eq!(summary.heads(), ["b2"]);
        let (b2, _) = manifest.revisions[1].clone().into_parts();
        assert_eq!(summary.get("b2"), Some(b2));
        assert_eq!(summary.get("c3"), None);
        std::fs::write(&manifest_file, format!("{text}, edited")).unwrap();
        assert!(read_summary(dir.path(), &manifest_file).is_none());
        std::fs::write(&manifest_file, text).unwrap();

        let mut unknown_parent = manifest.clone();
        unknown_parent.revisions[1].down_revisions = vec!["gone".into()];
        let mut bad_id = manifest.clone();
        bad_id.revisions[0].id = "a 1".into();
        let mut other_format = manifest;
        other_format.format = 2;
        for refused in [unknown_parent, bad_id, other_format] {
            write(dir.path(), text, &refused).unwrap();
            assert_eq!(read(dir.path(), text), Some(refused));
            assert!(read_summary(dir.path(), &manifest_file).is_none());
        }
    }
}
