//! Read-only verbs: `history`, `heads` and `show` (`current` is with `status`). Only
//! `history --applied` opens the database; only `show` runs wasm.

use migrate_core::graph_drawing;

use super::migrate::describe_heads;
use super::Context;
use crate::runner::{self, Guests};
use crate::wasm::target::{Flavor, Target};
use crate::wasm::Direction;

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// The database's record instead: every applied, reverted, stamped or accepted revision.
    /// With --graph or --format: the graph, with the revisions the database has applied marked.
    #[arg(long)]
    applied: bool,
    /// Draw the graph in the terminal, newest first, like `git log --graph`.
    #[arg(long)]
    graph: bool,
    /// text (the default), mermaid or dot (Graphviz), for documents.
    #[arg(long, value_enum, default_value_t = HistoryFormat::Text)]
    format: HistoryFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HistoryFormat {
    Text,
    Mermaid,
    Dot,
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
    let drawn = args.graph || args.format != HistoryFormat::Text;
    if args.applied && !drawn {
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
    let graph = &project.graph;
    let applied = if args.applied {
        let mut db = super::connect(ctx, super::Access::ReadOnly).await?;
        Some(graph.with_ancestors(&db.heads().await?))
    } else {
        None
    };
    let is_applied = |id: &str| applied.as_ref().is_some_and(|a| a.contains(id));
    let words = |meta: &migrate_core::revision::RevisionMeta| {
        let mut marks = graph_drawing::markers(graph, meta);
        if is_applied(&meta.id) {
            marks.insert(0, "applied".into());
        }
        let marks = if marks.is_empty() {
            String::new()
        } else {
            format!(" ({})", marks.join(", "))
        };
        (marks, migrate_core::text::one_line(&meta.message))
    };
    match args.format {
        HistoryFormat::Mermaid => say!("{}", graph_drawing::mermaid(graph, &is_applied).trim_end()),
        HistoryFormat::Dot => say!("{}", graph_drawing::dot(graph, &is_applied).trim_end()),
        HistoryFormat::Text if args.graph => {
            let text = |meta: &migrate_core::revision::RevisionMeta| {
                let (marks, message) = words(meta);
                format!("{}{marks} {message}", meta.id)
            };
            for line in graph_drawing::ascii(graph, &text) {
                say!("{line}");
            }
        }
        HistoryFormat::Text => {
            for meta in graph.in_order().rev() {
                let (marks, message) = words(meta);
                say!(
                    "{} -> {}{marks}, {message}",
                    describe_heads(&meta.down_revisions),
                    meta.id
                );
            }
        }
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
