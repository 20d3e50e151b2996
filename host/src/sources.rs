//! Where each revision's sources are: `versions/<folder>` per revision id. Kept as the folder
//! names the listing found and the ids read from them; a path is made when one is asked for.
//! Every command reads the revisions, few look at their sources: building a thousand paths and
//! a map of them up front was 0.4M instructions of `heads` (BENCHMARKS.md, session 16).

use std::path::{Path, PathBuf};

#[derive(Debug, Default)]
pub struct Sources {
    versions: PathBuf,
    /// (id, folder name), sorted by id.
    folders: Vec<(String, String)>,
}

impl Sources {
    /// The revision in each folder of `versions`: `(id, folder name)` pairs, in any order.
    pub fn new(versions: &Path, mut folders: Vec<(String, String)>) -> Sources {
        // Folders are named after their ids, so these usually come sorted already.
        if !folders.is_sorted_by(|a, b| a.0 <= b.0) {
            folders.sort_by(|a, b| a.0.cmp(&b.0));
        }
        Sources {
            versions: versions.to_path_buf(),
            folders,
        }
    }

    /// None: a build-only deployment, or a project without revisions.
    pub fn is_empty(&self) -> bool {
        self.folders.is_empty()
    }

    /// Revision `id`'s source folder, if it has one here.
    pub fn get(&self, id: &str) -> Option<PathBuf> {
        let at = self
            .folders
            .binary_search_by(|(known, _)| known.as_str().cmp(id))
            .ok()?;
        Some(self.folder(&self.folders[at].1))
    }

    /// Every revision's id and source folder, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, PathBuf)> {
        self.folders
            .iter()
            .map(|(id, name)| (id.as_str(), self.folder(name)))
    }

    fn folder(&self, name: &str) -> PathBuf {
        crate::project::joined(&self.versions, name.as_ref())
    }
}
