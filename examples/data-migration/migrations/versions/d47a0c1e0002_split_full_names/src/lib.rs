//! split full names into first and last
//!
//! Revision d47a0c1e0002, a data migration: it adds `first_name` and `last_name`, then reads
//! `full_name` back in batches of 100 (in `id` order, one batch in memory at a time) and fills
//! the new columns by splitting each name in Rust, not in SQL: the first word is the first
//! name, the rest the last name (none for a one-word name). It reads rows, so it runs only
//! online: `migrate upgrade --sql` names it and refuses it.

#![no_std]
use migrate_guest_sdk::prelude::*;

/// "Ada Maria Lovelace" -> ("Ada", Some("Maria Lovelace")); "Ada" -> ("Ada", None).
fn split(full_name: &str) -> (&str, Option<&str>) {
    match full_name.trim().split_once(' ') {
        Some((first, rest)) => (first, Some(rest.trim())),
        None => (full_name.trim(), None),
    }
}

fn upgrade() -> Result {
    op::add_column("person", Column::new("first_name", Type::Varchar(100)));
    op::add_column("person", Column::new("last_name", Type::Varchar(200)));
    let mut people = data::batches("person", &["full_name"], &["id"], 100);
    while let Some(batch) = people.next_batch()? {
        let updates = batch
            .rows()
            .map(|person| {
                let (first, last) = split(person.text("full_name").unwrap_or_default());
                vec![person.get("id").clone(), first.into(), last.into()]
            })
            .collect();
        op::update_rows("person", &["id"], &["first_name", "last_name"], updates);
    }
    Ok(())
}

fn downgrade() -> Result {
    op::drop_column("person", "last_name");
    op::drop_column("person", "first_name");
    Ok(())
}

migrate_guest_sdk::revision!(upgrade, downgrade);
