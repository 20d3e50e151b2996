//! Turns one revision step (its ops plus the version-table bookkeeping) into the exact script
//! that runs: statements before the transaction, inside it, and after it. Printing (`--sql`)
//! and executing both consume this one value, so they cannot disagree.

use super::{Dialect, Rendered, Statement};
use crate::ops::Op;
use crate::schema::Schema;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("op #{index} ({op}): {problem}")]
pub struct RenderError {
    /// 1-based position of the op in the revision's recorded list.
    pub index: usize,
    pub op: String,
    pub problem: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepScript {
    pub before: Vec<Statement>,
    pub transaction: Vec<Statement>,
    pub after: Vec<Statement>,
}

/// Validates and renders `ops` against the schema model, advancing the model as it goes.
/// `bookkeeping` (the version-table update) joins the same transaction.
pub fn render_step(
    dialect: &dyn Dialect,
    schema: &mut Schema,
    ops: &[Op],
    bookkeeping: Vec<Statement>,
) -> Result<StepScript, RenderError> {
    let mut script = StepScript::default();
    let mut needs_foreign_keys_off = false;
    for (i, op) in ops.iter().enumerate() {
        let fail = |problem: String| RenderError {
            index: i + 1,
            op: op.describe(),
            problem,
        };
        op.validate().map_err(|e| fail(e.problem))?;
        let Rendered {
            statements,
            needs_foreign_keys_off: off,
        } = dialect.render(op, schema).map_err(fail)?;
        needs_foreign_keys_off |= off;
        script.transaction.extend(statements);
        schema.apply_lenient(op).map_err(|e| fail(e.problem))?;
    }
    if needs_foreign_keys_off {
        let guard = dialect.foreign_keys_off();
        script.before = guard.before;
        script.transaction.extend(guard.check);
        script.after = guard.after;
    }
    script.transaction.extend(bookkeeping);
    Ok(script)
}

impl StepScript {
    /// The script as SQL text, exactly as it runs: a transaction around the revision's statements.
    pub fn to_sql(&self) -> String {
        let mut out = String::new();
        let mut emit = |s: &Statement| {
            out.push_str(&s.sql);
            out.push_str(";\n");
        };
        self.before.iter().for_each(&mut emit);
        emit(&Statement::plain("BEGIN"));
        self.transaction.iter().for_each(&mut emit);
        emit(&Statement::plain("COMMIT"));
        self.after.iter().for_each(&mut emit);
        out
    }
}
