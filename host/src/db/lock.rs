//! One runner at a time. PostgreSQL: a session advisory lock; MySQL/MariaDB: `GET_LOCK`;
//! SQLite: an exclusive lock on a file beside the database. A second runner says it is waiting,
//! polls until the configured timeout, then fails clearly. Each lock also ends with its holder:
//! the server drops session locks with the connection, the OS drops file locks with the process.
//! On a MariaDB Galera cluster, where `GET_LOCK` holds on one node only, a replicated lease
//! (`lease`) takes its place.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use migrate_core::sql::DialectName;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, AssertSqlSafe, Row};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockSettings {
    /// Off for connection poolers that cannot hold session locks (PgBouncer in transaction mode).
    pub enabled: bool,
    /// How long to wait for another runner before giving up.
    pub timeout_secs: u64,
}

impl Default for LockSettings {
    fn default() -> LockSettings {
        LockSettings {
            enabled: true,
            timeout_secs: 300,
        }
    }
}

pub enum RunLock {
    File(HeldFile),
    /// A Galera cluster's replicated lease (`lease`).
    Lease(super::lease::Lease),
    Session {
        release_sql: String,
    },
    /// `:memory:` databases are private to their connection: nothing to lock.
    Nothing,
}

const POLL: Duration = Duration::from_millis(200);

pub async fn acquire(
    conn: &mut AnyConnection,
    dialect: DialectName,
    url: &str,
    tables: &migrate_core::sql::version_table::VersionTables,
    settings: &LockSettings,
) -> anyhow::Result<RunLock> {
    let deadline = Instant::now() + Duration::from_secs(settings.timeout_secs);
    let mut announced = false;
    match dialect {
        DialectName::Sqlite => {
            let Some(path) = sqlite_lock_path(url) else {
                return Ok(RunLock::Nothing);
            };
            loop {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
                    .with_context(|| format!("opening the lock file {}", path.display()))?;
                match file.try_lock() {
                    // The holder before us removes the file as it releases it: a lock on a
                    // file that is no longer at the path locks nothing, so open it anew.
                    Ok(()) if is_at_path(&file, &path) => {
                        return Ok(RunLock::File(HeldFile { file, path }))
                    }
                    Ok(()) => continue,
                    Err(std::fs::TryLockError::WouldBlock) => {}
                    Err(std::fs::TryLockError::Error(e)) => {
                        return Err(anyhow!("locking {}: {e}", path.display()))
                    }
                }
                wait(
                    &mut announced,
                    deadline,
                    &path.display().to_string(),
                    settings,
                )
                .await?;
            }
        }
        DialectName::Postgresql => {
            let row = sqlx::query("SELECT current_database()::text, current_schema()::text")
                .fetch_one(&mut *conn)
                .await
                .context("reading the database name for the lock")?;
            let database: String = row.try_get(0)?;
            // NULL when no schema on the search_path exists: there is nowhere to migrate.
            let schema: Option<String> = row.try_get(1)?;
            let Some(schema) = schema else {
                anyhow::bail!(
                    "database {database} has no schema on this connection's search_path \
                     (a schema named in the URL's options that does not exist?): create the schema first"
                );
            };
            let scope = format!("{database}.{schema}");
            let key = i64::from_be_bytes(
                Sha256::digest(format!("migrate:{scope}"))[..8]
                    .try_into()
                    .unwrap(),
            );
            let what = format!("advisory lock {key} on {scope}");
            loop {
                let got: bool =
                    sqlx::query(AssertSqlSafe(format!("SELECT pg_try_advisory_lock({key})")))
                        .fetch_one(&mut *conn)
                        .await
                        .context("taking the advisory lock")?
                        .try_get(0)?;
                if got {
                    return Ok(RunLock::Session {
                        release_sql: format!("SELECT pg_advisory_unlock({key})"),
                    });
                }
                wait(&mut announced, deadline, &what, settings).await?;
            }
        }
        DialectName::Mysql if super::lease::is_galera(conn).await => {
            super::lease::prepare(conn, tables).await?;
            loop {
                match super::lease::try_take(conn, url, tables).await? {
                    Ok(lease) => return Ok(RunLock::Lease(lease)),
                    Err(held) => wait(&mut announced, deadline, &held, settings).await?,
                }
            }
        }
        DialectName::Mysql => {
            let row = sqlx::query("SELECT DATABASE()")
                .fetch_one(&mut *conn)
                .await
                .context("reading the database name")?;
            let database: Option<String> = row.try_get(0)?;
            let database = database.unwrap_or_default();
            // Lock names are server-wide and at most 64 characters: a hash of the database name.
            let name = format!("migrate:{}", hex::encode(&Sha256::digest(&database)[..12]));
            let what = format!("lock {name} (GET_LOCK) for database {database}");
            loop {
                let got: i64 = sqlx::query(AssertSqlSafe(format!("SELECT GET_LOCK('{name}', 0)")))
                    .fetch_one(&mut *conn)
                    .await
                    .context("taking the lock")?
                    .try_get(0)?;
                if got == 1 {
                    return Ok(RunLock::Session {
                        release_sql: format!("SELECT RELEASE_LOCK('{name}')"),
                    });
                }
                wait(&mut announced, deadline, &what, settings).await?;
            }
        }
    }
}

async fn wait(
    announced: &mut bool,
    deadline: Instant,
    what: &str,
    settings: &LockSettings,
) -> anyhow::Result<()> {
    if !*announced {
        crate::output::progress!(
            "Waiting for another migrate run to finish (it holds {what}; timeout {} s)",
            settings.timeout_secs
        );
        *announced = true;
    }
    if Instant::now() >= deadline {
        bail!(
            "locked: another migrate run held {what} for more than {} s. If none is running, the lock is stale \
             (a lock file is safe to delete only when no migrate runs); raise [lock] timeout_secs to wait longer",
            settings.timeout_secs
        );
    }
    tokio::time::sleep(POLL).await;
    Ok(())
}

impl RunLock {
    pub async fn release(self, conn: &mut AnyConnection) -> anyhow::Result<()> {
        match self {
            // Dropping it removes the file and releases the lock.
            RunLock::File(held) => {
                drop(held);
                Ok(())
            }
            RunLock::Lease(lease) => lease.release(conn).await,
            RunLock::Session { release_sql } => {
                sqlx::query(AssertSqlSafe(release_sql))
                    .fetch_one(conn)
                    .await
                    .context("releasing the lock")?;
                Ok(())
            }
            RunLock::Nothing => Ok(()),
        }
    }
}

/// The lock file, held locked, and its path. However the run ends (released, or dropped on an
/// error path), the file is removed while still locked, so no `*.migrate-lock` is left in the
/// project folder, and a waiter that then gets the lock on the old file sees it is gone and
/// opens the path again (`is_at_path`).
pub struct HeldFile {
    file: std::fs::File,
    path: PathBuf,
}

impl Drop for HeldFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// Whether `file` is still the file at `path` (same device and inode).
fn is_at_path(file: &std::fs::File, path: &std::path::Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(held), Ok(now)) => held.dev() == now.dev() && held.ino() == now.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

/// `sqlite://path/app.db?…` locks `path/app.db.migrate-lock`.
fn sqlite_lock_path(url: &str) -> Option<PathBuf> {
    let mut path = super::sqlite_file(url)?.into_os_string();
    path.push(".migrate-lock");
    Some(PathBuf::from(path))
}
