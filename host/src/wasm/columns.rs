//! The host's side of `columns.wit`: enum types, native types, generated columns and identity
//! options, recorded as ops like the rest (onto the core's `Column`).

use migrate_core::ops::Op;
use migrate_core::types as core;

use super::bindings::migrate::schema::{columns, types};
use super::recorder::Recorder;

/// `options` onto `column`.
fn apply(column: &mut core::Column, options: columns::ColumnOptions) {
    if let Some(e) = options.enum_ {
        column.data_type = core::DataType::Enum {
            name: e.name,
            values: e.values,
        };
    }
    column.native_types = options.native_types.into_iter().map(native).collect();
    column.generated = options.generated.map(|g| core::Generated {
        expression: g.expression,
        stored: g.stored,
    });
    column.identity = options.identity.map(|i| core::Identity {
        always: i.always,
        start: i.start,
        increment: i.increment,
    });
    if column.identity.is_some() {
        column.autoincrement = true;
    }
}

fn native(n: columns::NativeType) -> core::NativeType {
    core::NativeType {
        dialect: match n.dialect {
            columns::Dialect::Sqlite => core::TypeDialect::Sqlite,
            columns::Dialect::Postgresql => core::TypeDialect::Postgresql,
            columns::Dialect::Mysql => core::TypeDialect::Mysql,
        },
        sql: n.sql,
    }
}

impl columns::Host for Recorder {
    fn create_table_with(
        &mut self,
        table: types::Table,
        options: Vec<columns::ColumnOptions>,
    ) -> wasmtime::Result<()> {
        let mut table: core::Table = table.into();
        for of_column in options {
            // Options for a column the table lacks are left out; the column list is what the
            // guest declared.
            if let Some(column) = table
                .columns
                .iter_mut()
                .find(|c| c.name == of_column.column)
            {
                apply(column, of_column);
            }
        }
        self.record(Op::CreateTable(table))
    }

    fn add_column_with(
        &mut self,
        table: String,
        column: types::Column,
        options: columns::ColumnOptions,
    ) -> wasmtime::Result<()> {
        let mut column: core::Column = column.into();
        apply(&mut column, options);
        self.record(Op::AddColumn { table, column })
    }

    fn alter_column_with(
        &mut self,
        change: types::ColumnChange,
        options: columns::ColumnOptions,
    ) -> wasmtime::Result<()> {
        let mut change: core::ColumnChange = change.into();
        if options.generated.is_some() || options.identity.is_some() {
            let reason = format!(
                "alter_column {:?}.{:?}: a column's generation or identity is not changed by \
                 alter_column: drop the column and add it again",
                change.table, change.column
            );
            self.stopped.get_or_insert(reason.clone());
            return Err(wasmtime::Error::msg(reason));
        }
        if let Some(e) = options.enum_ {
            change.new_type = Some(core::DataType::Enum {
                name: e.name,
                values: e.values,
            });
        }
        change.new_native_types = options.native_types.into_iter().map(native).collect();
        self.record(Op::AlterColumn(change))
    }

    fn alter_enum(&mut self, name: String, values: Vec<String>) -> wasmtime::Result<()> {
        self.record(Op::AlterEnum { name, values })
    }
}
