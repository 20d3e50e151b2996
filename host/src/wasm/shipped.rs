//! Ops recorded by `migrate build` and shipped in `build/ops.json`, so that a fresh deployment
//! (the binary, `build/` and the settings; no cache) runs no guest it does not have to.
//!
//! A revision that takes no input (no clock, catalog, data or target) records the same ops
//! from the same bytes on every run, so its ops are a function of its component's hash: the
//! file maps that hash (the key the host computes anyway) to the ops of both directions. A
//! component rebuilt with other bytes has another hash, so an entry can be stale only by being
//! unused. The file is trusted exactly as far as the components beside it: whoever can write
//! `build/` can replace a component too. Its ops still pass every check a guest's ops pass
//! (`max_ops`, `ops_mib`, the sandbox's rule on raw SQL, rendering's own checks); an entry that
//! fails them, or a file that does not parse, is ignored and the guest runs instead.
//!
//! A component that asks for input maps to `null` (`takes_input`): nothing is shipped for it,
//! and the next build does not load it again only to learn that.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use migrate_core::ops::Op;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::budget::OpBudget;
use super::{Direction, Limits};

/// Bumped with the cache's own `OPS_FORMAT` whenever the serialized form of `Op` changes.
const FORMAT: &str = "ops-v1";
const FILE_NAME: &str = "ops.json";

#[derive(Debug, Clone, Default, Serialize)]
pub struct Recorded {
    pub upgrade: Vec<Op>,
    pub downgrade: Vec<Op>,
}

#[derive(Serialize)]
struct File<'a> {
    format: &'a str,
    /// Component hash -> its ops (as JSON text: an entry of the last build is kept as it was).
    revisions: &'a BTreeMap<String, Box<RawValue>>,
}

/// The file as read: each revision's entry kept as its JSON text and parsed when used, so a
/// run holds the ops of the revisions it runs, not those of the whole history at once.
#[derive(Deserialize)]
struct Stored {
    format: String,
    revisions: BTreeMap<String, Box<RawValue>>,
}

/// One direction of an entry, parsed alone.
#[derive(Deserialize)]
struct Upgrade {
    upgrade: Vec<Op>,
}

#[derive(Deserialize)]
struct Downgrade {
    downgrade: Vec<Op>,
}

/// `build/ops.json`, read on first use.
pub struct ShippedOps {
    path: PathBuf,
    limits: Limits,
    file: OnceLock<Option<BTreeMap<String, Box<RawValue>>>>,
}

impl ShippedOps {
    pub fn in_build_dir(build_dir: &Path, limits: Limits) -> ShippedOps {
        ShippedOps {
            path: build_dir.join(FILE_NAME),
            limits,
            file: OnceLock::new(),
        }
    }

    /// The shipped ops of the component `key` in one direction, if shipped and within limits.
    pub fn get(&self, key: &str, direction: Direction) -> Option<Vec<Op>> {
        let revisions = self.file.get_or_init(|| read(&self.path)).as_ref()?;
        let text = revisions.get(key)?.get();
        if text == TAKES_INPUT {
            return None;
        }
        let ops = match direction {
            Direction::Upgrade => serde_json::from_str::<Upgrade>(text).ok()?.upgrade,
            Direction::Downgrade => serde_json::from_str::<Downgrade>(text).ok()?.downgrade,
        };
        let mut budget = OpBudget::new(&self.limits);
        if ops.iter().try_for_each(|op| budget.admit(op)).is_err() {
            return None;
        }
        Some(ops)
    }
}

fn read(path: &Path) -> Option<BTreeMap<String, Box<RawValue>>> {
    let bytes = std::fs::read(path).ok()?;
    let file: Stored = serde_json::from_slice(&bytes).ok()?;
    (file.format == FORMAT).then_some(file.revisions)
}

/// The entries `build/ops.json` holds now, by component hash: a rebuild keeps the entry of a
/// component whose bytes did not change instead of running its guest again.
pub fn previous(build_dir: &Path) -> BTreeMap<String, Box<RawValue>> {
    read(&build_dir.join(FILE_NAME)).unwrap_or_default()
}

/// An entry for `build/ops.json`.
pub fn entry(recorded: &Recorded) -> Option<Box<RawValue>> {
    serde_json::value::to_raw_value(recorded).ok()
}

/// The entry of a component whose ops depend on the run (it asks for the clock, the catalog,
/// data or the target): its guest runs.
const TAKES_INPUT: &str = "null";

/// The entry for a component that asks for input (`TAKES_INPUT`).
pub fn takes_input() -> Box<RawValue> {
    RawValue::from_string(TAKES_INPUT.to_string()).expect("null is JSON")
}

/// Writes `build/ops.json` with exactly these entries (keyed by component hash), when it would
/// differ from what is there.
pub fn write(build_dir: &Path, revisions: &BTreeMap<String, Box<RawValue>>) -> anyhow::Result<()> {
    let path = build_dir.join(FILE_NAME);
    let file = File {
        format: FORMAT,
        revisions,
    };
    let bytes = serde_json::to_vec(&file)?;
    if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
        std::fs::write(&path, bytes)
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    }
    Ok(())
}
