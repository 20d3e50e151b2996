//! The revisions as `current` and `heads` show them: the graph's heads and the metadata of the
//! few revisions shown. Where an index answers for the revisions as they are (`heads_summary`:
//! the metadata index while no revision file changed, a deployment's manifest index), that is
//! all that is read; elsewhere the project is read whole, as every other command reads it.

use std::borrow::Cow;
use std::path::PathBuf;

use migrate_core::revision::RevisionMeta;

use super::Context;
use crate::heads_summary::HeadsSummary;
use crate::project::Project;

pub enum HeadsView {
    Summary(HeadsSummary),
    Project(&'static Project),
}

impl HeadsView {
    pub fn read(ctx: &Context) -> anyhow::Result<HeadsView> {
        match Project::heads_summary(&ctx.migrations_dir) {
            Some(summary) => Ok(HeadsView::Summary(summary)),
            None => Ok(HeadsView::Project(ctx.project_metadata()?)),
        }
    }

    /// The graph's heads, in its order.
    pub fn heads(&self) -> Cow<'_, [String]> {
        match self {
            HeadsView::Summary(summary) => Cow::Borrowed(summary.heads()),
            HeadsView::Project(project) => Cow::Owned(project.graph.heads()),
        }
    }

    /// Revision `id`'s metadata, if there is such a revision.
    pub fn get(&self, id: &str) -> Option<Cow<'_, RevisionMeta>> {
        match self {
            HeadsView::Summary(summary) => summary.get(id).map(Cow::Owned),
            HeadsView::Project(project) => project.graph.get(id).map(Cow::Borrowed),
        }
    }

    /// Revision `id`'s source folder (none in a build-only deployment).
    pub fn source(&self, id: &str) -> Option<PathBuf> {
        match self {
            HeadsView::Summary(summary) => summary.source(id),
            HeadsView::Project(project) => project.sources.get(id),
        }
    }

    /// The whole project, read now if it was not: for what the heads alone do not answer.
    pub fn project(&self, ctx: &Context) -> anyhow::Result<&'static Project> {
        match self {
            HeadsView::Summary(_) => ctx.project_metadata(),
            HeadsView::Project(project) => Ok(project),
        }
    }
}
