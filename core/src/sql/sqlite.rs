//! SQLite. DDL is transactional. ALTER TABLE can add, rename and drop plain columns and rename
//! tables; every other change (types, nullability, defaults, constraints) is made by rebuilding
//! the table from the host's schema model: create the new shape, copy the rows, swap.

use super::common;
use super::{Capabilities, Dialect, DialectName, Expect, ForeignKeysOff, Rendered, Statement};
use crate::ops::Op;
use crate::schema::{Schema, TableModel};
use crate::types::*;

pub struct Sqlite;

const AUTOINCREMENT: &str = " AUTOINCREMENT";
/// The temporary name a table has while it is rebuilt.
const REBUILD_PREFIX: &str = "_migrate_rebuild_";

impl Dialect for Sqlite {
    fn name(&self) -> DialectName {
        DialectName::Sqlite
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            transactional_ddl: true,
            comments: false,
        }
    }

    fn quote_ident(&self, name: &str) -> String {
        super::double_quoted(name)
    }

    fn literal(&self, value: &Value) -> Result<String, String> {
        Ok(match value {
            Value::Null => "NULL".into(),
            Value::Boolean(b) => if *b { "1" } else { "0" }.into(),
            Value::Integer(i) => i.to_string(),
            Value::Float(f) => common::float_literal(*f)?,
            Value::Text(t) => super::single_quoted(t),
            Value::Blob(b) => format!("X'{}'", common::hex(b)),
        })
    }

    fn data_type(&self, t: &DataType) -> String {
        match t {
            DataType::Integer => "INTEGER".into(),
            DataType::Bigint => "BIGINT".into(),
            DataType::Smallint => "SMALLINT".into(),
            DataType::Boolean => "BOOLEAN".into(),
            DataType::Text => "TEXT".into(),
            DataType::Varchar(n) => format!("VARCHAR({n})"),
            DataType::Float => "REAL".into(),
            DataType::Double => "DOUBLE".into(),
            DataType::Numeric { precision, scale } => format!("NUMERIC({precision}, {scale})"),
            DataType::Date => "DATE".into(),
            DataType::Time => "TIME".into(),
            DataType::Timestamp => "TIMESTAMP".into(),
            DataType::Timestamptz => "TIMESTAMPTZ".into(),
            DataType::Blob => "BLOB".into(),
            DataType::Json => "JSON".into(),
            DataType::Uuid => "UUID".into(),
        }
    }

    fn text_cast_type(&self) -> &'static str {
        "TEXT"
    }

    fn render(&self, op: &Op, schema: &Schema) -> Result<Rendered, String> {
        let q = |n: &str| self.quote_ident(n);
        let plain = |sql: String| Ok(Rendered::plain(vec![Statement::plain(sql)]));
        match op {
            Op::CreateTable(t) => plain(common::create_table(self, &rowid_safe(t), AUTOINCREMENT)?),
            Op::DropTable { name } => plain(format!("DROP TABLE {}", q(name))),
            Op::RenameTable { old_name, new_name } => plain(format!(
                "ALTER TABLE {} RENAME TO {}",
                q(old_name),
                q(new_name)
            )),
            Op::AddColumn { table, column } => {
                let native = !column.primary_key
                    && !column.unique
                    && (column.nullable || column.server_default.is_some());
                if native {
                    plain(format!(
                        "ALTER TABLE {} ADD COLUMN {}",
                        q(table),
                        common::column_definition(self, column, AUTOINCREMENT)?
                    ))
                } else {
                    self.rebuild(op, table, schema)
                }
            }
            Op::DropColumn { table, column } => {
                let used = schema
                    .table(table)
                    .is_some_and(|t| column_is_used(t, column));
                if used {
                    self.rebuild(op, table, schema)
                } else {
                    plain(format!(
                        "ALTER TABLE {} DROP COLUMN {}",
                        q(table),
                        q(column)
                    ))
                }
            }
            Op::AlterColumn(change) => {
                let structural = change.new_type.is_some()
                    || change.nullable.is_some()
                    || change.server_default.is_some();
                if structural {
                    return self.rebuild(op, &change.table, schema);
                }
                // A comment alone changes nothing: SQLite does not store comments.
                let statements = match &change.new_name {
                    Some(new_name) => vec![Statement::plain(format!(
                        "ALTER TABLE {} RENAME COLUMN {} TO {}",
                        q(&change.table),
                        q(&change.column),
                        q(new_name)
                    ))],
                    None => vec![],
                };
                Ok(Rendered::plain(statements))
            }
            Op::CreateIndex(i) => plain(common::create_index(self, i)),
            Op::DropIndex { name, .. } => plain(format!("DROP INDEX {}", q(name))),
            Op::AddConstraint { table, .. } | Op::DropConstraint { table, .. } => {
                self.rebuild(op, table, schema)
            }
            Op::Execute { sql } => plain(sql.clone()),
            Op::BulkInsert {
                table,
                columns,
                rows,
            } => Ok(Rendered::plain(
                common::insert_rows(self, table, columns, rows)?
                    .into_iter()
                    .map(Statement::plain)
                    .collect(),
            )),
        }
    }

    /// `PRAGMA foreign_keys` is a no-op inside a transaction, so it is switched around it; the
    /// check before COMMIT makes a rebuild that broke a reference fail and roll back.
    fn foreign_keys_off(&self) -> ForeignKeysOff {
        ForeignKeysOff {
            before: vec![Statement::plain("PRAGMA foreign_keys = OFF")],
            check: vec![Statement {
                sql: "PRAGMA foreign_key_check".into(),
                expect: Expect::NoRows("rows violate a foreign key after the table rebuild".into()),
            }],
            after: vec![Statement::plain("PRAGMA foreign_keys = ON")],
        }
    }
}

impl Sqlite {
    /// The 12-step rebuild from SQLite's documentation, shaped by the model before and after `op`.
    fn rebuild(&self, op: &Op, table: &str, schema: &Schema) -> Result<Rendered, String> {
        let q = |n: &str| self.quote_ident(n);
        let before = schema.table(table).ok_or_else(|| {
            format!(
                "SQLite cannot make this change with ALTER TABLE, and rebuilding {table:?} needs its definition, \
                 which earlier revisions do not give (was it made by `execute`?)"
            )
        })?;
        let mut after_schema = schema.clone();
        after_schema.apply(op).map_err(|e| e.problem)?;
        let after = after_schema
            .table(table)
            .expect("a rebuilt table still exists");

        let renamed = match op {
            Op::AlterColumn(c) => c.new_name.as_ref().map(|n| (c.column.as_str(), n.as_str())),
            _ => None,
        };
        let temp = format!("{REBUILD_PREFIX}{table}");
        let mut new_shape = rowid_safe(&after.table);
        new_shape.name = temp.clone();

        let mut targets = Vec::new();
        let mut sources = Vec::new();
        for col in &after.table.columns {
            let source_name = match renamed {
                Some((old, new)) if new == col.name => old,
                _ => col.name.as_str(),
            };
            let Some(source) = before.table.columns.iter().find(|c| c.name == source_name) else {
                continue; // a new column: it takes its default
            };
            targets.push(q(&col.name));
            sources.push(if source.data_type == col.data_type {
                q(source_name)
            } else {
                format!(
                    "CAST({} AS {})",
                    q(source_name),
                    self.data_type(&col.data_type)
                )
            });
        }

        let mut statements = vec![
            Statement::plain(common::create_table(self, &new_shape, AUTOINCREMENT)?),
            Statement::plain(format!(
                "INSERT INTO {} ({}) SELECT {} FROM {}",
                q(&temp),
                targets.join(", "),
                sources.join(", "),
                q(table)
            )),
            Statement::plain(format!("DROP TABLE {}", q(table))),
            Statement::plain(format!("ALTER TABLE {} RENAME TO {}", q(&temp), q(table))),
        ];
        statements.extend(
            after
                .indexes
                .iter()
                .map(|i| Statement::plain(common::create_index(self, i))),
        );
        Ok(Rendered {
            statements,
            needs_foreign_keys_off: true,
        })
    }
}

/// SQLite's AUTOINCREMENT works only on a column typed exactly INTEGER (the rowid alias).
fn rowid_safe(t: &Table) -> Table {
    let mut t = t.clone();
    for c in &mut t.columns {
        if c.autoincrement {
            c.data_type = DataType::Integer;
        }
    }
    t
}

/// Whether SQLite's native DROP COLUMN would refuse: the column is in a key, constraint or index.
fn column_is_used(t: &TableModel, column: &str) -> bool {
    let col = t.table.columns.iter().find(|c| c.name == column);
    col.is_some_and(|c| c.primary_key || c.unique)
        || t.table
            .constraints
            .iter()
            .any(|c| c.columns().iter().any(|n| n == column))
        || t.indexes
            .iter()
            .any(|i| i.columns.iter().any(|n| n == column))
}
