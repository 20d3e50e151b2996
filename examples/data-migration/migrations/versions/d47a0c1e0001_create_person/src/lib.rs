//! create person with 1000 rows
//!
//! Revision d47a0c1e0001, the base: a `person` table holding each name in one column, as many
//! applications start, and 1000 people in it.

#![no_std]
use migrate_guest_sdk::prelude::*;

const FIRST: [&str; 10] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Margaret", "Ken",
];
const LAST: [&str; 10] = [
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "McCarthy",
    "Hamilton", "Thompson",
];

/// Person `i`'s full name: most have two words, every seventh a middle name too, and every
/// 97th only one word.
fn full_name(i: usize) -> String {
    let first = FIRST[i % FIRST.len()];
    let last = LAST[(i / FIRST.len()) % LAST.len()];
    if i % 97 == 0 {
        first.to_string()
    } else if i % 7 == 0 {
        format!("{first} {} {last}", FIRST[(i + 3) % FIRST.len()])
    } else {
        format!("{first} {last}")
    }
}

fn upgrade() -> Result {
    op::create_table(
        Table::new("person")
            .column(Column::new("id", Type::Integer).primary_key())
            .column(Column::new("full_name", Type::Varchar(200)).not_null()),
    );
    let rows = (1..=1000)
        .map(|i| vec![Value::from(i as i64), full_name(i).into()])
        .collect();
    op::bulk_insert("person", &["id", "full_name"], rows);
    Ok(())
}

fn downgrade() -> Result {
    op::drop_table("person");
    Ok(())
}

migrate_guest_sdk::revision!(upgrade, downgrade);
