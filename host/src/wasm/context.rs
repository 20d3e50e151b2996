//! What one guest run is told beyond recording ops, for the revisions that import the
//! interfaces that ask: the target (`target`), the run's time (`clock`), the schema before it
//! (`catalog`) and rows (`data`). A revision that imports none of them records the same ops
//! whatever this holds.

use std::sync::Arc;

use migrate_core::ops::Op;
use migrate_core::reads::BatchRead;
use migrate_core::schema::Schema;
use migrate_core::types::Value;

use super::clock;
use super::target::Target;

pub struct GuestContext {
    pub target: Target,
    /// What `clock::run-started` answers.
    pub clock: String,
    /// The schema before the revision; `None` where the caller has none to give (a revision
    /// importing `catalog` is then never run: `Guests` gives it one).
    pub catalog: Option<CatalogView>,
    pub data: DataAccess,
}

impl GuestContext {
    /// For recording a revision's ops ahead of the run, in parallel: no schema, no rows.
    pub fn ahead(target: &Target) -> GuestContext {
        GuestContext {
            target: target.clone(),
            clock: clock::run_started().to_string(),
            catalog: None,
            data: DataAccess::Canonical,
        }
    }

    /// The run whose ops a checksum is taken over: the same on every run and every machine
    /// (the canonical time, the model's schema without the database's names, no rows).
    pub fn canonical(target: &Target, schema: Option<Arc<Schema>>) -> GuestContext {
        GuestContext {
            target: target.clone(),
            clock: clock::CANONICAL.to_string(),
            catalog: schema.map(|schema| CatalogView {
                schema,
                learned: false,
            }),
            data: DataAccess::Canonical,
        }
    }
}

/// The schema a revision sees through `catalog`.
#[derive(Clone)]
pub struct CatalogView {
    pub schema: Arc<Schema>,
    /// Whether constraints the revisions left unnamed show the names the database gave them.
    pub learned: bool,
}

/// How a revision's reads are answered.
pub enum DataAccess {
    /// Printing SQL offline: `connected` is false and every read fails.
    Offline,
    /// Recording the ops the model and the checksum are taken from: connected, every table
    /// empty. (A data migration's schema changes do not depend on the rows it reads.)
    Canonical,
    /// Running online: each read goes to the database, after the ops recorded so far.
    Live(tokio::sync::mpsc::Sender<ReadRequest>),
}

/// A read the guest asks for, with the ops it recorded since the last one (the database runs
/// those first, so the read sees them).
pub struct ReadRequest {
    pub flush: Vec<Op>,
    pub read: Read,
    /// What the run may still read.
    pub rows_left: u64,
    pub bytes_left: u64,
    pub reply: tokio::sync::oneshot::Sender<Result<Rows, ReadFailure>>,
}

pub enum Read {
    Batch(BatchRead),
    Query { sql: String, max_rows: u32 },
}

#[derive(Debug, Default)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    pub bytes: u64,
    /// Whether the read went past what the run may still read (`rows_left`, `bytes_left`):
    /// the database stopped fetching there, and the run stops.
    pub over_limit: bool,
}

pub enum ReadFailure {
    /// The read itself was refused (bad SQL, no such table): the guest is told and may go on.
    Refused(String),
    /// The run must stop: a limit was reached, or the ops flushed before the read failed.
    Stop(String),
}
