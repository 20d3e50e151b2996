//! Finding a foreign key or unique constraint by its columns, and the name to drop it by.
//!
//! Revisions often leave these constraints unnamed, and then the database names them
//! (PostgreSQL `user_team_id_fkey`, MySQL `user_ibfk_1`). `drop_constraint_on` finds one by its
//! columns; its name comes, in this order, from the model (it was named where it was made), from
//! the database's catalog (learned online just before the step, `DatabaseNames`), or from the
//! dialect's own naming rule where that rule is certain (`Dialect::default_constraint_name`).

use std::collections::BTreeMap;

use crate::schema::{Schema, TableModel};
use crate::types::*;

/// What identifies a constraint without its name: its table, kind and columns (sorted).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ConstraintKey {
    pub table: String,
    pub kind: ConstraintKind,
    pub columns: Vec<String>,
}

impl ConstraintKey {
    pub fn new(table: &str, kind: ConstraintKind, columns: &[String]) -> ConstraintKey {
        let mut columns = columns.to_vec();
        columns.sort();
        ConstraintKey {
            table: table.to_string(),
            kind,
            columns,
        }
    }
}

/// The names a connected database gave the constraints of the tables a step touches, read from
/// its catalog just before the step. Kept apart from the model: the model is what the revisions
/// say, the same on every run, and a revision's checksum is recorded against it alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatabaseNames(BTreeMap<ConstraintKey, String>);

impl DatabaseNames {
    /// The names of every named foreign key and unique constraint in `catalog` (a database's
    /// schema as introspected). Two constraints of one kind on the same columns are left out:
    /// which one a revision means cannot be told.
    pub fn from_catalog(catalog: &Schema) -> DatabaseNames {
        let mut names: BTreeMap<ConstraintKey, Option<String>> = BTreeMap::new();
        for (table, model) in &catalog.tables {
            for constraint in &model.table.constraints {
                if !matches!(
                    constraint.kind(),
                    ConstraintKind::ForeignKey | ConstraintKind::Unique
                ) {
                    continue;
                }
                let Some(name) = constraint.name() else {
                    continue;
                };
                let key = ConstraintKey::new(table, constraint.kind(), constraint.columns());
                names
                    .entry(key)
                    .and_modify(|seen| *seen = None)
                    .or_insert_with(|| Some(name.to_string()));
            }
        }
        DatabaseNames(
            names
                .into_iter()
                .filter_map(|(key, name)| Some((key, name?)))
                .collect(),
        )
    }

    pub fn get(&self, key: &ConstraintKey) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Where in a table the constraint found by its columns is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// `table.constraints[i]`.
    Constraint(usize),
    /// A one-column unique constraint declared on the column itself (`Column::unique`).
    ColumnUnique(usize),
}

impl TableModel {
    /// The foreign key or unique constraint on exactly `columns` (in any order), or why none.
    pub fn constraint_on(&self, kind: ConstraintKind, columns: &[String]) -> Result<Found, String> {
        let wanted = ConstraintKey::new("", kind, columns).columns;
        let same = |have: &[String]| {
            let mut have = have.to_vec();
            have.sort();
            have == wanted
        };
        let mut found: Vec<Found> = self
            .table
            .constraints
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind() == kind && same(c.columns()))
            .map(|(i, _)| Found::Constraint(i))
            .collect();
        if kind == ConstraintKind::Unique {
            found.extend(
                self.table
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.unique && same(std::slice::from_ref(&c.name)))
                    .map(|(i, _)| Found::ColumnUnique(i)),
            );
        }
        let table = &self.table.name;
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(format!(
                "table {table:?} has no {} on ({}){}",
                kind.describe(),
                columns.join(", "),
                self.describe_others(kind)
            )),
            _ => Err(format!(
                "table {table:?} has {} {}s on ({}): drop the one you mean by name",
                found.len(),
                kind.describe(),
                columns.join(", ")
            )),
        }
    }

    /// ": it has ones on (a), (b, c)" for an error message, or nothing.
    fn describe_others(&self, kind: ConstraintKind) -> String {
        let mut others: Vec<String> = self
            .table
            .constraints
            .iter()
            .filter(|c| c.kind() == kind)
            .map(|c| format!("({})", c.columns().join(", ")))
            .collect();
        if kind == ConstraintKind::Unique {
            others.extend(
                self.table
                    .columns
                    .iter()
                    .filter(|c| c.unique)
                    .map(|c| format!("({})", c.name)),
            );
        }
        if others.is_empty() {
            String::new()
        } else {
            format!(" (it has: {})", others.join(", "))
        }
    }

    /// Removes the constraint found by `constraint_on`.
    pub fn remove_found(&mut self, found: Found) {
        match found {
            Found::Constraint(i) => {
                self.table.constraints.remove(i);
            }
            Found::ColumnUnique(i) => self.table.columns[i].unique = false,
        }
    }
}

impl Schema {
    /// The name to drop the `kind` constraint on `columns` of `table` by: the model's, else the
    /// database's (learned online), else `default_name` (the dialect's rule), else why none.
    pub fn constraint_name_on(
        &self,
        table: &str,
        kind: ConstraintKind,
        columns: &[String],
        default_name: Option<String>,
    ) -> Result<String, String> {
        let model = self
            .table(table)
            .ok_or_else(|| format!("no table {table:?} (as far as earlier revisions show)"))?;
        let from_model = match model.constraint_on(kind, columns)? {
            Found::Constraint(i) => model.table.constraints[i].name().map(str::to_string),
            Found::ColumnUnique(_) => None,
        };
        from_model
            .or_else(|| {
                self.database_names
                    .get(&ConstraintKey::new(table, kind, columns))
                    .map(str::to_string)
            })
            .or(default_name)
            .ok_or_else(|| {
                format!(
                    "the {} on {table:?}({}) was made without a name, so the database named it, and \
                     offline there is no database to ask. Run it online (migrate reads the name from \
                     the database's catalog), or name the constraint where it is made",
                    kind.describe(),
                    columns.join(", ")
                )
            })
    }

    /// `table` as a revision sees it through the `catalog` interface: its constraints named as
    /// the model names them, or, where the model has no name and `learned` is set, as the
    /// database does. A one-column unique declared on its column stays on the column unless the
    /// database's name is shown, which needs a constraint to carry it.
    pub fn table_view(&self, table: &str, learned: bool) -> Option<TableModel> {
        let mut model = self.table(table)?.clone();
        if !learned || self.database_names.is_empty() {
            return Some(model);
        }
        for constraint in &mut model.table.constraints {
            if constraint.name().is_some() {
                continue;
            }
            let key = ConstraintKey::new(table, constraint.kind(), constraint.columns());
            if let Some(name) = self.database_names.get(&key) {
                set_name(constraint, name.to_string());
            }
        }
        for column in &mut model.table.columns {
            let key = ConstraintKey::new(
                table,
                ConstraintKind::Unique,
                std::slice::from_ref(&column.name),
            );
            if let (true, Some(name)) = (column.unique, self.database_names.get(&key)) {
                column.unique = false;
                model
                    .table
                    .constraints
                    .push(TableConstraint::Unique(UniqueConstraint {
                        name: Some(name.to_string()),
                        columns: vec![column.name.clone()],
                    }));
            }
        }
        Some(model)
    }
}

fn set_name(constraint: &mut TableConstraint, name: String) {
    match constraint {
        TableConstraint::PrimaryKey(c) => c.name = Some(name),
        TableConstraint::Unique(c) => c.name = Some(name),
        TableConstraint::ForeignKey(c) => c.name = Some(name),
        TableConstraint::Check(c) => c.name = Some(name),
    }
}

/// PostgreSQL's name for an unnamed constraint (`makeObjectName`): `<table>_<columns>_<label>`,
/// where the longer of the table and the columns part loses a character at a time until the whole
/// fits in 63 bytes. (PostgreSQL adds a digit when that name is already taken; the model cannot
/// see every relation's name, so online the catalog is asked instead.)
pub fn postgres_default_name(table: &str, columns: &[String], label: &str) -> String {
    const MAX: usize = 63;
    let columns = columns.join("_");
    let available = MAX - 1 - (label.len() + 1);
    let (mut table_len, mut columns_len) = (table.len(), columns.len());
    while table_len + columns_len > available {
        if table_len > columns_len {
            table_len -= 1;
        } else {
            columns_len -= 1;
        }
    }
    format!(
        "{}_{}_{label}",
        clip(table, table_len),
        clip(&columns, columns_len)
    )
}

/// The longest prefix of `text` of at most `bytes` bytes that ends on a character boundary.
fn clip(text: &str, bytes: usize) -> &str {
    let mut end = bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_names_unnamed_constraints_after_table_and_columns() {
        let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            postgres_default_name("person", &cols(&["team_id"]), "fkey"),
            "person_team_id_fkey"
        );
        assert_eq!(
            postgres_default_name("person", &cols(&["first", "last"]), "key"),
            "person_first_last_key"
        );
        // 63 bytes at most, the longer part shortened first (as PostgreSQL 16 names it).
        let long = postgres_default_name(&"t".repeat(60), &cols(&["c"]), "key");
        assert_eq!(long.len(), 63);
        assert_eq!(long, format!("{}_c_key", "t".repeat(57)));
        assert_eq!(
            postgres_default_name(&"t".repeat(60), &cols(&["d"]), "fkey"),
            format!("{}_d_fkey", "t".repeat(56))
        );
        // Checked against PostgreSQL 15: the columns part is cut when it is the longer.
        let column = "averyveryveryveryveryveryveryverylongcolumnnamethatgoesonandona";
        assert_eq!(
            postgres_default_name("abc", &cols(&[column]), "key"),
            "abc_averyveryveryveryveryveryveryverylongcolumnnamethatgoes_key"
        );
    }
}
