//! The revision graph drawn for people: lanes in the terminal like `git log --graph` (newest
//! first), and Mermaid or Graphviz text for documents.

use crate::revision::{Graph, RevisionMeta};

/// What a revision is in the graph, for its line: head, branch point, merge point, labels.
pub fn markers(graph: &Graph, meta: &RevisionMeta) -> Vec<String> {
    let mut out = vec![];
    // Counted once: each look-up of a revision is a search by its id.
    let children = graph.children(&meta.id).count();
    if children == 0 {
        out.push("head".to_string());
    }
    if children > 1 {
        out.push("branchpoint".to_string());
    }
    if meta.down_revisions.len() > 1 {
        out.push("mergepoint".to_string());
    }
    for label in &meta.branch_labels {
        out.push(format!("branch {label}"));
    }
    for dependency in &meta.depends_on {
        out.push(format!("depends on {dependency}"));
    }
    out
}

/// The graph in lanes, newest first: `*` is a revision, `|` a branch passing by, `/` and `\`
/// where branches part and join. `text` gives each revision's words after its mark.
pub fn ascii(graph: &Graph, text: &dyn Fn(&RevisionMeta) -> String) -> Vec<String> {
    let mut lines = vec![];
    // Each lane waits for the revision it will reach next (a parent of the one above it).
    let mut lanes: Vec<String> = vec![];
    for meta in graph.in_order().rev() {
        // Lanes waiting for this revision join into the leftmost, one at a time.
        loop {
            let waiting: Vec<usize> = (0..lanes.len()).filter(|&i| lanes[i] == meta.id).collect();
            if waiting.len() < 2 {
                break;
            }
            let j = waiting[waiting.len() - 1];
            let k = waiting[waiting.len() - 2];
            lines.extend(join_rows(lanes.len(), k, j));
            lanes.remove(j);
        }
        let col = match lanes.iter().position(|l| *l == meta.id) {
            Some(col) => col,
            None => {
                lanes.push(meta.id.clone());
                lanes.len() - 1
            }
        };
        let mut row = String::new();
        for i in 0..lanes.len() {
            row.push(if i == col { '*' } else { '|' });
            row.push(' ');
        }
        lines.push(format!("{} {}", row.trim_end(), text(meta)));
        match meta.down_revisions.as_slice() {
            [] => {
                // A base: its lane ends, and the lanes to its right close up.
                if col + 1 < lanes.len() {
                    lines.push(shift_left_row(lanes.len(), col, col + 1));
                }
                lanes.remove(col);
            }
            [first, rest @ ..] => {
                lanes[col] = first.clone();
                for (n, parent) in rest.iter().enumerate() {
                    let at = col + 1 + n;
                    lines.push(branch_out_row(lanes.len(), at));
                    lanes.insert(at, parent.clone());
                }
            }
        }
    }
    lines
}

/// A row where the first `keep` lanes go straight on and each lane from `from` on moves one
/// to the left (joining or replacing its left neighbour): lane `i` sits at column `2i`, a
/// move between at `2i - 1`.
fn shift_left_row(lanes: usize, keep: usize, from: usize) -> String {
    let mut row = vec![' '; 2 * lanes];
    for cell in row.iter_mut().step_by(2).take(keep) {
        *cell = '|';
    }
    for i in from.max(1)..lanes {
        row[2 * i - 1] = '/';
    }
    row.into_iter().collect::<String>().trim_end().to_string()
}

/// The rows where lane `j` travels left and joins lane `k`, passing the lanes between (its line
/// runs along each for a row, as `git log --graph` draws it), while the lanes right of `j`
/// close up.
fn join_rows(lanes: usize, k: usize, j: usize) -> Vec<String> {
    let mut rows = vec![];
    for m in (k + 1..=j).rev() {
        let mut row = vec![' '; 2 * lanes];
        for i in 0..j {
            row[2 * i] = '|';
        }
        row[2 * m - 1] = '/';
        for i in j + 1..lanes {
            if m == j {
                row[2 * i - 1] = '/';
            } else {
                row[2 * i - 2] = '|';
            }
        }
        rows.push(row.into_iter().collect::<String>().trim_end().to_string());
    }
    rows
}

/// A row where a new lane opens at `at`, leaving the lane left of it (a merge's further
/// parent), and each lane from `at` on moves one to the right.
fn branch_out_row(lanes: usize, at: usize) -> String {
    let mut row = vec![' '; 2 * lanes + 2];
    for cell in row.iter_mut().step_by(2).take(at) {
        *cell = '|';
    }
    row[2 * at - 1] = '\\';
    for i in at..lanes {
        row[2 * i + 1] = '\\';
    }
    row.into_iter().collect::<String>().trim_end().to_string()
}

/// Mermaid flowchart text, base at the top, each revision a node with its message.
pub fn mermaid(graph: &Graph, applied: &dyn Fn(&str) -> bool) -> String {
    let mut out = String::from("flowchart TD\n");
    for meta in graph.in_order() {
        let marks = markers(graph, meta);
        let mut label = format!("{}: {}", meta.id, meta.message);
        if !marks.is_empty() {
            label.push_str(&format!(" ({})", marks.join(", ")));
        }
        out.push_str(&format!(
            "    {}[\"{}\"]\n",
            node(&meta.id),
            mermaid_text(&label)
        ));
        if applied(&meta.id) {
            out.push_str(&format!("    class {} applied\n", node(&meta.id)));
        }
    }
    for (from, to, depends) in edges(graph) {
        let arrow = if depends { "-. depends on .->" } else { "-->" };
        out.push_str(&format!("    {} {arrow} {}\n", node(from), node(to)));
    }
    out.push_str("    classDef applied fill:#cfc,stroke:#393\n");
    out
}

/// Graphviz dot text, base at the top.
pub fn dot(graph: &Graph, applied: &dyn Fn(&str) -> bool) -> String {
    let mut out = String::from("digraph migrations {\n    node [shape=box];\n");
    for meta in graph.in_order() {
        let marks = markers(graph, meta);
        let mut label = format!("{}\\n{}", dot_text(&meta.id), dot_text(&meta.message));
        if !marks.is_empty() {
            label.push_str(&format!("\\n({})", dot_text(&marks.join(", "))));
        }
        let style = if applied(&meta.id) {
            ", style=filled, fillcolor=\"#ccffcc\""
        } else {
            ""
        };
        out.push_str(&format!(
            "    \"{}\" [label=\"{label}\"{style}];\n",
            dot_text(&meta.id)
        ));
    }
    for (from, to, depends) in edges(graph) {
        let style = if depends {
            " [style=dashed, label=\"depends on\"]"
        } else {
            ""
        };
        out.push_str(&format!(
            "    \"{}\" -> \"{}\"{style};\n",
            dot_text(from),
            dot_text(to)
        ));
    }
    out.push_str("}\n");
    out
}

/// Every edge, parent first: (from, to, whether it is a `depends_on` rather than a down
/// revision), in the graph's order.
fn edges(graph: &Graph) -> Vec<(&str, &str, bool)> {
    let mut out = vec![];
    for meta in graph.in_order() {
        out.extend(
            meta.down_revisions
                .iter()
                .map(|p| (p.as_str(), meta.id.as_str(), false)),
        );
        out.extend(
            meta.depends_on
                .iter()
                .map(|d| (d.as_str(), meta.id.as_str(), true)),
        );
    }
    out
}

/// Ids are letters, digits and underscores: usable as Mermaid node names with a prefix.
fn node(id: &str) -> String {
    format!("r_{id}")
}

fn mermaid_text(text: &str) -> String {
    crate::text::one_line(text).replace('"', "#quot;")
}

fn dot_text(text: &str) -> String {
    crate::text::one_line(text)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_that_move_lanes() {
        assert_eq!(shift_left_row(2, 1, 1), "|/");
        assert_eq!(shift_left_row(3, 1, 1), "|/ /");
        assert_eq!(shift_left_row(3, 2, 2), "| |/");
        assert_eq!(shift_left_row(2, 0, 1), " /");
        assert_eq!(join_rows(2, 0, 1), vec!["|/"]);
        assert_eq!(join_rows(3, 0, 2), vec!["| |/", "|/|"]);
        assert_eq!(join_rows(4, 0, 2), vec!["| |/ /", "|/| |"]);
        assert_eq!(branch_out_row(1, 1), "|\\");
        assert_eq!(branch_out_row(2, 1), "|\\ \\");
        assert_eq!(branch_out_row(2, 2), "| |\\");
    }
}
