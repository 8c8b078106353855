//! Jobs in doubt, from the coordinator's side: they come from the ledger (a killed run's
//! intents) or from a create that got no answer, hold their slot, are looked at with the list
//! API ([`probe`]: one list call per endpoint and model over the window of its doubts — over a
//! minute around them and every model while no answered create near them has taught the offset
//! between the clocks — and one query per candidate that has finished since the last look) and
//! are decided on evidence ([`super::doubt`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use governor::DefaultDirectRateLimiter;

use super::coordinator::Coordinator;
use super::doubt::{self, Answered, Candidate, Doubt, Offset, Outcome, Visible};
use super::events::{JobState, WorkerEvent, expect_of, visible_of};
use super::pools::Worker;
use super::{Note, Stop};
use crate::api::{ApiError, Client, ListQuery, RetryPolicy, TaskStatus};
use crate::ledger::{self, Event};

/// One list call's worth of doubts: an endpoint, a model and the window their tasks may be in.
#[derive(Debug, Clone)]
pub struct Group {
    pub endpoint: String,
    pub model: String,
    pub from: jiff::Timestamp,
    pub to: jiff::Timestamp,
    /// A wider span listed, of every model, only to find this run's answered creates when a doubt
    /// has none near it yet to learn the offset between the clocks from (the offset is the
    /// service's, whatever the model): its other tasks are no candidates.
    pub learn: Option<(jiff::Timestamp, jiff::Timestamp)>,
}

/// How far past a window the list call looks (its filter has one-second steps).
const MARGIN: jiff::SignedDuration = jiff::SignedDuration::from_secs(2);

/// What one look at the list API found.
#[derive(Debug, Default)]
pub struct Listing {
    /// The tasks no ledger record claims.
    pub candidates: Vec<Candidate>,
    /// The tasks a ledger record claims, with when the service says each was created (what
    /// teaches the offset between the clocks, [`Offset::learn`]).
    pub known: Vec<(String, i64)>,
}

/// The tasks of `group`: those that no ledger record claims (`known`) as candidates, with the
/// details of those that have finished unless `detailed` already has them, and when the known
/// ones were created.
pub async fn probe(
    client: &Client,
    group: &Group,
    known: &HashSet<String>,
    detailed: &HashSet<String>,
    policy: &RetryPolicy,
    limiter: &Arc<DefaultDirectRateLimiter>,
) -> Result<Listing, ApiError> {
    let (from, to) = (group.from.checked_sub(MARGIN).ok(), group.to.checked_add(MARGIN).ok());
    let (start, end) = match group.learn {
        Some((a, b)) => (from.map(|f| f.min(a)), to.map(|t| t.max(b))),
        None => (from, to),
    };
    let model_name = group.learn.is_none().then(|| group.model.clone());
    let query = ListQuery { start_time: start, end_time: end, model_name, ..ListQuery::default() };
    limiter.until_ready().await;
    let listed = client.list_all_tasks(&query, policy).await?;
    let mut out = Listing::default();
    let window = |ms: i64| from.is_none_or(|f| ms >= f.as_millisecond()) && to.is_none_or(|t| ms <= t.as_millisecond());
    for task in listed {
        if known.contains(&task.task_id) {
            out.known.extend(task.gmt_create.map(|at| (task.task_id.clone(), at)));
            continue;
        }
        if group.learn.is_some()
            && (task.gmt_create.is_some_and(|at| !window(at))
                || task.model_name.as_deref().is_some_and(|m| m != group.model))
        {
            // Listed only for the clocks: another model, or outside every window of the group.
            continue;
        }
        let mut candidate = Candidate {
            task_id: task.task_id.clone(),
            endpoint: group.endpoint.clone(),
            model: task.model_name.clone(),
            created_ms: task.gmt_create,
            status: task.status,
            orig_prompt: None,
            usage: None,
        };
        if task.status == TaskStatus::Succeeded && !detailed.contains(&task.task_id) {
            limiter.until_ready().await;
            let details = policy.run(|| client.get_task(&task.task_id)).await?;
            candidate.status = details.output.task_status;
            // An image task of the prompt protocol says its prompt per result.
            candidate.orig_prompt = details.output.orig_prompt.clone().or_else(|| details.output.first_orig_prompt());
            candidate.usage = details.usage;
        }
        out.candidates.push(candidate);
    }
    Ok(out)
}

/// The longest a create call can have been in the air after its intent was written: its lane's
/// queue, the submit retries and the request timeout (the window an intent of a killed run is
/// reconciled over).
const CREATE_SPAN: jiff::SignedDuration = jiff::SignedDuration::from_secs(600);

/// How far apart in time answered creates teach the offset for a doubt: samples near it in
/// time, so that drift between the clocks over a long run does not add up.
const NEAR: i64 = 60_000;

/// A job in doubt: where and when its create call may have made a task.
pub(super) struct InDoubt {
    pub(super) endpoint: String,
    /// When its create call can have been in the air, in our clock.
    from: jiff::Timestamp,
    to: jiff::Timestamp,
    /// Its call was this run's: creates answered around it teach the offset between the clocks
    /// (an earlier run's may be hours old, our clock stepped since: the fixed tolerance).
    learn: bool,
    since: Instant,
    /// From when a listing can show its task (a task made a moment ago may not be listed
    /// yet): a listing fetched before then says nothing about it.
    ready: Instant,
    /// The evidence last said to the user while waiting (said again only when it changes).
    said: Option<String>,
}

impl Coordinator<'_, '_> {
    /// Jobs whose intents of earlier runs have no answer. An unanswered create (its window
    /// recorded) is in doubt; of a killed run's unrecorded intents only the one that can have
    /// been in the air is (see [`doubt::in_the_air`]), and the others are submitted again.
    pub(super) fn doubts_from_ledger(&mut self, reconcile: &[usize], now: jiff::Timestamp) {
        let mut unrecorded = Vec::new();
        for &idx in reconcile {
            let record = self.ledger.records.get(&self.jobs[idx].key).cloned();
            let Some(r) = record.as_ref() else { continue };
            unrecorded.push(doubt::Unrecorded {
                idx,
                run: r.run,
                endpoint: r.endpoint.clone().unwrap_or_else(|| self.endpoint.clone()),
                expect: expect_of(&self.jobs[idx]),
                at: r.intent_at.unwrap_or(now),
                answered: r.create_window.is_some(),
                until: r.create_window.map(|(_, to)| to),
            });
        }
        let (doubts, mut never_sent) = doubt::in_the_air(unrecorded, doubt::twin_gap(self.options.clock_tolerance));
        for (idx, not_before) in doubts {
            let record = self.ledger.records.get(&self.jobs[idx].key).cloned();
            if !self.doubt_from_ledger(idx, record.as_ref(), now, not_before) {
                never_sent.push(idx);
            }
        }
        for idx in never_sent {
            let decision = "never sent: when its run stopped, the create before it in its model's order had no recorded outcome yet (creates wait for that), or a create with the same visible request was in doubt and the run stopped before its twins could go; submitting again".to_owned();
            self.reporter.note(&Note::Reconciled { job: self.jobs[idx].name(), decision: decision.clone() });
            self.record(idx, Event::Reconciled { task_id: None, decision });
            self.enqueue_back(idx);
        }
    }

    /// A job whose intent of an earlier run has no answer: in doubt, holding its slot, with the
    /// window its create call can have made a task in, which starts no sooner than `not_before`
    /// (a twin's create waited for a doubt). False when that window is empty: the run ended
    /// before the create could go out.
    pub(super) fn doubt_from_ledger(
        &mut self,
        idx: usize,
        record: Option<&ledger::Record>,
        now: jiff::Timestamp,
        not_before: Option<jiff::Timestamp>,
    ) -> bool {
        let endpoint = record.and_then(|r| r.endpoint.clone()).unwrap_or_else(|| self.endpoint.clone());
        let intent_at = record.and_then(|r| r.intent_at).unwrap_or(now);
        let run = record.and_then(|r| r.run);
        let (from, to) = match record.and_then(|r| r.create_window) {
            Some(window) => window,
            // Killed before the answer: the call can have gone out any time its lane got to
            // it, and before the next run started.
            None => {
                let next_run = run
                    .and_then(|r| self.ledger.runs.range(r..).find(|s| **s > r).copied())
                    .unwrap_or(self.run_started);
                let from = not_before.map_or(intent_at, |n| n.max(intent_at));
                let to = intent_at.checked_add(CREATE_SPAN).unwrap_or(intent_at).min(next_run.max(intent_at));
                if from > to {
                    return false;
                }
                (from, to)
            }
        };
        let family = self.jobs[idx].family.clone();
        self.pool(&family).take();
        self.counts.running += 1;
        self.add_doubt(idx, endpoint, (from, to), false);
        true
    }

    /// `when`: from when to when its create call can have been in the air, in our clock;
    /// `learn`: the call was this run's.
    pub(super) fn add_doubt(
        &mut self,
        idx: usize,
        endpoint: String,
        when: (jiff::Timestamp, jiff::Timestamp),
        learn: bool,
    ) {
        self.states[idx] = JobState::InDoubt;
        let doubt = InDoubt {
            endpoint,
            from: when.0,
            to: when.1,
            learn,
            since: Instant::now(),
            ready: Instant::now() + self.options.reconcile_settle,
            said: None,
        };
        self.doubts.insert(idx, doubt);
        // Its twins are held back at once: until the gap past its window, or until its decision
        // is durable (see `commit`).
        let gates = self.twin_gates();
        *self.doubtful.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = gates;
        // A task made a moment ago may not be listed yet.
        let first = Instant::now() + self.options.reconcile_settle;
        self.next_probe = Some(self.next_probe.map_or(first, |n| n.min(first)));
    }

    /// The offset between the service's clock and ours around `at_ms` (our clock): learnt from
    /// this run's answered creates near it, or else the fixed tolerance.
    fn offset_near(&self, at_ms: i64) -> Offset {
        self.learnt_near(at_ms).unwrap_or_else(|| self.assumed_offset())
    }

    fn learnt_near(&self, at_ms: i64) -> Option<Offset> {
        let slack = i64::try_from(self.options.learnt_clock_slack.as_millis()).unwrap_or(i64::MAX);
        Offset::learn(self.clock_samples.values().filter(|s| (s.answered_ms - at_ms).abs() <= NEAR), slack)
    }

    fn assumed_offset(&self) -> Offset {
        Offset::assumed(i64::try_from(self.options.clock_tolerance.as_millis()).unwrap_or(i64::MAX))
    }

    /// When the doubt's task can have been created, in the service's clock (ms).
    fn window_of(&self, d: &InDoubt) -> (i64, i64) {
        let (from, to) = (d.from.as_millisecond(), d.to.as_millisecond());
        let offset = if d.learn { self.offset_near(from) } else { self.assumed_offset() };
        offset.window(from, to)
    }

    /// A create of this run was answered: when it was sent and answered, for the offset between
    /// the clocks once the list API shows when its task was made.
    pub(super) fn answered(&mut self, task_id: String, sent: jiff::Timestamp, answered: jiff::Timestamp) {
        self.answered_at.insert(task_id, (sent.as_millisecond(), answered.as_millisecond()));
    }

    /// This run stops watching a doubt it could not decide. Its twins stay held back for the
    /// rest of the run (they fail as `Unresolved`): the ledger still says the doubt is open, and
    /// the next run decides it before any of them is paid for.
    pub(super) fn leave_undecided(&mut self, idx: usize) {
        self.held_for_run.insert(visible_of(&self.jobs[idx]));
        self.doubts.remove(&idx);
    }

    /// The job is no longer in doubt: decided, its twins are let go at the next commit.
    pub(super) fn undoubt(&mut self, idx: usize) {
        self.doubts.remove(&idx);
        self.decided = true;
    }

    pub(super) fn sync_doubtful(&mut self) {
        let gates = self.twin_gates();
        *self.doubtful.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = gates;
    }

    /// Per visible request held back: from when a create of it may be sent (our clock; `None`:
    /// not in this run). A twin of a job in doubt goes the [`doubt::twin_gap`] after the doubt's
    /// call can last have been in the air: their windows cannot then hold each other's task.
    pub(super) fn twin_gates(&self) -> HashMap<Visible, Option<jiff::Timestamp>> {
        let gap = doubt::twin_gap(self.options.clock_tolerance);
        let mut gates: HashMap<Visible, Option<jiff::Timestamp>> = HashMap::new();
        for (idx, d) in &self.doubts {
            let at = d.to.checked_add(gap).unwrap_or(jiff::Timestamp::MAX);
            let gate = gates.entry(visible_of(&self.jobs[*idx])).or_insert(Some(at));
            *gate = gate.map(|g| g.max(at));
        }
        for visible in &self.held_for_run {
            gates.insert(visible.clone(), None);
        }
        gates
    }

    /// Asks the list API about the jobs in doubt, when it is time: one worker, one list call per
    /// endpoint and model over the window of its doubts.
    pub(super) fn dispatch_probe(&mut self, now: Instant) {
        if self.probing || self.doubts.is_empty() || self.next_probe.is_some_and(|n| n > now) {
            return;
        }
        if matches!(self.stop, Some(Stop::Fatal { .. } | Stop::Disk { .. })) {
            return;
        }
        let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
        for (idx, d) in self.doubts.iter().filter(|(_, d)| d.ready <= now) {
            let model = self.jobs[*idx].model.clone();
            let (from_ms, to_ms) = self.window_of(d);
            let ts = |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap_or(d.from);
            let (from, to) = (ts(from_ms), ts(to_ms));
            // Nothing learnt near it yet: list this run's creates around it too.
            let learn = (d.learn && self.learnt_near(d.from.as_millisecond()).is_none())
                .then(|| (ts(from_ms - NEAR), ts(to_ms + NEAR)));
            let g = groups.entry((d.endpoint.clone(), model.clone())).or_insert_with(|| Group {
                endpoint: d.endpoint.clone(),
                model,
                from,
                to,
                learn,
            });
            g.from = g.from.min(from);
            g.to = g.to.max(to);
            if let Some((a, b)) = learn {
                g.learn = Some(g.learn.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
            }
        }
        let mut work = Vec::new();
        self.listed.clear();
        for ((endpoint, _), group) in groups {
            match self.client_at(&endpoint) {
                Ok(client) => {
                    self.listed.insert(
                        (endpoint, group.model.clone()),
                        (group.from.as_millisecond(), group.to.as_millisecond()),
                    );
                    work.push((client, group));
                }
                Err(e) => {
                    let idxs: Vec<usize> =
                        self.doubts.iter().filter(|(_, d)| d.endpoint == endpoint).map(|(i, _)| *i).collect();
                    for idx in idxs {
                        self.leave_undecided(idx);
                        self.release(idx);
                        self.fail(
                            idx,
                            "BadEndpoint",
                            &format!("its create call went to `{endpoint}`, which cannot be used: {e}"),
                        );
                    }
                }
            }
        }
        if work.is_empty() {
            // Nothing ready for a look yet.
            self.schedule_probe(now);
            return;
        }
        let known = self.ledger.task_ids.clone();
        let detailed: HashSet<String> = self.evidence.keys().cloned().collect();
        let (tx, policy, limiter) = (self.tx.clone(), self.policy(RetryPolicy::poll()), self.query_limiter.clone());
        self.probing = true;
        self.probe_sent = now;
        self.in_air.start(Worker::Probe);
        tokio::spawn(async move {
            let mut all = Listing::default();
            for (client, group) in &work {
                match probe(client, group, &known, &detailed, &policy, &limiter).await {
                    Ok(found) => {
                        all.candidates.extend(found.candidates);
                        all.known.extend(found.known);
                    }
                    Err(e) => {
                        let _ = tx.send(WorkerEvent::Probed { result: Err(e) });
                        return;
                    }
                }
            }
            let _ = tx.send(WorkerEvent::Probed { result: Ok(all) });
        });
    }

    /// Weighs what the list API showed and decides every job in doubt it can.
    pub(super) fn probed(&mut self, result: Result<Listing, ApiError>, now: Instant) {
        let listed = match result {
            Ok(listed) => listed,
            Err(e) if e.is_run_fatal() => {
                self.fatal(&e);
                return;
            }
            Err(e) => {
                // The list API cannot be read now: the jobs stay in doubt (never resubmitted
                // blindly) and are asked about again; past the task timeout the next run does.
                tracing::debug!(error = %e, "list API failed; jobs in doubt wait");
                self.expire_doubts(now, &format!("the list API could not be read ({e})"));
                self.schedule_probe(now);
                return;
            }
        };
        for (task_id, created_ms) in listed.known {
            if let Some(&(sent_ms, answered_ms)) = self.answered_at.get(&task_id) {
                self.clock_samples.insert(task_id, Answered { sent_ms, answered_ms, created_ms });
            }
        }
        let mut candidates: Vec<Candidate> = Vec::new();
        for c in listed.candidates {
            let c = match self.evidence.get(&c.task_id) {
                Some(known) => known.clone(),
                None => c,
            };
            if c.status.is_final()
                && (c.status != TaskStatus::Succeeded || c.orig_prompt.is_some() || c.usage.is_some())
            {
                self.evidence.insert(c.task_id.clone(), c.clone());
            }
            if !self.ledger.task_ids.contains(&c.task_id) {
                candidates.push(c);
            }
        }
        let sent = self.probe_sent;
        let mut doubts: Vec<Doubt> = Vec::new();
        let mut uncovered = false;
        for (idx, d) in self.doubts.iter().filter(|(_, d)| d.ready <= sent) {
            let (from_ms, to_ms) = self.window_of(d);
            // What was learnt since the listing was asked for may have moved the window past
            // what it covered (a service clock seconds off ours): look again at once.
            let listed = self.listed.get(&(d.endpoint.clone(), self.jobs[*idx].model.clone()));
            if !listed.is_some_and(|&(lo, hi)| lo <= from_ms && to_ms <= hi) {
                uncovered = true;
                continue;
            }
            doubts.push(Doubt {
                idx: *idx,
                endpoint: d.endpoint.clone(),
                from_ms,
                to_ms,
                expect: expect_of(&self.jobs[*idx]),
            });
        }
        // Creates of ours still in the air may have made tasks not yet recorded.
        let mut busy: HashMap<(String, String), i64> = HashMap::new();
        for (idx, state) in self.states.iter().enumerate() {
            if !matches!(state, JobState::Submitting) {
                continue;
            }
            let Some(at) = self.ledger.records.get(&self.jobs[idx].key).and_then(|r| r.intent_at) else { continue };
            let at = at.as_millisecond();
            let at = self.offset_near(at).window(at, at).0;
            let slot = busy.entry((self.endpoint.clone(), self.jobs[idx].model.clone())).or_insert(at);
            *slot = (*slot).min(at);
        }
        for (idx, outcome) in doubt::resolve(&doubts, &candidates, &busy) {
            match outcome {
                Outcome::Adopt { task_id, evidence } => {
                    self.undoubt(idx);
                    let decision = format!("adopted task {task_id}: {evidence}");
                    self.reporter.note(&Note::Reconciled { job: self.jobs[idx].name(), decision: decision.clone() });
                    self.record(idx, Event::Reconciled { task_id: Some(task_id.clone()), decision });
                    self.poll_later(idx, task_id, now);
                }
                Outcome::NothingMade { evidence } => {
                    self.undoubt(idx);
                    let decision = format!("no task of the account can be its own, submitting again: {evidence}");
                    self.reporter.note(&Note::Reconciled { job: self.jobs[idx].name(), decision: decision.clone() });
                    self.record(idx, Event::Reconciled { task_id: None, decision });
                    self.release(idx);
                    self.requeue_front(idx);
                }
                Outcome::Ambiguous { task_ids, evidence } => {
                    self.undoubt(idx);
                    let decision = format!(
                        "tasks {} match it equally and nothing the service shows tells them apart; held, neither resubmitted (one may be its own, paid) nor adopted (the others are someone else's): {evidence}",
                        task_ids.join(", ")
                    );
                    self.record(idx, Event::Ambiguous { candidates: task_ids, decision: decision.clone() });
                    self.release(idx);
                    self.fail(idx, "Ambiguous", &format!("{decision}; --retry-failed renders it again, paying again"));
                }
                Outcome::Wait { evidence } => {
                    let name = self.jobs[idx].name();
                    if let Some(d) = self.doubts.get_mut(&idx)
                        && d.said.as_ref() != Some(&evidence)
                    {
                        d.said = Some(evidence.clone());
                        self.reporter.note(&Note::Reconciled {
                            job: name,
                            decision: format!("in doubt until its candidates finish: {evidence}"),
                        });
                    }
                }
            }
        }
        self.expire_doubts(now, "its candidates did not finish");
        self.schedule_probe(now);
        if uncovered {
            self.next_probe = Some(now);
        }
    }

    /// The next look at the jobs in doubt: after `doubt_recheck` at the latest; sooner for a
    /// doubt that becomes ready for its first look, or whose own task, if its call made one,
    /// may be finishing: it is looked at when a poll of that task would be due.
    pub(super) fn schedule_probe(&mut self, now: Instant) {
        let first_look = self.doubts.values().map(|d| d.ready).filter(|r| *r > now).min();
        let own_task = self
            .doubts
            .iter()
            .filter(|(_, d)| d.ready <= now)
            .map(|(idx, d)| {
                let job = &self.jobs[*idx];
                self.schedule.next(&job.family, d.since, now, self.predictor.expected(job))
            })
            .min();
        let again = now + self.options.doubt_recheck;
        self.next_probe = [first_look, own_task, Some(again)].into_iter().flatten().min();
    }

    /// Doubts older than the task timeout stop holding this run; the next run looks again.
    pub(super) fn expire_doubts(&mut self, now: Instant, why: &str) {
        let old: Vec<usize> = self
            .doubts
            .iter()
            .filter(|(_, d)| now.saturating_duration_since(d.since) > self.options.task_timeout)
            .map(|(i, _)| *i)
            .collect();
        for idx in old {
            self.leave_undecided(idx);
            self.release(idx);
            self.fail(
                idx,
                "Unresolved",
                &format!("whether its create call made a task is still open ({why}); not resubmitted; the next run looks again"),
            );
        }
    }
}
