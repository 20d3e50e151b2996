//! What `check` and `new --autogenerate` compare: the model file against the schema at head
//! (replayed from the revisions' recorded ops, no database needed) or, with `--database`,
//! against a live database's catalog.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context as _};
use migrate_core::diff::{self, Compare, Diff, Rename};

use super::Context;
use crate::runner::{replay, Guests};

#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Compare with the live database (its catalog) instead of the schema the revisions make.
    #[arg(long)]
    database: bool,
    /// The model file (else `model` in the settings, else schema.sql beside them).
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
}

impl CompareArgs {
    /// The model file compared with.
    pub fn model_path(&self, ctx: &Context) -> PathBuf {
        self.model
            .clone()
            .unwrap_or_else(|| ctx.settings.model.clone())
    }

    /// `--database`: the live database is compared.
    pub fn with_database(&self) -> bool {
        self.database
    }

    pub fn is_used(&self) -> bool {
        self.database || self.model.is_some()
    }
}

pub struct Comparison {
    /// The model file, as named to the user.
    pub model_path: PathBuf,
    /// "the schema at head (REV)" or "the database (URL)".
    pub current_label: String,
    pub diff: Diff,
}

/// How a database that is not at the revisions' head is treated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum AtHead {
    /// Refused: a revision generated against it would repeat what unapplied revisions do.
    Required,
    /// Compared anyway, with a warning (`check` asks whether the database is the model).
    Warn,
}

pub async fn compare(
    ctx: &Context,
    args: &CompareArgs,
    renames: &[Rename],
    at_head: AtHead,
) -> anyhow::Result<Comparison> {
    let model_path = args.model_path(ctx);
    let text = read_model(&model_path)?;
    let model = migrate_core::model_sql::parse(&text)
        .map_err(|e| anyhow!("{}:{e}", model_path.display()))?;
    // Named as the revisions' own tables are, under the settings' naming convention.
    let model = ctx.settings.naming_convention.name_schema(model);

    let project = ctx.project()?;
    let heads = project.graph.heads();
    if heads.len() > 1 {
        bail!(
            "there are several heads ({}): merge them (migrate new --down A --down B) before comparing",
            heads.join(", ")
        );
    }
    let mut warnings = vec![];
    let (current, compare_with, current_label) = if args.database {
        let mut db = super::connect(ctx, super::Access::ReadOnly).await?;
        let at = db.heads().await?;
        if at != heads && at_head == AtHead::Warn {
            warnings.push(format!(
                "the database is at {} but the revisions' head is {}",
                describe(&at),
                describe(&heads)
            ));
        } else if at != heads {
            bail!(
                "the database is at {} but the revisions' head is {}: run `migrate upgrade` first, so that \
                 the comparison shows what the model adds and not what unapplied revisions would",
                describe(&at),
                describe(&heads)
            );
        }
        let schema = db.introspect().await?;
        let dialect = db.dialect();
        (
            schema,
            Compare {
                native: Some(dialect),
            },
            format!(
                "the database ({})",
                crate::db::redact(ctx.settings.require_database_url()?)
            ),
        )
    } else {
        let mut guests = Guests::new(&project, super::runtime(ctx));
        guests.set_target(super::offline_target(ctx, None)?);
        let (schema, _) = replay(&mut guests, &heads)?;
        if schema.has_opaque_changes {
            warnings.push(
                "some revisions run raw SQL (op::execute), whose effect on the schema this comparison cannot see; \
                 compare with a database (--database) to include it"
                    .to_string(),
            );
        }
        (
            schema,
            Compare::default(),
            format!("the schema at head ({})", describe(&heads)),
        )
    };
    let mut diff = diff::diff(&current, &model, renames, compare_with).map_err(|e| anyhow!(e))?;
    diff.warnings.splice(0..0, warnings);
    Ok(Comparison {
        model_path,
        current_label,
        diff,
    })
}

/// The model file's text, or an error that says where the file is looked for.
pub fn read_model(path: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read the model {} (set `model` in the settings or pass --model FILE)",
            path.display()
        )
    })
}

fn describe(heads: &[String]) -> String {
    if heads.is_empty() {
        "base (no revisions)".into()
    } else {
        heads.join(", ")
    }
}
