//! Which database the revision runs for, for the revisions that need to know, as Alembic's
//! `op.get_bind().dialect.name`. Asking is a capability: a revision that calls nothing here
//! does not import the `target` interface, its operations are the same on every database, and so
//! is its checksum. One that asks is recorded, cached and checksummed per database (and server
//! version), and `migrate show REV` lists its operations for each.
//!
//! ```no_run
//! use migrate_guest_sdk::prelude::*;
//!
//! fn upgrade() -> Result {
//!     // Raw SQL that works everywhere: names and values quoted for the target.
//!     let sql = format!(
//!         "UPDATE {} SET {} = {}",
//!         target::quote_identifier("order"),
//!         target::quote_identifier("key"),
//!         target::literal("it's")?,
//!     );
//!     op::execute(&sql);
//!     // A statement for some databases only, without an `if` in every revision.
//!     op::execute_on(&[Dialect::Postgresql], "CREATE EXTENSION IF NOT EXISTS pg_trgm");
//!     if target::dialect() == Dialect::Sqlite {
//!         // ...
//!     }
//!     Ok(())
//! }
//! ```

use crate::model::Value;
use crate::wit::migrate::schema::target as host;
use alloc::string::String;

/// The databases a revision can run on. MariaDB is told apart from MySQL (by the server's
/// version string) when a connection exists; offline, `--dialect mariadb` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgresql,
    /// MySQL.
    Mysql,
    /// MariaDB (told apart from MySQL by the server's version string, or `--dialect mariadb`).
    Mariadb,
}

impl Dialect {
    /// MySQL or MariaDB: the same SQL dialect in almost everything.
    pub fn is_mysql_like(self) -> bool {
        matches!(self, Dialect::Mysql | Dialect::Mariadb)
    }

    /// Whether this database is among `wanted`. `Dialect::Mysql` there stands for MariaDB too;
    /// name `Dialect::Mariadb` (without `Mysql`) to mean MariaDB alone.
    pub fn is_one_of(self, wanted: &[Dialect]) -> bool {
        wanted
            .iter()
            .any(|&w| w == self || (w == Dialect::Mysql && self == Dialect::Mariadb))
    }
}

/// The database the operations are for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Database {
    /// Which database.
    pub dialect: Dialect,
    /// The server's version where a connection exists (`"16.4"`, `"10.11.6-MariaDB-0+deb12u1"`,
    /// `"3.51.0"`); `None` for offline SQL (`migrate upgrade --sql`).
    pub server_version: Option<String>,
}

/// The database this run renders for.
pub fn database() -> Database {
    let info = host::database();
    Database {
        dialect: match info.dialect {
            host::Dialect::Sqlite => Dialect::Sqlite,
            host::Dialect::Postgresql => Dialect::Postgresql,
            host::Dialect::Mysql => Dialect::Mysql,
            host::Dialect::Mariadb => Dialect::Mariadb,
        },
        server_version: info.server_version,
    }
}

/// The dialect alone: `database().dialect`.
pub fn dialect() -> Dialect {
    database().dialect
}

/// `name` quoted as an identifier for the target, exactly as the host quotes its own
/// (`"order"` on SQLite and PostgreSQL, `` `order` `` on MySQL).
pub fn quote_identifier(name: &str) -> String {
    host::quote_identifier(name)
}

/// `value` as a SQL literal for the target, escaped as the host escapes its own (on MySQL,
/// backslashes too). An error where the target has no literal for it.
pub fn literal(value: impl Into<Value>) -> Result<String, String> {
    host::literal(&value.into().into())
}
