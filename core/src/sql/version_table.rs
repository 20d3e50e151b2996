//! The version table, in two parts: `migrate_version` holds the current heads (like Alembic's
//! `alembic_version`), `migrate_history` keeps a row per applied, reverted, stamped or accepted
//! revision with its checksum, direction and time. All SQL is rendered through the dialect.

use super::{Dialect, Statement};
use crate::ops::Op;
use crate::schema::Schema;
use crate::types::*;

pub const HEADS_TABLE: &str = "migrate_version";
pub const HISTORY_TABLE: &str = "migrate_history";

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

fn tables() -> [Table; 2] {
    let heads = Table {
        name: HEADS_TABLE.into(),
        columns: vec![Column {
            primary_key: true,
            ..column("revision", DataType::Varchar(64), false)
        }],
        constraints: vec![],
        comment: None,
    };
    let history = Table {
        name: HISTORY_TABLE.into(),
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
pub fn ensure(d: &dyn Dialect) -> Vec<Statement> {
    let mut all = tables().to_vec();
    if !d.capabilities().transactional_ddl {
        all.push(incomplete_table());
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
}

pub fn record(d: &dyn Dialect, step: &StepRecord) -> Vec<Statement> {
    let text = |s: &str| {
        d.literal(&Value::Text(s.to_string()))
            .expect("text always has a literal")
    };
    let heads = d.quote_ident(HEADS_TABLE);
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
    let cols = ["revision", "direction", "checksum", "message"]
        .map(|c| d.quote_ident(c))
        .join(", ");
    out.push(Statement::plain(format!(
        "INSERT INTO {} ({cols}) VALUES ({}, {}, {}, {})",
        d.quote_ident(HISTORY_TABLE),
        text(step.revision),
        text(step.direction.as_str()),
        text(step.checksum),
        text(step.message)
    )));
    out
}

/// The current heads: one column, `revision`.
pub fn select_heads(d: &dyn Dialect) -> String {
    format!(
        "SELECT {} FROM {}",
        d.quote_ident("revision"),
        d.quote_ident(HEADS_TABLE)
    )
}

/// The checksum each revision was last applied, stamped or accepted with: (revision, checksum).
pub fn select_recorded_checksums(d: &dyn Dialect) -> String {
    let (rev, seq, dir) = (
        d.quote_ident("revision"),
        d.quote_ident("seq"),
        d.quote_ident("direction"),
    );
    let history = d.quote_ident(HISTORY_TABLE);
    format!(
        "SELECT {rev}, {} FROM {history} WHERE {seq} IN (SELECT MAX({seq}) FROM {history} WHERE {dir} NOT IN ('downgrade', 'unstamp') GROUP BY {rev})",
        d.quote_ident("checksum")
    )
}

/// The whole history, oldest first: (revision, direction, checksum, applied_at as text).
pub fn select_history(d: &dyn Dialect) -> String {
    let cols = ["revision", "direction", "checksum"]
        .map(|c| d.quote_ident(c))
        .join(", ");
    format!(
        "SELECT {cols}, CAST({} AS {}) FROM {} ORDER BY {}",
        d.quote_ident("applied_at"),
        d.text_cast_type(),
        d.quote_ident(HISTORY_TABLE),
        d.quote_ident("seq")
    )
}

/// Where DDL is not transactional (MySQL), a step in progress is marked here before it runs and
/// unmarked with its bookkeeping; a failure records the statement and error. A mark left over
/// means the database is somewhere inside that step, so every later run refuses until
/// `migrate resolve` says what happened.
pub const INCOMPLETE_TABLE: &str = "migrate_incomplete";

pub fn incomplete_table() -> Table {
    Table {
        name: INCOMPLETE_TABLE.into(),
        columns: vec![
            Column {
                primary_key: true,
                ..column("revision", DataType::Varchar(64), false)
            },
            column("direction", DataType::Varchar(16), false),
            column("failed_statement", DataType::Text, true),
            column("error", DataType::Text, true),
        ],
        constraints: vec![],
        comment: None,
    }
}

pub fn mark_in_progress(d: &dyn Dialect, revision: &str, direction: Direction) -> Statement {
    let text = |s: &str| {
        d.literal(&Value::Text(s.to_string()))
            .expect("text has a literal")
    };
    Statement::plain(format!(
        "INSERT INTO {} ({}, {}) VALUES ({}, {})",
        d.quote_ident(INCOMPLETE_TABLE),
        d.quote_ident("revision"),
        d.quote_ident("direction"),
        text(revision),
        text(direction.as_str())
    ))
}

pub fn clear_mark(d: &dyn Dialect, revision: &str) -> Statement {
    let text = d
        .literal(&Value::Text(revision.to_string()))
        .expect("text has a literal");
    Statement::plain(format!(
        "DELETE FROM {} WHERE {} = {text}",
        d.quote_ident(INCOMPLETE_TABLE),
        d.quote_ident("revision")
    ))
}

pub fn mark_failed(d: &dyn Dialect, revision: &str, statement: &str, error: &str) -> Statement {
    let text = |s: &str| {
        d.literal(&Value::Text(s.to_string()))
            .expect("text has a literal")
    };
    Statement::plain(format!(
        "UPDATE {} SET {} = {}, {} = {} WHERE {} = {}",
        d.quote_ident(INCOMPLETE_TABLE),
        d.quote_ident("failed_statement"),
        text(statement),
        d.quote_ident("error"),
        text(error),
        d.quote_ident("revision"),
        text(revision)
    ))
}

/// (revision, direction, failed statement or NULL, error or NULL).
pub fn select_incomplete(d: &dyn Dialect) -> String {
    let cols = ["revision", "direction", "failed_statement", "error"]
        .map(|c| d.quote_ident(c))
        .join(", ");
    format!("SELECT {cols} FROM {}", d.quote_ident(INCOMPLETE_TABLE))
}

/// How many version tables exist (0 before the first run): one integer column.
pub fn count_version_tables(d: &dyn Dialect) -> String {
    let catalog = match d.name() {
        super::DialectName::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ".to_string(),
        super::DialectName::Postgresql => {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = "
                .to_string()
        }
        super::DialectName::Mysql => {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ".to_string()
        }
    };
    format!(
        "{catalog}{}",
        d.literal(&Value::Text(HEADS_TABLE.into()))
            .expect("text has a literal")
    )
}
