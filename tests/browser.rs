//! The contact sheet in a real headless Chromium, driven through WebDriver (`chromedriver`):
//! from `file://` and from `pixbatch review`. `.ci/run` installs Debian's `chromium` and
//! `chromium-driver`; in CI this test fails rather than skip when they are missing.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{expand, run_with_failures};
use fantoccini::{ClientBuilder, Locator};

fn storyboard(dir: &Path) -> PathBuf {
    common::small_manifest(
        dir,
        "storyboard.yaml",
        Some("browser"),
        "  - id: intro\n    prompt: \"@man walks in\"\n  - id: fight\n    prompt: \"@man fights\"\n    matrix: {seed: [1, 2], size: [\"640*360\", \"1024*576\"]}\n  - id: walk\n    prompt: \"@man walks home\"\n    matrix: {seed: [1, 2, 3]}\n",
    )
}

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tool(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn driver() -> Option<(Driver, PathBuf)> {
    let (Some(chromedriver), Some(chromium)) =
        (tool("chromedriver"), tool("chromium").or_else(|| tool("google-chrome")))
    else {
        assert!(std::env::var_os("CI").is_none(), "CI must install chromium and chromium-driver (.ci/run does)");
        eprintln!("skipped: no chromium/chromedriver here (apt-get install chromium chromium-driver)");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver { child, port };
    // Ready when it accepts connections (a condition, polled; not a fixed sleep).
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some((driver, chromium))
}

async fn browser(driver: &Driver, chromium: &Path) -> fantoccini::Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1400", "--autoplay-policy=no-user-gesture-required"],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a browser session")
}

/// Scrolls every take's video into view (they load only then) and returns, per video, its
/// readyState and duration once its metadata is in.
const LOAD_VIDEOS: &str = r#"
const done = arguments[arguments.length - 1];
(async () => {
  const out = [];
  for (const v of document.querySelectorAll('video')) {
    v.scrollIntoView();
    await new Promise(r => {
      if (v.readyState >= 1) return r();
      v.addEventListener('loadedmetadata', r, {once: true});
      v.addEventListener('error', r, {once: true});
      setTimeout(r, 15000);
    });
    out.push([v.readyState, v.duration, v.getAttribute('src') || '']);
  }
  done(out);
})();
"#;

const VISIBLE_TAKES: &str =
    "return [...document.querySelectorAll('.take')].filter(f => !f.classList.contains('hidden')).length;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contact_sheet_plays_filters_and_picks_in_a_real_browser() {
    let Some((driver, chromium)) = driver() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = storyboard(dir.path());
    let summary = run_with_failures(&manifest).await;
    let (done, failed) = (summary.counts.done, summary.counts.failed);
    assert!(done > 0 && failed > 0, "{summary:?}");
    let out = dir.path().join("out");
    let client = browser(&driver, &chromium).await;

    // From file://: nothing loads before it is scrolled to; then one playable video per done take.
    client.goto(&format!("file://{}", out.join("review.html").display())).await.expect("open");
    let before: Vec<String> = serde_json::from_value(
        client
            .execute("return [...document.querySelectorAll('video')].map(v => v.getAttribute('src') || '');", vec![])
            .await
            .expect("js"),
    )
    .expect("list");
    assert_eq!(before.len(), done);
    let loaded = client.execute_async(LOAD_VIDEOS, vec![]).await.expect("videos load");
    let loaded: Vec<(u32, f64, String)> = serde_json::from_value(loaded).expect("list");
    assert_eq!(loaded.len(), done);
    for (ready, duration, src) in &loaded {
        assert!(*ready >= 1 && *duration > 0.0, "{src}: readyState {ready}, duration {duration}");
        assert!(!src.starts_with('/') && !src.contains("://"), "relative: {src}");
    }
    client.execute("window.scrollTo(0, 0);", vec![]).await.expect("js");
    let png = client.screenshot().await.expect("screenshot");
    let shot = std::env::var_os("PIXBATCH_SCREENSHOT")
        .map_or_else(|| std::env::temp_dir().join("pixbatch-review.png"), PathBuf::from);
    std::fs::write(&shot, &png).expect("write screenshot");
    assert!(png.starts_with(b"\x89PNG"));
    // Filters: by state, then by text.
    client.find(Locator::Css("#state")).await.expect("state").select_by_value("failed").await.expect("select");
    let shown = client.execute(VISIBLE_TAKES, vec![]).await.expect("js");
    assert_eq!(shown.as_u64(), Some(failed as u64));
    client.find(Locator::Css("#state")).await.expect("state").select_by_value("").await.expect("select");
    client.find(Locator::Css("#text")).await.expect("text").send_keys("walks home").await.expect("type");
    assert_eq!(client.execute(VISIBLE_TAKES, vec![]).await.expect("js").as_u64(), Some(3));

    // Served: a pick button writes the pick, through the same code path as `pixbatch pick`.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let server = pixbatch::review::server::start(listener, expand(&manifest), Some("browser".into())).expect("serve");
    client.goto(&server.url()).await.expect("open served");
    let button = client.find(Locator::Css("figure[data-state=done] button.pick")).await.expect("a pick button");
    let figure_key: String = serde_json::from_value(
        client
            .execute("return document.querySelector('figure[data-state=done]').dataset.key;", vec![])
            .await
            .expect("js"),
    )
    .expect("key");
    button.click().await.expect("click");
    let deadline = Instant::now() + Duration::from_secs(20);
    let shot_of_pick = loop {
        let picks = pixbatch::review::Picks::load(&out).expect("picks");
        if let Some((shot, _)) = picks.shots.iter().find(|(_, p)| p.key.as_str() == figure_key) {
            break shot.clone();
        }
        assert!(Instant::now() < deadline, "the click wrote no pick");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    client.wait().for_element(Locator::Css("figure.picked")).await.expect("the page shows the pick");
    assert!(!shot_of_pick.is_empty());
    client.close().await.expect("close");
}

/// Polls `js` (a function body returning a value) until it returns something truthy, or fails
/// after 30 s naming `what`.
async fn until(client: &fantoccini::Client, js: &str, what: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = client.execute(js, vec![]).await.expect("js");
        if !(v.is_null() || v == false || v == 0 || v == "") {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A storyboard whose every take is done, served by `pixbatch review`'s server.
async fn served_storyboard(dir: &Path) -> (PathBuf, pixbatch::review::server::ReviewServer) {
    let manifest = storyboard(dir);
    let fake = pixbatch::fake::FakeServer::start(common::fast_fake()).await.expect("fake");
    assert_eq!(common::run(&manifest, &fake, &common::fast_options()).await.counts.done, 8);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let server = pixbatch::review::server::start(listener, expand(&manifest), Some("browser".into())).expect("serve");
    (manifest, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrow_right_then_p_picks_the_next_take() {
    let Some((driver, chromium)) = driver() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let (_manifest, server) = served_storyboard(dir.path()).await;
    let out = dir.path().join("out");
    let client = browser(&driver, &chromium).await;
    client.goto(&server.url()).await.expect("open");

    // The cursor starts on the first take, visibly and for assistive technology.
    let keys: Vec<String> = serde_json::from_value(
        client
            .execute("return [...document.querySelectorAll('.take')].map(f => f.dataset.key);", vec![])
            .await
            .expect("js"),
    )
    .expect("keys");
    let cursor = |key: &str| format!(".take.cursor[aria-current=true][data-key='{key}']");
    client.wait().for_element(Locator::Css(&cursor(&keys[0]))).await.expect("the cursor on the first take");
    let ring =
        until(&client, "return getComputedStyle(document.querySelector('.take.cursor')).outlineStyle;", "a ring").await;
    assert_eq!(ring, "solid", "the cursor is visible");

    client.active_element().await.expect("focus").send_keys(&fantoccini::key::Key::Right.to_string()).await.expect("→");
    client.wait().for_element(Locator::Css(&cursor(&keys[1]))).await.expect("→ moves the cursor to the next take");
    client.active_element().await.expect("focus").send_keys("p").await.expect("p");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let picks = pixbatch::review::Picks::load(&out).expect("picks");
        if picks.shots.values().any(|p| p.key.as_str() == keys[1]) {
            assert_eq!(picks.shots.len(), 1, "only the take under the cursor: {picks:?}");
            break;
        }
        assert!(Instant::now() < deadline, "p wrote no pick");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The page reloads with the pick shown and the cursor where it was.
    let picked = format!("figure.picked.cursor[data-key='{}']", keys[1]);
    client.wait().for_element(Locator::Css(&picked)).await.expect("the pick shown, the cursor kept");
    client.close().await.expect("close");
}

/// Resolves with the largest gap between the two compared videos' `currentTime` over the next
/// `timeupdate` events of the first (or fails after 20 s).
const GAP_WHILE_PLAYING: &str = r#"
const done = arguments[arguments.length - 1];
const [a, b] = document.querySelectorAll('#compare video');
let gap = 0, seen = 0;
const give_up = setTimeout(() => done({gap: -1, seen}), 20000);
a.addEventListener('timeupdate', function f() {
  if (a.seeking || b.seeking) return;
  gap = Math.max(gap, Math.abs(a.currentTime - b.currentTime));
  if (++seen >= 6) { a.removeEventListener('timeupdate', f); clearTimeout(give_up); done({gap, seen, paused: a.paused || b.paused}); }
});
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_takes_compared_side_by_side_play_and_seek_in_sync() {
    let Some((driver, chromium)) = driver() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let (_manifest, server) = served_storyboard(dir.path()).await;
    let client = browser(&driver, &chromium).await;
    client.goto(&server.url()).await.expect("open");

    // Two takes of `walk` (three seeds) are chosen: the compare view opens with both.
    let boxes = client.find_all(Locator::Css("section[data-shot=walk] input.compare")).await.expect("checkboxes");
    assert_eq!(boxes.len(), 3);
    boxes[0].click().await.expect("first");
    boxes[2].click().await.expect("second");
    client.wait().for_element(Locator::Css("dialog#compare[open]")).await.expect("the compare view opens");
    let srcs = until(
        &client,
        "const v = [...document.querySelectorAll('#compare video')]; return v.length === 2 && v.every(x => x.readyState >= 2) && v.map(x => x.getAttribute('src'));",
        "both videos loaded",
    )
    .await;
    assert_eq!(srcs, serde_json::json!(["walk/seed-1.mp4", "walk/seed-3.mp4"]));

    // One control plays both.
    client.find(Locator::Css("#cplay")).await.expect("play").click().await.expect("click");
    until(
        &client,
        "const v = [...document.querySelectorAll('#compare video')]; return v.every(x => !x.paused && x.currentTime > 0);",
        "both videos playing",
    )
    .await;
    // Seek with the shared slider: both move there, and stay together while they play.
    client
        .execute(
            "const s = document.getElementById('cseek'); s.value = '0.5'; s.dispatchEvent(new Event('input'));",
            vec![],
        )
        .await
        .expect("seek");
    let gap = client.execute_async(GAP_WHILE_PLAYING, vec![]).await.expect("samples");
    let (g, paused) = (gap["gap"].as_f64().unwrap_or(-1.0), gap["paused"].as_bool());
    assert!((0.0..0.15).contains(&g), "the two takes drift apart: {gap}");
    assert_eq!(paused, Some(false), "both still play: {gap}");
    // And one control pauses both.
    client.find(Locator::Css("#cplay")).await.expect("pause").click().await.expect("click");
    until(&client, "return [...document.querySelectorAll('#compare video')].every(x => x.paused);", "both paused")
        .await;
    client.close().await.expect("close");
}

/// `pixbatch plan --format json` of `manifest`: key per job name (`shot` or `shot[variant]`).
async fn plan_keys(fake: &pixbatch::fake::FakeServer, manifest: &Path) -> std::collections::BTreeMap<String, String> {
    let out = common::pixbatch(fake, "sk-test")
        .args(["plan", "--format", "json"])
        .arg(manifest)
        .output()
        .await
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let field = |j: &serde_json::Value, k: &str| j[k].as_str().unwrap_or_default().to_owned();
    doc["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| {
            let name = match field(j, "variant").as_str() {
                "" => field(j, "shot"),
                v => format!("{}[{v}]", field(j, "shot")),
            };
            (name, field(j, "key"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_picked_in_the_page_changes_the_keys_of_exactly_its_dependents() {
    let Some((driver, chromium)) = driver() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = dir.path().join("stages.yaml");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/stages.yaml"), &manifest).expect("copy");
    let fake = pixbatch::fake::FakeServer::start(common::fast_fake()).await.expect("fake");
    // The ref stage, a pick of each ref, then everything the picks feed.
    let (code, stderr) = common::run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, pixbatch::exit::WAITING, "{stderr}");
    for what in [["@hero", "seed=1"], ["@bridge", "seed=1"]] {
        let out =
            common::pixbatch(&fake, "sk-test").arg("pick").arg(&manifest).args(what).output().await.expect("pick");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let (code, stderr) = common::run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    let before = plan_keys(&fake, &manifest).await;

    let reload_from = manifest.clone();
    let reload: pixbatch::review::server::Reload = Box::new(move || {
        let loaded = pixbatch::manifest::load(&reload_from).map_err(|d| d.render(false))?;
        pixbatch::plan::expand(&loaded, &pixbatch::plan::ExpandOptions::default()).map_err(|d| d.render(false))
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let server = pixbatch::review::server::start_reloading(listener, reload, Some("stages".into())).expect("serve");
    let client = browser(&driver, &chromium).await;
    client.goto(&server.url()).await.expect("open");

    // Every candidate is an image that loaded; the picks are marked; each take names the
    // candidates it was made from.
    let images = until(
        &client,
        "const i = [...document.querySelectorAll('#references img')]; return i.every(x => x.complete && x.naturalWidth > 0) && i.length;",
        "the candidates' images",
    )
    .await;
    assert_eq!(images, 7, "3 + 3 candidates and the keyframe");
    let marked = client.execute(
        "return [...document.querySelectorAll('#references figure.picked')].map(f => f.querySelector('b').textContent);",
        vec![],
    );
    assert_eq!(marked.await.expect("js"), serde_json::json!(["@bridge seed=1", "@hero seed=1", "@bridge_end #1"]));
    let uses =
        client.execute("return document.querySelector('section[data-shot=crossing] .uses').textContent;", vec![]);
    assert_eq!(uses.await.expect("js"), "@hero seed=1 · @bridge seed=1");
    let hero = client.find(Locator::Css("section[data-ref=hero] .consequence")).await.expect("hero");
    assert!(hero.text().await.expect("text").starts_with("a new pick renders 4 jobs again, ¥"));
    if std::env::var_os("PIXBATCH_REFS_SCREENSHOT").is_some() {
        // For the README: `PIXBATCH_REFS_SCREENSHOT=1 cargo nextest run --test browser`.
        client.set_window_size(1280, 2000).await.expect("a window the whole section fits in");
        let png = client.find(Locator::Css("#references")).await.expect("section").screenshot().await.expect("png");
        client.set_window_size(1280, 1400).await.expect("back");
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/images/references.png");
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, png).expect("write screenshot");
    }

    // A click on another candidate of @hero picks it, through `choose_ref`.
    let button = "section[data-ref=hero] button.pick[data-variant='seed=2']";
    client.find(Locator::Css(button)).await.expect("a pick button").click().await.expect("click");
    let out = dir.path().join("renders/stages");
    let deadline = Instant::now() + Duration::from_secs(20);
    while pixbatch::review::Picks::load(&out).expect("picks").refs.get("hero").is_none_or(|p| p.variant != "seed=2") {
        assert!(Instant::now() < deadline, "the click wrote no pick");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let shown = "section[data-ref=hero] figure.picked button.pick[data-variant='seed=2']";
    client.wait().for_element(Locator::Css(shown)).await.expect("the page shows the new pick");

    // Exactly the jobs that use @hero (directly, or through the keyframe made from it) have new keys.
    let after = plan_keys(&fake, &manifest).await;
    let changed: Vec<&String> =
        after.iter().filter(|(name, key)| before.get(*name) != Some(*key)).map(|(n, _)| n).collect();
    assert_eq!(changed, ["@bridge_end", "arrival", "crossing", "look-back"], "{before:?}\n{after:?}");
    assert_eq!(before.len(), after.len());
    client.close().await.expect("close");
}
