//! Where an interrupted step stopped, on a database whose DDL is not transactional (MySQL).
//!
//! Such a step runs its statements one by one, each committing on its own, and keeps a progress
//! count on its in-progress mark: `done` = the statements known to have taken effect. Before a
//! DDL statement the count is set to the statements before it, so a kill leaves the DDL itself in
//! doubt; a data statement (INSERT, UPDATE, DELETE) commits together with the count after it, so
//! it is never in doubt. What is in doubt is settled by comparing the live catalog with the
//! schema model before and after the statement: the model is exact for every op but raw SQL.

use std::collections::BTreeSet;

use crate::diff::{self, Compare, Rename};
use crate::ops::Op;
use crate::schema::Schema;
use crate::sql::plan::named_ops;
use crate::sql::{Dialect, StepScript};

/// Whether a statement commits together with the progress count that follows it: one or more
/// data statements, which MySQL runs inside a transaction (DDL commits on its own, at once).
pub fn commits_with_progress(sql: &str) -> bool {
    crate::raw_sql::leading_keywords(sql).is_some_and(|words| {
        !words.is_empty()
            && words
                .iter()
                .all(|w| matches!(w.as_str(), "INSERT" | "UPDATE" | "DELETE" | "REPLACE"))
    })
}

/// The model at each point of a step: `states[j]` is the schema once its first `j` body
/// statements have run, `None` where `j` falls inside an op.
pub struct StepStates {
    pub states: Vec<Option<Schema>>,
    /// The step's ops as they were rendered (unnamed constraints named by the convention).
    pub ops: Vec<Op>,
    /// For each of `states`, how many ops are complete there (`None` inside an op).
    pub ops_done: Vec<Option<usize>>,
    /// Every table the step creates, drops, renames or changes: what the catalog is compared on.
    pub tables: BTreeSet<String>,
}

impl StepStates {
    /// The states of the step `script` rendered from `ops` on `before`.
    pub fn new(before: &Schema, ops: &[Op], script: &StepScript) -> StepStates {
        let ops = named_ops(before, ops).into_owned();
        let mut after_ops = vec![before.clone()];
        let mut model = before.clone();
        for op in &ops {
            let _ = model.apply_lenient(op);
            after_ops.push(model.clone());
        }
        let mut ops_done = vec![Some(0)];
        ops_done.extend(script.ops_done_after.iter().copied());
        let states = ops_done
            .iter()
            .map(|n| n.map(|n| after_ops[n].clone()))
            .collect();
        let tables = ops.iter().flat_map(touched_tables).collect();
        StepStates {
            states,
            ops,
            ops_done,
            tables,
        }
    }

    /// How many body statements the step has.
    pub fn statements(&self) -> usize {
        self.states.len() - 1
    }
}

fn touched_tables(op: &Op) -> Vec<String> {
    match op {
        Op::CreateTable(t) => vec![t.name.clone()],
        Op::DropTable { name } => vec![name.clone()],
        Op::RenameTable { old_name, new_name } => vec![old_name.clone(), new_name.clone()],
        other => other
            .altered_table()
            .map(String::from)
            .into_iter()
            .collect(),
    }
}

/// What the catalog says of an interrupted step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diagnosis {
    /// Exactly the first `done` statements took effect.
    Stopped { done: usize },
    /// The catalog is the same at several of these points: the statements between them change
    /// nothing the model sees (raw SQL), so only a person can say.
    Ambiguous { candidates: Vec<usize> },
    /// The catalog matches no point of the step; what differs from the closest expected one.
    Unrecognised {
        expected: usize,
        differences: Vec<String>,
    },
}

/// What the mark says of how far a step got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A mark from before counts were kept.
    Unknown,
    /// The count: these statements took effect; the next may be in flight.
    Counted(usize),
    /// This statement (0-based) failed with an error, so it and those after it did not run.
    FailedAt(usize),
}

/// Diagnoses a step from what its mark says and the live schema, compared as `dialect` stores
/// things. The mark narrows the points; the catalog decides among them, and when it matches
/// none of them (an undo stopped part way, a hand fix) every point is looked at.
pub fn diagnose(
    states: &StepStates,
    script: &StepScript,
    progress: Progress,
    live: &Schema,
    dialect: &'static dyn Dialect,
) -> Diagnosis {
    let total = states.statements();
    let candidates: Vec<usize> = match progress {
        Progress::FailedAt(p) => vec![p.min(total)],
        // The statement after the count commits with its count (or there is none): certain.
        Progress::Counted(p) if p >= total || commits_with_progress(&script.body[p].sql) => {
            vec![p.min(total)]
        }
        Progress::Counted(p) => vec![p, p + 1],
        Progress::Unknown => (0..=total).collect(),
    };
    let live = restricted(live, &states.tables);
    let differences = |j: usize| -> Option<Vec<String>> {
        let model = restricted(states.states[j].as_ref()?, &states.tables);
        let native = Compare {
            native: Some(dialect),
        };
        let found = diff::diff(&model, &live, &[], native).ok()?;
        Some(found.upgrade.iter().map(Op::describe).collect())
    };
    let judged: Vec<(usize, Option<Vec<String>>)> =
        candidates.iter().map(|&j| (j, differences(j))).collect();
    if let Some(found) = matching(&judged) {
        return found;
    }
    // Neither side of the statement in flight: an undo interrupted between ops leaves the
    // database at an earlier point, found by looking at every point.
    if progress != Progress::Unknown {
        let everywhere: Vec<(usize, Option<Vec<String>>)> =
            (0..=total).map(|j| (j, differences(j))).collect();
        if let Some(Diagnosis::Stopped { done }) = matching(&everywhere) {
            return Diagnosis::Stopped { done };
        }
    }
    let (expected, differences) = judged
        .into_iter()
        .filter_map(|(j, d)| Some((j, d?)))
        .min_by_key(|(_, d)| d.len())
        .unwrap_or((candidates[0], vec![]));
    Diagnosis::Unrecognised {
        expected,
        differences,
    }
}

/// The points the catalog matches exactly (no difference on the step's tables), `None` when
/// there is none. A point inside an op cannot be compared, so it may be the one.
fn matching(judged: &[(usize, Option<Vec<String>>)]) -> Option<Diagnosis> {
    let matches: Vec<usize> = judged
        .iter()
        .filter(|(_, d)| d.as_ref().is_some_and(|d| d.is_empty()))
        .map(|(j, _)| *j)
        .collect();
    let unknown = judged.iter().filter(|(_, d)| d.is_none()).map(|(j, _)| *j);
    match matches.as_slice() {
        [] => None,
        [done] if judged.iter().all(|(_, d)| d.is_some()) => {
            Some(Diagnosis::Stopped { done: *done })
        }
        _ => Some(Diagnosis::Ambiguous {
            candidates: matches.iter().copied().chain(unknown).collect(),
        }),
    }
}

fn restricted(schema: &Schema, tables: &BTreeSet<String>) -> Schema {
    Schema::with_tables(
        schema
            .tables
            .iter()
            .filter(|(name, _)| tables.contains(*name))
            .map(|(name, t)| (name.clone(), t.clone()))
            .collect(),
    )
}

/// Why the first statements of a step cannot be undone by `undo_ops`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannotUndo {
    pub op: String,
    pub reason: String,
}

/// How to take a step back from a point: for each complete op, last first, its index and the
/// ops that invert it; and what the inverse cannot bring back.
#[derive(Debug, Clone, PartialEq)]
pub struct Undo {
    pub inverses: Vec<(usize, Vec<Op>)>,
    /// The data a drop took with it, which its inverse makes again empty ("the rows of table
    /// \"x\"").
    pub losses: Vec<String>,
}

/// The ops that take the database from the point where `done` statements ran back to the start
/// of the step: the inverse of each complete op, last first, each found by comparing the model
/// after the op with the model before it (renames kept as renames, so no data is dropped for
/// them). Raw SQL and rows written to a table the step did not create have no inverse; a
/// dropped table or column comes back empty, which `Undo::losses` says.
pub fn undo_ops(states: &StepStates, done: usize) -> Result<Undo, CannotUndo> {
    let Some(complete) = states.ops_done.get(done).copied().flatten() else {
        return Err(CannotUndo {
            op: format!("statement {done}"),
            reason: "it runs inside an op, whose intermediate state the model does not know".into(),
        });
    };
    let mut model_before = vec![states.states[0].clone().expect("the start is known")];
    for op in &states.ops[..complete] {
        let mut next = model_before.last().expect("one model at least").clone();
        let _ = next.apply_lenient(op);
        model_before.push(next);
    }
    let created_by_step = |table: &str| model_before[0].table(table).is_none();
    let mut undo = vec![];
    let mut losses = vec![];
    for i in (0..complete).rev() {
        let op = &states.ops[i];
        match op {
            Op::DropTable { name } if !created_by_step(name) => {
                losses.push(format!("the rows of table {name:?}"))
            }
            Op::DropColumn { table, column } if !created_by_step(table) => {
                losses.push(format!("the values of column {table:?}.{column:?}"))
            }
            _ => {}
        }
        let refuse = |reason: &str| CannotUndo {
            op: op.describe(),
            reason: reason.into(),
        };
        match op {
            Op::Execute { .. } => {
                return Err(refuse(
                    "raw SQL has no inverse the model knows (undo it by hand, then `resolve --rolled-back`)",
                ))
            }
            Op::BulkInsert { table, .. } | Op::UpdateRows { table, .. }
                if !created_by_step(table) =>
            {
                return Err(refuse(
                    "rows written to a table the step did not create cannot be unwritten",
                ))
            }
            _ => {}
        }
        let renames: Vec<Rename> = match op {
            Op::RenameTable { old_name, new_name } => vec![Rename::Table {
                old: new_name.clone(),
                new: old_name.clone(),
            }],
            Op::AlterColumn(change) => match &change.new_name {
                Some(new_name) => vec![Rename::Column {
                    table: change.table.clone(),
                    old: new_name.clone(),
                    new: change.column.clone(),
                }],
                None => vec![],
            },
            _ => vec![],
        };
        let inverse = diff::diff(
            &model_before[i + 1],
            &model_before[i],
            &renames,
            Compare::default(),
        )
        .map_err(|e| refuse(&e))?;
        undo.push((i, inverse.upgrade));
    }
    Ok(Undo {
        inverses: undo,
        losses,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::{mysql::Mysql, render_step};
    use crate::types::*;

    fn column(name: &str, data_type: DataType) -> Column {
        Column::new(name, data_type)
    }

    /// A schema of these tables, each with the given columns.
    fn tables(tables: &[(&str, &[(&str, DataType)])]) -> Schema {
        let mut schema = Schema::default();
        for (name, columns) in tables {
            schema
                .apply(&Op::CreateTable(Table {
                    name: (*name).into(),
                    columns: columns.iter().map(|(c, t)| column(c, t.clone())).collect(),
                    constraints: vec![],
                    comment: None,
                }))
                .unwrap();
        }
        schema
    }

    fn step() -> (Schema, Vec<Op>, StepScript) {
        let before = Schema::default();
        let ops = vec![
            Op::CreateTable(Table {
                name: "member".into(),
                columns: vec![Column {
                    primary_key: true,
                    nullable: false,
                    ..column("id", DataType::Integer)
                }],
                constraints: vec![],
                comment: None,
            }),
            Op::BulkInsert {
                table: "member".into(),
                columns: vec!["id".into()],
                rows: vec![vec![Value::Integer(1)]],
            },
            Op::AddColumn {
                table: "member".into(),
                column: column("email", DataType::Varchar(80)),
            },
        ];
        let script = render_step(&Mysql, &mut before.clone(), &ops, vec![]).unwrap();
        (before, ops, script)
    }

    #[test]
    fn each_statement_has_the_model_after_it() {
        let (before, ops, script) = step();
        let states = StepStates::new(&before, &ops, &script);
        assert_eq!(states.statements(), 3);
        assert_eq!(states.ops_done, vec![Some(0), Some(1), Some(2), Some(3)]);
        let email = |j: usize| {
            states.states[j]
                .as_ref()
                .unwrap()
                .table("member")
                .map(|t| t.table.columns.len())
        };
        assert_eq!(email(0), None);
        assert_eq!(email(1), Some(1));
        assert_eq!(email(3), Some(2));
        assert_eq!(
            states.tables.iter().collect::<Vec<_>>(),
            vec![&"member".to_string()]
        );
    }

    #[test]
    fn the_catalog_settles_a_ddl_statement_in_doubt() {
        let (before, ops, script) = step();
        let states = StepStates::new(&before, &ops, &script);
        let at = |j: usize| states.states[j].clone().unwrap();
        // The ADD COLUMN was in flight (count 2): the catalog says whether it took.
        assert_eq!(
            diagnose(&states, &script, Progress::Counted(2), &at(2), &Mysql),
            Diagnosis::Stopped { done: 2 }
        );
        assert_eq!(
            diagnose(&states, &script, Progress::Counted(2), &at(3), &Mysql),
            Diagnosis::Stopped { done: 3 }
        );
        // The INSERT commits with its count: a count of 1 means it did not run, whatever the
        // catalog (which cannot see rows) says.
        assert_eq!(
            diagnose(&states, &script, Progress::Counted(1), &at(1), &Mysql),
            Diagnosis::Stopped { done: 1 }
        );
        // No count (an older mark): every point is looked at; 1 and 2 look the same.
        assert_eq!(
            diagnose(&states, &script, Progress::Unknown, &at(2), &Mysql),
            Diagnosis::Ambiguous {
                candidates: vec![1, 2]
            }
        );
        // An undo interrupted earlier than the count: found by looking everywhere.
        assert_eq!(
            diagnose(&states, &script, Progress::Counted(2), &at(0), &Mysql),
            Diagnosis::Stopped { done: 0 }
        );
    }

    #[test]
    fn a_catalog_matching_nothing_is_said_with_its_differences() {
        let (before, ops, script) = step();
        let states = StepStates::new(&before, &ops, &script);
        let mut live = states.states[3].clone().unwrap();
        live.apply(&Op::AddColumn {
            table: "member".into(),
            column: column("by_hand", DataType::Text),
        })
        .unwrap();
        match diagnose(&states, &script, Progress::Counted(2), &live, &Mysql) {
            Diagnosis::Unrecognised {
                expected,
                differences,
            } => {
                assert_eq!(expected, 3);
                assert_eq!(
                    differences,
                    vec!["add_column \"member\".\"by_hand\"".to_string()]
                );
            }
            other => panic!("expected unrecognised, got {other:?}"),
        }
    }

    #[test]
    fn undo_inverts_complete_ops_last_first() {
        let (before, ops, script) = step();
        let states = StepStates::new(&before, &ops, &script);
        let undo = undo_ops(&states, 3).unwrap();
        assert!(undo.losses.is_empty());
        let described: Vec<(usize, Vec<String>)> = undo
            .inverses
            .iter()
            .map(|(i, ops)| (*i, ops.iter().map(Op::describe).collect()))
            .collect();
        assert_eq!(
            described,
            vec![
                (2, vec!["drop_column \"member\".\"email\"".to_string()]),
                (1, vec![]),
                (0, vec!["drop_table \"member\"".to_string()]),
            ]
        );
    }

    #[test]
    fn undo_keeps_a_rename_a_rename() {
        let before = tables(&[("a", &[("x", DataType::Integer)])]);
        let ops = vec![Op::RenameTable {
            old_name: "a".into(),
            new_name: "b".into(),
        }];
        let script = render_step(&Mysql, &mut before.clone(), &ops, vec![]).unwrap();
        let states = StepStates::new(&before, &ops, &script);
        let undo = undo_ops(&states, 1).unwrap();
        assert_eq!(
            undo.inverses[0].1,
            vec![Op::RenameTable {
                old_name: "b".into(),
                new_name: "a".into()
            }]
        );
    }

    #[test]
    fn raw_sql_and_rows_in_old_tables_are_not_undone() {
        let before = tables(&[("a", &[("x", DataType::Integer)])]);
        for op in [
            Op::Execute {
                sql: "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET NEW.x = 1".into(),
            },
            Op::BulkInsert {
                table: "a".into(),
                columns: vec!["x".into()],
                rows: vec![vec![Value::Integer(1)]],
            },
        ] {
            let ops = vec![op];
            let script = render_step(&Mysql, &mut before.clone(), &ops, vec![]).unwrap();
            let states = StepStates::new(&before, &ops, &script);
            assert!(undo_ops(&states, 1).is_err());
            assert!(undo_ops(&states, 0).unwrap().inverses.is_empty());
        }
    }

    #[test]
    fn undoing_a_drop_says_what_comes_back_empty() {
        let columns: &[(&str, DataType)] = &[("x", DataType::Integer), ("y", DataType::Text)];
        let before = tables(&[("a", columns), ("b", columns)]);
        let ops = vec![
            Op::DropColumn {
                table: "a".into(),
                column: "y".into(),
            },
            Op::DropTable { name: "b".into() },
        ];
        let script = render_step(&Mysql, &mut before.clone(), &ops, vec![]).unwrap();
        let states = StepStates::new(&before, &ops, &script);
        let undo = undo_ops(&states, 2).unwrap();
        assert_eq!(
            undo.losses,
            vec![
                "the rows of table \"b\"".to_string(),
                "the values of column \"a\".\"y\"".to_string()
            ]
        );
        assert_eq!(undo_ops(&states, 1).unwrap().losses.len(), 1);
    }

    #[test]
    fn data_statements_commit_with_their_count() {
        assert!(commits_with_progress("INSERT INTO a VALUES (1)"));
        assert!(commits_with_progress("UPDATE a SET x = 1; DELETE FROM a"));
        assert!(!commits_with_progress("ALTER TABLE a ADD b INT"));
        assert!(!commits_with_progress(
            "INSERT INTO a VALUES (1); DROP TABLE b"
        ));
    }
}
