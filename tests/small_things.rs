//! Issue 20, item 6: the smaller things found in the same check, one test each, against the
//! fake over real sockets where behaviour is involved.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use pixbatch::fake::{DurationRange, FakeConfig, FakeServer, Faults};

/// `pixbatch CMD ARGS...` against `fake`; returns the exit code, stdout and stderr.
async fn cli(fake: &FakeServer, args: &[&str]) -> (i32, String, String) {
    let out = pixbatch(fake, "sk-test").args(args).output().await.expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn hints(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("hint: ")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_closing_hint_offers_retry_failed_only_for_what_it_resubmits() {
    // One job whose task fails (--retry-failed resubmits it), one whose file is already there
    // (only --overwrite renders it).
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = small_manifest(
        dir.path(),
        "m.yaml",
        None,
        "  - id: intro\n    prompt: \"@man walks in\"\n  - id: fight\n    prompt: \"@man fights\"\n",
    );
    std::fs::create_dir_all(dir.path().join("out")).expect("mkdir");
    std::fs::write(dir.path().join("out/intro.mp4"), b"mine").expect("write");
    let fake =
        FakeServer::start(FakeConfig { faults: Faults { task_failed: 1.0, ..Faults::default() }, ..fast_fake() })
            .await
            .expect("fake");
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        hints(&stderr),
        [
            "hint: see results.csv",
            "hint: 1 job failed: `pixbatch run --retry-failed` resubmits (paying again)",
            "hint: 1 job with a file the ledger did not write (OutputExists, OutputChanged): kept; `pixbatch run --overwrite` renders again",
        ],
        "{stderr}"
    );

    // A task its endpoint does not know yet (TaskNotFound): kept, asked again, never resubmitted.
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = small_manifest(dir.path(), "m.yaml", None, "  - id: intro\n    prompt: \"@man walks in\"\n");
    in_flight_at(&manifest, &fake.base_url(), "a-task-this-fake-never-made");
    let (code, stderr) = run_to_end(&fake, &manifest, &["--unknown-grace", "100ms"]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("1 × TaskNotFound"), "{stderr}");
    assert_eq!(
        hints(&stderr),
        [
            "hint: see results.csv",
            "hint: 1 job kept, not resubmitted (TaskNotFound): the next run asks for the task again; a task lives at the endpoint that created it",
        ],
        "{stderr}"
    );

    // A task given up on (Timeout) is polled again by the next run, never resubmitted.
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = small_manifest(dir.path(), "m.yaml", None, "  - id: intro\n    prompt: \"@man walks in\"\n");
    let slow = FakeServer::start(FakeConfig { run_time: DurationRange::fixed(Duration::from_secs(30)), ..fast_fake() })
        .await
        .expect("fake");
    let (code, stderr) = run_to_end(&slow, &manifest, &["--task-timeout", "100ms"]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("1 × Timeout"), "{stderr}");
    assert_eq!(
        hints(&stderr),
        [
            "hint: see results.csv",
            "hint: 1 job still on the service (Timeout): the next run polls again, not resubmitted"
        ],
        "{stderr}"
    );
}

/// A ledger in which the manifest's first job has task `task_id` at `endpoint`, just created.
fn in_flight_at(manifest: &Path, endpoint: &str, task_id: &str) {
    use pixbatch::ledger::{Entry, Event, JobMeta, Journal, Ledger};
    let expansion = expand(manifest);
    let job = &expansion.jobs[0];
    std::fs::create_dir_all(expansion.output_dir.join(".pixbatch")).expect("mkdir");
    let mut journal = Journal::open(&Ledger::journal_path(&expansion.output_dir)).expect("journal");
    let meta = JobMeta {
        shot: job.shot.clone(),
        variant: job.variant.clone(),
        model: job.model.clone(),
        size: job.size.clone(),
        duration: job.duration,
        audio: job.audio,
        seed: job.seed,
        output: job.output.display().to_string(),
        estimate_cny: None,
        stage: None,
    };
    let intent = Event::intent(1, meta, Some(endpoint.to_owned()), None);
    for event in [intent, Event::Submitted { task_id: task_id.to_owned() }] {
        journal.append(&Entry { at: jiff::Timestamp::now(), key: job.key.clone(), event }).expect("append");
    }
    journal.commit().expect("commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_status_show_exists_when_the_ledger_was_deleted_and_a_run_submits_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 2, "@man fights");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    std::fs::remove_dir_all(dir.path().join("out/.pixbatch")).expect("rm ledger");

    let (code, stdout, stderr) = cli(&fake, &["plan", "--format", "json", arg(&manifest)]).await;
    assert_eq!(code, 0, "{stderr}");
    let plan: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let states: Vec<&str> = plan["jobs"].as_array().expect("jobs").iter().filter_map(|j| j["state"].as_str()).collect();
    assert_eq!(states, ["exists"; 4]);
    assert_eq!(plan["summary"]["to_submit"], 0);
    assert_eq!(plan["summary"]["estimated_cost_cny"], 0.0);
    let (_, table, _) = cli(&fake, &["plan", arg(&manifest)]).await;
    assert!(table.contains("a run would submit 0 jobs"), "{table}");
    assert!(table.contains("`run --overwrite` renders them again"), "{table}");
    let (_, status, _) = cli(&fake, &["status", arg(&manifest)]).await;
    assert!(status.trim_end().ends_with("4 exists"), "{status}");
    assert!(status.contains("`run --overwrite` renders it again"), "{status}");

    // And a run does what they said: nothing submitted, the files kept.
    fake.reset_stats();
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("4 × OutputExists"), "{stderr}");
    assert_eq!(fake.stats().submissions, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_create_sent_ahead_is_retried_and_queue_ahead_stays_on() {
    // The fake allows 5 creates a second per model; the runner is told it may send 200. The
    // 6th create (the first sent ahead of the 5 slots) meets `Throttling.RateQuota`: a rate,
    // not a refusal of a 6th task, so it is retried and two tasks are still queued ahead.
    let dir = tempfile::tempdir().expect("tmp");
    let shots = "  - id: fight\n    prompt: \"@man fights\"\n    matrix: {seed: [1, 2, 3, 4, 5, 6, 7]}\n";
    let manifest = small_manifest(dir.path(), "m.yaml", None, shots);
    let fake = FakeServer::start(FakeConfig {
        submit_rps: 5,
        run_time: DurationRange::fixed(Duration::from_secs(3)),
        ..fast_fake()
    })
    .await
    .expect("fake");
    // Retries patient enough to outlast the fake's one-second window.
    let options = pixbatch::run::RunOptions { retry_scale: 0.1, ..fast_options() };
    let s = run(&manifest, &fake, &options).await;
    assert_eq!((s.counts.done, s.counts.failed), (7, 0), "{s:?}");
    let stats = fake.stats();
    assert!(stats.throttled > 0, "the fake's rate was met: {stats:?}");
    assert_eq!(stats.submissions, 7);
    assert_eq!(stats.peak_in_flight.get("c1"), Some(&7), "5 running and 2 queued ahead: {stats:?}");

    // The fake's refusal past its slots is another code, which does stop queueing ahead
    // (`a_service_that_refuses_tasks_past_its_slots_...` in run.rs shows the run after it).
    let answer = |(code, message): (&str, &str)| {
        pixbatch::api::ApiError::http(429, Some(code.into()), Some(message.into()), None)
    };
    let refusal = answer(pixbatch::fake::sim::TOO_MANY_RUNNING);
    assert!(refusal.is_throttled() && !refusal.is_rate_limit());
    assert!(answer(pixbatch::fake::sim::RATE_LIMITED).is_rate_limit());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_video_is_kept_by_a_rerun_and_by_retry_failed_and_replaced_only_with_overwrite() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = small_manifest(dir.path(), "m.yaml", None, "  - id: intro\n    prompt: \"@man walks in\"\n");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    let video = dir.path().join("out/intro.mp4");
    let mut edited = std::fs::read(&video).expect("video");
    edited.extend_from_slice(b"an edit");
    std::fs::write(&video, &edited).expect("edit");

    let (_, status, _) = cli(&fake, &["status", arg(&manifest)]).await;
    assert!(status.trim_end().ends_with("1 exists"), "{status}");
    fake.reset_stats();
    for extra in [&[][..], &["--retry-failed"]] {
        let (code, stderr) = run_to_end(&fake, &manifest, extra).await;
        assert_eq!(code, 1, "{extra:?}: {stderr}");
        assert!(stderr.contains("1 × OutputChanged"), "{extra:?}: {stderr}");
        assert_eq!(std::fs::read(&video).expect("video"), edited, "{extra:?}: the user's bytes are kept");
    }
    let stats = fake.stats();
    assert_eq!((stats.submissions, stats.downloads), (0, 0), "{stats:?}");

    // --overwrite: the video is downloaded again (its URL lives) and is the ledger's again.
    let (code, stderr) = run_to_end(&fake, &manifest, &["--overwrite"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(verify_outputs(&manifest), 1);
    assert_eq!(fake.stats().submissions, 0, "downloaded, not rendered again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cosmetics_results_line_shards_repair_cancel_renamed_folders_and_help() {
    let dir = tempfile::tempdir().expect("tmp");
    let fight = "  - id: fight\n    prompt: \"@man fights\"\n    matrix: {seed: [1]}\n";
    let manifest = small_manifest(dir.path(), "m.yaml", None, fight);
    let fake = FakeServer::start(fast_fake()).await.expect("fake");

    // (e) cancel before any run makes no ledger folder.
    let (code, _, stderr) = cli(&fake, &["cancel", arg(&manifest)]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(!dir.path().join("out/.pixbatch").exists(), "cancel made a ledger folder");

    // (b) a shard that selects nothing says `0 jobs`, not `0 jobs ()`.
    let mut empty_shards = 0;
    for k in 1..=4 {
        let (code, table, stderr) = cli(&fake, &["plan", "--shard", &format!("{k}/4"), arg(&manifest)]).await;
        assert_eq!(code, 0, "{stderr}");
        assert!(!table.contains("()"), "{table}");
        empty_shards += usize::from(table.contains("\n0 jobs\n"));
    }
    assert_eq!(empty_shards, 3, "one job, four shards");
    // (c) N = 0 is named as N's fault.
    let (code, _, stderr) = cli(&fake, &["plan", "--shard", "1/0", arg(&manifest)]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("N must be at least 1"), "{stderr}");

    // (a) results.csv cannot be written (a folder is in its way): its path is not printed.
    std::fs::create_dir_all(dir.path().join("out/results.csv")).expect("mkdir");
    let (_, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert!(stderr.contains("cannot write results.csv"), "{stderr}");
    assert!(!stderr.contains("results: "), "{stderr}");
    std::fs::remove_dir(dir.path().join("out/results.csv")).expect("rmdir");

    // (d) a torn journal line: repaired and said once.
    let journal = dir.path().join("out/.pixbatch/journal.jsonl");
    let mut bytes = std::fs::read(&journal).expect("journal");
    bytes.extend_from_slice(b"{\"at\":\"2026-11-25T10:00:00Z\",\"key\":\"3f2a");
    std::fs::write(&journal, &bytes).expect("tear");
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr.matches("torn").count(), 1, "{stderr}");
    assert!(stderr.contains("results: "), "{stderr}");

    // (f) a renamed shot's video moves, and its old folder, now empty, goes; a folder with a
    // file in it stays.
    let manifest = small_manifest(dir.path(), "m.yaml", None, &fight.replace("id: fight", "id: brawl"));
    std::fs::create_dir_all(dir.path().join("out/notes")).expect("mkdir");
    std::fs::write(dir.path().join("out/notes/todo.txt"), b"keep me").expect("write");
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(dir.path().join("out/brawl/seed-1.mp4").is_file(), "{stderr}");
    assert!(!dir.path().join("out/fight").exists(), "the empty old folder is left: {stderr}");
    assert!(dir.path().join("out/notes/todo.txt").is_file());

    // (g) every flag has help text.
    for (cmd, flag) in [("status", "--format"), ("fake-server", "--slow-delay")] {
        let (_, help, _) = cli(&fake, &[cmd, "--help"]).await;
        // `--flag <VALUE>  Help [default: ...]`, or the help on the next line (clap's layout
        // for long help): either way something comes before the default.
        let lines: Vec<&str> = help.lines().collect();
        let at = lines.iter().position(|l| l.trim_start().starts_with(flag)).expect(flag);
        let text = match lines[at].split_once('>').map_or("", |(_, rest)| rest.trim()) {
            "" => lines.get(at + 1).map_or("", |l| l.trim()),
            text => text,
        };
        assert!(!text.is_empty() && !text.starts_with('[') && !text.starts_with('-'), "{cmd} {flag}: no help:\n{help}");
    }
}
