//! Running revisions' guests on demand, for a whole command: their components read, checked and
//! compiled once, and the ops they record kept (in memory, and on disk where the same inputs
//! always record the same ops).
//!
//! The ops a revision records "for the model" are what its upgrade or downgrade does to the
//! schema, the same on every run: with no rows to read (`data`), the schema model before it
//! (`catalog`, without the names a database gave). Online, a revision that reads rows or looks
//! at the database's names runs again at its step (`crate::reading_step`), and what it records
//! then is what runs; its checksum is still taken over the model's ops.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::anyhow;
use migrate_core::ops::{checksum, Op};
use migrate_core::schema::Schema;

use crate::project::Project;
use crate::wasm::context::GuestContext;
use crate::wasm::runtime::LoadedRevision;
use crate::wasm::target::Target;
use crate::wasm::{Capabilities, Direction, GuestRuntime};

pub struct Guests<'p> {
    pub project: &'p Project,
    pub(crate) runtime: GuestRuntime,
    /// The model's ops of revisions that do not look at the schema, by (id, upgrade?).
    recorded: BTreeMap<(String, bool), Vec<Op>>,
    /// Whether `recorded` keeps ops once asked for them (a fleet runs the same revisions on
    /// many databases), or hands them over (`hand_over_recorded`).
    keep_recorded: bool,
    /// Each revision's cache key (its component's hash). The bytes are not kept: a thousand
    /// components held at once are memory the run does not need.
    keys: BTreeMap<String, String>,
    /// The database the ops are recorded for, for revisions that ask (`target` interface).
    pub(crate) target: Target,
    /// What each revision loaded so far imports. A revision whose ops came from the cache is
    /// not here, and imports neither `clock`, `catalog` nor `data` (their ops are never cached
    /// under the plain key).
    capabilities: BTreeMap<String, Capabilities>,
}

/// One revision recorded ahead of its turn, on a worker thread.
pub struct Ahead {
    pub key: String,
    /// `None` for a revision that looks at the schema: it is recorded at its point in order.
    pub ops: Option<Vec<Op>>,
    /// Known when its component was loaded (not when its ops came from the cache).
    pub capabilities: Option<Capabilities>,
}

impl<'p> Guests<'p> {
    pub fn new(project: &'p Project, runtime: GuestRuntime) -> Guests<'p> {
        Guests {
            project,
            runtime,
            recorded: BTreeMap::new(),
            keep_recorded: true,
            keys: BTreeMap::new(),
            target: Target::default(),
            capabilities: BTreeMap::new(),
        }
    }

    /// Records ops for `target` from now on (ops already recorded for another are forgotten).
    pub fn set_target(&mut self, target: Target) {
        if target != self.target {
            self.recorded.clear();
            self.target = target;
        }
    }

    /// From now on a revision's recorded ops are handed over, not copied, when asked for: for a
    /// command that walks each revision once (one database's upgrade), so that a thousand
    /// revisions' ops are not all held at once (1.0 of 5.3 MB of heap at N=1000,
    /// BENCHMARKS.md session 12). Asked again, they are recorded again (from the cache or the
    /// shipped ops), which costs time, never correctness.
    pub fn hand_over_recorded(&mut self) {
        self.keep_recorded = false;
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// A revision's built component (read and checked) and its cache key.
    fn component(&mut self, id: &str) -> anyhow::Result<(String, Vec<u8>)> {
        let (bytes, key) = self.project.read_component(id)?;
        self.keys.insert(id.to_string(), key.clone());
        Ok((key, bytes))
    }

    fn key(&mut self, id: &str) -> anyhow::Result<String> {
        if let Some(key) = self.keys.get(id).or(self.project.verified_key(id)) {
            return Ok(key.clone());
        }
        Ok(self.component(id)?.0)
    }

    /// Records the ops of `ids` on every core at once, so that `ops` finds them. Problems are
    /// left for `ops` to report with the revision named.
    pub fn record_ahead(&mut self, ids: &[String], direction: Direction) {
        let upgrade = direction == Direction::Upgrade;
        let ids: Vec<&String> = ids
            .iter()
            .filter(|id| !self.recorded.contains_key(&(id.to_string(), upgrade)))
            .collect();
        let (project, runtime, target) = (self.project, &self.runtime, &self.target);
        let recorded = crate::parallel::map(&ids, 8, |id| {
            record_quietly(project, runtime, target, id, direction)
        });
        for (id, result) in ids.into_iter().zip(recorded) {
            if let Some(ahead) = result {
                self.learn(id, ahead, direction);
            }
        }
    }

    /// Keeps what a worker recorded for `id`.
    pub fn learn(&mut self, id: &str, ahead: Ahead, direction: Direction) {
        self.keys.insert(id.to_string(), ahead.key);
        if let Some(capabilities) = ahead.capabilities {
            self.capabilities.insert(id.to_string(), capabilities);
        }
        if let Some(ops) = ahead.ops {
            self.recorded
                .insert((id.to_string(), direction == Direction::Upgrade), ops);
        }
    }

    /// The model's ops of a revision in one direction, with the revision named in any error.
    /// For a revision that looks at the schema, the schema before it is replayed first: callers
    /// that have it use `ops_at`.
    pub fn ops(&mut self, id: &str, direction: Direction) -> anyhow::Result<Vec<Op>> {
        if let Some(ops) = self.memo(id, direction) {
            return Ok(ops);
        }
        if self.capabilities_of(id)?.catalog {
            let schema = self.schema_before(id, direction)?;
            return self.ops_at(id, direction, &schema);
        }
        self.ops_at(id, direction, &Schema::default())
    }

    /// The model's ops of a revision whose step starts from `schema`.
    pub fn ops_at(
        &mut self,
        id: &str,
        direction: Direction,
        schema: &Schema,
    ) -> anyhow::Result<Vec<Op>> {
        if let Some(ops) = self.memo(id, direction) {
            return Ok(ops);
        }
        let label = self.label(id);
        let key = self.key(id)?;
        let known = self.capabilities.get(id).copied();
        // Without the schema, the cache has it under the component's key (and target) alone.
        if !known.is_some_and(|c| c.catalog) {
            if let Some(ops) = self.runtime.cache().ops(&key, direction, &self.target) {
                self.runtime
                    .sandbox()
                    .check_execute(id, runs_raw_sql(&ops))
                    .map_err(|e| anyhow!("{label}: {e:#}"))?;
                self.remember(id, direction, &ops);
                return Ok(ops);
            }
        }
        let loaded = self.load(id)?;
        let capabilities = loaded.capabilities;
        // Refused before it runs: its imports say what it can do.
        self.runtime
            .sandbox()
            .check(id, &capabilities)
            .map_err(|e| anyhow!("{label}: {e:#}"))?;
        let fingerprint = capabilities.catalog.then(|| schema_fingerprint(schema));
        if let Some(fingerprint) = &fingerprint {
            let cached =
                self.runtime
                    .cache()
                    .schema_ops(&key, direction, &self.target, fingerprint);
            if let Some(ops) = cached {
                return Ok(ops);
            }
        }
        let mut context = GuestContext::ahead(&self.target);
        if capabilities.catalog {
            context.catalog = Some(crate::wasm::context::CatalogView {
                schema: Arc::new(schema.clone()),
                learned: false,
            });
        }
        let ops = self
            .runtime
            .run(&loaded, direction, context)
            .map_err(|e| {
                let hint = if capabilities.data {
                    "\n  (it ran with no rows to read, as it does while its checksum and the schema model \
                     are recorded: every read returns nothing, so a revision must handle an empty answer)"
                } else {
                    ""
                };
                anyhow!("{label}: {e:#}{hint}")
            })?;
        let cache = self.runtime.cache();
        match &fingerprint {
            Some(fingerprint) if !capabilities.clock && !capabilities.data => {
                cache.store_schema_ops(&key, direction, &self.target, fingerprint, &ops)
            }
            Some(_) => {}
            None if !capabilities.contextual() => {
                let asks = capabilities.target.then_some(&self.target);
                cache.store_ops(&key, direction, asks, &ops);
            }
            None => {}
        }
        self.remember(id, direction, &ops);
        Ok(ops)
    }

    fn memo(&mut self, id: &str, direction: Direction) -> Option<Vec<Op>> {
        let key = (id.to_string(), direction == Direction::Upgrade);
        if self.keep_recorded {
            self.recorded.get(&key).cloned()
        } else {
            self.recorded.remove(&key)
        }
    }

    /// Keeps a revision's model ops for the command, unless they depend on the schema.
    fn remember(&mut self, id: &str, direction: Direction, ops: &[Op]) {
        if self.keep_recorded && !self.capabilities.get(id).is_some_and(|c| c.catalog) {
            self.recorded.insert(
                (id.to_string(), direction == Direction::Upgrade),
                ops.to_vec(),
            );
        }
    }

    /// The schema a step of `id` starts from: before its upgrade, or after it (before its
    /// downgrade).
    fn schema_before(&mut self, id: &str, direction: Direction) -> anyhow::Result<Schema> {
        let heads = match direction {
            Direction::Upgrade => self
                .project
                .graph
                .get(id)
                .map(|meta| meta.down_revisions.clone())
                .unwrap_or_default(),
            Direction::Downgrade => vec![id.to_string()],
        };
        Ok(crate::runner::replay(self, &heads)?.0)
    }

    /// The checksum of a revision's step, over `ops`, its model ops from `schema`. A revision
    /// that asks for the run's time records them again at the canonical time: the same on
    /// every run, so an applied revision still verifies.
    pub fn checksum_at(
        &mut self,
        id: &str,
        direction: Direction,
        ops: &[Op],
        schema: &Schema,
    ) -> anyhow::Result<String> {
        if !self.capabilities.get(id).is_some_and(|c| c.clock) {
            return Ok(checksum(ops));
        }
        let label = self.label(id);
        let loaded = self.load(id)?;
        let view = loaded
            .capabilities
            .catalog
            .then(|| Arc::new(schema.clone()));
        let context = GuestContext::canonical(&self.target, view);
        let canonical = self
            .runtime
            .run(&loaded, direction, context)
            .map_err(|e| anyhow!("{label}: {e:#}"))?;
        Ok(checksum(&canonical))
    }

    /// `checksum_at`, the schema before the step replayed where the revision looks at it.
    pub fn checksum(
        &mut self,
        id: &str,
        direction: Direction,
        ops: &[Op],
    ) -> anyhow::Result<String> {
        let schema = if self.capabilities.get(id).is_some_and(|c| c.catalog) {
            self.schema_before(id, direction)?
        } else {
            Schema::default()
        };
        self.checksum_at(id, direction, ops, &schema)
    }

    /// What a revision's component imports (loading it if nothing loaded it yet), for `show`
    /// and for the steps that must know.
    pub fn capabilities_of(&mut self, id: &str) -> anyhow::Result<Capabilities> {
        if let Some(known) = self.capabilities.get(id) {
            return Ok(*known);
        }
        Ok(self.load(id)?.capabilities)
    }

    /// What a revision imports, as far as known: a revision whose ops came from the cache
    /// imports nothing that makes them contextual.
    pub fn known_capabilities(&self, id: &str) -> Capabilities {
        self.capabilities.get(id).copied().unwrap_or_default()
    }

    /// Runs a revision with `context` (a run whose ops are not the model's: offline, or with
    /// the database's names); nothing is cached.
    pub fn run_with(
        &mut self,
        id: &str,
        direction: Direction,
        context: GuestContext,
    ) -> anyhow::Result<Vec<Op>> {
        let label = self.label(id);
        let loaded = self.load(id)?;
        self.runtime
            .sandbox()
            .check(id, &loaded.capabilities)
            .map_err(|e| anyhow!("{label}: {e:#}"))?;
        self.runtime
            .run(&loaded, direction, context)
            .map_err(|e| anyhow!("{label}: {e:#}"))
    }

    /// A revision's compiled component, its capabilities remembered.
    pub fn load(&mut self, id: &str) -> anyhow::Result<LoadedRevision> {
        let (key, bytes) = self.component(id)?;
        // Not kept after the run: loading from the compile cache takes a fraction of a
        // millisecond, and a thousand compiled components held at once cost memory.
        let loaded = self.runtime.load(&key, &bytes).map_err(|e| {
            anyhow!(
                "{}: {}: {e:#}",
                self.label(id),
                self.project.wasm_path(id).display()
            )
        })?;
        self.capabilities
            .insert(id.to_string(), loaded.capabilities);
        Ok(loaded)
    }

    pub fn runtime(&self) -> &GuestRuntime {
        &self.runtime
    }

    pub fn label(&self, id: &str) -> String {
        match self.project.graph.get(id) {
            Some(meta) => format!("revision {id} ({:?})", meta.message),
            None => format!("revision {id}"),
        }
    }

    /// The model's ops of `steps`, in order, recorded on a thread of their own: reading
    /// components and cached ops (or compiling and running guests) overlaps with the database
    /// running the steps already delivered. The thread stops when the receiver is dropped.
    pub fn ahead(
        &self,
        steps: &[String],
        direction: Direction,
    ) -> std::sync::mpsc::Receiver<anyhow::Result<Ahead>> {
        let project = self.project.clone();
        let runtime = self.runtime.clone();
        let target = self.target.clone();
        let steps = steps.to_vec();
        let (sender, receiver) = std::sync::mpsc::sync_channel(64);
        std::thread::spawn(move || {
            let mut reporter = Guests::new(&project, runtime.clone());
            reporter.set_target(target.clone());
            // Every core records; each revision's ops go to the database as soon as they and
            // all before them are ready. A revision that failed is run again by `ops`, to name
            // it (one that looks at the schema fails there too: it is reported at its step).
            crate::parallel::in_order(
                &steps,
                |id| record_quietly(&project, &runtime, &target, id, direction),
                |id, recorded| {
                    let ahead = match recorded {
                        Some(ahead) => Ok(ahead),
                        None => reporter.ops(id, direction).map(|ops| Ahead {
                            key: reporter.keys.get(id).cloned().unwrap_or_default(),
                            ops: Some(ops),
                            capabilities: reporter.capabilities.get(id).copied(),
                        }),
                    };
                    sender.send(ahead).is_ok()
                },
            );
        });
        receiver
    }
}

/// One revision's model ops and cache key: its component read, checked and hashed, then its
/// cached ops loaded, or it compiled and run (and its ops cached where they may be). `None` on
/// any problem, which `Guests::ops` then reports with the revision named.
fn record_quietly(
    project: &Project,
    runtime: &GuestRuntime,
    target: &Target,
    id: &str,
    direction: Direction,
) -> Option<Ahead> {
    // A verified build-only component's key is known: its bytes are read only to compile it.
    let (key, mut bytes) = match project.verified_key(id) {
        Some(key) => (key.clone(), None),
        None => {
            let (bytes, key) = project.read_component(id).ok()?;
            (key, Some(bytes))
        }
    };
    let sandbox = runtime.sandbox();
    if let Some(ops) = runtime.cache().ops(&key, direction, target) {
        sandbox.check_execute(id, runs_raw_sql(&ops)).ok()?;
        return Some(Ahead {
            key,
            ops: Some(ops),
            capabilities: None,
        });
    }
    let bytes = match bytes.take() {
        Some(bytes) => bytes,
        None => project.read_component(id).ok()?.0,
    };
    let loaded = runtime.load(&key, &bytes).ok()?;
    let capabilities = loaded.capabilities;
    sandbox.check(id, &capabilities).ok()?;
    if capabilities.catalog {
        return Some(Ahead {
            key,
            ops: None,
            capabilities: Some(capabilities),
        });
    }
    let ops = runtime
        .run(&loaded, direction, GuestContext::ahead(target))
        .ok()?;
    if !capabilities.contextual() {
        let asks = capabilities.target.then_some(target);
        runtime.cache().store_ops(&key, direction, asks, &ops);
    }
    Some(Ahead {
        key,
        ops: Some(ops),
        capabilities: Some(capabilities),
    })
}

pub fn runs_raw_sql(ops: &[Op]) -> bool {
    ops.iter().any(|op| matches!(op, Op::Execute { .. }))
}

/// What identifies a schema for the ops cache of revisions that look at it.
fn schema_fingerprint(schema: &Schema) -> String {
    let mut hasher = blake3::Hasher::new();
    for (name, model) in &schema.tables {
        let _ = serde_json::to_writer(&mut hasher, &(name, &model.table, &model.indexes));
    }
    hasher.finalize().to_hex()[..32].to_string()
}
