//! The tool's own informational lines on stderr (which database, each step as it runs, the
//! outcome), silenced by `-q/--quiet`. Warnings and errors are always printed.

use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);
static COLOUR: AtomicBool = AtomicBool::new(false);

/// When the tool's own lines on stderr are coloured (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColourChoice {
    /// On a terminal, unless NO_COLOR is set (to anything but empty).
    Auto,
    Always,
    Never,
}

pub fn set_colour(choice: ColourChoice) {
    use std::io::IsTerminal;
    let on = match choice {
        ColourChoice::Always => true,
        ColourChoice::Never => false,
        ColourChoice::Auto => {
            std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    COLOUR.store(on, Ordering::Relaxed);
}

fn paint(code: &str, text: &str) -> String {
    if COLOUR.load(Ordering::Relaxed) {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// "error" in bold red, as cargo writes it.
pub fn error_label() -> String {
    paint("1;31", "error")
}

/// "warning" in bold yellow.
pub fn warning_label() -> String {
    paint("1;33", "warning")
}

/// "[3/40] " before a step's line on a terminal, for runs of several steps; nothing elsewhere,
/// so logs and pipes keep plain lines.
pub fn step_counter(done: usize, total: usize) -> String {
    use std::io::IsTerminal;
    if total > 1 && std::io::stderr().is_terminal() {
        paint("2", &format!("[{done}/{total}] "))
    } else {
        String::new()
    }
}

/// A revision id, highlighted.
pub fn revision(id: &str) -> String {
    paint("1;36", id)
}
static VERBOSE: AtomicBool = AtomicBool::new(false);

pub fn set_verbose(verbose: bool) {
    VERBOSE.store(verbose, Ordering::Relaxed);
}

/// `-v/--verbose`: each statement as it runs, and more detail where a command has it.
pub fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// `eprintln!` for informational lines: nothing under `--quiet`.
macro_rules! progress {
    ($($arg:tt)*) => {
        if !$crate::output::quiet() {
            eprintln!($($arg)*);
        }
    };
}
pub(crate) use progress;

/// One step of an `upgrade` or `downgrade`, for `--json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StepReport {
    pub revision: String,
    pub direction: &'static str,
    /// The revision's down revisions (`parents -> revision`, as the log line says).
    pub parents: Vec<String>,
    pub duration_ms: u128,
    /// The statements the step ran; null for a revision that reads rows, whose statements are
    /// made as it reads.
    pub statements: Option<usize>,
}

static STEPS: std::sync::Mutex<Vec<StepReport>> = std::sync::Mutex::new(Vec::new());

/// Notes a step that ran (the runner calls it; `--json` reads them at the end).
pub fn record_step(step: StepReport) {
    if let Ok(mut steps) = STEPS.lock() {
        steps.push(step);
    }
}

/// The steps that ran so far in this process.
pub fn steps_run() -> Vec<StepReport> {
    STEPS.lock().map(|s| s.clone()).unwrap_or_default()
}

/// Prints one JSON document on stdout (the `--json` output of a command).
pub fn json(value: &serde_json::Value) -> anyhow::Result<()> {
    use std::io::Write as _;
    let text = serde_json::to_string_pretty(value)?;
    writeln!(std::io::stdout(), "{text}")?;
    Ok(())
}
