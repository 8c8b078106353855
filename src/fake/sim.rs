//! The fake's world: tasks moving through their states, slots per family, rate windows and
//! counters. Time is evaluated lazily: every request first advances the simulation to "now",
//! finishing tasks at their exact end times and starting queued ones in the freed slots, so
//! the timeline is the same however often anyone asks.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use super::config::FakeConfig;
pub use super::stats::Stats;
use crate::api::{TaskStatus, beijing};
use crate::catalog::{self, Family};
use crate::rate::Window;
pub use image_tasks::INSPECTION_FAILED;
use image_tasks::ImageTask;

/// How a task will end, decided when it is created.
#[derive(Debug, Clone)]
enum Outcome {
    Succeed,
    Fail { code: Option<String>, message: Option<String> },
}

/// Who created a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// A create call to this server.
    Api,
    /// Another client of the account (see [`super::Neighbours`]).
    Neighbour,
}

/// A task as the fake keeps it.
#[derive(Debug, Clone)]
pub struct Task {
    pub id: String,
    pub model: String,
    family: Family,
    pub status: TaskStatus,
    pub owner: Owner,
    created: Instant,
    scheduled: Option<Instant>,
    end: Option<Instant>,
    run_for: Duration,
    outcome: Outcome,
    prompt: String,
    /// The request as sent.
    pub body: Value,
    /// What an image task makes (`None`: a video task).
    image: Option<ImageTask>,
    request_id: String,
}

/// `orig_prompt` as the service reports it: the `@` of each mention and the space that binds
/// it are gone (`dashscope-api.md` §12.3: `@男人 坐在` → `男人坐在`).
pub fn orig_prompt(prompt: &str, body: &Value) -> String {
    let mut out = prompt.to_owned();
    let names = body["input"]["media"].as_array().into_iter().flatten().filter_map(|m| m["ref_name"].as_str());
    for name in names {
        out = out.replace(&format!("@{name} "), name).replace(&format!("@{name}"), name);
    }
    out
}

#[derive(Debug, Default)]
struct FamilyState {
    queue: VecDeque<String>,
    running: Vec<String>,
    /// When each free slot became free, and whether a task's end freed it (not the start).
    free_at: BinaryHeap<Reverse<(Instant, bool)>>,
    first_submit: Option<Instant>,
    last_end: Option<Instant>,
}

/// What a create call did.
pub enum Created {
    Task {
        task_id: String,
        request_id: String,
    },
    /// A 429: its code and message.
    Throttled(&'static str, &'static str),
}

/// A create past the model's submit rate (`dashscope-api.md` §5.2).
/// The running cap of a model outside the catalog (every documented pool has at least 5).
const DEFAULT_POOL: u32 = 5;

pub const RATE_LIMITED: (&str, &str) =
    ("Throttling.RateQuota", "Requests rate limit exceeded, please try again later.");
/// A create past the family's running tasks, with `overflow`. The service documents no code
/// for it (§6, §12.1); this is the plain 429 that names no rate, which is how the runner tells
/// it from a rate limit.
pub const TOO_MANY_RUNNING: (&str, &str) =
    ("Throttling", "Too many running tasks for this model family, please try again later.");

/// The simulation.
pub struct Sim {
    pub config: FakeConfig,
    rng: SmallRng,
    /// Run times come from their own generator per family, so the n-th task of a family runs
    /// for the same time whatever else happened (queries, faults): the same world for every
    /// client that is compared against it.
    run_times: BTreeMap<Family, SmallRng>,
    tasks: HashMap<String, Task>,
    order: Vec<String>,
    families: BTreeMap<Family, FamilyState>,
    submit_window: HashMap<String, Window>,
    query_window: Window,
    /// Canonical body → the tasks created from it.
    bodies: HashMap<String, Vec<String>>,
    /// Uploaded files by key, with the length of an MP4 (what the service bills of a
    /// reference video).
    pub uploads: HashMap<String, Option<f64>>,
    /// The pixel size of each uploaded image, by key (an image model's input aspect).
    pub upload_sizes: HashMap<String, (u32, u32)>,
    pub stats: Stats,
    epoch: Instant,
    epoch_wall: jiff::Timestamp,
    /// When the next neighbour task is created.
    next_neighbour: Option<Instant>,
    /// This client's latest requests, which similar neighbours copy.
    recent: VecDeque<Value>,
    /// Videos of tasks that ended before this instant answer 403 (a test's "expire now").
    pub urls_expired_at: Option<Instant>,
    /// The `Authorization` header of the request being answered (for `echo_auth`).
    pub last_auth: Option<String>,
}

impl Sim {
    /// A fresh world.
    pub fn new(config: FakeConfig) -> Sim {
        let now = jiff::Timestamp::now();
        let epoch_wall = now.checked_add(config.clock_ahead).unwrap_or(now);
        Sim {
            rng: SmallRng::seed_from_u64(config.seed),
            run_times: BTreeMap::new(),
            config,
            tasks: HashMap::new(),
            order: Vec::new(),
            families: BTreeMap::new(),
            submit_window: HashMap::new(),
            query_window: Window::new(Duration::from_secs(1)),
            bodies: HashMap::new(),
            uploads: HashMap::new(),
            upload_sizes: HashMap::new(),
            stats: Stats::default(),
            epoch: Instant::now(),
            epoch_wall,
            next_neighbour: None,
            recent: VecDeque::new(),
            urls_expired_at: None,
            last_auth: None,
        }
    }

    /// Rolls a probability.
    pub fn roll(&mut self, p: f64) -> bool {
        p > 0.0 && self.rng.random::<f64>() < p
    }

    fn new_id(&mut self) -> String {
        let a: u32 = self.rng.random();
        let b: u16 = self.rng.random();
        let c: u16 = self.rng.random();
        let d: u16 = self.rng.random();
        let e: u64 = self.rng.random::<u64>() & 0xffff_ffff_ffff;
        format!("{a:08x}-{b:04x}-4{:03x}-{d:04x}-{e:012x}", c & 0xfff)
    }

    /// A request id for any answer.
    pub fn request_id(&mut self) -> String {
        self.new_id()
    }

    /// Wall-clock time of an instant.
    pub fn wall(&self, at: Instant) -> jiff::Timestamp {
        let since = at.saturating_duration_since(self.epoch);
        self.epoch_wall
            .checked_add(jiff::SignedDuration::try_from(since).unwrap_or_default())
            .unwrap_or(self.epoch_wall)
    }

    fn wall_text(&self, at: Instant) -> String {
        self.wall(at).to_zoned(beijing()).strftime("%Y-%m-%d %H:%M:%S%.3f").to_string()
    }

    /// Takes a slot in the shared query window; false means 429.
    pub fn admit_query(&mut self, now: Instant) -> bool {
        self.query_window.admit(self.config.query_rps, now).is_ok()
    }

    /// Finishes every task whose time has come and starts queued ones in the freed slots.
    pub fn advance(&mut self, now: Instant) {
        self.neighbours_until(now);
        let families: Vec<Family> = self.families.keys().cloned().collect();
        for family in families {
            self.advance_family(&family, now);
        }
    }

    fn advance_family(&mut self, family: &Family, now: Instant) {
        let pending_min = self.config.pending_min;
        loop {
            // Fill free slots from the queue, in order; a task waits PENDING at least
            // `pending_min` after its create (the service's scheduling), even with a slot free.
            loop {
                let Some(fs) = self.families.get_mut(family) else { return };
                if fs.queue.is_empty() || fs.free_at.is_empty() {
                    break;
                }
                let ready = fs.queue.front().and_then(|id| self.tasks.get(id)).map(|t| t.created + pending_min);
                if ready.is_some_and(|r| r > now) {
                    break;
                }
                let (Some(id), Some(Reverse((free, after_task)))) = (fs.queue.pop_front(), fs.free_at.pop()) else {
                    break;
                };
                fs.running.push(id.clone());
                let running = fs.running.len() as u32;
                if let Some(task) = self.tasks.get_mut(&id) {
                    let start = free.max(task.created + pending_min);
                    task.scheduled = Some(start);
                    task.end = Some(start + task.run_for);
                    task.status = TaskStatus::Running;
                    if after_task {
                        let fam = family.name().to_owned();
                        *self.stats.refills.entry(fam.clone()).or_default() += 1;
                        *self.stats.refill_gap_seconds.entry(fam).or_default() +=
                            start.saturating_duration_since(free).as_secs_f64();
                    }
                }
                let peak = self.stats.peak_running.entry(family.name().to_owned()).or_default();
                *peak = (*peak).max(running);
            }
            // Finish the earliest running task if its end has passed.
            let Some(fs) = self.families.get(family) else { return };
            let next = fs
                .running
                .iter()
                .filter_map(|id| self.tasks.get(id).and_then(|t| t.end.map(|e| (e, id.clone()))))
                .min();
            match next {
                Some((end, id)) if end <= now => self.finish(family, &id, end),
                _ => return,
            }
        }
    }

    fn finish(&mut self, family: &Family, id: &str, end: Instant) {
        let Some(task) = self.tasks.get_mut(id) else { return };
        task.status = match task.outcome {
            Outcome::Succeed => TaskStatus::Succeeded,
            Outcome::Fail { .. } => TaskStatus::Failed,
        };
        let busy = end.saturating_duration_since(task.scheduled.unwrap_or(end)).as_secs_f64();
        let status = task.status.as_str();
        let fam = family.name().to_owned();
        *self.stats.busy_seconds.entry(fam.clone()).or_default() += busy;
        *self.stats.final_states.entry(status.to_owned()).or_default() += 1;
        if let Some(fs) = self.families.get_mut(family) {
            fs.running.retain(|r| r != id);
            fs.free_at.push(Reverse((end, true)));
            fs.last_end = Some(fs.last_end.map_or(end, |l| l.max(end)));
            if let Some(first) = fs.first_submit {
                self.stats.span_seconds.insert(fam, end.saturating_duration_since(first).as_secs_f64());
            }
        }
    }

    /// How many tasks of a pool run at once: the configured number, else the service's.
    fn pool_limit(&self, family: &Family) -> u32 {
        self.config.concurrency.unwrap_or_else(|| family.service_slots().unwrap_or(DEFAULT_POOL))
    }

    /// Accepts a validated create call.
    pub fn create(&mut self, body: &Value, now: Instant) -> Created {
        self.advance(now);
        let model = body["model"].as_str().unwrap_or_default().to_owned();
        let family = catalog::family_of(&model);
        let limit = self.pool_limit(&family);
        let image_rps = || catalog::images::image_lookup(&model).map(|s| s.submit_rps);
        let rps = match (self.config.submit_rps, catalog::lookup(&model).map(|s| s.submit_rps).or_else(image_rps)) {
            (0, _) => 0,
            (rps, Some(limit)) => rps.min(limit),
            (rps, None) => rps,
        };
        if self
            .submit_window
            .entry(model.clone())
            .or_insert_with(|| Window::new(Duration::from_secs(1)))
            .admit(rps, now)
            .is_err()
        {
            return Created::Throttled(RATE_LIMITED.0, RATE_LIMITED.1);
        }
        let in_flight = self.families.get(&family).map_or(0, |fs| (fs.queue.len() + fs.running.len()) as u32);
        if self.config.overflow && in_flight >= limit {
            return Created::Throttled(TOO_MANY_RUNNING.0, TOO_MANY_RUNNING.1);
        }
        let (id, request_id) = self.insert(body, now, Owner::Api);
        self.stats.submissions += 1;
        let earlier = self.bodies.entry(body.to_string()).or_default();
        let wasted = earlier
            .iter()
            .any(|t| self.tasks.get(t).is_some_and(|t| !matches!(t.status, TaskStatus::Failed | TaskStatus::Canceled)));
        earlier.push(id.clone());
        if wasted {
            self.stats.duplicate_submissions += 1;
        }
        self.recent.push_back(body.clone());
        if self.recent.len() > 32 {
            self.recent.pop_front();
        }
        if self.config.neighbours.echo_seed {
            let mut copy = body.clone();
            let seed = copy["parameters"]["seed"].as_i64().map_or(7, |s| (s + 1_000_003) % (catalog::SEED_MAX + 1));
            copy["parameters"]["seed"] = seed.into();
            self.insert(&copy, now, Owner::Neighbour);
            self.stats.neighbour_tasks += 1;
        }
        self.advance(now);
        Created::Task { task_id: id, request_id }
    }

    /// Makes a task created at `at` (queued for its family's next free slot).
    fn insert(&mut self, body: &Value, at: Instant, owner: Owner) -> (String, String) {
        let model = body["model"].as_str().unwrap_or_default().to_owned();
        let family = catalog::family_of(&model);
        let limit = self.pool_limit(&family);
        let fs = self.families.entry(family.clone()).or_insert_with(|| FamilyState {
            free_at: (0..limit).map(|_| Reverse((at, false))).collect(),
            ..FamilyState::default()
        });
        let in_flight = (fs.queue.len() + fs.running.len()) as u32;
        if owner == Owner::Api {
            fs.first_submit.get_or_insert(at);
        }
        let id = self.new_id();
        let request_id = self.new_id();
        let mut outcome = self.decide_outcome(&model, body);
        let image = self.image_task(body, &mut outcome);
        let run_for = match &self.config.render {
            Some(render) => render.run_time(self.config.seed, body),
            None => {
                let (lo, hi) = (self.config.run_time.min, self.config.run_time.max);
                let seed =
                    family.name().bytes().fold(self.config.seed, |h, b| h.wrapping_mul(0x100_0000_01b3) ^ u64::from(b));
                let rng = self.run_times.entry(family.clone()).or_insert_with(|| SmallRng::seed_from_u64(seed));
                if hi > lo { rng.random_range(lo..=hi) } else { lo }
            }
        };
        let run_for = image.as_ref().map_or(run_for, |i| self.image_run_time(run_for, body, i.candidates()));
        if owner == Owner::Api {
            self.stats.run_seconds.entry(family.name().to_owned()).or_default().push(run_for.as_secs_f64());
        }
        let task = Task {
            id: id.clone(),
            model: model.clone(),
            family: family.clone(),
            status: TaskStatus::Pending,
            owner,
            created: at,
            scheduled: None,
            end: None,
            run_for,
            outcome,
            image,
            prompt: body["input"]["prompt"].as_str().unwrap_or_default().to_owned(),
            body: body.clone(),
            request_id: request_id.clone(),
        };
        self.tasks.insert(id.clone(), task);
        self.order.push(id.clone());
        if let Some(fs) = self.families.get_mut(&family) {
            fs.queue.push_back(id.clone());
            let peak = self.stats.peak_in_flight.entry(family.name().to_owned()).or_default();
            *peak = (*peak).max(in_flight + 1);
        }
        (id, request_id)
    }

    /// Creates the tasks other clients of the account made up to `now`, each at its own time.
    fn neighbours_until(&mut self, now: Instant) {
        let rate = self.config.neighbours.per_second;
        if rate <= 0.0 {
            return;
        }
        let mut next = match self.next_neighbour {
            Some(n) => n,
            None => self.epoch + Duration::from_secs_f64(self.rng.random_range(0.0..2.0 / rate)),
        };
        while next <= now {
            let body = self.neighbour_body();
            self.insert(&body, next, Owner::Neighbour);
            self.stats.neighbour_tasks += 1;
            next += Duration::from_secs_f64(self.rng.random_range(0.0..2.0 / rate));
        }
        self.next_neighbour = Some(next);
    }

    /// A neighbour's request: one of ours with one visible thing changed, or its own.
    fn neighbour_body(&mut self) -> Value {
        let n = self.stats.neighbour_tasks;
        let similar = self.config.neighbours.similar;
        if !self.recent.is_empty() && self.roll(similar) {
            let pick = self.rng.random_range(0..self.recent.len());
            let mut body = self.recent[pick].clone();
            let model = body["model"].as_str().unwrap_or_default().to_owned();
            if catalog::images::image_lookup(&model).is_some() {
                image_tasks::reword(&mut body, n);
                body["parameters"]["seed"] = self.rng.random_range(0..1000).into();
                return body;
            }
            let spec = catalog::lookup(&model);
            match self.rng.random_range(0..3) {
                0 => {
                    let prompt = body["input"]["prompt"].as_str().unwrap_or_default();
                    body["input"]["prompt"] = format!("{prompt}, take {n}").into();
                }
                1 => {
                    let size = body["parameters"]["size"].as_str().unwrap_or_default().to_owned();
                    let other = spec
                        .and_then(|s| s.sizes().find(|z| *z != size && s.tier_of(z).is_some_and(|t| t.sr() == "720")))
                        .unwrap_or("960*960");
                    body["parameters"]["size"] = other.into();
                    // 720P allows 5 s on every model.
                    body["parameters"]["duration"] = 5.into();
                }
                _ => {
                    let d = body["parameters"]["duration"].as_u64().unwrap_or(5);
                    body["parameters"]["duration"] = if d == 8 { 5 } else { 8 }.into();
                    // 8 s is allowed at every size of both models.
                }
            }
            body["parameters"]["seed"] = self.rng.random_range(0..1000).into();
            return body;
        }
        let model = if n.is_multiple_of(2) { catalog::C1_R2V } else { catalog::V56_R2V };
        json!({
            "model": model,
            "input": {
                "prompt": format!("@hero walks through scene {n} of someone else's film"),
                "media": [{"type": "image_url", "url": "https://example.com/hero.png", "ref_name": "hero"}],
            },
            "parameters": {"size": "1280*720", "duration": 5, "seed": n},
        })
    }

    /// A task, as a test sees it.
    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.get(id)
    }

    /// Exact bodies sent by create calls → how many of their tasks SUCCEEDED (were billed).
    pub fn billed_bodies(&self) -> HashMap<String, u32> {
        self.bodies
            .iter()
            .map(|(body, ids)| {
                let n = ids
                    .iter()
                    .filter(|id| self.tasks.get(*id).is_some_and(|t| t.status == TaskStatus::Succeeded))
                    .count();
                (body.clone(), n as u32)
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// The counters, with those computed from the tasks filled in.
    pub fn stats_now(&mut self, now: Instant) -> Stats {
        self.advance(now);
        self.stats.bodies_paid_twice = self.billed_bodies().values().filter(|n| **n > 1).count() as u64;
        self.count_images();
        self.stats.clone()
    }

    fn decide_outcome(&mut self, model: &str, body: &Value) -> Outcome {
        let size = body["parameters"]["size"].as_str().unwrap_or_default();
        if let Some(spec) = catalog::lookup(model)
            && matches!(spec.shape, catalog::Shape::Size(_))
            && !body["parameters"]["size"].is_null()
            && spec.tier_of(size).is_none()
        {
            return Outcome::Fail {
                code: Some("InvalidParameter".into()),
                message: Some(format!("The size is not match {size}")),
            };
        }
        let f = self.config.faults.clone();
        if self.roll(f.task_failed_silent) {
            return Outcome::Fail { code: None, message: None };
        }
        if self.roll(f.task_failed) {
            return Outcome::Fail {
                code: Some("InternalError.Algo".into()),
                message: Some("inference internal error.".into()),
            };
        }
        Outcome::Succeed
    }

    /// A task's query answer, after advancing to `now`; `base` is the server's URL.
    pub fn task_json(&mut self, id: &str, now: Instant, base: &str) -> Value {
        self.advance(now);
        let request_id = self.new_id();
        let ttl = self.config.task_ttl;
        let Some(task) = self.tasks.get(id) else {
            return json!({"request_id": request_id, "output": {"task_id": id, "task_status": TaskStatus::Unknown}});
        };
        if now.saturating_duration_since(task.created) > ttl {
            return json!({"request_id": request_id, "output": {"task_id": id, "task_status": TaskStatus::Unknown}});
        }
        let mut output =
            json!({"task_id": task.id, "task_status": task.status, "submit_time": self.wall_text(task.created)});
        if let Some(s) = task.scheduled.filter(|s| *s <= now) {
            output["scheduled_time"] = self.wall_text(s).into();
        }
        let mut usage = Value::Null;
        match (&task.outcome, task.status) {
            (Outcome::Succeed, TaskStatus::Succeeded) if task.image.is_some() => {
                output["end_time"] = task.end.map(|e| self.wall_text(e)).into();
                usage = task.image.as_ref().map(|i| i.fill_succeeded(&task.id, base, &mut output)).into();
            }
            (Outcome::Succeed, TaskStatus::Succeeded) => {
                output["end_time"] = task.end.map(|e| self.wall_text(e)).into();
                output["orig_prompt"] = orig_prompt(&task.prompt, &task.body).into();
                output["video_url"] = format!("{base}/__media/{}.mp4", task.id).into();
                let spec = catalog::lookup(&task.model);
                if spec.is_some_and(|s| s.watermark_url) {
                    output["watermark_video_url"] = format!("{base}/__media/{}.mp4?watermark=1", task.id).into();
                }
                usage = super::models::usage(spec, &task.body, &self.uploads);
            }
            (Outcome::Fail { code, message }, TaskStatus::Failed) => {
                output["end_time"] = task.end.map(|e| self.wall_text(e)).into();
                if let Some(c) = code {
                    output["code"] = c.clone().into();
                }
                if let Some(m) = message {
                    output["message"] = m.clone().into();
                }
                if let Some(image) = &task.image {
                    image.fill_failed(&task.id, base, &mut output);
                }
            }
            _ => {}
        }
        let mut out = json!({"request_id": request_id, "output": output});
        if !usage.is_null() {
            out["usage"] = usage;
        }
        out
    }

    /// Cancels a PENDING task; false when it is not PENDING.
    pub fn cancel(&mut self, id: &str, now: Instant) -> bool {
        self.advance(now);
        let Some(task) = self.tasks.get_mut(id) else { return false };
        if task.status != TaskStatus::Pending {
            return false;
        }
        task.status = TaskStatus::Canceled;
        let family = task.family.clone();
        if let Some(fs) = self.families.get_mut(&family) {
            fs.queue.retain(|q| q != id);
        }
        *self.stats.final_states.entry("CANCELED".into()).or_default() += 1;
        true
    }

    /// Tasks created in `[start, end]` (wall clock), filtered, newest last.
    pub fn list(
        &mut self,
        now: Instant,
        start: jiff::Timestamp,
        end: jiff::Timestamp,
        model: Option<&str>,
        status: Option<&str>,
    ) -> Vec<Value> {
        self.advance(now);
        let mut out = Vec::new();
        for id in &self.order {
            let Some(t) = self.tasks.get(id) else { continue };
            let created = self.wall(t.created);
            if created < start || created > end {
                continue;
            }
            if model.is_some_and(|m| m != t.model) || status.is_some_and(|s| s != t.status.as_str()) {
                continue;
            }
            let ms = |i: Instant| self.wall(i).as_millisecond();
            out.push(json!({
                "task_id": t.id,
                "status": t.status,
                "model_name": t.model,
                "gmt_create": ms(t.created),
                "start_time": t.scheduled.map(ms),
                "end_time": t.end.filter(|e| *e <= now).map(ms),
                "request_id": t.request_id,
                "region": "cn-beijing",
                "api_key_id": if t.owner == Owner::Api { "fake" } else { "neighbour" },
                "caller_parent_id": "fake",
                "caller_uid": "fake",
                "user_api_unique_key": image_tasks::unique_key(t),
            }));
        }
        out
    }

    /// Whether a task's video may be served: `None` when there is none, `Some(false)` when its
    /// URL has expired.
    pub fn video(&mut self, id: &str, now: Instant) -> Option<bool> {
        self.advance(now);
        let task = self.tasks.get(id).filter(|t| t.status == TaskStatus::Succeeded)?;
        let end = task.end.unwrap_or(now);
        let expired = self.config.url_ttl.is_some_and(|ttl| now.saturating_duration_since(end) > ttl)
            || self.urls_expired_at.is_some_and(|at| end <= at);
        Some(!expired)
    }
}

#[path = "image_tasks.rs"]
mod image_tasks;

#[cfg(test)]
#[path = "sim_tests.rs"]
mod tests;
