//! The run lock on a MariaDB Galera cluster. `GET_LOCK` is local to one node (measured: three
//! sessions on three nodes each held the same lock at once), so there the lock is a row in a
//! replicated InnoDB table (`migrate_lock`): taken by INSERT, which certification lets only one of
//! two conflicting commits on different nodes win; held for a lease that the holder renews before
//! each step and that another runner may take over once it has expired; and fenced: the holder's
//! every version-table write checks, in the same transaction, that the row is still its own with
//! the fence number it took, so a runner that lost its lease records nothing.

use std::time::Duration;

use anyhow::{anyhow, Context};
use migrate_core::sql::version_table::VersionTables;
use migrate_core::sql::{Expect, Statement};
use sqlx::{AnyConnection, AssertSqlSafe, Row};

/// How long a lease lasts without renewal. A step renews it when it starts; a single statement
/// longer than this (a long ALTER) lets another runner take over, and the first one then stops
/// before recording its step (which the in-progress mark then shows).
pub const LEASE: Duration = Duration::from_secs(120);

/// A held lease: who holds it (a random id for this run) and the fence number it was taken with.
/// One dropped without `release` (a command that ended with an error) is kept in `ABANDONED`
/// and given back by `give_back_abandoned`: unlike a session lock, the server does not end it
/// with the connection, and the next runner would wait out the whole lease.
pub struct Lease {
    url: String,
    table: String,
    holder: String,
    fence: i64,
    given_back: bool,
}

/// Leases dropped while held: (database URL, the SQL that gives the lease back).
static ABANDONED: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

impl Drop for Lease {
    fn drop(&mut self) {
        if !self.given_back {
            if let Ok(mut abandoned) = ABANDONED.lock() {
                abandoned.push((self.url.clone(), self.release_sql()));
            }
        }
    }
}

/// Gives back, each over a connection of its own, the leases this process dropped while
/// holding them; where that fails, the lease expires as a dead runner's would. Called when a
/// command (or a fleet target's job) ends.
pub async fn give_back_abandoned() {
    let abandoned = ABANDONED
        .lock()
        .map(|mut held| std::mem::take(&mut *held))
        .unwrap_or_default();
    for (url, release) in abandoned {
        let outcome = match <AnyConnection as sqlx::Connection>::connect(&url).await {
            Ok(mut conn) => super::conflict::execute(&mut conn, &release)
                .await
                .map_err(anyhow::Error::from),
            Err(e) => Err(e.into()),
        };
        if let Err(e) = outcome {
            eprintln!(
                "warning: could not give back the run lock's lease on {} after the error ({e}); \
                 it expires within {} s",
                super::redact(&url),
                LEASE.as_secs()
            );
        }
    }
}

/// Whether the connection is to a Galera node (`wsrep_on`); false on plain MySQL/MariaDB, where
/// the variable may not exist at all.
pub async fn is_galera(conn: &mut AnyConnection) -> bool {
    let on = sqlx::query("SELECT CAST(@@GLOBAL.wsrep_on AS SIGNED)")
        .fetch_one(&mut *conn)
        .await;
    matches!(on.and_then(|row| row.try_get::<i64, _>(0)), Ok(1))
}

/// Readies the connection and the lease table, once per run: reads and writes see every write
/// the cluster committed before them, and the table exists (DDL on Galera is cluster-wide, so not
/// repeated on every attempt).
pub async fn prepare(conn: &mut AnyConnection, tables: &VersionTables) -> anyhow::Result<()> {
    // 15: reads, UPDATE/DELETE and INSERT all wait until this node has applied what the
    // cluster committed before them (other nodes' writes are applied asynchronously), so an
    // INSERT taking the lease never trips over a row another node already deleted.
    run(conn, "SET SESSION wsrep_sync_wait = 15").await?;
    run(
        conn,
        &format!(
            "CREATE TABLE IF NOT EXISTS {} (`name` VARCHAR(64) NOT NULL PRIMARY KEY, \
             `holder` VARCHAR(64) NOT NULL, `expires_at` DATETIME(6) NOT NULL, \
             `fence` BIGINT NOT NULL) ENGINE=InnoDB",
            quoted(tables)
        ),
    )
    .await
}

fn quoted(tables: &VersionTables) -> String {
    format!("`{}`", tables.lock.replace('`', "``"))
}

/// One attempt at the lease (after `prepare`): `Ok(Ok)` when taken (fresh, or over an expired
/// one), `Ok(Err)` saying who holds it until when otherwise.
pub async fn try_take(
    conn: &mut AnyConnection,
    url: &str,
    tables: &VersionTables,
) -> anyhow::Result<Result<Lease, String>> {
    let table = quoted(tables);
    let holder = random_holder()?;
    let lease = LEASE.as_secs();
    let fresh = run(
        conn,
        &format!(
            "INSERT INTO {table} (`name`, `holder`, `expires_at`, `fence`) \
             VALUES ('run', '{holder}', NOW(6) + INTERVAL {lease} SECOND, 1)"
        ),
    )
    .await;
    if fresh.is_err() {
        // Held (a duplicate key) or taken at the same moment on another node (a certification
        // conflict): take it over only if it has expired.
        let _ = run(
            conn,
            &format!(
                "UPDATE {table} SET `holder` = '{holder}', `expires_at` = NOW(6) + INTERVAL {lease} SECOND, \
                 `fence` = `fence` + 1 WHERE `name` = 'run' AND `expires_at` < NOW(6)"
            ),
        )
        .await;
    }
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT `holder`, CAST(`fence` AS SIGNED), CAST(`expires_at` AS CHAR) FROM {table} WHERE `name` = 'run'"
    )))
    .fetch_optional(&mut *conn)
    .await
    .context("reading the lease")?;
    let Some(row) = row else {
        return Ok(Err("nobody (it was released just now)".into()));
    };
    let (owner, fence, until): (String, i64, String) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    if owner == holder {
        Ok(Ok(Lease {
            url: url.to_string(),
            table,
            holder,
            fence,
            given_back: false,
        }))
    } else {
        Ok(Err(format!(
            "the lease in {} held by run {owner} until {until} (it is taken over once expired)",
            tables.lock
        )))
    }
}

impl Lease {
    /// Renews the lease, failing when it is no longer this run's (taken over after expiring).
    pub async fn renew(&self, conn: &mut AnyConnection) -> anyhow::Result<()> {
        let renew = self.renew_sql().sql;
        super::conflict::execute(conn, &renew)
            .await
            .map_err(|e| anyhow!("{renew}: {e}"))?;
        let still: Option<String> = sqlx::query(AssertSqlSafe(format!(
            "SELECT `holder` FROM {} WHERE `name` = 'run' AND `holder` = '{}' AND `fence` = {}",
            self.table, self.holder, self.fence
        )))
        .fetch_optional(&mut *conn)
        .await
        .context("renewing the lease")?
        .map(|row| row.try_get(0))
        .transpose()?;
        if still.is_none() {
            return Err(anyhow!(self.lost()));
        }
        Ok(())
    }

    fn renew_sql(&self) -> Statement {
        Statement::plain(format!(
            "UPDATE {} SET `expires_at` = NOW(6) + INTERVAL {} SECOND \
             WHERE `name` = 'run' AND `holder` = '{}' AND `fence` = {}",
            self.table,
            LEASE.as_secs(),
            self.holder,
            self.fence
        ))
    }

    fn lost(&self) -> String {
        format!(
            "this run's lease in {} expired and another migrate run took it over: stopped without \
             recording anything more (a statement that outlasts the lease of {} s lets that happen)",
            self.table,
            LEASE.as_secs()
        )
    }

    /// Statements for the version-table transaction: the lease renewed (a write that conflicts,
    /// at certification, with another node's takeover) and a check that it is still this run's
    /// (the transaction fails, recording nothing, when it is not).
    pub fn fence(&self) -> Vec<Statement> {
        vec![
            self.renew_sql(),
            Statement {
                sql: format!(
                    "SELECT 'lost' FROM (SELECT COUNT(*) AS `held` FROM {} WHERE `name` = 'run' AND `holder` = '{}' \
                     AND `fence` = {}) AS `lease` WHERE `held` <> 1",
                    self.table, self.holder, self.fence
                ),
                expect: Expect::NoRows(self.lost()),
            },
        ]
    }

    /// Gives the lease back; one that could not be is given back at the end of the command
    /// over a fresh connection (`give_back_abandoned`).
    pub async fn release(mut self, conn: &mut AnyConnection) -> anyhow::Result<()> {
        super::conflict::execute(conn, &self.release_sql())
            .await
            .context("giving the lease back")?;
        self.given_back = true;
        Ok(())
    }

    /// The SQL that gives the lease back.
    fn release_sql(&self) -> String {
        format!(
            "DELETE FROM {} WHERE `name` = 'run' AND `holder` = '{}' AND `fence` = {}",
            self.table, self.holder, self.fence
        )
    }
}

async fn run(conn: &mut AnyConnection, sql: &str) -> anyhow::Result<()> {
    sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .map_err(|e| anyhow!("{sql}: {e}"))
}

fn random_holder() -> anyhow::Result<String> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| anyhow!("no randomness for the lease holder: {e}"))?;
    Ok(hex::encode(bytes))
}
