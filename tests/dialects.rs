//! The same revisions on PostgreSQL and MariaDB/MySQL, for real: each test in a database of
//! its own, schema read back from the server's catalog, rows checked after each move.

use crate::common;

use common::servers::{Server, ServerDb};
use common::{strings, TestProject};
use predicates::str::contains;

macro_rules! on_each_server {
    ($($test:ident),* $(,)?) => {
        mod postgres {
            $(#[test] fn $test() { super::$test(super::Server::Postgres) })*
        }
        mod mysql {
            $(#[test] fn $test() { super::$test(super::Server::Mysql) })*
        }
    };
}

on_each_server!(
    shipped_chain_upgrades_and_downgrades,
    every_op_upgrades_and_downgrades,
    awkward_names_and_values_are_quoted,
    offline_sql_is_accepted_by_the_server,
    failing_revision_is_rolled_back_or_marked,
    concurrent_runners_apply_each_revision_once,
);

fn shipped_chain_upgrades_and_downgrades(server: Server) {
    let Some(db) = ServerDb::create(server) else {
        return;
    };
    let p = TestProject::shipped_chain();
    p.build();
    p.migrate_on(&db.url).arg("upgrade").assert().success();
    assert_eq!(db.user_tables(), ["role", "roles_users", "user"]);
    let user = db.columns("user");
    let (integer, boolean, timestamp) = match server {
        Server::Postgres => ("integer", "boolean", "timestamp without time zone"),
        Server::Mysql => ("int(11)", "tinyint(1)", "datetime(6)"),
    };
    let varchar = "character varying(255)";
    let varchar = if server == Server::Mysql {
        "varchar(255)"
    } else {
        varchar
    };
    let expected: Vec<Vec<String>> = [
        ("id", integer, "NO"),
        ("email", varchar, "YES"),
        ("password", varchar, "NO"),
        ("active", boolean, "YES"),
        ("confirmed_at", timestamp, "YES"),
        ("current_login_at", timestamp, "YES"),
        ("current_login_ip", varchar, "YES"),
        ("last_login_at", timestamp, "YES"),
        ("last_login_ip", varchar, "YES"),
        ("login_count", integer, "YES"),
    ]
    .iter()
    .map(|(n, t, null)| vec![n.to_string(), t.to_string(), null.to_string()])
    .collect();
    let got: Vec<Vec<String>> = user.iter().map(|c| c[..3].to_vec()).collect();
    assert_eq!(got, expected);
    let fks: Vec<Vec<String>> = db
        .foreign_keys("roles_users")
        .iter()
        .map(|r| r[1..4].to_vec())
        .collect();
    assert_eq!(
        fks,
        strings(&[&["role_id", "role", "id"], &["user_id", "user", "id"]])
    );

    let user_table = if server == Server::Mysql {
        "`user`"
    } else {
        "\"user\""
    };
    db.query("INSERT INTO role (id, name) VALUES (1, 'admin')");
    db.query(&format!("INSERT INTO {user_table} (id, email, password, login_count) VALUES (7, 'ada@example.com', 'x', 3)"));
    db.query("INSERT INTO roles_users VALUES (7, 1)");
    p.migrate_on(&db.url)
        .args(["downgrade", "cf0f5b45967"])
        .assert()
        .success();
    assert_eq!(
        db.column_names("user"),
        ["id", "email", "password", "active", "confirmed_at"]
    );
    assert_eq!(
        db.query(&format!("SELECT email FROM {user_table}")),
        strings(&[&["ada@example.com"]])
    );
    assert_eq!(
        db.query("SELECT COUNT(*) FROM roles_users"),
        strings(&[&["1"]])
    );
    db.query("DELETE FROM roles_users");
    p.migrate_on(&db.url)
        .args(["downgrade", "base"])
        .assert()
        .success();
    assert_eq!(db.tables(), db.version_tables());
    p.migrate_on(&db.url).arg("upgrade").assert().success();
    p.migrate_on(&db.url)
        .arg("current")
        .assert()
        .success()
        .stdout(contains("20f04b9598da (head)"));
}

fn every_op_upgrades_and_downgrades(server: Server) {
    let Some(db) = ServerDb::create(server) else {
        return;
    };
    let p = TestProject::with_every_op();
    p.migrate_on(&db.url)
        .args(["upgrade", "allops_1"])
        .assert()
        .success();
    let at_first = db.schema_dump();
    let types: Vec<String> = db
        .columns("every_type")
        .iter()
        .map(|c| c[1].clone())
        .collect();
    let expected_types: &[&str] = match server {
        Server::Postgres => &[
            "bigint",
            "integer",
            "smallint",
            "boolean",
            "text",
            "character varying(20)",
            "real",
            "double precision",
            "numeric(10,2)",
            "date",
            "time without time zone",
            "timestamp without time zone",
            "timestamp with time zone",
            "bytea",
            "jsonb",
            "uuid",
        ],
        Server::Mysql => &[
            "bigint(20)",
            "int(11)",
            "smallint(6)",
            "tinyint(1)",
            "text",
            "varchar(20)",
            "float",
            "double",
            "decimal(10,2)",
            "date",
            "time(6)",
            "datetime(6)",
            "datetime(6)",
            "longblob",
            "longtext",
            "char(36)",
        ],
    };
    assert_eq!(types, expected_types);
    let cells = match server {
        Server::Postgres => "SELECT c_integer::text, c_boolean::text, c_text, encode(c_blob, 'hex'), c_uuid::text, c_json::text FROM every_type",
        Server::Mysql => "SELECT CAST(c_integer AS CHAR), CAST(c_boolean AS CHAR), c_text, lower(hex(c_blob)), c_uuid, c_json FROM every_type",
    };
    // Both servers print this JSON back the same way.
    let json = "{\"a\": 1}";
    let boolean = if server == Server::Postgres {
        "false"
    } else {
        "0"
    };
    assert_eq!(
        db.query(cells),
        strings(&[&[
            "7",
            boolean,
            "it's",
            "00ff",
            "0b7e5f6c-1d2a-4c1e-9d35-2f1f0a4b9e11",
            json
        ]])
    );
    let book_fk = db.foreign_keys("book");
    assert_eq!(
        book_fk,
        strings(&[&["fk_book_author", "author_id", "author", "id", "CASCADE"]])
    );
    let book_constraints: Vec<String> = db
        .constraints("book")
        .iter()
        .map(|c| c[0].clone())
        .collect();
    assert!(
        book_constraints.contains(&"ck_book_price".to_string()),
        "{book_constraints:?}"
    );
    assert!(
        book_constraints.contains(&"uq_book_author_title".to_string()),
        "{book_constraints:?}"
    );
    assert!(db
        .indexes("author")
        .iter()
        .any(|i| i[0] == "ix_author_email" && i[2] == "1"));

    p.migrate_on(&db.url).arg("upgrade").assert().success();
    let author: Vec<Vec<String>> = db
        .columns("author")
        .iter()
        .map(|c| c[..3].to_vec())
        .collect();
    let (int, vc200, vc255, text) = match server {
        Server::Postgres => (
            "integer",
            "character varying(200)",
            "character varying(255)",
            "text",
        ),
        Server::Mysql => ("int(11)", "varchar(200)", "varchar(255)", "text"),
    };
    assert_eq!(
        author,
        strings(&[
            &["id", int, "NO"],
            &["name", vc200, "NO"],
            &["email", vc255, "NO"],
            &["biography", text, "YES"],
            &["rating", int, "NO"]
        ])
    );
    assert_eq!(
        db.query("SELECT name FROM author ORDER BY id"),
        strings(&[&["Ada"], &["Flann O'Brien"]])
    );
    let author_constraints: Vec<String> = db
        .constraints("author")
        .iter()
        .map(|c| c[0].clone())
        .collect();
    assert!(
        author_constraints.contains(&"uq_author_name".to_string()),
        "{author_constraints:?}"
    );
    assert!(
        author_constraints.contains(&"ck_author_rating".to_string()),
        "{author_constraints:?}"
    );
    assert!(db
        .try_query("INSERT INTO author (id, name, email, rating) VALUES (9, 'x', 'x@x', 11)")
        .is_err());
    let book_constraints: Vec<String> = db
        .constraints("book")
        .iter()
        .map(|c| c[0].clone())
        .collect();
    assert!(
        !book_constraints.contains(&"ck_book_price".to_string()),
        "{book_constraints:?}"
    );
    assert!(!db.tables().contains(&"tag_link".to_string()));
    assert_eq!(db.query("SELECT tag FROM book_tag"), strings(&[&["math"]]));
    assert_eq!(
        db.foreign_keys("book_tag"),
        strings(&[&["fk_book_tag_book", "book_id", "book", "id", "CASCADE"]])
    );
    assert!(!db
        .column_names("every_type")
        .contains(&"c_json".to_string()));
    assert!(db
        .constraints("session")
        .iter()
        .any(|c| c[1] == "PRIMARY KEY"));
    let comment = match server {
        Server::Postgres => "SELECT col_description('author'::regclass, 4)",
        Server::Mysql => "SELECT column_comment FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'author' AND column_name = 'biography'",
    };
    assert_eq!(db.query(comment), strings(&[&["free text"]]));

    p.migrate_on(&db.url)
        .args(["downgrade", "allops_1"])
        .assert()
        .success();
    assert_eq!(
        db.schema_dump(),
        at_first,
        "downgrading to allops_1 restores its schema exactly"
    );
    assert_eq!(db.query("SELECT COUNT(*) FROM book"), strings(&[&["2"]]));
    p.migrate_on(&db.url)
        .args(["downgrade", "base"])
        .assert()
        .success();
    assert_eq!(db.tables(), db.version_tables());
}

const AWKWARD: &str = r#"
#![no_std]
use migrate_guest_sdk::prelude::*;
fn upgrade() -> Result {
    op::create_table(
        Table::new("order")
            .column(Column::new("id", Type::Integer).primary_key())
            .column(Column::new("we\"ird `name'", Type::Varchar(100)).default_value("it's \\ \"quoted\"")),
    );
    op::create_table(Table::new("user").column(Column::new("select", Type::Integer)));
    op::create_index(Index::new("index", "order", ["we\"ird `name'"]));
    op::bulk_insert("order", &["id", "we\"ird `name'"], vec![vec![1.into(), "O'Brien \\ \"x\" `y` ; DROP TABLE user; --".into()]]);
    op::bulk_insert("order", &["id"], vec![vec![2.into()]]);
    Ok(())
}
fn downgrade() -> Result {
    op::drop_table("user");
    op::drop_table("order");
    Ok(())
}
migrate_guest_sdk::revision!(upgrade, downgrade);
"#;

fn awkward_names_and_values_are_quoted(server: Server) {
    let Some(db) = ServerDb::create(server) else {
        return;
    };
    let p = TestProject::init();
    p.add_revision("awkward_1", "awkward names", AWKWARD);
    p.build();
    p.migrate_on(&db.url).arg("upgrade").assert().success();
    assert_eq!(db.user_tables(), ["order", "user"]);
    assert_eq!(db.column_names("order"), ["id", "we\"ird `name'"]);
    let column = match server {
        Server::Postgres => "\"we\"\"ird `name'\"",
        Server::Mysql => "`we\"ird ``name'`",
    };
    let table = if server == Server::Postgres {
        "\"order\""
    } else {
        "`order`"
    };
    assert_eq!(
        db.query(&format!("SELECT {column} FROM {table} ORDER BY id")),
        strings(&[
            &["O'Brien \\ \"x\" `y` ; DROP TABLE user; --"],
            &["it's \\ \"quoted\""]
        ])
    );
    p.migrate_on(&db.url)
        .args(["downgrade", "base"])
        .assert()
        .success();
    assert_eq!(db.tables(), db.version_tables());
}

fn offline_sql_is_accepted_by_the_server(server: Server) {
    let Some(online) = ServerDb::create(server) else {
        return;
    };
    let Some(printed) = ServerDb::create(server) else {
        return;
    };
    let p = TestProject::shipped_chain();
    p.build();
    std::fs::remove_file(p.path().join("migrate.toml")).unwrap();
    let dialect = if server == Server::Postgres {
        "postgresql"
    } else {
        "mysql"
    };
    let out = p
        .migrate()
        .args(["upgrade", "--sql", "--dialect", dialect])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let sql = common::stdout(&out);
    printed.run_script(&sql);
    p.migrate_on(&online.url).arg("upgrade").assert().success();
    assert_eq!(printed.schema_dump(), online.schema_dump());
    assert_eq!(
        printed.query("SELECT revision FROM migrate_version"),
        strings(&[&["20f04b9598da"]])
    );
    // And back down, offline too.
    let out = p
        .migrate()
        .args(["downgrade", "--sql", "--dialect", dialect, "head:base"])
        .output()
        .unwrap();
    printed.run_script(&common::stdout(&out));
    assert_eq!(printed.tables(), printed.version_tables());
}

const FAILING: &str = include_str!("fixtures/halfway.rs");

const THING: &str = include_str!("fixtures/thing.rs");

fn failing_revision_is_rolled_back_or_marked(server: Server) {
    let Some(db) = ServerDb::create(server) else {
        return;
    };
    let p = TestProject::init();
    p.add_revision("failing_1", "thing", THING);
    p.add_revision("failing_2", "breaks halfway", FAILING);
    p.build();
    p.migrate_on(&db.url)
        .args(["upgrade", "failing_1"])
        .assert()
        .success();
    let before = db.schema_dump();
    let out = p.migrate_on(&db.url).arg("upgrade").output().unwrap();
    assert!(!out.status.success());
    let err = common::stderr(&out);
    assert!(
        err.contains("revision failing_2") && err.contains("CREATE TABLE broken ("),
        "{err}"
    );
    match server {
        Server::Postgres => {
            assert!(err.contains("rolled back"), "{err}");
            assert_eq!(
                db.schema_dump(),
                before,
                "PostgreSQL rolls the whole revision back"
            );
            assert_eq!(
                db.query("SELECT revision FROM migrate_version"),
                strings(&[&["failing_1"]])
            );
            p.migrate_on(&db.url)
                .arg("upgrade")
                .assert()
                .failure()
                .stderr(contains("CREATE TABLE broken ("));
        }
        Server::Mysql => {
            // DDL committed as it ran: `fresh` and `thing.extra` exist, `never` does not, and the
            // revision is marked failed with the statement that failed.
            assert!(
                err.contains("marked failed") && err.contains("migrate resolve failing_2"),
                "{err}"
            );
            assert!(db.tables().contains(&"fresh".to_string()));
            assert!(!db.tables().contains(&"never".to_string()));
            assert_eq!(
                db.query("SELECT revision FROM migrate_version"),
                strings(&[&["failing_1"]])
            );
            // Every later run refuses, naming the revision and the statement, and the way out.
            for verb in [&["upgrade"][..], &["downgrade", "base"], &["stamp", "head"]] {
                p.migrate_on(&db.url)
                    .args(verb)
                    .assert()
                    .failure()
                    .stderr(contains("partly migrated"))
                    .stderr(contains("failing_2"))
                    .stderr(contains("CREATE TABLE broken ("))
                    .stderr(contains("migrate resolve failing_2 --applied"));
            }
            // Undo by hand, say so, and the database is consistent again at failing_1.
            db.query("DROP TABLE fresh");
            db.query("ALTER TABLE thing DROP COLUMN extra");
            p.migrate_on(&db.url)
                .args(["resolve", "failing_2", "--rolled-back"])
                .assert()
                .success();
            assert_eq!(db.schema_dump(), before);
            p.migrate_on(&db.url)
                .args(["downgrade", "base"])
                .assert()
                .success();
            p.migrate_on(&db.url)
                .args(["upgrade", "failing_1"])
                .assert()
                .success();
            // Or complete it by hand and record it as applied.
            p.migrate_on(&db.url).arg("upgrade").assert().failure();
            db.query("CREATE TABLE broken (id INT)");
            db.query("CREATE TABLE never (id INT)");
            p.migrate_on(&db.url)
                .args(["resolve", "failing_2", "--applied"])
                .assert()
                .success();
            assert_eq!(
                db.query("SELECT revision FROM migrate_version"),
                strings(&[&["failing_2"]])
            );
            p.migrate_on(&db.url)
                .arg("upgrade")
                .assert()
                .success()
                .stderr(contains("Nothing to do"));
        }
    }
}

fn concurrent_runners_apply_each_revision_once(server: Server) {
    let Some(db) = ServerDb::create(server) else {
        return;
    };
    let p = TestProject::shipped_chain();
    p.build();
    let binary = assert_cmd::cargo::cargo_bin("migrate");
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(&binary)
                .current_dir(p.path())
                .env("DATABASE_URL", &db.url)
                .arg("upgrade")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", common::stderr(&out));
    }
    assert_eq!(
        db.query(
            "SELECT revision, COUNT(*) FROM migrate_history GROUP BY revision ORDER BY revision"
        ),
        strings(&[&["20f04b9598da", "1"], &["cf0f5b45967", "1"]])
    );
    assert_eq!(
        db.query("SELECT revision FROM migrate_version"),
        strings(&[&["20f04b9598da"]])
    );
}
