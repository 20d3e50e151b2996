//! The migrations folder on disk: revision crates under `versions/` (each with a
//! `revision.toml`), built components under `build/`. In production `build/` alone is enough:
//! each component carries its own metadata.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use migrate_core::revision::{Graph, GraphError, RevisionMeta};
use sha2::{Digest, Sha256};

use crate::manifest::{self, Manifest};
use crate::sources::Sources;
use crate::wasm::cache::component_key;
use crate::wasm::component;

pub const METADATA_FILE: &str = "revision.toml";

#[derive(Clone)]
pub struct Project {
    pub root: PathBuf,
    /// Shared, as the maps below: the thread recording ops ahead holds the project too, and
    /// the runner the graph; a copy of a thousand revisions' graph is about 200 KB (heaptrack).
    pub graph: Arc<Graph>,
    /// Per revision id: its source folder (none in a build-only deployment).
    pub sources: Arc<Sources>,
    /// In a build-only deployment, per revision id: the BLAKE3 hash its component must have
    /// (from `build/manifest.toml`).
    pub built: Arc<BTreeMap<String, String>>,
    /// Whether every component in `built` was read and found to be what the manifest says
    /// (`load`): then a component's key is known without reading it again.
    verified: bool,
}

impl Project {
    pub fn versions_dir(root: &Path) -> PathBuf {
        root.join("versions")
    }

    pub fn build_dir(root: &Path) -> PathBuf {
        root.join("build")
    }

    /// Where the caches go (compiled components, recorded ops, the metadata index):
    /// `$MIGRATE_CACHE_DIR`, else `<migrations>/.cache`.
    pub fn cache_dir(root: &Path) -> PathBuf {
        std::env::var_os("MIGRATE_CACHE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join(".cache"))
    }

    pub fn wasm_path(&self, id: &str) -> PathBuf {
        Self::build_dir(&self.root).join(format!("{id}.wasm"))
    }

    /// Reads every revision's metadata (no wasm is run) and builds the graph. In a build-only
    /// deployment every component is also checked against the manifest, so that a stray,
    /// missing or swapped one is refused before anything else happens. (Commands that run no
    /// wasm look at the manifest alone: listing a thousand components was a tenth of a
    /// deployment's `current`, BENCHMARKS.md session 21.)
    pub fn load(root: &Path) -> anyhow::Result<Project> {
        let mut project = Self::load_metadata(root)?;
        if !Self::versions_dir(root).is_dir() {
            let build = Self::build_dir(root);
            let names: Vec<OsString> = std::fs::read_dir(&build)
                .and_then(|entries| entries.map(|e| Ok(e?.file_name())).collect())
                .with_context(|| format!("reading {}", build.display()))?;
            let listed = project.built.keys().map(String::as_str);
            crate::manifest::check_files(&build, listed, &names)?;
        }
        if !project.built.is_empty() {
            let ids: Vec<&String> = project.built.keys().collect();
            // Each component's bytes are dropped once checked: held all at once, a thousand
            // of them were 9 MiB of a fresh deployment's peak memory.
            let checks =
                crate::parallel::map(&ids, 16, |id| project.read_component(id).map(|_| ()));
            for checked in checks {
                checked?;
            }
            project.verified = true;
        }
        Ok(project)
    }

    /// The graph alone: in a build-only deployment from the manifest, without reading the
    /// components (each is checked when it is read to run). For commands that run no wasm.
    pub fn load_metadata(root: &Path) -> anyhow::Result<Project> {
        let versions = Self::versions_dir(root);
        let build = Self::build_dir(root);
        let in_root = |e: GraphError| anyhow!("in {}: {e}", root.display());
        let (graph, sources, built) = if versions.is_dir() {
            let read = read_all_metadata(root, &versions)?;
            // Collected in place from what was read: a thousand revisions' metadata is moved
            // as few times as can be (each move into fresh memory faulted in a page per 4 KiB).
            let revisions: Vec<RevisionMeta> =
                read.metas.into_iter().collect::<anyhow::Result<_>>()?;
            let ids: Vec<String> = revisions.iter().map(|meta| meta.id.clone()).collect();
            // A folder's text made only for an error: the same as `display()` for a UTF-8 path
            // (the names are), without the formatter.
            let origin = |i: usize, _: &str| {
                let dir = joined(&versions, read.names[i].as_ref());
                dir.to_string_lossy().into_owned()
            };
            let graph = Graph::from_revisions(revisions, origin).map_err(in_root)?;
            let sources = Sources::new(&versions, ids.into_iter().zip(read.names).collect());
            (graph, sources, BTreeMap::new())
        } else if build.is_dir() {
            let manifest = Manifest::read(&build)?;
            let mut revisions = Vec::with_capacity(manifest.revisions.len());
            // Collected at once (sorted, then built in bulk), not inserted one by one.
            let built: BTreeMap<String, String> = manifest
                .revisions
                .into_iter()
                .map(|entry| {
                    let (meta, blake3) = entry.into_parts();
                    let id = meta.id.clone();
                    revisions.push(meta);
                    (id, blake3)
                })
                .collect();
            // `Manifest::read` checked each id: it names a file inside build/.
            let file_of = |_, id: &str| build.join(format!("{id}.wasm")).display().to_string();
            let graph = Graph::from_revisions(revisions, file_of).map_err(in_root)?;
            (graph, Sources::default(), built)
        } else {
            bail!(
                "no migrations at {}: run `migrate init` to create them, or pass --migrations DIR",
                root.display()
            );
        };
        Ok(Project {
            root: root.to_path_buf(),
            graph: Arc::new(graph),
            sources: Arc::new(sources),
            built: Arc::new(built),
            verified: false,
        })
    }

    /// The graph's heads and a look-up of any one revision, where an index answers for the
    /// revisions as they are without the graph being built (the metadata index while no
    /// revision file changed; a deployment's manifest index): what `current` and `heads` show.
    /// `None` where the project is to be read whole (`load_metadata`), which also reports
    /// whatever is wrong with it.
    pub fn heads_summary(root: &Path) -> Option<crate::heads_summary::HeadsSummary> {
        let versions = Self::versions_dir(root);
        if versions.is_dir() {
            let folder = crate::metadata_index::Folder {
                path: &versions,
                file: METADATA_FILE,
            };
            return crate::metadata_index::read_summary(&folder, &Self::cache_dir(root));
        }
        Manifest::heads_summary(&Self::build_dir(root))
    }

    /// A revision's cache key without reading its component, where `load` verified it.
    pub fn verified_key(&self, id: &str) -> Option<&String> {
        self.built.get(id).filter(|_| self.verified)
    }

    /// Refuses, naming the first, when a revision has no built component: a fleet says so once
    /// instead of once per database.
    pub fn require_built(&self) -> anyhow::Result<()> {
        for meta in self.graph.in_order() {
            let path = self.wasm_path(&meta.id);
            if !path.exists() {
                bail!(
                    "revision {} is not built ({} is missing): run `migrate build`",
                    meta.id,
                    path.display()
                );
            }
        }
        Ok(())
    }

    /// The built component of a revision and its cache key (its BLAKE3 hash), refusing a
    /// missing or stale build, and in a build-only deployment one that is not the component
    /// the manifest lists (other bytes, or metadata naming another revision).
    pub fn read_component(&self, id: &str) -> anyhow::Result<(Vec<u8>, String)> {
        let path = self.wasm_path(id);
        if !path.exists() {
            bail!(
                "revision {id} is not built ({} is missing): run `migrate build`",
                path.display()
            );
        }
        let bytes = manifest::read_component_file(&path)?;
        let key = component_key(&bytes);
        let meta = self.graph.get(id).expect("a loaded revision");
        let embedded = || {
            component::read_metadata(&bytes)
                .map_err(|e| anyhow!("revision {id}: {}: {e}", path.display()))?
                .ok_or_else(|| {
                    anyhow!(
                        "revision {id}: {} has no revision metadata: was it built by `migrate build`?",
                        path.display()
                    )
                })
        };
        if let Some(expected) = self.built.get(id) {
            let listing = manifest::path(&Self::build_dir(&self.root));
            if key != *expected {
                bail!(
                    "{} is not the component `migrate build` wrote for revision {id} (its hash differs \
                     from {}): it was swapped or damaged. Deploy the build/ folder as built",
                    path.display(),
                    listing.display()
                );
            }
            let embedded = embedded()?;
            if &embedded.revision != meta {
                bail!(
                    "{} describes revision {:?}, not the revision {id} that {} lists",
                    path.display(),
                    embedded.revision.id,
                    listing.display()
                );
            }
        }
        if let Some(source) = self.sources.get(id) {
            let embedded = embedded()?;
            if embedded.source_fingerprint != source_fingerprint(&source)? {
                bail!(
                    "revision {id} changed since it was built ({}): run `migrate build`",
                    source.display()
                );
            }
            if &embedded.revision != meta {
                bail!("revision {id}: {} describes another revision than its source: run `migrate build`", path.display());
            }
        }
        Ok((bytes, key))
    }
}

/// Every revision folder's metadata, in order: from the metadata index where the files did not
/// change, else read and parsed on all cores (at a thousand revisions this is most of what
/// `heads`, `history` and `current` do).
fn read_all_metadata(
    root: &Path,
    versions: &Path,
) -> anyhow::Result<crate::metadata_index::Revisions> {
    let read = |file: &Path| match small_file(file) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(anyhow!(
            "{} has no {METADATA_FILE}: every folder under versions/ is a revision",
            file.parent().unwrap_or(file).display()
        )),
        text => parse_metadata(file, text),
    };
    let folder = crate::metadata_index::Folder {
        path: versions,
        file: METADATA_FILE,
    };
    let cache = Project::cache_dir(root);
    crate::metadata_index::read_all(&folder, Some(&cache), || revision_folders(versions), read)
}

/// The revision folders' names under `versions/`, sorted (what is not a folder is skipped).
fn revision_folders(versions: &Path) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for (name, is_dir) in sorted_entries(versions)? {
        if is_dir {
            names.push(name.into_string().map_err(|name| {
                anyhow!(
                    "{}: a revision folder's name must be UTF-8",
                    joined(versions, &name).display()
                )
            })?);
        }
    }
    Ok(names)
}

/// A file of a few hundred bytes in one `read` (no size query, no second read for the end).
fn small_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut buffer = vec![0u8; 4096];
    let mut filled = 0;
    loop {
        let n = file.read(&mut buffer[filled..])?;
        filled += n;
        if n == 0 || filled < buffer.len() {
            break;
        }
        buffer.resize(buffer.len() * 2, 0);
    }
    buffer.truncate(filled);
    String::from_utf8(buffer).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

fn parse_metadata(file: &Path, text: std::io::Result<String>) -> anyhow::Result<RevisionMeta> {
    let text = text.with_context(|| format!("reading {}", file.display()))?;
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
    let mut hasher = Sha256::new();
    hash_files(dir, &mut hasher, &|_| false)?;
    Ok(hex::encode(hasher.finalize()))
}

/// Feeds every file below `dir` to `hasher` in name order (its path relative to `dir`, its
/// length, its bytes), leaving out `target` folders, hidden entries but `.cargo`, and the
/// entries directly in `dir` that `skip_top` names.
pub fn hash_files(
    dir: &Path,
    hasher: &mut Sha256,
    skip_top: &dyn Fn(&str) -> bool,
) -> anyhow::Result<()> {
    let mut files = Vec::new();
    let mut seen = std::collections::HashSet::new();
    collect_files(dir, dir, &mut files, &mut seen, skip_top)?;
    files.sort();
    for relative in files {
        let bytes = std::fs::read(dir.join(&relative))
            .with_context(|| format!("reading {}", dir.join(&relative).display()))?;
        hasher.update(relative.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    Ok(())
}

/// Every file below `dir`, each real folder walked once: a symlink loop (or two) would
/// otherwise make the walk endless or exponential.
fn collect_files(
    base: &Path,
    dir: &Path,
    out: &mut Vec<PathBuf>,
    seen: &mut std::collections::HashSet<PathBuf>,
    skip_top: &dyn Fn(&str) -> bool,
) -> anyhow::Result<()> {
    let real = std::fs::canonicalize(dir).with_context(|| format!("reading {}", dir.display()))?;
    if !seen.insert(real) {
        return Ok(());
    }
    for (name, is_dir) in sorted_entries(dir)? {
        let path = joined(dir, &name);
        let name = name.to_string_lossy();
        let hidden = name.starts_with('.') && name != ".cargo";
        if name == "target" || hidden || (dir == base && skip_top(&name)) {
            continue;
        }
        if is_dir {
            collect_files(base, &path, out, seen, skip_top)?;
        } else {
            out.push(path.strip_prefix(base).expect("below base").to_path_buf());
        }
    }
    Ok(())
}

/// A folder's entries sorted by name, each with whether it is a folder. The type comes with
/// the directory listing on most file systems, so this costs no `stat` per entry (it matters
/// at a thousand revisions); nor is a path made for each (an allocation and a reallocation
/// each: 5% of `heads` at a thousand).
fn sorted_entries(dir: &Path) -> anyhow::Result<Vec<(OsString, bool)>> {
    let mut entries: Vec<(OsString, bool)> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| {
            let e = e?;
            let is_dir = match e.file_type()? {
                t if t.is_symlink() => e.path().is_dir(),
                t => t.is_dir(),
            };
            Ok((e.file_name(), is_dir))
        })
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("reading {}", dir.display()))?;
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

/// `dir/name`, allocated once at its full length.
pub(crate) fn joined(dir: &Path, name: &OsStr) -> PathBuf {
    let mut path = PathBuf::with_capacity(dir.as_os_str().len() + 1 + name.len());
    path.push(dir);
    path.push(name);
    path
}

/// The `[workspace.dependencies]` table of the migrations workspace's `Cargo.toml`, if it
/// can be read.
pub fn workspace_dependencies(root: &Path) -> Option<toml::Table> {
    let text = std::fs::read_to_string(root.join("Cargo.toml")).ok()?;
    let mut workspace: toml::Table = text.parse().ok()?;
    match workspace.remove("workspace")?.get("dependencies")? {
        toml::Value::Table(dependencies) => Some(dependencies.clone()),
        _ => None,
    }
}

/// Whether the project's SDK is one whose revisions are `#![no_std]` (it has the `std`
/// feature). A project vendored by an older `migrate init` has a std-only SDK: its new revisions
/// must leave the line out. Assumed yes when the SDK is not a readable path dependency.
pub fn sdk_supports_no_std(root: &Path) -> bool {
    let sdk_path = workspace_dependencies(root).and_then(|dependencies| {
        let path = dependencies.get("migrate-guest-sdk")?.get("path")?;
        path.as_str().map(str::to_string)
    });
    let Some(sdk_path) = sdk_path else {
        return true;
    };
    let manifest = std::fs::read_to_string(root.join(sdk_path).join("Cargo.toml"));
    match manifest
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
    {
        Some(manifest) => manifest
            .get("features")
            .and_then(|f| f.get("std"))
            .is_some(),
        None => true,
    }
}
