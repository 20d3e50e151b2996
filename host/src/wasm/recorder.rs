//! The host's implementation of the ops interface: it only records. Nothing reaches the database
//! while the guest runs; the recorded list is validated and rendered afterwards.

use migrate_core::ops::Op;
use migrate_core::types as core;

use super::bindings::migrate::schema::{
    clock, diagnostics, indexes, ops, target as wit_target, types,
};
use super::context::GuestContext;
use super::target::Flavor;

/// Everything one guest run can touch: its recorded ops and what it said before stopping.
pub struct Recorder {
    pub ops: Vec<Op>,
    /// How many ops, of what weight, it may still record.
    budget: super::budget::OpBudget,
    pub panic_message: Option<String>,
    pub memory_limit_bytes: usize,
    pub memory_limit_hit: bool,
    /// What the `target`, `clock`, `catalog` and `data` interfaces answer.
    pub context: GuestContext,
    /// What the run has read so far (`data`), against `[limits] read_rows` and `read_mib`.
    pub rows_read: u64,
    pub bytes_read: u64,
    pub max_rows_read: u64,
    pub max_bytes_read: u64,
    /// Time spent waiting on the database for reads: not the guest's, so not counted against
    /// its wall-clock limit.
    pub waited: std::time::Duration,
    /// Why the host stopped the run from inside a host call (a read limit, a failed statement),
    /// said in place of the bare trap.
    pub stopped: Option<String>,
}

impl Recorder {
    pub fn new(limits: &super::Limits, context: GuestContext) -> Recorder {
        Recorder {
            ops: Vec::new(),
            budget: super::budget::OpBudget::new(limits),
            panic_message: None,
            memory_limit_bytes: limits.memory_mib.saturating_mul(1024 * 1024),
            memory_limit_hit: false,
            context,
            rows_read: 0,
            bytes_read: 0,
            max_rows_read: limits.read_rows,
            max_bytes_read: limits.read_mib.saturating_mul(1024 * 1024),
            waited: std::time::Duration::ZERO,
            stopped: None,
        }
    }

    /// The ops recorded since the last read, handed over to run before it; what the run may
    /// hold again starts from zero (the limits guard the host's memory, which this frees).
    pub fn take_ops(&mut self) -> Vec<Op> {
        self.budget.reset();
        std::mem::take(&mut self.ops)
    }

    pub(super) fn record(&mut self, op: Op) -> wasmtime::Result<()> {
        // Counted as the guest calls, so a loop of large ops stops at the first one over the
        // budget instead of when the wall clock runs out.
        self.budget.admit(&op).map_err(wasmtime::Error::msg)?;
        self.ops.push(op);
        Ok(())
    }
}

impl types::Host for Recorder {}

impl indexes::Host for Recorder {
    fn create_index_with(
        &mut self,
        index: types::Index,
        options: indexes::IndexOptions,
    ) -> wasmtime::Result<()> {
        let mut index: migrate_core::types::Index = index.into();
        index.keys = options
            .keys
            .into_iter()
            .map(|k| migrate_core::types::IndexKey {
                expression: k.expression,
                descending: k.descending,
                prefix_length: k.prefix_length,
            })
            .collect();
        index.predicate = options.predicate;
        index.include = options.include_columns;
        self.record(Op::CreateIndex(index.normalized()))
    }
}

impl ops::Host for Recorder {
    fn create_table(&mut self, table: types::Table) -> wasmtime::Result<()> {
        self.record(Op::CreateTable(table.into()))
    }
    fn drop_table(&mut self, name: String) -> wasmtime::Result<()> {
        self.record(Op::DropTable { name })
    }
    fn rename_table(&mut self, old_name: String, new_name: String) -> wasmtime::Result<()> {
        self.record(Op::RenameTable { old_name, new_name })
    }
    fn add_column(&mut self, table: String, column: types::Column) -> wasmtime::Result<()> {
        self.record(Op::AddColumn {
            table,
            column: column.into(),
        })
    }
    fn drop_column(&mut self, table: String, column: String) -> wasmtime::Result<()> {
        self.record(Op::DropColumn { table, column })
    }
    fn alter_column(&mut self, change: types::ColumnChange) -> wasmtime::Result<()> {
        self.record(Op::AlterColumn(change.into()))
    }
    fn create_index(&mut self, index: types::Index) -> wasmtime::Result<()> {
        self.record(Op::CreateIndex(index.into()))
    }
    fn drop_index(&mut self, table: String, name: String) -> wasmtime::Result<()> {
        self.record(Op::DropIndex { table, name })
    }
    fn create_primary_key(
        &mut self,
        table: String,
        key: types::PrimaryKey,
    ) -> wasmtime::Result<()> {
        let constraint = core::TableConstraint::PrimaryKey(core::PrimaryKey {
            name: key.name,
            columns: key.columns,
        });
        self.record(Op::AddConstraint { table, constraint })
    }
    fn create_unique_constraint(
        &mut self,
        table: String,
        c: types::UniqueConstraint,
    ) -> wasmtime::Result<()> {
        let constraint = core::TableConstraint::Unique(core::UniqueConstraint {
            name: c.name,
            columns: c.columns,
        });
        self.record(Op::AddConstraint { table, constraint })
    }
    fn create_foreign_key(
        &mut self,
        table: String,
        key: types::ForeignKey,
    ) -> wasmtime::Result<()> {
        self.record(Op::AddConstraint {
            table,
            constraint: core::TableConstraint::ForeignKey(key.into()),
        })
    }
    fn create_check_constraint(
        &mut self,
        table: String,
        c: types::CheckConstraint,
    ) -> wasmtime::Result<()> {
        let constraint = core::TableConstraint::Check(core::CheckConstraint {
            name: c.name,
            expression: c.expression,
        });
        self.record(Op::AddConstraint { table, constraint })
    }
    fn drop_constraint(
        &mut self,
        table: String,
        name: String,
        kind: types::ConstraintKind,
    ) -> wasmtime::Result<()> {
        self.record(Op::DropConstraint {
            table,
            name,
            kind: kind.into(),
        })
    }
    fn drop_constraint_on(
        &mut self,
        table: String,
        kind: types::ConstraintKind,
        columns: Vec<String>,
    ) -> wasmtime::Result<()> {
        self.record(Op::DropConstraintOn {
            table,
            kind: kind.into(),
            columns,
        })
    }
    fn execute(&mut self, sql: String) -> wasmtime::Result<()> {
        self.record(Op::Execute { sql })
    }
    fn bulk_insert(
        &mut self,
        table: String,
        columns: Vec<String>,
        rows: Vec<Vec<types::Value>>,
    ) -> wasmtime::Result<()> {
        self.record(Op::BulkInsert {
            table,
            columns,
            rows: Recorder::rows(rows),
        })
    }
    fn update_rows(
        &mut self,
        table: String,
        key: Vec<String>,
        columns: Vec<String>,
        rows: Vec<Vec<types::Value>>,
    ) -> wasmtime::Result<()> {
        self.record(Op::UpdateRows {
            table,
            key,
            columns,
            rows: Recorder::rows(rows),
        })
    }
}

impl Recorder {
    /// Typed rows from the guest's.
    pub fn rows(rows: Vec<Vec<types::Value>>) -> Vec<Vec<migrate_core::types::Value>> {
        rows.into_iter()
            .map(|r| r.into_iter().map(Into::into).collect())
            .collect()
    }
}

impl wit_target::Host for Recorder {
    fn database(&mut self) -> wasmtime::Result<wit_target::DatabaseInfo> {
        Ok(wit_target::DatabaseInfo {
            dialect: match self.context.target.flavor {
                Flavor::Sqlite => wit_target::Dialect::Sqlite,
                Flavor::Postgresql => wit_target::Dialect::Postgresql,
                Flavor::Mysql => wit_target::Dialect::Mysql,
                Flavor::Mariadb => wit_target::Dialect::Mariadb,
            },
            server_version: self.context.target.server_version.clone(),
        })
    }
    fn quote_identifier(&mut self, name: String) -> wasmtime::Result<String> {
        Ok(self.context.target.dialect().quote_ident(&name))
    }
    fn literal(&mut self, value: types::Value) -> wasmtime::Result<Result<String, String>> {
        Ok(self.context.target.dialect().literal(&value.into()))
    }
}

impl clock::Host for Recorder {
    fn run_started(&mut self) -> wasmtime::Result<String> {
        Ok(self.context.clock.clone())
    }
}

impl diagnostics::Host for Recorder {
    fn report_panic(&mut self, message: String) -> wasmtime::Result<()> {
        // Keep the first: a panic inside the panic hook must not hide the original message.
        self.panic_message.get_or_insert(message);
        Ok(())
    }
}

/// Memory growth past the limit is refused (the guest's allocator then aborts); the flag lets
/// the runtime say why the guest stopped instead of reporting a bare trap.
impl wasmtime::ResourceLimiter for Recorder {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_limit_bytes {
            self.memory_limit_hit = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}
