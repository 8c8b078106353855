//! The GitHub Action (`action.yml`): its render step runs here as CI would run it, against the
//! fake; and every input the action uses is one it declares.

mod common;

use std::path::Path;

use common::{fast_fake, two_family_manifest};
use pixbatch::fake::FakeServer;

fn render(manifest: &Path, fake: &FakeServer, inputs: &[(&str, &str)], dir: &Path) -> (i32, String) {
    let outputs = dir.join("github-output");
    let _ = std::fs::remove_file(&outputs);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(root.join(".github/actions/render.sh"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PIXBATCH", assert_cmd::cargo::cargo_bin!("pixbatch"))
        .env("GITHUB_OUTPUT", &outputs)
        .env("DASHSCOPE_BASE_URL", fake.base_url())
        .env("DASHSCOPE_API_KEY", "sk-test")
        .env("INPUT_MANIFEST", manifest)
        .env("INPUT_ARGS", "--poll-min 10ms --poll-max 100ms");
    for (k, v) in inputs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("bash runs the step");
    (out.status.code().unwrap_or(-1), std::fs::read_to_string(&outputs).unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_action_renders_with_shard_budget_junit_and_report() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 3, "@man fights");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let out_dir = dir.path().join("out");

    // One shard of two: only its jobs, the reports where asked.
    let (code, outputs) = render(&manifest, &fake, &[("INPUT_SHARD", "1/2"), ("INPUT_JUNIT", "j.xml")], dir.path());
    assert_eq!(code, 0, "{outputs}");
    assert!(outputs.contains("exit-code=0"), "{outputs}");
    assert!(outputs.contains(&format!("output-dir={}", out_dir.display())), "{outputs}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("pixbatch-report.json")).expect("report")).expect("json");
    assert_eq!(report["format"], "pixbatch.report/1");
    let shard_jobs = report["jobs"].as_array().expect("jobs").len();
    assert!(shard_jobs > 0 && shard_jobs < 6, "one shard of 6 jobs: {shard_jobs}");
    assert!(std::fs::read_to_string(dir.path().join("j.xml")).expect("junit").contains("<testsuite"));

    // The rest, under a budget that affords one more job: exit 4, said in the outputs.
    let (code, outputs) = render(&manifest, &fake, &[("INPUT_MAX_COST", "1.2")], dir.path());
    assert_eq!(code, 4, "{outputs}");
    assert!(outputs.contains("exit-code=4"), "{outputs}");
    assert_eq!(fake.stats().duplicate_submissions, 0);
}

#[test]
fn every_input_the_action_uses_is_declared() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("action.yml")).expect("action.yml");
    let action: serde_json::Value = serde_saphyr::from_str(&text).expect("action.yml is YAML");
    let declared: Vec<&str> = action["inputs"].as_object().expect("inputs").keys().map(String::as_str).collect();
    assert_eq!(action["runs"]["using"], "composite");
    for used in text.split("inputs.").skip(1) {
        let name: String = used.chars().take_while(|c| c.is_alphanumeric() || *c == '-').collect();
        assert!(declared.contains(&name.as_str()), "inputs.{name} is used but not declared");
    }
    let usage = std::fs::read_to_string(root.join("examples/github-actions.yml")).expect("usage");
    assert!(usage.contains("uses: OWNER/pixbatch@"), "the example uses the action");
}
