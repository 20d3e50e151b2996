//! The time this run of migrate started: the one time a revision can learn, for a backfill
//! that stamps rows. Every revision of a run sees the same value, and the history row of a
//! revision that asked records it. Asking is a capability: only a revision that calls this
//! imports the `clock` interface. Its operations then differ on every run, so the host never
//! caches them and takes its checksum over the operations it records at 1970-01-01T00:00:00Z,
//! which stays the same run after run.
//!
//! ```no_run
//! # use migrate_guest_sdk::prelude::*;
//! # fn upgrade() -> Result {
//! let now = clock::run_started(); // "2026-11-30T22:26:18Z"
//! op::execute(&format!(
//!     "UPDATE person SET migrated_at = {} WHERE migrated_at IS NULL",
//!     target::literal(clock::run_started_sql())?,
//! ));
//! # Ok(())
//! # }
//! ```

use alloc::string::String;

/// UTC, `YYYY-MM-DDTHH:MM:SSZ`.
pub fn run_started() -> String {
    crate::wit::migrate::schema::clock::run_started()
}

/// The same instant as SQL timestamp columns take it: `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn run_started_sql() -> String {
    run_started().trim_end_matches('Z').replacen('T', " ", 1)
}
