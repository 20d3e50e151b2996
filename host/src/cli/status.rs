//! `migrate status`: where the database is against the revisions (applied, pending) and any step
//! left failed or half-done, with exit code 1 when the database needs `migrate resolve`. `current`
//! shares the failed-step report, so neither prints a head as if all were well.

use std::process::ExitCode;

use super::migrate::describe_heads;
use super::{Access, Context};
use crate::db::{Database, Incomplete};
use crate::project::Project;
use crate::runner::{self, Guests};
use crate::wasm::Direction;

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

/// A step left failed or interrupted, for people: what failed, which of its statements stayed
/// applied (rendered again from the revision when it can be), and the way out.
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
            "INTERRUPTED: the {} of revision {} was interrupted while it ran (the process died); \
             which of its statements took effect is not recorded\n",
            step.direction, step.revision
        ),
    };
    if let Some(statement) = &step.failed_statement {
        match statements_of(ctx, project, db, step).await {
            Ok(body) => text.push_str(&runner::describe_partial_effect(&body, statement)),
            Err(e) => text.push_str(&format!(
                "(cannot list the step's statements that stayed applied: {e:#})\n"
            )),
        }
    }
    text.push_str(&runner::recovery_advice(&step.revision, &step.direction));
    text
}

/// The body statements of the failed step, rendered from the heads the database is still at.
async fn statements_of(
    ctx: &Context,
    project: &Project,
    db: &mut Database,
    step: &Incomplete,
) -> anyhow::Result<Vec<migrate_core::sql::Statement>> {
    let direction = match step.direction.as_str() {
        "downgrade" => Direction::Downgrade,
        _ => Direction::Upgrade,
    };
    let heads = db.heads().await?;
    let mut guests = Guests::new(project, super::runtime(ctx)?);
    guests.set_target(db.target().await?);
    let script =
        runner::render_step_from(&mut guests, db.dialect(), &heads, &step.revision, direction)?;
    Ok(script.body)
}
