//! The DashScope client against the fake over real sockets: every operation, every error class,
//! retries that recover, and a key that never leaks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pixbatch::api::{ApiConfig, ApiKey, Client, ErrorClass, ListQuery, RetryPolicy, TaskStatus};
use pixbatch::fake::{DurationRange, FakeConfig, FakeServer, Faults};
use serde_json::{Value, json};

fn body(seed: i64) -> Value {
    json!({
        "model": "pixverse/pixverse-c1-r2v",
        "input": {"prompt": "@man waves", "media": [{"type": "image_url", "url": "https://example.com/m.jpg", "ref_name": "man"}]},
        "parameters": {"size": "1280*720", "duration": 5, "audio": false, "watermark": false, "seed": seed}
    })
}

/// Tasks of 50 ms that start at once (no scheduling delay), no rate limits.
fn fast() -> FakeConfig {
    FakeConfig {
        run_time: DurationRange::fixed(Duration::from_millis(50)),
        pending_min: Duration::ZERO,
        submit_rps: 0,
        query_rps: 0,
        ..FakeConfig::default()
    }
}

fn client(fake: &FakeServer, key: &str) -> Client {
    Client::new(ApiConfig::new(&fake.base_url(), ApiKey::new(key)).expect("config")).expect("client")
}

fn quick(policy: RetryPolicy) -> RetryPolicy {
    policy.scaled(0.01)
}

/// Polls until the task is final (the fake finishes tasks in 50 ms).
async fn wait_final(c: &Client, id: &str) -> pixbatch::api::TaskResponse {
    for _ in 0..400 {
        let r = quick(RetryPolicy::poll()).run(|| c.get_task(id)).await.expect("query");
        if r.output.task_status.is_final() {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("task {id} never finished");
}

#[tokio::test]
async fn every_operation_round_trips() {
    let fake = FakeServer::start(fast()).await.expect("fake");
    let c = client(&fake, "sk-test");

    let created = c.create_task(&body(1), pixbatch::catalog::Endpoint::VideoGeneration).await.expect("create");
    assert_eq!(created.output.task_status, TaskStatus::Pending);
    let done = wait_final(&c, &created.output.task_id).await;
    assert_eq!(done.output.task_status, TaskStatus::Succeeded);
    let usage = done.usage.expect("usage on success");
    assert_eq!(
        (usage.duration, usage.sr.as_deref(), usage.size.as_deref()),
        (Some(5.0), Some("720"), Some("1280*720"))
    );

    let dir = tempfile::tempdir().expect("tmp");
    let dest = dir.path().join("v.mp4.part");
    let got = c.download(done.output.video_url.as_deref().expect("url"), &dest).await.expect("download");
    let bytes = std::fs::read(&dest).expect("file");
    assert_eq!(got.bytes, bytes.len() as u64);
    assert_eq!(&bytes[4..8], b"ftyp", "an MP4");
    use sha2::Digest;
    assert_eq!(got.sha256, hex::encode(sha2::Sha256::digest(&bytes)));

    let listed = c
        .list_all_tasks(
            &ListQuery { model_name: Some("pixverse/pixverse-c1-r2v".into()), ..Default::default() },
            &RetryPolicy::poll(),
        )
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].task_id, created.output.task_id);
    assert_eq!(listed[0].status, TaskStatus::Succeeded);

    let err = c.cancel_task(&created.output.task_id).await.expect_err("finished tasks cannot be cancelled");
    assert_eq!(
        (err.status, err.code.as_str(), err.class),
        (Some(400), "UnsupportedOperation", ErrorClass::JobPermanent)
    );

    let policy = c.upload_policy("pixverse/pixverse-c1-r2v").await.expect("policy");
    let url = c.upload_file(&policy, "ref.png", b"\x89PNG\r\n\x1a\nfake".to_vec(), "image/png").await.expect("upload");
    assert!(url.starts_with("oss://dashscope-instant/"), "{url}");
    let mut with_oss = body(2);
    with_oss["input"]["media"][0]["url"] = url.into();
    let t = c
        .create_task(&with_oss, pixbatch::catalog::Endpoint::VideoGeneration)
        .await
        .expect("oss:// URLs are accepted with the resolve header");
    assert_eq!(wait_final(&c, &t.output.task_id).await.output.task_status, TaskStatus::Succeeded);
}

#[tokio::test]
async fn cancel_works_on_pending_tasks() {
    let fake = FakeServer::start(FakeConfig {
        concurrency: Some(1),
        run_time: DurationRange::fixed(Duration::from_secs(30)),
        ..fast()
    })
    .await
    .expect("fake");
    let c = client(&fake, "sk-test");
    let _running = c.create_task(&body(1), pixbatch::catalog::Endpoint::VideoGeneration).await.expect("create");
    let queued = c.create_task(&body(2), pixbatch::catalog::Endpoint::VideoGeneration).await.expect("create");
    c.cancel_task(&queued.output.task_id).await.expect("PENDING can be cancelled");
    assert_eq!(c.get_task(&queued.output.task_id).await.expect("get").output.task_status, TaskStatus::Canceled);
    assert_eq!(c.get_task("no-such-task").await.expect("get").output.task_status, TaskStatus::Unknown);
}

#[tokio::test]
async fn at_the_fakes_defaults_a_new_task_is_pending_and_can_be_cancelled() {
    let fake = FakeServer::start(FakeConfig::default()).await.expect("fake");
    let c = client(&fake, "sk-test");
    let created = c.create_task(&body(1), pixbatch::catalog::Endpoint::VideoGeneration).await.expect("create");
    let id = &created.output.task_id;
    assert_eq!(c.get_task(id).await.expect("get").output.task_status, TaskStatus::Pending, "free slots, still PENDING");
    c.cancel_task(id).await.expect("a PENDING task can be cancelled");
    assert_eq!(c.get_task(id).await.expect("get").output.task_status, TaskStatus::Canceled);
    assert_eq!(fake.stats().final_states.get("CANCELED"), Some(&1));
}

#[tokio::test]
async fn errors_are_classified() {
    let fake = FakeServer::start(fast()).await.expect("fake");
    let err = client(&fake, "sk-wrong")
        .create_task(&body(1), pixbatch::catalog::Endpoint::VideoGeneration)
        .await
        .expect_err("wrong key");
    assert_eq!((err.status, err.code.as_str(), err.class), (Some(401), "InvalidApiKey", ErrorClass::RunFatal));
    assert!(err.hint().is_some_and(|h| h.contains("DASHSCOPE_API_KEY")));

    let c = client(&fake, "sk-test");
    let mut bad = body(1);
    bad["parameters"]["duration"] = 99.into();
    let err = c.create_task(&bad, pixbatch::catalog::Endpoint::VideoGeneration).await.expect_err("bad duration");
    assert_eq!((err.status, err.code.as_str(), err.class), (Some(400), "InvalidParameter", ErrorClass::JobPermanent));

    let mut unknown = body(1);
    unknown["model"] = "pixverse/nope".into();
    let err = c.create_task(&unknown, pixbatch::catalog::Endpoint::VideoGeneration).await.expect_err("unknown model");
    assert_eq!((err.code.as_str(), err.class), ("ModelNotFound", ErrorClass::ModelFatal));

    // No retry policy retries a job-permanent or run-fatal error.
    let calls = Arc::new(Mutex::new(0));
    let counted = calls.clone();
    let _ = quick(RetryPolicy::submit())
        .run(|| {
            *counted.lock().expect("lock") += 1;
            c.create_task(&bad, pixbatch::catalog::Endpoint::VideoGeneration)
        })
        .await;
    assert_eq!(*calls.lock().expect("lock"), 1);
    assert_eq!(fake.stats().submissions, 0);
}

#[tokio::test]
async fn throttling_is_transient_and_retried() {
    let fake = FakeServer::start(FakeConfig { submit_rps: 1, ..fast() }).await.expect("fake");
    let c = client(&fake, "sk-test");
    c.create_task(&body(1), pixbatch::catalog::Endpoint::VideoGeneration).await.expect("first");
    let err = c
        .create_task(&body(2), pixbatch::catalog::Endpoint::VideoGeneration)
        .await
        .expect_err("second within the same second");
    assert_eq!((err.status, err.code.as_str(), err.class), (Some(429), "Throttling.RateQuota", ErrorClass::Transient));
    assert!(err.is_throttled());
    // With the submit policy (real delays: the window is one second) it gets through.
    let b3 = body(3);
    RetryPolicy::submit()
        .run(|| c.create_task(&b3, pixbatch::catalog::Endpoint::VideoGeneration))
        .await
        .expect("retried past the rate limit");
    let s = fake.stats();
    assert_eq!(s.submissions, 2);
    assert!(s.throttled >= 2);
}

#[tokio::test]
async fn injected_500s_and_drops_are_retried_for_reads() {
    let fake = FakeServer::start(fast()).await.expect("fake");
    let c = client(&fake, "sk-test");
    let t = c.create_task(&body(1), pixbatch::catalog::Endpoint::VideoGeneration).await.expect("create");
    fake.set_faults(Faults { server_error: 0.2, drop_before: 0.1, ..Faults::default() });
    for _ in 0..20 {
        quick(RetryPolicy::poll()).run(|| c.get_task(&t.output.task_id)).await.expect("query recovers");
    }
    let s = fake.stats();
    assert!(s.server_errors > 0 && s.dropped > 0, "faults were injected: {s:?}");
}

#[tokio::test]
async fn a_create_that_may_have_succeeded_is_not_retried() {
    let fake = FakeServer::start(fast()).await.expect("fake");
    let c = client(&fake, "sk-test");
    fake.set_faults(Faults { drop_after: 1.0, ..Faults::default() });
    let b1 = body(1);
    let err = quick(RetryPolicy::submit())
        .run(|| c.create_task(&b1, pixbatch::catalog::Endpoint::VideoGeneration))
        .await
        .expect_err("no answer");
    assert!(err.maybe_processed, "{err}");
    assert!(err.is_transient());
    let s = fake.stats();
    assert_eq!(s.submissions, 1, "the task exists, and it was created once");
    assert_eq!(s.duplicate_submissions, 0);
    // The run finds it with the list API instead.
    fake.set_faults(Faults::default());
    let listed = c.list_all_tasks(&ListQuery::default(), &RetryPolicy::poll()).await.expect("list");
    assert_eq!(listed.len(), 1);
}

#[tokio::test]
async fn a_truncated_download_is_detected_and_a_retry_recovers() {
    let fake = FakeServer::start(fast()).await.expect("fake");
    let c = client(&fake, "sk-test");
    let t = c.create_task(&body(1), pixbatch::catalog::Endpoint::VideoGeneration).await.expect("create");
    let url = wait_final(&c, &t.output.task_id).await.output.video_url.expect("url");
    let dir = tempfile::tempdir().expect("tmp");
    let dest = dir.path().join("v.part");
    fake.set_faults(Faults { truncated_download: 1.0, ..Faults::default() });
    let err = c.download(&url, &dest).await.expect_err("truncated");
    assert!(matches!(&err, pixbatch::api::DownloadError::Api(e) if e.is_transient()), "{err}");
    fake.set_faults(Faults { truncated_download: 0.5, ..Faults::default() });
    let got = quick(RetryPolicy::download()).run(|| c.download(&url, &dest)).await.expect("a retry gets it whole");
    assert_eq!(got.bytes, std::fs::metadata(&dest).expect("file").len());
}

#[tokio::test]
async fn a_gateway_page_is_kept_as_text() {
    // A proxy answering HTML instead of DashScope JSON.
    let app = axum::Router::new()
        .fallback(|| async { (axum::http::StatusCode::BAD_GATEWAY, "<html><body>502 Bad Gateway</body></html>") });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let c = Client::new(ApiConfig::new(&format!("http://{addr}"), ApiKey::new("k")).expect("config")).expect("client");
    let err = c.get_task("x").await.expect_err("502");
    assert_eq!((err.status, err.class), (Some(502), ErrorClass::Transient));
    assert!(err.message.contains("502 Bad Gateway"), "{err}");
}

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_key_never_appears_in_logs_or_errors_even_at_trace() {
    let canary = "sk-canary-5f2b9e7d1c";
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber =
        tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(move || writer.clone()).finish();
    let mut seen = String::new();
    tracing::subscriber::with_default(subscriber, || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let fake = FakeServer::start(FakeConfig { api_key: canary.into(), ..fast() }).await.expect("fake");
            let good = client(&fake, canary);
            let t = good.create_task(&body(1), pixbatch::catalog::Endpoint::VideoGeneration).await.expect("create");
            let _ = good.get_task(&t.output.task_id).await;
            let _ = good.list_tasks(&ListQuery::default()).await;
            let _ = good.cancel_task(&t.output.task_id).await;
            seen.push_str(&format!("{good:?}"));
            // A 401 with a canary-like wrong key, and a transport failure.
            let bad = client(&fake, &format!("{canary}-wrong"));
            let err = bad.create_task(&body(2), pixbatch::catalog::Endpoint::VideoGeneration).await.expect_err("401");
            seen.push_str(&format!("{err} {err:?}"));
            fake.set_faults(Faults { drop_before: 1.0, ..Faults::default() });
            let err = good.get_task(&t.output.task_id).await.expect_err("dropped");
            seen.push_str(&format!("{err} {err:?}"));
        });
    });
    let logs = String::from_utf8_lossy(&captured.0.lock().expect("lock")).into_owned();
    assert!(logs.len() > 1000, "trace logging was captured ({} bytes)", logs.len());
    assert!(!logs.contains(canary), "the key leaked into the logs");
    assert!(!seen.contains(canary), "the key leaked into Debug/Display: {seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transport_faults_say_whether_the_request_left() {
    use pixbatch::api::Transport;
    // Nothing listens: refused, never sent, so a create cannot have made a task.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let c = Client::new(ApiConfig::new(&format!("http://127.0.0.1:{port}"), ApiKey::new("sk-test")).expect("config"))
        .expect("client");
    let err = c.create_task(&body(1), pixbatch::catalog::Endpoint::VideoGeneration).await.expect_err("refused");
    assert_eq!(err.transport, Some(Transport::Refused), "{err}");
    assert!(err.unreachable() && !err.maybe_processed, "{err:?}");
    assert_eq!(err.code, "ConnectionRefused");
    assert!(err.message.contains("os error"), "the OS's words: {err}");

    // TLS spoken to a plain-HTTP server: the handshake fails before anything is sent.
    let fake = FakeServer::start(FakeConfig::default()).await.expect("fake");
    let tls_url = fake.base_url().replace("http://", "https://");
    let c = Client::new(ApiConfig::new(&tls_url, ApiKey::new("sk-test")).expect("config")).expect("client");
    let err = c.create_task(&body(1), pixbatch::catalog::Endpoint::VideoGeneration).await.expect_err("tls");
    assert_eq!(err.transport, Some(Transport::Tls), "{err}");
    assert!(!err.maybe_processed);

    // The work is done and the answer lost: sent, so a create may have made a task.
    let dropping = FakeServer::start(FakeConfig {
        faults: Faults { drop_after: 1.0, ..Faults::default() },
        ..FakeConfig::default()
    })
    .await
    .expect("fake");
    let c = Client::new(ApiConfig::new(&dropping.base_url(), ApiKey::new("sk-test")).expect("config")).expect("client");
    let err = c.create_task(&body(1), pixbatch::catalog::Endpoint::VideoGeneration).await.expect_err("dropped");
    assert_eq!(err.transport, Some(Transport::Reset), "{err}");
    assert!(err.maybe_processed && !err.unreachable(), "{err:?}");
}
