//! `pixbatch spend` in every format, over a journal with every kind of money in it: billed at
//! the catalog's price and at `run.prices`, billed in an old journal (no money recorded), a
//! failed task that a retry replaced, a task on the service, an image job. Snapshots
//! (`tests/snapshots/spend_golden__*.snap`) pin what people and scripts read.

use std::path::Path;

use assert_cmd::Command;

const MANIFEST: &str = r#"version: 1
name: golden
output: out
run: {budget: 20}
refs: {man: https://example.com/man.jpg}
shots:
  - {id: fight, model: pixverse/pixverse-c1-r2v, prompt: "@man fights", size: "640*360", duration: 5, matrix: {seed: [1, 2]}}
"#;

/// One job's lines, `{}` standing for its key.
const JOURNAL: &str = r#"{"at":"2026-11-30T10:00:00Z","key":"k1","ev":"intent","attempt":1,"shot":"intro","variant":"seed=1","model":"pixverse/pixverse-c1-r2v","size":"1280*720","duration":5,"audio":false,"output":"intro/seed-1.mp4","estimate_cny":1.5,"stage":"clips","run":"2026-11-30T10:00:00Z"}
{"at":"2026-11-30T10:00:01Z","key":"k1","ev":"submitted","task_id":"t1"}
{"at":"2026-11-30T10:01:00Z","key":"k1","ev":"finished","status":"SUCCEEDED","usage":{"duration":5.0,"size":"1280*720"},"billed":{"cny":1.5,"unit_price":0.3}}
{"at":"2026-11-30T10:00:00Z","key":"k2","ev":"intent","attempt":1,"shot":"intro","variant":"seed=2","model":"pixverse/pixverse-c1-r2v","size":"1280*720","duration":5,"audio":false,"output":"intro/seed-2.mp4","run":"2026-11-30T10:00:00Z"}
{"at":"2026-11-30T10:00:01Z","key":"k2","ev":"submitted","task_id":"t2"}
{"at":"2026-11-30T10:01:00Z","key":"k2","ev":"finished","status":"SUCCEEDED","usage":{"duration":5.0,"size":"1280*720"}}
{"at":"2026-11-30T10:00:00Z","key":"k3","ev":"intent","attempt":1,"shot":"walk","variant":"","model":"pixverse/pixverse-v5.6-r2v","size":"1280*720","duration":8,"audio":false,"output":"walk.mp4","estimate_cny":2.16,"stage":"clips","run":"2026-11-30T10:00:00Z"}
{"at":"2026-11-30T10:00:01Z","key":"k3","ev":"submitted","task_id":"t3"}
{"at":"2026-11-30T10:02:00Z","key":"k3","ev":"finished","status":"FAILED","code":"InternalError","message":"boom"}
{"at":"2026-12-01T09:00:00Z","key":"k3","ev":"intent","attempt":2,"shot":"walk","variant":"","model":"pixverse/pixverse-v5.6-r2v","size":"1280*720","duration":8,"audio":false,"output":"walk.mp4","estimate_cny":2.16,"stage":"clips","run":"2026-12-01T09:00:00Z"}
{"at":"2026-12-01T09:00:01Z","key":"k3","ev":"submitted","task_id":"t4"}
{"at":"2026-12-01T09:03:00Z","key":"k3","ev":"finished","status":"SUCCEEDED","usage":{"duration":8.0,"size":"1280*720"},"billed":{"cny":2.4,"unit_price":0.3,"source":"manifest"}}
{"at":"2026-12-01T09:00:00Z","key":"k4","ev":"intent","attempt":1,"shot":"@hero","variant":"seed=1","model":"wan2.7-image","size":"1104*1472","duration":0,"audio":false,"output":"refs/hero/seed-1.png","estimate_cny":0.4,"stage":"refs","run":"2026-12-01T09:00:00Z"}
{"at":"2026-12-01T09:00:01Z","key":"k4","ev":"submitted","task_id":"t5"}
{"at":"2026-12-01T09:00:30Z","key":"k4","ev":"finished","status":"SUCCEEDED","usage":{"image_count":1},"billed":{"cny":0.2,"unit_price":0.2}}
{"at":"2026-12-01T09:05:00Z","key":"k5","ev":"intent","attempt":1,"shot":"finale","variant":"","model":"pixverse/pixverse-c1-r2v","size":"1920*1080","duration":10,"audio":false,"output":"finale.mp4","estimate_cny":5.6,"stage":"clips","run":"2026-12-01T09:00:00Z"}
{"at":"2026-12-01T09:05:01Z","key":"k5","ev":"submitted","task_id":"t6"}
"#;

fn spend(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(assert_cmd::cargo::cargo_bin!("pixbatch"))
        .current_dir(dir)
        .env_clear()
        .env("NO_COLOR", "1")
        .arg("spend")
        .arg("golden.yaml")
        .args(args)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn spend_in_every_format() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("golden.yaml"), MANIFEST).expect("manifest");
    std::fs::create_dir_all(dir.path().join("out/.pixbatch")).expect("ledger dir");
    let journal: String = JOURNAL
        .lines()
        .map(|l| {
            // Keys as the ledger writes them: 64 hex digits.
            let k = l.split("\"key\":\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default();
            l.replace(&format!("\"key\":\"{k}\""), &format!("\"key\":\"{:0>64}\"", k.trim_start_matches('k'))) + "\n"
        })
        .collect();
    std::fs::write(dir.path().join("out/.pixbatch/journal.jsonl"), journal).expect("journal");
    insta::assert_snapshot!("table by model", spend(dir.path(), &[]));
    insta::assert_snapshot!("table by run", spend(dir.path(), &["--by", "run"]));
    insta::assert_snapshot!("table by day", spend(dir.path(), &["--by", "day"]));
    insta::assert_snapshot!("table by stage", spend(dir.path(), &["--by", "stage"]));
    insta::assert_snapshot!("csv by shot", spend(dir.path(), &["--by", "shot", "--format", "csv"]));
    insta::assert_snapshot!("json by model", spend(dir.path(), &["--format", "json"]));
}
