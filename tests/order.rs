//! Longest-first: a long shot written last in the manifest is submitted first.

mod common;

use std::time::Duration;

use common::{fast_fake, fast_options, run};
use pixbatch::fake::{FakeConfig, FakeServer, Render};
use pixbatch::run::{Order, RunOptions};

fn storyboard(dir: &std::path::Path) -> std::path::PathBuf {
    common::small_manifest(
        dir,
        "manifest.yaml",
        None,
        "  - id: a\n    prompt: \"@man walks\"\n  - id: b\n    prompt: \"@man sits\"\n  - id: c\n    prompt: \"@man waves\"\n  - id: finale\n    prompt: \"@man flies over the city\"\n    size: \"1920*1080\"\n    duration: 15\n",
    )
}

async fn order_of_creates(order: Order) -> Vec<f64> {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = storyboard(dir.path());
    let render = Render { base: Duration::from_millis(40), noise: 0.0, ..Render::default() };
    let fake = FakeServer::start(FakeConfig { render: Some(render), ..fast_fake() }).await.expect("fake");
    // One slot, nothing queued ahead: tasks are created one at a time, in the run's order.
    let options = RunOptions { default_concurrency: Some(1), queue_ahead: 0, order, ..fast_options() };
    let summary = run(&manifest, &fake, &options).await;
    assert_eq!(summary.counts.done, 4);
    fake.stats().run_seconds.get("c1").cloned().expect("c1 tasks")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_shot_written_last_is_submitted_first() {
    let times = order_of_creates(Order::LongestFirst).await;
    let longest = times.iter().copied().fold(0.0, f64::max);
    assert_eq!(times[0], longest, "the 15 s 1080P finale goes first: {times:?}");
    assert!(times[1..].iter().all(|t| *t < longest / 4.0), "{times:?}");
    // In manifest order it would have gone last.
    let times = order_of_creates(Order::Manifest).await;
    assert_eq!(times.last().copied(), Some(times.iter().copied().fold(0.0, f64::max)), "{times:?}");
}

/// The shots in the order their intents were written (the order they were sent).
fn sent_order(out: &std::path::Path) -> Vec<String> {
    let ledger =
        pixbatch::ledger::journal::read_entries(&pixbatch::ledger::Ledger::journal_path(out)).expect("journal");
    ledger
        .into_iter()
        .filter_map(|e| match e.event {
            pixbatch::ledger::Event::Intent { shot, .. } => Some(shot),
            _ => None,
        })
        .collect()
}

#[test]
fn run_order_in_the_manifest_and_the_flag_that_overrides_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = storyboard(dir.path());
    let text = std::fs::read_to_string(&manifest).expect("read");
    std::fs::write(&manifest, format!("{text}run: {{order: manifest}}\n")).expect("write");
    let run = |extra: &[&str]| {
        let _ = std::fs::remove_dir_all(dir.path().join("out"));
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin!("pixbatch"))
            .env_clear()
            .arg("run")
            .arg(&manifest)
            .args(["--fake", "--fake-render-base", "40ms", "--fake-pending-min", "0s"])
            .args(["--concurrency", "1", "--queue-ahead", "0"])
            .args(["--poll-min", "5ms", "--poll-max", "50ms"])
            .args(extra)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        sent_order(&dir.path().join("out"))
    };
    assert_eq!(run(&[]), ["a", "b", "c", "finale"], "run.order: manifest");
    assert_eq!(run(&["--order", "longest-first"]), ["finale", "a", "b", "c"], "the flag wins");
}
