//! Polling: due queries within the query rate, and what each answer means for its job.

use std::cmp::Reverse;
use std::time::{Duration, Instant};

use super::Stop;
use super::coordinator::Coordinator;
use super::events::{JobState, WorkerEvent};
use super::pools::Worker;
use super::schedule::service_seconds;
use crate::api::{ApiError, Client, RetryPolicy, TaskResponse, TaskStatus, describe_endpoint};
use crate::ledger::{self, Event};
use crate::plan::estimate_cost;

/// The service keeps a task 24 h (`dashscope-api.md` §3.2); an UNKNOWN answer later than this
/// (an hour of margin for clocks) means it expired, sooner means it was never seen here.
const FORGOTTEN_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_hours(23);

/// A task that cannot be asked about holds its slot for this many times its predicted render
/// time (plus `RunOptions::unreachable_hold`), counted from when it was created.
const UNREACHABLE_HOLD_FACTOR: f64 = 1.5;

impl Coordinator<'_, '_> {
    /// Sends the queries that are due, as the query budget allows; returns when to look again.
    pub(super) fn dispatch_polls(&mut self, now: Instant) -> Option<Instant> {
        if matches!(self.stop, Some(Stop::Disk { .. })) {
            return None;
        }
        while let Some(&Reverse((due, idx))) = self.polls.peek() {
            if due > now {
                return Some(due);
            }
            if self.reach.any_down() && self.held_by_outage(idx, now) {
                continue;
            }
            if let Err(not_until) = self.query_limiter.check() {
                let wait =
                    not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
                return Some(now + wait.max(Duration::from_millis(1)));
            }
            self.polls.pop();
            let Some(client) = self.job_client(idx) else { continue };
            let JobState::Polling { task_id, in_query, .. } = &mut self.states[idx] else { continue };
            *in_query = true;
            let (id, tx, policy) = (task_id.clone(), self.tx.clone(), self.policy(RetryPolicy::poll()));
            self.in_air.start(Worker::Poll);
            self.queries += 1;
            tokio::spawn(async move {
                let result = policy.run(|| client.get_task(&id)).await;
                let _ = tx.send(WorkerEvent::Polled { idx, result });
            });
        }
        None
    }

    /// A due poll of a task whose endpoint does not answer: unless it is the knock, it waits for
    /// the next one (removed from the heap and pushed back; true). Meanwhile the task's timeout
    /// still holds, and once the service would have finished it, it gives its slot back.
    fn held_by_outage(&mut self, idx: usize, now: Instant) -> bool {
        let endpoint = self.endpoint_of(idx);
        if !self.reach.is_down(&endpoint) || !matches!(self.states[idx], JobState::Polling { .. }) {
            return false;
        }
        if self.timed_out(idx, now) {
            self.polls.pop();
            return true;
        }
        self.unhold(idx, now);
        if self.reach.may_call(&endpoint, now) {
            return false;
        }
        self.polls.pop();
        let next = self.reach.next_try(&endpoint).unwrap_or(now + self.options.poll.max_interval);
        self.polls.push(Reverse((next.max(now + Duration::from_millis(1)), idx)));
        true
    }

    /// A task that cannot be asked about stops holding its family's slot once the service would
    /// have finished it: its predicted render time since it was created, with a margin. The
    /// service's slots are the account's, and by then that task is no longer in one, so the
    /// slot goes to a job that can be sent to an endpoint that answers.
    pub(super) fn unhold(&mut self, idx: usize, now: Instant) {
        let JobState::Polling { submitted, holds_slot: true, .. } = self.states[idx] else { return };
        let job = &self.jobs[idx];
        let created = self.ledger.records.get(&job.key).and_then(|r| r.submitted_at.or(r.intent_at));
        let age = match created {
            Some(t) => jiff::Timestamp::now().duration_since(t).as_secs_f64().max(0.0),
            None => now.saturating_duration_since(submitted).as_secs_f64(),
        };
        let hold = self.predictor.predict(job) * UNREACHABLE_HOLD_FACTOR + self.options.unreachable_hold.as_secs_f64();
        if age < hold {
            return;
        }
        if let JobState::Polling { holds_slot, .. } = &mut self.states[idx] {
            *holds_slot = false;
        }
        let family = job.family.clone();
        self.pool(&family).give_back();
    }

    /// Gives up waiting for a task after `--task-timeout` (the next run polls it again); says
    /// whether it did. Checked whether or not its queries are answered.
    pub(super) fn timed_out(&mut self, idx: usize, now: Instant) -> bool {
        let JobState::Polling { submitted, .. } = self.states[idx] else { return false };
        if now.saturating_duration_since(submitted) <= self.options.task_timeout {
            return false;
        }
        self.release(idx);
        self.record(idx, Event::TimedOut);
        self.fail(idx, "Timeout", "gave up waiting for the task; the next run polls it again (not resubmitted)");
        true
    }

    /// Where a job's task lives: the endpoint that created it, whatever this run's is.
    pub(super) fn endpoint_of(&self, idx: usize) -> String {
        self.ledger
            .records
            .get(&self.jobs[idx].key)
            .and_then(|r| r.endpoint.clone())
            .unwrap_or_else(|| self.endpoint.clone())
    }

    pub(super) fn client_at(&mut self, endpoint: &str) -> Result<Client, crate::api::ConfigError> {
        if let Some(c) = self.clients.get(endpoint) {
            return Ok(c.clone());
        }
        let client = self.client.at(endpoint)?;
        self.clients.insert(endpoint.to_owned(), client.clone());
        Ok(client)
    }

    /// The client for a job's task, or the job fails (a ledger naming an endpoint that is not
    /// one; nothing is written off).
    pub(super) fn job_client(&mut self, idx: usize) -> Option<Client> {
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

    /// The job's task is known: poll it from `due` on.
    pub(super) fn start_polling(&mut self, idx: usize, task_id: String, now: Instant, due: Instant) {
        self.states[idx] = JobState::Polling {
            task_id,
            submitted: now,
            started: now,
            status: TaskStatus::Pending,
            in_query: false,
            unknown_since: None,
            holds_slot: true,
        };
        self.polls.push(Reverse((due, idx)));
    }

    pub(super) fn poll_later(&mut self, idx: usize, task_id: String, now: Instant) {
        let due = self.schedule.next(&self.jobs[idx].family, now, now, self.predictor.expected(&self.jobs[idx]));
        self.start_polling(idx, task_id, now, due);
    }

    pub(super) fn polled(&mut self, idx: usize, result: Result<TaskResponse, ApiError>, now: Instant) {
        let JobState::Polling { submitted, started, status, unknown_since, .. } = self.states[idx].clone() else {
            return;
        };
        let family = self.jobs[idx].family.clone();
        let endpoint_down = self.reach.any_down();
        let resp = match result {
            Ok(r) => {
                if endpoint_down {
                    let endpoint = self.endpoint_of(idx);
                    self.reachable(&endpoint);
                }
                r
            }
            Err(e) if e.is_run_fatal() || e.is_model_fatal() => {
                let endpoint = self.endpoint_of(idx);
                self.reachable(&endpoint);
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
                let endpoint = self.endpoint_of(idx);
                let retry = if e.unreachable() {
                    self.unreachable(&endpoint, &e, now);
                    self.reach.next_try(&endpoint).unwrap_or(now + self.options.poll.max_interval)
                } else {
                    if e.status.is_some() {
                        self.reachable(&endpoint);
                    }
                    now + self.options.poll.max_interval
                };
                self.set_polling(idx, started, status);
                if !self.timed_out(idx, now) {
                    self.polls.push(Reverse((retry, idx)));
                }
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
            if self.predictor.observe(&self.jobs[idx], secs) && self.rearrange.is_none() {
                self.rearrange = Some(now);
            }
        }
        match new_status {
            TaskStatus::Succeeded => {
                self.release(idx);
                let usage = resp.usage.clone();
                let job = &self.jobs[idx];
                let estimate = estimate_cost(job).unwrap_or(0.0);
                if job.product == crate::plan::Product::Video {
                    self.billed_seconds += usage.as_ref().and_then(|u| u.duration).unwrap_or(0.0);
                }
                // The billed seconds (for Wan r2v, reference-video seconds too) or images at the
                // job's price; with no usage reported, the estimate, so the budget never leaks.
                let mut billed = usage.as_ref().and_then(|u| crate::plan::billed(job, u));
                // A task an earlier run created: say so with its bill.
                let made_by = self.ledger.records.get(&job.key).and_then(|r| r.run);
                if let Some(b) = billed.as_mut() {
                    b.inherited_from = made_by.filter(|run| *run != self.run_started);
                }
                self.budget.spend(billed.as_ref().map_or(estimate, |b| b.cny));
                let images = out.images();
                let video_url = out.video_url.clone().or_else(|| images.iter().find_map(|i| i.url.clone()));
                self.record(
                    idx,
                    Event::Finished {
                        status: TaskStatus::Succeeded,
                        code: None,
                        message: None,
                        video_url,
                        usage,
                        images,
                        billed,
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
                if let JobState::Polling { unknown_since, .. } = &mut self.states[idx] {
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
                        images: out.images(),
                        billed: None,
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
                self.set_polling(idx, started, new_status);
                if self.timed_out(idx, now) {
                    return;
                }
                let expected = self.predictor.expected(&self.jobs[idx]);
                self.polls.push(Reverse((self.schedule.next(&family, started, now, expected), idx)));
            }
        }
    }

    /// Whether the service may have forgotten the job's task (24 h after it was made).
    pub(super) fn forgotten(&self, idx: usize) -> bool {
        let record = self.ledger.records.get(&self.jobs[idx].key);
        let made = record.and_then(|r| r.submitted_at.or(r.intent_at));
        made.is_none_or(|t| jiff::Timestamp::now().duration_since(t) > FORGOTTEN_AFTER)
    }

    pub(super) fn set_polling(&mut self, idx: usize, started_at: Instant, new_status: TaskStatus) {
        if let JobState::Polling { started, status, in_query, .. } = &mut self.states[idx] {
            *started = started_at;
            *status = new_status;
            *in_query = false;
        }
    }
}
