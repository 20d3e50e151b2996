//! Turns one revision step (its ops plus the version-table bookkeeping) into the exact script
//! that runs. Printing (`--sql`) and executing both consume this one value, so they cannot
//! disagree.

use super::{Dialect, Statement};
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

/// One revision step. Where DDL is transactional, `body` and `bookkeeping` commit together;
/// where it is not (MySQL), `before` marks the step in progress, the body runs statement by
/// statement, and `bookkeeping` (which clears the mark) commits on its own afterwards.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepScript {
    pub transactional: bool,
    /// Outside any transaction, first.
    pub before: Vec<Statement>,
    /// The revision's own statements.
    pub body: Vec<Statement>,
    /// For each statement of `body`, how many of the step's ops are complete once it has run;
    /// `None` when it runs inside an op that a later statement finishes. What an interrupted
    /// step is diagnosed against (`crate::step_progress`).
    pub ops_done_after: Vec<Option<usize>>,
    /// The version-table update.
    pub bookkeeping: Vec<Statement>,
    /// Outside any transaction, last.
    pub after: Vec<Statement>,
}

/// What one step's SQL may weigh unless the caller says otherwise (`render_step_within`).
pub const DEFAULT_MAX_SQL_BYTES: usize = 64 * 1024 * 1024;

/// Validates and renders `ops` against the schema model, advancing the model as it goes.
pub fn render_step(
    dialect: &dyn Dialect,
    schema: &mut Schema,
    ops: &[Op],
    bookkeeping: Vec<Statement>,
) -> Result<StepScript, RenderError> {
    render_step_within(dialect, schema, ops, bookkeeping, DEFAULT_MAX_SQL_BYTES)
}

/// `render_step`, stopping at the first op whose SQL takes the step past `max_sql_bytes`: a
/// few ops can render far more than they weigh (each SQLite rebuild restates its whole table),
/// and the host must not spend minutes and gigabytes on one revision.
pub fn render_step_within(
    dialect: &dyn Dialect,
    schema: &mut Schema,
    ops: &[Op],
    bookkeeping: Vec<Statement>,
    max_sql_bytes: usize,
) -> Result<StepScript, RenderError> {
    let named = named_ops(schema, ops);
    let ops: &[Op] = &named;
    let mut sql_bytes = 0usize;
    let mut script = StepScript {
        transactional: dialect.capabilities().transactional_ddl,
        bookkeeping,
        ..StepScript::default()
    };
    let mut needs_foreign_keys_off = false;
    let mut i = 0;
    while i < ops.len() {
        let fail = |problem: String| RenderError {
            index: i + 1,
            op: ops[i].describe(),
            problem,
        };
        ops[i].validate().map_err(|e| fail(e.problem))?;
        schema.check_references(&ops[i]).map_err(fail)?;
        // Ops the dialect can only make by rebuilding their table: this one and every
        // following op that changes the same table become one rebuild, not one each.
        let (end, rendered) = match dialect.rebuilds_table(&ops[i], schema) {
            Some(table) => {
                let mut end = i + 1;
                // The model as the rebuild's earlier ops leave it, to check each later one
                // against (made only when the rebuild has more than one op).
                let mut scratch: Option<Schema> = None;
                while end < ops.len() && ops[end].altered_table() == Some(table) {
                    let model = scratch.get_or_insert_with(|| {
                        let mut model = schema.clone();
                        let _ = model.apply_lenient(&ops[i]);
                        model
                    });
                    let problem = ops[end]
                        .validate()
                        .map_err(|e| e.problem)
                        .and_then(|_| model.check_references(&ops[end]));
                    problem.map_err(|problem| RenderError {
                        index: end + 1,
                        op: ops[end].describe(),
                        problem,
                    })?;
                    let _ = model.apply_lenient(&ops[end]);
                    end += 1;
                }
                (
                    end,
                    dialect
                        .render_rebuild(table, &ops[i..end], schema)
                        .map_err(fail)?,
                )
            }
            None => (i + 1, dialect.render(&ops[i], schema).map_err(fail)?),
        };
        needs_foreign_keys_off |= rendered.needs_foreign_keys_off;
        sql_bytes = rendered
            .statements
            .iter()
            .fold(sql_bytes, |sum, s| sum.saturating_add(s.sql.len()));
        if sql_bytes > max_sql_bytes {
            return Err(fail(format!(
                "the step's SQL would weigh more than {} MiB (the `sql_mib` limit in [limits])",
                max_sql_bytes / (1024 * 1024)
            )));
        }
        let count = rendered.statements.len();
        script.body.extend(rendered.statements);
        script
            .ops_done_after
            .extend((1..=count).map(|n| (n == count).then_some(end)));
        for (j, op) in ops.iter().enumerate().take(end).skip(i) {
            schema.apply_lenient(op).map_err(|e| RenderError {
                index: j + 1,
                op: op.describe(),
                problem: e.problem,
            })?;
        }
        i = end;
    }
    if needs_foreign_keys_off {
        let guard = dialect.foreign_keys_off();
        script.before.extend(guard.before);
        script
            .ops_done_after
            .extend(guard.check.iter().map(|_| Some(ops.len())));
        script.body.extend(guard.check);
        script.after.extend(guard.after);
    }
    Ok(script)
}

/// `ops` with the constraints they leave unnamed named by the schema's naming convention (when
/// there is one), each against the model as the ops before it leave it.
pub fn named_ops<'a>(schema: &Schema, ops: &'a [Op]) -> std::borrow::Cow<'a, [Op]> {
    if schema.naming.is_empty() {
        return std::borrow::Cow::Borrowed(ops);
    }
    let mut model = schema.clone();
    std::borrow::Cow::Owned(
        ops.iter()
            .map(|op| {
                let named = model.naming.apply(op, &model).into_owned();
                let _ = model.apply_lenient(&named);
                named
            })
            .collect(),
    )
}

impl StepScript {
    /// The statements in the order they run, with the transaction boundaries.
    pub fn statements_in_order(&self) -> Vec<Statement> {
        let mut out = self.before.clone();
        if self.transactional {
            out.push(Statement::plain("BEGIN"));
            out.extend(self.body.iter().cloned());
        } else {
            out.extend(self.body.iter().cloned());
            out.push(Statement::plain("BEGIN"));
        }
        out.extend(self.bookkeeping.iter().cloned());
        out.push(Statement::plain("COMMIT"));
        out.extend(self.after.iter().cloned());
        out
    }

    /// The script as SQL text, exactly as it runs.
    pub fn to_sql(&self) -> String {
        self.statements_in_order()
            .iter()
            .map(|s| format!("{};\n", s.sql))
            .collect()
    }
}
