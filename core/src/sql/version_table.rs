//! The version table, in two parts: `migrate_version` holds the current heads (like Alembic's
//! `alembic_version`), `migrate_history` keeps a row per applied, reverted, stamped or accepted
//! revision with its checksum, direction and time. All SQL is rendered through the dialect.

use super::{Dialect, Statement};
use crate::ops::Op;
use crate::schema::Schema;
use crate::types::*;

/// The names of migrate's own tables. The default is `migrate_version`, `migrate_history` and
/// `migrate_incomplete`; the settings' `version_table = "NAME"` (Alembic's setting) renames them
/// all: `NAME` holds the heads, and the others take NAME without a `_version` ending plus
/// `_history` / `_incomplete` (`app_version` -> `app_history`, `app_incomplete`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionTables {
    pub heads: String,
    pub history: String,
    pub incomplete: String,
    /// The run lock's lease, on a Galera cluster only (where `GET_LOCK` is per node).
    pub lock: String,
}

impl Default for VersionTables {
    fn default() -> VersionTables {
        VersionTables::named("migrate_version")
    }
}

impl VersionTables {
    pub fn named(version_table: &str) -> VersionTables {
        let base = version_table
            .strip_suffix("_version")
            .filter(|b| !b.is_empty())
            .unwrap_or(version_table);
        VersionTables {
            heads: version_table.to_string(),
            history: format!("{base}_history"),
            incomplete: format!("{base}_incomplete"),
            lock: format!("{base}_lock"),
        }
    }

    pub fn all(&self) -> [&str; 4] {
        [&self.heads, &self.history, &self.incomplete, &self.lock]
    }

    /// The columns each of the tables has, by the table's name.
    fn expected_columns(&self, table: &str) -> &'static [&'static str] {
        if table == self.heads {
            &["revision"]
        } else if table == self.lock {
            &["name", "holder", "expires_at", "fence"]
        } else if table == self.history {
            &[
                "seq",
                "revision",
                "direction",
                "checksum",
                "message",
                "applied_at",
            ]
        } else {
            &[
                "revision",
                "direction",
                "failed_statement",
                "error",
                PROGRESS_COLUMN,
            ]
        }
    }

    /// Whether the in-progress table exists in its first shape, from before steps counted the
    /// statements that took effect: still migrate's, and `add_progress_column` brings it up to
    /// date.
    pub fn lacks_progress_column(&self, rows: &[(String, String)]) -> bool {
        let columns: Vec<&str> = rows
            .iter()
            .filter(|(t, _)| t.eq_ignore_ascii_case(&self.incomplete))
            .map(|(_, c)| c.as_str())
            .collect();
        !columns.is_empty()
            && !columns
                .iter()
                .any(|c| c.eq_ignore_ascii_case(PROGRESS_COLUMN))
    }

    /// Judges what the catalog says of tables with these names ((table, column) rows from
    /// `select_columns`): `Ok(true)` when the heads table exists in migrate's shape, `Ok(false)`
    /// when it does not exist yet, and an error naming the table when a table of one of these
    /// names has another shape (a user's own `migrate_version`, say): it is not migrate's, and
    /// nothing may be read from or written to it.
    pub fn judge(&self, rows: &[(String, String)]) -> Result<bool, String> {
        for table in self.all() {
            let mut found: Vec<String> = rows
                .iter()
                .filter(|(t, _)| t.eq_ignore_ascii_case(table))
                .map(|(_, c)| c.to_ascii_lowercase())
                .collect();
            if found.is_empty() {
                continue;
            }
            found.sort();
            let mut expected: Vec<String> = self
                .expected_columns(table)
                .iter()
                .map(|c| c.to_string())
                .collect();
            if table == self.incomplete && !found.iter().any(|c| c == PROGRESS_COLUMN) {
                expected.retain(|c| c != PROGRESS_COLUMN);
            }
            expected.sort();
            if found != expected {
                return Err(format!(
                    "the table {table:?} exists but is not one of migrate's version tables (its columns are {}; \
                     migrate's has {}). It belongs to something else, so migrate reads and changes nothing in it: \
                     give migrate's tables other names with `version_table = \"…\"` in the settings",
                    found.join(", "),
                    expected.join(", ")
                ));
            }
        }
        Ok(rows
            .iter()
            .any(|(t, _)| t.eq_ignore_ascii_case(&self.heads)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Upgrade,
    Downgrade,
    /// Heads set by `stamp`, without running the revision.
    Stamp,
    /// A head taken away by `stamp` (to base, or to a revision that is not its descendant),
    /// without running its downgrade.
    Unstamp,
    /// The revision's current checksum accepted in place of the recorded one.
    Accept,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
            Direction::Stamp => "stamp",
            Direction::Unstamp => "unstamp",
            Direction::Accept => "accept",
        }
    }
}

fn column(name: &str, data_type: DataType, nullable: bool) -> Column {
    Column {
        nullable,
        ..Column::new(name, data_type)
    }
}

fn tables(t: &VersionTables) -> [Table; 2] {
    let heads = Table {
        name: t.heads.clone(),
        columns: vec![Column {
            primary_key: true,
            ..column("revision", DataType::Varchar(64), false)
        }],
        constraints: vec![],
        comment: None,
    };
    let history = Table {
        name: t.history.clone(),
        columns: vec![
            Column {
                primary_key: true,
                autoincrement: true,
                ..column("seq", DataType::Integer, false)
            },
            column("revision", DataType::Varchar(64), false),
            column("direction", DataType::Varchar(16), false),
            column("checksum", DataType::Varchar(64), false),
            column("message", DataType::Text, false),
            Column {
                server_default: Some(ServerDefault::Expression("CURRENT_TIMESTAMP".into())),
                ..column("applied_at", DataType::Timestamp, false)
            },
        ],
        constraints: vec![],
        comment: None,
    };
    [heads, history]
}

/// CREATE TABLE IF NOT EXISTS for the version tables (the in-progress mark only where DDL is
/// not transactional).
pub fn ensure(d: &dyn Dialect, t: &VersionTables) -> Vec<Statement> {
    let mut all = tables(t).to_vec();
    if !d.capabilities().transactional_ddl {
        all.push(incomplete_table(t));
    }
    all.into_iter()
        .flat_map(|t| {
            d.render(&Op::CreateTable(t), &Schema::default())
                .expect("the version table renders")
                .statements
        })
        .map(|s| {
            Statement::plain(
                s.sql
                    .replacen("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1),
            )
        })
        .collect()
}

/// One step's bookkeeping: heads that go, heads that come, and a history row.
pub struct StepRecord<'a> {
    pub revision: &'a str,
    pub direction: Direction,
    pub checksum: &'a str,
    pub message: &'a str,
    pub removed_heads: &'a [String],
    pub added_heads: &'a [String],
    /// The history row's time when it must be a given one (`YYYY-MM-DD HH:MM:SS`, UTC: the
    /// run's start, for a revision that stamped rows with it); else the database's clock.
    pub applied_at: Option<&'a str>,
}

pub fn record(d: &dyn Dialect, t: &VersionTables, step: &StepRecord) -> Vec<Statement> {
    let text = |s: &str| {
        d.literal(&Value::Text(s.to_string()))
            .expect("text always has a literal")
    };
    let heads = d.quote_ident(&t.heads);
    let mut out = Vec::new();
    let revision = d.quote_ident("revision");
    // A step along a line moves one head: one UPDATE rather than a DELETE and an INSERT.
    if let ([removed], [added]) = (step.removed_heads, step.added_heads) {
        out.push(Statement::plain(format!(
            "UPDATE {heads} SET {revision} = {} WHERE {revision} = {}",
            text(added),
            text(removed)
        )));
    }
    let moved_one = step.removed_heads.len() == 1 && step.added_heads.len() == 1;
    for head in step.removed_heads.iter().filter(|_| !moved_one) {
        out.push(Statement::plain(format!(
            "DELETE FROM {heads} WHERE {} = {}",
            d.quote_ident("revision"),
            text(head)
        )));
    }
    for head in step.added_heads.iter().filter(|_| !moved_one) {
        out.push(Statement::plain(format!(
            "INSERT INTO {heads} ({}) VALUES ({})",
            d.quote_ident("revision"),
            text(head)
        )));
    }
    let mut cols = ["revision", "direction", "checksum", "message"]
        .map(|c| d.quote_ident(c))
        .join(", ");
    let mut values = [
        step.revision,
        step.direction.as_str(),
        step.checksum,
        step.message,
    ]
    .map(text)
    .join(", ");
    if let Some(at) = step.applied_at {
        cols.push_str(&format!(", {}", d.quote_ident("applied_at")));
        values.push_str(&format!(", {}", text(at)));
    }
    out.push(Statement::plain(format!(
        "INSERT INTO {} ({cols}) VALUES ({values})",
        d.quote_ident(&t.history),
    )));
    out
}

/// The current heads: one column, `revision`.
pub fn select_heads(d: &dyn Dialect, t: &VersionTables) -> String {
    format!(
        "SELECT {} FROM {}",
        d.quote_ident("revision"),
        d.quote_ident(&t.heads)
    )
}

/// The checksum each revision was last applied, stamped or accepted with: (revision, checksum).
pub fn select_recorded_checksums(d: &dyn Dialect, t: &VersionTables) -> String {
    let (rev, seq, dir) = (
        d.quote_ident("revision"),
        d.quote_ident("seq"),
        d.quote_ident("direction"),
    );
    let history = d.quote_ident(&t.history);
    format!(
        "SELECT {rev}, {} FROM {history} WHERE {seq} IN (SELECT MAX({seq}) FROM {history} WHERE {dir} NOT IN ('downgrade', 'unstamp') GROUP BY {rev})",
        d.quote_ident("checksum")
    )
}

/// The whole history, oldest first: (revision, direction, checksum, applied_at). The time is
/// RFC 3339 in UTC on every database: the column holds the database's CURRENT_TIMESTAMP, which
/// is UTC on SQLite and the session's time zone on PostgreSQL and MySQL, read back in it.
pub fn select_history(d: &dyn Dialect, t: &VersionTables) -> String {
    let cols = ["revision", "direction", "checksum"]
        .map(|c| d.quote_ident(c))
        .join(", ");
    let at = d.quote_ident("applied_at");
    let utc = match d.name() {
        super::DialectName::Sqlite => format!("strftime('%Y-%m-%dT%H:%M:%SZ', {at})"),
        super::DialectName::Postgresql => format!(
            "to_char(({at} AT TIME ZONE current_setting('TimeZone')) AT TIME ZONE 'UTC', \
             'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        ),
        super::DialectName::Mysql => format!(
            "CAST(DATE_FORMAT(COALESCE(CONVERT_TZ({at}, @@session.time_zone, '+00:00'), {at}), \
             '%Y-%m-%dT%H:%i:%s.%fZ') AS CHAR)"
        ),
    };
    format!(
        "SELECT {cols}, {utc} FROM {} ORDER BY {}",
        d.quote_ident(&t.history),
        d.quote_ident("seq")
    )
}

/// The in-progress mark's count of the step's statements known to have taken effect
/// (`crate::step_progress`).
pub const PROGRESS_COLUMN: &str = "statements_done";

/// Adds the progress count to an in-progress table made before it existed.
pub fn add_progress_column(d: &dyn Dialect, t: &VersionTables) -> Statement {
    Statement::plain(format!(
        "ALTER TABLE {} ADD COLUMN {} {}",
        d.quote_ident(&t.incomplete),
        d.quote_ident(PROGRESS_COLUMN),
        d.data_type(&DataType::Integer)
    ))
}

/// Sets the in-progress step's count of statements that took effect.
pub fn set_progress(d: &dyn Dialect, t: &VersionTables, revision: &str, done: usize) -> Statement {
    Statement::plain(format!(
        "UPDATE {} SET {} = {done} WHERE {} = {}",
        d.quote_ident(&t.incomplete),
        d.quote_ident(PROGRESS_COLUMN),
        d.quote_ident("revision"),
        d.literal(&Value::Text(revision.to_string()))
            .expect("text has a literal")
    ))
}

/// Where DDL is not transactional (MySQL), a step in progress is marked here before it runs and
/// unmarked with its bookkeeping; a failure records the statement and error. A mark left over
/// means the database is somewhere inside that step, so every later run refuses until
/// `migrate resolve` says what happened.
pub fn incomplete_table(t: &VersionTables) -> Table {
    Table {
        name: t.incomplete.clone(),
        columns: vec![
            Column {
                primary_key: true,
                ..column("revision", DataType::Varchar(64), false)
            },
            column("direction", DataType::Varchar(16), false),
            column("failed_statement", DataType::Text, true),
            column("error", DataType::Text, true),
            column(PROGRESS_COLUMN, DataType::Integer, true),
        ],
        constraints: vec![],
        comment: None,
    }
}

pub fn mark_in_progress(
    d: &dyn Dialect,
    t: &VersionTables,
    revision: &str,
    direction: Direction,
) -> Statement {
    let text = |s: &str| {
        d.literal(&Value::Text(s.to_string()))
            .expect("text has a literal")
    };
    Statement::plain(format!(
        "INSERT INTO {} ({}, {}) VALUES ({}, {})",
        d.quote_ident(&t.incomplete),
        d.quote_ident("revision"),
        d.quote_ident("direction"),
        text(revision),
        text(direction.as_str())
    ))
}

pub fn clear_mark(d: &dyn Dialect, t: &VersionTables, revision: &str) -> Statement {
    let text = d
        .literal(&Value::Text(revision.to_string()))
        .expect("text has a literal");
    Statement::plain(format!(
        "DELETE FROM {} WHERE {} = {text}",
        d.quote_ident(&t.incomplete),
        d.quote_ident("revision")
    ))
}

pub fn mark_failed(
    d: &dyn Dialect,
    t: &VersionTables,
    revision: &str,
    statement: &str,
    error: &str,
) -> Statement {
    let text = |s: &str| {
        d.literal(&Value::Text(s.to_string()))
            .expect("text has a literal")
    };
    Statement::plain(format!(
        "UPDATE {} SET {} = {}, {} = {} WHERE {} = {}",
        d.quote_ident(&t.incomplete),
        d.quote_ident("failed_statement"),
        text(statement),
        d.quote_ident("error"),
        text(error),
        d.quote_ident("revision"),
        text(revision)
    ))
}

/// (revision, direction, failed statement or NULL, error or NULL, statements done or NULL);
/// `with_progress` false for a table in its first shape, which has no count.
pub fn select_incomplete(d: &dyn Dialect, t: &VersionTables, with_progress: bool) -> String {
    let cols = ["revision", "direction", "failed_statement", "error"]
        .map(|c| d.quote_ident(c))
        .join(", ");
    let progress = if with_progress {
        d.quote_ident(PROGRESS_COLUMN)
    } else {
        "NULL".to_string()
    };
    format!(
        "SELECT {cols}, {progress} FROM {}",
        d.quote_ident(&t.incomplete)
    )
}

/// (table, column) for every column of the tables named like migrate's: one query, whose rows
/// `VersionTables::judge` reads.
pub fn select_columns(d: &dyn Dialect, t: &VersionTables) -> String {
    let names = t
        .all()
        .map(|n| {
            d.literal(&Value::Text(n.into()))
                .expect("text has a literal")
        })
        .join(", ");
    match d.name() {
        super::DialectName::Sqlite => format!(
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name IN ({names})"
        ),
        super::DialectName::Postgresql => format!(
            "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name IN ({names})"
        ),
        super::DialectName::Mysql => format!(
            "SELECT CAST(table_name AS CHAR), CAST(column_name AS CHAR) FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name IN ({names})"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::VersionTables;

    fn rows(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(t, c)| (t.to_string(), c.to_string()))
            .collect()
    }

    #[test]
    fn names_follow_the_version_table_setting() {
        let default = VersionTables::default();
        assert_eq!(
            default.all(),
            [
                "migrate_version",
                "migrate_history",
                "migrate_incomplete",
                "migrate_lock"
            ]
        );
        assert_eq!(
            VersionTables::named("app_version").all(),
            ["app_version", "app_history", "app_incomplete", "app_lock"]
        );
        assert_eq!(
            VersionTables::named("versions").all(),
            [
                "versions",
                "versions_history",
                "versions_incomplete",
                "versions_lock"
            ]
        );
    }

    #[test]
    fn a_table_of_the_same_name_with_another_shape_is_refused_by_name() {
        let t = VersionTables::default();
        assert_eq!(t.judge(&[]), Ok(false));
        assert_eq!(t.judge(&rows(&[("migrate_version", "revision")])), Ok(true));
        let err = t
            .judge(&rows(&[
                ("migrate_version", "id"),
                ("migrate_version", "name"),
            ]))
            .unwrap_err();
        assert!(
            err.contains("\"migrate_version\"") && err.contains("id, name"),
            "{err}"
        );
        let err = t
            .judge(&rows(&[
                ("migrate_version", "revision"),
                ("migrate_history", "revision"),
            ]))
            .unwrap_err();
        assert!(err.contains("\"migrate_history\""), "{err}");
    }
}
