//! Every relative link in README.md and docs/*.md resolves: `[text](path)` and `![alt](path)`
//! name an existing file, and a `#anchor` into a Markdown file names one of its headings, by
//! GitHub's slug rules (lowercase; spaces become `-`; punctuation other than `-` and `_` is
//! dropped; letters of any script, CJK included, are kept; a repeated heading gets `-1`, `-2`).
//! Links inside fenced code blocks and code spans are not links and are not checked; neither
//! are `http(s)://` and `mailto:` links.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A link found in a page: its line and its destination as written.
#[derive(Debug, PartialEq)]
struct Link {
    line: usize,
    dest: String,
}

/// The page's text with fenced code blocks and code spans blanked out (newlines kept, so
/// lines still count): what is left is where Markdown finds links.
fn prose(markdown: &str) -> String {
    blank_code_spans(&without_fences(markdown))
}

/// The page's text with fenced code blocks blanked out: where Markdown finds headings.
fn without_fences(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut fence: Option<String> = None;
    for line in markdown.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let marker: String = trimmed.chars().take_while(|&c| c == '`' || c == '~').collect();
        let is_fence = marker.len() >= 3 && marker.chars().all(|c| c == marker.chars().next().unwrap_or('`'));
        match &fence {
            Some(open) if is_fence && marker.starts_with(open.as_str()) => {
                fence = None;
                out.push('\n');
            }
            Some(_) => out.push_str(if line.ends_with('\n') { "\n" } else { "" }),
            None if is_fence => {
                fence = Some(marker);
                out.push('\n');
            }
            None => out.push_str(line),
        }
    }
    out
}

/// Code spans: a run of N backticks up to the next run of exactly N; an unmatched run is text.
fn blank_code_spans(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let run_at = |i: usize| chars[i..].iter().take_while(|&&c| c == '`').count();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let n = run_at(i);
        let mut j = i + n;
        let mut close = None;
        while j < chars.len() {
            if chars[j] == '`' {
                let m = run_at(j);
                if m == n {
                    close = Some(j);
                    break;
                }
                j += m;
            } else {
                j += 1;
            }
        }
        match close {
            Some(j) => {
                for &c in &chars[i..j + n] {
                    out.push(if c == '\n' { '\n' } else { ' ' });
                }
                i = j + n;
            }
            None => {
                out.extend(&chars[i..i + n]);
                i += n;
            }
        }
    }
    out
}

/// Inline links and images: `[text](dest)` and `![alt](dest "title")`, text nested or not.
fn links(markdown: &str) -> Vec<Link> {
    let text: Vec<char> = prose(markdown).chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < text.len() {
        if text[i] != '[' {
            i += 1;
            continue;
        }
        // The matching `]`, then `(` right after it.
        let mut depth = 0;
        let mut close = None;
        for (j, &c) in text.iter().enumerate().skip(i) {
            match c {
                '[' => depth += 1,
                ']' => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(close) = close else {
            i += 1;
            continue;
        };
        if text.get(close + 1) != Some(&'(') {
            i += 1;
            continue;
        }
        let mut depth = 0;
        let mut end = None;
        for (j, &c) in text.iter().enumerate().skip(close + 1) {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else {
            i += 1;
            continue;
        };
        let inside: String = text[close + 2..end].iter().collect();
        let inside = inside.trim();
        let dest = match inside.strip_prefix('<') {
            Some(rest) => rest.split('>').next().unwrap_or_default(),
            None => inside.split_whitespace().next().unwrap_or_default(),
        };
        let line = text[..i].iter().filter(|&&c| c == '\n').count() + 1;
        found.push(Link { line, dest: dest.to_owned() });
        // Links nest in images' alt text rarely; go on inside the text anyway.
        i += 1;
    }
    found
}

/// GitHub's anchor for a heading's text.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// Every anchor a page's headings make, repeats numbered as GitHub numbers them.
fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for line in without_fences(markdown).lines() {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let text = line[hashes..].trim().trim_end_matches('#').trim();
        // A link in a heading shows its text only.
        let text = text.replace("](", "]\u{0}(");
        let text: String = {
            let mut out = String::new();
            let mut skipping = false;
            for c in text.chars() {
                match c {
                    '\u{0}' => skipping = true,
                    ')' if skipping => skipping = false,
                    _ if skipping => {}
                    _ => out.push(c),
                }
            }
            out
        };
        let base = slug(&text);
        let mut anchor = base.clone();
        let mut n = 0;
        while seen.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        seen.insert(anchor);
    }
    seen
}

/// The broken links of the pages under `root`, one message each.
fn broken_links(root: &Path, pages: &[PathBuf]) -> Vec<String> {
    let mut problems = Vec::new();
    for page in pages {
        let text = std::fs::read_to_string(root.join(page)).expect("a page");
        let dir = page.parent().unwrap_or(Path::new(""));
        for link in links(&text) {
            let dest = link.dest.as_str();
            if dest.starts_with("http://") || dest.starts_with("https://") || dest.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = match dest.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (dest, None),
            };
            let target = if path.is_empty() { page.clone() } else { normalize(&dir.join(path)) };
            let at = format!("{}:{}: `{dest}`", page.display(), link.line);
            if !root.join(&target).exists() {
                problems.push(format!("{at}: no file {}", target.display()));
                continue;
            }
            let Some(anchor) = anchor else { continue };
            if target.extension().is_some_and(|e| e == "md") {
                let target_text = std::fs::read_to_string(root.join(&target)).expect("a linked page");
                if !anchors(&target_text).contains(anchor) {
                    problems.push(format!("{at}: {} has no heading #{anchor}", target.display()));
                }
            }
        }
    }
    problems
}

/// `docs/../README.md` → `README.md`: the link's file, relative to the repository.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// README.md and every page under docs/.
fn pages(root: &Path) -> Vec<PathBuf> {
    common::doc_pages(root)
}

#[test]
fn every_relative_link_in_the_readme_and_docs_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pages = pages(root);
    assert!(pages.len() > 10, "the manual is in docs/: {pages:?}");
    let problems = broken_links(root, &pages);
    assert!(problems.is_empty(), "broken links:\n{}", problems.join("\n"));
}

#[test]
fn every_docs_page_links_back_to_the_readme_and_the_readme_links_to_every_page() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let linked: BTreeSet<String> = links(&readme).into_iter().map(|l| l.dest).collect();
    for page in pages(root).iter().skip(1) {
        let text = std::fs::read_to_string(root.join(page)).expect("a page");
        assert!(text.starts_with("# "), "{} starts with its title", page.display());
        assert!(text.contains("[README](../README.md)"), "{} links back to the README", page.display());
        assert!(linked.contains(&page.display().to_string()), "the README links to {}", page.display());
    }
}

#[test]
fn slugs_follow_github() {
    assert_eq!(slug("Models"), "models");
    assert_eq!(slug("`plan --format json`"), "plan---format-json");
    assert_eq!(slug("When the service cannot be reached"), "when-the-service-cannot-be-reached");
    assert_eq!(
        slug("Into your editor: reviewing, picking and exporting"),
        "into-your-editor-reviewing-picking-and-exporting"
    );
    assert_eq!(slug("Exit codes (and 130)"), "exit-codes-and-130");
    assert_eq!(slug("snake_case and kebab-case"), "snake_case-and-kebab-case");
    assert_eq!(slug("从参考图到 片段"), "从参考图到-片段");
    assert_eq!(slug("Ünïcode Ĳ"), "ünïcode-ĳ");
}

#[test]
fn links_are_found_outside_code_only() {
    let sample = "# Title\n\nSee [a](a.md) and ![pic](img/p.png \"title\") or [b](<b c.md#x>).\n\
                  `[not](code.md)` and ``[nor](this.md)``\n\n```sh\n[no](fence.md)\n```\n\
                  [nested [text]](n.md#two-words) [ref][x] (plain) [c](https://example.com)\n";
    let found: Vec<(usize, String)> = links(sample).into_iter().map(|l| (l.line, l.dest)).collect();
    assert_eq!(
        found,
        [
            (3, "a.md".to_owned()),
            (3, "img/p.png".to_owned()),
            (3, "b c.md#x".to_owned()),
            (9, "n.md#two-words".to_owned()),
            (9, "https://example.com".to_owned()),
        ]
    );
    let headings = anchors("# Two words\n## Two words\n```\n# not a heading\n```\n### `code` and [link](x.md)\n");
    let expected: BTreeSet<String> =
        ["two-words", "two-words-1", "code-and-link"].into_iter().map(str::to_owned).collect();
    assert_eq!(headings, expected);
}

#[test]
fn a_missing_file_or_heading_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("docs")).expect("docs/");
    std::fs::write(
        dir.path().join("README.md"),
        "# Front\n\n[ok](docs/a.md#a-page) [gone](docs/gone.md) [bad](docs/a.md#nowhere) [self](#front)\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("docs/a.md"), "# A page\n\n[up](../README.md#front) [up bad](../README.md#back)\n")
        .expect("write");
    let pages = pages(dir.path());
    let problems = broken_links(dir.path(), &pages);
    assert_eq!(
        problems,
        [
            "README.md:3: `docs/gone.md`: no file docs/gone.md",
            "README.md:3: `docs/a.md#nowhere`: docs/a.md has no heading #nowhere",
            "docs/a.md:3: `../README.md#back`: README.md has no heading #back",
        ]
    );
}
