//! One lane per model: it creates that model's tasks one at a time, within the model's
//! submit rate, and sends the next only once the outcome of the one before is in the journal.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::doubt::Visible;
use super::events::WorkerEvent;
use crate::api::{ApiError, Client, RetryPolicy, Retryable};
use crate::rate::SlidingWindow;

pub(super) struct SubmitJob {
    pub(super) idx: usize,
    pub(super) body: serde_json::Value,
    /// Local media files: (JSON pointer to their URL in the body, path, content hash).
    pub(super) local: Vec<(String, PathBuf, String)>,
    /// Sent while the family's slots were all taken: the service may queue it or refuse it.
    pub(super) ahead: bool,
    /// What the service will show of it (see [`Doubtful`]).
    pub(super) visible: Visible,
}

/// The visible requests of the jobs in doubt, each with the moment from which a create with the
/// same visible request may be sent (`None`: not in this run). Until then none is (the lanes
/// check it right before sending; the coordinator holds such jobs back), so that two of our
/// own creates are told apart by their windows (see [`super::doubt::twin_gap`]).
pub(super) type Doubtful = Arc<std::sync::Mutex<HashMap<Visible, Option<jiff::Timestamp>>>>;

/// Creates the tasks of one model, one at a time, within the model's submit rate. A create
/// that gets no answer is handed back as unanswered, with the moments it was sent and given up:
/// the coordinator finds out on evidence whether it made a task, and the lane goes on.
pub(super) struct Lane {
    pub(super) client: Client,
    pub(super) model: String,
    /// Where the model's creates go.
    pub(super) endpoint: crate::catalog::Endpoint,
    pub(super) limiter: SlidingWindow,
    pub(super) submit: RetryPolicy,
    /// For uploads: idempotent requests, retried like reads.
    pub(super) reads: RetryPolicy,
    /// When the latest create call left (the start of the window its task can be in).
    pub(super) sent_at: std::sync::Mutex<Option<jiff::Timestamp>>,
    pub(super) events: mpsc::UnboundedSender<WorkerEvent>,
    pub(super) halt: CancellationToken,
    /// Content hash → `oss://` URL of files uploaded for this model in this run.
    pub(super) uploads: HashMap<String, String>,
    pub(super) doubtful: Doubtful,
    /// The account cannot use this model (the service said so): no more creates are sent for
    /// it, each job gets the same answer.
    pub(super) refused: Option<ApiError>,
}

impl Lane {
    /// Uploads the job's local reference files (once per file per run; temporary files are
    /// bound to the model, and this lane is the model's) and puts their `oss://` URLs in the
    /// body. The job key uses the file's content hash, so a new upload never re-renders.
    async fn with_uploads(&mut self, job: &SubmitJob) -> Result<serde_json::Value, ApiError> {
        let mut body = job.body.clone();
        for (pointer, path, hash) in &job.local {
            let url = match self.uploads.get(hash) {
                Some(url) => url.clone(),
                None => {
                    let bytes = tokio::fs::read(path).await.map_err(|e| {
                        ApiError::local(
                            crate::api::ErrorClass::JobPermanent,
                            "UploadFailed",
                            format!("cannot read {}: {e}", path.display()),
                        )
                    })?;
                    let mime = crate::plan::refs::media_kind(&bytes).map_or("application/octet-stream", |k| k.1);
                    let ext = match mime.rsplit('/').next().unwrap_or("bin") {
                        "quicktime" => "mov",
                        "mpeg" => "mp3",
                        "jpeg" => "jpg",
                        other => other,
                    };
                    let name = format!("{}.{ext}", &hash[..hash.len().min(24)]);
                    let url = self
                        .reads
                        .run(|| async {
                            // A fresh credential per try: the upload folder forbids overwrites.
                            let policy = self.client.upload_policy(&self.model).await?;
                            self.client.upload_file(&policy, &name, bytes.clone(), mime).await
                        })
                        .await?;
                    self.uploads.insert(hash.clone(), url.clone());
                    let _ = self.events.send(WorkerEvent::Uploaded {
                        idx: job.idx,
                        content_hash: hash.clone(),
                        model: self.model.clone(),
                        url: url.clone(),
                    });
                    url
                }
            };
            if let Some(slot) = body.pointer_mut(pointer) {
                *slot = url.into();
            }
        }
        Ok(body)
    }

    pub(super) async fn serve(mut self, mut jobs: mpsc::UnboundedReceiver<SubmitJob>) {
        while let Some(job) = jobs.recv().await {
            let event = Box::new(self.submit_one(&job).await);
            let (recorded, durable) = tokio::sync::oneshot::channel();
            if self.events.send(WorkerEvent::Lane { event, recorded }).is_err() {
                return;
            }
            // The next create waits until this one's outcome is in the journal. A stopping
            // run sends no more creates, so there is nothing to wait for.
            tokio::select! {
                _ = durable => {}
                () = self.halt.cancelled() => {}
            }
        }
    }

    /// One create call, within the model's submit rate, unless the run is stopping.
    async fn create_once(&self, body: &serde_json::Value) -> Result<crate::api::CreateResponse, CreateError> {
        tokio::select! {
            () = self.limiter.wait() => {}
            () = self.halt.cancelled() => return Err(CreateError::Halted),
        }
        *self.sent_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(jiff::Timestamp::now());
        Ok(self.client.create_task(body, self.endpoint).await?)
    }

    async fn submit_one(&mut self, job: &SubmitJob) -> WorkerEvent {
        let idx = job.idx;
        if self.halt.is_cancelled() {
            // The run is stopping: this create was never sent, so nothing exists to find.
            return WorkerEvent::NotSent { idx };
        }
        if let Some(error) = &self.refused {
            return WorkerEvent::SubmitFailed { idx, error: error.clone() };
        }
        let body = match self.with_uploads(job).await {
            Ok(body) => body,
            Err(error) => {
                if error.is_model_fatal() {
                    self.refused = Some(error.clone());
                }
                return WorkerEvent::SubmitFailed { idx, error };
            }
        };
        let gate = self.doubtful.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&job.visible).copied();
        if gate.is_some_and(|g| g.is_none_or(|at| jiff::Timestamp::now() < at)) {
            return WorkerEvent::Deferred { idx };
        }
        let result = if job.ahead {
            // One plain try: a refusal here says the service does not queue past its slots,
            // and retrying it would only spend the submit rate. A 429 that names a request
            // rate says nothing about slots: it is retried like any create.
            match self.create_once(&body).await {
                Err(CreateError::Api(error)) if error.is_throttled() && !error.is_rate_limit() => {
                    return WorkerEvent::AheadRefused { idx, error };
                }
                Err(CreateError::Api(error)) if error.is_transient() && !error.maybe_processed => {
                    self.submit.run(|| self.create_once(&body)).await
                }
                other => other,
            }
        } else {
            self.submit.run(|| self.create_once(&body)).await
        };
        match result {
            Ok(resp) => {
                let answered_at = jiff::Timestamp::now();
                let sent_at = self
                    .sent_at
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take()
                    .unwrap_or(answered_at);
                WorkerEvent::Submitted { idx, task_id: resp.output.task_id, sent_at, answered_at }
            }
            Err(CreateError::Halted) => WorkerEvent::NotSent { idx },
            Err(CreateError::Api(error)) if error.maybe_processed => {
                tracing::debug!(%error, model = %self.model, "create got no answer; a task may exist");
                let failed_at = jiff::Timestamp::now();
                let sent_at =
                    self.sent_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take().unwrap_or(failed_at);
                WorkerEvent::Unanswered { idx, sent_at, failed_at, error }
            }
            Err(CreateError::Api(error)) => {
                if error.is_run_fatal() {
                    // Stop every lane now, before the coordinator even hears of it.
                    self.halt.cancel();
                } else if error.is_model_fatal() {
                    // Only this model: the other lanes go on.
                    self.refused = Some(error.clone());
                }
                WorkerEvent::SubmitFailed { idx, error }
            }
        }
    }
}

/// Why a create call did not make a task: the service's answer, or the run stopping before
/// the call was sent (never retried, and nothing exists to find).
enum CreateError {
    Api(ApiError),
    Halted,
}

impl From<ApiError> for CreateError {
    fn from(e: ApiError) -> Self {
        CreateError::Api(e)
    }
}

impl Retryable for CreateError {
    fn api_error(&self) -> Option<&ApiError> {
        match self {
            CreateError::Api(e) => Some(e),
            CreateError::Halted => None,
        }
    }
}
