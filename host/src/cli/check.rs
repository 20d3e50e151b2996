//! `migrate check [--database]`: exit 0 when the migrations (or the database) match the model,
//! 1 with the differences when they do not, 2 when they could not be compared. For CI.

use std::process::ExitCode;

use super::compare::{compare, AtHead, CompareArgs};
use super::Context;
use crate::codegen;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    compare: CompareArgs,
}

pub async fn run(ctx: &Context, args: CheckArgs) -> ExitCode {
    match check(ctx, &args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn check(ctx: &Context, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let comparison = compare(ctx, &args.compare, &[], AtHead::Warn).await?;
    for warning in &comparison.diff.warnings {
        eprintln!("warning: {warning}");
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

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
