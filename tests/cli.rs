//! Conventions Rust CLI users expect (issue 19): shell completions generated from the argument
//! definitions.

use crate::common;

use predicates::str::contains;

#[test]
fn completions_complete_the_real_commands_in_bash() {
    let out = assert_cmd::Command::cargo_bin("migrate")
        .unwrap()
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("migrate.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    // Ask bash itself: load the script and complete `migrate sta`.
    let probe = format!(
        "source {}; COMP_WORDS=(migrate sta); COMP_CWORD=1; _migrate migrate sta migrate; echo \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &probe])
        .output()
        .unwrap();
    let words = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(words.split_whitespace().any(|w| w == "stamp"), "{words}");
    assert!(words.split_whitespace().any(|w| w == "status"), "{words}");
    assert!(!words.split_whitespace().any(|w| w == "upgrade"), "{words}");
}

#[test]
fn completions_exist_for_every_shell_and_need_no_project() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let dir = tempfile::tempdir().unwrap();
        assert_cmd::Command::cargo_bin("migrate")
            .unwrap()
            .current_dir(dir.path())
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(contains("upgrade"))
            .stdout(contains("database-url"));
    }
    assert_cmd::Command::cargo_bin("migrate")
        .unwrap()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stderr(contains("invalid value 'tcsh'"));
}

/// `-q` silences the tool's informational lines (which database, each step, the outcome), never
/// its errors.
#[test]
fn quiet_keeps_stderr_for_warnings_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let migrate = || common::migrate_in(dir.path());
    migrate().arg("init").assert().success();
    let loud = migrate().arg("upgrade").output().unwrap();
    assert!(loud.status.success());
    let text = String::from_utf8_lossy(&loud.stderr).to_string();
    assert!(text.contains("Database: sqlite://app.db"), "{text}");
    assert!(text.contains("Nothing to do"), "{text}");
    migrate()
        .args(["-q", "upgrade"])
        .assert()
        .success()
        .stderr("");
    migrate()
        .args(["upgrade", "--quiet", "nowhere"])
        .assert()
        .failure()
        .stderr(contains("no revision matches \"nowhere\""));
}

#[test]
fn revision_folders_keep_their_letters_and_an_empty_message_is_refused() {
    let p = common::TestProject::init();
    p.migrate()
        .args([
            "new",
            "--rev-id",
            "cl_unicode",
            "-m",
            "Émojis und Größe: ✓ done",
        ])
        .assert()
        .success();
    let folder = p.revision_dir("cl_unicode");
    assert_eq!(
        folder.file_name().unwrap().to_string_lossy(),
        "cl_unicode_émojis_und_größe_done"
    );
    // The folder builds and runs like any other.
    p.build();
    p.migrate().arg("upgrade").assert().success();
    for empty in ["", "   "] {
        p.migrate()
            .args(["new", "-m", empty])
            .assert()
            .failure()
            .stderr(contains("the message is empty"));
    }
}

/// Issue 18: after the first build has fetched the SDK's dependencies, `build` needs no
/// network: the project keeps its Cargo.lock, and a new revision (a new workspace member with
/// only path dependencies) builds with cargo forbidden to touch a registry.
#[test]
fn build_needs_no_network_after_the_first_time() {
    let p = common::TestProject::init();
    p.add_revision("nw_1", "one", &common::guest("Ok(())"));
    p.build();
    let lock = p.migrations().join("Cargo.lock");
    assert!(lock.exists(), "the project keeps its Cargo.lock");
    let ignored = std::fs::read_to_string(p.migrations().join(".gitignore")).unwrap();
    assert!(!ignored.contains("Cargo.lock"), "{ignored}");
    p.add_revision(
        "nw_2",
        "two",
        &common::guest(r#"op::create_table(Table::new("nw").column(Column::new("id", Type::Integer).primary_key())); Ok(())"#),
    );
    p.migrate()
        .arg("build")
        .env("CARGO_NET_OFFLINE", "true")
        .assert()
        .success()
        .stdout(contains("built nw_2"));
    p.migrate().arg("upgrade").assert().success();
    assert_eq!(p.heads(), ["nw_2"]);
}
