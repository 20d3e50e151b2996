//! PostgreSQL. DDL is transactional and ALTER TABLE can make every change natively, so each op
//! is one or a few statements. Comments are separate `COMMENT ON` statements.

use super::common;
use super::postgres_enums;
use super::{Capabilities, Dialect, DialectName, Rendered, Statement};
use crate::ops::Op;
use crate::schema::Schema;
use crate::types::*;

pub struct Postgres;

impl Dialect for Postgres {
    fn name(&self) -> DialectName {
        DialectName::Postgresql
    }

    /// A savepoint made read-only, then rolled back to: the read cannot write, and a read that
    /// fails leaves the step's transaction usable.
    fn read_only_guard(&self) -> (Vec<String>, Vec<String>) {
        (
            vec![
                "SAVEPOINT migrate_read".into(),
                "SET LOCAL transaction_read_only = on".into(),
            ],
            vec![
                "ROLLBACK TO SAVEPOINT migrate_read".into(),
                "RELEASE SAVEPOINT migrate_read".into(),
            ],
        )
    }

    /// `<table>_<columns>_fkey` and `<table>_<columns>_key`, as PostgreSQL names them.
    fn default_constraint_name(
        &self,
        table: &str,
        kind: ConstraintKind,
        columns: &[String],
    ) -> Option<String> {
        let label = match kind {
            ConstraintKind::ForeignKey => "fkey",
            ConstraintKind::Unique => "key",
            _ => return None,
        };
        Some(crate::constraint_names::postgres_default_name(
            table, columns, label,
        ))
    }

    /// Identity columns are the standard, sequence-owning way to generate keys (PostgreSQL 10+),
    /// BY DEFAULT unless ALWAYS is asked.
    fn autoincrement_clause(&self, column: &Column) -> Result<String, String> {
        let identity = column.identity.clone().unwrap_or_default();
        let mut sql = format!(
            " GENERATED {} AS IDENTITY",
            if identity.always {
                "ALWAYS"
            } else {
                "BY DEFAULT"
            }
        );
        let mut options = vec![];
        if let Some(start) = identity.start {
            options.push(format!("START WITH {start}"));
        }
        if let Some(increment) = identity.increment {
            options.push(format!("INCREMENT BY {increment}"));
        }
        if !options.is_empty() {
            sql.push_str(&format!(" ({})", options.join(" ")));
        }
        Ok(sql)
    }

    fn generated_ok(&self, generated: &Generated) -> Result<(), String> {
        if generated.stored {
            Ok(())
        } else {
            Err(format!(
                "the generated column ({}) is VIRTUAL: PostgreSQL before 18 makes only STORED ones (`.generated_stored(..)`)",
                generated.expression
            ))
        }
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            transactional_ddl: true,
            comments: true,
            enum_names: true,
        }
    }

    fn quote_ident(&self, name: &str) -> String {
        super::double_quoted(name)
    }

    fn literal(&self, value: &Value) -> Result<String, String> {
        Ok(match value {
            Value::Null => "NULL".into(),
            Value::Boolean(b) => if *b { "TRUE" } else { "FALSE" }.into(),
            Value::Integer(i) => i.to_string(),
            Value::Float(f) => common::float_literal(*f)?,
            Value::Text(t) if t.contains('\0') => {
                return Err("PostgreSQL text cannot hold a NUL character".into())
            }
            // standard_conforming_strings (on by default since 9.1): backslashes are literal.
            Value::Text(t) => super::single_quoted(t),
            Value::Blob(b) => format!("'\\x{}'::bytea", common::hex(b)),
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
            DataType::Double => "DOUBLE PRECISION".into(),
            DataType::Numeric { precision, scale } => format!("NUMERIC({precision}, {scale})"),
            DataType::Date => "DATE".into(),
            DataType::Time => "TIME".into(),
            DataType::Timestamp => "TIMESTAMP".into(),
            DataType::Timestamptz => "TIMESTAMP WITH TIME ZONE".into(),
            DataType::Blob => "BYTEA".into(),
            DataType::Json => "JSONB".into(),
            DataType::Uuid => "UUID".into(),
            DataType::Enum { name, .. } => self.quote_ident(name),
        }
    }

    fn text_cast_type(&self) -> &'static str {
        "TEXT"
    }

    fn server_version_query(&self) -> &'static str {
        "SELECT CAST(current_setting('server_version') AS TEXT)"
    }

    fn render(&self, op: &Op, schema: &Schema) -> Result<Rendered, String> {
        let (types_before, types_after) = postgres_enums::around(self, op, schema)?;
        let statements = self.render_op(op, schema)?;
        Ok(Rendered::plain(
            types_before
                .into_iter()
                .chain(statements)
                .chain(types_after)
                .map(Statement::plain)
                .collect(),
        ))
    }
}

impl Postgres {
    /// The op's own statements, without the enum types it makes or leaves unused.
    fn render_op(&self, op: &Op, schema: &Schema) -> Result<Vec<String>, String> {
        let q = |n: &str| self.quote_ident(n);
        Ok(match op {
            Op::CreateTable(t) => {
                let mut out = vec![common::create_table(self, t)?];
                if let Some(comment) = &t.comment {
                    out.push(self.comment_on_table(&t.name, Some(comment)));
                }
                for c in &t.columns {
                    if let Some(comment) = &c.comment {
                        out.push(self.comment_on_column(&t.name, &c.name, Some(comment)));
                    }
                }
                out
            }
            Op::DropTable { name } => vec![format!("DROP TABLE {}", q(name))],
            Op::RenameTable { old_name, new_name } => {
                vec![format!(
                    "ALTER TABLE {} RENAME TO {}",
                    q(old_name),
                    q(new_name)
                )]
            }
            Op::AddColumn { table, column } => {
                let mut out = vec![format!(
                    "ALTER TABLE {} ADD COLUMN {}",
                    q(table),
                    common::column_definition(self, column)?
                )];
                if let Some(comment) = &column.comment {
                    out.push(self.comment_on_column(table, &column.name, Some(comment)));
                }
                out
            }
            Op::DropColumn { table, column } => vec![format!(
                "ALTER TABLE {} DROP COLUMN {}",
                q(table),
                q(column)
            )],
            Op::AlterColumn(change) => self.alter_column(change, schema)?,
            Op::CreateIndex(i) => vec![common::create_index(self, i)],
            Op::DropIndex { name, .. } => vec![format!("DROP INDEX {}", q(name))],
            Op::AddConstraint { table, constraint } => {
                vec![format!(
                    "ALTER TABLE {} ADD {}",
                    q(table),
                    common::constraint_clause(self, constraint)
                )]
            }
            Op::DropConstraintOn { .. } => {
                return self.render_op(&common::named_drop(self, op, schema)?, schema)
            }
            Op::DropConstraint { table, name, .. } => {
                vec![format!(
                    "ALTER TABLE {} DROP CONSTRAINT {}",
                    q(table),
                    q(name)
                )]
            }
            Op::Execute { sql } => vec![sql.clone()],
            Op::BulkInsert {
                table,
                columns,
                rows,
            } => common::insert_rows(self, table, columns, rows)?,
            Op::UpdateRows {
                table,
                key,
                columns,
                rows,
            } => common::update_rows(self, table, key, columns, rows)?,
            Op::AlterEnum { name, values } => {
                postgres_enums::alter_enum(self, name, values, schema)?
            }
        })
    }

    fn comment_on_table(&self, table: &str, comment: Option<&str>) -> String {
        format!(
            "COMMENT ON TABLE {} IS {}",
            self.quote_ident(table),
            self.comment_literal(comment)
        )
    }

    fn comment_on_column(&self, table: &str, column: &str, comment: Option<&str>) -> String {
        format!(
            "COMMENT ON COLUMN {}.{} IS {}",
            self.quote_ident(table),
            self.quote_ident(column),
            self.comment_literal(comment)
        )
    }

    fn comment_literal(&self, comment: Option<&str>) -> String {
        comment.map_or("NULL".into(), super::single_quoted)
    }

    /// One statement per change, the rename last so the others can use the old name.
    fn alter_column(&self, c: &ColumnChange, schema: &Schema) -> Result<Vec<String>, String> {
        let q = |n: &str| self.quote_ident(n);
        let prefix = format!("ALTER TABLE {} ALTER COLUMN {}", q(&c.table), q(&c.column));
        let mut out = Vec::new();
        if let (Some(t), true) = (&c.new_type, common::changes_type_here(self, c, schema)) {
            // The column as it is (its type and default), where earlier revisions defined it.
            let before = schema
                .table(&c.table)
                .and_then(|m| m.table.columns.iter().find(|col| col.name == c.column))
                .cloned()
                .unwrap_or_else(|| Column::new(c.column.clone(), DataType::Text));
            let after = Column {
                data_type: t.clone(),
                native_types: c.new_native_types.clone(),
                ..before.clone()
            };
            out.extend(postgres_enums::retype_column(
                self,
                &c.table,
                &before,
                &after,
                c.server_default.as_ref(),
            )?);
        }
        match c.nullable {
            Some(true) => out.push(format!("{prefix} DROP NOT NULL")),
            Some(false) => out.push(format!("{prefix} SET NOT NULL")),
            None => {}
        }
        match &c.server_default {
            Some(DefaultChange::Set(d)) => out.push(format!(
                "{prefix} SET DEFAULT {}",
                common::server_default(self, d)?
            )),
            Some(DefaultChange::Drop) => out.push(format!("{prefix} DROP DEFAULT")),
            None => {}
        }
        let final_name = c.new_name.as_deref().unwrap_or(&c.column);
        if let Some(new_name) = &c.new_name {
            out.push(format!(
                "ALTER TABLE {} RENAME COLUMN {} TO {}",
                q(&c.table),
                q(&c.column),
                q(new_name)
            ));
        }
        match &c.comment {
            Some(CommentChange::Set(text)) => {
                out.push(self.comment_on_column(&c.table, final_name, Some(text)))
            }
            Some(CommentChange::Drop) => {
                out.push(self.comment_on_column(&c.table, final_name, None))
            }
            None => {}
        }
        Ok(out)
    }
}
