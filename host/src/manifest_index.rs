//! `build/manifest.index`: `build/manifest.toml` as parsed, in binary form (`index_codec`),
//! beside it. A deployment's `heads`, `history`, `current` and `status` read the graph from the
//! manifest; at a thousand revisions parsing its TOML was 17.6 M of `heads`' 26.5 M
//! instructions (BENCHMARKS.md, session 17).
//!
//! The TOML stays the one truth: the index holds the BLAKE3 hash of the text it was made from,
//! and is used only while the text hashes the same. An index that is missing, damaged, of
//! another format or made from other text is no index: the TOML is parsed, as before. Hashing
//! rather than comparing file stamps, since a deployment is copied (times and inodes change,
//! the bytes do not).

use std::path::{Path, PathBuf};

use crate::index_codec::{put_meta, put_number, put_text, Reader};
use crate::manifest::{Entry, Manifest};

const INDEX_FILE: &str = "manifest.index";
/// Bumped whenever what is stored changes; written first.
const FORMAT: u128 = 1;

pub fn path(build_dir: &Path) -> PathBuf {
    build_dir.join(INDEX_FILE)
}

/// The manifest `text` parses to, if `build_dir` holds an index made from that very text.
pub fn read(build_dir: &Path, text: &str) -> Option<Manifest> {
    let bytes = std::fs::read(path(build_dir)).ok()?;
    let mut reader = Reader::new(&bytes)?;
    if reader.number()? != FORMAT || reader.text()? != text_hash(text) {
        return None;
    }
    let format = u32::try_from(reader.number()?).ok()?;
    let revisions = reader.list(|reader| {
        let (meta, blake3) = (reader.meta()?, reader.text()?);
        Some(Entry::new_hashed(meta, blake3.to_owned()))
    })?;
    reader.is_empty().then_some(Manifest { format, revisions })
}

/// Writes the index of `manifest`, parsed from `text`, unless the one there already holds it.
pub fn write(build_dir: &Path, text: &str, manifest: &Manifest) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let mut bytes = Vec::new();
    put_number(&mut bytes, FORMAT);
    put_text(&mut bytes, &text_hash(text));
    put_number(&mut bytes, u128::from(manifest.format));
    put_number(&mut bytes, manifest.revisions.len() as u128);
    for entry in &manifest.revisions {
        let (meta, blake3) = entry.clone().into_parts();
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
}
