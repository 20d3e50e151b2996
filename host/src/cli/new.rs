//! `migrate new -m "message"`: a revision crate named `<id>_<slug>` on top of the current head.

use anyhow::{bail, Context as _};
use migrate_core::revision::RevisionMeta;

use migrate_core::diff::Rename;

use super::compare::{compare, AtHead, CompareArgs};
use super::Context;
use crate::codegen::{self, RevisionSource};
use crate::project::{self, Project};

#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// What the revision does; also names its folder.
    #[arg(short, long)]
    message: String,
    /// Use this id instead of a random 12-hex one.
    #[arg(long)]
    rev_id: Option<String>,
    /// Down revision(s) (default: the current head). Give several to merge branches; `heads`
    /// stands for all of them.
    #[arg(long = "down", value_name = "REV")]
    down: Vec<String>,
    /// Start from this revision instead of the head (Alembic's --head): a revision, a branch's
    /// `LABEL@head`, or `base` for a new base. Starting from a revision that already has a
    /// child starts a branch.
    #[arg(long, value_name = "REV", conflicts_with = "down")]
    head: Option<String>,
    /// Name the branch this revision starts (`LABEL@head`, `LABEL@base` as targets). Repeatable.
    #[arg(long = "branch-label", value_name = "LABEL")]
    branch_labels: Vec<String>,
    /// A revision (or branch label) of another branch that must be applied before this one,
    /// without merging with it (Alembic's depends_on). Repeatable.
    #[arg(long = "depends-on", value_name = "REV")]
    depends_on: Vec<String>,
    /// Write upgrade() and downgrade() from the difference between the model (schema.sql) and
    /// the schema at head; writes nothing when there is none.
    #[arg(long)]
    autogenerate: bool,
    /// With --autogenerate: a rename the diff cannot see, `old=new` (table) or
    /// `table.old=new` (column; the table's name in the model). Repeatable.
    #[arg(long, value_name = "OLD=NEW")]
    rename: Vec<String>,
    #[command(flatten)]
    compare: CompareArgs,
}

pub async fn run(ctx: &Context, args: NewArgs) -> anyhow::Result<()> {
    if !args.autogenerate && (!args.rename.is_empty() || args.compare.is_used()) {
        bail!("--rename, --database and --model go with --autogenerate");
    }
    if args.autogenerate && (!args.down.is_empty() || args.head.is_some()) {
        bail!("--autogenerate builds on the current head; leave out --down and --head");
    }
    let root = &ctx.migrations_dir;
    let project = Project::load(root)?;
    let versions = Project::versions_dir(root);
    if !versions.is_dir() {
        bail!("{} has no versions/ folder: is it a build-only deployment? Run `migrate init` for a new project", root.display());
    }
    let id = new_id(&project, args.rev_id)?;
    let down_revisions = down_revisions(&project, &args.down, args.head.as_deref())?;
    for label in &args.branch_labels {
        migrate_core::revision::check_label(label)
            .map_err(|e| anyhow::anyhow!("--branch-label: {e}"))?;
        if project.graph.label_root(label).is_some() || project.graph.get(label).is_some() {
            bail!("--branch-label {label:?}: a branch or revision of that name exists");
        }
    }
    let depends_on: Vec<String> = args
        .depends_on
        .iter()
        .map(|d| project.graph.resolve_branch(d))
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("--depends-on: {e}"))?;
    check_message(&args.message)?;
    let meta = RevisionMeta {
        id: id.clone(),
        down_revisions,
        message: args.message.clone(),
        created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        branch_labels: args.branch_labels.clone(),
        depends_on,
    };
    let down_text = if meta.down_revisions.is_empty() {
        "base".to_string()
    } else {
        meta.down_revisions.join(", ")
    };
    let source = if args.autogenerate {
        let renames = args
            .rename
            .iter()
            .map(|r| Rename::parse(r).map_err(|e| anyhow::anyhow!(e)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let comparison = compare(ctx, &args.compare, &renames, AtHead::Required).await?;
        for warning in &comparison.diff.warnings {
            eprintln!("warning: {warning}");
        }
        if comparison.diff.is_empty() {
            println!(
                "No changes: {} matches the model {}; no revision written.",
                comparison.current_label,
                comparison.model_path.display()
            );
            return Ok(());
        }
        let model = comparison.model_path.file_name().map_or_else(
            || comparison.model_path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        codegen::revision_source(&RevisionSource {
            id: &id,
            message: &meta.message,
            down: &down_text,
            model: &model,
            upgrade: &comparison.diff.upgrade,
            downgrade: &comparison.diff.downgrade,
            warnings: &comparison.diff.warnings,
        })
    } else {
        blank_source(&meta)
    };
    write_revision(&project, &meta, source)?;
    Ok(())
}

/// Writes a revision crate (Cargo.toml, src/lib.rs, revision.toml) for `meta` with `source` as
/// its lib.rs, in `versions/<id>_<slug>`.
pub fn write_revision(
    project: &Project,
    meta: &RevisionMeta,
    source: String,
) -> anyhow::Result<std::path::PathBuf> {
    let root = &project.root;
    let id = &meta.id;
    let dir = Project::versions_dir(root).join(format!("{id}_{}", slug(&meta.message)));
    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(
        dir.join("Cargo.toml"),
        include_str!("../../templates/revision.Cargo.toml").replace("{id}", id),
    )?;
    let source = if project::sdk_supports_no_std(root) {
        source
    } else {
        eprintln!(
            "note: the SDK in {} predates #![no_std] revisions, so this one uses std. For smaller \
             revisions that compile faster, vendor the current SDK \
             (`migrate init` in an empty folder, then copy its sdk/ over).",
            root.display()
        );
        source.replacen("#![no_std]\n", "", 1)
    };
    std::fs::write(dir.join("src/lib.rs"), source)?;
    std::fs::write(dir.join(project::METADATA_FILE), toml::to_string(meta)?)?;
    println!("Created revision {id} in {}", dir.display());
    Ok(dir)
}

/// The source of a revision with empty upgrade() and downgrade() (commented examples).
pub fn blank_source(meta: &RevisionMeta) -> String {
    let down = if meta.down_revisions.is_empty() {
        "base".to_string()
    } else {
        meta.down_revisions.join(", ")
    };
    include_str!("../../templates/revision.lib.rs")
        .replace("{id}", &meta.id)
        .replace("{message}", &meta.message)
        .replace("{down}", &down)
        .replace("{created}", &meta.created)
}

/// A fresh random id, or `--rev-id` checked.
pub fn new_id(project: &Project, rev_id: Option<String>) -> anyhow::Result<String> {
    match rev_id {
        Some(id) if !project::valid_id(&id) => {
            bail!("--rev-id {id:?}: use 1 to 64 letters, digits or underscores")
        }
        Some(id) if project.graph.get(&id).is_some() => {
            bail!("--rev-id {id:?}: a revision with that id exists")
        }
        Some(id) => Ok(id),
        None => random_id(),
    }
}

/// Refuses an empty message, or one of several lines.
pub fn check_message(message: &str) -> anyhow::Result<()> {
    if message.trim().is_empty() {
        bail!(
            "the message is empty: say what the revision does (`migrate new -m \"add user email\"`); \
             it names the revision's folder and shows in `history`"
        );
    }
    if migrate_core::text::one_line(message) != message {
        bail!(
            "the message {message:?} has a line break or another control character: a revision's message is one line \
             (it is printed in SQL and Rust comments)"
        );
    }
    Ok(())
}

/// What the new revision revises: `--head` (one place, or base), `--down` (several make a
/// merge; `heads` is all of them), else the one head.
fn down_revisions(
    project: &Project,
    down: &[String],
    head: Option<&str>,
) -> anyhow::Result<Vec<String>> {
    let graph = &project.graph;
    if let Some(head) = head {
        if head == "base" {
            return Ok(vec![]);
        }
        return match migrate_core::target::resolve_destination(graph, head, &[])? {
            migrate_core::target::Destination::Heads(at) if at.len() == 1 => Ok(at),
            _ => bail!("--head {head:?}: name one revision, a branch's LABEL@head, or base"),
        };
    }
    if down.is_empty() {
        return match graph.heads().as_slice() {
            [] => Ok(vec![]),
            [one] => Ok(vec![one.clone()]),
            several => bail!(
                "there are several heads ({}): name the one to build on with --head REV, or merge them \
                 (`migrate merge -m MESSAGE heads`, or --down heads)",
                several.join(", ")
            ),
        };
    }
    let mut out: Vec<String> = vec![];
    for text in down {
        let ids = if text == "heads" {
            graph.heads()
        } else {
            vec![graph.resolve_id(text)?]
        };
        for id in ids {
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    Ok(out)
}

fn random_id() -> anyhow::Result<String> {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("no randomness for a revision id: {e}"))?;
    Ok(hex::encode(bytes))
}

/// Lowercase words joined by underscores, at most 40 characters: "Add user.email!" -> "add_user_email".
fn slug(message: &str) -> String {
    // Letters of every script are kept as they are ("émojis", "größe"): only what is not a letter
    // or digit separates words. The folder name is for people; the crate is named by the id.
    let words: Vec<String> = message
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut out = String::new();
    for word in words {
        if out.chars().count() + word.chars().count() + 1 > 40 {
            break;
        }
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(&word);
    }
    if out.is_empty() {
        "revision".into()
    } else {
        out
    }
}
