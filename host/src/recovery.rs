//! An interrupted or failed step on a database without transactional DDL (MySQL): where it
//! stopped, found by comparing the live catalog with the schema model at each of its statements
//! (`migrate_core::step_progress`), and the two ways out that need no hand edits: finish it
//! (`resolve --continue`) or take back what took effect (`resolve --undo`).

use anyhow::{anyhow, bail};
use migrate_core::ops::Op;
use migrate_core::schema::Schema;
use migrate_core::sql::version_table::{self, VersionTables};
use migrate_core::sql::{render_step, Statement, StepScript};
use migrate_core::step_progress::{self, Diagnosis, Progress, StepStates};

use crate::db::{Database, Incomplete};
use crate::project::Project;
use crate::runner::{self, Guests};
use crate::wasm::{Direction, GuestRuntime};

/// An unfinished step, rendered again exactly as it ran, and what the catalog says of it.
pub struct Recovery {
    pub revision: String,
    pub direction: Direction,
    /// The step's script from the heads the database is still at, bookkeeping included.
    pub script: StepScript,
    pub states: StepStates,
    pub diagnosis: Diagnosis,
    /// The heads once the step is recorded as done.
    pub heads_after: Vec<String>,
}

/// Renders the step `mark` stands for and diagnoses it against the live catalog.
pub async fn diagnose(
    project: &Project,
    runtime: GuestRuntime,
    db: &mut Database,
    mark: &Incomplete,
) -> anyhow::Result<Recovery> {
    let id = mark.revision.clone();
    let direction = match mark.direction.as_str() {
        "downgrade" => Direction::Downgrade,
        _ => Direction::Upgrade,
    };
    let meta = project.graph.get(&id).ok_or_else(|| {
        anyhow!(
            "revision {id} is not among the revisions in {}",
            project.root.display()
        )
    })?;
    let dialect = db.dialect();
    let tables: VersionTables = db.tables().clone();
    let mut guests = Guests::new(project, runtime);
    guests.set_target(db.target().await?);
    if guests.capabilities_of(&id)?.data {
        bail!(
            "{} reads rows, and what it wrote depended on the rows it read then: its statements cannot \
             be rendered again to compare or finish",
            guests.label(&id)
        );
    }
    let current = db.heads().await?;
    let (mut before, _) = runner::replay(&mut guests, &current)?;
    before.database_names = db.constraint_names().await?;
    let ops = guests.ops_at(&id, direction, &before)?;
    let sum = guests.checksum_at(&id, direction, &ops, &before)?;
    let books = runner::bookkeeping_from(
        &project.graph,
        dialect,
        &tables,
        &current,
        &id,
        direction,
        &sum,
        &meta.message,
    );
    let script = runner::step_script(
        &guests,
        &tables,
        &mut before.clone(),
        &ops,
        books.statements,
        &id,
        direction,
    )?;
    let states = StepStates::new(&before, &ops, &script);
    let live = db.introspect().await?;
    let progress = match (&mark.failed_statement, mark.statements_done) {
        // A statement that failed did not take effect; those before it did. Not one of the
        // body's: the bookkeeping after all of them failed.
        (Some(failed), _) => Progress::FailedAt(
            script
                .body
                .iter()
                .position(|s| &s.sql == failed)
                .unwrap_or(script.body.len()),
        ),
        (None, Some(done)) => Progress::Counted(done),
        (None, None) => Progress::Unknown,
    };
    let diagnosis = step_progress::diagnose(&states, &script, progress, &live, dialect);
    Ok(Recovery {
        revision: id,
        direction,
        script,
        states,
        diagnosis,
        heads_after: books.heads_after,
    })
}

impl Recovery {
    /// "Statements 1-2 of 4 took effect; 3 and 4 did not", with the statements, for people.
    pub fn describe(&self) -> String {
        let body = &self.script.body;
        let total = body.len();
        let list = |range: std::ops::Range<usize>, mark: &str| -> String {
            range
                .map(|i| format!("  {mark} {}. {}\n", i + 1, one_line(&body[i].sql)))
                .collect()
        };
        match &self.diagnosis {
            Diagnosis::Stopped { done } => {
                let mut text = format!(
                    "Diagnosis (the catalog compared with the schema at each statement): {}.\n",
                    stopped_at(*done, total)
                );
                text.push_str(&list(0..*done, "done"));
                text.push_str(&list(*done..total, "todo"));
                text
            }
            Diagnosis::Ambiguous { candidates } => format!(
                "Diagnosis: the catalog looks the same after {} of the {total} statements: the statements \
                 between change nothing the schema model sees (raw SQL), so only you can say which took \
                 effect. Look, then say it with `--done N`.\n{}",
                candidates
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
                list(0..total, "   ")
            ),
            Diagnosis::Unrecognised {
                expected,
                differences,
            } => format!(
                "Diagnosis: the catalog matches the schema before or after none of the step's {total} \
                 statements, so nothing will be changed for you. Closest: after {expected} statement(s), \
                 from which the database differs by:\n{}{}",
                differences
                    .iter()
                    .map(|d| format!("    {d}\n"))
                    .collect::<String>(),
                list(0..total, "   ")
            ),
        }
    }

    /// The statements known to have taken effect, from the diagnosis or from the user.
    pub fn done(&self, told: Option<usize>) -> anyhow::Result<usize> {
        let total = self.script.body.len();
        match (told, &self.diagnosis) {
            (Some(n), _) if n <= total => Ok(n),
            (Some(n), _) => bail!(
                "--done {n}: the {} of {} has {total} statements",
                runner::recorded(self.direction).as_str(),
                self.revision
            ),
            (None, Diagnosis::Stopped { done }) => Ok(*done),
            (None, _) => bail!(
                "the diagnosis is not certain, so nothing was changed:\n{}",
                self.describe()
            ),
        }
    }

    /// Runs the statements after the first `done`, then records the step: it is done.
    pub async fn finish(&self, db: &mut Database, done: usize) -> anyhow::Result<()> {
        db.resume_script(&self.script, &self.revision, done)
            .await
            .map_err(|e| {
                anyhow!(
                    "continuing the {} of {} failed; the step stays marked, with the failed statement:\n  {e}",
                    runner::recorded(self.direction).as_str(),
                    self.revision
                )
            })
    }

    /// Takes back the ops complete after the first `done` statements, last first, and records
    /// the step as not run. Each op's inverse is counted on the mark as it goes, so an undo that
    /// is itself interrupted is diagnosed like any step.
    pub async fn undo(
        &self,
        db: &mut Database,
        done: usize,
        accept_loss: bool,
    ) -> anyhow::Result<usize> {
        let undo = step_progress::undo_ops(&self.states, done).map_err(|e| {
            anyhow!(
                "cannot undo {} of the {} of {}: {}. Nothing was changed; `--continue` finishes the step instead",
                e.op,
                runner::recorded(self.direction).as_str(),
                self.revision,
                e.reason
            )
        })?;
        if !undo.losses.is_empty() && !accept_loss {
            bail!(
                "undoing the {} of {} would make again, empty, what it dropped: {}. Nothing was changed: \
                 `--continue` finishes the step instead, or add --accept-loss to undo it anyway",
                runner::recorded(self.direction).as_str(),
                self.revision,
                undo.losses.join(", ")
            );
        }
        let dialect = db.dialect();
        let names = db.constraint_names().await?;
        let mut ran = 0;
        for (op_index, inverse) in undo.inverses {
            // The op's statements run from point `start` to `start + n`; its inverse goes back.
            let at = |ops: usize| {
                self.states
                    .ops_done
                    .iter()
                    .position(|n| *n == Some(ops))
                    .expect("a complete op ends at a known point")
            };
            let (start, end) = (at(op_index), at(op_index + 1));
            let mut model: Schema = self.states.states[end]
                .clone()
                .expect("a complete op ends at a known point");
            model.database_names = names.clone();
            let statements = render_inverse(dialect, &mut model, &inverse).map_err(|e| {
                anyhow!(
                    "cannot undo {}: {e}; the step stays marked",
                    self.states.ops[op_index].describe()
                )
            })?;
            db.run_counted(&self.revision, &statements, start)
                .await
                .map_err(|e| {
                    anyhow!(
                        "undoing {} failed; the step stays marked:\n  {e}",
                        self.states.ops[op_index].describe()
                    )
                })?;
            ran += statements.len();
        }
        let tables = db.tables().clone();
        let clear = version_table::clear_mark(dialect, &tables, &self.revision);
        db.run_bookkeeping(&[clear])
            .await
            .map_err(|e| anyhow!("recording the undo: {e}"))?;
        Ok(ran)
    }
}

fn render_inverse(
    dialect: &'static dyn migrate_core::sql::Dialect,
    model: &mut Schema,
    inverse: &[Op],
) -> anyhow::Result<Vec<Statement>> {
    Ok(render_step(dialect, model, inverse, vec![])
        .map_err(|e| anyhow!("{e}"))?
        .body)
}

/// The ways out of a half-done step, each said for its direction: for a downgrade, "done"
/// means the revision is no longer applied, which is easy to read backwards. `renderable` is
/// false for a step whose statements cannot be rendered again (it read rows): only the hand
/// fixes are offered then.
pub fn ways_out(id: &str, direction: &str, renderable: bool) -> String {
    let (done, not_run) = if direction == "downgrade" {
        (
            format!("the downgrade as done: revision {id} is then NOT applied"),
            format!("the downgrade as not run: revision {id} stays applied"),
        )
    } else {
        (
            format!("the upgrade as done: revision {id} is then applied"),
            format!("the upgrade as not run: revision {id} is not applied"),
        )
    };
    let mut text = String::from("Ways out:\n");
    if renderable {
        text.push_str(&format!(
            "  `migrate resolve {id} --continue` runs the statements that did not take effect, then records {done}\n  \
             `migrate resolve {id} --undo` takes back those that did, then records {not_run}\n"
        ));
    }
    text.push_str(&format!(
        "  `migrate resolve {id} --applied` if you completed the {direction}'s changes by hand: records {done}\n  \
         `migrate resolve {id} --rolled-back` if you undid them by hand: records {not_run}\n"
    ));
    if renderable {
        text.push_str(
            "--continue and --undo follow the diagnosis; where it is not certain, say how many statements took \
             effect with --done N.\n",
        );
    }
    text
}

/// "statements 1-2 of 4 took effect; 3 and 4 did not", and the edge cases said plainly.
pub fn stopped_at(done: usize, total: usize) -> String {
    let list = |from: usize, to: usize| match to - from {
        0 => format!("{from}"),
        1 if from > 1 => format!("{from} and {to}"),
        _ => format!("{from}-{to}"),
    };
    match (done, total) {
        (_, 0) => "the step has no statements".into(),
        (0, 1) => "its one statement did not take effect".into(),
        (0, _) => format!("none of its {total} statements took effect"),
        (1, 1) => "its one statement took effect; only recording it is missing".into(),
        (d, t) if d == t => format!("all {t} statements took effect; only recording it is missing"),
        (d, t) => format!(
            "statement{} {} of {t} took effect; {} did not",
            if d == 1 { "" } else { "s" },
            list(1, d),
            list(d + 1, t)
        ),
    }
}

fn one_line(sql: &str) -> String {
    let flat = migrate_core::text::one_line(sql);
    if flat.chars().count() > 160 {
        format!("{}…", flat.chars().take(160).collect::<String>())
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::stopped_at;

    #[test]
    fn where_a_step_stopped_reads_plainly() {
        assert_eq!(
            stopped_at(2, 4),
            "statements 1-2 of 4 took effect; 3 and 4 did not"
        );
        assert_eq!(
            stopped_at(1, 5),
            "statement 1 of 5 took effect; 2-5 did not"
        );
        assert_eq!(stopped_at(0, 3), "none of its 3 statements took effect");
        assert_eq!(
            stopped_at(3, 3),
            "all 3 statements took effect; only recording it is missing"
        );
        assert_eq!(
            stopped_at(3, 4),
            "statements 1-3 of 4 took effect; 4 did not"
        );
    }
}
