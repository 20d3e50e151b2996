//! Several steps as one transaction (`transaction_per_migration = false`, Alembic's default):
//! each step's statements and its version-table update in order inside one BEGIN/COMMIT, so a
//! failure anywhere leaves the database as it was before the run. Pure: scripts in, script out.

use super::{Expect, Statement, StepScript};

/// The combined script, and where each step's statements start in its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTransaction {
    pub script: StepScript,
    pub step_starts: Vec<usize>,
}

impl OneTransaction {
    /// The step (index into the scripts) that the body statement at `position` belongs to.
    pub fn step_of(&self, position: usize) -> usize {
        self.step_starts
            .iter()
            .rposition(|&start| start <= position)
            .unwrap_or(0)
    }
}

/// `None` when a step is not transactional (MySQL, whose DDL commits as it runs), or there are
/// no steps. What must run outside a transaction (SQLite's `PRAGMA foreign_keys = OFF` around a
/// table rebuild) runs once before and once after; since the switch then covers every step, the
/// last check that finds rows breaking a rule (`PRAGMA foreign_key_check`) runs again at the
/// end, so nothing another step wrote while it was off commits unchecked.
///
/// `None` too when a step other than the last adds an enum value: PostgreSQL refuses a value
/// added by `ALTER TYPE … ADD VALUE` until that transaction commits ("unsafe use of new value"),
/// so the steps after it could not use it.
pub fn in_one_transaction(scripts: &[&StepScript]) -> Option<OneTransaction> {
    if scripts.is_empty() || scripts.iter().any(|s| !s.transactional) {
        return None;
    }
    let adds_enum_value = |s: &&StepScript| s.body.iter().any(|st| adds_enum_value(&st.sql));
    if scripts[..scripts.len() - 1].iter().any(adds_enum_value) {
        return None;
    }
    let mut script = StepScript {
        transactional: true,
        ..StepScript::default()
    };
    let mut step_starts = Vec::with_capacity(scripts.len());
    let mut last_check: Option<&Statement> = None;
    for step in scripts {
        step_starts.push(script.body.len());
        for statement in &step.before {
            if !script.before.contains(statement) {
                script.before.push(statement.clone());
            }
        }
        for statement in step.body.iter().chain(&step.bookkeeping) {
            if matches!(statement.expect, Expect::NoRows(_)) {
                last_check = Some(statement);
            }
            script.body.push(statement.clone());
        }
        for statement in &step.after {
            if !script.after.contains(statement) {
                script.after.push(statement.clone());
            }
        }
    }
    if let (false, Some(check)) = (script.before.is_empty(), last_check) {
        if script.body.last() != Some(check) {
            script.body.push(check.clone());
        }
    }
    script.ops_done_after = vec![None; script.body.len()];
    Some(OneTransaction {
        script,
        step_starts,
    })
}

/// `ALTER TYPE "x" ADD VALUE …`, as the PostgreSQL dialect renders an added enum value.
fn adds_enum_value(sql: &str) -> bool {
    sql.starts_with("ALTER TYPE ") && sql.contains(" ADD VALUE ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(body: &[&str], bookkeeping: &str) -> StepScript {
        StepScript {
            transactional: true,
            body: body.iter().map(|s| Statement::plain(*s)).collect(),
            ops_done_after: vec![Some(1); body.len()],
            bookkeeping: vec![Statement::plain(bookkeeping)],
            ..StepScript::default()
        }
    }

    #[test]
    fn steps_and_their_bookkeeping_run_in_order_in_one_transaction() {
        let (a, b) = (
            step(&["CREATE TABLE a (x INT)"], "v1"),
            step(
                &["ALTER TABLE a ADD y INT", "CREATE INDEX i ON a (y)"],
                "v2",
            ),
        );
        let one = in_one_transaction(&[&a, &b]).unwrap();
        let sql: Vec<&str> = one.script.body.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(
            sql,
            [
                "CREATE TABLE a (x INT)",
                "v1",
                "ALTER TABLE a ADD y INT",
                "CREATE INDEX i ON a (y)",
                "v2"
            ]
        );
        assert!(one.script.bookkeeping.is_empty() && one.script.transactional);
        assert_eq!(one.step_starts, [0, 2]);
        assert_eq!((one.step_of(1), one.step_of(2), one.step_of(4)), (0, 1, 1));
    }

    #[test]
    fn foreign_keys_are_switched_once_and_checked_again_at_the_end() {
        let check = Statement {
            sql: "PRAGMA foreign_key_check".into(),
            expect: Expect::NoRows("broken".into()),
        };
        let mut rebuild = step(&["CREATE TABLE new_a (x INT)"], "v1");
        rebuild.before = vec![Statement::plain("PRAGMA foreign_keys = OFF")];
        rebuild.body.push(check.clone());
        rebuild.after = vec![Statement::plain("PRAGMA foreign_keys = ON")];
        let insert = step(&["INSERT INTO child VALUES (1, 99)"], "v2");
        let one = in_one_transaction(&[&rebuild, &insert, &rebuild]).unwrap();
        assert_eq!(one.script.before.len(), 1);
        assert_eq!(one.script.after.len(), 1);
        assert_eq!(one.script.body.last(), Some(&check));
        // The rebuild's own check, then the final one after its version-table update.
        let one = in_one_transaction(&[&insert, &rebuild]).unwrap();
        assert_eq!(one.script.body.iter().filter(|s| **s == check).count(), 2);
        // Without the switch there is nothing to check again.
        let plain = in_one_transaction(&[&insert, &insert]).unwrap();
        assert!(!plain.script.body.contains(&check));
    }

    #[test]
    fn a_step_that_commits_as_it_runs_is_not_combined() {
        let mut mysql = step(&["ALTER TABLE a ADD y INT"], "v1");
        mysql.transactional = false;
        assert!(in_one_transaction(&[&step(&["x"], "v0"), &mysql]).is_none());
        assert!(in_one_transaction(&[]).is_none());
    }

    #[test]
    fn a_step_adding_an_enum_value_commits_before_the_next() {
        let (a, b) = (
            step(&[r#"ALTER TYPE "mood" ADD VALUE 'ok' AFTER 'sad'"#], "v1"),
            step(&["UPDATE t SET m = 'ok'"], "v2"),
        );
        assert!(in_one_transaction(&[&a, &b]).is_none());
        assert!(in_one_transaction(&[&b, &a]).is_some());
    }
}
