//! The SQL of a revision's reads (the `data` interface): a keyset batch rendered from a typed
//! request, and the check that a SELECT a revision wrote is one read-only query.

use sqlparser::ast::{Query, SetExpr, Statement};
use sqlparser::dialect::{
    Dialect as ParserDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect,
};
use sqlparser::parser::Parser;

use crate::schema::Schema;
use crate::sql::{Dialect, DialectName};
use crate::types::{DataType, Value};

/// The most rows one read may return, whatever the revision asks: a batch is held by the host
/// and copied into the guest's memory.
pub const MAX_BATCH_ROWS: u32 = 10_000;

/// One batch of a table in key order: the rows after `after`, at most `limit`.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRead {
    pub table: String,
    pub columns: Vec<String>,
    pub key: Vec<String>,
    pub after: Option<Vec<Value>>,
    pub limit: u32,
}

/// `SELECT … FROM t WHERE (k) > (after) ORDER BY k LIMIT n`, and the columns it returns. Columns
/// the database driver cannot hand over as a plain value (dates, times, numerics, JSON, UUIDs)
/// are read as text; the model (the schema before the revision) says which they are.
pub fn batch_sql(
    dialect: &dyn Dialect,
    schema: &Schema,
    read: &BatchRead,
) -> Result<(String, Vec<String>), String> {
    if read.key.is_empty() {
        return Err("a batch needs a key: the columns it is ordered and resumed by".into());
    }
    if read.limit == 0 || read.limit > MAX_BATCH_ROWS {
        return Err(format!(
            "a batch reads 1 to {MAX_BATCH_ROWS} rows (asked for {})",
            read.limit
        ));
    }
    let q = |name: &str| dialect.quote_ident(name);
    let mut columns = read.columns.clone();
    for key in &read.key {
        if !columns.contains(key) {
            columns.push(key.clone());
        }
    }
    let model = schema.table(&read.table);
    let select: Vec<String> = columns
        .iter()
        .map(|name| {
            let data_type = model.and_then(|t| {
                t.table
                    .columns
                    .iter()
                    .find(|c| &c.name == name)
                    .map(|c| &c.data_type)
            });
            match data_type {
                Some(t) if read_as_text(t) => format!(
                    "CAST({} AS {}) AS {}",
                    q(name),
                    dialect.text_cast_type(),
                    q(name)
                ),
                _ => q(name),
            }
        })
        .collect();
    let key = read.key.iter().map(|k| q(k)).collect::<Vec<_>>().join(", ");
    let mut sql = format!("SELECT {} FROM {}", select.join(", "), q(&read.table));
    if let Some(after) = &read.after {
        if after.len() != read.key.len() {
            return Err(format!(
                "`after` has {} values for a key of {} columns",
                after.len(),
                read.key.len()
            ));
        }
        let values = after
            .iter()
            .map(|v| dialect.literal(v))
            .collect::<Result<Vec<_>, _>>()?
            .join(", ");
        if read.key.len() == 1 {
            sql.push_str(&format!(" WHERE {key} > {values}"));
        } else {
            sql.push_str(&format!(" WHERE ({key}) > ({values})"));
        }
    }
    sql.push_str(&format!(" ORDER BY {key} LIMIT {}", read.limit));
    Ok((sql, columns))
}

/// Types the `Any` driver has no value for: read through a cast to text.
fn read_as_text(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Date
            | DataType::Time
            | DataType::Timestamp
            | DataType::Timestamptz
            | DataType::Numeric { .. }
            | DataType::Json
            | DataType::Uuid
            // PostgreSQL's enum types are its own, unknown to the driver.
            | DataType::Enum { .. }
    )
}

/// Refuses anything but one plain query: no second statement, no `SELECT … INTO` (which makes
/// a table on PostgreSQL and writes a file on MySQL), nothing that is not a query.
pub fn check_select(dialect: DialectName, sql: &str) -> Result<(), String> {
    let parser_dialect: Box<dyn ParserDialect> = match dialect {
        DialectName::Sqlite => Box::new(SQLiteDialect {}),
        DialectName::Postgresql => Box::new(PostgreSqlDialect {}),
        DialectName::Mysql => Box::new(MySqlDialect {}),
    };
    let statements = Parser::parse_sql(parser_dialect.as_ref(), sql)
        .map_err(|e| format!("not a query this host can read: {e}"))?;
    let [Statement::Query(query)] = statements.as_slice() else {
        return Err(format!(
            "a read is one SELECT; this is {}",
            match statements.len() {
                1 => "another kind of statement".to_string(),
                n => format!("{n} statements"),
            }
        ));
    };
    if writes(query) {
        return Err(
            "a read may not write: no SELECT … INTO (a table, a file), no INSERT, UPDATE or \
             DELETE inside WITH"
                .into(),
        );
    }
    Ok(())
}

/// Whether a query writes: `SELECT … INTO`, or a data-modifying statement in its WITH.
fn writes(query: &Query) -> bool {
    let in_with = query
        .with
        .as_ref()
        .is_some_and(|with| with.cte_tables.iter().any(|cte| writes(&cte.query)));
    in_with || body_writes(&query.body)
}

fn body_writes(body: &SetExpr) -> bool {
    match body {
        SetExpr::Select(select) => select.into.is_some(),
        SetExpr::Query(query) => writes(query),
        SetExpr::SetOperation { left, right, .. } => body_writes(left) || body_writes(right),
        SetExpr::Values(_) | SetExpr::Table(_) => false,
        // INSERT, UPDATE, DELETE, MERGE, and whatever sqlparser adds later.
        _ => true,
    }
}

/// What a value weighs against the read limit: about what it costs to hold.
pub fn value_bytes(value: &Value) -> usize {
    match value {
        Value::Text(t) => t.len() + 8,
        Value::Blob(b) => b.len() + 8,
        _ => 9,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_plain_query_is_a_read() {
        for dialect in [
            DialectName::Sqlite,
            DialectName::Postgresql,
            DialectName::Mysql,
        ] {
            assert!(check_select(dialect, "SELECT id, name FROM person WHERE id > 3").is_ok());
            assert!(check_select(dialect, "WITH x AS (SELECT 1 AS a) SELECT a FROM x").is_ok());
            assert!(check_select(dialect, "DELETE FROM person").is_err());
            assert!(check_select(dialect, "SELECT 1; DROP TABLE person").is_err());
            assert!(check_select(dialect, "UPDATE person SET a = 1").is_err());
        }
        assert!(check_select(DialectName::Postgresql, "SELECT * INTO copy FROM person").is_err());
        assert!(check_select(
            DialectName::Postgresql,
            "WITH d AS (DELETE FROM person RETURNING id) SELECT * FROM d"
        )
        .is_err());
    }

    #[test]
    fn a_batch_resumes_after_the_last_key() {
        let dialect = crate::sql::dialect(DialectName::Postgresql).unwrap();
        let read = BatchRead {
            table: "person".into(),
            columns: vec!["full_name".into()],
            key: vec!["id".into()],
            after: Some(vec![Value::Integer(100)]),
            limit: 100,
        };
        let (sql, columns) = batch_sql(dialect, &Schema::default(), &read).unwrap();
        assert_eq!(
            sql,
            r#"SELECT "full_name", "id" FROM "person" WHERE "id" > 100 ORDER BY "id" LIMIT 100"#
        );
        assert_eq!(columns, vec!["full_name", "id"]);
    }
}
