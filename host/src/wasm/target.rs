//! The target a revision's ops are recorded for, for revisions that ask (the `target` WIT
//! interface): which database, told down to MariaDB, and the server's version when connected.
//! It keys the ops cache of such revisions; a revision that never asks is recorded once for all.

use migrate_core::sql::{self, Dialect, DialectName};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    Sqlite,
    Postgresql,
    Mysql,
    Mariadb,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    pub flavor: Flavor,
    /// None offline (`--sql`): there is no server to ask.
    pub server_version: Option<String>,
}

impl Flavor {
    pub const ALL: [Flavor; 4] = [
        Flavor::Sqlite,
        Flavor::Postgresql,
        Flavor::Mysql,
        Flavor::Mariadb,
    ];

    pub fn dialect_name(self) -> DialectName {
        match self {
            Flavor::Sqlite => DialectName::Sqlite,
            Flavor::Postgresql => DialectName::Postgresql,
            Flavor::Mysql | Flavor::Mariadb => DialectName::Mysql,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Flavor::Sqlite => "sqlite",
            Flavor::Postgresql => "postgresql",
            Flavor::Mysql => "mysql",
            Flavor::Mariadb => "mariadb",
        }
    }

    /// A dialect's flavor; MySQL's stands for MariaDB too until a server says otherwise.
    pub fn of(dialect: DialectName) -> Flavor {
        match dialect {
            DialectName::Sqlite => Flavor::Sqlite,
            DialectName::Postgresql => Flavor::Postgresql,
            DialectName::Mysql => Flavor::Mysql,
        }
    }

    /// `--dialect` spellings: the dialect names, plus `mariadb`.
    pub fn parse(text: &str) -> Option<Flavor> {
        match text.to_ascii_lowercase().as_str() {
            "mariadb" => Some(Flavor::Mariadb),
            other => DialectName::parse(other).map(Flavor::of),
        }
    }
}

impl Target {
    /// Offline: the dialect alone, no version.
    pub fn offline(flavor: Flavor) -> Target {
        Target {
            flavor,
            server_version: None,
        }
    }

    /// A connected database: MariaDB is told from MySQL by its version string.
    pub fn connected(dialect: DialectName, server_version: String) -> Target {
        let flavor = match Flavor::of(dialect) {
            Flavor::Mysql if server_version.to_ascii_lowercase().contains("mariadb") => {
                Flavor::Mariadb
            }
            other => other,
        };
        Target {
            flavor,
            server_version: Some(server_version),
        }
    }

    pub fn dialect(&self) -> &'static dyn Dialect {
        sql::dialect(self.flavor.dialect_name()).expect("every dialect exists")
    }

    /// What the cached ops of a revision that asks for its target are filed under, beside its
    /// component's hash: only characters safe in a file name.
    pub fn cache_suffix(&self) -> String {
        let version: String = self
            .server_version
            .as_deref()
            .unwrap_or("none")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        format!("{}-{version}", self.flavor.name())
    }

    pub fn describe(&self) -> String {
        match &self.server_version {
            Some(version) => format!("{} {version}", self.flavor.name()),
            None => format!("{} (offline: no server version)", self.flavor.name()),
        }
    }
}

impl Default for Target {
    fn default() -> Target {
        Target::offline(Flavor::Sqlite)
    }
}
