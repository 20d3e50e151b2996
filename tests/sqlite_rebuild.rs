//! SQLite changes that ALTER TABLE cannot make are done by rebuilding the table: every row,
//! index, trigger, view and child row kept, foreign keys checked, one rebuild per run of ops.

use crate::common;

use common::{strings, TestProject};
use predicates::str::contains;

fn project() -> TestProject {
    let p = TestProject::init();
    p.add_revision(
        "rebuild_1",
        "setup",
        include_str!("fixtures/rebuild_1_setup.rs"),
    );
    p.add_revision(
        "rebuild_2",
        "alter",
        include_str!("fixtures/rebuild_2_alter.rs"),
    );
    p.build();
    p
}

fn object_names(p: &TestProject) -> Vec<Vec<String>> {
    p.query("SELECT type, name FROM sqlite_master WHERE type IN ('index', 'trigger', 'view') AND sql IS NOT NULL ORDER BY name")
}

#[test]
fn rebuild_keeps_rows_indexes_triggers_views_and_children() {
    let p = project();
    p.migrate()
        .args(["upgrade", "rebuild_1"])
        .assert()
        .success();
    let objects = object_names(&p);
    assert_eq!(
        objects,
        strings(&[
            &["index", "ix_parent_score"],
            &["trigger", "parent_audit"],
            &["view", "parent_names"]
        ])
    );

    p.migrate().arg("upgrade").assert().success();
    assert_eq!(
        p.columns("parent"),
        strings(&[
            &["id", "INTEGER", "1", "NULL", "1"],
            &["title", "VARCHAR(50)", "1", "NULL", "0"],
            &["score", "BIGINT", "1", "0", "0"],
            &["rank", "INTEGER", "1", "1", "0"],
        ])
    );
    assert_eq!(
        p.query("SELECT COUNT(*), SUM(score), MIN(title) FROM parent"),
        strings(&[&["50", "12750", "p1"]])
    );
    assert_eq!(
        p.query("SELECT COUNT(*) FROM child"),
        strings(&[&["100"]]),
        "no ON DELETE CASCADE fired"
    );
    assert_eq!(
        object_names(&p),
        objects,
        "index, trigger and view are all still there"
    );
    assert!(p.query("PRAGMA foreign_key_check").is_empty());
    assert_eq!(p.query("PRAGMA foreign_keys"), strings(&[&["1"]]));
    // The trigger fired for the 50 rows of the setup, not for the rebuild's copy, and still
    // works on the new table (its NEW.name followed the rename to NEW.title).
    assert_eq!(p.query("SELECT COUNT(*) FROM audit"), strings(&[&["50"]]));
    p.query("INSERT INTO parent (id, title, score) VALUES (51, 'p51', 5)");
    assert_eq!(
        p.query("SELECT note FROM audit WHERE rowid = 51"),
        strings(&[&["new p51"]])
    );
    assert_eq!(
        p.query("SELECT COUNT(*) FROM parent_names"),
        strings(&[&["51"]])
    );
    let sql = p.query("SELECT sql FROM sqlite_master WHERE name = 'parent'")[0][0].clone();
    assert!(
        sql.contains("CONSTRAINT \"uq_parent_title\" UNIQUE (\"title\")")
            && !sql.contains("uq_parent_name"),
        "{sql}"
    );
    assert!(
        sql.contains("CONSTRAINT \"ck_parent_score\" CHECK (score >= 0)"),
        "{sql}"
    );

    // And back: every change undone, rows and children kept.
    p.query("DELETE FROM parent WHERE id = 51");
    p.migrate()
        .args(["downgrade", "rebuild_1"])
        .assert()
        .success();
    assert_eq!(
        p.columns("parent"),
        strings(&[
            &["id", "INTEGER", "1", "NULL", "1"],
            &["name", "VARCHAR(50)", "1", "NULL", "0"],
            &["score", "INTEGER", "0", "NULL", "0"]
        ])
    );
    assert_eq!(p.query("SELECT COUNT(*) FROM child"), strings(&[&["100"]]));
    assert_eq!(object_names(&p), objects);
    p.migrate().args(["downgrade", "base"]).assert().success();
    assert_eq!(p.tables(), ["migrate_history", "migrate_version"]);
}

#[test]
fn a_run_of_changes_to_one_table_is_one_rebuild() {
    let p = project();
    let out = p
        .migrate()
        .args(["upgrade", "--sql", "rebuild_1:rebuild_2"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let sql = common::stdout(&out);
    assert_eq!(
        sql.matches("CREATE TABLE \"_migrate_rebuild_parent\"")
            .count(),
        1,
        "{sql}"
    );
    assert_eq!(sql.matches("PRAGMA foreign_keys = OFF;").count(), 1);
    // Offline, the trigger and view come from the revisions' own `execute` statements.
    assert!(sql.contains("DROP VIEW \"parent_names\";"), "{sql}");
    assert!(
        sql.contains("CREATE TRIGGER parent_audit AFTER INSERT ON parent"),
        "{sql}"
    );
    assert!(
        sql.contains("CREATE VIEW parent_names AS SELECT name FROM parent;"),
        "{sql}"
    );
    assert!(
        sql.contains("SELECT \"id\", \"name\", CAST(\"score\" AS BIGINT) FROM \"parent\""),
        "{sql}"
    );
}

#[test]
fn printed_rebuild_runs_unchanged_in_the_sqlite3_shell() {
    let p = project();
    let out = p.migrate().args(["upgrade", "--sql"]).output().unwrap();
    let sql = common::stdout(&out);
    let shell = std::process::Command::new("sqlite3")
        .arg(p.path().join("shell.db"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut shell) = shell else {
        panic!("the sqlite3 shell is needed for this test (scripts/test installs it: apt-get install sqlite3)");
    };
    use std::io::Write;
    shell
        .stdin
        .take()
        .unwrap()
        .write_all(format!(".bail on\n{sql}").as_bytes())
        .unwrap();
    let done = shell.wait_with_output().unwrap();
    assert!(
        done.status.success(),
        "sqlite3 refused the script: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    let shell_db = p.path().join("shell.db");
    let rows = common::query_sqlite(&shell_db, "SELECT COUNT(*), SUM(score) FROM parent");
    assert_eq!(rows, strings(&[&["50", "12750"]]));
    assert_eq!(
        common::query_sqlite(&shell_db, "SELECT COUNT(*) FROM child"),
        strings(&[&["100"]])
    );
    let objects = common::query_sqlite(
        &shell_db,
        "SELECT name FROM sqlite_master WHERE type IN ('trigger', 'view') ORDER BY name",
    );
    assert_eq!(objects, strings(&[&["parent_audit"], &["parent_names"]]));
}

#[test]
fn a_rebuild_that_breaks_a_reference_fails_and_rolls_back() {
    let p = project();
    p.add_revision(
        "rebuild_3",
        "orphans",
        r#"
#![no_std]
use migrate_guest_sdk::prelude::*;
fn upgrade() -> Result {
    op::alter_column(AlterColumn::new("parent", "rank").set_type(Type::Smallint));
    op::execute("DELETE FROM parent WHERE id <= 2");
    Ok(())
}
fn downgrade() -> Result { Ok(()) }
migrate_guest_sdk::revision!(upgrade, downgrade);
"#,
    );
    p.build();
    p.migrate()
        .args(["upgrade", "rebuild_2"])
        .assert()
        .success();
    let before = p.snapshot();
    p.migrate()
        .arg("upgrade")
        .assert()
        .failure()
        .stderr(contains("revision rebuild_3"))
        .stderr(contains("PRAGMA foreign_key_check"))
        .stderr(contains("child"))
        .stderr(contains("rolled back"));
    assert_eq!(p.snapshot(), before);
    assert_eq!(p.query("SELECT COUNT(*) FROM parent"), strings(&[&["50"]]));
    assert_eq!(p.query("PRAGMA foreign_keys"), strings(&[&["1"]]));
}

#[test]
fn objects_made_by_hand_are_kept_too() {
    let p = project();
    p.migrate()
        .args(["upgrade", "rebuild_1"])
        .assert()
        .success();
    // Made outside any revision: only the database knows them.
    p.query("CREATE INDEX ix_by_hand ON parent (name, score)");
    p.query("CREATE TRIGGER by_hand AFTER DELETE ON parent BEGIN INSERT INTO audit (note) VALUES ('gone'); END");
    p.migrate().arg("upgrade").assert().success();
    let names: Vec<String> = object_names(&p).into_iter().map(|r| r[1].clone()).collect();
    assert!(
        names.contains(&"ix_by_hand".to_string()) && names.contains(&"by_hand".to_string()),
        "{names:?}"
    );
}

#[test]
fn keys_and_indexed_columns_are_rebuilt_with_children_kept() {
    let p = TestProject::init();
    p.add_revision(
        "rebuild_1",
        "setup",
        include_str!("fixtures/rebuild_1_setup.rs"),
    );
    p.add_revision(
        "rebuild_keys",
        "keys",
        include_str!("fixtures/rebuild_keys.rs"),
    );
    p.build();
    p.migrate().arg("upgrade").assert().success();
    assert_eq!(p.column_names("parent"), ["id", "name"]);
    let names: Vec<String> = object_names(&p).into_iter().map(|r| r[1].clone()).collect();
    assert_eq!(
        names,
        ["parent_audit", "parent_names"],
        "the index on the dropped column went with it"
    );
    assert_eq!(p.query("SELECT COUNT(*) FROM parent"), strings(&[&["50"]]));
    assert_eq!(
        p.query("SELECT COUNT(*) FROM child"),
        strings(&[&["100"]]),
        "no cascade fired"
    );
    let fk = p.query("SELECT \"table\", on_delete FROM pragma_foreign_key_list('child')");
    assert_eq!(fk, strings(&[&["parent", "CASCADE"]]));
    assert!(
        p.query("SELECT sql FROM sqlite_master WHERE name = 'child'")[0][0]
            .contains("fk_child_parent_2")
    );
    assert_eq!(
        p.query("SELECT name, pk FROM pragma_table_info('keyed') ORDER BY cid"),
        strings(&[&["k", "1"], &["v", "2"]])
    );
    assert_eq!(p.query("SELECT COUNT(*) FROM keyed"), strings(&[&["2"]]));
    assert!(p.query("PRAGMA foreign_key_check").is_empty());
    // The foreign key still cascades after its rebuild.
    p.query("DELETE FROM parent WHERE id = 1");
    assert_eq!(p.query("SELECT COUNT(*) FROM child"), strings(&[&["98"]]));

    p.migrate()
        .args(["downgrade", "rebuild_1"])
        .assert()
        .success();
    assert_eq!(p.column_names("parent"), ["id", "name", "score"]);
    assert!(
        p.query("SELECT sql FROM sqlite_master WHERE name = 'child'")[0][0]
            .contains("\"fk_child_parent\"")
    );
    assert_eq!(p.query("SELECT COUNT(*) FROM child"), strings(&[&["98"]]));
    assert_eq!(object_names(&p).len(), 3);
}

/// A check that uses a dropped column goes with it (as in PostgreSQL), and one that uses a
/// renamed column follows the rename, so a later rebuild still creates the table.
#[test]
fn checks_follow_dropped_and_renamed_columns_through_rebuilds() {
    let p = TestProject::init();
    p.add_revision(
        "chk_1",
        "checks",
        r#"#![no_std]
use migrate_guest_sdk::prelude::*;
fn upgrade() -> Result {
    op::create_table(
        Table::new("item")
            .column(Column::new("id", Type::Integer).primary_key())
            .column(Column::new("price", Type::Integer))
            .column(Column::new("stock", Type::Integer))
            .column(Column::new("label", Type::Text))
            .constraint(Constraint::check("price >= 0").named("ck_price"))
            .constraint(Constraint::check("stock >= 0 AND label <> 'price'").named("ck_stock")),
    );
    op::execute("INSERT INTO item VALUES (1, 5, 2, 'a')");
    Ok(())
}
fn downgrade() -> Result { op::drop_table("item"); Ok(()) }
migrate_guest_sdk::revision!(upgrade, downgrade);
"#,
    );
    p.add_revision(
        "chk_2",
        "drop and rename",
        r#"#![no_std]
use migrate_guest_sdk::prelude::*;
fn upgrade() -> Result {
    op::drop_column("item", "price");
    op::alter_column(AlterColumn::new("item", "stock").rename_to("quantity"));
    // A type change: SQLite rebuilds the table from the model.
    op::alter_column(AlterColumn::new("item", "label").set_type(Type::Varchar(20)));
    Ok(())
}
fn downgrade() -> Result { Ok(()) }
migrate_guest_sdk::revision!(upgrade, downgrade);
"#,
    );
    p.build();
    p.migrate().arg("upgrade").assert().success();
    let sql = p.query("SELECT sql FROM sqlite_master WHERE name = 'item'")[0][0].clone();
    assert!(!sql.contains("ck_price"), "{sql}");
    assert!(
        sql.contains("\"quantity\" >= 0") && sql.contains("<> 'price'"),
        "{sql}"
    );
    assert_eq!(
        p.query("SELECT id, quantity, label FROM item"),
        strings(&[&["1", "2", "a"]])
    );
    // The check still holds.
    assert!(
        common::try_query_sqlite(&p.db_path(), "INSERT INTO item VALUES (2, -1, 'b')").is_err()
    );
}
