//! Settings: `--settings FILE`, else the file named by `$SETTINGS`, else `./migrate.toml` if it
//! exists. `$DATABASE_URL` overrides the file's `database_url`. Paths in a file (the migrations
//! folder, a SQLite database) are relative to the file's own folder.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

use crate::db::LockSettings;
use crate::wasm::Limits;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsFile {
    database_url: Option<String>,
    migrations: Option<PathBuf>,
    /// The declarative model (`schema.sql`) that `check` and `new --autogenerate` compare with.
    model: Option<PathBuf>,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    lock: LockSettings,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: Option<String>,
    /// Where `database_url` came from, for error messages.
    pub database_url_origin: String,
    pub migrations: Option<PathBuf>,
    /// `model` in the file, else `schema.sql` beside the file, else ./schema.sql.
    pub model: PathBuf,
    pub limits: Limits,
    pub lock: LockSettings,
}

/// Which settings file to read: the flag, then `$SETTINGS`, then `./migrate.toml` if present.
fn choose_file(flag: Option<&Path>) -> Option<(PathBuf, bool)> {
    if let Some(path) = flag {
        return Some((path.to_path_buf(), true));
    }
    if let Some(path) = std::env::var_os("SETTINGS").filter(|s| !s.is_empty()) {
        return Some((PathBuf::from(path), true));
    }
    let default = PathBuf::from("migrate.toml");
    default.exists().then_some((default, false))
}

pub fn load(flag: Option<&Path>) -> anyhow::Result<Settings> {
    let mut settings = Settings {
        database_url: None,
        database_url_origin: String::new(),
        migrations: None,
        model: PathBuf::from("schema.sql"),
        limits: Limits::default(),
        lock: LockSettings::default(),
    };
    if let Some((path, _named)) = choose_file(flag) {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the settings file {}", path.display()))?;
        let file: SettingsFile = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("settings file {}: {e}", path.display()))?;
        let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
        settings.database_url = file
            .database_url
            .map(|url| relative_sqlite_url(&url, &folder));
        settings.database_url_origin = format!("`database_url` in {}", path.display());
        settings.migrations = file.migrations.map(|m| folder.join(m));
        settings.model = folder.join(file.model.unwrap_or_else(|| PathBuf::from("schema.sql")));
        settings.limits = file.limits;
        settings.lock = file.lock;
        validate_limits(&settings.limits, &path)?;
    }
    if let Some(url) = std::env::var("DATABASE_URL").ok().filter(|s| !s.is_empty()) {
        settings.database_url = Some(url);
        settings.database_url_origin = "$DATABASE_URL".into();
    }
    Ok(settings)
}

fn validate_limits(limits: &Limits, path: &Path) -> anyhow::Result<()> {
    if limits.fuel == 0 || limits.memory_mib == 0 || limits.max_ops == 0 || limits.timeout_ms == 0 {
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
                "no database configured: give --settings FILE, set SETTINGS=FILE, create ./migrate.toml \
                 with `database_url = \"sqlite://app.db\"`, or set DATABASE_URL"
            )
        })
    }
}
