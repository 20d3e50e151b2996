//! Runs one piece of work per fleet target, `jobs` at a time, and gathers the reports.
//!
//! Each job is an OS thread with its own single-threaded async runtime: a SQLite step runs on a
//! blocking handle (`db::sqlite_direct`), so tasks sharing one thread would take turns, while
//! threads use every core. The work shared between targets (recorded ops, rendered scripts) is
//! behind the caller's own lock.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::report::{Result as Outcome, TargetReport};
use super::targets::FleetTarget;

/// How the fleet is worked through (`--jobs`, `--fail-fast`, `--canary`).
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub jobs: usize,
    /// Stop starting targets after the first failure.
    pub fail_fast: bool,
    /// Work the first K targets first, and stop if any of them fails.
    pub canary: usize,
}

/// The reports of every target, in the targets' order. Targets not started (after a failure
/// with `--fail-fast`, or a failed canary) are reported as skipped.
pub fn run<W>(
    targets: &[FleetTarget],
    options: Options,
    verb: &str,
    shown: bool,
    work: W,
) -> Vec<TargetReport>
where
    W: Fn(&tokio::runtime::Runtime, &FleetTarget) -> TargetReport + Sync,
{
    let progress = Progress::new(targets.len(), verb, shown);
    let canary = options.canary.min(targets.len());
    let mut reports: Vec<Option<TargetReport>> = vec![None; targets.len()];
    let stop = AtomicBool::new(false);
    let batches: Vec<(usize, usize, &str)> = if canary > 0 && canary < targets.len() {
        vec![
            (0, canary, "a canary target failed"),
            (canary, targets.len(), ""),
        ]
    } else {
        vec![(0, targets.len(), "")]
    };
    for (start, end, stop_reason) in batches {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        run_batch(
            &targets[start..end],
            &mut reports[start..end],
            options,
            &stop,
            &progress,
            &work,
        );
        let failed = reports[start..end]
            .iter()
            .flatten()
            .any(|r| r.result.is_failure());
        if failed && !stop_reason.is_empty() {
            progress.say(&format!(
                "{stop_reason}: the other {} target(s) are left as they are",
                targets.len() - end
            ));
            stop.store(true, Ordering::Relaxed);
        }
    }
    progress.finish();
    let skip_reason = if options.fail_fast {
        "skipped: an earlier target failed (--fail-fast)"
    } else {
        "skipped: a canary target failed"
    };
    reports
        .into_iter()
        .zip(targets)
        .map(|(report, target)| {
            report.unwrap_or_else(|| {
                TargetReport::new(target, Outcome::Skipped, Duration::ZERO)
                    .with_error(skip_reason.to_string())
            })
        })
        .collect()
}

fn run_batch<W>(
    targets: &[FleetTarget],
    reports: &mut [Option<TargetReport>],
    options: Options,
    stop: &AtomicBool,
    progress: &Progress,
    work: &W,
) where
    W: Fn(&tokio::runtime::Runtime, &FleetTarget) -> TargetReport + Sync,
{
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, TargetReport)>> = Mutex::new(Vec::with_capacity(targets.len()));
    let jobs = options.jobs.max(1).min(targets.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        progress.say(&format!("cannot start a job's async runtime: {e}"));
                        return;
                    }
                };
                loop {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(target) = targets.get(i) else { break };
                    let started = Instant::now();
                    let mut report = work(&runtime, target);
                    if report.duration.is_zero() {
                        report.duration = started.elapsed();
                    }
                    if report.result.is_failure() {
                        progress.failed(&report);
                        if options.fail_fast {
                            stop.store(true, Ordering::Relaxed);
                        }
                    }
                    progress.done(&report);
                    done.lock()
                        .expect("no job panics holding it")
                        .push((i, report));
                }
            });
        }
    });
    for (i, report) in done.into_inner().expect("the jobs are done") {
        reports[i] = Some(report);
    }
}

/// One line that counts the targets done (a bar on a terminal, nothing in a pipe), and a line
/// per failure as it happens, so a long run shows trouble early.
struct Progress {
    bar: indicatif::ProgressBar,
    failures: AtomicUsize,
}

impl Progress {
    fn new(total: usize, verb: &str, shown: bool) -> Progress {
        let bar = if !shown {
            indicatif::ProgressBar::hidden()
        } else {
            // Hidden by indicatif itself when stderr is not a terminal.
            indicatif::ProgressBar::new(total as u64)
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} targets, {elapsed} {msg}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(verb.to_string());
        Progress {
            bar,
            failures: AtomicUsize::new(0),
        }
    }

    fn done(&self, _report: &TargetReport) {
        self.bar.inc(1);
    }

    fn failed(&self, report: &TargetReport) {
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        self.bar.set_message(format!("({failures} failed)"));
        self.say(&format!(
            "{}: {}: {}",
            crate::output::error_label(),
            report.target,
            // The first line; the table after the run has the whole message.
            report
                .error
                .as_deref()
                .and_then(|e| e.lines().next())
                .unwrap_or("failed")
        ));
    }

    /// A line above the bar (or on its own in a pipe); always shown, as warnings are.
    fn say(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
