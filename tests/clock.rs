//! The run's start time for revisions that ask (issue 13, part 5): the same value in the rows a
//! revision stamps and in its history row, never cached, and a checksum that stays the same
//! run after run.

use crate::common;

use common::servers::{Server, ServerDb};
use common::{strings, TestProject};
use predicates::str::contains;

const STAMPS: &str = r#"
#![no_std]
use migrate_guest_sdk::prelude::*;
fn upgrade() -> Result {
    op::create_table(
        Table::new("stamped")
            .column(Column::new("id", Type::Integer).primary_key())
            .column(Column::new("at", Type::Timestamp)),
    );
    op::bulk_insert("stamped", &["id", "at"], vec![vec![1.into(), clock::run_started_sql().into()]]);
    Ok(())
}
fn downgrade() -> Result {
    op::drop_table("stamped");
    Ok(())
}
migrate_guest_sdk::revision!(upgrade, downgrade);
"#;

fn project() -> TestProject {
    let p = TestProject::init();
    p.add_revision("ck_stamps", "stamps rows", STAMPS);
    p.build();
    p
}

fn show_checksum(p: &TestProject) -> String {
    let out = p.migrate().args(["show", "ck_stamps"]).output().unwrap();
    common::stdout(&out)
        .lines()
        .find_map(|l| l.strip_prefix("Checksum: ").map(str::to_string))
        .unwrap()
}

/// Upgrades on `url`, then checks the stamped row and the history row hold the same time, and
/// that a later run (another second) still verifies the applied revision.
fn stamps_on(p: &TestProject, url: &str, query: &dyn Fn(&str) -> Vec<Vec<String>>, text: &str) {
    p.migrate_on(url).arg("upgrade").assert().success();
    let stamped = query(&format!("SELECT CAST(at AS {text}) FROM stamped"));
    let history = query(&format!(
        "SELECT CAST(applied_at AS {text}) FROM migrate_history WHERE revision = 'ck_stamps'"
    ));
    assert_eq!(stamped, history);
    assert!(stamped[0][0].starts_with("20"), "{stamped:?}");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    p.migrate_on(url)
        .arg("upgrade")
        .assert()
        .success()
        .stderr(contains("Nothing to do"));
}

#[test]
fn the_run_start_stamps_rows_and_the_history_row_on_sqlite() {
    let p = project();
    let url = format!("sqlite://{}", p.db_path().display());
    stamps_on(&p, &url, &|sql| p.query(sql), "TEXT");
    // The checksum does not move with the clock.
    let first = show_checksum(&p);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(show_checksum(&p), first);
    // Offline too, the statement carries the run's time (never a cached one).
    let a = p.migrate().args(["upgrade", "--sql"]).output().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = p.migrate().args(["upgrade", "--sql"]).output().unwrap();
    assert_ne!(common::stdout(&a), common::stdout(&b));
    assert_eq!(p.query("SELECT COUNT(*) FROM stamped"), strings(&[&["1"]]));
}

#[test]
fn the_run_start_stamps_rows_and_the_history_row_on_postgresql() {
    let Some(db) = ServerDb::create(Server::Postgres) else {
        return;
    };
    stamps_on(&project(), &db.url, &|sql| db.query(sql), "TEXT");
}

#[test]
fn the_run_start_stamps_rows_and_the_history_row_on_mariadb() {
    let Some(db) = ServerDb::create(Server::Mysql) else {
        return;
    };
    stamps_on(&project(), &db.url, &|sql| db.query(sql), "CHAR");
}
