//! Job keys depend on the request only: never on layout, always on content.

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;

#[derive(Debug, Clone)]
struct ShotData {
    id: String,
    words: Vec<String>,
    refs: Vec<usize>,
    size: &'static str,
    duration: u32,
    seed: Option<u32>,
    audio: bool,
    c1: bool,
    extra: Option<(String, u32)>,
}

const SIZES: &[&str] = &["1280*720", "720*1280", "960*960", "640*360", "1024*576"];
const REFS: &[(&str, &str)] = &[
    ("man", "https://example.com/man.jpg"),
    ("吉他", "https://example.com/guitar.png"),
    ("cafe", "https://example.com/cafe.webp"),
];

fn shot_strategy(i: usize) -> impl Strategy<Value = ShotData> {
    (
        prop::collection::vec("[a-z]{1,8}", 1..6),
        prop::collection::btree_set(0usize..REFS.len(), 1..=REFS.len()),
        0..SIZES.len(),
        prop::sample::select(vec![5u32, 8]),
        prop::option::of(0u32..100_000),
        any::<bool>(),
        any::<bool>(),
        prop::option::of(("[a-z]{3,6}", 0u32..10)),
    )
        .prop_map(move |(words, refs, size, duration, seed, audio, c1, extra)| ShotData {
            id: format!("shot{i}"),
            words,
            refs: refs.into_iter().collect(),
            size: SIZES[size],
            duration,
            seed,
            audio,
            c1,
            extra: extra.map(|(k, v)| (format!("x_{k}"), v)),
        })
}

fn manifest_strategy() -> impl Strategy<Value = Vec<ShotData>> {
    (1usize..6).prop_flat_map(|n| (0..n).map(shot_strategy).collect::<Vec<_>>())
}

fn prompt(s: &ShotData) -> String {
    let mentions: Vec<String> = s.refs.iter().map(|&r| format!("@{} ", REFS[r].0)).collect();
    format!("{}and {}", mentions.concat(), s.words.join(" "))
}

fn model(s: &ShotData) -> &'static str {
    if s.c1 { "pixverse/pixverse-c1-r2v" } else { "pixverse/pixverse-v5.6-r2v" }
}

/// Block style, fields in one order, with comments.
fn render_block(shots: &[ShotData]) -> String {
    let mut y = String::from("# a comment\nversion: 1\nrefs:\n");
    for (name, url) in REFS {
        y.push_str(&format!("  {name}: {url}  # ref\n"));
    }
    y.push_str("shots:\n");
    for s in shots {
        y.push_str(&format!(
            "  - id: {}\n    prompt: \"{}\"\n    model: {}\n    size: \"{}\"\n    duration: {}\n    audio: {}\n",
            s.id,
            prompt(s),
            model(s),
            s.size,
            s.duration,
            s.audio
        ));
        if let Some(seed) = s.seed {
            y.push_str(&format!("    seed: {seed}\n"));
        }
        if let Some((k, v)) = &s.extra {
            y.push_str(&format!("    extra:\n      {k}: {v}\n      nested: {{b: 1, a: 2}}\n"));
        }
    }
    y
}

/// Flow style, fields in another order, values set through defaults where shared, no comments.
fn render_flow(shots: &[ShotData]) -> String {
    let mut y = String::from("shots:\n");
    for s in shots {
        let mut fields = vec![
            format!("duration: {}", s.duration),
            format!("size: '{}'", s.size),
            format!("model: '{}'", model(s)),
            format!("prompt: '{}'", prompt(s)),
            format!("id: {}", s.id),
        ];
        if s.audio {
            fields.push("audio: true".into());
        }
        if let Some(seed) = s.seed {
            fields.insert(0, format!("seed: {seed}"));
        }
        if let Some((k, v)) = &s.extra {
            fields.push(format!("extra: {{nested: {{a: 2, b: 1}}, {k}: {v}}}"));
        }
        y.push_str(&format!("- {{{}}}\n", fields.join(", ")));
    }
    y.push_str("defaults: {audio: false}\nrefs: {");
    let refs: Vec<String> = REFS.iter().rev().map(|(n, u)| format!("{n}: {{url: '{u}'}}")).collect();
    y.push_str(&refs.join(", "));
    y.push_str("}\nversion: 1\n");
    y
}

fn keys(yaml: &str) -> BTreeMap<String, String> {
    let loaded = pixbatch::manifest::parse(Path::new("m.yaml"), yaml.to_owned())
        .unwrap_or_else(|d| panic!("{}\n{yaml}", d.render(false)));
    let expansion =
        pixbatch::plan::expand(&loaded, &Default::default()).unwrap_or_else(|d| panic!("{}\n{yaml}", d.render(false)));
    expansion.jobs.into_iter().map(|j| (j.shot, j.key.to_string())).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn layout_never_changes_a_key(shots in manifest_strategy(), seed in any::<u64>()) {
        let base = keys(&render_block(&shots));
        prop_assert_eq!(&base, &keys(&render_flow(&shots)));
        let mut shuffled = shots.clone();
        // A deterministic shuffle driven by the generated seed.
        let n = shuffled.len();
        for i in (1..n).rev() {
            let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % (i as u64 + 1)) as usize;
            shuffled.swap(i, j);
        }
        prop_assert_eq!(&base, &keys(&render_block(&shuffled)));
    }

    #[test]
    fn any_request_change_changes_that_key_only(shots in manifest_strategy(), which in 0usize..6, field in 0usize..8) {
        let which = which % shots.len();
        let mut edited = shots.clone();
        let s = &mut edited[which];
        match field {
            0 => s.words.push("again".into()),
            1 => s.size = if s.size == "1280*720" { "720*1280" } else { "1280*720" },
            2 => s.duration = if s.duration == 5 { 8 } else { 5 },
            3 => s.seed = Some(s.seed.map_or(7, |x| x + 1)),
            4 => s.audio = !s.audio,
            5 => s.c1 = !s.c1,
            6 => s.extra = Some(s.extra.clone().map_or(("x_new".into(), 1), |(k, v)| (k, v + 1))),
            _ => s.refs = if s.refs.len() > 1 { s.refs[1..].to_vec() } else { vec![(s.refs[0] + 1) % REFS.len()] },
        }
        let before = keys(&render_block(&shots));
        let after = keys(&render_block(&edited));
        for (shot, key) in &before {
            if *shot == edited[which].id {
                prop_assert_ne!(key, &after[shot], "field {} did not change the key", field);
            } else {
                prop_assert_eq!(key, &after[shot]);
            }
        }
    }
}

#[test]
fn the_same_content_keeps_its_key_across_releases() {
    // A pinned key: if this changes, every user's ledger would re-render everything.
    let yaml = "version: 1\nrefs: {man: https://example.com/man.jpg}\nshots:\n  - {id: a, prompt: '@man waves', model: pixverse/pixverse-c1-r2v, size: '1280*720', duration: 5, seed: 1}\n";
    let k = keys(yaml);
    assert_eq!(
        k["a"], "551bee2c5e4d981ee0fb195c45abe304658c21d22a59bc38c4b93866e4280296",
        "update KEY_FORMAT if the key material changed on purpose"
    );
}

/// Upgrading never re-renders a storyboard: every example and the fixture of every PixVerse r2v
/// field expand to the jobs, keys and request bodies the release before the model catalog made
/// (`tests/fixtures/keys/before-catalog.json`, written by that release's `plan --format json`).
#[test]
fn manifests_of_the_release_before_the_catalog_keep_their_keys_and_bodies() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let golden: BTreeMap<String, Vec<serde_json::Value>> = serde_json::from_slice(
        &std::fs::read(root.join("tests/fixtures/keys/before-catalog.json")).expect("golden keys"),
    )
    .expect("json");
    assert_eq!(golden.len(), 6);
    for (manifest, before) in &golden {
        let path = root.join(manifest);
        let loaded = pixbatch::manifest::load(&path).expect("loads");
        let jobs = pixbatch::plan::expand(&loaded, &Default::default()).expect("expands").jobs;
        let dir = format!("file://{}", path.parent().expect("dir").display());
        let now: Vec<(String, String, serde_json::Value)> = jobs
            .iter()
            .map(|j| {
                let body = j.request_body().to_string().replace(&dir, "file://<dir>");
                (j.name(), j.key.as_str().to_owned(), serde_json::from_str(&body).expect("json"))
            })
            .collect();
        let then: Vec<(String, String, serde_json::Value)> = before
            .iter()
            .map(|r| {
                (
                    r["job"].as_str().unwrap_or_default().to_owned(),
                    r["key"].as_str().unwrap_or_default().to_owned(),
                    r["request"].clone(),
                )
            })
            .collect();
        assert_eq!(now.len(), then.len(), "{manifest}: a job was added or lost");
        for (n, t) in now.iter().zip(&then) {
            assert_eq!(n, t, "{manifest}: {} changed", t.0);
        }
    }
}
