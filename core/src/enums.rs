//! Enum types: a named list of values that columns share (`DataType::Enum`). The schema model
//! keeps no separate list of types: an enum exists while a column uses it, which is exactly when
//! PostgreSQL needs its `CREATE TYPE` (made before the first column that uses it, dropped after
//! the last one goes). Every column that names an enum holds the same values, as on PostgreSQL,
//! so `alter_enum` changes them all on every database.

use std::collections::BTreeMap;

use crate::schema::Schema;
use crate::types::{Column, DataType};

/// PostgreSQL's limit on an enum label (NAMEDATALEN - 1 bytes).
const MAX_VALUE_BYTES: usize = 63;

/// An enum's name and values fit every database: a name, at least one value, each value
/// non-empty, unique, at most 63 bytes (PostgreSQL), without trailing spaces (MySQL strips them).
pub fn enum_ok(name: &str, values: &[String]) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("an enum needs a name (PostgreSQL makes it a type of that name)".into());
    }
    if values.is_empty() {
        return Err(format!("enum {name:?} needs at least one value"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for value in values {
        if value.is_empty() {
            return Err(format!(
                "enum {name:?}: a value cannot be empty (MySQL keeps '' for invalid values)"
            ));
        }
        if value.ends_with(' ') {
            return Err(format!(
                "enum {name:?}: value {value:?} ends in a space, which MySQL would strip"
            ));
        }
        if value.len() > MAX_VALUE_BYTES || value.contains('\0') {
            return Err(format!(
                "enum {name:?}: value {value:?} is longer than PostgreSQL's {MAX_VALUE_BYTES} bytes \
                 or holds a NUL character"
            ));
        }
        if !seen.insert(value.as_str()) {
            return Err(format!("enum {name:?}: value {value:?} is listed twice"));
        }
    }
    Ok(())
}

/// The enums the schema's columns use, by name.
pub fn used(schema: &Schema) -> BTreeMap<String, Vec<String>> {
    schema
        .tables
        .values()
        .flat_map(|t| t.table.columns.iter())
        .filter_map(|c| c.data_type.as_enum())
        .map(|(name, values)| (name.to_string(), values.to_vec()))
        .collect()
}

/// The (table, column) pairs that use the enum `name`, in table order.
pub fn columns_using<'a>(schema: &'a Schema, name: &str) -> Vec<(&'a str, &'a Column)> {
    schema
        .tables
        .values()
        .flat_map(|t| {
            t.table
                .columns
                .iter()
                .map(move |c| (t.table.name.as_str(), c))
        })
        .filter(|(_, c)| c.data_type.as_enum().is_some_and(|(n, _)| n == name))
        .collect()
}

/// Refuses a type naming an enum the schema (or the same op) already has with other values.
pub fn consistent_with(
    known: &BTreeMap<String, Vec<String>>,
    data_type: &DataType,
) -> Result<(), String> {
    let Some((name, values)) = data_type.as_enum() else {
        return Ok(());
    };
    match known.get(name) {
        Some(existing) if existing != values => Err(format!(
            "enum {name:?} already has the values {existing:?}, not {values:?}: every column of one \
             enum holds the same values (change them all with `op::alter_enum`)"
        )),
        _ => Ok(()),
    }
}

/// Gives every column using enum `name` these values.
pub fn set_values(schema: &mut Schema, name: &str, values: &[String]) {
    for table in schema.tables.values_mut() {
        for column in &mut table.table.columns {
            if let DataType::Enum { name: n, values: v } = &mut column.data_type {
                if n == name {
                    *v = values.to_vec();
                }
            }
        }
    }
}

/// Where `ALTER TYPE … ADD VALUE` puts a new value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    Before(String),
    After(String),
}

/// When `new` is `old` with values inserted (none removed, the old ones in their order), the
/// inserted values in an order that `ADD VALUE` can make them, each with its place; `None` when
/// values were removed or reordered (the type must then be made anew).
pub fn insertions(old: &[String], new: &[String]) -> Option<Vec<(String, Placement)>> {
    let kept: Vec<&String> = new.iter().filter(|v| old.contains(v)).collect();
    if kept.len() != old.len() || kept.iter().zip(old).any(|(a, b)| *a != b) {
        return None;
    }
    let mut out = vec![];
    for (i, value) in new.iter().enumerate() {
        if old.contains(value) {
            continue;
        }
        // Before the next old value, so later inserts before the same value land after it;
        // after the previous value (placed by now) when no old value follows.
        let placement = match new[i + 1..].iter().find(|v| old.contains(v)) {
            Some(next) => Placement::Before(next.clone()),
            None => Placement::After(new[i - 1].clone()),
        };
        out.push((value.clone(), placement));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn insertions_place_each_new_value() {
        let old = strings(&["b", "d"]);
        let new = strings(&["a", "b", "c", "d", "e", "f"]);
        assert_eq!(
            insertions(&old, &new).unwrap(),
            vec![
                ("a".into(), Placement::Before("b".into())),
                ("c".into(), Placement::Before("d".into())),
                ("e".into(), Placement::After("d".into())),
                ("f".into(), Placement::After("e".into())),
            ]
        );
    }

    #[test]
    fn removed_or_reordered_values_need_a_new_type() {
        assert_eq!(insertions(&strings(&["a", "b"]), &strings(&["a"])), None);
        assert_eq!(
            insertions(&strings(&["a", "b"]), &strings(&["b", "a"])),
            None
        );
        assert_eq!(insertions(&strings(&["a"]), &strings(&["a"])), Some(vec![]));
    }

    #[test]
    fn values_fit_every_database() {
        assert!(enum_ok("mood", &strings(&["ok"])).is_ok());
        assert!(enum_ok("mood", &[]).is_err());
        assert!(enum_ok("mood", &strings(&["ok", "ok"])).is_err());
        assert!(enum_ok("mood", &strings(&["ok "])).is_err());
        assert!(enum_ok("mood", &strings(&[""])).is_err());
        assert!(enum_ok("", &strings(&["a"])).is_err());
        assert!(enum_ok("mood", &[String::from_utf8(vec![b'x'; 64]).unwrap()]).is_err());
    }
}
