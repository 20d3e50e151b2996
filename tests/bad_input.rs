//! Bad input gets a clear error naming the file, revision or statement at fault, a non-zero
//! exit code, and leaves the database as it was.

use crate::common;

use common::{guest, TestProject};
use predicates::prelude::*;
use predicates::str::contains;

const BASE: &str = include_str!("fixtures/thing.rs");

/// A project at the base revision, with `failing` as the next one, built.
fn project_with_failing(id: &str, body: &str) -> TestProject {
    let p = TestProject::init();
    p.add_revision(&format!("{id}_base"), "base", BASE);
    p.add_revision(id, "the failing one", &guest(body));
    p.build();
    p.migrate().args(["upgrade", "+1"]).assert().success();
    p
}

/// Upgrading fails with all of `expected` in the message, and changes nothing.
fn assert_upgrade_fails_cleanly(p: &TestProject, expected: &[&str]) {
    let before = p.snapshot();
    let out = p.migrate().arg("upgrade").output().unwrap();
    assert!(!out.status.success());
    let err = common::stderr(&out);
    for text in expected {
        assert!(err.contains(text), "missing {text:?} in:\n{err}");
    }
    assert_eq!(p.snapshot(), before, "the database changed");
    assert_eq!(p.query("SELECT id FROM thing"), vec![vec!["1".to_string()]]);
}

#[test]
fn guest_returning_an_error() {
    let p = project_with_failing(
        "bad_err",
        r#"op::drop_table("thing"); Err("the data is not ready".into())"#,
    );
    assert_upgrade_fails_cleanly(
        &p,
        &[
            "revision bad_err",
            "upgrade() returned an error: the data is not ready",
        ],
    );
}

#[test]
fn guest_panicking_shows_its_message_and_place() {
    let p = project_with_failing(
        "bad_panic",
        r#"let rows: Vec<u32> = vec![]; if rows.is_empty() { panic!("no rows yet") } Ok(())"#,
    );
    assert_upgrade_fails_cleanly(
        &p,
        &[
            "revision bad_panic",
            "upgrade() panicked at versions/",
            "/src/lib.rs:",
            "no rows yet",
        ],
    );
}

/// Without std a guest's panic handler still formats a message with arguments (`core::fmt`),
/// and the place comes with it.
#[test]
fn guest_panicking_with_a_formatted_message_shows_the_place() {
    let p = project_with_failing(
        "bad_format",
        r#"let v: Vec<u32> = vec![]; panic!("no rows in {:?}", v)"#,
    );
    assert_upgrade_fails_cleanly(
        &p,
        &[
            "revision bad_format",
            "upgrade() panicked at versions/",
            "/src/lib.rs:",
            "no rows in []",
        ],
    );
}

/// With the SDK's `std` feature, revisions may use std (and need no `#![no_std]`), and a
/// panic shows its formatted message.
#[test]
fn revisions_with_the_std_feature_use_std_and_show_formatted_panics() {
    let p = TestProject::init_with_std();
    p.add_revision("std_base", "base", &BASE.replace("#![no_std]\n", ""));
    p.add_revision(
        "std_panic",
        "uses std",
        r#"use migrate_guest_sdk::prelude::*;
use std::collections::HashMap;
fn upgrade() -> Result {
    let counts: HashMap<&str, u32> = HashMap::new();
    panic!("no count for {:?} in {} entries", "thing", counts.len())
}
fn downgrade() -> Result { Ok(()) }
migrate_guest_sdk::revision!(upgrade, downgrade);
"#,
    );
    p.build();
    p.migrate().args(["upgrade", "+1"]).assert().success();
    assert_upgrade_fails_cleanly(
        &p,
        &[
            "revision std_panic",
            "upgrade() panicked",
            "no count for \"thing\" in 0 entries",
        ],
    );
}

/// A revision that leaves out `#![no_std]` (without the `std` feature) fails to build with
/// the revision named and both ways out.
#[test]
fn a_revision_linking_std_without_the_feature_is_named_at_build() {
    let p = TestProject::init();
    p.add_revision(
        "plain_std",
        "forgot no_std",
        &BASE.replace("#![no_std]\n", ""),
    );
    let out = p.migrate().arg("build").output().unwrap();
    assert!(!out.status.success());
    let err = common::stderr(&out);
    for text in [
        "revision plain_std links std",
        "#![no_std]",
        "`std` feature",
        "Cargo.toml",
    ] {
        assert!(err.contains(text), "missing {text:?} in:\n{err}");
    }
}

#[test]
fn guest_trapping() {
    let p = project_with_failing("bad_trap", "core::arch::wasm32::unreachable()");
    assert_upgrade_fails_cleanly(
        &p,
        &["revision bad_trap", "upgrade() stopped", "unreachable"],
    );
}

#[test]
fn guest_looping_forever_runs_out_of_fuel() {
    let p = project_with_failing(
        "bad_loop",
        "let mut n: u64 = 0; loop { n = core::hint::black_box(n + 1); }",
    );
    assert_upgrade_fails_cleanly(&p, &["revision bad_loop", "ran out of fuel"]);
}

#[test]
fn guest_running_too_long_is_stopped_by_the_wall_clock_limit() {
    let p = project_with_failing(
        "bad_slow",
        "let mut n: u64 = 0; loop { n = core::hint::black_box(n + 1); }",
    );
    std::fs::write(
        p.path().join("migrate.toml"),
        "database_url = \"sqlite://app.db\"\n[limits]\nfuel = 1000000000000000\ntimeout_ms = 300\n",
    )
    .unwrap();
    assert_upgrade_fails_cleanly(&p, &["revision bad_slow", "longer than 300 ms"]);
}

#[test]
fn guest_recursing_without_end_overflows_its_stack() {
    let p = project_with_failing(
        "bad_recursion",
        "fn down(n: u64) -> u64 { if core::hint::black_box(n) == u64::MAX { 0 } else { 1 + down(n + 1) } } \
         Err(format!(\"{}\", down(0)))",
    );
    assert_upgrade_fails_cleanly(&p, &["revision bad_recursion", "upgrade() stopped"]);
}

#[test]
fn guest_allocating_without_bound_hits_the_memory_limit() {
    let p = project_with_failing(
        "bad_memory",
        "let mut hoard: Vec<Vec<u8>> = Vec::new(); loop { hoard.push(vec![1u8; 1 << 20]); core::hint::black_box(&hoard); }",
    );
    std::fs::write(
        p.path().join("migrate.toml"),
        "database_url = \"sqlite://app.db\"\n[limits]\nmemory_mib = 16\nfuel = 10000000000\n",
    )
    .unwrap();
    assert_upgrade_fails_cleanly(&p, &["revision bad_memory", "16 MiB memory limit"]);
}

#[test]
fn guest_recording_too_many_ops() {
    let p = project_with_failing(
        "bad_many",
        r#"for _ in 0..1_000_000 { op::execute("SELECT 1"); } Ok(())"#,
    );
    assert_upgrade_fails_cleanly(&p, &["revision bad_many", "more than 100000 operations"]);
}

#[test]
fn sql_the_database_rejects_names_statement_and_revision_and_rolls_back() {
    let p = project_with_failing(
        "bad_sql",
        r#"op::create_table(Table::new("fresh").column(Column::new("id", Type::Integer)));
           op::drop_table("thing");
           op::execute("CREATE TABLE broken (");
           Ok(())"#,
    );
    assert_upgrade_fails_cleanly(
        &p,
        &[
            "revision bad_sql",
            "rolled back",
            "CREATE TABLE broken (",
            "incomplete input",
        ],
    );
    assert!(!p.tables().contains(&"fresh".to_string()));
}

#[test]
fn ops_that_contradict_earlier_revisions_are_refused_before_any_sql() {
    let p = project_with_failing("bad_model", r#"op::drop_column("thing", "nope"); Ok(())"#);
    assert_upgrade_fails_cleanly(
        &p,
        &[
            "revision bad_model",
            "op #1",
            "drop_column \"thing\".\"nope\"",
            "no column \"nope\"",
        ],
    );
    let out = p.migrate().args(["upgrade", "--sql"]).output().unwrap();
    assert!(!out.status.success());
    assert!(common::stderr(&out).contains("no column \"nope\""));
}

#[test]
fn invalid_op_values_are_refused_with_the_op_named() {
    let p = project_with_failing(
        "bad_value",
        r#"op::create_table(Table::new("t").column(Column::new("a", Type::Varchar(0)))); Ok(())"#,
    );
    assert_upgrade_fails_cleanly(
        &p,
        &[
            "revision bad_value",
            "create_table \"t\"",
            "varchar length must be at least 1",
        ],
    );
}

const OTHER_WORLD_CARGO: &str = r#"[package]
name = "rev_{id}"
version = "0.1.0"
edition = "2021"

[lib]
crate-type = ["cdylib"]

[dependencies]
wit-bindgen = "0.61.1"
"#;

/// A project vendored before revisions were `#![no_std]` (its SDK has no `std` feature) gets new
/// revisions without the line, and is told how to update; a current project gets the line.
#[test]
fn new_revisions_follow_the_projects_sdk() {
    let p = TestProject::init();
    p.migrate()
        .args(["new", "--rev-id", "now_sdk", "-m", "current"])
        .assert()
        .success()
        .stderr(contains("predates").not());
    let lib = |id: &str| std::fs::read_to_string(p.revision_dir(id).join("src/lib.rs")).unwrap();
    let current = lib("now_sdk");
    assert!(
        current.contains("#![no_std]\nuse migrate_guest_sdk::prelude::*;"),
        "{current}"
    );
    // The manifest an older `migrate init` vendored: no features, wit-bindgen's defaults.
    let manifest = p.migrations().join("sdk/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let package = &text[..text.find("[features]").unwrap()];
    std::fs::write(
        &manifest,
        format!("{package}[dependencies]\nwit-bindgen = \"0.61.1\"\n"),
    )
    .unwrap();
    p.migrate()
        .args(["new", "--rev-id", "old_sdk", "-m", "older"])
        .assert()
        .success()
        .stderr(contains("predates #![no_std] revisions"));
    let older = lib("old_sdk");
    assert!(!older.contains("no_std"), "{older}");
    assert!(
        older.contains("use migrate_guest_sdk::prelude::*;"),
        "{older}"
    );
}

/// A revision's dependency that links std (wit-bindgen with its default features, here) makes
/// the SDK's own build fail: rustc names the dependency, and so does `migrate build`.
#[test]
fn a_dependency_linking_std_without_the_feature_is_named_at_build() {
    let p = TestProject::init();
    p.add_revision("dep_base", "base", BASE);
    p.add_raw_revision(
        "dep_std",
        "std through a dependency",
        &[
            ("Cargo.toml", OTHER_WORLD_CARGO),
            ("wit/world.wit", "package test:other;\nworld other {\n    export run: func();\n}\n"),
            (
                "src/lib.rs",
                "wit_bindgen::generate!({ world: \"other\", path: \"wit\" });\nstruct G;\nimpl Guest for G { fn run() {} }\nexport!(G);\n",
            ),
        ],
    );
    let out = p.migrate().arg("build").output().unwrap();
    assert!(!out.status.success());
    let err = common::stderr(&out);
    for text in ["crate wit_bindgen links std", "`std` feature"] {
        assert!(err.contains(text), "missing {text:?} in:\n{err}");
    }
}

#[test]
fn component_of_the_wrong_world_is_refused() {
    let p = TestProject::init_with_std(); // the raw guest links std
    p.add_revision("world_base", "base", BASE);
    p.add_raw_revision(
        "world_wrong",
        "wrong world",
        &[
            ("Cargo.toml", OTHER_WORLD_CARGO),
            ("wit/world.wit", "package test:other;\nworld other {\n    export run: func();\n}\n"),
            (
                "src/lib.rs",
                "wit_bindgen::generate!({ world: \"other\", path: \"wit\" });\nstruct G;\nimpl Guest for G { fn run() {} }\nexport!(G);\n",
            ),
        ],
    );
    p.build();
    p.migrate().args(["upgrade", "+1"]).assert().success();
    let before = p.snapshot();
    p.migrate()
        .arg("upgrade")
        .assert()
        .failure()
        .stderr(contains("revision world_wrong"))
        .stderr(contains("world_wrong.wasm"))
        .stderr(contains("not a migrate revision"));
    assert_eq!(p.snapshot(), before);
}

#[test]
fn component_importing_anything_besides_the_ops_is_refused() {
    let p = TestProject::init_with_std(); // the raw guest links std
    p.add_revision("wasi_base", "base", BASE);
    let wit = "package wasi:cli@0.2.0;\ninterface environment {\n    get-environment: func() -> list<tuple<string, string>>;\n}\n\
               world sneaky {\n    import environment;\n    export upgrade: func() -> result<_, string>;\n    export downgrade: func() -> result<_, string>;\n}\n";
    let source = "wit_bindgen::generate!({ world: \"sneaky\", path: \"wit\" });\nstruct G;\nimpl Guest for G {\n    \
                  fn upgrade() -> Result<(), String> { Err(format!(\"{:?}\", wasi::cli::environment::get_environment())) }\n    \
                  fn downgrade() -> Result<(), String> { Ok(()) }\n}\nexport!(G);\n";
    p.add_raw_revision(
        "wasi_sneaky",
        "imports wasi",
        &[
            ("Cargo.toml", OTHER_WORLD_CARGO),
            ("wit/world.wit", wit),
            ("src/lib.rs", source),
        ],
    );
    p.build();
    p.migrate().args(["upgrade", "+1"]).assert().success();
    let before = p.snapshot();
    p.migrate()
        .arg("upgrade")
        .assert()
        .failure()
        .stderr(contains("revision wasi_sneaky"))
        .stderr(contains("imports the sandbox does not give"))
        .stderr(contains("wasi:cli/environment"));
    assert_eq!(p.snapshot(), before);
}

#[test]
fn wasm_that_is_not_a_component_or_not_wasm_is_refused() {
    // A build-only deployment (no versions/): the folder of .wasm files is the whole truth.
    let dir = tempfile::tempdir().unwrap();
    let build = dir.path().join("migrations/build");
    std::fs::create_dir_all(&build).unwrap();
    let mut core_module = b"\0asm\x01\0\0\0".to_vec();
    core_module.extend(common::metadata_section("core_only"));
    std::fs::write(build.join("core_only.wasm"), &core_module).unwrap();
    // As `migrate build` would list it, so that the component itself is what is judged.
    let listed = |bytes: &[u8]| common::write_manifest(&build, &[("core_only", bytes)]);
    listed(&core_module);
    std::fs::write(
        dir.path().join("migrate.toml"),
        "database_url = \"sqlite://app.db\"\n",
    )
    .unwrap();
    let migrate = || common::migrate_in(dir.path());
    migrate()
        .arg("heads")
        .assert()
        .success()
        .stdout(contains("core_only (head)"));
    migrate()
        .arg("upgrade")
        .assert()
        .failure()
        .stderr(contains("revision core_only"))
        .stderr(contains("core_only.wasm"))
        .stderr(contains("not a valid component"));

    // `heads` reads the manifest alone; what uses a component reads and checks it.
    std::fs::write(build.join("core_only.wasm"), b"\0asm\x01\0\0\0garbage").unwrap();
    listed(b"\0asm\x01\0\0\0garbage");
    migrate().arg("heads").assert().success();
    for verb in ["upgrade", "show"] {
        migrate()
            .args([verb, "core_only"])
            .assert()
            .failure()
            .stderr(contains("core_only.wasm"))
            .stderr(contains("not a valid wasm file"));
    }
    std::fs::write(build.join("core_only.wasm"), b"").unwrap();
    listed(b"");
    migrate()
        .args(["upgrade", "core_only"])
        .assert()
        .failure()
        .stderr(contains("core_only.wasm"));
}

#[test]
fn settings_problems_name_the_file() {
    let p = TestProject::init();
    p.migrate()
        .args(["--settings", "nowhere.toml", "current"])
        .assert()
        .failure()
        .stderr(contains("cannot read the settings file nowhere.toml"));
    std::fs::write(p.path().join("broken.toml"), "database_url = \n").unwrap();
    p.migrate()
        .args(["--settings", "broken.toml", "current"])
        .assert()
        .failure()
        .stderr(contains("settings file broken.toml"));
    std::fs::write(
        p.path().join("typo.toml"),
        "database_ur = \"sqlite://x.db\"\n",
    )
    .unwrap();
    p.migrate()
        .args(["--settings", "typo.toml", "current"])
        .assert()
        .failure()
        .stderr(contains("typo.toml"))
        .stderr(contains("unknown field `database_ur`"));
    std::fs::write(p.path().join("zero.toml"), "[limits]\nfuel = 0\n").unwrap();
    p.migrate()
        .args(["--settings", "zero.toml", "current"])
        .assert()
        .failure()
        .stderr(contains("zero.toml"));
    // SETTINGS names the file when no flag does; DATABASE_URL overrides its URL.
    p.migrate()
        .env("SETTINGS", "typo.toml")
        .arg("current")
        .assert()
        .failure()
        .stderr(contains("typo.toml"));
    std::fs::remove_file(p.path().join("migrate.toml")).unwrap();
    p.migrate()
        .arg("current")
        .assert()
        .failure()
        .stderr(contains("no database configured"));
    p.migrate()
        .env("DATABASE_URL", "sqlite://from_env.db")
        .arg("upgrade")
        .assert()
        .success();
    assert!(p.path().join("from_env.db").exists());
}

#[test]
fn unreachable_or_unknown_databases_are_named() {
    let p = TestProject::init();
    p.migrate()
        .env("DATABASE_URL", "sqlite:///no/such/folder/app.db")
        .arg("upgrade")
        .assert()
        .failure()
        .stderr(contains("cannot connect to the database at"))
        .stderr(contains("/no/such/folder/app.db"));
    p.migrate()
        .env("DATABASE_URL", "oracle://scott@tiger")
        .arg("current")
        .assert()
        .failure()
        .stderr(contains("$DATABASE_URL"))
        .stderr(contains("oracle://scott@tiger"));
}

fn write_meta(p: &TestProject, folder: &str, text: &str) {
    let dir = p.migrations().join("versions").join(folder);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("revision.toml"), text).unwrap();
}

#[test]
fn bad_revision_metadata_is_named() {
    let p = TestProject::init();
    write_meta(&p, "a_one", "id = \"a\"\nmessage = \"one\"\n");
    write_meta(
        &p,
        "b_two",
        "id = \"b\"\ndown_revisions = [\"a\"]\nmessage = \"two\"\n",
    );
    p.migrate()
        .arg("heads")
        .assert()
        .success()
        .stdout("b (head), two\n");

    write_meta(&p, "c_bad", "id = \"c\"\nmessage = \n");
    p.migrate()
        .arg("heads")
        .assert()
        .failure()
        .stderr(contains("c_bad/revision.toml"));
    write_meta(&p, "c_bad", "id = \"c d\"\nmessage = \"x\"\n");
    p.migrate()
        .arg("heads")
        .assert()
        .failure()
        .stderr(contains("c_bad/revision.toml"))
        .stderr(contains("\"c d\""));
    std::fs::remove_file(p.migrations().join("versions/c_bad/revision.toml")).unwrap();
    p.migrate()
        .arg("heads")
        .assert()
        .failure()
        .stderr(contains("c_bad has no revision.toml"));

    write_meta(&p, "c_bad", "id = \"a\"\nmessage = \"again\"\n");
    p.migrate()
        .arg("heads")
        .assert()
        .failure()
        .stderr(contains("\"a\" is used twice"))
        .stderr(contains("a_one"))
        .stderr(contains("c_bad"));
    write_meta(
        &p,
        "c_bad",
        "id = \"c\"\ndown_revisions = [\"zz\"]\nmessage = \"dangling\"\n",
    );
    p.migrate()
        .arg("heads")
        .assert()
        .failure()
        .stderr(contains("revision c ("))
        .stderr(contains(
            "c_bad) names down revision \"zz\", which does not exist",
        ));
    write_meta(
        &p,
        "a_one",
        "id = \"a\"\ndown_revisions = [\"c\"]\nmessage = \"one\"\n",
    );
    write_meta(
        &p,
        "c_bad",
        "id = \"c\"\ndown_revisions = [\"b\"]\nmessage = \"loop\"\n",
    );
    p.migrate()
        .arg("history")
        .assert()
        .failure()
        .stderr(contains("cycle"))
        .stderr(
            contains("a -> c -> b -> a")
                .or(contains("c -> b -> a -> c"))
                .or(contains("b -> a -> c -> b")),
        );
}

#[test]
fn bad_targets_and_several_heads_are_explained() {
    let p = TestProject::init();
    p.add_revision("tgt_a1", "one", BASE);
    p.add_revision("tgt_a2", "two", &guest("Ok(())"));
    p.build();
    p.migrate()
        .args(["upgrade", "nope"])
        .assert()
        .failure()
        .stderr(contains("no revision matches \"nope\""));
    p.migrate()
        .args(["upgrade", "tgt_a"])
        .assert()
        .failure()
        .stderr(contains("ambiguous"))
        .stderr(contains("tgt_a1"))
        .stderr(contains("tgt_a2"));
    p.migrate()
        .args(["upgrade", "+3"])
        .assert()
        .failure()
        .stderr(contains("only 2 revision(s) lie ahead"));
    p.migrate().arg("downgrade").assert().failure();
    p.migrate().args(["upgrade", "head"]).assert().success();
    p.migrate()
        .args(["upgrade", "tgt_a1"])
        .assert()
        .failure()
        .stderr(contains("use `migrate downgrade`"));

    // A second branch from tgt_a1: two heads. `upgrade head` refuses and lists both.
    p.migrate()
        .args([
            "new", "--rev-id", "tgt_b2", "-m", "branch", "--down", "tgt_a1",
        ])
        .assert()
        .success();
    std::fs::write(p.revision_dir("tgt_b2").join("src/lib.rs"), guest("Ok(())")).unwrap();
    p.build();
    p.migrate()
        .args(["upgrade", "head"])
        .assert()
        .failure()
        .stderr(contains("several heads"))
        .stderr(contains("tgt_a2"))
        .stderr(contains("tgt_b2"));
    p.migrate()
        .args(["new", "-m", "after"])
        .assert()
        .failure()
        .stderr(contains("several heads"));
    // `heads` applies both branches; a merge revision joins them.
    p.migrate().args(["upgrade", "heads"]).assert().success();
    assert_eq!(p.heads(), ["tgt_a2", "tgt_b2"]);
    p.migrate()
        .args([
            "new", "--rev-id", "tgt_m", "-m", "merge", "--down", "tgt_a2", "--down", "tgt_b2",
        ])
        .assert()
        .success();
    std::fs::write(p.revision_dir("tgt_m").join("src/lib.rs"), guest("Ok(())")).unwrap();
    p.build();
    p.migrate().arg("upgrade").assert().success();
    assert_eq!(p.heads(), ["tgt_m"]);
    // Down to tgt_a2 takes away what is built on it (the merge); the other branch stays, as
    // in Alembic. `tgt_b1@base` would take that branch too.
    p.migrate().args(["downgrade", "tgt_a2"]).assert().success();
    assert_eq!(p.heads(), ["tgt_a2", "tgt_b2"]);
}

#[test]
fn an_edited_applied_revision_is_refused_until_accepted() {
    let p = TestProject::init();
    p.add_revision("drift_1", "base", BASE);
    p.build();
    p.migrate().arg("upgrade").assert().success();
    // Reformatting or rebuilding changes nothing the checksum sees.
    let lib = p.revision_dir("drift_1").join("src/lib.rs");
    std::fs::write(&lib, format!("// a comment\n{BASE}")).unwrap();
    p.build();
    p.migrate()
        .arg("upgrade")
        .assert()
        .success()
        .stderr(contains("Nothing to do"));
    // Changing what it does is refused, with the way out.
    std::fs::write(&lib, BASE.replace("vec![1.into()]", "vec![2.into()]")).unwrap();
    p.build();
    p.add_revision(
        "drift_2",
        "next",
        &guest("op::execute(\"CREATE TABLE after_drift (x INTEGER)\"); Ok(())"),
    );
    p.build();
    p.migrate()
        .arg("upgrade")
        .assert()
        .failure()
        .stderr(contains("revision drift_1"))
        .stderr(contains("now records different operations"))
        .stderr(contains("migrate accept drift_1"));
    assert!(!p.tables().contains(&"after_drift".to_string()));
    p.migrate().args(["accept", "drift_1"]).assert().success();
    p.migrate().arg("upgrade").assert().success();
    assert!(p.tables().contains(&"after_drift".to_string()));
}

#[test]
fn a_stale_build_is_refused() {
    let p = TestProject::init();
    p.add_revision("stale_1", "base", BASE);
    p.build();
    std::fs::write(
        p.revision_dir("stale_1").join("src/lib.rs"),
        BASE.replace("thing", "other"),
    )
    .unwrap();
    p.migrate()
        .arg("upgrade")
        .assert()
        .failure()
        .stderr(contains("revision stale_1 changed since it was built"))
        .stderr(contains("migrate build"));
    assert!(!p.db_path().exists() || !p.tables().contains(&"thing".to_string()));
}

#[test]
fn a_build_only_deployment_upgrades_without_sources() {
    let p = TestProject::init();
    p.add_revision("deploy_1", "base", BASE);
    p.build();
    let server = tempfile::tempdir().unwrap();
    common::copy_dir_all(
        &p.migrations().join("build"),
        &server.path().join("migrations/build"),
    );
    std::fs::write(
        server.path().join("prod.toml"),
        "database_url = \"sqlite://prod.db\"\n",
    )
    .unwrap();
    let mut cmd = assert_cmd::Command::cargo_bin("migrate").unwrap();
    cmd.current_dir(server.path())
        .env_remove("DATABASE_URL")
        .env("PATH", "/nonexistent")
        .args(["upgrade", "--settings", "prod.toml"])
        .assert()
        .success();
    let rows = common::query_sqlite(&server.path().join("prod.db"), "SELECT id FROM thing");
    assert_eq!(rows, vec![vec!["1".to_string()]]);
}

#[test]
fn a_second_runner_waits_visibly_then_gives_up_clearly() {
    let p = TestProject::init();
    p.add_revision("lock_1", "base", BASE);
    p.build();
    std::fs::write(
        p.path().join("migrate.toml"),
        "database_url = \"sqlite://app.db\"\n[lock]\ntimeout_secs = 1\n",
    )
    .unwrap();
    // Another runner holds the lock (here: this test, on the lock file beside the database).
    let held = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(p.path().join("app.db.migrate-lock"))
        .unwrap();
    held.lock().unwrap();
    p.migrate()
        .arg("upgrade")
        .assert()
        .failure()
        .stderr(contains("Waiting for another migrate run to finish"))
        .stderr(contains("locked: another migrate run held"));
    // Released, the next run goes through; with locking off it never waits.
    held.unlock().unwrap();
    p.migrate().arg("upgrade").assert().success();
    held.lock().unwrap();
    std::fs::write(
        p.path().join("migrate.toml"),
        "database_url = \"sqlite://app.db\"\n[lock]\nenabled = false\n",
    )
    .unwrap();
    p.migrate()
        .args(["downgrade", "base"])
        .assert()
        .success()
        .stderr(contains("Waiting").not());
}

#[test]
fn a_truncated_component_is_refused_by_name() {
    let p = TestProject::init();
    p.add_revision("trunc_1", "base", BASE);
    p.build();
    let wasm = p.migrations().join("build/trunc_1.wasm");
    let bytes = std::fs::read(&wasm).unwrap();
    std::fs::write(&wasm, &bytes[..bytes.len() / 2]).unwrap();
    p.migrate()
        .arg("upgrade")
        .assert()
        .failure()
        .stderr(contains("revision trunc_1"))
        .stderr(contains("trunc_1.wasm"));
    assert!(!p.db_path().exists() || !p.tables().contains(&"thing".to_string()));
}
