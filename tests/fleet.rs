//! Fleets (`--fleet`): one command over the databases of `[fleet]`. A target that fails
//! (a revision conflicting with a table made there by hand) leaves the others at head, is
//! named in the table and the JSON, and a rerun after the fix touches only it. On SQLite files,
//! PostgreSQL databases and PostgreSQL schemas found by pattern.

use crate::common;

use common::servers::{query_url, Server, ServerDb};
use common::{query_sqlite, stdout, TestProject};
use serde_json::Value;

/// r1 creates t, r2 adds t.c2, r3 creates u: a table a tenant may already have by hand.
fn project() -> TestProject {
    let project = TestProject::init();
    let revision =
        |id: &str, up: &str, down: &str| common::guest_both_ways(up, down, &format!("{id} fleet"));
    project.add_revision(
        "fl1",
        "t",
        &revision(
            "fl1",
            r#"op::create_table(Table::new("t").column(Column::new("id", Type::Integer).primary_key()));"#,
            r#"op::drop_table("t");"#,
        ),
    );
    project.add_revision(
        "fl2",
        "t.c2",
        &revision(
            "fl2",
            r#"op::add_column("t", Column::new("c2", Type::Integer));"#,
            r#"op::drop_column("t", "c2");"#,
        ),
    );
    project.add_revision(
        "fl3",
        "u",
        &revision(
            "fl3",
            r#"op::create_table(Table::new("u").column(Column::new("id", Type::Integer).primary_key()));"#,
            r#"op::drop_table("u");"#,
        ),
    );
    project.build();
    project
}

fn write_fleet(project: &TestProject, body: &str) {
    std::fs::write(project.path().join("fleet.toml"), body).unwrap();
}

/// `migrate --settings fleet.toml ARGS --json`: the exit code and the document.
fn fleet_json(project: &TestProject, args: &[&str]) -> (i32, Value) {
    let output = project
        .migrate()
        .args(["--settings", "fleet.toml", "--json"])
        .args(args)
        .output()
        .unwrap();
    let text = stdout(&output);
    let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}):\n{text}\n{}",
            common::stderr(&output)
        )
    });
    (output.status.code().unwrap_or(-1), json)
}

/// The report of the target whose name contains `needle`.
fn target<'a>(json: &'a Value, needle: &str) -> &'a Value {
    json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"].as_str().unwrap().contains(needle))
        .unwrap_or_else(|| panic!("no target like {needle} in {json:#}"))
}

fn result(json: &Value, needle: &str) -> String {
    target(json, needle)["result"].as_str().unwrap().to_string()
}

fn sqlite_heads(path: &std::path::Path) -> Vec<String> {
    query_sqlite(
        path,
        "SELECT revision FROM migrate_version ORDER BY revision",
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect()
}

#[test]
fn sqlite_files_one_failing_then_resumed() {
    let project = project();
    let tenants = project.path().join("tenants");
    std::fs::create_dir(&tenants).unwrap();
    // Tenant c made `u` by hand, with a row that must survive.
    let c = tenants.join("c.db");
    std::fs::File::create(&c).unwrap();
    query_sqlite(&c, "CREATE TABLE u (id INTEGER PRIMARY KEY, note TEXT)");
    query_sqlite(&c, "INSERT INTO u VALUES (7, 'kept')");
    write_fleet(
        &project,
        r#"[fleet]
databases = ["sqlite://tenants/a.db", "sqlite://tenants/b.db", "sqlite://tenants/c.db", "sqlite://tenants/d.db"]
jobs = 2
"#,
    );
    let (code, json) = fleet_json(&project, &["upgrade", "--fleet"]);
    assert_eq!(code, 1, "{json:#}");
    for ok in ["a.db", "b.db", "d.db"] {
        assert_eq!(result(&json, ok), "done", "{json:#}");
        assert_eq!(target(&json, ok)["to"], serde_json::json!(["fl3"]));
        assert_eq!(sqlite_heads(&tenants.join(ok)), ["fl3"]);
    }
    let failed = target(&json, "c.db");
    assert_eq!(failed["result"], "failed");
    let error = failed["error"].as_str().unwrap();
    assert!(error.contains("fl3") && error.contains("\"u\""), "{error}");
    // fl1 and fl2 stay applied; fl3 rolled back; the tenant's own table untouched.
    assert_eq!(failed["to"], serde_json::json!(["fl2"]));
    assert_eq!(sqlite_heads(&c), ["fl2"]);
    assert_eq!(query_sqlite(&c, "SELECT id, note FROM u"), [["7", "kept"]]);
    assert_eq!(json["summary"]["failed"], 1);
    assert_eq!(json["summary"]["done"], 3);
    // Four targets, one starting point: the steps were rendered once.
    assert_eq!(json["plans_rendered"], 1);

    // The table (stdout) names the failed target and why; the exit code says it too.
    let output = project
        .migrate()
        .args(["--settings", "fleet.toml", "status", "--fleet"])
        .output()
        .unwrap();
    let table = stdout(&output);
    assert!(
        table.lines().next().unwrap().starts_with("TARGET") && table.contains("CURRENT"),
        "{table}"
    );
    let c_line = table.lines().find(|l| l.contains("c.db")).unwrap();
    assert!(
        c_line.contains("fl2") && c_line.contains("1 pending"),
        "{table}"
    );
    assert_eq!(output.status.code(), Some(0), "{table}");

    // The fix: the tenant's table moves aside. The rerun touches only c.
    query_sqlite(&c, "ALTER TABLE u RENAME TO u_legacy");
    let (code, json) = fleet_json(&project, &["upgrade", "--fleet"]);
    assert_eq!(code, 0, "{json:#}");
    for ok in ["a.db", "b.db", "d.db"] {
        assert_eq!(result(&json, ok), "up_to_date", "{json:#}");
        assert_eq!(target(&json, ok)["steps"], 0);
    }
    assert_eq!(result(&json, "c.db"), "done");
    assert_eq!(target(&json, "c.db")["from"], serde_json::json!(["fl2"]));
    assert_eq!(target(&json, "c.db")["steps"], 1);
    assert_eq!(sqlite_heads(&c), ["fl3"]);
    assert_eq!(query_sqlite(&c, "SELECT note FROM u_legacy"), [["kept"]]);

    // Down, stamp and compare across the fleet.
    let (code, json) = fleet_json(&project, &["downgrade", "fl1", "--fleet"]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["summary"]["done"], 4);
    for db in ["a.db", "b.db", "c.db", "d.db"] {
        assert_eq!(sqlite_heads(&tenants.join(db)), ["fl1"]);
        assert!(query_sqlite(
            &tenants.join(db),
            "SELECT name FROM sqlite_master WHERE name = 'u'"
        )
        .is_empty());
    }
    std::fs::write(
        project.path().join("schema.sql"),
        "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY);\n",
    )
    .unwrap();
    let (code, json) = fleet_json(&project, &["check", "--database", "--fleet"]);
    assert_eq!(code, 1, "{json:#}");
    assert_eq!(result(&json, "a.db"), "ok");
    // c still has the tenant's own table, which the model does not.
    assert_eq!(result(&json, "c.db"), "attention");
    assert!(target(&json, "c.db")["error"]
        .as_str()
        .unwrap()
        .contains("u_legacy"));
    // A target that cannot be compared (its file does not exist; check creates nothing) makes
    // it 2, as for one database: the fleet was not checked.
    let settings = std::fs::read_to_string(project.path().join("fleet.toml")).unwrap();
    write_fleet(
        &project,
        &settings.replace(
            "\"sqlite://tenants/d.db\"",
            "\"sqlite://tenants/d.db\", \"sqlite://tenants/gone.db\"",
        ),
    );
    let (code, json) = fleet_json(&project, &["check", "--database", "--fleet"]);
    assert_eq!(code, 2, "{json:#}");
    assert_eq!(result(&json, "gone.db"), "failed");
    assert_eq!(result(&json, "c.db"), "attention");
    assert!(!tenants.join("gone.db").exists());
    write_fleet(&project, &settings);
    let (code, json) = fleet_json(&project, &["stamp", "fl2", "--fleet"]);
    assert_eq!(code, 0, "{json:#}");
    for db in ["a.db", "b.db", "c.db", "d.db"] {
        assert_eq!(sqlite_heads(&tenants.join(db)), ["fl2"]);
        // Stamped, not run: t has no c2.
        assert!(
            !query_sqlite(&tenants.join(db), "SELECT name FROM pragma_table_info('t')")
                .iter()
                .any(|r| r[0] == "c2")
        );
    }
    let (code, json) = fleet_json(&project, &["current", "--fleet"]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(target(&json, "d.db")["from"], serde_json::json!(["fl2"]));
}

#[test]
fn canary_and_fail_fast_stop_early_and_leave_the_rest_untouched() {
    let project = project();
    let tenants = project.path().join("tenants");
    std::fs::create_dir(&tenants).unwrap();
    let b = tenants.join("b.db");
    std::fs::File::create(&b).unwrap();
    query_sqlite(&b, "CREATE TABLE t (legacy TEXT)");
    let names = ["a", "b", "c", "d", "e"];
    let list: Vec<String> = names
        .iter()
        .map(|n| format!("\"sqlite://tenants/{n}.db\""))
        .collect();
    write_fleet(
        &project,
        &format!("[fleet]\ndatabases = [{}]\n", list.join(", ")),
    );

    // Two canaries, the second fails: the other three are not started.
    let (code, json) = fleet_json(
        &project,
        &["upgrade", "--fleet", "--canary", "2", "--jobs", "3"],
    );
    assert_eq!(code, 1, "{json:#}");
    assert_eq!(result(&json, "a.db"), "done");
    assert_eq!(result(&json, "b.db"), "failed");
    for n in ["c", "d", "e"] {
        assert_eq!(result(&json, &format!("{n}.db")), "skipped", "{json:#}");
        assert!(!tenants.join(format!("{n}.db")).exists());
    }
    // Targets never started have no file: status counts them at base, not as broken.
    let (code, json) = fleet_json(&project, &["status", "--fleet"]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(target(&json, "c.db")["detail"], "not created, 3 pending");
    assert_eq!(target(&json, "a.db")["detail"], "at head");
    assert!(!tenants.join("c.db").exists());
    // Fail-fast, one at a time: a is up to date, b fails, nothing after it starts.
    let (code, json) = fleet_json(
        &project,
        &["upgrade", "--fleet", "--fail-fast", "--jobs", "1"],
    );
    assert_eq!(code, 1, "{json:#}");
    assert_eq!(result(&json, "a.db"), "up_to_date");
    assert_eq!(result(&json, "b.db"), "failed");
    for n in ["c", "d", "e"] {
        assert_eq!(result(&json, &format!("{n}.db")), "skipped");
        assert!(!tenants.join(format!("{n}.db")).exists());
    }
    // Without either, everything else proceeds past the failure.
    let (code, json) = fleet_json(&project, &["upgrade", "--fleet"]);
    assert_eq!(code, 1);
    assert_eq!(json["summary"]["done"], 3);
    assert_eq!(json["summary"]["failed"], 1);
    assert_eq!(sqlite_heads(&tenants.join("e.db")), ["fl3"]);
    // The fleet flags need --fleet; --fleet needs a [fleet].
    project
        .migrate()
        .args(["upgrade", "--jobs", "2"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("--fleet"));
    project
        .migrate()
        .args(["upgrade", "--fleet"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("[fleet]"));
}

fn pg_heads(url: &str, schema: &str) -> Vec<String> {
    query_url(
        url,
        &format!("SELECT revision FROM \"{schema}\".migrate_version ORDER BY revision"),
    )
    .unwrap()
    .into_iter()
    .map(|r| r[0].clone())
    .collect()
}

#[test]
fn postgres_databases_and_a_sqlite_file_in_one_fleet() {
    let Some(dbs) = (0..3)
        .map(|_| ServerDb::create(Server::Postgres))
        .collect::<Option<Vec<_>>>()
    else {
        return;
    };
    let project = project();
    dbs[1].run_script(
        "CREATE TABLE u (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO u VALUES (1, 'hand')",
    );
    let mut urls: Vec<String> = dbs.iter().map(|d| format!("\"{}\"", d.url)).collect();
    urls.push("\"sqlite://tenant.db\"".into());
    write_fleet(
        &project,
        &format!("[fleet]\ndatabases = [{}]\n", urls.join(", ")),
    );
    let (code, json) = fleet_json(&project, &["upgrade", "--fleet"]);
    assert_eq!(code, 1, "{json:#}");
    assert_eq!(result(&json, &dbs[0].name), "done");
    assert_eq!(result(&json, &dbs[2].name), "done");
    assert_eq!(result(&json, "tenant.db"), "done");
    assert_eq!(result(&json, &dbs[1].name), "failed");
    assert_eq!(pg_heads(&dbs[0].url, "public"), ["fl3"]);
    // PostgreSQL rolled the failed step back: fl2 is the last applied.
    assert_eq!(pg_heads(&dbs[1].url, "public"), ["fl2"]);
    assert_eq!(dbs[1].query("SELECT note FROM u"), [["hand"]]);
    // Two kinds of database: two renderings, not four.
    assert_eq!(json["plans_rendered"], 2);

    dbs[1].run_script("ALTER TABLE u RENAME TO u_hand");
    let (code, json) = fleet_json(&project, &["upgrade", "--fleet"]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["summary"]["up_to_date"], 3);
    assert_eq!(result(&json, &dbs[1].name), "done");
    assert_eq!(pg_heads(&dbs[1].url, "public"), ["fl3"]);
}

#[test]
fn postgres_schemas_found_by_pattern_each_with_its_own_version_tables() {
    let Some(db) = ServerDb::create(Server::Postgres) else {
        return;
    };
    let project = project();
    db.run_script(
        "CREATE SCHEMA tenant_a; CREATE SCHEMA tenant_b; CREATE SCHEMA tenant_c; CREATE SCHEMA other;
         CREATE TABLE tenant_b.u (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO tenant_b.u VALUES (1, 'hand');",
    );
    write_fleet(
        &project,
        &format!(
            "[[fleet.schemas]]\ndatabase_url = \"{}\"\nlike = \"tenant\\\\_%\"\n",
            db.url
        ),
    );
    let (code, json) = fleet_json(&project, &["upgrade", "--fleet"]);
    assert_eq!(code, 1, "{json:#}");
    assert_eq!(json["targets"].as_array().unwrap().len(), 3, "{json:#}");
    assert_eq!(result(&json, "schema tenant_a"), "done");
    assert_eq!(result(&json, "schema tenant_c"), "done");
    assert_eq!(result(&json, "schema tenant_b"), "failed");
    assert_eq!(pg_heads(&db.url, "tenant_a"), ["fl3"]);
    assert_eq!(pg_heads(&db.url, "tenant_b"), ["fl2"]);
    // Each schema got its own tables; the one outside the pattern and public got none.
    let tables = |schema: &str| -> Vec<String> {
        db.query(&format!(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = '{schema}' ORDER BY 1"
        ))
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
    };
    assert!(tables("tenant_c").contains(&"t".to_string()));
    assert!(tables("tenant_c").contains(&"u".to_string()));
    assert!(tables("other").is_empty());
    assert!(tables("public").is_empty(), "{:?}", tables("public"));
    assert_eq!(json["plans_rendered"], 1);

    db.run_script("ALTER TABLE tenant_b.u RENAME TO u_hand");
    let (code, json) = fleet_json(&project, &["upgrade", "--fleet"]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(result(&json, "schema tenant_a"), "up_to_date");
    assert_eq!(result(&json, "schema tenant_b"), "done");
    assert_eq!(pg_heads(&db.url, "tenant_b"), ["fl3"]);
    let (code, json) = fleet_json(&project, &["status", "--fleet"]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(target(&json, "schema tenant_b")["detail"], "at head");
}

/// A random name part, so that a pattern finds only this test's databases.
fn random_tag() -> String {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn targets_found_by_pattern_sqlite_files_and_databases_on_both_servers() {
    let tag = random_tag();
    let prefix = format!("fl_{tag}_");
    let found = |server| {
        (0..2)
            .map(|_| ServerDb::create_named(server, &prefix))
            .collect::<Option<Vec<_>>>()
    };
    let (Some(pg), Some(maria)) = (found(Server::Postgres), found(Server::Mysql)) else {
        return;
    };
    let project = project();
    let tenants = project.path().join("tenants");
    std::fs::create_dir(&tenants).unwrap();
    for name in ["a.db", "b.db", "notes.txt"] {
        std::fs::File::create(tenants.join(name)).unwrap();
    }
    // `_` is a LIKE wildcard: escaped, the pattern is exactly this test's prefix.
    let like = format!("fl\\\\_{tag}\\\\_%");
    write_fleet(
        &project,
        &format!(
            "[[fleet.files]]\npattern = \"tenants/*.db\"\n\
             [[fleet.find_databases]]\nserver_url = \"{}\"\nlike = \"{like}\"\n\
             [[fleet.find_databases]]\nserver_url = \"{}\"\nlike = \"{like}\"\n",
            pg[0].url, maria[0].url
        ),
    );
    let (code, json) = fleet_json(&project, &["upgrade", "--fleet"]);
    assert_eq!(code, 0, "{json:#}");
    let names: Vec<&str> = json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["target"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 6, "{names:?}");
    assert!(names.iter().all(|n| !n.contains("notes.txt")));
    assert_eq!(json["summary"]["done"], 6);
    for db in pg.iter().chain(&maria) {
        assert!(
            names.iter().any(|n| n.contains(&db.name)),
            "{} in {names:?}",
            db.name
        );
        assert_eq!(
            db.query("SELECT revision FROM migrate_version"),
            [["fl3"]],
            "{}",
            db.name
        );
    }
    assert_eq!(sqlite_heads(&tenants.join("b.db")), ["fl3"]);
}
