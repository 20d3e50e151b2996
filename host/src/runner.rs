//! One path for every move through the graph: plan the steps, run each guest, render its ops
//! with the dialect, then execute the script or print it. `--sql` prints exactly what would run.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::{anyhow, bail, Context};
use migrate_core::ops::{checksum, Op};
use migrate_core::revision::Graph;
use migrate_core::schema::Schema;
use migrate_core::sql::version_table::{self, Direction as Recorded, StepRecord, VersionTables};
use migrate_core::sql::{render_step, render_step_within, Dialect, Statement, StepScript};

use crate::db::Database;
use crate::project::Project;
use crate::wasm::clock;
use crate::wasm::runtime::LoadedRevision;
use crate::wasm::target::Target;
use crate::wasm::{Direction, GuestRuntime};

/// Runs guests on demand and keeps their compiled components and recorded ops for the command.
pub struct Guests<'p> {
    pub project: &'p Project,
    runtime: GuestRuntime,
    recorded: BTreeMap<(String, bool), Vec<Op>>,
    /// Each revision's cache key (its component's hash). The bytes are not kept: a thousand
    /// components held at once are memory the run does not need.
    keys: BTreeMap<String, String>,
    /// The database the ops are recorded for, for revisions that ask (`target` interface).
    target: Target,
    /// Revisions that asked for the run's start time (`clock` interface): their ops differ per
    /// run, so they are never cached and their checksum is taken at `clock::CANONICAL`.
    clock_dependent: BTreeSet<String>,
}

impl<'p> Guests<'p> {
    pub fn new(project: &'p Project, runtime: GuestRuntime) -> Guests<'p> {
        Guests {
            project,
            runtime,
            recorded: BTreeMap::new(),
            keys: BTreeMap::new(),
            target: Target::default(),
            clock_dependent: BTreeSet::new(),
        }
    }

    /// Records ops for `target` from now on (ops already recorded for another are forgotten).
    pub fn set_target(&mut self, target: Target) {
        if target != self.target {
            self.recorded.clear();
            self.target = target;
        }
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

    /// Records the ops of `ids` on every core at once, so that `ops` finds them: each worker
    /// reads, checks and hashes a component, then loads its cached ops or compiles and runs it.
    /// Problems are left for `ops` to report with the revision named.
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
            if let Some(recorded) = result {
                self.keys.insert(id.clone(), recorded.key);
                if recorded.asks_clock {
                    self.clock_dependent.insert(id.clone());
                }
                self.recorded.insert((id.clone(), upgrade), recorded.ops);
            }
        }
    }

    /// The ops a revision records in one direction, with the revision named in any error.
    /// Cached by component hash: the same bytes always record the same ops.
    pub fn ops(&mut self, id: &str, direction: Direction) -> anyhow::Result<Vec<Op>> {
        let memo_key = (id.to_string(), direction == Direction::Upgrade);
        if let Some(ops) = self.recorded.get(&memo_key) {
            return Ok(ops.clone());
        }
        let label = self.label(id);
        let key = self.key(id)?;
        let ops = match self.runtime.cache().ops(&key, direction, &self.target) {
            Some(ops) => {
                self.runtime
                    .sandbox()
                    .check_execute(id, runs_raw_sql(&ops))
                    .map_err(|e| anyhow!("{label}: {e:#}"))?;
                ops
            }
            None => {
                let (key, bytes) = self.component(id)?;
                // Not kept after the run: loading from the compile cache takes a fraction of
                // a millisecond, and a thousand compiled components held at once cost memory.
                let loaded: LoadedRevision = self.runtime.load(&key, &bytes).map_err(|e| {
                    anyhow!("{label}: {}: {e:#}", self.project.wasm_path(id).display())
                })?;
                // Refused before it runs: its imports say what it can do.
                self.runtime
                    .sandbox()
                    .check_execute(id, loaded.imports_execute)
                    .map_err(|e| anyhow!("{label}: {e:#}"))?;
                let ops = self
                    .runtime
                    .run(&loaded, direction, &self.target, clock::run_started())
                    .map_err(|e| anyhow!("{label}: {e:#}"))?;
                if loaded.imports_clock {
                    self.clock_dependent.insert(id.to_string());
                } else {
                    let asks = loaded.imports_target.then_some(&self.target);
                    self.runtime.cache().store_ops(&key, direction, asks, &ops);
                }
                ops
            }
        };
        self.recorded.insert(memo_key, ops.clone());
        Ok(ops)
    }

    /// Whether a revision's component can run raw SQL (it imports `execute`), for `show`.
    /// The checksum of a revision's upgrade `ops` (as `ops` returned them). For a revision that
    /// asked for the run's start time, the ops it records at `clock::CANONICAL` instead: the
    /// same on every run, so an applied revision still verifies.
    pub fn checksum(&mut self, id: &str, ops: &[Op]) -> anyhow::Result<String> {
        if !self.clock_dependent.contains(id) {
            return Ok(checksum(ops));
        }
        let label = self.label(id);
        let loaded = self.capabilities(id)?;
        let canonical = self
            .runtime
            .run(&loaded, Direction::Upgrade, &self.target, clock::CANONICAL)
            .map_err(|e| anyhow!("{label}: {e:#}"))?;
        Ok(checksum(&canonical))
    }

    /// Whether a revision asked for the run's start time (known once its ops were recorded).
    pub fn asked_clock(&self, id: &str) -> bool {
        self.clock_dependent.contains(id)
    }

    pub fn can_run_raw_sql(&mut self, id: &str) -> anyhow::Result<bool> {
        Ok(self.capabilities(id)?.imports_execute)
    }

    /// Whether a revision's ops may differ per database (it asks for its target), for `show`.
    pub fn asks_target(&mut self, id: &str) -> anyhow::Result<bool> {
        Ok(self.capabilities(id)?.imports_target)
    }

    fn capabilities(&mut self, id: &str) -> anyhow::Result<LoadedRevision> {
        let (key, bytes) = self.component(id)?;
        self.runtime.load(&key, &bytes).map_err(|e| {
            anyhow!(
                "{}: {}: {e:#}",
                self.label(id),
                self.project.wasm_path(id).display()
            )
        })
    }

    pub fn label(&self, id: &str) -> String {
        match self.project.graph.get(id) {
            Some(meta) => format!("revision {id} ({:?})", meta.message),
            None => format!("revision {id}"),
        }
    }
}

/// One revision's ops and cache key: its component read, checked and hashed, then its cached
/// ops loaded, or it compiled and run (and its ops cached). `None` on any problem, which
/// `Guests::ops` then reports with the revision named.
/// One revision's recorded ops, its cache key, and whether it asked for the run's time.
struct RecordedOps {
    key: String,
    ops: Vec<Op>,
    asks_clock: bool,
}

fn record_quietly(
    project: &Project,
    runtime: &GuestRuntime,
    target: &Target,
    id: &str,
    direction: Direction,
) -> Option<RecordedOps> {
    // A verified build-only component's key is known: its bytes are read only to compile it.
    let (key, mut bytes) = match project.verified_key(id) {
        Some(key) => (key.clone(), None),
        None => {
            let (bytes, key) = project.read_component(id).ok()?;
            (key, Some(bytes))
        }
    };
    let sandbox = runtime.sandbox();
    let mut asks_clock = false;
    let ops = match runtime.cache().ops(&key, direction, target) {
        Some(ops) => {
            sandbox.check_execute(id, runs_raw_sql(&ops)).ok()?;
            ops
        }
        None => {
            let bytes = match bytes.take() {
                Some(bytes) => bytes,
                None => project.read_component(id).ok()?.0,
            };
            let loaded = runtime.load(&key, &bytes).ok()?;
            sandbox.check_execute(id, loaded.imports_execute).ok()?;
            let ops = runtime
                .run(&loaded, direction, target, clock::run_started())
                .ok()?;
            asks_clock = loaded.imports_clock;
            if !asks_clock {
                let asks = loaded.imports_target.then_some(target);
                runtime.cache().store_ops(&key, direction, asks, &ops);
            }
            ops
        }
    };
    Some(RecordedOps {
        key,
        ops,
        asks_clock,
    })
}

fn runs_raw_sql(ops: &[Op]) -> bool {
    ops.iter().any(|op| matches!(op, Op::Execute { .. }))
}

/// Where a run's scripts go.
pub enum Sink<'a> {
    Execute(&'a mut Database),
    Print(&'a mut dyn Write),
}

/// The schema model at `heads` (replaying every applied revision's upgrade) and each applied
/// revision's current checksum.
pub fn replay(
    guests: &mut Guests,
    heads: &[String],
) -> anyhow::Result<(Schema, BTreeMap<String, String>)> {
    let graph = &guests.project.graph;
    let applied = graph.with_ancestors(heads);
    let order: Vec<String> = graph
        .in_order()
        .filter(|m| applied.contains(&m.id))
        .map(|m| m.id.clone())
        .collect();
    // With a cold cache (a new deployment on an old database) every applied revision compiles.
    guests.record_ahead(&order, Direction::Upgrade);
    let mut schema = Schema::default();
    let mut checksums = BTreeMap::new();
    for id in order {
        let ops = guests.ops(&id, Direction::Upgrade)?;
        for op in &ops {
            schema
                .apply_lenient(op)
                .map_err(|e| anyhow!("{}: {e}", guests.label(&id)))?;
        }
        let sum = guests.checksum(&id, &ops)?;
        checksums.insert(id, sum);
    }
    Ok((schema, checksums))
}

/// Refuses to go on when an applied revision now records other ops than when it was applied.
pub fn verify_checksums(
    guests: &Guests,
    current: &BTreeMap<String, String>,
    recorded: &BTreeMap<String, String>,
) -> anyhow::Result<()> {
    for (id, now) in current {
        match recorded.get(id) {
            Some(then) if !then.is_empty() && then != now => bail!(
                "{} was applied with checksum {}, but its upgrade() now records different operations \
                 (checksum {}). Editing an applied revision does not change the database: write a new \
                 revision instead. If the database really matches the new version, accept it with \
                 `migrate accept {id}`.",
                guests.label(id),
                short(then),
                short(now)
            ),
            _ => {}
        }
    }
    Ok(())
}

pub fn short(checksum: &str) -> &str {
    &checksum[..checksum.len().min(12)]
}

/// The version-table statements for one step, and the heads before and after it.
pub struct Bookkeeping {
    pub statements: Vec<Statement>,
    pub heads_before: Vec<String>,
    pub heads_after: Vec<String>,
}

/// Moves `applied` and `heads` across one step of `id` and renders what the version table must
/// record.
#[allow(clippy::too_many_arguments)]
pub fn bookkeeping(
    graph: &Graph,
    dialect: &dyn Dialect,
    tables: &VersionTables,
    applied: &mut BTreeSet<String>,
    heads: &mut Vec<String>,
    id: &str,
    direction: Direction,
    checksum: &str,
    message: &str,
    applied_at: Option<&str>,
) -> Bookkeeping {
    let heads_before = heads.clone();
    let heads_after = match direction {
        Direction::Upgrade => {
            applied.insert(id.to_string());
            graph.heads_after_upgrade(&heads_before, id)
        }
        Direction::Downgrade => {
            applied.remove(id);
            graph.heads_after_downgrade(&heads_before, id, applied)
        }
    };
    *heads = heads_after.clone();
    let removed: Vec<String> = heads_before
        .iter()
        .filter(|h| !heads_after.contains(h))
        .cloned()
        .collect();
    let added: Vec<String> = heads_after
        .iter()
        .filter(|h| !heads_before.contains(h))
        .cloned()
        .collect();
    let statements = version_table::record(
        dialect,
        tables,
        &StepRecord {
            revision: id,
            direction: recorded(direction),
            checksum,
            message,
            removed_heads: &removed,
            added_heads: &added,
            applied_at,
        },
    );
    Bookkeeping {
        statements,
        heads_before,
        heads_after,
    }
}

pub fn recorded(direction: Direction) -> Recorded {
    match direction {
        Direction::Upgrade => Recorded::Upgrade,
        Direction::Downgrade => Recorded::Downgrade,
    }
}

/// The ops of `steps`, in order, recorded on a thread of their own: reading components and
/// cached ops (or compiling and running guests) overlaps with the database running the steps
/// already delivered. The thread stops when the receiver is dropped (a step failed).
fn ops_ahead(
    guests: &Guests,
    steps: &[String],
    direction: Direction,
) -> std::sync::mpsc::Receiver<anyhow::Result<(Vec<Op>, bool)>> {
    let project = guests.project.clone();
    let runtime = guests.runtime.clone();
    let target = guests.target.clone();
    let steps = steps.to_vec();
    let (sender, receiver) = std::sync::mpsc::sync_channel(64);
    std::thread::spawn(move || {
        let mut reporter = Guests::new(&project, runtime.clone());
        reporter.set_target(target.clone());
        // Every core records; each revision's ops go to the database as soon as they and all
        // before them are ready. A revision that failed is run again by `ops`, to name it.
        crate::parallel::in_order(
            &steps,
            |id| record_quietly(&project, &runtime, &target, id, direction),
            |id, recorded| {
                let ops = match recorded {
                    Some(recorded) => Ok((recorded.ops, recorded.asks_clock)),
                    None => reporter
                        .ops(id, direction)
                        .map(|ops| (ops, reporter.asked_clock(id))),
                };
                sender.send(ops).is_ok()
            },
        );
    });
    receiver
}

/// Moves from `current` heads through `steps`, one revision (and one transaction, where the
/// database has transactional DDL) at a time.
pub async fn run_steps(
    guests: &mut Guests<'_>,
    tables: &VersionTables,
    mut schema: Schema,
    current: &[String],
    steps: &[String],
    direction: Direction,
    mut sink: Sink<'_>,
) -> anyhow::Result<()> {
    // The database the guests record for is the one the steps are rendered for.
    let dialect = guests.target.dialect();
    let graph = guests.project.graph.clone();
    let mut applied: BTreeSet<String> = graph.with_ancestors(current);
    let mut heads = graph.heads_of(&applied);
    let ahead = ops_ahead(guests, steps, direction);
    for id in steps {
        let (ops, asked_clock) = ahead
            .recv()
            .map_err(|_| anyhow!("{}: the thread recording ops stopped", guests.label(id)))??;
        if asked_clock {
            guests.clock_dependent.insert(id.clone());
        }
        let meta = graph.get(id).expect("a planned revision exists");
        let sum = guests.checksum(id, &ops)?;
        // The history row of a revision that stamped rows with the run's time records it.
        let applied_at = guests
            .asked_clock(id)
            .then(|| clock::as_sql_timestamp(clock::run_started()));
        let books = bookkeeping(
            &graph,
            dialect,
            tables,
            &mut applied,
            &mut heads,
            id,
            direction,
            &sum,
            &meta.message,
            applied_at.as_deref(),
        );
        let label = guests.label(id);
        let max_sql_bytes = guests.runtime.limits().sql_mib.saturating_mul(1024 * 1024);
        let mut script =
            render_step_within(dialect, &mut schema, &ops, books.statements, max_sql_bytes)
                .map_err(|e| anyhow!("{label}, {}: {e}", direction.function()))?;
        if !script.transactional {
            script.before.insert(
                0,
                version_table::mark_in_progress(dialect, tables, id, recorded(direction)),
            );
            script
                .bookkeeping
                .push(version_table::clear_mark(dialect, tables, id));
        }
        let headline = step_headline(
            direction,
            &books.heads_before,
            &books.heads_after,
            &meta.message,
        );
        match &mut sink {
            Sink::Print(out) => print_script(*out, &headline, &script)?,
            Sink::Execute(db) => {
                crate::output::progress!("{headline}");
                db.run_script(&script, id).await.map_err(|e| {
                    if script.transactional {
                        anyhow!(
                            "{label}, {} failed and was rolled back; the database is as it was before this revision.\n  {e}",
                            direction.function()
                        )
                    } else {
                        anyhow!(
                            "{label}, {} failed. This database cannot roll back DDL, so the revision is marked \
                             failed.\n  {e}\n{}{}",
                            direction.function(),
                            describe_partial_effect(&script.body, &e.sql),
                            recovery_advice(id, recorded(direction).as_str())
                        )
                    }
                })?;
            }
        }
    }
    Ok(())
}

/// What a non-transactional step's failure left behind: the body statements before the one that
/// failed ran and stay applied; it and those after it did not.
pub fn describe_partial_effect(body: &[Statement], failed_sql: &str) -> String {
    let Some(at) = body.iter().position(|s| s.sql == failed_sql) else {
        // Not one of the body's statements: the version-table update after all of them.
        return format!(
            "All {} statements of the step took effect; the version-table update that records it failed.\n",
            body.len()
        );
    };
    let mut text = if at == 0 {
        format!(
            "No statement of the step took effect: the first of {} failed.\n",
            body.len()
        )
    } else {
        format!(
            "Statements 1-{at} of {} took effect and stay applied; {} failed and the rest did not run:\n",
            body.len(),
            at + 1
        )
    };
    for (i, statement) in body[..at].iter().enumerate() {
        text.push_str(&format!("    {}. {}\n", i + 1, statement.sql));
    }
    text
}

/// The script a step would run from the database's current heads: for saying, after a failure,
/// which of its statements had taken effect. The schema is the replayed model (objects made
/// outside the revisions are not read), which is what a non-transactional dialect renders from.
pub fn render_step_from(
    guests: &mut Guests,
    dialect: &dyn Dialect,
    heads: &[String],
    id: &str,
    direction: Direction,
) -> anyhow::Result<StepScript> {
    let (mut schema, _) = replay(guests, heads)?;
    let ops = guests.ops(id, direction)?;
    render_step(dialect, &mut schema, &ops, vec![]).map_err(|e| anyhow!("{e}"))
}

/// The way out of a failed step, said for its direction: for a downgrade, "applied" means the
/// downgrade is done and the revision is no longer applied, which is easy to read backwards.
pub fn recovery_advice(id: &str, direction: &str) -> String {
    if direction == "downgrade" {
        format!(
            "Fix the database by hand, then run `migrate resolve {id} --applied` if you finished the downgrade \
             (it records the downgrade as done: revision {id} is then NOT applied), or \
             `migrate resolve {id} --rolled-back` if you undid the downgrade's changes (revision {id} stays applied)."
        )
    } else {
        format!(
            "Fix the database by hand, then run `migrate resolve {id} --applied` if you completed the upgrade's \
             changes (revision {id} is then applied), or `migrate resolve {id} --rolled-back` if you undid them \
             (it is not)."
        )
    }
}

fn step_headline(
    direction: Direction,
    before: &[String],
    after: &[String],
    message: &str,
) -> String {
    let verb = match direction {
        Direction::Upgrade => "upgrade",
        Direction::Downgrade => "downgrade",
    };
    let side = |heads: &[String]| {
        if heads.is_empty() {
            "base".to_string()
        } else {
            heads.join(", ")
        }
    };
    // The message lands in a `--` comment of `--sql` output: one line, whatever it holds.
    format!(
        "Running {verb} {} -> {}, {}",
        side(before),
        side(after),
        migrate_core::text::one_line(message)
    )
}

pub fn print_script(
    out: &mut dyn Write,
    headline: &str,
    script: &StepScript,
) -> anyhow::Result<()> {
    writeln!(out, "-- {headline}")
        .and_then(|_| write!(out, "{}", script.to_sql()))
        .and_then(|_| writeln!(out))
        .context("writing the SQL")
}
