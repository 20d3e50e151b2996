//! Enum types (issue 14): a named enum made with its first column and dropped after its last
//! (PostgreSQL's `CREATE TYPE`), an `ENUM(...)` column (MySQL) or a named CHECK (SQLite);
//! values added and removed with `op::alter_enum`; a column moved from one enum to another;
//! rows kept both ways on all three databases; the catalog read back matches the model; and
//! autogenerate writes the ops.

use crate::common;

use common::servers::{Server, ServerDb};
use common::TestProject;
use predicates::str::contains;

/// A ticket table whose status is an enum, with two rows.
const TICKETS: &str = r#"
#![no_std]
use migrate_guest_sdk::prelude::*;
fn upgrade() -> Result {
    op::create_table(
        Table::new("ticket")
            .column(Column::new("id", Type::Integer).primary_key())
            .column(Column::new("title", Type::Text))
            .column(Column::new("status", Type::enumeration("status", ["open", "closed"])).not_null().default_value("open")),
    );
    op::bulk_insert("ticket", &["id", "title", "status"], vec![
        vec![1.into(), "first".into(), "open".into()],
        vec![2.into(), "second".into(), "closed".into()],
    ]);
    Ok(())
}
fn downgrade() -> Result {
    op::drop_table("ticket");
    Ok(())
}
migrate_guest_sdk::revision!(upgrade, downgrade);
"#;

fn project() -> TestProject {
    let p = TestProject::init();
    p.add_revision("en_1", "tickets", TICKETS);
    p.add_revision(
        "en_2",
        "a status between",
        &common::guest_both_ways(
            r#"op::alter_enum("status", ["open", "pending", "closed"]); "#,
            r#"op::alter_enum("status", ["open", "closed"]); "#,
            "en_2",
        ),
    );
    p.add_revision(
        "en_3",
        "a priority",
        &common::guest_both_ways(
            r#"op::add_column("ticket", Column::new("priority", Type::enumeration("priority", ["low", "high"]))); "#,
            r#"op::drop_column("ticket", "priority"); "#,
            "en_3",
        ),
    );
    p.add_revision(
        "en_4",
        "status becomes a ticket_state",
        &common::guest_both_ways(
            r#"op::alter_column(AlterColumn::new("ticket", "status").set_type(Type::enumeration("ticket_state", ["open", "pending", "closed", "archived"]))); "#,
            r#"op::alter_column(AlterColumn::new("ticket", "status").set_type(Type::enumeration("status", ["open", "pending", "closed"]))); "#,
            "en_4",
        ),
    );
    p.build();
    p
}

/// The schema at en_4, as the model says it.
const MODEL: &str = "
CREATE TABLE ticket (
    id INTEGER PRIMARY KEY,
    title TEXT,
    status ticket_state NOT NULL DEFAULT 'open',
    priority priority
);
CREATE TYPE ticket_state AS ENUM ('open', 'pending', 'closed', 'archived');
CREATE TYPE priority AS ENUM ('low', 'high');
";

/// What each database is asked to run, offline.
#[test]
fn each_database_gets_its_own_enum_sql() {
    let p = project();
    let sql =
        |dialect: &str, range: &str| p.printed(&["upgrade", "--sql", "--dialect", dialect, range]);
    let postgres = sql("postgresql", "head");
    for expected in [
        r#"CREATE TYPE "status" AS ENUM ('open', 'closed')"#,
        r#""status" "status" NOT NULL DEFAULT 'open'"#,
        r#"ALTER TYPE "status" ADD VALUE 'pending' BEFORE 'closed'"#,
        r#"CREATE TYPE "priority" AS ENUM ('low', 'high')"#,
        r#"ALTER TABLE "ticket" ADD COLUMN "priority" "priority""#,
        r#"CREATE TYPE "ticket_state" AS ENUM ('open', 'pending', 'closed', 'archived')"#,
        r#"ALTER TABLE "ticket" ALTER COLUMN "status" DROP DEFAULT"#,
        r#"ALTER TABLE "ticket" ALTER COLUMN "status" TYPE "ticket_state" USING "status"::text::"ticket_state""#,
        r#"ALTER TABLE "ticket" ALTER COLUMN "status" SET DEFAULT 'open'"#,
        r#"DROP TYPE "status""#,
    ] {
        assert!(postgres.contains(expected), "{expected}\nin\n{postgres}");
    }
    // The type is made before the table and dropped after the column moved off it.
    let at = |text: &str| postgres.find(text).unwrap();
    assert!(at(r#"CREATE TYPE "status""#) < at(r#"CREATE TABLE "ticket""#));
    assert!(at(r#"USING "status"::text::"ticket_state""#) < at(r#"DROP TYPE "status""#));

    let mariadb = sql("mariadb", "head");
    for expected in [
        "`status` ENUM('open', 'closed') NOT NULL DEFAULT 'open'",
        "ALTER TABLE `ticket` MODIFY COLUMN `status` ENUM('open', 'pending', 'closed') NOT NULL DEFAULT 'open'",
        "ALTER TABLE `ticket` ADD COLUMN `priority` ENUM('low', 'high')",
        "ALTER TABLE `ticket` MODIFY COLUMN `status` ENUM('open', 'pending', 'closed', 'archived') NOT NULL DEFAULT 'open'",
    ] {
        assert!(mariadb.contains(expected), "{expected}\nin\n{mariadb}");
    }
    assert!(!mariadb.contains("CREATE TYPE"), "{mariadb}");

    let sqlite = sql("sqlite", "head");
    for expected in [
        r#""status" TEXT NOT NULL DEFAULT 'open' CONSTRAINT "status" CHECK ("status" IN ('open', 'closed'))"#,
        r#"CONSTRAINT "status" CHECK ("status" IN ('open', 'pending', 'closed'))"#,
        r#"ALTER TABLE "ticket" ADD COLUMN "priority" TEXT CONSTRAINT "priority" CHECK ("priority" IN ('low', 'high'))"#,
        r#"CONSTRAINT "ticket_state" CHECK ("status" IN ('open', 'pending', 'closed', 'archived'))"#,
    ] {
        assert!(sqlite.contains(expected), "{expected}\nin\n{sqlite}");
    }

    // Removing a value: PostgreSQL makes the type anew and moves the column over.
    let down = p.printed(&["downgrade", "--sql", "--dialect", "postgresql", "en_2:en_1"]);
    for expected in [
        r#"ALTER TYPE "status" RENAME TO "status__migrate_old""#,
        r#"CREATE TYPE "status" AS ENUM ('open', 'closed')"#,
        r#"ALTER TABLE "ticket" ALTER COLUMN "status" TYPE "status" USING "status"::text::"status""#,
        r#"DROP TYPE "status__migrate_old""#,
    ] {
        assert!(down.contains(expected), "{expected}\nin\n{down}");
    }
}

/// Runs a statement on the database under test, rows as text, or the database's refusal.
type Query<'a> = dyn Fn(&str) -> Result<Vec<Vec<String>>, String> + 'a;

/// Upgrade, rows and refusals, the catalog against the model, then back down step by step with
/// the rows kept.
fn round_trip(
    p: &TestProject,
    url: &str,
    query: &Query,
    enum_values: &dyn Fn(&str) -> Vec<String>,
    text_type: &str,
) {
    let rows = || {
        query(&format!(
            "SELECT id, CAST(status AS {text_type}) FROM ticket ORDER BY id"
        ))
        .unwrap()
        .into_iter()
        .map(|r| r.join(":"))
        .collect::<Vec<_>>()
    };
    p.migrate_on(url)
        .args(["upgrade", "en_2"])
        .assert()
        .success();
    assert_eq!(enum_values("status"), ["open", "pending", "closed"]);
    // The new value is usable from the next revision on (PostgreSQL's rule, the same everywhere).
    query("INSERT INTO ticket (id, title, status) VALUES (3, 'third', 'pending')").unwrap();
    query("DELETE FROM ticket WHERE id = 3").unwrap();

    p.migrate_on(url).arg("upgrade").assert().success();
    assert_eq!(
        enum_values("ticket_state"),
        ["open", "pending", "closed", "archived"]
    );
    assert_eq!(enum_values("priority"), ["low", "high"]);
    assert_eq!(rows(), ["1:open", "2:closed"]);
    let refused = query("INSERT INTO ticket (id, title, status) VALUES (9, 'bad', 'lost')");
    assert!(refused.is_err(), "a value outside the enum was stored");
    query(
        "INSERT INTO ticket (id, title, status, priority) VALUES (4, 'fourth', 'archived', 'high')",
    )
    .unwrap();
    query("DELETE FROM ticket WHERE id = 4").unwrap();

    // The catalog read back is the model: nothing lost, nothing invented.
    std::fs::write(p.path().join("schema.sql"), MODEL).unwrap();
    p.assert_model_matches(url);
    std::fs::write(
        p.path().join("schema.sql"),
        MODEL.replace("'low', 'high'", "'low', 'medium', 'high'"),
    )
    .unwrap();
    p.assert_model_differs(url, "priority");

    // Back down, one step at a time, the rows kept.
    p.migrate_on(url)
        .args(["downgrade", "en_3"])
        .assert()
        .success();
    assert_eq!(enum_values("status"), ["open", "pending", "closed"]);
    assert_eq!(rows(), ["1:open", "2:closed"]);
    p.migrate_on(url)
        .args(["downgrade", "en_1"])
        .assert()
        .success();
    assert_eq!(enum_values("status"), ["open", "closed"]);
    assert_eq!(rows(), ["1:open", "2:closed"]);
    // A row holding a value the downgrade removes stops it, and nothing is lost.
    p.migrate_on(url)
        .args(["upgrade", "en_2"])
        .assert()
        .success();
    query("UPDATE ticket SET status = 'pending' WHERE id = 1").unwrap();
    p.migrate_on(url)
        .args(["downgrade", "en_1"])
        .assert()
        .failure()
        .stderr(contains("en_2"));
    assert_eq!(rows(), ["1:pending", "2:closed"]);
    if url.starts_with("mysql") {
        // No transactional DDL: the failed step is left for `resolve` (its statement did not
        // take effect, which the diagnosis says).
        p.migrate_on(url)
            .args(["resolve", "en_2", "--undo"])
            .assert()
            .success();
    }
    query("UPDATE ticket SET status = 'open' WHERE id = 1").unwrap();
    p.migrate_on(url)
        .args(["downgrade", "base"])
        .assert()
        .success();
}

#[test]
fn enums_round_trip_on_sqlite() {
    let p = project();
    let db = p.path().join("en.db");
    let url = format!("sqlite://{}", db.display());
    let query = |sql: &str| common::try_query_sqlite(&db, sql).map_err(|e| e.to_string());
    // SQLite keeps the values in the column's CHECK, named after the enum.
    let enum_values = |name: &str| {
        let sql = common::query_sqlite(&db, "SELECT sql FROM sqlite_master WHERE name = 'ticket'");
        let sql = &sql[0][0];
        let marker = format!("CONSTRAINT \"{name}\" CHECK (");
        let at = sql
            .find(&marker)
            .unwrap_or_else(|| panic!("no {marker} in {sql}"));
        let list = &sql[at + marker.len()..];
        let list = &list[list.find("IN (").unwrap() + 4..list.find("))").unwrap()];
        list.split(", ")
            .map(|v| v.trim_matches('\'').to_string())
            .collect()
    };
    round_trip(&p, &url, &query, &enum_values, "TEXT");
}

#[test]
fn enums_round_trip_on_postgresql() {
    let Some(db) = ServerDb::create(Server::Postgres) else {
        return;
    };
    let p = project();
    let query = |sql: &str| db.try_query(sql).map_err(|e| e.to_string());
    let enum_values = |name: &str| {
        db.query(&format!(
            "SELECT e.enumlabel::text FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid \
             WHERE t.typname = '{name}' ORDER BY e.enumsortorder"
        ))
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
    };
    round_trip(&p, &db.url, &query, &enum_values, "TEXT");
    // Every type went with the last column that used it.
    assert_eq!(
        db.query("SELECT t.typname::text FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype = 'e' AND n.nspname = current_schema()"),
        Vec::<Vec<String>>::new()
    );
}

#[test]
fn enums_round_trip_on_mariadb() {
    let Some(db) = ServerDb::create(Server::Mysql) else {
        return;
    };
    let p = project();
    let query = |sql: &str| db.try_query(sql).map_err(|e| e.to_string());
    // MySQL keeps the values in the column's type; the enum's name is the test's way to say which.
    let enum_values = |name: &str| {
        let column = match name {
            "priority" => "priority",
            _ => "status",
        };
        let t = db.query(&format!(
            "SELECT CAST(COLUMN_TYPE AS CHAR) FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'ticket' AND COLUMN_NAME = '{column}'"
        ));
        let t = &t[0][0];
        t.trim_start_matches("enum(")
            .trim_end_matches(')')
            .split(',')
            .map(|v| v.trim_matches('\'').to_string())
            .collect()
    };
    round_trip(&p, &db.url, &query, &enum_values, "CHAR");
}

/// A model with an enum: autogenerate writes the table with it, then `alter_enum` when a value
/// is added, and both run and match.
#[test]
fn autogenerate_writes_enums_and_their_changes() {
    let p = TestProject::init();
    let url = format!("sqlite://{}", p.db_path().display());
    let model = "CREATE TYPE mood AS ENUM ('sad', 'ok');\n\
                 CREATE TABLE person (id INTEGER PRIMARY KEY, mood mood NOT NULL DEFAULT 'ok');\n";
    std::fs::write(p.path().join("schema.sql"), model).unwrap();
    p.migrate_on(&url)
        .args(["new", "--autogenerate", "--rev-id", "ag_1", "-m", "people"])
        .assert()
        .success();
    let code = std::fs::read_to_string(p.revision_dir("ag_1").join("src/lib.rs")).unwrap();
    assert!(
        code.contains(r#"Type::enumeration("mood", ["sad", "ok"])"#),
        "{code}"
    );
    p.build();
    p.migrate_on(&url).arg("upgrade").assert().success();
    p.assert_model_matches(&url);

    std::fs::write(
        p.path().join("schema.sql"),
        model.replace("'sad', 'ok'", "'sad', 'ok', 'happy'"),
    )
    .unwrap();
    p.migrate_on(&url)
        .args(["new", "--autogenerate", "--rev-id", "ag_2", "-m", "happy"])
        .assert()
        .success();
    let code = std::fs::read_to_string(p.revision_dir("ag_2").join("src/lib.rs")).unwrap();
    assert!(
        code.contains(r#"op::alter_enum("mood", ["sad", "ok", "happy"]);"#),
        "{code}"
    );
    assert!(
        code.contains(r#"op::alter_enum("mood", ["sad", "ok"]);"#),
        "{code}"
    );
    p.build();
    p.migrate_on(&url).arg("upgrade").assert().success();
    p.query("INSERT INTO person (id, mood) VALUES (1, 'happy')");
    p.assert_model_matches(&url);
}

/// What cannot be an enum is refused when recorded, and one enum keeps one list of values.
#[test]
fn malformed_enums_are_refused_by_name() {
    let p = TestProject::init();
    p.add_revision(
        "enb_1",
        "twice",
        &common::guest(
            r#"op::create_table(Table::new("a").column(Column::new("m", Type::enumeration("mood", ["x", "x"])))); Ok(())"#,
        ),
    );
    p.build();
    p.migrate()
        .args(["upgrade", "--sql", "--dialect", "sqlite"])
        .assert()
        .failure()
        .stderr(contains("enb_1"))
        .stderr(contains("\"x\" is listed twice"));

    let p = TestProject::init();
    p.add_revision(
        "enc_1",
        "two lists",
        &common::guest(
            r#"op::create_table(Table::new("a").column(Column::new("m", Type::enumeration("mood", ["x", "y"]))));
            op::create_table(Table::new("b").column(Column::new("m", Type::enumeration("mood", ["x"]))));
            Ok(())"#,
        ),
    );
    p.build();
    p.migrate()
        .args(["upgrade", "--sql", "--dialect", "postgresql"])
        .assert()
        .failure()
        .stderr(contains("enc_1"))
        .stderr(contains("op::alter_enum"));
}

/// A data migration reads an enum column as its text (PostgreSQL's enum types are unknown to
/// the driver: the host casts them) and writes it back by value.
#[test]
fn a_data_migration_reads_and_writes_an_enum_column_on_postgresql() {
    let Some(db) = ServerDb::create(Server::Postgres) else {
        return;
    };
    let p = TestProject::init();
    p.add_revision("end_1", "tickets", TICKETS);
    p.add_revision(
        "end_2",
        "close the open ones",
        &common::guest(
            r#"let mut rows = data::batches("ticket", &["status"], &["id"], 10);
            while let Some(batch) = rows.next_batch()? {
                let closed = batch.rows()
                    .filter(|r| r.text("status") == Some("open"))
                    .map(|r| vec![r.get("id").clone(), "closed".into()])
                    .collect();
                op::update_rows("ticket", &["id"], &["status"], closed);
            }
            Ok(())"#,
        ),
    );
    p.build();
    p.migrate_on(&db.url).arg("upgrade").assert().success();
    assert_eq!(
        db.query("SELECT id::text, status::text FROM ticket ORDER BY id"),
        common::strings(&[&["1", "closed"], &["2", "closed"]])
    );
}
