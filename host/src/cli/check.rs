//! `migrate check [--database]`: exit 0 when the migrations (or the database) match the model,
//! 1 with the differences when they do not, 2 when they could not be compared. For CI.

use std::process::ExitCode;

use super::compare::{compare, AtHead, CompareArgs};
use super::Context;
use crate::codegen;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Instead: whether the heads' branches commute (exit 0), or conflict (exit 1, with the
    /// objects and revisions), as `migrate merge` would judge them.
    #[arg(long, conflicts_with_all = ["database", "model"])]
    heads: bool,
    #[command(flatten)]
    compare: CompareArgs,
    #[command(flatten)]
    fleet: crate::fleet::FleetArgs,
}

pub async fn run(ctx: &Context, args: CheckArgs) -> ExitCode {
    match check(ctx, &args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}: {e:#}", crate::output::error_label());
            ExitCode::from(2)
        }
    }
}

async fn check(ctx: &Context, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    if args.heads {
        return check_heads(ctx);
    }
    if args.fleet.fleet {
        if !args.compare.with_database() {
            anyhow::bail!("--fleet compares each database: use `check --database --fleet`");
        }
        // Said once, not once per database.
        super::compare::read_model(&args.compare.model_path(ctx))?;
        return crate::fleet::drive(ctx, &args.fleet, "check", ("", ""), |rt, ctx, target| {
            crate::fleet::read::check(rt, ctx, &args.compare, target)
        })
        .await;
    }
    let comparison = compare(ctx, &args.compare, &[], AtHead::Warn).await?;
    if ctx.json {
        crate::output::json(&serde_json::json!({
            "matches": comparison.diff.is_empty(),
            "compared": comparison.current_label,
            "model": comparison.model_path.display().to_string(),
            "upgrade": comparison.diff.upgrade,
            "downgrade": comparison.diff.downgrade,
            "warnings": comparison.diff.warnings,
        }))?;
        return Ok(if comparison.diff.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    for warning in &comparison.diff.warnings {
        eprintln!("{}: {warning}", crate::output::warning_label());
    }
    let model = comparison.model_path.display();
    if comparison.diff.is_empty() {
        println!(
            "{} matches the model {model}.",
            capitalized(&comparison.current_label)
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} differs from the model {model}. To match it, a revision would do:\n",
        capitalized(&comparison.current_label)
    );
    print!("{}", codegen::body(&comparison.diff.upgrade, 1));
    println!("\n`migrate new --autogenerate -m \"…\"` writes that revision.");
    Ok(ExitCode::from(1))
}

/// `check --heads`: the heads' branches analysed as `merge` would.
fn check_heads(ctx: &Context) -> anyhow::Result<ExitCode> {
    let project = ctx.project()?;
    let heads = project.graph.heads();
    if heads.len() < 2 && ctx.json {
        crate::output::json(&serde_json::json!({ "heads": heads, "commutes": true, "pairs": [] }))?;
        return Ok(ExitCode::SUCCESS);
    }
    if heads.len() < 2 {
        println!(
            "One head ({}): nothing to merge.",
            heads.first().map_or("no revisions", String::as_str)
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut guests = crate::runner::Guests::new(&project, super::runtime(ctx));
    guests.set_target(super::offline_target(ctx, None)?);
    let reports = crate::branches::analyse(&mut guests, &heads)?;
    let commutes = reports.iter().all(|r| r.report.commutes());
    if ctx.json {
        let pairs: Vec<serde_json::Value> = reports
            .iter()
            .map(|pair| {
                serde_json::json!({
                    "left": pair.left,
                    "right": pair.right,
                    "commutes": pair.report.commutes(),
                    "conflicts": pair.report.conflicts.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
                    "order_problems": pair.report.order_problems,
                    "raw_sql": pair.report.opaque,
                })
            })
            .collect();
        crate::output::json(
            &serde_json::json!({ "heads": heads, "commutes": commutes, "pairs": pairs }),
        )?;
        return Ok(if commutes {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    print!("{}", crate::branches::describe(&reports));
    Ok(if commutes {
        println!("The heads commute: `migrate merge -m \"…\"` can join them.");
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
