//! A naming convention for constraints a revision leaves unnamed, as SQLAlchemy's
//! `MetaData(naming_convention=...)`: with one, every database gets the same names (not
//! PostgreSQL's `t_c_fkey` here and MySQL's `t_ibfk_1` there), so a later revision can drop them
//! by name offline too.
//!
//! ```toml
//! [naming_convention]
//! pk = "pk_%(table_name)s"
//! fk = "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"
//! uq = "uq_%(table_name)s_%(column_0_N_name)s"
//! ck = "ck_%(table_name)s_%(column_0_name)s"
//! ```
//!
//! Tokens: `table_name`, `column_0_name`, `column_0_N_name` (every column, joined by `_`),
//! `column_0N_name` (joined with nothing), `referred_table_name`, `referred_column_0_name`. A
//! check constraint's columns are those its expression mentions, in the table's order. Names are
//! applied when ops are rendered and replayed into the model, never to what a revision recorded:
//! checksums do not change when a convention is added.

use std::borrow::Cow;

use serde::Deserialize;

use crate::expression::mentions_column;
use crate::ops::Op;
use crate::schema::Schema;
use crate::types::*;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamingConvention {
    pub pk: Option<String>,
    pub fk: Option<String>,
    pub uq: Option<String>,
    pub ck: Option<String>,
}

impl NamingConvention {
    pub fn is_empty(&self) -> bool {
        self.pk.is_none() && self.fk.is_none() && self.uq.is_none() && self.ck.is_none()
    }

    /// Checks every pattern: known tokens only, and something to name by.
    pub fn validate(&self) -> Result<(), String> {
        for (key, pattern) in self.patterns() {
            let mut rest = pattern;
            while let Some(start) = rest.find("%(") {
                let end = rest[start..].find(")s").ok_or_else(|| {
                    format!("naming_convention.{key} = {pattern:?}: a `%(` without its `)s`")
                })?;
                let token = &rest[start + 2..start + end];
                if !TOKENS.contains(&token) {
                    return Err(format!(
                        "naming_convention.{key} = {pattern:?}: unknown token %({token})s (known: {})",
                        TOKENS.join(", ")
                    ));
                }
                rest = &rest[start + end + 2..];
            }
        }
        Ok(())
    }

    fn patterns(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("pk", &self.pk),
            ("fk", &self.fk),
            ("uq", &self.uq),
            ("ck", &self.ck),
        ]
        .into_iter()
        .filter_map(|(key, p)| p.as_deref().map(|p| (key, p)))
    }

    /// A declared schema (the model) with the constraints it leaves unnamed named as replaying
    /// its tables' `create_table` would name them, so it compares with what revisions and
    /// databases made under this convention.
    pub fn name_schema(&self, mut schema: Schema) -> Schema {
        if self.is_empty() {
            return schema;
        }
        for model in schema.tables.values_mut() {
            if let Op::CreateTable(named) = self
                .apply(&Op::CreateTable(model.table.clone()), &Schema::default())
                .into_owned()
            {
                model.table = named;
            }
        }
        schema
    }

    /// `op` with the constraints it leaves unnamed named by the convention (`schema` is the
    /// model before it, for the columns of an existing table).
    pub fn apply<'a>(&self, op: &'a Op, schema: &Schema) -> Cow<'a, Op> {
        if self.is_empty() {
            return Cow::Borrowed(op);
        }
        match op {
            Op::CreateTable(t) => {
                let mut table = t.clone();
                // A column's own `unique` becomes a named constraint (a column cannot carry a name).
                if self.uq.is_some() {
                    for column in table.columns.iter_mut().filter(|c| c.unique) {
                        column.unique = false;
                        table
                            .constraints
                            .push(TableConstraint::Unique(UniqueConstraint {
                                name: None,
                                columns: vec![column.name.clone()],
                            }));
                    }
                }
                // So does a column's own `primary_key` (an autoincrement one too: the renderers
                // put a named one-column key back on its column).
                if self.pk.is_some() {
                    for column in table.columns.iter_mut().filter(|c| c.primary_key) {
                        column.primary_key = false;
                        table
                            .constraints
                            .push(TableConstraint::PrimaryKey(PrimaryKey {
                                name: None,
                                columns: vec![column.name.clone()],
                            }));
                    }
                }
                let columns: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
                for constraint in &mut table.constraints {
                    self.name(&t.name, &columns, constraint);
                }
                if table == *t {
                    Cow::Borrowed(op)
                } else {
                    Cow::Owned(Op::CreateTable(table))
                }
            }
            Op::AddConstraint { table, constraint } if constraint.name().is_none() => {
                let columns: Vec<String> = schema
                    .table(table)
                    .map(|t| t.table.columns.iter().map(|c| c.name.clone()).collect())
                    .unwrap_or_default();
                let mut named = constraint.clone();
                self.name(table, &columns, &mut named);
                Cow::Owned(Op::AddConstraint {
                    table: table.clone(),
                    constraint: named,
                })
            }
            _ => Cow::Borrowed(op),
        }
    }

    /// Names an unnamed constraint of `table` (whose columns, in order, are `columns`).
    fn name(&self, table: &str, columns: &[String], constraint: &mut TableConstraint) {
        if constraint.name().is_some() {
            return;
        }
        let pattern = match constraint.kind() {
            ConstraintKind::PrimaryKey => &self.pk,
            ConstraintKind::ForeignKey => &self.fk,
            ConstraintKind::Unique => &self.uq,
            ConstraintKind::Check => &self.ck,
        };
        let Some(pattern) = pattern else {
            return;
        };
        let used: Vec<String> = match &*constraint {
            TableConstraint::Check(check) => columns
                .iter()
                .filter(|c| mentions_column(&check.expression, c))
                .cloned()
                .collect(),
            other => other.columns().to_vec(),
        };
        let (referred_table, referred_column) = match constraint.foreign_key() {
            Some(fk) => (
                fk.referred_table.clone(),
                fk.referred_columns.first().cloned().unwrap_or_default(),
            ),
            None => (String::new(), String::new()),
        };
        let name = pattern
            .replace("%(table_name)s", table)
            .replace("%(column_0_N_name)s", &used.join("_"))
            .replace("%(column_0N_name)s", &used.concat())
            .replace(
                "%(column_0_name)s",
                used.first().map(String::as_str).unwrap_or(""),
            )
            .replace("%(referred_table_name)s", &referred_table)
            .replace("%(referred_column_0_name)s", &referred_column);
        match constraint {
            TableConstraint::PrimaryKey(c) => c.name = Some(name),
            TableConstraint::Unique(c) => c.name = Some(name),
            TableConstraint::ForeignKey(c) => c.name = Some(name),
            TableConstraint::Check(c) => c.name = Some(name),
        }
    }
}

const TOKENS: [&str; 6] = [
    "table_name",
    "column_0_name",
    "column_0_N_name",
    "column_0N_name",
    "referred_table_name",
    "referred_column_0_name",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unnamed_constraints_are_named_by_the_convention() {
        let convention = NamingConvention {
            fk: Some("fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s".into()),
            uq: Some("uq_%(table_name)s_%(column_0_N_name)s".into()),
            ck: Some("ck_%(table_name)s_%(column_0_name)s".into()),
            pk: None,
        };
        convention.validate().unwrap();
        let table = Table {
            name: "member".into(),
            columns: vec![
                Column::new("id", DataType::Integer),
                Column {
                    unique: true,
                    ..Column::new("code", DataType::Text)
                },
                Column::new("age", DataType::Integer),
            ],
            constraints: vec![
                TableConstraint::ForeignKey(ForeignKey {
                    name: None,
                    columns: vec!["id".into()],
                    referred_table: "team".into(),
                    referred_columns: vec!["id".into()],
                    on_delete: None,
                    on_update: None,
                }),
                TableConstraint::Check(CheckConstraint {
                    name: None,
                    expression: "age >= 0".into(),
                }),
            ],
            comment: None,
        };
        let op = Op::CreateTable(table);
        let named = convention.apply(&op, &Schema::default());
        let Op::CreateTable(t) = named.as_ref() else {
            unreachable!()
        };
        let names: Vec<&str> = t.constraints.iter().filter_map(|c| c.name()).collect();
        assert_eq!(
            names,
            vec!["fk_member_id_team", "ck_member_age", "uq_member_code"]
        );
        assert!(NamingConvention {
            uq: Some("uq_%(tabel_name)s".into()),
            ..Default::default()
        }
        .validate()
        .is_err());
    }
}
