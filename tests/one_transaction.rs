//! `transaction_per_migration = false` (Alembic's default): a whole upgrade is one transaction
//! where DDL is transactional, so a failure in its last revision leaves the database as it was
//! before the run; MySQL/MariaDB still go revision by revision. Also for fleets.

use crate::common;

use common::servers::{query_url, Server, ServerDb};
use common::{query_sqlite, stdout, TestProject};
use predicates::str::contains;

/// ot1 creates t, ot2 alters t.n's type (a table rebuild on SQLite), ot3 creates u.
fn project() -> TestProject {
    let project = TestProject::init();
    let revision = |id: &str, up: &str, down: &str| {
        common::guest_both_ways(up, down, &format!("{id} one transaction"))
    };
    project.add_revision(
        "ot1",
        "t",
        &revision(
            "ot1",
            r#"op::create_table(Table::new("t").column(Column::new("id", Type::Integer).primary_key()).column(Column::new("n", Type::Integer)));"#,
            r#"op::drop_table("t");"#,
        ),
    );
    project.add_revision(
        "ot2",
        "t.n bigint",
        &revision(
            "ot2",
            r#"op::alter_column(AlterColumn::new("t", "n").set_type(Type::Bigint));"#,
            r#"op::alter_column(AlterColumn::new("t", "n").set_type(Type::Integer));"#,
        ),
    );
    project.add_revision(
        "ot3",
        "u",
        &revision(
            "ot3",
            r#"op::create_table(Table::new("u").column(Column::new("id", Type::Integer).primary_key()));"#,
            r#"op::drop_table("u");"#,
        ),
    );
    project.build();
    project
}

fn settings(project: &TestProject, url: &str) {
    std::fs::write(
        project.path().join("migrate.toml"),
        format!("database_url = \"{url}\"\ntransaction_per_migration = false\n"),
    )
    .unwrap();
}

#[test]
fn sqlite_a_failure_in_the_last_revision_takes_the_whole_run_back() {
    let project = project();
    settings(&project, "sqlite://app.db");
    let db = project.db_path();
    std::fs::File::create(&db).unwrap();
    query_sqlite(&db, "CREATE TABLE u (id INTEGER PRIMARY KEY, note TEXT)");
    query_sqlite(&db, "INSERT INTO u VALUES (1, 'hand')");
    project
        .migrate()
        .arg("upgrade")
        .assert()
        .failure()
        .stderr(contains("revision ot3"))
        .stderr(contains("one transaction"))
        .stderr(contains("as it was before the run"));
    // Nothing of ot1 or ot2 stays: no t, no version row.
    assert!(query_sqlite(&db, "SELECT name FROM sqlite_master WHERE name = 't'").is_empty());
    assert!(project.heads().is_empty());
    assert_eq!(query_sqlite(&db, "SELECT note FROM u"), [["hand"]]);
    query_sqlite(&db, "ALTER TABLE u RENAME TO u_hand");
    let output = project
        .migrate()
        .args(["upgrade", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", common::stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["steps"].as_array().unwrap().len(), 3, "{json:#}");
    assert_eq!(project.heads(), ["ot3"]);
    assert_eq!(
        query_sqlite(
            &db,
            "SELECT type FROM pragma_table_info('t') WHERE name = 'n'"
        ),
        [["BIGINT"]]
    );
    // History keeps one row per revision, in order, as a run per revision would.
    assert_eq!(
        query_sqlite(
            &db,
            "SELECT revision FROM migrate_history WHERE direction = 'upgrade' ORDER BY seq"
        ),
        [["ot1"], ["ot2"], ["ot3"]]
    );
    // Down, in one transaction too.
    project
        .migrate()
        .args(["downgrade", "base"])
        .assert()
        .success();
    assert!(project.heads().is_empty());
}

fn pg_heads(url: &str) -> Vec<String> {
    query_url(url, "SELECT revision FROM migrate_version")
        .unwrap()
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
}

#[test]
fn postgresql_rolls_the_whole_run_back_and_mariadb_goes_revision_by_revision() {
    let Some(pg) = ServerDb::create(Server::Postgres) else {
        return;
    };
    let Some(maria) = ServerDb::create(Server::Mysql) else {
        return;
    };
    let project = project();
    for db in [&pg, &maria] {
        db.run_script("CREATE TABLE u (id INTEGER PRIMARY KEY)");
        settings(&project, &db.url);
        project
            .migrate()
            .arg("upgrade")
            .assert()
            .failure()
            .stderr(contains("revision ot3"));
    }
    assert!(pg_heads(&pg.url).is_empty());
    assert!(!pg.tables().contains(&"t".to_string()));
    // MariaDB commits DDL as it runs: ot1 and ot2 stay applied, recorded as such.
    assert_eq!(pg_heads(&maria.url), ["ot2"]);
    pg.run_script("DROP TABLE u");
    settings(&project, &pg.url);
    project.migrate().arg("upgrade").assert().success();
    assert_eq!(pg_heads(&pg.url), ["ot3"]);
}

#[test]
fn a_fleet_target_that_fails_is_left_at_base() {
    let project = project();
    let tenants = project.path().join("tenants");
    std::fs::create_dir(&tenants).unwrap();
    let b = tenants.join("b.db");
    std::fs::File::create(&b).unwrap();
    query_sqlite(&b, "CREATE TABLE u (id INTEGER PRIMARY KEY)");
    std::fs::write(
        project.path().join("fleet.toml"),
        "transaction_per_migration = false\n[fleet]\ndatabases = [\"sqlite://tenants/a.db\", \"sqlite://tenants/b.db\"]\n",
    )
    .unwrap();
    project
        .migrate()
        .args(["--settings", "fleet.toml", "upgrade", "--fleet"])
        .assert()
        .code(1)
        .stdout(contains("b.db"));
    assert_eq!(
        query_sqlite(
            &tenants.join("a.db"),
            "SELECT revision FROM migrate_version"
        ),
        [["ot3"]]
    );
    assert!(query_sqlite(&b, "SELECT revision FROM migrate_version").is_empty());
    assert!(query_sqlite(&b, "SELECT name FROM sqlite_master WHERE name = 't'").is_empty());
}

/// A revision adding an enum value commits before the next one: PostgreSQL lets a new value be
/// used only once it is committed, so the run goes revision by revision, and says so.
#[test]
fn postgresql_a_new_enum_value_is_committed_before_a_later_revision_uses_it() {
    let Some(db) = ServerDb::create(Server::Postgres) else {
        return;
    };
    let project = TestProject::init();
    project.add_revision(
        "ote1",
        "moods",
        &common::guest(
            r#"op::create_table(Table::new("person").column(Column::new("id", Type::Integer).primary_key()).column(Column::new("mood", Type::enumeration("ote_mood", ["sad", "ok"]))));
            Ok(())"#,
        ),
    );
    project.add_revision(
        "ote2",
        "happy",
        &common::guest(r#"op::alter_enum("ote_mood", ["sad", "ok", "happy"]); Ok(())"#),
    );
    project.add_revision(
        "ote3",
        "someone happy",
        &common::guest(
            r#"op::bulk_insert("person", &["id", "mood"], vec![vec![1.into(), "happy".into()]]); Ok(())"#,
        ),
    );
    project.build();
    settings(&project, &db.url);
    project
        .migrate()
        .arg("upgrade")
        .assert()
        .success()
        .stderr(contains("adds an enum value"));
    assert_eq!(
        db.query("SELECT id::text, mood::text FROM person"),
        common::strings(&[&["1", "happy"]])
    );
}
