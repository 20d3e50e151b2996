//! The revision graph: which revisions exist, how they chain, and which steps take the database
//! from one set of heads to another. No I/O; every failure is a typed error.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use serde::{Deserialize, Serialize};

/// What a revision says about itself, readable without running its wasm.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionMeta {
    pub id: String,
    /// Empty for a base revision; two or more for a merge.
    #[serde(default)]
    pub down_revisions: Vec<String>,
    pub message: String,
    /// RFC 3339 time of `migrate new`.
    #[serde(default)]
    pub created: String,
    /// Names for the branch this revision starts (Alembic's `branch_labels`): `NAME@head`,
    /// `NAME@base` and `NAME@-1` are targets on it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub branch_labels: Vec<String>,
    /// Revisions of other branches that must be applied first, without merging with them
    /// (Alembic's `depends_on`): they come first on the way up, and this one goes first on
    /// the way down.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("revision id {id:?} is used twice: {first} and {second}")]
    DuplicateId {
        id: String,
        first: String,
        second: String,
    },
    #[error("revision {id} ({origin}) names down revision {missing:?}, which does not exist")]
    MissingDownRevision {
        id: String,
        origin: String,
        missing: String,
    },
    #[error("revision {id} ({origin}) names down revision {twice:?} twice")]
    RepeatedDownRevision {
        id: String,
        origin: String,
        twice: String,
    },
    #[error("revision {id} ({origin}) names itself as its down revision")]
    SelfReference { id: String, origin: String },
    #[error("the revisions form a cycle: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
    #[error("there are several heads ({}); name one as the target, use `heads` for all, or merge them", .0.join(", "))]
    MultipleHeads(Vec<String>),
    #[error("there are several bases ({}); name a revision instead of a relative step from base", .0.join(", "))]
    MultipleBases(Vec<String>),
    #[error("no revision matches {0:?}")]
    UnknownRevision(String),
    #[error("{prefix:?} is ambiguous: it starts {}", .candidates.join(", "))]
    AmbiguousPrefix {
        prefix: String,
        candidates: Vec<String>,
    },
    #[error("cannot move {steps} step(s) {direction} from {from}: {reason}")]
    RelativeStep {
        steps: usize,
        direction: &'static str,
        from: String,
        reason: String,
    },
    #[error("there are no revisions")]
    Empty,
    #[error("revision {id} ({origin}) depends on {missing:?}, which does not exist")]
    MissingDependency {
        id: String,
        origin: String,
        missing: String,
    },
    #[error("branch label {label:?} is given to both {first} and {second}")]
    DuplicateLabel {
        label: String,
        first: String,
        second: String,
    },
    #[error("branch label {label:?} of revision {id} is not usable: {reason}")]
    BadLabel {
        label: String,
        id: String,
        reason: String,
    },
    #[error("{what} has several heads ({}); name one of them", .heads.join(", "))]
    BranchHeads { what: String, heads: Vec<String> },
}

/// Where `where` a metadata entry came from, for error messages (a folder or a file).
pub type Origin = String;

/// The revisions and how they chain. Each revision is named inside by its index in
/// `revisions` (sorted by id): the links are lists of numbers, not maps keyed by cloned ids.
/// At a thousand revisions, four maps of cloned ids were a third of `heads` and most of its
/// heap churn (BENCHMARKS.md, session 15).
#[derive(Debug, Clone)]
pub struct Graph {
    /// Every revision, in id order.
    revisions: Vec<RevisionMeta>,
    /// Each revision's `IdKey`, in the same order: what a look-up by id searches first.
    keys: Vec<IdKey>,
    /// Per revision, the revisions that name it as a down revision, in id order.
    children: Adjacency,
    /// Per revision, the revisions that name it in `depends_on`, in id order.
    dependents: Adjacency,
    /// Each branch label and the revision it starts.
    labels: BTreeMap<String, usize>,
    /// Every revision, parents before children; ties broken by creation time then id.
    order: Vec<usize>,
    /// Each revision's place in `order`.
    positions: Vec<usize>,
}

/// A list of revisions per revision, all in one buffer: revision `i`'s list is
/// `items[starts[i]..starts[i + 1]]` (no allocation per revision).
#[derive(Debug, Clone)]
struct Adjacency {
    starts: Vec<usize>,
    items: Vec<usize>,
}

impl Adjacency {
    /// From `(from, to)` pairs over `count` revisions; each list keeps the pairs' order.
    fn new(count: usize, pairs: &[(usize, usize)]) -> Adjacency {
        let mut starts = vec![0; count + 1];
        for &(from, _) in pairs {
            starts[from + 1] += 1;
        }
        for i in 0..count {
            starts[i + 1] += starts[i];
        }
        let mut next = starts.clone();
        let mut items = vec![0; pairs.len()];
        for &(from, to) in pairs {
            items[next[from]] = to;
            next[from] += 1;
        }
        Adjacency { starts, items }
    }

    fn of(&self, i: usize) -> &[usize] {
        &self.items[self.starts[i]..self.starts[i + 1]]
    }
}

impl Graph {
    /// Builds the graph, refusing duplicate ids, dangling down revisions and cycles.
    pub fn new(entries: Vec<(RevisionMeta, Origin)>) -> Result<Graph, GraphError> {
        let (revisions, origins): (Vec<RevisionMeta>, Vec<Origin>) = entries.into_iter().unzip();
        Graph::from_revisions(revisions, |i, _| origins[i].clone())
    }

    /// `new` for revisions given without pairs: `origin_of(i, id)` says where the `i`th given,
    /// revision `id`, came from (a folder or a file), asked only for an error. A thousand revisions are neither moved
    /// into pairs and back nor given a thousand origins no one reads.
    pub fn from_revisions(
        revisions: Vec<RevisionMeta>,
        origin_of: impl Fn(usize, &str) -> Origin,
    ) -> Result<Graph, GraphError> {
        // Sorted by id (stably: of two with one id, the first given stays first), a duplicate
        // lies next to its twin. Folders are named after their ids, so the revisions usually
        // come sorted: checked first, since a sort allocates its scratch space anyway.
        let (revisions, given_at) = if revisions.is_sorted_by(|a, b| a.id <= b.id) {
            (revisions, None)
        } else {
            let mut given_at: Vec<usize> = (0..revisions.len()).collect();
            given_at.sort_by(|&a, &b| revisions[a].id.cmp(&revisions[b].id));
            let mut slots: Vec<Option<RevisionMeta>> = revisions.into_iter().map(Some).collect();
            let sorted = given_at
                .iter()
                .map(|&i| slots[i].take().expect("once"))
                .collect();
            (sorted, Some(given_at))
        };
        let origin = |i: usize| {
            let given = given_at.as_ref().map_or(i, |given_at| given_at[i]);
            origin_of(given, &revisions[i].id)
        };
        if let Some(i) = (1..revisions.len()).find(|&i| revisions[i - 1].id == revisions[i].id) {
            return Err(GraphError::DuplicateId {
                id: revisions[i].id.clone(),
                first: origin(i - 1),
                second: origin(i),
            });
        }
        let keys: Vec<IdKey> = revisions.iter().map(|meta| IdKey::of(&meta.id)).collect();
        let index_of = |id: &str| find_keyed(&keys, &revisions, id);
        let mut parent_child = Vec::with_capacity(revisions.len());
        for (child, meta) in revisions.iter().enumerate() {
            let origin = || origin(child);
            for (i, down) in meta.down_revisions.iter().enumerate() {
                if meta.down_revisions[..i].contains(down) {
                    return Err(GraphError::RepeatedDownRevision {
                        id: meta.id.clone(),
                        origin: origin(),
                        twice: down.clone(),
                    });
                }
                if down == &meta.id {
                    return Err(GraphError::SelfReference {
                        id: meta.id.clone(),
                        origin: origin(),
                    });
                }
                match index_of(down) {
                    // Walked in id order: each revision's children come in id order.
                    Some(parent) => parent_child.push((parent, child)),
                    None => {
                        return Err(GraphError::MissingDownRevision {
                            id: meta.id.clone(),
                            origin: origin(),
                            missing: down.clone(),
                        })
                    }
                }
            }
        }
        let mut dependency_dependent = Vec::new();
        let mut labels: BTreeMap<String, usize> = BTreeMap::new();
        for (dependent, meta) in revisions.iter().enumerate() {
            let origin = || origin(dependent);
            for dependency in &meta.depends_on {
                match index_of(dependency) {
                    // Named twice, it is one dependency.
                    Some(found) if dependency_dependent.contains(&(found, dependent)) => {}
                    Some(found) => dependency_dependent.push((found, dependent)),
                    None => {
                        return Err(GraphError::MissingDependency {
                            id: meta.id.clone(),
                            origin: origin(),
                            missing: dependency.clone(),
                        })
                    }
                }
            }
            for label in &meta.branch_labels {
                let bad = |reason: &str| GraphError::BadLabel {
                    label: label.clone(),
                    id: meta.id.clone(),
                    reason: reason.into(),
                };
                if let Some(reason) = label_problem(label) {
                    return Err(bad(reason));
                }
                if index_of(label).is_some() {
                    return Err(bad("it is also a revision id"));
                }
                if let Some(first) = labels.insert(label.clone(), dependent) {
                    return Err(GraphError::DuplicateLabel {
                        label: label.clone(),
                        first: revisions[first].id.clone(),
                        second: meta.id.clone(),
                    });
                }
            }
        }
        let count = revisions.len();
        let children = Adjacency::new(count, &parent_child);
        let dependents = Adjacency::new(count, &dependency_dependent);
        let order = topological_order(&revisions, &keys, &children, &dependents)?;
        let mut positions = vec![0; count];
        for (position, &i) in order.iter().enumerate() {
            positions[i] = position;
        }
        Ok(Graph {
            revisions,
            keys,
            children,
            dependents,
            labels,
            order,
            positions,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.revisions.is_empty()
    }

    fn index(&self, id: &str) -> Option<usize> {
        find_keyed(&self.keys, &self.revisions, id)
    }

    /// The index of a revision the graph must hold (a down revision of one of its own, or an
    /// id the caller took from it).
    fn index_known(&self, id: &str) -> usize {
        self.index(id)
            .unwrap_or_else(|| panic!("revision {id} is not in the graph"))
    }

    fn id(&self, i: usize) -> &String {
        &self.revisions[i].id
    }

    pub fn get(&self, id: &str) -> Option<&RevisionMeta> {
        self.index(id).map(|i| &self.revisions[i])
    }

    /// Every revision, parents first.
    pub fn in_order(&self) -> impl DoubleEndedIterator<Item = &RevisionMeta> {
        self.order.iter().map(|&i| &self.revisions[i])
    }

    /// The revisions nothing revises, in `order`'s order.
    pub fn heads(&self) -> Vec<String> {
        self.order
            .iter()
            .filter(|&&i| self.children.of(i).is_empty())
            .map(|&i| self.id(i).clone())
            .collect()
    }

    pub fn bases(&self) -> Vec<String> {
        self.in_order()
            .filter(|m| m.down_revisions.is_empty())
            .map(|m| m.id.clone())
            .collect()
    }

    pub fn children(&self, id: &str) -> impl Iterator<Item = &String> {
        let children = self.index(id).map_or(&[][..], |i| self.children.of(i));
        children.iter().map(|&child| self.id(child))
    }

    /// The single head, or `MultipleHeads` listing them.
    pub fn single_head(&self) -> Result<Option<String>, GraphError> {
        let heads = self.heads();
        match heads.len() {
            0 => Ok(None),
            1 => Ok(heads.into_iter().next()),
            _ => Err(GraphError::MultipleHeads(heads)),
        }
    }

    /// A full id or a unique prefix of one.
    pub fn resolve_id(&self, text: &str) -> Result<String, GraphError> {
        if self.index(text).is_some() {
            return Ok(text.to_string());
        }
        // In id order, the ids a prefix starts lie together from where it would be inserted.
        let from = self.revisions.partition_point(|m| m.id.as_str() < text);
        let candidates: Vec<String> = self.revisions[from..]
            .iter()
            .take_while(|m| m.id.starts_with(text))
            .map(|m| m.id.clone())
            .collect();
        match candidates.len() {
            0 => Err(GraphError::UnknownRevision(text.to_string())),
            1 => Ok(candidates.into_iter().next().unwrap()),
            _ => Err(GraphError::AmbiguousPrefix {
                prefix: text.to_string(),
                candidates,
            }),
        }
    }

    /// The revision and all its ancestors.
    pub fn with_ancestors<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a String>,
    ) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&String> = ids.into_iter().collect();
        while let Some(id) = stack.pop() {
            if seen.insert(id.clone()) {
                if let Some(meta) = self.get(id) {
                    stack.extend(meta.down_revisions.iter());
                }
            }
        }
        seen
    }

    /// The maximal elements of an applied set: what the version table stores as heads.
    pub fn heads_of(&self, applied: &BTreeSet<String>) -> Vec<String> {
        let is_applied = |i: usize| applied.contains(self.id(i));
        self.order
            .iter()
            .filter(|&&i| is_applied(i) && !self.children.of(i).iter().any(|&c| is_applied(c)))
            .map(|&i| self.id(i).clone())
            .collect()
    }

    /// The heads once `id` is applied on top of `heads` (its parents applied, none of its
    /// children): its parents stop being heads and it becomes one. O(parents), where
    /// `heads_of` is O(revisions): this runs once per step.
    pub fn heads_after_upgrade(&self, heads: &[String], id: &str) -> Vec<String> {
        let parents = &self.revisions[self.index_known(id)].down_revisions;
        let mut out: Vec<String> = heads
            .iter()
            .filter(|h| !parents.contains(h))
            .cloned()
            .collect();
        out.push(id.to_string());
        self.sorted_by_order(out)
    }

    /// The heads once head `id` is reverted: each parent becomes a head again unless another
    /// applied revision still builds on it.
    pub fn heads_after_downgrade(
        &self,
        heads: &[String],
        id: &str,
        applied_after: &BTreeSet<String>,
    ) -> Vec<String> {
        let mut out: Vec<String> = heads.iter().filter(|h| h.as_str() != id).cloned().collect();
        for parent in &self.revisions[self.index_known(id)].down_revisions {
            let still_built_on = self
                .children(parent)
                .any(|child| applied_after.contains(child));
            if !still_built_on && !out.contains(parent) {
                out.push(parent.clone());
            }
        }
        self.sorted_by_order(out)
    }

    fn sorted_by_order(&self, ids: Vec<String>) -> Vec<String> {
        let mut keyed: Vec<(usize, String)> =
            ids.into_iter().map(|id| (self.position(&id), id)).collect();
        keyed.sort();
        keyed.into_iter().map(|(_, id)| id).collect()
    }

    fn position(&self, id: &str) -> usize {
        self.index(id).map_or(usize::MAX, |i| self.positions[i])
    }

    /// The ids in `order` (or reversed) that `keep` accepts.
    fn ids_in_order(&self, reversed: bool, keep: impl Fn(&String) -> bool) -> Vec<String> {
        let pick = |&i: &usize| Some(self.id(i)).filter(|id| keep(id)).cloned();
        if reversed {
            self.order.iter().rev().filter_map(pick).collect()
        } else {
            self.order.iter().filter_map(pick).collect()
        }
    }

    /// Revisions to upgrade, parents first, to go from `current` heads to include all of `target`
    /// (and what they depend on).
    pub fn upgrade_steps(&self, current: &[String], target: &[String]) -> Vec<String> {
        let applied = self.with_ancestors(current);
        let wanted = self.required(target);
        self.ids_in_order(false, |id| wanted.contains(id) && !applied.contains(id))
    }

    /// Revisions to downgrade, children first, to go from `current` heads back to `target`:
    /// what is applied and built on the targets (their descendants, and what depends on them),
    /// or everything for base. Other branches stay.
    pub fn downgrade_steps(&self, current: &[String], target: &[String]) -> Vec<String> {
        if target.is_empty() {
            return self.removal_steps(current, &self.bases());
        }
        let keep = self.with_ancestors(target);
        let roots: Vec<String> = target
            .iter()
            .flat_map(|t| self.children(t))
            .filter(|id| !keep.contains(*id))
            .cloned()
            .collect();
        self.removal_steps(current, &roots)
    }

    /// Revisions to downgrade, children first, to take away `roots` and all that is built on
    /// them, where applied.
    pub fn removal_steps(&self, current: &[String], roots: &[String]) -> Vec<String> {
        let applied = self.with_ancestors(current);
        let removed = self.descendants_or_self(roots);
        self.ids_in_order(true, |id| applied.contains(id) && removed.contains(id))
    }

    /// `ids`, their ancestors, and everything any of those depend on, transitively: what must
    /// be applied for `ids` to be.
    pub fn required<'a>(&self, ids: impl IntoIterator<Item = &'a String>) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&String> = ids.into_iter().collect();
        while let Some(id) = stack.pop() {
            if seen.insert(id.clone()) {
                if let Some(meta) = self.get(id) {
                    stack.extend(meta.down_revisions.iter().chain(&meta.depends_on));
                }
            }
        }
        seen
    }

    /// `roots` and every revision built on them (children and dependents, transitively).
    pub fn descendants_or_self(&self, roots: &[String]) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<usize> = roots.iter().filter_map(|id| self.index(id)).collect();
        while let Some(i) = stack.pop() {
            if seen.insert(self.id(i).clone()) {
                stack.extend(self.children.of(i));
                stack.extend(self.dependents.of(i));
            }
        }
        seen
    }

    /// The revision a branch label names.
    pub fn label_root(&self, label: &str) -> Option<&String> {
        self.labels.get(label).map(|&i| self.id(i))
    }

    /// A branch label, else a revision id or unique prefix: where a branch target starts.
    pub fn resolve_branch(&self, text: &str) -> Result<String, GraphError> {
        match self.label_root(text) {
            Some(root) => Ok(root.clone()),
            None => self.resolve_id(text),
        }
    }

    /// The branch that starts at `root`: it and its descendants through down revisions (what
    /// depends on it is on another branch).
    pub fn branch_members(&self, root: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<usize> = self.index(root).into_iter().collect();
        while let Some(i) = stack.pop() {
            if seen.insert(self.id(i).clone()) {
                stack.extend(self.children.of(i));
            }
        }
        seen
    }

    /// The one head of the revisions's graph that descends from `root` (or is it).
    pub fn branch_head(&self, root: &str, what: &str) -> Result<String, GraphError> {
        let members = self.branch_members(root);
        let heads: Vec<String> = self
            .heads()
            .into_iter()
            .filter(|h| members.contains(h))
            .collect();
        match heads.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(GraphError::BranchHeads {
                what: what.to_string(),
                heads,
            }),
        }
    }

    /// Of the database's heads, the one on `root`'s branch (descending from it or it); None
    /// when nothing of the branch is applied.
    pub fn applied_head_on(
        &self,
        root: &str,
        current: &[String],
        what: &str,
    ) -> Result<Option<String>, GraphError> {
        let members = self.branch_members(root);
        let on: Vec<String> = current
            .iter()
            .filter(|h| members.contains(*h))
            .cloned()
            .collect();
        match on.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.clone())),
            _ => Err(GraphError::BranchHeads {
                what: format!("{what} (as applied)"),
                heads: on,
            }),
        }
    }

    /// Walks `steps` revisions forward (towards heads) from `from` (None = base), refusing branches.
    pub fn step_forward(
        &self,
        from: Option<&str>,
        steps: usize,
    ) -> Result<Option<String>, GraphError> {
        let mut at: Option<String> = from.map(str::to_string);
        for taken in 0..steps {
            let next: Vec<String> = match &at {
                None => self.bases(),
                Some(id) => self.children(id).cloned().collect(),
            };
            let fail = |reason: String| GraphError::RelativeStep {
                steps,
                direction: "up",
                from: from.unwrap_or("base").to_string(),
                reason,
            };
            match next.len() {
                0 => return Err(fail(format!("only {taken} revision(s) lie ahead"))),
                1 => at = next.into_iter().next(),
                _ => {
                    return Err(fail(format!(
                        "the graph branches after {}",
                        at.as_deref().unwrap_or("base")
                    )))
                }
            }
        }
        Ok(at)
    }

    /// Walks `steps` revisions back (towards base) from `from`; None means base was reached.
    pub fn step_back(&self, from: &str, steps: usize) -> Result<Option<String>, GraphError> {
        let mut at = Some(from.to_string());
        for taken in 0..steps {
            let fail = |reason: String| GraphError::RelativeStep {
                steps,
                direction: "down",
                from: from.to_string(),
                reason,
            };
            let Some(id) = at else {
                return Err(fail(format!("only {taken} revision(s) lie behind")));
            };
            let Some(meta) = self.get(&id) else {
                return Err(GraphError::UnknownRevision(id));
            };
            let downs = &meta.down_revisions;
            match downs.len() {
                0 => at = None,
                1 => at = Some(downs[0].clone()),
                _ => return Err(fail(format!("{id} is a merge; name the revision to go to"))),
            }
        }
        Ok(at)
    }
}

/// An id's first eight bytes as one big-endian number (zero-padded): ids in order have keys in
/// order, equal where the ids share those bytes. A look-up compares numbers, then the few ids
/// whose keys tie (mostly one): comparing ids as text at each step of the search was 0.5M
/// instructions of `heads` at a thousand revisions (BENCHMARKS.md, session 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct IdKey(u64);

impl IdKey {
    fn of(id: &str) -> IdKey {
        let mut bytes = [0u8; 8];
        let len = id.len().min(8);
        bytes[..len].copy_from_slice(&id.as_bytes()[..len]);
        IdKey(u64::from_be_bytes(bytes))
    }
}

/// Where revision `id` is in `revisions` (sorted by id), searching `keys` (their `IdKey`s)
/// first.
fn find_keyed(keys: &[IdKey], revisions: &[RevisionMeta], id: &str) -> Option<usize> {
    let key = IdKey::of(id);
    let start = keys.partition_point(|&k| k < key);
    let ties = keys[start..].partition_point(|&k| k == key);
    let tied = &revisions[start..start + ties];
    let at = tied.binary_search_by(|m| m.id.as_str().cmp(id)).ok()?;
    Some(start + at)
}

fn topological_order(
    revisions: &[RevisionMeta],
    keys: &[IdKey],
    children: &Adjacency,
    dependents: &Adjacency,
) -> Result<Vec<usize>, GraphError> {
    // A revision waits for its down revisions and for what it depends on (each once).
    let mut waiting = vec![0usize; revisions.len()];
    for i in 0..revisions.len() {
        for &next in children.of(i).iter().chain(dependents.of(i)) {
            waiting[next] += 1;
        }
    }
    // Ties on creation time go by index, which is id order. A heap rather than an ordered
    // set: along a chain it holds one revision at a time, and a set allocated a node each time
    // it filled again (session 16).
    let mut ready: BinaryHeap<Reverse<(&str, usize)>> = (0..revisions.len())
        .filter(|&i| waiting[i] == 0)
        .map(|i| Reverse((revisions[i].created.as_str(), i)))
        .collect();
    let mut order = Vec::with_capacity(revisions.len());
    while let Some(Reverse((_, i))) = ready.pop() {
        for &next in children.of(i).iter().chain(dependents.of(i)) {
            waiting[next] -= 1;
            if waiting[next] == 0 {
                ready.push(Reverse((revisions[next].created.as_str(), next)));
            }
        }
        order.push(i);
    }
    if order.len() < revisions.len() {
        let mut placed = vec![false; revisions.len()];
        for &i in &order {
            placed[i] = true;
        }
        return Err(GraphError::Cycle(find_cycle(revisions, keys, &placed)));
    }
    Ok(order)
}

/// Follows down revisions and dependencies among the unplaced ones until one repeats: that
/// loop is the cycle.
fn find_cycle(revisions: &[RevisionMeta], keys: &[IdKey], placed: &[bool]) -> Vec<String> {
    let find = |id: &str| find_keyed(keys, revisions, id);
    let unplaced = |id: &String| find(id).is_some_and(|i| !placed[i]);
    let start = placed
        .iter()
        .position(|&p| !p)
        .expect("some revision is unplaced");
    let mut path: Vec<String> = vec![revisions[start].id.clone()];
    loop {
        let current = path.last().unwrap();
        let meta = &revisions[find(current).expect("a revision")];
        let next = meta
            .down_revisions
            .iter()
            .chain(&meta.depends_on)
            .find(|d| unplaced(d))
            .expect("an unplaced revision waits on an unplaced one")
            .clone();
        if let Some(pos) = path.iter().position(|p| *p == next) {
            let mut cycle = path[pos..].to_vec();
            cycle.push(next);
            return cycle;
        }
        path.push(next);
    }
}

/// Why a branch label cannot be one, if it cannot: it must read as a name in a target.
fn label_problem(label: &str) -> Option<&'static str> {
    if label.is_empty() || label.len() > 64 {
        Some("use 1 to 64 characters")
    } else if !label
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
    {
        Some("use letters, digits, '_', '-' or '.'")
    } else if matches!(label, "head" | "heads" | "base" | "current") {
        Some("it is a word targets use")
    } else {
        None
    }
}

/// Whether `label` can name a branch (see `label_problem`), with the reason when not.
pub fn check_label(label: &str) -> Result<(), String> {
    match label_problem(label) {
        Some(reason) => Err(format!("branch label {label:?}: {reason}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str, downs: &[&str]) -> (RevisionMeta, Origin) {
        (
            RevisionMeta {
                id: id.into(),
                down_revisions: downs.iter().map(|s| s.to_string()).collect(),
                message: format!("rev {id}"),
                ..RevisionMeta::default()
            },
            format!("versions/{id}"),
        )
    }

    /// Heads come in the graph's order (creation time, then id), not in id order.
    #[test]
    fn heads_follow_the_order_not_the_ids() {
        let mut older = meta("zz_older", &["base"]);
        older.0.created = "2024-01-01T00:00:00Z".into();
        let mut newer = meta("aa_newer", &["base"]);
        newer.0.created = "2025-01-01T00:00:00Z".into();
        let g = Graph::new(vec![meta("base", &[]), newer, older]).unwrap();
        assert_eq!(g.heads(), vec!["zz_older", "aa_newer"]);
        assert_eq!(
            g.in_order().map(|m| m.id.as_str()).next_back(),
            Some("aa_newer")
        );
    }

    #[test]
    fn linear_chain_orders_and_plans() {
        let g = Graph::new(vec![meta("c", &["b"]), meta("a", &[]), meta("b", &["a"])]).unwrap();
        assert_eq!(g.heads(), vec!["c"]);
        assert_eq!(g.upgrade_steps(&[], &["c".into()]), vec!["a", "b", "c"]);
        assert_eq!(
            g.upgrade_steps(&["a".into()], &["c".into()]),
            vec!["b", "c"]
        );
        assert_eq!(g.downgrade_steps(&["c".into()], &[]), vec!["c", "b", "a"]);
        assert_eq!(
            g.downgrade_steps(&["c".into()], &["a".into()]),
            vec!["c", "b"]
        );
        assert_eq!(g.step_forward(None, 2).unwrap().as_deref(), Some("b"));
        assert_eq!(g.step_back("c", 3).unwrap(), None);
        assert!(g.step_back("c", 4).is_err());
        assert!(g.step_forward(Some("b"), 2).is_err());
    }

    #[test]
    fn branches_and_merges() {
        let g = Graph::new(vec![meta("a", &[]), meta("b", &["a"]), meta("c", &["a"])]).unwrap();
        assert_eq!(
            g.single_head(),
            Err(GraphError::MultipleHeads(vec!["b".into(), "c".into()]))
        );
        let g = Graph::new(vec![
            meta("a", &[]),
            meta("b", &["a"]),
            meta("c", &["a"]),
            meta("m", &["b", "c"]),
        ])
        .unwrap();
        assert_eq!(g.single_head().unwrap().as_deref(), Some("m"));
        let applied = g.with_ancestors(&["b".to_string()]);
        assert_eq!(g.heads_of(&applied), vec!["b"]);
        assert_eq!(
            g.upgrade_steps(&["b".into()], &["m".into()]),
            vec!["c", "m"]
        );
        assert!(g.step_back("m", 1).is_err());
    }

    #[test]
    fn incremental_heads_match_recomputed_heads() {
        let g = Graph::new(vec![
            meta("a", &[]),
            meta("b", &["a"]),
            meta("c", &["a"]),
            meta("m", &["b", "c"]),
        ])
        .unwrap();
        let mut applied = BTreeSet::new();
        let mut heads: Vec<String> = vec![];
        for id in ["a", "b", "c", "m"] {
            heads = g.heads_after_upgrade(&heads, id);
            applied.insert(id.to_string());
            assert_eq!(heads, g.heads_of(&applied));
        }
        for id in ["m", "c", "b", "a"] {
            applied.remove(id);
            heads = g.heads_after_downgrade(&heads, id, &applied);
            assert_eq!(heads, g.heads_of(&applied));
        }
    }

    fn labelled(id: &str, downs: &[&str], label: &str) -> (RevisionMeta, Origin) {
        let (mut m, origin) = meta(id, downs);
        m.branch_labels = vec![label.into()];
        (m, origin)
    }

    fn depending(id: &str, downs: &[&str], on: &str) -> (RevisionMeta, Origin) {
        let (mut m, origin) = meta(id, downs);
        m.depends_on = vec![on.into()];
        (m, origin)
    }

    /// base a; branch x: x1, x2 on a; branch y: y1 on a, y2 depends on x1.
    fn two_branches() -> Graph {
        Graph::new(vec![
            meta("a", &[]),
            labelled("x1", &["a"], "xs"),
            meta("x2", &["x1"]),
            labelled("y1", &["a"], "ys"),
            depending("y2", &["y1"], "x1"),
        ])
        .unwrap()
    }

    #[test]
    fn a_branch_goes_down_while_the_other_stays() {
        let g = two_branches();
        let all = vec!["x2".to_string(), "y2".to_string()];
        assert_eq!(g.downgrade_steps(&all, &["x1".into()]), vec!["x2"]);
        // y2 depends on x1: taking x1 away takes y2 first.
        assert_eq!(
            g.downgrade_steps(&all, &["a".into()]),
            vec!["y2", "y1", "x2", "x1"]
        );
        assert_eq!(g.removal_steps(&all, &["y1".into()]), vec!["y2", "y1"]);
        assert_eq!(
            g.removal_steps(&all, &["x1".into()]),
            vec!["y2", "x2", "x1"]
        );
    }

    #[test]
    fn dependencies_come_first_on_the_way_up() {
        let g = two_branches();
        assert_eq!(
            g.upgrade_steps(&[], &["y2".into()]),
            vec!["a", "x1", "y1", "y2"]
        );
        let order: Vec<&str> = g.in_order().map(|m| m.id.as_str()).collect();
        let at = |id: &str| order.iter().position(|o| *o == id).unwrap();
        assert!(at("x1") < at("y2"));
    }

    #[test]
    fn labels_name_branches() {
        let g = two_branches();
        assert_eq!(g.resolve_branch("xs").unwrap(), "x1");
        assert_eq!(g.branch_head("x1", "xs").unwrap(), "x2");
        assert!(matches!(
            g.branch_head("a", "a"),
            Err(GraphError::BranchHeads { .. })
        ));
        assert_eq!(
            g.applied_head_on("x1", &["x1".into(), "y1".into()], "xs")
                .unwrap()
                .as_deref(),
            Some("x1")
        );
        assert!(matches!(
            Graph::new(vec![labelled("a", &[], "l"), labelled("b", &["a"], "l")]),
            Err(GraphError::DuplicateLabel { .. })
        ));
        assert!(matches!(
            Graph::new(vec![labelled("a", &[], "head")]),
            Err(GraphError::BadLabel { .. })
        ));
        assert!(matches!(
            Graph::new(vec![depending("a", &[], "zz")]),
            Err(GraphError::MissingDependency { .. })
        ));
        assert!(matches!(
            Graph::new(vec![depending("a", &[], "b"), meta("b", &["a"])]),
            Err(GraphError::Cycle(_))
        ));
    }

    #[test]
    fn revisions_without_order_between_them_go_by_creation_time_then_id() {
        let created = |id: &str, downs: &[&str], at: &str| {
            let (mut meta, origin) = meta(id, downs);
            meta.created = at.into();
            (meta, origin)
        };
        let g = Graph::new(vec![
            created("a", &[], "2026-01-02T00:00:00Z"),
            created("b", &[], "2026-01-01T00:00:00Z"),
            created("d", &["a", "b"], "2026-01-03T00:00:00Z"),
            created("c", &["b"], "2026-01-02T00:00:00Z"),
        ])
        .unwrap();
        let order: Vec<&str> = g.in_order().map(|m| m.id.as_str()).collect();
        assert_eq!(order, ["b", "a", "c", "d"]);
    }

    #[test]
    fn bad_graphs_are_refused_with_typed_errors() {
        assert!(matches!(
            Graph::new(vec![meta("a", &[]), meta("a", &[])]),
            Err(GraphError::DuplicateId { .. })
        ));
        assert!(matches!(
            Graph::new(vec![meta("a", &["zz"])]),
            Err(GraphError::MissingDownRevision { .. })
        ));
        // The error names the folder of the revision at fault, not a neighbour's.
        match Graph::new(vec![meta("b", &[]), meta("c", &["zz"]), meta("a", &[])]) {
            Err(GraphError::MissingDownRevision { id, origin, .. }) => {
                assert_eq!((id.as_str(), origin.as_str()), ("c", "versions/c"));
            }
            other => panic!("expected a missing down revision, got {other:?}"),
        }
        match Graph::new(vec![
            meta("r", &[]),
            meta("a", &["c"]),
            meta("b", &["a"]),
            meta("c", &["b"]),
        ]) {
            Err(GraphError::Cycle(path)) => {
                assert_eq!(path.first(), path.last());
                assert_eq!(path.len(), 4);
            }
            other => panic!("expected a cycle, got {other:?}"),
        }
    }

    #[test]
    fn revisions_given_out_of_order_keep_their_origins() {
        let (revisions, origins): (Vec<_>, Vec<_>) = vec![
            meta("c", &["b"]),
            meta("a", &[]),
            meta("b", &["a"]),
            meta("a", &[]),
        ]
        .into_iter()
        .unzip();
        let mut origins = origins;
        origins[3] = "versions/a-again".into();
        match Graph::from_revisions(revisions.clone(), |i, _| origins[i].clone()) {
            Err(GraphError::DuplicateId { id, first, second }) => {
                assert_eq!((id.as_str(), first.as_str()), ("a", "versions/a"));
                assert_eq!(second, "versions/a-again");
            }
            other => panic!("expected a duplicate id, got {other:?}"),
        }
        let g = Graph::from_revisions(revisions[..3].to_vec(), |i, _| format!("at {i}")).unwrap();
        let ids: Vec<&str> = g.in_order().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(g.children("a").collect::<Vec<_>>(), ["b"]);
        assert_eq!(g.children("zz").count(), 0);
    }

    #[test]
    fn a_dependency_named_twice_is_one_dependency() {
        let (mut c, origin) = depending("c", &[], "a");
        c.depends_on.push("a".into());
        let g = Graph::new(vec![meta("a", &[]), meta("b", &["a"]), (c, origin)]).unwrap();
        let all: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert_eq!(g.upgrade_steps(&[], &all), all);
        assert_eq!(
            g.removal_steps(&["b".into(), "c".into()], &["a".into()]),
            ["c", "b", "a"]
        );
    }

    /// The keyed look-up finds what a plain binary search finds: ids shorter than a key, ids
    /// sharing their first eight bytes (timestamps), non-ASCII ids, and ids that are absent.
    #[test]
    fn a_keyed_look_up_finds_what_a_search_by_text_finds() {
        let mut ids = vec![
            "a",
            "ab",
            "abcdefgh",
            "abcdefgh1",
            "abcdefgh2",
            "abcdefghz",
            "abcdefgi",
            "b",
            "é",
            "éa",
            "20261202_0001",
            "20261202_0002",
            "20261202_0010",
            "20261203",
            "z",
        ];
        ids.sort();
        let revisions: Vec<RevisionMeta> = ids.iter().map(|id| meta(id, &[]).0).collect();
        let keys: Vec<IdKey> = ids.iter().map(|id| IdKey::of(id)).collect();
        let absent = [
            "",
            "aa",
            "abcdefgh0",
            "abcdefgh3",
            "abcdefg",
            "20261202",
            "zz",
            "ê",
        ];
        for id in ids.iter().chain(&absent) {
            let keyed = find_keyed(&keys, &revisions, id);
            let by_text = revisions.binary_search_by(|m| m.id.as_str().cmp(id)).ok();
            assert_eq!(keyed, by_text, "{id:?}");
            assert_eq!(keyed.is_some(), ids.contains(id), "{id:?}");
        }
    }

    #[test]
    fn prefixes_resolve_or_say_why_not() {
        let g = Graph::new(vec![
            meta("abc1", &[]),
            meta("abc2", &["abc1"]),
            meta("bcd", &["abc2"]),
        ])
        .unwrap();
        assert_eq!(g.resolve_id("bc").unwrap(), "bcd");
        assert_eq!(g.resolve_id("abc2").unwrap(), "abc2");
        match g.resolve_id("abc") {
            Err(GraphError::AmbiguousPrefix { candidates, .. }) => {
                assert_eq!(candidates, ["abc1", "abc2"])
            }
            other => panic!("expected an ambiguous prefix, got {other:?}"),
        }
        assert!(matches!(
            g.resolve_id("zz"),
            Err(GraphError::UnknownRevision(_))
        ));
    }
}
