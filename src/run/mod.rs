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
mod coordinator;
pub mod doubt;
mod download;
mod events;
mod lane;
mod options;
mod order;
mod poll;
mod pools;
pub mod predict;
mod prepare;
mod reach;
pub mod reconcile;
pub mod report;
pub mod schedule;
mod submit;

use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::{Quota, RateLimiter};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

pub use options::{Order, RunError, RunInput, RunOptions, RunOutcome};
pub use pools::StoryboardBudget;
pub use report::{Counts, Note, REPORT_FORMAT, Report, Reporter, RunSummary, Silent, Stop};
pub use schedule::PollConfig;

use crate::api::Client;
use crate::files;
use crate::ledger;
use coordinator::Coordinator;
use download::{leftover_folders, unused_folders};
use events::JobState;
use lane::Doubtful;
use pools::Budget;
use schedule::Schedule;

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
    let ledger::Opened { lock: _lock, journal, ledger } = ledger::open_locked(output_dir)?;
    // Only with the lock held: no other pixbatch is writing these.
    let swept = files::sweep_leftovers(leftover_folders(output_dir, jobs.iter().chain(&input.expansion.unselected)));
    if swept > 0 {
        reporter.note(&Note::Info {
            message: format!("removed {swept} partial download(s) left by a run that was killed"),
        });
    }
    for repair in &journal.repairs {
        reporter.note(&Note::Info { message: format!("ledger repaired: {repair}") });
    }
    let storyboard = options.budget.map(|b| storyboard_budget(b, &ledger, jobs));
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
        twin_wake: None,
        held_for_run: HashSet::new(),
        run_started: jiff::Timestamp::now(),
        endpoint: endpoint.clone(),
        clients: HashMap::from([(endpoint, client.clone())]),
        doubts: BTreeMap::new(),
        evidence: HashMap::new(),
        probing: false,
        probe_sent: Instant::now(),
        next_probe: None,
        listed: HashMap::new(),
        answered_at: HashMap::new(),
        clock_samples: HashMap::new(),
        jobs,
        output_dir: output_dir.to_path_buf(),
        client,
        options,
        journal,
        ledger,
        states: vec![JobState::Idle; jobs.len()],
        queues: BTreeMap::new(),
        pools: BTreeMap::new(),
        polls: BinaryHeap::new(),
        schedule: Schedule::new(options.poll),
        predictor: predict::Predictor::load(&output_dir.join(ledger::LEDGER_DIR)),
        rearrange: None,
        lanes: HashMap::new(),
        tx,
        rx,
        in_air: Default::default(),
        query_limiter: Arc::new(RateLimiter::direct(per_second(options.query_per_second))),
        downloads: Arc::new(Semaphore::new(options.download_concurrency.max(1))),
        counts: Counts { total: jobs.len(), ..Counts::default() },
        failed_by_code: BTreeMap::new(),
        billed_seconds: 0.0,
        budget: Budget::with_storyboard(options.max_cost, storyboard),
        submissions: 0,
        queries: 0,
        stop: None,
        stop_deadline: None,
        halt: CancellationToken::new(),
        over_budget: 0,
        reach: Default::default(),
        parked: 0,
        abandoned: None,
        refused_models: BTreeMap::new(),
        reporter,
    };
    coord.prepare();
    coord.main_loop(&interrupt).await;
    // Picks, read once for results.csv and the contact sheet.
    let picks = crate::review::Picks::load(output_dir).unwrap_or_else(|e| {
        coord.reporter.note(&Note::Info { message: format!("{e}; results.csv and review.html show no picks") });
        crate::review::Picks::default()
    });
    let outcome = coord.finish([&input.expansion.unselected, &input.expansion.waiting], input.name, started, &picks);
    // A renamed shot's video moved to its new folder; its old folder, if empty, goes too.
    let unused = unused_folders(output_dir, &outcome.ledger, jobs.iter().chain(&input.expansion.unselected));
    let removed = files::remove_empty_folders(unused);
    if removed > 0 {
        reporter.note(&Note::Info { message: format!("removed {removed} empty folder(s) that no job uses any more") });
    }
    // The contact sheet beside results.csv; a failure to write it costs nothing already paid.
    if let Err(e) = crate::review::sheet::write(input.expansion, &outcome.ledger, &picks, input.name) {
        reporter.note(&Note::Info { message: format!("cannot write review.html in {}: {e}", output_dir.display()) });
    }
    Ok(outcome)
}

/// The ledger's spend before this run, for `run.budget`: billed and committed over every run,
/// less the committed tasks of this run's own jobs (it resumes or reconciles them, and counts
/// them itself).
fn storyboard_budget(budget: f64, ledger: &ledger::Ledger, jobs: &[crate::plan::Job]) -> pools::StoryboardBudget {
    let mine: HashSet<&crate::key::JobKey> = jobs.iter().map(|j| &j.key).collect();
    let mut by_run: BTreeMap<String, f64> = BTreeMap::new();
    for r in ledger.records.values() {
        // A task of this run's own jobs still on the service: this run counts it (it holds it
        // at its estimate when it resumes it), not the ledger's past.
        let resumed = mine.contains(&r.key) && matches!(r.phase, ledger::Phase::Intent | ledger::Phase::InFlight);
        for a in r.attempts().filter(|a| !(a.current && resumed)) {
            let cny = a.spend.cny();
            if cny > 0.0 {
                let run = a.run.map_or_else(|| "(unknown run)".to_owned(), |t| t.to_string());
                *by_run.entry(run).or_default() += cny;
            }
        }
    }
    pools::StoryboardBudget {
        budget_cny: budget,
        spent_before_cny: crate::catalog::round_cents(by_run.values().sum()),
        by_run: by_run.into_iter().map(|(run, c)| (run, crate::catalog::round_cents(c))).collect(),
    }
}
