//! The fake's counters, for tests and benchmarks: what it received and what its tasks did.

use std::collections::BTreeMap;

use serde::Serialize;

/// Counters for tests and benchmarks (`GET /__fake/stats`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Accepted create calls.
    pub submissions: u64,
    /// Create calls whose exact body had been accepted before while that earlier task had
    /// not failed: money spent twice on one video (a resubmission after FAILED or CANCELED is
    /// not counted).
    pub duplicate_submissions: u64,
    /// Task queries.
    pub queries: u64,
    pub lists: u64,
    pub cancels: u64,
    pub policies: u64,
    pub uploads: u64,
    /// Downloads started (videos and images).
    pub downloads: u64,
    /// 429 answers, for any reason.
    pub throttled: u64,
    /// 401 answers (wrong or missing key).
    pub unauthorized: u64,
    /// 500 answers injected.
    pub server_errors: u64,
    /// Connections closed without an answer.
    pub dropped: u64,
    pub slowed: u64,
    pub truncated: u64,
    /// Most tasks RUNNING at once, per family.
    pub peak_running: BTreeMap<String, u32>,
    /// Most tasks PENDING or RUNNING at once, per family.
    pub peak_in_flight: BTreeMap<String, u32>,
    /// Seconds of RUNNING summed over tasks, per family.
    pub busy_seconds: BTreeMap<String, f64>,
    /// Seconds from the family's first submission to its last task's end.
    pub span_seconds: BTreeMap<String, f64>,
    /// Slots refilled after a task ended, per family, and the seconds they stood empty
    /// (from the end of one task to the start of the next in that slot).
    pub refills: BTreeMap<String, u64>,
    pub refill_gap_seconds: BTreeMap<String, f64>,
    /// Each task's run time, per family, in the order the tasks were created.
    pub run_seconds: BTreeMap<String, Vec<f64>>,
    /// Tasks by final state.
    pub final_states: BTreeMap<String, u64>,
    /// Tasks other clients of the account created.
    pub neighbour_tasks: u64,
    /// Requests (exact bodies) sent by create calls that SUCCEEDED more than once: the same
    /// video paid for twice.
    pub bodies_paid_twice: u64,
    /// Downloads refused because the URL had expired.
    pub expired_downloads: u64,
    /// Images in SUCCEEDED image tasks that create calls made: what `usage.image_count` bills.
    pub images_billed: u64,
    /// Image candidates that failed the output inspection (`image_fail_rate`; not billed).
    pub images_failed: u64,
}

impl Stats {
    /// Share of the family's slot time that was busy between its first submission and last end.
    pub fn utilisation(&self, family: &str, slots: u32) -> f64 {
        let busy = self.busy_seconds.get(family).copied().unwrap_or(0.0);
        let span = self.span_seconds.get(family).copied().unwrap_or(0.0);
        if span <= 0.0 { 0.0 } else { busy / (span * f64::from(slots)) }
    }

    /// Mean seconds between a task ending and its slot taking the next task, per family.
    pub fn mean_refill_gap(&self, family: &str) -> f64 {
        let n = self.refills.get(family).copied().unwrap_or(0);
        let gap = self.refill_gap_seconds.get(family).copied().unwrap_or(0.0);
        if n == 0 { 0.0 } else { gap / n as f64 }
    }

    /// All requests that reached the API (creates, queries, lists, cancels).
    pub fn api_requests(&self) -> u64 {
        self.submissions + self.queries + self.lists + self.cancels
    }
}
