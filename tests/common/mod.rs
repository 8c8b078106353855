//! Helpers shared by the run tests: manifests, a fast fake, and running the library.
#![allow(dead_code, reason = "each test binary uses its own share of these helpers")]

use std::path::{Path, PathBuf};
use std::time::Duration;

use pixbatch::api::{ApiConfig, ApiKey, Client};
use pixbatch::fake::{DurationRange, FakeConfig, FakeServer, Stats};
use pixbatch::ledger::Ledger;
use pixbatch::plan::{ExpandOptions, Expansion};
use pixbatch::run::{PollConfig, RunInput, RunOptions, RunSummary, Silent};
use std::process::Stdio;

use tokio::process::Command;
use tokio_util::sync::CancellationToken;

/// A manifest with one c1 shot and one v5.6 shot, `per_shot` seeds each.
pub fn two_family_manifest(dir: &Path, per_shot: usize, c1_prompt: &str) -> PathBuf {
    let seeds: Vec<String> = (1..=per_shot).map(|s| s.to_string()).collect();
    let seeds = seeds.join(", ");
    let text = format!(
        "version: 1\noutput: out\ndefaults: {{size: \"640*360\", duration: 5}}\nrefs: {{man: https://example.com/man.jpg}}\nshots:\n  - id: fight\n    model: pixverse/pixverse-c1-r2v\n    prompt: \"{c1_prompt}\"\n    matrix: {{seed: [{seeds}]}}\n  - id: walk\n    model: pixverse/pixverse-v5.6-r2v\n    prompt: \"@man walks home\"\n    matrix: {{seed: [{seeds}]}}\n"
    );
    let path = dir.join("manifest.yaml");
    std::fs::write(&path, text).expect("write manifest");
    path
}

/// A fake whose tasks take 150–300 ms, start as soon as a slot is free (no scheduling delay)
/// and that enforces no rate limits (tests want speed; the limits and the delay have tests of
/// their own).
pub fn fast_fake() -> FakeConfig {
    FakeConfig {
        run_time: DurationRange { min: Duration::from_millis(150), max: Duration::from_millis(300) },
        pending_min: Duration::ZERO,
        submit_rps: 0,
        query_rps: 0,
        ..FakeConfig::default()
    }
}

/// Run options scaled for a fake whose tasks take a fraction of a second.
pub fn fast_options() -> RunOptions {
    RunOptions {
        submit_per_second: Some(200),
        query_per_second: 500,
        poll: PollConfig { min_interval: Duration::from_millis(15), max_interval: Duration::from_millis(200) },
        retry_scale: 0.02,
        reconcile_settle: Duration::from_millis(20),
        doubt_recheck: Duration::from_millis(100),
        stop_grace: Duration::from_secs(2),
        ..RunOptions::default()
    }
}

/// Writes `dir/file`: a manifest rendering into `out` with c1 at 640*360 for 5 s and the ref
/// `man`, named `name` when given, whose `shots:` list is `shots` (YAML list items).
pub fn small_manifest(dir: &Path, file: &str, name: Option<&str>, shots: &str) -> PathBuf {
    let path = dir.join(file);
    let name = name.map(|n| format!("name: {n}\n")).unwrap_or_default();
    let head = "output: out\ndefaults: {model: pixverse/pixverse-c1-r2v, size: \"640*360\", duration: 5}\nrefs: {man: https://example.com/man.jpg}\n";
    std::fs::write(&path, format!("version: 1\n{name}{head}shots:\n{shots}")).expect("write manifest");
    path
}

pub fn expand(manifest: &Path) -> Expansion {
    let loaded = pixbatch::manifest::load(manifest).unwrap_or_else(|d| panic!("{}", d.render(false)));
    pixbatch::plan::expand(&loaded, &ExpandOptions::default()).unwrap_or_else(|d| panic!("{}", d.render(false)))
}

pub fn client(fake: &FakeServer) -> Client {
    Client::new(ApiConfig::new(&fake.base_url(), ApiKey::new("sk-test")).expect("config")).expect("client")
}

/// Runs every job of the manifest through the library against `fake`.
pub async fn run(manifest: &Path, fake: &FakeServer, options: &RunOptions) -> RunSummary {
    let expansion = expand(manifest);
    let input = RunInput { expansion: &expansion, name: None };
    pixbatch::run::run(input, client(fake), options, &mut Silent, CancellationToken::new()).await.expect("run").summary
}

/// Runs the manifest against a fast fake where about a third of the tasks fail (seeded: the
/// same ones every time), so that a run ends with both done and failed takes.
pub async fn run_with_failures(manifest: &Path) -> RunSummary {
    let fake = FakeServer::start(FakeConfig {
        faults: pixbatch::fake::Faults { task_failed: 0.3, ..Default::default() },
        seed: 4,
        ..fast_fake()
    })
    .await
    .expect("fake");
    run(manifest, &fake, &fast_options()).await
}

/// Every job's file exists and hashes to what the ledger recorded; returns how many.
pub fn verify_outputs(manifest: &Path) -> usize {
    let expansion = expand(manifest);
    let ledger = Ledger::load(&expansion.output_dir).expect("ledger");
    for job in &expansion.jobs {
        let record = ledger.records.get(&job.key).unwrap_or_else(|| panic!("{} not in the ledger", job.name()));
        let path = expansion.output_dir.join(&job.output);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        use sha2::Digest;
        assert_eq!(Some(hex::encode(sha2::Sha256::digest(&bytes))), record.sha256, "{}", job.name());
        assert_eq!(Some(bytes.len() as u64), record.bytes);
        assert_eq!(&bytes[4..8], b"ftyp");
    }
    expansion.jobs.len()
}

/// The `pixbatch` binary against `fake`, with a clean environment.
pub fn pixbatch(fake: &FakeServer, key: &str) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("pixbatch"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DASHSCOPE_BASE_URL", fake.base_url())
        .env("DASHSCOPE_API_KEY", key)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

pub const FAST: [&str; 8] = ["--poll-min", "20ms", "--poll-max", "200ms", "--submit-rps", "100", "--query-rps", "500"];

/// Waits until the fake's counters satisfy `done` (checking them, no fixed sleeps); `what`
/// names the wait in the panic after 10 s.
pub async fn until_stats(fake: &FakeServer, what: &str, done: impl Fn(&Stats) -> bool) {
    for _ in 0..2000 {
        if done(&fake.stats()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the fake never saw {what}: {:?}", fake.stats());
}

/// Waits until the fake has accepted `n` creates.
pub async fn until_submitted(fake: &FakeServer, n: u64) {
    until_stats(fake, &format!("{n} submissions"), |s| s.submissions >= n).await;
}

/// Runs `pixbatch run` to its end; returns the exit code and stderr.
pub async fn run_to_end(fake: &FakeServer, manifest: &Path, extra: &[&str]) -> (i32, String) {
    let out = pixbatch(fake, "sk-test").arg("run").arg(manifest).args(FAST).args(extra).output().await.expect("runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A manifest in `dir/name.yaml` writing to `dir/name/`: one c1 shot and one v5.6 shot with
/// the given prompts, `per_shot` seeds each.
pub fn manifest_named(dir: &Path, name: &str, per_shot: usize, c1_prompt: &str, v56_prompt: &str) -> PathBuf {
    let seeds: Vec<String> = (1..=per_shot).map(|s| s.to_string()).collect();
    let seeds = seeds.join(", ");
    let text = format!(
        "version: 1\noutput: {name}\ndefaults: {{size: \"640*360\", duration: 5}}\nrefs: {{man: https://example.com/man.jpg}}\nshots:\n  - id: fight\n    model: pixverse/pixverse-c1-r2v\n    prompt: \"{c1_prompt}\"\n    matrix: {{seed: [{seeds}]}}\n  - id: walk\n    model: pixverse/pixverse-v5.6-r2v\n    prompt: \"{v56_prompt}\"\n    matrix: {{seed: [{seeds}]}}\n"
    );
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text).expect("write manifest");
    path
}

/// The task a fake video was served for (the fake writes its id into every video).
pub fn task_of_video(bytes: &[u8]) -> Option<String> {
    let marker = b"pixbatch fake video for task ";
    let at = bytes.windows(marker.len()).position(|w| w == marker)? + marker.len();
    let id: Vec<u8> = bytes[at..].iter().copied().take_while(|b| b.is_ascii_alphanumeric() || *b == b'-').collect();
    String::from_utf8(id).ok()
}

/// Every job's video came from a task that one of `fakes` made for a create call of ours
/// with exactly the job's request (never another client's task, never another request's
/// video); returns how many were checked.
pub fn assert_own_videos(manifest: &Path, fakes: &[&FakeServer]) -> usize {
    let expansion = expand(manifest);
    for job in &expansion.jobs {
        let path = expansion.output_dir.join(&job.output);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let task = task_of_video(&bytes).unwrap_or_else(|| panic!("{}: not a fake video", job.name()));
        let known: Vec<_> = fakes.iter().filter_map(|f| f.task_body(&task)).collect();
        let [(body, ours)] = known.as_slice() else {
            panic!("{}: task {task} is known to {} fakes (give them different seeds)", job.name(), known.len())
        };
        let (body, ours) = (body.clone(), *ours);
        assert!(ours, "{}: saved the video of task {task}, which another client of the account made", job.name());
        assert_eq!(
            body,
            job.request_body(),
            "{}: saved the video of task {task}, made for another request",
            job.name()
        );
    }
    expansion.jobs.len()
}

/// A Python virtualenv in `target/<name>` with `module` at `version` (pip's `module==version`
/// from PyPI), made once and reused while it holds that version; returns its python.
pub fn python_venv(name: &str, module: &str, version: &str) -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join(name);
    let python = venv.join("bin/python");
    let check = format!("import {module},sys; sys.exit(0 if {module}.__version__=='{version}' else 1)");
    let run = |program: &Path| std::process::Command::new(program);
    let ready = python.exists() && run(&python).args(["-c", &check]).status().is_ok_and(|s| s.success());
    if !ready {
        let package = format!("{module}=={version}");
        let status =
            run(Path::new("python3")).args(["-m", "venv", "--clear"]).arg(&venv).status().expect("python3 runs");
        assert!(status.success(), "python3 -m venv failed");
        let status = run(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", &package])
            .status()
            .expect("pip runs");
        assert!(status.success(), "pip install {package} failed");
    }
    python
}

/// README.md and every page under docs/, relative to the repository.
pub fn doc_pages(root: &Path) -> Vec<PathBuf> {
    let mut pages = vec![PathBuf::from("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|entry| entry.expect("a docs entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .map(|path| PathBuf::from("docs").join(path.file_name().expect("a name")))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}
