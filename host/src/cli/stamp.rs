//! `migrate stamp TARGET` sets the heads without running revisions; `migrate accept REV`
//! records an applied revision's current checksum after its ops changed on purpose.

use anyhow::bail;
use migrate_core::ops::checksum;
use migrate_core::sql::version_table::{self, Direction as Recorded, StepRecord};
use migrate_core::sql::StepScript;
use migrate_core::target;

use super::migrate::describe_heads;
use super::Context;
use crate::db::Database;
use crate::runner::Guests;
use crate::wasm::{Direction, GuestRuntime};

#[derive(Debug, clap::Args)]
pub struct StampArgs {
    /// head, base, a revision id or prefix, +N, -N.
    #[arg(allow_hyphen_values = true)]
    target: String,
}

#[derive(Debug, clap::Args)]
pub struct AcceptArgs {
    /// The applied revision whose current operations are to be accepted.
    revision: String,
}

pub async fn stamp(ctx: &Context, args: StampArgs) -> anyhow::Result<()> {
    let project = ctx.project()?;
    let mut db = Database::connect(
        ctx.settings.require_database_url()?,
        &ctx.settings.database_url_origin,
    )
    .await?;
    db.ensure_version_table().await?;
    let dialect = db.dialect();
    let current = db.heads().await?;
    let target = target::resolve(&project.graph, &args.target, &current)?;
    let mut guests = Guests::new(&project, GuestRuntime::new(ctx.settings.limits)?);
    let mut script = StepScript::default();
    let removed: Vec<String> = current
        .iter()
        .filter(|h| !target.contains(h))
        .cloned()
        .collect();
    let added: Vec<String> = target
        .iter()
        .filter(|h| !current.contains(h))
        .cloned()
        .collect();
    for (i, id) in target.iter().enumerate() {
        // A stamped revision is checked like an applied one later; without a build there is
        // nothing to check against, so the checksum stays empty and is not verified.
        let sum = guests
            .ops(id, Direction::Upgrade)
            .map(|ops| checksum(&ops))
            .unwrap_or_default();
        let record = StepRecord {
            revision: id,
            direction: Recorded::Stamp,
            checksum: &sum,
            message: &project.graph.get(id).expect("resolved").message,
            removed_heads: if i == 0 { &removed } else { &[] },
            added_heads: if added.contains(id) {
                std::slice::from_ref(id)
            } else {
                &[]
            },
        };
        script
            .transaction
            .extend(version_table::record(dialect, &record));
    }
    if target.is_empty() {
        script.transaction.extend(removed.iter().flat_map(|head| {
            version_table::record(
                dialect,
                &StepRecord {
                    revision: head,
                    direction: Recorded::Stamp,
                    checksum: "",
                    message: "stamped to base",
                    removed_heads: std::slice::from_ref(head),
                    added_heads: &[],
                },
            )
        }));
    }
    db.run_script(&script).await?;
    println!(
        "Stamped the database at {} (was {})",
        describe_heads(&target),
        describe_heads(&current)
    );
    Ok(())
}

pub async fn accept(ctx: &Context, args: AcceptArgs) -> anyhow::Result<()> {
    let project = ctx.project()?;
    let id = project.graph.resolve_id(&args.revision)?;
    let mut db = Database::connect(
        ctx.settings.require_database_url()?,
        &ctx.settings.database_url_origin,
    )
    .await?;
    let current = db.heads().await?;
    if !project.graph.with_ancestors(&current).contains(&id) {
        bail!("revision {id} is not applied to this database; there is nothing to accept");
    }
    let mut guests = Guests::new(&project, GuestRuntime::new(ctx.settings.limits)?);
    let sum = checksum(&guests.ops(&id, Direction::Upgrade)?);
    let record = StepRecord {
        revision: &id,
        direction: Recorded::Accept,
        checksum: &sum,
        message: &project.graph.get(&id).expect("resolved").message,
        removed_heads: &[],
        added_heads: &[],
    };
    let script = StepScript {
        transaction: version_table::record(db.dialect(), &record),
        ..Default::default()
    };
    db.run_script(&script).await?;
    println!(
        "Accepted revision {id} with checksum {}",
        crate::runner::short(&sum)
    );
    Ok(())
}
