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

/// What `column` has beyond `types.column`, as `apply` takes it; `None` for a plain column.
/// The catalog hands this to a revision that looks (`catalog.get-column-options`).
pub fn options_of(column: &core::Column) -> Option<columns::ColumnOptions> {
    let enum_ = column
        .data_type
        .as_enum()
        .map(|(name, values)| columns::EnumType {
            name: name.to_string(),
            values: values.to_vec(),
        });
    let plain = enum_.is_none()
        && column.native_types.is_empty()
        && column.generated.is_none()
        && column.identity.is_none();
    (!plain).then(|| columns::ColumnOptions {
        column: column.name.clone(),
        enum_,
        native_types: column.native_types.iter().map(native_out).collect(),
        generated: column.generated.as_ref().map(|g| columns::Generated {
            expression: g.expression.clone(),
            stored: g.stored,
        }),
        identity: column.identity.as_ref().map(|i| columns::Identity {
            always: i.always,
            start: i.start,
            increment: i.increment,
        }),
    })
}

fn native_out(n: &core::NativeType) -> columns::NativeType {
    columns::NativeType {
        dialect: match n.dialect {
            core::TypeDialect::Sqlite => columns::Dialect::Sqlite,
            core::TypeDialect::Postgresql => columns::Dialect::Postgresql,
            core::TypeDialect::Mysql => columns::Dialect::Mysql,
        },
        sql: n.sql.clone(),
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
