//! Real database servers for dialect tests. Each test gets its own freshly created database with
//! a random name, dropped when the test ends. The servers come from the environment:
//! MIGRATE_TEST_POSTGRES_URL and MIGRATE_TEST_MYSQL_URL (URLs of an existing database to connect
//! to first). Where one is absent the test skips with a printed reason, unless
//! MIGRATE_TEST_SERVERS_REQUIRED is set (as CI does): then it fails.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Column, Connection, Row};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Postgres,
    Mysql,
}

impl Server {
    fn env(self) -> &'static str {
        match self {
            Server::Postgres => "MIGRATE_TEST_POSTGRES_URL",
            Server::Mysql => "MIGRATE_TEST_MYSQL_URL",
        }
    }
}

/// A database of its own on a real server.
pub struct ServerDb {
    pub server: Server,
    pub url: String,
    pub name: String,
    admin_url: String,
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

impl ServerDb {
    /// None (with the reason printed) when the server is not configured and not required.
    pub fn create(server: Server) -> Option<ServerDb> {
        ServerDb::create_named(server, "migrate_t_")
    }

    /// `create`, the database's name starting with `prefix` (for tests that find databases by
    /// a pattern).
    pub fn create_named(server: Server, prefix: &str) -> Option<ServerDb> {
        sqlx::any::install_default_drivers();
        let Some(admin_url) = std::env::var(server.env()).ok().filter(|s| !s.is_empty()) else {
            if std::env::var_os("MIGRATE_TEST_SERVERS_REQUIRED").is_some() {
                panic!("{} is not set, and MIGRATE_TEST_SERVERS_REQUIRED says the servers are required", server.env());
            }
            eprintln!(
                "SKIPPED: {} is not set, so this {server:?} test does not run",
                server.env()
            );
            return None;
        };
        let mut bytes = [0u8; 6];
        getrandom::fill(&mut bytes).unwrap();
        let name = format!(
            "{prefix}{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        block_on(async {
            let mut conn = AnyConnection::connect(&admin_url)
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "{} = {admin_url}: cannot connect ({e}); is the server running?",
                        server.env()
                    )
                });
            sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .unwrap();
        });
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .unwrap_or(&admin_url);
        Some(ServerDb {
            server,
            url: format!("{base}/{name}"),
            name,
            admin_url,
        })
    }

    pub fn query(&self, sql: &str) -> Vec<Vec<String>> {
        self.try_query(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub fn try_query(&self, sql: &str) -> Result<Vec<Vec<String>>, sqlx::Error> {
        query_url(&self.url, sql)
    }

    /// Runs a whole script the way `psql -f` or `mysql <` would.
    pub fn run_script(&self, sql: &str) {
        block_on(async {
            let mut conn = AnyConnection::connect(&self.url).await.unwrap();
            sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
                .execute(&mut conn)
                .await
                .unwrap();
        })
    }

    /// The version tables migrate keeps here (MySQL has one more: the in-progress mark).
    pub fn version_tables(&self) -> Vec<String> {
        let mut tables = vec!["migrate_history".to_string(), "migrate_version".to_string()];
        if self.server == Server::Mysql {
            tables.insert(1, "migrate_incomplete".to_string());
        }
        tables
    }

    /// Tables besides the version tables, sorted.
    pub fn user_tables(&self) -> Vec<String> {
        let version = self.version_tables();
        self.tables()
            .into_iter()
            .filter(|t| !version.contains(t))
            .collect()
    }

    /// Tables in this database, sorted.
    pub fn tables(&self) -> Vec<String> {
        let sql = match self.server {
            Server::Postgres => "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
            Server::Mysql => "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1",
        };
        self.query(sql).into_iter().map(|r| r[0].clone()).collect()
    }

    /// (column, native type, nullable YES/NO, default) per column of a table, in order.
    pub fn columns(&self, table: &str) -> Vec<Vec<String>> {
        let sql = match self.server {
            Server::Postgres => format!(
                "SELECT column_name::text, format_type(a.atttypid, a.atttypmod), is_nullable::text, coalesce(column_default::text, 'NULL') \
                 FROM information_schema.columns c JOIN pg_attribute a ON a.attrelid = (quote_ident(c.table_name) )::regclass AND a.attname = c.column_name \
                 WHERE c.table_schema = current_schema() AND c.table_name = '{table}' ORDER BY c.ordinal_position"
            ),
            Server::Mysql => format!(
                "SELECT column_name, column_type, is_nullable, coalesce(column_default, 'NULL') FROM information_schema.columns \
                 WHERE table_schema = DATABASE() AND table_name = '{table}' ORDER BY ordinal_position"
            ),
        };
        self.query(&sql)
    }

    pub fn column_names(&self, table: &str) -> Vec<String> {
        self.columns(table)
            .into_iter()
            .map(|c| c[0].clone())
            .collect()
    }

    /// (constraint name, type) of a table's named constraints, sorted.
    pub fn constraints(&self, table: &str) -> Vec<Vec<String>> {
        let sql = match self.server {
            Server::Postgres => format!(
                "SELECT constraint_name::text, constraint_type::text FROM information_schema.table_constraints \
                 WHERE table_schema = current_schema() AND table_name = '{table}' AND constraint_type <> 'CHECK' \
                 UNION SELECT conname::text, 'CHECK' FROM pg_constraint WHERE conrelid = '{table}'::regclass AND contype = 'c' ORDER BY 1"
            ),
            Server::Mysql => format!(
                "SELECT constraint_name, constraint_type FROM information_schema.table_constraints \
                 WHERE table_schema = DATABASE() AND table_name = '{table}' ORDER BY 1"
            ),
        };
        self.query(&sql)
    }

    /// (index name, column, unique 1/0) of a table's indexes, by index then position.
    pub fn indexes(&self, table: &str) -> Vec<Vec<String>> {
        let sql = match self.server {
            Server::Postgres => format!(
                "SELECT i.relname::text, a.attname::text, CASE WHEN x.indisunique THEN '1' ELSE '0' END \
                 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
                 JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) ON true \
                 JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum \
                 WHERE x.indrelid = '{table}'::regclass ORDER BY 1, k.n"
            ),
            Server::Mysql => format!(
                "SELECT index_name, column_name, CASE WHEN non_unique = 0 THEN '1' ELSE '0' END FROM information_schema.statistics \
                 WHERE table_schema = DATABASE() AND table_name = '{table}' ORDER BY 1, seq_in_index"
            ),
        };
        self.query(&sql)
    }

    /// (constraint, column, referred table, referred column, on delete) of a table's foreign keys.
    pub fn foreign_keys(&self, table: &str) -> Vec<Vec<String>> {
        let sql = match self.server {
            Server::Postgres => format!(
                "SELECT c.conname::text, a.attname::text, r.relname::text, ra.attname::text, \
                 CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'r' THEN 'RESTRICT' WHEN 'd' THEN 'SET DEFAULT' ELSE 'NO ACTION' END \
                 FROM pg_constraint c JOIN pg_class r ON r.oid = c.confrelid \
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
                 JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1] \
                 WHERE c.contype = 'f' AND c.conrelid = '{table}'::regclass ORDER BY 2"
            ),
            Server::Mysql => format!(
                "SELECT k.constraint_name, k.column_name, k.referenced_table_name, k.referenced_column_name, r.delete_rule \
                 FROM information_schema.key_column_usage k JOIN information_schema.referential_constraints r \
                 ON r.constraint_schema = k.constraint_schema AND r.constraint_name = k.constraint_name \
                 WHERE k.table_schema = DATABASE() AND k.table_name = '{table}' AND k.referenced_table_name IS NOT NULL ORDER BY 2"
            ),
        };
        self.query(&sql)
    }

    /// The whole schema as comparable rows: every table's columns, constraints and indexes.
    /// Columns are sorted by name: a column dropped and added back returns at the end of the
    /// table, which changes nothing a query by name sees (Alembic does not restore it either).
    pub fn schema_dump(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for table in self.tables() {
            out.push(vec![format!("table {table}")]);
            let mut columns = self.columns(&table);
            columns.sort();
            out.extend(columns);
            out.extend(self.constraints(&table));
            out.extend(self.indexes(&table));
        }
        out
    }
}

impl Drop for ServerDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let admin_url = self.admin_url.clone();
        let server = self.server;
        block_on(async move {
            if let Ok(mut conn) = AnyConnection::connect(&admin_url).await {
                let sql = match server {
                    Server::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    Server::Mysql => format!("DROP DATABASE IF EXISTS {name}"),
                };
                let _ = sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await;
            }
        });
    }
}

pub fn query_url(url: &str, sql: &str) -> Result<Vec<Vec<String>>, sqlx::Error> {
    query_url_after(url, &[], sql)
}

/// As `query_url`, on a connection first readied by `setup` (e.g. a session variable).
pub fn query_url_after(
    url: &str,
    setup: &[&str],
    sql: &str,
) -> Result<Vec<Vec<String>>, sqlx::Error> {
    sqlx::any::install_default_drivers();
    block_on(async {
        let mut conn = AnyConnection::connect(url).await?;
        for statement in setup {
            sqlx::raw_sql(AssertSqlSafe(statement.to_string()))
                .execute(&mut conn)
                .await?;
        }
        let rows = sqlx::query(AssertSqlSafe(sql.to_string()))
            .fetch_all(&mut conn)
            .await?;
        Ok(rows
            .iter()
            .map(|row| (0..row.columns().len()).map(|i| cell(row, i)).collect())
            .collect())
    })
}

fn cell(row: &AnyRow, i: usize) -> String {
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return v.unwrap_or_else(|| "NULL".into());
    }
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return v.map_or("NULL".into(), |v| v.to_string());
    }
    if let Ok(v) = row.try_get::<Option<i32>, _>(i) {
        return v.map_or("NULL".into(), |v| v.to_string());
    }
    if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
        return v.map_or("NULL".into(), |v| v.to_string());
    }
    if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
        return v.map_or("NULL".into(), |v| v.to_string());
    }
    if let Ok(v) = row.try_get::<Option<Vec<u8>>, _>(i) {
        return v.map_or("NULL".into(), |v| String::from_utf8_lossy(&v).into_owned());
    }
    format!("<undecodable column {}>", row.columns()[i].name())
}
