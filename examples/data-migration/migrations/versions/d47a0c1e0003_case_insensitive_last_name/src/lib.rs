//! case-insensitive index on last name
//!
//! Revision d47a0c1e0003 branches on its database, as Alembic revisions do with
//! `op.get_bind().dialect.name`: each database gets a case-insensitive index on `last_name` its
//! own way. Its operations, and so its checksum, differ per database.

#![no_std]
use migrate_guest_sdk::prelude::*;

const INDEX: &str = "ix_person_last_name_ci";

fn upgrade() -> Result {
    match target::dialect() {
        // An expression index: WHERE lower(last_name) = lower($1) uses it.
        Dialect::Postgresql => op::execute(&format!(
            "CREATE INDEX {INDEX} ON person (lower(last_name))"
        )),
        Dialect::Sqlite => op::execute(&format!(
            "CREATE INDEX {INDEX} ON person (last_name COLLATE NOCASE)"
        )),
        // Their default collations already compare text without case: a plain index will do.
        Dialect::Mysql | Dialect::Mariadb => {
            op::create_index(Index::new(INDEX, "person", ["last_name"]))
        }
    }
    Ok(())
}

fn downgrade() -> Result {
    match target::dialect() {
        Dialect::Mysql | Dialect::Mariadb => op::drop_index(INDEX, "person"),
        _ => op::execute(&format!("DROP INDEX {INDEX}")),
    }
    Ok(())
}

migrate_guest_sdk::revision!(upgrade, downgrade);
