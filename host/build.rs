//! Links the `migrate` binary with its hot functions side by side (`symbol-order.txt`).
//!
//! Why: the binary is 44 MB (wasmtime, Cranelift, sqlx, sqlparser), and a command touches a few
//! thousand functions scattered through its 26 MB of code. The kernel maps file pages around
//! each one it faults in (64 KiB at a time), so a run that executes 2 MB of code had 11 MB of the
//! binary resident, most of `upgrade head`'s peak memory, and paid a page fault for each. With
//! the functions the common commands run listed first, the linker (LLD) places them together:
//! BENCHMARKS.md (session 11) has the figures. `scripts/symbol-order` regenerates the list.
//!
//! Only where the linker is known to be LLD: rustc's own `rust-lld`, the default for
//! x86_64-unknown-linux-gnu since Rust 1.90. Another linker (a configured one, or a rustc
//! without `rust-lld`) may not know the option, so the binary is linked as before.
//! `MIGRATE_SYMBOL_ORDER=0` turns it off.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=symbol-order.txt");
    println!("cargo:rerun-if-env-changed=MIGRATE_SYMBOL_ORDER");
    let order =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("symbol-order.txt");
    // `-Wl,` splits its argument at commas: a path with one cannot be passed this way.
    let passable = !order.to_string_lossy().contains(',');
    if order.is_file() && passable && links_with_rust_lld() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        // Names of functions since renamed or removed are skipped, not worth a warning each.
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}

fn links_with_rust_lld() -> bool {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    if var("MIGRATE_SYMBOL_ORDER") == "0"
        || var("TARGET") != "x86_64-unknown-linux-gnu"
        // Debug builds: their symbols are other names than the list's, so nothing to order.
        || var("OPT_LEVEL") == "0"
        // A linker set in the config or environment (`linker = ...`, `-C linker=`,
        // `-fuse-ld=...`), or rustc told not to use its own LLD (`-C link-self-contained=-linker`).
        || std::env::var_os("RUSTC_LINKER").is_some()
        || ["linker", "fuse-ld"]
            .iter()
            .any(|flag| var("CARGO_ENCODED_RUSTFLAGS").contains(flag))
    {
        return false;
    }
    sysroot().is_some_and(|root| {
        root.join("lib/rustlib/x86_64-unknown-linux-gnu/bin/gcc-ld/ld.lld")
            .is_file()
    })
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
