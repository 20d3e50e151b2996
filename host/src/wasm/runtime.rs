//! Loading and running revision components with limits. One `GuestRuntime` (engine + linker)
//! serves a whole command; each guest run gets a fresh `Store`.

use anyhow::anyhow;
use migrate_core::ops::Op;
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, Store};

use super::bindings::{Revision, RevisionPre};
use super::cache::Cache;
use super::context::GuestContext;
use super::recorder::Recorder;
use super::shared_code::SharedCode;
use crate::sandbox::SandboxSettings;

/// Limits applied to every guest run; configurable in the settings' `[limits]` table.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Fuel units per direction run (roughly, wasm instructions). A typical revision uses a few
    /// thousand; the default stops a runaway loop in well under a second.
    pub fuel: u64,
    /// Linear memory a guest may grow to, in MiB.
    pub memory_mib: usize,
    /// Operations one direction may record.
    pub max_ops: usize,
    /// What those operations may weigh together, in MiB (their canonical JSON size): the host
    /// holds, caches and renders them, so a guest's 64 MiB must not become gigabytes of host
    /// memory through many large `execute` strings.
    pub ops_mib: usize,
    /// What one step's rendered SQL may weigh, in MiB.
    pub sql_mib: usize,
    /// Wall-clock time one direction may run, in milliseconds (epoch interruption): a backstop
    /// for what fuel does not count. Time the database spends answering a data migration's
    /// reads is not counted.
    pub timeout_ms: u64,
    /// Rows a data migration may read in one run (`data` interface).
    pub read_rows: u64,
    /// What those rows may weigh together, in MiB.
    pub read_mib: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            fuel: 200_000_000,
            memory_mib: 64,
            max_ops: 100_000,
            ops_mib: 16,
            sql_mib: 64,
            timeout_ms: 10_000,
            read_rows: 10_000_000,
            read_mib: 4096,
        }
    }
}

impl Limits {
    /// `sql_mib` in bytes.
    pub fn sql_bytes(&self) -> usize {
        self.sql_mib.saturating_mul(1024 * 1024)
    }
}

/// How often the engine's epoch advances; a store's deadline is counted in these ticks.
const EPOCH_TICK: std::time::Duration = std::time::Duration::from_millis(20);

/// A background thread advancing the epoch for the life of the process (a CLI run).
fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::spawn(move || {
        while let Some(engine) = weak.upgrade() {
            engine.increment_epoch();
            drop(engine);
            std::thread::sleep(EPOCH_TICK);
        }
    });
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Upgrade,
    Downgrade,
}

impl Direction {
    pub fn function(self) -> &'static str {
        match self {
            Direction::Upgrade => "upgrade()",
            Direction::Downgrade => "downgrade()",
        }
    }
}

/// Which compiler turns components into machine code. Winch, wasmtime's baseline compiler,
/// compiles in a single pass: a revision runs for microseconds, so compile time is nearly all
/// of its cost, and Winch's slower code does not matter. `MIGRATE_WASM_COMPILER=cranelift`
/// chooses the optimising compiler (for comparison in the benchmark).
fn compiler() -> wasmtime::Strategy {
    match std::env::var("MIGRATE_WASM_COMPILER").as_deref() {
        Ok("cranelift") => wasmtime::Strategy::Cranelift,
        _ => wasmtime::Strategy::Winch,
    }
}

/// Cheap to clone: the engine and linker are shared handles.
#[derive(Clone)]
pub struct GuestRuntime {
    /// Started on the first component loaded: a run whose ops are all recorded (a deployment
    /// with `build/ops.json`, a warm cache) needs no engine, and starting one costs its thread,
    /// its memory and its code's pages.
    wasm: std::sync::Arc<std::sync::OnceLock<Result<Wasm, String>>>,
    limits: Limits,
    cache: Cache,
    sandbox: std::sync::Arc<SandboxSettings>,
    naming: std::sync::Arc<migrate_core::naming::NamingConvention>,
}

/// A compiled, link-checked revision component, ready to run any number of times.
pub struct LoadedRevision {
    pre: RevisionPre<Recorder>,
    pub capabilities: Capabilities,
}

/// What a revision can ask for beyond recording typed ops, read from its component's imports
/// before it runs. wit-component imports only the functions a guest calls, so a revision that
/// never calls `op::execute`, say, lacks that import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// `ops.execute`: it can run raw SQL.
    pub execute: bool,
    /// `target`: its ops may differ per database.
    pub target: bool,
    /// `clock`: its ops differ per run.
    pub clock: bool,
    /// `catalog`: its ops may depend on the schema before it.
    pub catalog: bool,
    /// `data`: it reads rows, and its ops depend on them.
    pub data: bool,
}

impl Capabilities {
    /// Whether its ops depend on more than its bytes and target: they are then recorded at
    /// their point in the run, never cached as they ran, and checksummed from a canonical run.
    pub fn contextual(&self) -> bool {
        self.clock || self.catalog || self.data
    }
}

/// Whether the component imports the interface `name` (`"target"`, `"clock"`) at all.
fn imports_interface(
    engine: &Engine,
    component: &wasmtime::component::Component,
    name: &str,
) -> bool {
    let prefix = format!("migrate:schema/{name}");
    component
        .component_type()
        .imports(engine)
        .any(|(import, _)| import.starts_with(&prefix))
}

/// Whether the component's `ops` import includes the `execute` function.
fn imports_execute(engine: &Engine, component: &wasmtime::component::Component) -> bool {
    use wasmtime::component::types::ComponentItem;
    component
        .component_type()
        .imports(engine)
        .any(|(name, import)| {
            name.starts_with("migrate:schema/ops")
                && matches!(&import.ty, ComponentItem::ComponentInstance(ops)
                    if ops.exports(engine).any(|(function, _)| function == "execute"))
        })
}

/// The engine and the linker holding the `revision` world's imports.
struct Wasm {
    engine: Engine,
    linker: Linker<Recorder>,
}

impl Wasm {
    fn start() -> anyhow::Result<Wasm> {
        // Compiling on every core allocates and frees too fast to return each page at once.
        crate::allocator::return_freed_memory_soon();
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.consume_fuel(true);
        config.epoch_interruption(true);
        config.strategy(compiler());
        // What Cranelift still compiles (the component's trampolines and adapters, or
        // everything under MIGRATE_WASM_COMPILER=cranelift) runs for microseconds: compile fast.
        config.cranelift_opt_level(wasmtime::OptLevel::None);
        config.cranelift_regalloc_algorithm(wasmtime::RegallocAlgorithm::SinglePass);
        // Components are compiled one per core by the callers (`record_ahead`, `build`); rayon
        // splitting each one's few dozen functions across the same cores only adds its overhead.
        config.parallel_compilation(false);
        // Trampolines compile once per command, not once per component (`shared_code`).
        config
            .enable_incremental_compilation(std::sync::Arc::new(SharedCode::default()))
            .map_err(|e| anyhow!("cannot share compiled code between components: {e}"))?;
        let engine =
            Engine::new(&config).map_err(|e| anyhow!("cannot start the wasm engine: {e}"))?;
        start_epoch_ticker(&engine);
        let mut linker = Linker::new(&engine);
        // Only the `revision` world's interfaces (ops, diagnostics, and the question-answering
        // target, clock, catalog, data): a component importing anything else (WASI, say) fails
        // to link, so a guest has no way to reach files, network or the wall clock.
        Revision::add_to_linker::<_, HasSelf<Recorder>>(&mut linker, |state| state)
            .map_err(|e| anyhow!("cannot link the ops interface: {e}"))?;
        Ok(Wasm { engine, linker })
    }
}

impl GuestRuntime {
    pub fn new(
        limits: Limits,
        cache: Cache,
        sandbox: SandboxSettings,
        naming: migrate_core::naming::NamingConvention,
    ) -> GuestRuntime {
        GuestRuntime {
            wasm: Default::default(),
            limits,
            cache,
            sandbox: std::sync::Arc::new(sandbox),
            naming: std::sync::Arc::new(naming),
        }
    }

    /// The engine and linker, started by the first caller.
    fn wasm(&self) -> anyhow::Result<&Wasm> {
        self.wasm
            .get_or_init(|| Wasm::start().map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| anyhow!("{e}"))
    }

    pub fn sandbox(&self) -> &SandboxSettings {
        &self.sandbox
    }

    /// The settings' naming convention, which the schema model and the renderers apply.
    pub fn naming(&self) -> &migrate_core::naming::NamingConvention {
        &self.naming
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// Compiles a component (or loads it compiled from the cache) and checks that it is a
    /// `revision` that imports nothing else. `key` is the component's hash (`component_key`).
    pub fn load(&self, key: &str, bytes: &[u8]) -> anyhow::Result<LoadedRevision> {
        let Wasm { engine, linker } = self.wasm()?;
        let component = self
            .cache
            .component(engine, key, bytes)
            .map_err(|e| anyhow!("not a valid component: {e:#}"))?;
        let instance_pre = linker
            .instantiate_pre(&component)
            .map_err(|e| anyhow!("the component needs imports the sandbox does not give (only the migrate ops are available): {e:#}"))?;
        let pre = RevisionPre::new(instance_pre)
            .map_err(|e| anyhow!("the component is not a migrate revision (wrong world): {e:#}"))?;
        let imports = |name| imports_interface(engine, &component, name);
        Ok(LoadedRevision {
            capabilities: Capabilities {
                execute: imports_execute(engine, &component),
                target: imports("target"),
                clock: imports("clock"),
                catalog: imports("catalog"),
                data: imports("data"),
            },
            pre,
        })
    }

    /// Runs one direction and returns the ops it recorded, or why it failed.
    pub fn run(
        &self,
        revision: &LoadedRevision,
        direction: Direction,
        context: GuestContext,
    ) -> anyhow::Result<Vec<Op>> {
        let limits = self.limits;
        let recorder = Recorder::new(&limits, context);
        let mut store = Store::new(&self.wasm()?.engine, recorder);
        store.limiter(|state| state);
        let ticks = |ms: u128| (ms.div_ceil(EPOCH_TICK.as_millis()) as u64).max(1);
        store.set_epoch_deadline(ticks(limits.timeout_ms as u128));
        // At the deadline, the guest's own time is what counts: time spent waiting for the
        // database to answer its reads is taken off, and the deadline moved on by that much.
        let started = std::time::Instant::now();
        let timeout = std::time::Duration::from_millis(limits.timeout_ms);
        store.epoch_deadline_callback(move |store| {
            let own = started.elapsed().saturating_sub(store.data().waited);
            Ok(match timeout.checked_sub(own) {
                Some(left) if !left.is_zero() => {
                    wasmtime::UpdateDeadline::Continue(ticks(left.as_millis()))
                }
                _ => wasmtime::UpdateDeadline::Interrupt,
            })
        });
        store
            .set_fuel(limits.fuel)
            .map_err(|e| anyhow!("setting fuel: {e}"))?;
        let outcome = revision
            .pre
            .instantiate(&mut store)
            .and_then(|instance| match direction {
                Direction::Upgrade => instance.call_upgrade(&mut store),
                Direction::Downgrade => instance.call_downgrade(&mut store),
            });
        let function = direction.function();
        let state = store.data();
        match outcome {
            Ok(Ok(())) => Ok(std::mem::take(&mut store.into_data().ops)),
            Ok(Err(message)) => Err(anyhow!("{function} returned an error: {message}")),
            Err(error) => {
                // A reason the host gave when it stopped the guest (a read limit, a statement
                // that failed) comes first: the trap is only how it stopped.
                if let Some(reason) = &state.stopped {
                    return Err(anyhow!("{function} stopped: {reason}"));
                }
                // Then: running out of memory also panics (the allocator's error handler).
                if state.memory_limit_hit {
                    return Err(anyhow!(
                        "{function} needed more than the {} MiB memory limit ([limits] memory_mib in the settings)",
                        limits.memory_mib
                    ));
                }
                if let Some(message) = &state.panic_message {
                    // The SDK reports "panicked at <file:line:col>:\n<message>", as std does.
                    return Err(match message.strip_prefix("panicked at ") {
                        Some(rest) => anyhow!("{function} panicked at {rest}"),
                        None => anyhow!("{function} panicked: {message}"),
                    });
                }
                if let Some(wasmtime::Trap::Interrupt) = error.downcast_ref::<wasmtime::Trap>() {
                    return Err(anyhow!(
                        "{function} ran longer than {} ms of wall-clock time ([limits] timeout_ms in the settings)",
                        limits.timeout_ms
                    ));
                }
                if let Some(wasmtime::Trap::OutOfFuel) = error.downcast_ref::<wasmtime::Trap>() {
                    return Err(anyhow!(
                        "{function} ran out of fuel after {} units: an endless loop? ([limits] fuel in the settings)",
                        limits.fuel
                    ));
                }
                Err(anyhow!("{function} stopped: {error:#}"))
            }
        }
    }
}
