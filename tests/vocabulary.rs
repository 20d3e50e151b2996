//! Parts of the schema vocabulary (issue 14) that protect real databases: MySQL's key-length
//! limit checked before any SQL, MariaDB keeping a timestamp default's precision, PostgreSQL's
//! DETAIL and HINT shown with a failing statement, and the autoincrement rule said as it is.

use crate::common;

use common::servers::{Server, ServerDb};
use common::{strings, TestProject};

fn keys_project() -> TestProject {
    let p = TestProject::init();
    p.add_revision(
        "vk_table",
        "wide columns",
        &common::guest(
            r#"op::create_table(Table::new("wide")
                .column(Column::new("id", Type::Integer).primary_key())
                .column(Column::new("a", Type::Varchar(500)))
                .column(Column::new("b", Type::Varchar(400)))
                .column(Column::new("long_code", Type::Varchar(1000)).unique()));
            Ok(())"#,
        ),
    );
    p.add_revision(
        "vk_index",
        "an index too wide for MySQL",
        &common::guest(
            r#"op::add_column("wide", Column::new("added_first", Type::Integer));
            op::create_index(Index::new("ix_wide_a_b", "wide", ["a", "b"]));
            Ok(())"#,
        ),
    );
    p.build();
    p
}

#[test]
fn a_key_too_long_for_mysql_is_refused_before_any_sql() {
    let Some(db) = ServerDb::create(Server::Mysql) else {
        return;
    };
    let p = keys_project();
    let out = p.migrate_on(&db.url).arg("upgrade").output().unwrap();
    let err = common::stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("revision vk_index"), "{err}");
    assert!(err.contains("index \"ix_wide_a_b\""), "{err}");
    assert!(
        err.contains("(a, b)") && err.contains("3600") && err.contains("3072"),
        "{err}"
    );
    // Refused before its first statement ran: MySQL could not have rolled that back.
    assert_eq!(
        db.query("SELECT revision FROM migrate_version"),
        strings(&[&["vk_table"]])
    );
    assert!(!db.column_names("wide").contains(&"added_first".to_string()));
    // A unique key that long is MariaDB's to make (USING HASH): the first revision ran.
    assert!(db
        .indexes("wide")
        .iter()
        .any(|i| i[1] == "long_code" && i[2] == "1"));
    // Offline the same refusal.
    let out = p
        .migrate()
        .args(["upgrade", "--sql", "--dialect", "mysql"])
        .output()
        .unwrap();
    assert!(common::stderr(&out).contains("ix_wide_a_b"));
    assert!(!out.status.success());
}

#[test]
fn mariadb_keeps_the_precision_of_a_timestamp_default_set_later() {
    let Some(db) = ServerDb::create(Server::Mysql) else {
        return;
    };
    let p = TestProject::init();
    p.add_revision(
        "vt_table",
        "a timestamp",
        &common::guest(
            r#"op::create_table(Table::new("stamped")
                .column(Column::new("id", Type::Integer).primary_key())
                .column(Column::new("at", Type::Timestamp))
                .column(Column::new("made", Type::Timestamp).default_expression("CURRENT_TIMESTAMP")));
            Ok(())"#,
        ),
    );
    p.add_revision(
        "vt_default",
        "a default for it",
        &common::guest(
            r#"op::alter_column(AlterColumn::new("stamped", "at").default_expression("CURRENT_TIMESTAMP"));
            Ok(())"#,
        ),
    );
    p.build();
    p.migrate_on(&db.url).arg("upgrade").assert().success();
    let defaults = db.query(
        "SELECT column_name, column_default FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name = 'stamped' AND column_name <> 'id' ORDER BY 1",
    );
    assert_eq!(
        defaults,
        strings(&[
            &["at", "current_timestamp(6)"],
            &["made", "current_timestamp(6)"]
        ])
    );
}

#[test]
fn postgresql_says_which_row_broke_a_constraint() {
    let Some(db) = ServerDb::create(Server::Postgres) else {
        return;
    };
    let p = TestProject::init();
    p.add_revision(
        "vd_rows",
        "rows with a duplicate",
        &common::guest(
            r#"op::create_table(Table::new("account")
                .column(Column::new("id", Type::Integer).primary_key())
                .column(Column::new("email", Type::Varchar(100))));
            op::bulk_insert("account", &["id", "email"],
                vec![vec![1.into(), "a@example.com".into()], vec![2.into(), "a@example.com".into()]]);
            op::create_unique_constraint("account", "uq_account_email", ["email"]);
            Ok(())"#,
        ),
    );
    p.build();
    let out = p.migrate_on(&db.url).arg("upgrade").output().unwrap();
    let err = common::stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("uq_account_email"), "{err}");
    assert!(
        err.contains("DETAIL: Key (email)=(a@example.com) is duplicated."),
        "{err}"
    );
    assert_eq!(db.user_tables(), Vec::<String>::new());
}

#[test]
fn the_autoincrement_rule_is_said_as_it_is() {
    let p = TestProject::init();
    p.add_revision(
        "va_table",
        "an autoincrement column in a key of two",
        &common::guest(
            r#"op::create_table(Table::new("counter")
                .column(Column::new("id", Type::Integer).not_null().autoincrement())
                .column(Column::new("shard", Type::Integer).not_null())
                .constraint(Constraint::primary_key(["id", "shard"])));
            Ok(())"#,
        ),
    );
    p.build();
    let out = p.migrate().arg("upgrade").output().unwrap();
    let err = common::stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("revision va_table"), "{err}");
    assert!(
        err.contains("autoincrement needs the column to be the whole primary key"),
        "{err}"
    );
}

const NAMED_KEY: &str = r#"op::create_table(Table::new("counter")
    .column(Column::new("id", Type::Integer).not_null().autoincrement())
    .column(Column::new("label", Type::Text))
    .constraint(Constraint::primary_key(["id"]).named("pk_counter")));
op::create_table(Table::new("tally")
    .column(Column::new("id", Type::Bigint).primary_key().autoincrement())
    .column(Column::new("label", Type::Text)));
op::bulk_insert("counter", &["label"], vec![vec!["a".into()], vec!["b".into()]]);
Ok(())"#;

/// The key of an autoincrement column named (by the revision, or by the convention), on each
/// database: the name is the database's, and ids still come by themselves.
fn named_key_on(url: Option<&str>) -> (TestProject, Vec<Vec<String>>) {
    let p = TestProject::init();
    let settings = std::fs::read_to_string(p.path().join("migrate.toml")).unwrap();
    std::fs::write(
        p.path().join("migrate.toml"),
        format!("{settings}\n[naming_convention]\npk = \"pk_%(table_name)s\"\n"),
    )
    .unwrap();
    p.add_revision("vn_keys", "named keys", &common::guest(NAMED_KEY));
    p.build();
    let mut cmd = match url {
        Some(url) => p.migrate_on(url),
        None => p.migrate(),
    };
    cmd.arg("upgrade").assert().success();
    let ids = match url {
        None => p.query("SELECT id, label FROM counter ORDER BY id"),
        Some(url) => common::servers::query_url(
            url,
            "SELECT CAST(id AS CHAR(10)), label FROM counter ORDER BY id",
        )
        .or_else(|_| {
            common::servers::query_url(
                url,
                "SELECT CAST(id AS TEXT), label FROM counter ORDER BY id",
            )
        })
        .unwrap(),
    };
    (p, ids)
}

#[test]
fn a_named_key_on_an_autoincrement_column_on_sqlite() {
    let (p, ids) = named_key_on(None);
    assert_eq!(ids, strings(&[&["1", "a"], &["2", "b"]]));
    let ddl =
        p.query("SELECT sql FROM sqlite_master WHERE name IN ('counter', 'tally') ORDER BY name");
    assert!(
        ddl[0][0]
            .contains(r#""id" INTEGER NOT NULL CONSTRAINT "pk_counter" PRIMARY KEY AUTOINCREMENT"#),
        "{ddl:?}"
    );
    assert!(
        ddl[1][0]
            .contains(r#""id" INTEGER NOT NULL CONSTRAINT "pk_tally" PRIMARY KEY AUTOINCREMENT"#),
        "{ddl:?}"
    );
}

#[test]
fn a_named_key_on_an_autoincrement_column_on_postgresql() {
    let Some(db) = ServerDb::create(Server::Postgres) else {
        return;
    };
    let (p, ids) = named_key_on(Some(&db.url));
    assert_eq!(ids, strings(&[&["1", "a"], &["2", "b"]]));
    // Read back from the catalog, the keys and their names are the model's.
    std::fs::write(
        p.path().join("schema.sql"),
        "CREATE TABLE counter (id INTEGER GENERATED BY DEFAULT AS IDENTITY, label TEXT, \
         CONSTRAINT pk_counter PRIMARY KEY (id));\n\
         CREATE TABLE tally (id BIGINT NOT NULL CONSTRAINT pk_tally PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, \
         label TEXT);\n",
    )
    .unwrap();
    p.migrate_on(&db.url)
        .args(["check", "--database"])
        .assert()
        .code(0);
    let keys = db.query(
        "SELECT conrelid::regclass::text, conname::text FROM pg_constraint WHERE contype = 'p' \
         AND conrelid::regclass::text IN ('counter', 'tally') ORDER BY 1",
    );
    assert_eq!(
        keys,
        strings(&[&["counter", "pk_counter"], &["tally", "pk_tally"]])
    );
    let identity = db.query(
        "SELECT attrelid::regclass::text, attidentity::text FROM pg_attribute WHERE attname = 'id' \
         AND attrelid::regclass::text IN ('counter', 'tally') ORDER BY 1",
    );
    assert_eq!(identity, strings(&[&["counter", "d"], &["tally", "d"]]));
}

#[test]
fn a_named_key_on_an_autoincrement_column_on_mariadb() {
    let Some(db) = ServerDb::create(Server::Mysql) else {
        return;
    };
    let (_p, ids) = named_key_on(Some(&db.url));
    assert_eq!(ids, strings(&[&["1", "a"], &["2", "b"]]));
    // MySQL names every primary key PRIMARY; the column keeps AUTO_INCREMENT.
    let extra = db.query(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_KEY AS CHAR), CAST(EXTRA AS CHAR) FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND COLUMN_NAME = 'id' AND TABLE_NAME IN ('counter', 'tally') ORDER BY 1",
    );
    assert_eq!(
        extra,
        strings(&[
            &["counter", "PRI", "auto_increment"],
            &["tally", "PRI", "auto_increment"]
        ])
    );
}

#[test]
fn dropping_a_table_others_refer_to_names_them() {
    let p = TestProject::init();
    p.add_revision(
        "vr_tables",
        "a team and its members",
        &common::guest(
            r#"op::create_table(Table::new("team").column(Column::new("id", Type::Integer).primary_key()));
            op::create_table(Table::new("member")
                .column(Column::new("id", Type::Integer).primary_key())
                .column(Column::new("team_id", Type::Integer))
                .constraint(ForeignKey::new(["team_id"], "team", ["id"])));
            Ok(())"#,
        ),
    );
    p.add_revision(
        "vr_drop",
        "drops the team table",
        &common::guest(r#"op::drop_table("team"); Ok(())"#),
    );
    p.build();
    let out = p.migrate().arg("upgrade").output().unwrap();
    let err = common::stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("revision vr_drop"), "{err}");
    assert!(err.contains("member(team_id)"), "{err}");
    assert_eq!(p.heads(), vec!["vr_tables"]);
    assert!(p.tables().contains(&"team".to_string()));
}

const CONVENTION: &str = r#"database_url = "sqlite://app.db"
[naming_convention]
fk = "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"
uq = "uq_%(table_name)s_%(column_0_N_name)s"
ck = "ck_%(table_name)s_%(column_0_name)s"
"#;

fn convention_project() -> TestProject {
    let p = TestProject::init();
    p.add_revision(
        "vn_tables",
        "unnamed keys and checks",
        &common::guest(
            r#"op::create_table(Table::new("team").column(Column::new("id", Type::Integer).primary_key()));
            op::create_table(Table::new("member")
                .column(Column::new("id", Type::Integer).primary_key())
                .column(Column::new("team_id", Type::Integer))
                .column(Column::new("email", Type::Varchar(100)).unique())
                .column(Column::new("age", Type::Integer))
                .constraint(ForeignKey::new(["team_id"], "team", ["id"]))
                .constraint(Constraint::check("age >= 0")));
            Ok(())"#,
        ),
    );
    p.add_revision(
        "vn_drop",
        "drops them by columns",
        &common::guest(
            r#"op::drop_foreign_key_on("member", &["team_id"]);
            op::drop_unique_on("member", &["email"]);
            // Made without a name: the convention names them, on every database.
            op::create_unique("member", ["team_id", "age"]);
            op::create_check("member", "team_id > 0");
            Ok(())"#,
        ),
    );
    std::fs::write(p.path().join("migrate.toml"), CONVENTION).unwrap();
    p.build();
    p
}

const CONVENTION_NAMES: [&str; 3] = ["ck_member_age", "fk_member_team_id_team", "uq_member_email"];

#[test]
fn a_naming_convention_names_unnamed_constraints_on_sqlite_and_offline() {
    let p = convention_project();
    p.migrate()
        .args(["upgrade", "vn_tables"])
        .assert()
        .success();
    let sql = p.query("SELECT sql FROM sqlite_master WHERE name = 'member'")[0][0].clone();
    for name in CONVENTION_NAMES {
        assert!(sql.contains(name), "{name}: {sql}");
    }
    p.migrate().arg("upgrade").assert().success();
    let sql = p.query("SELECT sql FROM sqlite_master WHERE name = 'member'")[0][0].clone();
    assert!(
        sql.contains("uq_member_team_id_age") && sql.contains("ck_member_team_id"),
        "{sql}"
    );
    // Offline, MySQL's names are now known: the convention's.
    let out = p
        .migrate()
        .args(["upgrade", "--sql", "--dialect", "mysql"])
        .output()
        .unwrap();
    let sql = common::stdout(&out);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(
        sql.contains("DROP FOREIGN KEY `fk_member_team_id_team`"),
        "{sql}"
    );
    assert!(sql.contains("DROP INDEX `uq_member_email`"), "{sql}");
}

fn convention_on(server: Server) {
    let Some(db) = ServerDb::create(server) else {
        return;
    };
    let p = convention_project();
    p.migrate_on(&db.url)
        .args(["upgrade", "vn_tables"])
        .assert()
        .success();
    let names: Vec<String> = db
        .constraints("member")
        .into_iter()
        .map(|c| c[0].clone())
        .filter(|n| !n.contains("pkey") && n != "PRIMARY" && !n.contains("not_null"))
        .collect();
    assert_eq!(names, CONVENTION_NAMES.to_vec(), "{server:?}");
    p.migrate_on(&db.url).arg("upgrade").assert().success();
    assert_eq!(db.foreign_keys("member"), Vec::<Vec<String>>::new());
    let names: Vec<String> = db
        .constraints("member")
        .into_iter()
        .map(|c| c[0].clone())
        .filter(|n| n.starts_with("uq_") || n.starts_with("ck_"))
        .collect();
    assert_eq!(
        names,
        vec![
            "ck_member_age",
            "ck_member_team_id",
            "uq_member_team_id_age"
        ],
        "{server:?}"
    );
}

#[test]
fn a_naming_convention_names_unnamed_constraints_on_postgresql() {
    convention_on(Server::Postgres);
}

#[test]
fn a_naming_convention_names_unnamed_constraints_on_mariadb() {
    convention_on(Server::Mysql);
}

#[test]
fn widening_an_indexed_column_past_mysqls_key_limit_is_refused() {
    let p = TestProject::init();
    p.add_revision(
        "vw_table",
        "an indexed column",
        &common::guest(
            r#"op::create_table(Table::new("doc")
                .column(Column::new("id", Type::Integer).primary_key())
                .column(Column::new("title", Type::Varchar(100))));
            op::create_index(Index::new("ix_doc_title", "doc", ["title"]));
            Ok(())"#,
        ),
    );
    p.add_revision(
        "vw_widen",
        "a longer title",
        &common::guest(
            r#"op::alter_column(AlterColumn::new("doc", "title").set_type(Type::Varchar(1000)));
            Ok(())"#,
        ),
    );
    p.build();
    let out = p
        .migrate()
        .args(["upgrade", "--sql", "--dialect", "mariadb"])
        .output()
        .unwrap();
    let err = common::stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("revision vw_widen"), "{err}");
    assert!(
        err.contains("index \"ix_doc_title\"") && err.contains("4000"),
        "{err}"
    );
    // The other databases have no such limit.
    p.migrate()
        .args(["upgrade", "--sql", "--dialect", "postgresql"])
        .assert()
        .success();
}
