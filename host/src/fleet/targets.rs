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

impl FleetSettings {
    /// The same settings with each SQLite URL anchored by `anchor` (relative to the file).
    pub fn anchored(self, anchor: impl Fn(&str) -> String) -> FleetSettings {
        FleetSettings {
            databases: self.databases.iter().map(|u| anchor(u)).collect(),
            ..self
        }
    }

    pub fn is_empty(&self) -> bool {
        self.databases.is_empty() && self.schemas.is_empty()
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
             `[[fleet.schemas]] database_url = \"postgres://…\"  like = \"tenant_%\"`"
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
                name: format!("{} schema {schema}", crate::db::redact(&discovery.database_url)),
                url: with_search_path(&discovery.database_url, &schema),
            });
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    targets.retain(|t| seen.insert(t.url.clone()));
    if targets.is_empty() {
        bail!("the fleet in {origin} has no targets: no schema matched its patterns");
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
    .with_context(|| format!("[[fleet.schemas]]: listing the schemas like {:?}", discovery.like))?;
    let _ = conn.close().await;
    rows.iter()
        .map(|row| row.try_get::<String, _>(0).map_err(Into::into))
        .collect()
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
