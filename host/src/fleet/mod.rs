//! Fleets: one command over many databases (`--fleet`), from the `[fleet]` settings. Each
//! target is worked under its own lock, `--jobs` at a time; what all targets share (each
//! revision's recorded ops, each step's rendered SQL for a dialect and starting point) is made
//! once; a failure stops only its own target unless `--fail-fast`; `--canary K` works K first.
//! The result is a table (or `--json`) and an exit code; a rerun touches only the targets not
//! yet where asked.

pub mod migrate;
pub mod pool;
pub mod read;
pub mod report;
pub mod stamp;
pub mod targets;

use std::process::ExitCode;
use std::time::Instant;

use crate::cli::Context;
use report::TargetReport;
use targets::FleetTarget;

/// The flags every verb that can act on a fleet takes.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FleetArgs {
    /// Act on every database of the `[fleet]` in the settings instead of the one database.
    #[arg(long)]
    pub fleet: bool,
    /// With --fleet: how many targets at once (else `jobs` in [fleet], else one per core).
    #[arg(long, requires = "fleet", value_name = "N")]
    pub jobs: Option<usize>,
    /// With --fleet: start no more targets after the first failure.
    #[arg(long, requires = "fleet")]
    pub fail_fast: bool,
    /// With --fleet: work the first K targets first, and stop if any of them fails.
    #[arg(long, requires = "fleet", value_name = "K", default_value_t = 0)]
    pub canary: usize,
}

/// Runs `work` on every target of the fleet and reports: the table on stdout and a summary on
/// stderr, or one JSON document. `from_title`/`to_title` head the table's heads columns.
pub async fn drive<W>(
    ctx: &Context,
    args: &FleetArgs,
    command: &str,
    titles: (&str, &str),
    work: W,
) -> anyhow::Result<ExitCode>
where
    W: Fn(&tokio::runtime::Runtime, &Context, &FleetTarget) -> TargetReport + Sync,
{
    let origin = ctx
        .settings
        .settings_file
        .as_deref()
        .map_or("no settings file".to_string(), |p| p.display().to_string());
    let targets = targets::resolve(&ctx.settings.fleet, &origin).await?;
    let jobs = args
        .jobs
        .or(ctx.settings.fleet.jobs)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if jobs == 0 {
        anyhow::bail!("--jobs must be at least 1");
    }
    let options = pool::Options {
        jobs,
        fail_fast: args.fail_fast,
        canary: args.canary,
    };
    let was_quiet = crate::output::quiet();
    let shown = !was_quiet && !ctx.json;
    if shown {
        eprintln!(
            "{command}: {} target(s), {} at a time{}",
            targets.len(),
            jobs.min(targets.len()),
            if options.canary > 0 {
                format!(
                    ", the first {} as canaries",
                    options.canary.min(targets.len())
                )
            } else {
                String::new()
            }
        );
    }
    // Each target's own lines (which database, each step) would interleave: the table says
    // how each went, and the progress bar how far the run is.
    crate::output::set_quiet(true);
    let started = Instant::now();
    let reports = pool::run(&targets, options, command, shown, |runtime, target| {
        let target_ctx = ctx.for_database(&target.url, &format!("[fleet] {}", target.name));
        let report = work(runtime, &target_ctx, target);
        // Not left to the end of the whole run: another runner may be waiting for this target.
        runtime.block_on(crate::db::give_back_abandoned_leases());
        report
    });
    let elapsed = started.elapsed();
    crate::output::set_quiet(was_quiet);
    if ctx.json {
        crate::output::json(&report::json(command, &reports, elapsed))?;
    } else {
        use std::io::Write as _;
        write!(
            std::io::stdout(),
            "{}",
            report::table(&reports, titles.0, titles.1)
        )?;
        crate::output::progress!("{}", report::summary(&reports, elapsed));
    }
    Ok(report::exit_code(command, &reports))
}
