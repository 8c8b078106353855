//! `pixbatch run` against the fake over real sockets: full slots, idempotent reruns, faults.

mod common;

use std::time::Duration;

use common::*;
use pixbatch::fake::{FakeConfig, FakeServer, Faults};
use pixbatch::ledger::{Ledger, Phase};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_jobs_fill_both_families_then_reruns_do_only_what_changed() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 30, "@man fights with a sword");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");

    let s = run(&manifest, &fake, &fast_options()).await;
    assert_eq!((s.counts.done, s.counts.failed, s.counts.total), (60, 0, 60), "{s:?}");
    assert!(s.stop.is_none());
    let stats = fake.stats();
    assert_eq!(stats.submissions, 60);
    assert_eq!(stats.duplicate_submissions, 0);
    for family in ["c1", "v5.6"] {
        assert_eq!(stats.peak_running.get(family), Some(&5), "{family} reached its 5 slots");
        // Two more are queued on the service, to start the moment a slot frees.
        assert_eq!(stats.peak_in_flight[family], 7, "{family}: 5 running and 2 queued ahead");
        let u = stats.utilisation(family, 5);
        assert!(u > 0.75, "{family}: slots busy {:.0}% of the time", u * 100.0);
    }
    assert_eq!(verify_outputs(&manifest), 60);
    let csv = std::fs::read_to_string(dir.path().join("out/results.csv")).expect("results.csv");
    assert_eq!(csv.lines().count(), 61);
    assert_eq!(csv.lines().filter(|l| l.contains(",done,")).count(), 60);

    // An immediate rerun sends nothing at all.
    fake.reset_stats();
    let s = run(&manifest, &fake, &fast_options()).await;
    assert_eq!((s.counts.skipped, s.counts.done, s.counts.failed), (60, 0, 0));
    let stats = fake.stats();
    assert_eq!((stats.api_requests(), stats.downloads), (0, 0), "{stats:?}");

    // Editing one shot's prompt renders exactly that shot again.
    let manifest = two_family_manifest(dir.path(), 30, "@man fights with a spear");
    fake.reset_stats();
    let s = run(&manifest, &fake, &fast_options()).await;
    assert_eq!((s.counts.skipped, s.counts.done), (30, 30));
    assert_eq!(fake.stats().submissions, 30);
    assert_eq!(verify_outputs(&manifest), 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_end_every_job_correctly_and_failed_tasks_wait_for_retry_failed() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 20, "@man fights");
    let faults = Faults {
        throttle: 0.1,
        server_error: 0.05,
        drop_before: 0.02,
        drop_after: 0.02,
        task_failed: 0.1,
        task_failed_silent: 0.03,
        // High enough that some of the ~40 downloads are cut whatever order the rolls land in.
        truncated_download: 0.3,
        ..Faults::default()
    };
    let fake = FakeServer::start(FakeConfig { faults, seed: 7, ..fast_fake() }).await.expect("fake");
    let s = run(&manifest, &fake, &fast_options()).await;
    let stats = fake.stats();
    assert!(stats.throttled > 0 && stats.server_errors > 0 && stats.dropped > 0 && stats.truncated > 0, "{stats:?}");
    assert_eq!(stats.duplicate_submissions, 0, "no request was submitted twice");
    assert_eq!(s.counts.done + s.counts.failed, 40, "{s:?}");
    assert!(s.counts.failed > 0, "some tasks were made to fail");

    let expansion = expand(&manifest);
    let ledger = Ledger::load(&expansion.output_dir).expect("ledger");
    let (mut failed, mut download_failed) = (0, 0);
    for job in &expansion.jobs {
        let r = &ledger.records[&job.key];
        match r.phase {
            Phase::Downloaded => {}
            Phase::Failed => failed += 1,
            // Every download retry was cut: the task succeeded, the video is still to fetch.
            Phase::Succeeded => download_failed += 1,
            other => panic!("{}: left in {other:?}", job.name()),
        }
        if r.phase != Phase::Downloaded {
            assert!(r.error_code.is_some() && r.error_message.is_some(), "{r:?}");
        }
    }
    assert_eq!(failed + download_failed, s.counts.failed);

    // Without --retry-failed, a rerun submits nothing (it only fetches videos still to fetch).
    fake.set_faults(Faults::default());
    fake.reset_stats();
    let again = run(&manifest, &fake, &fast_options()).await;
    assert_eq!((fake.stats().submissions, again.counts.failed, again.counts.done), (0, failed, download_failed));

    // With it, exactly the failed ones, and then everything is there.
    let options = pixbatch::run::RunOptions { retry_failed: true, ..fast_options() };
    let last = run(&manifest, &fake, &options).await;
    assert_eq!((last.counts.done, last.counts.failed), (failed, 0));
    assert_eq!(fake.stats().submissions as usize, failed);
    assert_eq!(fake.stats().duplicate_submissions, 0, "resubmitting a failed job is a new attempt, not a duplicate");
    assert_eq!(verify_outputs(&manifest), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_rate_limits_are_respected_without_errors() {
    // DashScope's own limits (5 creates/s per model, 20 queries/s), the runner's defaults.
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 8, "@man fights");
    let fake = FakeServer::start(FakeConfig { submit_rps: 5, query_rps: 20, ..fast_fake() }).await.expect("fake");
    let options = pixbatch::run::RunOptions {
        poll: pixbatch::run::PollConfig {
            min_interval: Duration::from_millis(100),
            max_interval: Duration::from_secs(1),
        },
        ..pixbatch::run::RunOptions::default()
    };
    let s = run(&manifest, &fake, &options).await;
    assert_eq!(s.counts.done, 16, "{s:?}");
    assert_eq!(fake.stats().throttled, 0, "the runner stays under the service's rate limits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_refuses_tasks_past_its_slots_costs_one_refusal_per_queued_task_then_none() {
    // The 6th concurrent task may be refused rather than queued (dashscope-api.md §6): the
    // tasks sent ahead are refused once, put back in line, and the run keeps to 5 after that.
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 15, "@man fights");
    let fake = FakeServer::start(FakeConfig { overflow: true, ..fast_fake() }).await.expect("fake");
    let s = run(&manifest, &fake, &fast_options()).await;
    assert_eq!((s.counts.done, s.counts.failed), (30, 0), "{s:?}");
    let stats = fake.stats();
    assert_eq!(stats.submissions, 30, "refused creates made no task");
    assert_eq!(stats.duplicate_submissions, 0);
    assert!(stats.throttled <= 4, "at most the 2 queued-ahead creates per family are refused: {stats:?}");
    for family in ["c1", "v5.6"] {
        assert_eq!(stats.peak_running.get(family), Some(&5), "{family}");
        assert_eq!(stats.peak_in_flight.get(family), Some(&5), "{family}");
    }
    assert_eq!(verify_outputs(&manifest), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lower_concurrency_is_a_cap_that_nothing_is_queued_past() {
    // Queueing ahead would let the service start a 4th task in a free slot of its pool of 5.
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 12, "@man fights");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let options = pixbatch::run::RunOptions { default_concurrency: Some(3), ..fast_options() };
    let s = run(&manifest, &fake, &options).await;
    assert_eq!(s.counts.done, 24, "{s:?}");
    let stats = fake.stats();
    for family in ["c1", "v5.6"] {
        assert_eq!(stats.peak_in_flight.get(family), Some(&3), "{family}: {stats:?}");
    }
    // And `queue_ahead: 0` keeps to the 5 slots exactly.
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 12, "@man runs");
    fake.reset_stats();
    let s = run(&manifest, &fake, &pixbatch::run::RunOptions { queue_ahead: 0, ..fast_options() }).await;
    assert_eq!(s.counts.done, 24, "{s:?}");
    let stats = fake.stats();
    for family in ["c1", "v5.6"] {
        assert_eq!(stats.peak_in_flight.get(family), Some(&5), "{family}: {stats:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_on_the_same_ledger_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 1, "@man fights");
    let out = dir.path().join("out");
    let _held = pixbatch::ledger::Lock::acquire(&out).expect("first lock");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let expansion = expand(&manifest);
    let mut expansion = expansion;
    expansion.output_dir = out.clone();
    let input = pixbatch::run::RunInput { expansion: &expansion, name: None };
    let err = pixbatch::run::run(input, client(&fake), &fast_options(), &mut pixbatch::run::Silent, Default::default())
        .await
        .expect_err("locked");
    let text = err.to_string();
    assert!(text.contains("another pixbatch run") && text.contains(&format!("pid {}", std::process::id())), "{text}");
    assert_eq!(fake.stats().api_requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_status_show_what_a_run_would_do() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 2, "@man fights");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    run(&manifest, &fake, &fast_options()).await;
    // One video deleted, one shot edited (its old jobs become orphans, its new ones are new).
    std::fs::remove_file(dir.path().join("out/walk/seed-1.mp4")).expect("rm");
    let manifest = two_family_manifest(dir.path(), 2, "@man fights again");
    let bin = assert_cmd::cargo::cargo_bin!("pixbatch");
    let out = std::process::Command::new(bin).args(["plan", "--format", "json"]).arg(&manifest).output().expect("plan");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let states: Vec<(String, String)> = plan["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| {
            (
                format!("{}[{}]", j["shot"].as_str().unwrap_or(""), j["variant"].as_str().unwrap_or("")),
                j["state"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let expect = |s: &str, v: &str| (s.to_owned(), v.to_owned());
    assert_eq!(
        states,
        vec![
            expect("fight[seed=1]", "new"),
            expect("fight[seed=2]", "new"),
            expect("walk[seed=1]", "download"),
            expect("walk[seed=2]", "done")
        ]
    );
    assert_eq!(plan["summary"]["to_submit"], 2);
    assert_eq!(plan["summary"]["orphaned"], 2);
    assert_eq!(plan["orphans"].as_array().map(Vec::len), Some(2));

    let out = std::process::Command::new(bin).args(["status"]).arg(&manifest).output().expect("status");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.trim_end().ends_with("1 done, 1 download, 2 new, 2 orphaned"), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_budget_is_never_exceeded_under_concurrency() {
    // 40 jobs at 0.90 (c1 360P 5 s) or 1.05 (v5.6 360P 5 s) each; a cap in between.
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 20, "@man fights");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let cap = 17.5;
    let options = pixbatch::run::RunOptions { max_cost: Some(cap), ..fast_options() };
    let s = run(&manifest, &fake, &options).await;
    assert!(s.cost_cny <= cap, "spent {} > {cap}", s.cost_cny);
    assert!(s.cost_cny > cap - 1.05, "it used the budget ({}), not stopped early", s.cost_cny);
    assert!(
        matches!(s.stop, Some(pixbatch::run::Stop::Budget { skipped, .. }) if skipped == 40 - s.counts.done),
        "{s:?}"
    );
    assert_eq!(fake.stats().submissions as usize, s.counts.done, "nothing over the cap was even submitted");
    assert_eq!(s.billed_seconds, 5.0 * s.counts.done as f64);
}

#[test]
fn shards_cover_every_job_exactly_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 37, "@man fights");
    let jobs = expand(&manifest).jobs;
    for n in [1u32, 2, 3, 4, 7] {
        let mut seen = std::collections::HashMap::new();
        for k in 0..n {
            for j in jobs.iter().filter(|j| j.key.shard(n) == k) {
                assert!(seen.insert(j.key.clone(), k).is_none(), "{} in two shards", j.name());
            }
        }
        assert_eq!(seen.len(), jobs.len(), "N={n}");
    }
    assert_eq!(pixbatch::plan::parse_shard("2/4"), Ok((2, 4)));
    assert!(pixbatch::plan::parse_shard("5/4").is_err() && pixbatch::plan::parse_shard("0/4").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_reference_is_uploaded_once_per_model_and_a_rerun_renders_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir(dir.path().join("refs")).expect("mkdir");
    // A real (16×16) PNG: its pixels are checked against each model's limits.
    let png = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys/hero.png")).expect("png");
    std::fs::write(dir.path().join("refs/cafe.png"), png).expect("png");
    let manifest = dir.path().join("m.yaml");
    std::fs::write(
        &manifest,
        "version: 1\noutput: out\ndefaults: {size: \"640*360\", duration: 5}\nrefs: {cafe: ./refs/cafe.png, man: https://example.com/m.jpg}\nshots:\n  - id: c1\n    model: pixverse/pixverse-c1-r2v\n    prompt: \"@man sits in @cafe \"\n    matrix: {seed: [1, 2, 3]}\n  - id: v56\n    model: pixverse/pixverse-v5.6-r2v\n    prompt: \"@cafe at night\"\n",
    )
    .expect("manifest");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let s = run(&manifest, &fake, &fast_options()).await;
    assert_eq!((s.counts.done, s.counts.failed), (4, 0), "{s:?}");
    let stats = fake.stats();
    assert_eq!(stats.uploads, 2, "one upload per model (temporary files are bound to a model)");
    assert_eq!(verify_outputs(&manifest), 4);
    fake.reset_stats();
    let again = run(&manifest, &fake, &fast_options()).await;
    assert_eq!(again.counts.skipped, 4);
    let stats = fake.stats();
    assert_eq!((stats.uploads, stats.api_requests()), (0, 0));
    // A new job using the same file in a later run reuses the upload recorded in the ledger.
    let text = std::fs::read_to_string(&manifest).expect("read");
    std::fs::write(&manifest, text.replace("matrix: {seed: [1, 2, 3]}", "matrix: {seed: [1, 2, 3, 4]}")).expect("edit");
    fake.reset_stats();
    let third = run(&manifest, &fake, &fast_options()).await;
    assert_eq!((third.counts.done, third.counts.skipped), (1, 4));
    assert_eq!((fake.stats().uploads, fake.stats().policies), (0, 0), "the oss:// URL was reused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_failures_stops_submitting() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 20, "@man fights");
    // The service runs 2 of each family's tasks at a time, so that when the 3rd failure is seen
    // some of the 7 sent per family are certainly still waiting (with 5 running, the slots the
    // first failures free could start every queued task before the stop is seen).
    let fake = FakeServer::start(FakeConfig {
        faults: Faults { task_failed: 1.0, ..Faults::default() },
        concurrency: Some(2),
        ..fast_fake()
    })
    .await
    .expect("fake");
    let options = pixbatch::run::RunOptions { max_failures: Some(3), ..fast_options() };
    let s = run(&manifest, &fake, &options).await;
    assert!(matches!(s.stop, Some(pixbatch::run::Stop::TooManyFailures { failed }) if failed >= 3), "{s:?}");
    let stats = fake.stats();
    // In flight when the 3rd failure is seen: 5 running + 2 queued per family, and at most
    // one create per model in the air.
    assert!(stats.submissions <= 14 + 2, "stopped after the first failures, not 40: {stats:?}");
    // Tasks still waiting on the service are cancelled: stopping means stop spending.
    assert!(stats.cancels >= 1, "the queued tasks were cancelled: {stats:?}");
    let expansion = expand(&manifest);
    let ledger = Ledger::load(&expansion.output_dir).expect("ledger");
    let canceled = ledger.records.values().filter(|r| r.phase == Phase::Canceled).count();
    assert_eq!(canceled as u64, stats.final_states.get("CANCELED").copied().unwrap_or(0), "the ledger knows");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merging_shard_ledgers_gives_the_single_machine_ledger() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 9, "@man fights");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let n = 3;
    let mut shard_dirs = Vec::new();
    for k in 0..n {
        let out = dir.path().join(format!("shard{k}"));
        let mut shard = expand(&manifest);
        shard.output_dir = out.clone();
        pixbatch::plan::Selection { shard: Some((k + 1, n)), only: Vec::new() }.apply(&mut shard).expect("select");
        let input = pixbatch::run::RunInput { expansion: &shard, name: None };
        let s =
            pixbatch::run::run(input, client(&fake), &fast_options(), &mut pixbatch::run::Silent, Default::default())
                .await
                .expect("shard run")
                .summary;
        assert_eq!(s.counts.failed, 0);
        shard_dirs.push(out);
    }
    assert_eq!(fake.stats().submissions, 18, "the shards together submitted every job once");
    let merged = dir.path().join("out");
    let report = pixbatch::ledger::merge::merge(&merged, &shard_dirs).expect("merge");
    assert_eq!((report.jobs, report.conflicts.len(), report.files_copied), (18, 0, 18));
    // The merged folder is what one machine would have: a rerun there does nothing.
    assert_eq!(verify_outputs(&manifest), 18);
    fake.reset_stats();
    let s = run(&manifest, &fake, &fast_options()).await;
    assert_eq!(s.counts.skipped, 18);
    assert_eq!(fake.stats().api_requests(), 0);
    // Merging a shard again is a conflict, resolved to the same state.
    let again = pixbatch::ledger::merge::merge(&merged, &shard_dirs[..1]).expect("merge");
    assert_eq!(again.jobs, 18);
}

/// A rerun does not hash a video it verified before and that has not changed since (its size,
/// times and inode, kept in `verified.json`), yet a video rewritten in place — same length, its
/// modification time put back — is still caught: its change time moved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_rewritten_in_place_behind_a_restored_mtime_is_still_caught() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = small_manifest(
        dir.path(),
        "m.yaml",
        None,
        "  - {id: a, prompt: '@man waves '}\n  - {id: b, prompt: '@man nods '}\n",
    );
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    assert_eq!(run(&manifest, &fake, &fast_options()).await.counts.done, 2);
    // The first rerun hashes both videos and keeps their stamps.
    fake.reset_stats();
    assert_eq!(run(&manifest, &fake, &fast_options()).await.counts.skipped, 2);
    let stamps = std::fs::read_to_string(dir.path().join("out/.pixbatch/verified.json")).expect("verified.json");
    assert!(stamps.contains("\"a.mp4\"") && stamps.contains("\"b.mp4\""), "{stamps}");

    // Rewrite a.mp4 in place: the same length, another byte, the old modification time.
    let path = dir.path().join("out/a.mp4");
    let before = std::fs::metadata(&path).expect("meta");
    let mut bytes = std::fs::read(&path).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xFF;
    std::fs::write(&path, &bytes).expect("rewrite");
    std::fs::File::options()
        .write(true)
        .open(&path)
        .expect("open")
        .set_modified(before.modified().expect("mtime"))
        .expect("set mtime");
    assert_eq!(std::fs::metadata(&path).expect("meta").len(), before.len());

    fake.reset_stats();
    let s = run(&manifest, &fake, &fast_options()).await;
    // Caught: a file the ledger did not write is left alone and reported, as for any edit.
    assert_eq!((s.counts.skipped, s.counts.failed), (1, 1), "only b is untouched: {s:?}");
    assert_eq!(std::fs::read(&path).expect("read"), bytes, "the edit is kept");
    let options = pixbatch::run::RunOptions { overwrite: true, ..fast_options() };
    let s = run(&manifest, &fake, &options).await;
    assert_eq!(s.counts.done, 1, "{s:?}");
    assert_eq!(verify_outputs(&manifest), 2, "with --overwrite, a is whole again");
}
