//! The database edge: connect by URL, read and write the version tables, run a step's script.
//! One code path for every database through sqlx's `Any` driver; what differs per database is
//! SQL text, which the dialects in `migrate_core::sql` render. The one exception: a SQLite
//! file's steps run on a direct connection in this thread (`sqlite_direct`), for speed.

mod conflict;
mod introspect;
mod lease;
mod lock;
mod reading;
mod sqlite_direct;

use std::collections::BTreeMap;

use anyhow::{anyhow, Context};
use migrate_core::schema::{DatabaseObject, ObjectKind};
use migrate_core::sql::version_table::VersionTables;
use migrate_core::sql::{self, version_table, Dialect, DialectName, Expect, Statement, StepScript};
use migrate_core::step_progress;
use sqlx::any::{AnyConnectOptions, AnyRow};
use sqlx::{AnyConnection, AssertSqlSafe, ConnectOptions, Connection, Row};

pub use lease::give_back_abandoned as give_back_abandoned_leases;
pub use lock::LockSettings;
use sqlite_direct::DirectSqlite;

/// A failed statement, named with its SQL so the user sees exactly what the database refused.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the database refused this statement:\n    {sql}\n  {message}")]
pub struct StatementFailed {
    pub sql: String,
    pub message: String,
    /// Its place among the statements of the transaction it failed in, where one ran: what
    /// tells which step of a one-transaction run it belongs to (the same SQL may appear twice).
    pub position: Option<usize>,
    /// The database rolled its transaction back for losing a conflict (`conflict`): nothing
    /// of the transaction took effect, and running it again may succeed.
    pub lost_conflict: bool,
    /// It failed before any statement of its step ran (renewing the run's lease, writing the
    /// in-progress mark): the step took no effect and left no mark.
    pub before_step: bool,
}

impl StatementFailed {
    pub fn new(sql: impl Into<String>, message: impl Into<String>) -> StatementFailed {
        StatementFailed {
            sql: sql.into(),
            message: message.into(),
            position: None,
            lost_conflict: false,
            before_step: false,
        }
    }

    fn before_step(self) -> StatementFailed {
        StatementFailed {
            before_step: true,
            ..self
        }
    }

    fn at(self, position: usize) -> StatementFailed {
        StatementFailed {
            position: Some(position),
            ..self
        }
    }
}

pub struct HistoryRow {
    pub revision: String,
    pub direction: String,
    pub checksum: String,
    pub applied_at: String,
}

/// A step left unfinished on a database without transactional DDL.
pub struct Incomplete {
    pub revision: String,
    pub direction: String,
    pub failed_statement: Option<String>,
    pub error: Option<String>,
    /// The step's statements known to have taken effect (`step_progress`); `None` on a mark
    /// from before counts were kept.
    pub statements_done: Option<usize>,
}

/// Whether a command may change the database. A read-only one (`current`, `status`, `history`,
/// `check`) never creates anything, not even an empty SQLite file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
}

pub struct Database {
    conn: AnyConnection,
    dialect: &'static dyn Dialect,
    /// The names of migrate's own tables, and whether they exist in migrate's shape (read once,
    /// on first need; a table of the same name with another shape is an error).
    tables: VersionTables,
    tables_exist: Option<bool>,
    /// The in-progress table is in its first shape, without the progress count.
    lacks_progress_column: bool,
    url: String,
    lock: Option<lock::RunLock>,
    /// Where a SQLite file's steps run (see `sqlite_direct`); opened at the first step.
    direct: Option<DirectSqlite>,
    direct_probed: bool,
    /// Whether a reading step's failed statement is already on its in-progress mark (MySQL),
    /// so abandoning the step does not overwrite it with the guest's less precise error.
    step_failure_marked: bool,
}

impl Database {
    pub async fn connect(
        url: &str,
        origin: &str,
        access: Access,
        tables: VersionTables,
    ) -> anyhow::Result<Database> {
        sqlx::any::install_default_drivers();
        let name = DialectName::from_url(url).ok_or_else(|| {
            anyhow!("{origin}: {url:?} is not a database URL this tool knows (sqlite://path/to.db, postgres://…, mysql://…)")
        })?;
        let dialect = sql::dialect(name).expect("every named dialect exists");
        if access == Access::ReadOnly {
            if let Some(path) = sqlite_file(url) {
                require_existing(&path, origin)?;
            }
        }
        let options: AnyConnectOptions = connect_url(url, name, access)
            .parse()
            .map_err(|e| anyhow!("{origin}: bad database URL {url:?}: {e}"))?;
        let conn = options.connect().await.map_err(|e| {
            anyhow!(
                "cannot connect to the database at {} ({origin}): {e}",
                redact(url)
            )
        })?;
        let mut conn = conn;
        if access == Access::ReadWrite && name == DialectName::Postgresql {
            warn_if_superuser(&mut conn).await;
        }
        Ok(Database {
            conn,
            dialect,
            tables,
            tables_exist: None,
            lacks_progress_column: false,
            url: url.to_string(),
            lock: None,
            direct: None,
            direct_probed: false,
            step_failure_marked: false,
        })
    }

    pub fn dialect(&self) -> &'static dyn Dialect {
        self.dialect
    }

    pub fn tables(&self) -> &VersionTables {
        &self.tables
    }

    /// The database revisions that ask are recorded for: its dialect (MariaDB told apart) and
    /// the server's version.
    pub async fn target(&mut self) -> anyhow::Result<crate::wasm::target::Target> {
        let row = sqlx::query(self.dialect.server_version_query())
            .fetch_one(&mut self.conn)
            .await
            .context("reading the server's version")?;
        let version: String = row.try_get(0).context("reading the server's version")?;
        Ok(crate::wasm::target::Target::connected(
            self.dialect.name(),
            version,
        ))
    }

    /// Takes the one-runner-at-a-time lock for the rest of this connection's life.
    pub async fn lock(&mut self, settings: &LockSettings) -> anyhow::Result<()> {
        if settings.enabled && self.lock.is_none() {
            self.lock = Some(
                lock::acquire(
                    &mut self.conn,
                    self.dialect.name(),
                    &self.url,
                    &self.tables,
                    settings,
                )
                .await?,
            );
        }
        Ok(())
    }

    /// Releases the lock. Every other path releases it too: the lock file is closed, or the
    /// server ends the session's lock when this connection drops.
    pub async fn unlock(&mut self) -> anyhow::Result<()> {
        if let Some(held) = self.lock.take() {
            held.release(&mut self.conn).await?;
        }
        Ok(())
    }

    /// Creates the version tables where they are missing; refuses, touching nothing, when a
    /// table of one of their names is not migrate's.
    pub async fn ensure_version_table(&mut self) -> anyhow::Result<()> {
        self.version_table_exists().await?;
        let statements = version_table::ensure(self.dialect, &self.tables);
        if self.dialect.capabilities().transactional_ddl {
            // All or none: a run killed in between must not leave the heads table without
            // its history table.
            let all: Vec<&Statement> = statements.iter().collect();
            Target::Sqlx(&mut self.conn)
                .transaction(&all)
                .await
                .map_err(|e| anyhow!("creating the version tables: {e}"))?;
        } else {
            for statement in &statements {
                execute(&mut self.conn, &statement.sql)
                    .await
                    .map_err(|e| anyhow!("creating the version table: {e}"))?;
            }
            if self.lacks_progress_column {
                let add = version_table::add_progress_column(self.dialect, &self.tables);
                execute(&mut self.conn, &add.sql).await.map_err(|e| {
                    anyhow!("adding the progress count to the in-progress table: {e}")
                })?;
                self.lacks_progress_column = false;
            }
        }
        self.tables_exist = Some(true);
        Ok(())
    }

    /// Whether the version tables exist, their shape checked (one catalog query, once).
    async fn version_table_exists(&mut self) -> anyhow::Result<bool> {
        if let Some(known) = self.tables_exist {
            return Ok(known);
        }
        let sql = version_table::select_columns(self.dialect, &self.tables);
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&mut self.conn)
            .await
            .context("reading the catalog")?;
        let columns: Vec<(String, String)> = rows
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()
            .context("reading the catalog")?;
        let exists = self.tables.judge(&columns).map_err(|e| anyhow!(e))?;
        self.lacks_progress_column = self.tables.lacks_progress_column(&columns);
        self.tables_exist = Some(exists);
        Ok(exists)
    }

    async fn rows(&mut self, sql: String, what: &str) -> anyhow::Result<Vec<AnyRow>> {
        if !self.version_table_exists().await? {
            return Ok(vec![]);
        }
        sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&mut self.conn)
            .await
            .with_context(|| format!("reading {what}"))
    }

    /// The current heads; empty when the version table does not exist yet.
    pub async fn heads(&mut self) -> anyhow::Result<Vec<String>> {
        let rows = self
            .rows(
                version_table::select_heads(self.dialect, &self.tables),
                "the version table",
            )
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    pub async fn recorded_checksums(&mut self) -> anyhow::Result<BTreeMap<String, String>> {
        let rows = self
            .rows(
                version_table::select_recorded_checksums(self.dialect, &self.tables),
                "the version history",
            )
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    pub async fn history(&mut self) -> anyhow::Result<Vec<HistoryRow>> {
        let rows = self
            .rows(
                version_table::select_history(self.dialect, &self.tables),
                "the version history",
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(HistoryRow {
                    revision: r.try_get(0)?,
                    direction: r.try_get(1)?,
                    checksum: r.try_get(2)?,
                    applied_at: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// The triggers, views and indexes the database has, where the dialect may rebuild tables.
    pub async fn database_objects(&mut self) -> anyhow::Result<Vec<DatabaseObject>> {
        let Some(sql) = self.dialect.database_objects_query() else {
            return Ok(vec![]);
        };
        let rows = sqlx::query(sql)
            .fetch_all(&mut self.conn)
            .await
            .context("reading the catalog")?;
        rows.iter()
            .map(|r| {
                let kind = match r.try_get::<String, _>(0)?.as_str() {
                    "trigger" => ObjectKind::Trigger,
                    "view" => ObjectKind::View,
                    _ => ObjectKind::Index,
                };
                Ok(DatabaseObject {
                    kind,
                    name: r.try_get(1)?,
                    table: r.try_get(2)?,
                    sql: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// Steps a non-transactional database was left inside of (empty elsewhere).
    pub async fn incomplete(&mut self) -> anyhow::Result<Vec<Incomplete>> {
        if self.dialect.capabilities().transactional_ddl {
            return Ok(vec![]);
        }
        let rows = self
            .rows(
                version_table::select_incomplete(
                    self.dialect,
                    &self.tables,
                    !self.lacks_progress_column,
                ),
                "the in-progress marks",
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Incomplete {
                    revision: r.try_get(0)?,
                    direction: r.try_get(1)?,
                    failed_statement: r.try_get(2)?,
                    error: r.try_get(3)?,
                    statements_done: r
                        .try_get::<Option<i64>, _>(4)
                        .ok()
                        .flatten()
                        .and_then(|n| usize::try_from(n).ok()),
                })
            })
            .collect()
    }

    /// Runs a step's script. With transactional DDL the body and bookkeeping commit together,
    /// and a failure rolls both back. Without it, each statement's progress is counted on the
    /// step's mark and a failure is recorded there.
    pub async fn run_script(
        &mut self,
        script: &StepScript,
        revision: &str,
    ) -> Result<(), StatementFailed> {
        self.run_script_from(script, revision, None).await
    }

    /// Finishes a non-transactional step that stopped after its first `done` body statements
    /// (`migrate resolve --continue`): its mark is already there, so `before` does not run.
    pub async fn resume_script(
        &mut self,
        script: &StepScript,
        revision: &str,
        done: usize,
    ) -> Result<(), StatementFailed> {
        self.run_script_from(script, revision, Some(done)).await
    }

    /// Runs `statements` of the marked step `revision` one by one, its progress count set to
    /// `count` first (an undo's inverse of one op: see `recovery`).
    pub async fn run_counted(
        &mut self,
        revision: &str,
        statements: &[Statement],
        count: usize,
    ) -> Result<(), StatementFailed> {
        let counted = CountedStep {
            dialect: self.dialect,
            tables: &self.tables,
            revision,
        };
        let mut target = Target::Sqlx(&mut self.conn);
        target.run(&counted.progress(count)).await?;
        for statement in statements {
            if let Err(e) = target.run(statement).await {
                let _ = counted.mark_failed(&mut target, &e.sql, &e.message).await;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Version-table statements, in one transaction (fenced by the lease, on Galera).
    pub async fn run_bookkeeping(
        &mut self,
        statements: &[Statement],
    ) -> Result<(), StatementFailed> {
        let fence = self.fence();
        let all: Vec<&Statement> = fence.iter().chain(statements).collect();
        Target::Sqlx(&mut self.conn).transaction(&all).await
    }

    /// Renews a Galera lease before a step; elsewhere nothing.
    async fn renew_lease(&mut self) -> Result<(), StatementFailed> {
        if let Some(lock::RunLock::Lease(lease)) = &self.lock {
            lease.renew(&mut self.conn).await.map_err(|e| {
                StatementFailed::new("(renewing the run lock's lease)", format!("{e:#}"))
            })?;
        }
        Ok(())
    }

    /// The statements that make a version-table transaction fail unless this run still holds
    /// its Galera lease; none elsewhere.
    fn fence(&self) -> Vec<Statement> {
        match &self.lock {
            Some(lock::RunLock::Lease(lease)) => lease.fence(),
            _ => vec![],
        }
    }

    async fn run_script_from(
        &mut self,
        script: &StepScript,
        revision: &str,
        resume_after: Option<usize>,
    ) -> Result<(), StatementFailed> {
        self.renew_lease()
            .await
            .map_err(StatementFailed::before_step)?;
        self.open_direct_sqlite().await;
        let fence = self.fence();
        let (dialect, tables) = (self.dialect, &self.tables);
        let mut target = match &self.direct {
            Some(direct) => Target::Direct(direct),
            None => Target::Sqlx(&mut self.conn),
        };
        if resume_after.is_none() {
            for statement in &script.before {
                target
                    .run(statement)
                    .await
                    .map_err(StatementFailed::before_step)?;
            }
        }
        if script.transactional {
            let statements: Vec<&Statement> =
                script.body.iter().chain(&script.bookkeeping).collect();
            target.transaction(&statements).await?;
        } else {
            let counted = CountedStep {
                dialect,
                tables,
                revision,
            };
            counted
                .run_body(&mut target, &script.body, resume_after.unwrap_or(0))
                .await?;
            let bookkeeping: Vec<&Statement> = fence.iter().chain(&script.bookkeeping).collect();
            if let Err(e) = target.transaction(&bookkeeping).await {
                // Every statement of the step ran; only recording it failed. Said on the
                // mark, so the next run does not blame a process that died.
                let _ = counted
                    .mark_failed(
                        &mut target,
                        &e.sql,
                        &format!(
                            "every statement of the step ran, but recording it failed: {}",
                            e.message
                        ),
                    )
                    .await;
                return Err(e);
            }
        }
        for statement in &script.after {
            target.run(statement).await?;
        }
        Ok(())
    }

    /// For a SQLite file, opens the direct connection steps run on (once; see
    /// `sqlite_direct`). An in-memory database, or a file that will not open a second time,
    /// keeps steps on the sqlx connection.
    async fn open_direct_sqlite(&mut self) {
        if self.dialect.name() != DialectName::Sqlite || self.direct_probed {
            return;
        }
        self.direct_probed = true;
        // The direct connection opens read-write with the default VFS: a URL asking for
        // anything else keeps its steps on the connection it configured.
        if url_options(&self.url).any(|option| matches!(option, "mode=ro" | "mode=memory"))
            || asks_for_own_vfs(&self.url)
        {
            return;
        }
        let file: Option<String> =
            sqlx::query("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .fetch_optional(&mut self.conn)
                .await
                .ok()
                .flatten()
                .and_then(|row| row.try_get(0).ok());
        self.direct = file
            .filter(|file| !file.is_empty())
            .and_then(|file| DirectSqlite::open(std::path::Path::new(&file)).ok());
    }
}

/// A non-transactional step's body, run statement by statement with the count of those that
/// took effect kept on its in-progress mark (`migrate_core::step_progress`): set before each
/// DDL statement (which commits on its own, so a kill leaves only it in doubt), and committed
/// with each data statement (so that is never in doubt).
struct CountedStep<'a> {
    dialect: &'static dyn Dialect,
    tables: &'a VersionTables,
    revision: &'a str,
}

impl CountedStep<'_> {
    async fn run_body(
        &self,
        target: &mut Target<'_>,
        body: &[Statement],
        start: usize,
    ) -> Result<(), StatementFailed> {
        let mut counted_up_to = None;
        for (i, statement) in body.iter().enumerate().skip(start) {
            let outcome = if step_progress::commits_with_progress(&statement.sql) {
                let count = self.progress(i + 1);
                let outcome = target.transaction(&[statement, &count]).await;
                counted_up_to = Some(i + 1);
                outcome
            } else {
                if counted_up_to != Some(i) {
                    target.run(&self.progress(i)).await?;
                }
                target.run(statement).await
            };
            if let Err(e) = outcome {
                self.mark_failed(target, &e.sql, &e.message)
                    .await
                    .map_err(|mark_error| StatementFailed {
                        message: format!(
                            "{}; recording the failure failed too: {}",
                            e.message, mark_error.message
                        ),
                        ..e.clone()
                    })?;
                return Err(e);
            }
        }
        Ok(())
    }

    fn progress(&self, done: usize) -> Statement {
        version_table::set_progress(self.dialect, self.tables, self.revision, done)
    }

    async fn mark_failed(
        &self,
        target: &mut Target<'_>,
        statement: &str,
        error: &str,
    ) -> Result<(), StatementFailed> {
        let mark =
            version_table::mark_failed(self.dialect, self.tables, self.revision, statement, error);
        target.run(&mark).await
    }
}

/// Where a step's statements run: the sqlx connection, or a SQLite file's direct connection.
enum Target<'a> {
    Sqlx(&'a mut AnyConnection),
    Direct(&'a DirectSqlite),
}

/// `-v`: a statement on stderr as it is sent.
fn echo(statement: &Statement) {
    if crate::output::verbose() {
        eprintln!("  {};", statement.sql);
    }
}

impl Target<'_> {
    async fn run(&mut self, statement: &Statement) -> Result<(), StatementFailed> {
        echo(statement);
        match self {
            Target::Sqlx(conn) => run(conn, statement).await,
            Target::Direct(direct) => direct.run(statement),
        }
    }

    /// `statements` in one transaction: all commit, or a failure rolls all back. One that lost
    /// a conflict with another transaction is run again (`conflict`).
    async fn transaction(&mut self, statements: &[&Statement]) -> Result<(), StatementFailed> {
        let mut retry = conflict::Retry::new();
        loop {
            let outcome = self.transaction_once(statements).await;
            match outcome {
                Err(e) if retry.worth_another(e.lost_conflict) => retry.pause(&e.message).await,
                outcome => return outcome,
            }
        }
    }

    async fn transaction_once(&mut self, statements: &[&Statement]) -> Result<(), StatementFailed> {
        if crate::output::verbose() {
            eprintln!("  BEGIN;");
            statements.iter().for_each(|s| echo(s));
            eprintln!("  COMMIT;");
        }
        let conn = match self {
            Target::Direct(direct) => return direct.transaction(statements),
            Target::Sqlx(conn) => conn,
        };
        // One round trip for the whole transaction when nothing needs its rows read: with a
        // server's network in between, a round trip per statement was most of a warm
        // upgrade's cost. A numbered marker after each statement says, when one fails, which
        // one it was: nothing is run a second time to find out (a statement with effects
        // outside the transaction, such as `nextval`, would have them twice).
        let batchable = statements.iter().all(|s| s.expect == Expect::Nothing);
        if batchable {
            let outcome = run_marked_batch(conn, statements).await;
            if outcome.is_err() {
                // A failed batch leaves its transaction open (and aborted).
                let _ = execute(conn, "ROLLBACK").await;
            }
            return outcome;
        }
        let mut tx = conn.begin().await.map_err(|e| failed("BEGIN", e))?;
        for (i, statement) in statements.iter().enumerate() {
            // Dropping `tx` on this early return rolls the transaction back.
            run(&mut tx, statement).await.map_err(|e| e.at(i))?;
        }
        tx.commit().await.map_err(|e| failed("COMMIT", e))
    }
}

/// The file a SQLite URL names (`None` for other databases and in-memory ones), its path
/// percent-decoded as sqlx decodes it (`data%20dir/app.db` is in `data dir`). `None` also for a
/// path that does not decode to UTF-8, which sqlx refuses.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path.contains(":memory:") || query.contains("mode=memory") {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?;
    Some(std::path::PathBuf::from(decoded.as_ref()))
}

/// The SQLite file a command that only looks may read without a connection
/// (`read_sqlite_heads`): one opened through the default VFS. `None`: connect instead.
pub fn directly_readable(url: &str) -> Option<std::path::PathBuf> {
    sqlite_file(url).filter(|_| !asks_for_own_vfs(url))
}

/// The heads of the SQLite file `url` names (`directly_readable`), read on this thread, once
/// per process (`sqlite_direct::read_heads` leaves its connection to the exit).
pub fn read_sqlite_heads(
    file: &std::path::Path,
    url: &str,
    origin: &str,
    tables: &VersionTables,
) -> anyhow::Result<Vec<String>> {
    require_existing(file, origin)?;
    sqlite_direct::read_heads(file, tables, || format!("{} ({origin})", redact(url)))
}

/// A command that only reads creates no SQLite file: a missing one is an error saying so.
fn require_existing(file: &std::path::Path, origin: &str) -> anyhow::Result<()> {
    if file.exists() {
        return Ok(());
    }
    anyhow::bail!(
        "the SQLite database {} does not exist ({origin}); this command only reads and \
         creates nothing. Check the path, or create the database with `migrate upgrade`",
        file.display()
    )
}

/// The `key=value` options of a URL's query.
fn url_options(url: &str) -> impl Iterator<Item = &str> {
    let query = url.split_once('?').map_or("", |(_, query)| query);
    query.split('&').filter(|option| !option.is_empty())
}

/// A SQLite URL that opens its file through something other than the default VFS.
fn asks_for_own_vfs(url: &str) -> bool {
    url_options(url).any(|option| option.starts_with("immutable=") || option.starts_with("vfs="))
}

/// sqlx's URL forms, plus: a SQLite file is created when missing, by a command that may write.
fn connect_url(url: &str, name: DialectName, access: Access) -> String {
    if name != DialectName::Sqlite
        || access == Access::ReadOnly
        || url.contains("mode=")
        || url.contains(":memory:")
    {
        return url.to_string();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}mode=rwc")
}

/// Raw SQL in a revision (`op::execute`) runs with the connection's rights; a PostgreSQL
/// superuser's include running shell commands on the server (`COPY … TO PROGRAM`).
/// Said once per process: a fleet's hundred schemas on one server are one warning.
async fn warn_if_superuser(conn: &mut AnyConnection) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if WARNED.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let row = sqlx::query(
        "SELECT CASE WHEN rolsuper THEN 1 ELSE 0 END FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_optional(&mut *conn)
    .await;
    if let Ok(Some(row)) = row {
        if row.try_get::<i32, _>(0).unwrap_or(0) == 1
            && !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            eprintln!(
                "warning: connected as a PostgreSQL superuser: raw SQL in a revision (op::execute) can do \
                 anything the server can, shell commands included (COPY … TO PROGRAM). Migrate with a role \
                 that owns the schema, or forbid raw SQL ([sandbox] allow_execute = false)"
            );
        }
    }
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// The text every marker row carries, followed by the number of statements done.
const MARKER: &str = "migrate:done:";

/// `BEGIN; s1; SELECT 'migrate:done:1'; s2; …; COMMIT` as one text, and where (in characters)
/// each statement starts in it. Statements are separated on lines of their own, so a statement
/// ending in a `--` comment cannot swallow the separator.
fn transaction_batch(statements: &[&Statement]) -> (String, Vec<usize>) {
    let mut sql = String::from("BEGIN;\n");
    let mut starts = Vec::with_capacity(statements.len());
    let mut chars = sql.chars().count();
    for (i, statement) in statements.iter().enumerate() {
        starts.push(chars);
        let piece = format!("{}\n;\nSELECT '{MARKER}{}';\n", statement.sql, i + 1);
        chars += piece.chars().count();
        sql.push_str(&piece);
    }
    sql.push_str("COMMIT");
    (sql, starts)
}

/// The statement a PostgreSQL error points into: PostgreSQL parses a whole batch before running
/// any of it, so a syntax error comes before any marker, with the character position (from 1)
/// where the parser stopped.
fn statement_at_error_position(e: &sqlx::Error, starts: &[usize]) -> Option<usize> {
    let db = e.as_database_error()?;
    let pg = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()?;
    let sqlx::postgres::PgErrorPosition::Original(position) = pg.position()? else {
        return None;
    };
    let at = position.checked_sub(1)?;
    starts.iter().rposition(|start| *start <= at)
}

/// The database's message, with PostgreSQL's DETAIL and HINT lines where it gave them (which
/// row broke a constraint, what to do instead).
fn with_detail(db: &dyn sqlx::error::DatabaseError) -> String {
    let mut message = db.message().to_string();
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        if let Some(detail) = pg.detail() {
            message.push_str(&format!("\n  DETAIL: {detail}"));
        }
        if let Some(hint) = pg.hint() {
            message.push_str(&format!("\n  HINT: {hint}"));
        }
    }
    message
}

/// Runs `statements` as one marked batch (see `transaction_batch`), reading the results as they
/// come: the last marker seen before an error counts the statements that succeeded, so the
/// next one is the one that failed.
async fn run_marked_batch(
    conn: &mut AnyConnection,
    statements: &[&Statement],
) -> Result<(), StatementFailed> {
    use futures_util::StreamExt;
    let (batch, starts) = transaction_batch(statements);
    let mut done = 0;
    let mut results = sqlx::raw_sql(AssertSqlSafe(batch)).fetch_many(&mut *conn);
    while let Some(result) = results.next().await {
        match result {
            Ok(sqlx::Either::Right(row)) => {
                let marker: Option<String> = row.try_get(0).ok();
                if let Some(n) = marker
                    .as_deref()
                    .and_then(|m| m.strip_prefix(MARKER))
                    .and_then(|n| n.parse::<usize>().ok())
                {
                    done = n;
                }
            }
            Ok(sqlx::Either::Left(_)) => {}
            Err(e) => {
                let at = statement_at_error_position(&e, &starts).unwrap_or(done);
                let sql = match statements.get(at) {
                    Some(statement) => statement.sql.as_str(),
                    None => "COMMIT",
                };
                return Err(failed(sql, e).at(at));
            }
        }
    }
    Ok(())
}

async fn execute(conn: &mut AnyConnection, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
        .execute(conn)
        .await
        .map(|_| ())
}

async fn run(conn: &mut AnyConnection, statement: &Statement) -> Result<(), StatementFailed> {
    match &statement.expect {
        Expect::Nothing => execute(conn, &statement.sql)
            .await
            .map_err(|e| failed(&statement.sql, e)),
        Expect::NoRows(problem) => {
            let rows = sqlx::raw_sql(AssertSqlSafe(statement.sql.clone()))
                .fetch_all(&mut *conn)
                .await
                .map_err(|e| failed(&statement.sql, e))?;
            // Every row counts, whatever its first column holds.
            let tables = rows
                .iter()
                .map(|r| {
                    r.try_get::<String, _>(0)
                        .unwrap_or_else(|_| "(a row)".into())
                })
                .collect();
            expect_no_rows(statement, problem, tables)
        }
    }
}

/// A statement that must find nothing (`PRAGMA foreign_key_check`) fails when it found rows.
fn expect_no_rows(
    statement: &Statement,
    problem: &str,
    tables: Vec<String>,
) -> Result<(), StatementFailed> {
    if tables.is_empty() {
        return Ok(());
    }
    Err(StatementFailed::new(
        statement.sql.clone(),
        format!("{problem} (in table(s): {})", tables.join(", ")),
    ))
}

fn failed(sql: &str, e: sqlx::Error) -> StatementFailed {
    let message = match &e {
        sqlx::Error::Database(db) => with_detail(db.as_ref()),
        other => other.to_string(),
    };
    StatementFailed {
        lost_conflict: conflict::lost_conflict(&e),
        ..StatementFailed::new(sql, message)
    }
}
