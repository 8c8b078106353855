//! `export --timeline`: the picked takes reach the editor as OpenTimelineIO (read back by the
//! `opentimelineio` Python package, installed in `target/otio-venv` by the test itself), a
//! CMX3600 EDL (checked column by column) and FCPXML (parsed with quick-xml), each in storyboard
//! order with the lengths the MP4 headers give and the shot's metadata.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fast_fake, fast_options, run};
use pixbatch::fake::FakeServer;
use quick_xml::events::Event;

/// The fake serves one sample video: 8 frames in 1 s (the timeline takes the rate from it).
const FPS: f64 = 8.0;

fn venv_python() -> PathBuf {
    common::python_venv("otio-venv", "opentimelineio", "0.18.1")
}

fn pixbatch(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(assert_cmd::cargo::cargo_bin!("pixbatch")).env_clear().args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What a clip should be: from `export.json`, and the length from the file's own header.
#[derive(Debug)]
struct Expected {
    file: String,
    shot: String,
    variant: String,
    prompt: String,
    model: String,
    key: String,
    seconds: f64,
    frames: u64,
}

fn expected(cut: &Path) -> Vec<Expected> {
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cut.join("export.json")).expect("export.json")).expect("json");
    let s = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_else(|| panic!("{k} in {v}")).to_owned();
    doc["shots"]
        .as_array()
        .expect("shots")
        .iter()
        .map(|e| {
            let file = s(e, "file");
            let seconds =
                pixbatch::plan::refs::mp4_seconds(&std::fs::read(cut.join(&file)).expect("video")).expect("length");
            Expected {
                shot: s(e, "shot"),
                variant: s(e, "variant"),
                prompt: s(e, "prompt"),
                model: s(e, "model"),
                key: s(e, "key"),
                frames: (seconds * FPS).round() as u64,
                seconds,
                file,
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_picked_cut_reaches_the_editor_as_otio_edl_and_fcpxml() {
    // The venv installs while the storyboard renders.
    let venv = tokio::task::spawn_blocking(venv_python);
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = common::small_manifest(
        dir.path(),
        "storyboard.yaml",
        Some("cafe <cut> & \"friends\""),
        "  - id: intro\n    prompt: \"@man walks in & says <hi>\"\n  - id: fight\n    prompt: \"@man fights\"\n    matrix: {seed: [1, 2]}\n  - id: walk\n    prompt: \"@man walks home, 'slowly'\"\n",
    );
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    assert_eq!(run(&manifest, &fake, &fast_options()).await.counts.done, 4);
    let m = manifest.to_str().expect("utf8");
    let cut = dir.path().join("cut");
    let to = cut.to_str().expect("utf8");

    // A format it does not know: refused before anything is written.
    let (code, _, err) = pixbatch(&["export", m, "--to", to, "--first-done", "--timeline", "aaf"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("possible values: otio, edl, fcpxml"), "{err}");
    assert!(!cut.exists());

    assert_eq!(pixbatch(&["pick", m, "fight", "seed=2"]).0, 0);
    let (code, _, err) =
        pixbatch(&["export", m, "--to", to, "--first-done", "--timeline", "otio,edl", "--timeline", "fcpxml"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("timeline.edl (3 clip(s), 24 frames at 8 fps)"), "{err}");
    let want = expected(&cut);
    let order: Vec<(&str, &str)> = want.iter().map(|e| (e.file.as_str(), e.variant.as_str())).collect();
    assert_eq!(order, [("010-intro.mp4", ""), ("020-fight.mp4", "seed=2"), ("030-walk.mp4", "")]);
    assert!(want.iter().all(|e| e.model == "pixverse/pixverse-c1-r2v" && e.frames == 8), "{want:?}");

    let python = venv.await.expect("venv");
    check_otio(&python, &cut.join("timeline.otio"), &want);
    check_edl(&std::fs::read_to_string(cut.join("timeline.edl")).expect("edl"), &want);
    check_fcpxml(&std::fs::read_to_string(cut.join("timeline.fcpxml")).expect("fcpxml"), &cut, &want);

    // An export.json from before timelines (no `model`) still reads: nothing is rewritten.
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cut.join("export.json")).expect("export.json")).expect("json");
    for shot in doc["shots"].as_array_mut().expect("shots") {
        shot.as_object_mut().expect("a shot").remove("model").expect("a model");
    }
    std::fs::write(cut.join("export.json"), serde_json::to_vec_pretty(&doc).expect("json")).expect("write");
    let (code, _, err) = pixbatch(&["export", m, "--to", to, "--first-done", "--timeline", "edl"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("(0 written, 3 already in place)"), "{err}");
}

fn check_otio(python: &Path, otio: &Path, want: &[Expected]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/timeline/otio_read.py");
    let out = Command::new(python)
        .arg(&script)
        .arg(otio)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("script runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "opentimelineio could not read it:\n{stderr}");
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    assert_eq!(got["otio_version"], "0.18.1");
    assert_eq!(got["name"], "cafe <cut> & \"friends\"");
    assert_eq!(got["kind"], "Video");
    assert_eq!(got["global_start_seconds"], 3600.0);
    let clips = got["clips"].as_array().expect("clips");
    assert_eq!(clips.len(), want.len());
    let mut record = 0.0;
    for (clip, e) in clips.iter().zip(want) {
        assert_eq!(clip["name"], e.file.as_str());
        assert_eq!(clip["target_url"], e.file.as_str());
        assert_eq!(clip["media_exists"], true, "{clip}");
        assert_eq!(clip["rate"], FPS);
        assert_eq!(clip["start_frames"], 0.0);
        assert_eq!(clip["duration_frames"], e.frames as f64);
        assert!((clip["seconds"].as_f64().expect("seconds") - e.seconds).abs() <= 0.5 / FPS, "{clip}");
        assert_eq!(clip["record_in_frames"], record, "clips back to back, in order");
        record += e.frames as f64;
        let meta = &clip["pixbatch"];
        let fields = [("shot", &e.shot), ("variant", &e.variant), ("prompt", &e.prompt), ("model", &e.model)];
        for (k, v) in fields.into_iter().chain([("key", &e.key)]) {
            assert_eq!(meta[k], v.as_str(), "{k} of {}", e.file);
        }
    }
    assert_eq!(got["duration_seconds"], record / FPS);
}

/// HH:MM:SS:FF at 8 frames a second, in frames.
fn frames(tc: &str) -> u64 {
    let parts: Vec<u64> = tc.split(':').map(|p| p.parse().unwrap_or_else(|_| panic!("timecode {tc}"))).collect();
    assert!(parts.len() == 4 && parts[3] < FPS as u64, "timecode {tc}");
    ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * FPS as u64 + parts[3]
}

fn check_edl(edl: &str, want: &[Expected]) {
    let mut lines = edl.lines();
    assert_eq!(lines.next(), Some("TITLE: cafe <cut> & \"friends\""));
    assert_eq!(lines.next(), Some("FCM: NON-DROP FRAME"));
    let mut events: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        if line.starts_with('*') {
            events.last_mut().expect("a comment follows an event").1.push(line);
        } else {
            events.push((line, Vec::new()));
        }
    }
    assert_eq!(events.len(), want.len(), "{edl}");
    let mut record = 3600 * FPS as u64;
    for (n, ((line, comments), e)) in events.iter().zip(want).enumerate() {
        // CMX3600's columns (1-based): event 1-3, reel 6-13, channel 15-18, transition 21-24,
        // its length 26-28, source in 30-40, source out 42-52, record in 54-64, out 66-76.
        assert_eq!(line.len(), 76, "{line:?}");
        let col = |from: usize, to: usize| &line[from - 1..to];
        assert_eq!(col(1, 3), format!("{:03}", n + 1));
        assert_eq!(col(6, 13), "AX      ");
        assert_eq!(col(15, 18), "V   ");
        assert_eq!(col(21, 24), "C   ");
        assert_eq!(col(26, 28), "   ");
        for blank in [4, 5, 14, 19, 20, 25, 29, 41, 53, 65] {
            assert_eq!(col(blank, blank), " ", "column {blank} of {line:?}");
        }
        let (src_in, src_out) = (frames(col(30, 40)), frames(col(42, 52)));
        let (rec_in, rec_out) = (frames(col(54, 64)), frames(col(66, 76)));
        assert_eq!((src_in, src_out - src_in), (0, e.frames), "{line}");
        assert_eq!((rec_in, rec_out - rec_in), (record, e.frames), "record timecodes are contiguous: {line}");
        record = rec_out;
        let mut expect = vec![format!("* FROM CLIP NAME: {}", e.file), format!("* PIXBATCH SHOT: {}", e.shot)];
        if !e.variant.is_empty() {
            expect.push(format!("* PIXBATCH VARIANT: {}", e.variant));
        }
        expect.push(format!("* PIXBATCH MODEL: {}", e.model));
        expect.push(format!("* PIXBATCH KEY: {}", e.key));
        expect.push(format!("* PIXBATCH PROMPT: {}", e.prompt));
        assert_eq!(comments, &expect);
    }
}

/// FCPXML's rational seconds (`3600s`, `1/8s`) in frames at 8 fps.
fn fcp_frames(t: &str) -> u64 {
    let t = t.strip_suffix('s').unwrap_or_else(|| panic!("time {t}"));
    let (n, d) = t.split_once('/').unwrap_or((t, "1"));
    let (n, d): (u64, u64) = (n.parse().expect("numerator"), d.parse().expect("denominator"));
    assert_eq!(n * FPS as u64 % d, 0, "{t} is on a frame boundary");
    n * FPS as u64 / d
}

fn check_fcpxml(xml: &str, cut: &Path, want: &[Expected]) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut assets: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut clips: Vec<BTreeMap<String, String>> = Vec::new();
    let mut asset = String::new();
    let (mut version, mut frame, mut tc_start) = (String::new(), String::new(), String::new());
    loop {
        let event = reader.read_event().unwrap_or_else(|e| panic!("well-formed FCPXML: {e}\n{xml}"));
        let (Event::Start(tag) | Event::Empty(tag)) = &event else {
            if matches!(event, Event::Eof) {
                break;
            }
            continue;
        };
        let attrs: BTreeMap<String, String> = tag
            .attributes()
            .map(|a| {
                let a = a.expect("attribute");
                (
                    String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                    a.unescape_value().expect("escaped").into_owned(),
                )
            })
            .collect();
        let a = |k: &str| attrs.get(k).cloned().unwrap_or_default();
        match tag.name().as_ref() {
            b"fcpxml" => version = a("version"),
            b"format" => frame = a("frameDuration"),
            b"sequence" => tc_start = a("tcStart"),
            b"asset" => {
                asset = a("id");
                assets.insert(asset.clone(), (a("name"), String::new()));
            }
            b"media-rep" => assets.get_mut(&asset).expect("in an asset").1 = a("src"),
            b"asset-clip" => clips.push(attrs.clone()),
            b"md" => {
                let clip = clips.last_mut().expect("md in a clip");
                clip.insert(a("key"), a("value"));
            }
            b"marker" => {
                clips.last_mut().expect("marker in a clip").insert("marker".into(), a("value"));
            }
            _ => {}
        }
    }
    assert_eq!((version.as_str(), frame.as_str()), ("1.9", "1/8s"));
    assert_eq!(clips.len(), want.len());
    let mut offset = fcp_frames(&tc_start);
    assert_eq!(offset, 3600 * FPS as u64);
    for (clip, e) in clips.iter().zip(want) {
        let (name, src) = &assets[&clip["ref"]];
        assert_eq!((name, &clip["name"]), (&e.file, &e.file));
        let url = url::Url::parse(src).expect("a URL");
        assert_eq!(url.to_file_path().expect("a file URL"), std::path::absolute(cut.join(&e.file)).expect("abs"));
        assert_eq!(fcp_frames(&clip["duration"]), e.frames);
        assert_eq!(fcp_frames(&clip["offset"]), offset, "clips back to back, in order");
        offset += e.frames;
        assert_eq!(clip["com.apple.proapps.studio.shotName"], e.shot);
        assert_eq!(
            [&clip["pixbatch.variant"], &clip["pixbatch.model"], &clip["pixbatch.key"], &clip["pixbatch.prompt"]],
            [&e.variant, &e.model, &e.key, &e.prompt]
        );
        let marker = if e.variant.is_empty() { e.shot.clone() } else { format!("{} {}", e.shot, e.variant) };
        assert_eq!(clip["marker"], marker);
    }
}
