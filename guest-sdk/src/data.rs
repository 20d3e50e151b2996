//! Reading rows, for data migrations (Alembic's `op.get_bind().execute(select(...))`).
//!
//! Reads run inside the revision's own transaction, after the operations it asked for so far
//! (the host runs those first, so a read sees them), and return typed values. Read a large
//! table in batches: `batches` pages through it in key order, one batch in memory at a time,
//! and the host runs the operations recorded between reads as it goes. A run may read at most
//! `[limits] read_rows` rows and `read_mib` MiB; the guest's fuel, memory and time limits still
//! hold (time the database spends answering is not counted).
//!
//! Asking is a capability: only a revision that calls this imports the `data` interface.
//! `migrate show` says it reads rows, and `migrate upgrade --sql` refuses it by name unless it
//! offers an offline form: when `connected()` is false, do the work in SQL instead.
//!
//! ```no_run
//! use migrate_guest_sdk::prelude::*;
//!
//! fn upgrade() -> Result {
//!     op::add_column("person", Column::new("first_name", Type::Text));
//!     let mut people = data::batches("person", &["full_name"], &["id"], 100);
//!     while let Some(batch) = people.next_batch()? {
//!         let updates = batch
//!             .rows()
//!             .map(|row| {
//!                 let first = row.text("full_name").unwrap_or("").split(' ').next().unwrap_or("");
//!                 vec![row.get("id").clone(), first.into()]
//!             })
//!             .collect();
//!         op::update_rows("person", &["id"], &["first_name"], updates);
//!     }
//!     Ok(())
//! }
//! ```

use crate::model::Value;
use crate::wit::migrate::schema::data as host;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// The most rows one read returns.
pub const MAX_BATCH_ROWS: u32 = 10_000;

/// What a read returned: column names, then rows of one value per column.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rows {
    /// The columns asked for, in order.
    pub columns: Vec<String>,
    /// One list of values per row, in the order of `columns`.
    pub values: Vec<Vec<Value>>,
}

/// One row of `Rows`, its values found by column name.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    columns: &'a [String],
    values: &'a [Value],
}

impl Rows {
    /// How many rows.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The rows, each read by column name.
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.values.iter().map(|values| Row {
            columns: &self.columns,
            values,
        })
    }

    /// The last row: where the next batch starts.
    pub fn last(&self) -> Option<Row<'_>> {
        self.values.last().map(|values| Row {
            columns: &self.columns,
            values,
        })
    }
}

impl<'a> Row<'a> {
    /// The value of `column`; `Value::Null` when the read has no such column.
    pub fn get(&self, column: &str) -> &'a Value {
        self.columns
            .iter()
            .position(|c| c == column)
            .and_then(|i| self.values.get(i))
            .unwrap_or(&Value::Null)
    }

    /// The value of `column` as text, `None` when NULL or not text.
    pub fn text(&self, column: &str) -> Option<&'a str> {
        self.get(column).as_text()
    }

    /// The value of `column` as an integer, `None` when NULL or not an integer.
    pub fn integer(&self, column: &str) -> Option<i64> {
        self.get(column).as_integer()
    }

    /// The row's values, in the order of the columns asked for.
    pub fn values(&self) -> &'a [Value] {
        self.values
    }
}

fn rows(r: host::Rows) -> Rows {
    Rows {
        columns: r.columns,
        values: r
            .rows
            .into_iter()
            .map(|row| row.into_iter().map(Into::into).collect())
            .collect(),
    }
}

/// Whether a database is connected: false while `migrate upgrade --sql` prints, when every
/// read fails. Check it to offer an offline form.
pub fn connected() -> bool {
    host::connected()
}

/// One SELECT written for the target database (quote names with `target::quote_identifier`,
/// values with `target::literal`): at most `max_rows` rows of it (1 to `MAX_BATCH_ROWS`).
/// Dates, times, numerics, JSON and UUIDs must be cast to text in the query.
pub fn query(sql: &str, max_rows: u32) -> Result<Rows, String> {
    host::query(sql, max_rows).map(rows)
}

/// Pages through `table` in the order of `key` (a primary or unique key), `size` rows at a
/// time: `columns` plus the key's columns. The host writes the SQL for the database.
pub fn batches(table: &str, columns: &[&str], key: &[&str], size: u32) -> Batches {
    Batches {
        table: table.to_string(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        key: key.iter().map(|c| c.to_string()).collect(),
        after: None,
        size,
        done: false,
    }
}

/// Keyset pagination over a table: see `batches`.
#[derive(Debug, Clone)]
pub struct Batches {
    table: String,
    columns: Vec<String>,
    key: Vec<String>,
    after: Option<Vec<Value>>,
    size: u32,
    done: bool,
}

impl Batches {
    /// The next batch, or `None` after the last.
    pub fn next_batch(&mut self) -> Result<Option<Rows>, String> {
        if self.done {
            return Ok(None);
        }
        let request = host::Batch {
            table: self.table.clone(),
            columns: self.columns.clone(),
            key: self.key.clone(),
            after: self
                .after
                .clone()
                .map(|values| values.into_iter().map(Into::into).collect()),
            limit: self.size,
        };
        let batch = rows(host::read_batch(&request)?);
        if (batch.len() as u32) < self.size {
            self.done = true;
        }
        if batch.is_empty() {
            return Ok(None);
        }
        let last = batch.last().expect("not empty");
        self.after = Some(self.key.iter().map(|k| last.get(k).clone()).collect());
        Ok(Some(batch))
    }
}
