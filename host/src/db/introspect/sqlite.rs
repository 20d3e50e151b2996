//! SQLite keeps the DDL of every table and index (rewritten by ALTER TABLE), so its schema is
//! read by the model parser itself.

use anyhow::anyhow;
use migrate_core::model_sql;
use migrate_core::schema::Schema;
use sqlx::AnyConnection;

use migrate_core::sql::version_table::VersionTables;

use super::text_rows;

const DDL: &str = "
SELECT type, name, sql FROM sqlite_master
WHERE type IN ('table', 'index') AND sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, name";

pub(super) async fn schema(
    conn: &mut AnyConnection,
    own: &VersionTables,
) -> anyhow::Result<Schema> {
    let mut text = String::new();
    // Where each statement starts in `text`, to name the one a parse error is in.
    let mut starts = vec![];
    for row in text_rows(conn, DDL).await? {
        let name = row[1].clone().unwrap_or_default();
        let sql = row[2].clone().unwrap_or_default();
        let table_of_index = row[0].as_deref() == Some("index");
        if own.all().contains(&name.as_str()) || (table_of_index && own_index(own, &sql)) {
            continue;
        }
        starts.push((text.lines().count() as u64 + 1, name));
        text.push_str(&sql);
        text.push_str(";\n");
    }
    model_sql::parse_sqlite_catalog(&text).map_err(|e| {
        let culprit = starts
            .iter()
            .rev()
            .find(|(line, _)| *line <= e.line)
            .map(|(_, name)| format!(" (in the definition of {name:?})"))
            .unwrap_or_default();
        anyhow!("{}{culprit}", e.message)
    })
}

/// An index on one of migrate's own tables.
fn own_index(own: &VersionTables, sql: &str) -> bool {
    own.all().iter().any(|t| sql.contains(&format!("\"{t}\"")))
}
