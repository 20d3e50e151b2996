//! `migrate build` rebuilds only what changed (issue 18): cargo is not run at all when nothing
//! did, is asked for the edited revisions alone (`-p`) when only they did, and for the whole
//! workspace when something every revision is built from did (the SDK, the lock file).

use std::path::{Path, PathBuf};

use crate::common::{self, TestProject};

/// A `cargo` that writes its arguments to a log, one line per run, and then runs the real one.
fn logging_cargo(dir: &Path) -> (PathBuf, PathBuf) {
    let log = dir.join("cargo.log");
    let script = dir.join("cargo-logging");
    let real = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, log)
}

fn build_logged(p: &TestProject, cargo: &Path, log: &Path) -> (String, Vec<String>) {
    let _ = std::fs::remove_file(log);
    let out = p
        .migrate()
        .env("CARGO", cargo)
        .arg("build")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let runs = std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    (common::stdout(&out), runs)
}

fn component(p: &TestProject, id: &str) -> Vec<u8> {
    std::fs::read(p.migrations().join(format!("build/{id}.wasm"))).unwrap()
}

#[test]
fn only_what_changed_is_built() {
    let p = TestProject::init();
    let make = |id: &str| {
        let body = format!(
            "op::create_table(Table::new(\"{id}\").column(Column::new(\"id\", Type::Integer).primary_key())); Ok(())"
        );
        p.add_revision(id, id, &common::guest(&body));
    };
    for id in ["ib_a", "ib_b", "ib_c"] {
        make(id);
    }
    let tools = tempfile::tempdir().unwrap();
    let (cargo, log) = logging_cargo(tools.path());

    let (said, runs) = build_logged(&p, &cargo, &log);
    assert!(said.contains("3 revision(s) built"), "{said}");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert!(runs[0].contains("--workspace"), "{runs:?}");
    let (a, c) = (component(&p, "ib_a"), component(&p, "ib_c"));

    // Nothing changed: cargo is not run at all, and nothing is written.
    let (said, runs) = build_logged(&p, &cargo, &log);
    assert!(runs.is_empty(), "{runs:?}");
    assert!(said.contains("0 revision(s) built, 3 unchanged"), "{said}");

    // One revision edited: cargo builds that one alone, the others' components stay as they are.
    let lib = p.revision_dir("ib_b").join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, source.replace("\"ib_b\"", "\"ib_b2\"")).unwrap();
    let (said, runs) = build_logged(&p, &cargo, &log);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert!(runs[0].contains("-p rev_ib_b"), "{runs:?}");
    assert!(
        !runs[0].contains("rev_ib_a") && !runs[0].contains("--workspace"),
        "{runs:?}"
    );
    assert!(said.contains("1 revision(s) built, 2 unchanged"), "{said}");
    assert_eq!(
        (component(&p, "ib_a"), component(&p, "ib_c")),
        (a.clone(), c)
    );
    // What it builds is the edited source.
    p.migrate().arg("upgrade").assert().success();
    assert_eq!(
        p.tables().iter().filter(|t| t.starts_with("ib_")).count(),
        3
    );
    assert!(
        p.tables().contains(&"ib_b2".to_string()),
        "{:?}",
        p.tables()
    );

    // The SDK every revision is built from changed: everything is built again.
    let sdk = p.migrations().join("sdk/src/lib.rs");
    let text = std::fs::read_to_string(&sdk).unwrap();
    std::fs::write(&sdk, format!("{text}\n// edited\n")).unwrap();
    let (said, runs) = build_logged(&p, &cargo, &log);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert!(runs[0].contains("--workspace"), "{runs:?}");
    assert!(said.contains("3 revision(s) built"), "{said}");
    assert_ne!(
        component(&p, "ib_a"),
        a,
        "ib_a was rebuilt (its recorded inputs changed)"
    );
}
