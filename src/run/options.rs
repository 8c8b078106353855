//! What a run is given: its options (from flags and the manifest's `run:` section), its jobs,
//! and what it returns.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{PollConfig, RunSummary};
use crate::catalog::Family;
use crate::ledger::Ledger;
use crate::ledger::LedgerError;
pub use crate::manifest::Order;
use crate::plan::Expansion;

/// How a run behaves; the CLI fills it from flags and the manifest's `run:` section.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Running tasks per pool name (`c1`, `v5.6`, `vidu`, `kling`, a model id); others get
    /// `default_concurrency`.
    pub concurrency: BTreeMap<String, u32>,
    /// Running tasks of a pool `concurrency` does not name; `None`: the service's own cap for
    /// that pool (5, Kling's 10, Wan 2.2/2.1's 2; 5 outside the catalog).
    pub default_concurrency: Option<u32>,
    /// Resubmit jobs that failed (or whose video was lost) in earlier runs.
    pub retry_failed: bool,
    /// Creates per second per model; `None`: each model's own limit from the catalog (5 for
    /// most, 2 for Wan 2.2/2.1), 5 for a model outside it.
    pub submit_per_second: Option<u32>,
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
    /// `run.budget`: CNY over every run of the manifest (the ledger's billed + committed).
    pub budget: Option<f64>,
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
    /// How far our clock and the service's may disagree about when a task was created, until
    /// answered creates show how far they do.
    pub clock_tolerance: Duration,
    /// What is allowed either way around the offset between the clocks that answered creates
    /// show (see [`super::doubt::Offset::learn`]).
    pub learnt_clock_slack: Duration,
    /// How long a task that its endpoint answers UNKNOWN for (too soon to be forgotten) is
    /// asked about again before this run stops waiting for it.
    pub unknown_grace: Duration,
    /// How long an endpoint may stay unreachable before the run stops waiting for it (its
    /// tasks are left for the next run; this run's own endpoint stops the creates).
    pub unreachable_grace: Duration,
    /// Added to a task's predicted render time (× 1.5) before a task whose endpoint cannot be
    /// reached gives its slot back: the service has finished it by then.
    pub unreachable_hold: Duration,
    /// Render jobs whose output file exists although the ledger does not know it (a deleted
    /// `.pixbatch`), replacing the file: it pays again.
    pub overwrite: bool,
    /// The order jobs are submitted in within each family (see [`Order`]).
    pub order: Order,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            concurrency: BTreeMap::new(),
            default_concurrency: None,
            retry_failed: false,
            submit_per_second: None,
            query_per_second: 10,
            poll: PollConfig::default(),
            task_timeout: Duration::from_secs(3 * 3600 + 600),
            download_concurrency: 8,
            cancel_on_interrupt: false,
            retry_scale: 1.0,
            reconcile_settle: Duration::from_secs(2),
            stop_grace: Duration::from_secs(5),
            max_cost: None,
            budget: None,
            max_failures: None,
            queue_ahead: 2,
            doubt_recheck: Duration::from_secs(5),
            clock_tolerance: Duration::from_secs(2),
            learnt_clock_slack: Duration::from_millis(250),
            unknown_grace: Duration::from_secs(60),
            unreachable_grace: Duration::from_secs(120),
            unreachable_hold: Duration::from_secs(30),
            overwrite: false,
            order: Order::default(),
        }
    }
}

/// Running tasks for a model outside the catalog (every documented pool runs at least 5).
const UNKNOWN_POOL_SLOTS: u32 = 5;

impl RunOptions {
    /// The defaults with the manifest's `run:` section applied (flags then override these).
    pub fn from_section(section: &crate::manifest::RunSection) -> RunOptions {
        let defaults = RunOptions::default();
        RunOptions {
            concurrency: section.concurrency.clone(),
            max_cost: section.max_cost,
            budget: section.budget,
            queue_ahead: section.queue_ahead.unwrap_or(defaults.queue_ahead),
            order: section.order.unwrap_or(defaults.order),
            ..defaults
        }
    }

    pub(super) fn slots(&self, family: &Family) -> u32 {
        let service = family.service_slots().unwrap_or(UNKNOWN_POOL_SLOTS);
        self.concurrency.get(family.name()).copied().or(self.default_concurrency).unwrap_or(service).max(1)
    }

    pub(super) fn ahead(&self, family: &Family) -> u32 {
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
    /// Whether `results.csv` and `results.json` were written (a full disk may refuse them).
    pub results_written: bool,
}

/// Why a run could not start or finish its bookkeeping.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}
