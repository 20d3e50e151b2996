//! Generated WIT types into the core's domain types, at the boundary and nowhere else.

use migrate_core::types as core;

use super::bindings::migrate::schema::types as w;

impl From<w::DataType> for core::DataType {
    fn from(t: w::DataType) -> core::DataType {
        match t {
            w::DataType::Integer => core::DataType::Integer,
            w::DataType::Bigint => core::DataType::Bigint,
            w::DataType::Smallint => core::DataType::Smallint,
            w::DataType::Boolean => core::DataType::Boolean,
            w::DataType::Text => core::DataType::Text,
            w::DataType::Varchar(n) => core::DataType::Varchar(n),
            w::DataType::Float => core::DataType::Float,
            w::DataType::Double => core::DataType::Double,
            w::DataType::Numeric(p) => core::DataType::Numeric {
                precision: p.precision,
                scale: p.scale,
            },
            w::DataType::Date => core::DataType::Date,
            w::DataType::Time => core::DataType::Time,
            w::DataType::Timestamp => core::DataType::Timestamp,
            w::DataType::Timestamptz => core::DataType::Timestamptz,
            w::DataType::Blob => core::DataType::Blob,
            w::DataType::Json => core::DataType::Json,
            w::DataType::Uuid => core::DataType::Uuid,
        }
    }
}

impl From<w::Value> for core::Value {
    fn from(v: w::Value) -> core::Value {
        match v {
            w::Value::Null => core::Value::Null,
            w::Value::Boolean(b) => core::Value::Boolean(b),
            w::Value::Integer(i) => core::Value::Integer(i),
            w::Value::Float(f) => core::Value::Float(f),
            w::Value::Text(t) => core::Value::Text(t),
            w::Value::Blob(b) => core::Value::Blob(b),
        }
    }
}

impl From<w::ServerDefault> for core::ServerDefault {
    fn from(d: w::ServerDefault) -> core::ServerDefault {
        match d {
            w::ServerDefault::Literal(v) => core::ServerDefault::Literal(v.into()),
            w::ServerDefault::Expression(e) => core::ServerDefault::Expression(e),
        }
    }
}

impl From<w::ReferentialAction> for core::ReferentialAction {
    fn from(a: w::ReferentialAction) -> core::ReferentialAction {
        match a {
            w::ReferentialAction::NoAction => core::ReferentialAction::NoAction,
            w::ReferentialAction::Restrict => core::ReferentialAction::Restrict,
            w::ReferentialAction::Cascade => core::ReferentialAction::Cascade,
            w::ReferentialAction::SetNull => core::ReferentialAction::SetNull,
            w::ReferentialAction::SetDefault => core::ReferentialAction::SetDefault,
        }
    }
}

impl From<w::ConstraintKind> for core::ConstraintKind {
    fn from(k: w::ConstraintKind) -> core::ConstraintKind {
        match k {
            w::ConstraintKind::PrimaryKey => core::ConstraintKind::PrimaryKey,
            w::ConstraintKind::Unique => core::ConstraintKind::Unique,
            w::ConstraintKind::ForeignKey => core::ConstraintKind::ForeignKey,
            w::ConstraintKind::Check => core::ConstraintKind::Check,
        }
    }
}

impl From<w::Column> for core::Column {
    fn from(c: w::Column) -> core::Column {
        core::Column {
            name: c.name,
            data_type: c.data_type.into(),
            nullable: c.nullable,
            primary_key: c.primary_key,
            autoincrement: c.autoincrement,
            unique: c.unique,
            server_default: c.server_default.map(Into::into),
            comment: c.comment,
            // What `types.column` cannot say comes through `columns.wit` (see `columns`).
            native_types: vec![],
            generated: None,
            identity: None,
        }
    }
}

impl From<w::ForeignKey> for core::ForeignKey {
    fn from(f: w::ForeignKey) -> core::ForeignKey {
        core::ForeignKey {
            name: f.name,
            columns: f.columns,
            referred_table: f.referred_table,
            referred_columns: f.referred_columns,
            on_delete: f.on_delete.map(Into::into),
            on_update: f.on_update.map(Into::into),
        }
    }
}

impl From<w::TableConstraint> for core::TableConstraint {
    fn from(c: w::TableConstraint) -> core::TableConstraint {
        match c {
            w::TableConstraint::PrimaryKey(k) => {
                core::TableConstraint::PrimaryKey(core::PrimaryKey {
                    name: k.name,
                    columns: k.columns,
                })
            }
            w::TableConstraint::Unique(u) => {
                core::TableConstraint::Unique(core::UniqueConstraint {
                    name: u.name,
                    columns: u.columns,
                })
            }
            w::TableConstraint::ForeignKey(f) => core::TableConstraint::ForeignKey(f.into()),
            w::TableConstraint::Check(c) => core::TableConstraint::Check(core::CheckConstraint {
                name: c.name,
                expression: c.expression,
            }),
        }
    }
}

impl From<w::Table> for core::Table {
    fn from(t: w::Table) -> core::Table {
        core::Table {
            name: t.name,
            columns: t.columns.into_iter().map(Into::into).collect(),
            constraints: t.constraints.into_iter().map(Into::into).collect(),
            comment: t.comment,
        }
    }
}

impl From<w::Index> for core::Index {
    fn from(i: w::Index) -> core::Index {
        core::Index {
            name: i.name,
            table: i.table,
            columns: i.columns,
            unique: i.unique,
            ..core::Index::default()
        }
    }
}

impl From<w::ColumnChange> for core::ColumnChange {
    fn from(c: w::ColumnChange) -> core::ColumnChange {
        core::ColumnChange {
            table: c.table,
            column: c.column,
            new_type: c.new_type.map(Into::into),
            nullable: c.nullable,
            server_default: c.server_default.map(|d| match d {
                w::DefaultChange::Set(d) => core::DefaultChange::Set(d.into()),
                w::DefaultChange::Drop => core::DefaultChange::Drop,
            }),
            new_name: c.new_name,
            comment: c.comment.map(|c| match c {
                w::CommentChange::Set(s) => core::CommentChange::Set(s),
                w::CommentChange::Drop => core::CommentChange::Drop,
            }),
            new_native_types: vec![],
        }
    }
}
