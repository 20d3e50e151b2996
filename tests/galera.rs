//! A real MariaDB Galera cluster (three nodes on loopback, `scripts/galera`, started by
//! `scripts/test`): runners on different nodes take one lease, so each revision is applied once;
//! an expired lease is taken over and a live one waited for; a runner whose lease was taken
//! records nothing; one that fails gives the lease back. MIGRATE_TEST_GALERA_URLS names the
//! nodes (comma-separated URLs).

use crate::common;

use std::time::Duration;

use common::servers::{query_url, query_url_after};
use common::{guest, TestProject};

/// One database of its own on the cluster, as a URL per node; dropped at the end.
struct ClusterDb {
    urls: Vec<String>,
    admin: String,
    name: String,
}

impl ClusterDb {
    fn create() -> Option<ClusterDb> {
        let Some(nodes) = std::env::var("MIGRATE_TEST_GALERA_URLS")
            .ok()
            .filter(|s| !s.is_empty())
        else {
            if std::env::var_os("MIGRATE_TEST_SERVERS_REQUIRED").is_some() {
                panic!(
                    "MIGRATE_TEST_GALERA_URLS is not set, and MIGRATE_TEST_SERVERS_REQUIRED says the servers are \
                     required (scripts/test starts the cluster with scripts/galera)"
                );
            }
            eprintln!(
                "SKIPPED: MIGRATE_TEST_GALERA_URLS is not set, so this Galera test does not run"
            );
            return None;
        };
        let nodes: Vec<String> = nodes.split(',').map(str::to_string).collect();
        let mut bytes = [0u8; 6];
        getrandom::fill(&mut bytes).unwrap();
        let name = format!(
            "migrate_g_{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let admin = nodes[0].clone();
        query_url(&admin, &format!("CREATE DATABASE {name}")).unwrap();
        // The other nodes apply the CREATE asynchronously: a connection to one of them naming
        // the database can come before it (a full local run saw "Unknown database"). Each node is asked
        // after it has applied what the cluster committed, until it has the database.
        for node in &nodes {
            let has_it = || {
                query_url_after(
                    node,
                    &["SET SESSION wsrep_sync_wait = 15"],
                    &format!(
                        "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{name}'"
                    ),
                )
                .is_ok_and(|rows| !rows.is_empty())
            };
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while !has_it() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "node {node} never saw database {name}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let urls = nodes
            .iter()
            .map(|n| format!("{}/{name}", n.rsplit_once('/').unwrap().0))
            .collect();
        Some(ClusterDb { urls, admin, name })
    }

    /// Runs `sql` on one node after it has applied every write the cluster committed before
    /// (Galera applies other nodes' writes asynchronously: without the wait, a row another node
    /// just deleted can still be there, as a CI run once saw).
    fn query(&self, node: usize, sql: &str) -> Vec<Vec<String>> {
        query_url_after(&self.urls[node], &["SET SESSION wsrep_sync_wait = 15"], sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

impl Drop for ClusterDb {
    fn drop(&mut self) {
        let _ = query_url(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {}", self.name),
        );
    }
}

fn chain(p: &TestProject, prefix: &str, revisions: usize) {
    for i in 1..=revisions {
        p.add_revision(
            &format!("{prefix}_{i}"),
            &format!("table {i}"),
            &format!(
                r#"#![no_std]
use migrate_guest_sdk::prelude::*;
fn upgrade() -> Result {{
    op::create_table(Table::new("t{i}").column(Column::new("id", Type::Integer).primary_key()));
    op::add_column("t{i}", Column::new("note", Type::Text));
    Ok(())
}}
fn downgrade() -> Result {{
    op::drop_table("t{i}");
    Ok(())
}}
migrate_guest_sdk::revision!(upgrade, downgrade);
"#
            ),
        );
    }
    p.build();
}

#[test]
fn get_lock_is_per_node_which_is_why_a_lease_is_used() {
    let Some(db) = ClusterDb::create() else {
        return;
    };
    // Evidence for the design: two sessions on two nodes both get the "same" lock.
    sqlx::any::install_default_drivers();
    common::servers::block_on(async {
        use sqlx::{Connection, Row};
        let mut a = sqlx::AnyConnection::connect(&db.urls[0]).await.unwrap();
        let mut b = sqlx::AnyConnection::connect(&db.urls[1]).await.unwrap();
        let take = "SELECT GET_LOCK('migrate-galera-test', 0)";
        let got_a: i64 = sqlx::query(take).fetch_one(&mut a).await.unwrap().get(0);
        let got_b: i64 = sqlx::query(take).fetch_one(&mut b).await.unwrap().get(0);
        assert_eq!(
            (got_a, got_b),
            (1, 1),
            "GET_LOCK held on both nodes at once"
        );
    });
}

#[test]
fn runners_on_three_nodes_apply_each_revision_once() {
    let Some(db) = ClusterDb::create() else {
        return;
    };
    let p = TestProject::init();
    chain(&p, "gl", 6);
    for round in 0..3 {
        let runners: Vec<_> = db
            .urls
            .iter()
            .map(|url| p.spawn_on(url, &["upgrade"]))
            .collect();
        for runner in runners {
            let out = runner.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // Each revision applied exactly once, and the lease given back.
        let applied = db.query(
            1,
            "SELECT revision, CAST(COUNT(*) AS CHAR) FROM migrate_history WHERE direction = 'upgrade' \
             GROUP BY revision ORDER BY revision",
        );
        let expected: Vec<Vec<String>> = (1..=6)
            .map(|i| vec![format!("gl_{i}"), "1".to_string()])
            .collect();
        assert_eq!(applied, expected, "round {round}");
        assert_eq!(
            db.query(2, "SELECT holder FROM migrate_lock"),
            Vec::<Vec<String>>::new()
        );
        if round < 2 {
            p.migrate_on(&db.urls[round])
                .args(["downgrade", "base"])
                .assert()
                .success();
            db.query(0, "DELETE FROM migrate_history");
        }
    }
}

#[test]
fn an_expired_lease_is_taken_over_and_a_live_one_is_waited_for() {
    let Some(db) = ClusterDb::create() else {
        return;
    };
    let p = TestProject::init();
    chain(&p, "gt", 2);
    p.migrate_on(&db.urls[0])
        .args(["upgrade", "gt_1"])
        .assert()
        .success();
    // A runner that died long ago: its lease expired, so the next runner takes it over.
    db.query(
        1,
        "INSERT INTO migrate_lock (name, holder, expires_at, fence) VALUES ('run', 'ghost', NOW(6) - INTERVAL 1 MINUTE, 7)",
    );
    p.migrate_on(&db.urls[2])
        .args(["upgrade", "gt_2"])
        .assert()
        .success();
    assert_eq!(
        db.query(0, "SELECT holder FROM migrate_lock"),
        Vec::<Vec<String>>::new()
    );
    // A live lease: waited for, then given up on, naming the holder.
    db.query(
        0,
        "INSERT INTO migrate_lock (name, holder, expires_at, fence) VALUES ('run', 'busy', NOW(6) + INTERVAL 1 HOUR, 1)",
    );
    std::fs::write(
        p.path().join("short.toml"),
        format!(
            "database_url = {:?}\n[lock]\ntimeout_secs = 1\n",
            db.urls[1]
        ),
    )
    .unwrap();
    p.migrate()
        .args(["--settings", "short.toml", "downgrade", "base"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("held by run busy until"));
    assert_eq!(
        db.query(2, "SELECT revision FROM migrate_version"),
        common::strings(&[&["gt_2"]])
    );
}

#[test]
fn a_runner_whose_lease_was_taken_records_nothing() {
    let Some(db) = ClusterDb::create() else {
        return;
    };
    let p = TestProject::init();
    p.add_revision(
        "gf_1",
        "slow",
        &guest(r#"op::execute("SELECT SLEEP(4)"); op::create_table(Table::new("t").column(Column::new("id", Type::Integer).primary_key())); Ok(())"#),
    );
    p.build();
    let runner = p.spawn_on(&db.urls[0], &["upgrade"]);
    // While it sleeps, another runner takes the lease over (as after an expiry), on another node.
    let mut taken = false;
    for _ in 0..60 {
        std::thread::sleep(Duration::from_millis(100));
        if !db
            .query(1, "SELECT holder FROM migrate_lock WHERE name = 'run'")
            .is_empty()
        {
            std::thread::sleep(Duration::from_millis(500));
            db.query(
                1,
                "UPDATE migrate_lock SET holder = 'thief', fence = fence + 1 WHERE name = 'run'",
            );
            taken = true;
            break;
        }
    }
    assert!(taken, "the runner never took the lease");
    let out = runner.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("another migrate run took it over"), "{err}");
    // Nothing recorded: the version table does not name the revision.
    assert_eq!(
        db.query(2, "SELECT revision FROM migrate_version"),
        Vec::<Vec<String>>::new()
    );
}

#[test]
fn a_runner_that_fails_gives_its_lease_back_at_once() {
    let Some(db) = ClusterDb::create() else {
        return;
    };
    let p = TestProject::init();
    p.add_revision(
        "gb_1",
        "fails",
        &guest(r#"op::execute("SELECT no_such_function()"); Ok(())"#),
    );
    p.build();
    let out = p.migrate_on(&db.urls[0]).arg("upgrade").output().unwrap();
    let err = common::stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("no_such_function"), "{err}");
    // The lease is gone at once, not left for the next runner to wait out (120 s).
    assert_eq!(
        db.query(1, "SELECT holder FROM migrate_lock"),
        Vec::<Vec<String>>::new()
    );
}
