//! What it cost (DESIGN.md § Money): `pixbatch spend` against the results of real runs, while
//! tasks are in flight, as a CI gate, across a price change, and `run.budget` across runs, one
//! of them killed.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use pixbatch::fake::{DurationRange, FakeConfig, FakeServer, Faults};

/// `pixbatch spend --format json` of `manifests`.
async fn spend(fake: &FakeServer, manifests: &[&Path], extra: &[&str]) -> (i32, serde_json::Value) {
    let out = pixbatch(fake, "sk-test")
        .arg("spend")
        .args(manifests)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .await
        .expect("runs");
    let doc =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), doc)
}

/// The sum of `cost_cny` over a results.json.
fn results_cost(output: &Path) -> f64 {
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(output.join("results.json")).expect("results.json")).expect("json");
    doc["jobs"].as_array().expect("rows").iter().filter_map(|r| r["cost_cny"].as_f64()).sum()
}

fn cents(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

/// c1 at 640*360 (360P, ¥0.18/s silent) for 5 s: ¥0.90 a job; `seeds` jobs.
fn manifest(dir: &Path, name: &str, seeds: usize, run: &str) -> PathBuf {
    let seeds: Vec<String> = (1..=seeds).map(|s| s.to_string()).collect();
    let text = format!(
        "version: 1\noutput: {name}\n{run}refs: {{man: https://example.com/man.jpg}}\nshots:\n  - {{id: fight, model: pixverse/pixverse-c1-r2v, prompt: \"@man fights\", size: \"640*360\", duration: 5, matrix: {{seed: [{}]}}}}\n",
        seeds.join(", ")
    );
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text).expect("write");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spend_is_the_sum_of_the_results_costs_over_runs_and_a_retry() {
    let dir = tempfile::tempdir().expect("tmp");
    let fake = FakeServer::start(FakeConfig {
        faults: Faults { task_failed: 0.3, ..Faults::default() },
        seed: 4,
        ..fast_fake()
    })
    .await
    .expect("fake");
    let m = manifest(dir.path(), "a", 6, "");
    let (code, stderr) = run_to_end(&fake, &m, &[]).await;
    assert_eq!(code, 1, "some fail: {stderr}");
    // A second run (more seeds), then --retry-failed.
    let m = manifest(dir.path(), "a", 9, "");
    run_to_end(&fake, &m, &[]).await;
    fake.set_faults(Faults::default());
    let (code, stderr) = run_to_end(&fake, &m, &["--retry-failed"]).await;
    assert_eq!(code, 0, "{stderr}");

    let (code, doc) = spend(&fake, &[&m], &["--by", "run"]).await;
    assert_eq!(code, 0);
    let billed = doc["total"]["billed_cny"].as_f64().expect("billed");
    assert_eq!(cents(billed), cents(results_cost(&dir.path().join("a"))), "{doc}");
    assert_eq!(cents(billed), 9 * 90, "nine jobs billed once each: {doc}");
    assert!(doc["total"]["free_tasks"].as_u64() > Some(0), "the failed tasks are free: {doc}");
    assert_eq!(doc["rows"].as_array().map(Vec::len), Some(3), "three runs: {doc}");
    assert_eq!(doc["total"]["committed_cny"].as_f64(), Some(0.0));
    assert_eq!(doc["left_jobs"].as_u64(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_in_flight_is_committed_at_its_estimate_and_check_gates_on_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let fake = FakeServer::start(FakeConfig { run_time: DurationRange::fixed(Duration::from_secs(30)), ..fast_fake() })
        .await
        .expect("fake");
    let m = manifest(dir.path(), "b", 2, "");
    let mut child = pixbatch(&fake, "sk-test").arg("run").arg(&m).args(FAST).spawn().expect("spawn");
    until_submitted(&fake, 2).await;
    // The intents are in the journal before the creates are sent; wait for both answers.
    let mut doc = serde_json::Value::Null;
    for _ in 0..400 {
        doc = spend(&fake, &[&m], &[]).await.1;
        if doc["total"]["committed_tasks"].as_u64() == Some(2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(doc["total"]["committed_cny"].as_f64(), Some(1.8), "{doc}");
    assert_eq!(doc["total"]["billed_cny"].as_f64(), Some(0.0));
    // The gate: ¥1.80 committed is over ¥1.50, not over ¥2.
    assert_eq!(spend(&fake, &[&m], &["--check", "1.5"]).await.0, pixbatch::exit::BUDGET);
    assert_eq!(spend(&fake, &[&m], &["--check", "2"]).await.0, 0);
    child.start_kill().expect("kill");
    child.wait().await.expect("reaped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_price_change_moves_the_estimates_not_the_billed_history() {
    let dir = tempfile::tempdir().expect("tmp");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let m = manifest(dir.path(), "c", 2, "");
    assert_eq!(run_to_end(&fake, &m, &[]).await.0, 0);
    // The price table changes: c1 360P is now ¥1 a second, and one more seed is asked for.
    let m = manifest(dir.path(), "c", 3, "run: {prices: {pixverse/pixverse-c1-r2v: {360P: 1.0}}}\n");
    let (_, doc) = spend(&fake, &[&m], &[]).await;
    assert_eq!(doc["total"]["billed_cny"].as_f64(), Some(1.8), "history at the old price: {doc}");
    assert_eq!(doc["left_cny"].as_f64(), Some(5.0), "the rest at the new price: {doc}");
    assert_eq!(run_to_end(&fake, &m, &[]).await.0, 0);
    let (_, doc) = spend(&fake, &[&m], &[]).await;
    assert_eq!(doc["total"]["billed_cny"].as_f64(), Some(6.8), "2 × ¥0.90, then 1 × ¥5: {doc}");
    assert_eq!(doc["total"]["priced_by_manifest"].as_u64(), Some(1));
    assert_eq!(doc["total"]["drift_cny"].as_f64(), Some(0.0), "each billed at its own estimate: {doc}");
    assert_eq!(cents(results_cost(&dir.path().join("c"))), 680);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_budget_holds_across_three_runs_one_killed() {
    let dir = tempfile::tempdir().expect("tmp");
    let fake =
        FakeServer::start(FakeConfig { run_time: DurationRange::fixed(Duration::from_millis(600)), ..fast_fake() })
            .await
            .expect("fake");
    // ¥0.90 a job; a budget of ¥6.50 pays for 7 jobs of the 12, over every run.
    let budget = "run: {budget: 6.5}\n";
    let m = manifest(dir.path(), "d", 3, budget);
    assert_eq!(run_to_end(&fake, &m, &[]).await.0, 0, "3 jobs, ¥2.70");
    // The second run is killed with tasks on the service: they stay committed.
    let m = manifest(dir.path(), "d", 5, budget);
    let mut child = pixbatch(&fake, "sk-test").arg("run").arg(&m).args(FAST).spawn().expect("spawn");
    until_submitted(&fake, 5).await;
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("reaped");
    let (_, doc) = spend(&fake, &[&m], &[]).await;
    let spent = doc["spent_cny"].as_f64().expect("spent");
    assert_eq!(cents(spent), 450, "3 billed and 2 committed (or billed): {doc}");
    // The third run asks for 12: it resumes the two, and submits only what the budget leaves.
    let m = manifest(dir.path(), "d", 12, budget);
    let (code, stderr) = run_to_end(&fake, &m, &[]).await;
    assert_eq!(code, pixbatch::exit::BUDGET, "{stderr}");
    assert!(stderr.contains("run.budget is ¥6.50"), "{stderr}");
    assert!(stderr.contains("run of "), "says what each earlier run spent: {stderr}");
    let (_, doc) = spend(&fake, &[&m], &[]).await;
    assert_eq!(doc["total"]["committed_cny"].as_f64(), Some(0.0), "{doc}");
    assert_eq!(cents(doc["total"]["billed_cny"].as_f64().expect("billed")), 7 * 90, "exactly 7 fit: {doc}");
    assert_eq!(fake.stats().submissions, 7);
    assert_eq!(fake.stats().duplicate_submissions, 0);
    // The killed run's two tasks were billed by the third, and their bills say whose they were.
    let ledger = pixbatch::ledger::Ledger::load(&dir.path().join("d")).expect("ledger");
    let inherited = ledger.records.values().filter_map(|r| r.billed.as_ref()?.inherited_from).count();
    assert_eq!(inherited, 2);
    let plan = pixbatch(&fake, "sk-test").arg("plan").arg(&m).output().await.expect("plan");
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(text.contains("run.budget ¥6.50: ¥6.30 spent over every run, ¥0.20 left"), "{text}");
    // The contact sheet shows the same money: billed against estimated, and the budget left.
    let sheet = std::fs::read_to_string(dir.path().join("d/review.html")).expect("review.html");
    assert!(sheet.contains("billed ¥6.30 of ¥10.80 estimated for this manifest"), "total");
    assert!(sheet.contains("run.budget ¥6.50: ¥6.30 spent over every run, <b>¥0.20 left</b>"), "budget");
    assert!(sheet.contains("est. ¥0.90"), "a take not rendered shows its estimate");
}

/// A video lost and rendered again was paid twice: `run.budget` counts both bills (the first is
/// in the record's past attempts), so the next job no longer fits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_budget_counts_a_render_that_was_lost_and_paid_again() {
    let dir = tempfile::tempdir().expect("tmp");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    // ¥0.90 a job; ¥2.00 pays for two renders, not three.
    let budget = "run: {budget: 2.0}\n";
    let m = manifest(dir.path(), "e", 1, budget);
    assert_eq!(run_to_end(&fake, &m, &[]).await.0, 0);
    std::fs::remove_file(dir.path().join("e/fight/seed-1.mp4")).expect("lose the video");
    fake.expire_urls();
    let (code, stderr) = run_to_end(&fake, &m, &[]).await;
    assert_eq!(code, 1, "the URL no longer works: {stderr}");
    let (code, stderr) = run_to_end(&fake, &m, &["--retry-failed"]).await;
    assert_eq!(code, 0, "rendered again: {stderr}");
    let (_, doc) = spend(&fake, &[&m], &[]).await;
    assert_eq!(doc["total"]["billed_cny"].as_f64(), Some(1.8), "both renders were billed: {doc}");
    let m = manifest(dir.path(), "e", 2, budget);
    let (code, stderr) = run_to_end(&fake, &m, &[]).await;
    assert_eq!(code, pixbatch::exit::BUDGET, "¥1.80 spent + ¥0.90 is over ¥2.00: {stderr}");
    assert_eq!(fake.stats().submissions, 2);
}
