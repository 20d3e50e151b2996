//! An operation is a value first and executed later: guests record `Op`s, dialects render them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::types::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    CreateTable(Table),
    DropTable {
        name: String,
    },
    RenameTable {
        old_name: String,
        new_name: String,
    },
    AddColumn {
        table: String,
        column: Column,
    },
    DropColumn {
        table: String,
        column: String,
    },
    AlterColumn(ColumnChange),
    CreateIndex(Index),
    DropIndex {
        table: String,
        name: String,
    },
    AddConstraint {
        table: String,
        constraint: TableConstraint,
    },
    DropConstraint {
        table: String,
        name: String,
        kind: ConstraintKind,
    },
    /// Drops the foreign key or unique constraint made on exactly `columns` (in any order),
    /// whatever its name: the name is found when the step is rendered, from the database's
    /// catalog online and from the schema model offline.
    DropConstraintOn {
        table: String,
        kind: ConstraintKind,
        columns: Vec<String>,
    },
    Execute {
        sql: String,
    },
    BulkInsert {
        table: String,
        columns: Vec<String>,
        rows: Vec<Vec<Value>>,
    },
    /// Sets `columns` of the rows found by `key`: each row holds the key's values, then the
    /// columns' new values (a data migration's writes, typed: no raw SQL).
    UpdateRows {
        table: String,
        key: Vec<String>,
        columns: Vec<String>,
        rows: Vec<Vec<Value>>,
    },
    /// Gives the enum type `name` these values (added, removed or reordered); every column of
    /// that enum follows (see `enums`).
    AlterEnum {
        name: String,
        values: Vec<String>,
    },
}

/// An index's parts: names where they are columns, SQL where they are expressions, options
/// that fit together.
fn index_options_ok(i: &Index) -> Result<(), String> {
    if i.columns.is_empty() {
        return Err("an index needs at least one column or expression".into());
    }
    if !i.keys.is_empty() && i.keys.len() != i.columns.len() {
        return Err(format!(
            "{} key options for {} key parts: give one per part, or none",
            i.keys.len(),
            i.columns.len()
        ));
    }
    i.key_columns()
        .iter()
        .try_for_each(|c| name_ok(c, "column"))?;
    for (n, part) in i.columns.iter().enumerate() {
        let key = i.key(n);
        if key.expression {
            sql_fragment_ok(part, "an index expression")?;
            if key.prefix_length.is_some() {
                return Err(format!(
                    "the expression {part:?} cannot have a prefix length (a column can)"
                ));
            }
        }
        if key.prefix_length == Some(0) {
            return Err(format!("the prefix length of {part:?} must be at least 1"));
        }
    }
    if let Some(predicate) = &i.predicate {
        sql_fragment_ok(predicate, "a partial index's condition")?;
    }
    i.include
        .iter()
        .try_for_each(|c| name_ok(c, "INCLUDE column"))?;
    if let Some(both) = i.include.iter().find(|c| i.key_columns().contains(c)) {
        return Err(format!(
            "{both:?} is both a key column and an INCLUDE column"
        ));
    }
    Ok(())
}

/// A piece of SQL the renderers put in a statement as it is: not empty, and one piece (no `;`
/// outside quotes, no comment that could swallow the rest of the statement).
fn sql_fragment_ok(sql: &str, what: &str) -> Result<(), String> {
    if sql.trim().is_empty() {
        return Err(format!("{what} is empty"));
    }
    match crate::raw_sql::is_one_fragment(sql) {
        None => Err(format!(
            "{what} {sql:?} does not read as SQL (an unclosed quote?)"
        )),
        Some(false) => Err(format!(
            "{what} {sql:?} must be one expression: no `;`, no comments"
        )),
        Some(true) => Ok(()),
    }
}

/// Why an op is refused before any SQL is rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{op}: {problem}")]
pub struct InvalidOp {
    /// A short description of the op (`create_table "user"`).
    pub op: String,
    pub problem: String,
}

impl Op {
    /// A short human description naming the op and its object, for error messages and `show`.
    pub fn describe(&self) -> String {
        match self {
            Op::CreateTable(t) => format!("create_table {:?}", t.name),
            Op::DropTable { name } => format!("drop_table {name:?}"),
            Op::RenameTable { old_name, new_name } => {
                format!("rename_table {old_name:?} -> {new_name:?}")
            }
            Op::AddColumn { table, column } => format!("add_column {table:?}.{:?}", column.name),
            Op::DropColumn { table, column } => format!("drop_column {table:?}.{column:?}"),
            Op::AlterColumn(c) => format!("alter_column {:?}.{:?}", c.table, c.column),
            Op::CreateIndex(i) => format!("create_index {:?} on {:?}", i.name, i.table),
            Op::DropIndex { table, name } => format!("drop_index {name:?} on {table:?}"),
            Op::AddConstraint { table, constraint } => format!(
                "create_{} {} on {table:?}",
                match constraint.kind() {
                    ConstraintKind::PrimaryKey => "primary_key",
                    ConstraintKind::Unique => "unique_constraint",
                    ConstraintKind::ForeignKey => "foreign_key",
                    ConstraintKind::Check => "check_constraint",
                },
                constraint
                    .name()
                    .map(|n| format!("{n:?}"))
                    .unwrap_or_else(|| "(unnamed)".into())
            ),
            Op::DropConstraint { table, name, kind } => {
                format!(
                    "drop_constraint {name:?} ({}) on {table:?}",
                    kind.describe()
                )
            }
            Op::DropConstraintOn {
                table,
                kind,
                columns,
            } => format!(
                "drop_constraint_on {table:?}({}) ({})",
                columns.join(", "),
                kind.describe()
            ),
            Op::Execute { sql } => {
                let first_line = sql.lines().next().unwrap_or("").trim();
                let short: String = first_line.chars().take(60).collect();
                format!("execute {short:?}")
            }
            Op::BulkInsert { table, rows, .. } => {
                format!("bulk_insert {} rows into {table:?}", rows.len())
            }
            Op::UpdateRows { table, rows, .. } => {
                format!("update_rows {} rows of {table:?}", rows.len())
            }
            Op::AlterEnum { name, .. } => format!("alter_enum {name:?}"),
        }
    }

    /// The one existing table whose definition this op changes in place (columns, constraints,
    /// indexes), if it is that kind of op.
    pub fn altered_table(&self) -> Option<&str> {
        match self {
            Op::AddColumn { table, .. }
            | Op::DropColumn { table, .. }
            | Op::AddConstraint { table, .. }
            | Op::DropConstraint { table, .. }
            | Op::DropConstraintOn { table, .. }
            | Op::DropIndex { table, .. } => Some(table),
            Op::AlterColumn(c) => Some(&c.table),
            Op::CreateIndex(i) => Some(&i.table),
            Op::CreateTable(_)
            | Op::DropTable { .. }
            | Op::RenameTable { .. }
            | Op::Execute { .. }
            | Op::BulkInsert { .. }
            | Op::UpdateRows { .. }
            | Op::AlterEnum { .. } => None,
        }
    }

    /// Checks what can be checked without knowing the schema: names present, shapes consistent.
    pub fn validate(&self) -> Result<(), InvalidOp> {
        let fail = |problem: String| {
            Err(InvalidOp {
                op: self.describe(),
                problem,
            })
        };
        match self {
            Op::CreateTable(t) => {
                name_ok(&t.name, "table").or_else(fail)?;
                if t.columns.is_empty() {
                    return fail("a table needs at least one column".into());
                }
                let mut seen = std::collections::BTreeSet::new();
                let table_key = t.constraints.iter().find_map(|c| match c {
                    TableConstraint::PrimaryKey(k) => Some(k.columns.as_slice()),
                    _ => None,
                });
                for c in &t.columns {
                    column_ok(c).or_else(fail)?;
                    autoincrement_key_ok(c, table_key).or_else(fail)?;
                    if !seen.insert(c.name.as_str()) {
                        return fail(format!("column {:?} is declared twice", c.name));
                    }
                }
                let pk_columns = t.columns.iter().filter(|c| c.primary_key).count();
                let pk_constraints = t
                    .constraints
                    .iter()
                    .filter(|c| matches!(c, TableConstraint::PrimaryKey(_)))
                    .count();
                if pk_constraints > 1 || (pk_constraints == 1 && pk_columns > 0) {
                    return fail("a table has at most one primary key".into());
                }
                for constraint in &t.constraints {
                    constraint_ok(constraint).or_else(fail)?;
                    for col in constraint.columns() {
                        if !seen.contains(col.as_str()) {
                            return fail(format!(
                                "constraint uses column {col:?}, which the table does not have"
                            ));
                        }
                    }
                }
                Ok(())
            }
            Op::DropTable { name } => name_ok(name, "table").or_else(fail),
            Op::RenameTable { old_name, new_name } => {
                name_ok(old_name, "table").or_else(fail)?;
                name_ok(new_name, "new table").or_else(fail)
            }
            Op::AddColumn { table, column } => {
                name_ok(table, "table").or_else(fail)?;
                column_ok(column).or_else(fail)?;
                autoincrement_key_ok(column, None).or_else(fail)
            }
            Op::DropColumn { table, column } => {
                name_ok(table, "table").or_else(fail)?;
                name_ok(column, "column").or_else(fail)
            }
            Op::AlterColumn(c) => {
                name_ok(&c.table, "table").or_else(fail)?;
                name_ok(&c.column, "column").or_else(fail)?;
                if let Some(n) = &c.new_name {
                    name_ok(n, "new column").or_else(fail)?;
                }
                if let Some(t) = &c.new_type {
                    type_ok(t).or_else(fail)?;
                }
                native_types_ok(&c.new_native_types).or_else(fail)?;
                if c.new_type.is_none() && !c.new_native_types.is_empty() {
                    return fail("native types come with a new type (`set_type`)".into());
                }
                if c.new_type.is_none()
                    && c.nullable.is_none()
                    && c.server_default.is_none()
                    && c.new_name.is_none()
                    && c.comment.is_none()
                {
                    return fail(
                        "nothing to change: set a type, nullability, default, name or comment"
                            .into(),
                    );
                }
                Ok(())
            }
            Op::CreateIndex(i) => {
                name_ok(&i.name, "index").or_else(fail)?;
                name_ok(&i.table, "table").or_else(fail)?;
                index_options_ok(i).or_else(fail)
            }
            Op::DropIndex { table, name } => {
                name_ok(table, "table").or_else(fail)?;
                name_ok(name, "index").or_else(fail)
            }
            Op::AddConstraint { table, constraint } => {
                name_ok(table, "table").or_else(fail)?;
                constraint_ok(constraint).or_else(fail)
            }
            Op::DropConstraint { table, name, .. } => {
                name_ok(table, "table").or_else(fail)?;
                name_ok(name, "constraint").or_else(fail)
            }
            Op::DropConstraintOn {
                table,
                kind,
                columns,
            } => {
                name_ok(table, "table").or_else(fail)?;
                columns_ok(columns).or_else(fail)?;
                match kind {
                    ConstraintKind::ForeignKey | ConstraintKind::Unique => Ok(()),
                    other => fail(format!(
                        "a {} is not found by its columns: only a foreign key or a unique constraint is \
                         (drop a primary key or a check constraint by name)",
                        other.describe()
                    )),
                }
            }
            Op::Execute { sql } => {
                if sql.trim().is_empty() {
                    return fail("the SQL is empty".into());
                }
                Ok(())
            }
            Op::BulkInsert {
                table,
                columns,
                rows,
            } => {
                name_ok(table, "table").or_else(fail)?;
                columns_ok(columns).or_else(fail)?;
                for (i, row) in rows.iter().enumerate() {
                    if row.len() != columns.len() {
                        return fail(format!(
                            "row {i} has {} values for {} columns",
                            row.len(),
                            columns.len()
                        ));
                    }
                }
                Ok(())
            }
            Op::UpdateRows {
                table,
                key,
                columns,
                rows,
            } => {
                name_ok(table, "table").or_else(fail)?;
                columns_ok(key).or_else(fail)?;
                columns_ok(columns).or_else(fail)?;
                if let Some(both) = columns.iter().find(|c| key.contains(c)) {
                    return fail(format!("column {both:?} is both in the key and set"));
                }
                let width = key.len() + columns.len();
                for (i, row) in rows.iter().enumerate() {
                    if row.len() != width {
                        return fail(format!(
                            "row {i} has {} values for {} key and {} set columns",
                            row.len(),
                            key.len(),
                            columns.len()
                        ));
                    }
                }
                Ok(())
            }
            Op::AlterEnum { name, values } => crate::enums::enum_ok(name, values).or_else(fail),
        }
    }
}

fn name_ok(name: &str, what: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err(format!("the {what} name is empty"));
    }
    if name.contains('\0') {
        return Err(format!("the {what} name {name:?} contains a NUL character"));
    }
    Ok(())
}

fn columns_ok(columns: &[String]) -> Result<(), String> {
    if columns.is_empty() {
        return Err("at least one column is needed".into());
    }
    columns.iter().try_for_each(|c| name_ok(c, "column"))
}

/// At most one native type per database, each one piece of SQL.
fn native_types_ok(natives: &[NativeType]) -> Result<(), String> {
    for (i, n) in natives.iter().enumerate() {
        sql_fragment_ok(&n.sql, "a native type")?;
        if natives[..i].iter().any(|m| m.dialect == n.dialect) {
            return Err(format!(
                "two native types for {:?}: give at most one per database",
                n.dialect
            ));
        }
    }
    Ok(())
}

fn type_ok(t: &DataType) -> Result<(), String> {
    match t {
        DataType::Varchar(0) => Err("varchar length must be at least 1".into()),
        DataType::Numeric { precision, scale } if *precision == 0 || scale > precision => Err(
            format!("numeric({precision}, {scale}) needs 1 <= precision and scale <= precision"),
        ),
        DataType::Enum { name, values } => crate::enums::enum_ok(name, values),
        _ => Ok(()),
    }
}

/// An autoincrement column must be the table's whole primary key: declared on the column, or
/// as a named one-column `Constraint::primary_key` (every database makes an autoincrement column
/// only as a one-column key of its own).
fn autoincrement_key_ok(c: &Column, table_key: Option<&[String]>) -> Result<(), String> {
    let keyed_alone = c.primary_key || table_key == Some(std::slice::from_ref(&c.name));
    if c.autoincrement && !keyed_alone {
        return Err(format!(
            "column {:?}: autoincrement needs the column to be the whole primary key: \
             `Column::new(..).primary_key().autoincrement()`, or (to name the key) \
             `.autoincrement()` with `Constraint::primary_key([\"{}\"]).named(..)`; every database \
             makes an autoincrement column only as a one-column key of its own",
            c.name, c.name
        ));
    }
    Ok(())
}

fn column_ok(c: &Column) -> Result<(), String> {
    name_ok(&c.name, "column")?;
    type_ok(&c.data_type)?;
    native_types_ok(&c.native_types).map_err(|e| format!("column {:?}: {e}", c.name))?;
    if let Some(g) = &c.generated {
        sql_fragment_ok(&g.expression, "a generated column's expression")?;
        let conflict = if c.server_default.is_some() {
            Some("a server default")
        } else if c.primary_key {
            Some("a primary key")
        } else if c.autoincrement {
            Some("autoincrement")
        } else {
            None
        };
        if let Some(conflict) = conflict {
            return Err(format!(
                "column {:?} is generated and cannot also have {conflict}",
                c.name
            ));
        }
    }
    if let Some(identity) = &c.identity {
        if !c.autoincrement {
            return Err(format!(
                "column {:?}: identity options are for an autoincrement column (`.identity(..)` makes it one)",
                c.name
            ));
        }
        if identity.increment == Some(0) {
            return Err(format!(
                "column {:?}: an identity's increment cannot be 0",
                c.name
            ));
        }
    }
    if c.autoincrement && !c.data_type.is_integer() {
        return Err(format!(
            "column {:?}: autoincrement needs an integer type (Integer, Bigint or Smallint), not {:?}",
            c.name, c.data_type
        ));
    }
    if c.primary_key && c.nullable {
        return Err(format!(
            "column {:?}: a primary key column cannot be nullable",
            c.name
        ));
    }
    Ok(())
}

fn constraint_ok(c: &TableConstraint) -> Result<(), String> {
    if let Some(n) = c.name() {
        name_ok(n, "constraint")?;
    }
    match c {
        TableConstraint::PrimaryKey(k) => columns_ok(&k.columns),
        TableConstraint::Unique(u) => columns_ok(&u.columns),
        TableConstraint::ForeignKey(f) => {
            columns_ok(&f.columns)?;
            name_ok(&f.referred_table, "referred table")?;
            columns_ok(&f.referred_columns)?;
            if f.columns.len() != f.referred_columns.len() {
                return Err(format!(
                    "foreign key has {} columns but refers to {}",
                    f.columns.len(),
                    f.referred_columns.len()
                ));
            }
            Ok(())
        }
        TableConstraint::Check(ch) => {
            if ch.expression.trim().is_empty() {
                return Err("the check expression is empty".into());
            }
            Ok(())
        }
    }
}

/// The checksum of a revision: sha256 over the canonical JSON of the ops its upgrade records.
/// Reformatting or rebuilding a revision leaves it unchanged; changing what it does changes it.
/// The size of an op in its canonical (JSON) form, without building the text: what a recorded
/// op costs the host to hold, cache and checksum.
pub fn encoded_len(op: &Op) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, op).expect("ops always serialize");
    count.0
}

pub fn checksum(ops: &[Op]) -> String {
    let canonical = serde_json::to_vec(ops).expect("ops always serialize");
    let digest = Sha256::digest(&canonical);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
