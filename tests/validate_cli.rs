//! `pixbatch validate` on a corpus of bad manifests: exit 2, every problem located, no panic.
//!
//! Each file in `tests/bad/` is one class of mistake; its snapshot is the exact stderr a user
//! sees. Run `cargo insta review` after changing a message on purpose.

use std::path::Path;
use std::process::Command;

fn pixbatch(dir: &Path) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("pixbatch"));
    cmd.current_dir(dir).env_clear().env("NO_COLOR", "1");
    cmd
}

#[test]
fn every_bad_manifest_is_refused_with_a_location() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("tests/bad").map(|e| e.expect("entry").path()).collect();
    files.sort();
    assert!(files.len() >= 40, "the corpus has {} files", files.len());
    insta::glob!("bad/*.yaml", |path| {
        let name = path.file_name().expect("file name").to_string_lossy().into_owned();
        let out = pixbatch(&dir).args(["validate", &name]).output().expect("ran");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{name}: exit code; stderr:\n{stderr}");
        let located = stderr.lines().any(|l| {
            let mut parts = l.splitn(4, ':');
            let (_, line, col) = (parts.next(), parts.next(), parts.next());
            line.is_some_and(|s| s.parse::<u32>().is_ok()) && col.is_some_and(|s| s.parse::<u32>().is_ok())
        });
        assert!(located, "{name}: no file:line:col in\n{stderr}");
        assert!(!stderr.contains("panicked"), "{name} panicked:\n{stderr}");
        assert!(out.stdout.is_empty(), "{name}: stdout should be empty");
        insta::assert_snapshot!(stderr);
    });
}

/// A fixture whose first line is `# expect: X` must be refused (exit 2) with X in its
/// message: the model-rule fixtures say which rule they break, independent of the snapshots.
#[test]
fn every_bad_fixture_says_what_its_header_expects() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("tests/bad").map(|e| e.expect("entry").path()).collect();
    files.sort();
    let mut checked = 0;
    let mut problems = Vec::new();
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "yaml")) {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        let Some(expect) = text.lines().next().and_then(|l| l.strip_prefix("# expect:")).map(str::trim) else {
            continue;
        };
        assert!(!expect.is_empty(), "{}: an empty `# expect:`", path.display());
        checked += 1;
        let name = path.file_name().expect("file name").to_string_lossy().into_owned();
        let out = pixbatch(&dir).args(["validate", &name]).output().expect("ran");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(2) || !stderr.contains(expect) {
            problems.push(format!("{name}: exit {:?}, expected {expect:?} in:\n{stderr}", out.status.code()));
        }
    }
    assert!(checked >= 15, "only {checked} fixtures have an `# expect:` header");
    assert!(problems.is_empty(), "{} of {checked} fixtures:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn a_ten_megabyte_prompt_is_refused_not_truncated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let prompt = "la ".repeat(10 * 1024 * 1024 / 3);
    let text = format!(
        "version: 1\ndefaults: {{model: pixverse/pixverse-c1-r2v, size: \"1280*720\", duration: 5}}\nrefs: {{man: https://example.com/m.jpg}}\nshots:\n  - id: a\n    prompt: \"@man {prompt}\"\n"
    );
    std::fs::write(dir.path().join("big.yaml"), text).expect("write");
    let out = pixbatch(dir.path()).args(["validate", "big.yaml"]).output().expect("ran");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("big.yaml:6:13: error: the prompt is 10485") && stderr.contains("reads at most 5000"),
        "{}",
        &stderr[..stderr.len().min(600)]
    );
    assert!(std::fs::read_dir(dir.path()).expect("dir").count() == 1, "validate wrote nothing");
}

#[test]
fn max_jobs_is_a_flag() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let out =
        pixbatch(&dir).args(["validate", "32-matrix-too-large.yaml", "--max-jobs", "100000"]).output().expect("ran");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "32-matrix-too-large.yaml: ok, 100000 jobs\n");
}

#[test]
fn the_examples_validate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = pixbatch(root)
        .args([
            "validate",
            "examples/storyboard.yaml",
            "examples/seed-sweep.yaml",
            "examples/ci.yaml",
            "examples/paired.yaml",
            "examples/spreadsheet.yaml",
            "examples/models.yaml",
        ])
        .output()
        .expect("ran");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "examples/storyboard.yaml: ok, 9 jobs\nexamples/seed-sweep.yaml: ok, 11 jobs\nexamples/ci.yaml: ok, 4 jobs\nexamples/paired.yaml: ok, 3 jobs\nexamples/spreadsheet.yaml: ok, 6 jobs\nexamples/models.yaml: ok, 8 jobs\n"
    );
}
