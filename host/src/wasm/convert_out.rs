//! The core's domain types into generated WIT types: what the host hands a guest (the schema
//! through `catalog`, rows through `data`). The other direction is `convert`.

use migrate_core::types as core;

use super::bindings::migrate::schema::types as w;

impl From<&core::DataType> for w::DataType {
    fn from(t: &core::DataType) -> w::DataType {
        match t {
            core::DataType::Integer => w::DataType::Integer,
            core::DataType::Bigint => w::DataType::Bigint,
            core::DataType::Smallint => w::DataType::Smallint,
            core::DataType::Boolean => w::DataType::Boolean,
            core::DataType::Text => w::DataType::Text,
            core::DataType::Varchar(n) => w::DataType::Varchar(*n),
            core::DataType::Float => w::DataType::Float,
            core::DataType::Double => w::DataType::Double,
            core::DataType::Numeric { precision, scale } => {
                w::DataType::Numeric(w::NumericPrecision {
                    precision: *precision,
                    scale: *scale,
                })
            }
            core::DataType::Date => w::DataType::Date,
            core::DataType::Time => w::DataType::Time,
            core::DataType::Timestamp => w::DataType::Timestamp,
            core::DataType::Timestamptz => w::DataType::Timestamptz,
            core::DataType::Blob => w::DataType::Blob,
            core::DataType::Json => w::DataType::Json,
            core::DataType::Uuid => w::DataType::Uuid,
            // The portable types predate enums: an enum column is the text it holds here,
            // and `catalog.get-column-options` gives its enum.
            core::DataType::Enum { .. } => w::DataType::Text,
        }
    }
}

impl From<core::Value> for w::Value {
    fn from(v: core::Value) -> w::Value {
        match v {
            core::Value::Null => w::Value::Null,
            core::Value::Boolean(b) => w::Value::Boolean(b),
            core::Value::Integer(i) => w::Value::Integer(i),
            core::Value::Float(f) => w::Value::Float(f),
            core::Value::Text(t) => w::Value::Text(t),
            core::Value::Blob(b) => w::Value::Blob(b),
        }
    }
}

fn action(a: &Option<core::ReferentialAction>) -> Option<w::ReferentialAction> {
    a.map(|a| match a {
        core::ReferentialAction::NoAction => w::ReferentialAction::NoAction,
        core::ReferentialAction::Restrict => w::ReferentialAction::Restrict,
        core::ReferentialAction::Cascade => w::ReferentialAction::Cascade,
        core::ReferentialAction::SetNull => w::ReferentialAction::SetNull,
        core::ReferentialAction::SetDefault => w::ReferentialAction::SetDefault,
    })
}

impl From<&core::Column> for w::Column {
    fn from(c: &core::Column) -> w::Column {
        w::Column {
            name: c.name.clone(),
            data_type: (&c.data_type).into(),
            nullable: c.nullable,
            primary_key: c.primary_key,
            autoincrement: c.autoincrement,
            unique: c.unique,
            server_default: c.server_default.as_ref().map(|d| match d {
                core::ServerDefault::Literal(v) => w::ServerDefault::Literal(v.clone().into()),
                core::ServerDefault::Expression(e) => w::ServerDefault::Expression(e.clone()),
            }),
            comment: c.comment.clone(),
        }
    }
}

impl From<&core::TableConstraint> for w::TableConstraint {
    fn from(c: &core::TableConstraint) -> w::TableConstraint {
        match c {
            core::TableConstraint::PrimaryKey(k) => w::TableConstraint::PrimaryKey(w::PrimaryKey {
                name: k.name.clone(),
                columns: k.columns.clone(),
            }),
            core::TableConstraint::Unique(u) => w::TableConstraint::Unique(w::UniqueConstraint {
                name: u.name.clone(),
                columns: u.columns.clone(),
            }),
            core::TableConstraint::ForeignKey(f) => w::TableConstraint::ForeignKey(w::ForeignKey {
                name: f.name.clone(),
                columns: f.columns.clone(),
                referred_table: f.referred_table.clone(),
                referred_columns: f.referred_columns.clone(),
                on_delete: action(&f.on_delete),
                on_update: action(&f.on_update),
            }),
            core::TableConstraint::Check(c) => w::TableConstraint::Check(w::CheckConstraint {
                name: c.name.clone(),
                expression: c.expression.clone(),
            }),
        }
    }
}

impl From<&core::Table> for w::Table {
    fn from(t: &core::Table) -> w::Table {
        w::Table {
            name: t.name.clone(),
            columns: t.columns.iter().map(Into::into).collect(),
            constraints: t.constraints.iter().map(Into::into).collect(),
            comment: t.comment.clone(),
        }
    }
}

impl From<&core::Index> for w::Index {
    fn from(i: &core::Index) -> w::Index {
        w::Index {
            name: i.name.clone(),
            table: i.table.clone(),
            columns: i.columns.clone(),
            unique: i.unique,
        }
    }
}
