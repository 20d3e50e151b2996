//! The repository's own chain (the seed's Flask-Diamond revisions) through the real binary on
//! real SQLite files: build, upgrade, downgrade with rows kept, and `--sql` offline.

use crate::common;

use common::TestProject;
use predicates::str::contains;

const LOGIN_COLUMNS: [&str; 5] = [
    "current_login_at",
    "current_login_ip",
    "last_login_at",
    "last_login_ip",
    "login_count",
];

#[test]
fn upgrade_creates_the_tables_and_downgrade_keeps_rows() {
    let p = TestProject::shipped_chain();
    p.build();
    p.migrate()
        .arg("upgrade")
        .assert()
        .success()
        .stderr(contains("Done: the database is at 20f04b9598da"));

    assert_eq!(
        p.tables(),
        [
            "migrate_history",
            "migrate_version",
            "role",
            "roles_users",
            "user"
        ]
    );
    assert_eq!(p.heads(), ["20f04b9598da"]);
    let user = p.columns("user");
    let expected = [
        ["id", "INTEGER", "1", "NULL", "1"],
        ["email", "VARCHAR(255)", "0", "NULL", "0"],
        ["password", "VARCHAR(255)", "1", "NULL", "0"],
        ["active", "BOOLEAN", "0", "NULL", "0"],
        ["confirmed_at", "TIMESTAMP", "0", "NULL", "0"],
        ["current_login_at", "TIMESTAMP", "0", "NULL", "0"],
        ["current_login_ip", "VARCHAR(255)", "0", "NULL", "0"],
        ["last_login_at", "TIMESTAMP", "0", "NULL", "0"],
        ["last_login_ip", "VARCHAR(255)", "0", "NULL", "0"],
        ["login_count", "INTEGER", "0", "NULL", "0"],
    ];
    assert_eq!(
        user,
        expected.map(|r| r.map(String::from).to_vec()).to_vec()
    );
    // role.name and user.email are unique; roles_users points at both tables.
    let unique_indexes = p.query(
        "SELECT m.name, ii.name FROM sqlite_master m, pragma_index_list(m.name) il, pragma_index_info(il.name) ii \
         WHERE m.type = 'table' AND il.\"unique\" = 1 AND il.origin = 'u' ORDER BY m.name",
    );
    assert_eq!(
        unique_indexes,
        vec![
            vec!["role".to_string(), "name".into()],
            vec!["user".into(), "email".into()]
        ]
    );
    let fks = p.query("SELECT \"from\", \"table\", \"to\" FROM pragma_foreign_key_list('roles_users') ORDER BY \"from\"");
    assert_eq!(
        fks,
        vec![vec!["role_id", "role", "id"], vec!["user_id", "user", "id"]]
    );

    // Rows written at head survive the downgrade that drops the five columns.
    p.query("INSERT INTO role (id, name) VALUES (1, 'admin')");
    p.query("INSERT INTO user (id, email, password, active, login_count) VALUES (7, 'ada@example.com', 'x', 1, 3)");
    p.query("INSERT INTO roles_users VALUES (7, 1)");
    p.migrate()
        .args(["downgrade", "cf0f5b45967"])
        .assert()
        .success();
    assert_eq!(p.heads(), ["cf0f5b45967"]);
    let columns = p.column_names("user");
    for gone in LOGIN_COLUMNS {
        assert!(
            !columns.contains(&gone.to_string()),
            "{gone} should be dropped: {columns:?}"
        );
    }
    assert_eq!(
        p.query("SELECT id, email, active FROM user"),
        vec![vec!["7", "ada@example.com", "1"]]
    );
    assert_eq!(
        p.query("SELECT user_id, role_id FROM roles_users"),
        vec![vec!["7", "1"]]
    );

    p.query("DELETE FROM roles_users");
    p.migrate().args(["downgrade", "base"]).assert().success();
    assert_eq!(p.tables(), ["migrate_history", "migrate_version"]);
    assert!(p.heads().is_empty());

    // History keeps every move, with checksums.
    let history =
        p.query("SELECT revision, direction, length(checksum) FROM migrate_history ORDER BY seq");
    let moves: Vec<(String, String)> = history
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(
        moves,
        [
            ("cf0f5b45967", "upgrade"),
            ("20f04b9598da", "upgrade"),
            ("20f04b9598da", "downgrade"),
            ("cf0f5b45967", "downgrade")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert!(history.iter().all(|r| r[2] == "64"));

    // And back up again: rerunning works.
    p.migrate().arg("upgrade").assert().success();
    assert_eq!(p.heads(), ["20f04b9598da"]);
}

#[test]
fn upgrade_sql_prints_both_revisions_without_a_database() {
    let p = TestProject::shipped_chain();
    p.build();
    std::fs::remove_file(p.path().join("migrate.toml")).unwrap();
    let out = p.migrate().args(["upgrade", "--sql"]).output().unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let sql = common::stdout(&out);
    assert!(
        !p.db_path().exists(),
        "--sql must not create or touch a database"
    );
    for expected in [
        "CREATE TABLE IF NOT EXISTS \"migrate_version\"",
        "CREATE TABLE \"role\" (\n    \"id\" INTEGER NOT NULL PRIMARY KEY,\n    \"name\" VARCHAR(80) UNIQUE,",
        "CREATE TABLE \"roles_users\"",
        "FOREIGN KEY (\"user_id\") REFERENCES \"user\" (\"id\")",
        "ALTER TABLE \"user\" ADD COLUMN \"login_count\" INTEGER;",
        "INSERT INTO \"migrate_version\" (\"revision\") VALUES ('cf0f5b45967');",
        "UPDATE \"migrate_version\" SET \"revision\" = '20f04b9598da' WHERE \"revision\" = 'cf0f5b45967';",
    ] {
        assert!(sql.contains(expected), "missing {expected:?} in:\n{sql}");
    }
    assert_eq!(sql.matches("BEGIN;").count(), 2);
    assert_eq!(sql.matches("COMMIT;").count(), 2);

    // The printed script is exactly what runs: fed to SQLite, it yields the same schema as `upgrade`.
    let printed = tempfile::tempdir().unwrap();
    let printed_db = printed.path().join("printed.db");
    run_script(&printed_db, &sql);
    std::fs::write(
        p.path().join("migrate.toml"),
        "database_url = \"sqlite://app.db\"\n",
    )
    .unwrap();
    p.migrate().arg("upgrade").assert().success();
    let schema = "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name";
    assert_eq!(common::query_sqlite(&printed_db, schema), p.query(schema));

    // A range prints only the second revision; downgrade prints the reverse.
    let range = p
        .migrate()
        .args(["upgrade", "--sql", "cf0f5b45967:head"])
        .output()
        .unwrap();
    let range = common::stdout(&range);
    assert!(!range.contains("CREATE TABLE \"role\""));
    assert!(range.contains("ADD COLUMN \"current_login_at\""));
    let down = p
        .migrate()
        .args(["downgrade", "--sql", "head:base"])
        .output()
        .unwrap();
    let down = common::stdout(&down);
    assert!(
        down.find("DROP COLUMN \"login_count\"").unwrap()
            < down.find("DROP TABLE \"role\"").unwrap()
    );
}

/// Runs a multi-statement script the way the `sqlite3` shell would.
fn run_script(path: &std::path::Path, sql: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use sqlx::Connection;
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut conn)
            .await
            .unwrap();
    });
}

#[test]
fn inspection_verbs_need_no_wasm_run() {
    let p = TestProject::shipped_chain();
    // Not built: heads and history read only metadata.
    p.migrate()
        .arg("heads")
        .assert()
        .success()
        .stdout("20f04b9598da (head), update to flask-diamond 0.2.0\n");
    p.migrate().arg("history").assert().success().stdout(
        "cf0f5b45967 -> 20f04b9598da (head), update to flask-diamond 0.2.0\nbase -> cf0f5b45967, basic user and role\n",
    );
    // A read-only command creates no database.
    p.migrate()
        .arg("current")
        .assert()
        .failure()
        .stderr(contains("app.db does not exist"));
    assert!(!p.db_path().exists());
    // Upgrading an unbuilt chain says what to do.
    p.migrate()
        .arg("upgrade")
        .assert()
        .failure()
        .stderr(contains("not built"))
        .stderr(contains("migrate build"));
    p.build();
    p.migrate().args(["upgrade", "+1"]).assert().success();
    p.migrate()
        .arg("current")
        .assert()
        .success()
        .stdout("cf0f5b45967, basic user and role\n");
    p.migrate()
        .args(["show", "20f"])
        .assert()
        .success()
        .stdout(contains("Revises: cf0f5b45967"))
        .stdout(contains("add_column \"user\".\"login_count\""))
        .stdout(contains("drop_column \"user\".\"current_login_at\""));
    p.migrate().args(["stamp", "head"]).assert().success();
    p.migrate()
        .arg("current")
        .assert()
        .success()
        .stdout("20f04b9598da (head), update to flask-diamond 0.2.0\n");
    // Stamped, not run: the columns are not there, and history says so.
    assert!(!p.column_names("user").contains(&"login_count".to_string()));
    let last = p.query("SELECT direction FROM migrate_history ORDER BY seq DESC LIMIT 1");
    assert_eq!(last, vec![vec!["stamp"]]);
    p.migrate().args(["stamp", "base"]).assert().success();
    assert!(p.heads().is_empty());
}

/// A file's steps run on a direct SQLite connection; an in-memory database has no file to open
/// twice, so its steps stay on sqlx's connection, with the same outcome.
#[test]
fn an_in_memory_database_upgrades_on_the_sqlx_connection() {
    let p = TestProject::shipped_chain();
    p.build();
    p.migrate_on("sqlite::memory:")
        .arg("upgrade")
        .assert()
        .success()
        .stderr(contains("Done: the database is at 20f04b9598da"));
    assert!(
        !p.db_path().exists(),
        "nothing was written to the file database"
    );
}

/// A read-only URL is honoured: the direct connection is not used to write behind its back.
#[test]
fn a_read_only_sqlite_url_refuses_the_upgrade() {
    let p = TestProject::shipped_chain();
    p.build();
    p.migrate().arg("upgrade").arg("+1").assert().success();
    let before = p.heads();
    let url = format!("sqlite://{}?mode=ro", p.db_path().display());
    p.migrate_on(&url)
        .arg("upgrade")
        .assert()
        .failure()
        .stderr(contains("readonly"));
    assert_eq!(p.heads(), before);
}
