//! Schema x schema -> the ops that turn one into the other, in an order the database accepts:
//! foreign keys, indexes and constraints that go are dropped first, then tables (referencing
//! tables before the tables they reference), then new tables (referenced before referencing),
//! then columns, then new constraints and indexes, and new foreign keys last.
//!
//! The downgrade is the same diff the other way round, so it undoes the upgrade exactly.
//! Renames cannot be seen in two schemas; the caller names them (`Rename`) and the diff leaves
//! hints where a drop and an add look like one.

use std::collections::{BTreeMap, BTreeSet};

use crate::ops::Op;
use crate::schema::{Schema, TableModel};
use crate::sql::{Dialect, DialectName};
use crate::types::*;

/// A rename the user says happened (`--rename old=new` or `--rename table.old=new`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rename {
    Table {
        old: String,
        new: String,
    },
    Column {
        table: String,
        old: String,
        new: String,
    },
}

impl Rename {
    /// `old=new` renames a table, `table.old=new` a column of `table` (its name in the model).
    pub fn parse(text: &str) -> Result<Rename, String> {
        let (old, new) = text
            .split_once('=')
            .filter(|(o, n)| !o.is_empty() && !n.is_empty())
            .ok_or_else(|| format!("--rename {text:?}: write old=new or table.old=new"))?;
        Ok(match old.split_once('.') {
            Some((table, column)) => Rename::Column {
                table: table.into(),
                old: column.into(),
                new: new.into(),
            },
            None => Rename::Table {
                old: old.into(),
                new: new.into(),
            },
        })
    }
}

/// How two schemas are compared.
#[derive(Clone, Copy, Default)]
pub struct Compare {
    /// Set when one side was read from this database's catalog: types are compared as the
    /// database stores them (MySQL keeps `timestamptz` as DATETIME), check constraints by name
    /// only (databases rewrite their expressions), and MySQL's unique indexes count as unique
    /// constraints (MySQL does not tell them apart).
    pub native: Option<&'static dyn Dialect>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diff {
    pub upgrade: Vec<Op>,
    pub downgrade: Vec<Op>,
    /// Things a person should look at: likely renames, changes no op can express.
    pub warnings: Vec<String>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.upgrade.is_empty()
    }
}

/// The ops that make `from` equal `to`, and back.
pub fn diff(
    from: &Schema,
    to: &Schema,
    renames: &[Rename],
    compare: Compare,
) -> Result<Diff, String> {
    let (from, to) = match compare.native {
        Some(d) if d.name() == DialectName::Mysql => {
            (fold_unique_indexes(from), fold_unique_indexes(to))
        }
        _ => (from.clone(), to.clone()),
    };
    let mut renamed = from.clone();
    let mut rename_ops = vec![];
    let mut undo_renames = vec![];
    for rename in renames {
        let (op, undo) = rename_ops_for(rename, &renamed, &to)?;
        renamed
            .apply(&op)
            .map_err(|e| format!("--rename: {}", e.problem))?;
        rename_ops.push(op);
        undo_renames.push(undo);
    }
    let mut warnings = vec![];
    let forward = changes(&renamed, &to, compare, &mut warnings);
    let mut ignored = vec![];
    let backward = changes(&to, &renamed, compare, &mut ignored);
    warnings.extend(rename_hints(&renamed, &to));

    let mut upgrade = rename_ops;
    upgrade.extend(forward);
    let mut downgrade = backward;
    downgrade.extend(undo_renames.into_iter().rev());
    if upgrade.is_empty() {
        downgrade.clear();
    }
    Ok(Diff {
        upgrade,
        downgrade,
        warnings,
    })
}

fn rename_ops_for(rename: &Rename, from: &Schema, to: &Schema) -> Result<(Op, Op), String> {
    match rename {
        Rename::Table { old, new } => {
            if from.table(old).is_none() {
                return Err(format!(
                    "--rename {old}={new}: there is no table {old:?} to rename"
                ));
            }
            if to.table(new).is_none() {
                return Err(format!(
                    "--rename {old}={new}: the model has no table {new:?}"
                ));
            }
            if from.table(new).is_some() {
                return Err(format!(
                    "--rename {old}={new}: table {new:?} already exists"
                ));
            }
            Ok((
                Op::RenameTable {
                    old_name: old.clone(),
                    new_name: new.clone(),
                },
                Op::RenameTable {
                    old_name: new.clone(),
                    new_name: old.clone(),
                },
            ))
        }
        Rename::Column { table, old, new } => {
            let flag = format!("--rename {table}.{old}={new}");
            let Some(model) = to.table(table) else {
                return Err(format!("{flag}: the model has no table {table:?}"));
            };
            if !model.table.columns.iter().any(|c| &c.name == new) {
                return Err(format!(
                    "{flag}: the model's {table:?} has no column {new:?}"
                ));
            }
            let Some(current) = from.table(table) else {
                return Err(format!(
                    "{flag}: there is no table {table:?} yet (rename the table too?)"
                ));
            };
            if !current.table.columns.iter().any(|c| &c.name == old) {
                return Err(format!(
                    "{flag}: table {table:?} has no column {old:?} to rename"
                ));
            }
            let rename =
                |from: &str, to: &str| Op::AlterColumn(ColumnChange::rename(table, from, to));
            Ok((rename(old, new), rename(new, old)))
        }
    }
}

/// The forward ops from `from` to `to`, in dependency order.
fn changes(from: &Schema, to: &Schema, compare: Compare, warnings: &mut Vec<String>) -> Vec<Op> {
    let mut drop_keys = vec![];
    let mut drop_other = vec![];
    let mut columns = vec![];
    let mut add_other = vec![];
    let mut add_keys = vec![];

    for (name, old) in &from.tables {
        let Some(new) = to.tables.get(name) else {
            continue;
        };
        let table = TableDiff {
            name,
            old,
            new,
            compare,
        };
        table.constraints(
            &mut drop_keys,
            &mut drop_other,
            &mut add_other,
            &mut add_keys,
            warnings,
        );
        table.indexes(&mut drop_other, &mut add_other);
        table.columns(&mut columns);
    }

    // Tables that go: referencing ones before the ones they reference.
    let dropped: BTreeSet<&String> = from
        .tables
        .keys()
        .filter(|t| !to.tables.contains_key(*t))
        .collect();
    let mut drop_tables: Vec<Op> = creation_order(from, &dropped)
        .into_iter()
        .rev()
        .map(|name| Op::DropTable { name: name.clone() })
        .collect();

    // Tables that come: referenced ones first; a key to a table made later (a cycle) or to a
    // column this diff adds is made after everything else.
    let added: BTreeSet<&String> = to
        .tables
        .keys()
        .filter(|t| !from.tables.contains_key(*t))
        .collect();
    let mut create_tables = vec![];
    let mut created: BTreeSet<&str> = BTreeSet::new();
    for name in creation_order(to, &added) {
        let model = &to.tables[name];
        let mut table = model.table.clone();
        table.constraints.retain(|c| match c {
            TableConstraint::ForeignKey(fk) => {
                let ready = created.contains(fk.referred_table.as_str())
                    || fk.referred_table == *name
                    || from.table(&fk.referred_table).is_some_and(|t| {
                        fk.referred_columns
                            .iter()
                            .all(|c| t.table.columns.iter().any(|col| &col.name == c))
                    });
                if !ready {
                    add_keys.push(Op::AddConstraint {
                        table: name.clone(),
                        constraint: c.clone(),
                    });
                }
                ready
            }
            _ => true,
        });
        created.insert(name);
        create_tables.push(Op::CreateTable(table));
        for index in &model.indexes {
            add_other.push(Op::CreateIndex(index.clone()));
        }
    }

    let mut ops = drop_keys;
    ops.append(&mut drop_other);
    ops.append(&mut drop_tables);
    ops.append(&mut create_tables);
    ops.extend(enum_changes(from, to, compare));
    ops.append(&mut columns);
    ops.append(&mut add_other);
    ops.append(&mut add_keys);
    ops
}

/// The tables of `subset` so that each comes after the tables it references (ties and cycles
/// broken by name, so the order is stable).
fn creation_order<'a>(schema: &'a Schema, subset: &BTreeSet<&'a String>) -> Vec<&'a String> {
    let depends_on = |name: &String| -> BTreeSet<&'a String> {
        schema.tables[name]
            .table
            .constraints
            .iter()
            .filter_map(|c| match c {
                TableConstraint::ForeignKey(fk) => subset
                    .get(&fk.referred_table)
                    .copied()
                    .filter(|t| *t != name),
                _ => None,
            })
            .collect()
    };
    let mut waiting: BTreeMap<&String, BTreeSet<&String>> =
        subset.iter().map(|t| (*t, depends_on(t))).collect();
    let mut order = vec![];
    while !waiting.is_empty() {
        let next = waiting
            .iter()
            .find(|(_, deps)| deps.is_empty())
            .map(|(t, _)| *t)
            // A cycle: take the first by name; its keys to the rest are made afterwards.
            .unwrap_or_else(|| *waiting.keys().next().expect("not empty"));
        waiting.remove(next);
        for deps in waiting.values_mut() {
            deps.remove(next);
        }
        order.push(next);
    }
    order
}

struct TableDiff<'a> {
    name: &'a String,
    old: &'a TableModel,
    new: &'a TableModel,
    compare: Compare,
}

impl TableDiff<'_> {
    fn kept_column(&self, column: &str) -> bool {
        self.new.table.columns.iter().any(|c| c.name == column)
    }

    fn new_column(&self, column: &str) -> Option<&Column> {
        let existed = self.old.table.columns.iter().any(|c| c.name == column);
        (!existed)
            .then(|| self.new.table.columns.iter().find(|c| c.name == column))
            .flatten()
    }

    fn columns(&self, ops: &mut Vec<Op>) {
        let table = self.name.clone();
        for column in &self.new.table.columns {
            match self
                .old
                .table
                .columns
                .iter()
                .find(|c| c.name == column.name)
            {
                None => ops.push(Op::AddColumn {
                    table: table.clone(),
                    column: column.clone(),
                }),
                // A column computed another way is made anew: its values are computed anyway.
                Some(old) if !same_generation(old, column, self.compare) => {
                    ops.push(Op::DropColumn {
                        table: table.clone(),
                        column: column.name.clone(),
                    });
                    ops.push(Op::AddColumn {
                        table: table.clone(),
                        column: column.clone(),
                    });
                }
                Some(old) => {
                    if let Some(change) = self.column_change(old, column) {
                        ops.push(Op::AlterColumn(change));
                    }
                }
            }
        }
        // Dropped in reverse, so the downgrade's adds come back in the original order.
        for column in self.old.table.columns.iter().rev() {
            if !self.kept_column(&column.name) {
                ops.push(Op::DropColumn {
                    table: table.clone(),
                    column: column.name.clone(),
                });
            }
        }
    }

    fn column_change(&self, old: &Column, new: &Column) -> Option<ColumnChange> {
        let new_type = (!same_column_type(old, new, self.compare)).then(|| new.data_type.clone());
        // A primary key column is NOT NULL whatever the declaration says.
        let nullable_of = |c: &Column, model: &TableModel| {
            c.nullable && !model.primary_key_columns().any(|k| k == &c.name)
        };
        let nullable = (nullable_of(old, self.old) != nullable_of(new, self.new))
            .then(|| nullable_of(new, self.new));
        let server_default = (!same_default(
            old.server_default.as_ref(),
            new.server_default.as_ref(),
            &new.data_type,
        ))
        .then(|| match meaningful_default(new.server_default.as_ref()) {
            Some(d) => DefaultChange::Set(d.clone()),
            None => DefaultChange::Drop,
        });
        if new_type.is_none() && nullable.is_none() && server_default.is_none() {
            return None;
        }
        let new_type_set = new_type.is_some();
        Some(ColumnChange {
            table: self.name.clone(),
            column: new.name.clone(),
            new_type,
            nullable,
            server_default,
            new_name: None,
            comment: None,
            new_native_types: if new_type_set {
                new.native_types.clone()
            } else {
                vec![]
            },
        })
    }

    fn constraints(
        &self,
        drop_keys: &mut Vec<Op>,
        drop_other: &mut Vec<Op>,
        add_other: &mut Vec<Op>,
        add_keys: &mut Vec<Op>,
        warnings: &mut Vec<String>,
    ) {
        let old = constraints_of(self.old);
        let new = constraints_of(self.new);
        for c in &old {
            if new.iter().any(|n| self.same_constraint(c, n)) || self.ignored(c) {
                continue;
            }
            let uses_dropped_column = c.columns().iter().any(|col| !self.kept_column(col));
            match c.name() {
                Some(name) => {
                    let op = Op::DropConstraint {
                        table: self.name.clone(),
                        name: name.into(),
                        kind: c.kind(),
                    };
                    if c.kind() == ConstraintKind::ForeignKey {
                        drop_keys.push(op)
                    } else {
                        drop_other.push(op)
                    }
                }
                // Dropping the column drops it.
                None if uses_dropped_column => {}
                // Found by its columns when the step is rendered: the name the database gave it.
                None if matches!(c.kind(), ConstraintKind::ForeignKey | ConstraintKind::Unique) => {
                    let op = Op::DropConstraintOn {
                        table: self.name.clone(),
                        kind: c.kind(),
                        columns: c.columns().to_vec(),
                    };
                    if c.kind() == ConstraintKind::ForeignKey {
                        drop_keys.push(op)
                    } else {
                        drop_other.push(op)
                    }
                }
                None => warnings.push(format!(
                    "table {:?}: the {} on ({}) is gone from the model but has no name, so no op can drop it; \
                     drop it with op::execute, or name it in the revision that made it",
                    self.name,
                    c.kind().describe(),
                    c.columns().join(", ")
                )),
            }
        }
        for c in &new {
            if old.iter().any(|o| self.same_constraint(o, c)) || self.ignored(c) {
                continue;
            }
            // A new column's own PRIMARY KEY / UNIQUE comes with its add_column.
            let inline = match c {
                TableConstraint::PrimaryKey(k) if k.name.is_none() => k
                    .columns
                    .iter()
                    .all(|col| self.new_column(col).is_some_and(|c| c.primary_key)),
                TableConstraint::Unique(u) if u.name.is_none() => {
                    u.columns.len() == 1 && self.new_column(&u.columns[0]).is_some_and(|c| c.unique)
                }
                _ => false,
            };
            if inline {
                continue;
            }
            let op = Op::AddConstraint {
                table: self.name.clone(),
                constraint: with_name(c, self.name),
            };
            if c.kind() == ConstraintKind::ForeignKey {
                add_keys.push(op)
            } else {
                add_other.push(op)
            }
        }
    }

    /// Unnamed checks are made with their table but not compared: nothing could drop them, and
    /// databases rewrite check expressions.
    fn ignored(&self, c: &TableConstraint) -> bool {
        matches!(c, TableConstraint::Check(check) if check.name.is_none())
    }

    fn same_constraint(&self, a: &TableConstraint, b: &TableConstraint) -> bool {
        let names_agree = match (a.name(), b.name()) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        };
        match (a, b) {
            // A table has one primary key; its name is the database's business.
            (TableConstraint::PrimaryKey(x), TableConstraint::PrimaryKey(y)) => {
                x.columns == y.columns
            }
            (TableConstraint::Unique(x), TableConstraint::Unique(y)) => {
                names_agree && x.columns == y.columns
            }
            (TableConstraint::ForeignKey(x), TableConstraint::ForeignKey(y)) => {
                names_agree
                    && x.columns == y.columns
                    && x.referred_table == y.referred_table
                    && x.referred_columns == y.referred_columns
                    && same_action(x.on_delete, y.on_delete, self.compare)
                    && same_action(x.on_update, y.on_update, self.compare)
            }
            (TableConstraint::Check(x), TableConstraint::Check(y)) => {
                x.name.is_some()
                    && x.name == y.name
                    && (self.compare.native.is_some()
                        || squeeze(&x.expression) == squeeze(&y.expression))
            }
            _ => false,
        }
    }

    /// Whether two indexes are the same. Read from a catalog, an expression or a partial
    /// index's condition comes back as the database rewrote it (`lower((email)::text)`), so
    /// there only its being an expression or a condition counts, as check constraints count by
    /// name.
    fn same_index(&self, x: &Index, y: &Index) -> bool {
        let text_matches =
            |a: &str, b: &str| self.compare.native.is_some() || squeeze(a) == squeeze(b);
        let parts_match = x.columns.len() == y.columns.len()
            && (0..x.columns.len()).all(|n| {
                let (kx, ky) = (x.key(n), y.key(n));
                kx == ky
                    && if kx.expression {
                        text_matches(&x.columns[n], &y.columns[n])
                    } else {
                        x.columns[n] == y.columns[n]
                    }
            });
        let predicates_match = match (&x.predicate, &y.predicate) {
            (None, None) => true,
            (Some(a), Some(b)) => text_matches(a, b),
            _ => false,
        };
        x.name == y.name
            && x.table == y.table
            && x.unique == y.unique
            && x.include == y.include
            && parts_match
            && predicates_match
    }

    fn indexes(&self, drop_other: &mut Vec<Op>, add_other: &mut Vec<Op>) {
        for index in &self.old.indexes {
            if !self.new.indexes.iter().any(|n| self.same_index(index, n)) {
                // An index on a dropped column goes with the column.
                if index.key_columns().iter().all(|c| self.kept_column(c)) {
                    drop_other.push(Op::DropIndex {
                        table: self.name.clone(),
                        name: index.name.clone(),
                    });
                }
            }
        }
        for index in &self.new.indexes {
            if !self.old.indexes.iter().any(|o| self.same_index(o, index)) {
                add_other.push(Op::CreateIndex(index.clone()));
            }
        }
    }
}

/// Every key and constraint of a table, the column-level PRIMARY KEY and UNIQUE included, so
/// that `id INTEGER PRIMARY KEY` and `PRIMARY KEY (id)` compare equal.
fn constraints_of(model: &TableModel) -> Vec<TableConstraint> {
    let mut all = vec![];
    let pk: Vec<String> = model.primary_key_columns().cloned().collect();
    let pk_name = model.table.constraints.iter().find_map(|c| match c {
        TableConstraint::PrimaryKey(k) => k.name.clone(),
        _ => None,
    });
    if !pk.is_empty() {
        all.push(TableConstraint::PrimaryKey(PrimaryKey {
            name: pk_name,
            columns: pk,
        }));
    }
    for column in model.table.columns.iter().filter(|c| c.unique) {
        all.push(TableConstraint::Unique(UniqueConstraint {
            name: None,
            columns: vec![column.name.clone()],
        }));
    }
    all.extend(
        model
            .table
            .constraints
            .iter()
            .filter(|c| !matches!(c, TableConstraint::PrimaryKey(_)))
            .cloned(),
    );
    all
}

/// Ops that add a constraint by itself need a name (to drop it again on downgrade): the
/// model's, else the usual `pk_`/`uq_`/`fk_` one.
fn with_name(c: &TableConstraint, table: &str) -> TableConstraint {
    let generated =
        |prefix: &str, columns: &[String]| Some(format!("{prefix}_{table}_{}", columns.join("_")));
    let mut c = c.clone();
    match &mut c {
        TableConstraint::PrimaryKey(k) if k.name.is_none() => k.name = Some(format!("pk_{table}")),
        TableConstraint::Unique(u) if u.name.is_none() => u.name = generated("uq", &u.columns),
        TableConstraint::ForeignKey(f) if f.name.is_none() => f.name = generated("fk", &f.columns),
        _ => {}
    }
    c
}

/// MySQL keeps a unique constraint as a unique index and reports both the same way.
fn fold_unique_indexes(schema: &Schema) -> Schema {
    let mut schema = schema.clone();
    for model in schema.tables.values_mut() {
        let (unique, plain): (Vec<Index>, Vec<Index>) =
            model.indexes.drain(..).partition(|i| i.unique);
        model.indexes = plain;
        for index in unique {
            model
                .table
                .constraints
                .push(TableConstraint::Unique(UniqueConstraint {
                    name: Some(index.name),
                    columns: index.columns,
                }));
        }
    }
    schema
}

/// Enums on both sides whose values differ: `alter_enum`, which every column of it follows.
/// Where the database keeps no enum names (MySQL), a column's values are its type instead.
fn enum_changes(from: &Schema, to: &Schema, compare: Compare) -> Vec<Op> {
    if compare.native.is_some_and(|d| !d.capabilities().enum_names) {
        return vec![];
    }
    let before = crate::enums::used(from);
    crate::enums::used(to)
        .into_iter()
        .filter(|(name, values)| before.get(name).is_some_and(|old| old != values))
        .map(|(name, values)| Op::AlterEnum { name, values })
        .collect()
}

/// Whether both columns are computed the same way (or neither is). Against a database the
/// expression is compared by its presence only, as databases rewrite it (as index expressions
/// and check constraints are).
fn same_generation(a: &Column, b: &Column, compare: Compare) -> bool {
    match (&a.generated, &b.generated) {
        (None, None) => true,
        (Some(x), Some(y)) => {
            x.stored == y.stored
                && (compare.native.is_some() || squeeze(&x.expression) == squeeze(&y.expression))
        }
        _ => false,
    }
}

/// A column's type as the comparison sees it: against a database, the type it has there (its
/// native type where one is given); offline, the portable type and every native type.
fn same_column_type(a: &Column, b: &Column, compare: Compare) -> bool {
    let normal = |sql: &str| squeeze(&sql.to_ascii_lowercase());
    match compare.native {
        Some(d) => {
            let here = d.name().type_dialect();
            match (a.native_type(here), b.native_type(here)) {
                (None, None) => same_type(&a.data_type, &b.data_type, compare),
                (Some(x), Some(y)) => normal(x) == normal(y),
                // One side (the catalog's) reports no native type. For a spelling the catalog
                // reads back as one (`mediumtext`, `inet`), that is a difference; any other
                // (`JSON` for JSONB, `DATETIME(3)`) the catalog reads as its portable type, so
                // that is what is compared.
                (Some(native), None) | (None, Some(native)) => {
                    !crate::model_sql::read_back_as_native(native)
                        && same_type(&a.data_type, &b.data_type, compare)
                }
            }
        }
        None => {
            // Only native types a model can spell are compared (`MEDIUMTEXT`, `INET`); others
            // (`JSON` for JSONB, `DATETIME(3)`) are the revision's choice, as a comment is.
            let natives = |c: &Column| {
                let mut all: Vec<(TypeDialect, String)> = c
                    .native_types
                    .iter()
                    .filter(|n| crate::model_sql::read_back_as_native(&n.sql))
                    .map(|n| (n.dialect, normal(&n.sql)))
                    .collect();
                all.sort();
                all
            };
            same_type(&a.data_type, &b.data_type, compare) && natives(a) == natives(b)
        }
    }
}

fn same_type(a: &DataType, b: &DataType, compare: Compare) -> bool {
    match (a.as_enum(), b.as_enum(), compare.native) {
        (Some(_), Some((_, b_values)), Some(d)) if !d.capabilities().enum_names => {
            a.as_enum().is_some_and(|(_, values)| values == b_values)
        }
        // Values that differ are `enum_changes`' business.
        (Some((a_name, _)), Some((b_name, _)), _) => a_name == b_name,
        (Some(_), None, _) | (None, Some(_), _) => false,
        (None, None, Some(d)) => d.data_type(a) == d.data_type(b),
        (None, None, None) => a == b,
    }
}

fn same_action(
    a: Option<ReferentialAction>,
    b: Option<ReferentialAction>,
    compare: Compare,
) -> bool {
    // MySQL treats RESTRICT and NO ACTION alike and reports either; elsewhere the default is NO ACTION.
    let mysql = compare
        .native
        .is_some_and(|d| d.name() == DialectName::Mysql);
    let normal = |a: Option<ReferentialAction>| match a {
        None | Some(ReferentialAction::NoAction) => ReferentialAction::NoAction,
        Some(ReferentialAction::Restrict) if mysql => ReferentialAction::NoAction,
        Some(other) => other,
    };
    normal(a) == normal(b)
}

/// `DEFAULT NULL` is no default.
fn meaningful_default(d: Option<&ServerDefault>) -> Option<&ServerDefault> {
    d.filter(|d| !matches!(d, ServerDefault::Literal(Value::Null)))
        .filter(|d| !matches!(d, ServerDefault::Expression(e) if squeeze(e) == "null"))
}

fn same_default(
    a: Option<&ServerDefault>,
    b: Option<&ServerDefault>,
    data_type: &DataType,
) -> bool {
    let canonical =
        |d: Option<&ServerDefault>| meaningful_default(d).map(|d| canonical_default(d, data_type));
    canonical(a) == canonical(b)
}

/// One spelling per default, whatever the database or the person wrote: `'a'::text` and `'a'`,
/// `now()` and `CURRENT_TIMESTAMP`, `1` and `true` on a boolean.
pub fn canonical_default(d: &ServerDefault, data_type: &DataType) -> String {
    let text = match d {
        ServerDefault::Literal(Value::Text(t)) => format!("'{}'", t.replace('\'', "''")),
        ServerDefault::Literal(Value::Boolean(b)) => b.to_string(),
        ServerDefault::Literal(Value::Integer(i)) => i.to_string(),
        ServerDefault::Literal(Value::Float(f)) => f.to_string(),
        ServerDefault::Literal(Value::Null) => "null".into(),
        ServerDefault::Literal(Value::Blob(b)) => format!(
            "x'{}'",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        ),
        ServerDefault::Expression(e) => {
            let mut e = e.trim().to_string();
            while e.starts_with('(') && e.ends_with(')') && balanced(&e[1..e.len() - 1]) {
                e = e[1..e.len() - 1].trim().to_string();
            }
            // PostgreSQL adds casts to literals: 'a'::character varying.
            if e.starts_with('\'') {
                if let Some(end) = e.rfind("'::") {
                    e.truncate(end + 1);
                }
            }
            if e.starts_with('\'') {
                e
            } else {
                squeeze(&e)
            }
        }
    };
    let text = match text.as_str() {
        "now" | "current_timestamp" | "localtimestamp" => "current_timestamp".to_string(),
        _ => text,
    };
    if *data_type == DataType::Boolean {
        match text.as_str() {
            "1" | "'1'" | "true" | "'t'" | "'true'" => return "true".into(),
            "0" | "'0'" | "false" | "'f'" | "'false'" => return "false".into(),
            _ => {}
        }
    }
    if data_type.is_integer()
        || matches!(
            data_type,
            DataType::Float | DataType::Double | DataType::Numeric { .. }
        )
    {
        // Numbers may come back quoted ('0') or with a scale (0.00).
        let bare = text.trim_matches('\'');
        if let Ok(n) = bare.parse::<f64>() {
            return n.to_string();
        }
    }
    text
}

fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

/// Lowercase, without whitespace or parentheses: enough to compare how two tools spelled the
/// same expression.
fn squeeze(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '(' && *c != ')' && *c != '`' && *c != '"')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Where a table went and one came, or a column went and one came, that look alike.
fn rename_hints(from: &Schema, to: &Schema) -> Vec<String> {
    let mut hints = vec![];
    let gone: Vec<&TableModel> = from
        .tables
        .values()
        .filter(|t| to.table(&t.table.name).is_none())
        .collect();
    let came: Vec<&TableModel> = to
        .tables
        .values()
        .filter(|t| from.table(&t.table.name).is_none())
        .collect();
    for old in &gone {
        for new in &came {
            let names = |t: &TableModel| {
                t.table
                    .columns
                    .iter()
                    .map(|c| c.name.clone())
                    .collect::<BTreeSet<_>>()
            };
            let (a, b) = (names(old), names(new));
            let shared = a.intersection(&b).count();
            if shared * 2 >= a.len().max(b.len()) {
                hints.push(format!(
                    "table {:?} is dropped and {:?} created with mostly the same columns: if it was renamed, use --rename {}={} (as written, its rows are lost)",
                    old.table.name, new.table.name, old.table.name, new.table.name
                ));
            }
        }
    }
    for (name, old) in &from.tables {
        let Some(new) = to.table(name) else { continue };
        let gone: Vec<&Column> = old
            .table
            .columns
            .iter()
            .filter(|c| !new.table.columns.iter().any(|n| n.name == c.name))
            .collect();
        let came: Vec<&Column> = new
            .table
            .columns
            .iter()
            .filter(|c| !old.table.columns.iter().any(|o| o.name == c.name))
            .collect();
        for g in &gone {
            for c in came.iter().filter(|c| c.data_type == g.data_type) {
                hints.push(format!(
                    "column {name:?}.{:?} is dropped and {:?} added with the same type: if it was renamed, use --rename {name}.{}={} (as written, its values are lost)",
                    g.name, c.name, g.name, c.name
                ));
            }
        }
    }
    hints
}
