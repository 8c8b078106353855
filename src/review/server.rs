//! `pixbatch review`: the contact sheet served on `127.0.0.1`, with a pick button on every
//! take and on every candidate image of a generated ref. It serves only regular files inside the output folder (no `..`, no absolute paths, no
//! symlink that leads out), answers only requests addressed to the loopback (a rebound DNS name
//! gets nothing), and refuses a pick without the token embedded in the page at launch, so that
//! another local web page cannot change picks.

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

use super::picks::{self, PickError, Picks};
use super::ref_picks;
use super::sheet::{Mode, render};
use crate::ledger::Ledger;
use crate::plan::Expansion;

/// The header a pick must carry.
pub const TOKEN_HEADER: &str = "x-pixbatch-token";

/// Expands the manifest again: a ref pick changes the keys of the jobs that use the ref (and the
/// image jobs of refs made from it), so each request works on the manifest as it is now.
pub type Reload = Box<dyn Fn() -> Result<Expansion, String> + Send + Sync>;

/// Where the page's jobs come from.
enum Source {
    Fixed(Arc<Expansion>),
    Reload(Reload),
}

struct Review {
    source: Source,
    name: Option<String>,
    /// The output folder, resolved (symlinks followed).
    root: PathBuf,
    token: String,
    port: u16,
}

/// A running review server.
pub struct ReviewServer {
    pub addr: SocketAddr,
    /// The per-launch token the page carries.
    pub token: String,
    shutdown: CancellationToken,
}

impl ReviewServer {
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Stops serving (dropping the server does too).
    pub fn stop(&self) {
        self.shutdown.cancel();
    }
}

impl Drop for ReviewServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Review {
    fn expansion(&self) -> Result<Arc<Expansion>, String> {
        match &self.source {
            Source::Fixed(e) => Ok(e.clone()),
            Source::Reload(reload) => reload().map(Arc::new),
        }
    }
}

/// Starts serving the contact sheet of `expansion` on `listener` (bind it to loopback). The jobs
/// stay as they are at launch: for a manifest with generated refs, use [`start_reloading`].
pub fn start(listener: TcpListener, expansion: Expansion, name: Option<String>) -> std::io::Result<ReviewServer> {
    serve(listener, Source::Fixed(Arc::new(expansion)), name)
}

/// Starts serving the contact sheet of the expansion `reload` makes, made again for every
/// request (a pick of a generated ref changes the keys of the jobs that use it).
pub fn start_reloading(listener: TcpListener, reload: Reload, name: Option<String>) -> std::io::Result<ReviewServer> {
    serve(listener, Source::Reload(reload), name)
}

fn serve(listener: TcpListener, source: Source, name: Option<String>) -> std::io::Result<ReviewServer> {
    let expansion = match &source {
        Source::Fixed(e) => e.clone(),
        Source::Reload(reload) => Arc::new(reload().map_err(std::io::Error::other)?),
    };
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::other(format!("the review server listens on loopback only, not {}", addr.ip())));
    }
    std::fs::create_dir_all(&expansion.output_dir)?;
    let root = expansion.output_dir.canonicalize()?;
    let token = {
        use rand::Rng;
        let bytes: [u8; 16] = rand::rng().random();
        hex::encode(bytes)
    };
    let state = Arc::new(Review { source, name, root, token: token.clone(), port: addr.port() });
    let router = Router::new()
        .route("/", get(page))
        .route("/pick", post(pick))
        .fallback(get(file))
        .layer(axum::middleware::from_fn_with_state(state.clone(), loopback_only))
        .with_state(state);
    let shutdown = CancellationToken::new();
    let token_for_serve = shutdown.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).with_graceful_shutdown(token_for_serve.cancelled_owned()).await;
    });
    Ok(ReviewServer { addr, token, shutdown })
}

/// Requests must name the loopback as their host (DNS rebinding).
async fn loopback_only(State(review): State<Arc<Review>>, request: Request, next: axum::middleware::Next) -> Response {
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let allowed = [format!("127.0.0.1:{}", review.port), format!("localhost:{}", review.port)];
    if !allowed.iter().any(|a| a == host) {
        return (StatusCode::FORBIDDEN, "not a loopback host").into_response();
    }
    next.run(request).await
}

async fn page(State(review): State<Arc<Review>>) -> Response {
    let expansion = match review.expansion() {
        Ok(e) => e,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    };
    let ledger = match Ledger::load(&expansion.output_dir) {
        Ok(l) => l,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let picks = match Picks::load(&expansion.output_dir) {
        Ok(p) => p,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    Html(render(&expansion, &ledger, &picks, review.name.as_deref(), Mode::Served { token: &review.token }))
        .into_response()
}

#[derive(serde::Deserialize)]
struct PickRequest {
    /// A shot id, or `@name` for a generated ref (then `variant` is the candidate's label).
    shot: String,
    /// The take's variant; absent or null clears the shot's pick.
    variant: Option<String>,
}

async fn pick(State(review): State<Arc<Review>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let token = headers.get(TOKEN_HEADER).and_then(|t| t.to_str().ok()).unwrap_or("");
    if token != review.token {
        return (StatusCode::FORBIDDEN, "a pick needs the token of this review page").into_response();
    }
    let Ok(request) = serde_json::from_slice::<PickRequest>(&body) else {
        return (StatusCode::BAD_REQUEST, "expected {\"shot\": …, \"variant\": …}").into_response();
    };
    let expansion = match review.expansion() {
        Ok(e) => e,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    };
    let dir = &expansion.output_dir;
    let ledger = match Ledger::load(dir) {
        Ok(l) => l,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let chosen = match request.shot.strip_prefix('@') {
        Some(name) => ref_picks::choose_ref(dir, &expansion, &ledger, name, request.variant.as_deref()),
        None => picks::choose(dir, &expansion.jobs, &ledger, &request.shot, request.variant.as_deref()),
    };
    match chosen {
        Ok(said) => said.into_response(),
        Err(e @ PickError::Picks(_)) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

/// A relative path of plain names (no `..`, no root, no dot files such as `.pixbatch`).
fn plain(path: &str) -> Option<PathBuf> {
    // A `%` that starts no escape is a malformed path, not a file name.
    let malformed =
        path.split('%').skip(1).any(|rest| rest.get(..2).is_none_or(|h| u8::from_str_radix(h, 16).is_err()));
    if malformed {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8().ok()?;
    let rel = Path::new(decoded.trim_start_matches('/'));
    if decoded.starts_with("//") || rel.as_os_str().is_empty() {
        return None;
    }
    let ok = rel.components().all(|c| matches!(c, Component::Normal(n) if !n.to_string_lossy().starts_with('.')));
    ok.then(|| rel.to_path_buf())
}

async fn file(State(review): State<Arc<Review>>, request: Request) -> Response {
    let refuse = || (StatusCode::NOT_FOUND, "not a file of this output folder").into_response();
    let Some(rel) = plain(request.uri().path()) else { return refuse() };
    // Symlinks are followed, then the file must still be inside the folder.
    let Ok(path) = review.root.join(&rel).canonicalize() else { return refuse() };
    if !path.starts_with(&review.root) || !path.is_file() {
        return refuse();
    }
    match tower_http::services::ServeFile::new(&path).oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn only_plain_relative_paths_are_served() {
        assert_eq!(plain("/fight/seed-1.mp4").as_deref(), Some(std::path::Path::new("fight/seed-1.mp4")));
        assert_eq!(plain("/a%20b.mp4").as_deref(), Some(std::path::Path::new("a b.mp4")));
        for bad in ["/../x.mp4", "/a/../../x", "//etc/passwd", "/%2e%2e/x", "/.pixbatch/journal.jsonl", "/", "/%zz"] {
            assert_eq!(plain(bad), None, "{bad}");
        }
    }
}
