//! Machine code shared between the components one command compiles.
//!
//! Every revision's component needs the same few dozen trampolines (between the host's calling
//! convention and wasm's, per signature, per lowered import, per builtin), and Cranelift
//! compiles them identically each time: profiled at half the CPU of compiling a thousand
//! components cold (BENCHMARKS.md, session 4). Cranelift's incremental cache keys each
//! function by its IR and settings, so one compile serves every later component. The store
//! lives in memory for the command; compiled components themselves are cached on disk
//! (`cache.rs`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::RwLock;

/// Read-mostly: after the first component, nearly every lookup hits, on every core at once.
#[derive(Debug, Default)]
pub struct SharedCode {
    entries: RwLock<HashMap<Vec<u8>, Vec<u8>>>,
}

impl wasmtime::CacheStore for SharedCode {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries.get(key).map(|code| Cow::Owned(code.clone()))
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.insert(key.to_vec(), value);
        true
    }
}
