//! Every command shown in a ```sh block of README.md and docs/*.md keeps working.
//!
//! A line is a command when it starts with `pixbatch`, or with `cargo run [--release] --`
//! (the README's first command), which runs the built binary the same way. Everything after an
//! unquoted `#` is a comment. Each page's commands run in order, in a temporary folder holding
//! a copy of the repository's `examples/` (so `examples/…` paths resolve and a pick follows the
//! run it picks from), with a clean environment: no key, no network.
//!
//! Changed before running, so that nothing reaches the network and nothing waits forever:
//! - `run` gets `--fake` if it lacks it, and a fast fake (`--fake-run-time 50ms`,
//!   `--fake-pending-min 0s`) unless the line sets those;
//! - `review` without `--static` (it serves until Ctrl-C) gets `--static`;
//! - a trailing `> FILE` is dropped: the test keeps stdout.
//!
//! Skipped, each printed with its reason, and every one listed in [`SKIPPED`] (so a new skip is
//! a decision, not an accident):
//! - placeholders: an upper-case word (`MANIFEST`, `VARIANT`, `K/N`), `<…>`, `[…]`, `...`;
//! - anything a shell would do for it: `$` variables, pipes, globs (`*`, `?`), `;`, `&`;
//! - `cancel` and `fake-server`: the first needs the real service, the second serves forever.
//!
//! A command passes when it exits 0; a `run` may also exit 6 (it ended waiting for picks, as
//! documented); and any code the line's own comment names (`exit 4 if jobs were left out`).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The commands skipped by the rules above, as written in the docs (comment removed).
const SKIPPED: &[&str] = &["pixbatch ledger merge --into renders shard-*/renders"];

/// One line of a ```sh block.
#[derive(Debug, PartialEq)]
enum Line {
    /// Not a pixbatch command (`cargo install`, `ffmpeg`, a blank line).
    Other,
    /// Skipped, with the reason.
    Skip(String),
    /// pixbatch's arguments and the exit codes that mean it worked.
    Run { args: Vec<String>, ok: BTreeSet<i32> },
}

/// A word of a command line and whether any of it was quoted.
#[derive(Debug)]
struct Word {
    text: String,
    /// Characters a shell would act on, outside quotes.
    special: Vec<char>,
}

/// Splits a line as a shell would, without expanding anything; returns the words and the
/// comment (after an unquoted `#` that starts a word).
fn words(line: &str) -> (Vec<Word>, String) {
    let mut words = Vec::new();
    let mut current: Option<Word> = None;
    let mut chars = line.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => current.get_or_insert_with(new_word).text.push(c),
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    current.get_or_insert_with(new_word);
                }
                '#' if current.is_none() => {
                    let comment: String = chars.collect();
                    return (words, comment.trim().to_owned());
                }
                c if c.is_whitespace() => words.extend(current.take()),
                '\\' => {
                    if let Some(next) = chars.next() {
                        current.get_or_insert_with(new_word).text.push(next);
                    }
                }
                _ => {
                    let word = current.get_or_insert_with(new_word);
                    if "$|*?;&<>`(){}[]".contains(c) {
                        word.special.push(c);
                    }
                    word.text.push(c);
                }
            },
        }
    }
    words.extend(current);
    (words, String::new())
}

fn new_word() -> Word {
    Word { text: String::new(), special: Vec::new() }
}

/// An upper-case placeholder (`MANIFEST`, `N`, `K/N`, `--to DIR`), not a value (`720P`).
fn is_placeholder(word: &str) -> bool {
    word.split(['/', '=', ',', ':']).any(|part| {
        part.starts_with(|c: char| c.is_ascii_uppercase())
            && part.chars().all(|c| c.is_ascii_uppercase() || c == '_' || c == '.')
    }) || word.contains("...")
        || word.contains('…')
}

/// The exit codes a comment names: `exit 4`, `exit code 6`, `exits 5`.
fn codes_in(comment: &str) -> BTreeSet<i32> {
    let mut codes = BTreeSet::new();
    let lower = comment.to_lowercase();
    let mut rest = lower.as_str();
    while let Some(at) = rest.find("exit") {
        rest = &rest[at + 4..];
        let after = rest.trim_start_matches('s').trim_start();
        let after = after.strip_prefix("code").map(str::trim_start).unwrap_or(after);
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(code) = digits.parse() {
            codes.insert(code);
        }
    }
    codes
}

/// What to do with one line of a ```sh block.
fn parse(line: &str) -> Line {
    let (mut words, comment) = words(line);
    let args_from = match words.first().map(|w| w.text.as_str()) {
        Some("pixbatch") => 1,
        Some("cargo") if words.get(1).is_some_and(|w| w.text == "run") => {
            match words.iter().position(|w| w.text == "--") {
                Some(dash) if words[2..dash].iter().all(|w| w.text == "--release" || w.text == "--locked") => dash + 1,
                _ => return Line::Other,
            }
        }
        _ => return Line::Other,
    };
    // `> FILE` at the end: stdout goes to the test instead.
    if words.len() >= 2 && words[words.len() - 2].text == ">" && words[words.len() - 2].special == ['>'] {
        words.truncate(words.len() - 2);
    }
    let mut args: Vec<String> = Vec::new();
    for word in &words[args_from..] {
        if let Some(&c) = word.special.first() {
            let what = match c {
                '$' => "a shell variable",
                '|' => "a pipe",
                '*' | '?' => "a glob",
                '<' | '>' => "a placeholder or redirection",
                '[' | ']' => "an optional part",
                _ => "shell syntax",
            };
            return Line::Skip(format!("{what} in `{}`", word.text));
        }
        if is_placeholder(&word.text) {
            return Line::Skip(format!("the placeholder `{}`", word.text));
        }
        args.push(word.text.clone());
    }
    let mut ok: BTreeSet<i32> = [0].into();
    ok.extend(codes_in(&comment));
    match args.first().map(String::as_str) {
        Some("run") => {
            ok.insert(6);
            if !args.iter().any(|a| a == "--fake") {
                args.push("--fake".into());
            }
            for (flag, value) in [("--fake-run-time", "50ms"), ("--fake-pending-min", "0s")] {
                if !args.iter().any(|a| a == flag || a.starts_with(&format!("{flag}="))) {
                    args.extend([flag.to_owned(), value.to_owned()]);
                }
            }
        }
        Some("review") if !args.iter().any(|a| a == "--static") => args.push("--static".into()),
        Some("cancel") => return Line::Skip("`cancel` needs the real service".into()),
        Some("fake-server") => return Line::Skip("`fake-server` serves until stopped".into()),
        _ => {}
    }
    Line::Run { args, ok }
}

/// The lines of a page's ```sh blocks, with their line numbers.
fn sh_lines(markdown: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut in_sh = None;
    for (n, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match in_sh {
            None if trimmed.starts_with("```") => {
                let info = trimmed.trim_start_matches('`').trim();
                in_sh = Some(matches!(info, "sh" | "bash" | "shell"));
            }
            Some(_) if trimmed.starts_with("```") => in_sh = None,
            Some(true) => found.push((n + 1, line.trim().to_owned())),
            _ => {}
        }
    }
    found
}

/// README.md and every page under docs/.
fn pages(root: &Path) -> Vec<PathBuf> {
    common::doc_pages(root)
}

/// Copies `examples/` as the repository has it, leaving out what runs left there.
fn copy_examples(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("examples/") {
        let entry = entry.expect("an entry");
        let name = entry.file_name();
        if name == "renders" || name == ".pixbatch" {
            continue;
        }
        let path = entry.path();
        if entry.file_type().expect("a file type").is_dir() {
            copy_examples(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).expect("copy");
        }
    }
}

/// Runs one page's commands in order; returns what went wrong, and the commands skipped.
fn run_page(root: &Path, page: &Path) -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(root.join(page)).expect("a page");
    let mut problems = Vec::new();
    let mut skipped = Vec::new();
    let mut dir: Option<tempfile::TempDir> = None;
    for (number, line) in sh_lines(&text) {
        let at = format!("{}:{number}", page.display());
        match parse(&line) {
            Line::Other => {}
            Line::Skip(reason) => {
                let command = line.split(" #").next().unwrap_or_default().trim().to_owned();
                eprintln!("{at}: skipped ({reason}): {command}");
                skipped.push(command);
            }
            Line::Run { args, ok } => {
                let dir = dir.get_or_insert_with(|| {
                    let dir = tempfile::tempdir().expect("tempdir");
                    copy_examples(&root.join("examples"), &dir.path().join("examples"));
                    dir
                });
                let out = assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("pixbatch"))
                    .args(&args)
                    .current_dir(dir.path())
                    .env_clear()
                    .env("HOME", dir.path())
                    .timeout(Duration::from_secs(60))
                    .output()
                    .expect("pixbatch runs");
                let code = out.status.code().unwrap_or(-1);
                eprintln!("{at}: exit {code}: pixbatch {}", args.join(" "));
                if !ok.contains(&code) {
                    problems.push(format!(
                        "{at}: `pixbatch {}` exited {code}, expected one of {ok:?}\n--- stdout\n{}\n--- stderr\n{}",
                        args.join(" "),
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr),
                    ));
                }
            }
        }
    }
    (problems, skipped)
}

#[test]
fn every_command_in_the_readme_and_docs_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pages = pages(root);
    // Pages are independent (a folder each): two at a time, for two cores.
    let results: Vec<(Vec<String>, Vec<String>)> = std::thread::scope(|scope| {
        let chunks: Vec<Vec<&PathBuf>> = [0, 1].map(|k| pages.iter().skip(k).step_by(2).collect()).into();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(move || chunk.into_iter().map(|page| run_page(root, page)).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("a page's thread")).collect()
    });
    let problems: Vec<String> = results.iter().flat_map(|(p, _)| p.clone()).collect();
    assert!(problems.is_empty(), "documented commands that fail:\n{}", problems.join("\n\n"));
    let skipped: BTreeSet<&str> = results.iter().flat_map(|(_, s)| s.iter().map(String::as_str)).collect();
    let expected: BTreeSet<&str> = SKIPPED.iter().copied().collect();
    assert_eq!(skipped, expected, "the skipped commands changed: run them, or list them in SKIPPED with a reason");
}

#[test]
fn lines_are_parsed_as_documented() {
    let run = |line: &str| match parse(line) {
        Line::Run { args, ok } => (args.join(" "), ok.into_iter().collect::<Vec<_>>()),
        other => panic!("{line}: {other:?}"),
    };
    assert_eq!(
        run("pixbatch validate examples/storyboard.yaml   # nothing (exit 0); or exit 2"),
        ("validate examples/storyboard.yaml".into(), vec![0, 2])
    );
    assert_eq!(
        run("cargo run --release -- run examples/a.yaml --fake   # render"),
        ("run examples/a.yaml --fake --fake-run-time 50ms --fake-pending-min 0s".into(), vec![0, 6])
    );
    assert_eq!(
        run("pixbatch run a.yaml --max-cost 20 --json > report.json  # exit 4 if over"),
        ("run a.yaml --max-cost 20 --json --fake --fake-run-time 50ms --fake-pending-min 0s".into(), vec![0, 4, 6])
    );
    assert_eq!(run("pixbatch review a.yaml"), ("review a.yaml --static".into(), vec![0]));
    assert_eq!(run("pixbatch pick a.yaml '@hero' \"seed=2\""), ("pick a.yaml @hero seed=2".into(), vec![0]));
    assert_eq!(run("pixbatch plan a.yaml --only 'intro*'"), ("plan a.yaml --only intro*".into(), vec![0]));
    assert_eq!(
        run("pixbatch run a.yaml --fake-run-time 1s"),
        ("run a.yaml --fake-run-time 1s --fake --fake-pending-min 0s".into(), vec![0, 6])
    );
    for line in ["cargo install --locked --path .", "bash .ci/run", "ffmpeg -i cut/concat.txt", "", "# a comment"] {
        assert_eq!(parse(line), Line::Other, "{line}");
    }
    for line in [
        "pixbatch validate MANIFEST...",
        "pixbatch run a.yaml --shard K/N",
        "pixbatch pick a.yaml <shot>",
        "pixbatch run a.yaml [--fake]",
        "pixbatch run $MANIFEST",
        "pixbatch plan a.yaml --format json | jq .summary",
        "pixbatch ledger merge --into renders shard-*/renders",
        "pixbatch cancel a.yaml",
        "pixbatch fake-server --addr 127.0.0.1:8090",
    ] {
        assert!(matches!(parse(line), Line::Skip(_)), "{line}: {:?}", parse(line));
    }
}

#[test]
fn only_sh_blocks_hold_commands() {
    let page = "```sh\npixbatch plan a.yaml\n```\n\n```\npixbatch validate MANIFEST\n```\n```yaml\nx: 1\n```\n";
    assert_eq!(sh_lines(page), [(2, "pixbatch plan a.yaml".to_owned())]);
}
