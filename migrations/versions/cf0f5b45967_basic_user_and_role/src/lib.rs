//! basic user and role
//!
//! Revision cf0f5b45967, the base of the chain: the Flask-Diamond tables for users, roles, and
//! which user has which role.

#![no_std]
use migrate_guest_sdk::prelude::*;

fn upgrade() -> Result {
    op::create_table(
        Table::new("role")
            .column(Column::new("id", Type::Integer).primary_key())
            .column(Column::new("name", Type::Varchar(80)).unique())
            .column(Column::new("description", Type::Varchar(255))),
    );
    op::create_table(
        Table::new("user")
            .column(Column::new("id", Type::Integer).primary_key())
            .column(Column::new("email", Type::Varchar(255)).unique())
            .column(Column::new("password", Type::Varchar(255)).not_null())
            .column(Column::new("active", Type::Boolean))
            .column(Column::new("confirmed_at", Type::Timestamp)),
    );
    op::create_table(
        Table::new("roles_users")
            .column(Column::new("user_id", Type::Integer))
            .column(Column::new("role_id", Type::Integer))
            .constraint(ForeignKey::new(["user_id"], "user", ["id"]))
            .constraint(ForeignKey::new(["role_id"], "role", ["id"])),
    );
    Ok(())
}

fn downgrade() -> Result {
    op::drop_table("roles_users");
    op::drop_table("user");
    op::drop_table("role");
    Ok(())
}

migrate_guest_sdk::revision!(upgrade, downgrade);
