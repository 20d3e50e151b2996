//! Teams: branches applied in either order and merged, one branch taken down while the other
//! stays, branch-label targets, depends_on ordering, `check --heads` and `merge` on commuting
//! and conflicting branches, `rebase`, and `history --graph` drawn.

use crate::common;

use std::path::PathBuf;

use common::servers::{Server, ServerDb};
use common::{guest, TestProject};
use predicates::str::contains;

fn with_down(up: &str, down: &str) -> String {
    format!(
        "#![no_std]\nuse migrate_guest_sdk::prelude::*;\n\
         fn upgrade() -> Result {{\n    {up}\n    Ok(())\n}}\n\
         fn downgrade() -> Result {{\n    {down}\n    Ok(())\n}}\n\
         migrate_guest_sdk::revision!(upgrade, downgrade);\n"
    )
}

/// base `account`; branch billing (t_a1 balance, t_a2 invoice); branch t_b1 (audit), t_b2
/// (an index on the balance: it depends on t_a1 without merging with it).
fn two_branches() -> TestProject {
    let p = TestProject::init();
    p.add_revision(
        "t_base",
        "accounts",
        &with_down(
            r#"op::create_table(Table::new("account").column(Column::new("id", Type::Integer).primary_key()).column(Column::new("name", Type::Text)));"#,
            r#"op::drop_table("account");"#,
        ),
    );
    p.add_revision_with(
        "t_a1",
        "balance",
        &["--head", "t_base", "--branch-label", "billing"],
        &with_down(
            r#"op::add_column("account", Column::new("balance", Type::Integer));"#,
            r#"op::drop_column("account", "balance");"#,
        ),
    );
    p.add_revision_with(
        "t_a2",
        "invoices",
        &["--head", "t_a1"],
        &with_down(
            r#"op::create_table(Table::new("invoice").column(Column::new("id", Type::Integer).primary_key()).column(Column::new("account_id", Type::Integer)).constraint(ForeignKey::new(["account_id"], "account", ["id"]).named("fk_invoice_account")));"#,
            r#"op::drop_table("invoice");"#,
        ),
    );
    p.add_revision_with(
        "t_b1",
        "audit",
        &["--head", "t_base"],
        &with_down(
            r#"op::create_table(Table::new("audit").column(Column::new("id", Type::Integer).primary_key()).column(Column::new("note", Type::Text)));"#,
            r#"op::drop_table("audit");"#,
        ),
    );
    p.add_revision_with(
        "t_b2",
        "balance index",
        &["--head", "t_b1", "--depends-on", "t_a1"],
        &with_down(
            r#"op::create_index(Index::new("ix_account_balance", "account", ["balance"]));"#,
            r#"op::drop_index("ix_account_balance", "account");"#,
        ),
    );
    p.build();
    p
}

/// One database under test: SQLite (a file in the project) or a server.
struct Target {
    url: String,
    server: Option<ServerDb>,
    sqlite: PathBuf,
}

impl Target {
    fn all(p: &TestProject) -> Vec<(&'static str, Target)> {
        let mut out = vec![];
        let sqlite = p.path().join("teams.db");
        out.push((
            "sqlite",
            Target {
                url: format!("sqlite://{}", sqlite.display()),
                server: None,
                sqlite,
            },
        ));
        for server in [Server::Postgres, Server::Mysql] {
            if let Some(db) = ServerDb::create(server) {
                out.push((
                    if server == Server::Postgres {
                        "postgres"
                    } else {
                        "mariadb"
                    },
                    Target {
                        url: db.url.clone(),
                        server: Some(db),
                        sqlite: PathBuf::new(),
                    },
                ));
            }
        }
        out
    }

    fn query(&self, sql: &str) -> Vec<Vec<String>> {
        match &self.server {
            Some(db) => db.query(sql),
            None => common::query_sqlite(&self.sqlite, sql),
        }
    }

    fn heads(&self) -> Vec<String> {
        let mut heads: Vec<String> = self
            .query("SELECT revision FROM migrate_version")
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        heads.sort();
        heads
    }

    fn tables(&self) -> Vec<String> {
        let version = ["migrate_version", "migrate_history", "migrate_incomplete"];
        let all: Vec<String> = match &self.server {
            Some(db) => db.tables(),
            None => common::query_sqlite(
                &self.sqlite,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .into_iter()
            .map(|r| r[0].clone())
            .collect(),
        };
        all.into_iter()
            .filter(|t| !version.contains(&t.as_str()))
            .collect()
    }

    fn columns(&self, table: &str) -> Vec<String> {
        match &self.server {
            Some(db) => db.column_names(table),
            None => common::query_sqlite(
                &self.sqlite,
                &format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"),
            )
            .into_iter()
            .map(|r| r[0].clone())
            .collect(),
        }
    }

    fn has_index(&self, name: &str) -> bool {
        let sql = match &self.server {
            Some(db) if db.server == Server::Postgres => {
                format!("SELECT indexname::text FROM pg_indexes WHERE indexname = '{name}'")
            }
            Some(_) => format!(
                "SELECT index_name FROM information_schema.statistics WHERE table_schema = DATABASE() AND index_name = '{name}'"
            ),
            None => format!("SELECT name FROM sqlite_master WHERE type = 'index' AND name = '{name}'"),
        };
        !self.query(&sql).is_empty()
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn two_branches_in_either_order_then_one_down_then_merged_on_every_database() {
    let p = two_branches();
    let targets = Target::all(&p);
    for (name, db) in &targets {
        // Branch billing first, by its label; then the other head.
        p.migrate_on(&db.url)
            .args(["upgrade", "billing@head"])
            .assert()
            .success();
        assert_eq!(db.heads(), strings(&["t_a2"]), "{name}");
        p.migrate_on(&db.url)
            .args(["upgrade", "t_b2"])
            .assert()
            .success()
            .stderr(contains("Running upgrade t_b1 -> t_b2, balance index"));
        // One database, two heads, said truthfully.
        assert_eq!(db.heads(), strings(&["t_a2", "t_b2"]), "{name}");
        p.migrate_on(&db.url)
            .arg("current")
            .assert()
            .success()
            .stdout(contains("t_a2 (head)"))
            .stdout(contains("t_b2 (head)"));
        assert_eq!(
            db.tables(),
            strings(&["account", "audit", "invoice"]),
            "{name}"
        );
        assert!(db.has_index("ix_account_balance"), "{name}");

        // One branch down while the other stays.
        p.migrate_on(&db.url)
            .args(["downgrade", "t_b1@base"])
            .assert()
            .success();
        assert_eq!(db.heads(), strings(&["t_a2"]), "{name}");
        assert_eq!(db.tables(), strings(&["account", "invoice"]), "{name}");
        assert!(!db.has_index("ix_account_balance"), "{name}");
        p.migrate_on(&db.url)
            .args(["downgrade", "billing@-1"])
            .assert()
            .success();
        assert_eq!(db.heads(), strings(&["t_a1"]), "{name}");
        assert_eq!(db.tables(), strings(&["account"]), "{name}");
        assert!(
            db.columns("account").contains(&"balance".to_string()),
            "{name}"
        );

        // The other order: t_b2 needs t_a1 (depends_on), applied first without merging.
        p.migrate_on(&db.url)
            .args(["downgrade", "base"])
            .assert()
            .success();
        let out = p
            .migrate_on(&db.url)
            .args(["upgrade", "t_b2"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {}", common::stderr(&out));
        let log = common::stderr(&out);
        let at = |line: &str| {
            log.find(line)
                .unwrap_or_else(|| panic!("{name}: no {line:?} in {log}"))
        };
        assert!(at("-> t_a1,") < at("-> t_b2,"), "{name}: {log}");
        assert_eq!(db.heads(), strings(&["t_a1", "t_b2"]), "{name}");
        // Taking t_a1 away takes what depends on it first.
        p.migrate_on(&db.url)
            .args(["downgrade", "billing@base"])
            .assert()
            .success();
        assert_eq!(db.heads(), strings(&["t_b1"]), "{name}");
        assert!(
            !db.columns("account").contains(&"balance".to_string()),
            "{name}"
        );
        p.migrate_on(&db.url)
            .args(["upgrade", "heads"])
            .assert()
            .success();
        assert_eq!(db.heads(), strings(&["t_a2", "t_b2"]), "{name}");
    }

    // The branches commute: merge writes the merge revision, which joins the heads.
    p.migrate()
        .args(["merge", "-m", "join billing and audit", "--rev-id", "t_m"])
        .assert()
        .success()
        .stdout(contains("t_a2 and t_b2 commute"));
    let merge_source = std::fs::read_to_string(p.revision_dir("t_m").join("src/lib.rs")).unwrap();
    assert!(
        merge_source.contains("the branches commute"),
        "{merge_source}"
    );
    p.build();
    p.migrate()
        .arg("heads")
        .assert()
        .success()
        .stdout(contains("t_m (head)"));
    for (name, db) in &targets {
        p.migrate_on(&db.url)
            .arg("upgrade")
            .assert()
            .success()
            .stderr(contains(
                "Running upgrade t_a2, t_b2 -> t_m, join billing and audit",
            ));
        assert_eq!(db.heads(), strings(&["t_m"]), "{name}");
        p.migrate_on(&db.url)
            .args(["downgrade", "-1"])
            .assert()
            .failure()
            .stderr(contains("t_m is a merge"));
        p.migrate_on(&db.url)
            .args(["downgrade", "t_a2"])
            .assert()
            .success()
            .stderr(contains("Running downgrade t_m -> t_a2, t_b2"));
        assert_eq!(db.heads(), strings(&["t_a2", "t_b2"]), "{name}");
        // The drawn graph says which revisions this database has.
        let drawn = common::stdout(
            &p.migrate_on(&db.url)
                .args(["history", "--graph", "--applied"])
                .output()
                .unwrap(),
        );
        assert!(
            drawn.contains("* | t_a2 (applied) invoices"),
            "{name}: {drawn}"
        );
        assert!(
            drawn.contains("* t_m (head, mergepoint) join billing and audit"),
            "{name}: {drawn}"
        );
    }
}

#[test]
fn check_heads_and_merge_judge_commuting_and_conflicting_branches() {
    let p = TestProject::init();
    p.add_revision(
        "c_base",
        "people",
        &guest(r#"op::create_table(Table::new("person").column(Column::new("id", Type::Integer).primary_key()).column(Column::new("name", Type::Text))); Ok(())"#),
    );
    p.add_revision_with(
        "c_left",
        "email",
        &["--head", "c_base"],
        &guest(r#"op::add_column("person", Column::new("email", Type::Text)); Ok(())"#),
    );
    p.add_revision_with(
        "c_right",
        "phone",
        &["--head", "c_base"],
        &guest(r#"op::add_column("person", Column::new("phone", Type::Text)); Ok(())"#),
    );
    p.build();
    p.migrate()
        .args(["check", "--heads"])
        .assert()
        .code(0)
        .stdout(contains("c_left and c_right commute"))
        .stdout(contains("The heads commute"));
    // A third head drops the column the second one's sibling indexes.
    p.add_revision_with(
        "c_drop",
        "no names",
        &["--head", "c_base"],
        &guest(r#"op::drop_column("person", "name"); Ok(())"#),
    );
    p.add_revision_with(
        "c_index",
        "name index",
        &["--head", "c_right"],
        &guest(r#"op::create_index(Index::new("ix_person_name", "person", ["name"])); Ok(())"#),
    );
    p.build();
    let out = p.migrate().args(["check", "--heads"]).output().unwrap();
    let report = common::stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("c_drop and c_index CONFLICT"), "{report}");
    assert!(
        report.contains(
            "column \"person\".\"name\": c_drop drops it (drop_column \"person\".\"name\"), and c_index uses it"
        ),
        "{report}"
    );
    assert!(report.contains("c_left and c_drop commute"), "{report}");
    // merge refuses, writing nothing; --force writes it, with the report in its source.
    p.migrate()
        .args(["merge", "-m", "all", "--rev-id", "c_all"])
        .assert()
        .failure()
        .stderr(contains("No merge written"))
        .stderr(contains("c_drop and c_index CONFLICT"));
    assert!(!common::stdout(&p.migrate().arg("heads").output().unwrap()).contains("c_all"));
    p.migrate()
        .args(["merge", "-m", "all", "--rev-id", "c_all", "--force"])
        .assert()
        .success();
    let source = std::fs::read_to_string(p.revision_dir("c_all").join("src/lib.rs")).unwrap();
    assert!(
        source.contains("although the branches conflict"),
        "{source}"
    );
    assert!(source.contains("c_drop drops it"), "{source}");
    p.migrate()
        .arg("heads")
        .assert()
        .success()
        .stdout(contains("c_all (head)"));
    p.migrate()
        .args(["check", "--heads"])
        .assert()
        .code(0)
        .stdout(contains("One head (c_all)"));
}

#[test]
fn rebase_refuses_an_applied_revision_and_moves_an_unapplied_one() {
    let p = TestProject::init();
    p.add_revision(
        "r_base",
        "people",
        &guest(r#"op::create_table(Table::new("person").column(Column::new("id", Type::Integer).primary_key())); Ok(())"#),
    );
    p.add_revision_with(
        "r_left",
        "email",
        &["--head", "r_base"],
        &guest(r#"op::add_column("person", Column::new("email", Type::Text)); Ok(())"#),
    );
    p.add_revision_with(
        "r_right",
        "phone",
        &["--head", "r_base"],
        &guest(r#"op::add_column("person", Column::new("phone", Type::Text)); Ok(())"#),
    );
    p.build();
    // `--down heads` joins every head (then taken away again: the test moves one instead).
    p.migrate()
        .args(["new", "-m", "join", "--rev-id", "r_join", "--down", "heads"])
        .assert()
        .success();
    let join = p.revision_dir("r_join");
    let meta = std::fs::read_to_string(join.join("revision.toml")).unwrap();
    assert!(
        meta.contains(r#"down_revisions = ["r_left", "r_right"]"#),
        "{meta}"
    );
    std::fs::remove_dir_all(join).unwrap();
    // The project's own settings name app.db.
    p.migrate().args(["upgrade", "r_left"]).assert().success();
    p.migrate()
        .args(["rebase", "r_left", "--onto", "r_right"])
        .assert()
        .failure()
        .stderr(contains("r_left is applied on the database"));
    p.migrate()
        .args(["rebase", "r_right", "--onto", "r_base"])
        .assert()
        .failure()
        .stderr(contains("r_right already builds on r_base"));
    p.migrate()
        .args(["rebase", "r_base", "--onto", "r_right"])
        .assert()
        .failure()
        .stderr(contains("would make a cycle"));
    // As `migrate new` writes it, the source's doc comment names the revision it revises.
    let lib = p.revision_dir("r_right").join("src/lib.rs");
    let code = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(
        &lib,
        format!("//! Revision r_right, revises r_base.\n{code}"),
    )
    .unwrap();
    p.migrate()
        .args(["rebase", "r_right", "--onto", "r_left"])
        .assert()
        .success()
        .stdout(contains("Moved r_right from r_base onto r_left"));
    // The metadata and the generated doc comment both say what it revises now.
    let meta = std::fs::read_to_string(p.revision_dir("r_right").join("revision.toml")).unwrap();
    assert!(meta.contains(r#"down_revisions = ["r_left"]"#), "{meta}");
    let source = std::fs::read_to_string(p.revision_dir("r_right").join("src/lib.rs")).unwrap();
    assert!(
        source.starts_with("//! Revision r_right, revises r_left.\n"),
        "{source}"
    );
    p.migrate()
        .arg("heads")
        .assert()
        .success()
        .stdout(contains("r_right (head)"));
    p.build();
    p.migrate()
        .arg("upgrade")
        .assert()
        .success()
        .stderr(contains("Running upgrade r_left -> r_right, phone"));
    assert_eq!(p.heads(), vec!["r_right"]);
    assert_eq!(p.column_names("person"), vec!["id", "email", "phone"]);
}

#[test]
fn history_draws_two_branch_points_and_a_merge() {
    let p = TestProject::init();
    let add = |id: &str, message: &str, args: &[&str]| {
        p.migrate()
            .args(["new", "--rev-id", id, "-m", message])
            .args(args)
            .assert()
            .success();
    };
    // Created in this order, which the graph's order follows among equals.
    add("h_root", "root", &[]);
    add("h_x1", "x one", &[]);
    add(
        "h_y1",
        "y one",
        &["--head", "h_root", "--branch-label", "ys"],
    );
    add("h_x2", "x two", &["--head", "h_x1"]);
    add("h_z1", "z one", &["--head", "h_x1"]);
    add("h_m", "join x and y", &["--down", "h_x2", "--down", "h_y1"]);
    add("h_top", "after the merge", &["--head", "h_m"]);
    // Creation times have second resolution: fix them so the order is the same on every run.
    for (i, id) in ["h_root", "h_x1", "h_y1", "h_x2", "h_z1", "h_m", "h_top"]
        .iter()
        .enumerate()
    {
        let file = p.revision_dir(id).join("revision.toml");
        let text = std::fs::read_to_string(&file).unwrap();
        let fixed: String = text
            .lines()
            .map(|line| {
                if line.starts_with("created = ") {
                    format!("created = \"2026-01-01T00:00:0{i}Z\"")
                } else {
                    line.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&file, fixed + "\n").unwrap();
    }
    let graph = common::stdout(&p.migrate().args(["history", "--graph"]).output().unwrap());
    insta::assert_snapshot!("history_graph", graph);
    let plain = common::stdout(&p.migrate().arg("history").output().unwrap());
    insta::assert_snapshot!("history_markers", plain);
    let mermaid = common::stdout(
        &p.migrate()
            .args(["history", "--format", "mermaid"])
            .output()
            .unwrap(),
    );
    insta::assert_snapshot!("history_mermaid", mermaid);
    let dot = common::stdout(
        &p.migrate()
            .args(["history", "--format", "dot"])
            .output()
            .unwrap(),
    );
    assert!(dot.starts_with("digraph migrations {"), "{dot}");
    assert!(dot.contains("\"h_x2\" -> \"h_m\";"), "{dot}");
    assert!(dot.contains("\"h_y1\" -> \"h_m\";"), "{dot}");
}
