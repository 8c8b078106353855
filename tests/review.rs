//! Picks and export: a person chooses a take per shot, and the picked takes go to the editor
//! in storyboard order.

mod common;

use std::path::Path;
use std::process::Command;

use common::{fast_fake, fast_options, run};
use pixbatch::fake::FakeServer;
use sha2::Digest;

fn storyboard(dir: &Path, fight_prompt: &str) -> std::path::PathBuf {
    common::small_manifest(
        dir,
        "storyboard.yaml",
        None,
        &format!(
            "  - id: intro\n    prompt: \"@man walks in\"\n  - id: fight\n    prompt: \"{fight_prompt}\"\n    matrix: {{seed: [1, 2]}}\n  - id: walk\n    prompt: \"@man walks home\"\n    matrix: {{seed: [1, 2]}}\n"
        ),
    )
}

fn pixbatch(args: &[&str], manifest: &Path) -> (i32, String, String) {
    let out = Command::new(assert_cmd::cargo::cargo_bin!("pixbatch"))
        .env_clear()
        .arg(args[0])
        .arg(manifest)
        .args(&args[1..])
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn sha256(path: &Path) -> String {
    hex::encode(sha2::Sha256::digest(std::fs::read(path).expect("read")))
}

fn picked_in_status(manifest: &Path) -> Vec<(String, String)> {
    let (code, out, err) = pixbatch(&["status", "--format", "json"], manifest);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    doc["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .filter(|j| j["picked"] == true)
        .map(|j| (j["shot"].as_str().unwrap_or("").to_owned(), j["variant"].as_str().unwrap_or("").to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn picks_survive_and_export_writes_the_storyboard_in_order() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = storyboard(dir.path(), "@man fights");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    assert_eq!(run(&manifest, &fake, &fast_options()).await.counts.done, 5);

    // Unknown shot and take: refused, with what there is.
    let (code, _, err) = pixbatch(&["pick", "figth", "seed=1"], &manifest);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("did you mean `fight`"), "{err}");
    let (code, _, err) = pixbatch(&["pick", "fight", "seed=9"], &manifest);
    assert_eq!(code, 2);
    assert!(err.contains("seed=1, seed=2"), "{err}");

    assert_eq!(pixbatch(&["pick", "fight", "seed=2"], &manifest).0, 0);
    assert_eq!(picked_in_status(&manifest), [("fight".to_owned(), "seed=2".to_owned())]);
    let (code, out, _) = pixbatch(&["status"], &manifest);
    assert!(code == 0 && out.contains("fight[seed=2]  task") && out.contains("(picked)"), "{out}");

    // Shots without a pick: refused, listed; nothing written.
    let cut = dir.path().join("cut");
    let (code, _, err) = pixbatch(&["export", "--to", cut.to_str().expect("utf8")], &manifest);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("2 shot(s) have no pick: intro, walk"), "{err}");
    assert!(!cut.join("concat.txt").exists());
    // --allow-missing: listed and left out.
    let (code, _, err) = pixbatch(&["export", "--to", cut.to_str().expect("utf8"), "--allow-missing"], &manifest);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("skipped intro") && err.contains("skipped walk"), "{err}");
    assert_eq!(std::fs::read_to_string(cut.join("concat.txt")).expect("concat"), "file '020-fight.mp4'\n");

    assert_eq!(pixbatch(&["pick", "intro"], &manifest).0, 0);
    assert_eq!(pixbatch(&["pick", "walk", "seed=1"], &manifest).0, 0);
    let (code, _, err) = pixbatch(&["export", "--to", cut.to_str().expect("utf8")], &manifest);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(cut.join("concat.txt")).expect("concat"),
        "file '010-intro.mp4'\nfile '020-fight.mp4'\nfile '030-walk.mp4'\n"
    );
    let ledger = pixbatch::ledger::Ledger::load(&dir.path().join("out")).expect("ledger");
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cut.join("export.json")).expect("export.json")).expect("json");
    let shots = doc["shots"].as_array().expect("shots");
    assert_eq!(shots.len(), 3);
    for entry in shots {
        let key = entry["key"].as_str().expect("key");
        let record = ledger.records.get(key).expect("a ledger job");
        let file = cut.join(entry["file"].as_str().expect("file"));
        assert_eq!(Some(sha256(&file)), record.sha256, "{file:?} is the ledger's video");
        assert_eq!(entry["source"].as_str(), record.path.as_deref());
    }
    assert_eq!(shots[1]["variant"], "seed=2");
    assert_eq!(shots[1]["prompt"], "@man fights");

    // Again: nothing to write. A file export did not write is never overwritten.
    let (code, _, err) = pixbatch(&["export", "--to", cut.to_str().expect("utf8")], &manifest);
    assert!(code == 0 && err.contains("0 written, 3 already in place"), "{err}");
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).expect("mkdir");
    std::fs::write(other.join("020-fight.mp4"), b"mine").expect("write");
    let (code, _, err) = pixbatch(&["export", "--to", other.to_str().expect("utf8")], &manifest);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("was not written by pixbatch export"), "{err}");
    assert_eq!(std::fs::read(other.join("020-fight.mp4")).expect("kept"), b"mine");

    // The fight shot's prompt edited: its pick is stale, not moved to another take.
    let manifest = storyboard(dir.path(), "@man fights again");
    // Status still shows the picked take, as the orphan it now is.
    let (_, out, _) = pixbatch(&["status", "--format", "json"], &manifest);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    let picked: Vec<(&str, &str)> = doc["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .filter(|j| j["picked"] == true)
        .map(|j| (j["shot"].as_str().unwrap_or(""), j["state"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(picked, [("intro", "done"), ("walk", "done"), ("fight", "orphaned")]);
    let (code, _, err) = pixbatch(&["export", "--to", cut.to_str().expect("utf8")], &manifest);
    assert_eq!(code, 1);
    assert!(err.contains("fight (its pick seed=2 left the manifest)"), "{err}");
    // Its new takes are not rendered: picking one is refused; --first-done has none for it.
    let (code, _, err) = pixbatch(&["pick", "fight", "seed=1"], &manifest);
    assert!(code == 2 && err.contains("not rendered yet"), "{err}");
    let (code, _, err) = pixbatch(&["export", "--to", cut.to_str().expect("utf8"), "--first-done"], &manifest);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("skipped fight"), "{err}");
    // Clearing.
    assert_eq!(pixbatch(&["pick", "intro", "--clear"], &manifest).0, 0);
    assert!(!picked_in_status(&manifest).iter().any(|(shot, _)| shot == "intro"));
}
