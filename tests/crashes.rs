//! Crash safety and concurrency under load: `migrate upgrade` killed with SIGKILL at random
//! points while it applies a 200-revision chain, on SQLite and PostgreSQL; after every kill the
//! version table matches the real schema and the next run completes. And 8 runners racing.

use crate::common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::servers::{Server, ServerDb};
use common::TestProject;

const CHAIN: usize = 200;

/// A chain where revision i creates table t{i}: the schema says exactly how far it got.
fn long_chain(prefix: &str) -> TestProject {
    let p = TestProject::init();
    for i in 1..=CHAIN {
        let source = format!(
            "#![no_std]\n\
             use migrate_guest_sdk::prelude::*;\n\
             fn upgrade() -> Result {{ op::create_table(Table::new(\"t{i}\").column(Column::new(\"id\", Type::Integer).primary_key())); Ok(()) }}\n\
             fn downgrade() -> Result {{ op::drop_table(\"t{i}\"); Ok(()) }}\n\
             migrate_guest_sdk::revision!(upgrade, downgrade);\n"
        );
        p.add_revision(&format!("{prefix}{i:03}"), &format!("table {i}"), &source);
    }
    p.build();
    p
}

/// Reads (heads, tables t{i} present) through a query function, both in one statement so that
/// they come from one snapshot: PostgreSQL runs a transaction it has received to its end even
/// after the client is killed, so two separate reads could straddle that commit.
fn state(
    query: &dyn Fn(&str) -> Vec<Vec<String>>,
    tables_sql: &str,
    prefix: &str,
) -> (usize, Vec<usize>) {
    let mut rows = query(&format!(
        "SELECT 'head', revision FROM migrate_version \
         UNION ALL SELECT 'table', present.* FROM ({tables_sql}) AS present"
    ));
    if rows.is_empty() {
        // No version table yet (the first run was killed before making it): no steps ran.
        rows = query(tables_sql)
            .into_iter()
            .map(|r| vec!["table".to_string(), r[0].clone()])
            .collect();
    }
    let heads: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "head").collect();
    assert!(
        heads.len() <= 1,
        "a linear chain has at most one head: {heads:?}"
    );
    let at = heads.first().map_or(0, |h| {
        h[1].trim_start_matches(prefix).parse::<usize>().unwrap()
    });
    let mut tables: Vec<usize> = rows
        .iter()
        .filter(|r| r[0] == "table")
        .filter_map(|r| r[1].strip_prefix('t').and_then(|n| n.parse().ok()))
        .collect();
    tables.sort();
    (at, tables)
}

fn kill_at_random_points(
    p: &TestProject,
    url: &str,
    query: &dyn Fn(&str) -> Vec<Vec<String>>,
    tables_sql: &str,
    prefix: &str,
) {
    let binary = assert_cmd::cargo::cargo_bin("migrate");
    // Warm the caches once so that runs spend their time in the database.
    p.migrate_on(url)
        .args(["upgrade", "--sql"])
        .assert()
        .success();
    let (mut killed_mid_run, mut rounds) = (0, 0);
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    loop {
        rounds += 1;
        let mut child = Command::new(&binary)
            .current_dir(p.path())
            .env("DATABASE_URL", url)
            .env_remove("SETTINGS")
            .arg("upgrade")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(20 + seed % 150));
        let finished = child.try_wait().unwrap().is_some();
        if !finished {
            child.kill().unwrap(); // SIGKILL
            killed_mid_run += 1;
        }
        child.wait().unwrap();
        // The version table and the schema agree after every kill.
        let (at, tables) = state(query, tables_sql, prefix);
        assert_eq!(
            tables,
            (1..=at).collect::<Vec<_>>(),
            "heads say {at}, tables say otherwise (round {rounds})"
        );
        if at == CHAIN || rounds >= 60 {
            break;
        }
    }
    // The next run completes from wherever the kills left it.
    p.migrate_on(url).arg("upgrade").assert().success();
    let (at, tables) = state(query, tables_sql, prefix);
    assert_eq!((at, tables.len()), (CHAIN, CHAIN));
    eprintln!("survived {killed_mid_run} SIGKILLs mid-run in {rounds} rounds");
    assert!(
        killed_mid_run >= 3,
        "the kills should land mid-run ({killed_mid_run} of {rounds})"
    );
}

#[test]
fn sigkill_during_upgrade_leaves_sqlite_consistent() {
    let p = long_chain("crash_s");
    let db = p.db_path();
    let url = format!("sqlite://{}", db.display());
    let query = |sql: &str| {
        if db.exists() {
            common::try_query_sqlite(&db, sql).unwrap_or_default()
        } else {
            vec![]
        }
    };
    kill_at_random_points(
        &p,
        &url,
        &query,
        "SELECT name FROM sqlite_master WHERE type = 'table'",
        "crash_s",
    );
}

#[test]
fn sigkill_during_upgrade_leaves_postgres_consistent() {
    let Some(server) = ServerDb::create(Server::Postgres) else {
        return;
    };
    let p = long_chain("crash_p");
    let query = |sql: &str| server.try_query(sql).unwrap_or_default();
    let tables = "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()";
    kill_at_random_points(&p, &server.url, &query, tables, "crash_p");
}

fn race(p: &TestProject, url: &str) {
    let binary = assert_cmd::cargo::cargo_bin("migrate");
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(&binary)
                .current_dir(p.path())
                .env("DATABASE_URL", url)
                .arg("upgrade")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || err.contains("locked"),
            "neither done nor a clear lock error: {err}"
        );
    }
}

/// Runs a query on the database under test, rows as text.
type Query<'a> = dyn Fn(&str) -> Vec<Vec<String>> + 'a;

fn eight_runners(server: Option<Server>) {
    let p = TestProject::shipped_chain();
    p.build();
    for round in 0..3 {
        let holder;
        let (url, query): (String, Box<Query<'_>>) = match server {
            None => {
                let db = p.path().join(format!("race{round}.db"));
                (
                    format!("sqlite://{}", db.display()),
                    Box::new(move |sql| common::query_sqlite(&db, sql)),
                )
            }
            Some(server) => {
                let Some(db) = ServerDb::create(server) else {
                    return;
                };
                holder = db;
                let url = holder.url.clone();
                (url, Box::new(|sql| holder.query(sql)))
            }
        };
        race(&p, &url);
        let counts = query(
            "SELECT revision, COUNT(*) FROM migrate_history GROUP BY revision ORDER BY revision",
        );
        assert_eq!(
            counts,
            vec![
                vec!["20f04b9598da".to_string(), "1".into()],
                vec!["cf0f5b45967".into(), "1".into()]
            ]
        );
    }
}

#[test]
fn eight_racing_runners_on_sqlite() {
    eight_runners(None);
}

#[test]
fn eight_racing_runners_on_postgres() {
    eight_runners(Some(Server::Postgres));
}

#[test]
fn eight_racing_runners_on_mysql() {
    eight_runners(Some(Server::Mysql));
}
