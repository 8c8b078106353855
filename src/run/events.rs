//! What the workers (lanes, polls, downloads, probes, cancels) tell the coordinator, and the
//! coordinator's per-job state.

use std::time::Instant;

use super::doubt::{Expect, Visible};
use super::pools::Worker;
use crate::api::{ApiError, DownloadError, Downloaded, TaskResponse, TaskStatus};
use crate::plan::Job;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum JobState {
    /// Not part of this run.
    Idle,
    Queued,
    Submitting,
    Polling {
        task_id: String,
        submitted: Instant,
        started: Instant,
        status: TaskStatus,
        in_query: bool,
        /// When its endpoint first said UNKNOWN too soon for the task to have expired.
        unknown_since: Option<Instant>,
        /// It holds a slot of its family. A task whose endpoint cannot be reached gives its
        /// slot back once the service would have finished it (see `Coordinator::unhold`).
        holds_slot: bool,
    },
    /// Its task's endpoint stayed unreachable for `--unreachable-grace`: kept, with its task
    /// id, for the next run.
    Unreachable,
    /// Its create call may have made a task nobody recorded: neither resubmitted nor adopted
    /// until the evidence decides (see [`doubt`]).
    InDoubt,
    Downloading,
    Done,
    Skipped,
    Failed,
    /// Not submitted: its estimate would have crossed `--max-cost`.
    OverBudget,
}

pub(super) enum WorkerEvent {
    /// A lane's create outcome; the lane sends no further create until `recorded` fires,
    /// which happens once the outcome is durable in the journal. So a killed run leaves at
    /// most one create per model unrecorded: the one in the air, the earliest unrecorded
    /// intent in that model's order (what [`doubt::resolve`] relies on for twins).
    Lane {
        event: Box<WorkerEvent>,
        recorded: tokio::sync::oneshot::Sender<()>,
    },
    /// A local reference file was uploaded for this job (recorded for reuse by later runs).
    Uploaded {
        idx: usize,
        content_hash: String,
        model: String,
        url: String,
    },
    Submitted {
        idx: usize,
        task_id: String,
        /// When the create call that made it was sent, and when its answer came (our clock).
        sent_at: jiff::Timestamp,
        answered_at: jiff::Timestamp,
    },
    /// A task sent past a full family was refused (429): the service does not queue.
    AheadRefused {
        idx: usize,
        error: ApiError,
    },
    SubmitFailed {
        idx: usize,
        error: ApiError,
    },
    /// A create call got no answer after it was sent: a task may exist.
    Unanswered {
        idx: usize,
        sent_at: jiff::Timestamp,
        failed_at: jiff::Timestamp,
        error: ApiError,
    },
    /// The lane did not send the create: the run is stopping.
    NotSent {
        idx: usize,
    },
    /// The lane did not send the create: a job with the same visible request is in doubt.
    Deferred {
        idx: usize,
    },
    /// What the list API (and queries of finished candidates) showed for the jobs in doubt.
    Probed {
        result: Result<super::reconcile::Listing, ApiError>,
    },
    /// A cancel worker's outcome (a stopping run cancels what has not started).
    Canceled {
        idx: usize,
        task_id: String,
        result: Result<super::cancel::Cancel, ApiError>,
    },
    Polled {
        idx: usize,
        result: Result<TaskResponse, ApiError>,
    },
    Downloaded {
        idx: usize,
        result: Result<Downloaded, DownloadError>,
        /// How the video looks in place, for the stamps (so a rerun need not hash it).
        stat: Option<std::fs::Metadata>,
        /// An image task's other candidates, downloaded and checked, each with its stat.
        extra: Vec<(crate::ledger::CandidateFile, Option<std::fs::Metadata>)>,
    },
}

pub(super) fn expect_of(job: &Job) -> Expect {
    Expect {
        model: job.model.clone(),
        prompt: job.prompt.clone(),
        size: job.size.clone(),
        duration: job.duration,
        audio: job.audio,
    }
}

pub(super) fn visible_of(job: &Job) -> Visible {
    expect_of(job).visible()
}

impl WorkerEvent {
    /// The worker that sent it (none for a lane's wrapper and an upload note: a lane's
    /// create outcome inside the wrapper is counted when it is handled).
    pub(super) fn worker(&self) -> Option<Worker> {
        match self {
            WorkerEvent::Lane { .. } | WorkerEvent::Uploaded { .. } => None,
            WorkerEvent::Submitted { .. }
            | WorkerEvent::AheadRefused { .. }
            | WorkerEvent::SubmitFailed { .. }
            | WorkerEvent::Unanswered { .. }
            | WorkerEvent::NotSent { .. }
            | WorkerEvent::Deferred { .. } => Some(Worker::Submit),
            WorkerEvent::Probed { .. } => Some(Worker::Probe),
            WorkerEvent::Canceled { .. } => Some(Worker::Cancel),
            WorkerEvent::Polled { .. } => Some(Worker::Poll),
            WorkerEvent::Downloaded { .. } => Some(Worker::Download),
        }
    }
}
