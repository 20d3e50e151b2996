//! The database side of a step whose revision reads rows (`crate::reading_step`): one open
//! transaction (where DDL is transactional) in which the revision's statements run as it goes,
//! and its reads are answered, read-only where the database can enforce it.
//!
//! These steps run on the sqlx connection, never on a SQLite file's direct one: the guest's
//! reads and the statements between them must share one transaction.

use futures_util::StreamExt;
use migrate_core::sql::{version_table, Statement};
use migrate_core::types::Value;
use sqlx::any::{AnyRow, AnyTypeInfoKind};
use sqlx::{AssertSqlSafe, Column, Row, ValueRef};

use super::{execute, failed, run, Database, StatementFailed};
use crate::wasm::context::Rows;

impl Database {
    /// Opens a reading step: on a database with transactional DDL, foreign-key enforcement off
    /// where the dialect needs it for table rebuilds (checked before commit) and BEGIN;
    /// elsewhere, the step's in-progress mark.
    pub async fn begin_reading_step(
        &mut self,
        revision: &str,
        direction: version_table::Direction,
    ) -> Result<(), StatementFailed> {
        self.step_failure_marked = false;
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
        super::echo(statement);
        let outcome = run(&mut self.conn, statement).await;
        if let (Err(e), false) = (&outcome, self.transactional()) {
            self.step_failure_marked = true;
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
        } else if !std::mem::take(&mut self.step_failure_marked) {
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
        // MySQL has no per-statement read-only mode: the SELECT-only check is all there is.
        let (guard, unguard) = self.dialect.read_only_guard();
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
