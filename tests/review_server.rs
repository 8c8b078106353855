//! The contact sheet and the review server: escaping, one playable take per done job, and a
//! server that serves only the output folder and takes picks only with its token.

mod common;

use std::io::{Read, Write};
use std::path::Path;

use common::{expand, fast_fake, fast_options, run, run_with_failures};
use pixbatch::fake::FakeServer;

const NASTY: &str = r#"@man says <script>alert('x')</script> & \"quotes\""#;

fn storyboard(dir: &Path) -> std::path::PathBuf {
    common::small_manifest(
        dir,
        "storyboard.yaml",
        Some("sheet"),
        &format!(
            "  - id: intro\n    prompt: \"{NASTY}\"\n  - id: fight\n    prompt: \"@man fights\"\n    matrix: {{seed: [1, 2], size: [\"640*360\", \"1024*576\"]}}\n  - id: walk\n    prompt: \"@man walks\"\n    matrix: {{seed: [1, 2, 3]}}\n"
        ),
    )
}

/// A raw request, so that nothing normalises the path on the way.
fn raw_get(addr: std::net::SocketAddr, path: &str, host: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").expect("send");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sheet_escapes_prompts_and_shows_every_take() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = storyboard(dir.path());
    let summary = run_with_failures(&manifest).await;
    let html = std::fs::read_to_string(dir.path().join("out/review.html")).expect("every run writes review.html");
    assert!(summary.counts.failed > 0 && summary.counts.done > 0, "{summary:?}");
    // A prompt is text, never markup.
    assert!(!html.contains("<script>alert"), "a prompt became markup");
    assert!(html.contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; &quot;quotes&quot;"), "{html}");
    // Every take is there; every done one has a video with a relative path; failed ones say why.
    assert_eq!(html.matches("<figure").count(), 8);
    assert_eq!(html.matches("<video").count(), summary.counts.done);
    assert_eq!(html.matches("data-state=\"failed\"").count(), summary.counts.failed);
    assert!(html.contains("failed: InternalError.Algo"), "a failed take shows its code");
    assert!(!html.contains(&dir.path().display().to_string()), "no absolute paths: the folder can move");
    assert!(!html.contains("http://") && !html.contains("https://"), "no network");
    // fight varies along seed × size: a table with those axes.
    assert!(html.contains("seed \\ size"), "two axes make a table");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_serves_only_the_folder_and_picks_only_with_its_token() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = storyboard(dir.path());
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    assert_eq!(run(&manifest, &fake, &fast_options()).await.counts.done, 8);
    let out = dir.path().join("out");
    std::os::unix::fs::symlink("/etc/hostname", out.join("leak.mp4")).expect("symlink");
    std::fs::write(dir.path().join("outside.mp4"), b"secret").expect("write");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let server = pixbatch::review::server::start(listener, expand(&manifest), Some("sheet".into())).expect("serves");
    let (addr, host) = (server.addr, format!("127.0.0.1:{}", server.addr.port()));
    let http = reqwest::Client::new();

    let page = http.get(server.url()).send().await.expect("page");
    assert_eq!(page.status(), 200);
    let page = page.text().await.expect("text");
    assert!(page.contains(&server.token) && page.contains("pick this take"));

    // Every video the ledger knows is served, with ranges (a <video> seeks with them).
    let ledger = pixbatch::ledger::Ledger::load(&out).expect("ledger");
    for rel in ledger.records.values().filter_map(|r| r.path.clone()) {
        let v = http.get(format!("{}{rel}", server.url())).header("Range", "bytes=0-7").send().await.expect("get");
        assert_eq!(v.status(), 206, "{rel}");
        assert_eq!(&v.bytes().await.expect("bytes")[4..8], b"ftyp");
    }

    for path in ["/../outside.mp4", "/%2e%2e/outside.mp4", "//etc/hostname", "/leak.mp4", "/.pixbatch/journal.jsonl"] {
        let status = raw_get(addr, path, &host);
        assert!(status.contains(" 404 "), "{path}: {status}");
    }
    // A page reached through another name (DNS rebinding) gets nothing.
    assert!(raw_get(addr, "/", "evil.example:80").contains(" 403 "));

    let picks = out.join("picks.json");
    let body = r#"{"shot": "walk", "variant": "seed=2"}"#;
    let no_token = http.post(format!("{}pick", server.url())).body(body).send().await.expect("post");
    assert_eq!(no_token.status(), 403);
    let wrong = http.post(format!("{}pick", server.url())).header("X-Pixbatch-Token", "guess").body(body);
    assert_eq!(wrong.send().await.expect("post").status(), 403);
    assert!(!picks.exists(), "no pick was written");
    let with_token =
        http.post(format!("{}pick", server.url())).header("X-Pixbatch-Token", &server.token).body(body).send().await;
    assert_eq!(with_token.expect("post").status(), 200);
    let saved = pixbatch::review::Picks::load(&out).expect("picks");
    assert_eq!(saved.shots.get("walk").map(|p| p.variant.as_str()), Some("seed=2"));
    // The page shows it.
    let page = http.get(server.url()).send().await.expect("page").text().await.expect("text");
    assert!(page.contains("picked ✓"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_is_picked_only_with_the_token_and_the_page_follows_the_new_keys() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = dir.path().join("stages.yaml");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/stages.yaml"), &manifest).expect("copy");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let (code, stderr) = common::run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, pixbatch::exit::WAITING, "{stderr}");
    let from = manifest.clone();
    let reload: pixbatch::review::server::Reload = Box::new(move || {
        let loaded = pixbatch::manifest::load(&from).map_err(|d| d.render(false))?;
        pixbatch::plan::expand(&loaded, &pixbatch::plan::ExpandOptions::default()).map_err(|d| d.render(false))
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let server = pixbatch::review::server::start_reloading(listener, reload, None).expect("serves");
    let http = reqwest::Client::new();
    let page = http.get(server.url()).send().await.expect("page").text().await.expect("text");
    assert_eq!(page.matches("pick this image").count(), 6, "3 + 3 candidates");
    let waiting = |page: &str| page.matches("data-state=\"waiting\"").count();
    assert_eq!(waiting(&page), 4, "the keyframe and the three shots");

    let out = dir.path().join("renders/stages");
    let body = r#"{"shot": "@hero", "variant": "seed=2"}"#;
    let no_token = http.post(format!("{}pick", server.url())).body(body).send().await.expect("post");
    assert_eq!(no_token.status(), 403);
    assert!(pixbatch::review::Picks::load(&out).expect("picks").refs.is_empty(), "no pick was written");
    let unknown = http
        .post(format!("{}pick", server.url()))
        .header("X-Pixbatch-Token", &server.token)
        .body(r#"{"shot": "@hero", "variant": "seed=9"}"#)
        .send()
        .await
        .expect("post");
    assert_eq!(unknown.status(), 400);
    assert!(unknown.text().await.expect("text").contains("seed=1, seed=2, seed=3"));
    let with_token =
        http.post(format!("{}pick", server.url())).header("X-Pixbatch-Token", &server.token).body(body).send().await;
    assert_eq!(with_token.expect("post").status(), 200);
    let saved = pixbatch::review::Picks::load(&out).expect("picks");
    assert_eq!(saved.refs.get("hero").map(|p| p.variant.as_str()), Some("seed=2"));
    // The page is made from the manifest as it is now: look-back no longer waits, and says
    // which candidate its key was made from.
    let page = http.get(server.url()).send().await.expect("page").text().await.expect("text");
    assert!(page.contains("<span class=\"uses\">@hero seed=2</span>"), "{page}");
    assert_eq!(waiting(&page), 3, "the keyframe, arrival and crossing still wait for @bridge");
}
