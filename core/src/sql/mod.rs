//! SQL rendering: one module per dialect behind the `Dialect` trait, plus the parts they share.

mod common;
pub mod mysql;
pub mod one_transaction;
pub mod plan;
pub mod postgres;
mod postgres_enums;
pub mod sqlite;
pub mod version_table;

pub use common::column_type;
pub use plan::{render_step, render_step_within, RenderError, StepScript, DEFAULT_MAX_SQL_BYTES};

use crate::ops::Op;
use crate::schema::Schema;
use crate::types::{DataType, ServerDefault, Value};

/// One SQL statement and what the runner expects of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sql: String,
    pub expect: Expect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Run it; any result rows are ignored.
    Nothing,
    /// A query that must return no rows (e.g. `PRAGMA foreign_key_check`); rows mean failure,
    /// described by this text.
    NoRows(String),
}

impl Statement {
    pub fn plain(sql: impl Into<String>) -> Statement {
        Statement {
            sql: sql.into(),
            expect: Expect::Nothing,
        }
    }
}

/// What a dialect can do; code asks these instead of testing which dialect it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// DDL can be rolled back with the transaction that ran it.
    pub transactional_ddl: bool,
    /// Column and table comments are stored.
    pub comments: bool,
    /// An enum's name is kept (PostgreSQL's type, SQLite's CHECK constraint), so a schema read
    /// back from the database names its enums; MySQL's `ENUM(...)` has values only.
    pub enum_names: bool,
}

/// Which database a URL or flag names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialectName {
    Sqlite,
    Postgresql,
    Mysql,
}

impl DialectName {
    pub fn parse(text: &str) -> Option<DialectName> {
        match text.to_ascii_lowercase().as_str() {
            "sqlite" | "sqlite3" => Some(DialectName::Sqlite),
            "postgresql" | "postgres" | "pg" => Some(DialectName::Postgresql),
            "mysql" | "mariadb" => Some(DialectName::Mysql),
            _ => None,
        }
    }

    /// Which database a column's native type must name to be used here.
    pub fn type_dialect(self) -> crate::types::TypeDialect {
        match self {
            DialectName::Sqlite => crate::types::TypeDialect::Sqlite,
            DialectName::Postgresql => crate::types::TypeDialect::Postgresql,
            DialectName::Mysql => crate::types::TypeDialect::Mysql,
        }
    }

    /// The dialect of a sqlx-style URL (`sqlite://…`, `postgres://…`, `mysql://…`).
    pub fn from_url(url: &str) -> Option<DialectName> {
        let scheme = url.split_once(':')?.0;
        match scheme {
            "sqlite" => Some(DialectName::Sqlite),
            "postgres" | "postgresql" => Some(DialectName::Postgresql),
            "mysql" | "mariadb" => Some(DialectName::Mysql),
            _ => None,
        }
    }
}

pub trait Dialect: Sync {
    fn name(&self) -> DialectName;
    fn capabilities(&self) -> Capabilities;
    /// Quotes an identifier so that any name, keywords and quotes included, is taken literally.
    fn quote_ident(&self, name: &str) -> String;
    /// A literal the database reads back as exactly this value.
    fn literal(&self, value: &Value) -> Result<String, String>;
    fn data_type(&self, data_type: &DataType) -> String;
    /// What follows `PRIMARY KEY` on an autoincrement column (its identity options said, or
    /// refused where the database cannot keep them).
    fn autoincrement_clause(&self, column: &crate::types::Column) -> Result<String, String>;
    /// Refuses a generated column the database cannot make.
    fn generated_ok(&self, _generated: &crate::types::Generated) -> Result<(), String> {
        Ok(())
    }
    /// What follows an enum column's definition where the type alone does not hold the values
    /// (SQLite's CHECK constraint).
    fn enum_column_suffix(&self, _column: &str, _name: &str, _values: &[String]) -> String {
        String::new()
    }
    /// The type `CAST(x AS …)` turns a value into text with.
    fn text_cast_type(&self) -> &'static str;
    /// One row, one text column: the server's version string (MariaDB's says "MariaDB").
    fn server_version_query(&self) -> &'static str;
    /// A server default as it follows DEFAULT in a column definition.
    fn default_sql(
        &self,
        _data_type: &DataType,
        default: &ServerDefault,
    ) -> Result<String, String> {
        common::server_default(self, default)
    }
    /// Renders one op. `schema` is the model before the op, for dialects that need the whole
    /// table (a SQLite rebuild). Returns the statements, and whether they need foreign-key
    /// enforcement off around the revision's transaction.
    fn render(&self, op: &Op, schema: &Schema) -> Result<Rendered, String>;
    /// Where this dialect makes `op` by rebuilding its table, that table. A run of consecutive
    /// ops on the table is then rendered as one rebuild.
    fn rebuilds_table<'a>(&self, _op: &'a Op, _schema: &Schema) -> Option<&'a str> {
        None
    }
    /// Renders a run of ops on one table as a single rebuild (see `rebuilds_table`).
    fn render_rebuild(
        &self,
        table: &str,
        _ops: &[Op],
        _schema: &Schema,
    ) -> Result<Rendered, String> {
        Err(format!(
            "{:?} does not rebuild tables (asked to rebuild {table:?})",
            self.name()
        ))
    }
    /// Where the dialect rebuilds tables: a query for the triggers, views and indexes the
    /// database has, as (type, name, table, sql), so a rebuild can keep them.
    fn database_objects_query(&self) -> Option<&'static str> {
        None
    }
    /// The name this database gives an unnamed `kind` constraint on `columns` of `table`, where
    /// its rule is certain (the model's name, or the catalog's online, comes first).
    fn default_constraint_name(
        &self,
        _table: &str,
        _kind: crate::types::ConstraintKind,
        _columns: &[String],
    ) -> Option<String> {
        None
    }
    /// Statements around a revision's read (the `data` interface) that make it read-only, and
    /// those that end that; none where the database has no per-statement read-only mode.
    fn read_only_guard(&self) -> (Vec<String>, Vec<String>) {
        (vec![], vec![])
    }
    /// Whether an index's prefix lengths (`name(10)`) are kept; elsewhere the whole value is
    /// indexed, as Alembic ignores `mysql_length` on other databases.
    fn keeps_prefix_lengths(&self) -> bool {
        false
    }
    /// How a revision whose statements need foreign-key enforcement off is wrapped.
    fn foreign_keys_off(&self) -> ForeignKeysOff {
        ForeignKeysOff::default()
    }
}

/// Statements around a revision that rebuilds tables: before BEGIN, just before COMMIT (a check
/// that nothing was broken while enforcement was off), and after COMMIT.
#[derive(Debug, Default)]
pub struct ForeignKeysOff {
    pub before: Vec<Statement>,
    pub check: Vec<Statement>,
    pub after: Vec<Statement>,
}

#[derive(Debug, Default)]
pub struct Rendered {
    pub statements: Vec<Statement>,
    pub needs_foreign_keys_off: bool,
}

impl Rendered {
    pub fn plain(statements: Vec<Statement>) -> Rendered {
        Rendered {
            statements,
            needs_foreign_keys_off: false,
        }
    }
}

pub fn dialect(name: DialectName) -> Option<&'static dyn Dialect> {
    match name {
        DialectName::Sqlite => Some(&sqlite::Sqlite),
        DialectName::Postgresql => Some(&postgres::Postgres),
        DialectName::Mysql => Some(&mysql::Mysql),
    }
}

/// Standard SQL quoting with double quotes; a quote inside is doubled.
pub fn double_quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Standard string literal quoting with single quotes; a quote inside is doubled.
pub fn single_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}
