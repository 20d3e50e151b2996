//! Shared test helpers: a throwaway project made by the real `migrate` binary, guests built by
//! the real `migrate build`, and a way to read a SQLite file back.
//!
//! Every project's guests build into one shared cargo target dir so the SDK's dependencies
//! compile once per test run. Cargo names a revision's artifact after its crate (`rev_<id>`),
//! so two projects must never use one id for different sources: fixtures carry unique ids.

#![allow(dead_code)]

pub mod servers;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use sqlx::{Column, Connection, Row, TypeInfo};
use tempfile::TempDir;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// One target dir for every guest the tests build.
pub fn guest_target_dir() -> PathBuf {
    repo_root().join("target").join("test-guests")
}

pub struct TestProject {
    pub dir: TempDir,
}

impl TestProject {
    /// `migrate init` in a fresh folder: the SDK vendored, settings pointing at app.db.
    pub fn init() -> TestProject {
        let project = TestProject {
            dir: tempfile::tempdir().unwrap(),
        };
        project.migrate().arg("init").assert().success();
        project
    }

    /// `init`, with the SDK's `std` feature on: revisions may link std (or depend on crates
    /// that do).
    pub fn init_with_std() -> TestProject {
        let project = TestProject::init();
        let manifest = project.migrations().join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        let plain = "migrate-guest-sdk = { path = \"sdk\" }";
        assert!(text.contains(plain), "{text}");
        let with_std = "migrate-guest-sdk = { path = \"sdk\", features = [\"std\"] }";
        std::fs::write(&manifest, text.replacen(plain, with_std, 1)).unwrap();
        project
    }

    /// A copy of the repository's own migrations (the shipped chain), built against the repo's SDK.
    pub fn shipped_chain() -> TestProject {
        let project = TestProject {
            dir: tempfile::tempdir().unwrap(),
        };
        let source = repo_root().join("migrations");
        let target = project.migrations();
        copy_dir(&source.join("versions"), &target.join("versions"));
        let manifest = std::fs::read_to_string(source.join("Cargo.toml")).unwrap();
        let sdk = repo_root().join("guest-sdk");
        let manifest = manifest.replace(
            "path = \"../guest-sdk\"",
            &format!("path = {:?}", sdk.display().to_string()),
        );
        std::fs::write(target.join("Cargo.toml"), manifest).unwrap();
        std::fs::write(
            project.path().join("migrate.toml"),
            "database_url = \"sqlite://app.db\"\n",
        )
        .unwrap();
        project
    }

    /// A project whose three revisions use every op of the interface, built.
    pub fn with_every_op() -> TestProject {
        let p = TestProject::init();
        p.add_revision(
            "allops_1",
            "tables",
            include_str!("../fixtures/allops_1_tables.rs"),
        );
        p.add_revision(
            "allops_2",
            "alter",
            include_str!("../fixtures/allops_2_alter.rs"),
        );
        p.add_revision(
            "allops_3",
            "keys",
            include_str!("../fixtures/allops_3_keys.rs"),
        );
        p.build();
        p
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn migrations(&self) -> PathBuf {
        self.path().join("migrations")
    }

    pub fn db_path(&self) -> PathBuf {
        self.path().join("app.db")
    }

    /// The real binary, run in the project folder with a clean environment for settings.
    pub fn migrate(&self) -> Command {
        let mut cmd = migrate_in(self.path());
        cmd.env("CARGO_TARGET_DIR", guest_target_dir());
        cmd
    }

    /// The binary pointed at another database through DATABASE_URL.
    pub fn migrate_on(&self, url: &str) -> Command {
        let mut cmd = self.migrate();
        cmd.env("DATABASE_URL", url);
        cmd
    }

    /// `migrate <args>` on `url` (as `migrate_on`) started in the background, its output piped:
    /// for runs that must overlap with each other or with the test.
    pub fn spawn_on(&self, url: &str, args: &[&str]) -> std::process::Child {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("migrate"))
            .current_dir(self.path())
            .env_remove("SETTINGS")
            .env("DATABASE_URL", url)
            .env("CARGO_TARGET_DIR", guest_target_dir())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// What `migrate <args>` prints, offline (`upgrade --sql --dialect …`): it must succeed.
    pub fn printed(&self, args: &[&str]) -> String {
        let out = self.migrate().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    }

    /// `check --database` on `url` finds the database as `schema.sql` says.
    pub fn assert_model_matches(&self, url: &str) {
        self.migrate_on(url)
            .args(["check", "--database"])
            .assert()
            .code(0)
            .stdout(predicates::str::contains("matches the model"));
    }

    /// `check --database` on `url` finds a difference, naming `what`.
    pub fn assert_model_differs(&self, url: &str, what: &str) {
        self.migrate_on(url)
            .args(["check", "--database"])
            .assert()
            .code(1)
            .stdout(predicates::str::contains(what));
    }

    /// `migrate new` with a fixed id, then the revision's source replaced by `source`.
    pub fn add_revision(&self, id: &str, message: &str, source: &str) -> PathBuf {
        self.migrate()
            .args(["new", "--rev-id", id, "-m", message])
            .assert()
            .success();
        let dir = self.revision_dir(id);
        std::fs::write(dir.join("src/lib.rs"), source).unwrap();
        dir
    }

    /// `migrate new` with a fixed id and more arguments (`--head`, `--branch-label`, ...), then
    /// the revision's source replaced by `source`.
    pub fn add_revision_with(
        &self,
        id: &str,
        message: &str,
        args: &[&str],
        source: &str,
    ) -> PathBuf {
        self.migrate()
            .args(["new", "--rev-id", id, "-m", message])
            .args(args)
            .assert()
            .success();
        let dir = self.revision_dir(id);
        std::fs::write(dir.join("src/lib.rs"), source).unwrap();
        dir
    }

    /// A revision crate written file by file, for guests that do not use the SDK.
    pub fn add_raw_revision(&self, id: &str, message: &str, files: &[(&str, &str)]) -> PathBuf {
        self.migrate()
            .args(["new", "--rev-id", id, "-m", message])
            .assert()
            .success();
        let dir = self.revision_dir(id);
        for (relative, text) in files {
            let path = dir.join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text.replace("{id}", id)).unwrap();
        }
        dir
    }

    /// Schema, heads and history: what a failed command must leave exactly as it was.
    pub fn snapshot(&self) -> Vec<Vec<String>> {
        let mut all = self.query("SELECT type, name, sql FROM sqlite_master ORDER BY name");
        all.extend(self.query("SELECT 'head', revision FROM migrate_version ORDER BY revision"));
        all.extend(self.query(
            "SELECT 'history', revision, direction, checksum FROM migrate_history ORDER BY seq",
        ));
        all
    }

    pub fn revision_dir(&self, id: &str) -> PathBuf {
        let versions = self.migrations().join("versions");
        std::fs::read_dir(&versions)
            .unwrap()
            .map(|e| e.unwrap().path())
            // By the id in revision.toml: folder names share prefixes (`a_base_…` and `a_…`).
            .find(|p| {
                let meta = std::fs::read_to_string(p.join("revision.toml")).unwrap_or_default();
                meta.lines().any(|line| line == format!("id = {id:?}"))
            })
            .unwrap_or_else(|| panic!("no revision {id} in {}", versions.display()))
    }

    pub fn build(&self) {
        self.migrate().arg("build").assert().success();
    }

    /// Every row of a query on app.db, each cell as text (NULL as "NULL").
    pub fn query(&self, sql: &str) -> Vec<Vec<String>> {
        query_sqlite(&self.db_path(), sql)
    }

    /// The user tables (version tables included), sorted.
    pub fn tables(&self) -> Vec<String> {
        self.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .into_iter()
            .map(|r| r[0].clone())
            .collect()
    }

    /// (name, declared type, notnull, default, pk) per column.
    pub fn columns(&self, table: &str) -> Vec<Vec<String>> {
        self.query(&format!(
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('{table}') ORDER BY cid"
        ))
    }

    pub fn column_names(&self, table: &str) -> Vec<String> {
        self.columns(table)
            .into_iter()
            .map(|c| c[0].clone())
            .collect()
    }

    pub fn heads(&self) -> Vec<String> {
        self.query("SELECT revision FROM migrate_version ORDER BY revision")
            .into_iter()
            .map(|r| r[0].clone())
            .collect()
    }

    /// A byte-for-byte snapshot of the database file, to prove a failure changed nothing.
    pub fn db_bytes(&self) -> Vec<u8> {
        std::fs::read(self.db_path()).unwrap_or_default()
    }
}

/// The real binary run in `dir`, with no settings or database from the test's environment.
pub fn migrate_in(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("migrate").unwrap();
    cmd.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("SETTINGS");
    cmd
}

/// Expected rows written as string slices.
pub fn strings(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect()
}

pub fn query_sqlite(path: &Path, sql: &str) -> Vec<Vec<String>> {
    try_query_sqlite(path, sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Like `query_sqlite`, but the database's refusal is returned instead of panicking.
pub fn try_query_sqlite(path: &Path, sql: &str) -> Result<Vec<Vec<String>>, sqlx::Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let url = format!("sqlite://{}", path.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_all(&mut conn)
            .await?;
        Ok(rows
            .iter()
            .map(|row| (0..row.columns().len()).map(|i| cell(row, i)).collect())
            .collect())
    })
}

fn cell(row: &sqlx::sqlite::SqliteRow, i: usize) -> String {
    if let Ok(Some(v)) = row.try_get::<Option<i64>, _>(i) {
        return v.to_string();
    }
    if let Ok(Some(v)) = row.try_get::<Option<f64>, _>(i) {
        return v.to_string();
    }
    if let Ok(Some(v)) = row.try_get::<Option<String>, _>(i) {
        return v;
    }
    if let Ok(Some(v)) = row.try_get::<Option<Vec<u8>>, _>(i) {
        return format!(
            "x'{}'",
            v.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
    }
    let _ = row.columns()[i].type_info().name();
    "NULL".into()
}

/// Every output of the verbs that show the heads (`current`, `heads`), for comparing two
/// ways of reading the revisions.
pub const HEADS_OUTPUTS: [&[&str]; 5] = [
    &["current"],
    &["current", "--json"],
    &["heads"],
    &["heads", "--verbose"],
    &["heads", "--json"],
];

/// What `run` prints for each of `commands` with no metadata index to read: the index is
/// removed before each, since each run writes it again (trusted at once when the revision files
/// are old enough). Panics if there was no index before the first: the comparison it is made
/// for would then compare nothing.
pub fn outputs_without_metadata_index(
    p: &TestProject,
    commands: &[&[&str]],
    run: impl Fn(&[&str]) -> String,
) -> Vec<String> {
    let index = p.migrations().join(".cache/revisions.index");
    assert!(index.exists(), "no metadata index at {}", index.display());
    commands
        .iter()
        .map(|args| {
            let _ = std::fs::remove_file(&index);
            run(args)
        })
        .collect()
}

/// Copies a folder as it is, build output included.
pub fn copy_dir_all(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir_all(&path, &target);
        } else {
            std::fs::copy(&path, target).unwrap();
        }
    }
}

/// Copies a revision source folder, leaving build output behind.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap();
        if name == "target" || name == "build" {
            continue;
        }
        if path.is_dir() {
            copy_dir(&path, &to.join(name));
        } else {
            std::fs::copy(&path, to.join(name)).unwrap();
        }
    }
}

pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A custom section as `migrate build` writes it.
pub fn metadata_section(id: &str) -> Vec<u8> {
    let payload = format!(
        r#"{{"revision":{{"id":"{id}","down_revisions":[],"message":"m","created":""}},"source_fingerprint":""}}"#
    );
    let name = b"migrate-revision";
    let mut body = vec![name.len() as u8];
    body.extend_from_slice(name);
    body.extend_from_slice(payload.as_bytes());
    let mut section = vec![0u8];
    let mut len = body.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        section.push(if len == 0 { byte } else { byte | 0x80 });
        if len == 0 {
            break;
        }
    }
    section.extend(body);
    section
}

/// `build/manifest.toml` listing `entries` (id, component bytes) as `migrate build` writes it.
pub fn write_manifest(build: &Path, entries: &[(&str, &[u8])]) {
    let mut text = String::from("format = 1\n");
    for (id, bytes) in entries {
        let hash = blake3::hash(bytes).to_hex();
        text.push_str(&format!(
            "[[revision]]\nid = {id:?}\nmessage = \"m\"\nblake3 = \"{hash}\"\n"
        ));
    }
    std::fs::write(build.join("manifest.toml"), text).unwrap();
}

/// A revision's source whose upgrade() body is `body` and whose downgrade() does nothing.
pub fn guest(body: &str) -> String {
    format!(
        r#"
#![no_std]
use migrate_guest_sdk::prelude::*;
#[allow(unreachable_code, unused_mut, unused_variables)]
fn upgrade() -> Result {{
    {body}
}}
fn downgrade() -> Result {{
    Ok(())
}}
migrate_guest_sdk::revision!(upgrade, downgrade);
"#
    )
}

/// A revision's source whose upgrade() and downgrade() run `up` and `down` (SDK calls, without
/// the final `Ok(())`). `tag` lands in a comment: a revision id shares the guests' target dir
/// across tests, so two sources for one id must differ in their bytes.
pub fn guest_both_ways(up: &str, down: &str, tag: &str) -> String {
    format!(
        "#![no_std]\nuse migrate_guest_sdk::prelude::*;\n\
         fn upgrade() -> Result {{ {up} Ok(()) }}\n\
         fn downgrade() -> Result {{ {down} Ok(()) }}\n\
         migrate_guest_sdk::revision!(upgrade, downgrade);\n// {tag}\n"
    )
}
