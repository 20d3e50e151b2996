//! Target expressions: `head`, `heads`, `base`, an id or unique prefix, `+N`, `-N`, `<rev>+N`,
//! `<rev>-N`, and on one branch (named by a branch label or by a revision on it) `<b>@head`,
//! `<b>@base`, `<b>@+N`, `<b>@-N`. A target resolves to the heads the database should have
//! afterwards, or (going down one branch) to the revisions that must go.

use crate::revision::{Graph, GraphError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("target {0:?} is empty")]
    Empty(String),
    #[error("target {text:?}: {reason}")]
    Malformed { text: String, reason: String },
    /// `problem`, not `source`: as a source, anyhow's `{:#}` printed its text twice.
    #[error("target {text:?}: {problem}")]
    Graph { text: String, problem: GraphError },
    #[error("target {text:?} is relative, but the database has several heads ({}); name a revision, or a branch (`BRANCH@-1`)", .heads.join(", "))]
    RelativeFromSeveralHeads { text: String, heads: Vec<String> },
    #[error("target {0:?} takes revisions away: use `migrate downgrade`")]
    OnlyDown(String),
}

/// Where a move should leave the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// These heads: an upgrade applies them and what they need; a downgrade takes away what is
    /// built on them (everything, for none: base), other branches staying.
    Heads(Vec<String>),
    /// These revisions and all built on them taken away (`BRANCH@base`, `BRANCH@-N`).
    Without(Vec<String>),
}

/// Resolves `text` to the heads an upgrade (or stamp) should reach.
pub fn resolve(graph: &Graph, text: &str, current: &[String]) -> Result<Vec<String>, TargetError> {
    match resolve_destination(graph, text, current)? {
        Destination::Heads(heads) => Ok(heads),
        Destination::Without(_) => Err(TargetError::OnlyDown(text.to_string())),
    }
}

/// Resolves `text`, given the heads the database has now.
pub fn resolve_destination(
    graph: &Graph,
    text: &str,
    current: &[String],
) -> Result<Destination, TargetError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(TargetError::Empty(text.to_string()));
    }
    let graph_err = |problem: GraphError| TargetError::Graph {
        text: text.to_string(),
        problem,
    };
    match trimmed {
        "base" => return Ok(Destination::Heads(vec![])),
        "head" => {
            return Ok(Destination::Heads(
                graph
                    .single_head()
                    .map_err(graph_err)?
                    .into_iter()
                    .collect(),
            ))
        }
        "heads" => return Ok(Destination::Heads(graph.heads())),
        _ => {}
    }
    if let Some((branch, place)) = trimmed.split_once('@') {
        return on_branch(graph, text, branch, place, current);
    }
    // `+N` / `-N`, optionally after a revision: split at the last sign that is followed by digits.
    if let Some(pos) = trimmed.rfind(['+', '-']) {
        let (anchor_text, signed) = trimmed.split_at(pos);
        let digits = &signed[1..];
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            let steps: usize = digits.parse().map_err(|_| TargetError::Malformed {
                text: text.to_string(),
                reason: "the step count is too large".into(),
            })?;
            let anchor: Option<String> = if anchor_text.is_empty() {
                match current {
                    [] => None,
                    [one] => Some(one.clone()),
                    several => {
                        return Err(TargetError::RelativeFromSeveralHeads {
                            text: text.to_string(),
                            heads: several.to_vec(),
                        })
                    }
                }
            } else {
                Some(resolve_anchor(graph, anchor_text).map_err(graph_err)?)
            };
            let forward = signed.starts_with('+');
            let landed = if forward {
                graph.step_forward(anchor.as_deref(), steps)
            } else {
                match &anchor {
                    Some(a) => graph.step_back(a, steps),
                    None if steps == 0 => Ok(None),
                    None => Err(GraphError::RelativeStep {
                        steps,
                        direction: "down",
                        from: "base".into(),
                        reason: "nothing lies behind base".into(),
                    }),
                }
            }
            .map_err(graph_err)?;
            return Ok(Destination::Heads(landed.into_iter().collect()));
        }
    }
    Ok(Destination::Heads(vec![
        resolve_anchor(graph, trimmed).map_err(graph_err)?
    ]))
}

/// `BRANCH@head|base|+N|-N`: the branch is a label or a revision on it (its root is the
/// labelled revision, or the named one).
fn on_branch(
    graph: &Graph,
    text: &str,
    branch: &str,
    place: &str,
    current: &[String],
) -> Result<Destination, TargetError> {
    let graph_err = |problem: GraphError| TargetError::Graph {
        text: text.to_string(),
        problem,
    };
    let malformed = |reason: &str| TargetError::Malformed {
        text: text.to_string(),
        reason: reason.into(),
    };
    if branch.is_empty() {
        return Err(malformed("name a branch label or a revision before '@'"));
    }
    let root = graph.resolve_branch(branch).map_err(graph_err)?;
    let what = format!("branch {branch}");
    match place {
        "head" => Ok(Destination::Heads(vec![graph
            .branch_head(&root, &what)
            .map_err(graph_err)?])),
        "base" => Ok(Destination::Without(vec![root])),
        signed if signed.len() > 1 && (signed.starts_with('+') || signed.starts_with('-')) => {
            let steps: usize = signed[1..]
                .parse()
                .map_err(|_| malformed("after '@' comes head, base, +N or -N"))?;
            let applied = graph
                .applied_head_on(&root, current, &what)
                .map_err(graph_err)?;
            if signed.starts_with('-') {
                let Some(from) = applied else {
                    return Err(graph_err(GraphError::RelativeStep {
                        steps,
                        direction: "down",
                        from: branch.to_string(),
                        reason: "nothing of the branch is applied".into(),
                    }));
                };
                // The revisions walked are the ones that go: the last of them and all built on
                // it. The walk stays on the branch.
                let members = graph.branch_members(&root);
                let mut walked = vec![];
                let mut at = Some(from.clone());
                for taken in 0..steps {
                    let Some(id) = at.filter(|id| members.contains(id)) else {
                        return Err(graph_err(GraphError::RelativeStep {
                            steps,
                            direction: "down",
                            from: from.clone(),
                            reason: format!("only {taken} revision(s) of the branch lie behind"),
                        }));
                    };
                    at = graph.step_back(&id, 1).map_err(graph_err)?;
                    walked.push(id);
                }
                Ok(Destination::Without(
                    walked.last().cloned().into_iter().collect(),
                ))
            } else {
                // From the applied head of the branch, or from just before its root.
                let members = graph.branch_members(&root);
                let mut at = applied;
                for taken in 0..steps {
                    let next: Vec<String> = match &at {
                        None => vec![root.clone()],
                        Some(id) => graph
                            .children(id)
                            .filter(|c| members.contains(*c))
                            .cloned()
                            .collect(),
                    };
                    let fail = |reason: String| {
                        graph_err(GraphError::RelativeStep {
                            steps,
                            direction: "up",
                            from: branch.to_string(),
                            reason,
                        })
                    };
                    match next.as_slice() {
                        [] => return Err(fail(format!("only {taken} revision(s) lie ahead"))),
                        [one] => at = Some(one.clone()),
                        several => {
                            return Err(fail(format!(
                                "the branch splits into {}",
                                several.join(", ")
                            )))
                        }
                    }
                }
                Ok(Destination::Heads(at.into_iter().collect()))
            }
        }
        _ => Err(malformed("after '@' comes head, base, +N or -N")),
    }
}

fn resolve_anchor(graph: &Graph, text: &str) -> Result<String, GraphError> {
    match text {
        "head" => graph.single_head()?.ok_or(GraphError::Empty),
        _ => graph.resolve_id(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::revision::RevisionMeta;

    fn chain() -> Graph {
        let metas = [
            ("aaa1", None),
            ("aab2", Some("aaa1")),
            ("bbb3", Some("aab2")),
        ]
        .into_iter()
        .map(|(id, down)| {
            (
                RevisionMeta {
                    id: id.into(),
                    down_revisions: down.into_iter().map(String::from).collect(),
                    ..RevisionMeta::default()
                },
                id.to_string(),
            )
        })
        .collect();
        Graph::new(metas).unwrap()
    }

    #[test]
    fn every_form_resolves() {
        let g = chain();
        let cur = vec!["aab2".to_string()];
        assert_eq!(resolve(&g, "head", &cur).unwrap(), vec!["bbb3"]);
        assert_eq!(resolve(&g, "base", &cur).unwrap(), Vec::<String>::new());
        assert_eq!(resolve(&g, "bb", &cur).unwrap(), vec!["bbb3"]);
        assert_eq!(resolve(&g, "+1", &cur).unwrap(), vec!["bbb3"]);
        assert_eq!(resolve(&g, "-2", &cur).unwrap(), Vec::<String>::new());
        assert_eq!(resolve(&g, "+2", &[]).unwrap(), vec!["aab2"]);
        assert_eq!(resolve(&g, "aaa1+2", &[]).unwrap(), vec!["bbb3"]);
        assert_eq!(resolve(&g, "bbb3-1", &[]).unwrap(), vec!["aab2"]);
        assert_eq!(resolve(&g, "head-1", &[]).unwrap(), vec!["aab2"]);
    }

    /// a; branch x (label xs): x1, x2; branch y: y1 on a.
    fn branched() -> Graph {
        let meta = |id: &str, down: &str, label: Option<&str>| {
            (
                RevisionMeta {
                    id: id.into(),
                    down_revisions: if down.is_empty() {
                        vec![]
                    } else {
                        vec![down.into()]
                    },
                    branch_labels: label.into_iter().map(String::from).collect(),
                    ..RevisionMeta::default()
                },
                id.to_string(),
            )
        };
        Graph::new(vec![
            meta("a", "", None),
            meta("x1", "a", Some("xs")),
            meta("x2", "x1", None),
            meta("y1", "a", None),
        ])
        .unwrap()
    }

    #[test]
    fn branch_targets_resolve() {
        let g = branched();
        let cur = vec!["x2".to_string(), "y1".to_string()];
        let heads = |v: &[&str]| Destination::Heads(v.iter().map(|s| s.to_string()).collect());
        let without = |v: &[&str]| Destination::Without(v.iter().map(|s| s.to_string()).collect());
        assert_eq!(
            resolve_destination(&g, "xs@head", &[]).unwrap(),
            heads(&["x2"])
        );
        assert_eq!(
            resolve_destination(&g, "y1@head", &[]).unwrap(),
            heads(&["y1"])
        );
        assert_eq!(
            resolve_destination(&g, "xs@base", &cur).unwrap(),
            without(&["x1"])
        );
        assert_eq!(
            resolve_destination(&g, "xs@-1", &cur).unwrap(),
            without(&["x2"])
        );
        assert_eq!(
            resolve_destination(&g, "x1@-2", &cur).unwrap(),
            without(&["x1"])
        );
        assert_eq!(
            resolve_destination(&g, "xs@+1", &["a".into()]).unwrap(),
            heads(&["x1"])
        );
        assert_eq!(
            resolve_destination(&g, "xs@+2", &["a".into()]).unwrap(),
            heads(&["x2"])
        );
        assert!(resolve_destination(&g, "xs@-3", &cur).is_err());
        assert!(resolve_destination(&g, "a@head", &cur).is_err());
        assert!(resolve_destination(&g, "xs@sideways", &cur).is_err());
        assert!(resolve_destination(&g, "@head", &cur).is_err());
        assert!(matches!(
            resolve(&g, "xs@base", &cur),
            Err(TargetError::OnlyDown(_))
        ));
    }

    #[test]
    fn bad_targets_say_why() {
        let g = chain();
        assert!(matches!(
            resolve(&g, "aa", &[]),
            Err(TargetError::Graph {
                problem: GraphError::AmbiguousPrefix { .. },
                ..
            })
        ));
        assert!(matches!(
            resolve(&g, "zzz", &[]),
            Err(TargetError::Graph {
                problem: GraphError::UnknownRevision(_),
                ..
            })
        ));
        assert!(resolve(&g, "+4", &[]).is_err());
        assert!(resolve(&g, "-1", &[]).is_err());
        assert!(resolve(&g, "", &[]).is_err());
        assert!(resolve(&g, "+99999999999999999999999", &[]).is_err());
    }
}
