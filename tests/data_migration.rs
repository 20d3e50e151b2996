//! Data migrations (issue 13, part 4): `examples/data-migration` run for real on SQLite,
//! PostgreSQL and MariaDB, every row checked; its offline SQL per dialect; and the limits on
//! what a revision may read.

use crate::common;

use common::servers::{Server, ServerDb};
use common::{strings, TestProject};
use predicates::str::contains;

/// The example copied into a fresh folder (its SDK path made absolute), built.
fn example() -> TestProject {
    let project = TestProject {
        dir: tempfile::tempdir().unwrap(),
    };
    let source = common::repo_root().join("examples/data-migration");
    std::fs::copy(
        source.join("migrate.toml"),
        project.path().join("migrate.toml"),
    )
    .unwrap();
    let migrations = project.path().join("migrations");
    common::copy_dir(
        &source.join("migrations/versions"),
        &migrations.join("versions"),
    );
    let manifest = std::fs::read_to_string(source.join("migrations/Cargo.toml")).unwrap();
    let sdk = common::repo_root().join("guest-sdk");
    std::fs::write(
        migrations.join("Cargo.toml"),
        manifest.replace(
            "path = \"../../../guest-sdk\"",
            &format!("path = {:?}", sdk.display().to_string()),
        ),
    )
    .unwrap();
    project.build();
    project
}

/// Revision 2's rule, restated: the first word, then the rest (none for one word).
fn split(full_name: &str) -> (String, String) {
    match full_name.split_once(' ') {
        Some((first, rest)) => (first.to_string(), rest.to_string()),
        None => (full_name.to_string(), "NULL".to_string()),
    }
}

/// Every one of the 1000 rows: its first and last name are its full name split.
fn assert_every_row_split(rows: Vec<Vec<String>>) {
    assert_eq!(rows.len(), 1000);
    let mut one_word = 0;
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0], (i + 1).to_string());
        let (first, last) = split(&row[1]);
        assert_eq!((&row[2], &row[3]), (&first, &last), "row {row:?}");
        one_word += usize::from(last == "NULL");
    }
    // Some names have one word, some three: the rule was really exercised.
    assert_eq!(one_word, 10);
    assert!(rows.iter().any(|r| r[3].contains(' ')));
}

const EVERY_ROW: &str = "SELECT id, full_name, first_name, last_name FROM person ORDER BY id";

#[test]
fn the_example_splits_every_name_on_sqlite() {
    let p = example();
    p.migrate().arg("upgrade").assert().success();
    let db = p.path().join("people.db");
    assert_every_row_split(common::query_sqlite(&db, EVERY_ROW));
    let index = common::query_sqlite(
        &db,
        "SELECT sql FROM sqlite_master WHERE name = 'ix_person_last_name_ci'",
    );
    assert!(index[0][0].contains("COLLATE NOCASE"), "{index:?}");
    // Applied revisions verify: the data migration's checksum does not depend on the rows.
    p.migrate()
        .arg("upgrade")
        .assert()
        .success()
        .stderr(contains("Nothing to do"));
    p.migrate()
        .args(["downgrade", "d47a0c1e0001"])
        .assert()
        .success();
    assert_eq!(
        common::query_sqlite(&db, "SELECT count(*) FROM pragma_table_info('person')"),
        strings(&[&["2"]])
    );
    assert_eq!(
        common::query_sqlite(&db, "SELECT count(*) FROM person"),
        strings(&[&["1000"]])
    );
}

fn splits_every_name_on(server: Server) {
    let Some(db) = ServerDb::create(server) else {
        return;
    };
    let p = example();
    p.migrate_on(&db.url).arg("upgrade").assert().success();
    assert_every_row_split(db.query(EVERY_ROW));
    // Each database's own way (revision 3 branches on the dialect).
    let index = match server {
        Server::Postgres => {
            db.query("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_person_last_name_ci'")
        }
        Server::Mysql => db.query(
            "SELECT column_name FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND index_name = 'ix_person_last_name_ci'",
        ),
    };
    let expected = match server {
        Server::Postgres => "lower((last_name)::text)",
        Server::Mysql => "last_name",
    };
    assert!(
        index.len() == 1 && index[0][0].contains(expected),
        "{index:?}"
    );
    p.migrate_on(&db.url)
        .arg("upgrade")
        .assert()
        .success()
        .stderr(contains("Nothing to do"));
    p.migrate_on(&db.url)
        .args(["downgrade", "base"])
        .assert()
        .success();
    assert_eq!(db.user_tables(), Vec::<String>::new());
}

#[test]
fn the_example_splits_every_name_on_postgresql() {
    splits_every_name_on(Server::Postgres);
}

#[test]
fn the_example_splits_every_name_on_mariadb() {
    splits_every_name_on(Server::Mysql);
}

#[test]
fn offline_sql_prints_the_others_and_refuses_the_reading_revision_by_name() {
    let p = example();
    for dialect in ["sqlite", "postgresql", "mysql", "mariadb"] {
        let out = p
            .migrate()
            .args(["upgrade", "--sql", "--dialect", dialect])
            .output()
            .unwrap();
        let (sql, err) = (common::stdout(&out), common::stderr(&out));
        assert_eq!(out.status.code(), Some(1), "{dialect}: {err}");
        assert!(
            sql.contains("-- Running upgrade base -> d47a0c1e0001")
                && sql.contains("INSERT INTO")
                && sql.contains("ix_person_last_name_ci"),
            "{dialect}: {sql}"
        );
        assert!(
            sql.contains("-- NOT PRINTED: revision d47a0c1e0002"),
            "{dialect}: {sql}"
        );
        // Nothing of revision 2 is printed, and revision 3 is recorded after it.
        assert!(!sql.contains("first_name"), "{dialect}: {sql}");
        assert!(err.contains("revision d47a0c1e0002"), "{dialect}: {err}");
        assert!(err.contains("reads rows"), "{dialect}: {err}");
    }
    // Only the revision that branches on its database has a checksum per database.
    let checksum = |id: &str, dialect: &str| {
        let out = p
            .migrate()
            .args(["show", id, "--dialect", dialect])
            .output()
            .unwrap();
        common::stdout(&out)
            .lines()
            .find_map(|l| l.strip_prefix("Checksum: ").map(str::to_string))
            .unwrap()
    };
    assert_eq!(
        checksum("d47a0c1e0002", "sqlite"),
        checksum("d47a0c1e0002", "postgresql")
    );
    assert_ne!(
        checksum("d47a0c1e0003", "sqlite"),
        checksum("d47a0c1e0003", "postgresql")
    );
    // `show` says which revision reads.
    p.migrate()
        .args(["show", "d47a0c1e0002"])
        .assert()
        .success()
        .stdout(contains("Reads rows: yes"));
    p.migrate()
        .args(["show", "d47a0c1e0001"])
        .assert()
        .success()
        .stdout(contains("Reads rows: no"));
}

/// A project whose first revision makes `blob_rows(id, payload)` with `rows` rows of `width`
/// characters each, and whose second reads them back in batches of 20 and copies their length.
fn reading_project(prefix: &str, rows: usize, width: usize, settings: &str) -> TestProject {
    let p = TestProject::init();
    p.add_revision(
        &format!("{prefix}_make"),
        "rows to read",
        &common::guest(&format!(
            r#"op::create_table(Table::new("blob_rows")
                .column(Column::new("id", Type::Integer).primary_key())
                .column(Column::new("payload", Type::Text)));
            let rows = (0..{rows}i64).map(|i| vec![i.into(), "x".repeat({width}).into()]).collect();
            op::bulk_insert("blob_rows", &["id", "payload"], rows);
            Ok(())"#
        )),
    );
    p.add_revision(
        &format!("{prefix}_read"),
        "read them",
        &common::guest(
            r#"op::create_table(Table::new("made_by_reader").column(Column::new("id", Type::Integer)));
            op::add_column("blob_rows", Column::new("size", Type::Integer));
            let mut batches = data::batches("blob_rows", &["payload"], &["id"], 20);
            while let Some(batch) = batches.next_batch()? {
                let sizes = batch.rows().map(|r| {
                    vec![r.get("id").clone(), (r.text("payload").unwrap_or("").len() as i64).into()]
                }).collect();
                op::update_rows("blob_rows", &["id"], &["size"], sizes);
            }
            // Reads are SELECTs only.
            if data::query("DELETE FROM blob_rows", 10).is_ok() {
                return Err("a DELETE ran as a read".into());
            }
            let count = data::query("SELECT count(*) AS n FROM blob_rows", 1)?;
            // While the checksum's ops are recorded, reads return no rows: handle none.
            if let Some(row) = count.rows().next() {
                op::bulk_insert("made_by_reader", &["id"], vec![vec![row.get("n").clone()]]);
            }
            Ok(())"#,
        ),
    );
    std::fs::write(
        p.path().join("migrate.toml"),
        format!("database_url = \"sqlite://app.db\"\n{settings}"),
    )
    .unwrap();
    p.build();
    p
}

fn first_revision_only(p: &TestProject, prefix: &str) {
    assert_eq!(p.heads(), vec![format!("{prefix}_make")]);
    assert!(!p.tables().contains(&"made_by_reader".to_string()));
    assert!(!p.column_names("blob_rows").contains(&"size".to_string()));
}

#[test]
fn a_reading_revision_reads_in_batches_and_writes_what_it_computed() {
    let p = reading_project("rd_ok", 95, 10, "");
    p.migrate().arg("upgrade").assert().success();
    assert_eq!(
        p.query("SELECT count(*), min(size), max(size) FROM blob_rows"),
        strings(&[&["95", "10", "10"]])
    );
    assert_eq!(
        p.query("SELECT id FROM made_by_reader"),
        strings(&[&["95"]])
    );
}

#[test]
fn reading_more_rows_than_allowed_stops_and_rolls_back() {
    let p = reading_project("rd_rows", 100, 10, "[limits]\nread_rows = 50\n");
    let out = p.migrate().arg("upgrade").output().unwrap();
    let err = common::stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("revision rd_rows_read"), "{err}");
    assert!(err.contains("at most 50 rows"), "{err}");
    assert!(err.contains("read_rows"), "{err}");
    assert!(err.contains("rolled back"), "{err}");
    first_revision_only(&p, "rd_rows");
    // Nothing was half done: with the limit raised, the rerun completes.
    std::fs::write(
        p.path().join("migrate.toml"),
        "database_url = \"sqlite://app.db\"\n",
    )
    .unwrap();
    p.migrate().arg("upgrade").assert().success();
    assert_eq!(
        p.query("SELECT id FROM made_by_reader"),
        strings(&[&["100"]])
    );
}

#[test]
fn reading_more_bytes_than_allowed_stops_and_rolls_back() {
    // 1000 rows of 2 KB: 2 MB to read, 1 MiB allowed.
    let p = reading_project("rd_bytes", 1000, 2000, "[limits]\nread_mib = 1\n");
    let out = p.migrate().arg("upgrade").output().unwrap();
    let err = common::stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("revision rd_bytes_read"), "{err}");
    assert!(err.contains("1 MiB"), "{err}");
    assert!(err.contains("read_mib"), "{err}");
    first_revision_only(&p, "rd_bytes");
}

#[test]
fn a_revision_may_read_only_if_the_settings_allow_it() {
    let p = reading_project("rd_deny", 10, 10, "[sandbox]\nallow_reads = false\n");
    let out = p.migrate().arg("upgrade").output().unwrap();
    let err = common::stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("revision rd_deny_read"), "{err}");
    assert!(err.contains("allow_reads"), "{err}");
    first_revision_only(&p, "rd_deny");
    // Allowed by name, it runs.
    std::fs::write(
        p.path().join("migrate.toml"),
        "database_url = \"sqlite://app.db\"\n[sandbox]\nallow_reads = [\"rd_deny_read\"]\n",
    )
    .unwrap();
    p.migrate().arg("upgrade").assert().success();
}

#[test]
fn a_revision_without_the_reading_import_is_not_given_rows() {
    let p = reading_project("rd_none", 10, 10, "");
    // The first revision never reads: its component does not import `data`, so the host hands
    // it no way to read, and `show` says so; the second does.
    p.migrate()
        .args(["show", "rd_none_make"])
        .assert()
        .success()
        .stdout(contains("Reads rows: no"));
    p.migrate()
        .args(["show", "rd_none_read"])
        .assert()
        .success()
        .stdout(contains("Reads rows: yes"));
    let wasm = std::fs::read(p.migrations().join("build/rd_none_make.wasm")).unwrap();
    assert!(!contains_bytes(&wasm, b"migrate:schema/data"));
    let wasm = std::fs::read(p.migrations().join("build/rd_none_read.wasm")).unwrap();
    assert!(contains_bytes(&wasm, b"migrate:schema/data"));
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn reading_too_much_rolls_back_on(server: Server) {
    let Some(db) = ServerDb::create(server) else {
        return;
    };
    let prefix = match server {
        Server::Postgres => "rd_pg",
        Server::Mysql => "rd_my",
    };
    let p = reading_project(prefix, 100, 10, "[limits]\nread_rows = 50\n");
    let out = p.migrate_on(&db.url).arg("upgrade").output().unwrap();
    let err = common::stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains(&format!("revision {prefix}_read")), "{err}");
    assert!(err.contains("at most 50 rows"), "{err}");
    let heads = db.query("SELECT revision FROM migrate_version");
    assert_eq!(heads, strings(&[&[&format!("{prefix}_make")]]));
    match server {
        // One transaction: the table it made and the column it added are gone with its updates.
        Server::Postgres => {
            assert!(err.contains("rolled back"), "{err}");
            assert_eq!(db.user_tables(), vec!["blob_rows"]);
            assert_eq!(db.column_names("blob_rows"), vec!["id", "payload"]);
        }
        // DDL commits at once on MySQL: the step is marked failed, and says what stays.
        Server::Mysql => {
            assert!(err.contains("marked failed"), "{err}");
            let marks = db.query("SELECT revision, error FROM migrate_incomplete");
            assert_eq!(marks.len(), 1, "{marks:?}");
            assert!(marks[0][1].contains("at most 50 rows"), "{marks:?}");
        }
    }
}

#[test]
fn reading_too_much_rolls_back_on_postgresql() {
    reading_too_much_rolls_back_on(Server::Postgres);
}

#[test]
fn reading_too_much_is_marked_failed_on_mariadb() {
    reading_too_much_rolls_back_on(Server::Mysql);
}

#[test]
fn a_table_larger_than_the_guest_memory_is_read_batch_by_batch() {
    // 20,000 rows of 100 bytes: 2 MB read and 20,000 updates computed, by guests allowed 3 MiB
    // of memory each. Only memory freed after each batch and reused for the next makes it fit.
    let p = TestProject::init();
    p.add_revision(
        "rd_big_make",
        "many rows",
        &common::guest(
            r#"op::create_table(Table::new("big")
                .column(Column::new("id", Type::Integer).primary_key())
                .column(Column::new("payload", Type::Text))
                .column(Column::new("size", Type::Integer)));
            for chunk in 0..40i64 {
                let rows = (0..500i64)
                    .map(|i| vec![(chunk * 500 + i).into(), "y".repeat(100).into(), Value::Null])
                    .collect();
                op::bulk_insert("big", &["id", "payload", "size"], rows);
            }
            Ok(())"#,
        ),
    );
    p.add_revision(
        "rd_big_read",
        "read them all",
        &common::guest(
            r#"let mut batches = data::batches("big", &["payload"], &["id"], 500);
            while let Some(batch) = batches.next_batch()? {
                let sizes = batch.rows().map(|r| {
                    vec![r.get("id").clone(), (r.text("payload").unwrap_or("").len() as i64).into()]
                }).collect();
                op::update_rows("big", &["id"], &["size"], sizes);
            }
            Ok(())"#,
        ),
    );
    std::fs::write(
        p.path().join("migrate.toml"),
        "database_url = \"sqlite://app.db\"\n[limits]\nmemory_mib = 3\n",
    )
    .unwrap();
    p.build();
    p.migrate().arg("upgrade").assert().success();
    assert_eq!(
        p.query("SELECT count(*), sum(size) FROM big"),
        strings(&[&["20000", "2000000"]])
    );
}

#[test]
fn a_reading_revision_with_an_offline_form_is_printed() {
    let p = TestProject::init();
    p.add_revision(
        "rd_form_make",
        "names",
        &common::guest(
            r#"op::create_table(Table::new("who")
                .column(Column::new("id", Type::Integer).primary_key())
                .column(Column::new("name", Type::Text)));
            op::bulk_insert("who", &["id", "name"], vec![vec![1.into(), "ada".into()]]);
            Ok(())"#,
        ),
    );
    p.add_revision(
        "rd_form_upper",
        "upper-case the names",
        &common::guest(
            r#"if !data::connected() {
                // The offline form: the same change in SQL.
                op::execute("UPDATE who SET name = upper(name)");
                return Ok(());
            }
            let mut rows = data::batches("who", &["name"], &["id"], 100);
            while let Some(batch) = rows.next_batch()? {
                let upper = batch.rows().map(|r| {
                    vec![r.get("id").clone(), r.text("name").unwrap_or("").to_uppercase().into()]
                }).collect();
                op::update_rows("who", &["id"], &["name"], upper);
            }
            Ok(())"#,
        ),
    );
    p.build();
    p.migrate()
        .args(["upgrade", "--sql"])
        .assert()
        .success()
        .stdout(contains("UPDATE who SET name = upper(name)"));
    p.migrate().arg("upgrade").assert().success();
    assert_eq!(p.query("SELECT name FROM who"), strings(&[&["ADA"]]));
}
