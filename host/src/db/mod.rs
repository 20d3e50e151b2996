//! The database edge: connect by URL, read and write the version table, run a step's script.
//! One backend module per database; this module only dispatches.

mod sqlite;

use std::collections::BTreeMap;

use anyhow::bail;
use migrate_core::sql::{Dialect, DialectName, StepScript};

/// A failed statement, named with its SQL so the user sees exactly what the database refused.
#[derive(Debug, thiserror::Error)]
#[error("the database refused this statement:\n    {sql}\n  {message}")]
pub struct StatementFailed {
    pub sql: String,
    pub message: String,
}

pub struct HistoryRow {
    pub revision: String,
    pub direction: String,
    pub checksum: String,
    pub applied_at: String,
}

pub enum Database {
    Sqlite(sqlite::SqliteDatabase),
}

impl Database {
    pub async fn connect(url: &str, origin: &str) -> anyhow::Result<Database> {
        match DialectName::from_url(url) {
            Some(DialectName::Sqlite) => Ok(Database::Sqlite(sqlite::SqliteDatabase::connect(url).await?)),
            Some(other) => bail!("{origin}: {other:?} is not supported yet; SQLite is (sqlite://path/to.db)"),
            None => bail!(
                "{origin}: {url:?} is not a database URL this tool knows (sqlite://path/to.db, postgres://…, mysql://…)"
            ),
        }
    }

    pub fn dialect(&self) -> &'static dyn Dialect {
        match self {
            Database::Sqlite(_) => &migrate_core::sql::sqlite::Sqlite,
        }
    }

    /// Creates the version tables if they are missing.
    pub async fn ensure_version_table(&mut self) -> anyhow::Result<()> {
        match self {
            Database::Sqlite(db) => db.ensure_version_table().await,
        }
    }

    /// The current heads; empty when the version table does not exist yet.
    pub async fn heads(&mut self) -> anyhow::Result<Vec<String>> {
        match self {
            Database::Sqlite(db) => db.heads().await,
        }
    }

    pub async fn recorded_checksums(&mut self) -> anyhow::Result<BTreeMap<String, String>> {
        match self {
            Database::Sqlite(db) => db.recorded_checksums().await,
        }
    }

    pub async fn history(&mut self) -> anyhow::Result<Vec<HistoryRow>> {
        match self {
            Database::Sqlite(db) => db.history().await,
        }
    }

    /// Runs a step's script: statements before, the transaction, statements after. A failure
    /// inside the transaction rolls it back.
    pub async fn run_script(&mut self, script: &StepScript) -> Result<(), StatementFailed> {
        match self {
            Database::Sqlite(db) => db.run_script(script).await,
        }
    }
}
