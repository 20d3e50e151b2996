//! `migrate resolve REV`: a step left half-done on a database that cannot roll back DDL (MySQL).
//! `--continue` finishes it and `--undo` takes it back, both from the diagnosis (`recovery`);
//! `--applied` and `--rolled-back` record what a person did by hand.

use anyhow::anyhow;
use migrate_core::sql::version_table;

use super::migrate::describe_heads;
use super::stamp::bookkeeping_script;
use super::Context;
use crate::runner::{self, Guests};
use crate::wasm::Direction;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("choice").multiple(false)))]
pub struct ResolveArgs {
    /// The revision marked failed or interrupted.
    revision: String,
    /// Run the step's statements that did not take effect, then record the step as done.
    #[arg(long = "continue", group = "choice")]
    continue_step: bool,
    /// Take back the step's statements that took effect (their ops reversed, last first), then
    /// record the step as not run.
    #[arg(long, group = "choice")]
    undo: bool,
    /// With --undo: undo even where the step dropped a table or column, which comes back
    /// empty (its data is gone).
    #[arg(long, requires = "undo")]
    accept_loss: bool,
    /// How many of the step's statements took effect, where the diagnosis is not certain
    /// (with --continue or --undo).
    #[arg(long, value_name = "N")]
    done: Option<usize>,
    /// You completed the step's changes by hand: record the step as done (for a downgrade: the
    /// revision is then not applied). Without a flag, the choices are listed.
    #[arg(long, group = "choice")]
    applied: bool,
    /// You undid its changes by hand: the database is as before the step.
    #[arg(long, group = "choice")]
    rolled_back: bool,
}

pub async fn run(ctx: &Context, args: ResolveArgs) -> anyhow::Result<()> {
    if args.done.is_some() && !(args.continue_step || args.undo) {
        anyhow::bail!("--done N says where the step stopped for --continue or --undo");
    }
    let project = ctx.project()?;
    let mut db = super::connect(ctx, super::Access::ReadWrite).await?;
    db.lock(&ctx.settings.lock).await?;
    db.ensure_version_table().await?;
    let dialect = db.dialect();
    let tables = db.tables().clone();
    let marks = db.incomplete().await?;
    let mark = marks
        .iter()
        .find(|m| m.revision == args.revision || m.revision.starts_with(&args.revision))
        .ok_or_else(|| {
            anyhow!(
                "revision {} is not marked failed or in progress{}",
                args.revision,
                if marks.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (marked: {})",
                        marks
                            .iter()
                            .map(|m| m.revision.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            )
        })?;
    let id = mark.revision.clone();
    if args.continue_step || args.undo {
        let recovery = super::status::diagnose(ctx, &project, &mut db, mark).await?;
        let done = recovery.done(args.done)?;
        let total = recovery.script.body.len();
        if args.continue_step {
            recovery.finish(&mut db, done).await?;
            say!(
                "Continued the {} of {id} after statement {done} of {total}: ran {} statement(s) and recorded it; \
                 the database is at {}",
                mark.direction,
                total - done,
                describe_heads(&recovery.heads_after)
            );
        } else {
            let ran = recovery.undo(&mut db, done, args.accept_loss).await?;
            say!(
                "Took back the {} statement(s) of the {} of {id} that took effect ({ran} statement(s) ran) and \
                 recorded it as not run; the database stays at {}",
                done,
                mark.direction,
                describe_heads(&db.heads().await?)
            );
        }
        return db.unlock().await;
    }
    if !args.applied && !args.rolled_back {
        let report = super::status::describe_failed_step(ctx, &project, &mut db, mark).await;
        db.unlock().await?;
        anyhow::bail!("say what to do with the step:\n{report}");
    }
    let mut statements = Vec::new();
    if args.applied {
        let direction = if mark.direction == "downgrade" {
            Direction::Downgrade
        } else {
            Direction::Upgrade
        };
        let meta = project.graph.get(&id).ok_or_else(|| {
            anyhow!(
                "revision {id} is not among the revisions in {}",
                project.root.display()
            )
        })?;
        let mut guests = Guests::new(&project, super::runtime(ctx));
        guests.set_target(db.target().await?);
        let ops = guests.ops(&id, direction)?;
        let sum = guests.checksum(&id, direction, &ops)?;
        let current = db.heads().await?;
        let message = format!("{} (resolved by hand)", meta.message);
        let books = runner::bookkeeping_from(
            &project.graph,
            dialect,
            &tables,
            &current,
            &id,
            direction,
            &sum,
            &message,
        );
        statements.extend(books.statements);
        say!(
            "Recorded the {} of {id} as done: the database is at {}",
            mark.direction,
            describe_heads(&books.heads_after)
        );
    } else {
        say!(
            "Recorded the {} of {id} as undone: the database stays at {}",
            mark.direction,
            describe_heads(&db.heads().await?)
        );
    }
    statements.push(version_table::clear_mark(dialect, &tables, &id));
    db.run_script(&bookkeeping_script(statements), &id).await?;
    db.unlock().await
}
