//! One path for every move through the graph: plan the steps, run each guest, render its ops
//! with the dialect, then execute the script or print it. `--sql` prints exactly what would run.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::{anyhow, bail, Context};
use migrate_core::ops::Op;
use migrate_core::revision::Graph;
use migrate_core::schema::Schema;
use migrate_core::sql::version_table::{self, Direction as Recorded, StepRecord, VersionTables};
use migrate_core::sql::{render_step_within, Dialect, Statement, StepScript};

use crate::db::Database;
pub use crate::guests::Guests;
use crate::wasm::clock;
use crate::wasm::context::{CatalogView, DataAccess, GuestContext};
use crate::wasm::Direction;

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
    schema.naming = guests.runtime().naming().clone();
    let mut checksums = BTreeMap::new();
    for id in order {
        let ops = guests.ops_at(&id, Direction::Upgrade, &schema)?;
        let sum = guests.checksum_at(&id, Direction::Upgrade, &ops, &schema)?;
        for op in &ops {
            // Named as the steps render it: the model has the names the database got.
            let named = schema.naming.apply(op, &schema);
            schema
                .apply_lenient(&named)
                .map_err(|e| anyhow!("{}: {e}", guests.label(&id)))?;
        }
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
        heads_after,
    }
}

/// `bookkeeping` for one step of `id` taken from the database's `current` heads (a step
/// finished or recorded outside a run: `resolve`, `recovery`).
#[allow(clippy::too_many_arguments)]
pub fn bookkeeping_from(
    graph: &Graph,
    dialect: &dyn Dialect,
    tables: &VersionTables,
    current: &[String],
    id: &str,
    direction: Direction,
    checksum: &str,
    message: &str,
) -> Bookkeeping {
    let mut applied = graph.with_ancestors(current);
    let mut heads = graph.heads_of(&applied);
    bookkeeping(
        graph,
        dialect,
        tables,
        &mut applied,
        &mut heads,
        id,
        direction,
        checksum,
        message,
        None,
    )
}

pub fn recorded(direction: Direction) -> Recorded {
    match direction {
        Direction::Upgrade => Recorded::Upgrade,
        Direction::Downgrade => Recorded::Downgrade,
    }
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
    let graph = guests.project.graph.clone();
    let mut walk = Walk::from(&graph, current);
    let ahead = guests.ahead(steps, direction);
    // Revisions that read rows and so could not be printed offline, said at the end.
    let mut not_printed: Vec<String> = vec![];
    for (step_number, id) in steps.iter().enumerate() {
        let recorded_ahead = ahead
            .recv()
            .map_err(|_| anyhow!("{}: the thread recording ops stopped", guests.label(id)))??;
        guests.learn(id, recorded_ahead, direction);
        let Prepared {
            model_ops,
            capabilities,
            books,
        } = walk.prepare(guests, tables, &schema, id, direction)?;
        let meta = graph.get(id).expect("a planned revision exists");
        let label = guests.label(id);
        let headline = step_headline(direction, meta, id);
        let ops = match &mut sink {
            Sink::Print(out) if capabilities.data => {
                match guests.run_with(id, direction, offline(guests, &schema)) {
                    Ok(ops) => ops,
                    Err(e) => {
                        writeln!(
                            out,
                            "-- {headline}\n-- NOT PRINTED: {} reads rows, and offline there are none to read.\n",
                            migrate_core::text::one_line(&label)
                        )?;
                        advance(&mut schema, &model_ops);
                        not_printed.push(format!("{e:#}"));
                        continue;
                    }
                }
            }
            Sink::Print(_) => model_ops,
            Sink::Execute(db) => {
                // The step's own revision highlighted (on a terminal), not a parent's.
                let shown = step_headline(direction, meta, &crate::output::revision(id));
                crate::output::progress!(
                    "{}{shown}",
                    crate::output::step_counter(step_number + 1, steps.len())
                );
                if needs_database_names(&capabilities, &model_ops) {
                    schema.database_names = db
                        .constraint_names()
                        .await
                        .map_err(|e| anyhow!("{label}: reading the constraints' names: {e:#}"))?;
                }
                if capabilities.data {
                    let started = std::time::Instant::now();
                    crate::reading_step::run(
                        guests,
                        db,
                        &mut schema,
                        id,
                        direction,
                        books.statements,
                    )
                    .await?;
                    crate::output::record_step(crate::output::StepReport {
                        revision: id.clone(),
                        direction: recorded(direction).as_str(),
                        parents: meta.down_revisions.clone(),
                        duration_ms: started.elapsed().as_millis(),
                        statements: None,
                    });
                    continue;
                }
                if capabilities.catalog && !schema.database_names.is_empty() {
                    guests.run_with(id, direction, online(guests, &schema))?
                } else {
                    model_ops
                }
            }
        };
        let script = step_script(
            guests,
            tables,
            &mut schema,
            &ops,
            books.statements,
            id,
            direction,
        )?;
        let db = match &mut sink {
            Sink::Print(out) => {
                print_script(*out, &headline, &script)?;
                continue;
            }
            Sink::Execute(db) => db,
        };
        execute_step(db, &script, id, &label, direction, meta).await?;
    }
    if !not_printed.is_empty() {
        bail!(
            "{} not printed: {}\n\nA revision that reads rows needs a database to read them from. Run it \
             online (`migrate upgrade`), or give it an offline form: when `data::connected()` is false, \
             do the work in SQL with `op::execute`.",
            if not_printed.len() == 1 { "a revision was" } else { "revisions were" },
            not_printed.join("\n")
        );
    }
    Ok(())
}

/// What a step needs before it is rendered: the model's ops, what the revision imports, and the
/// version-table statements that record it.
struct Prepared {
    model_ops: Vec<Op>,
    capabilities: crate::wasm::Capabilities,
    books: Bookkeeping,
}

/// Where a run is in the graph as it goes step by step: what is applied, and the heads.
struct Walk {
    applied: BTreeSet<String>,
    heads: Vec<String>,
}

impl Walk {
    fn from(graph: &Graph, current: &[String]) -> Walk {
        let applied = graph.with_ancestors(current);
        let heads = graph.heads_of(&applied);
        Walk { applied, heads }
    }

    /// Records (or recalls) a step's ops from `schema`, and moves across it.
    fn prepare(
        &mut self,
        guests: &mut Guests,
        tables: &VersionTables,
        schema: &Schema,
        id: &str,
        direction: Direction,
    ) -> anyhow::Result<Prepared> {
        let dialect = guests.target().dialect();
        let graph = &guests.project.graph;
        let model_ops = guests.ops_at(id, direction, schema)?;
        let capabilities = guests.known_capabilities(id);
        let sum = guests.checksum_at(id, direction, &model_ops, schema)?;
        let meta = graph.get(id).expect("a planned revision exists");
        // The history row of a revision that stamped rows with the run's time records it.
        let applied_at = capabilities
            .clock
            .then(|| clock::as_sql_timestamp(clock::run_started()));
        let books = bookkeeping(
            graph,
            dialect,
            tables,
            &mut self.applied,
            &mut self.heads,
            id,
            direction,
            &sum,
            &meta.message,
            applied_at.as_deref(),
        );
        Ok(Prepared {
            model_ops,
            capabilities,
            books,
        })
    }
}

/// Whether a step needs the names the database gave constraints the revisions left unnamed: to
/// find one by its columns, or for a revision that looks at the schema.
fn needs_database_names(capabilities: &crate::wasm::Capabilities, ops: &[Op]) -> bool {
    capabilities.catalog
        || ops
            .iter()
            .any(|op| matches!(op, Op::DropConstraintOn { .. }))
}

/// A step rendered before any database is opened, to run as it is on many (a fleet).
pub struct RenderedStep {
    pub id: String,
    pub label: String,
    pub script: StepScript,
}

/// Every step's script, rendered from `schema` with no database: the same for every database
/// of this target and starting point. `None` when a step needs its database at its turn (it
/// reads rows, looks at the names the database gave, or finds a constraint by its columns);
/// such runs go through `run_steps`.
pub fn render_steps(
    guests: &mut Guests,
    tables: &VersionTables,
    mut schema: Schema,
    current: &[String],
    steps: &[String],
    direction: Direction,
) -> anyhow::Result<Option<Vec<RenderedStep>>> {
    let graph = guests.project.graph.clone();
    let mut walk = Walk::from(&graph, current);
    guests.record_ahead(steps, direction);
    let mut rendered = Vec::with_capacity(steps.len());
    for id in steps {
        let Prepared {
            model_ops,
            capabilities,
            books,
        } = walk.prepare(guests, tables, &schema, id, direction)?;
        if capabilities.data || needs_database_names(&capabilities, &model_ops) {
            return Ok(None);
        }
        let script = step_script(
            guests,
            tables,
            &mut schema,
            &model_ops,
            books.statements,
            id,
            direction,
        )?;
        rendered.push(RenderedStep {
            id: id.clone(),
            label: guests.label(id),
            script,
        });
    }
    Ok(Some(rendered))
}

/// Runs one step's script; a failure says what it left behind and the ways out.
pub async fn execute_step(
    db: &mut Database,
    script: &StepScript,
    id: &str,
    label: &str,
    direction: Direction,
    meta: &migrate_core::revision::RevisionMeta,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    db.run_script(script, id).await.map_err(|e| {
        if script.transactional {
            anyhow!(
                "{label}, {} failed and was rolled back; the database is as it was before this revision.\n  {e}",
                direction.function()
            )
        } else if e.before_step {
            anyhow!(
                "{label}, {} did not start: none of its statements ran and nothing is marked, so \
                 rerunning starts it afresh.\n  {e}",
                direction.function()
            )
        } else {
            anyhow!(
                "{label}, {} failed. This database cannot roll back DDL, so the revision is marked \
                 failed.\n  {e}\n{}{}",
                direction.function(),
                describe_partial_effect(&script.body, &e.sql),
                crate::recovery::ways_out(id, recorded(direction).as_str(), true)
            )
        }
    })?;
    crate::output::record_step(crate::output::StepReport {
        revision: id.to_string(),
        direction: recorded(direction).as_str(),
        parents: meta.down_revisions.clone(),
        duration_ms: started.elapsed().as_millis(),
        statements: Some(script.body.len()),
    });
    Ok(())
}

/// Whether `steps` can run as one transaction (see `in_one_transaction`).
pub fn fits_one_transaction(steps: &[RenderedStep]) -> bool {
    let scripts: Vec<&StepScript> = steps.iter().map(|s| &s.script).collect();
    migrate_core::sql::one_transaction::in_one_transaction(&scripts).is_some()
}

/// Runs `steps` as one transaction (`transaction_per_migration = false`): all of them and their
/// version-table updates commit together, or none does. `false` when the database commits DDL
/// as it runs (MySQL): the caller then runs them one by one.
pub async fn execute_in_one_transaction(
    db: &mut Database,
    steps: &[RenderedStep],
    direction: Direction,
    graph: &Graph,
) -> anyhow::Result<bool> {
    let scripts: Vec<&StepScript> = steps.iter().map(|s| &s.script).collect();
    let Some(one) = migrate_core::sql::one_transaction::in_one_transaction(&scripts) else {
        return Ok(false);
    };
    let started = std::time::Instant::now();
    let last = steps.last().map_or("", |s| s.id.as_str());
    db.run_script(&one.script, last).await.map_err(|e| {
        let culprit = e
            .position
            .map(|at| one.step_of(at))
            .or_else(|| one.script.body.iter().position(|s| s.sql == e.sql).map(|at| one.step_of(at)));
        let label = culprit.map_or_else(|| "the run".to_string(), |i| steps[i].label.clone());
        anyhow!(
            "{label}, {} failed; the {} steps of this run were one transaction (transaction_per_migration = false), \
             which was rolled back: the database is as it was before the run.\n  {e}",
            direction.function(),
            steps.len()
        )
    })?;
    // One transaction's time, shared by its steps.
    let each = started.elapsed().as_millis() / steps.len().max(1) as u128;
    for step in steps {
        let meta = graph.get(&step.id).expect("a planned revision exists");
        crate::output::record_step(crate::output::StepReport {
            revision: step.id.clone(),
            direction: recorded(direction).as_str(),
            parents: meta.down_revisions.clone(),
            duration_ms: each,
            statements: Some(step.script.body.len()),
        });
    }
    Ok(true)
}

/// The schema model with what the database has beyond it (triggers, views, indexes made by
/// `execute` or by hand): a table rebuild recreates them instead of dropping them with the old
/// table. The database's own text wins over the one replayed from `execute`.
pub fn with_database_objects(
    mut schema: Schema,
    objects: Vec<migrate_core::schema::DatabaseObject>,
) -> Schema {
    let known_indexes: Vec<String> = schema
        .tables
        .values()
        .flat_map(|t| t.indexes.iter().map(|i| i.name.clone()))
        .collect();
    for object in objects {
        if !known_indexes.contains(&object.name) {
            schema.database_objects.retain(|o| o.name != object.name);
            schema.database_objects.push(object);
        }
    }
    schema
}

/// What a revision is told while its SQL is printed offline: the model's schema, no rows.
fn offline(guests: &Guests, schema: &Schema) -> GuestContext {
    GuestContext {
        data: DataAccess::Offline,
        ..online(guests, schema)
    }
}

/// What a revision that looks at the schema is told online (not one that reads rows: see
/// `reading_step`): the schema with the names the database gave, the run's time.
fn online(guests: &Guests, schema: &Schema) -> GuestContext {
    GuestContext {
        target: guests.target().clone(),
        clock: clock::run_started().to_string(),
        catalog: Some(CatalogView {
            schema: std::sync::Arc::new(schema.clone()),
            learned: true,
        }),
        data: DataAccess::Canonical,
    }
}

/// The model after `ops`, when they are not rendered.
fn advance(schema: &mut Schema, ops: &[Op]) {
    for op in ops {
        let _ = schema.apply_lenient(op);
    }
}

/// A step's script: its ops rendered (advancing the model), the bookkeeping, and where DDL is
/// not transactional, the in-progress mark around it.
pub fn step_script(
    guests: &Guests,
    tables: &VersionTables,
    schema: &mut Schema,
    ops: &[Op],
    bookkeeping: Vec<Statement>,
    id: &str,
    direction: Direction,
) -> anyhow::Result<StepScript> {
    let dialect = guests.target().dialect();
    let max_sql_bytes = guests
        .runtime()
        .limits()
        .sql_mib
        .saturating_mul(1024 * 1024);
    let mut script = render_step_within(dialect, schema, ops, bookkeeping, max_sql_bytes)
        .map_err(|e| anyhow!("{}, {}: {e}", guests.label(id), direction.function()))?;
    if !script.transactional {
        script.before.insert(
            0,
            version_table::mark_in_progress(dialect, tables, id, recorded(direction)),
        );
        script
            .bookkeeping
            .push(version_table::clear_mark(dialect, tables, id));
    }
    Ok(script)
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

/// The steps' lines, said before they run together (one transaction).
pub fn announce(direction: Direction, graph: &Graph, steps: &[String]) {
    for (i, id) in steps.iter().enumerate() {
        let meta = graph.get(id).expect("a planned revision exists");
        let shown = step_headline(direction, meta, &crate::output::revision(id));
        crate::output::progress!("{}{shown}", crate::output::step_counter(i + 1, steps.len()));
    }
}

/// "Running upgrade PARENTS -> REV, message" (Alembic's line; a merge names all its parents),
/// or "Running downgrade REV -> PARENTS, message".
fn step_headline(
    direction: Direction,
    meta: &migrate_core::revision::RevisionMeta,
    shown_id: &str,
) -> String {
    let parents = if meta.down_revisions.is_empty() {
        "base".to_string()
    } else {
        meta.down_revisions.join(", ")
    };
    // The message lands in a `--` comment of `--sql` output: one line, whatever it holds.
    let message = migrate_core::text::one_line(&meta.message);
    match direction {
        Direction::Upgrade => format!("Running upgrade {parents} -> {shown_id}, {message}"),
        Direction::Downgrade => format!("Running downgrade {shown_id} -> {parents}, {message}"),
    }
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
