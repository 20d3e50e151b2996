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
    /// The revision's current checksum accepted in place of the recorded one.
    Accept,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
            Direction::Stamp => "stamp",
            Direction::Accept => "accept",
        }
    }
}

fn column(name: &str, data_type: DataType, nullable: bool) -> Column {
    Column {
        name: name.into(),
        data_type,
        nullable,
        primary_key: false,
        autoincrement: false,
        unique: false,
        server_default: None,
        comment: None,
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

/// CREATE TABLE IF NOT EXISTS for both tables.
pub fn ensure(d: &dyn Dialect) -> Vec<Statement> {
    tables()
        .into_iter()
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
    for head in step.removed_heads {
        out.push(Statement::plain(format!(
            "DELETE FROM {heads} WHERE {} = {}",
            d.quote_ident("revision"),
            text(head)
        )));
    }
    for head in step.added_heads {
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
        "SELECT {rev}, {} FROM {history} WHERE {seq} IN (SELECT MAX({seq}) FROM {history} WHERE {dir} <> 'downgrade' GROUP BY {rev})",
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
        d.data_type(&DataType::Text),
        d.quote_ident(HISTORY_TABLE),
        d.quote_ident("seq")
    )
}
