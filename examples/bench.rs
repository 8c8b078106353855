//! Benchmarks: prints figures and ratios, never fails on a slow machine.
//!
//! `cargo run --release --example bench [quick] [slots|overhead] [unlimited-queries] [N]`:
//! `quick` for a shorter run, `slots` for part 1 only, `overhead` for parts 3-5 only, N jobs
//! for part 1 (default 60); `unlimited-queries` runs part 1 with no query limit on either side
//! (a what-if: how much of the refusing world's refill gap is the 20-per-second query budget).
//!
//! 1. Slot utilisation: N jobs over both families, 5 slots each, task durations 3-6 s drawn by
//!    the fake (seeded per family), DashScope's real rate limits, once with a service that
//!    queues tasks past its 5 running ones and once with one that refuses them. Makespan
//!    against the ideal and against the in-order bound; refill gap; queries per task.
//! 2. Baseline: the same jobs through the official Python SDK (20 threads), same two worlds.
//! 3. Overhead: 10 000 jobs, zero task latency, no limits: wall, pixbatch's CPU per job (the
//!    fake runs on threads of its own, measured apart), peak RSS, ledger bytes.
//! 4. No-op rerun of that finished manifest: time and requests.
//! 6. Mixed storyboard (`mixed`): 64 shots over both families, 360P-1080P, durations across
//!    each model's range, shuffled; the fake's render time grows with the video like the
//!    service's. Per family: the lower bound, the longest-first (LPT) and manifest-order bounds
//!    from the fake's actual task times, and pixbatch's makespan in both orders.
//! 5. Plan at scale: `pixbatch plan --format json` on 10 000- and 100 000-job matrices, each in
//!    a fresh process (this program run again as `plan-child`): time and peak RSS.
//! 7. Jobs in doubt on a shared account (`doubt [quick] [seed=S]...`): two runs at once (two
//!    manifests, two ledgers) on one fake account, each a seed sweep per family, 10 % of create
//!    answers lost. Per seed of the fake: the makespan against the longest-first bound of both
//!    runs' tasks per family and against the same two runs with no answer lost (measured in the
//!    same process), duplicate creates and adoptions of a task made for another request (both
//!    must be 0), and how long doubts held their sweeps.

use std::path::Path;
use std::time::{Duration, Instant};

use pixbatch::api::{ApiConfig, ApiKey, Client};
use pixbatch::fake::{DurationRange, FakeConfig, FakeServer, Stats};
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
    let expansion = pixbatch::plan::expand(&loaded, &ExpandOptions { max_jobs: 100_000, ..ExpandOptions::default() })
        .expect("expand");
    let client = Client::new(ApiConfig::new(&fake.base_url(), ApiKey::new("sk-test")).expect("cfg")).expect("client");
    let input = RunInput { expansion: &expansion, name: None };
    let t = Instant::now();
    let s = pixbatch::run::run(input, client, options, &mut Silent, Default::default()).await.expect("run").summary;
    (s, t.elapsed())
}

/// What the service does with a task past a family's 5 running ones (unconfirmed by the docs).
#[derive(Clone, Copy)]
enum World {
    Queues,
    Refuses,
}

impl World {
    fn label(self) -> &'static str {
        match self {
            World::Queues => "service queues 6th",
            World::Refuses => "service refuses 6th",
        }
    }
}

/// DashScope's limits and 5 slots per family, tasks of 3-6 s drawn from seed 42 (the n-th
/// task of a family always runs as long): the same world for pixbatch and the SDK baseline.
fn slot_fake(world: World) -> FakeConfig {
    FakeConfig {
        run_time: DurationRange { min: Duration::from_secs(3), max: Duration::from_secs(6) },
        seed: 42,
        overflow: matches!(world, World::Refuses),
        pending_min: Duration::ZERO,
        ..FakeConfig::default()
    }
}

/// What part 1 prints for one run.
struct SlotFigures {
    done: usize,
    wall: f64,
    ideal: f64,
    in_order: f64,
    gap: [f64; 2],
    busy: [f64; 2],
    peak_running: u32,
    peak_in_flight: u32,
    queries_per_task: f64,
    throttled: u64,
    duplicates: u64,
}

impl SlotFigures {
    fn new(done: usize, wall: Duration, stats: &Stats) -> SlotFigures {
        let families = ["c1", "v5.6"];
        let runs = |f: &str| stats.run_seconds.get(f).cloned().unwrap_or_default();
        let longest = families.iter().flat_map(|f| runs(f)).fold(0.0, f64::max);
        let ideal = families.iter().map(|f| runs(f).iter().sum::<f64>() / 5.0).fold(longest, f64::max);
        let in_order = families.iter().map(|f| in_order_makespan(&runs(f), 5)).fold(0.0, f64::max);
        let peak = |m: &std::collections::BTreeMap<String, u32>| m.values().copied().max().unwrap_or(0);
        SlotFigures {
            done,
            wall: wall.as_secs_f64(),
            ideal,
            in_order,
            gap: families.map(|f| stats.mean_refill_gap(f)),
            busy: families.map(|f| stats.utilisation(f, 5) * 100.0),
            peak_running: peak(&stats.peak_running),
            peak_in_flight: peak(&stats.peak_in_flight),
            queries_per_task: stats.queries as f64 / done.max(1) as f64,
            throttled: stats.throttled,
            duplicates: stats.duplicate_submissions,
        }
    }
}

/// Makespan of list scheduling: each task, in order, starts on the slot that frees first.
fn in_order_makespan(durations: &[f64], slots: usize) -> f64 {
    let mut free = vec![0.0f64; slots];
    for d in durations {
        if let Some(slot) = free.iter_mut().min_by(|a, b| a.total_cmp(b)) {
            *slot += d;
        }
    }
    free.into_iter().fold(0.0, f64::max)
}

/// User+system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, r)| r).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// User+system CPU seconds of this process's threads named `fake*` (the fake's runtime).
fn fake_cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0.0 };
    let mut total = 0.0;
    for task in tasks.flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !name.starts_with("fake") {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, r)| r).split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
        total += (ticks(11) + ticks(12)) / 100.0;
    }
    total
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
    let args: Vec<String> = std::env::args().collect();
    if let [_, child, manifest] = args.as_slice()
        && child == "plan-child"
    {
        plan_child(manifest);
    }
    let has = |word: &str| std::env::args().any(|a| a == word);
    let quick = has("quick");
    if has("mixed") {
        mixed().await;
        return;
    }
    if has("doubt") {
        let seeds: Vec<u64> = std::env::args().filter_map(|a| a.strip_prefix("seed=")?.parse().ok()).collect();
        doubt(if seeds.is_empty() { vec![1, 2, 3] } else { seeds }, if quick { 6 } else { 10 }).await;
        return;
    }
    if has("tables") {
        tables(if quick { 2_000 } else { 10_000 });
        return;
    }
    let n: usize = std::env::args().filter_map(|a| a.parse().ok()).next().unwrap_or(if quick { 20 } else { 60 });
    if !has("overhead") {
        let figures = slots(n, has("unlimited-queries")).await;
        if !has("slots") {
            sdk_comparison(n, &figures).await;
        }
    }
    if !has("slots") {
        overhead(quick).await;
        plan_at_scale(quick);
        if !has("overhead") {
            mixed().await;
        }
    }
}

/// Reading shots from a table against the same shots in YAML, in one run: `n` shots each with
/// a prompt, a seed and a variable, loaded and expanded five times each, interleaved; the
/// median of each and their ratio. The keys must agree.
fn tables(n: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let head = "version: 1\ndefaults: {model: pixverse/pixverse-c1-r2v, size: \"1280*720\", duration: 5}\nrefs: {man: https://example.com/man.jpg}\n";
    let mut yaml = format!("{head}shots:\n");
    let mut csv = String::from("id,prompt,seed,mood\r\n");
    for i in 0..n {
        yaml += &format!(
            "  - id: s{i}\n    prompt: \"@man walks, take {i}, {{{{mood}}}} \"\n    seed: {i}\n    vars: {{mood: calm}}\n"
        );
        csv += &format!("s{i},\"@man walks, take {i}, {{{{mood}}}} \",{i},calm\r\n");
    }
    std::fs::write(dir.path().join("yaml.yaml"), yaml).expect("yaml");
    std::fs::write(dir.path().join("shots.csv"), csv).expect("csv");
    std::fs::write(dir.path().join("table.yaml"), format!("{head}shots_from: shots.csv\n")).expect("table");
    let time = |name: &str| {
        let start = Instant::now();
        let loaded = pixbatch::manifest::load(&dir.path().join(name)).expect("load");
        let expansion = pixbatch::plan::expand(&loaded, &pixbatch::plan::ExpandOptions::default()).expect("expand");
        (start.elapsed().as_secs_f64(), expansion.jobs.iter().map(|j| j.key.clone()).collect::<Vec<_>>())
    };
    let (mut from_yaml, mut from_table) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let (y, yaml_keys) = time("yaml.yaml");
        let (t, table_keys) = time("table.yaml");
        assert!(yaml_keys == table_keys, "the table's keys differ from the YAML's");
        from_yaml.push(y);
        from_table.push(t);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (y, t) = (median(&mut from_yaml), median(&mut from_table));
    println!("== tables: {n} shots, load + expand, median of 5");
    println!("YAML  {y:.3} s");
    println!("table {t:.3} s  ({:.2} x YAML), the same {n} keys", t / y);
}

/// A storyboard as people write one: shots of several model families (PixVerse c1 and v5.6;
/// three Vidu models sharing one pool of 5; two Kling models sharing one of 10), every tier,
/// durations across each model's range, in no particular order (seeded shuffle).
fn mixed_manifest(dir: &Path) -> std::path::PathBuf {
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
    let sizes = ["640*360", "1024*576", "1280*720", "1920*1080"];
    let mut shots = Vec::new();
    for i in 0..32 {
        let size = sizes[i % 4];
        let duration = rng.random_range(1..=15);
        shots.push(format!(
            "  - {{id: c{i}, model: pixverse/pixverse-c1-r2v, size: \"{size}\", duration: {duration}, prompt: \"@man scene {i}\"}}\n"
        ));
    }
    for i in 0..32 {
        let size = sizes[i % 4];
        let choices: &[u32] = if size == "1920*1080" { &[5, 8] } else { &[5, 8, 10] };
        let duration = choices[rng.random_range(0..choices.len())];
        shots.push(format!(
            "  - {{id: v{i}, model: pixverse/pixverse-v5.6-r2v, size: \"{size}\", duration: {duration}, prompt: \"@man take {i}\"}}\n"
        ));
    }
    let vidu = [
        ("vidu/viduq3_reference2video", "@man runs {i}", ""),
        ("vidu/viduq3-pro_text2video", "a city at night, scene {i}", ""),
        ("vidu/viduq3-turbo_img2video", "the man turns, scene {i}", ", first_frame: man"),
    ];
    for i in 0..24 {
        let (model, prompt, extra) = vidu[i % 3];
        let resolution = ["540P", "720P", "1080P"][rng.random_range(0..3)];
        let duration = rng.random_range(1..=16);
        let prompt = prompt.replace("{i}", &i.to_string());
        shots.push(format!(
            "  - {{id: u{i}, model: {model}, resolution: {resolution}, duration: {duration}, prompt: \"{prompt}\"{extra}}}\n"
        ));
    }
    let kling = ["kling/kling-v3-video-generation", "kling/kling-v3-omni-video-generation"];
    for i in 0..24 {
        let model = kling[i % 2];
        let resolution = ["720P", "1080P"][rng.random_range(0..2)];
        let duration = rng.random_range(3..=15);
        shots.push(format!(
            "  - {{id: k{i}, model: {model}, resolution: {resolution}, duration: {duration}, prompt: \"a duel on a rooftop, take {i}\"}}\n"
        ));
    }
    shots.shuffle(&mut rng);
    let text = format!(
        "version: 1\noutput: out\ndefaults: {{ratio: \"16:9\"}}\nrefs: {{man: https://example.com/m.jpg}}\nshots:\n{}",
        shots.concat()
    );
    let path = dir.join("mixed.yaml");
    std::fs::write(&path, text).expect("write manifest");
    path
}

/// Makespan of longest-first list scheduling of `durations` on `slots`.
fn lpt_makespan(durations: &[f64], slots: usize) -> f64 {
    let mut sorted = durations.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    in_order_makespan(&sorted, slots)
}

/// Part 6: a mixed storyboard, longest-first against manifest order.
async fn mixed() {
    let render = pixbatch::fake::Render { base: Duration::from_secs(3), ..pixbatch::fake::Render::default() };
    let config =
        FakeConfig { render: Some(render.clone()), seed: 42, pending_min: Duration::ZERO, ..FakeConfig::default() };
    let dir = tempfile::tempdir().expect("tmp");
    let path = mixed_manifest(dir.path());
    let loaded = pixbatch::manifest::load(&path).expect("manifest");
    let expansion = pixbatch::plan::expand(&loaded, &ExpandOptions::default()).expect("expand");
    let families = ["c1", "v5.6", "vidu", "kling"];
    let slots = families.map(|f| pixbatch::catalog::Family::from_name(f).service_slots().unwrap_or(5) as usize);
    // Each job's actual render time: the fake's own function of the request.
    let actual = |family: &str| -> Vec<f64> {
        expansion
            .jobs
            .iter()
            .filter(|j| j.family.name() == family)
            .map(|j| render.run_time(config.seed, &j.request_body()).as_secs_f64())
            .collect()
    };
    let mut spans = Vec::new();
    for order in [pixbatch::run::Order::LongestFirst, pixbatch::run::Order::Manifest] {
        let fake = FakeServer::start(config.clone()).await.expect("fake");
        let options = RunOptions { order, ..RunOptions::default() };
        let (s, _) = run(&path, &fake, &options).await;
        let stats = fake.stats();
        assert_eq!(s.counts.done, expansion.jobs.len(), "every job done");
        spans.push((families.map(|f| stats.span_seconds.get(f).copied().unwrap_or(0.0)), stats));
        std::fs::remove_dir_all(dir.path().join("out")).expect("clean");
    }
    println!(
        "mixed storyboard: {} shots over four pools (c1 5, v5.6 5, vidu 5 shared by three models, kling 10 shared by two), 360P-1080P, shuffled; render time grows with the video (base {:?}, seed 42), DashScope's limits",
        expansion.jobs.len(),
        render.base
    );
    println!("  {:<44} {:>18} {:>18} {:>18} {:>18}", "", "c1 (5)", "v5.6 (5)", "vidu (5)", "kling (10)");
    let row = |name: &str, f: &dyn Fn(usize) -> String| {
        println!("  {name:<44} {:>18} {:>18} {:>18} {:>18}", f(0), f(1), f(2), f(3))
    };
    let times: Vec<Vec<f64>> = families.iter().map(|f| actual(f)).collect();
    let lower = |i: usize| {
        let t = &times[i];
        (t.iter().sum::<f64>() / slots[i] as f64).max(t.iter().copied().fold(0.0, f64::max))
    };
    let lpt = |i: usize| lpt_makespan(&times[i], slots[i]);
    let in_order = |i: usize| in_order_makespan(&times[i], slots[i]);
    row("jobs, render seconds", &|i| format!("{}, {:.0} s", times[i].len(), times[i].iter().sum::<f64>()));
    row("lower bound max(sum/5, longest)", &|i| format!("{:.2} s", lower(i)));
    row("longest-first (LPT) bound", &|i| format!("{:.2} s", lpt(i)));
    row("manifest-order bound", &|i| format!("{:.2} s ({:.3} LPT)", in_order(i), in_order(i) / lpt(i)));
    let used = |k: usize, i: usize| {
        in_order_makespan(&spans[k].1.run_seconds.get(families[i]).cloned().unwrap_or_default(), slots[i])
    };
    row("bound of the order pixbatch sent", &|i| format!("{:.2} s ({:.3} LPT)", used(0, i), used(0, i) / lpt(i)));
    row("pixbatch, longest-first", &|i| format!("{:.2} s", spans[0].0[i]));
    row("  / LPT bound (target <= 1.05)", &|i| format!("{:.3}", spans[0].0[i] / lpt(i)));
    row("  / lower bound", &|i| format!("{:.3}", spans[0].0[i] / lower(i)));
    row("pixbatch, --order manifest", &|i| format!("{:.2} s", spans[1].0[i]));
    row("  / manifest-order bound", &|i| format!("{:.3}", spans[1].0[i] / in_order(i)));
    row("longest-first / manifest order", &|i| format!("{:.3}", spans[0].0[i] / spans[1].0[i]));
    let per = |k: usize, f: &dyn Fn(&Stats) -> f64| f(&spans[k].1);
    println!(
        "  queries per task {:.2} / {:.2}, duplicate creates {} / {}, 429s {} / {} (longest-first / manifest)",
        per(0, &|s| s.queries as f64) / expansion.jobs.len() as f64,
        per(1, &|s| s.queries as f64) / expansion.jobs.len() as f64,
        spans[0].1.duplicate_submissions,
        spans[1].1.duplicate_submissions,
        spans[0].1.throttled,
        spans[1].1.throttled
    );
    println!("  (makespan per family: its first create to its last task's end, as the fake saw them)");
}

/// Part 5: `plan --format json` at scale, each size in a process of its own so that its peak
/// RSS is its own.
fn plan_at_scale(quick: bool) {
    println!("plan --format json (a fresh process each)");
    let sizes: &[usize] = if quick { &[10_000] } else { &[10_000, 100_000] };
    for &jobs in sizes {
        let dir = tempfile::tempdir().expect("tmp");
        let path = manifest(dir.path(), jobs / 2);
        let t = Instant::now();
        let out = std::process::Command::new(std::env::current_exe().expect("own path"))
            .arg("plan-child")
            .arg(&path)
            .output()
            .expect("plan child");
        let wall = t.elapsed().as_secs_f64();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let rss = stderr.lines().find_map(|l| l.strip_prefix("peak_rss_mib ")).unwrap_or("?");
        let ok = out.status.success() && out.stdout.starts_with(b"{");
        println!(
            "  {jobs:>7} jobs       {wall:.2} s, peak RSS {rss} MiB, {:.1} MB of JSON{}  (target < 200 MB)",
            out.stdout.len() as f64 / 1e6,
            if ok { "" } else { " -- FAILED" }
        );
    }
}

/// The child of part 5: the CLI's own `plan`, then this process's peak RSS on stderr.
fn plan_child(manifest: &str) -> ! {
    let code = pixbatch::cli::main_from(["pixbatch", "plan", "--format", "json", "--max-jobs", "1000000", manifest]);
    eprintln!("peak_rss_mib {:.1}", peak_rss_mib());
    std::process::exit(code);
}

/// Part 1: pixbatch keeping the slots busy.
///
/// With `unlimited_queries` the account's 20 queries per second are lifted on both sides and a
/// task may be polled every 100 ms: the what-if that shows how much of the refusing world's
/// refill gap is the query budget (per-task polling cannot see a finish sooner than the
/// budget allows).
async fn slots(n: usize, unlimited_queries: bool) -> Vec<SlotFigures> {
    // 1. Slot utilisation, in both worlds the API page leaves open (dashscope-api.md §6):
    // the service queues a task past its 5 running ones as PENDING, or refuses it with 429.
    let dir = tempfile::tempdir().expect("tmp");
    let path = manifest(dir.path(), n / 2);
    let worlds = [World::Queues, World::Refuses];
    let mut figures = Vec::new();
    for world in worlds {
        let mut config = slot_fake(world);
        let mut options = RunOptions::default();
        if unlimited_queries {
            config.query_rps = 100_000;
            options.query_per_second = 100_000;
            options.poll.min_interval = Duration::from_millis(100);
        }
        let fake = FakeServer::start(config).await.expect("fake");
        let (s, wall) = run(&path, &fake, &options).await;
        figures.push(SlotFigures::new(s.counts.done, wall, &fake.stats()));
        std::fs::remove_dir_all(dir.path().join("out")).expect("clean");
    }
    let limits = if unlimited_queries { "no query limit, polls >= 100 ms apart" } else { "DashScope's rate limits" };
    println!("slot utilisation: {n} jobs over 2 families x 5 slots, tasks 3-6 s (seed 42), {limits}");
    println!("  {:<34} {:>22} {:>22}", "", World::Queues.label(), World::Refuses.label());
    let row = |name: &str, f: &dyn Fn(&SlotFigures) -> String| {
        println!("  {name:<34} {:>22} {:>22}", f(&figures[0]), f(&figures[1]));
    };
    row("videos", &|f| f.done.to_string());
    row("makespan", &|f| format!("{:.2} s", f.wall));
    row("ideal makespan (sum/5, longest)", &|f| format!("{:.2} s", f.ideal));
    row("ratio (target <= 1.10)", &|f| format!("{:.3}", f.wall / f.ideal));
    row("in-order bound", &|f| format!("{:.2} s ({:.3})", f.in_order, f.in_order / f.ideal));
    row("refill gap c1 / v5.6", &|f| format!("{:.3} / {:.3} s", f.gap[0], f.gap[1]));
    row("slots busy c1 / v5.6", &|f| format!("{:.1} / {:.1} %", f.busy[0], f.busy[1]));
    row("peak running / in flight", &|f| format!("{} / {}", f.peak_running, f.peak_in_flight));
    row("queries per task (target <= 8)", &|f| format!("{:.2}", f.queries_per_task));
    row("429s", &|f| f.throttled.to_string());
    row("duplicate creates", &|f| f.duplicates.to_string());
    println!("  (in-order bound: the makespan of starting the tasks in order, each the instant a slot frees,");
    println!("   durations unknown in advance -- the best any runner can do without knowing them)");
    figures
}

/// The baseline: the same jobs through the official SDK, in both worlds.
async fn sdk_comparison(n: usize, figures: &[SlotFigures]) {
    let worlds = [World::Queues, World::Refuses];
    let mut sdk = Vec::new();
    for world in worlds {
        sdk.push(baseline(n, world).await);
    }
    println!(
        "baseline: official Python SDK 2.0.2, 20 threads, async_call + wait + download, 1 s retry on a 429 submit"
    );
    println!("  {:<34} {:>22} {:>22}", "", World::Queues.label(), World::Refuses.label());
    let row = |name: &str, f: &dyn Fn(&SdkFigures, &SlotFigures) -> String| {
        let cell = |i: usize| sdk[i].as_ref().map_or_else(|| "skipped".to_owned(), |s| f(s, &figures[i]));
        println!("  {name:<34} {:>22} {:>22}", cell(0), cell(1));
    };
    row("videos", &|s, _| format!("{} of {n}", s.videos));
    row("tasks paid for, video not saved", &|s, _| s.paid_for_nothing.to_string());
    row("makespan", &|s, _| format!("{:.2} s", s.wall));
    row("queries per task", &|s, _| format!("{:.2}", s.queries_per_task));
    row("429s (submit + query)", &|s, _| s.throttled.to_string());
    row("pixbatch / SDK (target <= 0.67)", &|s, p| format!("{:.3}", p.wall / s.wall));
    row("floor: ideal / SDK", &|s, p| format!("{:.3}", p.ideal / s.wall));
    println!("  (floor: what a runner with no overhead at all would score; below it is impossible)");
}

/// Parts 3 and 4: pixbatch's own cost at 10 000 jobs, and a rerun that has nothing to do.
async fn overhead(quick: bool) {
    // 3. Overhead at 10 000 jobs.
    let dir = tempfile::tempdir().expect("tmp");
    let path = manifest(dir.path(), if quick { 1000 } else { 5000 });
    // The fake gets a runtime of its own, on threads named `fake`, so that its CPU time can be
    // told apart from pixbatch's.
    let fake_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("fake")
        .enable_all()
        .build()
        .expect("fake runtime");
    let fake = fake_rt
        .spawn(FakeServer::start(FakeConfig {
            run_time: DurationRange::fixed(Duration::ZERO),
            submit_rps: 0,
            query_rps: 0,
            concurrency: Some(10_000),
            pending_min: Duration::ZERO,
            ..FakeConfig::default()
        }))
        .await
        .expect("fake task")
        .expect("fake");
    let options = RunOptions {
        default_concurrency: Some(10_000),
        submit_per_second: Some(1_000_000),
        query_per_second: 1_000_000,
        poll: PollConfig { min_interval: Duration::from_millis(1), max_interval: Duration::from_millis(20) },
        download_concurrency: 32,
        ..RunOptions::default()
    };
    let (cpu0, fake0) = (cpu_seconds(), fake_cpu_seconds());
    let (s, wall) = run(&path, &fake, &options).await;
    let fake_cpu = fake_cpu_seconds() - fake0;
    let cpu = cpu_seconds() - cpu0 - fake_cpu;
    let total = s.counts.done as f64;
    let ledger = std::fs::metadata(dir.path().join("out/.pixbatch/journal.jsonl")).map_or(0, |m| m.len());
    println!("overhead: {} jobs, zero task latency, no limits", s.counts.done);
    println!("  wall               {:.2} s", wall.as_secs_f64());
    println!("  CPU per job        {:.3} ms  (pixbatch alone; target <= 1 ms)", cpu * 1000.0 / total);
    println!("  fake's CPU per job {:.3} ms  (its own threads, not counted above)", fake_cpu * 1000.0 / total);
    println!("  peak RSS           {:.1} MiB  (the whole process, fake included)", peak_rss_mib());
    println!("  ledger             {} bytes ({:.0} per job)", ledger, ledger as f64 / total);

    // 4. No-op rerun.
    fake.reset_stats();
    let (s, wall) = run(&path, &fake, &options).await;
    println!("no-op rerun: {} jobs skipped", s.counts.skipped);
    println!("  wall               {:.3} s  (target < 0.5 s)", wall.as_secs_f64());
    println!("  requests           {}", fake.stats().api_requests() + fake.stats().downloads);
    drop(fake);
    fake_rt.shutdown_background();
    // The contact sheet of those jobs (every run writes it; the rerun above included it).
    let loaded = pixbatch::manifest::load(&path).expect("manifest");
    let expansion = pixbatch::plan::expand(&loaded, &ExpandOptions { max_jobs: 100_000, ..ExpandOptions::default() })
        .expect("expand");
    let ledger = pixbatch::ledger::Ledger::load(&expansion.output_dir).expect("ledger");
    let picks = pixbatch::review::Picks::default();
    let t = Instant::now();
    pixbatch::review::sheet::write(&expansion, &ledger, &picks, None).expect("review.html");
    let size = std::fs::metadata(expansion.output_dir.join("review.html")).map_or(0, |m| m.len());
    println!(
        "review.html of {} jobs: {:.3} s, {:.1} MB (videos load only when scrolled into view)  (target well under 1 s)",
        expansion.jobs.len(),
        t.elapsed().as_secs_f64(),
        size as f64 / 1e6
    );
}

/// What the SDK baseline printed, and what the fake counted.
struct SdkFigures {
    videos: usize,
    wall: f64,
    /// Tasks the service made (and bills) whose video the script never saved.
    paid_for_nothing: usize,
    queries_per_task: f64,
    throttled: u64,
}

/// The same jobs through the official Python SDK in 20 threads, against an identical fake.
async fn baseline(n: usize, world: World) -> Option<SdkFigures> {
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
            return None;
        }
    }
    let fake = FakeServer::start(slot_fake(world)).await.expect("fake");
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
    let (Some(wall), Some(videos)) =
        (fields.first().and_then(|f| f.parse().ok()), fields.get(1).and_then(|f| f.parse().ok()))
    else {
        println!("baseline: failed: {}", String::from_utf8_lossy(&result.stderr));
        return None;
    };
    let stats = fake.stats();
    Some(SdkFigures {
        videos,
        wall,
        paid_for_nothing: (stats.submissions as usize).saturating_sub(videos),
        queries_per_task: stats.queries as f64 / n as f64,
        throttled: stats.throttled,
    })
}

/// Counts what runs said about their jobs in doubt, and for how long each was in doubt.
#[derive(Default)]
struct DoubtNotes {
    since: std::collections::HashMap<String, Instant>,
    held: Vec<f64>,
    adopted: usize,
    nothing_made: usize,
    ambiguous: usize,
}

impl pixbatch::run::Reporter for DoubtNotes {
    fn update(&mut self, _: &pixbatch::run::Counts) {}
    fn note(&mut self, note: &pixbatch::run::Note) {
        let pixbatch::run::Note::Reconciled { job, decision } = note else { return };
        if decision.starts_with("its create call got no answer") {
            self.since.insert(job.clone(), Instant::now());
            return;
        }
        if decision.starts_with("in doubt until") {
            return;
        }
        if decision.starts_with("adopted") {
            self.adopted += 1;
        } else if decision.starts_with("no task") {
            self.nothing_made += 1;
        } else {
            self.ambiguous += 1;
        }
        if let Some(t) = self.since.remove(job) {
            self.held.push(t.elapsed().as_secs_f64());
        }
    }
}

/// What part 7 measured for one seed of the fake.
struct DoubtFigures {
    lpt: f64,
    clean: f64,
    lossy: f64,
    lost: u64,
    notes: DoubtNotes,
    done: usize,
    jobs: usize,
    duplicates: u64,
    paid_twice: u64,
    wrong_task: usize,
}

/// Part 7: two runs sharing an account, 10 % of create answers lost, seed sweeps.
async fn doubt(seeds: Vec<u64>, per_shot: usize) {
    let render = pixbatch::fake::Render {
        base: Duration::from_secs(4),
        noise: 0.25,
        family_factor: [("c1".to_owned(), 1.0), ("v5.6".to_owned(), 1.0)].into(),
        ..pixbatch::fake::Render::default()
    };
    let dir = tempfile::tempdir().expect("tmp");
    let sweep = (0..per_shot).map(|s| s.to_string()).collect::<Vec<_>>().join(",");
    let write = |name: &str, c1: &str, v56: &str| {
        let text = format!(
            "version: 1\noutput: {name}\ndefaults: {{size: \"1280*720\", duration: 5}}\nrefs: {{man: https://example.com/m.jpg}}\nshots:\n  - id: a\n    model: pixverse/pixverse-c1-r2v\n    prompt: \"{c1}\"\n    matrix: {{seed: [{sweep}]}}\n  - id: b\n    model: pixverse/pixverse-v5.6-r2v\n    prompt: \"{v56}\"\n    matrix: {{seed: [{sweep}]}}\n"
        );
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, text).expect("write manifest");
        pixbatch::plan::expand(&pixbatch::manifest::load(&path).expect("manifest"), &ExpandOptions::default())
            .expect("expand")
    };
    let runs =
        [write("a", "@man fights", "@man walks home"), write("b", "@man fights in the rain", "@man walks to work")];
    let jobs = runs.iter().map(|e| e.jobs.len()).sum::<usize>();
    println!(
        "jobs in doubt: two runs at once on one account (two manifests, two ledgers), each a sweep of {per_shot} seeds per family, {jobs} jobs; tasks 3-5 s (c1) and 3-5 s (v5.6), 5 slots per family shared, DashScope's limits, default run options"
    );
    println!(
        "  {:>4} {:>8} {:>8} {:>8} {:>8} {:>8} {:>5} {:>17} {:>9} {:>6} {:>6} {:>7}",
        "seed",
        "LPT",
        "no loss",
        "10% lost",
        "/LPT",
        "/no loss",
        "lost",
        "adopt/none/ambig",
        "held s",
        "done",
        "dup",
        "wrong"
    );
    let mut all = Vec::new();
    for seed in seeds {
        let config =
            FakeConfig { render: Some(render.clone()), seed, pending_min: Duration::ZERO, ..FakeConfig::default() };
        let lpt = ["c1", "v5.6"]
            .iter()
            .map(|f| {
                let times: Vec<f64> = runs
                    .iter()
                    .flat_map(|e| &e.jobs)
                    .filter(|j| j.family.name() == *f)
                    .map(|j| render.run_time(seed, &j.request_body()).as_secs_f64())
                    .collect();
                lpt_makespan(&times, 5)
            })
            .fold(0.0, f64::max);
        let once = async |lost: f64| {
            let faults = pixbatch::fake::Faults { lost_create_answer: lost, ..Default::default() };
            let fake = FakeServer::start(FakeConfig { faults, ..config.clone() }).await.expect("fake");
            for e in &runs {
                let _ = std::fs::remove_dir_all(&e.output_dir);
            }
            let options = RunOptions::default();
            let one = async |e: &pixbatch::plan::Expansion| {
                let client = Client::new(ApiConfig::new(&fake.base_url(), ApiKey::new("sk-test")).expect("cfg"))
                    .expect("client");
                let mut notes = DoubtNotes::default();
                let input = RunInput { expansion: e, name: None };
                let out =
                    pixbatch::run::run(input, client, &options, &mut notes, Default::default()).await.expect("run");
                (out, notes)
            };
            let t = Instant::now();
            let ((a, notes_a), (b, notes_b)) = tokio::join!(one(&runs[0]), one(&runs[1]));
            let wall = t.elapsed().as_secs_f64();
            let mut notes = notes_a;
            notes.held.extend(notes_b.held);
            notes.adopted += notes_b.adopted;
            notes.nothing_made += notes_b.nothing_made;
            notes.ambiguous += notes_b.ambiguous;
            // A task in a ledger made for any other request than its job's: another run's task.
            let mut wrong_task = 0;
            for (e, out) in runs.iter().zip([&a, &b]) {
                for job in &e.jobs {
                    let Some(task) = out.ledger.records.get(&job.key).and_then(|r| r.task_id.clone()) else { continue };
                    if fake.task_body(&task).is_none_or(|(body, _)| body != job.request_body()) {
                        wrong_task += 1;
                    }
                }
            }
            let stats = fake.stats();
            (wall, a.summary.counts.done + b.summary.counts.done, stats, notes, wrong_task)
        };
        let (clean, ..) = once(0.0).await;
        let (lossy, done, stats, notes, wrong_task) = once(0.1).await;
        let f = DoubtFigures {
            lpt,
            clean,
            lossy,
            lost: stats.dropped,
            notes,
            done,
            jobs,
            duplicates: stats.duplicate_submissions,
            paid_twice: stats.bodies_paid_twice,
            wrong_task,
        };
        let held = &f.notes.held;
        let mean_held = if held.is_empty() {
            "-".to_owned()
        } else {
            format!("{:.2}s", held.iter().sum::<f64>() / held.len() as f64)
        };
        println!(
            "  {seed:>4} {:>7.2}s {:>7.2}s {:>7.2}s {:>8.3} {:>8.3} {:>5} {:>17} {:>9} {:>6} {:>6} {:>7}",
            f.lpt,
            f.clean,
            f.lossy,
            f.lossy / f.lpt,
            f.lossy / f.clean,
            f.lost,
            format!("{}/{}/{}", f.notes.adopted, f.notes.nothing_made, f.notes.ambiguous),
            mean_held,
            format!("{}/{}", f.done, f.jobs),
            f.duplicates + f.paid_twice,
            f.wrong_task
        );
        all.push(f);
    }
    let ratios: Vec<f64> = all.iter().map(|f| f.lossy / f.lpt).collect();
    let clean: Vec<f64> = all.iter().map(|f| f.clean / f.lpt).collect();
    let range = |v: &[f64]| (v.iter().copied().fold(f64::INFINITY, f64::min), v.iter().copied().fold(0.0, f64::max));
    let ((lo, hi), (clo, chi)) = (range(&ratios), range(&clean));
    println!("  10% lost / LPT {lo:.2}-{hi:.2} (no loss / LPT {clo:.2}-{chi:.2})");
    println!("  (LPT: both runs' tasks per family, longest first on 5 slots, from the fake's render times;");
    println!("   held s: mean seconds from a lost answer to its doubt's decision; dup: duplicate creates");
    println!("   plus requests paid twice; wrong: ledger tasks made for another request than the job's)");
}
