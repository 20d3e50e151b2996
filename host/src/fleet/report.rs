//! What happened on each target of a fleet, as a table (target, from, to, result, time) and as
//! JSON (docs/json.md), and the exit code it adds up to.

use std::time::Duration;

use super::targets::FleetTarget;

/// How one target ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Result {
    /// The command changed the target (upgraded, downgraded, stamped).
    Done,
    /// Already where asked: nothing to do (a rerun resumes here).
    UpToDate,
    /// Read only, and all is well (`current`, `status`, `check`).
    Ok,
    /// Read only, and not as it should be: behind the head, or differing from the model.
    Attention,
    Failed,
    /// Not started: an earlier failure with `--fail-fast`, or a failed canary.
    Skipped,
}

impl Result {
    pub fn is_failure(self) -> bool {
        self == Result::Failed
    }
}

#[derive(Debug, Clone)]
pub struct TargetReport {
    pub target: String,
    /// The heads before (for a read-only command, the heads).
    pub from: Option<Vec<String>>,
    /// The heads after (for `status`, the revisions' heads).
    pub to: Option<Vec<String>>,
    pub result: Result,
    /// The word for the result in the table ("upgraded", "3 pending", "differs").
    pub word: String,
    pub duration: Duration,
    pub steps: usize,
    pub error: Option<String>,
}

impl TargetReport {
    pub fn new(target: &FleetTarget, result: Result, duration: Duration) -> TargetReport {
        TargetReport {
            target: target.name.clone(),
            from: None,
            to: None,
            result,
            word: match result {
                Result::Done => "done",
                Result::UpToDate => "up to date",
                Result::Ok => "ok",
                Result::Attention => "attention",
                Result::Failed => "FAILED",
                Result::Skipped => "skipped",
            }
            .to_string(),
            duration,
            steps: 0,
            error: None,
        }
    }

    pub fn failed(target: &FleetTarget, error: &anyhow::Error) -> TargetReport {
        TargetReport::new(target, Result::Failed, Duration::ZERO).with_error(format!("{error:#}"))
    }

    pub fn with_error(mut self, error: String) -> TargetReport {
        self.error = Some(error);
        self
    }

    pub fn word(mut self, word: impl Into<String>) -> TargetReport {
        self.word = word.into();
        self
    }

    pub fn heads(mut self, from: Option<Vec<String>>, to: Option<Vec<String>>) -> TargetReport {
        self.from = from;
        self.to = to;
        self
    }
}

fn heads_text(heads: &Option<Vec<String>>) -> String {
    match heads {
        None => "-".into(),
        Some(h) if h.is_empty() => "base".into(),
        Some(h) => h.join(","),
    }
}

/// The table, one row per target in the fleet's order, then each failure's full message.
/// Empty titles leave the heads columns out (`check`).
pub fn table(reports: &[TargetReport], from_title: &str, to_title: &str) -> String {
    let with_heads = !from_title.is_empty();
    let row = |cells: [String; 5]| -> Vec<String> {
        let [target, from, to, result, time] = cells;
        if with_heads {
            vec![target, from, to, result, time]
        } else {
            vec![target, result, time]
        }
    };
    let titles = row(["TARGET", from_title, to_title, "RESULT", "TIME"].map(String::from));
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            row([
                r.target.clone(),
                heads_text(&r.from),
                heads_text(&r.to),
                r.word.clone(),
                format!("{} ms", r.duration.as_millis()),
            ])
        })
        .collect();
    let mut widths: Vec<usize> = titles.iter().map(|t| t.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let last = titles.len() - 1;
    let line = |cells: &[String]| {
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            let width = *width;
            if i == last {
                text.push_str(&format!("{cell:>width$}"));
            } else {
                text.push_str(&format!("{cell:<width$}  "));
            }
        }
        text.trim_end().to_string() + "\n"
    };
    let mut text = line(&titles);
    for row in &rows {
        text.push_str(&line(row));
    }
    let failures: Vec<&TargetReport> = reports.iter().filter(|r| r.result.is_failure()).collect();
    if !failures.is_empty() {
        text.push_str("\nFailures:\n");
        for report in failures {
            text.push_str(&format!(
                "  {}:\n    {}\n",
                report.target,
                report
                    .error
                    .as_deref()
                    .unwrap_or("failed")
                    .replace('\n', "\n    ")
            ));
        }
    }
    text
}

/// "200 targets: 150 upgraded, 48 up to date, 1 failed, 1 skipped (12.3 s)".
pub fn summary(reports: &[TargetReport], elapsed: Duration) -> String {
    let mut counts: Vec<(String, usize)> = vec![];
    for report in reports {
        // Per-target details ("3 pending", "differs (2 op(s))") are summed by their kind.
        let word = if report.word.ends_with("pending") {
            "behind".to_string()
        } else if report.word.starts_with("differs") {
            "differ".to_string()
        } else {
            report.word.to_lowercase()
        };
        match counts.iter_mut().find(|(w, _)| *w == word) {
            Some((_, n)) => *n += 1,
            None => counts.push((word, 1)),
        }
    }
    let parts: Vec<String> = counts.iter().map(|(w, n)| format!("{n} {w}")).collect();
    format!(
        "{} target(s): {} ({:.1} s)",
        reports.len(),
        parts.join(", "),
        elapsed.as_secs_f64()
    )
}

pub fn json(command: &str, reports: &[TargetReport], elapsed: Duration) -> serde_json::Value {
    let targets: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            serde_json::json!({
                "target": r.target,
                "from": r.from,
                "to": r.to,
                "result": match r.result {
                    Result::Done => "done",
                    Result::UpToDate => "up_to_date",
                    Result::Ok => "ok",
                    Result::Attention => "attention",
                    Result::Failed => "failed",
                    Result::Skipped => "skipped",
                },
                "detail": r.word,
                "steps": r.steps,
                "duration_ms": r.duration.as_millis(),
                "error": r.error,
            })
        })
        .collect();
    let count = |result: Result| reports.iter().filter(|r| r.result == result).count();
    serde_json::json!({
        "command": command,
        "fleet": true,
        "targets": targets,
        "summary": {
            "targets": reports.len(),
            "done": count(Result::Done),
            "up_to_date": count(Result::UpToDate),
            "ok": count(Result::Ok),
            "attention": count(Result::Attention),
            "failed": count(Result::Failed),
            "skipped": count(Result::Skipped),
        },
        "duration_ms": elapsed.as_millis(),
        "plans_rendered": super::migrate::plans_rendered(),
    })
}

/// 0 when every target did what was asked; 1 when one failed, was skipped, or (read-only
/// commands) needs attention. `check` keeps the meaning its codes have for one database: 2 when
/// a target could not be compared (failed, or skipped), else 1 when one differs.
pub fn exit_code(command: &str, reports: &[TargetReport]) -> std::process::ExitCode {
    let any = |results: &[Result]| reports.iter().any(|r| results.contains(&r.result));
    let not_compared = any(&[Result::Failed, Result::Skipped]);
    if command == "check" && not_compared {
        std::process::ExitCode::from(2)
    } else if not_compared || any(&[Result::Attention]) {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: &str) -> FleetTarget {
        FleetTarget {
            name: name.into(),
            url: name.into(),
        }
    }

    #[test]
    fn the_table_lines_up_and_lists_failures_after_it() {
        let reports = vec![
            TargetReport::new(
                &target("sqlite://a.db"),
                Result::Done,
                Duration::from_millis(12),
            )
            .word("upgraded")
            .heads(Some(vec![]), Some(vec!["r3".into()])),
            TargetReport::new(
                &target("sqlite://long-name.db"),
                Result::Failed,
                Duration::from_millis(3),
            )
            .with_error("r2, upgrade() failed\n  table x exists".into())
            .heads(Some(vec!["r1".into()]), Some(vec!["r1".into()])),
        ];
        assert_eq!(
            table(&reports, "FROM", "TO"),
            "TARGET                 FROM  TO  RESULT     TIME\n\
             sqlite://a.db          base  r3  upgraded  12 ms\n\
             sqlite://long-name.db  r1    r1  FAILED     3 ms\n\
             \n\
             Failures:\n  sqlite://long-name.db:\n    r2, upgrade() failed\n      table x exists\n"
        );
        assert_eq!(
            summary(&reports, Duration::from_millis(1500)),
            "2 target(s): 1 upgraded, 1 failed (1.5 s)"
        );
        assert_eq!(
            exit_code("upgrade", &reports),
            std::process::ExitCode::from(1)
        );
    }

    #[test]
    fn check_says_2_when_a_target_could_not_be_compared_and_1_when_one_differs() {
        let report = |name: &str, result| TargetReport::new(&target(name), result, Duration::ZERO);
        let differs = report("sqlite://a.db", Result::Attention);
        let unreadable = report("sqlite://b.db", Result::Failed);
        let matches = report("sqlite://c.db", Result::Ok);
        let code = |reports: &[TargetReport]| exit_code("check", reports);
        assert_eq!(
            code(std::slice::from_ref(&matches)),
            std::process::ExitCode::SUCCESS
        );
        assert_eq!(
            code(&[matches.clone(), differs.clone()]),
            std::process::ExitCode::from(1)
        );
        assert_eq!(
            code(&[differs, unreadable.clone()]),
            std::process::ExitCode::from(2)
        );
        assert_eq!(
            exit_code("current", &[unreadable]),
            std::process::ExitCode::from(1)
        );
    }
}
