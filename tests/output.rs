//! What a person reads: `run`, `plan` and `status` output as snapshots (ports, paths, times
//! and task ids filtered), so that the next change to wording is a reviewed diff.

use std::path::Path;
use std::process::Command;

fn manifest(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("storyboard.yaml");
    std::fs::write(
        &path,
        "version: 1\nname: snapshot\noutput: out\ndefaults: {model: pixverse/pixverse-c1-r2v, size: \"640*360\", duration: 5}\nrefs: {man: https://example.com/man.jpg}\nshots:\n  - id: intro\n    prompt: \"@man walks in\"\n  - id: fight\n    prompt: \"@man fights\"\n    matrix: {seed: [1, 2]}\n",
    )
    .expect("write manifest");
    path
}

fn pixbatch(dir: &Path) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("pixbatch"));
    cmd.env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default()).env("NO_COLOR", "1").current_dir(dir);
    cmd
}

/// Runs a command and returns its exit code, stdout and stderr as one text.
fn shown(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    format!(
        "exit {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn filters(dir: &Path) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(&regex_escape(&dir.display().to_string()), "[DIR]");
    s.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[TIME]");
    s.add_filter(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[TASK]");
    s.add_filter(r"127\.0\.0\.1:\d+", "[ADDR]");
    s.add_filter(r"\d+ queries, [\d.]+ s", "[N] queries, [WALL] s");
    s
}

/// A run's log lines in sorted order: with several tasks, a download can finish before or
/// after the next create's answer. Only the first progress line (later ones come every 10 s).
fn log_in_order_of_wording(text: &str) -> String {
    let (mut log, mut rest) = (Vec::new(), Vec::new());
    let mut progress = false;
    for line in text.lines() {
        if line.contains(" INFO ") {
            if line.contains(" INFO progress:") && std::mem::replace(&mut progress, true) {
                continue;
            }
            log.push(line);
        } else {
            rest.push(line);
        }
    }
    log.sort_by_key(|l| l.split_once(" INFO ").map_or(*l, |(_, after)| after));
    let mut out = rest.iter().take_while(|l| !l.starts_with("--- stderr")).copied().collect::<Vec<_>>();
    out.push("--- stderr (log lines sorted)");
    out.extend(log);
    out.extend(rest.iter().skip_while(|l| !l.starts_with("--- stderr")).skip(1));
    out.join("\n") + "\n"
}

fn regex_escape(text: &str) -> String {
    text.chars().map(|c| if c.is_alphanumeric() || c == '/' { c.to_string() } else { format!("\\{c}") }).collect()
}

#[test]
fn plan_run_and_status_read_as_they_did() {
    let dir = tempfile::tempdir().expect("tmp");
    let manifest = manifest(dir.path());
    let settings = filters(dir.path());
    let _guard = settings.bind_to_scope();
    insta::assert_snapshot!("plan before the run", shown(pixbatch(dir.path()).arg("plan").arg(&manifest)));
    // One task at a time, so the lines come in one order.
    let run = shown(pixbatch(dir.path()).arg("run").arg(&manifest).args([
        "--fake",
        "--fake-run-time",
        "20ms",
        "--fake-pending-min",
        "0s",
        "--concurrency",
        "1",
        "--queue-ahead",
        "0",
        "--poll-min",
        "5ms",
        "--poll-max",
        "50ms",
    ]));
    insta::assert_snapshot!("run", log_in_order_of_wording(&run));
    insta::assert_snapshot!("status after the run", shown(pixbatch(dir.path()).arg("status").arg(&manifest)));
    std::fs::remove_file(dir.path().join("out/intro.mp4")).expect("rm");
    insta::assert_snapshot!("plan after a video was deleted", shown(pixbatch(dir.path()).arg("plan").arg(&manifest)));
    insta::assert_snapshot!(
        "status after a video was deleted",
        shown(pixbatch(dir.path()).arg("status").arg(&manifest))
    );
}
