//! Stages (DESIGN.md § Stages) as a user runs them: `examples/stages.yaml` against the fake,
//! the ref stage first, a pick, then exactly the jobs the picks feed; a re-pick re-renders
//! exactly its dependents; a rerun with nothing changed sends nothing; and a run killed with
//! SIGKILL while image tasks are in flight, again and again, pays for nothing twice.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::*;
use pixbatch::fake::{FakeConfig, FakeServer};
use pixbatch::ledger::{Ledger, Phase};

/// `examples/stages.yaml` copied into `dir`.
fn stages_manifest(dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = dir.join("stages.yaml");
    std::fs::copy(root.join("examples/stages.yaml"), &manifest).expect("copy");
    manifest
}

/// `pixbatch plan --format json`: key per job name, and the state per job name.
async fn plan(fake: &FakeServer, manifest: &Path) -> BTreeMap<String, (String, String)> {
    let out = pixbatch(fake, "sk-test").args(["plan", "--format", "json"]).arg(manifest).output().await.expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    doc["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| {
            let name = match j["variant"].as_str().unwrap_or_default() {
                "" => j["shot"].as_str().unwrap_or_default().to_owned(),
                v => format!("{}[{v}]", j["shot"].as_str().unwrap_or_default()),
            };
            let field = |k: &str| j[k].as_str().unwrap_or_default().to_owned();
            (name, (field("key"), field("state")))
        })
        .collect()
}

async fn pick(fake: &FakeServer, manifest: &Path, what: &[&str]) {
    let out = pixbatch(fake, "sk-test").arg("pick").arg(manifest).args(what).output().await.expect("runs");
    assert!(out.status.success(), "pick {what:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Every request the fake has had, summed: creates, queries, lists, uploads, downloads.
fn requests(fake: &FakeServer) -> u64 {
    let s = fake.stats();
    s.submissions + s.queries + s.lists + s.policies + s.uploads + s.downloads + s.cancels
}

/// The names of the jobs whose key is not what it was.
fn changed(
    before: &BTreeMap<String, (String, String)>,
    after: &BTreeMap<String, (String, String)>,
) -> BTreeSet<String> {
    after
        .iter()
        .filter(|(name, (key, _))| before.get(*name).is_none_or(|(k, _)| k != key))
        .map(|(n, _)| n.clone())
        .collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ref_stage_then_picks_drive_exactly_the_jobs_that_use_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = stages_manifest(dir.path());
    let fake = FakeServer::start(fast_fake()).await.expect("fake");

    // 1. The first run renders the ref stage (3 seeds × 2 refs) and ends waiting for picks.
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, pixbatch::exit::WAITING, "{stderr}");
    assert!(stderr.contains("wait for a pick of @bridge, @hero, @bridge_end"), "{stderr}");
    assert!(stderr.contains("pixbatch review"), "{stderr}");
    assert_eq!(fake.stats().submissions, 6, "the six candidates, nothing else");
    let planned = plan(&fake, &manifest).await;
    let waiting: BTreeSet<String> =
        planned.iter().filter(|(_, (_, state))| state == "waiting").map(|(n, _)| n.clone()).collect();
    assert_eq!(waiting, names(&["@bridge_end", "arrival", "crossing", "look-back"]));
    // Six different pictures, each verified against the ledger.
    let out = dir.path().join("renders/stages");
    let mut seen = BTreeSet::new();
    for r in ["hero", "bridge"] {
        for seed in 1..=3 {
            let bytes = std::fs::read(out.join(format!("refs/{r}/seed-{seed}.png"))).expect("a candidate");
            assert!(bytes.starts_with(b"\x89PNG"), "{r} seed {seed} is a PNG");
            seen.insert(bytes);
        }
    }
    assert_eq!(seen.len(), 6, "every candidate differs");
    // Each image job sent n = 1 and was billed one image.
    for (body, images) in fake.billed_images() {
        assert_eq!(images, 1, "{body}");
        assert!(body.contains("\"n\":1"), "n is always sent: {body}");
    }

    // 2. After the picks, the next run renders exactly the jobs that were waiting: the keyframe
    // (auto-picked: `pick: first`), then the three clips.
    pick(&fake, &manifest, &["@hero", "seed=2"]).await;
    pick(&fake, &manifest, &["@bridge", "seed=3"]).await;
    let before = fake.stats().submissions;
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("@bridge_end: picked"), "{stderr}");
    assert_eq!(fake.stats().submissions - before, 4, "the keyframe and three clips: {stderr}");
    assert_eq!(fake.stats().duplicate_submissions, 0);
    let picked = plan(&fake, &manifest).await;
    assert!(picked.values().all(|(_, state)| state == "done"), "{picked:?}");

    // 3. Re-picking the bridge changes the keys of exactly what uses it, through the keyframe;
    // the run renders exactly those and sends nothing for the rest.
    pick(&fake, &manifest, &["@bridge", "seed=1"]).await;
    let repicked = plan(&fake, &manifest).await;
    assert_eq!(changed(&picked, &repicked), names(&["@bridge_end", "arrival", "crossing"]));
    let before = fake.stats().submissions;
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(fake.stats().submissions - before, 3, "{stderr}");
    let ledger = Ledger::load(&out).expect("ledger");
    let look_back = &repicked["look-back"].0;
    assert_eq!(ledger.records.values().filter(|r| r.meta.shot == "look-back").count(), 1, "look-back {look_back} once");

    // 4. Nothing changed: no request at all.
    let before = requests(&fake);
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(requests(&fake) - before, 0, "a no-op rerun sends nothing: {stderr}");
    assert_eq!(fake.stats().duplicate_submissions, 0);

    // 5. The picked hero retouched by hand: the jobs that use it are keyed by its new content.
    let done = plan(&fake, &manifest).await;
    let retouched = std::fs::read(out.join("refs/bridge/seed-2.png")).expect("another picture");
    std::fs::write(out.join("refs/hero/seed-2.png"), retouched).expect("retouch");
    let after = plan(&fake, &manifest).await;
    assert_eq!(changed(&done, &after), names(&["@bridge_end", "arrival", "crossing", "look-back"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn until_refs_renders_the_stills_only() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = stages_manifest(dir.path());
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    pixbatch(&fake, "sk-test").arg("validate").arg(&manifest).status().await.expect("validates");
    // Picks made up front: --until refs stops after the keyframe, before any clip.
    let text = std::fs::read_to_string(&manifest)
        .expect("read")
        .replace("version: 1\n", "version: 1\nrun: {auto_pick: first}\n");
    std::fs::write(&manifest, text).expect("write");
    let (code, stderr) = run_to_end(&fake, &manifest, &["--until", "refs"]).await;
    assert_eq!(code, 0, "every ref picked, the clips left for later: {stderr}");
    assert_eq!(fake.stats().submissions, 7, "six candidates and the keyframe: {stderr}");
    let planned = plan(&fake, &manifest).await;
    let new: BTreeSet<String> = planned.iter().filter(|(_, (_, s))| s == "new").map(|(n, _)| n.clone()).collect();
    assert_eq!(new, names(&["arrival", "crossing", "look-back"]));
}

/// Generated refs with several candidates a task, a keyframe made from them, and clips; every
/// ref taken automatically so that one run crosses every stage.
fn crash_manifest(dir: &Path) -> PathBuf {
    let text = r#"version: 1
output: out
run: {auto_pick: first}
refs:
  hero: {generate: {prompt: "character sheet, a man in a grey coat", n: 2, ratio: "3:4", resolution: 1K, matrix: {seed: [1, 2, 3, 4]}}}
  place: {generate: {model: wan2.5-t2i-preview, prompt: "a quiet harbour at dawn", n: 3, matrix: {seed: [5, 6, 7]}}}
  key: {generate: {prompt: "@hero stands in @place looking at the sea", ratio: "16:9", resolution: 1K, matrix: {seed: [1, 2]}}}
shots:
  - {id: a, model: pixverse/pixverse-c1-it2v, first_frame: key, prompt: "he turns", resolution: 540P, duration: 5}
  - {id: b, model: pixverse/pixverse-c1-r2v, prompt: "@hero walks along @place at dawn", size: "640*360", duration: 5, matrix: {seed: [1, 2]}}
"#;
    let path = dir.join("crash.yaml");
    std::fs::write(&path, text).expect("write");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_image_tasks_are_in_flight_pays_for_nothing_twice() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = crash_manifest(dir.path());
    let fake = FakeServer::start(FakeConfig {
        run_time: pixbatch::fake::DurationRange::fixed(std::time::Duration::from_millis(400)),
        ..fast_fake()
    })
    .await
    .expect("fake");
    // Killed in the first ref stage, at the boundary, in the keyframe stage, and among clips.
    for at in [3, 7, 9, 11] {
        let mut child = pixbatch(&fake, "sk-test").arg("run").arg(&manifest).args(FAST).spawn().expect("spawn");
        until_submitted(&fake, at).await;
        child.start_kill().expect("SIGKILL");
        let status = child.wait().await.expect("reaped");
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
    }
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    let stats = fake.stats();
    assert_eq!(stats.duplicate_submissions, 0, "{stats:?}");
    // 4 + 3 image tasks, 2 keyframes, 1 + 2 clips.
    let expansion = expand(&manifest);
    assert_eq!(expansion.jobs.len(), 12);
    assert!(expansion.waiting.is_empty());
    for (body, n) in fake.billed_bodies() {
        assert_eq!(n, 1, "paid once: {body}");
    }
    // Every candidate of every image task is on disk, as the ledger recorded it.
    let ledger = Ledger::load(&expansion.output_dir).expect("ledger");
    let mut candidates = 0;
    for job in expansion.jobs.iter().filter(|j| j.shot.starts_with('@')) {
        let record = &ledger.records[&job.key];
        assert_eq!(record.phase, Phase::Downloaded, "{}", job.name());
        let good = record.images.iter().filter(|i| i.url.is_some()).count();
        assert_eq!(record.files.len(), good, "{}: every good candidate downloaded", job.name());
        for f in &record.files {
            let bytes = std::fs::read(expansion.output_dir.join(&f.path)).expect("candidate file");
            assert_eq!(pixbatch::files::sha256_hex(&bytes), f.sha256, "{}", f.path);
            candidates += 1;
        }
    }
    assert_eq!(candidates, 4 * 2 + 3 * 3 + 2);
}

/// Shards of the ref stage merge into one folder with every candidate, and `spend` over the
/// merged ledger bills each image once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shard_ledgers_of_image_jobs_merge_with_every_candidate() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = crash_manifest(dir.path());
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let mut shard_dirs = Vec::new();
    for k in 1..=2 {
        let out = dir.path().join(format!("shard{k}"));
        let mut shard = expand(&manifest);
        shard.output_dir = out.clone();
        shard.jobs.retain(|j| j.shot.starts_with('@'));
        pixbatch::plan::Selection { shard: Some((k, 2)), only: Vec::new() }.apply(&mut shard).expect("select");
        let input = pixbatch::run::RunInput { expansion: &shard, name: None };
        let s =
            pixbatch::run::run(input, client(&fake), &fast_options(), &mut pixbatch::run::Silent, Default::default())
                .await
                .expect("shard run")
                .summary;
        assert_eq!(s.counts.failed, 0);
        shard_dirs.push(out);
    }
    let merged = dir.path().join("out");
    let report = pixbatch::ledger::merge::merge(&merged, &shard_dirs).expect("merge");
    assert_eq!(report.jobs, 7, "4 + 3 image tasks");
    assert_eq!(report.files_copied, 4 * 2 + 3 * 3, "every candidate, not only the first");
    let ledger = Ledger::load(&merged).expect("ledger");
    for r in ledger.records.values() {
        for f in &r.files {
            let bytes = std::fs::read(merged.join(&f.path)).expect("candidate");
            assert_eq!(pixbatch::files::sha256_hex(&bytes), f.sha256);
        }
    }
    let spent = pixbatch::views::spend::spent(&ledger);
    assert_eq!((spent * 100.0).round() as i64, 4 * 2 * 20 + 3 * 3 * 20, "¥0.20 an image, 17 images");
}

/// A task that partly fails gives the candidates that worked, records the others' codes, and
/// is billed for what it made (`usage.image_count`); candidates are named `seed-N-K.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partly_failed_image_task_gives_what_worked_and_bills_only_that() {
    let dir = tempfile::tempdir().expect("tmp");
    let text = r#"version: 1
output: out
refs:
  sheet: {generate: {model: wan2.5-t2i-preview, prompt: "a prop sheet: a red kite", n: 4, matrix: {seed: [1, 2, 3, 4, 5, 6]}}}
shots:
  - {id: kite, model: pixverse/pixverse-c1-r2v, prompt: "@sheet flies over the hill", size: "640*360", duration: 5}
"#;
    let manifest = dir.path().join("kite.yaml");
    std::fs::write(&manifest, text).expect("write");
    let fake = FakeServer::start(FakeConfig {
        faults: pixbatch::fake::Faults { image_fail_rate: 0.4, ..Default::default() },
        seed: 7,
        ..fast_fake()
    })
    .await
    .expect("fake");
    let (code, stderr) = run_to_end(&fake, &manifest, &["--until", "refs"]).await;
    assert!(code == pixbatch::exit::WAITING || code == 1, "{stderr}");
    let expansion = expand(&manifest);
    let ledger = Ledger::load(&expansion.output_dir).expect("ledger");
    let (mut good, mut failed) = (0, 0);
    for job in expansion.jobs.iter().filter(|j| j.shot == "@sheet") {
        let r = &ledger.records[&job.key];
        let ok = r.images.iter().filter(|i| i.url.is_some()).count();
        let codes = r.images.iter().filter(|i| i.code.as_deref() == Some("DataInspectionFailed")).count();
        if r.phase == Phase::Downloaded {
            assert_eq!(ok + codes, 4, "{}: every candidate is accounted for", job.name());
            assert_eq!(r.files.len(), ok, "{}", job.name());
            assert_eq!(r.usage.as_ref().and_then(|u| u.image_count), Some(ok as u32));
            assert_eq!(r.billed.as_ref().map(|b| (b.cny * 100.0).round() as i64), Some(20 * ok as i64));
        } else {
            assert_eq!(r.phase, Phase::Failed, "every candidate failed: {}", job.name());
            assert!(r.billed.is_none());
        }
        good += ok;
        failed += codes;
    }
    assert!(good > 0 && failed > 0, "the seed gives both: {good} good, {failed} failed");
    assert_eq!(fake.stats().images_billed, good as u64);
}
