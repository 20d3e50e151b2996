//! `migrate resolve REV --applied | --rolled-back`: after a revision failed on a database that
//! cannot roll back DDL (MySQL) and a person fixed the database by hand, record what is true.

use anyhow::anyhow;
use migrate_core::sql::version_table;

use super::migrate::describe_heads;
use super::stamp::bookkeeping_script;
use super::Context;
use crate::runner::{self, Guests};
use crate::wasm::Direction;

#[derive(Debug, clap::Args)]
pub struct ResolveArgs {
    /// The revision marked failed.
    revision: String,
    /// The step's changes are now complete in the database: record the step as done (for a
    /// downgrade: the revision is then not applied). Without a flag, the choices are listed.
    #[arg(long, conflicts_with = "rolled_back")]
    applied: bool,
    /// Its changes were undone: the database is as before the step.
    #[arg(long)]
    rolled_back: bool,
}

pub async fn run(ctx: &Context, args: ResolveArgs) -> anyhow::Result<()> {
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
    if !args.applied && !args.rolled_back {
        let report = super::status::describe_failed_step(ctx, &project, &mut db, mark).await;
        db.unlock().await?;
        anyhow::bail!("say what you did to the database:\n{report}");
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
        let mut guests = Guests::new(&project, super::runtime(ctx)?);
        guests.set_target(db.target().await?);
        let ops = guests.ops(&id, direction)?;
        let sum = guests.checksum(&id, direction, &ops)?;
        let current = db.heads().await?;
        let mut applied = project.graph.with_ancestors(&current);
        let mut heads = project.graph.heads_of(&applied);
        let message = format!("{} (resolved by hand)", meta.message);
        let books = runner::bookkeeping(
            &project.graph,
            dialect,
            &tables,
            &mut applied,
            &mut heads,
            &id,
            direction,
            &sum,
            &message,
            None,
        );
        statements.extend(books.statements);
        println!(
            "Recorded the {} of {id} as done: the database is at {}",
            mark.direction,
            describe_heads(&books.heads_after)
        );
    } else {
        println!(
            "Recorded the {} of {id} as undone: the database stays at {}",
            mark.direction,
            describe_heads(&db.heads().await?)
        );
    }
    statements.push(version_table::clear_mark(dialect, &tables, &id));
    db.run_script(&bookkeeping_script(statements), &id).await?;
    db.unlock().await
}
