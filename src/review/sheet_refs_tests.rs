//! The References section as HTML, against a ledger written here (no service, no files).

use std::path::Path;

use crate::api::{ImageOut, TaskStatus, Usage};
use crate::ledger::{CandidateFile, Entry, Event, JobMeta, Ledger};
use crate::plan::{ExpandOptions, Expansion, Job};
use crate::review::Picks;
use crate::review::sheet::{Mode, render};

const MANIFEST: &str = r#"version: 1
output: out
refs:
  hero:
    generate:
      prompt: "character sheet, <b>grey</b> coat"
      resolution: 1K
      ratio: "3:4"
      n: 2
      matrix: { seed: [1, 2] }
shots:
  - id: walk
    model: pixverse/pixverse-c1-r2v
    prompt: "@hero walks"
    size: "1280*720"
    duration: 5
"#;

fn expand(dir: &Path) -> Expansion {
    let path = dir.join("m.yaml");
    std::fs::write(&path, MANIFEST).expect("write");
    let loaded = crate::manifest::load(&path).unwrap_or_else(|d| panic!("{}", d.render(false)));
    crate::plan::expand(&loaded, &ExpandOptions::default()).unwrap_or_else(|d| panic!("{}", d.render(false)))
}

/// A finished, downloaded image task of `job`: `ok` candidates by index (their files written
/// into `out`), the others failed.
fn downloaded(out: &Path, job: &Job, ok: &[u32], n: u32) -> Vec<Entry> {
    let at = jiff::Timestamp::now();
    let entry = |event| Entry { at, key: job.key.clone(), event };
    let meta = JobMeta {
        shot: job.shot.clone(),
        variant: job.variant.clone(),
        model: job.model.clone(),
        size: job.size.clone(),
        output: job.output.display().to_string(),
        ..JobMeta::default()
    };
    let images: Vec<ImageOut> = (0..n)
        .map(|i| match ok.contains(&i) {
            true => {
                ImageOut { url: Some(format!("https://x/{i}.png")), code: None, message: None, ..ImageOut::default() }
            }
            false => ImageOut {
                url: None,
                code: Some("DataInspectionFailed".into()),
                message: Some("inappropriate".into()),
                ..ImageOut::default()
            },
        })
        .collect();
    let files: Vec<CandidateFile> = ok
        .iter()
        .map(|&i| {
            let path = job.candidate_path(i);
            let bytes = format!("not really a png: {} #{i}", job.key).into_bytes();
            std::fs::create_dir_all(out.join(&path).parent().expect("parent")).expect("mkdir");
            std::fs::write(out.join(&path), &bytes).expect("write");
            CandidateFile {
                index: i,
                path: path.display().to_string(),
                bytes: bytes.len() as u64,
                sha256: crate::files::sha256_hex(&bytes),
            }
        })
        .collect();
    vec![
        entry(Event::intent(1, meta, None, None)),
        entry(Event::Submitted { task_id: format!("t-{}", job.key) }),
        entry(Event::Finished {
            status: TaskStatus::Succeeded,
            code: None,
            message: None,
            video_url: None,
            usage: Some(Usage { image_count: Some(ok.len() as u32), ..Usage::default() }),
            images,
            billed: None,
        }),
        entry(Event::Downloaded {
            path: files[0].path.clone(),
            bytes: 10,
            sha256: files[0].sha256.clone(),
            images: files.clone(),
        }),
    ]
}

fn ledger(expansion: &Expansion) -> Ledger {
    let jobs: Vec<&Job> = expansion.jobs.iter().filter(|j| j.shot == "@hero").collect();
    assert_eq!(jobs.len(), 2);
    // seed=1: both candidates; seed=2: the second was refused by inspection.
    let out = &expansion.output_dir;
    let mut entries = downloaded(out, jobs[0], &[0, 1], 2);
    entries.extend(downloaded(out, jobs[1], &[0], 2));
    Ledger::from_entries(&entries)
}

#[test]
fn references_list_every_candidate_failed_ones_with_their_code() {
    let dir = tempfile::tempdir().expect("tmp");
    let expansion = expand(dir.path());
    let ledger = ledger(&expansion);
    let html = render(&expansion, &ledger, &Picks::default(), None, Mode::Served { token: "t" });

    assert!(html.contains("<h2>References</h2>"), "{html}");
    assert_eq!(html.matches("<figure class=\"take candidate").count(), 4, "2 tasks × n = 2");
    for path in ["refs/hero/seed-1-1.png", "refs/hero/seed-1-2.png", "refs/hero/seed-2-1.png"] {
        assert!(html.contains(&format!("<img src=\"{path}\"")), "{path}: {html}");
    }
    assert!(html.contains("@hero seed=2#2</b>") && html.contains("failed: DataInspectionFailed: inappropriate"));
    // The prompt sent is text, not markup; seed and cost per image.
    assert!(html.contains("character sheet, &lt;b&gt;grey&lt;/b&gt; coat"));
    assert!(html.contains(" · seed 2") && html.contains(" · ¥"));
    // A pick button per good candidate, named as `pixbatch pick` takes it.
    assert_eq!(html.matches("data-shot=\"@hero\"").count(), 3);
    assert!(html.contains("data-variant=\"seed=1#2\""));
    // Nothing picked: the shot waits, and says for what.
    assert!(html.contains("no pick yet") && html.contains("1 job waits for a pick: walk"), "{html}");
    assert!(html.contains("data-state=\"waiting\"") && html.contains("waiting for a pick of @hero"));
    assert!(!html.contains("class=\"take candidate picked"));
}

#[test]
fn the_pick_is_marked_and_each_take_names_the_candidate_it_used() {
    let dir = tempfile::tempdir().expect("tmp");
    let expansion = expand(dir.path());
    let ledger = ledger(&expansion);
    let out = &expansion.output_dir;
    crate::review::ref_picks::choose_ref(out, &expansion, &ledger, "hero", Some("seed=1#2")).expect("pick");
    let expansion = expand(dir.path());
    let html = render(&expansion, &ledger, &Picks::load(out).expect("picks"), None, Mode::Static);

    assert_eq!(html.matches("class=\"take candidate picked").count(), 1);
    assert!(html.contains("picked <b>seed=1#2</b>"), "{html}");
    assert!(html.contains("a new pick renders 1 job again, ¥"), "{html}");
    // The shot is no longer waiting; its take names the candidate its key was made from.
    assert!(!html.contains("data-state=\"waiting\""));
    assert!(html.contains("<span class=\"uses\">@hero seed=1#2</span>"), "{html}");
    // A static page shows picks, it makes none.
    assert!(!html.contains("<button class=\"pick\""));
}

#[test]
fn a_manifest_without_generated_refs_has_no_references_section() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("m.yaml");
    std::fs::write(&path, "version: 1\nshots:\n  - id: a\n    model: pixverse/pixverse-c1-t2v\n    prompt: x\n    size: \"1280*720\"\n    duration: 5\n").expect("write");
    let loaded = crate::manifest::load(&path).unwrap_or_else(|d| panic!("{}", d.render(false)));
    let expansion = crate::plan::expand(&loaded, &ExpandOptions::default()).expect("expands");
    let html = render(&expansion, &Ledger::default(), &Picks::default(), None, Mode::Static);
    assert!(!html.contains("References"));
}
