//! `migrate init`: a migrations folder that builds on its own, outside this repository: the
//! SDK and WIT are vendored into it.

use std::path::Path;

use anyhow::{bail, Context as _};

use super::Context;

#[derive(Debug, clap::Args)]
pub struct InitArgs {}

/// The SDK and WIT sources, embedded at compile time so the binary can vendor them.
const SDK_FILES: &[(&str, &str)] = &[
    (
        "sdk/Cargo.toml",
        include_str!("../../templates/sdk.Cargo.toml"),
    ),
    (
        "sdk/src/lib.rs",
        include_str!("../../../guest-sdk/src/lib.rs"),
    ),
    (
        "sdk/src/model.rs",
        include_str!("../../../guest-sdk/src/model.rs"),
    ),
    (
        "sdk/src/convert.rs",
        include_str!("../../../guest-sdk/src/convert.rs"),
    ),
    (
        "sdk/src/op.rs",
        include_str!("../../../guest-sdk/src/op.rs"),
    ),
    (
        "sdk/src/allocator.rs",
        include_str!("../../../guest-sdk/src/allocator.rs"),
    ),
    (
        "sdk/src/panic.rs",
        include_str!("../../../guest-sdk/src/panic.rs"),
    ),
    (
        "sdk/src/target.rs",
        include_str!("../../../guest-sdk/src/target.rs"),
    ),
    (
        "sdk/src/clock.rs",
        include_str!("../../../guest-sdk/src/clock.rs"),
    ),
    (
        "sdk/src/catalog.rs",
        include_str!("../../../guest-sdk/src/catalog.rs"),
    ),
    (
        "sdk/src/data.rs",
        include_str!("../../../guest-sdk/src/data.rs"),
    ),
    (
        "sdk/src/convert_in.rs",
        include_str!("../../../guest-sdk/src/convert_in.rs"),
    ),
    (
        "sdk/src/bindings.rs",
        include_str!("../../../guest-sdk/src/bindings.rs"),
    ),
    ("wit/types.wit", include_str!("../../../wit/types.wit")),
    ("wit/ops.wit", include_str!("../../../wit/ops.wit")),
    (
        "wit/diagnostics.wit",
        include_str!("../../../wit/diagnostics.wit"),
    ),
    ("wit/world.wit", include_str!("../../../wit/world.wit")),
    ("wit/target.wit", include_str!("../../../wit/target.wit")),
    ("wit/clock.wit", include_str!("../../../wit/clock.wit")),
    ("wit/catalog.wit", include_str!("../../../wit/catalog.wit")),
    ("wit/data.wit", include_str!("../../../wit/data.wit")),
    ("wit/indexes.wit", include_str!("../../../wit/indexes.wit")),
    ("wit/columns.wit", include_str!("../../../wit/columns.wit")),
    (
        "Cargo.toml",
        include_str!("../../templates/workspace.Cargo.toml"),
    ),
    (".gitignore", include_str!("../../templates/gitignore")),
];

const SETTINGS_EXAMPLE: &str = include_str!("../../templates/migrate.toml");

pub fn run(ctx: &Context, _args: InitArgs) -> anyhow::Result<()> {
    let root = &ctx.migrations_dir;
    if root.exists() && std::fs::read_dir(root)?.next().is_some() {
        bail!("{} already exists and is not empty", root.display());
    }
    std::fs::create_dir_all(root.join("versions"))
        .with_context(|| format!("creating {}", root.display()))?;
    for (relative, text) in SDK_FILES {
        write(&root.join(relative), text)?;
    }
    let settings = root.parent().unwrap_or(Path::new(".")).join("migrate.toml");
    if !settings.exists() && ctx.settings.database_url.is_none() {
        let migrations_line = format!(
            "migrations = {:?}",
            root.file_name().unwrap_or_default().to_string_lossy()
        );
        write(
            &settings,
            &SETTINGS_EXAMPLE.replace("# migrations = \"migrations\"", &migrations_line),
        )?;
        println!("Created {}", settings.display());
    }
    println!(
        "Created {}: add a revision with `migrate new -m \"message\"`",
        root.display()
    );
    Ok(())
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    /// The vendored SDK's manifest is written by hand (the repository's own inherits workspace
    /// keys): its features and dependencies must stay the repository SDK's.
    #[test]
    fn vendored_sdk_manifest_matches_the_sdk() {
        let parse = |text: &str| text.parse::<toml::Table>().unwrap();
        let vendored = parse(include_str!("../../templates/sdk.Cargo.toml"));
        let sdk = parse(include_str!("../../../guest-sdk/Cargo.toml"));
        for table in ["features", "dependencies"] {
            assert_eq!(vendored[table], sdk[table], "[{table}] differs");
        }
    }

    /// Every source file of the SDK is vendored.
    #[test]
    fn every_sdk_source_is_vendored() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../guest-sdk/src");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let vendored = format!("sdk/src/{name}");
            assert!(
                super::SDK_FILES.iter().any(|(path, _)| *path == vendored),
                "{vendored} is not in SDK_FILES"
            );
        }
    }
}
