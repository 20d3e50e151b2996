//! The schema before a revision (issue 13, part 3): a revision that looks at it through the
//! `catalog` interface, and foreign keys and unique constraints made without a name dropped by
//! their columns, online on SQLite, PostgreSQL and MariaDB, and offline where the name is known.

use crate::common;

use common::servers::{Server, ServerDb};
use common::{strings, TestProject};
use predicates::str::contains;

const TABLES: &str = r#"
    op::create_table(Table::new("team").column(Column::new("id", Type::Integer).primary_key()));
    op::create_table(
        Table::new("member")
            .column(Column::new("id", Type::Integer).primary_key())
            .column(Column::new("team_id", Type::Integer))
            .column(Column::new("email", Type::Varchar(100)))
            .column(Column::new("code", Type::Varchar(20)).unique())
            .column(Column::new("nick", Type::Varchar(50)))
            .constraint(ForeignKey::new(["team_id"], "team", ["id"]))
            .constraint(Constraint::unique(["email"]))
            .constraint(Constraint::unique(["nick"]).named("uq_member_nick")),
    );
    op::bulk_insert("team", &["id"], vec![vec![1.into()]]);
    op::bulk_insert("member", &["id", "team_id", "email", "code", "nick"],
        vec![vec![1.into(), 1.into(), "a@example.com".into(), "A1".into(), "ada".into()]]);
    Ok(())"#;

/// Writes what it sees of `member`'s keys into `seen`: names as the database gave them online.
const LOOK: &str = r#"
    op::create_table(Table::new("seen").column(Column::new("what", Type::Varchar(200))));
    let member = catalog::table("member").ok_or("no table member")?;
    let mut rows: Vec<String> = member.foreign_keys()
        .map(|fk| format!("fk {} {}", fk.name().unwrap_or("-"), fk.columns().join(",")))
        .collect();
    for (name, columns) in member.unique_constraints() {
        rows.push(format!("unique {} {}", name.unwrap_or("-"), columns.join(",")));
    }
    rows.sort();
    if catalog::table("nowhere").is_some() || !catalog::table_names().contains(&"team".to_string()) {
        return Err("the catalog is wrong".into());
    }
    op::bulk_insert("seen", &["what"], rows.into_iter().map(|r| vec![r.into()]).collect());
    Ok(())"#;

const DROP_NAMED: &str = r#"
    op::drop_unique_on("member", &["nick"]);
    Ok(())"#;

const DROP_UNNAMED: &str = r#"
    op::drop_foreign_key_on("member", &["team_id"]);
    op::drop_unique_on("member", &["email"]);
    op::drop_unique_on("member", &["code"]);
    Ok(())"#;

fn project() -> TestProject {
    let p = TestProject::init();
    p.add_revision(
        "cc_tables",
        "tables with unnamed keys",
        &common::guest(TABLES),
    );
    p.add_revision("cc_look", "looks at the keys", &common::guest(LOOK));
    p.add_revision(
        "cc_named",
        "drops a named unique by columns",
        &common::guest(DROP_NAMED),
    );
    p.add_revision(
        "cc_unnamed",
        "drops unnamed keys by columns",
        &common::guest(DROP_UNNAMED),
    );
    p.build();
    p
}

#[test]
fn unnamed_keys_are_dropped_by_their_columns_on_sqlite() {
    let p = project();
    p.migrate().arg("upgrade").assert().success();
    assert_eq!(
        p.query("SELECT what FROM seen ORDER BY what"),
        strings(&[
            &["fk - team_id"],
            &["unique - code"],
            &["unique - email"],
            &["unique uq_member_nick nick"]
        ])
    );
    let sql = p.query("SELECT sql FROM sqlite_master WHERE name = 'member'")[0][0].clone();
    assert!(
        !sql.contains("REFERENCES") && !sql.contains("UNIQUE"),
        "{sql}"
    );
    // The row survived the rebuilds, and duplicates are allowed now.
    p.query("INSERT INTO member (id, team_id, email, code, nick) VALUES (2, 9, 'a@example.com', 'A1', 'ada')");
    assert_eq!(p.query("SELECT count(*) FROM member"), strings(&[&["2"]]));
}

fn dropped_by_columns_on(server: Server) {
    let Some(db) = ServerDb::create(server) else {
        return;
    };
    let p = project();
    p.migrate_on(&db.url).arg("upgrade").assert().success();
    // The revision that looked saw the names the database made up.
    let expected: &[&[&str]] = match server {
        Server::Postgres => &[
            &["fk member_team_id_fkey team_id"],
            &["unique member_code_key code"],
            &["unique member_email_key email"],
            &["unique uq_member_nick nick"],
        ],
        Server::Mysql => &[
            &["fk member_ibfk_1 team_id"],
            &["unique code code"],
            &["unique email email"],
            &["unique uq_member_nick nick"],
        ],
    };
    assert_eq!(
        db.query("SELECT what FROM seen ORDER BY what"),
        strings(expected)
    );
    assert_eq!(db.foreign_keys("member"), Vec::<Vec<String>>::new());
    let kinds: Vec<String> = db
        .constraints("member")
        .into_iter()
        .map(|c| c[1].clone())
        .collect();
    assert_eq!(kinds, vec!["PRIMARY KEY"], "{:?}", db.constraints("member"));
    // Its checksum was taken from the model, not from those names: it verifies.
    p.migrate_on(&db.url)
        .arg("upgrade")
        .assert()
        .success()
        .stderr(contains("Nothing to do"));
}

#[test]
fn unnamed_keys_are_dropped_by_their_columns_on_postgresql() {
    dropped_by_columns_on(Server::Postgres);
}

#[test]
fn unnamed_keys_are_dropped_by_their_columns_on_mariadb() {
    dropped_by_columns_on(Server::Mysql);
}

#[test]
fn offline_sql_renders_the_names_the_model_knows() {
    let p = project();
    // PostgreSQL's own rule names what the revisions left unnamed.
    let out = p
        .migrate()
        .args(["upgrade", "--sql", "--dialect", "postgresql"])
        .output()
        .unwrap();
    let sql = common::stdout(&out);
    assert!(out.status.success(), "{}", common::stderr(&out));
    for name in [
        "uq_member_nick",
        "member_team_id_fkey",
        "member_email_key",
        "member_code_key",
    ] {
        assert!(
            sql.contains(&format!("DROP CONSTRAINT \"{name}\"")),
            "{name}: {sql}"
        );
    }
    // Offline, the catalog view shows the model: no made-up names.
    assert!(sql.contains("('fk - team_id')"), "{sql}");
    // MySQL's names for unnamed keys cannot be known without its catalog: the named one is
    // rendered, the unnamed ones refused by name.
    let out = p
        .migrate()
        .args(["upgrade", "--sql", "base:cc_named", "--dialect", "mysql"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(common::stdout(&out).contains("DROP INDEX `uq_member_nick`"));
    let out = p
        .migrate()
        .args(["upgrade", "--sql", "--dialect", "mysql"])
        .output()
        .unwrap();
    let err = common::stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("revision cc_unnamed"), "{err}");
    assert!(err.contains("made without a name"), "{err}");
    // SQLite needs no names: its rebuilds leave the keys out.
    p.migrate()
        .args(["upgrade", "--sql", "--dialect", "sqlite"])
        .assert()
        .success();
}

#[test]
fn a_key_that_is_not_there_is_refused_before_any_sql() {
    let p = TestProject::init();
    p.add_revision("cc_miss_tables", "tables", &common::guest(TABLES));
    p.add_revision(
        "cc_miss_drop",
        "drops a key that is not there",
        &common::guest(r#"op::drop_foreign_key_on("member", &["email"]); Ok(())"#),
    );
    p.build();
    let out = p.migrate().arg("upgrade").output().unwrap();
    let err = common::stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("revision cc_miss_drop"), "{err}");
    assert!(err.contains("no foreign key on (email)"), "{err}");
    assert!(err.contains("(it has: (team_id))"), "{err}");
    assert_eq!(p.heads(), vec!["cc_miss_tables"]);
}

/// A table whose columns have what the portable types do not say: an enum, a native type for
/// one database, a generation expression, identity options.
const DEVICES: &str = r#"
    op::create_table(
        Table::new("device")
            .column(Column::new("id", Type::Integer).primary_key().identity(Identity::by_default().start(1000)))
            .column(Column::new("state", Type::enumeration("device_state", ["on", "off"])))
            .column(Column::new("ip", Type::Text).native(Dialect::Postgresql, "INET"))
            .column(Column::new("watts", Type::Integer))
            .column(Column::new("double_watts", Type::Integer).generated_stored("watts * 2")),
    );
    Ok(())"#;

/// Writes what it sees of each column into `seen`, and adds `standby` to the column's enum
/// unless it is there: a decision only the enum's values can make.
const LOOK_AT_OPTIONS: &str = r#"
    op::create_table(Table::new("seen").column(Column::new("what", Type::Varchar(200))));
    let device = catalog::table("device").ok_or("no table device")?;
    let mut rows: Vec<String> = Vec::new();
    for column in device.table.columns() {
        let mut what = String::from(column.name());
        if let Type::Enum { name, values } = column.data_type() {
            what += &format!(" enum {name} {}", values.join(","));
        }
        if let Some(sql) = column.native_type_on(Dialect::Postgresql) {
            what += &format!(" on postgresql {sql}");
        }
        if let Some((expression, stored)) = column.generation() {
            what += &format!(" generated {expression} stored={stored}");
        }
        if let Some(identity) = column.identity_options() {
            what += &format!(" identity always={} first={:?}", identity.is_always(), identity.first_value());
        }
        rows.push(what);
    }
    match device.table.column_named("state").map(|c| c.data_type()) {
        Some(Type::Enum { name, values }) if !values.iter().any(|v| v == "standby") => {
            op::alter_enum(name, values.iter().map(String::as_str).chain(["standby"]));
        }
        Some(Type::Enum { .. }) => {}
        other => return Err(format!("state is not an enum: {other:?}")),
    }
    op::bulk_insert("seen", &["what"], rows.into_iter().map(|r| vec![r.into()]).collect());
    Ok(())"#;

fn options_project() -> TestProject {
    let p = TestProject::init();
    p.add_revision("co_devices", "devices", &common::guest(DEVICES));
    p.add_revision(
        "co_look",
        "looks at the column options",
        &common::guest(LOOK_AT_OPTIONS),
    );
    p.build();
    p
}

const SEEN_OPTIONS: &[&[&str]] = &[
    &["double_watts generated watts * 2 stored=true"],
    &["id identity always=false first=Some(1000)"],
    &["ip on postgresql INET"],
    &["state enum device_state on,off"],
    &["watts"],
];

#[test]
fn a_revision_sees_enums_native_types_generation_and_identity_on_sqlite() {
    let p = options_project();
    p.migrate().arg("upgrade").assert().success();
    assert_eq!(
        p.query("SELECT what FROM seen ORDER BY what"),
        strings(SEEN_OPTIONS)
    );
    // It saw the enum's values, so it added the one missing: the CHECK takes it now.
    p.query("INSERT INTO device (id, state, watts) VALUES (1, 'standby', 5)");
    assert_eq!(
        p.query("SELECT state, double_watts FROM device"),
        strings(&[&["standby", "10"]])
    );
}

#[test]
fn a_revision_sees_enums_native_types_generation_and_identity_on_postgresql() {
    let Some(db) = ServerDb::create(Server::Postgres) else {
        return;
    };
    let p = options_project();
    p.migrate_on(&db.url).arg("upgrade").assert().success();
    assert_eq!(
        db.query("SELECT what FROM seen ORDER BY what"),
        strings(SEEN_OPTIONS)
    );
    assert_eq!(
        db.query("SELECT array_to_string(enum_range(NULL::device_state)::text[], ',')"),
        strings(&[&["on,off,standby"]])
    );
    db.query("INSERT INTO device (state, ip, watts) VALUES ('standby', '10.0.0.1', 7)");
    assert_eq!(
        db.query("SELECT id::text, state::text, double_watts::text FROM device"),
        strings(&[&["1000", "standby", "14"]])
    );
    // Offline the model answers the same: the enum gains its value in the printed SQL too.
    let out = p
        .migrate()
        .args(["upgrade", "--sql", "--dialect", "postgresql"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(
        common::stdout(&out).contains("ADD VALUE 'standby'"),
        "{}",
        common::stdout(&out)
    );
}
