//! `migrate status`: where the database is against the revisions (applied, pending) and any step
//! left failed or half-done, with exit code 1 when the database needs `migrate resolve`. `current`
//! shares the failed-step report, so neither prints a head as if all were well.

use std::process::ExitCode;

use super::migrate::describe_heads;
use super::{Access, Context};
use crate::db::{Database, Incomplete};
use crate::project::Project;

pub async fn status(ctx: &Context) -> anyhow::Result<ExitCode> {
    let project = ctx.project_metadata()?;
    let mut db = super::connect(ctx, Access::ReadOnly).await?;
    let heads = db.heads().await?;
    let graph = &project.graph;
    let unknown: Vec<&String> = heads.iter().filter(|h| graph.get(h).is_none()).collect();
    let applied = graph.with_ancestors(&heads);
    let total = graph.in_order().count();
    say!("Current: {}", describe_heads(&heads));
    say!(
        "Head(s) of the revisions: {}",
        describe_heads(&graph.heads())
    );
    say!("Applied: {} of {total} revision(s)", applied.len());
    let pending: Vec<_> = graph
        .in_order()
        .filter(|m| !applied.contains(&m.id))
        .collect();
    if pending.is_empty() {
        say!("Pending: none");
    } else {
        say!("Pending: {}", pending.len());
        for meta in pending {
            say!("  {} {}", meta.id, meta.message);
        }
    }
    let mut healthy = true;
    for head in unknown {
        healthy = false;
        say!(
            "PROBLEM: the database is at revision {head}, which is not among the revisions in {}",
            project.root.display()
        );
    }
    for step in db.incomplete().await? {
        healthy = false;
        say!(
            "{}",
            describe_failed_step(ctx, &project, &mut db, &step).await
        );
    }
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `migrate current`: the heads, and any failed step with exit code 1.
pub async fn current(ctx: &Context) -> anyhow::Result<ExitCode> {
    let project = ctx.project_metadata()?;
    let mut db = super::connect(ctx, Access::ReadOnly).await?;
    let heads = db.heads().await?;
    if heads.is_empty() {
        say!("base (no revision applied)");
    }
    let graph_heads = project.graph.heads();
    for head in &heads {
        let marker = if graph_heads.contains(head) {
            " (head)"
        } else {
            ""
        };
        match project.graph.get(head) {
            Some(meta) => say!("{head}{marker}, {}", meta.message),
            None => say!(
                "{head} (not among the revisions in {})",
                project.root.display()
            ),
        }
    }
    let mut code = ExitCode::SUCCESS;
    for step in db.incomplete().await? {
        code = ExitCode::FAILURE;
        say!(
            "{}",
            describe_failed_step(ctx, &project, &mut db, &step).await
        );
    }
    Ok(code)
}

/// A step left failed or interrupted, for people: what failed, where it stopped (diagnosed from
/// the catalog: `recovery`), and the ways out.
pub async fn describe_failed_step(
    ctx: &Context,
    project: &Project,
    db: &mut Database,
    step: &Incomplete,
) -> String {
    let mut text = match (&step.failed_statement, &step.error) {
        (Some(statement), Some(error)) => format!(
            "FAILED: the {} of revision {} failed on this statement:\n    {statement}\n  {error}\n",
            step.direction, step.revision
        ),
        _ => format!(
            "INTERRUPTED: the {} of revision {} was interrupted while it ran (the process died)\n",
            step.direction, step.revision
        ),
    };
    let renderable = match diagnose(ctx, project, db, step).await {
        Ok(recovery) => {
            text.push_str(&recovery.describe());
            true
        }
        Err(e) => {
            text.push_str(&format!("(no diagnosis: {e:#})\n"));
            false
        }
    };
    text.push_str(&crate::recovery::ways_out(
        &step.revision,
        &step.direction,
        renderable,
    ));
    text
}

/// The step rendered again and diagnosed against the catalog.
pub async fn diagnose(
    ctx: &Context,
    project: &Project,
    db: &mut Database,
    step: &Incomplete,
) -> anyhow::Result<crate::recovery::Recovery> {
    crate::recovery::diagnose(project, super::runtime(ctx)?, db, step).await
}
