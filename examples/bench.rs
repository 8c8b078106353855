//! Benchmarks: prints figures and ratios, never fails on a slow machine.
//!
//! `cargo run --release --example bench` (add `quick` for a shorter run, `slots` for part 1 only).
//!
//! 1. Slot utilisation: N jobs (default 60) over both families, 5 slots each, task durations
//!    3–6 s drawn by the fake (seeded), DashScope's real rate limits. Makespan against the ideal
//!    (Σ durations / slots per family), queries per task.
//! 2. Overhead: 10 000 jobs, zero task latency, no limits: wall, CPU per job, peak RSS, ledger bytes.
//! 3. No-op rerun of that finished manifest: time and requests.

use std::path::Path;
use std::time::{Duration, Instant};

use pixbatch::api::{ApiConfig, ApiKey, Client};
use pixbatch::fake::{DurationRange, FakeConfig, FakeServer};
use pixbatch::plan::ExpandOptions;
use pixbatch::run::{PollConfig, RunInput, RunOptions, RunSummary, Silent};

fn manifest(dir: &Path, per_shot: usize) -> std::path::PathBuf {
    let seeds: Vec<String> = (0..per_shot).map(|s| s.to_string()).collect();
    let text = format!(
        "version: 1\noutput: out\ndefaults: {{size: \"640*360\", duration: 5}}\nrefs: {{man: https://example.com/m.jpg}}\nshots:\n  - id: a\n    model: pixverse/pixverse-c1-r2v\n    prompt: \"@man runs\"\n    matrix: {{seed: [{s}]}}\n  - id: b\n    model: pixverse/pixverse-v5.6-r2v\n    prompt: \"@man walks\"\n    matrix: {{seed: [{s}]}}\n",
        s = seeds.join(",")
    );
    let path = dir.join("m.yaml");
    std::fs::write(&path, text).expect("write manifest");
    path
}

async fn run(path: &Path, fake: &FakeServer, options: &RunOptions) -> (RunSummary, Duration) {
    let loaded = pixbatch::manifest::load(path).expect("manifest");
    let expansion = pixbatch::plan::expand(&loaded, &ExpandOptions { max_jobs: 100_000 }).expect("expand");
    let client = Client::new(ApiConfig::new(&fake.base_url(), ApiKey::new("sk-test")).expect("cfg")).expect("client");
    let input = RunInput {
        jobs: &expansion.jobs,
        selected: (0..expansion.jobs.len()).collect(),
        output_dir: &expansion.output_dir,
        name: None,
    };
    let t = Instant::now();
    let s = pixbatch::run::run(input, client, options, &mut Silent, Default::default()).await.expect("run");
    (s, t.elapsed())
}

/// DashScope's limits and 5 slots per family, tasks of 3–6 s drawn from seed 42: the same
/// world for pixbatch and for the SDK baseline.
fn slot_fake() -> FakeConfig {
    FakeConfig {
        run_time: DurationRange { min: Duration::from_secs(3), max: Duration::from_secs(6) },
        seed: 42,
        ..FakeConfig::default()
    }
}

/// User+system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, r)| r).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak resident memory of this process, MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let n: usize = std::env::args().filter_map(|a| a.parse().ok()).next().unwrap_or(if quick { 20 } else { 60 });

    // 1. Slot utilisation.
    let dir = tempfile::tempdir().expect("tmp");
    let path = manifest(dir.path(), n / 2);
    let fake = FakeServer::start(slot_fake()).await.expect("fake");
    let (s, wall) = run(&path, &fake, &RunOptions::default()).await;
    let stats = fake.stats();
    let ideal =
        ["c1", "v5.6"].iter().map(|f| stats.busy_seconds.get(*f).copied().unwrap_or(0.0) / 5.0).fold(0.0, f64::max);
    let jobs = s.counts.done as f64;
    println!("slot utilisation: {} jobs, 2 families x 5 slots, tasks 3-6 s (seed 42)", s.counts.done);
    println!("  makespan           {:.2} s", wall.as_secs_f64());
    println!("  ideal makespan     {ideal:.2} s  (max over families of sum of durations / 5)");
    println!("  ratio              {:.3}  (target <= 1.10)", wall.as_secs_f64() / ideal);
    for f in ["c1", "v5.6"] {
        println!(
            "  {f:<5} slots busy     {:.1} %  (peak running {})",
            stats.utilisation(f, 5) * 100.0,
            stats.peak_running.get(f).copied().unwrap_or(0)
        );
    }
    println!("  queries per task   {:.2}  (target <= 8)", stats.queries as f64 / jobs);
    println!("  429s               {}", stats.throttled);
    println!("  duplicate creates  {}", stats.duplicate_submissions);
    drop(fake);
    if std::env::args().any(|a| a == "slots") {
        return;
    }
    baseline(n, wall).await;

    // 2. Overhead at 10 000 jobs.
    let dir = tempfile::tempdir().expect("tmp");
    let path = manifest(dir.path(), if quick { 1000 } else { 5000 });
    let fake = FakeServer::start(FakeConfig {
        run_time: DurationRange::fixed(Duration::ZERO),
        submit_rps: 0,
        query_rps: 0,
        concurrency: 10_000,
        ..FakeConfig::default()
    })
    .await
    .expect("fake");
    let options = RunOptions {
        default_concurrency: 10_000,
        submit_per_second: 1_000_000,
        query_per_second: 1_000_000,
        poll: PollConfig { min_interval: Duration::from_millis(1), max_interval: Duration::from_millis(20) },
        download_concurrency: 32,
        ..RunOptions::default()
    };
    let cpu0 = cpu_seconds();
    let (s, wall) = run(&path, &fake, &options).await;
    let cpu = cpu_seconds() - cpu0;
    let total = s.counts.done as f64;
    let ledger = std::fs::metadata(dir.path().join("out/.pixbatch/journal.jsonl")).map_or(0, |m| m.len());
    println!("overhead: {} jobs, zero task latency, no limits (the fake runs in this process too)", s.counts.done);
    println!("  wall               {:.2} s", wall.as_secs_f64());
    println!("  CPU per job        {:.3} ms  (client + fake together; target <= 1 ms)", cpu * 1000.0 / total);
    println!("  peak RSS           {:.1} MiB", peak_rss_mib());
    println!("  ledger             {} bytes ({:.0} per job)", ledger, ledger as f64 / total);

    // 3. No-op rerun.
    fake.reset_stats();
    let (s, wall) = run(&path, &fake, &options).await;
    println!("no-op rerun: {} jobs skipped", s.counts.skipped);
    println!("  wall               {:.3} s  (target < 0.5 s)", wall.as_secs_f64());
    println!("  requests           {}", fake.stats().api_requests() + fake.stats().downloads);
}

/// The same jobs through the official Python SDK in 20 threads, against an identical fake.
async fn baseline(n: usize, pixbatch_wall: Duration) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = root.join("target/sdk-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        let ok =
            std::process::Command::new("python3").args(["-m", "venv"]).arg(&venv).status().is_ok_and(|s| s.success())
                && std::process::Command::new(&python)
                    .args(["-m", "pip", "install", "--quiet", "dashscope==2.0.2"])
                    .status()
                    .is_ok_and(|s| s.success());
        if !ok {
            println!("baseline: skipped (could not install dashscope==2.0.2)");
            return;
        }
    }
    let fake = FakeServer::start(slot_fake()).await.expect("fake");
    let out = tempfile::tempdir().expect("tmp");
    let result = tokio::process::Command::new(&python)
        .arg(root.join("tests/sdk/baseline.py"))
        .arg(n.to_string())
        .arg(out.path())
        .env("DASHSCOPE_HTTP_BASE_URL", format!("{}/api/v1", fake.base_url()))
        .env("DASHSCOPE_API_KEY", "sk-test")
        .output()
        .await
        .expect("python runs");
    let text = String::from_utf8_lossy(&result.stdout);
    let fields: Vec<&str> = text.split_whitespace().collect();
    let Some(secs) = fields.first().and_then(|f| f.parse::<f64>().ok()) else {
        println!("baseline: failed: {}", String::from_utf8_lossy(&result.stderr));
        return;
    };
    let stats = fake.stats();
    println!("baseline: official Python SDK 2.0.2, 20 threads, async_call + wait + download, 1 s retry on 429");
    println!("  makespan           {secs:.2} s  ({} of {n} videos)", fields.get(1).unwrap_or(&"?"));
    println!("  queries per task   {:.2}", stats.queries as f64 / n as f64);
    println!("  submit 429s        {}", fields.get(2).unwrap_or(&"?"));
    println!("  pixbatch / SDK     {:.3}  (target <= 0.67)", pixbatch_wall.as_secs_f64() / secs);
}
