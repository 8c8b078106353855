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

    // The contact sheet lays the duel out model by model: one column each, in manifest order.
    let sheet = std::fs::read_to_string(dir.path().join("renders/models/review.html")).expect("review.html");
    let compare = sheet.split("<table class=\"compare\">").nth(1).expect("a comparison table");
    let header = compare.split("</tr>").next().unwrap_or_default();
    let columns: Vec<&str> = header.split("<th>").skip(2).map(|c| c.split('<').next().unwrap_or_default()).collect();
    assert_eq!(
        columns,
        ["c1-r2v", "wan2.7-r2v", "happyhorse-1.0-r2v", "v3-omni-video-generation", "viduq3_reference2video"]
    );
    assert_eq!(sheet.matches("<table class=\"compare\">").count(), 1, "only the duel compares models");
}

/// Wan r2v bills its reference videos' seconds too (at most 5 s in all): the estimate reads a
/// local video's length from its MP4 header and counts 5 s for a URL, and the service bills
/// the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wan_r2v_reference_video_seconds_are_estimated_as_billed() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // A one-second MP4.
    std::fs::copy(root.join("src/fake/sample.mp4"), dir.path().join("walk.mp4")).expect("copy");
    let manifest = dir.path().join("wan.yaml");
    let shot = |id: &str, prompt: &str| {
        format!(
            "  - {{id: {id}, model: wan2.7-r2v, prompt: '{prompt}', resolution: 720P, ratio: '16:9', duration: 5}}\n"
        )
    };
    let text = format!(
        "version: 1\noutput: out\nrefs:\n  hero: https://example.com/hero.png\n  walk: ./walk.mp4\n  dance: {{url: https://example.com/dance.mp4, kind: video}}\nshots:\n{}{}{}",
        shot("local", "@hero walks like @walk"),
        shot("url", "@hero dances like @dance"),
        shot("two", "@hero dances like @dance and @walk"),
    );
    std::fs::write(&manifest, text).expect("write");
    let jobs = expand(&manifest).jobs;
    let estimate: Vec<Option<f64>> =
        jobs.iter().map(|j| pixbatch::plan::estimate_cost(j).map(pixbatch::catalog::round_cents)).collect();
    // 720P is 0.6/s: 5 s out + 1 s of the local video; + 5 s for the URL; both together capped at 5.
    assert_eq!(estimate, [Some(3.6), Some(6.0), Some(6.0)]);

    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let summary = run(&manifest, &fake, &fast_options()).await;
    assert_eq!(summary.counts.done, 3, "{summary:?}");
    assert_eq!(summary.billed_seconds, 6.0 + 10.0 + 10.0, "{summary:?}");
    assert_eq!(pixbatch::catalog::round_cents(summary.cost_cny), 3.6 + 6.0 + 6.0);
}

/// A budget holds across models of different prices: what is billed never passes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_holds_across_mixed_models() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = dir.path().join("models.yaml");
    std::fs::copy(root.join("examples/models.yaml"), &manifest).expect("copy");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let options = pixbatch::run::RunOptions { max_cost: Some(10.0), ..fast_options() };
    let summary = run(&manifest, &fake, &options).await;
    assert!(summary.cost_cny <= 10.0, "{summary:?}");
    assert!(summary.counts.done >= 2 && summary.counts.done < 8, "{summary:?}");
    assert_eq!(fake.stats().submissions as usize, summary.counts.done, "nothing sent past the budget");
}

/// A create whose answer is lost is found again on the list API for every family, even where
/// the service's answers do not echo the request (a Vidu output size, Wan's `duration` with its
/// reference video's seconds): nothing is paid twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_create_answers_are_reconciled_for_every_family() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = dir.path().join("models.yaml");
    let text = std::fs::read_to_string(root.join("examples/models.yaml")).expect("models.yaml");
    // Add a Wan r2v shot with a reference video (billed 5 s on top of its 5 s).
    let text = text.replace("refs:\n", "refs:\n  dance: { url: https://example.com/dance.mp4, kind: video }\n")
        + "  - id: dance\n    model: wan2.7-r2v\n    prompt: \"@hero dances like @dance\"\n";
    std::fs::write(&manifest, text).expect("write");
    let mut dropped = 0;
    for seed in [1, 2, 3] {
        let _ = std::fs::remove_dir_all(dir.path().join("renders"));
        let faults = pixbatch::fake::Faults { lost_create_answer: 0.4, ..Default::default() };
        let fake = FakeServer::start(pixbatch::fake::FakeConfig { faults, seed, ..fast_fake() }).await.expect("fake");
        let summary = run(&manifest, &fake, &fast_options()).await;
        let stats = fake.stats();
        assert_eq!(summary.counts.done, 9, "seed {seed}: {summary:?}");
        assert_eq!((stats.duplicate_submissions, stats.bodies_paid_twice), (0, 0), "seed {seed}: {stats:?}");
        dropped += stats.dropped;
    }
    assert!(dropped > 0, "no create lost its answer: the test exercised nothing");
}

/// `run.concurrency` names pools; a key that names none is a warning that says which it meant.
#[test]
fn a_concurrency_key_that_is_no_pool_is_a_warning() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("examples/models.yaml")).expect("models.yaml")
        + "run:\n  concurrency: { klng: 3, c1: 2 }\n";
    let manifest = dir.path().join("models.yaml");
    std::fs::write(&manifest, text).expect("write");
    let loaded = pixbatch::manifest::load(&manifest).expect("loads");
    let expansion = pixbatch::plan::expand(&loaded, &Default::default()).expect("a warning is no error");
    let warnings = expansion.warnings.render(false);
    assert!(warnings.contains("`klng` is not a pool") && warnings.contains("did you mean `kling`?"), "{warnings}");
    assert!(!warnings.contains("`c1`"), "{warnings}");
}

/// Without `run.concurrency`, each pool is filled to the service's own cap: Kling's 10.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kling_pool_is_filled_to_ten() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = dir.path().join("kling.yaml");
    std::fs::write(
        &manifest,
        "version: 1\noutput: out\ndefaults: {model: kling/kling-v3-video-generation, resolution: 720P, ratio: '16:9', duration: 5}\nshots:\n  - id: k\n    prompt: a rooftop duel, take {{n}}\n    matrix: {n: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]}\n",
    )
    .expect("write");
    let fake = FakeServer::start(pixbatch::fake::FakeConfig {
        run_time: pixbatch::fake::DurationRange::fixed(std::time::Duration::from_millis(600)),
        ..fast_fake()
    })
    .await
    .expect("fake");
    let summary = run(&manifest, &fake, &fast_options()).await;
    assert_eq!(summary.counts.done, 14, "{summary:?}");
    assert_eq!(fake.stats().peak_running.get("kling"), Some(&10), "{:?}", fake.stats());
}

/// Media in roles beyond reference and frames: a clip to continue and driving audio go where
/// each model reads them, and a role the model lacks is a located error.
#[test]
fn media_roles_go_where_each_model_reads_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = dir.path().join("roles.yaml");
    let write = |shots: &str| {
        std::fs::write(
            &manifest,
            format!(
                "version: 1\noutput: out\ndefaults: {{resolution: 720P, duration: 5}}\nrefs:\n  clip: {{url: https://example.com/clip.mp4, kind: video}}\n  end: https://example.com/end.png\n  song: {{url: https://example.com/song.mp3}}\n  hero: https://example.com/hero.png\nshots:\n{shots}"
            ),
        )
        .expect("write");
    };
    write(
        "  - {id: go-on, model: wan2.7-i2v, prompt: the walk goes on, media: [{ref: clip, as: first_clip}], last_frame: end}\n  - {id: sing, model: wan2.7-t2v, ratio: '16:9', prompt: a singer on a stage, media: [{ref: song, as: driving_audio}]}\n",
    );
    let loaded = pixbatch::manifest::load(&manifest).expect("loads");
    let jobs = pixbatch::plan::expand(&loaded, &Default::default()).expect("expands").jobs;
    let go_on = jobs[0].request_body();
    assert_eq!(
        go_on["input"]["media"],
        serde_json::json!([
            {"type": "last_frame", "url": "https://example.com/end.png"},
            {"type": "first_clip", "url": "https://example.com/clip.mp4"},
        ])
    );
    let sing = jobs[1].request_body();
    assert_eq!(sing["input"]["audio_url"], "https://example.com/song.mp3", "{sing}");
    assert!(sing["input"]["media"].is_null(), "{sing}");

    write(
        "  - {id: r, model: pixverse/pixverse-c1-r2v, size: '1280*720', prompt: '@hero runs ', media: [hero, {ref: clip, as: first_clip}]}\n",
    );
    let loaded = pixbatch::manifest::load(&manifest).expect("loads");
    let err =
        pixbatch::plan::expand(&loaded, &Default::default()).expect_err("c1 has no clip to continue").render(false);
    assert!(err.contains("roles.yaml:") && err.contains("pixverse/pixverse-c1-r2v has no `first_clip`"), "{err}");
    write("  - {id: r, model: wan2.7-i2v, prompt: x, media: [{ref: clip, as: first_clips}]}\n");
    let loaded = pixbatch::manifest::load(&manifest).expect("loads");
    let err = pixbatch::plan::expand(&loaded, &Default::default()).expect_err("no such role").render(false);
    assert!(
        err.contains("`as: first_clips` is not a media role") && err.contains("did you mean `first_clip`?"),
        "{err}"
    );
}

/// An image-to-video model may go without a prompt (none is sent); a text or reference model
/// may not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_to_video_shot_needs_no_prompt() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = dir.path().join("i2v.yaml");
    let write = |shots: &str| {
        std::fs::write(
            &manifest,
            format!("version: 1\noutput: out\ndefaults: {{resolution: 720P, duration: 5}}\nrefs: {{start: https://example.com/start.png}}\nshots:\n{shots}"),
        )
        .expect("write");
    };
    write("  - {id: still, model: wan2.7-i2v, first_frame: start}\n");
    let loaded = pixbatch::manifest::load(&manifest).expect("loads");
    let jobs = pixbatch::plan::expand(&loaded, &Default::default()).expect("no prompt needed").jobs;
    assert!(jobs[0].request_body()["input"].get("prompt").is_none(), "{}", jobs[0].request_body());
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    assert_eq!(run(&manifest, &fake, &fast_options()).await.counts.done, 1);

    write("  - {id: still, model: wan2.7-t2v, ratio: '16:9'}\n");
    let loaded = pixbatch::manifest::load(&manifest).expect("loads");
    let err = pixbatch::plan::expand(&loaded, &Default::default()).expect_err("t2v needs a prompt").render(false);
    assert!(err.contains("has no `prompt`"), "{err}");
}

/// A local image the model would refuse (too small, too elongated) is refused before sending,
/// at its ref, with its size in pixels; the same image suits a model that takes it.
#[test]
fn a_local_image_the_model_would_refuse_is_an_error_at_its_ref() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // A 16×16 PNG.
    std::fs::copy(root.join("tests/fixtures/keys/hero.png"), dir.path().join("hero.png")).expect("copy");
    let manifest = dir.path().join("small.yaml");
    let write = |model: &str| {
        std::fs::write(
            &manifest,
            format!("version: 1\noutput: out\ndefaults: {{resolution: 720P, ratio: '16:9', duration: 5}}\nrefs: {{hero: ./hero.png}}\nshots:\n  - {{id: a, model: {model}, prompt: '@hero waves '}}\n"),
        )
        .expect("write");
        let loaded = pixbatch::manifest::load(&manifest).expect("loads");
        pixbatch::plan::expand(&loaded, &Default::default()).map_err(|d| d.render(false))
    };
    let err = write("happyhorse-1.0-r2v").expect_err("HappyHorse needs 400 px");
    assert!(
        err.contains("small.yaml:4:")
            && err.contains("`hero` is 16×16 px; happyhorse-1.0-r2v needs at least 400 px on each side"),
        "{err}"
    );
    let err = write("wan2.7-r2v").expect_err("Wan needs 240 px");
    assert!(err.contains("needs at least 240 px"), "{err}");
    assert!(write("pixverse/pixverse-c1-r2v").is_ok(), "PixVerse documents no minimum");
}
