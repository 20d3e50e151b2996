//! Which databases a fleet is: the `[fleet]` table of the settings, listed and discovered.
//!
//! ```toml
//! [fleet]
//! databases = ["sqlite://tenants/a.db", "postgres://db1/app_eu"]   # listed, in this order
//! jobs = 4                                                          # default for --jobs
//!
//! [[fleet.schemas]]                     # discovered: each matching schema is a target
//! database_url = "postgres://db1/app"
//! like = "tenant_%"                     # a SQL LIKE pattern over schema names
//!
//! [[fleet.find_databases]]              # each matching database on a server is a target
//! server_url = "mysql://root@db2/"      # (PostgreSQL too: postgres://…/postgres)
//! like = "tenant_%"
//!
//! [[fleet.files]]                       # each SQLite file matching a pattern is a target
//! pattern = "tenants/*.db"              # `*` and `?` in the file name; relative to the settings
//! ```
//!
//! A schema target is the database URL with the schema as the session's `search_path`, so
//! migrate's version tables, its lock and everything it reads and writes are the schema's own.

use anyhow::{anyhow, bail, Context as _};
use serde::Deserialize;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetSettings {
    /// Database URLs, each one target.
    #[serde(default)]
    pub databases: Vec<String>,
    /// PostgreSQL schemas found by pattern at each run.
    #[serde(default)]
    pub schemas: Vec<SchemaDiscovery>,
    /// Databases on a PostgreSQL or MySQL/MariaDB server found by pattern at each run.
    #[serde(default)]
    pub find_databases: Vec<DatabaseDiscovery>,
    /// SQLite files found by a file-name pattern at each run.
    #[serde(default)]
    pub files: Vec<FileDiscovery>,
    /// How many targets at once when `--jobs` is not given.
    pub jobs: Option<usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaDiscovery {
    pub database_url: String,
    /// A SQL LIKE pattern (`%` any run, `_` one character) over the schema names.
    pub like: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseDiscovery {
    /// A URL of the server (any database on it the user may connect to).
    pub server_url: String,
    /// A SQL LIKE pattern over database names.
    pub like: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDiscovery {
    /// A path whose file name may hold `*` (any run) and `?` (one character).
    pub pattern: String,
}

impl FleetSettings {
    /// The same settings with each SQLite URL and file pattern anchored by `anchor` (relative
    /// to the settings file).
    pub fn anchored(self, anchor: impl Fn(&str) -> String) -> FleetSettings {
        let files = self
            .files
            .iter()
            .map(|f| FileDiscovery {
                pattern: anchor(&format!("sqlite://{}", f.pattern))
                    .trim_start_matches("sqlite://")
                    .to_string(),
            })
            .collect();
        FleetSettings {
            databases: self.databases.iter().map(|u| anchor(u)).collect(),
            files,
            ..self
        }
    }

    pub fn is_empty(&self) -> bool {
        self.databases.is_empty()
            && self.schemas.is_empty()
            && self.find_databases.is_empty()
            && self.files.is_empty()
    }
}

/// One database (or schema) of the fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetTarget {
    /// What the reports call it: the URL with its password masked, or `URL schema NAME`.
    pub name: String,
    /// What to connect to.
    pub url: String,
}

/// The fleet's targets: the listed databases in order, then each discovery's schemas sorted by
/// name. A target named twice is kept once (two runners on one database would only wait for
/// each other's lock).
pub async fn resolve(settings: &FleetSettings, origin: &str) -> anyhow::Result<Vec<FleetTarget>> {
    if settings.is_empty() {
        bail!(
            "--fleet needs a [fleet] table in the settings ({origin}): \
             `databases = [\"sqlite://a.db\", \"postgres://…\"]` and/or \
             `[[fleet.schemas]] database_url = \"postgres://…\"  like = \"tenant_%\"`, \
             `[[fleet.find_databases]] server_url = \"mysql://…/\"  like = \"tenant_%\"`, \
             `[[fleet.files]] pattern = \"tenants/*.db\"`"
        );
    }
    let mut targets: Vec<FleetTarget> = settings
        .databases
        .iter()
        .map(|url| FleetTarget {
            name: crate::db::redact(url),
            url: url.clone(),
        })
        .collect();
    for discovery in &settings.schemas {
        for schema in discover_schemas(discovery).await? {
            targets.push(FleetTarget {
                name: format!(
                    "{} schema {schema}",
                    crate::db::redact(&discovery.database_url)
                ),
                url: with_search_path(&discovery.database_url, &schema),
            });
        }
    }
    for discovery in &settings.find_databases {
        for url in discover_databases(discovery).await? {
            targets.push(FleetTarget {
                name: crate::db::redact(&url),
                url,
            });
        }
    }
    for discovery in &settings.files {
        for path in matching_files(&discovery.pattern)? {
            let url = format!("sqlite://{}", path.display());
            targets.push(FleetTarget {
                name: url.clone(),
                url,
            });
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    targets.retain(|t| seen.insert(t.url.clone()));
    if targets.is_empty() {
        bail!("the fleet in {origin} has no targets: nothing matched its patterns");
    }
    Ok(targets)
}

async fn discover_schemas(discovery: &SchemaDiscovery) -> anyhow::Result<Vec<String>> {
    use sqlx::{Connection as _, Row as _};
    let url = &discovery.database_url;
    if migrate_core::sql::DialectName::from_url(url)
        != Some(migrate_core::sql::DialectName::Postgresql)
    {
        bail!(
            "[[fleet.schemas]] finds PostgreSQL schemas; {} is not a postgres:// URL",
            crate::db::redact(url)
        );
    }
    let mut conn = sqlx::PgConnection::connect(url).await.map_err(|e| {
        anyhow!(
            "[[fleet.schemas]]: cannot connect to {}: {e}",
            crate::db::redact(url)
        )
    })?;
    let rows = sqlx::query(
        "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE $1 ORDER BY nspname",
    )
    .bind(&discovery.like)
    .fetch_all(&mut conn)
    .await
    .with_context(|| {
        format!(
            "[[fleet.schemas]]: listing the schemas like {:?}",
            discovery.like
        )
    })?;
    let _ = conn.close().await;
    rows.iter()
        .map(|row| row.try_get::<String, _>(0).map_err(Into::into))
        .collect()
}

/// The databases on a server whose names are LIKE the pattern, as URLs (the server URL with
/// the database in place of its path).
async fn discover_databases(discovery: &DatabaseDiscovery) -> anyhow::Result<Vec<String>> {
    use migrate_core::sql::DialectName;
    use sqlx::{Connection as _, Row as _};
    let url = &discovery.server_url;
    let shown = crate::db::redact(url);
    let cannot = |e: sqlx::Error| {
        anyhow!("[[fleet.find_databases]]: cannot read the databases of {shown}: {e}")
    };
    let names: Vec<String> = match DialectName::from_url(url) {
        Some(DialectName::Postgresql) => {
            let mut conn = sqlx::PgConnection::connect(url).await.map_err(cannot)?;
            let rows = sqlx::query(
                "SELECT datname::text FROM pg_database \
                 WHERE datname LIKE $1 AND NOT datistemplate ORDER BY 1",
            )
            .bind(&discovery.like)
            .fetch_all(&mut conn)
            .await
            .map_err(cannot)?;
            rows.iter().map(|r| r.try_get::<String, _>(0)).collect::<Result<_, _>>().map_err(cannot)?
        }
        Some(DialectName::Mysql) => {
            let mut conn = sqlx::MySqlConnection::connect(url).await.map_err(cannot)?;
            let rows = sqlx::query(
                "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata \
                 WHERE schema_name LIKE ? ORDER BY 1",
            )
            .bind(&discovery.like)
            .fetch_all(&mut conn)
            .await
            .map_err(cannot)?;
            rows.iter().map(|r| r.try_get::<String, _>(0)).collect::<Result<_, _>>().map_err(cannot)?
        }
        _ => bail!("[[fleet.find_databases]] finds databases on a PostgreSQL or MySQL/MariaDB server; {shown} is neither"),
    };
    Ok(names.iter().map(|name| with_database(url, name)).collect())
}

/// `scheme://user@host:port/old?query` with `name` as the database.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    let encoded = percent_encode(name);
    match query {
        Some(query) => format!("{server}/{encoded}?{query}"),
        None => format!("{server}/{encoded}"),
    }
}

/// The files matching `pattern` (`*` and `?` in its last component), sorted.
fn matching_files(pattern: &str) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let path = std::path::Path::new(pattern);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    if folder.to_string_lossy().contains(['*', '?']) {
        bail!("[[fleet.files]] pattern {pattern:?}: `*` and `?` are for the file name, not its folders");
    }
    let entries = std::fs::read_dir(&folder).with_context(|| {
        format!(
            "[[fleet.files]] pattern {pattern:?}: reading {}",
            folder.display()
        )
    })?;
    let mut found = vec![];
    for entry in entries {
        let entry = entry?;
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_file() && wildcard_match(&name, &file_name) {
            found.push(folder.join(file_name));
        }
    }
    found.sort();
    Ok(found)
}

/// Whether `text` matches `pattern`, where `*` is any run of characters and `?` one.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // matches[j]: whether pattern[..i] matches text[..j], row by row over i.
    let mut matches = vec![false; t.len() + 1];
    matches[0] = true;
    for &pc in &p {
        let mut next = vec![false; t.len() + 1];
        next[0] = matches[0] && pc == '*';
        for j in 1..=t.len() {
            next[j] = match pc {
                '*' => next[j - 1] || matches[j],
                '?' => matches[j - 1],
                c => matches[j - 1] && t[j - 1] == c,
            };
        }
        matches = next;
    }
    matches[t.len()]
}

/// The URL with `search_path` set to `schema` for the session (libpq's `options`, which sqlx
/// reads as `options[search_path]=…`).
pub fn with_search_path(url: &str, schema: &str) -> String {
    let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
    let separator = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{separator}options[search_path]={}",
        percent_encode(&quoted)
    )
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_patterns_and_database_urls() {
        assert!(wildcard_match("*.db", "a.db"));
        assert!(wildcard_match("t?_*.db", "t1_x.db"));
        assert!(!wildcard_match("*.db", "a.db-journal"));
        assert!(!wildcard_match("t?.db", "t10.db"));
        assert!(wildcard_match("*", ""));
        assert_eq!(
            with_database("mysql://root@h:3306/", "tenant_a"),
            "mysql://root@h:3306/tenant_a"
        );
        assert_eq!(
            with_database("postgres://u@h/postgres?sslmode=disable", "t b"),
            "postgres://u@h/t%20b?sslmode=disable"
        );
        assert_eq!(with_database("mysql://h", "x"), "mysql://h/x");
    }

    #[test]
    fn a_schema_becomes_the_sessions_search_path() {
        assert_eq!(
            with_search_path("postgres://h/app", "tenant_1"),
            "postgres://h/app?options[search_path]=%22tenant_1%22"
        );
        assert_eq!(
            with_search_path("postgres://h/app?sslmode=disable", "Odd \"x\""),
            "postgres://h/app?sslmode=disable&options[search_path]=%22Odd%20%22%22x%22%22%22"
        );
    }
}
