//! The coordinator: the one owner of a run's state. It handles the workers' events in order,
//! writes the journal, and starts the next requests; it never awaits network I/O itself.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::DefaultDirectRateLimiter;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::cancel::{self, Cancel};
use super::doubt::{Answered, Candidate, Visible};
use super::events::{JobState, WorkerEvent};
use super::lane::{Doubtful, SubmitJob};
use super::pools::{Budget, FamilyPool, InAir, Worker};
use super::predict::Predictor;
use super::reach::Reach;
use super::reconcile::InDoubt;
use super::schedule::Schedule;
use super::submit::submit_failed;
use super::{Counts, Note, Reporter, RunOptions, RunOutcome, RunSummary, Stop};
use crate::api::{ApiError, Client, DownloadError, ErrorClass, RetryPolicy, TaskStatus, describe_endpoint};
use crate::catalog::{Family, round_cents};
use crate::ledger::{Entry, Event, Journal, Ledger};
use crate::plan::Job;
use crate::views::results;

pub(super) struct Coordinator<'a, 'r> {
    /// Lanes waiting for their last create's outcome to be durable (released by `commit`).
    pub(super) acks: Vec<tokio::sync::oneshot::Sender<()>>,
    /// The visible requests of `doubts`, shared with the lanes.
    pub(super) doubtful: Doubtful,
    /// A doubt was decided since the last commit (its twins wait for that commit).
    pub(super) decided: bool,
    /// When the earliest twin held back behind a doubt may go (see [`Coordinator::twin_gates`]).
    pub(super) twin_wake: Option<Instant>,
    /// Visible requests of doubts this run left undecided: never sent again in this run.
    pub(super) held_for_run: HashSet<Visible>,
    /// When this run started (written with every intent).
    pub(super) run_started: jiff::Timestamp,
    /// The endpoint this run creates tasks at.
    pub(super) endpoint: String,
    /// A client per endpoint that tasks of this ledger live at.
    pub(super) clients: HashMap<String, Client>,
    pub(super) doubts: BTreeMap<usize, InDoubt>,
    /// Finished candidates, as the service showed them (they do not change).
    pub(super) evidence: HashMap<String, Candidate>,
    pub(super) probing: bool,
    /// When the listing in progress was asked for: it decides only the doubts ready by then.
    pub(super) probe_sent: Instant,
    pub(super) next_probe: Option<Instant>,
    /// What the listing in progress covers, per (endpoint, model): ms, the service's clock.
    pub(super) listed: HashMap<(String, String), (i64, i64)>,
    /// This run's answered creates by task id: when sent and answered (ms, our clock).
    pub(super) answered_at: HashMap<String, (i64, i64)>,
    /// Those whose task the list API has shown: what the offset between the clocks is learnt
    /// from.
    pub(super) clock_samples: HashMap<String, Answered>,
    pub(super) jobs: &'a [Job],
    pub(super) output_dir: PathBuf,
    pub(super) client: Client,
    pub(super) options: &'a RunOptions,
    pub(super) journal: Journal,
    pub(super) ledger: Ledger,
    pub(super) states: Vec<JobState>,
    pub(super) queues: BTreeMap<Family, VecDeque<usize>>,
    pub(super) pools: BTreeMap<Family, FamilyPool>,
    pub(super) polls: BinaryHeap<Reverse<(Instant, usize)>>,
    pub(super) schedule: Schedule,
    /// Predicted render times, learnt from finished tasks (orders `longest-first` runs).
    pub(super) predictor: Predictor,
    /// The predictor learnt something since the queues were last arranged, at this moment.
    pub(super) rearrange: Option<Instant>,
    pub(super) lanes: HashMap<String, mpsc::UnboundedSender<SubmitJob>>,
    pub(super) tx: mpsc::UnboundedSender<WorkerEvent>,
    pub(super) rx: mpsc::UnboundedReceiver<WorkerEvent>,
    /// Spawned requests whose event has not arrived.
    pub(super) in_air: InAir,
    pub(super) query_limiter: Arc<DefaultDirectRateLimiter>,
    pub(super) downloads: Arc<Semaphore>,
    pub(super) counts: Counts,
    pub(super) failed_by_code: BTreeMap<String, usize>,
    pub(super) billed_seconds: f64,
    pub(super) budget: Budget,
    pub(super) submissions: u64,
    pub(super) queries: u64,
    pub(super) stop: Option<Stop>,
    pub(super) stop_deadline: Option<Instant>,
    /// Tells the lanes to send no more create calls.
    pub(super) halt: CancellationToken,
    pub(super) over_budget: usize,
    /// Which endpoints answer (the one owner of outages).
    pub(super) reach: Reach,
    /// Tasks left for the next run because their endpoint stayed unreachable.
    pub(super) parked: usize,
    /// The first endpoint given up on after `--unreachable-grace`, and why.
    pub(super) abandoned: Option<(String, super::reach::Outage)>,
    /// Models this account cannot use, with the first refusal: their jobs fail, the rest goes on.
    pub(super) refused_models: BTreeMap<String, ApiError>,
    pub(super) reporter: &'r mut dyn Reporter,
}

impl Coordinator<'_, '_> {
    pub(super) fn policy(&self, base: RetryPolicy) -> RetryPolicy {
        base.scaled(self.options.retry_scale)
    }

    pub(super) fn pool(&mut self, family: &Family) -> &mut FamilyPool {
        let (limit, ahead) = (self.options.slots(family), self.options.ahead(family));
        self.pools.entry(family.clone()).or_insert_with(|| FamilyPool::new(limit, ahead))
    }

    /// Appends to the journal and the in-memory ledger; a write error stops the run.
    pub(super) fn record(&mut self, idx: usize, event: Event) {
        let entry = Entry { at: jiff::Timestamp::now(), key: self.jobs[idx].key.clone(), event };
        if let Err(e) = self.journal.append(&entry) {
            self.ledger_stop(&e);
        }
        self.ledger.apply(&entry);
    }

    pub(super) fn commit(&mut self) -> bool {
        match self.journal.commit() {
            Ok(()) => {
                // Only now that every decision is durable may a decided doubt stop holding
                // back its twins: a killed run's ledger then tells which creates were sent.
                self.sync_doubtful();
                self.decided = false;
                for ack in self.acks.drain(..) {
                    let _ = ack.send(());
                }
                true
            }
            Err(e) => {
                self.ledger_stop(&e);
                false
            }
        }
    }

    /// Writes the journal without waiting for the disk (see [`Journal::write`]).
    pub(super) fn write(&mut self) {
        if let Err(e) = self.journal.write() {
            self.ledger_stop(&e);
        }
    }

    /// The journal cannot be written: stop submitting. Creates in the air still get
    /// `stop_grace` to answer: a journal that was rebuilt (its folder vanished) records their
    /// tasks, so the next run need not find out from the list API whose they are.
    pub(super) fn ledger_stop(&mut self, e: &std::io::Error) {
        let message = format!("cannot write the ledger {}: {e}", self.journal.path().display());
        self.disk_stop(message, self.options.stop_grace);
    }

    /// Stops the run for a disk problem. With the journal still writable (a video could not be
    /// saved), creates in the air get `stop_grace` to answer, so their tasks are recorded.
    pub(super) fn disk_stop(&mut self, message: String, grace: Duration) {
        if matches!(self.stop, Some(Stop::Disk { .. })) {
            return;
        }
        self.reporter.note(&Note::Info { message: message.clone() });
        self.stop = Some(Stop::Disk { message });
        self.stop_deadline = Some(Instant::now() + grace);
        self.halt.cancel();
    }

    pub(super) fn fail(&mut self, idx: usize, code: &str, message: &str) {
        self.states[idx] = JobState::Failed;
        self.counts.failed += 1;
        *self.failed_by_code.entry(code.to_owned()).or_default() += 1;
        self.reporter.note(&Note::Failed {
            job: self.jobs[idx].name(),
            code: code.to_owned(),
            message: message.to_owned(),
        });
        if self.options.max_failures.is_some_and(|m| self.counts.failed >= m) && self.stop.is_none() {
            self.stop = Some(Stop::TooManyFailures { failed: self.counts.failed });
            self.stop_deadline = Some(Instant::now() + self.options.stop_grace);
            self.halt.cancel();
        }
    }

    /// An error no create can get past (key, billing, quota): no more creates, but what is in
    /// flight is still polled and downloaded (paid videos are not left on the service when
    /// they can be fetched), unless an interrupt or a dead key says otherwise.
    /// The account cannot use this job's model: said once, every job of that model fails in
    /// this run (queued ones are never sent; they stay new in the ledger), the rest goes on,
    /// and the run exits with the run-fatal code naming the model.
    pub(super) fn refuse_model(&mut self, idx: usize, error: &ApiError) {
        let model = self.jobs[idx].model.clone();
        let first = !self.refused_models.contains_key(&model);
        let mut idxs = vec![idx];
        if first {
            self.refused_models.insert(model.clone(), error.clone());
            for queue in self.queues.values_mut() {
                queue.retain(|&i| {
                    let refused = self.jobs[i].model == model;
                    if refused {
                        idxs.push(i);
                    }
                    !refused
                });
            }
            self.counts.queued -= idxs.len() - 1;
            let hint = error.hint().unwrap_or_default();
            self.reporter.note(&Note::Warn {
                message: format!(
                    "this account cannot use {model} ({error}): its jobs are not rendered in this run, everything else goes on; {hint}"
                ),
            });
        }
        for i in idxs {
            self.states[i] = JobState::Failed;
            self.counts.failed += 1;
            *self.failed_by_code.entry(error.code.clone()).or_default() += 1;
        }
    }

    pub(super) fn fatal(&mut self, e: &ApiError) {
        if self.stop.is_none() || matches!(self.stop, Some(Stop::Interrupted | Stop::Unreachable { .. })) {
            let draining = self.stop.is_none();
            self.stop =
                Some(Stop::Fatal { code: e.code.clone(), message: e.to_string(), hint: e.hint().map(str::to_owned) });
            self.halt.cancel();
            if draining {
                let tasks = self.tasks_in_flight();
                self.reporter.note(&Note::Warn {
                    message: format!(
                        "stopped creating tasks: {e}; waiting for the {tasks} task(s) already on the service (Ctrl-C stops now; the next run resumes them)"
                    ),
                });
            }
        }
    }

    /// Jobs with a task on the service that this run still polls.
    pub(super) fn tasks_in_flight(&self) -> usize {
        self.states.iter().filter(|s| matches!(s, JobState::Polling { .. })).count()
    }

    /// `endpoint` answered: an outage, if there was one, is over, and said so.
    pub(super) fn reachable(&mut self, endpoint: &str) {
        if let Some(outage) = self.reach.answered(endpoint) {
            let secs = outage.since.elapsed().as_secs_f64();
            self.reporter.note(&Note::Info {
                message: format!("{} answers again (unreachable for {secs:.0} s)", describe_endpoint(endpoint)),
            });
        }
    }

    /// A call to `endpoint` could not reach it: the first such call warns at once.
    pub(super) fn unreachable(&mut self, endpoint: &str, e: &ApiError, now: Instant) {
        let grace = self.options.unreachable_grace;
        if let Some(outage) = self.reach.failed(endpoint, e, now) {
            self.reporter.note(&Note::Warn {
                message: format!(
                    "cannot reach {}: {}; trying again every few seconds; the run stops waiting for it after {} (--unreachable-grace); nothing is resubmitted",
                    describe_endpoint(endpoint),
                    outage.reason(),
                    crate::duration::Human(grace)
                ),
            });
        }
    }

    /// Endpoints unreachable for `--unreachable-grace`: their tasks are left for the next run
    /// (kept with their ids, nothing written off); when it is this run's own endpoint, the run
    /// stops creating and ends once the rest is polled.
    pub(super) fn give_up_outages(&mut self, now: Instant) {
        if !self.reach.any_down() {
            return;
        }
        for (endpoint, outage) in self.reach.past_grace(self.options.unreachable_grace, now) {
            let idxs: Vec<usize> = (0..self.jobs.len())
                .filter(|&i| matches!(self.states[i], JobState::Polling { .. }) && self.endpoint_of(i) == endpoint)
                .collect();
            for &idx in &idxs {
                self.release(idx);
                self.states[idx] = JobState::Unreachable;
            }
            self.parked += idxs.len();
            if self.abandoned.is_none() {
                self.abandoned = Some((endpoint.clone(), outage.clone()));
            }
            let doubts: Vec<usize> =
                self.doubts.iter().filter(|(_, d)| d.endpoint == endpoint).map(|(i, _)| *i).collect();
            for idx in doubts {
                // Its listing cannot be had: the next run looks (the ledger has it unanswered).
                self.leave_undecided(idx);
                self.release(idx);
            }
            let secs = now.saturating_duration_since(outage.since).as_secs();
            self.reporter.note(&Note::Warn {
                message: format!(
                    "{} unreachable for {secs} s ({}): its {} task(s) are kept for the next run, not resubmitted",
                    describe_endpoint(&endpoint),
                    outage.reason(),
                    idxs.len()
                ),
            });
            let own = endpoint == self.endpoint;
            if own && self.stop.is_none() {
                self.halt.cancel();
                self.stop =
                    Some(Stop::Unreachable { endpoint: endpoint.clone(), error: outage.reason(), seconds: secs });
            }
        }
    }

    pub(super) fn report(&mut self) {
        let mut counts = self.counts.clone();
        if self.reach.any_down() {
            // A task nobody can ask about is not shown as running.
            let unreachable = (0..self.jobs.len())
                .filter(|&i| matches!(self.states[i], JobState::Polling { .. }))
                .filter(|&i| self.reach.is_down(&self.endpoint_of(i)))
                .count();
            counts.running = counts.running.saturating_sub(unreachable);
            counts.unreachable = unreachable;
        }
        self.reporter.update(&counts);
    }

    pub(super) fn handle(&mut self, event: WorkerEvent) {
        let now = Instant::now();
        if let Some(worker) = event.worker() {
            self.in_air.done(worker);
        }
        match event {
            WorkerEvent::Lane { event, recorded } => {
                self.handle(*event);
                self.acks.push(recorded);
            }
            WorkerEvent::Uploaded { idx, content_hash, model, url } => {
                self.record(idx, Event::Uploaded { content_hash, model, url });
            }
            WorkerEvent::Submitted { idx, task_id, sent_at, answered_at } => {
                if self.reach.any_down() {
                    let endpoint = self.endpoint.clone();
                    self.reachable(&endpoint);
                }
                self.submissions += 1;
                self.answered(task_id.clone(), sent_at, answered_at);
                self.record(idx, Event::Submitted { task_id: task_id.clone() });
                self.reporter.note(&Note::Submitted { job: self.jobs[idx].name(), task_id: task_id.clone() });
                self.poll_later(idx, task_id, now);
            }
            WorkerEvent::Deferred { idx } => {
                self.release(idx);
                let error = ApiError::transport(
                    "Deferred",
                    "not sent: a job with the same visible request is in doubt".into(),
                    false,
                );
                self.record(idx, submit_failed(&error, ErrorClass::Transient));
                self.requeue_front(idx);
            }
            WorkerEvent::NotSent { idx } => {
                self.release(idx);
                let error = ApiError::transport("Stopped", "the run stopped before this job was sent".into(), false);
                self.record(idx, submit_failed(&error, ErrorClass::Transient));
                self.requeue_front(idx);
            }
            WorkerEvent::SubmitFailed { idx, error } => {
                self.release(idx);
                let endpoint = self.endpoint.clone();
                if error.unreachable() {
                    // The create never left this machine: the job is simply new again.
                    self.record(idx, submit_failed(&error, ErrorClass::Transient));
                    self.requeue_front(idx);
                    self.unreachable(&endpoint, &error, now);
                    return;
                }
                if error.status.is_some() {
                    self.reachable(&endpoint);
                }
                if error.is_model_fatal() {
                    // Not this job's fault either: it stays new for a run after the model is activated.
                    self.record(idx, submit_failed(&error, ErrorClass::Transient));
                    self.refuse_model(idx, &error);
                } else if error.is_run_fatal() {
                    // Not this job's fault: it stays new for the next run.
                    self.record(idx, submit_failed(&error, ErrorClass::Transient));
                    self.requeue_front(idx);
                    self.fatal(&error);
                } else if error.is_transient() {
                    self.record(idx, submit_failed(&error, ErrorClass::Transient));
                    self.requeue_front(idx);
                    let family = self.jobs[idx].family.clone();
                    let backoff = self.pool(&family).pause(now);
                    self.reporter.note(&Note::Info {
                        message: format!(
                            "{family}: the service keeps refusing new tasks ({error}); pausing that family for {}s",
                            backoff.as_secs()
                        ),
                    });
                } else {
                    self.record(idx, submit_failed(&error, ErrorClass::JobPermanent));
                    self.fail(idx, &error.code, &error.message);
                }
            }
            WorkerEvent::AheadRefused { idx, error } => {
                self.release(idx);
                self.record(idx, submit_failed(&error, ErrorClass::Transient));
                self.requeue_front(idx);
                let family = self.jobs[idx].family.clone();
                let pool = self.pool(&family);
                pool.stop_ahead();
                let limit = pool.limit;
                self.reporter.note(&Note::Info {
                    message: format!(
                        "{family}: the service refused a task past its {limit} running ones ({error}); \
                         keeping to {limit} in flight for this family"
                    ),
                });
            }
            WorkerEvent::Unanswered { idx, sent_at, failed_at, error } => {
                self.record(
                    idx,
                    Event::Unanswered { sent_at, failed_at, code: error.code.clone(), message: error.message.clone() },
                );
                self.reporter.note(&Note::Reconciled {
                    job: self.jobs[idx].name(),
                    decision: format!(
                        "its create call got no answer ({error}); asking the list API whether it made a task"
                    ),
                });
                self.add_doubt(idx, self.endpoint.clone(), (sent_at, failed_at), true);
            }
            WorkerEvent::Probed { result } => {
                self.probing = false;
                self.probed(result, now);
            }
            WorkerEvent::Canceled { idx, task_id, result } => {
                self.canceled(idx, &task_id, result);
            }
            WorkerEvent::Polled { idx, result } => {
                self.polled(idx, result, now);
            }
            WorkerEvent::Downloaded { idx, result, stat, extra } => {
                self.counts.downloading -= 1;
                match result {
                    Ok(d) => {
                        let path = self.jobs[idx].output.display().to_string();
                        if let Some(meta) = &stat {
                            self.ledger.stamps.remember(&path, &d.sha256, meta);
                        }
                        let images = self.candidate_files(idx, &path, &d, extra);
                        self.record(
                            idx,
                            Event::Downloaded { path: path.clone(), bytes: d.bytes, sha256: d.sha256, images },
                        );
                        self.states[idx] = JobState::Done;
                        self.counts.done += 1;
                        self.reporter.note(&Note::Done { job: self.jobs[idx].name(), path });
                    }
                    Err(DownloadError::Api(e)) if matches!(e.status, Some(403 | 404 | 410)) => {
                        // The service's URL died before its 24 h: the video can only be made again.
                        self.record(idx, Event::UrlExpired { code: e.code.clone(), message: e.message.clone() });
                        self.fail(
                            idx,
                            "UrlExpired",
                            &format!("the video URL no longer works ({e}); --retry-failed renders it again"),
                        );
                    }
                    Err(DownloadError::Api(e)) => {
                        self.record(idx, Event::DownloadFailed { code: e.code.clone(), message: e.message.clone() });
                        self.fail(
                            idx,
                            &e.code,
                            &format!("{} (the next run downloads it again while the URL lives)", e.message),
                        );
                    }
                    Err(e @ DownloadError::Disk { .. }) => {
                        let message = e.to_string();
                        self.record(idx, Event::DownloadFailed { code: "LocalIo".into(), message: message.clone() });
                        self.disk_stop(message.clone(), self.options.stop_grace);
                        self.fail(
                            idx,
                            "LocalIo",
                            &format!("{message} (the next run downloads it again while the URL lives)"),
                        );
                    }
                }
            }
        }
    }

    pub(super) fn finished(&self) -> bool {
        if self.stop.is_some() {
            return match self.stop_deadline {
                // Creates and cancels in the air are waited for (their outcome goes in the
                // ledger), up to the stop's grace.
                Some(deadline) => self.in_air.settled() || Instant::now() >= deadline,
                // A stop that drains: no new creates, what is on the service is polled and
                // downloaded (jobs in doubt stay for the next run's listing).
                None => self.in_air.is_empty() && self.polls.is_empty(),
            };
        }
        self.in_air.is_empty()
            && self.polls.is_empty()
            && self.doubts.is_empty()
            && self.queues.values().all(VecDeque::is_empty)
    }

    pub(super) async fn main_loop(&mut self, interrupt: &CancellationToken) {
        let mut cancelled = false;
        loop {
            if !cancelled && matches!(self.stop, Some(Stop::TooManyFailures { .. })) {
                // Stop spending: what waits on the service has not started; it waits for the next run.
                cancelled = true;
                self.cancel_pending();
            }
            let now = Instant::now();
            self.give_up_outages(now);
            self.dispatch_submits(now);
            let poll_wake = self.dispatch_polls(now);
            self.dispatch_probe(now);
            // A lane waiting for its create's outcome, or a decision that lets held-back
            // creates go, needs the disk; statuses and downloads only need the file.
            if self.acks.is_empty() && !self.decided {
                self.write();
            } else {
                self.commit();
            }
            self.report();
            if self.finished() {
                return;
            }
            let pause_wake = self.pools.values().filter_map(|s| s.paused_until).filter(|p| *p > now).min();
            let probe_wake = self.next_probe.filter(|_| !self.probing && !self.doubts.is_empty());
            let reach_wake = self.reach.next_wake(self.options.unreachable_grace).filter(|w| *w > now);
            let wake = [poll_wake, pause_wake, self.stop_deadline, probe_wake, self.twin_wake, reach_wake]
                .into_iter()
                .flatten()
                .min();
            let sleep = async {
                match wake {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                event = self.rx.recv() => {
                    if let Some(event) = event {
                        self.handle(event);
                        while let Ok(event) = self.rx.try_recv() {
                            self.handle(event);
                        }
                    }
                }
                () = sleep => {}
                () = interrupt.cancelled(), if self.stop_deadline.is_none() => self.interrupted(),
            }
        }
    }

    pub(super) fn interrupted(&mut self) {
        // A stop that was draining keeps its reason (and exit code); it just stops waiting.
        if self.stop.is_none() {
            self.stop = Some(Stop::Interrupted);
        }
        self.stop_deadline = Some(Instant::now() + self.options.stop_grace);
        self.halt.cancel();
        self.reporter.note(&Note::Info {
            message: "interrupted: no new submissions; recording what is in flight (Ctrl-C again to quit at once)"
                .into(),
        });
        if self.options.cancel_on_interrupt {
            self.cancel_pending();
        }
    }

    /// Cancels the tasks last seen PENDING (not started, not billed), each in a worker that
    /// sends [`WorkerEvent::Canceled`]; the next run submits them again. A task that started
    /// meanwhile is not cancelled, runs on, and is resumed next run.
    pub(super) fn cancel_pending(&mut self) {
        let pending: Vec<(usize, String)> = self
            .states
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                JobState::Polling { task_id, status: TaskStatus::Pending, .. } => Some((i, task_id.clone())),
                _ => None,
            })
            .collect();
        for (idx, task_id) in pending {
            let Some(client) = self.job_client(idx) else { continue };
            let (tx, policy) = (self.tx.clone(), self.policy(RetryPolicy::poll()));
            self.in_air.start(Worker::Cancel);
            tokio::spawn(async move {
                let result = cancel::cancel_if_pending(&client, &task_id, &policy).await;
                let _ = tx.send(WorkerEvent::Canceled { idx, task_id, result });
            });
        }
    }

    fn canceled(&mut self, idx: usize, task_id: &str, result: Result<Cancel, ApiError>) {
        let name = self.jobs[idx].name();
        match result {
            Ok(Cancel::Done) if matches!(self.states[idx], JobState::Polling { .. }) => {
                self.release(idx);
                self.record(idx, Event::Canceled);
                self.states[idx] = JobState::Queued;
                self.reporter.note(&Note::Info { message: format!("cancelled {name} (task {task_id})") });
            }
            // It finished meanwhile and its poll said so first: the ledger has its end already.
            Ok(Cancel::Done) => {}
            Ok(Cancel::NotPending(status)) => self.reporter.note(&Note::Info {
                message: format!("could not cancel {name} (task {task_id}): it is {}", status.as_str()),
            }),
            Err(e) => {
                self.reporter.note(&Note::Info { message: format!("could not cancel {name} (task {task_id}): {e}") })
            }
        }
    }

    pub(super) fn finish(
        mut self,
        others: [&[Job]; 2],
        name: Option<&str>,
        started: Instant,
        picks: &crate::review::Picks,
    ) -> RunOutcome {
        if let Err(e) = self.predictor.save(&self.output_dir.join(crate::ledger::LEDGER_DIR)) {
            tracing::debug!(error = %e, "cannot keep the learnt render times");
        }
        self.commit();
        // results.csv lists every job of the manifest, this run's first.
        let mut rows =
            results::rows(self.jobs.iter().chain(others.into_iter().flatten()), std::iter::empty(), &self.ledger);
        crate::review::picks::mark(&mut rows, picks);
        let written = results::write(&self.output_dir, name, &rows);
        if let Err(e) = &written {
            let message = format!("cannot write results.csv/results.json in {}: {e}", self.output_dir.display());
            self.reporter.note(&Note::Info { message: message.clone() });
            if self.stop.is_none() {
                self.stop = Some(Stop::Disk { message });
            }
        }
        // Only tasks with an id are on the service; a create whose answer is not known yet is
        // counted apart (the next run asks the list API).
        let left_in_flight =
            self.states.iter().filter(|s| matches!(s, JobState::Polling { .. } | JobState::Unreachable)).count();
        let creates_in_doubt =
            self.states.iter().filter(|s| matches!(s, JobState::Submitting | JobState::InDoubt)).count();
        let not_started = self.states.iter().filter(|s| matches!(s, JobState::Queued | JobState::OverBudget)).count();
        if self.stop.is_none()
            && let Some((model, error)) = self.refused_models.iter().next()
        {
            let jobs = self.jobs.iter().filter(|j| self.refused_models.contains_key(&j.model)).count();
            self.stop = Some(Stop::ModelUnavailable {
                models: self.refused_models.keys().cloned().collect(),
                code: error.code.clone(),
                message: format!("this account cannot use {model}: {error}"),
                hint: error.hint().map(str::to_owned),
                jobs,
            });
        }
        if self.stop.is_none()
            && self.parked > 0
            && let Some((endpoint, outage)) = self.abandoned.clone()
        {
            self.stop =
                Some(Stop::Unreachable { endpoint, error: outage.reason(), seconds: outage.since.elapsed().as_secs() });
        }
        if self.over_budget > 0 && self.stop.is_none() {
            let (skipped, storyboard) = (self.over_budget, self.budget.storyboard().cloned());
            self.stop = Some(Stop::Budget { skipped, rest_cny: self.over_budget_cost(), storyboard });
        }
        self.report();
        let summary = RunSummary {
            counts: self.counts.clone(),
            failed_by_code: self.failed_by_code.clone(),
            not_started,
            left_in_flight,
            creates_in_doubt,
            billed_seconds: self.billed_seconds,
            cost_cny: round_cents(self.budget.spent()),
            submissions: self.submissions,
            queries: self.queries,
            wall_seconds: started.elapsed().as_secs_f64(),
            stop: self.stop.clone(),
            waiting: 0,
            waiting_for: Vec::new(),
        };
        // What this run hashed and found unchanged, so that the next does not hash it again.
        self.ledger.stamps.save();
        RunOutcome { summary, ledger: self.ledger, results_written: written.is_ok() }
    }
}
