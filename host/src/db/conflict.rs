//! A transaction the database rolled back because it lost a conflict with another one: a
//! deadlock victim (MySQL/MariaDB, PostgreSQL), a serialization failure, or on a MariaDB Galera
//! cluster a write that lost certification to another node's or was aborted by one (reported as
//! a deadlock). Nothing of it took effect, so it is run again after a short pause, a few times:
//! Galera's documentation asks applications to, and a lost conflict is not the revision's fault.
//! Only whole transactions and single autocommit statements are retried, never a statement in
//! the middle of a transaction.

use std::time::Duration;

use sqlx::{AnyConnection, AssertSqlSafe};

/// Attempts in all, the first included.
const ATTEMPTS: u32 = 6;

/// SQLSTATE 40001 (serialization failure; MySQL and MariaDB report deadlocks, Galera's
/// certification failures included, as error 1213 with it) and PostgreSQL's 40P01 (deadlock
/// detected): the database has rolled the whole transaction back.
pub fn lost_conflict(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("40001" | "40P01")),
        _ => false,
    }
}

/// Counts attempts at one transaction and paces the next.
pub struct Retry {
    attempt: u32,
}

impl Retry {
    pub fn new() -> Retry {
        Retry { attempt: 1 }
    }

    /// Whether a failure is worth another attempt: it lost a conflict and attempts are left.
    pub fn worth_another(&self, lost_conflict: bool) -> bool {
        lost_conflict && self.attempt < ATTEMPTS
    }

    /// Says so and waits before the next attempt, longer each time (20, 40, 80, 160, 320 ms)
    /// so that the runs that collided do not collide again at once.
    pub async fn pause(&mut self, what: &str) {
        crate::output::progress!(
            "  The database rolled a transaction back: it lost a conflict with another one ({}). \
             Running it again (attempt {} of {ATTEMPTS}).",
            migrate_core::text::one_line(what),
            self.attempt + 1
        );
        tokio::time::sleep(Duration::from_millis(10 << self.attempt)).await;
        self.attempt += 1;
    }
}

/// One autocommit statement, run again after a lost conflict.
pub async fn execute(conn: &mut AnyConnection, sql: &str) -> Result<(), sqlx::Error> {
    let mut retry = Retry::new();
    loop {
        let outcome = sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&mut *conn)
            .await;
        match outcome {
            Err(e) if retry.worth_another(lost_conflict(&e)) => retry.pause(&e.to_string()).await,
            outcome => return outcome.map(|_| ()),
        }
    }
}
