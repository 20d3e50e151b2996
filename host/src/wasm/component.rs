//! Revision components as files: turning a guest's core wasm into a component, and the
//! metadata section that makes a built `.wasm` self-describing in production.

use anyhow::{anyhow, Context};
use migrate_core::revision::RevisionMeta;
use serde::{Deserialize, Serialize};

/// The custom section a built component carries its metadata in.
pub const METADATA_SECTION: &str = "migrate-revision";

/// What `migrate build` embeds in a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddedMetadata {
    pub revision: RevisionMeta,
    /// Fingerprint of the crate's sources when it was built, to spot a stale build.
    pub source_fingerprint: String,
    /// Fingerprint of what every revision is built from besides its crate (`build_inputs`):
    /// with the source fingerprint, what `migrate build` compares to skip an unchanged
    /// revision. Empty in components built before it was kept (they are rebuilt once).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub build_inputs: String,
}

/// Wraps a `wasm32-unknown-unknown` core module (with wit-bindgen's type information) into a
/// component. No WASI adapter: the component imports only the ops interface.
pub fn componentize(core_wasm: &[u8]) -> anyhow::Result<Vec<u8>> {
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(core_wasm)
        .context("reading the guest's wasm module")?
        .encode()
        .map_err(|e| anyhow!("turning the guest into a component: {e:#}"))
}

/// Appends the metadata as a custom section: valid anywhere in a component binary.
pub fn embed_metadata(component: &mut Vec<u8>, metadata: &EmbeddedMetadata) {
    let payload = serde_json::to_vec(metadata).expect("metadata serializes");
    let mut body = Vec::new();
    leb128(&mut body, METADATA_SECTION.len() as u64);
    body.extend_from_slice(METADATA_SECTION.as_bytes());
    body.extend_from_slice(&payload);
    component.push(0); // custom section id
    leb128(component, body.len() as u64);
    component.extend_from_slice(&body);
}

/// Reads the embedded metadata of a built component, if it has one.
pub fn read_metadata(wasm: &[u8]) -> anyhow::Result<Option<EmbeddedMetadata>> {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| anyhow!("not a valid wasm file: {e}"))?;
        if let wasmparser::Payload::CustomSection(section) = payload {
            if section.name() == METADATA_SECTION {
                let metadata = serde_json::from_slice(section.data())
                    .map_err(|e| anyhow!("its {METADATA_SECTION} section is malformed: {e}"))?;
                return Ok(Some(metadata));
            }
        }
    }
    Ok(None)
}

fn leb128(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
