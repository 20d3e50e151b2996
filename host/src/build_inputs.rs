//! What every revision of a project is built from besides its own crate: the workspace's
//! `Cargo.toml`, the registry packages its `Cargo.lock` pins, cargo's configuration, the SDK and
//! its WIT files, and the flags rustc is given. `migrate build` embeds this fingerprint in each component next to the
//! revision's own source fingerprint; a component whose two fingerprints and metadata are
//! still the current ones is up to date, and cargo is asked to build only the others
//! (`cargo build -p`: over a thousand-member workspace a no-op build of everything costs cargo
//! about 1.4 s, of one member 0.16 s).
//!
//! Not covered, on purpose: the Rust toolchain's version (asking rustc costs a process per
//! build, and a component built by an older compiler is still the revision's component; delete
//! `build/` to rebuild everything).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Folders of the migrations root that are not shared inputs: the revisions (each has its own
/// fingerprint), what builds write, and the caches.
const NOT_INPUTS: &[&str] = &["versions", "build", "target"];

/// Environment variables that change what rustc makes of the same sources.
const FLAG_VARIABLES: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
];

/// The fingerprint of everything but the revisions' own crates that goes into their build.
pub fn fingerprint(root: &Path) -> anyhow::Result<String> {
    let mut hasher = Sha256::new();
    for variable in FLAG_VARIABLES {
        hasher.update(variable.as_bytes());
        hasher.update([0]);
        if let Some(value) = std::env::var_os(variable) {
            hasher.update(value.as_encoded_bytes());
        }
        hasher.update([0]);
    }
    for folder in input_folders(root) {
        hasher.update(folder.to_string_lossy().as_bytes());
        hasher.update([0]);
        let top_level = folder == root;
        let skip = |name: &str| top_level && (NOT_INPUTS.contains(&name) || name == LOCK_FILE);
        crate::project::hash_files(&folder, &mut hasher, &skip)?;
    }
    hasher.update(locked_registry_packages(&root.join(LOCK_FILE)).as_bytes());
    Ok(hex::encode(hasher.finalize()))
}

const LOCK_FILE: &str = "Cargo.lock";

/// The lock file's packages that come from a registry or git, as text. The path packages (the
/// revisions and the SDK) are left out: cargo adds a revision to the lock file when it first
/// builds it, which must not make every other revision stale; the SDK's files count already.
fn locked_registry_packages(lock: &Path) -> String {
    let Some(locked) = std::fs::read_to_string(lock)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
    else {
        return String::new();
    };
    let packages = locked.get("package").and_then(|p| p.as_array());
    packages
        .into_iter()
        .flatten()
        .filter(|package| package.get("source").is_some())
        .map(|package| package.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The migrations root (its `Cargo.toml`, `Cargo.lock`, vendored SDK and WIT, `.cargo/`), and
/// every path dependency of the workspace outside it with the `wit` folder beside it (the
/// SDK's layout: its macros read `../wit`).
fn input_folders(root: &Path) -> Vec<PathBuf> {
    let mut folders = vec![root.to_path_buf()];
    let Some(dependencies) = crate::project::workspace_dependencies(root) else {
        return folders;
    };
    // Compared resolved: `../guest-sdk` joined to the root still starts with the root.
    let resolved_root = std::fs::canonicalize(root).ok();
    for dependency in dependencies.values() {
        let Some(path) = dependency.get("path").and_then(|p| p.as_str()) else {
            continue;
        };
        let Ok(folder) = std::fs::canonicalize(root.join(path)) else {
            continue; // cargo will say it is missing
        };
        if resolved_root
            .as_ref()
            .is_some_and(|r| folder.starts_with(r))
        {
            continue; // walked with the root
        }
        if let Some(wit) = folder
            .parent()
            .map(|p| p.join("wit"))
            .filter(|w| w.is_dir())
        {
            folders.push(wit);
        }
        folders.push(folder);
    }
    folders
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_the_lock_and_flags_change_it_and_the_revisions_and_builds_do_not() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::write(
            r.join("Cargo.toml"),
            "[workspace]\nmembers = [\"versions/*\"]\n",
        )
        .unwrap();
        std::fs::create_dir_all(r.join("sdk/src")).unwrap();
        std::fs::write(r.join("sdk/src/lib.rs"), "// sdk").unwrap();
        std::fs::create_dir_all(r.join("versions/a1_x/src")).unwrap();
        std::fs::create_dir_all(r.join("build")).unwrap();
        let first = fingerprint(r).unwrap();

        std::fs::write(r.join("versions/a1_x/src/lib.rs"), "// a revision").unwrap();
        std::fs::write(r.join("build/a1.wasm"), "bytes").unwrap();
        std::fs::create_dir_all(r.join("target/x")).unwrap();
        std::fs::create_dir_all(r.join(".cache")).unwrap();
        std::fs::write(r.join(".cache/revisions.index"), "{}").unwrap();
        assert_eq!(fingerprint(r).unwrap(), first);

        std::fs::write(r.join("sdk/src/lib.rs"), "// sdk, edited").unwrap();
        let edited = fingerprint(r).unwrap();
        assert_ne!(edited, first);
        // A revision's own entry in the lock file changes nothing; a locked crate does.
        let lock = |packages: &str| std::fs::write(r.join("Cargo.lock"), packages).unwrap();
        lock("version = 4\n[[package]]\nname = \"rev_a1\"\nversion = \"0.1.0\"\n");
        assert_eq!(fingerprint(r).unwrap(), edited);
        lock("version = 4\n[[package]]\nname = \"bitflags\"\nversion = \"2.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n");
        assert_ne!(fingerprint(r).unwrap(), edited);
    }

    #[test]
    fn an_sdk_outside_the_root_and_the_wit_beside_it_count() {
        let top = tempfile::tempdir().unwrap();
        let root = top.path().join("migrations");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace]\n[workspace.dependencies]\nmigrate-guest-sdk = { path = \"../guest-sdk\" }\n",
        )
        .unwrap();
        std::fs::create_dir_all(top.path().join("guest-sdk")).unwrap();
        std::fs::create_dir_all(top.path().join("wit")).unwrap();
        std::fs::write(top.path().join("wit/ops.wit"), "package a:b;").unwrap();
        let first = fingerprint(&root).unwrap();
        std::fs::write(top.path().join("wit/ops.wit"), "package a:c;").unwrap();
        assert_ne!(fingerprint(&root).unwrap(), first);
    }
}
