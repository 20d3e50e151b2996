//! `migrate status`: where the database is against the revisions (applied, pending) and any step
//! left failed or half-done, with exit code 1 when the database needs `migrate resolve`. `current`
//! shares the failed-step report, so neither prints a head as if all were well.

use std::process::ExitCode;

use super::heads_view::HeadsView;
use super::migrate::describe_heads;
use super::{Access, Context};
use crate::db::{Database, Incomplete};
use crate::project::Project;

pub async fn status(ctx: &Context, fleet: crate::fleet::FleetArgs) -> anyhow::Result<ExitCode> {
    if fleet.fleet {
        let project = ctx.project_metadata()?;
        return fleet_position(ctx, &fleet, project, "status").await;
    }
    let (project, (heads, mut failed)) = project_and_position(ctx).await?;
    let graph = &project.graph;
    let unknown: Vec<&String> = heads.iter().filter(|h| graph.get(h).is_none()).collect();
    let applied = graph.with_ancestors(&heads);
    let total = graph.in_order().count();
    let pending: Vec<_> = graph
        .in_order()
        .filter(|m| !applied.contains(&m.id))
        .collect();
    let healthy = unknown.is_empty() && failed.is_none();
    let code = exit_code(healthy);
    if ctx.json {
        let failed = failed_steps_json(ctx, project, failed.as_mut()).await;
        crate::output::json(&serde_json::json!({
            "current": heads,
            "heads": graph.heads(),
            "applied": applied.len(),
            "total": total,
            "pending": pending.iter().map(|m| serde_json::json!({"revision": m.id, "message": m.message})).collect::<Vec<_>>(),
            "unknown_heads": unknown,
            "incomplete": failed,
            "healthy": healthy,
        }))?;
        return Ok(code);
    }
    say!("Current: {}", describe_heads(&heads));
    say!(
        "Head(s) of the revisions: {}",
        describe_heads(&graph.heads())
    );
    say!("Applied: {} of {total} revision(s)", applied.len());
    if pending.is_empty() {
        say!("Pending: none");
    } else {
        say!("Pending: {}", pending.len());
        for meta in pending {
            say!("  {} {}", meta.id, meta.message);
        }
    }
    for head in unknown {
        say!(
            "PROBLEM: the database is at revision {head}, which is not among the revisions in {}",
            project.root.display()
        );
    }
    say_failed_steps(ctx, project, failed).await?;
    Ok(code)
}

/// The steps a database was left failed or half-done in, with the connection that read them
/// (diagnosing one asks the catalog).
struct FailedSteps {
    db: Database,
    steps: Vec<Incomplete>,
}

/// The project's revisions, the database's heads, and its failed or half-done steps if there
/// are any. A SQLite file's steps are transactional, so it never has one, and its heads are
/// read without a connection (`read_heads`), after the revisions: both are work for this
/// machine's processors, which a second thread did not speed up. A database server is asked
/// while the revisions are read.
async fn project_and_position(ctx: &Context) -> anyhow::Result<(&'static Project, Position)> {
    if super::reads_heads_directly(ctx) {
        let project = ctx.project_metadata()?;
        return Ok((project, position(ctx).await?));
    }
    ctx.project_metadata_beside(position(ctx)).await
}

/// `project_and_position` for `current`, which shows only the heads: where an index answers
/// for them (`HeadsView`), it alone is read, then the database.
async fn heads_and_position(ctx: &Context) -> anyhow::Result<(HeadsView, Position)> {
    if let Some(summary) = Project::heads_summary(&ctx.migrations_dir) {
        return Ok((HeadsView::Summary(summary), position(ctx).await?));
    }
    let (project, position) = project_and_position(ctx).await?;
    Ok((HeadsView::Project(project), position))
}

/// The database's heads, and its failed or half-done steps if there are any.
type Position = (Vec<String>, Option<FailedSteps>);

async fn position(ctx: &Context) -> anyhow::Result<Position> {
    if super::reads_heads_directly(ctx) {
        return Ok((super::read_heads(ctx).await?, None));
    }
    let mut db = super::connect(ctx, Access::ReadOnly).await?;
    let heads = db.heads().await?;
    let steps = db.incomplete().await?;
    Ok((
        heads,
        (!steps.is_empty()).then_some(FailedSteps { db, steps }),
    ))
}

/// Each failed step's report, for people.
async fn say_failed_steps(
    ctx: &Context,
    project: &Project,
    failed: Option<FailedSteps>,
) -> anyhow::Result<()> {
    if let Some(FailedSteps { mut db, steps }) = failed {
        for step in &steps {
            say!(
                "{}",
                describe_failed_step(ctx, project, &mut db, step).await
            );
        }
    }
    Ok(())
}

/// `migrate current`: the heads, and any failed step with exit code 1.
pub async fn current(ctx: &Context, fleet: crate::fleet::FleetArgs) -> anyhow::Result<ExitCode> {
    if fleet.fleet {
        let project = ctx.project_metadata()?;
        return fleet_position(ctx, &fleet, project, "current").await;
    }
    let (revisions, (heads, mut failed)) = heads_and_position(ctx).await?;
    let graph_heads = revisions.heads();
    let code = exit_code(failed.is_none());
    if ctx.json {
        let failed = if failed.is_some() {
            failed_steps_json(ctx, revisions.project(ctx)?, failed.as_mut()).await
        } else {
            vec![]
        };
        let heads: Vec<serde_json::Value> = heads
            .iter()
            .map(|head| {
                let meta = revisions.get(head);
                serde_json::json!({
                    "revision": head,
                    "message": meta.as_ref().map(|m| m.message.clone()),
                    "known": meta.is_some(),
                    "is_head": graph_heads.contains(head),
                })
            })
            .collect();
        crate::output::json(&serde_json::json!({ "heads": heads, "incomplete": failed }))?;
        return Ok(code);
    }
    if heads.is_empty() {
        say!("base (no revision applied)");
    }
    for head in &heads {
        let marker = if graph_heads.contains(head) {
            " (head)"
        } else {
            ""
        };
        match revisions.get(head) {
            Some(meta) => say!("{head}{marker}, {}", meta.message),
            None => say!(
                "{head} (not among the revisions in {})",
                ctx.migrations_dir.display()
            ),
        }
    }
    if failed.is_some() {
        say_failed_steps(ctx, revisions.project(ctx)?, failed).await?;
    }
    Ok(code)
}

/// `current --fleet` / `status --fleet`: each target's heads against the revisions' heads.
async fn fleet_position(
    ctx: &Context,
    fleet: &crate::fleet::FleetArgs,
    project: &Project,
    command: &str,
) -> anyhow::Result<ExitCode> {
    crate::fleet::drive(
        ctx,
        fleet,
        command,
        ("CURRENT", "HEAD"),
        |rt, ctx, target| crate::fleet::read::position(rt, ctx, project, target),
    )
    .await
}

fn exit_code(healthy: bool) -> ExitCode {
    if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Every failed or interrupted step, for `--json`.
async fn failed_steps_json(
    ctx: &Context,
    project: &Project,
    failed: Option<&mut FailedSteps>,
) -> Vec<serde_json::Value> {
    let mut out = vec![];
    if let Some(FailedSteps { db, steps }) = failed {
        for step in steps.iter() {
            out.push(failed_step_json(ctx, project, db, step).await);
        }
    }
    out
}

/// A failed or interrupted step for `--json`: the mark, the diagnosis where there is one, and
/// the report people read.
async fn failed_step_json(
    ctx: &Context,
    project: &Project,
    db: &mut Database,
    step: &Incomplete,
) -> serde_json::Value {
    let diagnosed = diagnose(ctx, project, db, step).await;
    let diagnosis = match &diagnosed {
        Ok(recovery) => {
            let total = recovery.script.body.len();
            match recovery.diagnosis {
                migrate_core::step_progress::Diagnosis::Stopped { done } => serde_json::json!({
                    "certain": true, "statements_done": done, "statements": total,
                }),
                _ => serde_json::json!({ "certain": false, "statements": total }),
            }
        }
        Err(e) => serde_json::json!({ "certain": false, "error": format!("{e:#}") }),
    };
    serde_json::json!({
        "revision": step.revision,
        "direction": step.direction,
        "failed_statement": step.failed_statement,
        "error": step.error,
        "diagnosis": diagnosis,
        "report": report(step, &diagnosed),
    })
}

/// A step left failed or interrupted, for people: what failed, where it stopped (diagnosed from
/// the catalog: `recovery`), and the ways out.
pub async fn describe_failed_step(
    ctx: &Context,
    project: &Project,
    db: &mut Database,
    step: &Incomplete,
) -> String {
    report(step, &diagnose(ctx, project, db, step).await)
}

/// The report of a step from its diagnosis (or why there is none), without diagnosing again.
pub fn report(step: &Incomplete, diagnosed: &anyhow::Result<crate::recovery::Recovery>) -> String {
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
    match diagnosed {
        Ok(recovery) => text.push_str(&recovery.describe()),
        Err(e) => text.push_str(&format!("(no diagnosis: {e:#})\n")),
    }
    text.push_str(&crate::recovery::ways_out(
        &step.revision,
        &step.direction,
        diagnosed.is_ok(),
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
    crate::recovery::diagnose(project, super::runtime(ctx), db, step).await
}
