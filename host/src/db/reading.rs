//! The database side of a step whose revision reads rows (`crate::reading_step`): one open
//! transaction (where DDL is transactional) in which the revision's statements run as it goes,
//! and its reads are answered, read-only where the database can enforce it.
//!
//! These steps run on the sqlx connection, never on a SQLite file's direct one: the guest's
//! reads and the statements between them must share one transaction.

use futures_util::StreamExt;
use migrate_core::sql::{version_table, DialectName, Statement};
use migrate_core::types::Value;
use sqlx::any::{AnyRow, AnyTypeInfoKind};
use sqlx::{AssertSqlSafe, Column, Row, ValueRef};

use super::{execute, failed, run, Database, StatementFailed};
use crate::wasm::context::Rows;

/// The savepoint a PostgreSQL read runs in, made read-only and then rolled back to: the read
/// cannot write, and a read that fails leaves the step's transaction usable.
const READ_SAVEPOINT: &str = "migrate_read";

impl Database {
    /// Opens a reading step: on a database with transactional DDL, foreign-key enforcement off
    /// where the dialect needs it for table rebuilds (checked before commit) and BEGIN;
    /// elsewhere, the step's in-progress mark.
    pub async fn begin_reading_step(
        &mut self,
        revision: &str,
        direction: version_table::Direction,
    ) -> Result<(), StatementFailed> {
        if self.transactional() {
            for statement in self.dialect.foreign_keys_off().before {
                run(&mut self.conn, &statement).await?;
            }
            return execute(&mut self.conn, "BEGIN")
                .await
                .map_err(|e| failed("BEGIN", e));
        }
        let mark = version_table::mark_in_progress(self.dialect, &self.tables, revision, direction);
        run(&mut self.conn, &mark).await
    }

    /// One of the step's statements. Where DDL is not transactional, a failure is recorded on
    /// the step's mark, as `run_script` records it.
    pub async fn run_in_step(
        &mut self,
        statement: &Statement,
        revision: &str,
    ) -> Result<(), StatementFailed> {
        let outcome = run(&mut self.conn, statement).await;
        if let (Err(e), false) = (&outcome, self.transactional()) {
            let mark = version_table::mark_failed(
                self.dialect,
                &self.tables,
                revision,
                &e.sql,
                &e.message,
            );
            let _ = run(&mut self.conn, &mark).await;
        }
        outcome
    }

    /// Ends a reading step that went well: the foreign-key check, the bookkeeping, COMMIT.
    pub async fn commit_reading_step(
        &mut self,
        bookkeeping: &[Statement],
        revision: &str,
    ) -> Result<(), StatementFailed> {
        if !self.transactional() {
            let clear = version_table::clear_mark(self.dialect, &self.tables, revision);
            for statement in bookkeeping.iter().chain([&clear]) {
                self.run_in_step(statement, revision).await?;
            }
            return Ok(());
        }
        let guard = self.dialect.foreign_keys_off();
        for statement in guard.check.iter().chain(bookkeeping) {
            run(&mut self.conn, statement).await?;
        }
        execute(&mut self.conn, "COMMIT")
            .await
            .map_err(|e| failed("COMMIT", e))?;
        for statement in &guard.after {
            run(&mut self.conn, statement).await?;
        }
        Ok(())
    }

    /// Ends a reading step that failed: ROLLBACK where there is a transaction; elsewhere the
    /// step's mark says why it failed (a statement's failure is already on it).
    pub async fn abandon_reading_step(&mut self, revision: &str, error: &str) {
        if self.transactional() {
            let _ = execute(&mut self.conn, "ROLLBACK").await;
            for statement in self.dialect.foreign_keys_off().after {
                let _ = run(&mut self.conn, &statement).await;
            }
        } else if !error.contains("the database refused this statement") {
            let mark = version_table::mark_failed(self.dialect, &self.tables, revision, "", error);
            let _ = run(&mut self.conn, &mark).await;
        }
    }

    fn transactional(&self) -> bool {
        self.dialect.capabilities().transactional_ddl
    }

    /// Runs one read, read-only where the database can enforce it: at most `max_rows` rows;
    /// `over_limit` set (and fetching stopped) once more than `rows_left` rows or `bytes_left`
    /// bytes came. `Err` is the database's refusal, for the revision to see.
    pub async fn read(
        &mut self,
        sql: &str,
        max_rows: u32,
        rows_left: u64,
        bytes_left: u64,
    ) -> Result<Rows, String> {
        let (guard, unguard): (Vec<String>, Vec<String>) = match self.dialect.name() {
            DialectName::Postgresql => (
                vec![
                    format!("SAVEPOINT {READ_SAVEPOINT}"),
                    "SET LOCAL transaction_read_only = on".into(),
                ],
                vec![
                    format!("ROLLBACK TO SAVEPOINT {READ_SAVEPOINT}"),
                    format!("RELEASE SAVEPOINT {READ_SAVEPOINT}"),
                ],
            ),
            DialectName::Sqlite => (
                vec!["PRAGMA query_only = ON".into()],
                vec!["PRAGMA query_only = OFF".into()],
            ),
            // No per-statement read-only mode: the SELECT-only check is all there is.
            DialectName::Mysql => (vec![], vec![]),
        };
        for statement in &guard {
            execute(&mut self.conn, statement)
                .await
                .map_err(|e| format!("preparing the read: {e}"))?;
        }
        let outcome = self.fetch(sql, max_rows, rows_left, bytes_left).await;
        for statement in &unguard {
            execute(&mut self.conn, statement)
                .await
                .map_err(|e| format!("ending the read: {e}"))?;
        }
        outcome
    }

    async fn fetch(
        &mut self,
        sql: &str,
        max_rows: u32,
        rows_left: u64,
        bytes_left: u64,
    ) -> Result<Rows, String> {
        let mut rows = Rows::default();
        let mut stream = sqlx::raw_sql(AssertSqlSafe(sql.to_string())).fetch(&mut self.conn);
        while let Some(row) = stream.next().await {
            let row = row.map_err(|e| read_error(sql, e))?;
            if rows.columns.is_empty() {
                rows.columns = row.columns().iter().map(|c| c.name().to_string()).collect();
            }
            let values = values(&row).map_err(|e| format!("{e}\n  in: {sql}"))?;
            rows.bytes += values
                .iter()
                .map(|v| migrate_core::reads::value_bytes(v) as u64)
                .sum::<u64>();
            rows.rows.push(values);
            if rows.rows.len() as u64 > rows_left || rows.bytes > bytes_left {
                rows.over_limit = true;
                break;
            }
            if rows.rows.len() >= max_rows as usize {
                break;
            }
        }
        Ok(rows)
    }
}

fn read_error(sql: &str, e: sqlx::Error) -> String {
    let message = match &e {
        sqlx::Error::Database(db) => super::with_detail(db.as_ref()),
        other => other.to_string(),
    };
    let hint = if message.contains("does not support") {
        "\n  (read dates, times, numerics, JSON and UUIDs as text: CAST(column AS TEXT), or CHAR on MySQL)"
    } else {
        ""
    };
    format!("the database refused the read: {message}\n  in: {sql}{hint}")
}

/// A row's values as the `data` interface carries them.
fn values(row: &AnyRow) -> Result<Vec<Value>, String> {
    (0..row.len())
        .map(|i| {
            let raw = row.try_get_raw(i).map_err(|e| e.to_string())?;
            if raw.is_null() {
                return Ok(Value::Null);
            }
            let kind = raw.type_info().kind();
            let value = match kind {
                AnyTypeInfoKind::Null => Value::Null,
                AnyTypeInfoKind::Bool => Value::Boolean(row.try_get(i).map_err(|e| e.to_string())?),
                k if k.is_integer() => Value::Integer(row.try_get(i).map_err(|e| e.to_string())?),
                AnyTypeInfoKind::Real => {
                    Value::Float(row.try_get::<f32, _>(i).map_err(|e| e.to_string())? as f64)
                }
                AnyTypeInfoKind::Double => Value::Float(row.try_get(i).map_err(|e| e.to_string())?),
                AnyTypeInfoKind::Blob => Value::Blob(row.try_get(i).map_err(|e| e.to_string())?),
                _ => Value::Text(row.try_get(i).map_err(|e| e.to_string())?),
            };
            Ok(value)
        })
        .collect()
}
