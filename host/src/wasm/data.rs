//! The host's side of the `data` interface: a revision's reads. Offline every read fails (the
//! revision may offer an offline form); while the checksum's ops are recorded every table is
//! empty; online each read is sent to the database side of the step (`crate::reading_step`),
//! with the ops recorded since the last read, and this guest thread waits for the rows.

use migrate_core::reads::{BatchRead, MAX_BATCH_ROWS};

use super::bindings::migrate::schema::data;
use super::context::{DataAccess, Read, ReadFailure, ReadRequest};
use super::recorder::Recorder;

const OFFLINE: &str = "no database is connected (`migrate upgrade --sql` prints SQL offline), so \
                       nothing can be read: check `data::connected()` and offer an offline form";

impl data::Host for Recorder {
    fn connected(&mut self) -> wasmtime::Result<bool> {
        Ok(!matches!(self.context.data, DataAccess::Offline))
    }

    fn read_batch(&mut self, request: data::Batch) -> wasmtime::Result<Result<data::Rows, String>> {
        if request.limit == 0 || request.limit > MAX_BATCH_ROWS {
            return Ok(Err(format!(
                "a batch reads 1 to {MAX_BATCH_ROWS} rows (asked for {})",
                request.limit
            )));
        }
        let columns = request.columns.clone();
        let read = Read::Batch(BatchRead {
            table: request.table,
            columns: request.columns,
            key: request.key,
            after: request
                .after
                .map(|values| values.into_iter().map(Into::into).collect()),
            limit: request.limit,
        });
        self.read(read, columns)
    }

    fn query(
        &mut self,
        sql: String,
        max_rows: u32,
    ) -> wasmtime::Result<Result<data::Rows, String>> {
        if max_rows == 0 || max_rows > MAX_BATCH_ROWS {
            return Ok(Err(format!(
                "a query reads 1 to {MAX_BATCH_ROWS} rows (asked for {max_rows})"
            )));
        }
        // Checked here, whoever answers: a revision learns the same thing offline, while its
        // checksum is recorded, and online.
        let dialect = self.context.target.flavor.dialect_name();
        if let Err(problem) = migrate_core::reads::check_select(dialect, &sql) {
            return Ok(Err(problem));
        }
        self.read(Read::Query { sql, max_rows }, vec![])
    }
}

impl Recorder {
    /// One read, answered as the run's `DataAccess` says. `columns` are what an empty answer
    /// names.
    fn read(
        &mut self,
        read: Read,
        columns: Vec<String>,
    ) -> wasmtime::Result<Result<data::Rows, String>> {
        let sender = match &self.context.data {
            DataAccess::Offline => return Ok(Err(OFFLINE.into())),
            DataAccess::Canonical => {
                return Ok(Ok(data::Rows {
                    columns,
                    rows: vec![],
                }))
            }
            DataAccess::Live(sender) => sender.clone(),
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        let request = ReadRequest {
            flush: self.take_ops(),
            read,
            rows_left: self.max_rows_read.saturating_sub(self.rows_read),
            bytes_left: self.max_bytes_read.saturating_sub(self.bytes_read),
            reply,
        };
        let started = std::time::Instant::now();
        let answer = sender
            .blocking_send(request)
            .ok()
            .and_then(|_| answer.blocking_recv().ok());
        self.waited += started.elapsed();
        let answer = match answer {
            Some(answer) => answer,
            None => return Err(self.stop("the database side of the step stopped".into())),
        };
        match answer {
            Ok(rows) => {
                self.rows_read = self.rows_read.saturating_add(rows.rows.len() as u64);
                self.bytes_read = self.bytes_read.saturating_add(rows.bytes);
                if rows.over_limit {
                    return Err(self.stop(format!(
                        "it read more than the run may: at most {} rows and {} MiB ([limits] read_rows \
                         and read_mib in the settings); {} rows read",
                        self.max_rows_read,
                        self.max_bytes_read / (1024 * 1024),
                        self.rows_read
                    )));
                }
                Ok(Ok(data::Rows {
                    columns: rows.columns,
                    rows: rows
                        .rows
                        .into_iter()
                        .map(|row| row.into_iter().map(Into::into).collect())
                        .collect(),
                }))
            }
            Err(ReadFailure::Refused(message)) => Ok(Err(message)),
            Err(ReadFailure::Stop(message)) => Err(self.stop(message)),
        }
    }

    /// Stops the run from inside a host call, keeping the reason to say instead of the trap.
    fn stop(&mut self, reason: String) -> wasmtime::Error {
        self.stopped.get_or_insert(reason.clone());
        wasmtime::Error::msg(reason)
    }
}
