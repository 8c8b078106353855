//! `examples/models.yaml` against the fake: one shot across five model families as a `model`
//! axis and a PixVerse first/last-frame transition. Every job is done, no pool runs more than
//! the service's cap for it, and what the service billed is what the plan estimated.

mod common;

use std::path::Path;

use common::{expand, fast_fake, fast_options, run};
use pixbatch::catalog::Family;
use pixbatch::fake::FakeServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_families_and_a_kf2v_join_render_within_their_pools_at_the_estimated_cost() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = dir.path().join("models.yaml");
    std::fs::copy(root.join("examples/models.yaml"), &manifest).expect("copy");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");

    let summary = run(&manifest, &fake, &fast_options()).await;
    assert_eq!((summary.counts.done, summary.counts.failed), (8, 0), "{summary:?}");
    assert!(summary.stop.is_none(), "{summary:?}");

    let stats = fake.stats();
    assert_eq!(stats.submissions, 8);
    // c1 (r2v and kf2v share it), wan2.7-r2v, happyhorse-1.0-r2v, kling, vidu.
    let pools: Vec<&str> = stats.peak_running.keys().map(String::as_str).collect();
    assert_eq!(pools, ["c1", "happyhorse-1.0-r2v", "kling", "vidu", "wan2.7-r2v"]);
    for (pool, peak) in &stats.peak_running {
        let cap = Family::from_name(pool).service_slots().expect("a catalog pool");
        assert!(*peak <= cap, "{pool}: {peak} running, the service runs {cap}");
    }

    // Billed (the service's usage × the catalog's price) equals the plan's estimate, job by job.
    let jobs = expand(&manifest).jobs;
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("renders/models/results.json")).expect("results.json"))
            .expect("json");
    let rows = results["jobs"].as_array().expect("rows");
    assert_eq!(rows.len(), jobs.len());
    for job in &jobs {
        let row = rows.iter().find(|r| r["key"] == job.key.as_str()).expect("a row per job");
        let estimate = pixbatch::plan::estimate_cost(job).map(pixbatch::catalog::round_cents).expect("priced");
        assert_eq!(row["cost_cny"].as_f64(), Some(estimate), "{}: billed {row} vs estimated {estimate}", job.name());
        assert_eq!(row["state"], "done", "{}", job.name());
    }
    assert_eq!(common::verify_outputs(&manifest), 8);
}
