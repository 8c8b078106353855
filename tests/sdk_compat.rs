//! Wire compatibility: the official Python SDK (`dashscope==2.0.2`) drives the fake and parses
//! every answer, at the fake's defaults. The virtualenv lives in `target/sdk-venv` and is
//! reused while it is intact.

mod common;

use std::path::{Path, PathBuf};

use std::time::Duration;

use pixbatch::fake::{DurationRange, FakeConfig, FakeServer};

fn venv_python() -> PathBuf {
    common::python_venv("sdk-venv", "dashscope", "2.0.2")
}

/// Runs `tests/sdk/<script>` with the venv's python against `fake`; returns its stdout, after
/// checking it succeeded and printed `done`.
async fn run_script(python: &Path, script: &str, fake: &FakeServer, done: &str) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk").join(script);
    let out = tokio::process::Command::new(python)
        .arg(&script)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DASHSCOPE_HTTP_BASE_URL", format!("{}/api/v1", fake.base_url()))
        .env("DASHSCOPE_API_KEY", "sk-test")
        .output()
        .await
        .expect("script runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "SDK script failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains(done), "{stdout}");
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_parses_every_answer() {
    let python = tokio::task::spawn_blocking(venv_python).await.expect("venv");
    // The defaults, as a demo or a user gets them: the cancel of a PENDING task must work there.
    let fake = FakeServer::start(FakeConfig::default()).await.expect("fake starts");
    run_script(&python, "sdk_compat.py", &fake, "all SDK checks passed").await;
    let stats = fake.stats();
    assert_eq!(stats.submissions, 3, "three tasks created");
    assert_eq!(stats.cancels, 2);
    let finals = |state: &str| stats.final_states.get(state).copied().unwrap_or(0);
    assert_eq!(
        (finals("CANCELED"), finals("SUCCEEDED"), finals("FAILED")),
        (1, 1, 1),
        "one cancelled while PENDING, one done, one failed: {:?}",
        stats.final_states
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_drives_both_image_protocols() {
    let python = tokio::task::spawn_blocking(venv_python).await.expect("venv");
    let quick = FakeConfig {
        run_time: DurationRange::fixed(Duration::from_millis(300)),
        pending_min: Duration::ZERO,
        ..FakeConfig::default()
    };
    let fake = FakeServer::start(quick).await.expect("fake starts");
    run_script(&python, "sdk_images.py", &fake, "all SDK image checks passed").await;
    assert_eq!(fake.stats().images_billed, 5, "2 + 1 + 2 images");
}
