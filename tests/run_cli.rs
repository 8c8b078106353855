//! `pixbatch run` as a user runs it: a child process against the fake, killed, interrupted,
//! and refused by a bad key.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use pixbatch::fake::{FakeConfig, FakeServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_with_sigkill_three_times_and_rerun_finishes_without_duplicates() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 25, "@man fights");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    for at in [8, 20, 35] {
        let mut child = pixbatch(&fake, "sk-test").arg("run").arg(&manifest).args(FAST).spawn().expect("spawn");
        until_submitted(&fake, at).await;
        child.start_kill().expect("SIGKILL");
        let status = child.wait().await.expect("reaped");
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
    }
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(verify_outputs(&manifest), 50);
    let stats = fake.stats();
    assert_eq!(stats.duplicate_submissions, 0, "{stats:?}");
    assert!(stats.submissions >= 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_submitting_records_and_exits_130_then_a_rerun_finishes() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 20, "@man fights");
    let fake = FakeServer::start(FakeConfig {
        run_time: pixbatch::fake::DurationRange::fixed(Duration::from_millis(400)),
        ..fast_fake()
    })
    .await
    .expect("fake");
    let child = pixbatch(&fake, "sk-test").arg("run").arg(&manifest).args(FAST).spawn().expect("spawn");
    until_submitted(&fake, 6).await;
    let pid = child.id().expect("pid").to_string();
    let killed = std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().await.expect("exits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let after_interrupt = fake.stats().submissions;
    assert!(after_interrupt < 40, "it stopped submitting ({after_interrupt})");
    assert!(dir.path().join("out/results.csv").exists(), "results written on interrupt");

    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(verify_outputs(&manifest), 40);
    assert_eq!(fake.stats().duplicate_submissions, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_key_stops_the_run_at_once_with_exit_3() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 25, "@man fights");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let out = pixbatch(&fake, "sk-not-the-key").arg("run").arg(&manifest).args(FAST).output().await.expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("InvalidApiKey"), "{stderr}");
    assert!(stderr.contains("DASHSCOPE_API_KEY") && stderr.contains("region"), "{stderr}");
    assert!(!stderr.contains("sk-not-the-key"), "the key is never printed");
    let stats = fake.stats();
    assert_eq!(stats.submissions, 0);
    assert!(stats.unauthorized <= 2, "one create per model at most, not 50: {stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_says_what_to_do() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 1, "@man fights");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let out =
        pixbatch(&fake, "").env_remove("DASHSCOPE_API_KEY").arg("run").arg(&manifest).output().await.expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("DASHSCOPE_API_KEY is not set") && stderr.contains("--fake"), "{stderr}");
}

#[test]
fn the_readme_command_renders_the_storyboard_with_no_key() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(root.join("examples/storyboard.yaml"), dir.path().join("storyboard.yaml")).expect("copy");
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin!("pixbatch"))
        .current_dir(dir.path())
        .env_clear()
        .args(["run", "storyboard.yaml", "--fake", "--fake-run-time", "100ms:300ms", "--poll-min", "20ms"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("9 of 9 jobs done"), "{stderr}");
    let videos = std::fs::read_dir(dir.path().join("renders/storyboard"))
        .expect("output folder")
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "mp4")))
        .count();
    assert_eq!(videos, 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_cancels_pending_tasks_only_and_a_rerun_resubmits_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 5, "@man fights");
    // One slot on the service: of the 5 per family the runner submits, 1 runs and 4 wait.
    let fake = FakeServer::start(FakeConfig {
        concurrency: Some(1),
        run_time: pixbatch::fake::DurationRange::fixed(Duration::from_secs(60)),
        ..fast_fake()
    })
    .await
    .expect("fake");
    let mut child = pixbatch(&fake, "sk-test").arg("run").arg(&manifest).args(FAST).spawn().expect("spawn");
    until_submitted(&fake, 10).await;
    // Let the runner record the last task ids (its journal is synced before it polls).
    for _ in 0..400 {
        let journal = std::fs::read_to_string(dir.path().join("out/.pixbatch/journal.jsonl")).unwrap_or_default();
        if journal.matches("\"ev\":\"submitted\"").count() >= 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.start_kill().expect("kill");
    child.wait().await.expect("reaped");

    let out = pixbatch(&fake, "sk-test").arg("cancel").arg(&manifest).output().await.expect("cancel");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.matches("\ncancelled ").count() + usize::from(stdout.starts_with("cancelled ")), 8, "{stdout}");
    assert_eq!(stdout.matches("not cancelled").count(), 2, "the two RUNNING tasks: {stdout}");
    assert_eq!(fake.stats().final_states.get("CANCELED"), Some(&8));
    let plan = std::process::Command::new(assert_cmd::cargo::cargo_bin!("pixbatch"))
        .args(["plan", "--format", "csv"])
        .arg(&manifest)
        .output()
        .expect("plan");
    let csv = String::from_utf8_lossy(&plan.stdout);
    assert_eq!(csv.matches(",new\n").count(), 8, "cancelled jobs are new again: {csv}");
    assert_eq!(csv.matches(",resume\n").count(), 2, "{csv}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junit_has_one_case_per_job_and_failures_with_codes() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 6, "@man fights");
    let fake = FakeServer::start(FakeConfig {
        faults: pixbatch::fake::Faults { task_failed: 0.6, ..Default::default() },
        seed: 3,
        ..fast_fake()
    })
    .await
    .expect("fake");
    let junit = dir.path().join("junit.xml");
    let out = pixbatch(&fake, "sk-test")
        .arg("run")
        .arg(&manifest)
        .args(FAST)
        .arg("--junit")
        .arg(&junit)
        .output()
        .await
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "some jobs failed");
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    let failed = fake.stats().final_states.get("FAILED").copied().unwrap_or(0) as usize;
    assert!(failed > 0);
    // Parse it as XML: every element well formed, one testcase per job, a failure per failed job.
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures, mut depth) = (0, 0, 0i32);
    let mut suite_totals = None;
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(e) => {
                depth += 1;
                if e.name().as_ref() == b"testsuite" {
                    let attr = |name: &str| {
                        let a = e.try_get_attribute(name).expect("attr").unwrap_or_else(|| panic!("{name}: {xml}"));
                        String::from_utf8_lossy(a.value.as_ref()).into_owned()
                    };
                    suite_totals = Some((attr("tests"), attr("failures"), attr("skipped")));
                }
                cases += usize::from(e.name().as_ref() == b"testcase");
                if e.name().as_ref() == b"failure" {
                    failures += 1;
                    let ty = e.try_get_attribute("type").expect("attr").expect("type");
                    assert_eq!(ty.value.as_ref(), b"InternalError.Algo");
                }
            }
            quick_xml::events::Event::Empty(e) => cases += usize::from(e.name().as_ref() == b"testcase"),
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!((cases, failures, depth), (12, failed, 0));
    assert_eq!(suite_totals, Some(("12".into(), failed.to_string(), "0".into())), "{xml}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_report_is_alone_on_stdout_and_matches_its_schema() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 3, "@man fights");
    let fake = FakeServer::start(FakeConfig {
        faults: pixbatch::fake::Faults { task_failed: 0.3, ..Default::default() },
        seed: 5,
        ..fast_fake()
    })
    .await
    .expect("fake");
    let out =
        pixbatch(&fake, "sk-test").arg("run").arg(&manifest).args(FAST).arg("--json").output().await.expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    let schema: serde_json::Value = serde_json::from_str(&pixbatch::schema::report_schema()).expect("schema");
    let validator = jsonschema::validator_for(&schema).expect("compiles");
    let errors: Vec<String> = validator.iter_errors(&report).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(report["format"], "pixbatch.report/1");
    assert_eq!(report["exit_code"].as_i64(), out.status.code().map(i64::from));
    assert_eq!(report["jobs"].as_array().map(Vec::len), Some(6));
    let failed = report["summary"]["counts"]["failed"].as_u64().expect("count");
    let failures = report["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .filter(|j| j["state"] == "failed" && j["error_code"].is_string())
        .count();
    assert_eq!(failures as u64, failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_run_one_after_another_on_one_folder_never_call_each_other_orphans() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 6, "@man fights");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let csv = || std::fs::read_to_string(dir.path().join("out/results.csv")).expect("results.csv");
    let count = |text: &str, state: &str| text.lines().filter(|l| l.contains(&format!(",{state},"))).count();

    let (code, stderr) = run_to_end(&fake, &manifest, &["--shard", "1/2", "--json"]).await;
    assert_eq!(code, 0, "{stderr}");
    let first = csv();
    let done = count(&first, "done");
    assert!(done > 0 && done < 12, "shard 1 of 2 did part of the work: {first}");
    assert_eq!(count(&first, "orphaned"), 0, "the other shard's jobs are still in the manifest: {first}");
    assert_eq!(first.lines().count(), 1 + 12, "results.csv lists every job of the manifest: {first}");

    // The second shard's status and plan see its own jobs only, and no orphans.
    let status =
        pixbatch(&fake, "sk-test").args(["status", "--shard", "2/2"]).arg(&manifest).output().await.expect("runs");
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(!text.contains("orphaned"), "{text}");
    let plan = pixbatch(&fake, "sk-test").args(["plan", "--shard", "2/2"]).arg(&manifest).output().await.expect("runs");
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(!text.contains("orphaned"), "{text}");

    let (code, stderr) = run_to_end(&fake, &manifest, &["--shard", "2/2"]).await;
    assert_eq!(code, 0, "{stderr}");
    let last = csv();
    assert_eq!((count(&last, "done"), count(&last, "orphaned")), (12, 0), "{last}");
    assert_eq!(fake.stats().submissions, 12);

    // A job that really left the manifest is still called orphaned, shard or not.
    let manifest = two_family_manifest(dir.path(), 5, "@man fights");
    let status =
        pixbatch(&fake, "sk-test").args(["status", "--shard", "1/2"]).arg(&manifest).output().await.expect("runs");
    let text = String::from_utf8_lossy(&status.stdout);
    assert_eq!(text.lines().filter(|l| l.starts_with("orphaned")).count(), 2, "{text}");
    let plan = pixbatch(&fake, "sk-test").args(["plan", "--shard", "1/2"]).arg(&manifest).output().await.expect("runs");
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(text.contains("2 jobs in the ledger left the manifest (orphaned)"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reads_a_hand_edited_ledger_whose_key_is_not_ascii() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = two_family_manifest(dir.path(), 1, "@man fights");
    let fake = FakeServer::start(fast_fake()).await.expect("fake");
    let (code, stderr) = run_to_end(&fake, &manifest, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    // A job that left the manifest, its key edited by hand into multi-byte characters.
    let journal = dir.path().join("out/.pixbatch/journal.jsonl");
    let mut text = std::fs::read_to_string(&journal).expect("journal");
    let first = text.lines().next().expect("a line").to_owned();
    let entry: serde_json::Value = serde_json::from_str(&first).expect("json");
    let key = entry["key"].as_str().expect("key").to_owned();
    text.push_str(&first.replace(&key, "aééééééééééé"));
    text.push('\n');
    std::fs::write(&journal, text).expect("edit");
    let out = pixbatch(&fake, "sk-test").arg("status").arg(&manifest).output().await.expect("status");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("orphaned") && stdout.contains("aéééé"), "{stdout}");
}

#[test]
fn completions_parse_in_their_shell_and_the_man_page_renders() {
    let bin = assert_cmd::cargo::cargo_bin!("pixbatch");
    let dir = tempfile::tempdir().expect("tmp");
    let shells: &[(&str, &str, &[&str])] =
        &[("bash", "bash", &["-n"]), ("zsh", "zsh", &["-n"]), ("fish", "fish", &["--no-execute"])];
    for (name, shell, check) in shells {
        let out = std::process::Command::new(bin).args(["completions", name]).output().expect("runs");
        assert_eq!(out.status.code(), Some(0));
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains("pixbatch") && script.contains("retry-failed"), "{name}: {script}");
        let path = dir.path().join(format!("pixbatch.{name}"));
        std::fs::write(&path, &out.stdout).expect("write");
        // bash is always here; zsh and fish are checked where installed.
        match std::process::Command::new(shell).args(*check).arg(&path).output() {
            Ok(run) => assert!(run.status.success(), "{name}: {}", String::from_utf8_lossy(&run.stderr)),
            Err(_) => assert_ne!(*name, "bash", "bash must check its completions"),
        }
    }
    let out = std::process::Command::new(bin).args(["completions", "powershell"]).output().expect("runs");
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Register-ArgumentCompleter"));

    let out = std::process::Command::new(bin).arg("manpage").output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let roff = String::from_utf8_lossy(&out.stdout);
    assert!(roff.starts_with(".ie") || roff.contains(".TH pixbatch"), "{roff}");
    // groff (from man-db's dependencies) renders it without complaint, where it is installed.
    if let Ok(render) = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        use std::io::Write as _;
        let mut render = render;
        render.stdin.take().expect("stdin").write_all(&out.stdout).expect("feed");
        let done = render.wait_with_output().expect("groff");
        assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
        let text = String::from_utf8_lossy(&done.stdout);
        assert!(text.contains("pixbatch") && text.contains("validate") && text.contains("export"), "{text}");
    }
}

#[test]
fn every_command_help_ends_with_examples() {
    let bin = assert_cmd::cargo::cargo_bin!("pixbatch");
    for command in [
        &["validate"][..],
        &["plan"],
        &["run"],
        &["status"],
        &["pick"],
        &["review"],
        &["export"],
        &["cancel"],
        &["schema"],
        &["completions"],
        &["manpage"],
        &["fake-server"],
        &["ledger", "merge"],
    ] {
        let out = std::process::Command::new(bin).args(command).arg("--help").output().expect("runs");
        let help = String::from_utf8_lossy(&out.stdout);
        let examples = help.split("Examples:").nth(1).unwrap_or_else(|| panic!("{command:?}: no examples\n{help}"));
        let n = examples.lines().filter(|l| l.trim_start().starts_with("pixbatch ")).count();
        assert!(n >= 1, "{command:?}: {examples}");
    }
}

#[test]
fn the_region_is_shown_in_plan_and_singapore_needs_a_workspace() {
    let bin = assert_cmd::cargo::cargo_bin!("pixbatch");
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = dir.path().join("m.yaml");
    std::fs::write(
        &manifest,
        "version: 1\noutput: out\ndefaults: {model: pixverse/pixverse-c1-r2v, size: \"640*360\", duration: 5}\nrefs: {man: https://example.com/man.jpg}\nshots:\n  - {id: a, prompt: \"@man walks\"}\nrun: {region: ap-southeast-1}\n",
    )
    .expect("write");
    let out = std::process::Command::new(bin).env_clear().arg("plan").arg(&manifest).output().expect("plan");
    assert!(String::from_utf8_lossy(&out.stdout).contains("region ap-southeast-1"));
    // No workspace id: refused before anything is sent (no DASHSCOPE_BASE_URL: nothing to reach).
    let out = std::process::Command::new(bin)
        .env_clear()
        .env("DASHSCOPE_API_KEY", "sk-not-used")
        .arg("run")
        .arg(&manifest)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ap-southeast-1") && stderr.contains("--workspace"), "{stderr}");
    assert!(!dir.path().join("out/.pixbatch/journal.jsonl").exists(), "nothing was recorded");
}
