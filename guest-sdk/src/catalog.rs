//! The schema before this revision, for a revision that decides by looking (Alembic's
//! inspector): its tables, columns with their types (enums with their values), native types,
//! generation and identity options, keys, indexes, and constraints with their names. The host
//! answers from its model of the schema at the revision's point in the graph; online, a
//! constraint the revisions left unnamed shows the name the database gave it.
//!
//! Asking is a capability: only a revision that calls this imports the `catalog` interface. Its
//! operations are then recorded at its point in the run (the schema before it must be known
//! first), and its checksum is taken over what it records from the model alone.
//!
//! ```no_run
//! use migrate_guest_sdk::prelude::*;
//!
//! fn upgrade() -> Result {
//!     let person = catalog::table("person").ok_or("no table person")?;
//!     if person.table.column_named("nickname").is_none() {
//!         op::add_column("person", Column::new("nickname", Type::Text));
//!     }
//!     // Drop whatever foreign key person.team_id has, by the name the database knows.
//!     for fk in person.foreign_keys() {
//!         if fk.columns() == ["team_id"] {
//!             if let Some(name) = fk.name() {
//!                 op::drop_constraint(name, "person", ConstraintKind::ForeignKey);
//!             }
//!         }
//!     }
//!     Ok(())
//! }
//! ```
//!
//! To drop an unnamed foreign key or unique constraint by its columns, `op::drop_foreign_key_on`
//! and `op::drop_unique_on` need no look: the host finds the name when the step runs.

use crate::model::*;
use crate::wit::migrate::schema::catalog as host;
use alloc::string::String;
use alloc::vec::Vec;

/// A table as it stands before this revision.
#[derive(Debug, Clone, PartialEq)]
pub struct TableView {
    /// The table: its columns and constraints, with the names the database gave (online).
    pub table: Table,
    /// Its indexes.
    pub indexes: Vec<Index>,
}

impl TableView {
    /// Its foreign keys, named or not.
    pub fn foreign_keys(&self) -> impl Iterator<Item = &ForeignKey> {
        self.table.constraints.iter().filter_map(|c| match c {
            Constraint::ForeignKey(fk) => Some(fk),
            _ => None,
        })
    }

    /// Unique constraints as (name, columns), a column's own `unique` included (unnamed
    /// unless the database's name is known).
    pub fn unique_constraints(&self) -> Vec<(Option<&str>, Vec<&str>)> {
        let mut found: Vec<(Option<&str>, Vec<&str>)> = self
            .table
            .constraints
            .iter()
            .filter_map(|c| match c {
                Constraint::Unique { name, columns } => Some((
                    name.as_deref(),
                    columns.iter().map(String::as_str).collect(),
                )),
                _ => None,
            })
            .collect();
        found.extend(
            self.table
                .columns
                .iter()
                .filter(|c| c.unique)
                .map(|c| (None, alloc::vec![c.name.as_str()])),
        );
        found
    }
}

/// Every table's name, sorted.
pub fn table_names() -> Vec<String> {
    host::table_names()
}

/// One table, or `None` when there is no table of that name before this revision. Its columns
/// have their enums (`Type::Enum`), native types, generation and identity options.
pub fn table(name: &str) -> Option<TableView> {
    let view = host::get_table(name)?;
    let mut table: Table = view.definition.into();
    for options in host::get_column_options(name) {
        let column = table.columns.iter_mut().find(|c| c.name == options.column);
        if let Some(column) = column {
            column.take_options(options);
        }
    }
    Some(TableView {
        table,
        indexes: view.indexes.into_iter().map(Into::into).collect(),
    })
}
