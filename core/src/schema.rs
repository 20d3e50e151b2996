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
    /// The names a connected database gave constraints the revisions left unnamed, read just
    /// before a step that needs them (`constraint_names`).
    pub database_names: crate::constraint_names::DatabaseNames,
    /// Names for the constraints revisions leave unnamed (settings' `[naming_convention]`),
    /// applied as ops are rendered and replayed.
    pub naming: crate::naming::NamingConvention,
    /// Every index's name, so that `create_index` checks uniqueness without walking every
    /// table's indexes (which made a revision of many indexes quadratic).
    index_names: IndexNames,
}

/// More columns than any of the databases allows in one table (PostgreSQL 1600, SQLite 2000 by
/// default, MySQL 4096): refused by the model, which also bounds what one op costs to apply and
/// render (a revision of 100,000 `add_column` ops took minutes of host CPU before).
pub const MAX_COLUMNS: usize = 4096;

/// A cache of index names, built on first use from the tables and then kept by `apply`.
/// It takes no part in comparing schemas.
#[derive(Debug, Clone, Default)]
struct IndexNames(Option<std::collections::HashSet<String>>);

impl PartialEq for IndexNames {
    fn eq(&self, _: &IndexNames) -> bool {
        true
    }
}

impl IndexNames {
    fn get(
        &mut self,
        tables: &BTreeMap<String, TableModel>,
    ) -> &mut std::collections::HashSet<String> {
        self.0.get_or_insert_with(|| {
            tables
                .values()
                .flat_map(|t| t.indexes.iter().map(|i| i.name.clone()))
                .collect()
        })
    }

    fn forget(&mut self, name: &str) {
        if let Some(names) = &mut self.0 {
            names.remove(name);
        }
    }
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
    /// A schema of these tables and nothing else.
    pub fn with_tables(tables: BTreeMap<String, TableModel>) -> Schema {
        Schema {
            tables,
            ..Schema::default()
        }
    }

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
                if t.columns.len() > MAX_COLUMNS {
                    return Err(fail(format!(
                        "table {:?} would have {} columns, more than any database allows ({MAX_COLUMNS})",
                        t.name,
                        t.columns.len()
                    )));
                }
                // Each enum column agrees with the schema's columns and the table's earlier ones.
                let mut known = None;
                for c in &t.columns {
                    if let Some((name, values)) = c.data_type.as_enum() {
                        let known = known.get_or_insert_with(|| crate::enums::used(self));
                        crate::enums::consistent_with(known, &c.data_type).map_err(fail)?;
                        known.insert(name.to_string(), values.to_vec());
                    }
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
                let model = self
                    .tables
                    .remove(name)
                    .ok_or_else(|| fail(format!("no table {name:?}")))?;
                for index in &model.indexes {
                    self.index_names.forget(&index.name);
                }
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
                self.enum_fits(&column.data_type).map_err(fail)?;
                let t = self.table_mut(table).map_err(fail)?;
                if t.table.columns.len() >= MAX_COLUMNS {
                    return Err(fail(format!(
                        "table {table:?} has {MAX_COLUMNS} columns, as many as any database allows"
                    )));
                }
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
                let gone: Vec<String> = t
                    .indexes
                    .iter()
                    .filter(|i| index_mentions(i, column))
                    .map(|i| i.name.clone())
                    .collect();
                t.indexes.retain(|i| !index_mentions(i, column));
                for name in gone {
                    self.index_names.forget(&name);
                }
            }
            Op::AlterColumn(change) => {
                if let Some(new_type) = &change.new_type {
                    self.enum_fits(new_type).map_err(fail)?;
                }
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
                    col.native_types = change.new_native_types.clone();
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
                    for index in &mut t.indexes {
                        rename_in_index(index, &old, new_name);
                    }
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
                let taken = self.index_names.get(&self.tables).contains(&index.name)
                    // The cache says taken: confirmed from the tables before refusing.
                    && self
                        .tables
                        .values()
                        .any(|t| t.indexes.iter().any(|i| i.name == index.name));
                if taken {
                    return Err(fail(format!("index {:?} already exists", index.name)));
                }
                let t = self.table_mut(&index.table).map_err(fail)?;
                t.indexes.push(index.clone());
                self.index_names
                    .get(&self.tables)
                    .insert(index.name.clone());
            }
            Op::DropIndex { table, name } => {
                let t = self.table_mut(table).map_err(fail)?;
                let before = t.indexes.len();
                t.indexes.retain(|i| &i.name != name);
                if t.indexes.len() == before {
                    return Err(fail(format!("table {table:?} has no index {name:?}")));
                }
                self.index_names.forget(name);
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
            Op::DropConstraintOn {
                table,
                kind,
                columns,
            } => {
                let t = self.table_mut(table).map_err(fail)?;
                let found = t.constraint_on(*kind, columns).map_err(fail)?;
                t.remove_found(found);
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
            Op::UpdateRows {
                table,
                key,
                columns,
                ..
            } => {
                let t = self.table_mut(table).map_err(fail)?;
                if let Some(missing) = key
                    .iter()
                    .chain(columns)
                    .find(|c| !t.table.columns.iter().any(|col| &&col.name == c))
                {
                    return Err(fail(format!("table {table:?} has no column {missing:?}")));
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
            Op::AlterEnum { name, values } => {
                if crate::enums::columns_using(self, name).is_empty() {
                    return Err(fail(format!(
                        "no column uses enum {name:?} (an enum exists while a column uses it)"
                    )));
                }
                crate::enums::set_values(self, name, values);
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

    /// Refuses a type naming an enum that columns already use with other values.
    fn enum_fits(&self, data_type: &DataType) -> Result<(), String> {
        if data_type.as_enum().is_none() {
            return Ok(());
        }
        crate::enums::consistent_with(&crate::enums::used(self), data_type)
    }

    fn table_mut(&mut self, name: &str) -> Result<&mut TableModel, String> {
        if !self.tables.contains_key(name) {
            return Err(self.no_table(name));
        }
        Ok(self.tables.get_mut(name).expect("checked above"))
    }

    fn no_table(&self, name: &str) -> String {
        format!(
            "no table {name:?} (as far as earlier revisions show){}",
            crate::suggest::did_you_mean(name, self.tables.keys().map(String::as_str))
        )
    }

    /// Whether `drop_index(table, name)`-style arguments are the wrong way round: no table
    /// `table`, but a table `name` that has an object called `table`.
    fn swapped(&self, table: &str, name: &str, has_object: impl Fn(&TableModel) -> bool) -> bool {
        !self.tables.contains_key(table) && self.tables.get(name).is_some_and(has_object)
    }

    fn existing_table(&self, name: &str) -> Result<&TableModel, String> {
        self.tables.get(name).ok_or_else(|| self.no_table(name))
    }

    /// Refuses dropping a table other tables' foreign keys still refer to, naming them: PostgreSQL
    /// and MySQL refuse it too, and SQLite drops it, then fails later with `no such table`
    /// on the next write to the tables that refer to it.
    fn refuse_referenced(&self, table: &str) -> Result<(), String> {
        let referring: Vec<String> = self
            .tables
            .values()
            .filter(|t| t.table.name != table)
            .flat_map(|t| {
                t.table
                    .constraints
                    .iter()
                    .filter_map(TableConstraint::foreign_key)
                    .filter(|fk| fk.referred_table == table)
                    .map(|fk| format!("{}({})", t.table.name, fk.columns.join(", ")))
            })
            .collect();
        if referring.is_empty() {
            return Ok(());
        }
        Err(format!(
            "table {table:?} is still referred to by the foreign key(s) of {}: drop those tables or \
             their foreign keys first (`op::drop_foreign_key_on`)",
            referring.join(", ")
        ))
    }

    /// Refuses an op that names a table, column, index or constraint the model does not have,
    /// with the closest known name, before any SQL is rendered for it: a typo is then reported
    /// as what it is on every dialect (a SQLite rebuild would otherwise fail on its own terms).
    /// After raw SQL the model may be incomplete, and the database judges instead.
    pub fn check_references(&self, op: &Op) -> Result<(), String> {
        if self.has_opaque_changes {
            return Ok(());
        }
        let columns = |table: &str, names: &[String]| {
            let t = self.existing_table(table)?;
            names
                .iter()
                .try_for_each(|name| t.existing_column(table, name))
        };
        match op {
            Op::CreateTable(t) => {
                for fk in t
                    .constraints
                    .iter()
                    .filter_map(TableConstraint::foreign_key)
                {
                    if fk.referred_table != t.name {
                        columns(&fk.referred_table, &fk.referred_columns)?;
                    }
                }
                Ok(())
            }
            Op::DropTable { name } => {
                self.existing_table(name)?;
                self.refuse_referenced(name)
            }
            Op::RenameTable { old_name, .. } => self.existing_table(old_name).map(|_| ()),
            Op::AddColumn { table, .. } => self.existing_table(table).map(|_| ()),
            Op::DropColumn { table, column } => columns(table, std::slice::from_ref(column)),
            Op::AlterColumn(change) => columns(&change.table, std::slice::from_ref(&change.column)),
            Op::CreateIndex(index) => {
                let used = index.used_columns();
                if used.is_empty() {
                    self.existing_table(&index.table).map(|_| ())
                } else {
                    columns(&index.table, &used)
                }
            }
            Op::DropIndex { table, name } => {
                if self.swapped(table, name, |t| t.indexes.iter().any(|i| &i.name == table)) {
                    return Err(swapped_arguments("drop_index", "index", table, name));
                }
                let t = self.existing_table(table)?;
                if t.indexes.iter().any(|i| &i.name == name) {
                    return Ok(());
                }
                Err(format!(
                    "table {table:?} has no index {name:?}{}",
                    crate::suggest::did_you_mean(name, t.indexes.iter().map(|i| i.name.as_str()))
                ))
            }
            Op::AddConstraint { table, constraint } => {
                columns(table, constraint.columns())?;
                if let Some(fk) = constraint.foreign_key() {
                    columns(&fk.referred_table, &fk.referred_columns)?;
                }
                Ok(())
            }
            Op::DropConstraint { table, name, kind } => {
                let has_it = |t: &TableModel| {
                    t.table
                        .constraints
                        .iter()
                        .any(|c| c.name() == Some(table.as_str()))
                };
                if self.swapped(table, name, has_it) {
                    return Err(swapped_arguments(
                        "drop_constraint",
                        "constraint",
                        table,
                        name,
                    ));
                }
                let t = self.existing_table(table)?;
                if t.table
                    .constraints
                    .iter()
                    .any(|c| c.name() == Some(name.as_str()) && c.kind() == *kind)
                {
                    return Ok(());
                }
                Err(format!(
                    "table {table:?} has no {} named {name:?}{}",
                    kind.describe(),
                    crate::suggest::did_you_mean(
                        name,
                        t.table.constraints.iter().filter_map(|c| c.name())
                    )
                ))
            }
            Op::DropConstraintOn {
                table,
                kind,
                columns: names,
            } => {
                columns(table, names)?;
                self.existing_table(table)?
                    .constraint_on(*kind, names)
                    .map(|_| ())
            }
            Op::BulkInsert {
                table,
                columns: names,
                ..
            } => columns(table, names),
            Op::UpdateRows {
                table,
                key,
                columns: names,
                ..
            } => {
                columns(table, key)?;
                columns(table, names)
            }
            Op::Execute { .. } | Op::AlterEnum { .. } => Ok(()),
        }
    }
}

/// The SDK's `drop_index` and `drop_constraint` took the table first until they followed
/// Alembic (name first): a revision written for the old order names the swap, not a missing table.
fn swapped_arguments(function: &str, what: &str, table: &str, name: &str) -> String {
    format!(
        "no table {table:?}, but table {name:?} has an {what} {table:?}: the arguments look swapped. \
         `op::{function}` takes the {what}'s name first, then the table (as Alembic does): \
         `op::{function}({table:?}, {name:?}, …)`"
    )
}

/// Whether an index uses `column`: as a key column, an INCLUDE column, or in an expression or
/// its condition (dropping the column drops such an index, as PostgreSQL does).
fn index_mentions(index: &Index, column: &str) -> bool {
    let in_sql = |sql: &str| crate::expression::mentions_column(sql, column);
    index.used_columns().iter().any(|c| c == column)
        || (0..index.columns.len()).any(|n| index.key(n).expression && in_sql(&index.columns[n]))
        || index.predicate.as_deref().is_some_and(in_sql)
}

/// A column renamed in an index: its key and INCLUDE columns, and in its expressions and
/// condition (the database rewrites those).
fn rename_in_index(index: &mut Index, old: &str, new: &str) {
    for n in 0..index.columns.len() {
        let part = &mut index.columns[n];
        if index.keys.get(n).is_some_and(|k| k.expression) {
            if crate::expression::mentions_column(part, old) {
                *part = crate::expression::rename_column(part, old, new);
            }
        } else if part == old {
            *part = new.to_string();
        }
    }
    for column in &mut index.include {
        if column == old {
            *column = new.to_string();
        }
    }
    if let Some(predicate) = &mut index.predicate {
        if crate::expression::mentions_column(predicate, old) {
            *predicate = crate::expression::rename_column(predicate, old, new);
        }
    }
}

impl TableModel {
    fn existing_column(&self, table: &str, name: &str) -> Result<(), String> {
        if self.table.columns.iter().any(|c| c.name == name) {
            return Ok(());
        }
        Err(format!(
            "table {table:?} has no column {name:?}{}",
            crate::suggest::did_you_mean(name, self.table.columns.iter().map(|c| c.name.as_str()))
        ))
    }

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
