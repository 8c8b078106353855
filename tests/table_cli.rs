//! Shots from a table (`shots_from:`), through the command line: every bad table in
//! `tests/bad-tables/` is refused with exit 2 and its problems located as `file:line:col`,
//! without a panic and without a request; tables as spreadsheets export them are read.
//!
//! Each bad table sits beside the same manifest (one inline shot, `intro`); its snapshot is the
//! exact stderr of `pixbatch run`. Run `cargo insta review` after changing a message on purpose.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

const MANIFEST: &str = "version: 1
defaults: {model: pixverse/pixverse-c1-r2v, size: \"1280*720\", duration: 5}
refs: {man: https://example.com/man.jpg, guitar: https://example.com/guitar.jpg}
shots:
  - id: intro
    prompt: \"@man waves \"
shots_from: TABLE
";

fn pixbatch(dir: &Path) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("pixbatch"));
    cmd.current_dir(dir).env_clear().env("NO_COLOR", "1");
    cmd
}

/// A folder holding the manifest and `table` (named `name`).
fn beside_manifest(name: &str, table: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("manifest.yaml"), MANIFEST.replace("TABLE", name)).expect("manifest");
    std::fs::write(dir.path().join(name), table).expect("table");
    dir
}

/// Runs `pixbatch run` against a listener that must never be called, and checks what every
/// refusal must show; returns stderr.
fn refused(dir: &Path, name: &str) -> String {
    // A table that is not refused would run against a listener that never answers.
    let validate = pixbatch(dir).args(["validate", "manifest.yaml"]).output().expect("ran");
    assert_eq!(validate.status.code(), Some(2), "{name}: validate's exit code: {validate:?}");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let out: Output = pixbatch(dir)
        .args(["run", "manifest.yaml"])
        .env("DASHSCOPE_API_KEY", "sk-table-test")
        .env("DASHSCOPE_BASE_URL", &url)
        .output()
        .expect("ran");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{name}: exit code; stderr:\n{stderr}");
    let located = stderr.lines().any(|l| {
        let mut parts = l.splitn(4, ':');
        parts.next() == Some(name)
            && parts.next().is_some_and(|s| s.parse::<u32>().is_ok())
            && parts.next().is_some_and(|s| s.parse::<u32>().is_ok())
    });
    assert!(located, "{name}: no {name}:line:col in\n{stderr}");
    assert!(!stderr.contains("panicked"), "{name} panicked:\n{stderr}");
    assert!(out.stdout.is_empty(), "{name}: stdout should be empty");
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("{name}: a request was made: {other:?}"),
    }
    let mut left: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    let mut written = vec!["manifest.yaml".to_owned(), name.to_owned()];
    written.sort();
    assert_eq!(left, written, "{name}: the run wrote files");
    stderr
}

#[test]
fn every_bad_table_is_refused_with_a_location() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-tables");
    let count = std::fs::read_dir(&corpus).expect("tests/bad-tables").count();
    assert!(count >= 15, "the corpus has {count} files");
    insta::glob!("bad-tables/*", |path| {
        let name = path.file_name().expect("file name").to_string_lossy().into_owned();
        let dir = beside_manifest(&name, &std::fs::read(path).expect("read"));
        insta::assert_snapshot!(refused(dir.path(), &name));
    });
}

#[test]
fn a_ten_megabyte_cell_is_refused_and_not_printed() {
    let prompt = "la ".repeat(10 * 1024 * 1024 / 3);
    let table = format!("id,prompt\nshort,@man walks \nlong,\"@man {prompt}\"\n");
    let dir = beside_manifest("big.csv", table.as_bytes());
    let stderr = refused(dir.path(), "big.csv");
    assert!(stderr.starts_with("big.csv:3:6: error: the prompt is 10485"), "{}", &stderr[..stderr.len().min(600)]);
    assert!(stderr.len() < 2000, "the 10 MB line is not printed: {} bytes of stderr", stderr.len());
}

/// What a spreadsheet writes: a BOM, CRLF, quoted cells with commas, quotes and line breaks,
/// TRUE for booleans, a note column and an empty formatted row at the end.
const SPREADSHEET: &[u8] = b"\xef\xbb\xbfid,prompt,duration,seed,audio,media,mood,#notes\r\n\
a,\"@man walks, then \"\"stops\"\" \",5,1,FALSE,,,\r\n\
b,\"@man plays @guitar ,\r\na {{mood}} song \",8,2,TRUE,man|guitar,calm,\"second line\r\nof a note\"\r\n\
c,@man bows ,,3,,,,\r\n\
,,,,,,,\r\n";

#[test]
fn a_spreadsheet_export_is_read() {
    let dir = beside_manifest("shots.csv", SPREADSHEET);
    let out = pixbatch(dir.path()).args(["plan", "manifest.yaml", "--format", "json"]).output().expect("ran");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "no warnings: {stderr}");
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let jobs = plan["jobs"].as_array().expect("jobs");
    let field = |key: &str| jobs.iter().map(|j| j[key].clone()).collect::<Vec<_>>();
    assert_eq!(field("shot"), ["intro", "a", "b", "c"]);
    assert_eq!(field("duration"), [5, 5, 8, 5]);
    assert_eq!(field("seed"), [serde_json::Value::Null, 1.into(), 2.into(), 3.into()]);
    assert_eq!(field("audio"), [false, false, true, false]);
    let prompt = |i: usize| jobs[i]["request"]["input"]["prompt"].clone();
    assert_eq!(prompt(1), "@man walks, then \"stops\" ");
    assert_eq!(prompt(2), "@man plays @guitar ,\r\na calm song ");
    assert_eq!(field("media_count"), [1, 1, 2, 1]);
}

#[test]
fn an_unused_column_is_a_warning_and_a_typo_an_error() {
    let dir = beside_manifest("shots.csv", b"id,prompt,notes\na,@man walks ,first take too dark\n");
    let out = pixbatch(dir.path()).args(["validate", "manifest.yaml"]).output().expect("ran");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("shots.csv:1:11: warning: column `notes` is not a shot field and no prompt uses {{notes}}")
            && stderr.contains("`#notes`"),
        "{stderr}"
    );
}

#[test]
fn a_semicolon_export_is_read() {
    // Excel writes `;` where the comma is the decimal mark (de-DE, fr-FR, …).
    let dir = beside_manifest("shots.csv", b"id;prompt;seed\r\na;\"@man walks; then stops \";3\r\nb;@man runs ;4\r\n");
    let out = pixbatch(dir.path()).args(["validate", "manifest.yaml"]).output().expect("ran");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "manifest.yaml: ok, 3 jobs\n");
}

/// The keys of `pixbatch plan` for the manifest in `dir`.
fn planned_keys(dir: &Path) -> Vec<String> {
    let out = pixbatch(dir).args(["plan", "manifest.yaml", "--format", "json"]).output().expect("ran");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    plan["jobs"].as_array().expect("jobs").iter().map(|j| j["key"].as_str().expect("key").to_owned()).collect()
}

#[test]
fn json_lines_give_the_keys_of_the_same_csv() {
    let csv = beside_manifest(
        "shots.csv",
        b"id,prompt,seed,audio,media,mood\na,\"@man plays @guitar , {{mood}} \",7,TRUE,man|guitar,calm\nb,@man bows ,,,,\n",
    );
    let jsonl = beside_manifest(
        "shots.jsonl",
        "{\"id\": \"a\", \"prompt\": \"@man plays @guitar , {{mood}} \", \"seed\": 7, \"audio\": true, \"media\": [\"man\", \"guitar\"], \"mood\": \"calm\"}\n\n{\"id\": \"b\", \"prompt\": \"@man bows \", \"seed\": null}\n"
            .as_bytes(),
    );
    let keys = planned_keys(csv.path());
    assert_eq!(keys.len(), 3, "intro, a and b");
    assert_eq!(keys, planned_keys(jsonl.path()));
}
