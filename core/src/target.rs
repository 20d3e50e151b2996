//! Target expressions: `head`, `heads`, `base`, an id or unique prefix, `+N`, `-N`, `<rev>+N`,
//! `<rev>-N`. A target resolves to the set of heads the database should have afterwards.

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
    #[error("target {text:?} is relative, but the database has several heads ({}); name a revision", .heads.join(", "))]
    RelativeFromSeveralHeads { text: String, heads: Vec<String> },
}

/// Resolves `text` to target heads, given the heads the database has now.
pub fn resolve(graph: &Graph, text: &str, current: &[String]) -> Result<Vec<String>, TargetError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(TargetError::Empty(text.to_string()));
    }
    let graph_err = |problem: GraphError| TargetError::Graph {
        text: text.to_string(),
        problem,
    };
    match trimmed {
        "base" => return Ok(vec![]),
        "head" => {
            return Ok(graph
                .single_head()
                .map_err(graph_err)?
                .into_iter()
                .collect())
        }
        "heads" => return Ok(graph.heads()),
        _ => {}
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
            return Ok(landed.into_iter().collect());
        }
    }
    Ok(vec![resolve_anchor(graph, trimmed).map_err(graph_err)?])
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
                    message: String::new(),
                    created: String::new(),
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
