//! `migrate stamp TARGET` sets the heads without running revisions; `migrate accept REV`
//! records an applied revision's current checksum after its ops changed on purpose.

use anyhow::bail;
use migrate_core::sql::version_table::{self, Direction as Recorded, StepRecord};
use migrate_core::sql::StepScript;
use migrate_core::target;

use super::migrate::describe_heads;
use super::Context;
use crate::runner::Guests;
use crate::wasm::Direction;

#[derive(Debug, clap::Args)]
pub struct StampArgs {
    /// head, base, a revision id or prefix, +N, -N.
    #[arg(allow_negative_numbers = true)]
    target: String,
    #[command(flatten)]
    fleet: crate::fleet::FleetArgs,
}

impl StampArgs {
    pub fn is_fleet(&self) -> bool {
        self.fleet.fleet
    }
}

#[derive(Debug, clap::Args)]
pub struct AcceptArgs {
    /// The applied revision whose current operations are to be accepted.
    revision: String,
}

/// A script of version-table statements only, committed as one transaction.
pub fn bookkeeping_script(statements: Vec<migrate_core::sql::Statement>) -> StepScript {
    StepScript {
        transactional: true,
        bookkeeping: statements,
        ..StepScript::default()
    }
}

pub async fn stamp(ctx: &Context, args: StampArgs) -> anyhow::Result<std::process::ExitCode> {
    if args.fleet.fleet {
        return crate::fleet::drive(ctx, &args.fleet, "stamp", ("FROM", "TO"), |rt, ctx, t| {
            crate::fleet::stamp::stamp(rt, ctx, &args.target, t)
        })
        .await;
    }
    let (current, target) = stamp_database(ctx, &args.target).await?;
    println!(
        "Stamped the database at {} (was {})",
        describe_heads(&target),
        describe_heads(&current)
    );
    Ok(std::process::ExitCode::SUCCESS)
}

/// Sets the configured database's heads to `target_text`; the heads before and after.
pub async fn stamp_database(
    ctx: &Context,
    target_text: &str,
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let project = ctx.project()?;
    let mut db = super::open_for_change(ctx).await?;
    let dialect = db.dialect();
    let current = db.heads().await?;
    let target = target::resolve(&project.graph, target_text, &current)?;
    let mut guests = Guests::new(&project, super::runtime(ctx));
    guests.set_target(db.target().await?);
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
    let mut statements = Vec::new();
    // One history row per head stamped (or, stamping to base, per head removed).
    let rows: Vec<&String> = if target.is_empty() {
        removed.iter().collect()
    } else {
        target.iter().collect()
    };
    for (i, id) in rows.into_iter().enumerate() {
        // A stamped revision is verified like an applied one later; without a build there is
        // nothing to verify against, so its checksum stays empty and is not checked.
        let sum = if target.is_empty() {
            String::new()
        } else {
            match guests.ops(id, Direction::Upgrade) {
                Ok(ops) => guests
                    .checksum(id, Direction::Upgrade, &ops)
                    .unwrap_or_default(),
                Err(_) => String::new(),
            }
        };
        let message = project
            .graph
            .get(id)
            .map(|m| m.message.clone())
            .unwrap_or_default();
        statements.extend(version_table::record(
            dialect,
            db.tables(),
            &StepRecord {
                revision: id,
                direction: if target.is_empty() {
                    Recorded::Unstamp
                } else {
                    Recorded::Stamp
                },
                checksum: &sum,
                message: &message,
                removed_heads: if i == 0 { &removed } else { &[] },
                added_heads: if added.contains(id) {
                    std::slice::from_ref(id)
                } else {
                    &[]
                },
                applied_at: None,
            },
        ));
    }
    db.run_script(&bookkeeping_script(statements), "stamp")
        .await?;
    db.unlock().await?;
    Ok((current, target))
}

pub async fn accept(ctx: &Context, args: AcceptArgs) -> anyhow::Result<()> {
    let project = ctx.project()?;
    let id = project.graph.resolve_id(&args.revision)?;
    let mut db = super::open_for_change(ctx).await?;
    let current = db.heads().await?;
    if !project.graph.with_ancestors(&current).contains(&id) {
        bail!("revision {id} is not applied to this database; there is nothing to accept");
    }
    let mut guests = Guests::new(&project, super::runtime(ctx));
    guests.set_target(db.target().await?);
    let ops = guests.ops(&id, Direction::Upgrade)?;
    let sum = guests.checksum(&id, Direction::Upgrade, &ops)?;
    let record = StepRecord {
        revision: &id,
        direction: Recorded::Accept,
        checksum: &sum,
        message: &project.graph.get(&id).expect("resolved").message,
        removed_heads: &[],
        added_heads: &[],
        applied_at: None,
    };
    db.run_script(
        &bookkeeping_script(version_table::record(db.dialect(), db.tables(), &record)),
        &id,
    )
    .await?;
    db.unlock().await?;
    println!(
        "Accepted revision {id} with checksum {}",
        crate::runner::short(&sum)
    );
    Ok(())
}
