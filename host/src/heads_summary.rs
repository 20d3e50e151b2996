//! The graph's heads, written into an index beside its revisions' metadata, and any one
//! revision's metadata found in that index on demand: what `current` and `heads` need, without
//! decoding a thousand revisions into a graph. At a thousand revisions, building the graph from
//! a deployment's manifest was about 40% of `current`'s processor time (BENCHMARKS.md, session
//! 21).
//!
//! The heads are the ones `Graph::heads` gives for exactly the metadata stored after them, so
//! they are as true as that metadata, which the index's own check (the manifest's hash)
//! vouches for. A graph that does not build (a cycle, an unknown down revision) gets no heads
//! section: its commands go the long way and report the error as before.

use std::path::{Path, PathBuf};

use migrate_core::revision::{Graph, RevisionMeta};

use crate::index_codec::{put_number, put_texts, Reader};

/// Writes the heads section for `metas`: a flag, then, if the graph builds, its heads.
pub fn put_heads(out: &mut Vec<u8>, metas: Vec<RevisionMeta>) {
    match Graph::from_revisions(metas, |_, id| id.to_string()) {
        Ok(graph) => {
            put_number(out, 1);
            put_texts(out, &graph.heads());
        }
        Err(_) => put_no_heads(out),
    }
}

/// Writes a heads section that holds none: the index is not to be summarised.
pub fn put_no_heads(out: &mut Vec<u8>) {
    put_number(out, 0);
}

/// Reads a heads section: `Some(None)` when the graph did not build.
pub fn read_heads(reader: &mut Reader) -> Option<Option<Vec<String>>> {
    match reader.number()? {
        0 => Some(None),
        1 => reader.texts().map(Some),
        _ => None,
    }
}

/// The heads, and the entries to look revisions up in.
pub struct HeadsSummary {
    heads: Vec<String>,
    /// The index's text (as read: not copied).
    text: String,
    /// Where each entry's metadata starts in `text`: found once, so that a look-up reads the
    /// ids alone.
    starts: Vec<usize>,
    /// Where the revisions' sources are, when there are sources: `<versions>/<name>` per
    /// entry, the names one text each in the entries' order from the given place in `text`.
    folders: Option<(PathBuf, usize)>,
}

impl HeadsSummary {
    /// `text` holds, from `entries_at` on, `count` entries, each a revision's metadata and then
    /// `texts_after_meta` texts. `None` unless every entry reads (a damaged one would otherwise
    /// pass for a missing revision) and every head is among them.
    pub fn new(
        heads: Vec<String>,
        count: usize,
        text: String,
        entries_at: usize,
        texts_after_meta: usize,
    ) -> Option<HeadsSummary> {
        let mut reader = Reader::of_text(text.get(entries_at..)?);
        // Each entry takes a byte at least: a damaged count must not reserve gigabytes.
        let mut starts = Vec::with_capacity(count.min(text.len()));
        for _ in 0..count {
            starts.push(text.len() - reader.rest().len());
            reader.skip_meta()?;
            for _ in 0..texts_after_meta {
                reader.text()?;
            }
        }
        let summary = HeadsSummary {
            heads,
            text,
            starts,
            folders: None,
        };
        let all_found = summary
            .heads
            .iter()
            .all(|head| summary.position(head).is_some());
        all_found.then_some(summary)
    }

    /// The graph's heads, in its order.
    pub fn heads(&self) -> &[String] {
        &self.heads
    }

    /// The same, with the revisions' source folders: `versions` joined with each entry's
    /// folder name, the names one text each from `names_at` in the text. `None` unless there
    /// is one per entry.
    pub fn with_folders(self, versions: &Path, names_at: usize) -> Option<HeadsSummary> {
        let mut names = Reader::of_text(self.text.get(names_at..)?);
        for _ in &self.starts {
            names.text()?;
        }
        Some(HeadsSummary {
            folders: Some((versions.to_path_buf(), names_at)),
            ..self
        })
    }

    /// The metadata of revision `id`, if there is one.
    pub fn get(&self, id: &str) -> Option<RevisionMeta> {
        self.entry(self.position(id)?).meta()
    }

    /// Revision `id`'s source folder, if there are sources and such a revision.
    pub fn source(&self, id: &str) -> Option<PathBuf> {
        let (versions, names_at) = self.folders.as_ref()?;
        let at = self.position(id)?;
        let mut names = Reader::of_text(&self.text[*names_at..]);
        for _ in 0..at {
            names.text()?;
        }
        Some(crate::project::joined(versions, names.text()?.as_ref()))
    }

    /// Revision `id`'s place among the entries.
    fn position(&self, id: &str) -> Option<usize> {
        (0..self.starts.len()).find(|&at| self.entry(at).text() == Some(id))
    }

    /// A reader at entry `at`'s metadata.
    fn entry(&self, at: usize) -> Reader<'_> {
        Reader::of_text(&self.text[self.starts[at]..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index_codec::{put_meta, put_text};

    fn meta(id: &str, down: &[&str]) -> RevisionMeta {
        RevisionMeta {
            id: id.into(),
            down_revisions: down.iter().map(|d| d.to_string()).collect(),
            message: format!("message of {id}"),
            created: "2026-12-02T10:00:00Z".into(),
            branch_labels: vec![],
            depends_on: vec![],
        }
    }

    /// As the metadata index lays them out: folder names, heads as the graph has them, then
    /// the entries, each with a hash after it here (as the manifest's have). The text, and
    /// where its entries start.
    fn written(metas: &[RevisionMeta], names: &[&str]) -> (Vec<u8>, usize) {
        let mut out = Vec::new();
        for name in names {
            put_text(&mut out, name);
        }
        put_heads(&mut out, metas.to_vec());
        let entries_at = out.len();
        put_number(&mut out, metas.len() as u128);
        for meta in metas {
            put_meta(&mut out, meta);
            put_text(&mut out, "hash");
        }
        (out, entries_at)
    }

    fn summary_of(bytes: &[u8], entries_at: usize, names: usize) -> Option<HeadsSummary> {
        let mut reader = Reader::new(bytes)?;
        for _ in 0..names {
            reader.text()?;
        }
        let heads = read_heads(&mut reader)??;
        let mut entries = Reader::new(&bytes[entries_at..])?;
        let count = entries.count()?;
        let first_at = bytes.len() - entries.rest().len();
        let text = String::from_utf8(bytes.to_vec()).ok()?;
        HeadsSummary::new(heads, count, text, first_at, 1)
    }

    #[test]
    fn the_heads_are_the_graphs_and_any_revision_is_found() {
        // Two branches from a1: heads b2 and c3.
        let metas = [meta("a1", &[]), meta("b2", &["a1"]), meta("c3", &["a1"])];
        let (bytes, entries_at) = written(&metas, &["a1_first", "b2_second", "c3_third"]);
        let summary = summary_of(&bytes, entries_at, 3).expect("a summary");
        let graph = Graph::from_revisions(metas.to_vec(), |_, id| id.to_string()).unwrap();
        assert_eq!(summary.heads(), graph.heads().as_slice());
        assert_eq!(summary.heads(), ["b2", "c3"]);
        for meta in &metas {
            assert_eq!(summary.get(&meta.id).as_ref(), Some(meta));
        }
        assert_eq!(summary.get("zz"), None);
        assert_eq!(summary.get("a"), None, "a prefix is not an id");
        assert_eq!(summary.source("b2"), None, "no sources");

        let versions = Path::new("/project/versions");
        let summary = summary
            .with_folders(versions, 0)
            .expect("one name per entry");
        assert_eq!(summary.source("a1"), Some(versions.join("a1_first")));
        assert_eq!(summary.source("c3"), Some(versions.join("c3_third")));
        assert_eq!(summary.source("zz"), None);
        // Names that run past the end of the text are none.
        let (bytes, entries_at) = written(&metas, &[]);
        let unnamed = summary_of(&bytes, entries_at, 0).unwrap();
        assert!(unnamed.with_folders(versions, bytes.len() - 2).is_none());
    }

    #[test]
    fn a_graph_that_does_not_build_or_damaged_entries_give_no_summary() {
        let (bytes, entries_at) = written(&[meta("a1", &["gone"])], &[]);
        assert!(
            summary_of(&bytes, entries_at, 0).is_none(),
            "unknown down revision"
        );
        let cycle = [meta("a1", &["b2"]), meta("b2", &["a1"])];
        let (bytes, entries_at) = written(&cycle, &[]);
        assert!(summary_of(&bytes, entries_at, 0).is_none(), "a cycle");

        let (bytes, entries_at) = written(&[meta("a1", &[]), meta("b2", &["a1"])], &[]);
        assert!(
            summary_of(&bytes[..bytes.len() - 2], entries_at, 0).is_none(),
            "cut short"
        );
        // Heads that the entries do not hold.
        let mut entries = Reader::new(&bytes[entries_at..]).unwrap();
        let count = entries.count().unwrap();
        let first_at = bytes.len() - entries.rest().len();
        let text = String::from_utf8(bytes).unwrap();
        let summary = HeadsSummary::new(vec!["nowhere".into()], count, text, first_at, 1);
        assert!(summary.is_none());
    }
}
