//! `stamp --fleet`: each target's version table set, under its own lock.

use std::time::Duration;

use super::report::{Result as Outcome, TargetReport};
use super::targets::FleetTarget;
use crate::cli::Context;

pub fn stamp(
    runtime: &tokio::runtime::Runtime,
    ctx: &Context,
    revision: &str,
    target: &FleetTarget,
) -> TargetReport {
    match runtime.block_on(crate::cli::stamp::stamp_database(ctx, revision)) {
        Ok((before, after)) if before == after => {
            TargetReport::new(target, Outcome::UpToDate, Duration::ZERO)
                .heads(Some(before), Some(after))
        }
        Ok((before, after)) => TargetReport::new(target, Outcome::Done, Duration::ZERO)
            .word("stamped")
            .heads(Some(before), Some(after)),
        Err(e) => TargetReport::failed(target, &e),
    }
}
