//! Rendering shared by every dialect: column definitions, constraint clauses, CREATE TABLE,
//! CREATE INDEX and INSERT. Dialect differences come in through the `Dialect` trait.

use super::Dialect;
use crate::ops::Op;
use crate::schema::Schema;
use crate::types::*;

pub fn server_default<D: Dialect + ?Sized>(
    d: &D,
    default: &ServerDefault,
) -> Result<String, String> {
    match default {
        ServerDefault::Literal(v) => d.literal(v),
        ServerDefault::Expression(e) => Ok(format!("({e})")),
    }
}

/// `"name" TYPE [NOT NULL] [DEFAULT …] [PRIMARY KEY [AUTOINCREMENT]] [UNIQUE]`
pub fn column_definition(d: &dyn Dialect, c: &Column) -> Result<String, String> {
    column_definition_keyed(d, c, None)
}

/// The column's type on this database: its native type there, or its portable type.
pub fn column_type(d: &dyn Dialect, c: &Column) -> String {
    match c.native_type(d.name().type_dialect()) {
        Some(native) => native.to_string(),
        None => d.data_type(&c.data_type),
    }
}

/// ` GENERATED ALWAYS AS (expr) STORED|VIRTUAL`, which all three databases read (MySQL and
/// MariaDB take the GENERATED ALWAYS too).
fn generated_clause(d: &dyn Dialect, g: &Generated) -> Result<String, String> {
    d.generated_ok(g)?;
    Ok(format!(
        " GENERATED ALWAYS AS ({}) {}",
        g.expression,
        if g.stored { "STORED" } else { "VIRTUAL" }
    ))
}

/// `column_definition`, its PRIMARY KEY named `key_name` (`CONSTRAINT "pk_x" PRIMARY KEY`).
fn column_definition_keyed(
    d: &dyn Dialect,
    c: &Column,
    key_name: Option<&str>,
) -> Result<String, String> {
    let mut sql = format!("{} {}", d.quote_ident(&c.name), column_type(d, c));
    if let Some(g) = &c.generated {
        sql.push_str(&generated_clause(d, g)?);
    }
    if !c.nullable {
        sql.push_str(" NOT NULL");
    }
    if let Some(def) = &c.server_default {
        sql.push_str(" DEFAULT ");
        sql.push_str(&d.default_sql(&c.data_type, def)?);
    }
    if c.primary_key {
        if let Some(name) = key_name {
            sql.push_str(&format!(" CONSTRAINT {}", d.quote_ident(name)));
        }
        sql.push_str(" PRIMARY KEY");
        if c.autoincrement {
            sql.push_str(&d.autoincrement_clause(c)?);
        }
    }
    if c.unique {
        sql.push_str(" UNIQUE");
    }
    if let Some((name, values)) = c.data_type.as_enum() {
        sql.push_str(&d.enum_column_suffix(&c.name, name, values));
    }
    Ok(sql)
}

/// An enum's values as a list of literals: `'a', 'b'`.
pub fn enum_values(d: &dyn Dialect, values: &[String]) -> String {
    values
        .iter()
        .map(|v| {
            d.literal(&Value::Text(v.clone()))
                .expect("text always has a literal")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn ident_list(d: &dyn Dialect, names: &[String]) -> String {
    names
        .iter()
        .map(|n| d.quote_ident(n))
        .collect::<Vec<_>>()
        .join(", ")
}

fn constraint_name(d: &dyn Dialect, name: &Option<String>) -> String {
    name.as_ref()
        .map(|n| format!("CONSTRAINT {} ", d.quote_ident(n)))
        .unwrap_or_default()
}

/// A table-level constraint clause, as used in CREATE TABLE and ALTER TABLE … ADD.
pub fn constraint_clause(d: &dyn Dialect, c: &TableConstraint) -> String {
    match c {
        TableConstraint::PrimaryKey(pk) => {
            format!(
                "{}PRIMARY KEY ({})",
                constraint_name(d, &pk.name),
                ident_list(d, &pk.columns)
            )
        }
        TableConstraint::Unique(u) => {
            format!(
                "{}UNIQUE ({})",
                constraint_name(d, &u.name),
                ident_list(d, &u.columns)
            )
        }
        TableConstraint::ForeignKey(fk) => {
            let mut sql = format!(
                "{}FOREIGN KEY ({}) REFERENCES {} ({})",
                constraint_name(d, &fk.name),
                ident_list(d, &fk.columns),
                d.quote_ident(&fk.referred_table),
                ident_list(d, &fk.referred_columns)
            );
            if let Some(action) = fk.on_delete {
                sql.push_str(" ON DELETE ");
                sql.push_str(action.sql());
            }
            if let Some(action) = fk.on_update {
                sql.push_str(" ON UPDATE ");
                sql.push_str(action.sql());
            }
            sql
        }
        TableConstraint::Check(ch) => {
            format!("{}CHECK ({})", constraint_name(d, &ch.name), ch.expression)
        }
    }
}

pub fn create_table(d: &dyn Dialect, t: &Table) -> Result<String, String> {
    let (t, key_name) = autoincrement_key_on_column(t);
    let mut parts = Vec::with_capacity(t.columns.len() + t.constraints.len());
    for c in &t.columns {
        let name = key_name.as_deref().filter(|_| c.primary_key);
        parts.push(column_definition_keyed(d, c, name)?);
    }
    parts.extend(t.constraints.iter().map(|c| constraint_clause(d, c)));
    Ok(format!(
        "CREATE TABLE {} (\n    {}\n)",
        d.quote_ident(&t.name),
        parts.join(",\n    ")
    ))
}

/// A table whose one-column primary key is a (named) table constraint on an autoincrement
/// column, with the key moved onto the column, and its name: the databases make an
/// autoincrement column only with its key on the column itself (SQLite's AUTOINCREMENT only
/// there), and the name goes with it (`"id" INTEGER CONSTRAINT "pk_t" PRIMARY KEY …`).
pub fn autoincrement_key_on_column(t: &Table) -> (std::borrow::Cow<'_, Table>, Option<String>) {
    let key = t.constraints.iter().position(|c| match c {
        TableConstraint::PrimaryKey(k) => {
            k.columns.len() == 1
                && t.columns
                    .iter()
                    .any(|col| col.autoincrement && col.name == k.columns[0])
        }
        _ => false,
    });
    let Some(at) = key else {
        return (std::borrow::Cow::Borrowed(t), None);
    };
    let mut moved = t.clone();
    let TableConstraint::PrimaryKey(k) = moved.constraints.remove(at) else {
        unreachable!("found as a primary key");
    };
    for column in moved.columns.iter_mut().filter(|c| c.name == k.columns[0]) {
        column.primary_key = true;
        column.nullable = false;
    }
    (std::borrow::Cow::Owned(moved), k.name)
}

/// CREATE INDEX with what the index asks for: expressions in parentheses, DESC, a prefix length
/// (where the dialect keeps one: MySQL), INCLUDE and WHERE. Each dialect refuses, before this,
/// what it cannot make.
pub fn create_index(d: &dyn Dialect, i: &Index) -> String {
    let parts: Vec<String> = i
        .columns
        .iter()
        .enumerate()
        .map(|(n, part)| {
            let key = i.key(n);
            let mut sql = if key.expression {
                format!("({part})")
            } else {
                d.quote_ident(part)
            };
            if let (Some(length), true) = (key.prefix_length, d.keeps_prefix_lengths()) {
                sql.push_str(&format!("({length})"));
            }
            if key.descending {
                sql.push_str(" DESC");
            }
            sql
        })
        .collect();
    let mut sql = format!(
        "CREATE {}INDEX {} ON {} ({})",
        if i.unique { "UNIQUE " } else { "" },
        d.quote_ident(&i.name),
        d.quote_ident(&i.table),
        parts.join(", ")
    );
    if !i.include.is_empty() {
        sql.push_str(&format!(" INCLUDE ({})", ident_list(d, &i.include)));
    }
    if let Some(predicate) = &i.predicate {
        sql.push_str(&format!(" WHERE {predicate}"));
    }
    sql
}

/// Rows per INSERT statement: keeps statements well under every dialect's size limits.
const ROWS_PER_INSERT: usize = 100;

pub fn insert_rows(
    d: &dyn Dialect,
    table: &str,
    columns: &[String],
    rows: &[Vec<Value>],
) -> Result<Vec<String>, String> {
    let head = format!(
        "INSERT INTO {} ({}) VALUES",
        d.quote_ident(table),
        ident_list(d, columns)
    );
    rows.chunks(ROWS_PER_INSERT)
        .map(|chunk| {
            let tuples = chunk
                .iter()
                .map(|row| {
                    Ok(format!(
                        "({})",
                        row.iter()
                            .map(|v| d.literal(v))
                            .collect::<Result<Vec<_>, String>>()?
                            .join(", ")
                    ))
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok(format!("{head}\n    {}", tuples.join(",\n    ")))
        })
        .collect()
}

/// `update_rows`: one UPDATE per row, found by its key (`NULL` keys match nothing, as in SQL).
pub fn update_rows(
    d: &dyn Dialect,
    table: &str,
    key: &[String],
    columns: &[String],
    rows: &[Vec<Value>],
) -> Result<Vec<String>, String> {
    let q = |n: &str| d.quote_ident(n);
    rows.iter()
        .map(|row| {
            let (key_values, new_values) = row.split_at(key.len());
            let set = columns
                .iter()
                .zip(new_values)
                .map(|(c, v)| Ok(format!("{} = {}", q(c), d.literal(v)?)))
                .collect::<Result<Vec<_>, String>>()?;
            let found = key
                .iter()
                .zip(key_values)
                .map(|(c, v)| Ok(format!("{} = {}", q(c), d.literal(v)?)))
                .collect::<Result<Vec<_>, String>>()?;
            Ok(format!(
                "UPDATE {} SET {} WHERE {}",
                q(table),
                set.join(", "),
                found.join(" AND ")
            ))
        })
        .collect()
}

/// A float literal that reads back as the same f64; non-finite values have no portable literal.
pub fn float_literal(f: f64) -> Result<String, String> {
    if !f.is_finite() {
        return Err(format!("{f} has no SQL literal"));
    }
    let text = format!("{f:?}");
    Ok(text)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// `drop_constraint_on` as the `drop_constraint` of the name it resolves to (see
/// `constraint_names`), for dialects that drop constraints by name.
pub fn named_drop(d: &dyn Dialect, op: &Op, schema: &Schema) -> Result<Op, String> {
    let Op::DropConstraintOn {
        table,
        kind,
        columns,
    } = op
    else {
        return Ok(op.clone());
    };
    let name = schema.constraint_name_on(
        table,
        *kind,
        columns,
        d.default_constraint_name(table, *kind, columns),
    )?;
    Ok(Op::DropConstraint {
        table: table.clone(),
        name,
        kind: *kind,
    })
}

/// Refuses identity options a database without them cannot keep: ALWAYS, and an increment
/// other than 1; a start only where `start_ok`.
pub fn identity_without(
    identity: &Identity,
    column: &str,
    database: &str,
    start_ok: bool,
) -> Result<(), String> {
    if identity.always {
        return Err(format!(
            "column {column:?}: {database} cannot refuse a given id (identity ALWAYS is PostgreSQL's); leave it BY DEFAULT"
        ));
    }
    if identity.increment.is_some_and(|i| i != 1) {
        return Err(format!(
            "column {column:?}: {database} steps an autoincrement by 1 (or by a server-wide setting), not by the increment asked"
        ));
    }
    if identity.start.is_some() && !start_ok {
        return Err(format!(
            "column {column:?}: {database} cannot set the identity's start"
        ));
    }
    Ok(())
}

/// Whether `change` changes the column's type as this database has it: a native type given
/// for another database alone changes nothing here. (An enum's values live beyond the type's
/// name on some databases, so any change to an enum counts.)
pub fn changes_type_here(d: &dyn Dialect, change: &ColumnChange, schema: &Schema) -> bool {
    let Some(new_type) = &change.new_type else {
        return false;
    };
    let Some(before) = schema
        .table(&change.table)
        .and_then(|t| t.table.columns.iter().find(|c| c.name == change.column))
    else {
        return true;
    };
    let after = Column {
        data_type: new_type.clone(),
        native_types: change.new_native_types.clone(),
        ..before.clone()
    };
    column_type(d, before) != column_type(d, &after)
        || ((before.data_type.as_enum().is_some() || new_type.as_enum().is_some())
            && before.data_type != *new_type)
}
