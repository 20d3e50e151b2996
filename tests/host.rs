//! The host's integration tests, one module per file, in one binary (see host/Cargo.toml):
//! `cargo test -p migrate --test host fleet::` runs one file's tests.

mod common;

mod autogenerate;
mod bad_input;
mod catalog;
mod cli;
mod cli_output;
mod clock;
mod column_options;
mod conflicts;
mod crashes;
mod data_migration;
mod dialects;
mod enums;
mod every_op;
mod fleet;
mod fuzz_inputs;
mod galera;
mod guide;
mod host_limits;
mod incremental_build;
mod index_options;
mod interrupted;
mod metadata_index;
mod one_transaction;
mod production_safety;
mod quoting;
mod shipped_chain;
mod shipped_ops;
mod sqlite_rebuild;
mod target;
mod teams;
mod vocabulary;
mod vocabulary_model;
