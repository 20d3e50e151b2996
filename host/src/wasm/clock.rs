//! The one time a guest can learn: when this run of migrate started (the `clock` interface).
//! Pinned once per process, so every revision of a run sees the same value. A revision that
//! asks for it records different operations on every run, so its checksum is taken over the
//! operations it records at `CANONICAL` instead, and its run-time operations are never cached.

use std::sync::OnceLock;

/// What a revision is told when its operations are recorded for the checksum.
pub const CANONICAL: &str = "1970-01-01T00:00:00Z";

static RUN_STARTED: OnceLock<String> = OnceLock::new();

/// When this run started, UTC, `YYYY-MM-DDTHH:MM:SSZ` (fixed at the first call: `main` calls
/// it first thing).
pub fn run_started() -> &'static str {
    RUN_STARTED
        .get_or_init(|| humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string())
}

/// The same instant as the databases' timestamp columns take it: `YYYY-MM-DD HH:MM:SS`.
pub fn as_sql_timestamp(rfc3339: &str) -> String {
    rfc3339.trim_end_matches('Z').replacen('T', " ", 1)
}
