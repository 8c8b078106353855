//! Submitting: filling free slots from the family queues (intents first, within the budget),
//! and the lanes that send the creates.

use std::collections::{HashSet, VecDeque};
use std::time::Instant;

use tokio::sync::mpsc;

use super::Order;
use super::coordinator::Coordinator;
use super::events::{JobState, visible_of};
use super::lane::{Lane, SubmitJob};
use super::order;
use super::pools::Worker;
use crate::api::{ApiError, ErrorClass, RetryPolicy};
use crate::catalog::Family;
use crate::ledger::{Event, JobMeta};
use crate::plan::estimate_cost;
use crate::rate::SlidingWindow;

/// How often the queues are rearranged at most, as render times are learnt.
const REARRANGE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl Coordinator<'_, '_> {
    /// Puts each family's queue in the run's order (see [`super::order`]).
    pub(super) fn arrange_queues(&mut self) {
        self.rearrange = None;
        if self.options.order == Order::Manifest {
            return;
        }
        let queued: Vec<usize> = self.queues.values().flatten().copied().collect();
        let jobs = self.jobs;
        let affordable =
            order::affordable(&queued, self.budget.remaining(), |i| estimate_cost(&jobs[i]).unwrap_or(0.0));
        let predictor = &self.predictor;
        for queue in self.queues.values_mut() {
            order::longest_first(queue, &affordable, |i| predictor.predict(&jobs[i]));
        }
    }

    /// The lane of a job's model (its endpoint: the catalog gives one per model).
    pub(super) fn lane(&mut self, model: &str, endpoint: crate::catalog::Endpoint) -> mpsc::UnboundedSender<SubmitJob> {
        if let Some(tx) = self.lanes.get(model) {
            return tx.clone();
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let spec_rps = crate::catalog::lookup(model)
            .map(|s| s.submit_rps)
            .or_else(|| crate::catalog::images::image_lookup(model).map(|s| s.submit_rps));
        // The rate the user set, else the model's own (5 a second outside the catalog).
        let rps = self.options.submit_per_second.unwrap_or_else(|| spec_rps.unwrap_or(5));
        let lane = Lane {
            client: self.client.clone(),
            model: model.to_owned(),
            endpoint,
            limiter: SlidingWindow::new(rps),
            submit: self.policy(RetryPolicy::submit()),
            reads: self.policy(RetryPolicy::poll()),
            sent_at: std::sync::Mutex::new(None),
            events: self.tx.clone(),
            halt: self.halt.clone(),
            uploads: self.ledger.live_uploads(model, jiff::Timestamp::now()),
            doubtful: self.doubtful.clone(),
            refused: None,
        };
        tokio::spawn(lane.serve(rx));
        self.lanes.insert(model.to_owned(), tx.clone());
        tx
    }

    /// Fills free slots: writes the intents, syncs once, then hands the creates to the lanes.
    pub(super) fn dispatch_submits(&mut self, now: Instant) {
        if self.stop.is_some() {
            return;
        }
        // What was learnt reorders the queues, at most once a second.
        if self.rearrange.is_some_and(|since| now.saturating_duration_since(since) >= REARRANGE_EVERY) {
            self.arrange_queues();
        }
        // While this run's endpoint does not answer, one create at a time knocks.
        let mut knocks = if self.reach.is_down(&self.endpoint) {
            let endpoint = self.endpoint.clone();
            if !self.queues.values().any(|q| !q.is_empty()) || !self.reach.may_call(&endpoint, now) {
                return;
            }
            Some(1)
        } else {
            None
        };
        let mut batch = Vec::new();
        let mut ahead = HashSet::new();
        let families: Vec<Family> = self.queues.keys().cloned().collect();
        // The coordinator's own view: the commit below, before anything is sent, makes every
        // decision durable along with the intents.
        let gates = self.twin_gates();
        let wall = jiff::Timestamp::now();
        self.twin_wake = None;
        for family in families {
            let mut held = Vec::new();
            loop {
                if !self.pool(&family).has_room(now) || knocks == Some(0) {
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
                if let Some(Some(gate)) = gates.get(&visible_of(&self.jobs[idx]))
                    && wall < *gate
                {
                    // Sent now, its task could not be told from the one in doubt.
                    let wait = std::time::Duration::try_from(gate.duration_since(wall)).unwrap_or_default();
                    self.twin_wake = Some(self.twin_wake.map_or(now + wait, |w| w.min(now + wait)));
                    held.push(idx);
                    continue;
                }
                // An unknown price counts as free here; `plan` warns about unpriced jobs.
                if !self.budget.try_reserve(idx, estimate_cost(&self.jobs[idx]).unwrap_or(0.0)) {
                    self.states[idx] = JobState::OverBudget;
                    self.counts.queued -= 1;
                    self.over_budget += 1;
                    continue;
                }
                if self.pool(&family).take() {
                    ahead.insert(idx);
                }
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
                    estimate_cny: crate::plan::estimate_cost(job).map(crate::catalog::round_cents),
                    // Clips, the common case, go without (read back as clips).
                    stage: (job.stage != crate::plan::Stage::Clips).then(|| job.stage.name()),
                };
                let (endpoint, run) = (Some(self.endpoint.clone()), Some(self.run_started));
                self.record(idx, Event::intent(attempt, meta, endpoint, run));
                self.states[idx] = JobState::Submitting;
                self.counts.queued -= 1;
                self.counts.running += 1;
                batch.push(idx);
                if let Some(n) = &mut knocks {
                    *n -= 1;
                }
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
                .filter_map(|(i, m)| {
                    let (path, content) = m.source.local_file()?;
                    Some((job.media_pointer(i), path.to_path_buf(), content.to_owned()))
                })
                .collect();
            let submit = SubmitJob {
                idx,
                body: job.request_body(),
                local,
                ahead: ahead.contains(&idx),
                visible: visible_of(job),
            };
            let lane = self.lane(&job.model, job.endpoint);
            if lane.send(submit).is_ok() {
                self.in_air.start(Worker::Submit);
            }
        }
    }

    /// What the jobs the budget kept back were estimated at.
    pub(super) fn over_budget_cost(&self) -> f64 {
        let held = self.states.iter().enumerate().filter(|(_, s)| matches!(s, JobState::OverBudget));
        crate::catalog::round_cents(held.filter_map(|(i, _)| crate::plan::estimate_cost(&self.jobs[i])).sum())
    }

    pub(super) fn enqueue_back(&mut self, idx: usize) {
        self.states[idx] = JobState::Queued;
        self.counts.queued += 1;
        let family = self.jobs[idx].family.clone();
        self.pool(&family);
        self.queues.entry(family).or_default().push_back(idx);
    }

    pub(super) fn requeue_front(&mut self, idx: usize) {
        self.states[idx] = JobState::Queued;
        self.counts.queued += 1;
        let family = self.jobs[idx].family.clone();
        self.queues.entry(family).or_default().push_front(idx);
    }

    /// A job with a task on the service: it holds a slot and is polled now.
    pub(super) fn resume(&mut self, idx: usize) {
        let Some(task_id) = self.ledger.records.get(&self.jobs[idx].key).and_then(|r| r.task_id.clone()) else {
            self.enqueue_back(idx);
            return;
        };
        let family = self.jobs[idx].family.clone();
        self.pool(&family).take();
        self.budget.hold(idx, crate::plan::estimate_cost(&self.jobs[idx]).unwrap_or(0.0));
        self.counts.running += 1;
        let now = Instant::now();
        self.start_polling(idx, task_id, now, now);
    }

    pub(super) fn release(&mut self, idx: usize) {
        self.budget.release(idx);
        // A task whose endpoint could not be reached may have given its slot back already.
        if !matches!(self.states[idx], JobState::Polling { holds_slot: false, .. }) {
            let family = self.jobs[idx].family.clone();
            self.pool(&family).give_back();
        }
        self.counts.running = self.counts.running.saturating_sub(1);
    }
}

pub(super) fn submit_failed(error: &ApiError, class: ErrorClass) -> Event {
    Event::SubmitFailed { code: error.code.clone(), message: error.message.clone(), class }
}
