//! Production safety through the real binary: the database named wins, only the revisions
//! shipped run, failures are told truthfully, read-only commands create nothing, the argument
//! parser catches mistakes, panics show their text, and typos are caught before the database.

use crate::common;

use common::servers::{Server, ServerDb};
use common::{strings, TestProject};
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;

const THING: &str = include_str!("fixtures/thing.rs");

const SECOND: &str = r#"
#![no_std]
use migrate_guest_sdk::prelude::*;
fn upgrade() -> Result {
    op::add_column("thing", Column::new("label", Type::Text));
    Ok(())
}
fn downgrade() -> Result {
    op::drop_column("thing", "label");
    Ok(())
}
migrate_guest_sdk::revision!(upgrade, downgrade);
"#;

/// A project with `thing` (ps_1) and a column on it (ps_2), built.
fn two_revisions() -> TestProject {
    let p = TestProject::init();
    p.add_revision("ps_1", "thing", THING);
    p.add_revision("ps_2", "label", SECOND);
    p.build();
    p
}

/// A deployment of `build` alone (copied to `<folder>/migrations/build`) with settings for a
/// SQLite file in its folder: the folder and the copied build/.
fn deployment_of(build: &std::path::Path) -> (tempfile::TempDir, std::path::PathBuf) {
    let deploy = tempfile::tempdir().unwrap();
    let deployed = deploy.path().join("migrations/build");
    common::copy_dir_all(build, &deployed);
    std::fs::write(
        deploy.path().join("migrate.toml"),
        "database_url = \"sqlite://app.db\"\n",
    )
    .unwrap();
    (deploy, deployed)
}

fn db_files(p: &TestProject) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(p.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".db"))
        .collect();
    names.sort();
    names
}

fn remove_db_files(p: &TestProject) {
    for name in db_files(p) {
        std::fs::remove_file(p.path().join(name)).unwrap();
    }
}

#[test]
fn the_database_named_most_deliberately_wins() {
    let p = two_revisions();
    let write = |name: &str, text: &str| std::fs::write(p.path().join(name), text).unwrap();
    write("migrate.toml", "database_url = \"sqlite://default.db\"\n");
    write("prod.toml", "database_url = \"sqlite://prod.db\"\n");
    write("named.toml", "database_url = \"sqlite://named.db\"\n");
    write("no_url.toml", "[limits]\nfuel = 100000000\n");
    write(".env", "DATABASE_URL=sqlite://dotenv.db\n");
    // (flag, --settings, $SETTINGS, $DATABASE_URL, .env present) -> the database used.
    type Case<'a> = (
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        bool,
        &'a str,
    );
    let cases: &[Case] = &[
        (
            Some("sqlite://flag.db"),
            Some("prod.toml"),
            Some("named.toml"),
            Some("sqlite://env.db"),
            true,
            "flag.db",
        ),
        (
            None,
            Some("prod.toml"),
            Some("named.toml"),
            Some("sqlite://env.db"),
            true,
            "prod.db",
        ),
        (
            None,
            None,
            Some("named.toml"),
            Some("sqlite://env.db"),
            true,
            "named.db",
        ),
        (None, None, None, Some("sqlite://env.db"), true, "env.db"),
        (None, None, None, None, true, "dotenv.db"),
        (None, None, None, None, false, "default.db"),
        // A named file without `database_url` takes it from the environment.
        (
            None,
            Some("no_url.toml"),
            None,
            Some("sqlite://env.db"),
            true,
            "env.db",
        ),
    ];
    for &(flag, settings, settings_env, database_url, dotenv, expected) in cases {
        remove_db_files(&p);
        if !dotenv {
            std::fs::rename(p.path().join(".env"), p.path().join("env.off")).unwrap();
        }
        let mut cmd = p.migrate();
        if let Some(url) = flag {
            cmd.args(["--database-url", url]);
        }
        if let Some(file) = settings {
            cmd.args(["--settings", file]);
        }
        if let Some(file) = settings_env {
            cmd.env("SETTINGS", file);
        }
        if let Some(url) = database_url {
            cmd.env("DATABASE_URL", url);
        }
        let out = cmd.arg("upgrade").output().unwrap();
        let err = common::stderr(&out);
        assert!(out.status.success(), "{err}");
        let case = format!("{flag:?} {settings:?} {settings_env:?} {database_url:?} .env={dotenv}");
        assert_eq!(db_files(&p), [expected], "{case}: {err}");
        assert_eq!(
            common::query_sqlite(
                &p.path().join(expected),
                "SELECT revision FROM migrate_version"
            ),
            strings(&[&["ps_2"]]),
            "{case}"
        );
        // Said before anything changed: which database, and from where.
        let announced = format!("Database: sqlite://{expected}");
        assert!(err.starts_with(&announced), "{case}: {err}");
        if !dotenv {
            std::fs::rename(p.path().join("env.off"), p.path().join(".env")).unwrap();
        }
    }
    // Where an explicit file and DATABASE_URL differ, the command says which one it ignores.
    remove_db_files(&p);
    p.migrate()
        .args(["--settings", "prod.toml", "upgrade"])
        .env("DATABASE_URL", "sqlite://dev.db")
        .assert()
        .success()
        .stderr(contains(
            "from `database_url` in prod.toml (--settings prod.toml)",
        ))
        .stderr(contains(
            "$DATABASE_URL names another database, sqlite://dev.db, which is not used",
        ));
    assert_eq!(db_files(&p), ["prod.db"]);
    // SETTINGS may come from .env too, below the real environment.
    remove_db_files(&p);
    write(
        ".env",
        "SETTINGS=named.toml\nDATABASE_URL=sqlite://dotenv.db\n",
    );
    p.migrate().arg("upgrade").assert().success();
    assert_eq!(db_files(&p), ["named.db"]);
    // Passwords never reach the terminal.
    p.migrate()
        .args([
            "--database-url",
            "postgres://app:s3cret@127.0.0.1:1/nowhere",
            "current",
        ])
        .assert()
        .failure()
        .stderr(contains("postgres://app:***@127.0.0.1:1/nowhere"))
        .stderr(contains("s3cret").not());
    // --help documents the order.
    p.migrate()
        .arg("--help")
        .assert()
        .success()
        .stdout(contains("1. --database-url URL"))
        .stdout(contains("DATABASE_URL in .env"));
}

#[test]
fn build_makes_build_exactly_the_revisions_and_a_manifest_guards_a_deployment() {
    let p = two_revisions();
    let build = p.migrations().join("build");
    let manifest = std::fs::read_to_string(build.join("manifest.toml")).unwrap();
    assert!(
        manifest.contains("id = \"ps_1\"") && manifest.contains("id = \"ps_2\""),
        "{manifest}"
    );

    // A deleted revision leaves build/ with the next build, and the manifest forgets it.
    std::fs::remove_dir_all(p.revision_dir("ps_2")).unwrap();
    p.migrate()
        .arg("build")
        .assert()
        .success()
        .stdout(contains("removed"))
        .stdout(contains("ps_2.wasm"));
    assert!(!build.join("ps_2.wasm").exists());
    let manifest = std::fs::read_to_string(build.join("manifest.toml")).unwrap();
    assert!(!manifest.contains("ps_2"), "{manifest}");
    p.add_revision("ps_2", "label", SECOND);
    p.build();

    // A deployment of build/ alone: it runs as built...
    let (deploy, deployed) = deployment_of(&build);
    let migrate = || common::migrate_in(deploy.path());
    migrate().args(["upgrade", "ps_1"]).assert().success();
    let db = deploy.path().join("app.db");
    let before = std::fs::read(&db).unwrap();
    let refused = |needle: &str| {
        migrate()
            .arg("upgrade")
            .assert()
            .failure()
            .stderr(contains(needle.to_string()));
        assert_eq!(
            std::fs::read(&db).unwrap(),
            before,
            "a refused deployment changes nothing"
        );
    };
    // ...a stray component is refused by name...
    std::fs::copy(deployed.join("ps_2.wasm"), deployed.join("ps_3.wasm")).unwrap();
    refused("ps_3.wasm is not in");
    std::fs::remove_file(deployed.join("ps_3.wasm")).unwrap();
    // ...a missing one...
    let second = std::fs::read(deployed.join("ps_2.wasm")).unwrap();
    std::fs::remove_file(deployed.join("ps_2.wasm")).unwrap();
    refused("revision ps_2 is listed in");
    // ...a swapped one...
    std::fs::copy(deployed.join("ps_1.wasm"), deployed.join("ps_2.wasm")).unwrap();
    refused("ps_2.wasm is not the component `migrate build` wrote for revision ps_2");
    // ...and a build/ without its manifest.
    std::fs::write(deployed.join("ps_2.wasm"), &second).unwrap();
    let manifest = std::fs::read(deployed.join("manifest.toml")).unwrap();
    std::fs::remove_file(deployed.join("manifest.toml")).unwrap();
    refused("manifest.toml is missing");
    std::fs::write(deployed.join("manifest.toml"), manifest).unwrap();
    migrate().arg("upgrade").assert().success();
    assert_eq!(
        common::query_sqlite(&db, "SELECT revision FROM migrate_version"),
        strings(&[&["ps_2"]])
    );
}

/// A deployment reads its graph from `build/manifest.index` (the manifest as parsed, beside it)
/// only while `manifest.toml` is the text it was made from: an edited manifest, a damaged
/// index or none at all give what the TOML says, and the index changes no answer.
#[test]
fn a_deployments_manifest_index_never_outvotes_its_manifest() {
    let p = two_revisions();
    let build = p.migrations().join("build");
    assert!(build.join("manifest.index").is_file(), "build writes it");
    let (deploy, deployed) = deployment_of(&build);
    let stdout = |args: &[&str]| {
        let out = common::migrate_in(deploy.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let with_index = (stdout(&["heads"]), stdout(&["history", "--verbose"]));
    assert!(
        with_index.0.contains("ps_2 (head), label"),
        "{}",
        with_index.0
    );
    let index = std::fs::read(deployed.join("manifest.index")).unwrap();
    std::fs::remove_file(deployed.join("manifest.index")).unwrap();
    assert_eq!(
        (stdout(&["heads"]), stdout(&["history", "--verbose"])),
        with_index
    );

    // The index of the old text beside an edited manifest, a damaged index, none: the TOML.
    std::fs::write(deployed.join("manifest.index"), &index).unwrap();
    let manifest = std::fs::read_to_string(deployed.join("manifest.toml")).unwrap();
    let edited = manifest.replace("message = \"label\"", "message = \"label, edited\"");
    assert_ne!(edited, manifest);
    std::fs::write(deployed.join("manifest.toml"), edited).unwrap();
    for index in [&index[..], &index[..index.len() / 2], &[][..]] {
        std::fs::write(deployed.join("manifest.index"), index).unwrap();
        assert!(
            stdout(&["heads"]).contains("ps_2 (head), label, edited"),
            "the edited manifest rules"
        );
    }
}

/// A deployment's `current` and `heads` take the graph's heads from the manifest index and look
/// up only the revisions they show: with two heads, and a database at a revision that is no
/// head, at both heads, and at one the manifest does not know, every output (text, --verbose,
/// --json) is the one the whole manifest gives (no index). They answer with a stray component in
/// build/ too; the commands that run components still refuse it.
#[test]
fn a_deployments_current_and_heads_from_the_index_say_what_the_whole_manifest_says() {
    let p = TestProject::init();
    p.add_revision("ps_1", "thing", THING);
    p.add_revision("ps_2", "label", SECOND);
    p.add_revision_with(
        "ps_3",
        "side table",
        &["--head", "ps_1", "--branch-label", "side"],
        &common::guest_both_ways(
            r#"op::create_table(Table::new("side").column(Column::new("id", Type::Integer).primary_key()));"#,
            r#"op::drop_table("side");"#,
            "ps_3 of the index test",
        ),
    );
    p.build();
    let (deploy, deployed) = deployment_of(&p.migrations().join("build"));
    let run = |args: &[&str]| {
        let out = common::migrate_in(deploy.path())
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", common::stderr(&out));
        common::stdout(&out)
    };
    let index = deployed.join("manifest.index");
    let index_bytes = std::fs::read(&index).unwrap();
    // Every output with the index, then without it (the whole manifest parsed): the same.
    let outputs = || {
        std::fs::write(&index, &index_bytes).unwrap();
        let summarised: Vec<String> = common::HEADS_OUTPUTS.iter().map(|verb| run(verb)).collect();
        std::fs::remove_file(&index).unwrap();
        let whole: Vec<String> = common::HEADS_OUTPUTS.iter().map(|verb| run(verb)).collect();
        assert_eq!(summarised, whole);
        summarised
    };
    run(&["upgrade", "ps_1"]);
    let at_base = outputs();
    let heads = at_base[2].clone();
    assert_eq!(heads, "ps_2 (head), label\nps_3 (head), side table\n");
    assert_eq!(at_base[0], "ps_1, thing\n", "no head: no marker");
    assert!(at_base[1].contains(r#""is_head": false"#), "{}", at_base[1]);

    run(&["upgrade", "heads"]);
    let at_heads = outputs();
    assert_eq!(at_heads[0], "ps_2 (head), label\nps_3 (head), side table\n");
    assert!(at_heads[3].contains("branch: side"), "{}", at_heads[3]);

    common::query_sqlite(
        &deploy.path().join("app.db"),
        "INSERT INTO migrate_version (revision) VALUES ('ps_9')",
    );
    let unknown = outputs();
    assert!(
        unknown[0].contains("ps_9 (not among the revisions in migrations)"),
        "{}",
        unknown[0]
    );
    assert!(unknown[1].contains(r#""known": false"#), "{}", unknown[1]);

    // A stray component: the inspection verbs answer, a run refuses it by name.
    std::fs::write(&index, &index_bytes).unwrap();
    std::fs::copy(deployed.join("ps_2.wasm"), deployed.join("ps_8.wasm")).unwrap();
    assert_eq!(run(&["heads"]), heads);
    run(&["current"]);
    run(&["history"]);
    common::migrate_in(deploy.path())
        .args(["downgrade", "base"])
        .assert()
        .failure()
        .stderr(contains("ps_8.wasm is not in"));
}

/// `current` and `status` read a SQLite file's heads without a sqlx connection: the same answer
/// in WAL mode, through a URL sqlx must decode (a space written `%20`) or one that opens the file
/// read-only, and nothing written to the file.
#[test]
fn the_heads_of_a_sqlite_file_read_alike_in_every_url_form() {
    let p = two_revisions();
    let folder = p.path().join("data dir");
    std::fs::create_dir(&folder).unwrap();
    let db = folder.join("app.db");
    let plain = format!("sqlite://{}", db.display());
    p.migrate_on(&plain)
        .args(["upgrade", "ps_1"])
        .assert()
        .success();
    let wal = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("PRAGMA journal_mode = WAL")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&wal.stdout).trim(), "wal");
    let before = std::fs::read(&db).unwrap();
    let encoded = plain.replace(' ', "%20");
    for url in [plain.clone(), format!("{plain}?mode=ro"), encoded.clone()] {
        p.migrate_on(&url)
            .arg("current")
            .assert()
            .success()
            .stdout("ps_1, thing\n");
        p.migrate_on(&url)
            .arg("status")
            .assert()
            .success()
            .stdout(contains("Applied: 1 of 2 revision(s)"))
            .stdout(contains("  ps_2 label"));
        assert_eq!(
            std::fs::read(&db).unwrap(),
            before,
            "{url} changed the file"
        );
    }
    // The encoded URL names the same file for a command that writes (and takes its lock).
    p.migrate_on(&encoded).arg("upgrade").assert().success();
    p.migrate_on(&plain)
        .arg("current")
        .assert()
        .success()
        .stdout("ps_2 (head), label\n");
}

#[test]
fn read_only_commands_create_nothing() {
    let p = two_revisions();
    std::fs::write(
        p.path().join("migrate.toml"),
        "database_url = \"sqlite://missing.db\"\n",
    )
    .unwrap();
    std::fs::write(
        p.path().join("schema.sql"),
        "CREATE TABLE thing (id INTEGER PRIMARY KEY);\n",
    )
    .unwrap();
    for verb in [
        &["current"][..],
        &["status"],
        &["history", "--applied"],
        &["check", "--database"],
        &["upgrade", "--sql", "current:head"],
    ] {
        p.migrate()
            .args(verb)
            .assert()
            .failure()
            .stderr(contains("missing.db does not exist"));
        assert!(db_files(&p).is_empty(), "{verb:?} created a file");
    }
    // upgrade creates it, and leaves no lock file behind.
    p.migrate().arg("upgrade").assert().success();
    assert_eq!(db_files(&p), ["missing.db"]);
    let leftovers: Vec<String> = std::fs::read_dir(p.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("migrate-lock"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // `stamp base` is recorded as what it is: the head taken away, not stamped.
    p.migrate().args(["stamp", "base"]).assert().success();
    let last = common::query_sqlite(
        &p.path().join("missing.db"),
        "SELECT revision, direction FROM migrate_history ORDER BY seq DESC LIMIT 1",
    );
    assert_eq!(last, strings(&[&["ps_2", "unstamp"]]));
    p.migrate()
        .args(["history", "--applied"])
        .assert()
        .success()
        .stdout(contains("unstamp   ps_2"));
    // An unstamp is not an applied checksum: stamped back to head, the database verifies clean.
    p.migrate().args(["stamp", "head"]).assert().success();
    p.migrate()
        .arg("upgrade")
        .assert()
        .success()
        .stderr(contains("Nothing to do"));
}

#[test]
fn the_argument_parser_catches_mistakes_and_errors_say_things_once() {
    let p = two_revisions();
    p.migrate()
        .args(["upgrade", "--verbosity"])
        .assert()
        .code(2)
        .stderr(contains("unexpected argument '--verbosity'"));
    p.migrate().args(["upgrade", "ps_1"]).assert().success();
    let out = p.migrate().args(["upgrade", "+5"]).output().unwrap();
    let err = common::stderr(&out);
    assert!(!out.status.success());
    assert_eq!(err.matches("cannot move 5 step(s) up").count(), 1, "{err}");
    // Negative numbers are still targets.
    p.migrate().args(["downgrade", "-1"]).assert().success();
    p.migrate().args(["upgrade", "head"]).assert().success();
    p.migrate().args(["downgrade", "-1"]).assert().success();
    // Alembic's range, with `current` read from the database.
    let out = p
        .migrate()
        .args(["upgrade", "--sql", "current:head"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let sql = common::stdout(&out);
    assert!(sql.contains("ps_1 -> ps_2"), "{sql}");
    assert!(!sql.contains("base -> ps_1"), "{sql}");
    assert!(sql.contains("ADD COLUMN"), "{sql}");
}

#[test]
fn a_panic_through_expect_shows_its_text() {
    let p = TestProject::init();
    p.add_revision(
        "ps_expect",
        "expects a limit",
        r#"
#![no_std]
use migrate_guest_sdk::prelude::*;
fn limit() -> Option<u32> { None }
fn upgrade() -> Result {
    let limit = limit().expect("limit must be configured");
    op::execute(&format!("SELECT {limit}"));
    Ok(())
}
fn downgrade() -> Result { Ok(()) }
migrate_guest_sdk::revision!(upgrade, downgrade);
"#,
    );
    p.build();
    p.migrate()
        .arg("upgrade")
        .assert()
        .failure()
        .stderr(contains("revision ps_expect"))
        .stderr(contains("limit must be configured"))
        .stderr(contains("src/lib.rs:"));
}

const TYPO_BASE: &str = r#"
#![no_std]
use migrate_guest_sdk::prelude::*;
fn upgrade() -> Result {
    op::create_table(
        Table::new("account")
            .column(Column::new("id", Type::Integer).primary_key())
            .column(Column::new("email", Type::Varchar(200)).not_null()),
    );
    op::create_table(
        Table::new("login")
            .column(Column::new("id", Type::Integer).primary_key())
            .column(Column::new("account_id", Type::Integer))
            // A ForeignKey is a table constraint as it is, no `.into()`.
            .constraint(ForeignKey::new(["account_id"], "account", ["id"]).named("fk_login_account")),
    );
    op::create_index(Index::new("ix_account_email", "account", ["email"]));
    Ok(())
}
fn downgrade() -> Result {
    op::drop_table("login");
    op::drop_table("account");
    Ok(())
}
migrate_guest_sdk::revision!(upgrade, downgrade);
"#;

/// A revision whose upgrade names `accout`; and one that drops an index the old way round.
const TYPO: &str = r#"
#![no_std]
use migrate_guest_sdk::prelude::*;
fn upgrade() -> Result {
    op::alter_column(AlterColumn::new("accout", "email").nullable(true));
    Ok(())
}
fn downgrade() -> Result { Ok(()) }
migrate_guest_sdk::revision!(upgrade, downgrade);
"#;

const SWAPPED: &str = r#"
#![no_std]
use migrate_guest_sdk::prelude::*;
fn upgrade() -> Result {
    op::drop_index("account", "ix_account_email");
    Ok(())
}
fn downgrade() -> Result { Ok(()) }
migrate_guest_sdk::revision!(upgrade, downgrade);
"#;

fn typo_project() -> TestProject {
    let p = TestProject::init();
    p.add_revision("ps_typo_1", "accounts", TYPO_BASE);
    p.add_revision("ps_typo_2", "typo", TYPO);
    p.build();
    p
}

fn assert_typo_named(out: std::process::Output) {
    let err = common::stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("revision ps_typo_2"), "{err}");
    assert!(err.contains("alter_column \"accout\".\"email\""), "{err}");
    assert!(err.contains("no table \"accout\""), "{err}");
    assert!(err.contains("did you mean \"account\"?"), "{err}");
    assert!(!err.contains("rebuild"), "{err}");
}

#[test]
fn a_typo_is_named_with_a_suggestion_before_sqlite_runs_anything() {
    let p = typo_project();
    p.migrate()
        .args(["upgrade", "ps_typo_1"])
        .assert()
        .success();
    let before = p.snapshot();
    assert_typo_named(p.migrate().arg("upgrade").output().unwrap());
    assert_eq!(p.snapshot(), before);
    // A run that failed leaves no lock file behind either.
    assert!(!p.path().join("app.db.migrate-lock").exists());
    for dialect in ["sqlite", "postgresql", "mysql"] {
        assert_typo_named(
            p.migrate()
                .args(["upgrade", "--sql", "--dialect", dialect])
                .output()
                .unwrap(),
        );
    }
    // The old argument order of drop_index is named as a swap. (A project of its own: guests
    // share one target dir, where one id must always mean the same source.)
    let p = TestProject::init();
    p.add_revision("ps_typo_1", "accounts", TYPO_BASE);
    p.add_revision("ps_swap_2", "swapped", SWAPPED);
    p.build();
    p.migrate()
        .arg("upgrade")
        .assert()
        .failure()
        .stderr(contains("the arguments look swapped"))
        .stderr(contains("op::drop_index(\"ix_account_email\", \"account\""));
}

fn typo_on_server(server: Server) {
    let Some(db) = ServerDb::create(server) else {
        return;
    };
    let p = typo_project();
    p.migrate_on(&db.url)
        .args(["upgrade", "ps_typo_1"])
        .assert()
        .success();
    let before = db.schema_dump();
    assert_typo_named(p.migrate_on(&db.url).arg("upgrade").output().unwrap());
    assert_eq!(db.schema_dump(), before);
    // Caught before anything ran: no failed step to resolve, even on MySQL.
    p.migrate_on(&db.url).arg("status").assert().success();
}

#[test]
fn a_typo_is_named_with_a_suggestion_on_postgresql() {
    typo_on_server(Server::Postgres);
}

#[test]
fn a_typo_is_named_with_a_suggestion_on_mariadb() {
    typo_on_server(Server::Mysql);
}

const HALFWAY: &str = include_str!("fixtures/halfway.rs");

#[test]
fn status_and_current_tell_the_truth_about_a_failed_mariadb_revision() {
    let Some(db) = ServerDb::create(Server::Mysql) else {
        return;
    };
    let p = TestProject::init();
    p.add_revision("ps_half_1", "thing", THING);
    p.add_revision("ps_half_2", "breaks halfway", HALFWAY);
    p.build();
    p.migrate_on(&db.url)
        .args(["upgrade", "ps_half_1"])
        .assert()
        .success();
    p.migrate_on(&db.url)
        .arg("status")
        .assert()
        .success()
        .stdout(contains("Current: ps_half_1"))
        .stdout(contains("Pending: 1"))
        .stdout(contains("ps_half_2 breaks halfway"));
    // The failure lists the statements that stay applied.
    let out = p.migrate_on(&db.url).arg("upgrade").output().unwrap();
    let err = common::stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("Statements 1-2 of 4 took effect and stay applied"),
        "{err}"
    );
    assert!(err.contains("1. CREATE TABLE `fresh`"), "{err}");
    assert!(
        err.contains("2. ALTER TABLE `thing` ADD COLUMN `extra`"),
        "{err}"
    );
    for verb in ["status", "current"] {
        let out = p.migrate_on(&db.url).arg(verb).output().unwrap();
        let text = common::stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{verb}: {text}");
        assert!(
            text.contains("FAILED: the upgrade of revision ps_half_2"),
            "{verb}: {text}"
        );
        assert!(text.contains("CREATE TABLE broken ("), "{verb}: {text}");
        assert!(
            text.contains("statements 1-2 of 4 took effect; 3 and 4 did not"),
            "{verb}: {text}"
        );
        assert!(
            text.contains("done 2. ALTER TABLE `thing` ADD COLUMN `extra`"),
            "{verb}: {text}"
        );
        assert!(
            text.contains("migrate resolve ps_half_2 --rolled-back"),
            "{verb}: {text}"
        );
    }
    // Once the revision files are older than the metadata index by its margin, `current`
    // takes the heads from the index (`heads_summary`) and reads the project only for the
    // failed step: what it says is what it says with no index.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    p.migrate_on(&db.url).arg("heads").assert().success();
    let current = |args: &[&str]| {
        let out = p.migrate_on(&db.url).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        common::stdout(&out)
    };
    let verbs: [&[&str]; 3] = [
        &["current"],
        &["current", "--verbose"],
        &["current", "--json"],
    ];
    let from_index: Vec<String> = verbs.iter().map(|args| current(args)).collect();
    let from_files = common::outputs_without_metadata_index(&p, &verbs, current);
    assert_eq!(from_index, from_files);
    assert!(
        from_index[0].contains("FAILED: the upgrade of revision ps_half_2"),
        "{}",
        from_index[0]
    );
    assert!(from_index[2].contains("ps_half_2"), "{}", from_index[2]);
    // `resolve` without a flag lists the choices, each said for the step's direction.
    p.migrate_on(&db.url)
        .args(["resolve", "ps_half_2"])
        .assert()
        .failure()
        .stderr(contains("say what to do with the step"))
        .stderr(contains(
            "`migrate resolve ps_half_2 --continue` runs the statements that did not take effect, then records \
             the upgrade as done",
        ))
        .stderr(contains(
            "`migrate resolve ps_half_2 --undo` takes back those that did, then records the upgrade as not run",
        ))
        .stderr(contains(
            "migrate resolve ps_half_2 --applied` if you completed the upgrade's changes by hand",
        ))
        .stderr(contains(
            "migrate resolve ps_half_2 --rolled-back` if you undid them by hand",
        ));
    // The failed statement is raw SQL that fails again: continuing fails the same way, and
    // the step stays marked, the same as before.
    p.migrate_on(&db.url)
        .args(["resolve", "ps_half_2", "--continue"])
        .assert()
        .failure()
        .stderr(contains("CREATE TABLE broken ("));
    assert_eq!(db.user_tables(), vec!["fresh", "thing"]);
    // Taken back with no hand edit: the two statements that took effect are reversed.
    p.migrate_on(&db.url)
        .args(["resolve", "ps_half_2", "--undo"])
        .assert()
        .success()
        .stdout(contains(
            "Took back the 2 statement(s) of the upgrade of ps_half_2",
        ));
    assert_eq!(db.user_tables(), vec!["thing"]);
    assert!(!db.column_names("thing").contains(&"extra".to_string()));
    p.migrate_on(&db.url).arg("status").assert().success();
    p.migrate_on(&db.url).arg("current").assert().success();
}

#[test]
fn a_mariadb_step_refused_before_it_starts_is_told_as_not_started_and_reruns() {
    let Some(db) = ServerDb::create(Server::Mysql) else {
        return;
    };
    let p = two_revisions();
    p.migrate_on(&db.url)
        .args(["upgrade", "ps_1"])
        .assert()
        .success();
    // The in-progress mark, written before a step's first statement, is refused.
    db.run_script(
        "CREATE TRIGGER no_marks BEFORE INSERT ON migrate_incomplete FOR EACH ROW \
         SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no marks today'",
    );
    let out = p.migrate_on(&db.url).arg("upgrade").output().unwrap();
    let err = common::stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains(
            "upgrade() did not start: none of its statements ran and nothing is marked, so \
             rerunning starts it afresh"
        ) && err.contains("no marks today"),
        "{err}"
    );
    assert!(!err.contains("took effect"), "{err}");
    assert_eq!(db.column_names("thing"), ["id"]);
    assert_eq!(
        db.query("SELECT COUNT(*) FROM migrate_incomplete"),
        strings(&[&["0"]])
    );
    p.migrate_on(&db.url).arg("status").assert().success();
    db.run_script("DROP TRIGGER no_marks");
    p.migrate_on(&db.url).arg("upgrade").assert().success();
    assert_eq!(db.column_names("thing"), ["id", "label"]);
}
