//! Settings, and above all which database a command acts on. The database named most
//! deliberately wins (`migrate --help` and the README list the same order):
//!
//! 1. `--database-url URL`
//! 2. `database_url` in the settings file named by `--settings FILE`
//! 3. `database_url` in the settings file named by `$SETTINGS` (environment, else `.env`)
//! 4. `$DATABASE_URL` in the environment
//! 5. `DATABASE_URL` in a `.env` file (this folder or one above it, as sqlx-cli reads it)
//! 6. `database_url` in `./migrate.toml`
//!
//! A settings file someone named (2, 3) beats a `DATABASE_URL` that merely sits in the shell, so
//! `DATABASE_URL=dev migrate --settings prod.toml downgrade base` acts on prod, as asked; when the
//! two differ the command says which one it uses. A named file without `database_url` takes it
//! from the environment (secrets kept out of files). Paths in a file (the migrations folder, a
//! SQLite database) are relative to the file's own folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

use crate::db::LockSettings;
use crate::sandbox::SandboxSettings;
use crate::wasm::Limits;
use migrate_core::naming::NamingConvention;
use migrate_core::sql::version_table::VersionTables;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsFile {
    database_url: Option<String>,
    migrations: Option<PathBuf>,
    /// The declarative model (`schema.sql`) that `check` and `new --autogenerate` compare with.
    model: Option<PathBuf>,
    /// The heads table's name (Alembic's `version_table`); the other tables follow it.
    version_table: Option<String>,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    lock: LockSettings,
    #[serde(default)]
    sandbox: SandboxSettings,
    /// Names for constraints revisions leave unnamed (SQLAlchemy's `naming_convention`).
    #[serde(default)]
    naming_convention: NamingConvention,
    /// `upgrade`/`downgrade` finish a step an earlier run left half-done when its diagnosis is
    /// certain (as `--continue-interrupted`).
    #[serde(default)]
    continue_interrupted: bool,
    /// Alembic's `transaction_per_migration`: false runs a whole upgrade or downgrade as one
    /// transaction (where DDL is transactional).
    transaction_per_migration: Option<bool>,
    /// The databases `--fleet` acts on.
    #[serde(default)]
    fleet: crate::fleet::targets::FleetSettings,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: Option<String>,
    /// Where `database_url` came from, for messages ("--settings prod.toml", "$DATABASE_URL").
    pub database_url_origin: String,
    /// A URL that lost to `database_url` (its origin and the URL), to say so when connecting.
    pub overridden: Option<(String, String)>,
    pub migrations: Option<PathBuf>,
    /// `model` in the file, else `schema.sql` beside the file, else ./schema.sql.
    pub model: PathBuf,
    pub limits: Limits,
    pub lock: LockSettings,
    /// The names of migrate's own tables.
    pub version_tables: VersionTables,
    pub sandbox: SandboxSettings,
    pub naming_convention: NamingConvention,
    /// Finish a half-done step whose diagnosis is certain before moving on (MySQL).
    pub continue_interrupted: bool,
    /// One transaction per revision (true, the default), or one for the whole run.
    pub transaction_per_migration: bool,
    /// `[fleet]`: the databases and discoveries `--fleet` acts on (SQLite paths anchored).
    pub fleet: crate::fleet::targets::FleetSettings,
    /// The settings file read, if any.
    pub settings_file: Option<PathBuf>,
}

/// What the command line says about settings.
#[derive(Debug, Default, Clone, Copy)]
pub struct Flags<'a> {
    pub settings: Option<&'a Path>,
    pub database_url: Option<&'a str>,
}

/// The process environment with a `.env` file's values beneath it: a variable set in the real
/// environment always wins over the same name in `.env`, as with sqlx-cli (dotenvy).
pub struct Environment {
    dotenv: BTreeMap<String, String>,
    dotenv_path: Option<PathBuf>,
}

impl Environment {
    /// Reads `.env` from the working folder or the nearest folder above it, if there is one.
    pub fn load() -> anyhow::Result<Environment> {
        let Some(path) = find_dotenv() else {
            return Ok(Environment {
                dotenv: BTreeMap::new(),
                dotenv_path: None,
            });
        };
        let mut dotenv = BTreeMap::new();
        let entries = dotenvy::from_path_iter(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        for entry in entries {
            let (name, value) = entry.map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            dotenv.insert(name, value);
        }
        Ok(Environment {
            dotenv,
            dotenv_path: Some(path),
        })
    }

    /// A variable's value and where it came from; empty values count as unset.
    fn get(&self, name: &str) -> Option<(String, String)> {
        if let Some(value) = std::env::var(name).ok().filter(|v| !v.is_empty()) {
            return Some((value, format!("${name}")));
        }
        let value = self.dotenv.get(name).filter(|v| !v.is_empty())?;
        let path = self.dotenv_path.as_deref().unwrap_or(Path::new(".env"));
        Some((value.clone(), format!("{name} in {}", path.display())))
    }
}

/// The search dotenvy's `dotenv()` makes (the working folder, then each folder above it),
/// done here because its iterator does not say which file it found.
fn find_dotenv() -> Option<PathBuf> {
    let mut dir = std::env::current_dir().ok()?;
    loop {
        let candidate = dir.join(".env");
        if candidate.is_file() {
            return Some(candidate);
        }
        if !dir.pop() {
            return None;
        }
    }
}

/// Which settings file to read and how it was chosen: the flag, then `$SETTINGS` (environment,
/// then `.env`), then `./migrate.toml` if present. `None` for the origin means the default file.
fn choose_file(flag: Option<&Path>, env: &Environment) -> Option<(PathBuf, Option<String>)> {
    if let Some(path) = flag {
        return Some((
            path.to_path_buf(),
            Some(format!("--settings {}", path.display())),
        ));
    }
    if let Some((path, origin)) = env.get("SETTINGS") {
        let how = format!("{origin} = {path}");
        return Some((PathBuf::from(path), Some(how)));
    }
    let default = PathBuf::from("migrate.toml");
    default.exists().then_some((default, None))
}

pub fn load(flags: Flags, env: &Environment) -> anyhow::Result<Settings> {
    let mut settings = Settings {
        database_url: None,
        database_url_origin: String::new(),
        overridden: None,
        migrations: None,
        model: PathBuf::from("schema.sql"),
        limits: Limits::default(),
        lock: LockSettings::default(),
        version_tables: VersionTables::default(),
        sandbox: SandboxSettings::default(),
        naming_convention: NamingConvention::default(),
        continue_interrupted: false,
        fleet: Default::default(),
        settings_file: None,
        transaction_per_migration: true,
    };
    // Candidates for the URL, most deliberate first; the first one present is used.
    let mut candidates: Vec<(String, String)> = Vec::new();
    if let Some(url) = flags.database_url {
        candidates.push((url.to_string(), "--database-url".into()));
    }
    let mut default_file_url = None;
    if let Some((path, named_by)) = choose_file(flags.settings, env) {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the settings file {}", path.display()))?;
        let file: SettingsFile = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("settings file {}: {e}", path.display()))?;
        let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let url = file
            .database_url
            .map(|url| relative_sqlite_url(&url, &folder));
        let origin = match &named_by {
            Some(how) => format!("`database_url` in {} ({how})", path.display()),
            None => format!("`database_url` in {}", path.display()),
        };
        match (url, named_by) {
            (Some(url), Some(_)) => candidates.push((url, origin)),
            (Some(url), None) => default_file_url = Some((url, origin)),
            (None, _) => {}
        }
        settings.migrations = file.migrations.map(|m| folder.join(m));
        settings.model = folder.join(file.model.unwrap_or_else(|| PathBuf::from("schema.sql")));
        settings.limits = file.limits;
        settings.lock = file.lock;
        settings.sandbox = file.sandbox;
        file.naming_convention
            .validate()
            .map_err(|e| anyhow::anyhow!("settings file {}: {e}", path.display()))?;
        settings.naming_convention = file.naming_convention;
        settings.continue_interrupted = file.continue_interrupted;
        settings.settings_file = Some(path.clone());
        settings.transaction_per_migration = file.transaction_per_migration.unwrap_or(true);
        settings.fleet = file.fleet.anchored(|url| relative_sqlite_url(url, &folder));
        validate_limits(&settings.limits, &path)?;
        if let Some(name) = file.version_table {
            if name.is_empty() || name.len() > 50 || name.chars().any(|c| c.is_control()) {
                bail!(
                    "settings file {}: version_table {name:?} must be 1 to 50 characters, none a control character",
                    path.display()
                );
            }
            settings.version_tables = VersionTables::named(&name);
        }
    }
    // The environment's DATABASE_URL (real, then .env) comes after a named file.
    candidates.extend(env.get("DATABASE_URL"));
    candidates.extend(default_file_url);
    let mut candidates = candidates.into_iter();
    if let Some((url, origin)) = candidates.next() {
        settings.overridden = candidates
            .find(|(other, _)| *other != url)
            .map(|(u, o)| (o, u));
        settings.database_url = Some(url);
        settings.database_url_origin = origin;
    }
    Ok(settings)
}

fn validate_limits(limits: &Limits, path: &Path) -> anyhow::Result<()> {
    if limits.fuel == 0
        || limits.memory_mib == 0
        || limits.max_ops == 0
        || limits.ops_mib == 0
        || limits.sql_mib == 0
        || limits.timeout_ms == 0
    {
        bail!(
            "settings file {}: every value in [limits] must be above zero",
            path.display()
        );
    }
    Ok(())
}

/// `sqlite://dev.db` in `config/dev.toml` means `config/dev.db`: anchor relative SQLite paths
/// to the settings file so that the command works from any folder.
fn relative_sqlite_url(url: &str, folder: &Path) -> String {
    let Some(rest) = url.strip_prefix("sqlite://") else {
        return url.to_string();
    };
    let (path, query) = rest
        .split_once('?')
        .map_or((rest, None), |(p, q)| (p, Some(q)));
    if path.is_empty()
        || path.starts_with('/')
        || path.starts_with(':')
        || folder.as_os_str().is_empty()
    {
        return url.to_string();
    }
    let joined = folder.join(path);
    match query {
        Some(q) => format!("sqlite://{}?{q}", joined.display()),
        None => format!("sqlite://{}", joined.display()),
    }
}

impl Settings {
    pub fn require_database_url(&self) -> anyhow::Result<&str> {
        self.database_url.as_deref().ok_or_else(|| {
            anyhow::anyhow!(
                "no database configured: give --database-url URL or --settings FILE, set SETTINGS=FILE, \
                 set DATABASE_URL (or put it in .env), or create ./migrate.toml with \
                 `database_url = \"sqlite://app.db\"`"
            )
        })
    }

    /// The line every command that opens the database prints first (stderr, password masked).
    pub fn describe_database(&self) -> Option<String> {
        let url = self.database_url.as_deref()?;
        Some(format!(
            "Database: {} (from {})",
            crate::db::redact(url),
            self.database_url_origin
        ))
    }

    /// When another source named a different database: which one lost (a warning worth
    /// printing even under `--quiet`).
    pub fn overridden_note(&self) -> Option<String> {
        let (origin, other) = self.overridden.as_ref()?;
        Some(format!(
            "note: {origin} names another database, {}, which is not used",
            crate::db::redact(other)
        ))
    }
}
