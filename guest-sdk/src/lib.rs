//! The SDK for writing `migrate` revisions.
//!
//! A revision is a small crate compiled to a WebAssembly component. It cannot touch files,
//! network, clock or the database: it only asks the host for operations, which the host records,
//! renders to SQL for the target database and runs (or prints, for `migrate upgrade --sql`).
//!
//! ```ignore
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
//! ```

mod convert;
mod model;
pub mod op;

pub use model::*;

/// What `upgrade` and `downgrade` return: `Err` with a message aborts the revision, and the
/// host shows the message with the revision's id.
pub type Result<T = (), E = String> = std::result::Result<T, E>;

/// Everything a revision needs, in one `use`.
pub mod prelude {
    pub use crate::model::*;
    pub use crate::op;
    pub use crate::Result;
}

/// The generated bindings. Not part of the API: use `op` and the model types.
#[doc(hidden)]
pub mod wit {
    wit_bindgen::generate!({
        world: "revision",
        path: "../wit",
        pub_export_macro: true,
        export_macro_name: "__export_revision_world",
        default_bindings_module: "migrate_guest_sdk::wit",
    });
}

/// Runs one direction of a revision with a panic hook that hands the panic's message to the
/// host first: under `panic = "abort"` the guest then stops, and the message would be lost.
#[doc(hidden)]
pub fn __run(direction: fn() -> Result) -> Result {
    std::panic::set_hook(Box::new(|info| {
        wit::migrate::schema::diagnostics::report_panic(&info.to_string());
    }));
    direction()
}

/// Exports a revision's two directions: `migrate_guest_sdk::revision!(upgrade, downgrade);`
#[macro_export]
macro_rules! revision {
    ($upgrade:path, $downgrade:path $(,)?) => {
        struct __MigrateRevision;

        impl $crate::wit::Guest for __MigrateRevision {
            fn upgrade() -> ::std::result::Result<(), ::std::string::String> {
                $crate::__run($upgrade)
            }
            fn downgrade() -> ::std::result::Result<(), ::std::string::String> {
                $crate::__run($downgrade)
            }
        }

        $crate::wit::__export_revision_world!(__MigrateRevision with_types_in $crate::wit);
    };
}
