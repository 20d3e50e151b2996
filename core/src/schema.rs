//! The host's own model of a schema, built by replaying recorded ops. Dialects read it to plan
//! changes their ALTER TABLE cannot make (a SQLite table rebuild needs the whole definition).

use std::collections::BTreeMap;

use crate::ops::Op;
use crate::types::*;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schema {
    pub tables: BTreeMap<String, TableModel>,
    /// Set once an `execute` ran: raw SQL may have changed things this model cannot see.
    pub has_opaque_changes: bool,
    /// Objects the ops do not describe (triggers, views, indexes made by `execute` or by hand),
    /// read from the database before a run, so that a table rebuild keeps them.
    pub database_objects: Vec<DatabaseObject>,
}

/// A trigger, view or index known only by its SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseObject {
    pub kind: ObjectKind,
    pub name: String,
    /// The table it belongs to (a trigger's or index's table; empty for a view).
    pub table: String,
    /// The statement that creates it, as the database keeps it.
    pub sql: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Trigger,
    View,
    Index,
}

impl DatabaseObject {
    /// Whether its SQL names `table` (as a word, quoted or not): a view or trigger on another
    /// table that reads this one.
    pub fn mentions(&self, table: &str) -> bool {
        let sql = self.sql.to_ascii_lowercase();
        let table = table.to_ascii_lowercase();
        let bytes = sql.as_bytes();
        let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        sql.match_indices(&table).any(|(at, _)| {
            let before = at.checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(at + table.len()).copied();
            !before.is_some_and(is_word) && !after.is_some_and(is_word)
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableModel {
    pub table: Table,
    pub indexes: Vec<Index>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{op}: {problem}")]
pub struct SchemaError {
    pub op: String,
    pub problem: String,
}

impl Schema {
    pub fn table(&self, name: &str) -> Option<&TableModel> {
        self.tables.get(name)
    }

    /// Applies one op to the model, refusing ops that contradict it (a missing table or column).
    pub fn apply(&mut self, op: &Op) -> Result<(), SchemaError> {
        let fail = |problem: String| SchemaError {
            op: op.describe(),
            problem,
        };
        match op {
            Op::CreateTable(t) => {
                if self.tables.contains_key(&t.name) {
                    return Err(fail(format!("table {:?} already exists", t.name)));
                }
                self.tables.insert(
                    t.name.clone(),
                    TableModel {
                        table: t.clone(),
                        indexes: vec![],
                    },
                );
            }
            Op::DropTable { name } => {
                self.tables
                    .remove(name)
                    .ok_or_else(|| fail(format!("no table {name:?}")))?;
                // Its triggers and indexes go with it.
                self.database_objects.retain(|o| &o.table != name);
            }
            Op::RenameTable { old_name, new_name } => {
                if self.tables.contains_key(new_name) {
                    return Err(fail(format!("table {new_name:?} already exists")));
                }
                let mut model = self
                    .tables
                    .remove(old_name)
                    .ok_or_else(|| fail(format!("no table {old_name:?}")))?;
                model.table.name = new_name.clone();
                for object in self
                    .database_objects
                    .iter_mut()
                    .filter(|o| &o.table == old_name)
                {
                    object.table = new_name.clone();
                }
                for index in &mut model.indexes {
                    index.table = new_name.clone();
                }
                for other in self.tables.values_mut() {
                    for c in &mut other.table.constraints {
                        if let TableConstraint::ForeignKey(fk) = c {
                            if &fk.referred_table == old_name {
                                fk.referred_table = new_name.clone();
                            }
                        }
                    }
                }
                self.tables.insert(new_name.clone(), model);
            }
            Op::AddColumn { table, column } => {
                let t = self.table_mut(table).map_err(fail)?;
                if t.table.columns.iter().any(|c| c.name == column.name) {
                    return Err(fail(format!("column {:?} already exists", column.name)));
                }
                t.table.columns.push(column.clone());
            }
            Op::DropColumn { table, column } => {
                let t = self.table_mut(table).map_err(fail)?;
                let before = t.table.columns.len();
                t.table.columns.retain(|c| &c.name != column);
                if t.table.columns.len() == before {
                    return Err(fail(format!("table {table:?} has no column {column:?}")));
                }
                // Keys, indexes and checks that use the column go with it, as in PostgreSQL.
                t.table.constraints.retain(|c| match c {
                    TableConstraint::Check(check) => {
                        !crate::expression::mentions_column(&check.expression, column)
                    }
                    other => !other.columns().contains(column),
                });
                t.indexes.retain(|i| !i.columns.contains(column));
            }
            Op::AlterColumn(change) => {
                let t = self.table_mut(&change.table).map_err(fail)?;
                let col = t
                    .table
                    .columns
                    .iter_mut()
                    .find(|c| c.name == change.column)
                    .ok_or_else(|| {
                        fail(format!(
                            "table {:?} has no column {:?}",
                            change.table, change.column
                        ))
                    })?;
                if let Some(ty) = &change.new_type {
                    col.data_type = ty.clone();
                }
                if let Some(n) = change.nullable {
                    col.nullable = n;
                }
                match &change.server_default {
                    Some(DefaultChange::Set(d)) => col.server_default = Some(d.clone()),
                    Some(DefaultChange::Drop) => col.server_default = None,
                    None => {}
                }
                match &change.comment {
                    Some(CommentChange::Set(c)) => col.comment = Some(c.clone()),
                    Some(CommentChange::Drop) => col.comment = None,
                    None => {}
                }
                if let Some(new_name) = &change.new_name {
                    let old = std::mem::replace(&mut col.name, new_name.clone());
                    rename_in_list(
                        t.table
                            .constraints
                            .iter_mut()
                            .flat_map(constraint_columns_mut),
                        &old,
                        new_name,
                    );
                    rename_in_list(
                        t.indexes.iter_mut().flat_map(|i| i.columns.iter_mut()),
                        &old,
                        new_name,
                    );
                    // The database rewrites checks on a rename; so does the model.
                    for c in &mut t.table.constraints {
                        if let TableConstraint::Check(check) = c {
                            if crate::expression::mentions_column(&check.expression, &old) {
                                check.expression = crate::expression::rename_column(
                                    &check.expression,
                                    &old,
                                    new_name,
                                );
                            }
                        }
                    }
                }
            }
            Op::CreateIndex(index) => {
                if self
                    .tables
                    .values()
                    .any(|t| t.indexes.iter().any(|i| i.name == index.name))
                {
                    return Err(fail(format!("index {:?} already exists", index.name)));
                }
                let t = self.table_mut(&index.table).map_err(fail)?;
                t.indexes.push(index.clone());
            }
            Op::DropIndex { table, name } => {
                let t = self.table_mut(table).map_err(fail)?;
                let before = t.indexes.len();
                t.indexes.retain(|i| &i.name != name);
                if t.indexes.len() == before {
                    return Err(fail(format!("table {table:?} has no index {name:?}")));
                }
            }
            Op::AddConstraint { table, constraint } => {
                let t = self.table_mut(table).map_err(fail)?;
                if let Some(name) = constraint.name() {
                    if t.table.constraints.iter().any(|c| c.name() == Some(name)) {
                        return Err(fail(format!("constraint {name:?} already exists")));
                    }
                }
                if matches!(constraint, TableConstraint::PrimaryKey(_))
                    && t.primary_key_columns().next().is_some()
                {
                    return Err(fail(format!("table {table:?} already has a primary key")));
                }
                t.table.constraints.push(constraint.clone());
            }
            Op::DropConstraint { table, name, kind } => {
                let t = self.table_mut(table).map_err(fail)?;
                let before = t.table.constraints.len();
                t.table
                    .constraints
                    .retain(|c| !(c.name() == Some(name.as_str()) && c.kind() == *kind));
                if t.table.constraints.len() == before {
                    return Err(fail(format!(
                        "table {table:?} has no {} named {name:?}",
                        kind.describe()
                    )));
                }
            }
            Op::Execute { sql } => {
                self.has_opaque_changes = true;
                match crate::raw_sql::effect(sql) {
                    Some(crate::raw_sql::Effect::Create(object)) => {
                        self.database_objects.retain(|o| o.name != object.name);
                        self.database_objects.push(object);
                    }
                    Some(crate::raw_sql::Effect::Drop(name)) => {
                        self.database_objects.retain(|o| o.name != name)
                    }
                    None => {}
                }
            }
            Op::BulkInsert { table, columns, .. } => {
                let t = self.table_mut(table).map_err(fail)?;
                if let Some(missing) = columns
                    .iter()
                    .find(|c| !t.table.columns.iter().any(|col| &&col.name == c))
                {
                    return Err(fail(format!("table {table:?} has no column {missing:?}")));
                }
            }
        }
        Ok(())
    }

    /// Like `apply`, but once raw SQL has run the model may be incomplete, so contradictions
    /// are left for the database to judge instead of refused here.
    pub fn apply_lenient(&mut self, op: &Op) -> Result<(), SchemaError> {
        match self.apply(op) {
            Err(_) if self.has_opaque_changes => Ok(()),
            other => other,
        }
    }

    fn table_mut(&mut self, name: &str) -> Result<&mut TableModel, String> {
        self.tables
            .get_mut(name)
            .ok_or_else(|| format!("no table {name:?} (as far as earlier revisions show)"))
    }
}

impl TableModel {
    /// The primary key's columns, whether declared on columns or as a constraint.
    pub fn primary_key_columns(&self) -> impl Iterator<Item = &String> {
        let from_columns = self
            .table
            .columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| &c.name);
        let from_constraint = self.table.constraints.iter().flat_map(|c| match c {
            TableConstraint::PrimaryKey(pk) => pk.columns.iter(),
            _ => [].iter(),
        });
        from_columns.chain(from_constraint)
    }
}

fn constraint_columns_mut(c: &mut TableConstraint) -> std::slice::IterMut<'_, String> {
    match c {
        TableConstraint::PrimaryKey(k) => k.columns.iter_mut(),
        TableConstraint::Unique(u) => u.columns.iter_mut(),
        TableConstraint::ForeignKey(f) => f.columns.iter_mut(),
        TableConstraint::Check(_) => [].iter_mut(),
    }
}

fn rename_in_list<'a>(names: impl Iterator<Item = &'a mut String>, old: &str, new: &str) {
    for n in names {
        if n == old {
            *n = new.to_string();
        }
    }
}
