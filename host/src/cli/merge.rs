//! `migrate merge -m "msg" [heads | REV...]`: a merge revision whose down revisions are the
//! given tips (no ops), written only when their branches commute (`branches`), or with --force.

use anyhow::bail;
use migrate_core::revision::RevisionMeta;

use super::new::{blank_source, check_message, new_id, write_revision};
use super::Context;
use crate::runner::Guests;

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// What to merge: `heads` (the default: every head) or revision ids.
    #[arg(value_name = "REV")]
    revisions: Vec<String>,
    /// What the merge is for; also names its folder.
    #[arg(short, long)]
    message: String,
    /// Use this id instead of a random 12-hex one.
    #[arg(long)]
    rev_id: Option<String>,
    /// Write the merge even where the branches conflict (the report is kept in its source).
    #[arg(long)]
    force: bool,
}

pub fn run(ctx: &Context, args: MergeArgs) -> anyhow::Result<()> {
    check_message(&args.message)?;
    let project = ctx.project()?;
    let graph = &project.graph;
    let mut tips: Vec<String> = vec![];
    let asked = if args.revisions.is_empty() {
        vec!["heads".to_string()]
    } else {
        args.revisions.clone()
    };
    for text in &asked {
        let ids = if text == "heads" {
            graph.heads()
        } else {
            vec![graph.resolve_id(text)?]
        };
        for id in ids {
            if !tips.contains(&id) {
                tips.push(id);
            }
        }
    }
    if tips.len() < 2 {
        bail!(
            "nothing to merge: {} (a merge joins two or more heads)",
            match tips.as_slice() {
                [] => "there are no revisions".to_string(),
                [one] => format!("{one} is the only one"),
                _ => unreachable!(),
            }
        );
    }
    for tip in &tips {
        for other in &tips {
            if tip != other && graph.with_ancestors([other]).contains(tip) {
                bail!("{other} already includes {tip}: merge only revisions on different branches");
            }
        }
    }
    let mut guests = Guests::new(&project, super::runtime(ctx));
    guests.set_target(super::offline_target(ctx, None)?);
    let reports = crate::branches::analyse(&mut guests, &tips)?;
    let report = crate::branches::describe(&reports);
    let commutes = reports.iter().all(|r| r.report.commutes());
    if !commutes && !args.force {
        bail!(
            "{report}No merge written: make the branches agree first (a revision on one of them that \
             settles the conflict), or merge anyway with --force"
        );
    }
    print!("{report}");
    let meta = RevisionMeta {
        id: new_id(&project, args.rev_id)?,
        down_revisions: tips,
        message: args.message,
        created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        ..RevisionMeta::default()
    };
    let verdict = if commutes {
        "//! Checked by `migrate merge`: the branches commute (no object that one changes or drops is\n\
         //! touched by the other, and they replay to the same schema in either order).\n"
            .to_string()
    } else {
        let mut text = String::from(
            "//! Merged with `migrate merge --force` although the branches conflict:\n",
        );
        for line in report.lines() {
            text.push_str(&format!("//!   {line}\n"));
        }
        text
    };
    let source = blank_source(&meta).replacen("\n\n", &format!("\n//!\n{verdict}\n"), 1);
    write_revision(&project, &meta, source)?;
    Ok(())
}
