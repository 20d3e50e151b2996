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
    /// Down revision(s) (default: the current head). Give several to merge branches.
    #[arg(long = "down", value_name = "REV")]
    down: Vec<String>,
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
    if args.autogenerate && !args.down.is_empty() {
        bail!("--autogenerate builds on the current head; leave out --down");
    }
    let root = &ctx.migrations_dir;
    let project = Project::load(root)?;
    let versions = Project::versions_dir(root);
    if !versions.is_dir() {
        bail!("{} has no versions/ folder: is it a build-only deployment? Run `migrate init` for a new project", root.display());
    }
    let id = match args.rev_id {
        Some(id) if !project::valid_id(&id) => {
            bail!("--rev-id {id:?}: use 1 to 64 letters, digits or underscores")
        }
        Some(id) if project.graph.get(&id).is_some() => {
            bail!("--rev-id {id:?}: a revision with that id exists")
        }
        Some(id) => id,
        None => random_id()?,
    };
    let down_revisions = if args.down.is_empty() {
        match project.graph.heads().as_slice() {
            [] => vec![],
            [one] => vec![one.clone()],
            several => bail!(
                "there are several heads ({}): name the one to build on with --down REV, or merge them with one --down per head",
                several.join(", ")
            ),
        }
    } else {
        args.down
            .iter()
            .map(|d| project.graph.resolve_id(d))
            .collect::<Result<_, _>>()?
    };
    if args.message.trim().is_empty() {
        bail!(
            "the message is empty: say what the revision does (`migrate new -m \"add user email\"`); \
             it names the revision's folder and shows in `history`"
        );
    }
    if migrate_core::text::one_line(&args.message) != args.message {
        bail!(
            "the message {:?} has a line break or another control character: a revision's message is one line \
             (it is printed in SQL and Rust comments)",
            args.message
        );
    }
    let meta = RevisionMeta {
        id: id.clone(),
        down_revisions,
        message: args.message.clone(),
        created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        ..RevisionMeta::default()
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
        include_str!("../../templates/revision.lib.rs")
            .replace("{id}", &id)
            .replace("{message}", &meta.message)
            .replace("{down}", &down_text)
            .replace("{created}", &meta.created)
    };
    let dir = versions.join(format!("{id}_{}", slug(&args.message)));
    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(
        dir.join("Cargo.toml"),
        include_str!("../../templates/revision.Cargo.toml").replace("{id}", &id),
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
    std::fs::write(dir.join(project::METADATA_FILE), toml::to_string(&meta)?)?;
    println!("Created revision {id} in {}", dir.display());
    Ok(())
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
