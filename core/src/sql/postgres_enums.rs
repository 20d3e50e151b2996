//! PostgreSQL's enum types: `CREATE TYPE … AS ENUM` before the first column that uses one,
//! `DROP TYPE` after the last one goes, `ALTER TYPE … ADD VALUE` for added values, and a new
//! type swapped in when values are removed or reordered (PostgreSQL cannot drop a value).

use super::common;
use super::postgres::Postgres;
use super::Dialect;
use crate::enums::{self, Placement};
use crate::ops::Op;
use crate::schema::Schema;
use crate::types::*;

/// The types an op needs made before it and those it leaves unused after it.
pub(super) fn around(
    d: &Postgres,
    op: &Op,
    schema: &Schema,
) -> Result<(Vec<String>, Vec<String>), String> {
    let introduced: Vec<&DataType> = match op {
        Op::CreateTable(t) => t.columns.iter().map(|c| &c.data_type).collect(),
        Op::AddColumn { column, .. } => vec![&column.data_type],
        Op::AlterColumn(c) => c.new_type.iter().collect(),
        _ => vec![],
    };
    let removed: Vec<&str> = match op {
        Op::DropTable { name } => schema
            .table(name)
            .map(|t| enum_names(t.table.columns.iter()))
            .unwrap_or_default(),
        Op::DropColumn { table, column } | Op::AlterColumn(ColumnChange { table, column, .. }) => {
            schema
                .table(table)
                .map(|t| enum_names(t.table.columns.iter().filter(|c| &c.name == column)))
                .unwrap_or_default()
        }
        _ => vec![],
    };
    let introduced: Vec<(&str, &[String])> = introduced
        .into_iter()
        .filter_map(DataType::as_enum)
        .collect();
    if introduced.is_empty() && removed.is_empty() {
        return Ok((vec![], vec![]));
    }
    let before = enums::used(schema);
    let mut creates = vec![];
    for (name, values) in introduced {
        if !before.contains_key(name) && !creates.iter().any(|(n, _)| *n == name) {
            creates.push((name, values));
        }
    }
    let mut drops = vec![];
    if !removed.is_empty() {
        let mut after = schema.clone();
        after.apply(op).map_err(|e| e.problem)?;
        let still = enums::used(&after);
        for name in removed {
            if !still.contains_key(name) && !drops.contains(&name) {
                drops.push(name);
            }
        }
    }
    Ok((
        creates
            .into_iter()
            .map(|(name, values)| create_type(d, name, values))
            .collect(),
        drops
            .into_iter()
            .map(|name| format!("DROP TYPE {}", d.quote_ident(name)))
            .collect(),
    ))
}

fn enum_names<'a>(columns: impl Iterator<Item = &'a Column>) -> Vec<&'a str> {
    columns
        .filter_map(|c| c.data_type.as_enum())
        .map(|(name, _)| name)
        .collect()
}

fn create_type(d: &Postgres, name: &str, values: &[String]) -> String {
    format!(
        "CREATE TYPE {} AS ENUM ({})",
        d.quote_ident(name),
        common::enum_values(d, values)
    )
}

/// `ALTER TYPE … ADD VALUE` for values added; a new type swapped in for the columns when values
/// were removed or reordered (a row holding a removed value then fails the cast, and the
/// revision rolls back).
pub(super) fn alter_enum(
    d: &Postgres,
    name: &str,
    values: &[String],
    schema: &Schema,
) -> Result<Vec<String>, String> {
    let q = |n: &str| d.quote_ident(n);
    let old = enums::used(schema)
        .remove(name)
        .ok_or_else(|| format!("no column uses enum {name:?}"))?;
    if let Some(added) = enums::insertions(&old, values) {
        return Ok(added
            .into_iter()
            .map(|(value, placement)| {
                let (word, next_to) = match placement {
                    Placement::Before(v) => ("BEFORE", v),
                    Placement::After(v) => ("AFTER", v),
                };
                format!(
                    "ALTER TYPE {} ADD VALUE {} {word} {}",
                    q(name),
                    d.literal(&Value::Text(value))
                        .expect("an enum value is text"),
                    d.literal(&Value::Text(next_to))
                        .expect("an enum value is text")
                )
            })
            .collect());
    }
    let retired = format!("{name}__migrate_old");
    let mut out = vec![
        format!("ALTER TYPE {} RENAME TO {}", q(name), q(&retired)),
        create_type(d, name, values),
    ];
    let new_type = DataType::Enum {
        name: name.to_string(),
        values: values.to_vec(),
    };
    for (table, column) in enums::columns_using(schema, name) {
        let after = Column {
            data_type: new_type.clone(),
            ..column.clone()
        };
        out.extend(retype_column(d, table, column, &after, None)?);
    }
    out.push(format!("DROP TYPE {}", q(&retired)));
    Ok(out)
}

/// `ALTER COLUMN … TYPE`, through text where an enum is on either side (PostgreSQL casts
/// between an enum and text only). A default the new type cannot take as it is (an enum's is
/// `'x'::old_type`) is dropped first and set again after, unless `new_default` replaces it.
pub(super) fn retype_column(
    d: &Postgres,
    table: &str,
    column: &Column,
    after: &Column,
    new_default: Option<&DefaultChange>,
) -> Result<Vec<String>, String> {
    let q = |n: &str| d.quote_ident(n);
    let prefix = format!("ALTER TABLE {} ALTER COLUMN {}", q(table), q(&column.name));
    let new_type = &after.data_type;
    let native = common::column_type(d, after);
    let through_text = new_type.as_enum().is_some() || column.data_type.as_enum().is_some();
    let using = if through_text {
        format!("{}::text::{native}", q(&column.name))
    } else {
        format!("{}::{native}", q(&column.name))
    };
    let default_in_the_way = through_text && column.server_default.is_some();
    let mut out = vec![];
    if default_in_the_way {
        out.push(format!("{prefix} DROP DEFAULT"));
    }
    out.push(format!("{prefix} TYPE {native} USING {using}"));
    if let (true, None, Some(default)) = (default_in_the_way, new_default, &column.server_default) {
        out.push(format!(
            "{prefix} SET DEFAULT {}",
            d.default_sql(new_type, default)?
        ));
    }
    Ok(out)
}
