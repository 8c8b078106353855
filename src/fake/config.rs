//! The fake server's knobs: limits, timing and fault probabilities (all seeded).

use std::time::Duration;

/// A duration drawn uniformly from `[min, max]` for each task.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DurationRange {
    pub min: Duration,
    pub max: Duration,
}

impl DurationRange {
    /// A fixed duration.
    pub fn fixed(d: Duration) -> DurationRange {
        DurationRange { min: d, max: d }
    }

    /// Parses `2s`, `500ms`, or `3s:6s`.
    pub fn parse(text: &str) -> Result<DurationRange, String> {
        let one = |s: &str| crate::duration::parse(s);
        match text.split_once(':') {
            Some((a, b)) => {
                let (min, max) = (one(a)?, one(b)?);
                if min > max {
                    return Err(format!("`{text}`: the minimum is larger than the maximum"));
                }
                Ok(DurationRange { min, max })
            }
            None => one(text).map(DurationRange::fixed),
        }
    }
}

impl std::fmt::Display for DurationRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::duration::Human;
        if self.min == self.max {
            write!(f, "{}", Human(self.min))
        } else {
            write!(f, "{}:{}", Human(self.min), Human(self.max))
        }
    }
}

/// Task run times like the service's: they grow with what is rendered. A task runs
/// `base × family factor × seconds/5 × tier factor (× audio factor)`, within ±`noise` drawn from
/// a generator seeded by the fake's seed and the request itself, so the same request runs
/// as long whenever and in whatever order it is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Render {
    /// How long a 5 s, 720P, silent video of a family with factor 1 takes.
    pub base: Duration,
    /// Per family name (`c1`, `v5.6`); families not listed take 1.
    pub family_factor: std::collections::BTreeMap<String, f64>,
    /// By tier, 360P, 480P, 540P, 720P, 1080P.
    pub tier_factor: [f64; crate::catalog::TIERS],
    pub audio_factor: f64,
    /// Relative spread, in [0, 1).
    pub noise: f64,
}

impl Default for Render {
    fn default() -> Self {
        Render {
            base: Duration::from_secs(3),
            family_factor: [("c1".to_owned(), 1.0), ("v5.6".to_owned(), 1.3)].into(),
            tier_factor: [0.45, 0.6, 0.7, 1.0, 2.2],
            audio_factor: 1.2,
            noise: 0.1,
        }
    }
}

impl Render {
    /// Service-like run times from `base`, unless a flat range is asked for (then `None`:
    /// `FakeConfig::run_time` applies).
    pub fn unless_flat(flat: Option<DurationRange>, base: Duration) -> Option<Render> {
        flat.is_none().then(|| Render { base, ..Render::default() })
    }

    /// How long the task a create body asks for runs (`seed`: the fake's).
    pub fn run_time(&self, seed: u64, body: &serde_json::Value) -> Duration {
        use rand::{Rng, SeedableRng};
        let model = body["model"].as_str().unwrap_or_default();
        let params = &body["parameters"];
        let seconds = params["duration"].as_f64().unwrap_or(5.0).max(0.0);
        let audio = params["audio"].as_bool().unwrap_or(false);
        let tier = super::models::tier_of(crate::catalog::lookup(model), params);
        let family = crate::catalog::family_of(model);
        let expected =
            self.base.as_secs_f64() * self.family_factor.get(family.name()).copied().unwrap_or(1.0) * seconds / 5.0
                * self.tier_factor[tier as usize]
                * if audio { self.audio_factor } else { 1.0 };
        let hash = blake3::hash(&[&seed.to_le_bytes()[..], body.to_string().as_bytes()].concat());
        let mut rng = rand::rngs::SmallRng::from_seed(*hash.as_bytes());
        let noise = self.noise.clamp(0.0, 0.99);
        let factor = if noise > 0.0 { rng.random_range(1.0 - noise..=1.0 + noise) } else { 1.0 };
        Duration::from_secs_f64((expected * factor).max(0.0))
    }
}

/// `FakeConfig::pending_min`'s default: long enough for a client to create a task and cancel it
/// while it is still PENDING, short enough for demos.
pub const PENDING_MIN: Duration = Duration::from_secs(1);

/// `fake-server --slow-delay`'s default: a slow answer is this late.
pub const SLOW_DELAY: Duration = Duration::from_secs(2);
/// `fake-server --neighbours-similar`'s default: the share of other clients' tasks that copy
/// one of ours with one change.
pub const NEIGHBOURS_SIMILAR: f64 = 0.3;

/// Fault probabilities in [0, 1], rolled per request (or per task) from the seeded generator.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Answer 429 `Throttling` to any call.
    pub throttle: f64,
    /// Answer 500 `InternalError` to any call.
    pub server_error: f64,
    /// Close the connection without answering, before doing anything.
    pub drop_before: f64,
    /// Do the work, then close the connection without answering (a create made a task!).
    pub drop_after: f64,
    /// A create call that made its task loses its answer on the way back (the connection
    /// closes): the task exists, runs and is billed, and the client never learnt its id.
    pub lost_create_answer: f64,
    /// A task ends FAILED with a code and message.
    pub task_failed: f64,
    /// A task ends FAILED with neither code nor message (seen in the wild).
    pub task_failed_silent: f64,
    /// An image candidate fails the output inspection: left out of the answer, with
    /// `DataInspectionFailed` where the protocol shows failed items; a task whose every
    /// candidate failed ends FAILED with that code.
    pub image_fail_rate: f64,
    /// A download sends part of the video (or image) and then closes.
    pub truncated_download: f64,
    /// A response is delayed by `slow_delay`.
    pub slow: f64,
    pub slow_delay: Duration,
}

/// Other clients on the same account: other tools, teammates, the web console
/// (`dashscope-api.md` §12.5). Their tasks take the account's slots and show in the list API.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Neighbours {
    /// Tasks per second they create, on average (0: nobody else uses the account).
    pub per_second: f64,
    /// The share of their tasks that copies one of this client's recent requests with one
    /// thing changed that the service shows once the task has finished: a word of the prompt,
    /// the size or the duration (a teammate rendering the same storyboard a little differently).
    pub similar: f64,
    /// Every accepted create is copied at the same instant by another client with only the seed
    /// changed (two sweeps that differ in seed alone): nothing the service answers tells the two
    /// tasks apart.
    pub echo_seed: bool,
}

/// When the server stops answering, and for how long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outage {
    pub after: Duration,
    /// `None`: it never comes back.
    pub lasting: Option<Duration>,
}

/// An answer the fake gives every create call (an account whose quota is used up, say).
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub code: String,
    pub message: String,
}

/// Everything the fake server does.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// The only key accepted; any other gets 401 `InvalidApiKey`.
    pub api_key: String,
    /// Running tasks per pool; `None`: the service's own caps, per pool, from the catalog
    /// (5 for PixVerse, Vidu, Wan, HappyHorse; 10 for Kling; 2 for Wan 2.2/2.1).
    pub concurrency: Option<u32>,
    /// Reject a create past the concurrency with 429, instead of queueing it as PENDING.
    pub overflow: bool,
    /// How long a task runs when `render` is not set: one seeded range for every task.
    pub run_time: DurationRange,
    /// Run times that grow with the video, like the service's (`None`: `run_time`).
    pub render: Option<Render>,
    /// Every task stays PENDING at least this long after its create, even with a slot free
    /// (the service's scheduling), on top of its run time: long enough to cancel it.
    pub pending_min: Duration,
    /// Creates per second per model (0 = unlimited; DashScope: 5).
    pub submit_rps: u32,
    /// Queries, lists and cancels per second, shared (0 = unlimited; DashScope: 20).
    pub query_rps: u32,
    /// After this, a task id answers UNKNOWN (DashScope: 24 h).
    pub task_ttl: Duration,
    pub seed: u64,
    pub faults: Faults,
    /// Other clients on the account.
    pub neighbours: Neighbours,
    /// How long a result URL works after its task ended (the service: "24 h", or sooner);
    /// past it the media host answers 403 `AccessDenied` "Request has expired".
    pub url_ttl: Option<Duration>,
    /// Error answers quote the request's `Authorization` header, as some gateways do.
    pub echo_auth: bool,
    /// Answer every create call with this error instead of making a task.
    pub refuse_creates: Option<Refusal>,
    /// The server stops accepting connections (they are refused, and open ones are closed) this
    /// long after it starts, for `Outage::lasting` (or for good): a server gone, a firewall.
    pub outage: Option<Outage>,
    /// How far the service's clock is ahead of the machine's (negative: behind): every time it
    /// shows or filters on (`submit_time`, the list API's `gmt_create` and window) is off by this.
    pub clock_ahead: jiff::SignedDuration,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            api_key: "sk-test".into(),
            concurrency: None,
            overflow: false,
            run_time: DurationRange { min: Duration::from_secs(2), max: Duration::from_secs(5) },
            render: None,
            pending_min: PENDING_MIN,
            submit_rps: 5,
            query_rps: 20,
            task_ttl: Duration::from_secs(24 * 3600),
            seed: 1,
            faults: Faults::default(),
            neighbours: Neighbours::default(),
            url_ttl: None,
            echo_auth: false,
            refuse_creates: None,
            outage: None,
            clock_ahead: jiff::SignedDuration::ZERO,
        }
    }
}
