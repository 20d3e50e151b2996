//! Read-only verbs: `history`, `heads` and `show` (`current` is with `status`). Only
//! `history --applied` opens the database; only `show` runs wasm.

use super::migrate::describe_heads;
use super::Context;
use crate::runner::{self, Guests};
use crate::wasm::target::{Flavor, Target};
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
    /// The operations for this database (sqlite, postgresql, mysql, mariadb). Without it, a
    /// revision that asks for its database is shown for each.
    #[arg(long)]
    dialect: Option<String>,
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
    let project = ctx.project_metadata()?;
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
    let project = ctx.project_metadata()?;
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
    let capabilities = guests.capabilities_of(&id)?;
    say!(
        "Raw SQL: {}",
        if capabilities.execute {
            "yes (its component imports `execute`: raw SQL does whatever the database user can)"
        } else {
            "no (it cannot call `execute`)"
        }
    );
    let asks_target = capabilities.target;
    say!(
        "Depends on the database: {}",
        if asks_target {
            "yes (it asks for its target: operations and checksum are per database)"
        } else {
            "no (the same operations and checksum on every database)"
        }
    );
    say!(
        "Reads rows: {}",
        if capabilities.data {
            "yes (a data migration: it reads rows online; `upgrade --sql` refuses it unless it offers an offline form)"
        } else {
            "no"
        }
    );
    if capabilities.catalog {
        say!("Looks at the schema: yes (its operations may depend on the schema before it)");
    }
    if capabilities.clock {
        say!("Asks for the time: yes (the run's start; checksummed at 1970-01-01T00:00:00Z)");
    }
    let targets = match (&args.dialect, asks_target) {
        (Some(flag), _) => vec![super::offline_target(ctx, Some(flag))?],
        (None, true) => Flavor::ALL.into_iter().map(Target::offline).collect(),
        (None, false) => vec![super::offline_target(ctx, None)?],
    };
    for target in targets {
        if asks_target {
            say!("\nFor {}:", target.describe());
        }
        guests.set_target(target);
        for direction in [Direction::Upgrade, Direction::Downgrade] {
            let ops = guests.ops(&id, direction)?;
            say!(
                "\n{} records {} operation(s){}:",
                direction.function(),
                ops.len(),
                if capabilities.data {
                    " with no rows to read (online, also those it computes from the rows it reads)"
                } else {
                    ""
                }
            );
            for op in &ops {
                say!("  {}", op.describe());
            }
            if direction == Direction::Upgrade {
                say!("Checksum: {}", guests.checksum(&id, direction, &ops)?);
            }
        }
    }
    Ok(())
}
