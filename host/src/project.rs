//! The migrations folder on disk: revision crates under `versions/` (each with a
//! `revision.toml`), built components under `build/`. In production `build/` alone is enough:
//! each component carries its own metadata.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use migrate_core::revision::{Graph, RevisionMeta};
use sha2::{Digest, Sha256};

use crate::wasm::component;

pub const METADATA_FILE: &str = "revision.toml";

pub struct Project {
    pub root: PathBuf,
    pub graph: Graph,
    /// Per revision id: its source folder (absent in a build-only deployment).
    pub sources: BTreeMap<String, PathBuf>,
}

impl Project {
    pub fn versions_dir(root: &Path) -> PathBuf {
        root.join("versions")
    }

    pub fn build_dir(root: &Path) -> PathBuf {
        root.join("build")
    }

    pub fn wasm_path(&self, id: &str) -> PathBuf {
        Self::build_dir(&self.root).join(format!("{id}.wasm"))
    }

    /// Reads every revision's metadata (no wasm is run) and builds the graph.
    pub fn load(root: &Path) -> anyhow::Result<Project> {
        let versions = Self::versions_dir(root);
        let build = Self::build_dir(root);
        let mut entries = Vec::new();
        let mut sources = BTreeMap::new();
        if versions.is_dir() {
            for dir in sorted_entries(&versions)? {
                if !dir.is_dir() {
                    continue;
                }
                let file = dir.join(METADATA_FILE);
                if !file.exists() {
                    bail!(
                        "{} has no {METADATA_FILE}: every folder under versions/ is a revision",
                        dir.display()
                    );
                }
                let meta = read_metadata_file(&file)?;
                sources.insert(meta.id.clone(), dir.clone());
                entries.push((meta, dir.display().to_string()));
            }
        } else if build.is_dir() {
            for file in sorted_entries(&build)? {
                if file.extension().is_some_and(|e| e == "wasm") {
                    let bytes = std::fs::read(&file)
                        .with_context(|| format!("reading {}", file.display()))?;
                    let embedded = component::read_metadata(&bytes)
                        .map_err(|e| anyhow!("{}: {e}", file.display()))?
                        .ok_or_else(|| {
                            anyhow!(
                                "{} has no revision metadata: was it built by `migrate build`?",
                                file.display()
                            )
                        })?;
                    entries.push((embedded.revision, file.display().to_string()));
                }
            }
        } else {
            bail!(
                "no migrations at {}: run `migrate init` to create them, or pass --migrations DIR",
                root.display()
            );
        }
        let graph = Graph::new(entries).map_err(|e| anyhow!("in {}: {e}", root.display()))?;
        Ok(Project {
            root: root.to_path_buf(),
            graph,
            sources,
        })
    }

    /// The built component of a revision, refusing a missing or stale build.
    pub fn read_component(&self, id: &str) -> anyhow::Result<Vec<u8>> {
        let path = self.wasm_path(id);
        let bytes = std::fs::read(&path).map_err(|_| {
            anyhow!(
                "revision {id} is not built ({} is missing): run `migrate build`",
                path.display()
            )
        })?;
        if let Some(source) = self.sources.get(id) {
            let embedded = component::read_metadata(&bytes)
                .map_err(|e| anyhow!("revision {id}: {}: {e}", path.display()))?
                .ok_or_else(|| {
                    anyhow!(
                        "revision {id}: {} has no revision metadata: run `migrate build`",
                        path.display()
                    )
                })?;
            if embedded.source_fingerprint != source_fingerprint(source)? {
                bail!(
                    "revision {id} changed since it was built ({}): run `migrate build`",
                    source.display()
                );
            }
            if &embedded.revision != self.graph.get(id).expect("a loaded revision") {
                bail!("revision {id}: {} describes another revision than its source: run `migrate build`", path.display());
            }
        }
        Ok(bytes)
    }
}

pub fn read_metadata_file(file: &Path) -> anyhow::Result<RevisionMeta> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let meta: RevisionMeta =
        toml::from_str(&text).map_err(|e| anyhow!("{}: {e}", file.display()))?;
    if !valid_id(&meta.id) {
        bail!(
            "{}: revision id {:?} must be 1 to 64 letters, digits or underscores",
            file.display(),
            meta.id
        );
    }
    Ok(meta)
}

pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// sha256 over the crate's own files (paths and contents), build output excluded.
pub fn source_fingerprint(dir: &Path) -> anyhow::Result<String> {
    let mut files = Vec::new();
    collect_files(dir, dir, &mut files)?;
    files.sort();
    let mut hasher = Sha256::new();
    for relative in files {
        let bytes = std::fs::read(dir.join(&relative))
            .with_context(|| format!("reading {}", relative.display()))?;
        hasher.update(relative.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn collect_files(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for path in sorted_entries(dir)? {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name == "target" || name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect_files(base, &path, out)?;
        } else {
            out.push(path.strip_prefix(base).expect("below base").to_path_buf());
        }
    }
    Ok(())
}

fn sorted_entries(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("reading {}", dir.display()))?;
    paths.sort();
    Ok(paths)
}
