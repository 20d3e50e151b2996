//! `cargo run -p migrate-guest-sdk-bindgen`: rewrites guest-sdk/src/bindings.rs from wit/.

fn main() -> anyhow::Result<()> {
    let source = migrate_guest_sdk_bindgen::generate(&migrate_guest_sdk_bindgen::wit_dir())?;
    let path = migrate_guest_sdk_bindgen::bindings_file();
    std::fs::write(&path, source)?;
    println!("wrote {}", path.display());
    Ok(())
}
