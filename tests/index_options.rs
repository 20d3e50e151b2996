//! Index options (issue 14): DESC parts, expressions, partial indexes, INCLUDE columns and MySQL
//! prefix lengths — rendered natively on each database, read back from its catalog, compared
//! with the model with no difference, refused by name where a database cannot make them, and
//! written by autogenerate.

use crate::common;

use common::servers::{Server, ServerDb};
use common::TestProject;
use predicates::str::contains;

const MEMBERS: &str = r#"
#![no_std]
use migrate_guest_sdk::prelude::*;
fn upgrade() -> Result {
    op::create_table(
        Table::new("member")
            .column(Column::new("id", Type::Integer).primary_key())
            .column(Column::new("email", Type::Varchar(120)))
            .column(Column::new("bio", Type::Text))
            .column(Column::new("created_at", Type::Timestamp))
            .column(Column::new("deleted_at", Type::Timestamp))
            .column(Column::new("score", Type::Integer)),
    );
    Ok(())
}
fn downgrade() -> Result {
    op::drop_table("member");
    Ok(())
}
migrate_guest_sdk::revision!(upgrade, downgrade);
"#;

/// Every option each database can make; MariaDB gets what it has.
const INDEXES: &str = r#"
#![no_std]
use migrate_guest_sdk::prelude::*;
fn upgrade() -> Result {
    op::create_index(Index::new("ix_member_recent", "member", ["created_at", "id"]).descending("created_at"));
    op::create_index(Index::new("ix_member_bio", "member", ["bio"]).prefix("bio", 20));
    if !matches!(target::dialect(), Dialect::Mysql | Dialect::Mariadb) {
        op::create_index(Index::new("ix_member_email_lower", "member", [] as [&str; 0]).expression("lower(email)"));
        op::create_index(
            Index::new("ix_member_live_email", "member", ["email"]).unique().where_clause("deleted_at IS NULL"),
        );
    }
    if target::dialect() == Dialect::Postgresql {
        op::create_index(Index::new("ix_member_score", "member", ["score"]).include(["email"]));
    }
    Ok(())
}
fn downgrade() -> Result {
    op::drop_index("ix_member_recent", "member");
    op::drop_index("ix_member_bio", "member");
    if !matches!(target::dialect(), Dialect::Mysql | Dialect::Mariadb) {
        op::drop_index("ix_member_email_lower", "member");
        op::drop_index("ix_member_live_email", "member");
    }
    if target::dialect() == Dialect::Postgresql {
        op::drop_index("ix_member_score", "member");
    }
    Ok(())
}
migrate_guest_sdk::revision!(upgrade, downgrade);
"#;

fn project() -> TestProject {
    let p = TestProject::init();
    p.add_revision("ix_1", "members", MEMBERS);
    p.add_revision("ix_2", "indexes with options", INDEXES);
    p.build();
    p
}

/// The model of the same schema, as each database can have it.
fn model(dialect: &str) -> String {
    let mut text = String::from(
        "CREATE TABLE member (
    id INTEGER PRIMARY KEY,
    email VARCHAR(120),
    bio TEXT,
    created_at TIMESTAMP,
    deleted_at TIMESTAMP,
    score INTEGER
);
CREATE INDEX ix_member_recent ON member (created_at DESC, id);
",
    );
    text.push_str(if dialect == "mysql" {
        "CREATE INDEX ix_member_bio ON member (bio(20));\n"
    } else {
        "CREATE INDEX ix_member_bio ON member (bio);\n"
    });
    if dialect != "mysql" {
        text.push_str("CREATE INDEX ix_member_email_lower ON member (lower(email));\n");
        text.push_str(
            "CREATE UNIQUE INDEX ix_member_live_email ON member (email) WHERE deleted_at IS NULL;\n",
        );
    }
    if dialect == "postgresql" {
        text.push_str("CREATE INDEX ix_member_score ON member (score) INCLUDE (email);\n");
    }
    text
}

#[test]
fn each_database_gets_the_sql_it_understands() {
    let p = project();
    let sql = |dialect: &str| p.printed(&["upgrade", "--sql", "--dialect", dialect]);
    let postgres = sql("postgresql");
    for expected in [
        r#"CREATE INDEX "ix_member_recent" ON "member" ("created_at" DESC, "id")"#,
        r#"CREATE INDEX "ix_member_bio" ON "member" ("bio")"#,
        r#"CREATE INDEX "ix_member_email_lower" ON "member" ((lower(email)))"#,
        r#"CREATE UNIQUE INDEX "ix_member_live_email" ON "member" ("email") WHERE deleted_at IS NULL"#,
        r#"CREATE INDEX "ix_member_score" ON "member" ("score") INCLUDE ("email")"#,
    ] {
        assert!(postgres.contains(expected), "{expected}\nin\n{postgres}");
    }
    let mariadb = sql("mariadb");
    assert!(
        mariadb.contains("CREATE INDEX `ix_member_bio` ON `member` (`bio`(20))"),
        "{mariadb}"
    );
    assert!(
        mariadb.contains("CREATE INDEX `ix_member_recent` ON `member` (`created_at` DESC, `id`)"),
        "{mariadb}"
    );
    let sqlite = sql("sqlite");
    assert!(
        sqlite.contains(r#"CREATE UNIQUE INDEX "ix_member_live_email" ON "member" ("email") WHERE deleted_at IS NULL"#),
        "{sqlite}"
    );
    assert!(!sqlite.contains("INCLUDE"), "{sqlite}");
}

fn round_trip(p: &TestProject, url: &str, dialect: &str) {
    p.migrate_on(url).arg("upgrade").assert().success();
    std::fs::write(p.path().join("schema.sql"), model(dialect)).unwrap();
    // The catalog read back matches the model: nothing lost, nothing invented.
    p.assert_model_matches(url);
    // A difference in an option is seen.
    std::fs::write(
        p.path().join("schema.sql"),
        model(dialect).replace("created_at DESC, id", "created_at, id"),
    )
    .unwrap();
    p.assert_model_differs(url, "ix_member_recent");
    p.migrate_on(url)
        .args(["downgrade", "ix_1"])
        .assert()
        .success();
}

#[test]
fn options_round_trip_through_the_sqlite_catalog() {
    let p = project();
    let url = format!("sqlite://{}", p.path().join("ix.db").display());
    round_trip(&p, &url, "sqlite");
    let schema = common::query_sqlite(
        &p.path().join("ix.db"),
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'member'",
    );
    assert!(schema.is_empty(), "dropped again: {schema:?}");
}

#[test]
fn options_round_trip_through_the_postgresql_catalog() {
    let Some(db) = ServerDb::create(Server::Postgres) else {
        return;
    };
    let p = project();
    p.migrate_on(&db.url).arg("upgrade").assert().success();
    let definitions: Vec<String> = db
        .query(
            "SELECT indexdef::text FROM pg_indexes WHERE tablename = 'member' ORDER BY indexname",
        )
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let all = definitions.join("\n");
    for expected in [
        "(created_at DESC, id)",
        "(lower((email)::text))",
        "WHERE (deleted_at IS NULL)",
        "INCLUDE (email)",
    ] {
        assert!(all.contains(expected), "{expected} in\n{all}");
    }
    p.migrate_on(&db.url)
        .args(["downgrade", "ix_1"])
        .assert()
        .success();
    round_trip(&p, &db.url, "postgresql");
}

#[test]
fn options_round_trip_through_the_mariadb_catalog() {
    let Some(db) = ServerDb::create(Server::Mysql) else {
        return;
    };
    let p = project();
    p.migrate_on(&db.url).arg("upgrade").assert().success();
    let parts = db.query(
        "SELECT CAST(INDEX_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), CAST(COLLATION AS CHAR), CAST(SUB_PART AS CHAR) \
         FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'member' \
         AND INDEX_NAME LIKE 'ix_%' ORDER BY INDEX_NAME, SEQ_IN_INDEX",
    );
    assert_eq!(
        parts,
        common::strings(&[
            &["ix_member_bio", "bio", "A", "20"],
            &["ix_member_recent", "created_at", "D", "NULL"],
            &["ix_member_recent", "id", "A", "NULL"],
        ])
    );
    p.migrate_on(&db.url)
        .args(["downgrade", "ix_1"])
        .assert()
        .success();
    round_trip(&p, &db.url, "mysql");
}

#[test]
fn what_a_database_cannot_make_is_refused_by_name_before_any_sql() {
    let p = TestProject::init();
    p.add_revision("ixr_1", "members", MEMBERS);
    p.add_revision(
        "ixr_2",
        "a partial index everywhere",
        &common::guest(
            r#"op::add_column("member", Column::new("added_first", Type::Integer));
            op::create_index(Index::new("ix_member_live", "member", ["email"]).where_clause("deleted_at IS NULL"));
            Ok(())"#,
        ),
    );
    p.add_revision(
        "ixr_3",
        "covering",
        &common::guest(
            r#"op::create_index(Index::new("ix_member_cover", "member", ["score"]).include(["email"]));
            Ok(())"#,
        ),
    );
    p.build();
    p.migrate()
        .args(["upgrade", "--sql", "--dialect", "mariadb"])
        .assert()
        .failure()
        .stderr(contains("revision ixr_2"))
        .stderr(contains("index \"ix_member_live\" is partial"));
    p.migrate()
        .args(["upgrade", "--sql", "--dialect", "sqlite"])
        .assert()
        .failure()
        .stderr(contains("revision ixr_3"))
        .stderr(contains("SQLite has none"));
    if let Some(db) = ServerDb::create(Server::Mysql) {
        p.migrate_on(&db.url).arg("upgrade").assert().failure();
        // Nothing of ixr_2 ran: MariaDB could not have rolled its first statement back.
        assert_eq!(
            db.query("SELECT revision FROM migrate_version"),
            common::strings(&[&["ixr_1"]])
        );
        assert!(!db
            .column_names("member")
            .contains(&"added_first".to_string()));
    }
    // A malformed option is refused when recorded, whatever the database.
    p.add_revision(
        "ixr_4",
        "two statements",
        &common::guest(
            r#"op::create_index(Index::new("ix_bad", "member", ["email"]).where_clause("1 = 1; DROP TABLE member"));
            Ok(())"#,
        ),
    );
    p.build();
    p.migrate()
        .args(["upgrade", "--sql", "--dialect", "postgresql", "ixr_3:ixr_4"])
        .assert()
        .failure()
        .stderr(contains("must be one expression"));
}

#[test]
fn autogenerate_writes_index_options_that_record_the_same_index() {
    let p = TestProject::init();
    p.add_revision("ixa_1", "members", MEMBERS);
    p.build();
    std::fs::write(p.path().join("schema.sql"), model("sqlite")).unwrap();
    p.migrate()
        .args([
            "new",
            "--autogenerate",
            "-m",
            "indexes",
            "--rev-id",
            "ixa_2",
        ])
        .assert()
        .success();
    let source = std::fs::read_to_string(p.revision_dir("ixa_2").join("src/lib.rs")).unwrap();
    for expected in [
        ".descending(\"created_at\")",
        ".expression(\"lower(email)\")",
        ".where_clause(\"deleted_at IS NULL\")",
    ] {
        assert!(source.contains(expected), "{expected} in\n{source}");
    }
    p.build();
    p.migrate().arg("upgrade").assert().success();
    // The revision makes what the model says: nothing left to generate.
    p.migrate().arg("check").assert().code(0);
    p.migrate().args(["check", "--database"]).assert().code(0);
}
