//! Read-only verbs: `history`, `heads` and `show` (`current` is with `status`). Only
//! `history --applied` opens the database; only `show` runs wasm.

use super::migrate::describe_heads;
use super::Context;
use crate::runner::{self, Guests};
use crate::wasm::Direction;

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// The database's record instead: every applied, reverted, stamped or accepted revision.
    #[arg(long)]
    applied: bool,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// A revision id or unique prefix, or `head`.
    revision: String,
}

pub async fn history(ctx: &Context, args: HistoryArgs) -> anyhow::Result<()> {
    if args.applied {
        let mut db = super::connect(ctx, super::Access::ReadOnly).await?;
        for row in db.history().await? {
            say!(
                "{}  {:<9} {}  checksum {}",
                row.applied_at,
                row.direction,
                row.revision,
                runner::short(&row.checksum)
            );
        }
        return Ok(());
    }
    let project = ctx.project()?;
    let heads = project.graph.heads();
    for meta in project.graph.in_order().rev() {
        let marker = if heads.contains(&meta.id) {
            " (head)"
        } else {
            ""
        };
        say!(
            "{} -> {}{marker}, {}",
            describe_heads(&meta.down_revisions),
            meta.id,
            meta.message
        );
    }
    Ok(())
}

pub fn heads(ctx: &Context) -> anyhow::Result<()> {
    let project = ctx.project()?;
    for id in project.graph.heads() {
        say!(
            "{id} (head), {}",
            project.graph.get(&id).expect("a head exists").message
        );
    }
    Ok(())
}

pub fn show(ctx: &Context, args: ShowArgs) -> anyhow::Result<()> {
    let project = ctx.project()?;
    let id = match args.revision.as_str() {
        "head" => project
            .graph
            .single_head()?
            .ok_or_else(|| anyhow::anyhow!("there are no revisions"))?,
        text => project.graph.resolve_id(text)?,
    };
    let meta = project.graph.get(&id).expect("resolved").clone();
    say!("Revision: {}", meta.id);
    say!("Revises: {}", describe_heads(&meta.down_revisions));
    let children: Vec<String> = project.graph.children(&id).cloned().collect();
    say!(
        "Revised by: {}",
        if children.is_empty() {
            "(none)".into()
        } else {
            children.join(", ")
        }
    );
    say!("Created: {}", meta.created);
    if let Some(source) = project.sources.get(&id) {
        say!("Source: {}", source.display());
    }
    say!("Message: {}", meta.message);
    let mut guests = Guests::new(&project, super::runtime(ctx)?);
    say!(
        "Raw SQL: {}",
        if guests.can_run_raw_sql(&id)? {
            "yes (its component imports `execute`: raw SQL does whatever the database user can)"
        } else {
            "no (it cannot call `execute`)"
        }
    );
    for direction in [Direction::Upgrade, Direction::Downgrade] {
        let ops = guests.ops(&id, direction)?;
        say!(
            "\n{} records {} operation(s):",
            direction.function(),
            ops.len()
        );
        for op in &ops {
            say!("  {}", op.describe());
        }
        if direction == Direction::Upgrade {
            say!("Checksum: {}", migrate_core::ops::checksum(&ops));
        }
    }
    Ok(())
}
