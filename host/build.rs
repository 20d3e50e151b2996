//! Links the `migrate` binary with its hot functions side by side (`symbol-order.txt`), and the
//! static (musl) build with compact relocations.
//!
//! Why the order: the binary is 44 MB (wasmtime, Cranelift, sqlx, sqlparser), and a command
//! touches a few thousand functions scattered through its 26 MB of code. The kernel maps file
//! pages around each one it faults in (64 KiB at a time), so a run that executes 2 MB of code had
//! 11 MB of the binary resident, most of `upgrade head`'s peak memory, and paid a page fault for
//! each. With the functions the common commands run listed first, the linker (LLD) places them
//! together: BENCHMARKS.md (session 11) has the figures. `scripts/symbol-order` regenerates the
//! list.
//!
//! Only where the linker is known to be LLD: rustc's own `rust-lld`, the default for
//! x86_64-unknown-linux-gnu since Rust 1.90. Another linker (a configured one, or a rustc
//! without `rust-lld`) may not know the option, so the binary is linked as before.
//! `MIGRATE_SYMBOL_ORDER=0` turns it off.
//!
//! The static build (`*-unknown-linux-musl`, the target `scripts/static-target` names) links
//! through the C compiler and its default linker unless told otherwise: it is told to use that
//! same `rust-lld` (`-fuse-ld=lld` from rustc's `gcc-ld` folder, as rustc does for the GNU
//! target), for the order and for RELR relocations (`-z pack-relative-relocs`): the 22,700
//! pointers the program fixes up at each start are listed in 6 KB instead of 540 KB, and the
//! start-up code walks the short list (`--version` 0.07 ms sooner, BENCHMARKS.md, session 23).
//! A dynamic glibc binary with RELR would need glibc 2.36 where it runs; a static binary
//! relocates itself, with musl's own start-up code (RELR since musl 1.2.4; Rust bundles 1.2.5),
//! so it needs nothing of the system.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=symbol-order.txt");
    println!("cargo:rerun-if-env-changed=MIGRATE_SYMBOL_ORDER");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let Some(linker) = rust_lld_for(&var("TARGET")) else {
        return;
    };
    if linker == Linker::ToldToUseRustLld {
        let gcc_ld = sysroot()
            .expect("the sysroot holds rust-lld")
            .join(format!("lib/rustlib/{}/bin/gcc-ld", var("HOST")));
        println!("cargo:rustc-link-arg-bins=-B{}", gcc_ld.display());
        println!("cargo:rustc-link-arg-bins=-fuse-ld=lld");
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    let order =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("symbol-order.txt");
    // `-Wl,` splits its argument at commas: a path with one cannot be passed this way.
    let passable = !order.to_string_lossy().contains(',');
    // Debug builds: their symbols are other names than the list's, so nothing to order.
    let optimised = var("OPT_LEVEL") != "0";
    if order.is_file() && passable && optimised && var("MIGRATE_SYMBOL_ORDER") != "0" {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        // Names of functions since renamed or removed are skipped, not worth a warning each.
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}

#[derive(PartialEq)]
enum Linker {
    /// rustc links this target with its `rust-lld` already.
    RustLldByDefault,
    /// rustc links it through the C compiler, which these arguments point at `rust-lld`.
    ToldToUseRustLld,
}

/// Whether the binary for `target` is (or can be made to be) linked by rustc's own LLD.
fn rust_lld_for(target: &str) -> Option<Linker> {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let linker = match target {
        "x86_64-unknown-linux-gnu" => Linker::RustLldByDefault,
        _ if target.ends_with("-unknown-linux-musl") => Linker::ToldToUseRustLld,
        _ => return None,
    };
    // A linker set in the config or environment (`linker = ...`, `-C linker=`, `-fuse-ld=...`),
    // or rustc told not to use its own LLD (`-C link-self-contained=-linker`).
    if std::env::var_os("RUSTC_LINKER").is_some()
        || ["linker", "fuse-ld"]
            .iter()
            .any(|flag| var("CARGO_ENCODED_RUSTFLAGS").contains(flag))
    {
        return None;
    }
    let lld = format!("lib/rustlib/{}/bin/gcc-ld/ld.lld", var("HOST"));
    sysroot()
        .is_some_and(|root| root.join(lld).is_file())
        .then_some(linker)
}

fn sysroot() -> Option<PathBuf> {
    let rustc = std::env::var_os("RUSTC")?;
    let out = std::process::Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let root = Path::new(text.trim());
    out.status.success().then(|| root.to_path_buf())
}
