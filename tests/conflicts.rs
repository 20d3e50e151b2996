//! A transaction the database rolls back because it lost a conflict with another one (a
//! deadlock victim here; on a Galera cluster, a write that lost certification) is run again: the
//! run says so, and the revision is applied once.

use crate::common;

use std::time::{Duration, Instant};

use common::servers::{Server, ServerDb};
use common::{guest, guest_both_ways, strings, TestProject};
use sqlx::{AnyConnection, AssertSqlSafe, Connection};

/// Waits until `sql` (a count) on `db` says 1, or panics after a minute.
fn wait_until_one(db: &ServerDb, sql: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while db.query(sql) != strings(&[&["1"]]) {
        assert!(Instant::now() < deadline, "waited a minute for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_step_chosen_as_a_deadlock_victim_is_run_again_on_postgresql() {
    let Some(db) = ServerDb::create(Server::Postgres) else {
        return;
    };
    let p = TestProject::init();
    p.add_revision(
        "cf_1",
        "tables",
        &guest(
            r#"op::create_table(Table::new("a").column(Column::new("id", Type::Integer)));
               op::create_table(Table::new("b").column(Column::new("id", Type::Integer)));
               Ok(())"#,
        ),
    );
    p.add_revision(
        "cf_2",
        "columns",
        &guest_both_ways(
            r#"op::add_column("a", Column::new("x", Type::Integer));
               op::add_column("b", Column::new("y", Type::Integer));"#,
            r#"op::drop_column("b", "y"); op::drop_column("a", "x");"#,
            "conflicts",
        ),
    );
    p.build();
    p.migrate_on(&db.url)
        .args(["upgrade", "cf_1"])
        .assert()
        .success();
    // PostgreSQL's victim is the session whose deadlock check runs first: migrate's after 3 s
    // of waiting, this test's own after 60 s.
    db.run_script(&format!(
        "ALTER DATABASE {} SET deadlock_timeout = '3s'",
        db.name
    ));
    // The test's own session, on one runtime across the steps below (`db.query` between them
    // runs its own).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut holder = runtime.block_on(AnyConnection::connect(&db.url)).unwrap();
    let mut run = |sql: &'static str| {
        runtime
            .block_on(sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut holder))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    };
    run("SET deadlock_timeout = '60s'");
    run("BEGIN");
    run("LOCK TABLE b IN ACCESS EXCLUSIVE MODE");
    let runner = p.spawn_on(&db.url, &["upgrade"]);
    // migrate's transaction holds `a` (its first ALTER) and waits for `b`...
    wait_until_one(
        &db,
        "SELECT CAST(COUNT(*) AS TEXT) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
         WHERE c.relname = 'b' AND NOT l.granted",
        "migrate to wait for table b",
    );
    // ...and this session now asks for `a`: a deadlock, which migrate's side loses.
    run("LOCK TABLE a IN ACCESS EXCLUSIVE MODE");
    run("COMMIT");
    let out = runner.wait_with_output().unwrap();
    let stderr = common::stderr(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("lost a conflict with another one (deadlock detected")
            && stderr.contains("Running it again (attempt 2 of 6)"),
        "{stderr}"
    );
    assert_eq!(db.column_names("a"), ["id", "x"]);
    assert_eq!(db.column_names("b"), ["id", "y"]);
    assert_eq!(
        db.query("SELECT revision FROM migrate_version"),
        strings(&[&["cf_2"]])
    );
    assert_eq!(
        db.query(
            "SELECT revision, CAST(COUNT(*) AS TEXT) FROM migrate_history \
             WHERE direction = 'upgrade' GROUP BY revision ORDER BY revision"
        ),
        strings(&[&["cf_1", "1"], &["cf_2", "1"]])
    );
}
