//! `migrate build`: cargo compiles the revision crates for wasm32-unknown-unknown (one
//! workspace, one target dir, only what changed), then each module becomes a component with its
//! metadata embedded, written to build/<id>.wasm when it differs.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, Context as _};

use super::Context;
use crate::project::{self, Project};
use crate::wasm::cache::component_key;
use crate::wasm::component::{self, EmbeddedMetadata};

const TARGET: &str = "wasm32-unknown-unknown";

#[derive(Debug, clap::Args)]
pub struct BuildArgs {}

pub fn run(ctx: &Context, _args: BuildArgs) -> anyhow::Result<()> {
    let root = &ctx.migrations_dir;
    let project = Project::load(root)?;
    if project.sources.is_empty() {
        println!("No revisions to build in {}", root.display());
        return Ok(());
    }
    check_wasm_target()?;
    let manifest = root.join("Cargo.toml");
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let status = Command::new(cargo())
        .args([
            "build",
            "--release",
            "--workspace",
            "--target",
            TARGET,
            "--manifest-path",
        ])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir)
        .status()
        .with_context(|| "running cargo: is the Rust toolchain installed?")?;
    if !status.success() {
        bail!(
            "cargo could not build the revisions in {} (its errors are above)",
            root.display()
        );
    }
    let out_dir = Project::build_dir(root);
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let runtime = super::runtime(ctx)?;
    let (mut written, mut unchanged) = (0, 0);
    for meta in project.graph.in_order() {
        let source = &project.sources[&meta.id];
        let module_path = target_dir
            .join(TARGET)
            .join("release")
            .join(format!("rev_{}.wasm", meta.id));
        let module = std::fs::read(&module_path).map_err(|_| {
            anyhow!(
                "revision {} built no {}: its Cargo.toml must name the package rev_{} with crate-type cdylib",
                meta.id,
                module_path.display(),
                meta.id
            )
        })?;
        let mut bytes = component::componentize(&module)
            .map_err(|e| anyhow!("revision {} ({}): {e:#}", meta.id, source.display()))?;
        let metadata = EmbeddedMetadata {
            revision: meta.clone(),
            source_fingerprint: project::source_fingerprint(source)?,
        };
        component::embed_metadata(&mut bytes, &metadata);
        // Warm the compile cache so the first upgrade does not compile. A component that will
        // not load is reported now and refused, with the same message, when it would run.
        if let Err(e) = runtime.load(&component_key(&bytes), &bytes) {
            eprintln!("warning: revision {} will not run: {e:#}", meta.id);
        }
        let out = project.wasm_path(&meta.id);
        if std::fs::read(&out).ok().as_deref() == Some(bytes.as_slice()) {
            unchanged += 1;
            continue;
        }
        std::fs::write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
        println!(
            "built {} ({} KB) {}",
            meta.id,
            bytes.len().div_ceil(1024),
            meta.message
        );
        written += 1;
    }
    println!(
        "{written} revision(s) built, {unchanged} unchanged, in {}",
        out_dir.display()
    );
    Ok(())
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// A missing wasm target otherwise shows up as a wall of "can't find crate for `core`".
fn check_wasm_target() -> anyhow::Result<()> {
    let output = Command::new("rustc").args(["--print", "sysroot"]).output();
    let Ok(output) = output else {
        bail!("`migrate build` needs the Rust toolchain (rustc and cargo); production needs only the built build/ folder");
    };
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let target_lib = Path::new(&sysroot).join("lib/rustlib").join(TARGET);
    if !target_lib.exists() {
        bail!("the {TARGET} target is not installed: run `rustup target add {TARGET}`");
    }
    Ok(())
}
