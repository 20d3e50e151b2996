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

#[cfg(test)]
mod tests {
    use super::*;

    /// Folders need not sort as their ids do (a folder renamed by hand, ids from elsewhere):
    /// each id still finds its own folder, and the listing comes in id order.
    #[test]
    fn each_id_finds_its_folder_whatever_the_folders_are_called() {
        let versions = Path::new("/project/versions");
        let pairs = [
            ("zeta", "a_first"),
            ("alpha", "z_last"),
            ("mid", "m_middle"),
        ];
        let sources = Sources::new(
            versions,
            pairs
                .iter()
                .map(|(id, folder)| (id.to_string(), folder.to_string()))
                .collect(),
        );
        assert_eq!(sources.get("zeta"), Some(versions.join("a_first")));
        assert_eq!(sources.get("alpha"), Some(versions.join("z_last")));
        assert_eq!(sources.get("mid"), Some(versions.join("m_middle")));
        assert_eq!(sources.get("a_first"), None);
        let listed: Vec<(&str, PathBuf)> = sources.iter().collect();
        assert_eq!(
            listed,
            [
                ("alpha", versions.join("z_last")),
                ("mid", versions.join("m_middle")),
                ("zeta", versions.join("a_first")),
            ]
        );
        assert!(!sources.is_empty());
        assert!(Sources::default().is_empty());
    }
}
