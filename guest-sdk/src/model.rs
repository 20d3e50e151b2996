//! The values revisions describe schema with: types, columns, tables, indexes, constraints.
//! Builders take `self` and return it, so a definition reads as one expression.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

/// Portable column types; each database maps them to its natural native type.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// 32-bit integer: `INTEGER` (SQLite, PostgreSQL), `INT` (MySQL).
    Integer,
    /// 64-bit integer: `BIGINT` everywhere.
    Bigint,
    /// 16-bit integer: `SMALLINT` everywhere.
    Smallint,
    /// `BOOLEAN` (MySQL stores `TINYINT(1)`; SQLite 0 and 1).
    Boolean,
    /// Text without a length limit: `TEXT` everywhere (MySQL cannot index it without a prefix).
    Text,
    /// Text of at most this many characters: `VARCHAR(n)` everywhere (n characters, not bytes).
    Varchar(u32),
    /// Single precision: `REAL` (SQLite, PostgreSQL), `FLOAT` (MySQL). SQLite stores 8 bytes whatever it is declared.
    Float,
    /// Double precision: `DOUBLE PRECISION` (PostgreSQL), `DOUBLE` (SQLite, MySQL).
    Double,
    /// Exact decimal: `NUMERIC(p, s)` (SQLite, PostgreSQL), `DECIMAL(p, s)` (MySQL).
    Numeric {
        /// Digits in all, 1 or more.
        precision: u8,
        /// Digits after the point, at most `precision`.
        scale: u8,
    },
    /// A calendar date: `DATE` everywhere.
    Date,
    /// A time of day: `TIME` (SQLite, PostgreSQL), `TIME(6)` (MySQL, keeping microseconds).
    Time,
    /// Timestamp without time zone: `TIMESTAMP` (SQLite, PostgreSQL), `DATETIME(6)` (MySQL,
    /// keeping microseconds).
    Timestamp,
    /// Timestamp with time zone: `TIMESTAMP WITH TIME ZONE` (PostgreSQL), `TIMESTAMPTZ`
    /// (SQLite), `DATETIME(6)` holding UTC by convention (MySQL, whose `TIMESTAMP` ends in 2038).
    Timestamptz,
    /// Bytes: `BLOB` (SQLite), `BYTEA` (PostgreSQL), `LONGBLOB` (MySQL).
    Blob,
    /// JSON: `JSON` (SQLite, MySQL), `JSONB` (PostgreSQL).
    Json,
    /// A UUID: `UUID` (SQLite, PostgreSQL), `CHAR(36)` (MySQL), in the hyphenated form.
    Uuid,
    /// A named enum: one of `values`. PostgreSQL makes it a type (`CREATE TYPE name AS ENUM`,
    /// created with its first column and dropped after its last), MySQL an `ENUM(...)` column,
    /// SQLite a TEXT column with a CHECK named after the enum. Every column of one enum holds
    /// the same values: change them with `op::alter_enum`. Build it with `Type::enumeration`.
    Enum {
        /// The type's name (PostgreSQL's type; SQLite's CHECK constraint).
        name: String,
        /// The values, in order (PostgreSQL and MySQL sort by this order).
        values: Vec<String>,
    },
}

impl Type {
    /// `Type::enumeration("mood", ["sad", "ok", "happy"])`.
    pub fn enumeration<I: IntoIterator<Item = S>, S: Into<String>>(
        name: impl Into<String>,
        values: I,
    ) -> Type {
        Type::Enum {
            name: name.into(),
            values: values.into_iter().map(Into::into).collect(),
        }
    }
}

/// A literal value, for `op::bulk_insert` rows and literal defaults.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// `TRUE` or `FALSE` (1 or 0 where the database has no booleans).
    Boolean(bool),
    /// A 64-bit integer.
    Integer(i64),
    /// A double; NaN and the infinities are refused, as no database stores them portably.
    Float(f64),
    /// Text, quoted for the database (any Unicode).
    Text(String),
    /// Bytes, written as the database's binary literal.
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
    /// Refuse the change while rows refer to the row (checked at the end of the statement).
    NoAction,
    /// Refuse the change while rows refer to the row (checked at once).
    Restrict,
    /// Delete (or update) the referring rows too.
    Cascade,
    /// Set the referring columns to NULL.
    SetNull,
    /// Set the referring columns to their defaults.
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
    pub(crate) native_types: Vec<(crate::target::Dialect, String)>,
    pub(crate) generated: Option<(String, bool)>,
    pub(crate) identity: Option<Identity>,
}

/// An autoincrement column's identity: `Identity::always().start(1000)`. PostgreSQL keeps all
/// of it (`GENERATED ALWAYS AS IDENTITY (START WITH 1000 INCREMENT BY 1)`); MySQL and SQLite
/// keep a start (`AUTO_INCREMENT = n`, `sqlite_sequence`) and refuse ALWAYS or another step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub(crate) always: bool,
    pub(crate) start: Option<i64>,
    pub(crate) increment: Option<i64>,
}

impl Identity {
    /// Values are always generated: an INSERT may not give one (PostgreSQL).
    pub fn always() -> Identity {
        Identity {
            always: true,
            start: None,
            increment: None,
        }
    }

    /// Values are generated unless an INSERT gives one (every database's autoincrement).
    pub fn by_default() -> Identity {
        Identity {
            always: false,
            start: None,
            increment: None,
        }
    }

    /// The first value.
    pub fn start(mut self, first: i64) -> Identity {
        self.start = Some(first);
        self
    }

    /// The step between values (PostgreSQL).
    pub fn increment(mut self, step: i64) -> Identity {
        self.increment = Some(step);
        self
    }
}

impl Column {
    /// A nullable column of this type; the builders below add the rest.
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
            native_types: Vec::new(),
            generated: None,
            identity: None,
        }
    }

    /// The type this database gets instead of the portable one, which the others keep:
    /// `.native(Dialect::Mysql, "MEDIUMTEXT")`, `.native(Dialect::Postgresql, "INET")` (on a
    /// `Type::Text` column, the fallback elsewhere). `Dialect::Mariadb` is the same as `Mysql`.
    pub fn native(mut self, dialect: crate::target::Dialect, sql: impl Into<String>) -> Column {
        self.native_types.push((dialect, sql.into()));
        self
    }

    /// A generated column stored in the row: `.generated_stored("price * quantity")`.
    pub fn generated_stored(mut self, expression: impl Into<String>) -> Column {
        self.generated = Some((expression.into(), true));
        self
    }

    /// A generated column computed when read (MySQL, MariaDB, SQLite; PostgreSQL before 18
    /// refuses it).
    pub fn generated_virtual(mut self, expression: impl Into<String>) -> Column {
        self.generated = Some((expression.into(), false));
        self
    }

    /// An autoincrement column with these identity options (implies `.autoincrement()`).
    pub fn identity(mut self, identity: Identity) -> Column {
        self.identity = Some(identity);
        self.autoincrement = true;
        self
    }

    /// Whether the column needs the `columns` interface: an enum, native types, a generation,
    /// identity options.
    pub(crate) fn has_options(&self) -> bool {
        matches!(self.data_type, Type::Enum { .. })
            || !self.native_types.is_empty()
            || self.generated.is_some()
            || self.identity.is_some()
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

    /// The column's comment (stored where the database keeps comments: PostgreSQL, MySQL).
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
    /// A table with no columns yet; add them with `column`.
    pub fn new(name: impl Into<String>) -> Table {
        Table {
            name: name.into(),
            columns: vec![],
            constraints: vec![],
            comment: None,
        }
    }

    /// Adds a column, in order.
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

    /// The table's comment (stored where the database keeps comments).
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
    /// A primary key on several columns (one column: `Column::primary_key`).
    PrimaryKey {
        /// Its name, or `None` for the convention's or the database's.
        name: Option<String>,
        /// The key's columns, in order.
        columns: Vec<String>,
    },
    /// A unique constraint on these columns.
    Unique {
        /// Its name, or `None` for the convention's or the database's.
        name: Option<String>,
        /// The columns, in order.
        columns: Vec<String>,
    },
    /// A foreign key (`ForeignKey::new`).
    ForeignKey(ForeignKey),
    /// A CHECK constraint.
    Check {
        /// Its name, or `None` for the convention's or the database's.
        name: Option<String>,
        /// The condition, SQL.
        expression: String,
    },
}

impl Constraint {
    /// A primary key on these columns, unnamed (`.named(..)` names it).
    pub fn primary_key<I: IntoIterator<Item = S>, S: Into<String>>(columns: I) -> Constraint {
        Constraint::PrimaryKey {
            name: None,
            columns: names(columns),
        }
    }

    /// A unique constraint on these columns, unnamed (`.named(..)` names it).
    pub fn unique<I: IntoIterator<Item = S>, S: Into<String>>(columns: I) -> Constraint {
        Constraint::Unique {
            name: None,
            columns: names(columns),
        }
    }

    /// A CHECK constraint with this condition, unnamed (`.named(..)` names it).
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
    /// `columns` of this table refer to `referred_columns` of `referred_table`; unnamed until `named`.
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

    /// Names the foreign key (else the convention's or the database's name).
    pub fn named(mut self, name: impl Into<String>) -> ForeignKey {
        self.name = Some(name.into());
        self
    }

    /// What happens to referring rows when the referred row is deleted.
    pub fn on_delete(mut self, action: Action) -> ForeignKey {
        self.on_delete = Some(action);
        self
    }

    /// What happens to referring rows when the referred key changes.
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
    /// An index named `name` on `columns` of `table` (ascending, not unique).
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

    /// Makes the index unique.
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
    /// The primary key (MySQL ignores its name).
    PrimaryKey,
    /// A unique constraint.
    Unique,
    /// A foreign key.
    ForeignKey,
    /// A CHECK constraint.
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
    pub(crate) new_native_types: Vec<(crate::target::Dialect, String)>,
}

impl AlterColumn {
    /// A change to `column` of `table`; say what changes with the builders below.
    pub fn new(table: impl Into<String>, column: impl Into<String>) -> AlterColumn {
        AlterColumn {
            table: table.into(),
            column: column.into(),
            new_type: None,
            nullable: None,
            default: None,
            new_name: None,
            comment: None,
            new_native_types: Vec::new(),
        }
    }

    /// Changes the column's type (its native types go unless `native` gives them again).
    pub fn set_type(mut self, data_type: Type) -> AlterColumn {
        self.new_type = Some(data_type);
        self
    }

    /// With `set_type`: the type this database gets instead, as `Column::native`.
    pub fn native(
        mut self,
        dialect: crate::target::Dialect,
        sql: impl Into<String>,
    ) -> AlterColumn {
        self.new_native_types.push((dialect, sql.into()));
        self
    }

    /// Allows NULL (`true`) or forbids it (`false`).
    pub fn nullable(mut self, nullable: bool) -> AlterColumn {
        self.nullable = Some(nullable);
        self
    }

    /// Sets a literal server default.
    pub fn default_value(mut self, value: impl Into<Value>) -> AlterColumn {
        self.default = Some(Some(ServerDefault::Value(value.into())));
        self
    }

    /// Sets an SQL expression as the server default (`CURRENT_TIMESTAMP`).
    pub fn default_expression(mut self, sql: impl Into<String>) -> AlterColumn {
        self.default = Some(Some(ServerDefault::Expression(sql.into())));
        self
    }

    /// Removes the server default.
    pub fn drop_default(mut self) -> AlterColumn {
        self.default = Some(None);
        self
    }

    /// Renames the column.
    pub fn rename_to(mut self, new_name: impl Into<String>) -> AlterColumn {
        self.new_name = Some(new_name.into());
        self
    }

    /// Sets the column's comment.
    pub fn comment(mut self, text: impl Into<String>) -> AlterColumn {
        self.comment = Some(Some(text.into()));
        self
    }

    /// Removes the column's comment.
    pub fn drop_comment(mut self) -> AlterColumn {
        self.comment = Some(None);
        self
    }
}

/// Reading what the host hands over (`catalog`): the parts of a definition.
impl Table {
    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its columns, in order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }
    /// Its constraints as declared (named ones keep their names).
    pub fn constraints(&self) -> &[Constraint] {
        &self.constraints
    }
    /// The column of this name, if there is one.
    pub fn column_named(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

impl Column {
    /// The column's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its type.
    pub fn data_type(&self) -> &Type {
        &self.data_type
    }
    /// Whether it accepts NULL.
    pub fn is_nullable(&self) -> bool {
        self.nullable
    }
    /// Whether it is (part of) the primary key as declared on the column.
    pub fn is_primary_key(&self) -> bool {
        self.primary_key
    }
    /// Whether it is UNIQUE as declared on the column.
    pub fn is_unique(&self) -> bool {
        self.unique
    }
    /// Its server default, if it has one.
    pub fn server_default(&self) -> Option<&ServerDefault> {
        self.default.as_ref()
    }
    /// The native type it has on `dialect` in place of its portable one, if it has one.
    pub fn native_type_on(&self, dialect: crate::target::Dialect) -> Option<&str> {
        let same = |d: &crate::target::Dialect| {
            *d == dialect || (d.is_mysql_like() && dialect.is_mysql_like())
        };
        self.native_types
            .iter()
            .find(|(d, _)| same(d))
            .map(|(_, sql)| sql.as_str())
    }
    /// A generated column's expression, and whether it is stored.
    pub fn generation(&self) -> Option<(&str, bool)> {
        self.generated
            .as_ref()
            .map(|(expression, stored)| (expression.as_str(), *stored))
    }
    /// An identity column's options.
    pub fn identity_options(&self) -> Option<&Identity> {
        self.identity.as_ref()
    }
}

/// Reading an identity the host hands over (`catalog`).
impl Identity {
    /// ALWAYS rather than BY DEFAULT.
    pub fn is_always(&self) -> bool {
        self.always
    }
    /// The first value, if one was given.
    pub fn first_value(&self) -> Option<i64> {
        self.start
    }
    /// The step between values, if one was given.
    pub fn step(&self) -> Option<i64> {
        self.increment
    }
}

impl ForeignKey {
    /// The foreign key's name, `None` when it was made without one (and no database was asked).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// The referring columns.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }
    /// The referred table.
    pub fn referred_table(&self) -> &str {
        &self.referred_table
    }
    /// The referred columns.
    pub fn referred_columns(&self) -> &[String] {
        &self.referred_columns
    }
}

impl Index {
    /// The index's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its key's parts: column names, or expressions as written.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }
    /// Whether it is unique.
    pub fn is_unique(&self) -> bool {
        self.unique
    }
}

/// Reading values the host hands over (`data`).
impl Value {
    /// Whether it is NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    /// The text, if it is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }
    /// The integer, if it is one.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }
    /// The number, if it is a float or an integer.
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
