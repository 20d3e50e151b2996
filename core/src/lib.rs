//! The pure core of `migrate`: the ops model, the schema model, the revision graph, target
//! expressions and SQL rendering per dialect. Nothing here does I/O; the host does.

pub mod commute;
pub mod constraint_names;
pub mod diff;
pub mod enums;
pub mod expression;
pub mod graph_drawing;
pub mod model_sql;
pub mod naming;
pub mod ops;
pub mod raw_sql;
pub mod reads;
pub mod revision;
pub mod schema;
pub mod sql;
pub mod step_progress;
pub mod suggest;
pub mod target;
pub mod text;
pub mod types;
