//! The sandbox: guests run under wasmtime's component model with only the ops and diagnostics
//! interfaces linked (no WASI), fuel and memory limits, and a cap on recorded ops.

mod budget;
pub mod cache;
mod catalog;
pub mod clock;
mod columns;
pub mod component;
pub mod context;
mod convert;
mod convert_out;
mod data;
mod recorder;
pub mod runtime;
mod shared_code;
pub mod shipped;
pub mod target;

/// The generated host side of the `revision` world.
mod bindings {
    wasmtime::component::bindgen!({
        world: "revision",
        path: "../wit",
        imports: { default: trappable },
    });
}

pub use runtime::{Capabilities, Direction, GuestRuntime, Limits};
