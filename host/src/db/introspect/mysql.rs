//! MySQL / MariaDB: information_schema, for the connection's database.

use migrate_core::model_sql::{inline_enum_values, parse_catalog_type, CatalogType};
use migrate_core::types::DataType;
use sqlx::AnyConnection;

use super::{
    column_rows, referential_action, text_rows, Catalog, CatalogConstraint, CatalogIndex,
    CatalogKind,
};

const COLUMNS: &str = "
SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR), CAST(IS_NULLABLE AS CHAR),
       CAST(COLUMN_DEFAULT AS CHAR), CAST(EXTRA AS CHAR),
       CASE WHEN EXTRA LIKE '%STORED GENERATED%' THEN 'STORED'
            WHEN EXTRA LIKE '%VIRTUAL GENERATED%' THEN 'VIRTUAL' ELSE '' END,
       CAST(GENERATION_EXPRESSION AS CHAR), '', NULL, NULL
FROM information_schema.COLUMNS c
WHERE TABLE_SCHEMA = DATABASE()
  AND EXISTS (SELECT 1 FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = c.TABLE_SCHEMA
              AND t.TABLE_NAME = c.TABLE_NAME AND t.TABLE_TYPE = 'BASE TABLE')
ORDER BY TABLE_NAME, ORDINAL_POSITION";

const KEYS: &str = "
SELECT CAST(tc.TABLE_NAME AS CHAR), CAST(tc.CONSTRAINT_NAME AS CHAR), CAST(tc.CONSTRAINT_TYPE AS CHAR),
       CAST(k.COLUMN_NAME AS CHAR), CAST(k.REFERENCED_TABLE_NAME AS CHAR), CAST(k.REFERENCED_COLUMN_NAME AS CHAR),
       CAST(rc.DELETE_RULE AS CHAR), CAST(rc.UPDATE_RULE AS CHAR)
FROM information_schema.TABLE_CONSTRAINTS tc
JOIN information_schema.KEY_COLUMN_USAGE k
  ON k.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND k.TABLE_NAME = tc.TABLE_NAME AND k.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
LEFT JOIN information_schema.REFERENTIAL_CONSTRAINTS rc
  ON rc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND rc.TABLE_NAME = tc.TABLE_NAME AND rc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.CONSTRAINT_TYPE IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')
ORDER BY tc.TABLE_NAME, tc.CONSTRAINT_NAME, k.ORDINAL_POSITION";

const CHECKS: &str = "
SELECT CAST(tc.TABLE_NAME AS CHAR), CAST(tc.CONSTRAINT_NAME AS CHAR), CAST(cc.CHECK_CLAUSE AS CHAR)
FROM information_schema.TABLE_CONSTRAINTS tc
JOIN information_schema.CHECK_CONSTRAINTS cc
  ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.CONSTRAINT_TYPE = 'CHECK'
ORDER BY tc.TABLE_NAME, tc.CONSTRAINT_NAME";

const INDEXES: &str = "
SELECT CAST(TABLE_NAME AS CHAR), CAST(INDEX_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR),
       CAST(COLLATION AS CHAR), CAST(SUB_PART AS CHAR)
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND NON_UNIQUE = 1
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX";

pub(super) async fn catalog(conn: &mut AnyConnection) -> anyhow::Result<Catalog> {
    let mut catalog = Catalog {
        // EXTRA holds `auto_increment` among other words.
        columns: column_rows(conn, COLUMNS, |extra| {
            extra.to_ascii_lowercase().contains("auto_increment")
        })
        .await?,
        ..Catalog::default()
    };
    // One row per key column: gather them per constraint.
    for row in text_rows(conn, KEYS).await? {
        let text = |i: usize| row[i].clone().unwrap_or_default();
        let (table, name, column) = (text(0), text(1), text(3));
        if let Some(last) = catalog
            .constraints
            .last_mut()
            .filter(|c| c.table == table && c.name.as_deref() == Some(name.as_str()))
        {
            last.columns.push(column);
            if let CatalogKind::ForeignKey {
                referred_columns, ..
            } = &mut last.kind
            {
                referred_columns.push(text(5));
            }
            continue;
        }
        let kind = match text(2).as_str() {
            "PRIMARY KEY" => CatalogKind::PrimaryKey,
            "UNIQUE" => CatalogKind::Unique,
            _ => CatalogKind::ForeignKey {
                referred_table: text(4),
                referred_columns: vec![text(5)],
                on_delete: referential_action(&text(6)),
                on_update: referential_action(&text(7)),
            },
        };
        catalog.constraints.push(CatalogConstraint {
            table,
            name: Some(name),
            columns: vec![column],
            kind,
        });
    }
    let column_names: std::collections::BTreeSet<(String, String)> = catalog
        .columns
        .iter()
        .map(|c| (c.table.clone(), c.name.clone()))
        .collect();
    for row in text_rows(conn, CHECKS).await? {
        let text = |i: usize| row[i].clone().unwrap_or_default();
        let (table, name, clause) = (text(0), text(1), text(2));
        // MariaDB names a column's own CHECK after the column, and keeps JSON as LONGTEXT
        // with a json_valid check: neither is a named check of the model.
        if clause
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("json_valid(")
        {
            continue;
        }
        let column_level = column_names.contains(&(table.clone(), name.clone()));
        catalog.constraints.push(CatalogConstraint {
            table,
            name: (!column_level).then_some(name),
            columns: vec![],
            kind: CatalogKind::Check(clause),
        });
    }
    for row in text_rows(conn, INDEXES).await? {
        let text = |i: usize| row[i].clone().unwrap_or_default();
        let (table, name, column) = (text(0), text(1), text(2));
        let key = migrate_core::types::IndexKey {
            expression: false,
            descending: text(3) == "D",
            prefix_length: text(4).parse().ok(),
        };
        match catalog
            .indexes
            .last_mut()
            .filter(|i| i.table == table && i.name == name)
        {
            Some(index) => {
                index.columns.push(column);
                index.keys.push(key);
            }
            None => catalog.indexes.push(CatalogIndex {
                table,
                name,
                unique: false,
                columns: vec![column],
                keys: vec![key],
                predicate: None,
                include: vec![],
            }),
        }
    }
    // MySQL makes an index for each foreign key that has none, named after the key, or after
    // its first column when the key is unnamed: those belong to the key.
    let constraints = &catalog.constraints;
    catalog.indexes.retain(|index| {
        !constraints.iter().any(|c| {
            matches!(c.kind, CatalogKind::ForeignKey { .. })
                && c.table == index.table
                && c.columns == index.columns
                && (c.name.as_deref() == Some(index.name.as_str())
                    || c.columns.first() == Some(&index.name))
        })
    });
    Ok(catalog)
}

/// MySQL's COLUMN_TYPE spellings, including those migrate's MySQL dialect renders for types
/// MySQL lacks (BOOLEAN is TINYINT(1), UUID is CHAR(36), JSON on MariaDB is LONGTEXT).
pub(super) fn portable_type(native: &str) -> Result<CatalogType, String> {
    let lower = native.to_ascii_lowercase();
    if lower.starts_with("enum(") {
        // MySQL keeps no enum name: `assemble` names it after its table and column.
        let values = inline_enum_values(native)
            .ok_or_else(|| format!("the enum type {native:?} does not parse"))?;
        return Ok(CatalogType::portable(DataType::Enum {
            name: String::new(),
            values,
        }));
    }
    let mapped = match lower.as_str() {
        "tinyint(1)" => "BOOLEAN".to_string(),
        "char(36)" => "UUID".to_string(),
        "longtext" | "json" => "JSON".to_string(),
        "longblob" => "BLOB".to_string(),
        "datetime(6)" | "datetime" => "TIMESTAMP".to_string(),
        "time(6)" => "TIME".to_string(),
        // Integer display widths (`int(11)`) mean nothing for the type.
        other => match other.split_once('(') {
            Some((base, _))
                if ["int", "bigint", "smallint", "tinyint", "mediumint"].contains(&base) =>
            {
                base.to_string()
            }
            _ => other.to_string(),
        },
    };
    parse_catalog_type(&mapped)
}
