//! `build/manifest.toml`: what `migrate build` put in `build/` (each revision's metadata and the
//! hash of its component), in the manner of Atlas's `atlas.sum`. A build-only deployment (no
//! `versions/` folder) trusts nothing else: a `.wasm` the manifest does not list, a listed one
//! that is missing, and one whose bytes are not the ones built are each refused by name. The
//! hash is BLAKE3, the component key the host computes anyway, so checking costs nothing; and
//! commands that run no wasm (`heads`, `history`, `current`, `status`) read the graph from the
//! manifest alone.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use migrate_core::revision::RevisionMeta;
use serde::{Deserialize, Serialize};

pub const MANIFEST_FILE: &str = "manifest.toml";

/// Written at the top of the file, for whoever opens it.
const HEADER: &str = "\
# Written by `migrate build`: exactly the revisions in this folder, with the BLAKE3 hash of
# each component. Where there is no versions/ folder (a deployment of build/ alone), `migrate`
# refuses a .wasm that is not listed here, a listed one that is missing, and one whose bytes
# differ. Do not edit; run `migrate build` again.
";

/// A component larger than this is not one `migrate build` wrote (they are kilobytes); the cap
/// keeps a hostile `build/` (a symlink to /dev/zero) from exhausting memory.
pub const MAX_COMPONENT_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    #[serde(default, rename = "revision")]
    pub revisions: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub id: String,
    #[serde(default)]
    pub down_revisions: Vec<String>,
    pub message: String,
    #[serde(default)]
    pub created: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub branch_labels: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    pub blake3: String,
}

impl Entry {
    pub fn new(meta: &RevisionMeta, component: &[u8]) -> Entry {
        Entry::new_hashed(meta.clone(), crate::wasm::cache::component_key(component))
    }

    /// The entry of a component whose hash is known.
    pub fn new_hashed(meta: RevisionMeta, blake3: String) -> Entry {
        Entry {
            id: meta.id,
            down_revisions: meta.down_revisions,
            message: meta.message,
            created: meta.created,
            branch_labels: meta.branch_labels,
            depends_on: meta.depends_on,
            blake3,
        }
    }

    /// The revision's metadata and its component's hash, moved out.
    pub fn into_parts(self) -> (RevisionMeta, String) {
        let meta = RevisionMeta {
            id: self.id,
            down_revisions: self.down_revisions,
            message: self.message,
            created: self.created,
            branch_labels: self.branch_labels,
            depends_on: self.depends_on,
        };
        (meta, self.blake3)
    }
}

pub fn path(build_dir: &Path) -> PathBuf {
    build_dir.join(MANIFEST_FILE)
}

impl Manifest {
    pub fn new(revisions: Vec<Entry>) -> Manifest {
        Manifest {
            format: 1,
            revisions,
        }
    }

    /// Writes the manifest when its text changed (a rebuild that changed nothing leaves it be).
    pub fn write(&self, build_dir: &Path) -> anyhow::Result<()> {
        let text = format!(
            "{HEADER}{}",
            toml::to_string(self).context("writing the build manifest")?
        );
        let file = path(build_dir);
        if std::fs::read_to_string(&file).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&file, &text).with_context(|| format!("writing {}", file.display()))?;
        }
        crate::manifest_index::write(build_dir, &text, self)
    }

    pub fn read(build_dir: &Path) -> anyhow::Result<Manifest> {
        let file = path(build_dir);
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "{} is missing: a build/ folder deployed without its sources must be the one \
                 `migrate build` made, manifest included (a build from before the manifest: run \
                 `migrate build` again where the sources are)",
                file.display()
            ),
            Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
        };
        // Its index, when made from this very text, saves parsing it (manifest_index.rs); the
        // checks below run either way.
        let manifest = match crate::manifest_index::read(build_dir, &text) {
            Some(manifest) => manifest,
            None => toml::from_str(&text).map_err(|e| anyhow!("{}: {e}", file.display()))?,
        };
        manifest.check(&file)?;
        Ok(manifest)
    }

    /// The graph's heads and a look-up of any revision, from the index of the manifest's
    /// current text, where it has them (`heads_summary`); `None` sends the caller the long way
    /// (`read`), which also reports whatever is wrong.
    pub fn heads_summary(build_dir: &Path) -> Option<crate::heads_summary::HeadsSummary> {
        crate::manifest_index::read_summary(build_dir, &path(build_dir))
    }

    /// Refuses what `migrate build` never writes: an id that is no revision id (it names
    /// files) and a format this version does not read. `file` names the manifest.
    pub fn check(&self, file: &Path) -> anyhow::Result<()> {
        if let Some(bad) = self
            .revisions
            .iter()
            .find(|e| !crate::project::valid_id(&e.id))
        {
            bail!(
                "{}: revision id {:?} must be 1 to 64 letters, digits or underscores",
                file.display(),
                bad.id
            );
        }
        if self.format != 1 {
            bail!(
                "{}: format {} is not one this migrate reads (1)",
                file.display(),
                self.format
            );
        }
        Ok(())
    }
}

/// Refuses, by name, a `.wasm` in `build/` the manifest does not list and a listed one that is
/// not there. `listed` are the manifest's ids, `file_names` the names in `build/`, any order.
pub fn check_files<'a>(
    build_dir: &Path,
    listed: impl IntoIterator<Item = &'a str>,
    file_names: &[OsString],
) -> anyhow::Result<()> {
    // Looked up in a hash set: at a thousand revisions, two ordered sets of owned strings
    // were a fifth of a deployment's `heads`, and sorting the listing a tenth.
    let listed: HashSet<&str> = listed.into_iter().collect();
    let names: Vec<std::borrow::Cow<str>> = file_names
        .iter()
        .map(|name| name.to_string_lossy())
        .collect();
    // `id.wasm` with an id before the dot, as `Path::file_stem` and `extension` see it.
    let mut present: Vec<&str> = names
        .iter()
        .filter_map(|name| name.strip_suffix(".wasm"))
        .filter(|stem| !stem.is_empty())
        .collect();
    if present.iter().any(|id| !listed.contains(id)) {
        // The first by name, whatever order the folder listed them in.
        present.sort_unstable();
    }
    if let Some(stray) = present.iter().find(|id| !listed.contains(*id)) {
        bail!(
            "{} is not in {}: a stray file, not one `migrate build` made here. Remove it, or \
             deploy the build/ folder `migrate build` wrote",
            build_dir.join(format!("{stray}.wasm")).display(),
            path(build_dir).display()
        );
    }
    // Every file is listed: none is missing when there are as many (names in a folder
    // differ; two that only differ in bytes that are not UTF-8 may not, hence the check).
    let missing = (present.len() != listed.len()).then(|| {
        let present: HashSet<&str> = present.into_iter().collect();
        let mut ids: Vec<&str> = listed.into_iter().collect();
        ids.sort_unstable();
        ids.into_iter().find(|id| !present.contains(id))
    });
    if let Some(missing) = missing.flatten() {
        bail!(
            "revision {missing} is listed in {} but {} is missing: the deployment is incomplete",
            path(build_dir).display(),
            build_dir.join(format!("{missing}.wasm")).display()
        );
    }
    Ok(())
}

/// Reads a file `migrate` will treat as a component: a regular file (not a device, FIFO or
/// link to one) of at most `MAX_COMPONENT_BYTES`.
pub fn read_component_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if !meta.is_file() {
        bail!("{} is not a regular file", path.display());
    }
    if meta.len() > MAX_COMPONENT_BYTES {
        bail!(
            "{} is {} bytes, more than a revision's component may be ({MAX_COMPONENT_BYTES})",
            path.display(),
            meta.len()
        );
    }
    use std::io::Read;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_COMPONENT_BYTES + 1).read_to_end(&mut bytes))
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() as u64 > MAX_COMPONENT_BYTES {
        bail!(
            "{} grew past {MAX_COMPONENT_BYTES} bytes while read",
            path.display()
        );
    }
    Ok(bytes)
}
