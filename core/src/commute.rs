//! Whether two branches of revisions commute: whichever is applied first, the schema ends the
//! same and neither breaks the other. Two checks, both on the schema model: the objects each
//! branch touches (a table, a column, an index or constraint name) must not overlap where one
//! side changes or drops what the other touches, and replaying the branches in both orders
//! must succeed and end in the same schema. Raw SQL (`execute`) cannot be analysed and is said.

use std::collections::BTreeMap;

use crate::ops::Op;
use crate::schema::Schema;
use crate::types::{DataType, TableConstraint};

/// One revision of a branch and the ops its upgrade records.
pub struct BranchRevision<'a> {
    pub id: &'a str,
    pub ops: &'a [Op],
}

/// Something a schema change can touch.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Object {
    Table(String),
    Column(String, String),
    Index(String),
    Constraint(String, String),
    /// An enum type, which every column of it shares.
    Enum(String),
}

impl std::fmt::Display for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Object::Table(t) => write!(f, "table {t:?}"),
            Object::Column(t, c) => write!(f, "column {t:?}.{c:?}"),
            Object::Index(i) => write!(f, "index {i:?}"),
            Object::Constraint(t, c) => write!(f, "constraint {c:?} on {t:?}"),
            Object::Enum(e) => write!(f, "enum {e:?}"),
        }
    }
}

/// How an op touches an object, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Touch {
    /// Relies on it existing as it is (a column an index or a row names).
    Uses,
    /// Makes or changes it.
    Changes,
    /// Drops or renames it away.
    Drops,
}

impl Touch {
    fn verb(self) -> &'static str {
        match self {
            Touch::Uses => "uses",
            Touch::Changes => "changes",
            Touch::Drops => "drops",
        }
    }
}

/// One object both branches touch, at least one of them more than using it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub object: Object,
    /// (revision, how, the op) on each side.
    pub left: (String, Touch, String),
    pub right: (String, Touch, String),
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} {} it ({}), and {} {} it ({})",
            self.object,
            self.left.0,
            self.left.1.verb(),
            self.left.2,
            self.right.0,
            self.right.1.verb(),
            self.right.2
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub conflicts: Vec<Conflict>,
    /// Replaying the branches in one order or the other failed, or ended differently.
    pub order_problems: Vec<String>,
    /// Revisions whose raw SQL could not be analysed.
    pub opaque: Vec<String>,
}

impl Report {
    pub fn commutes(&self) -> bool {
        self.conflicts.is_empty() && self.order_problems.is_empty()
    }
}

/// Analyses two branches that both start from `base`.
pub fn analyse(base: &Schema, left: &[BranchRevision], right: &[BranchRevision]) -> Report {
    let touched_left = touches(left);
    let touched_right = touches(right);
    let mut conflicts = vec![];
    for (object, l) in &touched_left {
        if let Some(r) = touched_right.get(object) {
            if l.1 != Touch::Uses || r.1 != Touch::Uses {
                conflicts.push(Conflict {
                    object: object.clone(),
                    left: l.clone(),
                    right: r.clone(),
                });
            }
        }
    }
    let mut order_problems = vec![];
    let one_way = replay(base, left, right).map(column_order_aside);
    let other_way = replay(base, right, left).map(column_order_aside);
    match (one_way, other_way) {
        (Ok(a), Ok(b)) if a != b => order_problems
            .push("applied in one order or the other, the branches leave different schemas".into()),
        (Ok(_), Ok(_)) => {}
        (Err(e), _) | (_, Err(e)) => order_problems.push(e),
    }
    let opaque = left
        .iter()
        .chain(right)
        .filter(|r| r.ops.iter().any(|op| matches!(op, Op::Execute { .. })))
        .map(|r| r.id.to_string())
        .collect();
    Report {
        conflicts,
        order_problems,
        opaque,
    }
}

/// A schema with each table's columns in name order: two branches adding a column each leave
/// them in either order, which no query by name sees.
fn column_order_aside(mut schema: Schema) -> Schema {
    for table in schema.tables.values_mut() {
        table.table.columns.sort_by(|a, b| a.name.cmp(&b.name));
    }
    schema
}

fn replay(
    base: &Schema,
    first: &[BranchRevision],
    then: &[BranchRevision],
) -> Result<Schema, String> {
    let mut schema = base.clone();
    for revision in first.iter().chain(then) {
        for op in revision.ops {
            let named = schema.naming.apply(op, &schema).into_owned();
            schema.apply(&named).map_err(|e| {
                format!(
                    "applying {} after the other branch fails: {}: {}",
                    revision.id,
                    op.describe(),
                    e.problem
                )
            })?;
        }
    }
    Ok(schema)
}

/// Each object a branch touches, with its strongest touch and the first revision and op that
/// touched it so.
fn touches(branch: &[BranchRevision]) -> BTreeMap<Object, (String, Touch, String)> {
    let mut out: BTreeMap<Object, (String, Touch, String)> = BTreeMap::new();
    for revision in branch {
        for op in revision.ops {
            for (object, touch) in op_touches(op) {
                let entry =
                    out.entry(object)
                        .or_insert((revision.id.to_string(), touch, op.describe()));
                if touch > entry.1 {
                    *entry = (revision.id.to_string(), touch, op.describe());
                }
            }
        }
    }
    out
}

fn op_touches(op: &Op) -> Vec<(Object, Touch)> {
    use Touch::*;
    let mut out = direct_touches(op);
    // A column of an enum relies on the enum's values.
    let types: Vec<&DataType> = match op {
        Op::CreateTable(t) => t.columns.iter().map(|c| &c.data_type).collect(),
        Op::AddColumn { column, .. } => vec![&column.data_type],
        Op::AlterColumn(change) => change.new_type.iter().collect(),
        _ => vec![],
    };
    out.extend(
        types
            .into_iter()
            .filter_map(DataType::as_enum)
            .map(|(name, _)| (Object::Enum(name.to_string()), Uses)),
    );
    out
}

fn direct_touches(op: &Op) -> Vec<(Object, Touch)> {
    use Touch::*;
    let table = |t: &str| Object::Table(t.to_string());
    let column = |t: &str, c: &str| Object::Column(t.to_string(), c.to_string());
    let columns = |t: &str, cs: &[String], how: Touch| -> Vec<(Object, Touch)> {
        cs.iter().map(|c| (column(t, c), how)).collect()
    };
    let constraint = |t: &str, c: &TableConstraint, how: Touch| -> Vec<(Object, Touch)> {
        let mut out = columns(t, c.columns(), Uses);
        if let Some(name) = c.name() {
            out.push((Object::Constraint(t.into(), name.into()), how));
        }
        if let TableConstraint::ForeignKey(fk) = c {
            out.push((table(&fk.referred_table), Uses));
            out.extend(columns(&fk.referred_table, &fk.referred_columns, Uses));
        }
        out
    };
    match op {
        Op::CreateTable(t) => {
            let mut out = vec![(table(&t.name), Changes)];
            out.extend(
                t.columns
                    .iter()
                    .map(|c| (column(&t.name, &c.name), Changes)),
            );
            for c in &t.constraints {
                out.extend(
                    constraint(&t.name, c, Changes)
                        .into_iter()
                        .filter(|(o, _)| !matches!(o, Object::Column(tt, _) if tt == &t.name)),
                );
            }
            out
        }
        Op::DropTable { name } => vec![(table(name), Drops)],
        Op::RenameTable { old_name, new_name } => {
            vec![(table(old_name), Drops), (table(new_name), Changes)]
        }
        Op::AddColumn {
            table: t,
            column: c,
        } => {
            vec![(table(t), Uses), (column(t, &c.name), Changes)]
        }
        Op::DropColumn {
            table: t,
            column: c,
        } => vec![(table(t), Uses), (column(t, c), Drops)],
        Op::AlterColumn(change) => {
            let mut out = vec![(table(&change.table), Uses)];
            match &change.new_name {
                Some(new_name) => {
                    out.push((column(&change.table, &change.column), Drops));
                    out.push((column(&change.table, new_name), Changes));
                }
                None => out.push((column(&change.table, &change.column), Changes)),
            }
            out
        }
        Op::CreateIndex(i) => {
            let mut out = vec![
                (table(&i.table), Uses),
                (Object::Index(i.name.clone()), Changes),
            ];
            out.extend(columns(&i.table, &i.columns, Uses));
            out
        }
        Op::DropIndex { table: t, name } => {
            vec![(table(t), Uses), (Object::Index(name.clone()), Drops)]
        }
        Op::AddConstraint {
            table: t,
            constraint: c,
        } => {
            let mut out = vec![(table(t), Uses)];
            out.extend(constraint(t, c, Changes));
            out
        }
        Op::DropConstraint { table: t, name, .. } => vec![
            (table(t), Uses),
            (Object::Constraint(t.clone(), name.clone()), Drops),
        ],
        // Both rely on the table and these columns as they are.
        Op::DropConstraintOn {
            table: t,
            columns: cs,
            ..
        }
        | Op::BulkInsert {
            table: t,
            columns: cs,
            ..
        } => {
            let mut out = vec![(table(t), Uses)];
            out.extend(columns(t, cs, Uses));
            out
        }
        Op::UpdateRows {
            table: t,
            key,
            columns: cs,
            ..
        } => {
            let mut out = vec![(table(t), Uses)];
            out.extend(columns(t, key, Uses));
            out.extend(columns(t, cs, Changes));
            out
        }
        Op::Execute { .. } => vec![],
        Op::AlterEnum { name, .. } => vec![(Object::Enum(name.clone()), Changes)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::*;

    fn base() -> Schema {
        let mut s = Schema::default();
        s.apply(&Op::CreateTable(Table {
            name: "user".into(),
            columns: vec![
                Column {
                    primary_key: true,
                    nullable: false,
                    ..Column::new("id", DataType::Integer)
                },
                Column::new("name", DataType::Text),
            ],
            constraints: vec![],
            comment: None,
        }))
        .unwrap();
        s
    }

    /// The report for one revision a1 on the left and one b1 on the right.
    fn judge(left: &[Op], right: &[Op]) -> Report {
        analyse(
            &base(),
            &[BranchRevision {
                id: "a1",
                ops: left,
            }],
            &[BranchRevision {
                id: "b1",
                ops: right,
            }],
        )
    }

    fn add(column: &str) -> Op {
        Op::AddColumn {
            table: "user".into(),
            column: Column::new(column, DataType::Text),
        }
    }

    #[test]
    fn different_columns_of_one_table_commute() {
        let left = [add("email")];
        let right = [add("phone")];
        let report = judge(&left, &right);
        assert!(report.commutes(), "{report:?}");
    }

    #[test]
    fn the_same_column_from_both_sides_conflicts_by_name() {
        let left = [add("email")];
        let right = [add("email")];
        let report = judge(&left, &right);
        assert!(!report.commutes());
        assert_eq!(
            report.conflicts[0].to_string(),
            "column \"user\".\"email\": a1 changes it (add_column \"user\".\"email\"), and b1 changes it \
             (add_column \"user\".\"email\")"
        );
        assert!(!report.order_problems.is_empty());
    }

    #[test]
    fn a_drop_on_one_side_and_a_use_on_the_other_conflict() {
        let left = [Op::DropColumn {
            table: "user".into(),
            column: "name".into(),
        }];
        let right = [Op::CreateIndex(Index {
            name: "ix_user_name".into(),
            table: "user".into(),
            columns: vec!["name".into()],
            unique: false,
            ..Index::default()
        })];
        let report = judge(&left, &right);
        assert_eq!(report.conflicts.len(), 1, "{report:?}");
        assert_eq!(
            report.conflicts[0].object,
            Object::Column("user".into(), "name".into())
        );
        assert_eq!(report.conflicts[0].left.1, Touch::Drops);
    }

    #[test]
    fn raw_sql_is_said_not_guessed() {
        let left = [Op::Execute {
            sql: "UPDATE user SET name = 'x'".into(),
        }];
        let right = [add("phone")];
        let report = judge(&left, &right);
        assert!(report.commutes());
        assert_eq!(report.opaque, vec!["a1".to_string()]);
    }
}
