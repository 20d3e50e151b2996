//! One step of a revision that reads rows (imports `data`), online. The guest runs on a thread
//! of its own while this task holds the database: each read the guest asks for arrives here
//! with the ops it recorded since the last one, which run first (so the read sees them); then
//! the read runs and its rows go back. Memory stays bounded however large the table: a batch at
//! a time is read, and the ops between reads are run and dropped. The step is one transaction
//! where DDL is transactional, so a failure anywhere (a statement, a read limit, the guest's own
//! error) rolls all of it back.

use std::sync::Arc;

use anyhow::anyhow;
use migrate_core::ops::Op;
use migrate_core::reads::batch_sql;
use migrate_core::schema::Schema;
use migrate_core::sql::{render_step_within, Dialect, Statement};

use crate::db::Database;
use crate::runner::{recorded, Guests};
use crate::wasm::clock;
use crate::wasm::context::{
    CatalogView, DataAccess, GuestContext, Read, ReadFailure, ReadRequest, Rows,
};
use crate::wasm::Direction;

/// Runs the step of `id`: the guest, its reads, its statements and `bookkeeping`, then COMMIT.
pub async fn run(
    guests: &mut Guests<'_>,
    db: &mut Database,
    schema: &mut Schema,
    id: &str,
    direction: Direction,
    bookkeeping: Vec<Statement>,
) -> anyhow::Result<()> {
    let label = guests.label(id);
    let function = direction.function();
    let loaded = guests.load(id)?;
    let capabilities = loaded.capabilities;
    guests
        .runtime()
        .sandbox()
        .check(id, &capabilities)
        .map_err(|e| anyhow!("{label}: {e:#}"))?;
    let dialect = guests.target().dialect();
    let max_sql_bytes = guests.runtime().limits().sql_bytes();
    let (sender, mut requests) = tokio::sync::mpsc::channel::<ReadRequest>(1);
    let context = GuestContext {
        target: guests.target().clone(),
        clock: clock::run_started().to_string(),
        catalog: capabilities.catalog.then(|| CatalogView {
            schema: Arc::new(schema.clone()),
            learned: true,
        }),
        data: DataAccess::Live(sender),
    };
    db.begin_reading_step(id, recorded(direction))
        .await
        .map_err(|e| anyhow!("{label}, {function}: {e}"))?;
    let runtime = guests.runtime().clone();
    let guest = tokio::task::spawn_blocking(move || runtime.run(&loaded, direction, context));
    // The guest's sender goes with its store when it returns, which ends this loop.
    while let Some(request) = requests.recv().await {
        let answer = serve(db, schema, dialect, id, &request, max_sql_bytes).await;
        let _ = request.reply.send(answer);
    }
    let recorded_ops = guest
        .await
        .map_err(|e| anyhow!("{label}: the guest's thread failed: {e}"))?;
    let outcome = match recorded_ops {
        Ok(rest) => finish(db, schema, dialect, id, &rest, bookkeeping, max_sql_bytes).await,
        Err(e) => Err(e),
    };
    let Err(error) = outcome else {
        return Ok(());
    };
    db.abandon_reading_step(id, &format!("{error:#}")).await;
    Err(if dialect.capabilities().transactional_ddl {
        anyhow!(
            "{label}, {function} failed and was rolled back; the database is as it was before this revision.\n  {error:#}"
        )
    } else {
        anyhow!(
            "{label}, {function} failed. This database cannot roll back DDL, so the revision is marked failed; \
             the statements it ran before the failure stay applied.\n  {error:#}\n{}",
            crate::recovery::ways_out(id, recorded(direction).as_str(), false)
        )
    })
}

/// Runs the ops recorded before a read, then the read. A statement that fails stops the run;
/// a read the host or the database refuses is the guest's to handle.
async fn serve(
    db: &mut Database,
    schema: &mut Schema,
    dialect: &dyn Dialect,
    id: &str,
    request: &ReadRequest,
    max_sql_bytes: usize,
) -> Result<Rows, ReadFailure> {
    run_ops(db, schema, dialect, id, &request.flush, max_sql_bytes)
        .await
        .map_err(|e| ReadFailure::Stop(format!("{e:#}")))?;
    let (sql, max_rows) = match &request.read {
        Read::Batch(batch) => {
            let (sql, _) = batch_sql(dialect, schema, batch).map_err(ReadFailure::Refused)?;
            (sql, batch.limit)
        }
        // Checked to be one SELECT when the guest asked (`wasm::data`).
        Read::Query { sql, max_rows } => (sql.clone(), *max_rows),
    };
    db.read(&sql, max_rows, request.rows_left, request.bytes_left)
        .await
        .map_err(ReadFailure::Refused)
}

/// Renders `ops` from the model (advancing it) and runs their statements in the step.
async fn run_ops(
    db: &mut Database,
    schema: &mut Schema,
    dialect: &dyn Dialect,
    id: &str,
    ops: &[Op],
    max_sql_bytes: usize,
) -> anyhow::Result<()> {
    if ops.is_empty() {
        return Ok(());
    }
    let script = render_step_within(dialect, schema, ops, vec![], max_sql_bytes)?;
    // Foreign-key enforcement, where a rebuild needs it off, was switched off for the whole
    // step when it began (`begin_reading_step`); the check runs before COMMIT.
    for statement in &script.body {
        db.run_in_step(statement, id).await?;
    }
    Ok(())
}

/// The ops recorded after the last read, then the bookkeeping and COMMIT.
async fn finish(
    db: &mut Database,
    schema: &mut Schema,
    dialect: &dyn Dialect,
    id: &str,
    rest: &[Op],
    bookkeeping: Vec<Statement>,
    max_sql_bytes: usize,
) -> anyhow::Result<()> {
    run_ops(db, schema, dialect, id, rest, max_sql_bytes).await?;
    db.commit_reading_step(&bookkeeping, id).await?;
    Ok(())
}
