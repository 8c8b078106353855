//! The bookkeeping the coordinator does per family and per run, as small types: a family's
//! pool of task slots, and the budget (`--max-cost`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The first pause of a family whose creates the service keeps refusing; it doubles up to
/// [`MAX_PAUSE`].
pub(super) const FIRST_PAUSE: Duration = Duration::from_secs(2);
pub(super) const MAX_PAUSE: Duration = Duration::from_secs(60);

/// One model family's task slots.
#[derive(Debug)]
pub(super) struct FamilyPool {
    pub(super) limit: u32,
    /// Extra tasks allowed in flight past `limit` (see `RunOptions::queue_ahead`).
    pub(super) ahead: u32,
    pub(super) in_flight: u32,
    pub(super) paused_until: Option<Instant>,
    backoff: Duration,
}

impl FamilyPool {
    pub(super) fn new(limit: u32, ahead: u32) -> FamilyPool {
        FamilyPool { limit, ahead, in_flight: 0, paused_until: None, backoff: FIRST_PAUSE }
    }

    /// Whether another task may be sent at `now`.
    pub(super) fn has_room(&self, now: Instant) -> bool {
        self.paused_until.is_none_or(|p| p <= now) && self.in_flight < self.limit + self.ahead
    }

    /// Takes a slot; says whether the task goes past the limit (queued ahead on the service).
    pub(super) fn take(&mut self) -> bool {
        let ahead = self.in_flight >= self.limit;
        self.in_flight += 1;
        ahead
    }

    /// A task of the family is final (or was never made): its slot is free.
    pub(super) fn give_back(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// The service refused a create: no more creates until the returned pause is over, and the
    /// next pause is twice as long.
    pub(super) fn pause(&mut self, now: Instant) -> Duration {
        let pause = self.backoff;
        self.paused_until = Some(now + pause);
        self.backoff = (pause * 2).min(MAX_PAUSE);
        pause
    }

    /// The service refused a task past the limit: it does not queue, so send none ahead.
    pub(super) fn stop_ahead(&mut self) {
        self.ahead = 0;
    }
}

/// What this run may still spend: billed cost, plus the estimates of tasks in flight.
#[derive(Debug, Default)]
pub(super) struct Budget {
    cap: Option<f64>,
    spent: f64,
    /// Estimated cost of each job in flight (given back when it fails, replaced when billed).
    reserved: HashMap<usize, f64>,
    /// `run.budget`, when it is what caps this run: what the ledger had spent before it.
    storyboard: Option<StoryboardBudget>,
}

/// The manifest's `run.budget` at the start of a run: the cap over every run, what earlier
/// runs spent (billed + committed), by run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct StoryboardBudget {
    pub budget_cny: f64,
    pub spent_before_cny: f64,
    /// Earlier runs' spend: the run's start (RFC 3339) and CNY.
    pub by_run: Vec<(String, f64)>,
}

/// Money compared with float sums: a job that fits to the cent is not refused for 1e-12.
pub(super) const EPSILON: f64 = 1e-9;

impl Budget {
    #[cfg(test)]
    pub(super) fn new(cap: Option<f64>) -> Budget {
        Budget { cap, ..Budget::default() }
    }

    /// A run under `--max-cost` (`cap`) and the manifest's `run.budget` (`storyboard`): the
    /// tighter of the two.
    pub(super) fn with_storyboard(cap: Option<f64>, storyboard: Option<StoryboardBudget>) -> Budget {
        let left = storyboard.as_ref().map(|s| (s.budget_cny - s.spent_before_cny).max(0.0));
        let cap = match (cap, left) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Budget { cap, storyboard, ..Budget::default() }
    }

    /// Counts a job already on the service (resumed) at its estimate, whatever the cap: it is
    /// spent whether or not it fits.
    pub(super) fn hold(&mut self, idx: usize, estimate: f64) {
        self.reserved.insert(idx, estimate);
    }

    /// The storyboard budget, if this run has one.
    pub(super) fn storyboard(&self) -> Option<&StoryboardBudget> {
        self.storyboard.as_ref()
    }

    /// Reserves `estimate` for job `idx` if it fits under the cap (always, without a cap).
    pub(super) fn try_reserve(&mut self, idx: usize, estimate: f64) -> bool {
        let Some(cap) = self.cap else { return true };
        let committed = self.spent + self.reserved.values().sum::<f64>();
        if committed + estimate > cap + EPSILON {
            return false;
        }
        self.reserved.insert(idx, estimate);
        true
    }

    /// The job's task is final or never made: its reservation is given back.
    pub(super) fn release(&mut self, idx: usize) {
        self.reserved.remove(&idx);
    }

    /// A task was billed `cost`.
    pub(super) fn spend(&mut self, cost: f64) {
        self.spent += cost;
    }

    /// What is left under the cap (none without a cap).
    pub(super) fn remaining(&self) -> Option<f64> {
        Some(self.cap? - self.spent - self.reserved.values().sum::<f64>())
    }

    pub(super) fn spent(&self) -> f64 {
        self.spent
    }
}

/// Kinds of worker the coordinator spawns; each sends one event when it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Worker {
    Submit,
    Poll,
    Probe,
    Download,
    Cancel,
}

/// Workers spawned whose event has not arrived: counted where they start and where their
/// event is handled, in one place each.
#[derive(Debug, Default)]
pub(super) struct InAir {
    total: usize,
    submits: usize,
    cancels: usize,
}

impl InAir {
    pub(super) fn start(&mut self, worker: Worker) {
        self.total += 1;
        match worker {
            Worker::Submit => self.submits += 1,
            Worker::Cancel => self.cancels += 1,
            Worker::Poll | Worker::Probe | Worker::Download => {}
        }
    }

    pub(super) fn done(&mut self, worker: Worker) {
        self.total = self.total.saturating_sub(1);
        match worker {
            Worker::Submit => self.submits = self.submits.saturating_sub(1),
            Worker::Cancel => self.cancels = self.cancels.saturating_sub(1),
            Worker::Poll | Worker::Probe | Worker::Download => {}
        }
    }

    /// Nothing in the air.
    pub(super) fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// No create and no cancel in the air: what a stopping run waits for.
    pub(super) fn settled(&self) -> bool {
        self.submits == 0 && self.cancels == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_fills_to_its_limit_plus_ahead() {
        let now = Instant::now();
        let mut pool = FamilyPool::new(2, 1);
        assert!(!pool.take() && !pool.take(), "within the limit");
        assert!(pool.has_room(now));
        assert!(pool.take(), "the third goes ahead");
        assert!(!pool.has_room(now));
        pool.give_back();
        assert!(pool.has_room(now));
        pool.stop_ahead();
        assert!(!pool.has_room(now), "without queueing ahead, 2 is full");
        pool.give_back();
        pool.give_back();
        pool.give_back();
        assert_eq!(pool.in_flight, 0, "never below zero");
    }

    #[test]
    fn a_refused_pool_pauses_doubling_up_to_a_minute() {
        let now = Instant::now();
        let mut pool = FamilyPool::new(5, 0);
        let pauses: Vec<u64> = (0..7).map(|_| pool.pause(now).as_secs()).collect();
        assert_eq!(pauses, [2, 4, 8, 16, 32, 60, 60]);
        assert!(!pool.has_room(now + Duration::from_secs(59)));
        assert!(pool.has_room(now + Duration::from_secs(60)));
    }

    #[test]
    fn workers_in_the_air_are_counted_by_kind() {
        let mut air = InAir::default();
        air.start(Worker::Submit);
        air.start(Worker::Poll);
        air.start(Worker::Cancel);
        assert!(!air.is_empty() && !air.settled());
        air.done(Worker::Submit);
        air.done(Worker::Cancel);
        assert!(air.settled() && !air.is_empty(), "a poll is still out");
        air.done(Worker::Poll);
        air.done(Worker::Poll);
        assert!(air.is_empty(), "never below zero");
    }

    #[test]
    fn the_budget_counts_billed_and_reserved() {
        let mut b = Budget::new(Some(10.0));
        assert!(b.try_reserve(0, 6.0));
        assert!(!b.try_reserve(1, 4.01), "6 reserved + 4.01 > 10");
        assert!(b.try_reserve(1, 4.0), "exactly the cap fits");
        b.release(0);
        b.spend(5.5);
        assert!(!b.try_reserve(2, 0.6), "5.5 spent + 4 reserved + 0.6 > 10");
        assert!(b.try_reserve(2, 0.5));
        assert!(Budget::new(None).try_reserve(0, 1e12), "no cap");
    }
}
