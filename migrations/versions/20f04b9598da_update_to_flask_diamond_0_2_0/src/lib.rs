//! update to flask-diamond 0.2.0
//!
//! Revision 20f04b9598da, revises cf0f5b45967: Flask-Security's login tracking columns.

#![no_std]
use migrate_guest_sdk::prelude::*;

const LOGIN_COLUMNS: [(&str, Type); 5] = [
    ("current_login_at", Type::Timestamp),
    ("current_login_ip", Type::Varchar(255)),
    ("last_login_at", Type::Timestamp),
    ("last_login_ip", Type::Varchar(255)),
    ("login_count", Type::Integer),
];

fn upgrade() -> Result {
    for (name, data_type) in LOGIN_COLUMNS {
        op::add_column("user", Column::new(name, data_type));
    }
    Ok(())
}

fn downgrade() -> Result {
    for (name, _) in LOGIN_COLUMNS.iter().rev() {
        op::drop_column("user", name);
    }
    Ok(())
}

migrate_guest_sdk::revision!(upgrade, downgrade);
