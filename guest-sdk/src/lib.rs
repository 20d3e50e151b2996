//! The SDK for writing `migrate` revisions.
//!
//! A revision is a small crate compiled to a WebAssembly component. It cannot touch files,
//! network, clock or the database: it only asks the host for operations, which the host records,
//! renders to SQL for the target database and runs (or prints, for `migrate upgrade --sql`).
//!
//! ```no_run
//! // A revision's src/lib.rs starts with #![no_std] (see below).
//! use migrate_guest_sdk::prelude::*;
//!
//! fn upgrade() -> Result {
//!     op::create_table(
//!         Table::new("role")
//!             .column(Column::new("id", Type::Integer).primary_key())
//!             .column(Column::new("name", Type::Varchar(80)).unique()),
//!     );
//!     Ok(())
//! }
//!
//! fn downgrade() -> Result {
//!     op::drop_table("role");
//!     Ok(())
//! }
//!
//! migrate_guest_sdk::revision!(upgrade, downgrade);
//! # fn main() {}
//! ```
//!
//! Revisions are `#![no_std]`: a guest can reach nothing std offers beyond what `alloc` has,
//! and without std a component is a third to two thirds of the size, and the host's compile time
//! grows with it. `String`, `Vec`, `Box`, `format!` and `vec!` come with the prelude. A revision
//! that wants std anyway turns on this crate's `std` feature (panics then report their formatted
//! messages too).

#![no_std]
// Every public item says what it does: a missing comment fails the build (and CI).
#![deny(missing_docs)]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(all(target_arch = "wasm32", feature = "bump-allocator"))]
mod allocator;
pub mod catalog;
pub mod clock;
mod convert;
mod convert_in;
pub mod data;
mod model;
pub mod op;
pub mod target;

pub use model::*;

#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
mod panic;

/// What `upgrade` and `downgrade` return: `Err` with a message aborts the revision, and the
/// host shows the message with the revision's id.
pub type Result<T = (), E = alloc::string::String> = core::result::Result<T, E>;

/// Everything a revision needs, in one `use`.
pub mod prelude {
    pub use crate::catalog;
    pub use crate::clock;
    pub use crate::data;
    pub use crate::model::*;
    pub use crate::op;
    pub use crate::target::{self, Dialect};
    pub use crate::Result;
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
    pub use alloc::{format, vec};
}

/// The generated bindings. Not part of the API: use `op` and the model types.
///
/// Generated ahead of time from `wit/` (`cargo run -p migrate-guest-sdk-bindgen` in migrate's
/// repository, where a test keeps them honest) rather than by wit-bindgen's `generate!` macro:
/// the macro's compile-time dependencies cost every project's first build about 30 s before any
/// revision could start. A project's vendored `wit/` is there to read; the host defines it.
#[doc(hidden)]
pub mod wit {
    include!("bindings.rs");
}

/// Runs one direction of a revision. With std, a panic hook first hands the panic's message
/// to the host (under `panic = "abort"` the guest then stops, and the message would be lost);
/// without std, the SDK's panic handler does that.
#[doc(hidden)]
pub fn __run(direction: fn() -> Result) -> Result {
    #[cfg(feature = "std")]
    std::panic::set_hook(alloc::boxed::Box::new(|info| {
        use alloc::string::ToString;
        wit::migrate::schema::diagnostics::report_panic(&info.to_string());
    }));
    direction()
}

#[doc(hidden)]
pub use alloc::string::String as __String;

/// Exports a revision's two directions: `migrate_guest_sdk::revision!(upgrade, downgrade);`
#[macro_export]
macro_rules! revision {
    ($upgrade:path, $downgrade:path $(,)?) => {
        struct __MigrateRevision;

        impl $crate::wit::Guest for __MigrateRevision {
            fn upgrade() -> ::core::result::Result<(), $crate::__String> {
                $crate::__run($upgrade)
            }
            fn downgrade() -> ::core::result::Result<(), $crate::__String> {
                $crate::__run($downgrade)
            }
        }

        $crate::wit::__export_revision_world!(__MigrateRevision with_types_in $crate::wit);
    };
}
