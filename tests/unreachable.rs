//! Issue 20: an endpoint that stops answering, or a model the account cannot use. Said at once,
//! never a hang, never a paid task stranded or paid twice. Against the fake over real sockets;
//! the fake closes its listener on demand (`FakeServer::go_offline`).

mod common;

use std::time::{Duration, Instant};

use common::*;
use pixbatch::fake::{DurationRange, FakeConfig, FakeServer};
use pixbatch::ledger::{Ledger, Phase};
use pixbatch::run::{Counts, Note, Reporter, RunInput, RunOptions, RunSummary, Stop};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A reporter that hands every note, with the moment it came, to the test.
struct Notes(mpsc::UnboundedSender<(Instant, Note)>);

impl Reporter for Notes {
    fn update(&mut self, _: &Counts) {}
    fn note(&mut self, note: &Note) {
        let _ = self.0.send((Instant::now(), note.clone()));
    }
}

/// Runs the manifest through the library against `base_url` with a reporter the test reads.
fn start_run(
    manifest: &std::path::Path,
    base_url: String,
    options: RunOptions,
    interrupt: CancellationToken,
) -> (tokio::task::JoinHandle<RunSummary>, mpsc::UnboundedReceiver<(Instant, Note)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let manifest = manifest.to_path_buf();
    let handle = tokio::spawn(async move {
        let expansion = expand(&manifest);
        let client = pixbatch::api::Client::new(
            pixbatch::api::ApiConfig::new(&base_url, pixbatch::api::ApiKey::new("sk-test")).expect("config"),
        )
        .expect("client");
        let input = RunInput { expansion: &expansion, name: None };
        pixbatch::run::run(input, client, &options, &mut Notes(tx), interrupt).await.expect("run").summary
    });
    (handle, rx)
}

/// Waits for `n` notes that `want` accepts; returns the moment of the last.
async fn until_notes(
    rx: &mut mpsc::UnboundedReceiver<(Instant, Note)>,
    n: usize,
    want: impl Fn(&Note) -> bool,
) -> Instant {
    let mut seen = 0;
    loop {
        let (at, note) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("the note came within 30 s")
            .expect("the run is still reporting");
        if want(&note) {
            seen += 1;
            if seen == n {
                return at;
            }
        }
    }
}

fn long_tasks(secs: u64) -> FakeConfig {
    FakeConfig { run_time: DurationRange::fixed(Duration::from_secs(secs)), ..fast_fake() }
}

fn c1_manifest(dir: &std::path::Path, seeds: usize) -> std::path::PathBuf {
    let seeds: Vec<String> = (1..=seeds).map(|s| s.to_string()).collect();
    small_manifest(
        dir,
        "m.yaml",
        None,
        &format!("  - id: walk\n    prompt: \"@man walks\"\n    matrix: {{seed: [{}]}}\n", seeds.join(", ")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_goes_away_is_warned_of_at_once_and_the_run_stops_within_the_grace() {
    let fake = FakeServer::start(long_tasks(2)).await.expect("fake");
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = c1_manifest(dir.path(), 4);
    let child = pixbatch(&fake, "sk-test")
        .arg("run")
        .arg(&manifest)
        .args(FAST)
        .args(["--unreachable-grace", "3s"])
        .spawn()
        .expect("spawn");
    until_submitted(&fake, 4).await;
    fake.go_offline();
    let offline = Instant::now();
    let out = child.wait_with_output().await.expect("the run ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "the documented code for an unreachable endpoint:\n{stderr}");
    assert!(
        offline.elapsed() < Duration::from_secs(3 + 5),
        "the run ended {:?} after the endpoint went away (grace 3 s)\n{stderr}",
        offline.elapsed()
    );
    let warn = stderr.lines().find(|l| l.contains("WARN") && l.contains("cannot reach")).unwrap_or_else(|| {
        panic!("a WARN names the endpoint:\n{stderr}");
    });
    assert!(warn.contains(&fake.base_url()) && warn.contains("connection refused"), "{warn}");
    assert!(stderr.contains("4 task(s) still on the service"), "only tasks with an id are counted:\n{stderr}");
    assert!(!stderr.contains("create(s) with no answer"), "{stderr}");

    // The endpoint comes back: the next run finishes every job, none paid twice.
    fake.go_online();
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(verify_outputs(&manifest), 4);
    let paid = fake.billed_bodies();
    assert_eq!(paid.len(), 4, "{paid:?}");
    assert!(paid.values().all(|&n| n == 1), "0 paid twice: {paid:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_warning_comes_within_seconds_of_the_first_failure() {
    let fake = FakeServer::start(long_tasks(3)).await.expect("fake");
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = c1_manifest(dir.path(), 2);
    let options = RunOptions { unreachable_grace: Duration::from_secs(2), ..fast_options() };
    let (handle, mut notes) = start_run(&manifest, fake.base_url(), options, CancellationToken::new());
    until_notes(&mut notes, 2, |n| matches!(n, Note::Submitted { .. })).await;
    fake.go_offline();
    let offline = Instant::now();
    let warned =
        until_notes(&mut notes, 1, |n| matches!(n, Note::Warn { message } if message.contains("cannot reach"))).await;
    assert!(warned.duration_since(offline) < Duration::from_secs(5), "warned after {:?}", warned - offline);
    let summary = handle.await.expect("run");
    assert!(matches!(summary.stop, Some(Stop::Unreachable { .. })), "{:?}", summary.stop);
    assert_eq!((summary.left_in_flight, summary.creates_in_doubt), (2, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connect_on_create_leaves_no_job_in_doubt() {
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    fake.go_offline();
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = c1_manifest(dir.path(), 3);
    let options = RunOptions { unreachable_grace: Duration::from_millis(1500), ..fast_options() };
    let (handle, _notes) = start_run(&manifest, fake.base_url(), options, CancellationToken::new());
    let summary = handle.await.expect("run");
    assert!(matches!(&summary.stop, Some(Stop::Unreachable { error, .. }) if error.contains("connection refused")));
    assert_eq!((summary.left_in_flight, summary.creates_in_doubt, summary.counts.running), (0, 0, 0));
    assert_eq!(summary.not_started, 3);
    // The ledger says every create simply did not happen: new, not in doubt.
    let ledger = Ledger::load(&dir.path().join("out")).expect("ledger");
    for job in &expand(&manifest).jobs {
        let phase = ledger.records.get(&job.key).map(|r| r.phase);
        assert!(matches!(phase, None | Some(Phase::New)), "{}: {phase:?}", job.name());
    }
    fake.go_online();
    let summary = run(&manifest, &fake, &fast_options()).await;
    assert_eq!(summary.counts.done, 3);
    assert_eq!(fake.stats().submissions, 3, "each job created once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_timeout_holds_while_queries_fail() {
    let fake = FakeServer::start(long_tasks(60)).await.expect("fake");
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = c1_manifest(dir.path(), 3);
    let options = RunOptions {
        task_timeout: Duration::from_secs(2),
        unreachable_grace: Duration::from_secs(600),
        ..fast_options()
    };
    let started = Instant::now();
    let (handle, mut notes) = start_run(&manifest, fake.base_url(), options, CancellationToken::new());
    until_notes(&mut notes, 3, |n| matches!(n, Note::Submitted { .. })).await;
    fake.go_offline();
    let summary = handle.await.expect("run");
    assert!(started.elapsed() < Duration::from_secs(2 + 6), "ended after {:?}", started.elapsed());
    assert_eq!(summary.failed_by_code.get("Timeout"), Some(&3), "{:?}", summary.failed_by_code);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_at_an_unreachable_endpoint_give_their_slots_to_a_reachable_one() {
    // Endpoint A: the first run learns render times there, then leaves 7 tasks in flight
    // (5 running, 2 queued ahead) and A goes away. The next run points at B.
    let a = FakeServer::start(long_tasks(1)).await.expect("fake a");
    let b = FakeServer::start(long_tasks(1)).await.expect("fake b");
    let dir = tempfile::tempdir().expect("tmp");
    let warm = c1_manifest(dir.path(), 2);
    let summary = run(&warm, &a, &fast_options()).await;
    assert_eq!(summary.counts.done, 2);
    let manifest = c1_manifest(dir.path(), 12);
    let interrupt = CancellationToken::new();
    let (first, mut notes) = start_run(&manifest, a.base_url(), fast_options(), interrupt.clone());
    until_notes(&mut notes, 7, |n| matches!(n, Note::Submitted { .. })).await;
    interrupt.cancel();
    let summary = first.await.expect("run");
    assert_eq!(summary.left_in_flight, 7, "{summary:?}");
    a.go_offline();

    let options = RunOptions {
        unreachable_grace: Duration::from_secs(8),
        unreachable_hold: Duration::from_millis(200),
        ..fast_options()
    };
    let (second, mut notes) = start_run(&manifest, b.base_url(), options, CancellationToken::new());
    let summary = second.await.expect("run");
    // B's jobs went out while A's tasks were still awaited, not when A was given up.
    let mut made_at_b = 0;
    while let Ok((_, note)) = notes.try_recv() {
        match note {
            Note::Submitted { .. } => made_at_b += 1,
            Note::Warn { message } if message.contains("kept for the next run") => break,
            _ => {}
        }
    }
    assert_eq!(made_at_b, 3, "the slots of A's tasks went to B before A's grace ran out");
    assert_eq!(summary.counts.done, 3, "the 3 new jobs were made at B in this run: {summary:?}");
    assert_eq!(b.stats().submissions, 3);
    assert!(matches!(summary.stop, Some(Stop::Unreachable { .. })), "{:?}", summary.stop);
    assert_eq!(summary.left_in_flight, 7, "A's tasks are kept for the next run");

    // A answers again: the next run fetches A's tasks there, nothing is paid twice.
    a.go_online();
    let summary = run(&manifest, &b, &fast_options()).await;
    assert_eq!(summary.counts.failed, 0, "{summary:?}");
    assert_eq!(verify_outputs(&manifest), 12);
    assert_eq!(a.stats().submissions, 2 + 7, "no job was created twice at A");
    assert_eq!(b.stats().submissions, 3, "nor at B");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_the_account_cannot_use_fails_its_jobs_not_the_run() {
    // The fake does not know this model and answers 404 ModelNotFound, as the service does for
    // a model the account has no access to.
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = small_manifest(
        dir.path(),
        "m.yaml",
        None,
        "  - id: fight\n    prompt: \"@man fights\"\n    matrix: {seed: [1, 2, 3, 4]}\n  - id: dream\n    model: pixverse/pixverse-v9-r2v\n    prompt: \"@man dreams\"\n    matrix: {seed: [1, 2, 3]}\n",
    );
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 3, "the run-fatal code:\n{stderr}");
    assert!(stderr.contains("cannot use pixverse/pixverse-v9-r2v"), "names the model:\n{stderr}");
    assert!(stderr.contains("hint: "), "says what to do:\n{stderr}");
    assert_eq!(stderr.matches("WARN").count(), 1, "said once:\n{stderr}");
    let expansion = expand(&manifest);
    let ledger = Ledger::load(&expansion.output_dir).expect("ledger");
    for job in expansion.jobs.iter().filter(|j| j.shot == "fight") {
        let record = ledger.records.get(&job.key).expect("recorded");
        assert_eq!(record.phase, Phase::Downloaded, "{} done and downloaded", job.name());
    }
    // One create was refused for the model; its other jobs were not sent.
    assert_eq!(fake.stats().submissions, 4);
    // A rerun still polls and finishes everything else first, and refuses the model again.
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("4 already done"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standalone_fake_goes_offline_and_comes_back_on_its_knobs() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = tokio::process::Command::new(assert_cmd::cargo::cargo_bin!("pixbatch"))
        .args(["fake-server", "--addr", &addr, "--offline-after", "1s", "--offline-for", "1s"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    // Up, then refusing, then up again: each state is waited for by trying to connect (bounded).
    let mut seen = Vec::new();
    for _ in 0..800 {
        let up = tokio::net::TcpStream::connect(&addr).await.is_ok();
        if seen.last() != Some(&up) {
            seen.push(up);
        }
        if seen.iter().skip_while(|u| !**u).count() == 3 {
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = server.kill().await;
    assert_eq!(seen.iter().skip_while(|u| !**u).copied().collect::<Vec<_>>(), [true, false, true]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_billing_stop_still_fetches_the_tasks_already_paid_for() {
    let fake = FakeServer::start(long_tasks(1)).await.expect("fake");
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = c1_manifest(dir.path(), 12);
    let (handle, mut notes) = start_run(&manifest, fake.base_url(), fast_options(), CancellationToken::new());
    until_notes(&mut notes, 5, |n| matches!(n, Note::Submitted { .. })).await;
    fake.set_refuse_creates(Some(pixbatch::fake::Refusal {
        status: 400,
        code: "Arrearage".into(),
        message: "Access denied, please make sure your account is in good standing.".into(),
    }));
    let summary = handle.await.expect("run");
    assert!(matches!(&summary.stop, Some(Stop::Fatal { code, .. }) if code == "Arrearage"), "{:?}", summary.stop);
    let made = fake.stats().submissions;
    assert!(made >= 5, "{made}");
    assert_eq!(summary.counts.done as u64, made, "every task made was polled and downloaded before the exit");
    assert_eq!(summary.left_in_flight, 0, "no paid task left on the service");
}
