//! What the host hands a revision (the schema through `catalog`, rows through `data`), from
//! the generated WIT types into the SDK's. The other direction is `convert`.

use crate::model::*;
use crate::wit::migrate::schema::columns as c;
use crate::wit::migrate::schema::types as w;

impl Column {
    /// What the catalog says a column has beyond its portable type (`get-column-options`).
    pub(crate) fn take_options(&mut self, options: c::ColumnOptions) {
        use crate::target::Dialect;
        if let Some(e) = options.enum_ {
            self.data_type = Type::Enum {
                name: e.name,
                values: e.values,
            };
        }
        self.native_types = options
            .native_types
            .into_iter()
            .map(|n| {
                let dialect = match n.dialect {
                    c::Dialect::Sqlite => Dialect::Sqlite,
                    c::Dialect::Postgresql => Dialect::Postgresql,
                    c::Dialect::Mysql => Dialect::Mysql,
                };
                (dialect, n.sql)
            })
            .collect();
        self.generated = options.generated.map(|g| (g.expression, g.stored));
        self.identity = options.identity.map(|i| Identity {
            always: i.always,
            start: i.start,
            increment: i.increment,
        });
    }
}

impl From<w::DataType> for Type {
    fn from(t: w::DataType) -> Type {
        match t {
            w::DataType::Integer => Type::Integer,
            w::DataType::Bigint => Type::Bigint,
            w::DataType::Smallint => Type::Smallint,
            w::DataType::Boolean => Type::Boolean,
            w::DataType::Text => Type::Text,
            w::DataType::Varchar(n) => Type::Varchar(n),
            w::DataType::Float => Type::Float,
            w::DataType::Double => Type::Double,
            w::DataType::Numeric(p) => Type::Numeric {
                precision: p.precision,
                scale: p.scale,
            },
            w::DataType::Date => Type::Date,
            w::DataType::Time => Type::Time,
            w::DataType::Timestamp => Type::Timestamp,
            w::DataType::Timestamptz => Type::Timestamptz,
            w::DataType::Blob => Type::Blob,
            w::DataType::Json => Type::Json,
            w::DataType::Uuid => Type::Uuid,
        }
    }
}

impl From<w::Value> for Value {
    fn from(v: w::Value) -> Value {
        match v {
            w::Value::Null => Value::Null,
            w::Value::Boolean(b) => Value::Boolean(b),
            w::Value::Integer(i) => Value::Integer(i),
            w::Value::Float(f) => Value::Float(f),
            w::Value::Text(t) => Value::Text(t),
            w::Value::Blob(b) => Value::Blob(b),
        }
    }
}

fn action(a: Option<w::ReferentialAction>) -> Option<Action> {
    a.map(|a| match a {
        w::ReferentialAction::NoAction => Action::NoAction,
        w::ReferentialAction::Restrict => Action::Restrict,
        w::ReferentialAction::Cascade => Action::Cascade,
        w::ReferentialAction::SetNull => Action::SetNull,
        w::ReferentialAction::SetDefault => Action::SetDefault,
    })
}

impl From<w::Column> for Column {
    fn from(c: w::Column) -> Column {
        Column {
            name: c.name,
            data_type: c.data_type.into(),
            nullable: c.nullable,
            primary_key: c.primary_key,
            autoincrement: c.autoincrement,
            unique: c.unique,
            default: c.server_default.map(|d| match d {
                w::ServerDefault::Literal(v) => ServerDefault::Value(v.into()),
                w::ServerDefault::Expression(e) => ServerDefault::Expression(e),
            }),
            comment: c.comment,
            // The rest comes from `get-column-options` (`Column::take_options`).
            native_types: alloc::vec::Vec::new(),
            generated: None,
            identity: None,
        }
    }
}

impl From<w::TableConstraint> for Constraint {
    fn from(c: w::TableConstraint) -> Constraint {
        match c {
            w::TableConstraint::PrimaryKey(k) => Constraint::PrimaryKey {
                name: k.name,
                columns: k.columns,
            },
            w::TableConstraint::Unique(u) => Constraint::Unique {
                name: u.name,
                columns: u.columns,
            },
            w::TableConstraint::ForeignKey(f) => Constraint::ForeignKey(ForeignKey {
                name: f.name,
                columns: f.columns,
                referred_table: f.referred_table,
                referred_columns: f.referred_columns,
                on_delete: action(f.on_delete),
                on_update: action(f.on_update),
            }),
            w::TableConstraint::Check(c) => Constraint::Check {
                name: c.name,
                expression: c.expression,
            },
        }
    }
}

impl From<w::Table> for Table {
    fn from(t: w::Table) -> Table {
        Table {
            name: t.name,
            columns: t.columns.into_iter().map(Into::into).collect(),
            constraints: t.constraints.into_iter().map(Into::into).collect(),
            comment: t.comment,
        }
    }
}

impl From<w::Index> for Index {
    fn from(i: w::Index) -> Index {
        Index {
            name: i.name,
            table: i.table,
            keys: i.columns.iter().map(|_| (false, false, None)).collect(),
            columns: i.columns,
            unique: i.unique,
            predicate: None,
            include: alloc::vec::Vec::new(),
        }
    }
}
