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
pub(crate) mod compare;
mod deferred;
mod heads_view;
mod init;
mod inspect;
mod merge;
mod migrate;
mod new;
mod rebase;
mod resolve;
pub(crate) mod stamp;
mod status;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use deferred::Deferred;

use crate::db::{Access, Database};
use crate::project::Project;
use crate::settings::{self, Settings};
use crate::wasm::target::{Flavor, Target};

#[derive(Debug, Parser)]
#[command(
    name = "migrate",
    version,
    about = "Database schema migrations; each revision runs in a WebAssembly sandbox.",
    after_help = DATABASE_PRECEDENCE
)]
pub struct Args {
    /// Settings file (else $SETTINGS, else ./migrate.toml). Its `database_url` beats $DATABASE_URL.
    #[arg(long, global = true, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// The database to act on; beats every settings file and the environment.
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Print no informational lines on stderr (which database, each step, the outcome);
    /// warnings and errors still appear.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Colour the tool's own lines on stderr: auto (on a terminal, unless NO_COLOR is set),
    /// always or never.
    #[arg(long, global = true, value_enum, default_value_t = crate::output::ColourChoice::Auto)]
    color: crate::output::ColourChoice,
    /// Print each SQL statement on stderr as it runs, and more detail where a command has it
    /// (`heads`).
    #[arg(short, long, global = true)]
    verbose: bool,
    /// One JSON document on stdout instead of lines (current, status, heads, history, show,
    /// check, upgrade, downgrade, and stamp with --fleet); shapes in docs/json.md.
    #[arg(long, global = true)]
    json: bool,
    /// The migrations folder (else `migrations` in the settings, else ./migrations).
    #[arg(long, global = true, value_name = "DIR")]
    migrations: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the migrations folder: a cargo workspace for revisions, the SDK, and a settings example.
    Init(Deferred<init::InitArgs>),
    /// Scaffold a new revision crate on top of the current head.
    New(Deferred<new::NewArgs>),
    /// Write a merge revision joining the heads (or the given revisions), after checking that
    /// their branches commute.
    Merge(Deferred<merge::MergeArgs>),
    /// Move an unapplied revision (and what builds on it) onto another revision, e.g. another
    /// branch's head.
    Rebase(Deferred<rebase::RebaseArgs>),
    /// Compile the revisions to WebAssembly components under build/.
    Build(Deferred<build::BuildArgs>),
    /// Apply revisions up to a target (default: head).
    Upgrade(Deferred<migrate::UpgradeArgs>),
    /// Revert revisions down to a target.
    Downgrade(Deferred<migrate::DowngradeArgs>),
    /// Show the database's current revision(s); exit 1 if a step is left failed (see `resolve`).
    Current(Deferred<crate::fleet::FleetArgs>),
    /// Applied and pending revisions, and any failed or half-done step (exit 1 if one needs `resolve`).
    Status(Deferred<crate::fleet::FleetArgs>),
    /// List the revisions, newest first (or, with --applied, the database's history).
    History(Deferred<inspect::HistoryArgs>),
    /// Show the head revision(s).
    Heads,
    /// Show one revision: its metadata and the operations of both directions.
    Show(Deferred<inspect::ShowArgs>),
    /// Set the database's revision without running any migration.
    Stamp(Deferred<stamp::StampArgs>),
    /// Accept an applied revision's changed operations as its new checksum.
    Accept(Deferred<stamp::AcceptArgs>),
    /// After a revision failed on a database without transactional DDL (MySQL) and was fixed by hand.
    Resolve(Deferred<resolve::ResolveArgs>),
    /// Exit 0 if the schema at head (or, with --database, the database) matches the model, else 1
    /// with the differences (2 if they could not be compared).
    Check(Deferred<check::CheckArgs>),
    /// Print a shell completion script: `migrate completions bash > /etc/bash_completion.d/migrate`.
    Completions {
        /// bash, zsh, fish, powershell or elvish.
        shell: clap_complete::Shell,
    },
}

/// Shown by `migrate --help`; the same order as `settings.rs` and the README.
const DATABASE_PRECEDENCE: &str = "\
Which database: the first of
  1. --database-url URL
  2. `database_url` in the file given by --settings FILE
  3. `database_url` in the file named by $SETTINGS (environment, else .env)
  4. $DATABASE_URL
  5. DATABASE_URL in .env (this folder or one above)
  6. `database_url` in ./migrate.toml
Every command that opens the database prints which one on stderr first (password masked).";

/// What every command may need: the settings and where the migrations are.
pub struct Context {
    pub settings: Settings,
    pub migrations_dir: PathBuf,
    /// `--json`: the command prints one JSON document on stdout.
    pub json: bool,
}

impl Context {
    /// The same settings acting on another database (one target of a fleet).
    pub fn for_database(&self, url: &str, origin: &str) -> Context {
        let mut settings = self.settings.clone();
        settings.database_url = Some(url.to_string());
        settings.database_url_origin = origin.to_string();
        settings.overridden = None;
        Context {
            settings,
            migrations_dir: self.migrations_dir.clone(),
            json: self.json,
        }
    }

    pub fn project(&self) -> anyhow::Result<Project> {
        Project::load(&self.migrations_dir)
    }

    /// The revisions' graph for a command that runs no wasm (see `Project::load_metadata`).
    /// Kept until the process exits, which frees it at once: freeing a thousand revisions'
    /// maps one by one was 5% of `heads` (callgrind, BENCHMARKS.md session 14).
    pub fn project_metadata(&self) -> anyhow::Result<&'static Project> {
        Ok(Box::leak(Box::new(Project::load_metadata(
            &self.migrations_dir,
        )?)))
    }

    /// `project_metadata`, read on a thread of its own while `query` waits on a database
    /// server: at a thousand revisions each took about as long as the other (`current` through
    /// a connection, BENCHMARKS.md session 15). Not for work on this machine's processors,
    /// such as reading a SQLite file: beside this thread it ran no sooner (session 16). A
    /// project that cannot be read is the error reported, as when it was read first.
    pub async fn project_metadata_beside<T>(
        &self,
        query: impl std::future::Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<(&'static Project, T)> {
        let dir = self.migrations_dir.clone();
        let reading = std::thread::Builder::new()
            .name("metadata".into())
            .spawn(move || Project::load_metadata(&dir))
            .map_err(|e| anyhow::anyhow!("starting a thread to read the revisions: {e}"))?;
        let answer = query.await;
        let project = match reading.join() {
            Ok(project) => project?,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        Ok((Box::leak(Box::new(project)), answer?))
    }
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    crate::output::set_quiet(args.quiet);
    crate::output::set_verbose(args.verbose);
    crate::output::set_colour(args.color);
    // Needs no settings: it works anywhere, before any project exists.
    if let Command::Completions { shell } = args.command {
        use clap::CommandFactory;
        let mut command = Args::command();
        clap_complete::generate(shell, &mut command, "migrate", &mut std::io::stdout());
        return Ok(ExitCode::SUCCESS);
    }
    let env = settings::Environment::load()?;
    let flags = settings::Flags {
        settings: args.settings.as_deref(),
        database_url: args.database_url.as_deref(),
    };
    let settings = settings::load(flags, &env)?;
    let migrations_dir = args
        .migrations
        .or_else(|| settings.migrations.clone())
        .unwrap_or_else(|| Path::new("migrations").to_path_buf());
    let ctx = Context {
        settings,
        migrations_dir,
        json: args.json,
    };
    let speaks_json = matches!(
        args.command,
        Command::Current(_)
            | Command::Status(_)
            | Command::Heads
            | Command::History(_)
            | Command::Show(_)
            | Command::Check(_)
            | Command::Upgrade(_)
            | Command::Downgrade(_)
    ) || matches!(&args.command, Command::Stamp(Deferred(a)) if a.is_fleet());
    if ctx.json && !speaks_json {
        anyhow::bail!(
            "--json is for current, status, heads, history, show, check, upgrade, downgrade and stamp --fleet"
        );
    }
    let outcome = dispatch(&ctx, args.command).await;
    // A Galera lease that an error left held is given back now, not when it expires.
    crate::db::give_back_abandoned_leases().await;
    outcome
}

async fn dispatch(ctx: &Context, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Init(Deferred(a)) => init::run(ctx, a),
        Command::New(Deferred(a)) => new::run(ctx, a).await,
        Command::Build(Deferred(a)) => build::run(ctx, a),
        Command::Merge(Deferred(a)) => merge::run(ctx, a),
        Command::Rebase(Deferred(a)) => rebase::run(ctx, a).await,
        Command::Upgrade(Deferred(a)) => return migrate::upgrade(ctx, a).await,
        Command::Downgrade(Deferred(a)) => return migrate::downgrade(ctx, a).await,
        Command::Current(Deferred(a)) => return status::current(ctx, a).await,
        Command::Status(Deferred(a)) => return status::status(ctx, a).await,
        Command::History(Deferred(a)) => inspect::history(ctx, a).await,
        Command::Heads => inspect::heads(ctx),
        Command::Show(Deferred(a)) => inspect::show(ctx, a),
        Command::Stamp(Deferred(a)) => return stamp::stamp(ctx, a).await,
        Command::Accept(Deferred(a)) => stamp::accept(ctx, a).await,
        Command::Resolve(Deferred(a)) => resolve::run(ctx, a).await,
        Command::Check(Deferred(a)) => return Ok(check::run(ctx, a).await),
        Command::Completions { .. } => unreachable!("answered before the settings are read"),
    }?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) use migrate::steps_from;

/// A connection for a command that changes the version table: the run lock taken, the version
/// tables there, and no step left half-done by an earlier failure on a non-transactional database.
pub async fn open_for_change(ctx: &Context) -> anyhow::Result<Database> {
    open_for_change_continuing(ctx, false).await
}

/// `open_for_change`; with `continue_interrupted`, a step left half-done whose diagnosis is
/// certain is finished first (`upgrade --continue-interrupted`), as `resolve --continue` would.
pub async fn open_for_change_continuing(
    ctx: &Context,
    continue_interrupted: bool,
) -> anyhow::Result<Database> {
    let mut db = connect(ctx, Access::ReadWrite).await?;
    db.lock(&ctx.settings.lock).await?;
    db.ensure_version_table().await?;
    if let Some(step) = db.incomplete().await?.into_iter().next() {
        let project = ctx.project()?;
        // Diagnosed once: finished when asked and certain, else said.
        let diagnosed = status::diagnose(ctx, &project, &mut db, &step).await;
        if let (true, Ok(recovery)) = (continue_interrupted, &diagnosed) {
            if let migrate_core::step_progress::Diagnosis::Stopped { done } = recovery.diagnosis {
                recovery.finish(&mut db, done).await?;
                say!(
                    "Finished the interrupted {} of {} ({}): the database is at {}",
                    step.direction,
                    step.revision,
                    crate::recovery::stopped_at(done, recovery.script.body.len()),
                    migrate::describe_heads(&recovery.heads_after)
                );
                return Ok(db);
            }
        }
        let report = status::report(&step, &diagnosed);
        anyhow::bail!("the database is partly migrated:\n{report}");
    }
    Ok(db)
}

/// Opens the configured database, first saying on stderr which one and why (password masked).
/// A read-only command creates nothing: a SQLite file that does not exist is an error.
pub async fn connect(ctx: &Context, access: Access) -> anyhow::Result<Database> {
    let url = announce_database(ctx)?;
    Database::connect(
        url,
        &ctx.settings.database_url_origin,
        access,
        ctx.settings.version_tables.clone(),
    )
    .await
}

/// The database's heads, for a command that only looks: read directly where the database
/// allows it (`db::directly_readable`), else through a connection.
pub async fn read_heads(ctx: &Context) -> anyhow::Result<Vec<String>> {
    let url = ctx.settings.require_database_url()?;
    let Some(file) = crate::db::directly_readable(url) else {
        return connect(ctx, Access::ReadOnly).await?.heads().await;
    };
    announce_database(ctx)?;
    let (origin, tables) = (
        &ctx.settings.database_url_origin,
        &ctx.settings.version_tables,
    );
    crate::db::read_sqlite_heads(&file, url, origin, tables)
}

/// Whether `read_heads` reads the database without a connection.
pub fn reads_heads_directly(ctx: &Context) -> bool {
    let url = ctx.settings.database_url.as_deref();
    url.and_then(crate::db::directly_readable).is_some()
}

/// Says which database a command works on (on stderr, unless quiet), and returns its URL.
fn announce_database(ctx: &Context) -> anyhow::Result<&str> {
    let url = ctx.settings.require_database_url()?;
    if let Some(line) = ctx.settings.describe_database() {
        crate::output::progress!("{line}");
    }
    if let Some(note) = ctx.settings.overridden_note() {
        eprintln!("  {note}");
    }
    Ok(url)
}

/// The target offline commands record ops for: `--dialect` (sqlite, postgresql, mysql or
/// mariadb), else the configured URL's dialect, else SQLite. No server version offline.
pub fn offline_target(ctx: &Context, flag: Option<&str>) -> anyhow::Result<Target> {
    let flavor = match (flag, &ctx.settings.database_url) {
        (Some(text), _) => Flavor::parse(text).ok_or_else(|| {
            anyhow::anyhow!("--dialect {text:?}: use sqlite, postgresql, mysql or mariadb")
        })?,
        (None, Some(url)) => {
            let name = migrate_core::sql::DialectName::from_url(url).ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: {url:?} is not a database URL this tool knows",
                    ctx.settings.database_url_origin
                )
            })?;
            Flavor::of(name)
        }
        (None, None) => Flavor::Sqlite,
    };
    Ok(Target::offline(flavor))
}

/// The guest runtime with the caches in `$MIGRATE_CACHE_DIR`, else `<migrations>/.cache`.
pub fn runtime(ctx: &Context) -> crate::wasm::GuestRuntime {
    let dir = Project::cache_dir(&ctx.migrations_dir);
    let shipped = crate::wasm::shipped::ShippedOps::in_build_dir(
        &Project::build_dir(&ctx.migrations_dir),
        ctx.settings.limits,
    );
    crate::wasm::GuestRuntime::new(
        ctx.settings.limits,
        crate::wasm::cache::Cache::new(dir).with_shipped(shipped),
        ctx.settings.sandbox.clone(),
        ctx.settings.naming_convention.clone(),
    )
}
