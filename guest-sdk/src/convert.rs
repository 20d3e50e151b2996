//! SDK values into the generated WIT types, at the one place they meet.

use crate::model::*;
use crate::wit::migrate::schema::columns as c;
use crate::wit::migrate::schema::types as w;
use alloc::string::String;
use alloc::vec::Vec;

impl From<Type> for w::DataType {
    fn from(t: Type) -> w::DataType {
        match t {
            Type::Integer => w::DataType::Integer,
            Type::Bigint => w::DataType::Bigint,
            Type::Smallint => w::DataType::Smallint,
            Type::Boolean => w::DataType::Boolean,
            Type::Text => w::DataType::Text,
            Type::Varchar(n) => w::DataType::Varchar(n),
            Type::Float => w::DataType::Float,
            Type::Double => w::DataType::Double,
            Type::Numeric { precision, scale } => {
                w::DataType::Numeric(w::NumericPrecision { precision, scale })
            }
            Type::Date => w::DataType::Date,
            Type::Time => w::DataType::Time,
            Type::Timestamp => w::DataType::Timestamp,
            Type::Timestamptz => w::DataType::Timestamptz,
            Type::Blob => w::DataType::Blob,
            Type::Json => w::DataType::Json,
            Type::Uuid => w::DataType::Uuid,
            // A placeholder: an enum column goes through the `enums` interface (see `op`),
            // which gives the host its type.
            Type::Enum { .. } => w::DataType::Text,
        }
    }
}

impl From<Value> for w::Value {
    fn from(v: Value) -> w::Value {
        match v {
            Value::Null => w::Value::Null,
            Value::Boolean(b) => w::Value::Boolean(b),
            Value::Integer(i) => w::Value::Integer(i),
            Value::Float(f) => w::Value::Float(f),
            Value::Text(t) => w::Value::Text(t),
            Value::Blob(b) => w::Value::Blob(b),
        }
    }
}

impl From<ServerDefault> for w::ServerDefault {
    fn from(d: ServerDefault) -> w::ServerDefault {
        match d {
            ServerDefault::Value(v) => w::ServerDefault::Literal(v.into()),
            ServerDefault::Expression(e) => w::ServerDefault::Expression(e),
        }
    }
}

impl From<Action> for w::ReferentialAction {
    fn from(a: Action) -> w::ReferentialAction {
        match a {
            Action::NoAction => w::ReferentialAction::NoAction,
            Action::Restrict => w::ReferentialAction::Restrict,
            Action::Cascade => w::ReferentialAction::Cascade,
            Action::SetNull => w::ReferentialAction::SetNull,
            Action::SetDefault => w::ReferentialAction::SetDefault,
        }
    }
}

impl From<ConstraintKind> for w::ConstraintKind {
    fn from(k: ConstraintKind) -> w::ConstraintKind {
        match k {
            ConstraintKind::PrimaryKey => w::ConstraintKind::PrimaryKey,
            ConstraintKind::Unique => w::ConstraintKind::Unique,
            ConstraintKind::ForeignKey => w::ConstraintKind::ForeignKey,
            ConstraintKind::Check => w::ConstraintKind::Check,
        }
    }
}

impl From<Column> for w::Column {
    fn from(c: Column) -> w::Column {
        w::Column {
            name: c.name,
            data_type: c.data_type.into(),
            nullable: c.nullable,
            primary_key: c.primary_key,
            autoincrement: c.autoincrement,
            unique: c.unique,
            server_default: c.default.map(Into::into),
            comment: c.comment,
        }
    }
}

impl From<ForeignKey> for w::ForeignKey {
    fn from(f: ForeignKey) -> w::ForeignKey {
        w::ForeignKey {
            name: f.name,
            columns: f.columns,
            referred_table: f.referred_table,
            referred_columns: f.referred_columns,
            on_delete: f.on_delete.map(Into::into),
            on_update: f.on_update.map(Into::into),
        }
    }
}

impl From<Constraint> for w::TableConstraint {
    fn from(c: Constraint) -> w::TableConstraint {
        match c {
            Constraint::PrimaryKey { name, columns } => {
                w::TableConstraint::PrimaryKey(w::PrimaryKey { name, columns })
            }
            Constraint::Unique { name, columns } => {
                w::TableConstraint::Unique(w::UniqueConstraint { name, columns })
            }
            Constraint::ForeignKey(fk) => w::TableConstraint::ForeignKey(fk.into()),
            Constraint::Check { name, expression } => {
                w::TableConstraint::Check(w::CheckConstraint { name, expression })
            }
        }
    }
}

impl From<Table> for w::Table {
    fn from(t: Table) -> w::Table {
        w::Table {
            name: t.name,
            columns: t.columns.into_iter().map(Into::into).collect(),
            constraints: t.constraints.into_iter().map(Into::into).collect(),
            comment: t.comment,
        }
    }
}

impl From<Index> for w::Index {
    fn from(i: Index) -> w::Index {
        w::Index {
            name: i.name,
            table: i.table,
            columns: i.columns,
            unique: i.unique,
        }
    }
}

impl From<&Index> for crate::wit::migrate::schema::indexes::IndexOptions {
    fn from(i: &Index) -> crate::wit::migrate::schema::indexes::IndexOptions {
        crate::wit::migrate::schema::indexes::IndexOptions {
            keys: i
                .keys
                .iter()
                .map(|&(expression, descending, prefix_length)| {
                    crate::wit::migrate::schema::indexes::IndexKey {
                        expression,
                        descending,
                        prefix_length,
                    }
                })
                .collect(),
            predicate: i.predicate.clone(),
            include_columns: i.include.clone(),
        }
    }
}

impl From<AlterColumn> for w::ColumnChange {
    fn from(a: AlterColumn) -> w::ColumnChange {
        w::ColumnChange {
            table: a.table,
            column: a.column,
            new_type: a.new_type.map(Into::into),
            nullable: a.nullable,
            server_default: a.default.map(|d| match d {
                Some(d) => w::DefaultChange::Set(d.into()),
                None => w::DefaultChange::Drop,
            }),
            new_name: a.new_name,
            comment: a.comment.map(|c| match c {
                Some(c) => w::CommentChange::Set(c),
                None => w::CommentChange::Drop,
            }),
        }
    }
}

/// An enum type for the `columns` interface, if `t` is one.
fn enum_type(t: &Type) -> Option<c::EnumType> {
    match t {
        Type::Enum { name, values } => Some(c::EnumType {
            name: name.clone(),
            values: values.clone(),
        }),
        _ => None,
    }
}

fn natives(list: &[(crate::target::Dialect, String)]) -> Vec<c::NativeType> {
    use crate::target::Dialect;
    list.iter()
        .map(|(dialect, sql)| c::NativeType {
            dialect: match dialect {
                Dialect::Sqlite => c::Dialect::Sqlite,
                Dialect::Postgresql => c::Dialect::Postgresql,
                Dialect::Mysql | Dialect::Mariadb => c::Dialect::Mysql,
            },
            sql: sql.clone(),
        })
        .collect()
}

/// What the `columns` interface carries for a column beyond `w::Column`.
pub(crate) fn column_options(column: &Column) -> c::ColumnOptions {
    c::ColumnOptions {
        column: column.name.clone(),
        enum_: enum_type(&column.data_type),
        native_types: natives(&column.native_types),
        generated: column
            .generated
            .as_ref()
            .map(|(expression, stored)| c::Generated {
                expression: expression.clone(),
                stored: *stored,
            }),
        identity: column.identity.as_ref().map(|i| c::Identity {
            always: i.always,
            start: i.start,
            increment: i.increment,
        }),
    }
}

/// The options of an `alter_column` whose new type needs the `columns` interface, if it does.
pub(crate) fn change_options(change: &AlterColumn) -> Option<c::ColumnOptions> {
    let enum_ = change.new_type.as_ref().and_then(enum_type);
    if enum_.is_none() && change.new_native_types.is_empty() {
        return None;
    }
    Some(c::ColumnOptions {
        column: change.column.clone(),
        enum_,
        native_types: natives(&change.new_native_types),
        generated: None,
        identity: None,
    })
}
