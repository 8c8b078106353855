//! The fault and crash suite. Each test has a short version that CI runs and a full one
//! (`cargo test --release --test suite -- --ignored`) at the sizes issue 6 names.

mod common;

use common::*;
use pixbatch::fake::{FakeConfig, FakeServer, Faults};
use pixbatch::ledger::{Ledger, Phase};
use rand::{Rng, SeedableRng};

async fn soak(per_shot: usize) {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), per_shot, "@man fights");
    let faults = Faults {
        throttle: 0.10,
        server_error: 0.05,
        drop_before: 0.01,
        drop_after: 0.01,
        task_failed: 0.05,
        truncated_download: 0.05,
        ..Faults::default()
    };
    let fake = FakeServer::start(FakeConfig { faults: faults.clone(), seed: 11, ..fast_fake() }).await.expect("fake");
    let s = run(&manifest, &fake, &fast_options()).await;
    let jobs = 2 * per_shot;
    assert_eq!(s.counts.done + s.counts.failed, jobs, "{s:?}");
    let expansion = expand(&manifest);
    let ledger = Ledger::load(&expansion.output_dir).expect("ledger");
    for job in &expansion.jobs {
        let r = &ledger.records[&job.key];
        assert!(
            r.phase == Phase::Downloaded || (r.phase == Phase::Failed && r.error_code.is_some()),
            "{}: {:?} {:?}",
            job.name(),
            r.phase,
            r.error_code
        );
    }
    assert_eq!(fake.stats().duplicate_submissions, 0, "{:?}", fake.stats());
    // The rest, with the network still faulty but no task failing on its own.
    fake.set_faults(Faults { task_failed: 0.0, ..faults });
    let options = pixbatch::run::RunOptions { retry_failed: true, ..fast_options() };
    let last = run(&manifest, &fake, &options).await;
    assert_eq!(last.counts.failed, 0, "{last:?}");
    assert_eq!(verify_outputs(&manifest), jobs);
    assert_eq!(fake.stats().duplicate_submissions, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_short() {
    soak(50).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full size: run with --ignored"]
async fn soak_500_jobs() {
    soak(250).await;
}

/// How far the work has got, as the fake sees it: creates accepted plus downloads started.
fn progress(stats: &pixbatch::fake::Stats) -> u64 {
    stats.submissions + stats.downloads
}

async fn crash_loop(per_shot: usize, kills: usize) {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), per_shot, "@man fights");
    // Some creates get no answer too, so crashes land while an intent is in doubt; and other
    // clients of the account create tasks, some of them copies of ours with one change.
    let fake = FakeServer::start(FakeConfig {
        faults: Faults { drop_after: 0.03, lost_create_answer: 0.03, ..Faults::default() },
        neighbours: pixbatch::fake::Neighbours { per_second: 4.0, similar: 0.5, echo_seed: false },
        ..fast_fake()
    })
    .await
    .expect("fake");
    let jobs = (2 * per_shot) as u64;
    // The kill moments, seeded, spread over the whole run: while submitting, polling and
    // downloading (each job is one create and one download).
    let mut rng = rand::rngs::SmallRng::seed_from_u64(2026);
    let step = 2 * jobs / (kills as u64 + 1);
    let mut killed = 0;
    for k in 0..kills as u64 {
        let at = rng.random_range(k * step + 1..=(k + 1) * step).max(progress(&fake.stats()) + 1);
        let what = format!("{at} creates and downloads");
        let mut child = pixbatch(&fake, "sk-test").arg("run").arg(&manifest).args(FAST).spawn().expect("spawn");
        tokio::select! {
            () = until_stats(&fake, &what, |s| progress(s) >= at) => {
                child.start_kill().expect("SIGKILL");
                killed += 1;
            }
            _ = child.wait() => {}
        }
        child.wait().await.expect("reaped");
    }
    assert_eq!(killed, kills, "every run was killed before it could finish");
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(verify_outputs(&manifest), jobs as usize);
    assert_eq!(assert_own_videos(&manifest, &[&fake]), jobs as usize);
    let leftovers: Vec<_> = walk(dir.path())
        .iter()
        .flat_map(|d| std::fs::read_dir(d).expect("read_dir").flatten())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".pixbatch-"))
        .map(|e| e.path())
        .collect();
    assert!(leftovers.is_empty(), "partial downloads of killed runs are cleaned up: {leftovers:?}");
    let stats = fake.stats();
    assert_eq!((stats.duplicate_submissions, stats.bodies_paid_twice), (0, 0), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_loop_short() {
    crash_loop(30, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full size: run with --ignored"]
async fn crash_loop_200_jobs_10_kills() {
    crash_loop(100, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_output_folder_vanishing_mid_run_stops_it_clearly_and_the_next_run_continues() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 20, "@man fights");
    let fake = FakeServer::start(FakeConfig {
        run_time: pixbatch::fake::DurationRange::fixed(std::time::Duration::from_millis(300)),
        ..fast_fake()
    })
    .await
    .expect("fake");
    let child = pixbatch(&fake, "sk-test").arg("run").arg(&manifest).args(FAST).spawn().expect("spawn");
    until_submitted(&fake, 10).await;
    std::fs::remove_dir_all(dir.path().join("out")).expect("rm -rf out");
    let out = child.wait_with_output().await.expect("exits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("vanished") && stderr.contains("rebuilt"), "{stderr}");
    // The rebuilt ledger knows every task: nothing is paid for twice.
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(verify_outputs(&manifest), 40);
    assert_eq!(fake.stats().duplicate_submissions, 0, "{:?}", fake.stats());
}

/// Whether the tests run as root, which ignores file permissions.
fn running_as_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|v| v.split_whitespace().next()) == Some("0")
}

/// `pixbatch` as a user the permissions apply to: `nobody` when the tests run as root.
fn unprivileged(fake: &FakeServer) -> tokio::process::Command {
    let mut cmd = pixbatch(fake, "sk-test");
    if running_as_root() {
        cmd.uid(65534).gid(65534);
    }
    cmd
}

/// Sets `dir` and every folder below it to `mode` (files keep theirs).
fn chmod_folders(dir: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    for entry in walk(dir) {
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(walk(&entry.path()));
        }
    }
    out
}

/// A folder that `nobody` may work in, holding a two-family manifest.
fn shared_folder(per_shot: usize, prompt: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tmp");
    chmod_folders(dir.path(), 0o777);
    let manifest = two_family_manifest(dir.path(), per_shot, prompt);
    (dir, manifest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_output_folder_is_refused_before_anything_is_sent() {
    let (dir, manifest) = shared_folder(3, "@man fights");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let out = unprivileged(&fake).arg("run").arg(&manifest).args(FAST).output().await.expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    // New work, and a folder that can no longer be written.
    let manifest = two_family_manifest(dir.path(), 3, "@man dances");
    chmod_folders(&dir.path().join("out"), 0o555);
    fake.reset_stats();
    let out = unprivileged(&fake).arg("run").arg(&manifest).args(FAST).output().await.expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Permission denied") && stderr.contains("out"), "{stderr}");
    assert!(stderr.contains("writable"), "says what to fix: {stderr}");
    assert_eq!(fake.stats().api_requests(), 0, "nothing was paid for that could not be saved");

    // The ledger still reads: status shows the new jobs as new and the old ones as orphaned.
    let out = unprivileged(&fake).arg("status").arg(&manifest).output().await.expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("orphaned") && stdout.contains("new"), "{stdout}");

    // Writable again: the next run does the new work.
    chmod_folders(&dir.path().join("out"), 0o777);
    let out = unprivileged(&fake).arg("run").arg(&manifest).args(FAST).output().await.expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(verify_outputs(&manifest), 6);
    assert_eq!(fake.stats().duplicate_submissions, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_output_folder_turning_read_only_mid_run_stops_it_clearly_and_the_next_run_continues() {
    let (dir, manifest) = shared_folder(20, "@man fights");
    let fake = FakeServer::start(FakeConfig {
        run_time: pixbatch::fake::DurationRange::fixed(std::time::Duration::from_millis(300)),
        ..fast_fake()
    })
    .await
    .expect("fake");
    let child = unprivileged(&fake).arg("run").arg(&manifest).args(FAST).spawn().expect("spawn");
    until_submitted(&fake, 10).await;
    chmod_folders(&dir.path().join("out"), 0o555);
    let out = child.wait_with_output().await.expect("exits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot write") && stderr.contains("Permission denied"), "{stderr}");
    let submitted = fake.stats().submissions;
    assert!(submitted < 40, "it stopped submitting: {submitted}");

    // Every task it paid for is in the ledger, which still reads.
    let expansion = expand(&manifest);
    let ledger = Ledger::load(&expansion.output_dir).expect("the ledger reads");
    let with_task = ledger.records.values().filter(|r| r.task_id.is_some()).count();
    assert_eq!(with_task as u64, submitted, "every task the service made is recorded");

    chmod_folders(&dir.path().join("out"), 0o777);
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(verify_outputs(&manifest), 40);
    assert_eq!(fake.stats().duplicate_submissions, 0, "{:?}", fake.stats());
    assert_eq!(fake.stats().submissions, 40, "the tasks of the stopped run were fetched, not made again");
}

/// Every file and folder under `dir`, with its size (folders 0).
fn tree(dir: &std::path::Path) -> Vec<(std::path::PathBuf, u64)> {
    let mut out = Vec::new();
    for folder in walk(dir) {
        for entry in std::fs::read_dir(&folder).expect("read_dir").flatten() {
            let size = entry.metadata().map_or(0, |m| if m.is_dir() { 0 } else { m.len() });
            out.push((entry.path(), size));
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_manifest_is_refused_by_run_with_nothing_sent_and_nothing_written() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    // A copy in a folder of its own, so that any file a run would write shows.
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path().join("project");
    std::fs::create_dir(&work).expect("mkdir");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&corpus).expect("tests/bad").flatten() {
        std::fs::copy(entry.path(), work.join(entry.file_name())).expect("copy");
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    assert!(names.len() >= 40, "the corpus has {} files", names.len());
    let before = tree(dir.path());
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    for name in &names {
        let out = pixbatch(&fake, "sk-test").current_dir(&work).args(["run", name]).output().await.expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(&format!("{name}:")), "{name}: the message names the file: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
    let stats = fake.stats();
    assert_eq!((stats.api_requests(), stats.policies, stats.uploads, stats.downloads), (0, 0, 0, 0), "{stats:?}");
    assert_eq!(tree(dir.path()), before, "a refused manifest wrote nothing, inside or outside its output folder");
}
