//! Revisions that know their database (issue 13, parts 1 and 2): the `target` interface, raw SQL
//! quoted for the target, statements for some databases only, and ops, caches and checksums
//! keyed by the target only for revisions that ask.

use crate::common;

use common::servers::{Server, ServerDb};
use common::{strings, TestProject};
use predicates::str::contains;

const KNOWS: &str = include_str!("fixtures/knows_its_database.rs");
const THING: &str = include_str!("fixtures/thing.rs");

fn project() -> TestProject {
    let p = TestProject::init();
    p.add_revision("tg_knows", "knows its database", KNOWS);
    p.build();
    p
}

/// The checksum `show` prints for `--dialect d`.
fn checksum(p: &TestProject, id: &str, dialect: &str) -> String {
    let out = p
        .migrate()
        .args(["show", id, "--dialect", dialect])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    common::stdout(&out)
        .lines()
        .find_map(|l| l.strip_prefix("Checksum: ").map(str::to_string))
        .expect("show prints the checksum")
}

#[test]
fn a_revision_knows_its_database_on_sqlite() {
    let p = project();
    p.migrate().arg("upgrade").assert().success();
    let version = p.query("SELECT sqlite_version()")[0][0].clone();
    assert_eq!(
        p.query("SELECT dialect, \"order\", \"key\" FROM target_info"),
        strings(&[&["sqlite", &version, "it's a back\\slash"]])
    );
}

fn knows_its_database_on(server: Server) {
    let Some(db) = ServerDb::create(server) else {
        return;
    };
    let p = project();
    p.migrate_on(&db.url).arg("upgrade").assert().success();
    match server {
        Server::Postgres => {
            let version = db.query("SELECT current_setting('server_version')")[0][0].clone();
            assert_eq!(
                db.query("SELECT dialect, \"order\", \"key\" FROM target_info"),
                strings(&[&["postgresql", &version, "it's a back\\slash"]])
            );
            assert_eq!(
                db.query("SELECT obj_description('target_info'::regclass, 'pg_class')"),
                strings(&[&["for PostgreSQL only"]])
            );
        }
        Server::Mysql => {
            // MariaDB is told apart from MySQL, and `order`/`key` work quoted with backticks;
            // the backslash survives MySQL's escaping.
            let version = db.query("SELECT VERSION()")[0][0].clone();
            let dialect = if version.to_ascii_lowercase().contains("mariadb") {
                "mariadb"
            } else {
                "mysql"
            };
            assert_eq!(
                db.query("SELECT dialect, `order`, `key` FROM target_info"),
                strings(&[&[dialect, &version, "it's a back\\slash"]])
            );
        }
    }
    // Verified as applied for this database: upgrading again finds nothing changed.
    p.migrate_on(&db.url)
        .arg("upgrade")
        .assert()
        .success()
        .stderr(contains("Nothing to do"));
}

#[test]
fn a_revision_knows_its_database_on_postgresql() {
    knows_its_database_on(Server::Postgres);
}

#[test]
fn a_revision_knows_its_database_on_mariadb() {
    knows_its_database_on(Server::Mysql);
}

#[test]
fn offline_sql_is_per_dialect_and_says_there_is_no_server_version() {
    let p = project();
    // One warm cache across the runs: a dialect's ops are never served for another.
    for (dialect, expected, pg_only) in [
        ("sqlite", "('sqlite', 'none', 'it''s a back\\slash')", false),
        (
            "postgresql",
            "('postgresql', 'none', 'it''s a back\\slash')",
            true,
        ),
        ("mysql", "('mysql', 'none', 'it''s a back\\\\slash')", false),
        (
            "mariadb",
            "('mariadb', 'none', 'it''s a back\\\\slash')",
            false,
        ),
        ("sqlite", "('sqlite', 'none', 'it''s a back\\slash')", false),
    ] {
        let out = p
            .migrate()
            .args(["upgrade", "--sql", "--dialect", dialect])
            .output()
            .unwrap();
        let sql = common::stdout(&out);
        assert!(out.status.success(), "{}", common::stderr(&out));
        assert!(sql.contains(expected), "{dialect}: {sql}");
        assert_eq!(
            sql.contains("COMMENT ON TABLE"),
            pg_only,
            "{dialect}: {sql}"
        );
    }
}

#[test]
fn checksums_differ_per_dialect_only_for_revisions_that_ask() {
    let p = project();
    p.add_revision("tg_plain", "asks nothing", THING);
    p.build();
    let plain: Vec<String> = ["sqlite", "postgresql", "mysql", "mariadb"]
        .iter()
        .map(|d| checksum(&p, "tg_plain", d))
        .collect();
    assert!(plain.iter().all(|c| c == &plain[0]), "{plain:?}");
    let asks: Vec<String> = ["sqlite", "postgresql", "mysql", "mariadb"]
        .iter()
        .map(|d| checksum(&p, "tg_knows", d))
        .collect();
    for (i, a) in asks.iter().enumerate() {
        for b in &asks[i + 1..] {
            assert_ne!(a, b, "{asks:?}");
        }
    }
    p.migrate()
        .args(["show", "tg_plain"])
        .assert()
        .success()
        .stdout(contains("Depends on the database: no"));
    // Without --dialect, a revision that asks is shown for every database.
    p.migrate()
        .args(["show", "tg_knows"])
        .assert()
        .success()
        .stdout(contains("Depends on the database: yes"))
        .stdout(contains("For sqlite (offline: no server version)"))
        .stdout(contains("For postgresql"))
        .stdout(contains("For mysql"))
        .stdout(contains("For mariadb"));
}

/// The shipped revisions do not ask for their target: their checksums are exactly those
/// recorded before the `target` interface existed.
#[test]
fn the_shipped_chain_keeps_its_checksums() {
    let p = TestProject::shipped_chain();
    p.build();
    for dialect in ["sqlite", "postgresql", "mysql", "mariadb"] {
        assert_eq!(
            checksum(&p, "cf0f5b45967", dialect),
            "127a6042ebb284f711688520272d805cc14f8b161a89eb7d23dfccbaaf0129f1"
        );
        assert_eq!(
            checksum(&p, "20f04b9598da", dialect),
            "e0a995a5c996a0e6239d230871b45f4d7bb1b59fafc5f71e73c77af93a37f34b"
        );
    }
}
