//! `build/manifest.index`: `build/manifest.toml` as parsed, in binary form (postcard), beside
//! it. A deployment's `heads`, `history`, `current` and `status` read the graph from the
//! manifest; at a thousand revisions parsing its TOML was 17.6 M of `heads`' 26.5 M
//! instructions (BENCHMARKS.md, session 17).
//!
//! The TOML stays the one truth: the index holds the BLAKE3 hash of the text it was made from,
//! and is used only while the text hashes the same. An index that is missing, damaged, of
//! another format or made from other text is no index: the TOML is parsed, as before. Hashing
//! rather than comparing file stamps, since a deployment is copied (times and inodes change,
//! the bytes do not).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::manifest::{Entry, Manifest};

pub const INDEX_FILE: &str = "manifest.index";
/// Bumped whenever what is stored changes; written first.
const FORMAT: u32 = 1;

/// The index as read: every field always present (postcard names no fields, so none can be
/// skipped as the TOML skips empty lists).
#[derive(Deserialize)]
struct Stored {
    text_hash: [u8; 32],
    manifest_format: u32,
    #[serde(deserialize_with = "StoredEntries::deserialize")]
    revisions: Vec<Entry>,
}

/// The index as written: `Stored`'s fields, in its order, borrowed.
#[derive(Serialize)]
struct StoredRef<'a> {
    text_hash: [u8; 32],
    manifest_format: u32,
    #[serde(serialize_with = "StoredEntries::serialize")]
    revisions: &'a [Entry],
}

/// `Vec<Entry>` through `StoredEntry` (serde's remote derive lists the fields once for both
/// directions).
struct StoredEntries;

impl StoredEntries {
    fn serialize<S: serde::Serializer>(entries: &&[Entry], to: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wrapped<'a>(#[serde(with = "StoredEntry")] &'a Entry);
        to.collect_seq(entries.iter().map(Wrapped))
    }

    fn deserialize<'de, D: serde::Deserializer<'de>>(from: D) -> Result<Vec<Entry>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped(#[serde(with = "StoredEntry")] Entry);
        let wrapped: Vec<Wrapped> = Vec::deserialize(from)?;
        Ok(wrapped.into_iter().map(|Wrapped(entry)| entry).collect())
    }
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "Entry")]
struct StoredEntry {
    id: String,
    down_revisions: Vec<String>,
    message: String,
    created: String,
    branch_labels: Vec<String>,
    depends_on: Vec<String>,
    blake3: String,
}

pub fn path(build_dir: &Path) -> PathBuf {
    build_dir.join(INDEX_FILE)
}

/// The manifest `text` parses to, if `build_dir` holds an index made from that very text.
pub fn read(build_dir: &Path, text: &str) -> Option<Manifest> {
    let bytes = std::fs::read(path(build_dir)).ok()?;
    let (format, rest) = postcard::take_from_bytes::<u32>(&bytes).ok()?;
    if format != FORMAT {
        return None;
    }
    let stored: Stored = postcard::from_bytes(rest).ok()?;
    if stored.text_hash != *blake3::hash(text.as_bytes()).as_bytes() {
        return None;
    }
    Some(Manifest {
        format: stored.manifest_format,
        revisions: stored.revisions,
    })
}

/// Writes the index of `manifest`, parsed from `text`, unless the one there already holds it.
pub fn write(build_dir: &Path, text: &str, manifest: &Manifest) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let stored = StoredRef {
        text_hash: *blake3::hash(text.as_bytes()).as_bytes(),
        manifest_format: manifest.format,
        revisions: &manifest.revisions,
    };
    let mut bytes = postcard::to_allocvec(&FORMAT).context("encoding the manifest index")?;
    bytes = postcard::to_extend(&stored, bytes).context("encoding the manifest index")?;
    let file = path(build_dir);
    if std::fs::read(&file).ok().as_deref() != Some(bytes.as_slice()) {
        std::fs::write(&file, bytes).with_context(|| format!("writing {}", file.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Entry;
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
}
