//! `pixbatch cancel`: cancel the manifest's tasks that are still PENDING on the service.
//! The API cancels only PENDING tasks; a RUNNING one finishes (and is billed) regardless.

use std::path::Path;

use crate::api::{ApiError, Client, RetryPolicy, TaskStatus};
use crate::ledger::{Entry, Event, LedgerError, Opened, Phase, open_locked};
use crate::plan::Job;

/// What `cancel` did.
#[derive(Debug, Default)]
pub struct CancelReport {
    /// Jobs whose task was cancelled.
    pub cancelled: Vec<String>,
    /// Jobs whose task could not be cancelled, with why.
    pub not_cancelled: Vec<(String, String)>,
}

/// Cancels every in-flight task of `jobs` that the service still has PENDING, recording each.
pub async fn cancel_pending(output_dir: &Path, jobs: &[Job], client: &Client) -> Result<CancelReport, LedgerError> {
    // Before any run there is nothing to cancel, and no ledger folder to make.
    if !crate::ledger::Ledger::journal_path(output_dir).exists() {
        return Ok(CancelReport::default());
    }
    let Opened { lock: _lock, mut journal, ledger } = open_locked(output_dir)?;
    // The journal says what it mended once, here: `Journal::open` leaves it to its caller.
    for repair in &journal.repairs {
        tracing::warn!("ledger repaired: {repair}");
    }
    let path = journal.path().to_path_buf();
    let io = |e| LedgerError::io(&path, e);
    let mut report = CancelReport::default();
    let policy = RetryPolicy::poll();
    for job in jobs {
        let Some(record) = ledger.records.get(&job.key) else { continue };
        let (Phase::InFlight, Some(task_id)) = (record.phase, &record.task_id) else { continue };
        // A task is cancelled where it was created, whatever this command's endpoint is.
        let at = match record.endpoint.as_deref().map(|e| client.at(e)) {
            None => client.clone(),
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                report.not_cancelled.push((job.name(), format!("its endpoint cannot be used: {e}")));
                continue;
            }
        };
        match cancel_if_pending(&at, task_id, &policy).await {
            Ok(Cancel::Done) => {
                journal
                    .append(&Entry { at: jiff::Timestamp::now(), key: job.key.clone(), event: Event::Canceled })
                    .map_err(io)?;
                report.cancelled.push(job.name());
            }
            Ok(Cancel::NotPending(s)) => report
                .not_cancelled
                .push((job.name(), format!("task {task_id} is {}, only PENDING tasks can be cancelled", s.as_str()))),
            Err(e) => report.not_cancelled.push((job.name(), e.to_string())),
        }
    }
    journal.commit().map_err(io)?;
    Ok(report)
}

/// What became of a cancel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    /// The task was PENDING and is cancelled: nothing was billed.
    Done,
    /// The task had started (or ended): it runs on and is billed; only PENDING ones cancel.
    NotPending(TaskStatus),
}

/// Asks where the task stands and cancels it if it is still PENDING: the one cancel of
/// pixbatch, used by `pixbatch cancel` and by a run that stops (`--fail-fast`,
/// `--cancel-on-interrupt`).
pub async fn cancel_if_pending(client: &Client, task_id: &str, policy: &RetryPolicy) -> Result<Cancel, ApiError> {
    let status = policy.run(|| client.get_task(task_id)).await?.output.task_status;
    if status != TaskStatus::Pending {
        return Ok(Cancel::NotPending(status));
    }
    policy.run(|| client.cancel_task(task_id)).await?;
    Ok(Cancel::Done)
}
