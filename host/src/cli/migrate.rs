//! `migrate upgrade [TARGET]` and `migrate downgrade TARGET`, online or with `--sql`.

use std::process::ExitCode;

use anyhow::{anyhow, bail};
use migrate_core::sql::{version_table, Dialect, Statement};
use migrate_core::target::{self, Destination};

use super::Context;
use crate::runner::{self, Guests, Sink};
use crate::wasm::Direction;

#[derive(Debug, clap::Args)]
pub struct UpgradeArgs {
    /// head, heads, a revision id or unique prefix, +N, or REV+N. With --sql, FROM:TO too
    /// (Alembic's range; `current:head` reads FROM from the database, read-only).
    #[arg(default_value = "head", allow_negative_numbers = true)]
    target: String,
    #[command(flatten)]
    offline: OfflineArgs,
    #[command(flatten)]
    recovery: RecoveryArgs,
    #[command(flatten)]
    fleet: crate::fleet::FleetArgs,
}

#[derive(Debug, clap::Args)]
pub struct DowngradeArgs {
    /// base, a revision id or unique prefix, -N, or REV-N. With --sql, FROM:TO too.
    #[arg(allow_negative_numbers = true)]
    target: String,
    #[command(flatten)]
    offline: OfflineArgs,
    #[command(flatten)]
    recovery: RecoveryArgs,
    #[command(flatten)]
    fleet: crate::fleet::FleetArgs,
}

#[derive(Debug, clap::Args)]
struct RecoveryArgs {
    /// A step an earlier run left half-done (MySQL) is finished first when the catalog says
    /// exactly where it stopped (as `migrate resolve REV --continue`); otherwise nothing runs.
    /// Also `continue_interrupted = true` in the settings.
    #[arg(long, conflicts_with = "sql")]
    continue_interrupted: bool,
}

#[derive(Debug, clap::Args)]
struct OfflineArgs {
    /// Print the SQL instead of running it; no database is touched.
    #[arg(long)]
    sql: bool,
    /// The database for --sql (else the configured URL's): sqlite, postgresql, mysql or mariadb.
    #[arg(long, requires = "sql")]
    dialect: Option<String>,
}

pub async fn upgrade(ctx: &Context, args: UpgradeArgs) -> anyhow::Result<ExitCode> {
    let UpgradeArgs {
        target,
        offline,
        recovery,
        fleet,
    } = args;
    run(
        ctx,
        &target,
        &offline,
        &recovery,
        &fleet,
        Direction::Upgrade,
    )
    .await
}

pub async fn downgrade(ctx: &Context, args: DowngradeArgs) -> anyhow::Result<ExitCode> {
    let DowngradeArgs {
        target,
        offline,
        recovery,
        fleet,
    } = args;
    run(
        ctx,
        &target,
        &offline,
        &recovery,
        &fleet,
        Direction::Downgrade,
    )
    .await
}

/// Either direction, on the one database or (`--fleet`) on each of the fleet's.
async fn run(
    ctx: &Context,
    target_text: &str,
    offline: &OfflineArgs,
    recovery: &RecoveryArgs,
    fleet_args: &crate::fleet::FleetArgs,
    direction: Direction,
) -> anyhow::Result<ExitCode> {
    crate::allocator::return_freed_memory_at_once();
    if fleet_args.fleet {
        return fleet(ctx, target_text, offline, recovery, fleet_args, direction).await;
    }
    migrate(ctx, target_text, offline, recovery, direction)
        .await
        .map(|()| ExitCode::SUCCESS)
}

/// `upgrade --fleet` / `downgrade --fleet`.
async fn fleet(
    ctx: &Context,
    target_text: &str,
    offline: &OfflineArgs,
    recovery: &RecoveryArgs,
    fleet: &crate::fleet::FleetArgs,
    direction: Direction,
) -> anyhow::Result<ExitCode> {
    if offline.sql {
        bail!("--sql prints one script; --fleet runs on every database of the fleet");
    }
    if target_text.contains(':') {
        bail!("a FROM:TO range is only for --sql");
    }
    let project = ctx.project()?;
    project.require_built()?;
    let shared = crate::fleet::migrate::Shared::new(ctx, &project);
    let continue_interrupted = recovery.continue_interrupted || ctx.settings.continue_interrupted;
    let command = match direction {
        Direction::Upgrade => "upgrade",
        Direction::Downgrade => "downgrade",
    };
    crate::fleet::drive(
        ctx,
        fleet,
        command,
        ("FROM", "TO"),
        |rt, target_ctx, target| {
            shared.migrate(
                rt,
                target_ctx,
                target,
                target_text,
                direction,
                continue_interrupted,
            )
        },
    )
    .await
}

async fn migrate(
    ctx: &Context,
    target_text: &str,
    offline: &OfflineArgs,
    recovery: &RecoveryArgs,
    direction: Direction,
) -> anyhow::Result<()> {
    let project = ctx.project()?;
    let graph = project.graph.clone();
    let mut guests = Guests::new(&project, super::runtime(ctx));

    if offline.sql && ctx.json {
        bail!("--sql prints SQL; --json is for what ran online");
    }
    if offline.sql {
        let target = super::offline_target(ctx, offline.dialect.as_deref())?;
        let dialect = target.dialect();
        guests.set_target(target);
        guests.hand_over_recorded();
        // Offline there is no version table to read: `FROM:TO` says where to start; otherwise an
        // upgrade starts at base and a downgrade at the graph's heads.
        let (current, to_text) = match target_text.split_once(':') {
            Some(("current", to)) => (heads_for_sql(ctx).await?, to),
            Some((from, to)) => (target::resolve(&graph, from, &[])?, to),
            None if direction == Direction::Upgrade => (vec![], target_text),
            None => (graph.heads(), target_text),
        };
        let target = target::resolve_destination(&graph, to_text, &current)?;
        let steps = plan(&graph, &current, &target, direction)?;
        let (schema, _) = runner::replay(&mut guests, &current)?;
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let tables = &ctx.settings.version_tables;
        print_preamble(&mut out, dialect, tables)?;
        return runner::run_steps(
            &mut guests,
            tables,
            schema,
            &current,
            &steps,
            direction,
            Sink::Print(&mut out),
        )
        .await;
    }

    if target_text.contains(':') {
        bail!("a FROM:TO range is only for --sql; online, the database says where it is");
    }
    // With --json one document says how it went, whether the run got as far as the steps or
    // was refused before them.
    let mut heads = Heads::default();
    let outcome = migrate_online(
        ctx,
        &project,
        guests,
        target_text,
        recovery,
        direction,
        &mut heads,
    )
    .await;
    if ctx.json {
        outcome_json(direction, &heads, outcome.as_ref().err())?;
    }
    outcome
}

/// Where the database was and ended, as far as the run learned them.
#[derive(Default)]
struct Heads {
    before: Option<Vec<String>>,
    after: Option<Vec<String>>,
}

async fn migrate_online(
    ctx: &Context,
    project: &crate::project::Project,
    mut guests: Guests<'_>,
    target_text: &str,
    recovery: &RecoveryArgs,
    direction: Direction,
    heads: &mut Heads,
) -> anyhow::Result<()> {
    let graph = &project.graph;
    let continue_interrupted = recovery.continue_interrupted || ctx.settings.continue_interrupted;
    let mut db = super::open_for_change_continuing(ctx, continue_interrupted).await?;
    guests.set_target(db.target().await?);
    // Each revision is walked once (a one-transaction run that falls back to a transaction per
    // step records its steps again, from the cache or the shipped ops).
    guests.hand_over_recorded();
    let current = db.heads().await?;
    heads.before = Some(current.clone());
    let steps = steps_from(project, &current, target_text, direction)?;
    let (schema, checksums) = runner::replay(&mut guests, &current)?;
    runner::verify_checksums(&guests, &checksums, &db.recorded_checksums().await?)?;
    if steps.is_empty() {
        crate::output::progress!(
            "Nothing to do: the database is at {}",
            describe_heads(&current)
        );
        heads.after = Some(current);
        return db.unlock().await;
    }
    let schema = runner::with_database_objects(schema, db.database_objects().await?);
    let tables = db.tables().clone();
    if !ctx.settings.transaction_per_migration && db.dialect().capabilities().transactional_ddl {
        let rendered = runner::render_steps(
            &mut guests,
            &tables,
            schema.clone(),
            &current,
            &steps,
            direction,
        )?;
        match rendered {
            Some(rendered) if runner::fits_one_transaction(&rendered) => {
                runner::announce(direction, graph, &steps);
                let ran =
                    runner::execute_in_one_transaction(&mut db, &rendered, direction, graph).await;
                let now = db.heads().await.unwrap_or_default();
                heads.after = Some(now.clone());
                ran?;
                crate::output::progress!(
                    "Done, in one transaction: the database is at {}",
                    describe_heads(&now)
                );
                return db.unlock().await;
            }
            Some(_) => eprintln!(
                "note: transaction_per_migration = false, but a revision of this run adds an enum value, \
                 which PostgreSQL lets later revisions use only once it is committed, so each revision \
                 runs in its own transaction"
            ),
            None => eprintln!(
                "note: transaction_per_migration = false, but a revision of this run reads rows or the \
                 names the database gave, so each revision runs in its own transaction"
            ),
        }
    }
    let ran = runner::run_steps(
        &mut guests,
        &tables,
        schema,
        &current,
        &steps,
        direction,
        Sink::Execute(&mut db),
    )
    .await;
    let now = db.heads().await.unwrap_or_default();
    heads.after = Some(now.clone());
    ran?;
    crate::output::progress!("Done: the database is at {}", describe_heads(&now));
    // Released explicitly here; on an error path above, dropping the connection releases it.
    db.unlock().await
}

/// `upgrade --json` / `downgrade --json`: the steps that ran (revision, direction, parents,
/// duration, statements), where the database was and is, and the outcome.
fn outcome_json(
    direction: Direction,
    heads: &Heads,
    error: Option<&anyhow::Error>,
) -> anyhow::Result<()> {
    crate::output::json(&serde_json::json!({
        "command": match direction {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
        },
        "heads_before": heads.before,
        "heads_after": heads.after,
        "steps": crate::output::steps_run(),
        "outcome": if error.is_some() { "failed" } else { "done" },
        "error": error.map(|e| format!("{e:#}")),
    }))
}

/// `--sql current:…`: the heads the configured database is at, read without changing anything.
async fn heads_for_sql(ctx: &Context) -> anyhow::Result<Vec<String>> {
    let mut db = super::connect(ctx, super::Access::ReadOnly)
        .await
        .map_err(|e| anyhow!("`current:` in a --sql range reads the database: {e:#}"))?;
    db.heads().await
}

/// The steps from the database's `current` heads to `target_text`, refusing heads that are not
/// among the revisions.
pub(crate) fn steps_from(
    project: &crate::project::Project,
    current: &[String],
    target_text: &str,
    direction: Direction,
) -> anyhow::Result<Vec<String>> {
    let graph = &project.graph;
    if let Some(unknown) = current.iter().find(|h| graph.get(h).is_none()) {
        bail!(
            "the database is at revision {unknown}, which is not among the revisions in {}: \
             are these the right migrations for this database?",
            project.root.display()
        );
    }
    let target = target::resolve_destination(graph, target_text, current)?;
    plan(graph, current, &target, direction)
}

fn plan(
    graph: &migrate_core::revision::Graph,
    current: &[String],
    destination: &Destination,
    direction: Direction,
) -> anyhow::Result<Vec<String>> {
    let target = match (destination, direction) {
        (Destination::Without(roots), Direction::Downgrade) => {
            return Ok(graph.removal_steps(current, roots))
        }
        (Destination::Without(roots), Direction::Upgrade) => bail!(
            "that target takes {} and what is built on it away: use `migrate downgrade`",
            roots.join(", ")
        ),
        (Destination::Heads(target), _) => target,
    };
    match direction {
        Direction::Upgrade => {
            let applied = graph.with_ancestors(current);
            if target.iter().all(|t| applied.contains(t))
                && !graph.downgrade_steps(current, target).is_empty()
                && graph.upgrade_steps(current, target).is_empty()
            {
                bail!(
                    "target {} is behind the database ({}): use `migrate downgrade` to go back",
                    describe_heads(target),
                    describe_heads(current)
                );
            }
            Ok(graph.upgrade_steps(current, target))
        }
        Direction::Downgrade => {
            let applied = graph.with_ancestors(current);
            if let Some(ahead) = target.iter().find(|t| !applied.contains(*t)) {
                bail!(
                    "target {} is not behind the database ({}): revision {ahead} is not applied; use `migrate upgrade`",
                    describe_heads(target),
                    describe_heads(current)
                );
            }
            Ok(graph.downgrade_steps(current, target))
        }
    }
}

/// Heads as people read them: "base" for none, else the ids separated by ", ".
pub fn describe_heads(heads: &[String]) -> String {
    let mut text = String::new();
    push_heads(&mut text, heads);
    text
}

/// `describe_heads`, pushed onto `text` (`history` writes a thousand lines into one buffer).
pub fn push_heads(text: &mut String, heads: &[String]) {
    if heads.is_empty() {
        text.push_str("base");
    }
    for (i, head) in heads.iter().enumerate() {
        text.push_str(if i == 0 { "" } else { ", " });
        text.push_str(head);
    }
}

fn print_preamble(
    out: &mut dyn std::io::Write,
    dialect: &dyn Dialect,
    tables: &version_table::VersionTables,
) -> anyhow::Result<()> {
    let ensure: Vec<Statement> = version_table::ensure(dialect, tables);
    writeln!(out, "-- The version table")?;
    for statement in ensure {
        writeln!(out, "{};", statement.sql)?;
    }
    writeln!(out)?;
    Ok(())
}
