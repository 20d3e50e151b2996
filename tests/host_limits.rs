//! What a revision (or a hostile `build/` folder) can make the host do: each test is an attack
//! from the adversarial review (issue 21), through the binary, that got through before.

use crate::common;

use std::time::Duration;

use common::servers::{Server, ServerDb};
use common::{guest, strings, TestProject};
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;

const THING: &str = include_str!("fixtures/thing.rs");

#[test]
fn the_ops_budget_stops_a_guest_at_the_first_call_over_it() {
    let p = TestProject::init();
    // Ten statements of 300 KB each: 3 MB of host memory asked for through a 64 MiB guest.
    p.add_revision(
        "hl_budget",
        "large strings",
        &guest(
            "let big = format!(\"SELECT '{}'\", \"x\".repeat(300 * 1024));
             for _ in 0..10 { op::execute(&big); }
             Ok(())",
        ),
    );
    p.build();
    std::fs::write(
        p.path().join("migrate.toml"),
        "database_url = \"sqlite://app.db\"\n[limits]\nops_mib = 1\n",
    )
    .unwrap();
    p.migrate()
        .arg("upgrade")
        .assert()
        .failure()
        .stderr(contains("revision hl_budget"))
        .stderr(contains("more than 1 MiB"))
        .stderr(contains("`ops_mib`"))
        // Stopped at the fourth call, not after the tenth.
        .stderr(contains("3 operations recorded so far"));
    assert!(!p.tables().contains(&"migrate_version".to_string()) || p.heads().is_empty());
    // With the default budget (16 MiB) the same revision runs.
    std::fs::write(
        p.path().join("migrate.toml"),
        "database_url = \"sqlite://app.db\"\n",
    )
    .unwrap();
    p.migrate().arg("upgrade").assert().success();
    assert_eq!(p.heads(), ["hl_budget"]);
}

#[test]
fn a_message_cannot_end_the_sql_comment_it_is_printed_in() {
    let p = TestProject::init();
    p.add_revision("hl_message", "thing", THING);
    let meta = p.revision_dir("hl_message").join("revision.toml");
    let text = std::fs::read_to_string(&meta).unwrap();
    let evil = text.replace(
        "message = \"thing\"",
        "message = \"thing\\nDROP TABLE precious; --\"",
    );
    assert_ne!(text, evil);
    std::fs::write(&meta, evil).unwrap();
    p.build();
    let out = p
        .migrate()
        .args(["upgrade", "--sql", "--dialect", "sqlite"])
        .output()
        .unwrap();
    let sql = common::stdout(&out);
    assert!(out.status.success(), "{}", common::stderr(&out));
    // Piped to a database that has the table, the printed SQL leaves it there.
    let db = p.path().join("piped.db");
    let made = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("CREATE TABLE precious (id INTEGER)")
        .status()
        .unwrap();
    assert!(made.success());
    let mut shell = std::process::Command::new("sqlite3")
        .arg(&db)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    shell
        .stdin
        .take()
        .unwrap()
        .write_all(sql.as_bytes())
        .unwrap();
    assert!(shell.wait().unwrap().success());
    let tables = common::query_sqlite(
        &db,
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    );
    assert!(tables.contains(&vec!["precious".to_string()]), "{tables:?}");
    assert!(tables.contains(&vec!["thing".to_string()]), "{tables:?}");
    assert!(
        sql.contains("-- Running upgrade base -> hl_message, thing\\nDROP TABLE precious; --"),
        "{sql}"
    );
    // And `new` refuses such a message outright.
    p.migrate()
        .args(["new", "-m", "two\nlines"])
        .assert()
        .failure()
        .stderr(contains("control character"));
}

#[test]
fn stamp_relative_to_an_unknown_revision_is_an_error_not_a_panic() {
    let p = TestProject::init();
    p.add_revision("hl_stamp", "thing", THING);
    p.build();
    p.migrate().arg("upgrade").assert().success();
    common::query_sqlite(
        &p.db_path(),
        "UPDATE migrate_version SET revision = 'ghost'",
    );
    p.migrate()
        .args(["stamp", "-1"])
        .assert()
        .failure()
        .stderr(contains("ghost"))
        .stderr(contains("panicked").not());
}

#[cfg(unix)]
#[test]
fn a_component_that_is_no_regular_file_is_refused_without_reading_it() {
    let p = TestProject::init();
    p.add_revision("hl_device", "thing", THING);
    p.build();
    let wasm = p.migrations().join("build/hl_device.wasm");
    std::fs::remove_file(&wasm).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &wasm).unwrap();
    p.migrate()
        .arg("upgrade")
        .timeout(Duration::from_secs(60))
        .assert()
        .failure()
        .stderr(contains("hl_device.wasm is not a regular file"));
    std::fs::remove_file(&wasm).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&wasm)
        .status()
        .unwrap();
    assert!(made.success());
    p.migrate()
        .arg("upgrade")
        .timeout(Duration::from_secs(60))
        .assert()
        .failure()
        .stderr(contains("hl_device.wasm is not a regular file"));
    assert!(p.heads().is_empty() || !p.db_path().exists());
}

#[cfg(unix)]
#[test]
fn symlink_loops_in_a_revision_crate_do_not_hang_the_fingerprint() {
    let p = TestProject::init();
    let dir = p.add_revision("hl_loops", "thing", THING);
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::os::unix::fs::symlink("..", dir.join("assets/a")).unwrap();
    std::os::unix::fs::symlink("..", dir.join("assets/b")).unwrap();
    p.migrate()
        .arg("build")
        .timeout(Duration::from_secs(300))
        .assert()
        .success();
    p.migrate()
        .arg("upgrade")
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    assert_eq!(p.heads(), ["hl_loops"]);
}

/// A revision whose statements all run, after which the version-table update fails: the next
/// run says so instead of blaming a process that died.
#[test]
fn a_failed_version_table_update_on_mariadb_is_not_blamed_on_a_dead_process() {
    let Some(db) = ServerDb::create(Server::Mysql) else {
        return;
    };
    let p = TestProject::init();
    p.add_revision("hl_books_1", "thing", THING);
    p.add_revision(
        "hl_books_2",
        "drops the history",
        &guest("op::execute(\"DROP TABLE migrate_history\"); Ok(())"),
    );
    p.build();
    p.migrate_on(&db.url).arg("upgrade").assert().failure();
    let out = p.migrate_on(&db.url).arg("status").output().unwrap();
    let text = common::stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("FAILED: the upgrade of revision hl_books_2"),
        "{text}"
    );
    assert!(text.contains("recording it failed"), "{text}");
    assert!(
        text.contains("its one statement took effect; only recording it is missing"),
        "{text}"
    );
    assert!(!text.contains("process died"), "{text}");
    assert_eq!(
        db.query("SELECT revision FROM migrate_version"),
        strings(&[&["hl_books_1"]])
    );
}

/// After a column rename, a SQLite rebuild prints the table's CHECK again from the model: its
/// string literals must come back with their doubled quotes, or the check means something else.
#[test]
fn a_rebuild_after_a_rename_keeps_a_checks_meaning() {
    let p = TestProject::init();
    p.add_revision(
        "hl_check_1",
        "checked",
        &guest(
            r#"op::create_table(
                Table::new("ledger")
                    .column(Column::new("id", Type::Integer).primary_key())
                    .column(Column::new("x", Type::Integer))
                    .column(Column::new("note", Type::Text))
                    .constraint(Constraint::check("x > 0 AND note <> 'q'' OR ''1''=''1'").named("ck_ledger"))
                    .constraint(Constraint::check("note <> 'it''s'").named("ck_ledger_its")),
            );
            Ok(())"#,
        ),
    );
    p.add_revision(
        "hl_check_2",
        "rename and rebuild",
        &guest(
            r#"op::alter_column(AlterColumn::new("ledger", "note").rename_to("remark"));
            op::alter_column(AlterColumn::new("ledger", "x").nullable(false));
            Ok(())"#,
        ),
    );
    p.build();
    p.migrate().arg("upgrade").assert().success();
    let refused = common::try_query_sqlite(
        &p.db_path(),
        "INSERT INTO ledger (id, x, remark) VALUES (1, -1, 'z')",
    );
    assert!(
        refused.is_err(),
        "x > 0 must still be checked after the rebuild"
    );
    let refused = common::try_query_sqlite(
        &p.db_path(),
        "INSERT INTO ledger (id, x, remark) VALUES (2, 1, 'it''s')",
    );
    assert!(refused.is_err(), "remark <> 'it''s' must still be checked");
    common::query_sqlite(
        &p.db_path(),
        "INSERT INTO ledger (id, x, remark) VALUES (3, 1, 'fine')",
    );
}

/// A failing PostgreSQL step is named without running its statements again: a sequence advanced
/// by the step (outside the transaction's reach) moves once, and the failing statement is the
/// one named.
#[test]
fn a_failed_postgres_step_runs_each_statement_once() {
    let Some(db) = ServerDb::create(Server::Postgres) else {
        return;
    };
    let p = TestProject::init();
    p.add_revision(
        "hl_once_1",
        "sequence",
        &guest("op::execute(\"CREATE SEQUENCE hl_counter\"); Ok(())"),
    );
    p.add_revision(
        "hl_once_2",
        "advances then fails",
        &guest(
            "op::execute(\"SELECT nextval('hl_counter')\");
             op::execute(\"SELECT 1 / (SELECT 0)\");
             op::execute(\"SELECT nextval('hl_counter')\");
             Ok(())",
        ),
    );
    p.build();
    p.migrate_on(&db.url)
        .args(["upgrade", "hl_once_1"])
        .assert()
        .success();
    p.migrate_on(&db.url)
        .arg("upgrade")
        .assert()
        .failure()
        .stderr(contains("SELECT 1 / (SELECT 0)"))
        .stderr(contains("division by zero"));
    assert_eq!(
        db.query("SELECT last_value::text, is_called::text FROM hl_counter"),
        strings(&[&["1", "true"]]),
        "nextval ran once, not once per attempt"
    );
    assert_eq!(
        db.query("SELECT revision FROM migrate_version"),
        strings(&[&["hl_once_1"]])
    );
}

/// A user's own table called `migrate_version` is not taken for migrate's: every command
/// refuses by name and changes nothing; `version_table` in the settings gives migrate's tables
/// other names.
#[test]
fn a_users_own_migrate_version_table_is_refused_and_left_alone() {
    let p = TestProject::init();
    p.add_revision("hl_own_1", "thing", THING);
    p.build();
    let made = std::process::Command::new("sqlite3")
        .arg(p.db_path())
        .arg("CREATE TABLE migrate_version (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO migrate_version VALUES (1, 'mine'), (2, 'also mine');")
        .status()
        .unwrap();
    assert!(made.success());
    let before = p.db_bytes();
    for verb in [
        &["current"][..],
        &["status"],
        &["stamp", "base"],
        &["upgrade"],
        &["history", "--applied"],
    ] {
        p.migrate()
            .args(verb)
            .assert()
            .failure()
            .stderr(contains(
                "the table \"migrate_version\" exists but is not one of migrate's version tables",
            ))
            .stderr(contains("version_table"));
        assert_eq!(p.db_bytes(), before, "{verb:?} changed the database");
    }
    std::fs::write(
        p.path().join("migrate.toml"),
        "database_url = \"sqlite://app.db\"\nversion_table = \"app_version\"\n",
    )
    .unwrap();
    p.migrate().arg("upgrade").assert().success();
    p.migrate()
        .arg("current")
        .assert()
        .success()
        .stdout(contains("hl_own_1 (head)"));
    assert_eq!(
        p.query("SELECT revision FROM app_version"),
        strings(&[&["hl_own_1"]])
    );
    assert_eq!(
        p.query("SELECT COUNT(*) FROM app_history"),
        strings(&[&["1"]])
    );
    assert_eq!(
        p.query("SELECT id, name FROM migrate_version ORDER BY id"),
        strings(&[&["1", "mine"], &["2", "also mine"]])
    );
    p.migrate().args(["stamp", "base"]).assert().success();
    assert_eq!(
        p.query("SELECT COUNT(*) FROM migrate_version"),
        strings(&[&["2"]])
    );
}

/// Host CPU after the guest returns is bounded: a table cannot grow past what any database
/// allows (which bounds each op's cost), and a step's rendered SQL has a budget.
#[test]
fn what_one_revision_may_make_the_host_apply_and_render_is_bounded() {
    let p = TestProject::init();
    p.add_revision(
        "hl_wide",
        "too wide",
        &guest(
            "op::create_table(Table::new(\"wide\").column(Column::new(\"id\", Type::Integer).primary_key()));
             for i in 0..5000u32 { op::add_column(\"wide\", Column::new(format!(\"c{i}\"), Type::Integer)); }
             Ok(())",
        ),
    );
    p.build();
    p.migrate()
        .args(["upgrade", "--sql", "--dialect", "sqlite"])
        .assert()
        .failure()
        .stderr(contains("revision hl_wide"))
        .stderr(contains("op #4097"))
        .stderr(contains("as many as any database allows"));

    let p = TestProject::init();
    p.add_revision(
        "hl_rebuilds",
        "many rebuilds",
        &guest(
            "let mut t = Table::new(\"w\").column(Column::new(\"id\", Type::Integer).primary_key());
             for i in 0..300u32 { t = t.column(Column::new(format!(\"c{i}\"), Type::Integer)); }
             op::create_table(t);
             for i in 0..200u32 {
                 op::alter_column(AlterColumn::new(\"w\", \"c0\").nullable(i % 2 == 0));
                 op::execute(\"SELECT 1\");
             }
             Ok(())",
        ),
    );
    p.build();
    std::fs::write(
        p.path().join("migrate.toml"),
        "database_url = \"sqlite://app.db\"\n[limits]\nsql_mib = 1\n",
    )
    .unwrap();
    p.migrate()
        .args(["upgrade", "--sql"])
        .assert()
        .failure()
        .stderr(contains("revision hl_rebuilds"))
        .stderr(contains(
            "more than 1 MiB (the `sql_mib` limit in [limits])",
        ));
    p.migrate().arg("upgrade").assert().failure();
    assert!(p.heads().is_empty());
    // With the default budget it renders and runs.
    std::fs::write(
        p.path().join("migrate.toml"),
        "database_url = \"sqlite://app.db\"\n",
    )
    .unwrap();
    p.migrate().arg("upgrade").assert().success();
}

/// Raw SQL on SQLite runs inside migrate's process: it may not reach another file.
#[test]
fn raw_sql_cannot_attach_another_sqlite_file() {
    let p = TestProject::init();
    p.add_revision("hl_attach_1", "thing", THING);
    p.add_revision(
        "hl_attach_2",
        "attaches",
        &guest(
            "op::execute(\"ATTACH DATABASE 'other.db' AS other\");
             op::execute(\"CREATE TABLE other.stolen (x INTEGER)\");
             Ok(())",
        ),
    );
    p.build();
    p.migrate()
        .args(["upgrade", "hl_attach_1"])
        .assert()
        .success();
    let before = p.snapshot();
    p.migrate()
        .arg("upgrade")
        .assert()
        .failure()
        .stderr(contains("revision hl_attach_2"))
        .stderr(contains("raw SQL may not ATTACH on SQLite"));
    p.migrate()
        .args(["upgrade", "--sql"])
        .assert()
        .failure()
        .stderr(contains("raw SQL may not ATTACH"));
    assert!(!p.path().join("other.db").exists());
    assert_eq!(p.snapshot(), before);
    // Hidden behind a comment it is still the statement's first word.
    std::fs::write(
        p.revision_dir("hl_attach_2").join("src/lib.rs"),
        guest("op::execute(\"SELECT 1; /* hi */ attach 'other.db' AS o\"); Ok(())"),
    )
    .unwrap();
    p.build();
    p.migrate()
        .arg("upgrade")
        .assert()
        .failure()
        .stderr(contains("raw SQL may not ATTACH"));
    assert!(!p.path().join("other.db").exists());
    assert_eq!(p.snapshot(), before);
}

#[test]
fn settings_can_forbid_raw_sql_and_show_says_who_runs_it() {
    let p = TestProject::init();
    p.add_revision("hl_raw_1", "typed", THING);
    p.add_revision(
        "hl_raw_2",
        "raw",
        &guest("op::execute(\"CREATE TABLE by_hand (x INTEGER)\"); Ok(())"),
    );
    p.build();
    p.migrate()
        .args(["show", "hl_raw_1"])
        .assert()
        .success()
        .stdout(contains("Raw SQL: no"));
    p.migrate()
        .args(["show", "hl_raw_2"])
        .assert()
        .success()
        .stdout(contains("Raw SQL: yes"));
    let settings = |allow: &str| {
        std::fs::write(
            p.path().join("migrate.toml"),
            format!("database_url = \"sqlite://app.db\"\n[sandbox]\nallow_execute = {allow}\n"),
        )
        .unwrap()
    };
    settings("false");
    // Refused by name, with a cold cache (before it runs) and a warm one (from its ops).
    for _ in 0..2 {
        p.migrate()
            .arg("upgrade")
            .assert()
            .failure()
            .stderr(contains("revision hl_raw_2"))
            .stderr(contains("which the settings forbid"));
        assert_eq!(p.heads(), ["hl_raw_1"]);
        assert!(!p.tables().contains(&"by_hand".to_string()));
    }
    settings("[\"hl_raw_2\"]");
    p.migrate().arg("upgrade").assert().success();
    assert!(p.tables().contains(&"by_hand".to_string()));
}

#[test]
fn a_postgres_superuser_is_warned_about_raw_sql() {
    let Some(db) = ServerDb::create(Server::Postgres) else {
        return;
    };
    let p = TestProject::init();
    p.add_revision("hl_super", "thing", THING);
    p.build();
    let superuser = db.query("SELECT CASE WHEN rolsuper THEN 'yes' ELSE 'no' END FROM pg_roles WHERE rolname = current_user");
    let out = p.migrate_on(&db.url).arg("upgrade").output().unwrap();
    assert!(out.status.success());
    let warned = common::stderr(&out).contains("connected as a PostgreSQL superuser");
    assert_eq!(
        warned,
        superuser == strings(&[&["yes"]]),
        "{}",
        common::stderr(&out)
    );
}

/// In a deployment of `build/` alone, a component's embedded id is checked as revision.toml ids
/// are, and must be the revision its file and the manifest name: `../../outside/evil` never
/// reaches a path or the version table.
#[test]
fn a_build_only_id_must_be_valid_and_match_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let build = dir.path().join("migrations/build");
    std::fs::create_dir_all(&build).unwrap();
    std::fs::write(
        dir.path().join("migrate.toml"),
        "database_url = \"sqlite://app.db\"\n",
    )
    .unwrap();
    let mut module = b"\0asm\x01\0\0\0".to_vec();
    module.extend(common::metadata_section("../../outside/evil"));
    std::fs::write(build.join("evil.wasm"), &module).unwrap();
    let migrate = || common::migrate_in(dir.path());
    // Listed under its file's name: the embedded id differs, and is refused.
    common::write_manifest(&build, &[("evil", &module)]);
    migrate().arg("upgrade").assert().failure().stderr(contains(
        "evil.wasm describes revision \"../../outside/evil\"",
    ));
    // Listed under the embedded id: not a valid id.
    common::write_manifest(&build, &[("../../outside/evil", &module)]);
    migrate()
        .arg("upgrade")
        .assert()
        .failure()
        .stderr(contains("must be 1 to 64 letters, digits or underscores"));
    assert!(!dir.path().join("app.db").exists());
}
