//! Random settings files and revision metadata through the real binary: every input gets a
//! result or a clear error naming the file, never a panic (exit code 101).

use crate::common;

use common::TestProject;
use proptest::prelude::*;

/// Text shaped like TOML, mixing the real keys with noise.
fn toml_like() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        "database_url = \"[a-z:/.@0-9?=&]{0,30}\"",
        "migrations = \"[a-z./ ]{0,12}\"",
        "\\[limits\\]",
        "\\[lock\\]",
        "(fuel|memory_mib|max_ops|timeout_ms|timeout_secs) = -?[0-9]{0,25}",
        "enabled = (true|false|1|\"x\")",
        "id = \"[a-z0-9_ ]{0,12}\"",
        "down_revisions = \\[(\"[a-z0-9]{0,4}\"(, )?){0,3}\\]",
        "message = \"\\PC{0,10}\"",
        "created = [0-9]{0,4}",
        "\\PC{0,20}",
    ];
    prop::collection::vec(line, 0..8).prop_map(|lines| lines.join("\n"))
}

fn no_panic(out: &std::process::Output) -> Result<(), TestCaseError> {
    let code = out.status.code();
    prop_assert!(
        code == Some(0) || code == Some(1),
        "exit code {:?}: {}",
        code,
        common::stderr(out)
    );
    if code == Some(1) {
        let err = common::stderr(out);
        prop_assert!(
            err.starts_with("error: ") && err.len() > 10,
            "unclear error: {}",
            err
        );
        prop_assert!(!err.contains("panicked"), "{}", err);
    }
    Ok(())
}

#[test]
fn random_settings_files_never_panic() {
    let p = TestProject::init();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&toml_like(), |text| {
            std::fs::write(p.path().join("fuzz.toml"), &text).unwrap();
            let out = p
                .migrate()
                .args(["--settings", "fuzz.toml", "heads"])
                .output()
                .unwrap();
            no_panic(&out)
        })
        .unwrap();
}

#[test]
fn random_revision_metadata_never_panics() {
    let p = TestProject::init();
    let dir = p.migrations().join("versions/fuzz_rev");
    std::fs::create_dir_all(&dir).unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&toml_like(), |text| {
            std::fs::write(dir.join("revision.toml"), &text).unwrap();
            let out = p.migrate().arg("history").output().unwrap();
            no_panic(&out)?;
            if !out.status.success() {
                prop_assert!(
                    common::stderr(&out).contains("fuzz_rev"),
                    "the error names the revision: {}",
                    common::stderr(&out)
                );
            }
            Ok(())
        })
        .unwrap();
}
