//! `migrate build` ships the ops of revisions that take no input in build/ops.json, so a fresh
//! deployment (binary, build/, settings; no cache, no sources) runs none of their guests; a
//! revision that asks for its database still runs. Shipped ops are checked as a guest's are,
//! and a damaged file only costs the guests' run.

use crate::common;

use common::{guest, query_sqlite, TestProject};
use predicates::str::contains;
use serde_json::Value;

const KNOWS: &str = include_str!("fixtures/knows_its_database.rs");

fn project() -> TestProject {
    let p = TestProject::init();
    p.add_revision(
        "so_plain",
        "plain",
        &guest(
            r#"op::create_table(Table::new("plain").column(Column::new("id", Type::Integer).primary_key()));
               Ok(())"#,
        ),
    );
    p.add_revision("so_knows", "knows its database", KNOWS);
    p.build();
    p
}

/// A fresh deployment of `p`: build/ and a settings file in a new folder.
fn deploy(p: &TestProject) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir_all(
        &p.migrations().join("build"),
        &dir.path().join("migrations/build"),
    );
    std::fs::write(
        dir.path().join("migrate.toml"),
        "database_url = \"sqlite://app.db\"\n",
    )
    .unwrap();
    dir
}

fn compiled_components(cache: &std::path::Path) -> usize {
    std::fs::read_dir(cache)
        .map(|entries| {
            entries
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "cwasm")
                })
                .count()
        })
        .unwrap_or(0)
}

fn shipped(p: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(p.join("migrations/build/ops.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The keys (component hashes) of the entries that hold ops, and of those that say the
/// component takes input (`null`).
fn keys_by_kind(file: &Value) -> (Vec<String>, Vec<String>) {
    let revisions = file["revisions"].as_object().unwrap();
    let (inputs, ops): (Vec<_>, Vec<_>) = revisions.iter().partition(|(_, v)| v.is_null());
    let keys =
        |entries: Vec<(&String, &Value)>| entries.into_iter().map(|(k, _)| k.clone()).collect();
    (keys(ops), keys(inputs))
}

#[test]
fn a_fresh_deployment_runs_only_the_guests_that_need_input() {
    let p = project();
    let file = shipped(p.path());
    // Ops for the plain revision only: the other asks for its database, so its ops depend on
    // it, and its entry says so.
    let (with_ops, taking_input) = keys_by_kind(&file);
    assert_eq!((with_ops.len(), taking_input.len()), (1, 1), "{file:#}");
    let plain = &file["revisions"][&with_ops[0]];
    assert_eq!(
        plain["upgrade"][0]["create_table"]["name"], "plain",
        "{file:#}"
    );
    assert_eq!(plain["downgrade"], serde_json::json!([]));

    let site = deploy(&p);
    let cache = site.path().join("cache");
    common::migrate_in(site.path())
        .env("MIGRATE_CACHE_DIR", &cache)
        .arg("upgrade")
        .assert()
        .success();
    let db = site.path().join("app.db");
    assert_eq!(
        query_sqlite(&db, "SELECT revision FROM migrate_version"),
        [["so_knows"]]
    );
    assert_eq!(
        query_sqlite(
            &db,
            "SELECT name FROM sqlite_master WHERE name IN ('plain', 'target_info') ORDER BY name"
        ),
        [["plain"], ["target_info"]]
    );
    // One component compiled: the revision that asks; the plain one's ops came from build/.
    assert_eq!(compiled_components(&cache), 1);
    // Its checksum is the one a guest run records: a deployment with the cache agrees.
    p.migrate()
        .args([
            "--database-url",
            &format!("sqlite://{}", db.display()),
            "upgrade",
        ])
        .assert()
        .success()
        .stderr(contains("Nothing to do"));
}

#[test]
fn shipped_ops_pass_the_sandbox_and_a_damaged_file_costs_only_time() {
    let p = project();
    let site = deploy(&p);
    let ops_path = site.path().join("migrations/build/ops.json");
    // Someone who can write build/ slips raw SQL into the plain revision's shipped ops.
    let mut file = shipped(site.path());
    let plain = keys_by_kind(&file).0.remove(0);
    let entry = &mut file["revisions"][&plain];
    entry["upgrade"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"execute": {"sql": "CREATE TABLE sneaky (x INTEGER)"}}));
    std::fs::write(&ops_path, serde_json::to_vec(&file).unwrap()).unwrap();
    std::fs::write(
        site.path().join("migrate.toml"),
        "database_url = \"sqlite://app.db\"\n[sandbox]\nallow_execute = false\n",
    )
    .unwrap();
    common::migrate_in(site.path())
        .env("MIGRATE_CACHE_DIR", site.path().join("cache"))
        .arg("upgrade")
        .assert()
        .failure()
        .stderr(contains("revision so_plain"))
        .stderr(contains("which the settings forbid"));
    assert!(
        !site.path().join("app.db").exists()
            || query_sqlite(
                &site.path().join("app.db"),
                "SELECT name FROM sqlite_master WHERE name = 'sneaky'"
            )
            .is_empty()
    );

    // A file that does not parse is ignored: the guests run, and the result is the same.
    std::fs::write(&ops_path, b"{ not json").unwrap();
    std::fs::write(
        site.path().join("migrate.toml"),
        "database_url = \"sqlite://app.db\"\n",
    )
    .unwrap();
    let cache = site.path().join("cache2");
    common::migrate_in(site.path())
        .env("MIGRATE_CACHE_DIR", &cache)
        .arg("upgrade")
        .assert()
        .success();
    assert_eq!(compiled_components(&cache), 2);
    assert_eq!(
        query_sqlite(
            &site.path().join("app.db"),
            "SELECT revision FROM migrate_version"
        ),
        [["so_knows"]]
    );
}

#[test]
fn a_rebuild_keeps_unchanged_entries_and_drops_stale_ones() {
    let p = project();
    let path = p.migrations().join("build/ops.json");
    let before = shipped(p.path());
    let old_key = keys_by_kind(&before).0.remove(0);
    // Marked by hand: a rebuild that reran the guest would overwrite the mark.
    let mut marked = before.clone();
    marked["revisions"][&old_key]["downgrade"] =
        serde_json::json!([{"drop_table": {"name": "marked"}}]);
    std::fs::write(&path, serde_json::to_vec(&marked).unwrap()).unwrap();
    p.build();
    assert_eq!(
        shipped(p.path()),
        marked,
        "an unchanged component keeps its entry"
    );
    // An edited revision is a new component: a new entry under its new hash, the old one gone.
    let lib = p.revision_dir("so_plain").join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("{source}\n// edited\n")).unwrap();
    p.build();
    let after = shipped(p.path());
    let (keys, taking_input) = keys_by_kind(&after);
    assert_eq!((keys.len(), taking_input.len()), (1, 1), "{after:#}");
    assert_ne!(keys[0], old_key);
    assert_eq!(
        after["revisions"][&keys[0]]["downgrade"],
        serde_json::json!([])
    );
}

#[test]
fn a_rebuild_does_not_load_a_revision_that_takes_input_again() {
    let p = project();
    let before = shipped(p.path());
    // A build with nothing changed and an empty cache: a component it loaded would be compiled
    // into the cache. The plain revision's ops are in ops.json; the other's entry says it
    // takes input, which the last build learnt by loading it.
    let cache = tempfile::tempdir().unwrap();
    p.migrate()
        .env("MIGRATE_CACHE_DIR", cache.path())
        .arg("build")
        .assert()
        .success();
    assert_eq!(compiled_components(cache.path()), 0);
    assert_eq!(shipped(p.path()), before);
}
