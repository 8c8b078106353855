//! What a run tells its caller while it works, and at the end. The library never prints: the
//! CLI implements [`Reporter`] with a progress bar on a terminal and plain lines elsewhere.

use serde::Serialize;
use std::collections::BTreeMap;

/// Job counts at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Counts {
    /// Jobs this run is about (after `--only`/`--shard`).
    pub total: usize,
    /// Finished before this run started (verified on disk).
    pub skipped: usize,
    /// Downloaded and verified during this run.
    pub done: usize,
    /// Waiting for a slot.
    pub queued: usize,
    /// Submitted and not finished on the service.
    pub running: usize,
    /// Submitted, but their endpoint cannot be reached: nobody knows how they are doing.
    pub unreachable: usize,
    pub downloading: usize,
    pub failed: usize,
}

/// A notable thing that happened to one job.
#[derive(Debug, Clone)]
pub enum Note {
    Submitted {
        job: String,
        task_id: String,
    },
    Done {
        job: String,
        path: String,
    },
    Failed {
        job: String,
        code: String,
        message: String,
    },
    Reconciled {
        job: String,
        decision: String,
    },
    /// Something the user should know that is not a failure (a retry, a throttled family).
    Info {
        message: String,
    },
    /// Something the user must act on or know at once (an endpoint that cannot be reached, a
    /// model the account cannot use).
    Warn {
        message: String,
    },
}

/// Why a run stopped before everything was done.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Stop {
    /// Ctrl-C or SIGTERM.
    Interrupted,
    /// An API error that no create can get past (key, billing, quota). What was on the service
    /// was still polled and downloaded unless interrupted.
    Fatal { code: String, message: String, hint: Option<String> },
    /// The account cannot use these models: their `jobs` were not rendered, everything else was.
    ModelUnavailable { models: Vec<String>, code: String, message: String, hint: Option<String>, jobs: usize },
    /// An endpoint stayed unreachable for `--unreachable-grace` (`error` says how). Its tasks
    /// are kept for the next run; nothing was written off or resubmitted.
    Unreachable { endpoint: String, error: String, seconds: u64 },
    /// The ledger could not be written.
    Disk { message: String },
    /// `--max-cost` (or `run.budget`, said in `storyboard`) would have been crossed.
    Budget {
        skipped: usize,
        /// What the jobs not submitted were estimated at.
        #[serde(default)]
        rest_cny: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        storyboard: Option<super::pools::StoryboardBudget>,
    },
    /// `--max-failures` was reached.
    TooManyFailures { failed: usize },
}

/// The end of a run.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RunSummary {
    pub counts: Counts,
    /// Failures by error code (this run's and earlier failed jobs not retried).
    pub failed_by_code: BTreeMap<String, usize>,
    /// Jobs not started because the run stopped (or the budget said no).
    pub not_started: usize,
    /// Tasks (with an id) still on the service when the run stopped (the next run resumes them).
    pub left_in_flight: usize,
    /// Creates whose outcome is not known (sent, no answer): the next run asks the list API.
    pub creates_in_doubt: usize,
    /// Seconds of video billed in this run.
    pub billed_seconds: f64,
    /// CNY billed in this run, at each job's price (the catalog's, or the manifest's
    /// `run.prices`), for the seconds the service billed.
    pub cost_cny: f64,
    pub submissions: u64,
    pub queries: u64,
    /// Wall-clock seconds the run took.
    pub wall_seconds: f64,
    pub stop: Option<Stop>,
    /// Jobs not sent because a generated ref they use has no pick yet.
    #[serde(default)]
    pub waiting: usize,
    /// The generated refs that wait for a pick (`pixbatch review`, `pixbatch pick`).
    #[serde(default)]
    pub waiting_for: Vec<String>,
}

impl RunSummary {
    /// One summary for a run made of stages: `next` ran after `self`, over the same ledger, so
    /// its "already done" includes what `self` did.
    pub fn then(self, next: RunSummary) -> RunSummary {
        let mut counts = next.counts;
        counts.skipped = counts.skipped.saturating_sub(self.counts.done);
        counts.done += self.counts.done;
        RunSummary {
            counts,
            billed_seconds: self.billed_seconds + next.billed_seconds,
            cost_cny: crate::catalog::round_cents(self.cost_cny + next.cost_cny),
            submissions: self.submissions + next.submissions,
            queries: self.queries + next.queries,
            wall_seconds: self.wall_seconds + next.wall_seconds,
            ..next
        }
    }
}

/// Receives progress; implemented by the CLI.
pub trait Reporter: Send {
    /// Counts changed.
    fn update(&mut self, counts: &Counts);
    /// A job did something worth a line.
    fn note(&mut self, note: &Note);
}

/// A reporter that says nothing (library callers, benchmarks).
#[derive(Debug, Default)]
pub struct Silent;

impl Reporter for Silent {
    fn update(&mut self, _: &Counts) {}
    fn note(&mut self, _: &Note) {}
}

/// The `--json` report: one document on stdout at the end of `pixbatch run`. Its schema is
/// `schemas/report.schema.json`; `format` changes only with an incompatible change.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// Always `pixbatch.report/1`.
    pub format: String,
    pub manifest: String,
    pub name: Option<String>,
    pub summary: RunSummary,
    /// The process's exit code (0, 1, 3, 4, 5 or 130).
    pub exit_code: i32,
    /// One row per job, as in results.json.
    pub jobs: Vec<crate::views::ResultRow>,
}

/// The `format` of the `--json` report.
pub const REPORT_FORMAT: &str = "pixbatch.report/1";
