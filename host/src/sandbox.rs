//! What the settings let revisions do beyond the typed operations. Raw SQL (`op::execute`) runs
//! with every right the database user has: on PostgreSQL a superuser's `COPY … TO PROGRAM` runs
//! shell commands, on MySQL `LOAD_FILE` and `INTO OUTFILE` reach the server's files. The wasm
//! sandbox cannot see inside that SQL, so a project may forbid it, for every revision or for all
//! but those it names.
//!
//! ```toml
//! [sandbox]
//! allow_execute = false                    # no revision may run raw SQL
//! allow_execute = ["3f2a9c", "b71e04"]     # only these may
//! ```

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum AllowExecute {
    All(bool),
    Only(Vec<String>),
}

impl Default for AllowExecute {
    fn default() -> AllowExecute {
        AllowExecute::All(true)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxSettings {
    pub allow_execute: AllowExecute,
}

impl SandboxSettings {
    pub fn allows_execute(&self, revision: &str) -> bool {
        match &self.allow_execute {
            AllowExecute::All(allowed) => *allowed,
            AllowExecute::Only(ids) => ids.iter().any(|id| id == revision),
        }
    }

    /// Refuses a revision that can run raw SQL when the settings say it may not.
    pub fn check_execute(&self, revision: &str, runs_raw_sql: bool) -> anyhow::Result<()> {
        if runs_raw_sql && !self.allows_execute(revision) {
            anyhow::bail!(
                "it can run raw SQL (its component imports `execute`), which the settings forbid \
                 (`allow_execute` in [sandbox]); raw SQL can do whatever the database user can. Use \
                 the typed operations, or allow this revision by name: allow_execute = [\"{revision}\"]"
            );
        }
        Ok(())
    }
}
