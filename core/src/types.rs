//! The parts of a schema that operations carry. These mirror the WIT `types` interface one to
//! one; the host converts at the wasm boundary so that nothing past it sees generated code.

use serde::{Deserialize, Serialize};

/// Portable column types; each dialect maps them to a native type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataType {
    Integer,
    Bigint,
    Smallint,
    Boolean,
    Text,
    Varchar(u32),
    Float,
    Double,
    Numeric {
        precision: u8,
        scale: u8,
    },
    Date,
    Time,
    Timestamp,
    Timestamptz,
    Blob,
    Json,
    Uuid,
    /// A named enumerated type: one of `values`, in this order. PostgreSQL makes it a type of
    /// its own (`CREATE TYPE name AS ENUM`), MySQL an `ENUM(...)` column, SQLite a CHECK on a
    /// TEXT column. Every column naming the same enum holds the same values (see `enums`).
    Enum {
        name: String,
        values: Vec<String>,
    },
}

impl DataType {
    /// The enum's name and values, if this is one.
    pub fn as_enum(&self) -> Option<(&str, &[String])> {
        match self {
            DataType::Enum { name, values } => Some((name, values)),
            _ => None,
        }
    }

    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            DataType::Integer | DataType::Bigint | DataType::Smallint
        )
    }
}

/// A literal value: a bulk-insert cell or a literal default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Null,
    Boolean(bool),
    Integer(i64),
    Float(f64),
    Text(String),
    Blob(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerDefault {
    Literal(Value),
    Expression(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferentialAction {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl ReferentialAction {
    pub fn sql(self) -> &'static str {
        match self {
            ReferentialAction::NoAction => "NO ACTION",
            ReferentialAction::Restrict => "RESTRICT",
            ReferentialAction::Cascade => "CASCADE",
            ReferentialAction::SetNull => "SET NULL",
            ReferentialAction::SetDefault => "SET DEFAULT",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub data_type: DataType,
    pub nullable: bool,
    pub primary_key: bool,
    pub autoincrement: bool,
    pub unique: bool,
    pub server_default: Option<ServerDefault>,
    pub comment: Option<String>,
    /// The type some databases get instead of the portable one (`MEDIUMTEXT` on MySQL, `INET`
    /// on PostgreSQL), at most one per database. Empty (and then left out of the recorded form,
    /// so earlier revisions keep their checksums) for most columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub native_types: Vec<NativeType>,
    /// A generated (computed) column's expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<Generated>,
    /// Options of an autoincrement column's identity (PostgreSQL's ALWAYS, START, INCREMENT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
}

/// Which database a native type is for (MariaDB is `Mysql`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeDialect {
    Sqlite,
    Postgresql,
    Mysql,
}

/// A type as one database spells it, used there in place of the column's portable type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NativeType {
    pub dialect: TypeDialect,
    pub sql: String,
}

/// A column computed from others: `GENERATED ALWAYS AS (expression) STORED|VIRTUAL`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generated {
    pub expression: String,
    /// Stored in the row (computed on write), or virtual (computed on read).
    pub stored: bool,
}

/// How an autoincrement column's values are made, where the database lets it be said. The
/// default is every autoincrement's own: BY DEFAULT, from 1, by 1.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Values are always generated: an INSERT may not give one (PostgreSQL's ALWAYS).
    #[serde(default, skip_serializing_if = "is_false")]
    pub always: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub increment: Option<i64>,
}

impl Identity {
    /// The options as a model or a catalog states them (a start or step of 1 is the default),
    /// `None` when they are the default.
    pub fn stated(always: bool, start: Option<i64>, increment: Option<i64>) -> Option<Identity> {
        let identity = Identity {
            always,
            start: start.filter(|s| *s != 1),
            increment: increment.filter(|i| *i != 1),
        };
        (identity != Identity::default()).then_some(identity)
    }
}

impl Column {
    /// The native type this column has on `dialect`, if one is given for it.
    pub fn native_type(&self, dialect: TypeDialect) -> Option<&str> {
        self.native_types
            .iter()
            .find(|n| n.dialect == dialect)
            .map(|n| n.sql.as_str())
    }

    /// A nullable column with nothing else set, as the SDK's `Column::new` makes it.
    pub fn new(name: impl Into<String>, data_type: DataType) -> Column {
        Column {
            name: name.into(),
            data_type,
            nullable: true,
            primary_key: false,
            autoincrement: false,
            unique: false,
            server_default: None,
            comment: None,
            native_types: vec![],
            generated: None,
            identity: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrimaryKey {
    pub name: Option<String>,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UniqueConstraint {
    pub name: Option<String>,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub referred_table: String,
    pub referred_columns: Vec<String>,
    pub on_delete: Option<ReferentialAction>,
    pub on_update: Option<ReferentialAction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckConstraint {
    pub name: Option<String>,
    pub expression: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableConstraint {
    PrimaryKey(PrimaryKey),
    Unique(UniqueConstraint),
    ForeignKey(ForeignKey),
    Check(CheckConstraint),
}

impl TableConstraint {
    pub fn name(&self) -> Option<&str> {
        match self {
            TableConstraint::PrimaryKey(c) => c.name.as_deref(),
            TableConstraint::Unique(c) => c.name.as_deref(),
            TableConstraint::ForeignKey(c) => c.name.as_deref(),
            TableConstraint::Check(c) => c.name.as_deref(),
        }
    }

    pub fn kind(&self) -> ConstraintKind {
        match self {
            TableConstraint::PrimaryKey(_) => ConstraintKind::PrimaryKey,
            TableConstraint::Unique(_) => ConstraintKind::Unique,
            TableConstraint::ForeignKey(_) => ConstraintKind::ForeignKey,
            TableConstraint::Check(_) => ConstraintKind::Check,
        }
    }

    /// The columns of this table the constraint uses (none for a check: its expression is opaque).
    pub fn foreign_key(&self) -> Option<&ForeignKey> {
        match self {
            TableConstraint::ForeignKey(fk) => Some(fk),
            _ => None,
        }
    }

    pub fn columns(&self) -> &[String] {
        match self {
            TableConstraint::PrimaryKey(c) => &c.columns,
            TableConstraint::Unique(c) => &c.columns,
            TableConstraint::ForeignKey(c) => &c.columns,
            TableConstraint::Check(_) => &[],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub constraints: Vec<TableConstraint>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    pub table: String,
    /// The key's parts in order: column names, or SQL expressions where `keys` says so.
    pub columns: Vec<String>,
    pub unique: bool,
    /// How each part of `columns` is indexed; empty when every part is a plain ascending
    /// column, which keeps such an index's recorded form (and so its revision's checksum) as it
    /// was before these options existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<IndexKey>,
    /// A partial index's condition, SQL (PostgreSQL and SQLite; MySQL has none).
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// Columns stored in the index besides its key (PostgreSQL's INCLUDE).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
}

/// How one part of an index's key is indexed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexKey {
    /// The part is an SQL expression (`lower(email)`), not a column's name.
    #[serde(default, skip_serializing_if = "is_false")]
    pub expression: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub descending: bool,
    /// MySQL: only the first N characters of the column are indexed. Other databases index the
    /// whole value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_length: Option<u32>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl Index {
    /// How part `i` of the key is indexed.
    pub fn key(&self, i: usize) -> IndexKey {
        self.keys.get(i).cloned().unwrap_or_default()
    }

    /// The parts of the key that are columns (not expressions).
    pub fn key_columns(&self) -> Vec<String> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.key(*i).expression)
            .map(|(_, c)| c.clone())
            .collect()
    }

    /// The columns the index needs: its key's columns and its INCLUDE columns.
    pub fn used_columns(&self) -> Vec<String> {
        let mut out = self.key_columns();
        out.extend(self.include.iter().cloned());
        out
    }

    /// Whether anything but plain ascending columns is asked.
    pub fn has_options(&self) -> bool {
        self.keys.iter().any(|k| *k != IndexKey::default())
            || self.predicate.is_some()
            || !self.include.is_empty()
    }

    /// The same index with `keys` left empty when every part is plain (the recorded form).
    pub fn normalized(mut self) -> Index {
        if self.keys.iter().all(|k| *k == IndexKey::default()) {
            self.keys.clear();
        }
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultChange {
    Set(ServerDefault),
    Drop,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommentChange {
    Set(String),
    Drop,
}

/// What `alter_column` changes; `None` fields stay as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnChange {
    pub table: String,
    pub column: String,
    pub new_type: Option<DataType>,
    pub nullable: Option<bool>,
    pub server_default: Option<DefaultChange>,
    pub new_name: Option<String>,
    pub comment: Option<CommentChange>,
    /// With `new_type`: the column's native types from now on (none: the portable type
    /// everywhere).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub new_native_types: Vec<NativeType>,
}

impl ColumnChange {
    /// A change that only renames the column.
    pub fn rename(table: &str, column: &str, new_name: &str) -> ColumnChange {
        ColumnChange {
            table: table.into(),
            column: column.into(),
            new_type: None,
            nullable: None,
            server_default: None,
            new_name: Some(new_name.into()),
            comment: None,
            new_native_types: vec![],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
    ForeignKey,
    Check,
}

impl ConstraintKind {
    pub fn describe(self) -> &'static str {
        match self {
            ConstraintKind::PrimaryKey => "primary key",
            ConstraintKind::Unique => "unique constraint",
            ConstraintKind::ForeignKey => "foreign key",
            ConstraintKind::Check => "check constraint",
        }
    }
}
