//! The values revisions describe schema with: types, columns, tables, indexes, constraints.
//! Builders take `self` and return it, so a definition reads as one expression.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

/// Portable column types; each database maps them to its natural native type.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    Integer,
    Bigint,
    Smallint,
    Boolean,
    Text,
    /// Text of at most this many characters.
    Varchar(u32),
    Float,
    Double,
    Numeric {
        precision: u8,
        scale: u8,
    },
    Date,
    Time,
    /// Timestamp without time zone.
    Timestamp,
    /// Timestamp with time zone.
    Timestamptz,
    Blob,
    Json,
    Uuid,
}

/// A literal value, for `op::bulk_insert` rows and literal defaults.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    Integer(i64),
    Float(f64),
    Text(String),
    Blob(Vec<u8>),
}

macro_rules! value_from {
    ($($t:ty => $variant:ident via $conv:expr),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::$variant($conv(v))
            }
        })*
    };
}

value_from! {
    bool => Boolean via |v| v,
    i32 => Integer via i64::from,
    i64 => Integer via |v| v,
    f64 => Float via |v| v,
    &str => Text via str::to_string,
    String => Text via |v| v,
    Vec<u8> => Blob via |v| v,
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// A column's server-side default.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerDefault {
    /// A literal value, quoted for the database.
    Value(Value),
    /// A SQL expression written into the DDL as it is, e.g. `CURRENT_TIMESTAMP`.
    Expression(String),
}

/// What a foreign key does when the referenced row is deleted or updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

/// A column. Nullable unless it is a primary key or `not_null()` is called, as in SQLAlchemy.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub(crate) name: String,
    pub(crate) data_type: Type,
    pub(crate) nullable: bool,
    pub(crate) primary_key: bool,
    pub(crate) autoincrement: bool,
    pub(crate) unique: bool,
    pub(crate) default: Option<ServerDefault>,
    pub(crate) comment: Option<String>,
}

impl Column {
    pub fn new(name: impl Into<String>, data_type: Type) -> Column {
        Column {
            name: name.into(),
            data_type,
            nullable: true,
            primary_key: false,
            autoincrement: false,
            unique: false,
            default: None,
            comment: None,
        }
    }

    /// NOT NULL.
    pub fn not_null(mut self) -> Column {
        self.nullable = false;
        self
    }

    /// A one-column primary key (implies NOT NULL).
    pub fn primary_key(mut self) -> Column {
        self.primary_key = true;
        self.nullable = false;
        self
    }

    /// Database-generated increasing values; for an integer primary key.
    pub fn autoincrement(mut self) -> Column {
        self.autoincrement = true;
        self
    }

    /// A one-column unique constraint.
    pub fn unique(mut self) -> Column {
        self.unique = true;
        self
    }

    /// A literal server default: `.default_value(0)`, `.default_value("draft")`.
    pub fn default_value(mut self, value: impl Into<Value>) -> Column {
        self.default = Some(ServerDefault::Value(value.into()));
        self
    }

    /// A SQL expression as server default: `.default_expression("CURRENT_TIMESTAMP")`.
    pub fn default_expression(mut self, sql: impl Into<String>) -> Column {
        self.default = Some(ServerDefault::Expression(sql.into()));
        self
    }

    pub fn comment(mut self, text: impl Into<String>) -> Column {
        self.comment = Some(text.into());
        self
    }
}

/// A table definition for `op::create_table`.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub(crate) name: String,
    pub(crate) columns: Vec<Column>,
    pub(crate) constraints: Vec<Constraint>,
    pub(crate) comment: Option<String>,
}

impl Table {
    pub fn new(name: impl Into<String>) -> Table {
        Table {
            name: name.into(),
            columns: vec![],
            constraints: vec![],
            comment: None,
        }
    }

    pub fn column(mut self, column: Column) -> Table {
        self.columns.push(column);
        self
    }

    /// A table-level constraint: a composite primary key, unique, foreign key or check.
    /// A table-level constraint: a `Constraint`, or a `ForeignKey` as it is.
    pub fn constraint(mut self, constraint: impl Into<Constraint>) -> Table {
        self.constraints.push(constraint.into());
        self
    }

    pub fn comment(mut self, text: impl Into<String>) -> Table {
        self.comment = Some(text.into());
        self
    }
}

fn names<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Vec<String> {
    items.into_iter().map(Into::into).collect()
}

/// A table constraint. Name constraints you may want to drop later: dropping takes a name.
#[derive(Debug, Clone, PartialEq)]
pub enum Constraint {
    PrimaryKey {
        name: Option<String>,
        columns: Vec<String>,
    },
    Unique {
        name: Option<String>,
        columns: Vec<String>,
    },
    ForeignKey(ForeignKey),
    Check {
        name: Option<String>,
        expression: String,
    },
}

impl Constraint {
    pub fn primary_key<I: IntoIterator<Item = S>, S: Into<String>>(columns: I) -> Constraint {
        Constraint::PrimaryKey {
            name: None,
            columns: names(columns),
        }
    }

    pub fn unique<I: IntoIterator<Item = S>, S: Into<String>>(columns: I) -> Constraint {
        Constraint::Unique {
            name: None,
            columns: names(columns),
        }
    }

    pub fn check(expression: impl Into<String>) -> Constraint {
        Constraint::Check {
            name: None,
            expression: expression.into(),
        }
    }

    /// Names the constraint.
    pub fn named(mut self, constraint_name: impl Into<String>) -> Constraint {
        let new_name = Some(constraint_name.into());
        match &mut self {
            Constraint::PrimaryKey { name, .. }
            | Constraint::Unique { name, .. }
            | Constraint::Check { name, .. } => *name = new_name,
            Constraint::ForeignKey(fk) => fk.name = new_name,
        }
        self
    }
}

impl From<ForeignKey> for Constraint {
    fn from(fk: ForeignKey) -> Constraint {
        Constraint::ForeignKey(fk)
    }
}

/// `FOREIGN KEY (columns) REFERENCES referred_table (referred_columns)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKey {
    pub(crate) name: Option<String>,
    pub(crate) columns: Vec<String>,
    pub(crate) referred_table: String,
    pub(crate) referred_columns: Vec<String>,
    pub(crate) on_delete: Option<Action>,
    pub(crate) on_update: Option<Action>,
}

impl ForeignKey {
    pub fn new<C, S, R, T>(
        columns: C,
        referred_table: impl Into<String>,
        referred_columns: R,
    ) -> ForeignKey
    where
        C: IntoIterator<Item = S>,
        S: Into<String>,
        R: IntoIterator<Item = T>,
        T: Into<String>,
    {
        ForeignKey {
            name: None,
            columns: names(columns),
            referred_table: referred_table.into(),
            referred_columns: names(referred_columns),
            on_delete: None,
            on_update: None,
        }
    }

    pub fn named(mut self, name: impl Into<String>) -> ForeignKey {
        self.name = Some(name.into());
        self
    }

    pub fn on_delete(mut self, action: Action) -> ForeignKey {
        self.on_delete = Some(action);
        self
    }

    pub fn on_update(mut self, action: Action) -> ForeignKey {
        self.on_update = Some(action);
        self
    }
}

/// An index for `op::create_index`: plain columns, or with options — DESC parts, expressions,
/// a partial index's condition, INCLUDE columns, MySQL prefix lengths.
///
/// ```
/// use migrate_guest_sdk::prelude::*;
/// let recent = Index::new("ix_user_recent", "user", ["created_at"]).descending("created_at");
/// let by_lower_email = Index::new("ix_user_email_lower", "user", [] as [&str; 0])
///     .expression("lower(email)");
/// let live_emails = Index::new("ix_user_live_email", "user", ["email"])
///     .unique()
///     .where_clause("deleted_at IS NULL");
/// let covering = Index::new("ix_order_customer", "order", ["customer_id"]).include(["total"]);
/// let title_start = Index::new("ix_post_title", "post", ["title"]).prefix("title", 20);
/// # let _ = (recent, by_lower_email, live_emails, covering, title_start);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    pub(crate) name: String,
    pub(crate) table: String,
    pub(crate) columns: Vec<String>,
    pub(crate) unique: bool,
    /// Per part of `columns`: (expression, descending, prefix length).
    pub(crate) keys: Vec<(bool, bool, Option<u32>)>,
    pub(crate) predicate: Option<String>,
    pub(crate) include: Vec<String>,
}

impl Index {
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(
        name: impl Into<String>,
        table: impl Into<String>,
        columns: I,
    ) -> Index {
        let columns = names(columns);
        Index {
            name: name.into(),
            table: table.into(),
            keys: columns.iter().map(|_| (false, false, None)).collect(),
            columns,
            unique: false,
            predicate: None,
            include: Vec::new(),
        }
    }

    pub fn unique(mut self) -> Index {
        self.unique = true;
        self
    }

    /// Adds a column as the next part of the key (after an expression, say).
    pub fn column(mut self, name: impl Into<String>) -> Index {
        self.columns.push(name.into());
        self.keys.push((false, false, None));
        self
    }

    /// Adds an SQL expression as the next part of the key (`lower(email)`): PostgreSQL and
    /// SQLite (MariaDB cannot: index a generated column instead).
    pub fn expression(mut self, sql: impl Into<String>) -> Index {
        self.columns.push(sql.into());
        self.keys.push((true, false, None));
        self
    }

    /// Sorts this part of the key (a column, or an expression as written) descending.
    pub fn descending(mut self, part: &str) -> Index {
        if let Some(n) = self.columns.iter().position(|c| c == part) {
            self.keys[n].1 = true;
        }
        self
    }

    /// MySQL: indexes only the first `length` characters of `column` (how MySQL indexes TEXT);
    /// other databases index the whole value (as Alembic's `mysql_length`).
    pub fn prefix(mut self, column: &str, length: u32) -> Index {
        if let Some(n) = self.columns.iter().position(|c| c == column) {
            self.keys[n].2 = Some(length);
        }
        self
    }

    /// A partial index: only rows meeting `condition` (PostgreSQL and SQLite; Alembic's
    /// `postgresql_where` / `sqlite_where`).
    pub fn where_clause(mut self, condition: impl Into<String>) -> Index {
        self.predicate = Some(condition.into());
        self
    }

    /// Columns stored in the index besides its key (PostgreSQL's INCLUDE).
    pub fn include<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Index {
        self.include.extend(names(columns));
        self
    }

    /// Whether anything but plain ascending columns is asked.
    pub(crate) fn has_options(&self) -> bool {
        self.keys.iter().any(|k| *k != (false, false, None))
            || self.predicate.is_some()
            || !self.include.is_empty()
    }
}

/// Which kind of constraint `op::drop_constraint` drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
    ForeignKey,
    Check,
}

/// The changes `op::alter_column` makes; what is not set stays as it is.
#[derive(Debug, Clone, PartialEq)]
#[must_use = "an AlterColumn does nothing until passed to op::alter_column"]
pub struct AlterColumn {
    pub(crate) table: String,
    pub(crate) column: String,
    pub(crate) new_type: Option<Type>,
    pub(crate) nullable: Option<bool>,
    pub(crate) default: Option<Option<ServerDefault>>,
    pub(crate) new_name: Option<String>,
    pub(crate) comment: Option<Option<String>>,
}

impl AlterColumn {
    pub fn new(table: impl Into<String>, column: impl Into<String>) -> AlterColumn {
        AlterColumn {
            table: table.into(),
            column: column.into(),
            new_type: None,
            nullable: None,
            default: None,
            new_name: None,
            comment: None,
        }
    }

    pub fn set_type(mut self, data_type: Type) -> AlterColumn {
        self.new_type = Some(data_type);
        self
    }

    pub fn nullable(mut self, nullable: bool) -> AlterColumn {
        self.nullable = Some(nullable);
        self
    }

    pub fn default_value(mut self, value: impl Into<Value>) -> AlterColumn {
        self.default = Some(Some(ServerDefault::Value(value.into())));
        self
    }

    pub fn default_expression(mut self, sql: impl Into<String>) -> AlterColumn {
        self.default = Some(Some(ServerDefault::Expression(sql.into())));
        self
    }

    pub fn drop_default(mut self) -> AlterColumn {
        self.default = Some(None);
        self
    }

    pub fn rename_to(mut self, new_name: impl Into<String>) -> AlterColumn {
        self.new_name = Some(new_name.into());
        self
    }

    pub fn comment(mut self, text: impl Into<String>) -> AlterColumn {
        self.comment = Some(Some(text.into()));
        self
    }

    pub fn drop_comment(mut self) -> AlterColumn {
        self.comment = Some(None);
        self
    }
}

/// Reading what the host hands over (`catalog`): the parts of a definition.
impl Table {
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }
    pub fn constraints(&self) -> &[Constraint] {
        &self.constraints
    }
    pub fn column_named(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

impl Column {
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn data_type(&self) -> &Type {
        &self.data_type
    }
    pub fn is_nullable(&self) -> bool {
        self.nullable
    }
    pub fn is_primary_key(&self) -> bool {
        self.primary_key
    }
    pub fn is_unique(&self) -> bool {
        self.unique
    }
    pub fn server_default(&self) -> Option<&ServerDefault> {
        self.default.as_ref()
    }
}

impl ForeignKey {
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    pub fn columns(&self) -> &[String] {
        &self.columns
    }
    pub fn referred_table(&self) -> &str {
        &self.referred_table
    }
    pub fn referred_columns(&self) -> &[String] {
        &self.referred_columns
    }
}

impl Index {
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn columns(&self) -> &[String] {
        &self.columns
    }
    pub fn is_unique(&self) -> bool {
        self.unique
    }
}

/// Reading values the host hands over (`data`).
impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }
    pub fn as_float(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Integer(i) => Some(*i as f64),
            _ => None,
        }
    }
    /// A boolean, or an integer 0/1 (MySQL keeps booleans as TINYINT, SQLite as integers).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            Value::Integer(0) => Some(false),
            Value::Integer(1) => Some(true),
            _ => None,
        }
    }
}
