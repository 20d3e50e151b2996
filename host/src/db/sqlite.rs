//! SQLite through sqlx. The file is created if missing. DDL is transactional, so each step's
//! script runs in one transaction with its version-table update.

use std::collections::BTreeMap;
use std::str::FromStr;

use anyhow::{anyhow, Context};
use migrate_core::sql::{sqlite::Sqlite, version_table, Expect, Statement, StepScript};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, Connection, Row};

use super::{HistoryRow, StatementFailed};

pub struct SqliteDatabase {
    conn: SqliteConnection,
}

impl SqliteDatabase {
    pub async fn connect(url: &str) -> anyhow::Result<SqliteDatabase> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| anyhow!("bad SQLite URL {url:?}: {e}"))?
            .create_if_missing(true)
            .foreign_keys(true);
        let conn = SqliteConnection::connect_with(&options)
            .await
            .map_err(|e| anyhow!("cannot open the SQLite database {url:?}: {e}"))?;
        Ok(SqliteDatabase { conn })
    }

    pub async fn ensure_version_table(&mut self) -> anyhow::Result<()> {
        for statement in version_table::ensure(&Sqlite) {
            sqlx::raw_sql(audited(&statement.sql))
                .execute(&mut self.conn)
                .await
                .context("creating the version table")?;
        }
        Ok(())
    }

    async fn version_table_exists(&mut self) -> anyhow::Result<bool> {
        let row =
            sqlx::query("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?")
                .bind(version_table::HEADS_TABLE)
                .fetch_one(&mut self.conn)
                .await
                .context("reading the catalog")?;
        Ok(row.get::<i64, _>(0) > 0)
    }

    pub async fn heads(&mut self) -> anyhow::Result<Vec<String>> {
        if !self.version_table_exists().await? {
            return Ok(vec![]);
        }
        let rows = sqlx::query(audited(&version_table::select_heads(&Sqlite)))
            .fetch_all(&mut self.conn)
            .await
            .context("reading the version table")?;
        Ok(rows.iter().map(|r| r.get::<String, _>(0)).collect())
    }

    pub async fn recorded_checksums(&mut self) -> anyhow::Result<BTreeMap<String, String>> {
        if !self.version_table_exists().await? {
            return Ok(BTreeMap::new());
        }
        let rows = sqlx::query(audited(&version_table::select_recorded_checksums(&Sqlite)))
            .fetch_all(&mut self.conn)
            .await
            .context("reading the version history")?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
            .collect())
    }

    pub async fn history(&mut self) -> anyhow::Result<Vec<HistoryRow>> {
        if !self.version_table_exists().await? {
            return Ok(vec![]);
        }
        let rows = sqlx::query(audited(&version_table::select_history(&Sqlite)))
            .fetch_all(&mut self.conn)
            .await
            .context("reading the version history")?;
        Ok(rows
            .iter()
            .map(|r| HistoryRow {
                revision: r.get(0),
                direction: r.get(1),
                checksum: r.get(2),
                applied_at: r.get(3),
            })
            .collect())
    }

    pub async fn run_script(&mut self, script: &StepScript) -> Result<(), StatementFailed> {
        for statement in &script.before {
            run(&mut self.conn, statement).await?;
        }
        let mut tx = self.conn.begin().await.map_err(|e| failed("BEGIN", e))?;
        for statement in &script.transaction {
            // Dropping `tx` on this early return rolls the transaction back.
            run(&mut tx, statement).await?;
        }
        tx.commit().await.map_err(|e| failed("COMMIT", e))?;
        for statement in &script.after {
            run(&mut self.conn, statement).await?;
        }
        Ok(())
    }
}

async fn run(conn: &mut SqliteConnection, statement: &Statement) -> Result<(), StatementFailed> {
    match &statement.expect {
        Expect::Nothing => {
            sqlx::raw_sql(audited(&statement.sql))
                .execute(&mut *conn)
                .await
                .map_err(|e| failed(&statement.sql, e))?;
        }
        Expect::NoRows(problem) => {
            let rows = sqlx::raw_sql(audited(&statement.sql))
                .fetch_all(&mut *conn)
                .await
                .map_err(|e| failed(&statement.sql, e))?;
            if !rows.is_empty() {
                let tables: Vec<String> = rows
                    .iter()
                    .filter_map(|r| r.try_get::<String, _>(0).ok())
                    .collect();
                return Err(StatementFailed {
                    sql: statement.sql.clone(),
                    message: format!("{problem} (in table(s): {})", tables.join(", ")),
                });
            }
        }
    }
    Ok(())
}

fn failed(sql: &str, e: sqlx::Error) -> StatementFailed {
    let message = match &e {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    };
    StatementFailed {
        sql: sql.to_string(),
        message,
    }
}

/// Every statement we run was rendered by the dialect, which quotes all identifiers and
/// literals; raw SQL comes only from a revision's `execute`, whose author meant it to run.
fn audited(sql: &str) -> AssertSqlSafe<String> {
    AssertSqlSafe(sql.to_string())
}
