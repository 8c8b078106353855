//! The DashScope client: the only code that speaks HTTP to DashScope.
//!
//! One `reqwest::Client` (rustls) for API calls and one without credentials for downloads.
//! Every call returns an [`ApiError`] classified once (see [`error`]); retry policies live in
//! [`retry`] and each caller picks the one that fits its operation.

pub mod error;
pub mod retry;
pub mod wire;

use std::fmt;
use std::path::Path;
use std::time::Duration;

use crate::catalog::Endpoint;
use futures::StreamExt;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use url::Url;

pub use error::{ApiError, DownloadError, ErrorClass, Transport};
pub use retry::{RetryPolicy, Retryable};
pub use wire::{
    CreateResponse, ImageOut, ListResponse, ListedTask, TaskOutput, TaskResponse, TaskStatus, UploadPolicy, Usage,
};

/// Tasks per page of the list API (its largest page).
pub const LIST_PAGE_SIZE: u32 = 100;
/// Pages read at most from one listing (100 000 tasks): a guard against a service that never
/// says it is done.
pub const LIST_MAX_PAGES: u32 = 1000;

/// Where DashScope lives when nothing says otherwise (Beijing, where PixVerse runs).
pub const DEFAULT_BASE_URL: &str = "https://dashscope.aliyuncs.com";

pub use crate::manifest::Region;

/// The documented endpoint of a region (`dashscope-api.md` §2): Beijing's shared domain, or a
/// workspace's own domain when a workspace id is given; Singapore only through a workspace.
pub fn region_base_url(region: Region, workspace: Option<&str>) -> Result<String, ConfigError> {
    let workspace = workspace.map(str::trim).filter(|w| !w.is_empty());
    match (region, workspace) {
        (Region::CnBeijing, None) => Ok(DEFAULT_BASE_URL.to_owned()),
        (Region::CnBeijing, Some(ws)) => Ok(format!("https://{ws}.cn-beijing.maas.aliyuncs.com")),
        (Region::ApSoutheast1, Some(ws)) => Ok(format!("https://{ws}.ap-southeast-1.maas.aliyuncs.com")),
        (Region::ApSoutheast1, None) => Err(ConfigError::NoWorkspace(Region::ApSoutheast1)),
    }
}

/// An API key. It never prints: not in `Debug`, logs, errors or panics.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }

    fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the key replaced by `<redacted>`.
    pub fn redact(&self, text: &str) -> String {
        let key = self.0.trim();
        // A key too short to be a key would blank out ordinary words.
        if key.len() < 4 || !text.contains(key) {
            return text.to_owned();
        }
        text.replace(key, "<redacted>")
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Why a client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("DASHSCOPE_API_KEY is not set")]
    MissingKey,
    #[error("the base URL `{0}` is not a valid URL")]
    BadUrl(String),
    #[error("refusing to send the API key over plain HTTP to `{0}`")]
    Insecure(String),
    #[error("cannot set up the HTTP client: {0}")]
    Http(String),
    #[error("the {0} region is reached through a workspace's own domain, and no workspace id was given")]
    NoWorkspace(Region),
}

impl ConfigError {
    /// What to do next.
    pub fn hint(&self) -> &'static str {
        match self {
            ConfigError::MissingKey => {
                "export DASHSCOPE_API_KEY=sk-… (a Model Studio key for the Beijing region), or try `--fake`"
            }
            ConfigError::BadUrl(_) => "set DASHSCOPE_BASE_URL to e.g. https://dashscope.aliyuncs.com",
            ConfigError::Insecure(_) => "use an https:// base URL; plain http is allowed only for 127.0.0.1/localhost",
            ConfigError::Http(_) => "this is a bug or a broken TLS setup; please report it",
            ConfigError::NoWorkspace(_) => {
                "pass --workspace ID or set DASHSCOPE_WORKSPACE_ID (the Model Studio console shows it), or set DASHSCOPE_BASE_URL"
            }
        }
    }
}

/// How to reach DashScope.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Scheme and host (and any path prefix) *before* `/api/v1`.
    pub base_url: Url,
    pub api_key: ApiKey,
    pub connect_timeout: Duration,
    /// For API calls; downloads use [`ApiConfig::read_timeout`] between chunks instead.
    pub request_timeout: Duration,
    pub read_timeout: Duration,
}

impl ApiConfig {
    /// A config for `base_url` (with or without a trailing `/api/v1`).
    pub fn new(base_url: &str, api_key: ApiKey) -> Result<ApiConfig, ConfigError> {
        Ok(ApiConfig {
            base_url: endpoint_url(base_url)?,
            api_key,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(60),
        })
    }

    /// From the environment: `DASHSCOPE_API_KEY`, and `DASHSCOPE_BASE_URL` or the SDK's
    /// `DASHSCOPE_HTTP_BASE_URL` (which ends in `/api/v1`), else Beijing.
    pub fn from_env() -> Result<ApiConfig, ConfigError> {
        ApiConfig::from_env_in(Region::CnBeijing, None)
    }

    /// From the environment, in `region`: `DASHSCOPE_BASE_URL` (or `DASHSCOPE_HTTP_BASE_URL`)
    /// wins; else the region's endpoint, with `workspace` (or `DASHSCOPE_WORKSPACE_ID`).
    pub fn from_env_in(region: Region, workspace: Option<&str>) -> Result<ApiConfig, ConfigError> {
        let key = std::env::var("DASHSCOPE_API_KEY").ok().filter(|k| !k.trim().is_empty());
        let key = key.ok_or(ConfigError::MissingKey)?;
        let base = match std::env::var("DASHSCOPE_BASE_URL").or_else(|_| std::env::var("DASHSCOPE_HTTP_BASE_URL")) {
            Ok(base) => base,
            Err(_) => {
                let env_workspace = std::env::var("DASHSCOPE_WORKSPACE_ID").ok();
                region_base_url(region, workspace.or(env_workspace.as_deref()))?
            }
        };
        ApiConfig::new(&base, ApiKey::new(key.trim()))
    }
}

/// A base URL as the client uses it (scheme and host, any path prefix, ending in `/`, without
/// `/api/v1`), checked: https, or plain http on loopback only.
pub fn endpoint_url(base_url: &str) -> Result<Url, ConfigError> {
    let trimmed = base_url.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/api/v1").unwrap_or(trimmed);
    let mut url = Url::parse(trimmed).map_err(|_| ConfigError::BadUrl(base_url.to_owned()))?;
    if url.host_str().is_none() {
        return Err(ConfigError::BadUrl(base_url.to_owned()));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => return Err(ConfigError::Insecure(base_url.to_owned())),
        _ => return Err(ConfigError::BadUrl(base_url.to_owned())),
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// What a base URL says about where tasks live: the region and, for a workspace domain
/// (`{WorkspaceId}.{region}.maas.aliyuncs.com`), the workspace (`dashscope-api.md` §2).
pub fn describe_endpoint(base: &str) -> String {
    let Ok(url) = Url::parse(base) else { return base.to_owned() };
    let host = url.host_str().unwrap_or_default();
    let region = match host {
        "dashscope.aliyuncs.com" => Some("cn-beijing".to_owned()),
        "dashscope-intl.aliyuncs.com" => Some("ap-southeast-1".to_owned()),
        "dashscope-us.aliyuncs.com" => Some("us-east-1".to_owned()),
        "cn-hongkong.dashscope.aliyuncs.com" => Some("cn-hongkong".to_owned()),
        _ => None,
    };
    let parts: Vec<&str> = host.split('.').collect();
    let (region, workspace) = match parts.as_slice() {
        [ws, region, "maas", "aliyuncs", "com"] => (Some((*region).to_owned()), Some(*ws)),
        _ => (region, None),
    };
    match (region, workspace) {
        (Some(r), Some(w)) => format!("{base} (region {r}, workspace {w})"),
        (Some(r), None) => format!("{base} (region {r})"),
        _ => base.to_owned(),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Filters for the list call; times are sent as `YYYYMMDDhhmmss` in UTC+8 (the service's
/// documented examples are Beijing time; `dashscope-api.md` §11.6).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub start_time: Option<jiff::Timestamp>,
    pub end_time: Option<jiff::Timestamp>,
    pub model_name: Option<String>,
    pub status: Option<TaskStatus>,
    pub page_no: Option<u32>,
    pub page_size: Option<u32>,
}

/// Formats a time the way the list call wants it.
pub fn list_time(t: jiff::Timestamp) -> String {
    t.to_zoned(beijing()).strftime("%Y%m%d%H%M%S").to_string()
}

/// UTC+8, the service's time zone.
pub fn beijing() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::fixed(jiff::tz::offset(8))
}

/// A finished download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    pub bytes: u64,
    /// Lowercase hex.
    pub sha256: String,
}

/// The DashScope client.
#[derive(Debug, Clone)]
pub struct Client {
    api: reqwest::Client,
    downloads: reqwest::Client,
    base: Url,
    key: ApiKey,
}

impl Client {
    /// Builds the HTTP clients.
    pub fn new(config: ApiConfig) -> Result<Client, ConfigError> {
        let ua = concat!("pixbatch/", env!("CARGO_PKG_VERSION"));
        let api = reqwest::Client::builder()
            .user_agent(ua)
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .build()
            .map_err(|e| ConfigError::Http(e.to_string()))?;
        let downloads = reqwest::Client::builder()
            .user_agent(ua)
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .build()
            .map_err(|e| ConfigError::Http(e.to_string()))?;
        Ok(Client { api, downloads, base: config.base_url, key: config.api_key })
    }

    /// The base URL (before `/api/v1`).
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The same key and connections, talking to another endpoint: a task lives at the endpoint
    /// that created it, and every later call about it goes there (`dashscope-api.md` §12.6).
    pub fn at(&self, base_url: &str) -> Result<Client, ConfigError> {
        let base = endpoint_url(base_url)?;
        Ok(Client { base, ..self.clone() })
    }

    fn url(&self, path: &str) -> Url {
        // Joining a relative path onto a base ending in `/` cannot fail.
        self.base.join(path).unwrap_or_else(|_| self.base.clone())
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.api.request(method, self.url(path)).bearer_auth(self.key.expose())
    }

    /// Takes the key out of anything the service said: a gateway that echoes the
    /// `Authorization` header in an error would otherwise put it into stderr, the report and
    /// the ledger.
    fn scrub(&self, mut err: ApiError) -> ApiError {
        err.message = self.key.redact(&err.message);
        err.code = self.key.redact(&err.code);
        err
    }

    /// Submits a generation task (one attempt). `X-DashScope-OssResourceResolve` is added when
    /// any media URL is a temporary `oss://` URL.
    pub async fn create_task(&self, body: &Value, endpoint: Endpoint) -> Result<CreateResponse, ApiError> {
        self.create_inner(body, endpoint).await.map_err(|e| self.scrub(e))
    }

    async fn create_inner(&self, body: &Value, endpoint: Endpoint) -> Result<CreateResponse, ApiError> {
        let uses_oss = mentions_oss(&body["input"]);
        let mut req = self.request(Method::POST, endpoint.path()).header("X-DashScope-Async", "enable").json(body);
        if uses_oss {
            req = req.header("X-DashScope-OssResourceResolve", "enable");
        }
        let resp = send(req, true).await?;
        parse(resp).await
    }

    /// Queries a task (one attempt).
    pub async fn get_task(&self, task_id: &str) -> Result<TaskResponse, ApiError> {
        let resp = send(self.request(Method::GET, &format!("api/v1/tasks/{}", encode(task_id))), false)
            .await
            .map_err(|e| self.scrub(e))?;
        let mut task: TaskResponse = parse(resp).await.map_err(|e| self.scrub(e))?;
        for text in
            [&mut task.output.message, &mut task.output.code, &mut task.output.orig_prompt].into_iter().flatten()
        {
            *text = self.key.redact(text);
        }
        Ok(task)
    }

    /// Cancels a PENDING task (one attempt); a running one gives 400 `UnsupportedOperation`.
    pub async fn cancel_task(&self, task_id: &str) -> Result<(), ApiError> {
        let resp = send(self.request(Method::POST, &format!("api/v1/tasks/{}/cancel", encode(task_id))), true)
            .await
            .map_err(|e| self.scrub(e))?;
        let _: Value = parse(resp).await.map_err(|e| self.scrub(e))?;
        Ok(())
    }

    /// Lists tasks (one attempt, one page).
    pub async fn list_tasks(&self, query: &ListQuery) -> Result<ListResponse, ApiError> {
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(t) = query.start_time {
            params.push(("start_time", list_time(t)));
        }
        if let Some(t) = query.end_time {
            params.push(("end_time", list_time(t)));
        }
        if let Some(m) = &query.model_name {
            params.push(("model_name", m.clone()));
        }
        if let Some(s) = query.status {
            params.push(("status", s.as_str().to_owned()));
        }
        if let Some(p) = query.page_no {
            params.push(("page_no", p.to_string()));
        }
        if let Some(p) = query.page_size {
            params.push(("page_size", p.to_string()));
        }
        let resp =
            send(self.request(Method::GET, "api/v1/tasks/").query(&params), false).await.map_err(|e| self.scrub(e))?;
        parse(resp).await.map_err(|e| self.scrub(e))
    }

    /// Every task of a list query, all pages.
    pub async fn list_all_tasks(&self, query: &ListQuery, policy: &RetryPolicy) -> Result<Vec<ListedTask>, ApiError> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let q = ListQuery {
                page_no: Some(page),
                page_size: Some(query.page_size.unwrap_or(LIST_PAGE_SIZE)),
                ..query.clone()
            };
            let resp = policy.run(|| self.list_tasks(&q)).await?;
            let n = resp.data.len();
            out.extend(resp.data);
            if n == 0 || u64::from(page) >= resp.total_page || page >= LIST_MAX_PAGES {
                return Ok(out);
            }
            page += 1;
        }
    }

    /// Gets a temporary-storage upload credential for `model`.
    pub async fn upload_policy(&self, model: &str) -> Result<UploadPolicy, ApiError> {
        let req = self.request(Method::GET, "api/v1/uploads").query(&[("action", "getPolicy"), ("model", model)]);
        let resp = send(req, false).await.map_err(|e| self.scrub(e))?;
        let resp: wire::PolicyResponse = parse(resp).await.map_err(|e| self.scrub(e))?;
        Ok(resp.data)
    }

    /// Uploads one file with a credential; returns its `oss://` URL (valid 48 h).
    pub async fn upload_file(
        &self,
        policy: &UploadPolicy,
        file_name: &str,
        bytes: Vec<u8>,
        mime: &str,
    ) -> Result<String, ApiError> {
        let key = format!("{}/{}", policy.upload_dir.trim_end_matches('/'), file_name);
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str(mime)
            .map_err(|e| ApiError::transport("BadMime", e.to_string(), false))?;
        let form = reqwest::multipart::Form::new()
            .text("OSSAccessKeyId", policy.oss_access_key_id.clone())
            .text("Signature", policy.signature.clone())
            .text("policy", policy.policy.clone())
            .text("key", key.clone())
            .text("x-oss-object-acl", policy.x_oss_object_acl.clone().unwrap_or_else(|| "private".into()))
            .text("x-oss-forbid-overwrite", policy.x_oss_forbid_overwrite.clone().unwrap_or_else(|| "true".into()))
            .text("success_action_status", "200")
            .text("x-oss-content-type", mime.to_owned())
            .part("file", part);
        // The upload host is OSS, not DashScope: no API key goes there.
        let resp = send(self.downloads.post(&policy.upload_host).multipart(form), true).await?;
        if !resp.status().is_success() {
            return Err(error_from(resp).await);
        }
        Ok(format!("oss://{key}"))
    }

    /// Streams a result video into `dest` (a temporary file the caller renames), checking the
    /// length against `Content-Length` and hashing it. No credentials go to the result host.
    pub async fn download(&self, url: &str, dest: &Path) -> Result<Downloaded, DownloadError> {
        let resp = send(self.downloads.get(url), false).await?;
        if !resp.status().is_success() {
            return Err(error_from(resp).await.into());
        }
        let expected = resp.content_length();
        let io_err = |e: std::io::Error| DownloadError::disk(dest, e);
        let mut file = tokio::fs::File::create(dest).await.map_err(io_err)?;
        let mut hasher = Sha256::new();
        let mut total: u64 = 0;
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| ApiError::transport("DownloadInterrupted", e.to_string(), false))?;
            hasher.update(&chunk);
            total += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(io_err)?;
        }
        file.flush().await.map_err(io_err)?;
        file.sync_all().await.map_err(io_err)?;
        if let Some(expected) = expected
            && expected != total
        {
            return Err(
                ApiError::transport("TruncatedDownload", format!("got {total} of {expected} bytes"), false).into()
            );
        }
        if total == 0 {
            return Err(ApiError::transport("EmptyDownload", "the video is empty".into(), false).into());
        }
        Ok(Downloaded { bytes: total, sha256: hex::encode(hasher.finalize()) })
    }
}

fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

/// Sends a request, turning transport faults into classified errors. `mutating` requests that
/// fail after being sent may have taken effect.
async fn send(req: RequestBuilder, mutating: bool) -> Result<Response, ApiError> {
    match req.send().await {
        Ok(resp) => {
            tracing::debug!(status = resp.status().as_u16(), url = %redact_url(resp.url()), "dashscope answered");
            Ok(resp)
        }
        Err(e) => {
            let kind = transport_kind(&e);
            // reqwest's message names the URL, never headers, so the key cannot leak here.
            tracing::debug!(code = kind.code(), error = %e, "dashscope request failed");
            Err(ApiError::no_answer(kind, without_url(&e), mutating))
        }
    }
}

/// What kind of transport fault a reqwest error is: its own flags, then its cause chain (the
/// OS error of a connect, hyper's DNS failure, rustls' handshake error).
pub fn transport_kind(e: &reqwest::Error) -> error::Transport {
    use error::Transport;
    let mut refused = false;
    let mut dns = false;
    let mut tls = false;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        tls |= s.downcast_ref::<rustls::Error>().is_some();
        // An io::Error's `source` skips the error it wraps (hyper-rustls nests two): look inside.
        let mut io = s.downcast_ref::<std::io::Error>();
        while let Some(e) = io {
            refused |= e.kind() == std::io::ErrorKind::ConnectionRefused;
            let inner = e.get_ref();
            tls |= inner.is_some_and(|i| i.downcast_ref::<rustls::Error>().is_some());
            io = inner.and_then(|i| i.downcast_ref::<std::io::Error>());
        }
        let text = s.to_string().to_ascii_lowercase();
        dns |= text.contains("dns error") || text.contains("failed to lookup address");
        source = s.source();
    }
    if e.is_connect() || e.is_builder() {
        if refused {
            Transport::Refused
        } else if dns {
            Transport::Dns
        } else if tls {
            Transport::Tls
        } else if e.is_timeout() {
            Transport::ConnectTimeout
        } else {
            Transport::Connect
        }
    } else if e.is_timeout() {
        Transport::Timeout
    } else {
        Transport::Reset
    }
}

/// A transport error's text without the URL (which may carry a signed download query).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), &redact_url(url));
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A URL without its query string (signed result URLs carry credentials there).
pub fn redact_url(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.to_string()
}

/// Reads a 2xx body as JSON, or turns anything else into a classified error.
async fn parse<T: DeserializeOwned>(resp: Response) -> Result<T, ApiError> {
    if !resp.status().is_success() {
        return Err(error_from(resp).await);
    }
    let bytes = resp.bytes().await.map_err(|e| ApiError::transport("ConnectionLost", e.to_string(), false))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        let snippet: String = String::from_utf8_lossy(&bytes).chars().take(200).collect();
        ApiError::decode(format!("unreadable answer ({e}): {snippet}"))
    })
}

/// An error answer: JSON `{code, message, request_id}`, or any text (a gateway page).
async fn error_from(resp: Response) -> ApiError {
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let text = resp.text().await.unwrap_or_default();
    let body: wire::ErrorBody = serde_json::from_str(&text).unwrap_or_else(|_| wire::ErrorBody {
        request_id: None,
        code: None,
        message: Some(text.chars().take(300).collect::<String>().trim().to_owned()).filter(|s| !s.is_empty()),
    });
    let mut err = ApiError::http(status.as_u16(), body.code, body.message, body.request_id);
    err.retry_after = retry_after;
    if status == StatusCode::TOO_MANY_REQUESTS {
        tracing::debug!(code = %err.code, "throttled");
    }
    err
}

/// Whether any URL in a request's `input` is a temporary `oss://` one (media items, URL lists
/// and URL fields alike).
fn mentions_oss(value: &Value) -> bool {
    match value {
        Value::String(s) => s.starts_with("oss://"),
        Value::Array(items) => items.iter().any(mentions_oss),
        Value::Object(map) => map.iter().any(|(k, v)| k != "prompt" && k != "negative_prompt" && mentions_oss(v)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_picks_its_documented_endpoint() {
        assert_eq!(region_base_url(Region::CnBeijing, None).ok().as_deref(), Some("https://dashscope.aliyuncs.com"));
        assert_eq!(
            region_base_url(Region::CnBeijing, Some("ws-1")).ok().as_deref(),
            Some("https://ws-1.cn-beijing.maas.aliyuncs.com")
        );
        assert_eq!(
            region_base_url(Region::ApSoutheast1, Some(" ws-9 ")).ok().as_deref(),
            Some("https://ws-9.ap-southeast-1.maas.aliyuncs.com")
        );
        assert!(matches!(region_base_url(Region::ApSoutheast1, None), Err(ConfigError::NoWorkspace(_))));
        assert!(matches!(region_base_url(Region::ApSoutheast1, Some("  ")), Err(ConfigError::NoWorkspace(_))));
        // The endpoint a task is recorded with names its region.
        let sg = region_base_url(Region::ApSoutheast1, Some("ws-9")).expect("url");
        assert!(describe_endpoint(&sg).contains("ap-southeast-1"), "{}", describe_endpoint(&sg));
    }

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(ApiConfig::new("http://127.0.0.1:8090", ApiKey::new("k")).is_ok());
        assert!(ApiConfig::new("http://localhost:8090/api/v1", ApiKey::new("k")).is_ok());
        assert!(matches!(
            ApiConfig::new("http://dashscope.aliyuncs.com", ApiKey::new("k")),
            Err(ConfigError::Insecure(_))
        ));
        let c = ApiConfig::new("https://dashscope.aliyuncs.com/api/v1/", ApiKey::new("k")).expect("valid");
        assert_eq!(c.base_url.as_str(), "https://dashscope.aliyuncs.com/");
    }

    #[test]
    fn the_key_never_prints() {
        let c = ApiConfig::new("https://x.example", ApiKey::new("sk-canary-123")).expect("valid");
        assert!(!format!("{c:?}").contains("canary"));
    }

    #[test]
    fn list_times_are_beijing_time() {
        let t: jiff::Timestamp = "2026-03-10T07:03:25Z".parse().expect("time");
        assert_eq!(list_time(t), "20260310150325");
    }
}
