//! The operations a revision asks for, named as in Alembic's `op`. Each call is recorded by the
//! host and run, in order, after `upgrade()` or `downgrade()` returns.

use crate::convert::{change_options, column_options};
use crate::model::*;
use crate::wit::migrate::schema::columns;
use crate::wit::migrate::schema::ops as host;
use crate::wit::migrate::schema::types as w;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// Creates a table (Alembic's `op.create_table`). A table whose columns have options (an enum,
/// native types, a generation, identity options) goes through the `columns` interface, which
/// only such a revision imports.
pub fn create_table(table: Table) {
    let options: Vec<columns::ColumnOptions> = table
        .columns
        .iter()
        .filter(|c| c.has_options())
        .map(column_options)
        .collect();
    if options.is_empty() {
        host::create_table(&table.into());
    } else {
        columns::create_table_with(&table.into(), &options);
    }
}

/// Drops a table. Refused, naming them, while other tables refer to it.
pub fn drop_table(name: &str) {
    host::drop_table(name);
}

/// Renames a table.
pub fn rename_table(old_name: &str, new_name: &str) {
    host::rename_table(old_name, new_name);
}

/// Adds a column to a table.
pub fn add_column(table: &str, column: Column) {
    if column.has_options() {
        let options = column_options(&column);
        columns::add_column_with(table, &column.into(), &options);
    } else {
        host::add_column(table, &column.into());
    }
}

/// Drops a column; indexes and constraints that use it go with it.
pub fn drop_column(table: &str, column: &str) {
    host::drop_column(table, column);
}

/// `op::alter_column(AlterColumn::new("user", "email").set_type(Type::Text).nullable(false))`
pub fn alter_column(change: AlterColumn) {
    match change_options(&change) {
        Some(options) => columns::alter_column_with(&change.into(), &options),
        None => host::alter_column(&change.into()),
    }
}

/// Gives the enum `name` these values, for every column of it:
/// `op::alter_enum("mood", ["sad", "ok", "happy"])`. Added values are added in place
/// (PostgreSQL: `ALTER TYPE … ADD VALUE`, usable from the next revision on); removing or
/// reordering values makes the type anew, and fails (rolling back) while a row holds a removed one.
pub fn alter_enum<I: IntoIterator<Item = S>, S: Into<String>>(name: &str, values: I) {
    let values: Vec<String> = values.into_iter().map(Into::into).collect();
    columns::alter_enum(name, &values);
}

/// `op::create_index(Index::new("ix_user_email", "user", ["email"]))`; with options (DESC,
/// expressions, WHERE, INCLUDE, prefix lengths) through the `indexes` interface, which only such
/// a revision imports.
pub fn create_index(index: Index) {
    if index.has_options() {
        let options = (&index).into();
        crate::wit::migrate::schema::indexes::create_index_with(&index.into(), &options);
    } else {
        host::create_index(&index.into());
    }
}

/// `op::drop_index("ix_user_email", "user")`: the index's name first, as in `Index::new` and
/// Alembic's `op.drop_index(index_name, table_name)`. (The table came first in earlier SDKs; a
/// revision still written that way is refused at `upgrade` with the swap named.)
pub fn drop_index(name: &str, table: &str) {
    host::drop_index(table, name);
}

/// `op::create_primary_key("order", "pk_order", ["id"])`: the table first.
pub fn create_primary_key<I: IntoIterator<Item = S>, S: Into<String>>(
    table: &str,
    name: &str,
    columns: I,
) {
    let key = w::PrimaryKey {
        name: Some(name.into()),
        columns: columns.into_iter().map(Into::into).collect(),
    };
    host::create_primary_key(table, &key);
}

/// `op::create_unique_constraint("user", "uq_user_email", ["email"])`: the table first.
pub fn create_unique_constraint<I: IntoIterator<Item = S>, S: Into<String>>(
    table: &str,
    name: &str,
    columns: I,
) {
    let constraint = w::UniqueConstraint {
        name: Some(name.into()),
        columns: columns.into_iter().map(Into::into).collect(),
    };
    host::create_unique_constraint(table, &constraint);
}

/// A unique constraint without a name (Alembic's `op.create_unique_constraint(None, …)`): the
/// settings' `[naming_convention]` names it, or else the database does (`drop_unique_on` finds
/// it by its columns later).
pub fn create_unique<I: IntoIterator<Item = S>, S: Into<String>>(table: &str, columns: I) {
    let constraint = w::UniqueConstraint {
        name: None,
        columns: columns.into_iter().map(Into::into).collect(),
    };
    host::create_unique_constraint(table, &constraint);
}

/// A check constraint without a name, named as `create_unique` says.
pub fn create_check(table: &str, expression: &str) {
    let constraint = w::CheckConstraint {
        name: None,
        expression: expression.into(),
    };
    host::create_check_constraint(table, &constraint);
}

/// Name the key (`ForeignKey::new(..).named("fk_…")`) if a later revision will drop it.
pub fn create_foreign_key(table: &str, key: ForeignKey) {
    host::create_foreign_key(table, &key.into());
}

/// `op::create_check_constraint("order", "ck_order_total", "total >= 0")`: the table first.
pub fn create_check_constraint(table: &str, name: &str, expression: &str) {
    let constraint = w::CheckConstraint {
        name: Some(name.into()),
        expression: expression.into(),
    };
    host::create_check_constraint(table, &constraint);
}

/// `op::drop_constraint("uq_user_email", "user", ConstraintKind::Unique)`: the name first, as
/// in Alembic's `op.drop_constraint(constraint_name, table_name, type_)`. (The table came first
/// in earlier SDKs; a revision still written that way is refused at `upgrade` with the swap named.)
pub fn drop_constraint(name: &str, table: &str, kind: ConstraintKind) {
    host::drop_constraint(table, name, kind.into());
}

/// Drops the foreign key made on exactly these columns of `table`, whatever the database named
/// it (a key created without a name): online the host reads its name from the database's
/// catalog; offline (`--sql`) it uses the name the model knows, or PostgreSQL's own rule
/// (`<table>_<columns>_fkey`), and otherwise says it cannot know.
/// `op::drop_foreign_key_on("person", &["team_id"])`.
pub fn drop_foreign_key_on(table: &str, columns: &[&str]) {
    host::drop_constraint_on(table, w::ConstraintKind::ForeignKey, &strings(columns));
}

/// Drops the unique constraint on exactly these columns of `table` (a table-level one, or a
/// column's own `.unique()`), whatever the database named it, as `drop_foreign_key_on` does.
pub fn drop_unique_on(table: &str, columns: &[&str]) {
    host::drop_constraint_on(table, w::ConstraintKind::Unique, &strings(columns));
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|c| c.to_string()).collect()
}

/// Raw SQL, run as it is on every database: prefer the typed operations where they fit.
/// `target::quote_identifier` and `target::literal` quote names and values for the database.
pub fn execute(sql: &str) {
    host::execute(sql);
}

/// Raw SQL for some databases only: `op::execute_on(&[Dialect::Postgresql], "CREATE EXTENSION …")`
/// runs on PostgreSQL and records nothing elsewhere. `Dialect::Mysql` stands for MariaDB too.
/// It asks for the target, so the revision's operations are then recorded per database.
pub fn execute_on(dialects: &[crate::target::Dialect], sql: &str) {
    if crate::target::dialect().is_one_of(dialects) {
        host::execute(sql);
    }
}

/// Inserts rows; each row gives one value per column, in order:
/// `op::bulk_insert("role", &["id", "name"], vec![vec![1.into(), "admin".into()]])`.
pub fn bulk_insert(table: &str, columns: &[&str], rows: Vec<Vec<Value>>) {
    host::bulk_insert(table, &strings(columns), &wit_rows(rows));
}

/// Sets `columns` of the rows found by `key`, each row giving the key's values and then the
/// new values: a data migration's writes, typed and quoted by the host (no raw SQL, so no
/// `execute` import). One UPDATE per row:
/// `op::update_rows("person", &["id"], &["first_name"], vec![vec![7.into(), "Ada".into()]])`.
pub fn update_rows(table: &str, key: &[&str], columns: &[&str], rows: Vec<Vec<Value>>) {
    host::update_rows(table, &strings(key), &strings(columns), &wit_rows(rows));
}

fn wit_rows(rows: Vec<Vec<Value>>) -> Vec<Vec<w::Value>> {
    rows.into_iter()
        .map(|r| r.into_iter().map(Into::into).collect())
        .collect()
}
