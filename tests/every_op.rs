//! Every op of the WIT interface, from real guests through the real host into real SQLite
//! files: the schema read back from the catalog, and the rows still there after each move.

use crate::common;

use common::{strings, TestProject};

fn table_sql(p: &TestProject, table: &str) -> String {
    p.query(&format!(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
    ))[0][0]
        .clone()
}

#[test]
fn every_op_upgrades_and_downgrades_with_rows_kept() {
    let p = TestProject::with_every_op();
    p.migrate().args(["upgrade", "allops_1"]).assert().success();

    // After the first revision: every portable type, declared as the SQLite dialect maps it.
    let types: Vec<(String, String)> = p
        .columns("every_type")
        .into_iter()
        .map(|c| (c[0].clone(), c[1].clone()))
        .collect();
    let expected_types = [
        ("id", "BIGINT"),
        ("c_integer", "INTEGER"),
        ("c_smallint", "SMALLINT"),
        ("c_boolean", "BOOLEAN"),
        ("c_text", "TEXT"),
        ("c_varchar", "VARCHAR(20)"),
        ("c_float", "REAL"),
        ("c_double", "DOUBLE"),
        ("c_numeric", "NUMERIC(10, 2)"),
        ("c_date", "DATE"),
        ("c_time", "TIME"),
        ("c_timestamp", "TIMESTAMP"),
        ("c_timestamptz", "TIMESTAMPTZ"),
        ("c_blob", "BLOB"),
        ("c_json", "JSON"),
        ("c_uuid", "UUID"),
    ];
    assert_eq!(
        types,
        expected_types.map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // Defaults (literal and expression) and the bulk-inserted row with typed values.
    assert_eq!(
        p.query("SELECT c_integer, c_boolean, c_text, c_float, hex(c_blob), c_uuid, c_json, c_smallint, c_timestamp IS NOT NULL FROM every_type"),
        strings(&[&["7", "0", "it's", "1.5", "00FF", "0b7e5f6c-1d2a-4c1e-9d35-2f1f0a4b9e11", "{\"a\": 1}", "NULL", "1"]])
    );
    assert_eq!(
        p.query("SELECT name FROM author ORDER BY id"),
        strings(&[&["Ada"], &["Flann O'Brien"]])
    );
    let book = table_sql(&p, "book");
    assert!(book.contains("CONSTRAINT \"fk_book_author\" FOREIGN KEY (\"author_id\") REFERENCES \"author\" (\"id\") ON DELETE CASCADE ON UPDATE CASCADE"), "{book}");
    assert!(
        book.contains("CONSTRAINT \"ck_book_price\" CHECK (price >= 0)"),
        "{book}"
    );
    assert!(
        book.contains("CONSTRAINT \"uq_book_author_title\" UNIQUE (\"author_id\", \"title\")"),
        "{book}"
    );
    assert_eq!(
        p.query("SELECT name, pk FROM pragma_table_info('tag_link') ORDER BY cid"),
        strings(&[&["book_id", "1"], &["tag", "2"]])
    );
    assert_eq!(
        p.query(
            "SELECT \"unique\" FROM pragma_index_list('author') WHERE name = 'ix_author_email'"
        ),
        strings(&[&["1"]])
    );
    assert_eq!(
        p.query("SELECT name FROM pragma_index_info('ix_book_title_price') ORDER BY seqno"),
        strings(&[&["title"], &["price"]])
    );
    assert_eq!(
        p.query("SELECT COUNT(*) FROM typed_ids"),
        strings(&[&["1"]])
    );

    p.migrate().arg("upgrade").assert().success();
    assert_eq!(p.heads(), ["allops_3"]);

    // author was rebuilt (type, nullability, constraints): same rows, new shape, index back.
    assert_eq!(
        p.columns("author"),
        strings(&[
            &["id", "INTEGER", "1", "NULL", "1"],
            &["name", "VARCHAR(200)", "1", "NULL", "0"],
            &["email", "VARCHAR(255)", "1", "NULL", "0"],
            &["biography", "TEXT", "0", "NULL", "0"],
            &["rating", "INTEGER", "1", "5", "0"],
        ])
    );
    assert_eq!(
        p.query("SELECT id, name, rating FROM author ORDER BY id"),
        strings(&[&["1", "Ada", "5"], &["2", "Flann O'Brien", "5"]])
    );
    let author = table_sql(&p, "author");
    assert!(
        author.contains("CONSTRAINT \"uq_author_name\" UNIQUE (\"name\")"),
        "{author}"
    );
    assert!(
        author.contains("CONSTRAINT \"ck_author_rating\" CHECK (rating BETWEEN 0 AND 10)"),
        "{author}"
    );
    assert!(author.contains("AUTOINCREMENT"), "{author}");
    assert_eq!(
        p.query(
            "SELECT \"unique\" FROM pragma_index_list('author') WHERE name = 'ix_author_email'"
        ),
        strings(&[&["1"]])
    );
    // The check constraint works; the rebuild of the parent fired no ON DELETE CASCADE.
    let refused = common::try_query_sqlite(
        &p.db_path(),
        "INSERT INTO author (name, email, rating) VALUES ('x', 'x@x', 11)",
    );
    assert!(refused
        .unwrap_err()
        .to_string()
        .contains("ck_author_rating"));
    assert_eq!(
        p.query("SELECT id, author_id FROM book ORDER BY id"),
        strings(&[&["10", "1"], &["11", "2"]])
    );
    let book = table_sql(&p, "book");
    assert!(!book.contains("ck_book_price"), "{book}");
    assert!(book.contains("fk_book_author"), "{book}");
    assert_eq!(
        p.query("SELECT dflt_value FROM pragma_table_info('book') WHERE name = 'title'"),
        strings(&[&["'untitled'"]])
    );
    // tag_link became book_tag, gained a foreign key, kept its row.
    assert!(!p.tables().contains(&"tag_link".to_string()));
    assert_eq!(
        p.query("SELECT book_id, tag FROM book_tag"),
        strings(&[&["10", "math"]])
    );
    assert_eq!(
        p.query("SELECT \"table\", on_delete FROM pragma_foreign_key_list('book_tag')"),
        strings(&[&["book", "CASCADE"]])
    );
    assert!(!p.column_names("every_type").contains(&"c_json".to_string()));
    assert_eq!(
        p.query("SELECT name, pk FROM pragma_table_info('session') ORDER BY cid"),
        strings(&[&["token", "1"], &["author_id", "0"]])
    );
    assert_eq!(p.query("SELECT token FROM session"), strings(&[&["t1"]]));
    assert!(p.query("PRAGMA foreign_key_check").is_empty());

    // Down one revision at a time, rows kept, shapes restored.
    p.migrate().args(["downgrade", "-1"]).assert().success();
    assert!(!p.tables().contains(&"session".to_string()));
    p.migrate().args(["downgrade", "-1"]).assert().success();
    assert_eq!(p.heads(), ["allops_1"]);
    assert_eq!(
        p.columns("author"),
        strings(&[
            &["id", "INTEGER", "1", "NULL", "1"],
            &["name", "VARCHAR(100)", "1", "NULL", "0"],
            &["email", "VARCHAR(255)", "0", "NULL", "0"],
        ])
    );
    assert_eq!(
        p.query("SELECT name FROM author ORDER BY id"),
        strings(&[&["Ada"], &["Flann O'Brien"]])
    );
    assert_eq!(p.query("SELECT COUNT(*) FROM book"), strings(&[&["2"]]));
    assert!(table_sql(&p, "book").contains("CONSTRAINT \"ck_book_price\" CHECK (price >= 0)"));
    assert_eq!(
        p.query("SELECT book_id, tag FROM tag_link"),
        strings(&[&["10", "math"]])
    );
    assert!(p.column_names("every_type").contains(&"c_json".to_string()));
    assert!(p.query("PRAGMA foreign_key_check").is_empty());

    p.migrate().args(["downgrade", "base"]).assert().success();
    assert_eq!(p.tables(), ["migrate_history", "migrate_version"]);
    assert!(p.query("SELECT name FROM sqlite_master WHERE type IN ('view', 'index') AND name NOT LIKE 'sqlite_%'").is_empty());
}

#[test]
fn rebuild_sql_switches_foreign_keys_off_around_the_transaction_and_checks_them() {
    let p = TestProject::with_every_op();
    let out = p
        .migrate()
        .args(["upgrade", "--sql", "allops_1:allops_2"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let sql = common::stdout(&out);
    let off = sql
        .find("PRAGMA foreign_keys = OFF;\nBEGIN;")
        .expect("foreign keys off before BEGIN");
    let check = sql
        .find("PRAGMA foreign_key_check;")
        .expect("a foreign key check");
    let on = sql
        .find("COMMIT;\nPRAGMA foreign_keys = ON;")
        .expect("foreign keys back on after COMMIT");
    assert!(off < check && check < on);
    assert!(sql.contains("CREATE TABLE \"_migrate_rebuild_author\""));
    assert!(sql.contains("ALTER TABLE \"_migrate_rebuild_author\" RENAME TO \"author\";"));
    // Native where SQLite can: adding a nullable column and renaming stay ALTERs.
    assert!(sql.contains("ALTER TABLE \"author\" ADD COLUMN \"bio\" TEXT;"));
    assert!(sql.contains("ALTER TABLE \"tag_link\" RENAME TO \"book_tag\";"));
    assert!(sql.contains("ALTER TABLE \"every_type\" DROP COLUMN \"c_json\";"));
}
