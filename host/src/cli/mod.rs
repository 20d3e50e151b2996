//! The command line: one module per verb, each with its arguments and a `run`.

/// `println!` that returns a closed pipe as an error (`migrate history | head` ends quietly,
/// see `main`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)?
    }};
}

mod build;
mod check;
mod compare;
mod init;
mod inspect;
mod migrate;
mod new;
mod resolve;
mod stamp;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::db::Database;
use crate::project::Project;
use crate::runner::recovery_advice;
use crate::settings::{self, Settings};

#[derive(Debug, Parser)]
#[command(
    name = "migrate",
    version,
    about = "Database schema migrations; each revision runs in a WebAssembly sandbox."
)]
pub struct Args {
    /// Settings file (else $SETTINGS, else ./migrate.toml).
    #[arg(long, global = true, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// The migrations folder (else `migrations` in the settings, else ./migrations).
    #[arg(long, global = true, value_name = "DIR")]
    migrations: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the migrations folder: a cargo workspace for revisions, the SDK, and a settings example.
    Init(init::InitArgs),
    /// Scaffold a new revision crate on top of the current head.
    New(new::NewArgs),
    /// Compile the revisions to WebAssembly components under build/.
    Build(build::BuildArgs),
    /// Apply revisions up to a target (default: head).
    Upgrade(migrate::UpgradeArgs),
    /// Revert revisions down to a target.
    Downgrade(migrate::DowngradeArgs),
    /// Show the database's current revision(s).
    Current,
    /// List the revisions, newest first (or, with --applied, the database's history).
    History(inspect::HistoryArgs),
    /// Show the head revision(s).
    Heads,
    /// Show one revision: its metadata and the operations of both directions.
    Show(inspect::ShowArgs),
    /// Set the database's revision without running any migration.
    Stamp(stamp::StampArgs),
    /// Accept an applied revision's changed operations as its new checksum.
    Accept(stamp::AcceptArgs),
    /// After a revision failed on a database without transactional DDL (MySQL) and was fixed by hand.
    Resolve(resolve::ResolveArgs),
    /// Exit 0 if the schema at head (or, with --database, the database) matches the model, else 1
    /// with the differences (2 if they could not be compared).
    Check(check::CheckArgs),
}

/// What every command may need: the settings and where the migrations are.
pub struct Context {
    pub settings: Settings,
    pub migrations_dir: PathBuf,
}

impl Context {
    pub fn project(&self) -> anyhow::Result<Project> {
        Project::load(&self.migrations_dir)
    }
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let settings = settings::load(args.settings.as_deref())?;
    let migrations_dir = args
        .migrations
        .or_else(|| settings.migrations.clone())
        .unwrap_or_else(|| Path::new("migrations").to_path_buf());
    let ctx = Context {
        settings,
        migrations_dir,
    };
    match args.command {
        Command::Init(a) => init::run(&ctx, a),
        Command::New(a) => new::run(&ctx, a).await,
        Command::Build(a) => build::run(&ctx, a),
        Command::Upgrade(a) => migrate::upgrade(&ctx, a).await,
        Command::Downgrade(a) => migrate::downgrade(&ctx, a).await,
        Command::Current => inspect::current(&ctx).await,
        Command::History(a) => inspect::history(&ctx, a).await,
        Command::Heads => inspect::heads(&ctx),
        Command::Show(a) => inspect::show(&ctx, a),
        Command::Stamp(a) => stamp::stamp(&ctx, a).await,
        Command::Accept(a) => stamp::accept(&ctx, a).await,
        Command::Resolve(a) => resolve::run(&ctx, a).await,
        Command::Check(a) => return Ok(check::run(&ctx, a).await),
    }?;
    Ok(ExitCode::SUCCESS)
}

/// A connection for a command that changes the version table: the run lock taken, the version
/// tables there, and no step left half-done by an earlier failure on a non-transactional database.
pub async fn open_for_change(ctx: &Context) -> anyhow::Result<Database> {
    let mut db = connect(ctx).await?;
    db.lock(&ctx.settings.lock).await?;
    db.ensure_version_table().await?;
    if let Some(step) = db.incomplete().await?.into_iter().next() {
        let what = match (&step.failed_statement, &step.error) {
            (Some(statement), Some(error)) => {
                format!("failed on this statement:\n    {statement}\n  {error}")
            }
            _ => "was interrupted while it ran (the process died)".to_string(),
        };
        anyhow::bail!(
            "the database is partly migrated: the {} of revision {} {what}\n{}",
            step.direction,
            step.revision,
            recovery_advice(&step.revision)
        );
    }
    Ok(db)
}

pub async fn connect(ctx: &Context) -> anyhow::Result<Database> {
    Database::connect(
        ctx.settings.require_database_url()?,
        &ctx.settings.database_url_origin,
    )
    .await
}

/// The guest runtime with the caches in `$MIGRATE_CACHE_DIR`, else `<migrations>/.cache`.
pub fn runtime(ctx: &Context) -> anyhow::Result<crate::wasm::GuestRuntime> {
    let dir = std::env::var_os("MIGRATE_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| ctx.migrations_dir.join(".cache"));
    crate::wasm::GuestRuntime::new(ctx.settings.limits, crate::wasm::cache::Cache::new(dir))
}
