//! SQLite steps run on a direct connection, in the calling thread.
//!
//! sqlx runs each SQLite connection on a worker thread and hands every statement's result back
//! through a channel: at a thousand small steps those hand-offs, not SQLite, were a third of a
//! warm upgrade (BENCHMARKS.md, session 4). This connection opens the same database file with
//! the same SQLite library (the `libsqlite3-sys` sqlx links) and runs a step's statements one by
//! one, so a failure names its statement without a second run. It holds no transaction between
//! calls, so it and the sqlx connection never wait on each other.
//!
//! The commands that only look at a SQLite file (`current`, `status`) read its heads here too,
//! through a read-only connection and without a sqlx one: setting that up (driver, worker
//! thread, a hand-off per statement) was a third of `migrate current`'s processor time at a
//! thousand revisions (BENCHMARKS.md, session 16).

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, Context};
use migrate_core::sql::version_table::{self, VersionTables};
use migrate_core::sql::{self, DialectName, Expect, Statement};
use rusqlite::{Connection, OpenFlags};

use super::StatementFailed;

/// sqlx's default busy timeout, so both connections wait alike for another process's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub struct DirectSqlite {
    conn: Connection,
}

impl DirectSqlite {
    /// Opens the database file the sqlx connection has open (it exists: that connection made
    /// it), with foreign keys enforced as sqlx enforces them.
    pub fn open(file: &Path) -> rusqlite::Result<DirectSqlite> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(file, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // No other database file may be attached through this connection (a revision's raw SQL
        // runs here, inside migrate's process): ATTACH and VACUUM INTO fail.
        conn.set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_ATTACHED, 0)?;
        conn.execute_batch("PRAGMA foreign_keys = ON")?;
        Ok(DirectSqlite { conn })
    }

    /// Opens an existing file for reading only: no database is created, nothing written.
    fn open_read_only(file: &Path) -> rusqlite::Result<DirectSqlite> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(file, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(DirectSqlite { conn })
    }

    /// Runs one statement (which may be several, from `execute`) outside any transaction.
    pub fn run(&self, statement: &Statement) -> Result<(), StatementFailed> {
        match &statement.expect {
            Expect::Nothing => self
                .conn
                .execute_batch(&statement.sql)
                .map_err(|e| failed(&statement.sql, e)),
            Expect::NoRows(problem) => {
                let found = self
                    .first_column(&statement.sql)
                    .map_err(|e| failed(&statement.sql, e))?;
                super::expect_no_rows(statement, problem, found)
            }
        }
    }

    /// Runs `statements` in one transaction: all of them commit, or none does.
    pub fn transaction(&self, statements: &[&Statement]) -> Result<(), StatementFailed> {
        self.conn
            .execute_batch("BEGIN")
            .map_err(|e| failed("BEGIN", e))?;
        for (i, statement) in statements.iter().enumerate() {
            if let Err(e) = self.run(statement) {
                // A failed ROLLBACK leaves nothing to undo: SQLite has already ended the
                // transaction on errors that abort it.
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(StatementFailed {
                    position: Some(i),
                    ..e
                });
            }
        }
        self.conn.execute_batch("COMMIT").map_err(|e| {
            let _ = self.conn.execute_batch("ROLLBACK");
            failed("COMMIT", e)
        })
    }

    /// The first column of every row `sql` returns, as text.
    fn first_column(&self, sql: &str) -> rusqlite::Result<Vec<String>> {
        let mut query = self.conn.prepare(sql)?;
        let mut rows = query.query([])?;
        let mut found = Vec::new();
        while let Some(row) = rows.next()? {
            found.extend(row.get::<_, String>(0).ok());
        }
        Ok(found)
    }

    /// The first two columns of every row `sql` returns, as text.
    fn text_pairs(&self, sql: &str) -> rusqlite::Result<Vec<(String, String)>> {
        let mut query = self.conn.prepare(sql)?;
        let rows = query.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect()
    }
}

/// The heads a SQLite file's version table holds: empty when it does not exist yet, an error
/// when a table of its name has another shape. The queries and the judgement are the ones a
/// sqlx connection makes (`Database::heads`); `connection` names the database in an error.
///
/// For a command that reads one database's heads once: the connection is left open for the
/// process's end to close. Closing it frees every table of the schema SQLite parsed, one by
/// one (at a thousand tables about 0.1 ms of `current`, BENCHMARKS.md session 21), just before
/// the exit frees them all at once.
pub fn read_heads(
    file: &Path,
    tables: &VersionTables,
    connection: impl FnOnce() -> String,
) -> anyhow::Result<Vec<String>> {
    let sqlite = sql::dialect(DialectName::Sqlite).expect("every named dialect exists");
    let db = DirectSqlite::open_read_only(file)
        .map_err(|e| anyhow!("cannot connect to the database at {}: {e}", connection()))?;
    let columns = db
        .text_pairs(&version_table::select_columns(sqlite, tables))
        .context("reading the catalog")?;
    let heads = if tables.judge(&columns).map_err(|e| anyhow!(e))? {
        db.first_column(&version_table::select_heads(sqlite, tables))
            .context("reading the version table")?
    } else {
        vec![]
    };
    std::mem::forget(db);
    Ok(heads)
}

fn failed(sql: &str, e: rusqlite::Error) -> StatementFailed {
    let message = match e {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message,
        other => other.to_string(),
    };
    StatementFailed::new(sql, message)
}
