//! On-disk caches keyed by a hash of a component's bytes, an optimisation and never a source of truth:
//! a miss or an unreadable entry just does the work again.
//!
//! - Compiled components (`<sha>-<engine>.cwasm`): compiling costs milliseconds per component,
//!   deserializing a fraction of that. Deserializing runs native code, so only files this cache
//!   wrote are loaded, and the key includes the engine's compatibility hash (settings included).
//! - Recorded ops (`<sha>.<direction>.ops.json`): a guest has no inputs (no clock, no I/O), so
//!   its ops are a pure function of its bytes; of its bytes and target for one that asks for
//!   its target (`<sha>@<target>`), and of those and the schema before it for one that looks at
//!   the schema (`<sha>@<target>+<schema hash>`). Ops that depend on the run's time or on rows
//!   are never cached.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use migrate_core::ops::Op;
use wasmtime::component::Component;
use wasmtime::Engine;

use super::target::Target;
use super::Direction;

/// Bumped whenever the serialized form of `Op` changes.
const OPS_FORMAT: &str = "ops-v1";

#[derive(Clone)]
pub struct Cache {
    dir: Option<PathBuf>,
    /// Ops recorded by `migrate build` (`build/ops.json`), looked at before this cache's files:
    /// they are the same ops for the same bytes, already read in one file, where the cache
    /// costs a file lookup or two per revision (BENCHMARKS.md, session 11).
    shipped: Option<std::sync::Arc<super::shipped::ShippedOps>>,
}

/// The identity of a component's bytes. BLAKE3, not SHA-256: it is hashed on every run for
/// every revision, and a profile of `upgrade` at N = 100 showed SHA-256 (software, no SHA-NI
/// here) taking over half the instructions. The key names a cache entry; it guards nothing that
/// the cache folder's own permissions do not.
pub fn component_key(wasm: &[u8]) -> String {
    blake3::hash(wasm).to_hex().to_string()
}

impl Cache {
    /// A cache in `dir`, or none when the folder cannot be made (a read-only deployment).
    pub fn new(dir: PathBuf) -> Cache {
        Cache {
            dir: std::fs::create_dir_all(&dir).ok().map(|_| dir),
            shipped: None,
        }
    }

    /// The same cache, falling back on the ops a build shipped.
    pub fn with_shipped(self, shipped: super::shipped::ShippedOps) -> Cache {
        Cache {
            shipped: Some(std::sync::Arc::new(shipped)),
            ..self
        }
    }

    fn path(&self, name: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(name))
    }

    fn compiled_name(engine: &Engine, key: &str) -> String {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        format!("{key}-{:016x}.cwasm", hasher.finish())
    }

    /// The compiled component, from the cache or compiled now (and cached).
    pub fn component(
        &self,
        engine: &Engine,
        key: &str,
        wasm: &[u8],
    ) -> wasmtime::Result<Component> {
        let path = self.path(&Self::compiled_name(engine, key));
        if let Some(path) = &path {
            if path.exists() {
                // SAFETY: the file was written by `Component::serialize` below, into the cache
                // folder, under a name that includes the engine's compatibility hash.
                if let Ok(component) = unsafe { Component::deserialize_file(engine, path) } {
                    return Ok(component);
                }
            }
        }
        let compiled = engine.precompile_component(wasm)?;
        if let Some(path) = &path {
            if write_atomically(path, &compiled) {
                // SAFETY: just written by `precompile_component` above, as in the cache hit.
                return unsafe { Component::deserialize_file(engine, path) };
            }
        }
        // SAFETY: these bytes come from `precompile_component` in this process.
        unsafe { Component::deserialize(engine, &compiled) }
    }

    /// A component's recorded ops. Those of a component that asks for its target (imports the
    /// `target` interface) are filed per target, and never under the plain key: one lookup for
    /// every other revision, as before.
    pub fn ops(&self, key: &str, direction: Direction, target: &Target) -> Option<Vec<Op>> {
        (self.shipped.as_ref())
            .and_then(|shipped| shipped.get(key, direction))
            .or_else(|| self.read_ops(key, direction))
            .or_else(|| self.read_ops(&per_target(key, target), direction))
    }

    pub fn store_ops(
        &self,
        key: &str,
        direction: Direction,
        asks_target: Option<&Target>,
        ops: &[Op],
    ) {
        match asks_target {
            Some(target) => self.write_ops(&per_target(key, target), direction, ops),
            None => self.write_ops(key, direction, ops),
        }
    }

    /// The ops of a component that looks at the schema before it (`catalog`), recorded against
    /// the schema whose fingerprint is `schema`.
    pub fn schema_ops(
        &self,
        key: &str,
        direction: Direction,
        target: &Target,
        schema: &str,
    ) -> Option<Vec<Op>> {
        self.read_ops(&per_schema(key, target, schema), direction)
    }

    pub fn store_schema_ops(
        &self,
        key: &str,
        direction: Direction,
        target: &Target,
        schema: &str,
        ops: &[Op],
    ) {
        self.write_ops(&per_schema(key, target, schema), direction, ops)
    }

    fn read_ops(&self, key: &str, direction: Direction) -> Option<Vec<Op>> {
        let path = self.path(&ops_name(key, direction))?;
        let bytes = std::fs::read(path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    fn write_ops(&self, key: &str, direction: Direction, ops: &[Op]) {
        if let Some(path) = self.path(&ops_name(key, direction)) {
            if let Ok(bytes) = serde_json::to_vec(ops) {
                let _ = write_atomically(&path, &bytes);
            }
        }
    }
}

fn per_target(key: &str, target: &Target) -> String {
    format!("{key}@{}", target.cache_suffix())
}

fn per_schema(key: &str, target: &Target, schema: &str) -> String {
    format!("{}+{schema}", per_target(key, target))
}

fn ops_name(key: &str, direction: Direction) -> String {
    let direction = match direction {
        Direction::Upgrade => "upgrade",
        Direction::Downgrade => "downgrade",
    };
    format!("{key}.{direction}.{OPS_FORMAT}.json")
}

/// Write to a temporary name and rename: a reader never sees half a file. Whether it worked.
fn write_atomically(path: &Path, bytes: &[u8]) -> bool {
    // Unique per process and thread: precompile workers write in parallel.
    let temp = path.with_extension(
        format!(
            "tmp{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        )
        .replace(['(', ')'], ""),
    );
    if std::fs::write(&temp, bytes).is_ok() {
        if std::fs::rename(&temp, path).is_ok() {
            return true;
        }
        let _ = std::fs::remove_file(&temp);
    }
    false
}
