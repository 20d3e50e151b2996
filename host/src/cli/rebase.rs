//! `migrate rebase REV --onto TARGET`: moves a revision (and what is built on it) to build on
//! another revision, usually another branch's head, by rewriting its down revision. Refused,
//! by name, when the configured database has applied it: its history would then lie.

use anyhow::{anyhow, bail, Context as _};
use migrate_core::revision::RevisionMeta;
use migrate_core::target::{self, Destination};

use super::Context;
use crate::project::{self, Project};

#[derive(Debug, clap::Args)]
pub struct RebaseArgs {
    /// The revision to move (an id or unique prefix).
    revision: String,
    /// Where it goes: a revision, a branch's LABEL@head, or `head` when there is one.
    #[arg(long, value_name = "REV")]
    onto: String,
}

pub async fn run(ctx: &Context, args: RebaseArgs) -> anyhow::Result<()> {
    let project = Project::load_metadata(&ctx.migrations_dir)?;
    let graph = &project.graph;
    let id = graph.resolve_id(&args.revision)?;
    let onto = match target::resolve_destination(graph, &args.onto, &[])? {
        Destination::Heads(at) if at.len() == 1 => at[0].clone(),
        _ => bail!(
            "--onto {:?}: name one revision, or a branch's LABEL@head",
            args.onto
        ),
    };
    let meta = graph.get(&id).expect("resolved").clone();
    if meta.down_revisions.len() > 1 {
        bail!(
            "{id} is a merge of {}: a merge is not moved",
            meta.down_revisions.join(", ")
        );
    }
    if meta.down_revisions == [onto.clone()] {
        bail!("{id} already builds on {onto}");
    }
    if graph
        .descendants_or_self(std::slice::from_ref(&id))
        .contains(&onto)
    {
        bail!("{onto} is built on {id}: moving {id} onto it would make a cycle");
    }
    refuse_if_applied(ctx, graph, &id).await?;
    let source = project
        .sources
        .get(&id)
        .ok_or_else(|| anyhow!("{id} has no source folder here (a build-only deployment): rebase where the sources are"))?;
    let file = source.join(project::METADATA_FILE);
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let mut written: RevisionMeta =
        toml::from_str(&text).map_err(|e| anyhow!("{}: {e}", file.display()))?;
    let was = describe(&written.down_revisions);
    written.down_revisions = vec![onto.clone()];
    std::fs::write(&file, toml::to_string(&written)?)
        .with_context(|| format!("writing {}", file.display()))?;
    // The generated doc comment says what the revision revises; keep it true.
    let lib = source.join("src/lib.rs");
    if let Ok(code) = std::fs::read_to_string(&lib) {
        let old_line = format!("Revision {id}, revises {was}.");
        if code.contains(&old_line) {
            let new_line = format!("Revision {id}, revises {onto}.");
            std::fs::write(&lib, code.replacen(&old_line, &new_line, 1))
                .with_context(|| format!("writing {}", lib.display()))?;
        }
    }
    // The moved graph must still be one: checked before saying it is done.
    Project::load_metadata(&ctx.migrations_dir)?;
    println!(
        "Moved {id} from {was} onto {onto}. Run `migrate build`, then `migrate check --heads` or \
         `migrate history --graph` to see the result."
    );
    Ok(())
}

/// Refuses when the configured database has `id` applied. A SQLite file that does not exist
/// has applied nothing; any other database that cannot be read is an error, not a guess.
async fn refuse_if_applied(
    ctx: &Context,
    graph: &migrate_core::revision::Graph,
    id: &str,
) -> anyhow::Result<()> {
    let Some(url) = ctx.settings.database_url.as_deref() else {
        return Ok(());
    };
    if crate::db::sqlite_file(url).is_some_and(|path| !path.exists()) {
        return Ok(());
    }
    let mut db = super::connect(ctx, super::Access::ReadOnly)
        .await
        .map_err(|e| anyhow!("checking that {id} is not applied: {e:#}"))?;
    let heads = db.heads().await?;
    if graph.with_ancestors(&heads).contains(id) {
        bail!(
            "{id} is applied on the database ({}): moving it would make its history lie. Downgrade it there \
             first (`migrate downgrade {id}-1`), or write a new revision instead",
            crate::db::redact(url)
        );
    }
    Ok(())
}

fn describe(ids: &[String]) -> String {
    if ids.is_empty() {
        "base".into()
    } else {
        ids.join(", ")
    }
}
