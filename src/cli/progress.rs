//! Progress for people: a bar on a terminal, plain `tracing` lines elsewhere.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::run::{Counts, Note, Reporter};

/// A progress bar on stderr.
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// A bar for `total` jobs.
    pub fn new(total: usize) -> Bar {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg} ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        Bar { bar }
    }

    /// Removes the bar, leaving the lines printed above it.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Reporter for Bar {
    fn update(&mut self, c: &Counts) {
        self.bar.set_position((c.done + c.skipped) as u64);
        let unreachable = if c.unreachable > 0 { format!(" · {} unreachable", c.unreachable) } else { String::new() };
        self.bar.set_message(format!(
            "done · {} running{unreachable} · {} queued · {} downloading · {} failed",
            c.running, c.queued, c.downloading, c.failed
        ));
    }

    fn note(&mut self, note: &Note) {
        match note {
            Note::Failed { job, code, message } => self.bar.println(format!("failed  {job}: {code}: {message}")),
            Note::Reconciled { job, decision } => self.bar.println(format!("checked {job}: {decision}")),
            Note::Info { message } => self.bar.println(message),
            Note::Warn { message } => self.bar.println(format!("WARN {message}")),
            Note::Submitted { .. } | Note::Done { .. } => {}
        }
    }
}

/// Plain log lines (CI logs, pipes): one line per notable event, and the counts now and then.
pub struct Lines {
    last: Option<Instant>,
    last_counts: Counts,
}

impl Lines {
    /// A line reporter.
    pub fn new() -> Lines {
        Lines { last: None, last_counts: Counts::default() }
    }
}

impl Reporter for Lines {
    fn update(&mut self, c: &Counts) {
        let due = self.last.is_none_or(|t| t.elapsed() >= Duration::from_secs(10));
        if due && *c != self.last_counts {
            let unreachable =
                if c.unreachable > 0 { format!(", {} unreachable", c.unreachable) } else { String::new() };
            tracing::info!(
                "progress: {}/{} done ({} skipped), {} running{unreachable}, {} queued, {} downloading, {} failed",
                c.done + c.skipped,
                c.total,
                c.skipped,
                c.running,
                c.queued,
                c.downloading,
                c.failed
            );
            self.last = Some(Instant::now());
            self.last_counts = c.clone();
        }
    }

    fn note(&mut self, note: &Note) {
        match note {
            Note::Submitted { job, task_id } => tracing::info!("submitted {job} (task {task_id})"),
            Note::Done { job, path } => tracing::info!("done {job} -> {path}"),
            Note::Failed { job, code, message } => tracing::warn!("failed {job}: {code}: {message}"),
            Note::Reconciled { job, decision } => tracing::info!("checked {job}: {decision}"),
            Note::Info { message } => tracing::info!("{message}"),
            Note::Warn { message } => tracing::warn!("{message}"),
        }
    }
}
