//! Identifier and literal quoting against the real databases: arbitrary Unicode table and
//! column names and string values go through each dialect's rendering into the database and
//! come back unchanged, and nothing in them can end a quote early (no SQL injection).

use crate::common;

use common::servers::{block_on, Server, ServerDb};
use migrate_core::ops::Op;
use migrate_core::schema::Schema;
use migrate_core::sql::{self, render_step, DialectName};
use migrate_core::types::*;
use proptest::prelude::*;
use sqlx::{AnyConnection, AssertSqlSafe, Connection, Row};

/// Names every database accepts: 1 to 20 characters of the Basic Multilingual Plane (MySQL
/// keeps identifiers in 3-byte UTF-8), no NUL, no trailing space (MySQL), not `sqlite_…`.
fn name() -> impl Strategy<Value = String> {
    "[^\u{0}\u{10000}-\u{10FFFF}]{1,20}".prop_filter("databases refuse these names", |n| {
        !n.ends_with(' ')
            // A name of only (Unicode) spaces is refused as empty by the ops' validation.
            && !n.trim().is_empty()
            && !n.to_ascii_lowercase().starts_with("sqlite_")
            && !n.chars().any(|c| c.is_control())
    })
}

fn value() -> impl Strategy<Value = String> {
    "[^\u{0}]{0,40}"
}

/// Creates a table through the dialect, inserts the value, and reads back the catalog's names
/// and the value.
async fn round_trip(
    conn: &mut AnyConnection,
    dialect: DialectName,
    table: &str,
    column: &str,
    value: &str,
) -> (Vec<String>, String) {
    let d = sql::dialect(dialect).unwrap();
    let create = Op::CreateTable(Table {
        name: table.into(),
        columns: vec![Column::new(column, DataType::Text)],
        constraints: vec![],
        comment: None,
    });
    let insert = Op::BulkInsert {
        table: table.into(),
        columns: vec![column.into()],
        rows: vec![vec![Value::Text(value.into())]],
    };
    let script = render_step(d, &mut Schema::default(), &[create, insert], vec![]).unwrap();
    for statement in &script.body {
        sqlx::raw_sql(AssertSqlSafe(statement.sql.clone()))
            .execute(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", statement.sql));
    }
    let select = format!(
        "SELECT {} FROM {}",
        d.quote_ident(column),
        d.quote_ident(table)
    );
    let row = sqlx::query(AssertSqlSafe(select))
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let back: String = row.try_get(0).unwrap();
    let catalog = match dialect {
        DialectName::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name".to_string(),
        DialectName::Postgresql => "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1".into(),
        DialectName::Mysql => "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1".into(),
    };
    let tables = sqlx::query(AssertSqlSafe(catalog))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let tables = tables
        .iter()
        .map(|r| r.try_get::<String, _>(0).unwrap())
        .collect();
    let drop = format!("DROP TABLE {}", d.quote_ident(table));
    sqlx::raw_sql(AssertSqlSafe(drop))
        .execute(&mut *conn)
        .await
        .unwrap();
    (tables, back)
}

fn check(url: &str, dialect: DialectName, cases: u32) {
    sqlx::any::install_default_drivers();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&(name(), name(), value()), |(table, column, value)| {
            let (tables, back) = block_on(async {
                let mut conn = AnyConnection::connect(url).await.unwrap();
                round_trip(&mut conn, dialect, &table, &column, &value).await
            });
            prop_assert_eq!(
                tables,
                vec![table.clone()],
                "only the table itself exists: nothing was injected"
            );
            prop_assert_eq!(back, value);
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_names_and_values_round_trip_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("q.db").display());
    check(&url, DialectName::Sqlite, 200);
}

#[test]
fn arbitrary_names_and_values_round_trip_on_postgres() {
    let Some(db) = ServerDb::create(Server::Postgres) else {
        return;
    };
    check(&db.url, DialectName::Postgresql, 40);
}

#[test]
fn arbitrary_names_and_values_round_trip_on_mysql() {
    let Some(db) = ServerDb::create(Server::Mysql) else {
        return;
    };
    check(&db.url, DialectName::Mysql, 40);
}
