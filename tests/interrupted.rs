//! Killed mid-step on MariaDB, which cannot roll back DDL: `migrate upgrade` and `downgrade` of a
//! chain of ops the model knows are SIGKILLed at random points, over and over. Each time the
//! interrupted step must be diagnosed from the catalog, finished (`resolve --continue`, or
//! `upgrade --continue-interrupted`) or taken back (`resolve --undo`) with no hand edit, and
//! leave the schema exactly as the revision the version table names, rows included.
//! MIGRATE_KILL_CASES sets how many kills (200 by default, about half of which land inside a step).

use crate::common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::servers::{Server, ServerDb};
use common::TestProject;

const AUTHORS_AND_BOOKS: &str = r#"
#![no_std]
use migrate_guest_sdk::prelude::*;
fn upgrade() -> Result {
    op::create_table(
        Table::new("author")
            .column(Column::new("id", Type::Integer).primary_key().autoincrement())
            .column(Column::new("name", Type::Varchar(80)).not_null()),
    );
    op::bulk_insert("author", &["name"], vec![vec!["Ann".into()], vec!["Bob".into()]]);
    op::create_table(
        Table::new("book")
            .column(Column::new("id", Type::Integer).primary_key())
            .column(Column::new("title", Type::Text))
            .column(Column::new("author_id", Type::Integer)),
    );
    Ok(())
}
fn downgrade() -> Result {
    op::drop_table("book");
    op::drop_table("author");
    Ok(())
}
migrate_guest_sdk::revision!(upgrade, downgrade);
"#;

const BOOK_DETAILS: &str = r#"
#![no_std]
use migrate_guest_sdk::prelude::*;
fn upgrade() -> Result {
    op::add_column("book", Column::new("year", Type::Integer));
    op::create_index(Index::new("ix_book_year", "book", ["year"]));
    op::create_index(Index::new("ix_book_author", "book", ["author_id"]));
    op::create_foreign_key("book", ForeignKey::new(["author_id"], "author", ["id"]).named("fk_book_author"));
    Ok(())
}
fn downgrade() -> Result {
    op::drop_constraint("fk_book_author", "book", ConstraintKind::ForeignKey);
    op::drop_index("ix_book_author", "book");
    op::drop_index("ix_book_year", "book");
    op::drop_column("book", "year");
    Ok(())
}
migrate_guest_sdk::revision!(upgrade, downgrade);
"#;

const RENAMES_AND_TYPES: &str = r#"
#![no_std]
use migrate_guest_sdk::prelude::*;
fn upgrade() -> Result {
    op::alter_column(AlterColumn::new("book", "title").rename_to("heading"));
    op::alter_column(AlterColumn::new("book", "year").set_type(Type::Bigint));
    op::add_column("author", Column::new("email", Type::Varchar(120)));
    op::create_unique_constraint("author", "uq_author_email", ["email"]);
    Ok(())
}
fn downgrade() -> Result {
    op::drop_constraint("uq_author_email", "author", ConstraintKind::Unique);
    op::drop_column("author", "email");
    op::alter_column(AlterColumn::new("book", "year").set_type(Type::Integer));
    op::alter_column(AlterColumn::new("book", "heading").rename_to("title"));
    Ok(())
}
migrate_guest_sdk::revision!(upgrade, downgrade);
"#;

const TAGS: &str = r#"
#![no_std]
use migrate_guest_sdk::prelude::*;
fn upgrade() -> Result {
    op::create_table(
        Table::new("tag")
            .column(Column::new("id", Type::Integer).primary_key())
            .column(Column::new("label", Type::Varchar(40)).not_null()),
    );
    op::bulk_insert("tag", &["id", "label"], vec![vec![1.into(), "sf".into()], vec![2.into(), "crime".into()]]);
    op::create_table(
        Table::new("book_tag")
            .column(Column::new("book_id", Type::Integer).not_null())
            .column(Column::new("tag_id", Type::Integer).not_null())
            .constraint(Constraint::primary_key(["book_id", "tag_id"]))
            .constraint(ForeignKey::new(["book_id"], "book", ["id"]).named("fk_bt_book"))
            .constraint(ForeignKey::new(["tag_id"], "tag", ["id"]).named("fk_bt_tag")),
    );
    Ok(())
}
fn downgrade() -> Result {
    op::drop_table("book_tag");
    op::drop_table("tag");
    Ok(())
}
migrate_guest_sdk::revision!(upgrade, downgrade);
"#;

const RESHAPE: &str = r#"
#![no_std]
use migrate_guest_sdk::prelude::*;
fn upgrade() -> Result {
    op::rename_table("tag", "label_tag");
    op::drop_index("ix_book_year", "book");
    op::drop_column("book", "year");
    op::add_column("author", Column::new("active", Type::Boolean).not_null().default_value(true));
    Ok(())
}
fn downgrade() -> Result {
    op::drop_column("author", "active");
    op::add_column("book", Column::new("year", Type::Bigint));
    op::create_index(Index::new("ix_book_year", "book", ["year"]));
    op::rename_table("label_tag", "tag");
    Ok(())
}
migrate_guest_sdk::revision!(upgrade, downgrade);
"#;

const CHAIN: [(&str, &str, &str); 5] = [
    ("kill_1", "authors and books", AUTHORS_AND_BOOKS),
    ("kill_2", "book details", BOOK_DETAILS),
    ("kill_3", "renames and types", RENAMES_AND_TYPES),
    ("kill_4", "tags", TAGS),
    ("kill_5", "reshape", RESHAPE),
];

/// The user tables' schema and the rows the revisions insert, comparable.
fn snapshot(db: &ServerDb) -> Vec<Vec<String>> {
    let mut dump = Vec::new();
    for table in db.user_tables() {
        dump.push(vec![format!("table {table}")]);
        let mut columns = db.columns(&table);
        columns.sort();
        dump.extend(columns);
        dump.extend(db.constraints(&table));
        dump.extend(db.indexes(&table));
        dump.extend(db.foreign_keys(&table));
        if ["author", "tag", "label_tag"].contains(&table.as_str()) {
            // The rows the revisions insert, each once.
            dump.push(vec![format!("rows of {table}")]);
            dump.extend(db.query(&format!(
                "SELECT CAST(COUNT(*) AS CHAR), CAST(COUNT(DISTINCT id) AS CHAR) FROM {table}"
            )));
        }
    }
    dump
}

fn head_of(db: &ServerDb) -> String {
    db.query("SELECT revision FROM migrate_version")
        .first()
        .map(|r| r[0].clone())
        .unwrap_or_else(|| "base".into())
}

fn random_below(bound: u64) -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    u64::from_le_bytes(bytes) % bound.max(1)
}

#[derive(Default)]
struct Tally {
    kills: usize,
    between_steps: usize,
    continued: usize,
    undone: usize,
    undo_refused_for_loss: usize,
    continued_by_upgrade: usize,
    diagnoses: BTreeMap<String, usize>,
    /// Marked steps by direction ("upgrade", "downgrade").
    directions: BTreeMap<String, usize>,
    hand_edits: usize,
}

#[test]
fn steps_killed_at_random_points_on_mariadb_are_diagnosed_and_finished_or_undone() {
    let Some(db) = ServerDb::create(Server::Mysql) else {
        return;
    };
    let cases: usize = std::env::var("MIGRATE_KILL_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let p = TestProject::init();
    for (id, message, source) in CHAIN {
        p.add_revision(id, message, source);
    }
    p.build();
    // The schema at each revision, from clean runs one step at a time; the way back down must
    // give the same schemas.
    let mut expected: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    expected.insert("base".into(), snapshot(&db));
    for (id, _, _) in CHAIN {
        p.migrate_on(&db.url)
            .args(["upgrade", id])
            .assert()
            .success();
        expected.insert(id.into(), snapshot(&db));
    }
    let started = Instant::now();
    p.migrate_on(&db.url)
        .args(["downgrade", "base"])
        .assert()
        .success();
    let full_run = started.elapsed();
    assert_eq!(snapshot(&db), expected["base"], "a clean downgrade to base");

    let binary = assert_cmd::cargo::cargo_bin("migrate");
    let mut tally = Tally::default();
    let began = Instant::now();
    for case in 0..cases {
        let at = head_of(&db);
        let args: &[&str] = if at == "kill_5" {
            &["downgrade", "base"]
        } else {
            &["upgrade", "head"]
        };
        let mut child = std::process::Command::new(&binary)
            .current_dir(p.path())
            .env("DATABASE_URL", &db.url)
            .env_remove("SETTINGS")
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Anywhere in a full run, start-up included.
        let delay = random_below(full_run.as_millis() as u64 * 11 / 10);
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        child.wait().unwrap();
        tally.kills += 1;

        let status = p.migrate_on(&db.url).arg("status").output().unwrap();
        let report = common::stdout(&status);
        if status.status.success() {
            tally.between_steps += 1;
        } else {
            assert!(
                report.contains("INTERRUPTED") || report.contains("FAILED"),
                "case {case}: {report}"
            );
            let diagnosis = report
                .lines()
                .find(|l| l.starts_with("Diagnosis"))
                .unwrap_or_else(|| panic!("case {case}: no diagnosis in\n{report}"));
            let certain = diagnosis.starts_with("Diagnosis (the catalog compared");
            if !certain {
                tally.hand_edits += 1;
                panic!("case {case}: the diagnosis is not certain:\n{report}");
            }
            let said = diagnosis
                .split(": ")
                .last()
                .unwrap_or_default()
                .split(" of ")
                .next()
                .unwrap_or_default()
                .to_string();
            *tally.diagnoses.entry(said).or_default() += 1;
            let direction = if report.contains("the downgrade of revision") {
                "downgrade"
            } else {
                "upgrade"
            };
            *tally.directions.entry(direction.into()).or_default() += 1;
            let revision = report
                .lines()
                .find_map(|l| l.split("of revision ").nth(1))
                .and_then(|rest| rest.split_whitespace().next())
                .unwrap()
                .to_string();
            let outcome = match case % 3 {
                0 => {
                    tally.continued += 1;
                    p.migrate_on(&db.url)
                        .args(["resolve", &revision, "--continue"])
                        .output()
                        .unwrap()
                }
                1 => {
                    let undo = p
                        .migrate_on(&db.url)
                        .args(["resolve", &revision, "--undo"])
                        .output()
                        .unwrap();
                    let refusal = common::stderr(&undo);
                    if !undo.status.success() && refusal.contains("--accept-loss") {
                        // A drop that took effect: its data cannot come back, so undo refuses
                        // (changing nothing) and the step is finished instead.
                        assert!(
                            refusal.contains("would make again, empty, what it dropped"),
                            "{refusal}"
                        );
                        tally.undo_refused_for_loss += 1;
                        p.migrate_on(&db.url)
                            .args(["resolve", &revision, "--continue"])
                            .output()
                            .unwrap()
                    } else {
                        tally.undone += 1;
                        undo
                    }
                }
                _ => {
                    tally.continued_by_upgrade += 1;
                    // Finishes the interrupted step, then goes on to head (or base, for a
                    // step that was going down: finished, then the rest upward).
                    p.migrate_on(&db.url)
                        .args(["upgrade", "kill_5", "--continue-interrupted"])
                        .output()
                        .unwrap()
                }
            };
            assert!(
                outcome.status.success(),
                "case {case}: resolving {revision} after\n{report}\nfailed:\n{}",
                common::stderr(&outcome)
            );
        }
        let at = head_of(&db);
        p.migrate_on(&db.url).arg("status").assert().success();
        assert_eq!(
            snapshot(&db),
            expected[&at],
            "case {case}: the schema is not that of {at}"
        );
    }
    // Wherever it ended, the next upgrade reaches head with the schema exactly as expected.
    p.migrate_on(&db.url).arg("upgrade").assert().success();
    assert_eq!(snapshot(&db), expected["kill_5"]);
    let marked =
        tally.continued + tally.undone + tally.undo_refused_for_loss + tally.continued_by_upgrade;
    println!(
        "{} kills in {:?} (a full run takes {full_run:?}): {} stopped between steps; {marked} inside a step, \
         diagnosed from the catalog ({} finished by resolve --continue, {} taken back by resolve --undo, \
         {} where --undo refused to lose what a drop took and --continue finished, {} finished by upgrade --continue-interrupted); where they stopped: {:?}; by direction: {:?}; hand edits needed: {}",
        tally.kills,
        began.elapsed(),
        tally.between_steps,
        tally.continued,
        tally.undone,
        tally.undo_refused_for_loss,
        tally.continued_by_upgrade,
        tally.diagnoses,
        tally.directions,
        tally.hand_edits
    );
    assert_eq!(tally.hand_edits, 0);
    assert!(
        marked >= cases / 10,
        "only {marked} of {cases} kills landed inside a step: the test did not test much"
    );
    assert_eq!(
        tally.directions.len(),
        2,
        "both directions: {:?}",
        tally.directions
    );
}

/// States made by hand: the diagnosis finds the exact point from the count, or from the catalog
/// alone for a mark from before counts were kept (whose table gains the count on the next change),
/// and says so, changing nothing, when the catalog matches no point of the step.
#[test]
fn hand_made_states_are_diagnosed_exactly_or_refused() {
    let Some(db) = ServerDb::create(Server::Mysql) else {
        return;
    };
    let p = TestProject::init();
    for (id, message, source) in &CHAIN[..2] {
        p.add_revision(id, message, source);
    }
    p.build();
    p.migrate_on(&db.url)
        .args(["upgrade", "kill_1"])
        .assert()
        .success();
    // kill_2's first two statements by hand, with a count of 1: the second was in flight.
    db.query("ALTER TABLE book ADD COLUMN year INT");
    db.query("CREATE INDEX ix_book_year ON book (year)");
    db.query(
        "INSERT INTO migrate_incomplete (revision, direction, statements_done) VALUES ('kill_2', 'upgrade', 1)",
    );
    let out = p.migrate_on(&db.url).arg("status").output().unwrap();
    let report = common::stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("statements 1-2 of 4 took effect; 3 and 4 did not"),
        "{report}"
    );
    assert!(
        report.contains("todo 3. CREATE INDEX `ix_book_author`"),
        "{report}"
    );

    // A column nobody's statement makes: no point matches, and nothing is changed.
    db.query("ALTER TABLE book ADD COLUMN by_hand INT");
    let out = p.migrate_on(&db.url).arg("status").output().unwrap();
    let report = common::stdout(&out);
    assert!(
        report.contains("matches the schema before or after none"),
        "{report}"
    );
    assert!(report.contains("by_hand"), "{report}");
    let before = db.schema_dump();
    p.migrate_on(&db.url)
        .args(["resolve", "kill_2", "--continue"])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "not certain, so nothing was changed",
        ));
    p.migrate_on(&db.url)
        .arg("upgrade")
        .arg("--continue-interrupted")
        .assert()
        .failure()
        .stderr(predicates::str::contains("the database is partly migrated"));
    assert_eq!(db.schema_dump(), before);
    // The person says where it stopped: the rest runs.
    db.query("ALTER TABLE book DROP COLUMN by_hand");
    p.migrate_on(&db.url)
        .args(["resolve", "kill_2", "--continue", "--done", "2"])
        .assert()
        .success();
    assert_eq!(head_of(&db), "kill_2");
    assert_eq!(
        db.foreign_keys("book").len(),
        1,
        "{:?}",
        db.foreign_keys("book")
    );

    // A mark in the first shape of the table, without a count: the catalog alone decides.
    p.migrate_on(&db.url)
        .args(["downgrade", "kill_1"])
        .assert()
        .success();
    db.query("ALTER TABLE migrate_incomplete DROP COLUMN statements_done");
    db.query("ALTER TABLE book ADD COLUMN year INT");
    db.query("INSERT INTO migrate_incomplete (revision, direction) VALUES ('kill_2', 'upgrade')");
    let out = p.migrate_on(&db.url).arg("current").output().unwrap();
    let report = common::stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("statement 1 of 4 took effect; 2-4 did not"),
        "{report}"
    );
    p.migrate_on(&db.url)
        .args(["resolve", "kill_2", "--undo"])
        .assert()
        .success();
    assert!(!db.column_names("book").contains(&"year".to_string()));
    assert!(db
        .column_names("migrate_incomplete")
        .contains(&"statements_done".to_string()));
    p.migrate_on(&db.url).arg("upgrade").assert().success();
    assert_eq!(head_of(&db), "kill_2");
}
