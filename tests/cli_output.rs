//! What scripts and terminals see (issue 19): `--json` on every command that has it, parsed and
//! its fields checked; `-q` and `-v`; the colour switch; `history -r` and `heads --verbose`; and
//! the applied times in RFC 3339 UTC on every database.

use crate::common;

use common::servers::{Server, ServerDb};
use common::{guest, TestProject};
use serde_json::Value;

fn json(output: std::process::Output) -> Value {
    let text = common::stdout(&output);
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not one JSON document ({e}):\n{text}\nstderr: {}",
            common::stderr(&output)
        )
    })
}

fn three_revisions() -> TestProject {
    let p = TestProject::init();
    p.add_revision(
        "js_1",
        "people",
        &guest(r#"op::create_table(Table::new("person").column(Column::new("id", Type::Integer).primary_key())); Ok(())"#),
    );
    p.add_revision(
        "js_2",
        "email",
        &guest(r#"op::add_column("person", Column::new("email", Type::Text)); Ok(())"#),
    );
    p.add_revision(
        "js_3",
        "phone",
        &guest(r#"op::add_column("person", Column::new("phone", Type::Text)); Ok(())"#),
    );
    p.build();
    p
}

#[test]
fn every_json_shape_parses_with_its_fields() {
    let p = three_revisions();
    let up = json(
        p.migrate()
            .args(["--json", "upgrade", "js_2"])
            .output()
            .unwrap(),
    );
    assert_eq!(up["command"], "upgrade");
    assert_eq!(up["outcome"], "done");
    assert_eq!(up["heads_before"], serde_json::json!([]));
    assert_eq!(up["heads_after"], serde_json::json!(["js_2"]));
    let steps = up["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0]["revision"], "js_1");
    assert_eq!(steps[0]["direction"], "upgrade");
    assert_eq!(steps[1]["parents"], serde_json::json!(["js_1"]));
    assert!(steps[1]["statements"].as_u64().unwrap() >= 1);
    assert!(steps[1]["duration_ms"].is_u64());

    let current = json(p.migrate().args(["current", "--json"]).output().unwrap());
    assert_eq!(current["heads"][0]["revision"], "js_2");
    assert_eq!(current["heads"][0]["message"], "email");
    assert_eq!(current["heads"][0]["is_head"], false);
    assert_eq!(current["incomplete"], serde_json::json!([]));

    let status = json(p.migrate().args(["status", "--json"]).output().unwrap());
    assert_eq!(status["current"], serde_json::json!(["js_2"]));
    assert_eq!(status["heads"], serde_json::json!(["js_3"]));
    assert_eq!(status["applied"], 2);
    assert_eq!(status["total"], 3);
    assert_eq!(status["pending"][0]["revision"], "js_3");
    assert_eq!(status["healthy"], true);

    let heads = json(p.migrate().args(["heads", "--json"]).output().unwrap());
    assert_eq!(heads["heads"][0]["revision"], "js_3");
    assert_eq!(
        heads["heads"][0]["down_revisions"],
        serde_json::json!(["js_2"])
    );

    let history = json(
        p.migrate()
            .args(["history", "--json", "--applied"])
            .output()
            .unwrap(),
    );
    let rows = history["history"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["revision"], "js_2");
    assert_eq!(rows[1]["direction"], "upgrade");
    assert_eq!(rows[1]["checksum"].as_str().unwrap().len(), 64);
    assert_rfc3339_utc(rows[1]["applied_at"].as_str().unwrap());

    let revisions = json(p.migrate().args(["history", "--json"]).output().unwrap());
    let ids: Vec<&str> = revisions["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revision"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["js_3", "js_2", "js_1"]);
    assert_eq!(
        revisions["revisions"][0]["markers"],
        serde_json::json!(["head"])
    );

    let show = json(
        p.migrate()
            .args(["show", "js_2", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(show["revision"], "js_2");
    assert_eq!(show["capabilities"]["execute"], false);
    let ops = &show["operations"][0];
    assert_eq!(ops["upgrade"][0]["add_column"]["table"], "person");
    assert_eq!(ops["checksum"].as_str().unwrap().len(), 64);

    std::fs::write(
        p.path().join("schema.sql"),
        "CREATE TABLE person (id INTEGER PRIMARY KEY, email TEXT, phone TEXT);\n",
    )
    .unwrap();
    let out = p.migrate().args(["check", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let check = json(out);
    assert_eq!(check["matches"], true);
    assert_eq!(check["upgrade"], serde_json::json!([]));
    let out = p
        .migrate()
        .args(["check", "--json", "--database"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let check = json(out);
    assert_eq!(check["matches"], false);
    assert_eq!(check["upgrade"][0]["add_column"]["column"]["name"], "phone");
    let heads_check = json(
        p.migrate()
            .args(["check", "--heads", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(heads_check["commutes"], true);

    let down = json(
        p.migrate()
            .args(["downgrade", "base", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(down["command"], "downgrade");
    assert_eq!(down["heads_after"], serde_json::json!([]));
    assert_eq!(down["steps"][0]["revision"], "js_2");
    assert_eq!(down["steps"][0]["direction"], "downgrade");

    // Nothing to do is still one document; a failure is one too, with the error.
    let idle = json(
        p.migrate()
            .args(["downgrade", "base", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(idle["steps"], serde_json::json!([]));
    // Refused before any step: still one document, saying so.
    let out = p
        .migrate()
        .args(["upgrade", "nope", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let refused = json(out);
    assert_eq!(refused["outcome"], "failed");
    assert!(
        refused["error"].as_str().unwrap().contains("\"nope\""),
        "{refused}"
    );
    assert_eq!(refused["heads_before"], serde_json::json!([]));
    assert_eq!(refused["heads_after"], Value::Null);
    p.migrate()
        .args(["init", "--json"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("--json is for"));
}

fn assert_rfc3339_utc(text: &str) {
    let parsed = humantime::parse_rfc3339(text);
    assert!(
        parsed.is_ok() && text.ends_with('Z'),
        "not RFC 3339 UTC: {text}"
    );
}

#[test]
fn applied_times_are_rfc3339_utc_on_every_database() {
    let p = three_revisions();
    let mut urls = vec![format!("sqlite://{}", p.path().join("t.db").display())];
    let servers: Vec<ServerDb> = [Server::Postgres, Server::Mysql]
        .into_iter()
        .filter_map(ServerDb::create)
        .collect();
    urls.extend(servers.iter().map(|s| s.url.clone()));
    for url in urls {
        p.migrate_on(&url)
            .args(["upgrade", "js_1"])
            .assert()
            .success();
        let history = json(
            p.migrate_on(&url)
                .args(["history", "--applied", "--json"])
                .output()
                .unwrap(),
        );
        let at = history["history"][0]["applied_at"]
            .as_str()
            .unwrap()
            .to_string();
        assert_rfc3339_utc(&at);
        let shown = common::stdout(
            &p.migrate_on(&url)
                .args(["history", "--applied"])
                .output()
                .unwrap(),
        );
        assert!(shown.starts_with(&at), "{url}: {shown}");
    }
}

#[test]
fn quiet_verbose_and_colour() {
    let p = three_revisions();
    let out = p
        .migrate()
        .args(["-q", "upgrade", "js_1"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(common::stderr(&out), "");
    let out = p
        .migrate()
        .args(["-v", "upgrade", "js_2"])
        .output()
        .unwrap();
    let err = common::stderr(&out);
    assert!(err.contains("Running upgrade js_1 -> js_2, email"), "{err}");
    assert!(
        err.contains("ALTER TABLE \"person\" ADD COLUMN \"email\" TEXT;"),
        "{err}"
    );
    assert!(err.contains("UPDATE \"migrate_version\""), "{err}");
    p.migrate()
        .args(["-q", "-v", "current"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("cannot be used with"));

    // Colour: forced on, the error label and the step's revision are painted; never, plain;
    // auto, plain when stderr is not a terminal (as here) or NO_COLOR is set.
    let out = p
        .migrate()
        .args(["--color", "always", "show", "nope"])
        .output()
        .unwrap();
    assert!(
        common::stderr(&out).starts_with("\u{1b}[1;31merror\u{1b}[0m: "),
        "{:?}",
        common::stderr(&out)
    );
    let out = p
        .migrate()
        .args(["--color", "always", "upgrade", "js_3"])
        .output()
        .unwrap();
    assert!(
        common::stderr(&out).contains("-> \u{1b}[1;36mjs_3\u{1b}[0m, phone"),
        "{:?}",
        common::stderr(&out)
    );
    let out = p
        .migrate()
        .args(["--color", "never", "show", "nope"])
        .output()
        .unwrap();
    assert!(common::stderr(&out).starts_with("error: "));
    let out = p
        .migrate()
        .env("NO_COLOR", "1")
        .args(["show", "nope"])
        .output()
        .unwrap();
    assert!(!common::stderr(&out).contains('\u{1b}'));
}

#[test]
fn history_ranges_and_heads_verbose() {
    let p = three_revisions();
    let ids = |args: &[&str]| -> Vec<String> {
        common::stdout(&p.migrate().args(args).output().unwrap())
            .lines()
            .map(|l| {
                l.split(" -> ")
                    .nth(1)
                    .unwrap()
                    .split([',', ' '])
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(ids(&["history", "-r", "js_2:"]), ["js_3", "js_2"]);
    assert_eq!(ids(&["history", "-r", ":js_2"]), ["js_2", "js_1"]);
    assert_eq!(ids(&["history", "-r", "js_2:js_2"]), ["js_2"]);
    p.migrate().args(["upgrade", "js_1"]).assert().success();
    assert_eq!(
        ids(&["history", "-r", "current:"]),
        ["js_3", "js_2", "js_1"]
    );
    p.migrate()
        .args(["history", "-r", "js_2"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("write A:B"));
    let verbose = common::stdout(&p.migrate().args(["heads", "--verbose"]).output().unwrap());
    assert!(verbose.contains("js_3 (head), phone"), "{verbose}");
    assert!(verbose.contains("  revises: js_2"), "{verbose}");
    assert!(verbose.contains("  source: "), "{verbose}");
}

/// A revision source whose bytes differ on every run, so the shared target dir compiles it.
fn fresh_guest(body: &str) -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    format!("{}\n// {}\n", guest(body), u64::from_le_bytes(bytes))
}

#[test]
fn build_counts_revisions_on_a_terminal_and_names_paths_from_the_callers_folder() {
    let p = TestProject::init();
    p.add_revision("bp_1", "one", &fresh_guest("Ok(())"));
    p.add_revision("bp_2", "two", &fresh_guest("Ok(())"));
    // In a pseudo-terminal: the count, redrawn in place, and the summary.
    let binary = assert_cmd::cargo::cargo_bin("migrate");
    let out = std::process::Command::new("script")
        .args(["-qec", &format!("{} build", binary.display()), "/dev/null"])
        .current_dir(p.path())
        .env("CARGO_TARGET_DIR", common::guest_target_dir())
        .env_remove("DATABASE_URL")
        .env_remove("SETTINGS")
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains("\r\u{1b}[K  compiling revisions: 2/2"),
        "{shown:?}"
    );
    assert!(
        shown.contains("compiled 2 of 2 revision(s) in"),
        "{shown:?}"
    );
    // Not a terminal: cargo's own lines, nothing redrawn.
    std::fs::write(
        p.revision_dir("bp_2").join("src/lib.rs"),
        fresh_guest("Ok(())"),
    )
    .unwrap();
    let out = p.migrate().arg("build").output().unwrap();
    let err = common::stderr(&out);
    assert!(err.contains("Compiling rev_bp_2"), "{err}");
    assert!(!err.contains("\u{1b}[K"), "{err:?}");

    // A compile error points at the file from where migrate ran, not from migrations/.
    let dir = p.revision_dir("bp_2");
    std::fs::write(
        dir.join("src/lib.rs"),
        fresh_guest("op::no_such_op(); Ok(())"),
    )
    .unwrap();
    let out = p.migrate().arg("build").output().unwrap();
    let err = common::stderr(&out);
    assert!(!out.status.success());
    let folder = dir.file_name().unwrap().to_string_lossy().to_string();
    assert!(
        err.contains(&format!("--> migrations/versions/{folder}/src/lib.rs:")),
        "{err}"
    );
    // std without the feature: said first, by revision and file, before rustc's E0152.
    std::fs::write(
        dir.join("src/lib.rs"),
        fresh_guest("Ok(())").replace("#![no_std]\n", ""),
    )
    .unwrap();
    let out = p.migrate().arg("build").output().unwrap();
    let err = common::stderr(&out);
    assert!(!out.status.success());
    let warned = err
        .find("revision bp_2 (")
        .unwrap_or_else(|| panic!("no warning naming bp_2:\n{err}"));
    assert!(err[warned..].contains("has no `#![no_std]`"), "{err}");
    let first_error = err.find("error").unwrap_or(err.len());
    assert!(warned < first_error, "the warning comes first:\n{err}");
}

/// `history`'s text for a graph with a branch point, a labelled branch and a merge: each line
/// "down -> id (markers), message", newest first, a control character in a message escaped.
#[test]
fn history_lines_name_down_revisions_markers_and_one_line_messages() {
    let p = TestProject::init();
    let revisions = [
        ("a_start", "id = \"a\"\nmessage = \"start\"\n"),
        ("b_left", "id = \"b\"\ndown_revisions = [\"a\"]\nmessage = \"left\"\n"),
        (
            "c_right",
            "id = \"c\"\ndown_revisions = [\"a\"]\nmessage = \"right\"\nbranch_labels = [\"side\"]\n",
        ),
        (
            "m_merge",
            "id = \"m\"\ndown_revisions = [\"b\", \"c\"]\nmessage = \"merge\\tboth\"\n",
        ),
    ];
    for (folder, text) in revisions {
        let dir = p.migrations().join("versions").join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("revision.toml"), text).unwrap();
    }
    p.migrate().arg("history").assert().success().stdout(
        "b, c -> m (head, mergepoint), merge\\tboth\n\
             a -> c (branch side), right\n\
             a -> b, left\n\
             base -> a (branchpoint), start\n",
    );
}
