//! The fake DashScope: a real HTTP server with DashScope's paths, headers, JSON shapes, status
//! codes and error codes (`dashscope-api.md`), tasks kept in memory and moved through their
//! states on a seeded timeline, the concurrency and rate limits enforced, faults injected on
//! request, and counters so tests can assert what it received.
//!
//! ```text
//!  request ──► fault gate (slow, drop, 429, 500) ──► axum router ──► Sim (one Mutex)
//!                                                         │            ├ tasks, slots per family
//!  response ◄── fault gate (drop after work) ◄────────────┘            ├ rate windows
//!                                                                      └ Stats
//! ```
//!
//! Library first: [`serve`] runs it on any listener; [`FakeServer::start`] runs it in process
//! on `127.0.0.1:0`; `pixbatch fake-server` wraps it for the command line.

pub mod config;
mod image_rules;
mod listen;
mod models;
mod png;
pub mod sim;
mod stats;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

pub use config::{DurationRange, FakeConfig, Faults, Neighbours, Outage, Refusal, Render};
pub use sim::Stats;
use sim::{Created, Sim};

use crate::catalog::Endpoint;

/// A valid one-second H.264 MP4 (64×36); each task's video appends a `free` box naming the task,
/// so every file is distinct and still plays.
const SAMPLE_MP4: &[u8] = include_bytes!("sample.mp4");

/// State shared by every connection.
pub struct Shared {
    sim: Mutex<Sim>,
    base_url: String,
    /// Whether the server accepts connections (see [`FakeServer::go_offline`]).
    online: tokio::sync::watch::Sender<bool>,
}

impl Shared {
    fn new(config: FakeConfig, addr: SocketAddr) -> Arc<Shared> {
        Arc::new(Shared {
            sim: Mutex::new(Sim::new(config)),
            base_url: format!("http://{addr}"),
            online: tokio::sync::watch::Sender::new(true),
        })
    }

    fn sim(&self) -> MutexGuard<'_, Sim> {
        // A panic while holding the lock cannot leave the counters half-written in a way that
        // matters to a test double; keep serving.
        self.sim.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A fake server running in this process.
pub struct FakeServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
}

impl FakeServer {
    /// Binds `127.0.0.1:0` and serves in the background on the current tokio runtime.
    pub async fn start(config: FakeConfig) -> std::io::Result<FakeServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        FakeServer::start_on(listener, config)
    }

    /// Serves on `listener` in the background.
    pub fn start_on(listener: TcpListener, config: FakeConfig) -> std::io::Result<FakeServer> {
        let addr = listener.local_addr()?;
        let shared = Shared::new(config, addr);
        let shutdown = CancellationToken::new();
        tokio::spawn(listen::serve_shared(listener, shared.clone(), shutdown.clone()));
        Ok(FakeServer { addr, shared, shutdown })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The counters so far (tasks advanced to now first).
    pub fn stats(&self) -> Stats {
        self.shared.sim().stats_now(Instant::now())
    }

    /// The request a task was created from, and whether a create call to this server made it
    /// (not another client of the account).
    pub fn task_body(&self, task_id: &str) -> Option<(Value, bool)> {
        let sim = self.shared.sim();
        sim.task(task_id).map(|t| (t.body.clone(), t.owner == sim::Owner::Api))
    }

    /// Exact bodies sent by create calls → how many of their tasks succeeded (were billed).
    pub fn billed_bodies(&self) -> HashMap<String, u32> {
        let mut sim = self.shared.sim();
        sim.advance(Instant::now());
        sim.billed_bodies()
    }

    /// Exact bodies sent by create calls → the images their SUCCEEDED tasks billed
    /// (`usage.image_count` summed; image models only).
    pub fn billed_images(&self) -> HashMap<String, u32> {
        let mut sim = self.shared.sim();
        sim.advance(Instant::now());
        sim.billed_images()
    }

    /// From now on, the video and image URLs of every task that has already ended answer 403 "Request
    /// has expired" (the service expiring them early).
    pub fn expire_urls(&self) {
        self.shared.sim().urls_expired_at = Some(Instant::now());
    }

    /// From now on, result URLs work this long after their task ended (`None`: 24 h as documented).
    pub fn set_url_ttl(&self, ttl: Option<std::time::Duration>) {
        self.shared.sim().config.url_ttl = ttl;
    }

    /// Replaces the fault probabilities (e.g. a clean rerun after a faulty one).
    pub fn set_faults(&self, faults: Faults) {
        self.shared.sim().config.faults = faults;
    }

    /// Stops accepting connections: the listening socket is closed (a connect is refused, as
    /// from a server that is gone) and open connections are dropped. Tasks go on rendering.
    pub fn go_offline(&self) {
        self.shared.online.send_replace(false);
    }

    /// Listens again on the same address, with the same tasks.
    pub fn go_online(&self) {
        self.shared.online.send_replace(true);
    }

    /// From now on every create call gets this answer (`None`: creates work again), e.g. an
    /// account whose bill is overdue in the middle of a run.
    pub fn set_refuse_creates(&self, refusal: Option<Refusal>) {
        self.shared.sim().config.refuse_creates = refusal;
    }

    /// Resets the counters (tasks are kept).
    pub fn reset_stats(&self) {
        self.shared.sim().stats = Stats::default();
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Serves the fake on `listener` until `shutdown` is cancelled.
pub async fn serve(listener: TcpListener, config: FakeConfig, shutdown: CancellationToken) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let shared = Shared::new(config, addr);
    listen::serve_shared(listener, shared, shutdown).await;
    Ok(())
}

/// Returned by the gate to make hyper close the connection without an answer.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fault injected: connection dropped")
    }
}

impl std::error::Error for DropConnection {}

/// Injects request-level faults around the real handlers.
async fn gate(shared: Arc<Shared>, router: Router, req: Request<Body>) -> Result<Response, DropConnection> {
    let faultable = !req.uri().path().starts_with("/__fake");
    let is_create = req.method() == axum::http::Method::POST && req.uri().path().starts_with("/api/v1/services/");
    if faultable {
        let (slow, delay, drop_before, throttle, server_error) = {
            let mut sim = shared.sim();
            let f = sim.config.faults.clone();
            (sim.roll(f.slow), f.slow_delay, sim.roll(f.drop_before), sim.roll(f.throttle), sim.roll(f.server_error))
        };
        if slow {
            shared.sim().stats.slowed += 1;
            tokio::time::sleep(delay).await;
        }
        if drop_before {
            shared.sim().stats.dropped += 1;
            return Err(DropConnection);
        }
        if throttle {
            let mut sim = shared.sim();
            sim.stats.throttled += 1;
            return Ok(error(&mut sim, StatusCode::TOO_MANY_REQUESTS, "Throttling", "Requests throttling triggered."));
        }
        if server_error {
            let mut sim = shared.sim();
            sim.stats.server_errors += 1;
            return Ok(error(
                &mut sim,
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "An internal error has occured, please try again later or contact service support.",
            ));
        }
    }
    let resp = match router.oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    if faultable {
        let mut sim = shared.sim();
        let p = sim.config.faults.drop_after;
        if sim.roll(p) {
            sim.stats.dropped += 1;
            return Err(DropConnection);
        }
        let p = sim.config.faults.lost_create_answer;
        if is_create && resp.status() == StatusCode::OK && sim.roll(p) {
            sim.stats.dropped += 1;
            return Err(DropConnection);
        }
    }
    Ok(resp)
}

fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/api/v1/services/aigc/video-generation/video-synthesis",
            post(|state, headers, body| create(state, headers, body, Endpoint::VideoGeneration)),
        )
        .route(
            "/api/v1/services/aigc/image2video/video-synthesis",
            post(|state, headers, body| create(state, headers, body, Endpoint::Image2Video)),
        )
        .route(
            "/api/v1/services/aigc/image-generation/generation",
            post(|state, headers, body| create(state, headers, body, Endpoint::ImageGeneration)),
        )
        .route(
            "/api/v1/services/aigc/text2image/image-synthesis",
            post(|state, headers, body| create(state, headers, body, Endpoint::Text2Image)),
        )
        .route(
            "/api/v1/services/aigc/image2image/image-synthesis",
            post(|state, headers, body| create(state, headers, body, Endpoint::Image2Image)),
        )
        .route("/api/v1/tasks/{id}", get(get_task))
        .route("/api/v1/tasks/{id}/cancel", post(cancel))
        .route("/api/v1/tasks/", get(list))
        .route("/api/v1/tasks", get(list))
        .route("/api/v1/uploads", get(policy))
        .route("/__oss", post(oss_upload))
        .route("/__media/{file}", get(media))
        .route("/__fake/stats", get(stats))
        .with_state(shared)
}

fn error(sim: &mut Sim, status: StatusCode, code: &str, message: &str) -> Response {
    let message = match (&sim.last_auth, sim.config.echo_auth) {
        (Some(auth), true) => format!("{message} (request header Authorization: {auth})"),
        _ => message.to_owned(),
    };
    let body = json!({"request_id": sim.request_id(), "code": code, "message": message});
    (status, axum::Json(body)).into_response()
}

/// 401 unless the bearer key is the configured one.
fn check_key(sim: &mut Sim, headers: &HeaderMap) -> Option<Response> {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    sim.last_auth = auth.map(str::to_owned);
    let bearer = auth.and_then(|a| a.strip_prefix("Bearer "));
    if bearer.is_none_or(|k| k.trim() != sim.config.api_key) {
        sim.stats.unauthorized += 1;
    }
    match bearer {
        None => Some(error(sim, StatusCode::UNAUTHORIZED, "InvalidApiKey", "No API-key provided.")),
        Some(k) if k.trim() != sim.config.api_key => {
            Some(error(sim, StatusCode::UNAUTHORIZED, "InvalidApiKey", "Invalid API-key provided."))
        }
        Some(_) => None,
    }
}

/// 429 when the shared query window is full.
fn check_query_rate(sim: &mut Sim, now: Instant) -> Option<Response> {
    if sim.admit_query(now) {
        return None;
    }
    sim.stats.throttled += 1;
    Some(error(
        sim,
        StatusCode::TOO_MANY_REQUESTS,
        "Throttling.RateQuota",
        "Requests rate limit exceeded, please try again later.",
    ))
}

async fn create(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes, endpoint: Endpoint) -> Response {
    let now = Instant::now();
    let mut sim = shared.sim();
    if let Some(r) = check_key(&mut sim, &headers) {
        return r;
    }
    if headers.get("x-dashscope-async").and_then(|v| v.to_str().ok()) != Some("enable") {
        return error(
            &mut sim,
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "current user api does not support synchronous calls.",
        );
    }
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !ct.starts_with("application/json") {
        return error(&mut sim, StatusCode::BAD_REQUEST, "InvalidParameter", "Content-Type must be application/json.");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(
            &mut sim,
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "Required body invalid, please check the request body format.",
        );
    };
    let oss_header = headers.get("x-dashscope-ossresourceresolve").and_then(|v| v.to_str().ok()) == Some("enable");
    let checked = if image_rules::is_image_request(body["model"].as_str(), endpoint) {
        image_rules::validate_create(&body, endpoint, oss_header, &sim.uploads)
    } else {
        models::validate_create(&body, endpoint, oss_header, &sim.uploads)
    };
    if let Err((status, code, message)) = checked {
        return error(&mut sim, status, code, &message);
    }
    if let Some(r) = sim.config.refuse_creates.clone() {
        let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
        if status == StatusCode::TOO_MANY_REQUESTS {
            sim.stats.throttled += 1;
        }
        return error(&mut sim, status, &r.code, &r.message);
    }
    match sim.create(&body, now) {
        Created::Task { task_id, request_id } => {
            axum::Json(json!({"request_id": request_id, "output": {"task_status": "PENDING", "task_id": task_id}}))
                .into_response()
        }
        Created::Throttled(code, message) => {
            sim.stats.throttled += 1;
            error(&mut sim, StatusCode::TOO_MANY_REQUESTS, code, message)
        }
    }
}

async fn get_task(State(shared): State<Arc<Shared>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let now = Instant::now();
    let mut sim = shared.sim();
    if let Some(r) = check_key(&mut sim, &headers).or_else(|| check_query_rate(&mut sim, now)) {
        return r;
    }
    sim.stats.queries += 1;
    axum::Json(sim.task_json(&id, now, &shared.base_url)).into_response()
}

async fn cancel(State(shared): State<Arc<Shared>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let now = Instant::now();
    let mut sim = shared.sim();
    if let Some(r) = check_key(&mut sim, &headers).or_else(|| check_query_rate(&mut sim, now)) {
        return r;
    }
    sim.stats.cancels += 1;
    if sim.cancel(&id, now) {
        axum::Json(json!({"request_id": sim.request_id()})).into_response()
    } else {
        error(
            &mut sim,
            StatusCode::BAD_REQUEST,
            "UnsupportedOperation",
            "Failed to cancel the task, please confirm if the task is in PENDING status.",
        )
    }
}

fn parse_list_time(s: &str) -> Option<jiff::Timestamp> {
    let dt = jiff::civil::DateTime::strptime("%Y%m%d%H%M%S", s).ok()?;
    dt.to_zoned(crate::api::beijing()).ok().map(|z| z.timestamp())
}

async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let now = Instant::now();
    let mut sim = shared.sim();
    if let Some(r) = check_key(&mut sim, &headers).or_else(|| check_query_rate(&mut sim, now)) {
        return r;
    }
    sim.stats.lists += 1;
    let day = jiff::SignedDuration::from_hours(24);
    let parse = |k: &str| q.get(k).map(|v| parse_list_time(v).ok_or(()));
    let (start, end) = match (parse("start_time"), parse("end_time")) {
        (Some(Err(())), _) | (_, Some(Err(()))) => {
            return error(
                &mut sim,
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                "start_time/end_time must be YYYYMMDDhhmmss.",
            );
        }
        (Some(Ok(s)), Some(Ok(e))) => (s, e),
        (Some(Ok(s)), None) => (s, s.checked_add(day).unwrap_or(s)),
        (None, Some(Ok(e))) => (e.checked_sub(day).unwrap_or(e), e),
        (None, None) => {
            let e = sim.wall(now);
            (e.checked_sub(day).unwrap_or(e), e)
        }
    };
    if end.duration_since(start) > day || end < start {
        return error(
            &mut sim,
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "The time range between start_time and end_time must not exceed 24 hours.",
        );
    }
    let all = sim.list(now, start, end, q.get("model_name").map(String::as_str), q.get("status").map(String::as_str));
    let page_size = q.get("page_size").and_then(|p| p.parse::<usize>().ok()).unwrap_or(10).clamp(1, 100);
    let page_no = q.get("page_no").and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).max(1);
    let total = all.len();
    let data: Vec<Value> = all.into_iter().skip((page_no - 1).saturating_mul(page_size)).take(page_size).collect();
    axum::Json(json!({
        "request_id": sim.request_id(),
        "total": total,
        "total_page": total.div_ceil(page_size),
        "page_no": page_no,
        "page_size": page_size,
        "data": data,
    }))
    .into_response()
}

async fn policy(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut sim = shared.sim();
    if let Some(r) = check_key(&mut sim, &headers) {
        return r;
    }
    if q.get("action").map(String::as_str) != Some("getPolicy") || q.get("model").is_none_or(String::is_empty) {
        return error(
            &mut sim,
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "Required parameter(action, model) missing or invalid.",
        );
    }
    sim.stats.policies += 1;
    let dir = format!("dashscope-instant/fake/{}", sim.request_id());
    axum::Json(json!({
        "request_id": sim.request_id(),
        "data": {
            "policy": "eyJmYWtlIjp0cnVlfQ==",
            "signature": "fake-signature=",
            "upload_dir": dir,
            "upload_host": format!("{}/__oss", shared.base_url),
            "expire_in_seconds": 300,
            "max_file_size_mb": 20,
            "capacity_limit_mb": 999_999_999,
            "oss_access_key_id": "LTAI-fake",
            "x_oss_object_acl": "private",
            "x_oss_forbid_overwrite": "true",
        }
    }))
    .into_response()
}

/// OSS's form upload: the fields of `getPolicy`, `file` last; 200 with an empty body.
async fn oss_upload(State(shared): State<Arc<Shared>>, mut form: Multipart) -> Response {
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut file_len = None;
    let mut seconds = None;
    let mut image_size = None;
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                if name == "file" {
                    match field.bytes().await {
                        Ok(b) => {
                            file_len = Some(b.len());
                            seconds = crate::plan::refs::mp4_seconds(&b);
                            image_size = imagesize::blob_size(&b).ok().map(|s| (s.width as u32, s.height as u32));
                        }
                        Err(_) => return (StatusCode::BAD_REQUEST, "bad file part").into_response(),
                    }
                } else if file_len.is_some() {
                    return (StatusCode::BAD_REQUEST, "the file must be the last field").into_response();
                } else {
                    fields.insert(name, field.text().await.unwrap_or_default());
                }
            }
            Ok(None) => break,
            Err(_) => return (StatusCode::BAD_REQUEST, "malformed multipart body").into_response(),
        }
    }
    let required = ["OSSAccessKeyId", "Signature", "policy", "key"];
    if file_len.is_none() || required.iter().any(|k| !fields.contains_key(*k)) {
        return (StatusCode::BAD_REQUEST, "missing form fields").into_response();
    }
    let mut sim = shared.sim();
    let key = fields.remove("key").unwrap_or_default();
    if sim.uploads.contains_key(&key) {
        return (StatusCode::CONFLICT, "FileAlreadyExists").into_response();
    }
    if let Some(size) = image_size {
        sim.upload_sizes.insert(key.clone(), size);
    }
    sim.uploads.insert(key, seconds);
    sim.stats.uploads += 1;
    StatusCode::OK.into_response()
}

/// The video of a task: the sample MP4 plus a `free` box naming the task.
pub fn video_for(task_id: &str) -> Vec<u8> {
    let payload = format!("pixbatch fake video for task {task_id}");
    let mut out = SAMPLE_MP4.to_vec();
    out.extend_from_slice(&((payload.len() + 8) as u32).to_be_bytes());
    out.extend_from_slice(b"free");
    out.extend_from_slice(payload.as_bytes());
    out
}

async fn media(State(shared): State<Arc<Shared>>, Path(file): Path<String>) -> Response {
    // An image candidate is `{task}-{index}.png`; a video `{task}.mp4`.
    let candidate = file.strip_suffix(".png").and_then(|f| f.rsplit_once('-'));
    let candidate = candidate.and_then(|(id, i)| Some((id.to_owned(), i.parse::<usize>().ok()?)));
    let id = candidate.as_ref().map_or_else(|| file.strip_suffix(".mp4").unwrap_or(&file).to_owned(), |c| c.0.clone());
    let (truncate, image) = {
        let mut sim = shared.sim();
        match sim.video(&id, Instant::now()) {
            None => return (StatusCode::NOT_FOUND, "NoSuchKey").into_response(),
            Some(false) => {
                sim.stats.expired_downloads += 1;
                // What an object store says for a signed URL past its time.
                let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>AccessDenied</Code>\n  <Message>Request has expired.</Message>\n</Error>\n";
                return (StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, "application/xml")], body).into_response();
            }
            Some(true) => {}
        }
        // An image task has PNGs (of the candidates that passed), a video task an MP4.
        let image = match candidate {
            Some((_, i)) => match sim.image_candidate(&id, i) {
                Some((body, size)) => Some((body, i, size)),
                None => return (StatusCode::NOT_FOUND, "NoSuchKey").into_response(),
            },
            None if sim.is_image_task(&id) => return (StatusCode::NOT_FOUND, "NoSuchKey").into_response(),
            None => None,
        };
        sim.stats.downloads += 1;
        let p = sim.config.faults.truncated_download;
        let t = sim.roll(p);
        if t {
            sim.stats.truncated += 1;
        }
        (t, image)
    };
    let (video, content_type) = match image {
        None => (video_for(&id), "video/mp4"),
        Some((body, index, (w, h))) => match png::candidate(&body, index as u32, w, h) {
            Ok(bytes) => (bytes, "image/png"),
            Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        },
    };
    let len = video.len();
    let body = if truncate {
        let head = Bytes::copy_from_slice(&video[..len / 2]);
        let chunks: Vec<Result<Bytes, std::io::Error>> =
            vec![Ok(head), Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "fault injected"))];
        Body::from_stream(futures::stream::iter(chunks))
    } else {
        Body::from(video)
    };
    ([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_LENGTH, len.to_string())], body).into_response()
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(shared.sim().stats_now(Instant::now())).into_response()
}
