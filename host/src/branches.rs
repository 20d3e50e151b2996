//! Whether the graph's heads (or any revisions) can be merged safely: each pair's branches,
//! from where they part, analysed on the schema model (`migrate_core::commute`). Used by
//! `migrate merge` and `migrate check --heads`.

use std::collections::BTreeSet;

use migrate_core::commute::{self, BranchRevision, Report};
use migrate_core::ops::Op;
use migrate_core::schema::Schema;

use crate::runner::{self, Guests};
use crate::wasm::Direction;

/// The analysis of two tips.
pub struct PairReport {
    pub left: String,
    pub right: String,
    pub report: Report,
}

/// Every pair of `tips`, analysed.
pub fn analyse(guests: &mut Guests, tips: &[String]) -> anyhow::Result<Vec<PairReport>> {
    let mut out = vec![];
    for (i, left) in tips.iter().enumerate() {
        for right in &tips[i + 1..] {
            out.push(PairReport {
                left: left.clone(),
                right: right.clone(),
                report: analyse_pair(guests, left, right)?,
            });
        }
    }
    Ok(out)
}

fn analyse_pair(guests: &mut Guests, left: &str, right: &str) -> anyhow::Result<Report> {
    let graph = guests.project.graph.clone();
    let needs_left = graph.required([&left.to_string()]);
    let needs_right = graph.required([&right.to_string()]);
    let shared: BTreeSet<String> = needs_left.intersection(&needs_right).cloned().collect();
    let shared_heads = graph.heads_of(&shared);
    let (base, _) = runner::replay(guests, &shared_heads)?;
    let left_ops = branch_ops(guests, &base, &needs_left, &shared)?;
    let right_ops = branch_ops(guests, &base, &needs_right, &shared)?;
    let (left, right) = (as_branch(&left_ops), as_branch(&right_ops));
    Ok(commute::analyse(&base, &left, &right))
}

fn as_branch(ops: &[(String, Vec<Op>)]) -> Vec<BranchRevision<'_>> {
    ops.iter()
        .map(|(id, ops)| BranchRevision { id, ops })
        .collect()
}

/// The upgrade ops of each revision in `needed` but not in `shared`, in graph order, each
/// recorded against the model as the branch leaves it.
fn branch_ops(
    guests: &mut Guests,
    base: &Schema,
    needed: &BTreeSet<String>,
    shared: &BTreeSet<String>,
) -> anyhow::Result<Vec<(String, Vec<Op>)>> {
    let order: Vec<String> = guests
        .project
        .graph
        .in_order()
        .filter(|m| needed.contains(&m.id) && !shared.contains(&m.id))
        .map(|m| m.id.clone())
        .collect();
    let mut model = base.clone();
    let mut out = vec![];
    for id in order {
        let ops = guests.ops_at(&id, Direction::Upgrade, &model)?;
        for op in &ops {
            let named = model.naming.apply(op, &model).into_owned();
            let _ = model.apply_lenient(&named);
        }
        out.push((id, ops));
    }
    Ok(out)
}

/// The reports as people read them.
pub fn describe(reports: &[PairReport]) -> String {
    let mut text = String::new();
    for pair in reports {
        let report = &pair.report;
        if report.commutes() {
            text.push_str(&format!(
                "{} and {} commute: they touch no object in common that either changes or drops.\n",
                pair.left, pair.right
            ));
        } else {
            text.push_str(&format!("{} and {} CONFLICT:\n", pair.left, pair.right));
            for conflict in &report.conflicts {
                text.push_str(&format!("  {conflict}\n"));
            }
            for problem in &report.order_problems {
                text.push_str(&format!("  {problem}\n"));
            }
        }
        if !report.opaque.is_empty() {
            text.push_str(&format!(
                "  note: {} run raw SQL (op::execute), which this analysis cannot see into\n",
                report.opaque.join(", ")
            ));
        }
    }
    text
}
