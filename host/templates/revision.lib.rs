//! {message}
//!
//! Revision {id}, revises {down}. Created {created}.

#![no_std]
use migrate_guest_sdk::prelude::*;

fn upgrade() -> Result {
    // op::create_table(
    //     Table::new("account")
    //         .column(Column::new("id", Type::Integer).primary_key())
    //         .column(Column::new("name", Type::Varchar(80)).not_null()),
    // );
    Ok(())
}

fn downgrade() -> Result {
    // op::drop_table("account");
    Ok(())
}

migrate_guest_sdk::revision!(upgrade, downgrade);
