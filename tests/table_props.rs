//! A job's key depends on what is sent, not on where its shot was written: the same shots
//! written in the manifest's YAML and in a table (`shots_from:`), as a spreadsheet would save
//! it, give the same jobs with the same keys, in the same order.

use std::path::Path;

use pixbatch::plan::{ExpandOptions, Expansion};
use proptest::prelude::*;

/// One shot's fields, each maybe unset.
#[derive(Debug, Clone)]
struct ShotSpec {
    prompt: String,
    size: Option<&'static str>,
    duration: Option<u32>,
    seed: Option<i64>,
    audio: Option<bool>,
    media: Option<Vec<&'static str>>,
    repeat: Option<u32>,
    enabled: Option<bool>,
    mood: Option<String>,
}

const REFS: [&str; 2] = ["man", "吉他"];

fn shot() -> impl Strategy<Value = ShotSpec> {
    let words = prop::collection::vec(
        prop::sample::select(vec![
            "walks",
            "plays",
            "a \"slow\" song",
            "rain, wind",
            "夜晚",
            "line\nbreak",
            "{{mood}}",
        ]),
        1..4,
    );
    (
        prop::collection::vec(prop::bool::ANY, 2),
        words,
        prop::option::of(prop::sample::select(vec!["1280*720", "960*960", "720*1280", "640*360"])),
        prop::option::of(prop::sample::select(vec![5u32, 8])),
        prop::option::of(0i64..3000),
        prop::option::of(prop::bool::ANY),
        prop::bool::ANY,
        prop::option::of(1u32..3),
        prop::option::of(prop::bool::ANY),
        prop::option::of(prop::sample::select(vec!["calm", "a quiet, \"warm\" evening", "欢快"])),
    )
        .prop_map(|(mention, words, size, duration, seed, audio, explicit, repeat, enabled, mood)| {
            let refs: Vec<&'static str> = REFS.iter().zip(&mention).filter(|(_, m)| **m).map(|(r, _)| *r).collect();
            let refs = if refs.is_empty() { vec![REFS[0]] } else { refs };
            let mentions: String = refs.iter().map(|r| format!("@{r} ")).collect();
            ShotSpec {
                prompt: format!("{mentions}{}", words.join(" ")),
                size,
                duration,
                seed,
                audio,
                media: explicit.then_some(refs),
                repeat,
                enabled,
                mood: mood.map(str::to_owned),
            }
        })
}

const HEAD: &str = "version: 1
defaults: {model: pixverse/pixverse-c1-r2v, size: \"1280*720\", duration: 5}
refs: {man: https://example.com/man.jpg, 吉他: https://example.com/guitar.png}
vars: {mood: dusk}
";

fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("json string")
}

/// The prompt of shot `i`: numbered, so that no two shots send the same request (refused).
fn prompt(i: usize, s: &ShotSpec) -> String {
    format!("{}, take {i}", s.prompt)
}

fn yaml_shot(i: usize, s: &ShotSpec) -> String {
    let mut out = format!("  - id: s{i}\n    prompt: {}\n", quoted(&prompt(i, s)));
    if let Some(v) = s.size {
        out += &format!("    size: \"{v}\"\n");
    }
    if let Some(v) = s.duration {
        out += &format!("    duration: {v}\n");
    }
    if let Some(v) = s.seed {
        out += &format!("    seed: {v}\n");
    }
    if let Some(v) = s.audio {
        out += &format!("    audio: {v}\n");
    }
    if let Some(m) = &s.media {
        out += &format!("    media: [{}]\n", m.iter().map(|r| quoted(r)).collect::<Vec<_>>().join(", "));
    }
    if let Some(v) = s.repeat {
        out += &format!("    repeat: {v}\n");
    }
    if let Some(v) = s.enabled {
        out += &format!("    enabled: {v}\n");
    }
    if let Some(v) = &s.mood {
        out += &format!("    vars: {{mood: {}}}\n", quoted(v));
    }
    out
}

/// The rows as a spreadsheet saves them: csv's quoting, CRLF or LF, a BOM or not, booleans
/// as TRUE/FALSE, columns in an order of the generator's choosing.
fn csv_table(first: usize, shots: &[ShotSpec], crlf: bool, bom: bool, reversed: bool) -> Vec<u8> {
    let mut columns = vec!["id", "prompt", "size", "duration", "seed", "audio", "media", "repeat", "enabled", "mood"];
    if reversed {
        columns.reverse();
    }
    let terminator = if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') };
    let mut out = if bom { b"\xef\xbb\xbf".to_vec() } else { Vec::new() };
    {
        let mut w = csv::WriterBuilder::new().terminator(terminator).from_writer(&mut out);
        w.write_record(&columns).expect("header");
        let upper = |b: bool| if b { "TRUE".to_owned() } else { "FALSE".to_owned() };
        for (i, s) in shots.iter().enumerate() {
            let cell = |c: &str| -> String {
                match c {
                    "id" => format!("s{}", first + i),
                    "prompt" => prompt(first + i, s),
                    "size" => s.size.unwrap_or("").to_owned(),
                    "duration" => s.duration.map(|v| v.to_string()).unwrap_or_default(),
                    "seed" => s.seed.map(|v| v.to_string()).unwrap_or_default(),
                    "audio" => s.audio.map(upper).unwrap_or_default(),
                    "media" => s.media.as_ref().map(|m| m.join("|")).unwrap_or_default(),
                    "repeat" => s.repeat.map(|v| v.to_string()).unwrap_or_default(),
                    "enabled" => s.enabled.map(upper).unwrap_or_default(),
                    _ => s.mood.clone().unwrap_or_default(),
                }
            };
            w.write_record(columns.iter().map(|c| cell(c))).expect("row");
        }
        w.flush().expect("flush");
    }
    out
}

fn expand(path: &Path) -> Expansion {
    let loaded = pixbatch::manifest::load(path).unwrap_or_else(|d| panic!("{}", d.render(false)));
    pixbatch::plan::expand(&loaded, &ExpandOptions::default()).unwrap_or_else(|d| panic!("{}", d.render(false)))
}

fn jobs(e: &Expansion) -> Vec<(String, String, String)> {
    e.jobs.iter().map(|j| (j.key.to_string(), j.name(), j.output.display().to_string())).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn yaml_and_table_give_the_same_keys(
        shots in prop::collection::vec(shot(), 1..8),
        split in 0usize..8,
        crlf in prop::bool::ANY,
        bom in prop::bool::ANY,
        reversed in prop::bool::ANY,
    ) {
        // At least one row stays in the table: a table of no shots is refused.
        let split = split % shots.len();
        let dir = tempfile::tempdir().expect("tempdir");
        let all_yaml: String = shots.iter().enumerate().map(|(i, s)| yaml_shot(i, s)).collect();
        std::fs::write(dir.path().join("yaml.yaml"), format!("{HEAD}shots:\n{all_yaml}")).expect("yaml");
        let inline: String = shots[..split].iter().enumerate().map(|(i, s)| yaml_shot(i, s)).collect();
        std::fs::write(dir.path().join("shots.csv"), csv_table(split, &shots[split..], crlf, bom, reversed)).expect("csv");
        let shots_key = if split == 0 { String::new() } else { format!("shots:\n{inline}") };
        std::fs::write(dir.path().join("table.yaml"), format!("{HEAD}shots_from: shots.csv\n{shots_key}")).expect("table");

        let from_yaml = expand(&dir.path().join("yaml.yaml"));
        let from_table = expand(&dir.path().join("table.yaml"));
        prop_assert_eq!(jobs(&from_yaml), jobs(&from_table));
    }
}

#[test]
fn a_shot_moved_from_yaml_to_a_table_keeps_its_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shot = "  - id: arrival\n    prompt: \"@man walks in, shaking off the rain \"\n    seed: 7\n    audio: true\n";
    std::fs::write(dir.path().join("before.yaml"), format!("{HEAD}shots:\n{shot}")).expect("before");
    std::fs::write(
        dir.path().join("shots.csv"),
        "id,prompt,seed,audio\r\narrival,\"@man walks in, shaking off the rain \",7,TRUE\r\n",
    )
    .expect("csv");
    std::fs::write(dir.path().join("after.yaml"), format!("{HEAD}shots_from: shots.csv\n")).expect("after");
    let before = expand(&dir.path().join("before.yaml"));
    let after = expand(&dir.path().join("after.yaml"));
    assert_eq!(before.jobs.len(), 1);
    assert_eq!(jobs(&before), jobs(&after));
}

/// Bytes a broken export could hold: quotes, delimiters, line ends, BOMs, bad UTF-8,
/// multi-byte characters, JSON punctuation.
fn table_bytes() -> impl Strategy<Value = Vec<u8>> {
    let pieces: Vec<&'static [u8]> = vec![
        b"\"",
        b",",
        b"\t",
        b"\r",
        b"\n",
        b"\r\n",
        b"\xef\xbb\xbf",
        b"\xff",
        b"\xe5\x90",
        "吉他".as_bytes(),
        b"id",
        b"prompt",
        b"@man ",
        b"{{mood}}",
        b"|",
        b"5",
        b"TRUE",
        b"{",
        b"}",
        b":",
        b"[",
        b"]",
        b"a",
        b" ",
        b"#",
    ];
    prop::collection::vec(prop::sample::select(pieces), 0..40).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever a table holds, reading it gives shots or located problems, never a panic.
    #[test]
    fn any_table_is_read_or_refused_without_a_panic(
        bytes in table_bytes(),
        ext in prop::sample::select(vec!["csv", "tsv", "jsonl"]),
        header in prop::bool::ANY,
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let name = format!("shots.{ext}");
        let table = if header { [b"id,prompt,duration\n".as_slice(), &bytes].concat() } else { bytes };
        std::fs::write(dir.path().join(&name), table).expect("table");
        std::fs::write(dir.path().join("m.yaml"), format!("{HEAD}shots_from: {name}\n")).expect("manifest");
        match pixbatch::manifest::load(&dir.path().join("m.yaml")) {
            Ok(loaded) => {
                if let Err(diags) = pixbatch::plan::expand(&loaded, &ExpandOptions::default()) {
                    prop_assert!(diags.has_errors());
                    prop_assert!(diags.items.iter().all(|d| d.span.is_some()), "{}", diags.render(false));
                    let _ = diags.render(false);
                }
            }
            Err(diags) => {
                prop_assert!(diags.has_errors());
                prop_assert!(diags.items.iter().all(|d| d.span.is_some()), "{}", diags.render(false));
                let _ = diags.render(false);
            }
        }
    }
}
