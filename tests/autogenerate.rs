//! `migrate new --autogenerate` and `migrate check`, through the real binary: revisions written
//! from a model file, built without edits, run on SQLite, PostgreSQL and MariaDB; the schema
//! compared with the model offline and by reading the database's catalog.

use crate::common;

use common::servers::{Server, ServerDb};
use common::{stdout, TestProject};
use predicates::str::contains;

const MODEL_A: &str = "
CREATE TABLE author (
    id INTEGER PRIMARY KEY,
    name VARCHAR(80) NOT NULL,
    bio TEXT,
    born DATE
);
CREATE TABLE tag (id INTEGER PRIMARY KEY, label VARCHAR(20) NOT NULL DEFAULT 'new');
CREATE INDEX ix_author_name ON author (name);
";

/// A: a new table with a foreign key, a column dropped and two added, a type and a
/// nullability changed, a unique index added.
const MODEL_B: &str = "
CREATE TABLE author (
    id INTEGER PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    born DATE,
    email VARCHAR(255),
    rating INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE tag (id INTEGER PRIMARY KEY, label VARCHAR(20) DEFAULT 'new');
CREATE TABLE book (
    id INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL,
    title TEXT NOT NULL,
    CONSTRAINT fk_book_author FOREIGN KEY (author_id) REFERENCES author (id) ON DELETE CASCADE
);
CREATE INDEX ix_author_name ON author (name);
CREATE UNIQUE INDEX ux_author_email ON author (email);
";

fn write_model(p: &TestProject, name: &str, sql: &str) {
    std::fs::write(p.path().join(name), sql).unwrap();
}

fn autogenerate(p: &TestProject, url: &str, id: &str, message: &str) {
    p.migrate_on(url)
        .args(["new", "--autogenerate", "--rev-id", id, "-m", message])
        .assert()
        .success()
        .stdout(contains(format!("Created revision {id}")));
}

/// `check` (offline) and `check --database` both pass against `model`.
fn assert_matches(p: &TestProject, url: &str, model: &str) {
    p.migrate_on(url)
        .args(["check", "--model", model])
        .assert()
        .code(0)
        .stdout(contains("matches the model"));
    p.migrate_on(url)
        .args(["check", "--database", "--model", model])
        .assert()
        .code(0)
        .stdout(contains("matches the model"));
}

/// Runs a statement on the database under test, rows as text.
type Query<'a> = dyn Fn(&str) -> Vec<Vec<String>> + 'a;

/// A database under test: where it is, how to run a statement, and its columns as the catalog
/// lists them (table, column, type, nullable), sorted.
struct Target<'a> {
    url: String,
    tag: &'a str,
    run: Box<Query<'a>>,
    columns: Box<dyn Fn() -> Vec<Vec<String>> + 'a>,
}

/// The round trip of the issue, on one database.
fn round_trip(t: Target) {
    let url = t.url.as_str();
    let p = TestProject::init();
    write_model(&p, "a.sql", MODEL_A);
    write_model(&p, "b.sql", MODEL_B);
    write_model(&p, "schema.sql", MODEL_A);
    let (rev_a, rev_b) = (format!("ag_{}_a", t.tag), format!("ag_{}_b", t.tag));

    autogenerate(&p, url, &rev_a, "model a");
    p.build();
    p.migrate_on(url).arg("upgrade").assert().success();
    assert_matches(&p, url, "a.sql");
    p.migrate_on(url)
        .args(["check", "--database", "--model", "b.sql"])
        .assert()
        .code(1)
        .stdout(contains("op::create_table"));
    p.migrate_on(url)
        .args(["new", "--autogenerate", "-m", "nothing"])
        .assert()
        .success()
        .stdout(contains("No changes"));

    (t.run)("INSERT INTO author (id, name, bio, born) VALUES (1, 'Ursula', 'wrote', '1929-10-21')");
    let before = (t.columns)();
    assert!(before.len() >= 6, "{before:?}");

    write_model(&p, "schema.sql", MODEL_B);
    autogenerate(&p, url, &rev_b, "model b");
    p.build();
    p.migrate_on(url).arg("upgrade").assert().success();
    assert_matches(&p, url, "b.sql");
    assert_eq!(
        (t.run)("SELECT id, name, rating FROM author"),
        [["1", "Ursula", "0"]],
        "the row survives, with the new column's default"
    );
    assert_ne!((t.columns)(), before);

    p.migrate_on(url)
        .args(["downgrade", "-1"])
        .assert()
        .success();
    p.migrate_on(url)
        .args(["check", "--database", "--model", "a.sql"])
        .assert()
        .code(0);
    assert_eq!((t.columns)(), before, "the database is model A again");
    assert_eq!((t.run)("SELECT id, name FROM author"), [["1", "Ursula"]]);
}

#[test]
fn round_trip_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rt.db");
    round_trip(Target {
        url: format!("sqlite://{}", db.display()),
        tag: "lite",
        run: Box::new(|sql| common::query_sqlite(&db, sql)),
        columns: Box::new(|| {
            common::query_sqlite(
                &db,
                "SELECT m.name, p.name, p.type, CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 THEN 'NO' ELSE 'YES' END \
                 FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'migrate_%' ORDER BY 1, 2",
            )
        }),
    });
}

#[test]
fn round_trip_on_postgres() {
    round_trip_on_server(
        Server::Postgres,
        "pg",
        "SELECT table_name::text, column_name::text, format_type(a.atttypid, a.atttypmod), is_nullable::text \
         FROM information_schema.columns c JOIN pg_attribute a ON a.attrelid = quote_ident(c.table_name)::regclass \
         AND a.attname = c.column_name \
         WHERE table_schema = current_schema() AND table_name NOT LIKE 'migrate_%' ORDER BY 1, 2",
    );
}

#[test]
fn round_trip_on_mysql() {
    round_trip_on_server(
        Server::Mysql,
        "my",
        "SELECT table_name, column_name, column_type, is_nullable FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name NOT LIKE 'migrate_%' ORDER BY 1, 2",
    );
}

/// The round trip on a database of its own on `server`; `columns` lists its columns.
fn round_trip_on_server(server: Server, tag: &str, columns: &str) {
    let Some(db) = ServerDb::create(server) else {
        return;
    };
    round_trip(Target {
        url: db.url.clone(),
        tag,
        run: Box::new(|sql| run_on_server(&db, sql)),
        columns: Box::new(|| db.query(columns)),
    });
}

fn run_on_server(db: &ServerDb, sql: &str) -> Vec<Vec<String>> {
    if sql.starts_with("SELECT") {
        db.query(sql)
    } else {
        db.run_script(sql);
        vec![]
    }
}

/// The seed's model reproduces the shipped revisions' recorded ops exactly: same checksum,
/// same downgrade.
#[test]
fn the_flask_diamond_model_reproduces_the_shipped_revisions() {
    let shipped = TestProject::shipped_chain();
    shipped.build();
    let generated = TestProject::init();
    let model = |version: &str| {
        std::fs::read_to_string(
            common::repo_root().join(format!("examples/flask-diamond/model/{version}.sql")),
        )
        .unwrap()
    };
    for (version, shipped_id, id) in [
        ("v0.1", "cf0f5b45967", "fd_gen_base"),
        ("v0.2", "20f04b9598da", "fd_gen_login"),
    ] {
        write_model(&generated, "schema.sql", &model(version));
        generated
            .migrate()
            .args(["new", "--autogenerate", "--rev-id", id, "-m", version])
            .assert()
            .success();
        generated.build();
        let ops = |p: &TestProject, id: &str| {
            let out = stdout(&p.migrate().args(["show", id]).output().unwrap());
            out.split_once("upgrade() records")
                .unwrap_or_else(|| panic!("no ops in {out}"))
                .1
                .to_string()
        };
        let (want, got) = (ops(&shipped, shipped_id), ops(&generated, id));
        assert_eq!(
            got, want,
            "{version}: generated ops differ from {shipped_id}'s"
        );
        assert!(got.contains("Checksum: "), "{got}");
    }
    generated.migrate().arg("check").assert().code(0);
}

/// The shipped chain, built, with the Flask-Diamond 0.2 model (which it matches) as schema.sql.
fn flask_diamond_at_v02() -> TestProject {
    let p = TestProject::shipped_chain();
    write_model(
        &p,
        "schema.sql",
        include_str!("../examples/flask-diamond/model/v0.2.sql"),
    );
    p.build();
    p
}

/// Hand-made drift in a live database is caught by `check --database` and nowhere else.
#[test]
fn check_database_catches_a_column_added_by_hand() {
    let p = flask_diamond_at_v02();
    p.migrate().arg("upgrade").assert().success();
    p.migrate().args(["check", "--database"]).assert().code(0);
    common::query_sqlite(
        &p.db_path(),
        "ALTER TABLE user ADD COLUMN nickname VARCHAR(40)",
    );
    p.migrate()
        .args(["check", "--database"])
        .assert()
        .code(1)
        .stdout(contains("differs from the model"))
        .stdout(contains(r#"op::drop_column("user", "nickname");"#));
    // The revisions themselves still match the model: only the database drifted.
    p.migrate().arg("check").assert().code(0);
}

#[test]
fn check_database_catches_drift_on_servers() {
    for server in [Server::Postgres, Server::Mysql] {
        let Some(db) = ServerDb::create(server) else {
            continue;
        };
        let p = flask_diamond_at_v02();
        p.migrate_on(&db.url).arg("upgrade").assert().success();
        p.migrate_on(&db.url)
            .args(["check", "--database"])
            .assert()
            .code(0);
        let user = match server {
            Server::Postgres => "\"user\"",
            Server::Mysql => "`user`",
        };
        db.run_script(&format!(
            "ALTER TABLE {user} ADD COLUMN nickname VARCHAR(40)"
        ));
        p.migrate_on(&db.url)
            .args(["check", "--database"])
            .assert()
            .code(1)
            .stdout(contains(r#"op::drop_column("user", "nickname");"#));
    }
}

#[test]
fn generated_source_reads_like_a_person_wrote_it() {
    let p = TestProject::init();
    write_model(&p, "schema.sql", MODEL_A);
    p.migrate()
        .args([
            "new",
            "--autogenerate",
            "--rev-id",
            "snap_a",
            "-m",
            "authors and tags",
        ])
        .assert()
        .success();
    p.build();
    write_model(
        &p,
        "schema.sql",
        &MODEL_B.replace("bio TEXT", "biography TEXT").replace(
            "    email VARCHAR(255),",
            "    biography TEXT,\n    email VARCHAR(255),",
        ),
    );
    p.migrate()
        .args(["new", "--autogenerate", "--rev-id", "snap_b", "-m", "books"])
        .assert()
        .success()
        .stderr(contains("--rename author.bio=biography"));
    let source = |id: &str| {
        let text = std::fs::read_to_string(p.revision_dir(id).join("src/lib.rs")).unwrap();
        text.replace(id, "<id>").replace("snap_a", "<parent>")
    };
    insta::assert_snapshot!("generated_first_revision", source("snap_a"));
    insta::assert_snapshot!("generated_second_revision", source("snap_b"));
    // The rename, once named, is a rename instead of a drop and an add.
    std::fs::remove_dir_all(p.revision_dir("snap_b")).unwrap();
    p.migrate()
        .args([
            "new",
            "--autogenerate",
            "--rev-id",
            "snap_c",
            "-m",
            "books",
            "--rename",
            "author.bio=biography",
        ])
        .assert()
        .success();
    let renamed = std::fs::read_to_string(p.revision_dir("snap_c").join("src/lib.rs")).unwrap();
    assert!(renamed.contains(".rename_to(\"biography\")"), "{renamed}");
    assert!(
        !renamed.contains("drop_column(\"author\", \"bio\")"),
        "{renamed}"
    );
    assert!(!renamed.contains("WARNING"), "{renamed}");
    p.build();
}

#[test]
fn bad_models_are_reported_with_file_line_and_column() {
    let p = TestProject::init();
    write_model(
        &p,
        "schema.sql",
        "CREATE TABLE t (\n  id INTEGER,\n  shape GEOMETRY\n);\n",
    );
    p.migrate().arg("check").assert().code(2).stderr(contains(
        "schema.sql:3:3: column \"shape\": type `GEOMETRY` has no portable equivalent",
    ));
    p.migrate()
        .args(["new", "--autogenerate", "-m", "x"])
        .assert()
        .failure()
        .stderr(contains("schema.sql:3:3"));
    assert_eq!(
        std::fs::read_dir(p.migrations().join("versions"))
            .unwrap()
            .count(),
        0,
        "nothing written"
    );
    p.migrate()
        .args(["check", "--model", "missing.sql"])
        .assert()
        .code(2)
        .stderr(contains("cannot read the model missing.sql"));
    p.migrate()
        .args(["new", "-m", "x", "--rename", "a=b"])
        .assert()
        .failure()
        .stderr(contains("go with --autogenerate"));
}

const RICH_A: &str = "
CREATE TABLE account (
    id SERIAL PRIMARY KEY,
    email VARCHAR(120) NOT NULL CONSTRAINT uq_account_email UNIQUE,
    balance NUMERIC(12, 2) DEFAULT 0.5,
    big BIGINT DEFAULT 3000000000,
    note TEXT DEFAULT 'it''s \"quoted\" ünïcode',
    active BOOLEAN DEFAULT TRUE,
    created TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    score DOUBLE PRECISION DEFAULT -1.5,
    CONSTRAINT ck_balance CHECK (balance >= 0)
);
CREATE TABLE membership (
    account_id INTEGER NOT NULL,
    team VARCHAR(40) NOT NULL,
    PRIMARY KEY (account_id, team),
    CONSTRAINT fk_membership_account FOREIGN KEY (account_id) REFERENCES account (id)
        ON DELETE CASCADE ON UPDATE RESTRICT
);
CREATE INDEX ix_membership_team ON membership (team);
";

/// Constraints of every kind dropped and added by name, defaults changed and dropped, a
/// foreign key's action changed, an index swapped for a unique one.
const RICH_B: &str = "
CREATE TABLE account (
    id SERIAL PRIMARY KEY,
    email VARCHAR(120) NOT NULL,
    balance NUMERIC(12, 2),
    big BIGINT DEFAULT 3000000000,
    note TEXT DEFAULT 'changed',
    active BOOLEAN DEFAULT FALSE,
    created TIMESTAMP,
    score DOUBLE PRECISION DEFAULT -1.5,
    CONSTRAINT ck_email CHECK (email <> '')
);
CREATE TABLE membership (
    account_id INTEGER NOT NULL,
    team VARCHAR(40) NOT NULL,
    PRIMARY KEY (account_id, team),
    CONSTRAINT fk_membership_account FOREIGN KEY (account_id) REFERENCES account (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX ux_account_email ON account (email);
";

/// The generated code records exactly the ops the diff produced (same checksum, same
/// downgrade), for every kind of op autogenerate writes, and the result runs.
#[test]
fn generated_code_records_exactly_the_diffed_ops() {
    use migrate_core::diff::{diff, Compare};
    use migrate_core::model_sql::parse;
    use migrate_core::ops::checksum;

    let p = TestProject::init();
    let mut previous = migrate_core::schema::Schema::default();
    for (id, sql) in [("exact_a", RICH_A), ("exact_b", RICH_B)] {
        write_model(&p, "schema.sql", sql);
        p.migrate()
            .args(["new", "--autogenerate", "--rev-id", id, "-m", id])
            .assert()
            .success();
        p.build();
        let model = parse(sql).unwrap();
        let expected = diff(&previous, &model, &[], Compare::default()).unwrap();
        let shown = stdout(&p.migrate().args(["show", id]).output().unwrap());
        assert!(
            shown.contains(&format!("Checksum: {}", checksum(&expected.upgrade))),
            "{id}: the generated revision records other ops than the diff:\n{shown}\n{:#?}",
            expected.upgrade
        );
        let downgrade = shown.split_once("downgrade() records").unwrap().1;
        for op in &expected.downgrade {
            assert!(
                downgrade.contains(&op.describe()),
                "{id}: {} missing in\n{downgrade}",
                op.describe()
            );
        }
        previous = model;
    }
    p.migrate().arg("upgrade").assert().success();
    p.migrate().args(["check", "--database"]).assert().code(0);
    p.migrate().args(["downgrade", "-1"]).assert().success();
    p.migrate()
        .args(["check", "--database", "--model", "a.sql"])
        .assert()
        .code(2);
    write_model(&p, "a.sql", RICH_A);
    p.migrate()
        .args(["check", "--database", "--model", "a.sql"])
        .assert()
        .code(0);
    p.migrate().args(["downgrade", "base"]).assert().success();
}
