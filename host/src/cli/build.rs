//! `migrate build`: cargo compiles the revision crates for wasm32-unknown-unknown (one
//! workspace, one target dir, only what changed), then each module becomes a component with its
//! metadata embedded, written to build/<id>.wasm when it differs.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, Context as _};

use super::Context;
use crate::manifest::{Entry, Manifest};
use crate::project::{self, Project};
use crate::wasm::cache::component_key;
use crate::wasm::component::{self, EmbeddedMetadata};
use crate::wasm::GuestRuntime;
use migrate_core::revision::RevisionMeta;

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
    warn_std_without_feature(&project, root);
    let revisions: Vec<&RevisionMeta> = project.graph.in_order().collect();
    // A revision whose component holds the current sources and shared inputs is left as it
    // is; cargo builds only the others (or, when all changed, the whole workspace).
    let inputs = crate::build_inputs::fingerprint(root)?;
    let kept: Vec<Option<Vec<u8>>> = crate::parallel::map(&revisions, 16, |meta| {
        up_to_date_component(&project, meta, &inputs)
    })
    .into_iter()
    .collect::<anyhow::Result<_>>()?;
    let stale: Vec<&str> = revisions
        .iter()
        .zip(&kept)
        .filter(|(_, kept)| kept.is_none())
        .map(|(meta, _)| meta.id.as_str())
        .collect();
    let only = (stale.len() < revisions.len()).then_some(stale.as_slice());
    let links_std = if stale.is_empty() {
        None
    } else {
        run_cargo(&manifest, &target_dir, root, only, stale.len())?
    };
    if let Some(links_std) = links_std {
        let mut message = format!(
            "cargo could not build the revisions in {} (its errors are above)",
            root.display()
        );
        if !links_std.is_empty() {
            let link = if links_std.len() == 1 {
                "links"
            } else {
                "link"
            };
            message.push_str(&format!(
                ": {} {link} std, and the SDK (without its `std` feature) is the panic handler. \
                 Put `#![no_std]` at the top of the revision's src/lib.rs (and use no crate that \
                 needs std), or turn the SDK's `std` feature on in {} (`features = [\"std\"]`)",
                links_std.join(", "),
                manifest.display()
            ));
        }
        bail!(message);
    }
    // Taken again: cargo may have written Cargo.lock (the first build does).
    let inputs = crate::build_inputs::fingerprint(root)?;
    let out_dir = Project::build_dir(root);
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let runtime = super::runtime(ctx);
    // Componentizing and compiling (to warm the cache) take milliseconds per revision: on
    // every core, reported in the graph's order.
    let previous_ops = crate::wasm::shipped::previous(&out_dir);
    let work: Vec<(&RevisionMeta, Option<Vec<u8>>)> = revisions.iter().copied().zip(kept).collect();
    let packaged = crate::parallel::map(&work, 4, |(meta, kept)| match kept {
        Some(bytes) => Ok(keep(&runtime, &previous_ops, meta, bytes)),
        None => package(
            &project,
            &target_dir,
            &runtime,
            &previous_ops,
            meta,
            &inputs,
        ),
    });
    let (mut written, mut unchanged) = (0, 0);
    let mut entries = Vec::with_capacity(revisions.len());
    let mut shipped = std::collections::BTreeMap::new();
    for (meta, outcome) in revisions.iter().zip(packaged) {
        let outcome = outcome?;
        entries.push(outcome.entry.clone());
        if let Some(ops) = outcome.ops {
            shipped.insert(outcome.entry.blake3.clone(), ops);
        }
        if let Some(problem) = outcome.will_not_run {
            eprintln!("warning: revision {} will not run: {problem}", meta.id);
        }
        if outcome.changed {
            println!(
                "built {} ({} KB) {}",
                meta.id,
                outcome.size.div_ceil(1024),
                meta.message
            );
            written += 1;
        } else {
            unchanged += 1;
        }
    }
    let removed = remove_orphans(&out_dir, &project)?;
    Manifest::new(entries).write(&out_dir)?;
    crate::wasm::shipped::write(&out_dir, &shipped)?;
    println!(
        "{written} revision(s) built, {unchanged} unchanged, {removed} removed, in {}",
        out_dir.display()
    );
    Ok(())
}

/// Makes `build/` hold exactly the revisions in `versions/`: a component whose revision was
/// deleted would otherwise ship with the folder and run in production.
fn remove_orphans(out_dir: &Path, project: &Project) -> anyhow::Result<usize> {
    let mut removed = 0;
    for entry in
        std::fs::read_dir(out_dir).with_context(|| format!("reading {}", out_dir.display()))?
    {
        let path = entry?.path();
        let Some(id) = path
            .file_stem()
            .filter(|_| path.extension().is_some_and(|e| e == "wasm"))
            .map(|s| s.to_string_lossy().into_owned())
        else {
            continue;
        };
        if project.graph.get(&id).is_none() {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            println!(
                "removed {}: revision {id} is no longer in {}",
                path.display(),
                Project::versions_dir(&project.root).display()
            );
            removed += 1;
        }
    }
    Ok(removed)
}

/// What became of one revision's module.
struct Packaged {
    /// Whether build/<id>.wasm was written (else it already held these bytes).
    changed: bool,
    size: usize,
    /// Why the component will not load, if it will not.
    will_not_run: Option<String>,
    /// Its line in build/manifest.toml.
    entry: Entry,
    /// Its entry in build/ops.json, when its ops depend on nothing but its bytes.
    ops: Option<Box<serde_json::value::RawValue>>,
}

type PreviousOps = std::collections::BTreeMap<String, Box<serde_json::value::RawValue>>;

/// The component in build/ of a revision whose sources and shared inputs are those it was
/// built from (its embedded metadata says so), else `None`: it must be built.
fn up_to_date_component(
    project: &Project,
    meta: &RevisionMeta,
    inputs: &str,
) -> anyhow::Result<Option<Vec<u8>>> {
    let Ok(bytes) = crate::manifest::read_component_file(&project.wasm_path(&meta.id)) else {
        return Ok(None);
    };
    let Ok(Some(embedded)) = component::read_metadata(&bytes) else {
        return Ok(None);
    };
    let current = embedded.revision == *meta
        && embedded.build_inputs == inputs
        && embedded.source_fingerprint == project::source_fingerprint(&source_of(project, meta)?)?;
    Ok(current.then_some(bytes))
}

/// A revision's source folder: `build` reads every revision from its sources.
fn source_of(project: &Project, meta: &RevisionMeta) -> anyhow::Result<std::path::PathBuf> {
    project
        .sources
        .get(&meta.id)
        .ok_or_else(|| anyhow::anyhow!("revision {} has no source folder", meta.id))
}

/// An up-to-date revision's component as it is: its manifest line, and its shipped ops (the
/// last build's, or recorded now where that build's ops.json has none for it).
fn keep(
    runtime: &GuestRuntime,
    previous_ops: &PreviousOps,
    meta: &RevisionMeta,
    bytes: &[u8],
) -> Packaged {
    let key = component_key(bytes);
    let ops = shipped_ops(runtime, previous_ops, &key, || {
        runtime.load(&key, bytes).ok()
    });
    Packaged {
        changed: false,
        size: bytes.len(),
        will_not_run: None,
        entry: Entry::new(meta, bytes),
        ops,
    }
}

/// The ops to ship for a component: the last build's entry where there is one (the same bytes
/// record the same ops, and ask for the same input), else recorded from the component `load`
/// gives.
fn shipped_ops(
    runtime: &GuestRuntime,
    previous_ops: &PreviousOps,
    key: &str,
    load: impl FnOnce() -> Option<crate::wasm::runtime::LoadedRevision>,
) -> Option<Box<serde_json::value::RawValue>> {
    use crate::wasm::shipped;
    if let Some(entry) = previous_ops.get(key) {
        return Some(entry.clone());
    }
    match record_both_ways(runtime, &load()?) {
        Recording::Shippable(recorded) => shipped::entry(&recorded),
        Recording::TakesInput => Some(shipped::takes_input()),
        Recording::Failed => None,
    }
}

/// What recording a component's ops for build/ops.json came to.
enum Recording {
    /// Both directions' ops, which depend on nothing but the component's bytes.
    Shippable(crate::wasm::shipped::Recorded),
    /// It asks for input (clock, catalog, data, target), so its ops depend on the run: a
    /// function of its bytes too, kept in ops.json so that a later build need not load it
    /// again to learn it.
    TakesInput,
    /// A direction failed: reported when it runs for real, and tried again by the next build
    /// (the limits it ran under may have changed).
    Failed,
}

/// Turns a revision's built module into its component, metadata embedded, compiles it into the
/// cache, and writes build/<id>.wasm if that differs.
fn package(
    project: &Project,
    target_dir: &Path,
    runtime: &GuestRuntime,
    previous_ops: &PreviousOps,
    meta: &RevisionMeta,
    inputs: &str,
) -> anyhow::Result<Packaged> {
    let source = &source_of(project, meta)?;
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
        build_inputs: inputs.to_string(),
    };
    component::embed_metadata(&mut bytes, &metadata);
    // Warm the compile cache so the first upgrade does not compile. A component that will not
    // load is reported now and refused, with the same message, when it would run.
    let key = component_key(&bytes);
    let loaded = runtime.load(&key, &bytes);
    let will_not_run = loaded.as_ref().err().map(|e| format!("{e:#}"));
    let ops = shipped_ops(runtime, previous_ops, &key, || loaded.ok());
    let out = project.wasm_path(&meta.id);
    let changed = std::fs::read(&out).ok().as_deref() != Some(bytes.as_slice());
    if changed {
        std::fs::write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(Packaged {
        changed,
        size: bytes.len(),
        will_not_run,
        entry: Entry::new(meta, &bytes),
        ops,
    })
}

/// Both directions' ops of a revision that takes no input, to ship in build/ops.json.
fn record_both_ways(
    runtime: &GuestRuntime,
    loaded: &crate::wasm::runtime::LoadedRevision,
) -> Recording {
    let capabilities = loaded.capabilities;
    if capabilities.contextual() || capabilities.target {
        return Recording::TakesInput;
    }
    let target = crate::wasm::target::Target::default();
    let run = |direction| {
        runtime
            .run(
                loaded,
                direction,
                crate::wasm::context::GuestContext::ahead(&target),
            )
            .ok()
    };
    let recorded = || {
        Some(crate::wasm::shipped::Recorded {
            upgrade: run(crate::wasm::Direction::Upgrade)?,
            downgrade: run(crate::wasm::Direction::Downgrade)?,
        })
    };
    recorded().map_or(Recording::Failed, Recording::Shippable)
}

/// Runs cargo, passing its messages on as they come while watching them for the one mistake
/// worth explaining: std linked into revisions while the SDK is the panic handler (rustc's
/// "duplicate lang item `panic_impl`", whose note names the crate that brought std in).
/// `None` when cargo succeeded, else what links std ("revision X", "crate Y"; maybe nothing).
/// Before cargo runs: a revision without `#![no_std]` while the SDK's `std` feature is off
/// will fail to link with rustc's E0152 (a duplicate panic handler). Said first, by name, so
/// the reader knows what the noise below means.
fn warn_std_without_feature(project: &Project, root: &Path) {
    if !project::sdk_supports_no_std(root) || sdk_std_feature_on(root) {
        return;
    }
    for (id, dir) in project.sources.iter() {
        let lib = dir.join("src/lib.rs");
        let Ok(code) = std::fs::read_to_string(&lib) else {
            continue;
        };
        if !code.lines().any(|l| l.trim() == "#![no_std]") {
            eprintln!(
                "{}: revision {id} ({}) has no `#![no_std]` and the SDK's `std` feature is off: it will not \
                 link (rustc's E0152, below). Put `#![no_std]` at its top, or turn the feature on in {}",
                crate::output::warning_label(),
                lib.display(),
                root.join("Cargo.toml").display()
            );
        }
    }
}

/// Whether the workspace turns on the SDK's `std` feature.
fn sdk_std_feature_on(root: &Path) -> bool {
    project::workspace_dependencies(root)
        .and_then(|dependencies| {
            let features = dependencies.get("migrate-guest-sdk")?.get("features")?;
            Some(
                features
                    .as_array()?
                    .iter()
                    .any(|f| f.as_str() == Some("std")),
            )
        })
        .unwrap_or(false)
}

/// Runs cargo, passing its messages on with their file paths made relative to where the user
/// ran `migrate` (cargo writes them relative to the migrations folder), and counting the
/// revisions compiled: on a terminal one line that updates, elsewhere nothing extra.
fn run_cargo(
    manifest: &Path,
    target_dir: &Path,
    root: &Path,
    only: Option<&[&str]>,
    revisions: usize,
) -> anyhow::Result<Option<Vec<String>>> {
    use std::io::{BufRead, IsTerminal, Write};
    let terminal = std::io::stderr().is_terminal();
    let color = if terminal { "always" } else { "never" };
    let started = std::time::Instant::now();
    let mut compiled = 0usize;
    let mut slowest: Option<(String, std::time::Duration)> = None;
    let mut last: Option<(String, std::time::Instant)> = None;
    let packages: Vec<String> = match only {
        // Cargo still reads every member's manifest, but checks and builds only these.
        Some(ids) => ids
            .iter()
            .flat_map(|id| ["-p".into(), format!("rev_{id}")])
            .collect(),
        None => vec!["--workspace".into()],
    };
    let mut child = Command::new(cargo())
        .args(["build", "--release", "--target", TARGET])
        .args(&packages)
        .arg(format!("--color={color}"))
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("running cargo: is the Rust toolchain installed?")?;
    let mut in_duplicate_panic_handler = false;
    let mut links_std = Vec::new();
    if let Some(messages) = child.stderr.take() {
        let mut stderr = std::io::stderr().lock();
        for line in std::io::BufReader::new(messages)
            .lines()
            .map_while(Result::ok)
        {
            let plain = strip_ansi(&line);
            let line = relative_to_caller(&line, &plain, root);
            // On a terminal, one status line redrawn in place; cargo's other lines above it.
            let show_status = terminal && !crate::output::quiet();
            if let Some(krate) = plain.trim_start().strip_prefix("Compiling rev_") {
                compiled += 1;
                let name = krate
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                // Crates compile in parallel: the time between two starts is an estimate.
                if let Some((previous, at)) =
                    last.replace((name.clone(), std::time::Instant::now()))
                {
                    let took = at.elapsed();
                    if slowest.as_ref().is_none_or(|(_, t)| took > *t) {
                        slowest = Some((previous, took));
                    }
                }
                if show_status {
                    let _ = write!(
                        stderr,
                        "\r\x1b[K  compiling revisions: {compiled}/{revisions} ({name})"
                    );
                    let _ = stderr.flush();
                    continue;
                }
            }
            if show_status && compiled > 0 {
                let _ = write!(stderr, "\r\x1b[K");
            }
            let _ = writeln!(stderr, "{line}");
            if show_status && compiled > 0 {
                let _ = write!(stderr, "  compiling revisions: {compiled}/{revisions}");
                let _ = stderr.flush();
            }
            if plain.starts_with("error") {
                in_duplicate_panic_handler =
                    plain.contains("duplicate lang item") && plain.contains("panic_impl");
            }
            let brought_in_by = plain.split("first defined in crate `std` (which `").nth(1);
            if let (true, Some(rest)) = (in_duplicate_panic_handler, brought_in_by) {
                if let Some(dependency) = rest.split('`').next() {
                    links_std.push(match dependency.strip_prefix("rev_") {
                        Some(id) => format!("revision {id}"),
                        None => format!("crate {dependency}"),
                    });
                }
            }
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    if terminal && compiled > 0 && !crate::output::quiet() {
        let _ = write!(std::io::stderr(), "\r\x1b[K");
    }
    if status.success() {
        if compiled > 0 {
            let slowest = slowest
                .map(|(id, took)| {
                    format!(
                        "; the slowest about {:.1} s (revision {id})",
                        took.as_secs_f64()
                    )
                })
                .unwrap_or_default();
            crate::output::progress!(
                "compiled {compiled} of {revisions} revision(s) in {:.1} s{slowest}",
                started.elapsed().as_secs_f64()
            );
        }
        return Ok(None);
    }
    links_std.sort();
    links_std.dedup();
    Ok(Some(links_std))
}

/// A cargo message line with a `--> path:line:col` made relative to the caller's folder: the
/// path cargo prints is relative to the migrations folder, and would not open from an editor
/// or a terminal in the project.
fn relative_to_caller(line: &str, plain: &str, root: &Path) -> String {
    let Some(rest) = plain.trim_start().strip_prefix("--> ") else {
        return line.to_string();
    };
    let path = rest.split(':').next().unwrap_or_default();
    if path.is_empty() || Path::new(path).is_absolute() || !root.join(path).exists() {
        return line.to_string();
    }
    let joined = root.join(path);
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| joined.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or(joined);
    line.replacen(path, &shown.display().to_string(), 1)
}

/// Cargo's colours, taken out so its messages can be matched.
fn strip_ansi(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // An escape sequence: ESC '[' parameters, ended by a letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
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
