//! `upgrade --fleet` and `downgrade --fleet`: each target is opened, locked and read in
//! parallel; what its steps run is rendered once per (database kind and version, starting
//! heads, steps, objects beyond the model) and shared by every target that starts there.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::anyhow;
use migrate_core::schema::Schema;

use super::report::{Result as Outcome, TargetReport};
use super::targets::FleetTarget;
use crate::cli::Context;
use crate::db::Database;
use crate::project::Project;
use crate::runner::{self, Guests, RenderedStep};
use crate::wasm::target::Target;
use crate::wasm::Direction;

/// How many distinct step plans this process rendered (for `--json`: one per distinct starting
/// point, however many targets start there).
static PLANS_RENDERED: AtomicUsize = AtomicUsize::new(0);

pub fn plans_rendered() -> usize {
    PLANS_RENDERED.load(Ordering::Relaxed)
}

/// What the targets share, behind one lock: recording and rendering are quick next to the
/// databases' work, and done once per distinct starting point.
pub struct Shared<'p> {
    project: &'p Project,
    ctx: &'p Context,
    state: Mutex<State<'p>>,
}

/// The schema model at a set of heads, and the applied revisions' checksums.
type Replayed = (Schema, BTreeMap<String, String>);

#[derive(Default)]
struct State<'p> {
    /// One set of guests per database kind and version (what revisions that ask are told).
    guests: Vec<(Target, Guests<'p>)>,
    /// The model and applied checksums at a set of heads.
    replays: HashMap<(Target, Vec<String>), Arc<Replayed>>,
    /// Rendered steps; `None` when the steps need each database at their turn.
    plans: HashMap<PlanKey, Option<Arc<Vec<RenderedStep>>>>,
}

#[derive(Hash, PartialEq, Eq)]
struct PlanKey {
    target: Target,
    current: Vec<String>,
    steps: Vec<String>,
    upgrade: bool,
    /// The triggers, views and indexes beyond the model a rebuild recreates, as text.
    objects: String,
}

impl<'p> Shared<'p> {
    pub fn new(ctx: &'p Context, project: &'p Project) -> Shared<'p> {
        Shared {
            project,
            ctx,
            state: Mutex::new(State::default()),
        }
    }

    /// Moves one target to `destination` (as `migrate upgrade/downgrade` would on its own).
    pub fn migrate(
        &self,
        runtime: &tokio::runtime::Runtime,
        target_ctx: &Context,
        target: &FleetTarget,
        destination: &str,
        direction: Direction,
        continue_interrupted: bool,
    ) -> TargetReport {
        let started = Instant::now();
        let mut from = None;
        let mut to = None;
        let mut steps = 0;
        let outcome = runtime.block_on(self.migrate_target(
            target_ctx,
            destination,
            direction,
            continue_interrupted,
            (&mut from, &mut to, &mut steps),
        ));
        let report = match outcome {
            Ok(0) => TargetReport::new(target, Outcome::UpToDate, started.elapsed()),
            Ok(_) => {
                TargetReport::new(target, Outcome::Done, started.elapsed()).word(match direction {
                    Direction::Upgrade => "upgraded",
                    Direction::Downgrade => "downgraded",
                })
            }
            Err(e) => TargetReport::failed(target, &e),
        };
        TargetReport {
            steps,
            duration: started.elapsed(),
            ..report.heads(from, to)
        }
    }

    async fn migrate_target(
        &self,
        ctx: &Context,
        destination: &str,
        direction: Direction,
        continue_interrupted: bool,
        (from, to, steps_run): (
            &mut Option<Vec<String>>,
            &mut Option<Vec<String>>,
            &mut usize,
        ),
    ) -> anyhow::Result<usize> {
        let graph = &self.project.graph;
        let mut db = crate::cli::open_for_change_continuing(ctx, continue_interrupted).await?;
        let db_target = db.target().await?;
        let current = db.heads().await?;
        *from = Some(current.clone());
        *to = Some(current.clone());
        let steps = crate::cli::steps_from(self.project, &current, destination, direction)?;
        if steps.is_empty() {
            db.unlock().await?;
            return Ok(0);
        }
        let objects = db.database_objects().await?;
        let recorded = db.recorded_checksums().await?;
        let tables = db.tables().clone();
        let plan = {
            let mut state = self.state.lock().map_err(|_| anyhow!("a job panicked"))?;
            let (schema, checksums) = state.replay(self, &db_target, &current)?;
            let guests = state.guests(self, &db_target)?;
            runner::verify_checksums(guests, &checksums, &recorded)?;
            let schema = runner::with_database_objects(schema, objects);
            let key = PlanKey {
                target: db_target.clone(),
                current: current.clone(),
                steps: steps.clone(),
                upgrade: direction == Direction::Upgrade,
                objects: format!("{:?}", schema.database_objects),
            };
            match state.plans.get(&key) {
                Some(plan) => plan.clone(),
                None => {
                    PLANS_RENDERED.fetch_add(1, Ordering::Relaxed);
                    let guests = state.guests(self, &db_target)?;
                    let rendered = runner::render_steps(
                        guests,
                        &tables,
                        schema.clone(),
                        &current,
                        &steps,
                        direction,
                    )?
                    .map(Arc::new);
                    state.plans.insert(key, rendered.clone());
                    rendered
                }
            }
        };
        let Some(plan) = plan else {
            return self
                .run_needing_database(
                    &mut db,
                    &db_target,
                    &current,
                    &steps,
                    direction,
                    (to, steps_run),
                )
                .await;
        };
        if !ctx.settings.transaction_per_migration {
            let ran = runner::execute_in_one_transaction(&mut db, &plan, direction, graph).await;
            if !matches!(ran, Ok(false)) {
                *to = db.heads().await.ok();
                ran?;
                *steps_run = plan.len();
                db.unlock().await?;
                return Ok(plan.len());
            }
        }
        for step in plan.iter() {
            let meta = graph.get(&step.id).expect("a planned revision exists");
            let ran = runner::execute_step(
                &mut db,
                &step.script,
                &step.id,
                &step.label,
                direction,
                meta,
            )
            .await;
            if let Err(e) = ran {
                *to = db.heads().await.ok();
                return Err(e);
            }
            *steps_run += 1;
        }
        *to = Some(db.heads().await?);
        db.unlock().await?;
        Ok(plan.len())
    }

    /// Steps that need the database at their turn, run as a single `upgrade` would, the
    /// shared guests held meanwhile.
    // The shared guests stay held while this target's steps run (each job has a runtime of
    // its own, so nothing else waits on this thread); other targets wait for them on purpose.
    #[allow(clippy::await_holding_lock)]
    async fn run_needing_database(
        &self,
        db: &mut Database,
        db_target: &Target,
        current: &[String],
        steps: &[String],
        direction: Direction,
        (to, steps_run): (&mut Option<Vec<String>>, &mut usize),
    ) -> anyhow::Result<usize> {
        let objects = db.database_objects().await?;
        let tables = db.tables().clone();
        let mut state = self.state.lock().map_err(|_| anyhow!("a job panicked"))?;
        let (schema, _) = state.replay(self, db_target, current)?;
        let schema = runner::with_database_objects(schema, objects);
        let guests = state.guests(self, db_target)?;
        let ran = runner::run_steps(
            guests,
            &tables,
            schema,
            current,
            steps,
            direction,
            runner::Sink::Execute(db),
        )
        .await;
        drop(state);
        *to = db.heads().await.ok();
        ran?;
        *steps_run = steps.len();
        db.unlock().await?;
        Ok(steps.len())
    }
}

impl<'p> State<'p> {
    fn guests(&mut self, shared: &Shared<'p>, target: &Target) -> anyhow::Result<&mut Guests<'p>> {
        let at = match self.guests.iter().position(|(t, _)| t == target) {
            Some(at) => at,
            None => {
                let mut guests = Guests::new(shared.project, crate::cli::runtime(shared.ctx));
                guests.set_target(target.clone());
                self.guests.push((target.clone(), guests));
                self.guests.len() - 1
            }
        };
        Ok(&mut self.guests[at].1)
    }

    fn replay(
        &mut self,
        shared: &Shared<'p>,
        target: &Target,
        heads: &[String],
    ) -> anyhow::Result<(Schema, BTreeMap<String, String>)> {
        let key = (target.clone(), heads.to_vec());
        if let Some(done) = self.replays.get(&key) {
            return Ok((done.0.clone(), done.1.clone()));
        }
        let replayed = runner::replay(self.guests(shared, target)?, heads)?;
        let result = (replayed.0.clone(), replayed.1.clone());
        self.replays.insert(key, Arc::new(replayed));
        Ok(result)
    }
}
