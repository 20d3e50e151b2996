//! Read-only verbs: `history`, `heads` and `show` (`current` is with `status`). Only
//! `history --applied` opens the database; only `show` runs wasm.

use migrate_core::graph_drawing;

use super::heads_view::HeadsView;
use super::migrate::{describe_heads, push_heads};
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
    /// Only the revisions from A to B, both included (Alembic's `-r`): `A:B`, `A:` (to the
    /// heads), `:B` (from base); each end a revision, `head`, `LABEL@head` or `current` (the
    /// database's heads).
    #[arg(short = 'r', long = "rev-range", value_name = "A:B")]
    range: Option<String>,
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
    if ctx.json && drawn {
        anyhow::bail!("--json gives the revisions as data; leave out --graph and --format");
    }
    if args.applied && !drawn {
        let mut db = super::connect(ctx, super::Access::ReadOnly).await?;
        let rows = db.history().await?;
        if ctx.json {
            let rows: Vec<serde_json::Value> = rows
                .iter()
                .map(|row| {
                    serde_json::json!({
                        "revision": row.revision,
                        "direction": row.direction,
                        "checksum": row.checksum,
                        "applied_at": row.applied_at,
                    })
                })
                .collect();
            return crate::output::json(&serde_json::json!({ "history": rows }));
        }
        for row in rows {
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
        Some(graph.with_ancestors(&super::read_heads(ctx).await?))
    } else {
        None
    };
    let is_applied = |id: &str| applied.as_ref().is_some_and(|a| a.contains(id));
    let shown = match &args.range {
        Some(_) if drawn => {
            anyhow::bail!("-r lists a range; the drawn graph shows every revision")
        }
        Some(range) => Some(range_members(ctx, graph, range).await?),
        None => None,
    };
    let in_range = |id: &str| shown.as_ref().is_none_or(|s| s.contains(id));
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
    if ctx.json {
        let revisions: Vec<serde_json::Value> = graph
            .in_order()
            .rev()
            .filter(|meta| in_range(&meta.id))
            .map(|meta| {
                let mut value = revision_json(meta);
                value["markers"] = serde_json::json!(graph_drawing::markers(graph, meta));
                value["applied"] =
                    serde_json::json!(applied.as_ref().map(|a| a.contains(&meta.id)));
                value
            })
            .collect();
        return crate::output::json(&serde_json::json!({ "revisions": revisions }));
    }
    match args.format {
        HistoryFormat::Mermaid => say!("{}", graph_drawing::mermaid(graph, &is_applied).trim_end()),
        HistoryFormat::Dot => say!("{}", graph_drawing::dot(graph, &is_applied).trim_end()),
        HistoryFormat::Text if args.graph => {
            let text = |meta: &migrate_core::revision::RevisionMeta| {
                let (marks, message) = words(meta);
                format!("{}{marks} {message}", meta.id)
            };
            say_lines(graph_drawing::ascii(graph, &text))?;
        }
        HistoryFormat::Text => {
            // "down -> id (marks), message", pieces pushed onto one buffer: a `format!` per
            // line was a third of `history`'s instructions at a thousand revisions (session 16).
            let mut text = String::new();
            for meta in graph.in_order().rev().filter(|m| in_range(&m.id)) {
                let (marks, message) = words(meta);
                push_heads(&mut text, &meta.down_revisions);
                for piece in [" -> ", &meta.id, &marks, ", ", &message, "\n"] {
                    text.push_str(piece);
                }
            }
            write_out(&text)?;
        }
    }
    Ok(())
}

/// Writes many lines to stdout at once: stdout is line-buffered, so `say!` per line was a
/// `write` call each, a thousand for a thousand revisions.
fn say_lines(lines: impl IntoIterator<Item = String>) -> std::io::Result<()> {
    let mut text = String::new();
    for line in lines {
        text.push_str(&line);
        text.push('\n');
    }
    write_out(&text)
}

/// Text made of whole lines, written to stdout with one call.
fn write_out(text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    std::io::stdout().lock().write_all(text.as_bytes())
}

/// A revision's metadata as `--json` gives it (`docs/json.md`).
fn revision_json(meta: &migrate_core::revision::RevisionMeta) -> serde_json::Value {
    serde_json::json!({
        "revision": meta.id,
        "down_revisions": meta.down_revisions,
        "message": meta.message,
        "created": meta.created,
        "branch_labels": meta.branch_labels,
        "depends_on": meta.depends_on,
    })
}

/// The revisions of `-r A:B`: descending from A (or it) and needed by B (or it).
async fn range_members(
    ctx: &Context,
    graph: &migrate_core::revision::Graph,
    range: &str,
) -> anyhow::Result<std::collections::BTreeSet<String>> {
    let (from, to) = range
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("-r {range:?}: write A:B, A: or :B"))?;
    let mut current: Option<Vec<String>> = None;
    let mut resolve = async |text: &str| -> anyhow::Result<Vec<String>> {
        if text == "current" {
            if current.is_none() {
                current = Some(super::read_heads(ctx).await?);
            }
            return Ok(current.clone().unwrap_or_default());
        }
        Ok(migrate_core::target::resolve(graph, text, &[])?)
    };
    let lower = match from.trim() {
        "" | "base" => None,
        text => Some(graph.descendants_or_self(&resolve(text).await?)),
    };
    let upper = match to.trim() {
        "" | "heads" => None,
        text => Some(graph.required(&resolve(text).await?)),
    };
    Ok(graph
        .in_order()
        .map(|m| m.id.clone())
        .filter(|id| lower.as_ref().is_none_or(|l| l.contains(id)))
        .filter(|id| upper.as_ref().is_none_or(|u| u.contains(id)))
        .collect())
}

pub fn heads(ctx: &Context) -> anyhow::Result<()> {
    let revisions = HeadsView::read(ctx)?;
    let heads = revisions.heads();
    let metas = heads
        .iter()
        .map(|id| revisions.get(id).expect("a head exists").into_owned());
    if ctx.json {
        let heads: Vec<serde_json::Value> = metas
            .map(|meta| {
                let mut value = revision_json(&meta);
                value["source"] =
                    serde_json::json!(revisions.source(&meta.id).map(|p| p.display().to_string()));
                value
            })
            .collect();
        return crate::output::json(&serde_json::json!({ "heads": heads }));
    }
    for meta in metas {
        let id = &meta.id;
        say!("{id} (head), {}", meta.message);
        if crate::output::verbose() {
            say!("  revises: {}", describe_heads(&meta.down_revisions));
            if !meta.branch_labels.is_empty() {
                say!("  branch: {}", meta.branch_labels.join(", "));
            }
            if !meta.depends_on.is_empty() {
                say!("  depends on: {}", meta.depends_on.join(", "));
            }
            say!("  created: {}", meta.created);
            if let Some(source) = revisions.source(id) {
                say!("  source: {}", source.display());
            }
        }
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
    let children: Vec<String> = project.graph.children(&id).cloned().collect();
    if ctx.json {
        return show_json(ctx, &project, &meta, children, args.dialect.as_deref());
    }
    say!("Revision: {}", meta.id);
    say!("Revises: {}", describe_heads(&meta.down_revisions));
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
    let mut guests = Guests::new(&project, super::runtime(ctx));
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

/// `show --json`: the metadata, what the revision may do, and its operations per database
/// (one entry unless it asks for its target), as the host records them.
fn show_json(
    ctx: &Context,
    project: &crate::project::Project,
    meta: &migrate_core::revision::RevisionMeta,
    children: Vec<String>,
    dialect: Option<&str>,
) -> anyhow::Result<()> {
    let id = &meta.id;
    let mut guests = Guests::new(project, super::runtime(ctx));
    let capabilities = guests.capabilities_of(id)?;
    let targets = match (dialect, capabilities.target) {
        (Some(flag), _) => vec![super::offline_target(ctx, Some(flag))?],
        (None, true) => Flavor::ALL.into_iter().map(Target::offline).collect(),
        (None, false) => vec![super::offline_target(ctx, None)?],
    };
    let mut per_target = vec![];
    for target in targets {
        let described = target.describe();
        guests.set_target(target);
        let upgrade = guests.ops(id, Direction::Upgrade)?;
        let downgrade = guests.ops(id, Direction::Downgrade)?;
        per_target.push(serde_json::json!({
            "target": described,
            "checksum": guests.checksum(id, Direction::Upgrade, &upgrade)?,
            "upgrade": upgrade,
            "downgrade": downgrade,
        }));
    }
    let mut value = revision_json(meta);
    value["revised_by"] = serde_json::json!(children);
    value["source"] = serde_json::json!(project.sources.get(id).map(|p| p.display().to_string()));
    value["capabilities"] = serde_json::json!({
        "execute": capabilities.execute,
        "target": capabilities.target,
        "clock": capabilities.clock,
        "catalog": capabilities.catalog,
        "data": capabilities.data,
    });
    value["operations"] = serde_json::json!(per_target);
    crate::output::json(&value)
}
