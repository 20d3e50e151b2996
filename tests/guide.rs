//! The guide's commands, run: every `sh` block of docs/guide/walkthrough.md, in order, in an
//! empty folder with this build's `migrate` first on PATH. A command that stops working, or a
//! page that stops matching the tool, fails here instead of in a reader's terminal.

use crate::common;

use std::process::Command;

fn sh_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = vec![];
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn the_walkthrough_runs_as_written() {
    let page =
        std::fs::read_to_string(common::repo_root().join("docs/guide/walkthrough.md")).unwrap();
    let blocks = sh_blocks(&page);
    assert!(
        blocks.len() >= 8,
        "the walkthrough has its steps: {}",
        blocks.len()
    );
    let binary = assert_cmd::cargo::cargo_bin("migrate");
    let path = format!(
        "{}:{}",
        binary.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let folder = tempfile::tempdir().unwrap();
    for (n, block) in blocks.iter().enumerate() {
        let out = Command::new("bash")
            .args(["-eu", "-c", block])
            .current_dir(folder.path())
            .env("PATH", &path)
            .env("CARGO_TARGET_DIR", common::guest_target_dir())
            .env_remove("DATABASE_URL")
            .env_remove("SETTINGS")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "block {} of the walkthrough failed:\n{block}\nstdout:\n{}\nstderr:\n{}",
            n + 1,
            common::stdout(&out),
            common::stderr(&out)
        );
    }
    // Where the page says things end up.
    let prod = folder.path().join("prod.db");
    assert_eq!(
        common::query_sqlite(&prod, "SELECT revision FROM migrate_version"),
        common::strings(&[&["b2"]])
    );
    let review = std::fs::read_to_string(folder.path().join("review.sql")).unwrap();
    assert!(review.contains("-- Running upgrade a1 -> b2"), "{review}");
}
