//! The guest SDK's bindings to `wit/`, generated ahead of time.
//!
//! wit-bindgen's `generate!` macro would do this inside every project's first build, and on the
//! host it needs wasmparser, wit-parser, wit-component and syn compiled first: about 30 s of a
//! cold `migrate build` before the first revision can start (BENCHMARKS.md, session 14). The SDK
//! therefore includes `src/bindings.rs`, written by `cargo run -p migrate-guest-sdk-bindgen`,
//! and a test here fails when that file is not what `wit/` generates today.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use wit_bindgen_core::WorldGenerator as _;

/// The world revisions implement.
const WORLD: &str = "revision";

/// The repository's `wit/` folder.
pub fn wit_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit")
}

/// Where the SDK includes the bindings from.
pub fn bindings_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../src/bindings.rs")
}

/// The bindings' source for the WIT in `wit_dir`, as the SDK's `wit` module includes it.
pub fn generate(wit_dir: &Path) -> anyhow::Result<String> {
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve
        .push_dir(wit_dir)
        .with_context(|| format!("reading {}", wit_dir.display()))?;
    let world = resolve.select_world(&[package], Some(WORLD))?;
    // The options the SDK's `generate!` call had: revisions export through the SDK's macro and
    // find the types under `migrate_guest_sdk::wit`.
    let opts = wit_bindgen_rust::Opts {
        format: true,
        pub_export_macro: true,
        export_macro_name: Some("__export_revision_world".to_owned()),
        default_bindings_module: Some("migrate_guest_sdk::wit".to_owned()),
        ..Default::default()
    };
    let mut files = wit_bindgen_core::Files::default();
    opts.build().generate(&mut resolve, world, &mut files)?;
    let (_, source) = files
        .iter()
        .next()
        .context("wit-bindgen generated no file")?;
    let source = std::str::from_utf8(source)?;
    Ok(format!(
        "// Generated from wit/ by `cargo run -p migrate-guest-sdk-bindgen`: do not edit.\n{source}"
    ))
}

#[cfg(test)]
mod tests {
    /// The SDK's committed bindings are what the WIT generates: an interface changed without
    /// regenerating them fails here, naming the command that mends it.
    #[test]
    fn committed_bindings_match_the_wit() {
        let expected = super::generate(&super::wit_dir()).unwrap();
        let committed = std::fs::read_to_string(super::bindings_file()).unwrap_or_default();
        assert!(
            committed == expected,
            "guest-sdk/src/bindings.rs is not what wit/ generates: run \
             `cargo run -p migrate-guest-sdk-bindgen` and commit the result"
        );
    }
}
