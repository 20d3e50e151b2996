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
//! allow_reads = false                      # no revision may read rows (data migrations)
//! ```
//!
//! Reading rows (the `data` interface) is read-only where the database can enforce it
//! (PostgreSQL: a read-only savepoint; SQLite: `query_only`); MySQL has no per-statement
//! read-only mode, so there a SELECT calling a function that writes would write.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Allow {
    All(bool),
    Only(Vec<String>),
}

impl Default for Allow {
    fn default() -> Allow {
        Allow::All(true)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxSettings {
    pub allow_execute: Allow,
    pub allow_reads: Allow,
}

impl Allow {
    fn allows(&self, revision: &str) -> bool {
        match self {
            Allow::All(allowed) => *allowed,
            Allow::Only(ids) => ids.iter().any(|id| id == revision),
        }
    }
}

impl SandboxSettings {
    pub fn allows_execute(&self, revision: &str) -> bool {
        self.allow_execute.allows(revision)
    }

    /// Refuses a revision that reads rows when the settings say it may not.
    pub fn check_reads(&self, revision: &str, reads: bool) -> anyhow::Result<()> {
        if reads && !self.allow_reads.allows(revision) {
            anyhow::bail!(
                "it reads rows (its component imports `data`), which the settings forbid \
                 (`allow_reads` in [sandbox]). Allow this revision by name: allow_reads = [\"{revision}\"]"
            );
        }
        Ok(())
    }

    /// Both checks, from what a component imports, before it runs.
    pub fn check(
        &self,
        revision: &str,
        capabilities: &crate::wasm::Capabilities,
    ) -> anyhow::Result<()> {
        self.check_execute(revision, capabilities.execute)?;
        self.check_reads(revision, capabilities.data)
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
