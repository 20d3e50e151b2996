//! The host's side of `enums.wit`: enum columns and `alter-enum`, recorded as ops like the
//! rest (a column's type becomes `DataType::Enum`).

use migrate_core::ops::Op;
use migrate_core::types as core;

use super::bindings::migrate::schema::{enums, types};
use super::recorder::Recorder;

fn enum_type(e: enums::EnumType) -> core::DataType {
    core::DataType::Enum {
        name: e.name,
        values: e.values,
    }
}

impl enums::Host for Recorder {
    fn create_table_with_enums(
        &mut self,
        table: types::Table,
        enums: Vec<enums::EnumColumn>,
    ) -> wasmtime::Result<()> {
        let mut table: core::Table = table.into();
        for of_enum in enums {
            // A name no column has is left for validation to report on the op as recorded.
            if let Some(column) = table.columns.iter_mut().find(|c| c.name == of_enum.column) {
                column.data_type = enum_type(of_enum.enum_);
            }
        }
        self.record(Op::CreateTable(table))
    }

    fn add_column_with_enum(
        &mut self,
        table: String,
        column: types::Column,
        of: enums::EnumType,
    ) -> wasmtime::Result<()> {
        let mut column: core::Column = column.into();
        column.data_type = enum_type(of);
        self.record(Op::AddColumn { table, column })
    }

    fn alter_column_to_enum(
        &mut self,
        change: types::ColumnChange,
        of: enums::EnumType,
    ) -> wasmtime::Result<()> {
        let mut change: core::ColumnChange = change.into();
        change.new_type = Some(enum_type(of));
        self.record(Op::AlterColumn(change))
    }

    fn alter_enum(&mut self, name: String, values: Vec<String>) -> wasmtime::Result<()> {
        self.record(Op::AlterEnum { name, values })
    }
}
