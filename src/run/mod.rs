//! `pixbatch run`: keep every slot busy, poll once for all, download as soon as a task
//! succeeds, and record everything before going on.
//!
//! ```text
//!                 intents (fsynced first)           Submitted / SubmitFailed / Reconciled
//!  queues ─► Coordinator ───────────────► lane per model ──────────────┐
//!  per family    │  ▲   (serial creates, rate limited,                  │
//!                │  │    reconciles a create that got no answer)        │
//!                │  └──────────── events (one channel) ◄───────────────┤
//!                ├─ due polls (one heap, query rate limit) ─► get_task ─┤
//!                └─ succeeded ─► downloads (semaphore) ────────────────┘
//!  The coordinator alone owns the journal, the slot counts and the reporter.
//! ```
//!
//! A family's slot is taken when the intent is written and given back the moment its task is
//! final, so the next job is submitted at once. One create call per model is in the air at a
//! time, which keeps every doubt about "did that create a task?" down to one task per model.

pub mod cancel;
pub mod doubt;
mod lane;
pub mod reconcile;
pub mod report;
pub mod schedule;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

pub use report::{Counts, Note, REPORT_FORMAT, Report, Reporter, RunSummary, Silent, Stop};
pub use schedule::PollConfig;

use crate::api::{
    ApiError, Client, DownloadError, Downloaded, ErrorClass, RetryPolicy, TaskResponse, TaskStatus, describe_endpoint,
};
use crate::catalog::{Family, round_cents};
use crate::files;
use crate::ledger::{self, Decision, Entry, Event, JobMeta, Journal, Ledger, LedgerError, Lock};
use crate::plan::{Expansion, Job, estimate_cost};
use crate::views::results;
use doubt::{Candidate, Expect, Visible};
use lane::{Doubtful, Lane, SlidingWindow, SubmitJob};
use reconcile::InDoubt;
use schedule::{Schedule, service_seconds};

/// How a run behaves; the CLI fills it from flags and the manifest's `run:` section.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Running tasks per family name (`c1`, `v5.6`); others get `default_concurrency`.
    pub concurrency: BTreeMap<String, u32>,
    pub default_concurrency: u32,
    /// Resubmit jobs that failed (or whose video was lost) in earlier runs.
    pub retry_failed: bool,
    /// Creates per second per model (DashScope allows 5; stay under it).
    pub submit_per_second: u32,
    /// Queries per second for all polls together (DashScope allows 20 per account; leave room
    /// for the user's other tools).
    pub query_per_second: u32,
    pub poll: PollConfig,
    /// Stop waiting for a task after this long (it is not resubmitted; the next run polls it).
    pub task_timeout: Duration,
    pub download_concurrency: usize,
    /// On interrupt, cancel tasks still PENDING on the service.
    pub cancel_on_interrupt: bool,
    /// Multiplies every retry delay (tests use small ones).
    pub retry_scale: f64,
    /// How long to wait before a second look at the list API.
    pub reconcile_settle: Duration,
    /// After a stop, how long to wait for create calls in the air to answer.
    pub stop_grace: Duration,
    /// CNY: never submit a job whose estimate would take this run's spend (billed plus the
    /// estimates of tasks in flight) past this.
    pub max_cost: Option<f64>,
    /// Stop submitting once this many jobs have failed in this run (`--fail-fast` is 1).
    pub max_failures: Option<usize>,
    /// Tasks to submit past a full family, so that the service starts the next one the moment
    /// a slot frees instead of when the poller notices. Only when the family's slots are the
    /// service's whole pool (a lower `concurrency` is a cap the user chose, and a queued task
    /// would break it). If the service refuses such a task, the run stops doing it for that
    /// family. 0 turns it off.
    pub queue_ahead: u32,
    /// How often the list API is asked again about jobs in doubt whose candidates have not
    /// finished.
    pub doubt_recheck: Duration,
    /// How far our clock and the service's may disagree about when a task was created.
    pub clock_tolerance: Duration,
    /// How long a task that its endpoint answers UNKNOWN for (too soon to be forgotten) is
    /// asked about again before this run stops waiting for it.
    pub unknown_grace: Duration,
    /// Render jobs whose output file exists although the ledger does not know it (a deleted
    /// `.pixbatch`), replacing the file: it pays again.
    pub overwrite: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            concurrency: BTreeMap::new(),
            default_concurrency: 5,
            retry_failed: false,
            submit_per_second: 5,
            query_per_second: 10,
            poll: PollConfig::default(),
            task_timeout: Duration::from_secs(3 * 3600 + 600),
            download_concurrency: 8,
            cancel_on_interrupt: false,
            retry_scale: 1.0,
            reconcile_settle: Duration::from_secs(2),
            stop_grace: Duration::from_secs(5),
            max_cost: None,
            max_failures: None,
            queue_ahead: 2,
            doubt_recheck: Duration::from_secs(5),
            clock_tolerance: Duration::from_secs(2),
            unknown_grace: Duration::from_secs(60),
            overwrite: false,
        }
    }
}

impl RunOptions {
    fn slots(&self, family: &Family) -> u32 {
        self.concurrency.get(family.name()).copied().unwrap_or(self.default_concurrency).max(1)
    }

    fn ahead(&self, family: &Family) -> u32 {
        if family.service_slots() == Some(self.slots(family)) { self.queue_ahead } else { 0 }
    }
}

/// What a run works on: the expansion's selected `jobs` (after `--only`/`--shard`); its
/// `unselected` ones are listed in the results files and are not orphans.
#[derive(Debug)]
pub struct RunInput<'a> {
    pub expansion: &'a Expansion,
    /// The manifest's name, for `results.json`.
    pub name: Option<&'a str>,
}

/// What a run leaves: its summary and the ledger as it ended (the results files' source).
#[derive(Debug)]
pub struct RunOutcome {
    pub summary: RunSummary,
    pub ledger: Ledger,
}

/// Why a run could not start or finish its bookkeeping.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

#[derive(Debug, Clone, PartialEq)]
enum JobRun {
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
    },
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

enum WorkerEvent {
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
        result: Result<Vec<Candidate>, ApiError>,
    },
    Polled {
        idx: usize,
        result: Result<TaskResponse, ApiError>,
    },
    Downloaded {
        idx: usize,
        result: Result<Downloaded, DownloadError>,
    },
}

fn expect_of(job: &Job) -> Expect {
    Expect {
        model: job.model.clone(),
        prompt: job.prompt.clone(),
        size: job.size.clone(),
        duration: job.duration,
        audio: job.audio,
    }
}

fn visible_of(job: &Job) -> Visible {
    expect_of(job).visible()
}

struct Slot {
    limit: u32,
    /// Extra tasks allowed in flight past `limit` (see `RunOptions::queue_ahead`).
    ahead: u32,
    in_flight: u32,
    paused_until: Option<Instant>,
    backoff: Duration,
}

/// Runs the jobs; returns when everything is done or the run was stopped. The ledger is locked
/// for the duration and every state change is in the journal before the next step.
pub async fn run(
    input: RunInput<'_>,
    client: Client,
    options: &RunOptions,
    reporter: &mut dyn Reporter,
    interrupt: CancellationToken,
) -> Result<RunOutcome, RunError> {
    let started = Instant::now();
    let (jobs, output_dir) = (input.expansion.jobs.as_slice(), input.expansion.output_dir.as_path());
    std::fs::create_dir_all(output_dir).map_err(|e| LedgerError::Io { path: output_dir.to_path_buf(), source: e })?;
    let _lock = Lock::acquire(output_dir)?;
    let swept = files::sweep_leftovers(leftover_folders(output_dir, jobs.iter().chain(&input.expansion.unselected)));
    if swept > 0 {
        reporter.note(&Note::Info {
            message: format!("removed {swept} partial download(s) left by a run that was killed"),
        });
    }
    let journal_path = Ledger::journal_path(output_dir);
    let journal =
        Journal::open(&journal_path).map_err(|e| LedgerError::Io { path: journal_path.clone(), source: e })?;
    for repair in &journal.repairs {
        reporter.note(&Note::Info { message: format!("ledger repaired: {repair}") });
    }
    let ledger = Ledger::from_entries(journal.entries());
    let (tx, rx) = mpsc::unbounded_channel();
    // Evenly spaced, no bursts: the service counts in sliding one-second windows, where a burst
    // followed by the steady rate would exceed the limit.
    let per_second = |n: u32| {
        Quota::with_period(Duration::from_secs_f64(1.0 / f64::from(n.max(1))))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::MIN)
    };
    let endpoint = client.base_url().to_string();
    let mut coord = Coordinator {
        acks: Vec::new(),
        doubtful: Doubtful::default(),
        decided: false,
        held_for_run: HashSet::new(),
        run_started: jiff::Timestamp::now(),
        endpoint: endpoint.clone(),
        clients: HashMap::from([(endpoint, client.clone())]),
        doubts: BTreeMap::new(),
        evidence: HashMap::new(),
        probing: false,
        probe_sent: Instant::now(),
        next_probe: None,
        jobs,
        output_dir: output_dir.to_path_buf(),
        client,
        options,
        journal,
        ledger,
        states: vec![JobRun::Idle; jobs.len()],
        queues: BTreeMap::new(),
        slots: BTreeMap::new(),
        polls: BinaryHeap::new(),
        schedule: Schedule::new(options.poll),
        lanes: HashMap::new(),
        tx,
        rx,
        outstanding: 0,
        outstanding_submits: 0,
        query_limiter: Arc::new(RateLimiter::direct(per_second(options.query_per_second))),
        downloads: Arc::new(Semaphore::new(options.download_concurrency.max(1))),
        counts: Counts { total: jobs.len(), ..Counts::default() },
        failed_by_code: BTreeMap::new(),
        billed_seconds: 0.0,
        cost: 0.0,
        submissions: 0,
        queries: 0,
        stop: None,
        stop_deadline: None,
        halt: CancellationToken::new(),
        reserved: HashMap::new(),
        over_budget: 0,
        reporter,
    };
    coord.prepare().await;
    coord.main_loop(&interrupt).await;
    Ok(coord.finish(&input.expansion.unselected, input.name, started))
}

struct Coordinator<'a, 'r> {
    /// Lanes waiting for their last create's outcome to be durable (released by `commit`).
    acks: Vec<tokio::sync::oneshot::Sender<()>>,
    /// The visible requests of `doubts`, shared with the lanes.
    doubtful: Doubtful,
    /// A doubt was decided since the last commit (its twins wait for that commit).
    decided: bool,
    /// Visible requests of doubts this run left undecided: never sent again in this run.
    held_for_run: HashSet<Visible>,
    /// When this run started (written with every intent).
    run_started: jiff::Timestamp,
    /// The endpoint this run creates tasks at.
    endpoint: String,
    /// A client per endpoint that tasks of this ledger live at.
    clients: HashMap<String, Client>,
    doubts: BTreeMap<usize, InDoubt>,
    /// Finished candidates, as the service showed them (they do not change).
    evidence: HashMap<String, Candidate>,
    probing: bool,
    /// When the listing in progress was asked for: it decides only the doubts ready by then.
    probe_sent: Instant,
    next_probe: Option<Instant>,
    jobs: &'a [Job],
    output_dir: PathBuf,
    client: Client,
    options: &'a RunOptions,
    journal: Journal,
    ledger: Ledger,
    states: Vec<JobRun>,
    queues: BTreeMap<Family, VecDeque<usize>>,
    slots: BTreeMap<Family, Slot>,
    polls: BinaryHeap<Reverse<(Instant, usize)>>,
    schedule: Schedule,
    lanes: HashMap<String, mpsc::UnboundedSender<SubmitJob>>,
    tx: mpsc::UnboundedSender<WorkerEvent>,
    rx: mpsc::UnboundedReceiver<WorkerEvent>,
    /// Spawned requests whose event has not arrived.
    outstanding: usize,
    outstanding_submits: usize,
    query_limiter: Arc<DefaultDirectRateLimiter>,
    downloads: Arc<Semaphore>,
    counts: Counts,
    failed_by_code: BTreeMap<String, usize>,
    billed_seconds: f64,
    cost: f64,
    submissions: u64,
    queries: u64,
    stop: Option<Stop>,
    stop_deadline: Option<Instant>,
    /// Tells the lanes to send no more create calls.
    halt: CancellationToken,
    /// Estimated cost of each job in flight (given back when it fails, replaced when billed).
    reserved: HashMap<usize, f64>,
    over_budget: usize,
    reporter: &'r mut dyn Reporter,
}

impl Coordinator<'_, '_> {
    fn policy(&self, base: RetryPolicy) -> RetryPolicy {
        base.scaled(self.options.retry_scale)
    }

    fn slot(&mut self, family: &Family) -> &mut Slot {
        let (limit, ahead) = (self.options.slots(family), self.options.ahead(family));
        self.slots.entry(family.clone()).or_insert(Slot {
            limit,
            ahead,
            in_flight: 0,
            paused_until: None,
            backoff: Duration::from_secs(2),
        })
    }

    /// Appends to the journal and the in-memory ledger; a write error stops the run.
    fn record(&mut self, idx: usize, event: Event) {
        let entry = Entry { at: jiff::Timestamp::now(), key: self.jobs[idx].key.clone(), event };
        if let Err(e) = self.journal.append(&entry) {
            self.ledger_stop(&e);
        }
        self.ledger.apply(&entry);
    }

    fn commit(&mut self) -> bool {
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
    fn write(&mut self) {
        if let Err(e) = self.journal.write() {
            self.ledger_stop(&e);
        }
    }

    /// The journal cannot be written: stop submitting. Creates in the air still get
    /// `stop_grace` to answer: a journal that was rebuilt (its folder vanished) records their
    /// tasks, so the next run need not find out from the list API whose they are.
    fn ledger_stop(&mut self, e: &std::io::Error) {
        let message = format!("cannot write the ledger {}: {e}", self.journal.path().display());
        self.disk_stop(message, self.options.stop_grace);
    }

    /// Stops the run for a disk problem. With the journal still writable (a video could not be
    /// saved), creates in the air get `stop_grace` to answer, so their tasks are recorded.
    fn disk_stop(&mut self, message: String, grace: Duration) {
        if matches!(self.stop, Some(Stop::Disk { .. })) {
            return;
        }
        self.reporter.note(&Note::Info { message: message.clone() });
        self.stop = Some(Stop::Disk { message });
        self.stop_deadline = Some(Instant::now() + grace);
        self.halt.cancel();
    }

    fn fail(&mut self, idx: usize, code: &str, message: &str) {
        self.states[idx] = JobRun::Failed;
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

    /// Decides what to do with every selected job. Unanswered creates of earlier runs become
    /// jobs in doubt, which keep their slot until the evidence decides them.
    async fn prepare(&mut self) {
        let now = jiff::Timestamp::now();
        // Files the ledger knows, whichever job: anything else at a job's path is not ours.
        let known_files: HashSet<PathBuf> = self
            .ledger
            .records
            .values()
            .flat_map(|r| r.path.iter().chain(std::iter::once(&r.meta.output)))
            .map(PathBuf::from)
            .collect();
        let mut unknown_files = 0;
        let mut reconcile = Vec::new();
        for idx in 0..self.jobs.len() {
            let job = &self.jobs[idx];
            let record = self.ledger.records.get(&job.key).cloned();
            let record = record.as_ref();
            let decision =
                ledger::decide(record, self.options.retry_failed, now, |r| ledger::verify_file(&self.output_dir, r));
            let (code, message) = record
                .map(|r| (r.error_code.clone().unwrap_or_default(), r.error_message.clone().unwrap_or_default()))
                .unwrap_or_default();
            if matches!(decision, Decision::Lost) && record.is_some_and(|r| r.phase == ledger::Phase::Downloaded) {
                self.record(idx, Event::OutputLost { reason: "the downloaded file is missing or changed".into() });
            }
            match decision {
                Decision::Done => {
                    self.relocate(idx);
                    self.states[idx] = JobRun::Skipped;
                    self.counts.skipped += 1;
                }
                Decision::New
                    if record.is_none()
                        && !self.options.overwrite
                        && !known_files.contains(&job.output)
                        && self.output_dir.join(&job.output).exists() =>
                {
                    unknown_files += 1;
                    self.fail(
                        idx,
                        "OutputExists",
                        &format!(
                            "{} exists but the ledger does not know it (was .pixbatch deleted?): not rendered again, which would pay again and replace it; move it away, or pass --overwrite",
                            job.output.display()
                        ),
                    );
                }
                Decision::New => self.enqueue_back(idx),
                Decision::Resume => self.resume(idx),
                Decision::Download => self.start_download(idx),
                Decision::Reconcile => reconcile.push(idx),
                Decision::Failed => {
                    let code = if code.is_empty() { "Failed".to_owned() } else { code };
                    self.fail(
                        idx,
                        &code,
                        &format!("{message} (failed in an earlier run; --retry-failed resubmits it)"),
                    );
                }
                Decision::Ambiguous => self.fail(
                    idx,
                    "Ambiguous",
                    &format!("{message} (held: --retry-failed renders it again, paying again)"),
                ),
                Decision::Lost => self.fail(
                    idx,
                    "OutputLost",
                    "the video is missing and its URL has expired; --retry-failed renders it again",
                ),
            }
        }
        self.doubts_from_ledger(&reconcile, now);
        if unknown_files > 0 {
            self.reporter.note(&Note::Info {
                message: format!(
                    "{unknown_files} output file(s) exist that the ledger does not know (was .pixbatch deleted?); they are kept and those jobs not rendered: --overwrite renders them again"
                ),
            });
        }
        self.commit();
        self.report();
    }

    /// A job whose video is in place under an old name (its shot was renamed): the file moves
    /// to the job's path, unless something else is there, and the ledger says so.
    fn relocate(&mut self, idx: usize) {
        let job = &self.jobs[idx];
        let Some(record) = self.ledger.records.get(&job.key) else { return };
        let Some(old) = record.path.clone() else { return };
        let new = job.output.display().to_string();
        if old == new {
            return;
        }
        let (from, to) = (self.output_dir.join(&old), self.output_dir.join(&job.output));
        let message = if to.exists() {
            format!("{}: the video stays at {old}: {new} is taken by another file", job.name())
        } else {
            let moved = to.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| std::fs::rename(&from, &to));
            match moved {
                Ok(()) => {
                    self.record(idx, Event::Moved { from: old.clone(), to: new.clone() });
                    format!("{}: renamed, so its video moved from {old} to {new}", self.jobs[idx].name())
                }
                Err(e) => format!("{}: the video stays at {old}: cannot move it to {new}: {e}", self.jobs[idx].name()),
            }
        };
        self.reporter.note(&Note::Info { message });
    }

    fn enqueue_back(&mut self, idx: usize) {
        self.states[idx] = JobRun::Queued;
        self.counts.queued += 1;
        let family = self.jobs[idx].family.clone();
        self.slot(&family);
        self.queues.entry(family).or_default().push_back(idx);
    }

    /// A job with a task on the service: it holds a slot and is polled now.
    fn resume(&mut self, idx: usize) {
        let Some(task_id) = self.ledger.records.get(&self.jobs[idx].key).and_then(|r| r.task_id.clone()) else {
            self.enqueue_back(idx);
            return;
        };
        let family = self.jobs[idx].family.clone();
        self.slot(&family).in_flight += 1;
        self.counts.running += 1;
        let now = Instant::now();
        self.start_polling(idx, task_id, now, now);
    }

    /// The job's task is known: poll it from `due` on.
    fn start_polling(&mut self, idx: usize, task_id: String, now: Instant, due: Instant) {
        self.states[idx] = JobRun::Polling {
            task_id,
            submitted: now,
            started: now,
            status: TaskStatus::Pending,
            in_query: false,
            unknown_since: None,
        };
        self.polls.push(Reverse((due, idx)));
    }

    fn fatal(&mut self, e: &ApiError) {
        if self.stop.is_none() || matches!(self.stop, Some(Stop::Interrupted)) {
            self.stop =
                Some(Stop::Fatal { code: e.code.clone(), message: e.to_string(), hint: e.hint().map(str::to_owned) });
            self.stop_deadline = Some(Instant::now() + self.options.stop_grace);
        }
    }

    fn report(&mut self) {
        let counts = self.counts.clone();
        self.reporter.update(&counts);
    }

    fn lane(&mut self, model: &str) -> mpsc::UnboundedSender<SubmitJob> {
        if let Some(tx) = self.lanes.get(model) {
            return tx.clone();
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let lane = Lane {
            client: self.client.clone(),
            model: model.to_owned(),
            limiter: SlidingWindow::new(self.options.submit_per_second),
            submit: self.policy(RetryPolicy::submit()),
            poll: self.policy(RetryPolicy::poll()),
            sent_at: std::sync::Mutex::new(None),
            events: self.tx.clone(),
            halt: self.halt.clone(),
            uploads: self.ledger.live_uploads(model, jiff::Timestamp::now()),
            doubtful: self.doubtful.clone(),
        };
        tokio::spawn(lane.serve(rx));
        self.lanes.insert(model.to_owned(), tx.clone());
        tx
    }

    /// Fills free slots: writes the intents, syncs once, then hands the creates to the lanes.
    fn dispatch_submits(&mut self, now: Instant) {
        if self.stop.is_some() {
            return;
        }
        let mut batch = Vec::new();
        let mut ahead = HashSet::new();
        let families: Vec<Family> = self.queues.keys().cloned().collect();
        // The coordinator's own view: the commit below, before anything is sent, makes every
        // decision durable along with the intents.
        let doubtful: HashSet<Visible> = self.doubts.keys().map(|i| visible_of(&self.jobs[*i])).collect();
        for family in families {
            let mut held = Vec::new();
            loop {
                let slot = self.slot(&family);
                if slot.paused_until.is_some_and(|p| p > now) || slot.in_flight >= slot.limit + slot.ahead {
                    break;
                }
                let Some(idx) = self.queues.get_mut(&family).and_then(VecDeque::pop_front) else { break };
                if self.held_for_run.contains(&visible_of(&self.jobs[idx])) {
                    self.counts.queued -= 1;
                    self.fail(
                        idx,
                        "Unresolved",
                        "not sent: a job with the same visible request is still in doubt (its task could not be told from this one's); the next run looks again",
                    );
                    continue;
                }
                if doubtful.contains(&visible_of(&self.jobs[idx])) {
                    // Sent now, its task could not be told from the one in doubt.
                    held.push(idx);
                    continue;
                }
                if let Some(cap) = self.options.max_cost {
                    // An unknown price counts as free here; `plan` warns about unpriced jobs.
                    let estimate = estimate_cost(&self.jobs[idx]).unwrap_or(0.0);
                    let committed = self.cost + self.reserved.values().sum::<f64>();
                    if committed + estimate > cap + 1e-9 {
                        self.states[idx] = JobRun::OverBudget;
                        self.counts.queued -= 1;
                        self.over_budget += 1;
                        continue;
                    }
                    self.reserved.insert(idx, estimate);
                }
                let slot = self.slot(&family);
                if slot.in_flight >= slot.limit {
                    ahead.insert(idx);
                }
                slot.in_flight += 1;
                let job = &self.jobs[idx];
                let attempt = self.ledger.records.get(&job.key).map_or(0, |r| r.attempts) + 1;
                let meta = JobMeta {
                    shot: job.shot.clone(),
                    variant: job.variant.clone(),
                    model: job.model.clone(),
                    size: job.size.clone(),
                    duration: job.duration,
                    audio: job.audio,
                    seed: job.seed,
                    output: job.output.display().to_string(),
                };
                let (endpoint, run) = (Some(self.endpoint.clone()), Some(self.run_started));
                self.record(idx, Event::Intent { attempt, meta, endpoint, run });
                self.states[idx] = JobRun::Submitting;
                self.counts.queued -= 1;
                self.counts.running += 1;
                batch.push(idx);
            }
            let queue = self.queues.entry(family).or_default();
            for idx in held.into_iter().rev() {
                queue.push_front(idx);
            }
        }
        if batch.is_empty() || !self.commit() {
            return;
        }
        for idx in batch {
            let job = &self.jobs[idx];
            let local = job
                .media
                .iter()
                .enumerate()
                .filter_map(|(i, m)| match &m.source {
                    crate::plan::MediaSource::Local { path, content_hash } => {
                        Some((i, path.clone(), content_hash.clone()))
                    }
                    crate::plan::MediaSource::Url(_) => None,
                })
                .collect();
            let submit = SubmitJob {
                idx,
                body: job.request_body(),
                local,
                ahead: ahead.contains(&idx),
                visible: visible_of(job),
            };
            let lane = self.lane(&job.model);
            if lane.send(submit).is_ok() {
                self.outstanding += 1;
                self.outstanding_submits += 1;
            }
        }
    }

    /// Sends the queries that are due, as the query budget allows; returns when to look again.
    fn dispatch_polls(&mut self, now: Instant) -> Option<Instant> {
        if matches!(self.stop, Some(Stop::Fatal { .. } | Stop::Disk { .. })) {
            return None;
        }
        while let Some(&Reverse((due, idx))) = self.polls.peek() {
            if due > now {
                return Some(due);
            }
            if let Err(not_until) = self.query_limiter.check() {
                let wait =
                    not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
                return Some(now + wait.max(Duration::from_millis(1)));
            }
            self.polls.pop();
            let Some(client) = self.job_client(idx) else { continue };
            let JobRun::Polling { task_id, in_query, .. } = &mut self.states[idx] else { continue };
            *in_query = true;
            let (id, tx, policy) = (task_id.clone(), self.tx.clone(), self.policy(RetryPolicy::poll()));
            self.outstanding += 1;
            self.queries += 1;
            tokio::spawn(async move {
                let result = policy.run(|| client.get_task(&id)).await;
                let _ = tx.send(WorkerEvent::Polled { idx, result });
            });
        }
        None
    }

    /// Where a job's task lives: the endpoint that created it, whatever this run's is.
    fn endpoint_of(&self, idx: usize) -> String {
        self.ledger
            .records
            .get(&self.jobs[idx].key)
            .and_then(|r| r.endpoint.clone())
            .unwrap_or_else(|| self.endpoint.clone())
    }

    fn client_at(&mut self, endpoint: &str) -> Result<Client, crate::api::ConfigError> {
        if let Some(c) = self.clients.get(endpoint) {
            return Ok(c.clone());
        }
        let client = self.client.at(endpoint)?;
        self.clients.insert(endpoint.to_owned(), client.clone());
        Ok(client)
    }

    /// The client for a job's task, or the job fails (a ledger naming an endpoint that is not
    /// one; nothing is written off).
    fn job_client(&mut self, idx: usize) -> Option<Client> {
        let endpoint = self.endpoint_of(idx);
        match self.client_at(&endpoint) {
            Ok(c) => Some(c),
            Err(e) => {
                self.release(idx);
                self.fail(
                    idx,
                    "BadEndpoint",
                    &format!("its task was created at `{endpoint}`, which cannot be used: {e}"),
                );
                None
            }
        }
    }

    fn start_download(&mut self, idx: usize) {
        let Some(url) = self.ledger.records.get(&self.jobs[idx].key).and_then(|r| r.video_url.clone()) else {
            self.fail(idx, "NoVideoUrl", "the task succeeded without a video URL");
            return;
        };
        self.states[idx] = JobRun::Downloading;
        self.counts.downloading += 1;
        let dest = self.output_dir.join(&self.jobs[idx].output);
        let (client, tx, sem, policy) =
            (self.client.clone(), self.tx.clone(), self.downloads.clone(), self.policy(RetryPolicy::download()));
        self.outstanding += 1;
        tokio::spawn(async move {
            let result = download(&client, &url, &dest, &sem, &policy).await;
            let _ = tx.send(WorkerEvent::Downloaded { idx, result });
        });
    }

    fn release(&mut self, idx: usize) {
        self.reserved.remove(&idx);
        let family = self.jobs[idx].family.clone();
        let slot = self.slot(&family);
        slot.in_flight = slot.in_flight.saturating_sub(1);
        self.counts.running = self.counts.running.saturating_sub(1);
    }

    fn requeue_front(&mut self, idx: usize) {
        self.states[idx] = JobRun::Queued;
        self.counts.queued += 1;
        let family = self.jobs[idx].family.clone();
        self.queues.entry(family).or_default().push_front(idx);
    }

    fn handle(&mut self, event: WorkerEvent) {
        let now = Instant::now();
        match event {
            WorkerEvent::Lane { event, recorded } => {
                self.handle(*event);
                self.acks.push(recorded);
            }
            WorkerEvent::Uploaded { idx, content_hash, model, url } => {
                self.record(idx, Event::Uploaded { content_hash, model, url });
            }
            WorkerEvent::Submitted { idx, task_id } => {
                self.outstanding -= 1;
                self.outstanding_submits -= 1;
                self.submissions += 1;
                self.record(idx, Event::Submitted { task_id: task_id.clone() });
                self.reporter.note(&Note::Submitted { job: self.jobs[idx].name(), task_id: task_id.clone() });
                self.poll_later(idx, task_id, now);
            }
            WorkerEvent::Deferred { idx } => {
                self.outstanding -= 1;
                self.outstanding_submits -= 1;
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
                self.outstanding -= 1;
                self.outstanding_submits -= 1;
                self.release(idx);
                let error = ApiError::transport("Stopped", "the run stopped before this job was sent".into(), false);
                self.record(idx, submit_failed(&error, ErrorClass::Transient));
                self.requeue_front(idx);
            }
            WorkerEvent::SubmitFailed { idx, error } => {
                self.outstanding -= 1;
                self.outstanding_submits -= 1;
                self.release(idx);
                if error.is_run_fatal() {
                    // Not this job's fault: it stays new for the next run.
                    self.record(idx, submit_failed(&error, ErrorClass::Transient));
                    self.requeue_front(idx);
                    self.fatal(&error);
                } else if error.is_transient() {
                    self.record(idx, submit_failed(&error, ErrorClass::Transient));
                    self.requeue_front(idx);
                    let family = self.jobs[idx].family.clone();
                    let slot = self.slot(&family);
                    let backoff = slot.backoff;
                    slot.paused_until = Some(now + backoff);
                    slot.backoff = (backoff * 2).min(Duration::from_secs(60));
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
                self.outstanding -= 1;
                self.outstanding_submits -= 1;
                self.release(idx);
                self.record(idx, submit_failed(&error, ErrorClass::Transient));
                self.requeue_front(idx);
                let family = self.jobs[idx].family.clone();
                let slot = self.slot(&family);
                slot.ahead = 0;
                let limit = slot.limit;
                self.reporter.note(&Note::Info {
                    message: format!(
                        "{family}: the service refused a task past its {limit} running ones ({error}); \
                         keeping to {limit} in flight for this family"
                    ),
                });
            }
            WorkerEvent::Unanswered { idx, sent_at, failed_at, error } => {
                self.outstanding -= 1;
                self.outstanding_submits -= 1;
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
                self.add_doubt(idx, self.endpoint.clone(), sent_at, failed_at);
            }
            WorkerEvent::Probed { result } => {
                self.outstanding -= 1;
                self.probing = false;
                self.probed(result, now);
            }
            WorkerEvent::Polled { idx, result } => {
                self.outstanding -= 1;
                self.polled(idx, result, now);
            }
            WorkerEvent::Downloaded { idx, result } => {
                self.outstanding -= 1;
                self.counts.downloading -= 1;
                match result {
                    Ok(d) => {
                        let path = self.jobs[idx].output.display().to_string();
                        self.record(idx, Event::Downloaded { path: path.clone(), bytes: d.bytes, sha256: d.sha256 });
                        self.states[idx] = JobRun::Done;
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

    fn poll_later(&mut self, idx: usize, task_id: String, now: Instant) {
        let due = self.schedule.next(&self.jobs[idx].family, now, now);
        self.start_polling(idx, task_id, now, due);
    }

    fn polled(&mut self, idx: usize, result: Result<TaskResponse, ApiError>, now: Instant) {
        let JobRun::Polling { submitted, started, status, unknown_since, .. } = self.states[idx].clone() else {
            return;
        };
        let family = self.jobs[idx].family.clone();
        let resp = match result {
            Ok(r) => r,
            Err(e) if e.is_run_fatal() => {
                let endpoint = self.endpoint_of(idx);
                if endpoint == self.endpoint {
                    self.fatal(&e);
                } else {
                    // Nothing is written off: the tasks wait at their endpoint for a key that works there.
                    let mut e = e;
                    e.message = format!(
                        "{} — at {}, where task(s) of this ledger were created; this run's endpoint is {}",
                        e.message,
                        describe_endpoint(&endpoint),
                        describe_endpoint(&self.endpoint)
                    );
                    self.fatal(&e);
                    if let Some(Stop::Fatal { hint, .. }) = &mut self.stop {
                        *hint = Some(format!(
                            "those tasks can only be finished at {endpoint}: run with a key that works there (DASHSCOPE_BASE_URL does not move them); they are kept, not resubmitted"
                        ));
                    }
                }
                return;
            }
            Err(e) => {
                tracing::debug!(error = %e, job = %self.jobs[idx].name(), "query failed; trying later");
                self.set_polling(idx, started, status);
                self.polls.push(Reverse((now + self.options.poll.max_interval, idx)));
                return;
            }
        };
        let out = &resp.output;
        let new_status = out.task_status;
        if new_status.is_final()
            && let (Some(s), Some(e)) = (&out.scheduled_time, &out.end_time)
            && let Some(secs) = service_seconds(s, e)
        {
            self.schedule.observe(&family, secs);
        }
        match new_status {
            TaskStatus::Succeeded => {
                self.release(idx);
                let usage = resp.usage.clone();
                let estimate = estimate_cost(&self.jobs[idx]).unwrap_or(0.0);
                match usage.as_ref().and_then(|u| u.duration) {
                    Some(secs) => {
                        self.billed_seconds += secs;
                        self.cost += estimate / f64::from(self.jobs[idx].duration.max(1)) * secs;
                    }
                    // No usage reported: count the estimate, so the budget never leaks.
                    None => self.cost += estimate,
                }
                self.record(
                    idx,
                    Event::Finished {
                        status: TaskStatus::Succeeded,
                        code: None,
                        message: None,
                        video_url: out.video_url.clone(),
                        usage,
                    },
                );
                self.start_download(idx);
            }
            TaskStatus::Unknown if !self.forgotten(idx) => {
                // Too soon for the service to have forgotten it: another endpoint's task, or
                // the service not knowing yet. Never written off; asked again, then left for
                // the next run.
                let endpoint = self.endpoint_of(idx);
                let first = unknown_since.unwrap_or(now);
                if unknown_since.is_none() {
                    self.record(
                        idx,
                        Event::NotFound {
                            endpoint: endpoint.clone(),
                            reason: "answered UNKNOWN too soon for the task to have expired; kept, not resubmitted"
                                .into(),
                        },
                    );
                }
                if now.saturating_duration_since(first) >= self.options.unknown_grace {
                    self.release(idx);
                    self.fail(
                        idx,
                        "TaskNotFound",
                        &format!(
                            "{} does not know its task, created less than 24 h ago: it is kept and not resubmitted; the next run asks again (a task lives at the endpoint that created it)",
                            describe_endpoint(&endpoint)
                        ),
                    );
                    return;
                }
                if let JobRun::Polling { unknown_since, .. } = &mut self.states[idx] {
                    *unknown_since = Some(first);
                }
                self.set_polling(idx, started, status);
                self.polls.push(Reverse((now + self.options.poll.max_interval, idx)));
            }
            TaskStatus::Failed | TaskStatus::Canceled | TaskStatus::Unknown => {
                self.release(idx);
                let (code, message) = match new_status {
                    TaskStatus::Failed => (
                        out.code.clone().unwrap_or_else(|| ledger::TASK_FAILED_CODE.into()),
                        out.message.clone().unwrap_or_else(|| ledger::TASK_FAILED_MESSAGE.into()),
                    ),
                    TaskStatus::Canceled => ("Canceled".into(), "the task was cancelled".into()),
                    _ => ("TaskExpired".into(), "the service no longer knows this task (older than 24 h?)".into()),
                };
                self.record(
                    idx,
                    Event::Finished {
                        status: new_status,
                        code: out.code.clone(),
                        message: out.message.clone(),
                        video_url: None,
                        usage: None,
                    },
                );
                self.fail(idx, &code, &format!("{message}; --retry-failed resubmits it"));
            }
            TaskStatus::Pending | TaskStatus::Running | TaskStatus::Other => {
                if new_status != status {
                    self.record(idx, Event::Status { status: new_status });
                }
                let mut started = started;
                if new_status == TaskStatus::Running
                    && status != TaskStatus::Running
                    && let (Some(sub), Some(sch)) = (&out.submit_time, &out.scheduled_time)
                    && let Some(queued) = service_seconds(sub, sch)
                {
                    started = submitted + Duration::from_secs_f64(queued.max(0.0));
                }
                if now.saturating_duration_since(submitted) > self.options.task_timeout {
                    self.release(idx);
                    self.record(idx, Event::TimedOut);
                    self.fail(
                        idx,
                        "Timeout",
                        "gave up waiting for the task; the next run polls it again (not resubmitted)",
                    );
                    return;
                }
                self.set_polling(idx, started, new_status);
                self.polls.push(Reverse((self.schedule.next(&family, started, now), idx)));
            }
        }
    }

    /// Whether the service may have forgotten the job's task (24 h after it was made).
    fn forgotten(&self, idx: usize) -> bool {
        let record = self.ledger.records.get(&self.jobs[idx].key);
        let made = record.and_then(|r| r.submitted_at.or(r.intent_at));
        made.is_none_or(|t| jiff::Timestamp::now().duration_since(t) > jiff::SignedDuration::from_hours(23))
    }

    fn set_polling(&mut self, idx: usize, started_at: Instant, new_status: TaskStatus) {
        if let JobRun::Polling { started, status, in_query, .. } = &mut self.states[idx] {
            *started = started_at;
            *status = new_status;
            *in_query = false;
        }
    }

    fn finished(&self) -> bool {
        if self.stop.is_some() {
            return self.outstanding_submits == 0 || self.stop_deadline.is_some_and(|d| Instant::now() >= d);
        }
        self.outstanding == 0
            && self.polls.is_empty()
            && self.doubts.is_empty()
            && self.queues.values().all(VecDeque::is_empty)
    }

    async fn main_loop(&mut self, interrupt: &CancellationToken) {
        let mut cancelled = false;
        loop {
            if !cancelled && matches!(self.stop, Some(Stop::TooManyFailures { .. })) {
                // Stop spending: what waits on the service has not started; it waits for the next run.
                cancelled = true;
                self.cancel_pending().await;
            }
            let now = Instant::now();
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
            let pause_wake = self.slots.values().filter_map(|s| s.paused_until).filter(|p| *p > now).min();
            let probe_wake = self.next_probe.filter(|_| !self.probing && !self.doubts.is_empty());
            let wake = [poll_wake, pause_wake, self.stop_deadline, probe_wake].into_iter().flatten().min();
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
                () = interrupt.cancelled(), if self.stop.is_none() => self.interrupted().await,
            }
        }
    }

    async fn interrupted(&mut self) {
        self.stop = Some(Stop::Interrupted);
        self.stop_deadline = Some(Instant::now() + self.options.stop_grace);
        self.halt.cancel();
        self.reporter.note(&Note::Info {
            message: "interrupted: no new submissions; recording what is in flight (Ctrl-C again to quit at once)"
                .into(),
        });
        if self.options.cancel_on_interrupt {
            self.cancel_pending().await;
        }
    }

    /// Cancels the tasks last seen PENDING (not started, not billed); the next run submits
    /// them again. A task that started meanwhile refuses, runs on, and is resumed next run.
    async fn cancel_pending(&mut self) {
        let pending: Vec<(usize, String)> = self
            .states
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                JobRun::Polling { task_id, status: TaskStatus::Pending, .. } => Some((i, task_id.clone())),
                _ => None,
            })
            .collect();
        for (idx, task_id) in pending {
            let Some(client) = self.job_client(idx) else { continue };
            match client.cancel_task(&task_id).await {
                Ok(()) => {
                    self.release(idx);
                    self.record(idx, Event::Canceled);
                    self.states[idx] = JobRun::Queued;
                    self.reporter
                        .note(&Note::Info { message: format!("cancelled {} (task {task_id})", self.jobs[idx].name()) });
                }
                Err(e) => self.reporter.note(&Note::Info {
                    message: format!("could not cancel {} (task {task_id}): {e}", self.jobs[idx].name()),
                }),
            }
        }
        self.commit();
    }

    fn finish(mut self, others: &[Job], name: Option<&str>, started: Instant) -> RunOutcome {
        self.commit();
        // results.csv lists every job of the manifest, this run's first.
        let rows = results::rows(self.jobs.iter().chain(others), std::iter::empty(), &self.ledger);
        if let Err(e) = results::write(&self.output_dir, name, &rows) {
            let message = format!("cannot write results.csv/results.json in {}: {e}", self.output_dir.display());
            self.reporter.note(&Note::Info { message: message.clone() });
            if self.stop.is_none() {
                self.stop = Some(Stop::Disk { message });
            }
        }
        let left_in_flight = self
            .states
            .iter()
            .filter(|s| matches!(s, JobRun::Polling { .. } | JobRun::Submitting | JobRun::InDoubt))
            .count();
        let not_started = self.states.iter().filter(|s| matches!(s, JobRun::Queued | JobRun::OverBudget)).count();
        if self.over_budget > 0 && self.stop.is_none() {
            self.stop = Some(Stop::Budget { skipped: self.over_budget });
        }
        self.report();
        let summary = RunSummary {
            counts: self.counts.clone(),
            failed_by_code: self.failed_by_code.clone(),
            not_started,
            left_in_flight,
            billed_seconds: self.billed_seconds,
            cost_cny: round_cents(self.cost),
            submissions: self.submissions,
            queries: self.queries,
            wall_seconds: started.elapsed().as_secs_f64(),
            stop: self.stop.clone(),
        };
        RunOutcome { summary, ledger: self.ledger }
    }
}

fn submit_failed(error: &ApiError, class: ErrorClass) -> Event {
    Event::SubmitFailed { code: error.code.clone(), message: error.message.clone(), class }
}

/// The folders a killed run may have left temporary files in: the output folder, the
/// ledger's, and every folder this manifest's videos go to.
fn leftover_folders<'a>(output_dir: &Path, jobs: impl Iterator<Item = &'a Job>) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> =
        jobs.filter_map(|j| output_dir.join(&j.output).parent().map(Path::to_path_buf)).collect();
    folders.push(output_dir.to_path_buf());
    folders.push(output_dir.join(ledger::LEDGER_DIR));
    folders
}

/// Downloads one video next to its final path, checks it, and renames it into place.
async fn download(
    client: &Client,
    url: &str,
    dest: &Path,
    sem: &Semaphore,
    policy: &RetryPolicy,
) -> Result<Downloaded, DownloadError> {
    // The semaphore is never closed; without a permit the download just goes ahead.
    let _permit = sem.acquire().await.ok();
    let disk = |e: std::io::Error| DownloadError::disk(dest, e);
    let dir = dest.parent().unwrap_or(Path::new("."));
    tokio::fs::create_dir_all(dir).await.map_err(disk)?;
    let tmp = tempfile::Builder::new().prefix(files::TEMP_PREFIX).suffix(".part").tempfile_in(dir).map_err(disk)?;
    let downloaded = policy
        .run(|| async {
            let d = client.download(url, tmp.path()).await?;
            let mut head = [0u8; 8];
            let ok = {
                use std::io::Read;
                std::fs::File::open(tmp.path()).and_then(|mut f| f.read_exact(&mut head)).is_ok()
            };
            if !ok || &head[4..8] != b"ftyp" {
                let e = ApiError::transport("NotAnMp4", "the downloaded file is not an MP4".into(), false);
                return Err(DownloadError::Api(e));
            }
            Ok(d)
        })
        .await?;
    // Temp files are private; a finished video is an ordinary file.
    files::set_readable(tmp.as_file()).map_err(disk)?;
    tmp.persist(dest).map_err(|e| disk(e.error))?;
    Ok(downloaded)
}
