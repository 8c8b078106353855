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

async fn crash_loop(per_shot: usize, kills: usize) {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), per_shot, "@man fights");
    // Some creates get no answer too, so crashes land while an intent is in doubt.
    let fake =
        FakeServer::start(FakeConfig { faults: Faults { drop_after: 0.03, ..Faults::default() }, ..fast_fake() })
            .await
            .expect("fake");
    let jobs = (2 * per_shot) as u64;
    let mut rng = rand::rngs::SmallRng::seed_from_u64(2026);
    for _ in 0..kills {
        let already = fake.stats().submissions;
        if already >= jobs {
            break;
        }
        let at = rng.random_range(already + 1..=(already + jobs / kills as u64).min(jobs));
        let mut child = pixbatch(&fake, "sk-test").arg("run").arg(&manifest).args(FAST).spawn().expect("spawn");
        tokio::select! {
            () = until_submitted(&fake, at) => {
                child.start_kill().expect("SIGKILL");
            }
            _ = child.wait() => {}
        }
        child.wait().await.expect("reaped");
    }
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(verify_outputs(&manifest), jobs as usize);
    let stats = fake.stats();
    assert_eq!(stats.duplicate_submissions, 0, "{stats:?}");
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
