//! `current --fleet`, `status --fleet` and `check --database --fleet`: each target read on its
//! own connection, nothing changed.

use std::time::Duration;

use super::report::{Result as Outcome, TargetReport};
use super::targets::FleetTarget;
use crate::cli::compare::{compare, AtHead, CompareArgs};
use crate::cli::Context;
use crate::db::Access;
use crate::project::Project;

/// Where one target is: its heads against the revisions' heads; a step left half-done (or an
/// unknown revision) is a failure, as `migrate current`/`status` exit 1 for it.
pub fn position(
    runtime: &tokio::runtime::Runtime,
    ctx: &Context,
    project: &Project,
    target: &FleetTarget,
) -> TargetReport {
    let graph = &project.graph;
    // A tenant listed before its first upgrade has no file yet: it is at base, not broken.
    let url = ctx.settings.database_url.as_deref().unwrap_or_default();
    if crate::db::sqlite_file(url).is_some_and(|path| !path.exists()) {
        let pending = graph.in_order().count();
        return TargetReport::new(target, Outcome::Ok, Duration::ZERO)
            .word(format!("not created, {pending} pending"))
            .heads(Some(vec![]), Some(graph.heads()));
    }
    let read = runtime.block_on(async {
        let mut db = crate::cli::connect(ctx, Access::ReadOnly).await?;
        let heads = db.heads().await?;
        let incomplete = db.incomplete().await?;
        anyhow::Ok((heads, incomplete))
    });
    let (heads, incomplete) = match read {
        Ok(read) => read,
        Err(e) => return TargetReport::failed(target, &e),
    };
    let graph_heads = graph.heads();
    let report = if let Some(step) = incomplete.first() {
        TargetReport::new(target, Outcome::Failed, Duration::ZERO).with_error(format!(
            "the {} of revision {} was left half-done: see `migrate status` and `migrate resolve` on this database",
            step.direction, step.revision
        ))
    } else if let Some(unknown) = heads.iter().find(|h| graph.get(h).is_none()) {
        TargetReport::new(target, Outcome::Failed, Duration::ZERO).with_error(format!(
            "the database is at revision {unknown}, which is not among the revisions in {}",
            project.root.display()
        ))
    } else {
        let applied = graph.with_ancestors(&heads);
        let pending = graph
            .in_order()
            .filter(|m| !applied.contains(&m.id))
            .count();
        let word = if pending == 0 {
            "at head".to_string()
        } else {
            format!("{pending} pending")
        };
        TargetReport::new(target, Outcome::Ok, Duration::ZERO).word(word)
    };
    report.heads(Some(heads), Some(graph_heads))
}

/// Whether one target's catalog matches the model (`check --database`).
pub fn check(
    runtime: &tokio::runtime::Runtime,
    ctx: &Context,
    args: &CompareArgs,
    target: &FleetTarget,
) -> TargetReport {
    match runtime.block_on(compare(ctx, args, &[], AtHead::Warn)) {
        Ok(comparison) if comparison.diff.is_empty() => {
            TargetReport::new(target, Outcome::Ok, Duration::ZERO).word("matches")
        }
        Ok(comparison) => {
            let changes = comparison.diff.upgrade.len();
            let mut report = TargetReport::new(target, Outcome::Attention, Duration::ZERO)
                .word(format!("differs ({changes} op(s))"));
            report.error = Some(crate::codegen::body(&comparison.diff.upgrade, 1));
            report
        }
        Err(e) => TargetReport::failed(target, &e),
    }
}
