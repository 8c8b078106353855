//! The account is shared and the world is not kind (`dashscope-api.md` §12): other clients
//! create tasks on the same list, create answers are lost after the task was made, tasks live
//! at the endpoint that made them, URLs expire early, disks fill mid-write. Every test here
//! asserts what a user would count: no video from another client's task or another request,
//! no request paid for twice, every job done (or held, saying why).

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use pixbatch::fake::{DurationRange, FakeConfig, FakeServer, Faults, Neighbours, Refusal};
use pixbatch::ledger::{Ledger, Phase};

/// A fake shared with other clients: some of their tasks copy ours with one visible change.
fn crowded(seed: u64, lost_answers: f64) -> FakeConfig {
    FakeConfig {
        seed,
        neighbours: Neighbours { per_second: 6.0, similar: 0.5, echo_seed: false },
        faults: Faults { lost_create_answer: lost_answers, ..Faults::default() },
        ..fast_fake()
    }
}

async fn other_clients_and_lost_answers(seed: u64, per_shot: usize) {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = manifest_named(dir.path(), "story", per_shot, "@man fights", "@man walks home");
    let fake = FakeServer::start(crowded(seed, 0.2)).await.expect("fake");
    let s = run(&manifest, &fake, &fast_options()).await;
    let jobs = 2 * per_shot;
    assert_eq!((s.counts.done, s.counts.failed), (jobs, 0), "seed {seed}: {s:?}");
    assert_eq!(verify_outputs(&manifest), jobs);
    assert_eq!(assert_own_videos(&manifest, &[&fake]), jobs);
    let stats = fake.stats();
    assert_eq!((stats.bodies_paid_twice, stats.duplicate_submissions), (0, 0), "seed {seed}: {stats:?}");
    assert!(stats.neighbour_tasks > 0 && stats.dropped > 0, "the test exercised nothing: {stats:?}");
    // Every adoption is in the ledger with its evidence.
    let ledger = Ledger::load(&dir.path().join("story")).expect("ledger");
    let decided = ledger.records.values().flat_map(|r| &r.notes).filter(|n| n.contains("created")).count();
    assert!(decided > 0, "no decision recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_clients_on_the_account_and_lost_create_answers() {
    for seed in 1..=3 {
        other_clients_and_lost_answers(seed, 10).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full size: run with --ignored"]
async fn other_clients_on_the_account_and_lost_create_answers_many_seeds() {
    for seed in 1..=20 {
        other_clients_and_lost_answers(seed, 20).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_differs_only_in_seed_is_held_never_adopted_nor_paid_twice() {
    // Every create loses its answer, and at the same instant another client sends the very
    // same request with another seed: nothing the service shows tells the two tasks apart.
    let dir = tempfile::tempdir().expect("tmp");
    let text = "version: 1\noutput: out\ndefaults: {size: \"640*360\", duration: 5}\nrefs: {man: https://example.com/man.jpg}\nshots:\n  - id: fight\n    model: pixverse/pixverse-c1-r2v\n    prompt: \"@man fights\"\n    matrix: {seed: [1, 2, 3]}\n";
    let manifest = dir.path().join("m.yaml");
    std::fs::write(&manifest, text).expect("write");
    let fake = FakeServer::start(FakeConfig {
        neighbours: Neighbours { echo_seed: true, ..Neighbours::default() },
        faults: Faults { lost_create_answer: 1.0, ..Faults::default() },
        ..fast_fake()
    })
    .await
    .expect("fake");
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("3 × Ambiguous"), "{stderr}");
    assert!(stderr.contains("nothing the service shows tells them apart"), "{stderr}");
    assert!(!dir.path().join("out/fight").exists(), "no video saved for a held job");
    let ledger = Ledger::load(&dir.path().join("out")).expect("ledger");
    for r in ledger.records.values() {
        assert_eq!(r.phase, Phase::Ambiguous, "{r:?}");
        assert!(r.candidates.len() >= 2, "its own task and the twin, both named: {r:?}");
    }
    let submitted = fake.stats().submissions;
    // Held means held: a plain rerun submits nothing, and status says why.
    fake.set_faults(Faults::default());
    let (code, _) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 1);
    assert_eq!(fake.stats().submissions, submitted, "a held job is not resubmitted");
    let out = pixbatch(&fake, "sk-test").arg("status").arg(&manifest).output().await.expect("status");
    assert!(String::from_utf8_lossy(&out.stdout).contains("ambiguous"), "{out:?}");
    assert_eq!(fake.stats().bodies_paid_twice, 0);
    // The user decides to pay again: --retry-failed renders exactly the held jobs.
    let (code, stderr) = run_to_end(&fake, &manifest, &["--retry-failed"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(fake.stats().submissions, submitted + 3);
    assert_own_videos(&manifest, &[&fake]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_of_different_manifests_at_once_never_take_each_others_tasks() {
    let dir = tempfile::tempdir().expect("tmp");
    let a = manifest_named(dir.path(), "a", 12, "@man fights", "@man walks home");
    let b = manifest_named(dir.path(), "b", 12, "@man fights in the rain", "@man walks to work");
    let fake = FakeServer::start(crowded(7, 0.15)).await.expect("fake");
    let run_a = pixbatch(&fake, "sk-test").arg("run").arg(&a).args(FAST).output();
    let run_b = pixbatch(&fake, "sk-test").arg("run").arg(&b).args(FAST).output();
    let (out_a, out_b) = tokio::join!(run_a, run_b);
    for out in [out_a.expect("a runs"), out_b.expect("b runs")] {
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    for m in [&a, &b] {
        assert_eq!(verify_outputs(m), 24);
        assert_eq!(assert_own_videos(m, &[&fake]), 24);
    }
    let stats = fake.stats();
    assert_eq!((stats.bodies_paid_twice, stats.duplicate_submissions), (0, 0), "{stats:?}");
    assert!(stats.dropped > 0, "{stats:?}");
    // No task is claimed by both ledgers.
    let ids = |name: &str| -> std::collections::HashSet<String> {
        Ledger::load(&dir.path().join(name))
            .expect("ledger")
            .records
            .values()
            .filter_map(|r| r.task_id.clone())
            .collect()
    };
    assert!(ids("a").is_disjoint(&ids("b")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_in_flight_stay_at_the_endpoint_that_made_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 12, "@man fights");
    let slow = |key: &str| FakeConfig {
        api_key: key.into(),
        seed: u64::from(key.as_bytes()[3]),
        run_time: DurationRange::fixed(Duration::from_millis(700)),
        ..fast_fake()
    };
    let a = FakeServer::start(slow("sk-a")).await.expect("fake a");
    let b = FakeServer::start(slow("sk-b")).await.expect("fake b");
    let mut child = pixbatch(&a, "sk-a").arg("run").arg(&manifest).args(FAST).spawn().expect("spawn");
    until_submitted(&a, 10).await;
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("reaped");
    let at_a = a.stats().submissions;

    // The user switches endpoint (and so key): the tasks made at A cannot be asked about
    // there with B's key. The run says so, naming both, and writes nothing off.
    let out = pixbatch(&b, "sk-b").arg("run").arg(&manifest).args(FAST).output().await.expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&a.base_url()) && stderr.contains(&b.base_url()), "names both endpoints: {stderr}");
    let ledger = Ledger::load(&dir.path().join("out")).expect("ledger");
    assert!(
        ledger.records.values().all(|r| !matches!(r.phase, Phase::Expired | Phase::Failed)),
        "nothing is written off"
    );

    assert_eq!(b.stats().submissions, 0, "nothing of A's was rendered again at B");

    // Back with A's key: the tasks are finished from A and the rest rendered there.
    let out = pixbatch(&a, "sk-a").arg("run").arg(&manifest).args(FAST).output().await.expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(verify_outputs(&manifest), 24);
    assert_eq!(assert_own_videos(&manifest, &[&a, &b]), 24);
    assert!(a.stats().submissions >= at_a);
    let (paid_a, paid_b) = (a.billed_bodies(), b.billed_bodies());
    assert!(paid_a.keys().all(|body| !paid_b.contains_key(body)), "a request paid at both endpoints");
    assert_eq!((a.stats().bodies_paid_twice, b.stats().bodies_paid_twice), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_made_at_one_endpoint_are_finished_there_when_the_run_moves() {
    // Two endpoints of one account (the same key works at both, as the legacy domain and a
    // workspace domain do): each knows only its own tasks.
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 12, "@man fights");
    let slow = FakeConfig { run_time: DurationRange::fixed(Duration::from_millis(700)), ..fast_fake() };
    // Different seeds: task ids are unique across endpoints, as the service's are.
    let a = FakeServer::start(FakeConfig { seed: 1, ..slow.clone() }).await.expect("fake a");
    let b = FakeServer::start(FakeConfig { seed: 2, ..slow }).await.expect("fake b");
    let mut child = pixbatch(&a, "sk-test").arg("run").arg(&manifest).args(FAST).spawn().expect("spawn");
    until_submitted(&a, 12).await;
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("reaped");
    let (code, stderr) = run_to_end(&b, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(verify_outputs(&manifest), 24);
    assert_eq!(assert_own_videos(&manifest, &[&a, &b]), 24);
    let (paid_a, paid_b) = (a.billed_bodies(), b.billed_bodies());
    assert!(paid_a.len() >= 12, "A's tasks were finished from A: {}", paid_a.len());
    assert!(paid_a.keys().all(|body| !paid_b.contains_key(body)), "a request paid at both endpoints");
    assert_eq!(paid_a.len() + paid_b.len(), 24, "every request paid once, at one endpoint");
    // A rerun pointed back at A does nothing.
    let before = (a.stats().submissions, b.stats().submissions);
    let (code, stderr) = run_to_end(&a, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!((a.stats().submissions, b.stats().submissions), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_its_endpoint_does_not_know_yet_is_kept_not_written_off() {
    // The ledger says the tasks live at A; A is gone from under them (here: another fake at
    // A's address would not know them either). A rerun at B must not call them lost or
    // resubmit them: B answers UNKNOWN for tasks it never made.
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 3, "@man fights");
    let a = FakeServer::start(FakeConfig { run_time: DurationRange::fixed(Duration::from_secs(30)), ..fast_fake() })
        .await
        .expect("fake a");
    let b = FakeServer::start(FakeConfig { seed: 2, ..fast_fake() }).await.expect("fake b");
    let mut child = pixbatch(&a, "sk-test").arg("run").arg(&manifest).args(FAST).spawn().expect("spawn");
    let journal = dir.path().join("out/.pixbatch/journal.jsonl");
    let recorded = || std::fs::read_to_string(&journal).unwrap_or_default().matches("\"ev\":\"submitted\"").count();
    for _ in 0..2000 {
        if recorded() >= 6 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(recorded(), 6, "every task recorded");
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("reaped");
    // Rewrite the ledger's endpoint of the tasks to B's, as if they had been created there and
    // B had not caught up (tasks that read UNKNOWN too soon).
    let text = std::fs::read_to_string(&journal).expect("journal");
    std::fs::write(&journal, text.replace(&a.base_url(), &b.base_url())).expect("rewrite");
    let out = pixbatch(&b, "sk-test")
        .arg("run")
        .arg(&manifest)
        .args(FAST)
        .args(["--unknown-grace", "300ms"])
        .output()
        .await
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("TaskNotFound") && stderr.contains("not resubmitted"), "{stderr}");
    assert_eq!(b.stats().submissions, 0, "nothing resubmitted at B");
    let ledger = Ledger::load(&dir.path().join("out")).expect("ledger");
    assert!(ledger.records.values().all(|r| r.phase == Phase::InFlight), "kept in flight");
    // --retry-failed does not pay for them again either: they are not failed, they are waiting.
    let out = pixbatch(&b, "sk-test")
        .args(["run", "--retry-failed", "--unknown-grace", "300ms"])
        .arg(&manifest)
        .args(FAST)
        .output()
        .await
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(b.stats().submissions, 0, "nothing resubmitted at B, even with --retry-failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_last_journal_line_is_repaired_and_costs_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 4, "@man fights");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    let journal = dir.path().join("out/.pixbatch/journal.jsonl");
    let mut bytes = std::fs::read(&journal).expect("journal");
    bytes.extend_from_slice(b"{\"at\":\"2026-11-25T10:00:00Z\",\"key\":\"3f2a");
    std::fs::write(&journal, &bytes).expect("tear");
    let submitted = fake.stats().submissions;
    for cmd in ["status", "plan"] {
        let out = pixbatch(&fake, "sk-test").arg(cmd).arg(&manifest).output().await.expect("runs");
        assert_eq!(out.status.code(), Some(0), "{cmd}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("torn"), "the repair is said: {stderr}");
    let text = std::fs::read_to_string(&journal).expect("journal");
    assert!(text.ends_with('\n') && text.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(fake.stats().submissions, submitted, "0 resubmissions");
    assert_eq!(verify_outputs(&manifest), 8);
}

/// A tmpfs of `bytes` mounted at `dir` for as long as the guard lives (root only).
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(dir: &Path, bytes: u64) -> Option<SmallDisk> {
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| SmallDisk(dir.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the disk under `dir` with a file; returns it.
fn fill(dir: &Path) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).expect("filler");
    let chunk = vec![0u8; 4096];
    while f.write_all(&chunk).is_ok() {}
    // The last bytes, one at a time, so not even a short line fits.
    while f.write_all(&[0]).is_ok() {}
    let _ = f.sync_all();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_that_fills_mid_run_leaves_a_ledger_the_next_runs_read() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(_disk) = SmallDisk::mount(tmp.path(), 4 << 20) else {
        assert!(std::env::var_os("CI").is_none(), "CI runs as root and must be able to mount a small tmpfs");
        eprintln!("skipped: cannot mount a tmpfs here (not root)");
        return;
    };
    let dir = tmp.path();
    let manifest = two_family_manifest(dir, 15, "@man fights");
    let fake =
        FakeServer::start(FakeConfig { run_time: DurationRange::fixed(Duration::from_millis(400)), ..fast_fake() })
            .await
            .expect("fake");
    let child = pixbatch(&fake, "sk-test").arg("run").arg(&manifest).args(FAST).spawn().expect("spawn");
    until_submitted(&fake, 8).await;
    let filler = fill(dir);
    let out = child.wait_with_output().await.expect("exits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("No space left"), "says what happened: {stderr}");
    std::fs::remove_file(&filler).expect("free the disk");
    let submitted = fake.stats().submissions;
    let out = pixbatch(&fake, "sk-test").arg("status").arg(&manifest).output().await.expect("status");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(verify_outputs(&manifest), 30);
    let stats = fake.stats();
    assert_eq!(stats.duplicate_submissions, 0, "{stats:?}");
    assert!(stats.submissions - submitted <= 30, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_the_service_expired_early_makes_the_job_lost_and_retry_failed_renders_exactly_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 3, "@man fights");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let (code, stderr) = run_to_end(&fake, &manifest, &["--only", "fight*"]).await;
    assert_eq!(code, 0, "{stderr}");
    fake.set_url_ttl(Some(Duration::ZERO));
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("3 × UrlExpired"), "{stderr}");
    let mut rows = csv::Reader::from_path(dir.path().join("out/results.csv")).expect("results");
    let state = rows.headers().expect("headers").iter().position(|h| h == "state").expect("state");
    let states: Vec<String> = rows.records().map(|r| r.expect("row")[state].to_owned()).collect();
    assert_eq!(states.iter().filter(|s| *s == "expired").count(), 3, "{states:?}");
    // Not stuck: a plain rerun neither downloads nor submits, and says --retry-failed.
    fake.set_url_ttl(None);
    let before = fake.stats();
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 1);
    assert!(stderr.contains("--retry-failed"), "{stderr}");
    assert_eq!(fake.stats().submissions, before.submissions);
    let (code, stderr) = run_to_end(&fake, &manifest, &["--retry-failed"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(fake.stats().submissions, before.submissions + 3, "exactly the lost jobs");
    assert_eq!(verify_outputs(&manifest), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_quota_stops_the_run_instead_of_backing_off() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 5, "@man fights");
    let fake = FakeServer::start(FakeConfig {
        refuse_creates: Some(Refusal {
            status: 429,
            code: "Throttling.AllocationQuota".into(),
            message: "Free allocated quota exceeded.".into(),
        }),
        ..fast_fake()
    })
    .await
    .expect("fake");
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("Free allocated quota exceeded"), "{stderr}");
    assert!(fake.stats().throttled <= 2, "stopped at once: {:?}", fake.stats());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_the_service_echoes_back_is_never_printed_or_written() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 2, "@man fights");
    let fake = FakeServer::start(FakeConfig { echo_auth: true, ..fast_fake() }).await.expect("fake");
    let canary = "sk-canary-0d5e9c1f";
    let out = pixbatch(&fake, canary).arg("run").arg(&manifest).arg("--json").output().await.expect("runs");
    assert_eq!(out.status.code(), Some(3));
    let said = [out.stdout.clone(), out.stderr.clone()].concat();
    assert!(String::from_utf8_lossy(&out.stderr).contains("Authorization"), "the echo happened");
    assert!(!String::from_utf8_lossy(&said).contains(canary), "{}", String::from_utf8_lossy(&said));
    for entry in walkdir(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(!String::from_utf8_lossy(&bytes).contains(canary), "{} holds the key", entry.display());
    }
}

fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() { files.extend(walkdir(&p)) } else { files.push(p) }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_shot_keeps_its_videos_and_results_point_at_real_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 2, "@man fights");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    std::fs::write(&manifest, text.replace("id: fight", "id: brawl")).expect("rename");
    let submitted = fake.stats().submissions;
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(fake.stats().submissions, submitted, "a rename renders nothing");
    assert!(stderr.contains("moved"), "{stderr}");
    assert!(dir.path().join("out/brawl/seed-1.mp4").exists());
    assert_eq!(verify_outputs(&manifest), 4);
    let mut rows = csv::Reader::from_path(dir.path().join("out/results.csv")).expect("csv");
    let headers = rows.headers().expect("headers").clone();
    let (state, output) = (
        headers.iter().position(|h| h == "state").expect("state"),
        headers.iter().position(|h| h == "output").expect("output"),
    );
    for row in rows.records() {
        let row = row.expect("row");
        assert_eq!(&row[state], "done");
        assert!(dir.path().join("out").join(&row[output]).exists(), "{:?}", row);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn videos_in_place_without_a_ledger_are_not_rendered_again_silently() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 2, "@man fights");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    std::fs::remove_dir_all(dir.path().join("out/.pixbatch")).expect("rm .pixbatch");
    let submitted = fake.stats().submissions;
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("--overwrite") && stderr.contains("ledger does not know"), "{stderr}");
    assert_eq!(fake.stats().submissions, submitted, "nothing paid again without asking");
    let (code, stderr) = run_to_end(&fake, &manifest, &["--overwrite"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(fake.stats().submissions, submitted + 4);
    assert_eq!(verify_outputs(&manifest), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_run_through_a_symlink_writes_beside_the_real_file() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir(dir.path().join("real")).expect("mkdir");
    let manifest = two_family_manifest(&dir.path().join("real"), 1, "@man fights");
    let link = dir.path().join("link.yaml");
    std::os::unix::fs::symlink(&manifest, &link).expect("symlink");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    let submitted = fake.stats().submissions;
    let (code, stderr) = run_to_end(&fake, &link, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(fake.stats().submissions, submitted, "the same ledger, nothing rendered again");
    assert!(!dir.path().join("out").exists(), "no second output folder beside the link");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doubt_left_undecided_keeps_its_twins_unsent_until_the_next_run_decides_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = dir.path().join("m.yaml");
    let text = "version: 1\noutput: out\ndefaults: {size: \"640*360\", duration: 5}\nrefs: {man: https://example.com/man.jpg}\nshots:\n  - id: fight\n    model: pixverse/pixverse-c1-r2v\n    prompt: \"@man fights\"\n    matrix: {seed: [1, 2, 3]}\n";
    std::fs::write(&manifest, text).expect("write");
    let fake = FakeServer::start(FakeConfig {
        run_time: DurationRange::fixed(Duration::from_millis(1500)),
        faults: Faults { lost_create_answer: 1.0, ..Faults::default() },
        ..fast_fake()
    })
    .await
    .expect("fake");
    // This run stops waiting for the doubt long before its candidate finishes.
    let impatient = pixbatch::run::RunOptions { task_timeout: Duration::from_millis(200), ..fast_options() };
    let s = run(&manifest, &fake, &impatient).await;
    assert_eq!((s.counts.done, s.counts.failed), (0, 3), "{s:?}");
    assert_eq!(fake.stats().submissions, 1, "the twins of an undecided doubt are never sent");
    // The next run decides it on evidence and renders the rest.
    fake.set_faults(Faults::default());
    let s = run(&manifest, &fake, &fast_options()).await;
    assert_eq!((s.counts.done, s.counts.failed), (3, 0), "{s:?}");
    assert_eq!(assert_own_videos(&manifest, &[&fake]), 3);
    assert_eq!(fake.stats().bodies_paid_twice, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_clock_seconds_ahead_of_ours_is_learnt_and_nothing_is_paid_twice() {
    // The service's clock is 5 s ahead of ours: a window of ±2 s around a call that got no
    // answer would miss its task and pay for the job again. The run's answered creates show
    // the offset, and the window follows it.
    // Which creates lose their answer depends on the order requests reach the fake, so one
    // seed may drop none; across the three runs (54 creates at 0.3) all do with p < 1e-8.
    let mut dropped = 0;
    for seed in 1..=3 {
        let dir = tempfile::tempdir().expect("tmp");
        let shots: String = ["c1-r2v", "v5.6-r2v"]
            .iter()
            .flat_map(|model| {
                (1..=3).map(move |i| {
                    format!("  - {{id: s{i}-{model}, model: pixverse/pixverse-{model}, prompt: \"@man scene {i}\", matrix: {{seed: [1, 2, 3]}}}}\n")
                })
            })
            .collect();
        let manifest = small_manifest(dir.path(), "m.yaml", None, &shots);
        let fake = FakeServer::start(FakeConfig {
            seed,
            clock_ahead: jiff::SignedDuration::from_secs(5),
            faults: Faults { lost_create_answer: 0.3, ..Faults::default() },
            ..fast_fake()
        })
        .await
        .expect("fake");
        let s = run(&manifest, &fake, &fast_options()).await;
        assert_eq!((s.counts.done, s.counts.failed), (18, 0), "seed {seed}: {s:?}");
        assert_eq!(assert_own_videos(&manifest, &[&fake]), 18);
        let stats = fake.stats();
        assert_eq!((stats.bodies_paid_twice, stats.duplicate_submissions), (0, 0), "seed {seed}: {stats:?}");
        dropped += stats.dropped;
    }
    assert!(dropped > 0, "the test exercised nothing: no create lost its answer in three runs");
}
