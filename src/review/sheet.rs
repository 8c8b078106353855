//! The contact sheet, `OUTPUT/review.html`: every take of every shot where a person can look,
//! not read. One self-contained file (no network, no CDN; video paths relative, so it works
//! from `file://` and from a copied or zipped output folder), generated with `maud`, which
//! escapes every value (a prompt is user text).
//!
//! First the generated refs' candidate images (`sheet_refs`), then the shots in manifest order
//! (those waiting for a pick after the others); within a shot, a grid of its takes, or a table
//! when its variants vary along exactly two axes (say seed × size). Videos load only when
//! scrolled into view. The page's script (`sheet.js`) adds a keyboard cursor over takes and
//! candidates (arrows move, `p` picks, `c` marks a take to compare) and a view playing two
//! takes side by side in sync.

use std::collections::BTreeSet;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::picks::Picks;
use super::sheet_refs;
use crate::ledger::{Decision, Ledger, Record, decide};
use crate::plan::{Expansion, Job, Product};

/// The file in the output folder.
pub const REVIEW_HTML: &str = "review.html";

/// What the page is for.
#[derive(Debug, Clone, Copy)]
pub enum Mode<'a> {
    /// A file to open: picks are shown, not made.
    Static,
    /// Served by `pixbatch review`: every take gets a pick button that posts with this token.
    Served { token: &'a str },
}

/// A take's state as the sheet shows it.
pub(super) fn state_of(record: Option<&Record>, now: jiff::Timestamp) -> (&'static str, String) {
    // The file is not re-hashed here: a 10 000-job sheet must be quick; `status` re-hashes.
    match decide(record, crate::ledger::Asked::default(), now, |_| crate::ledger::FileCheck::Verified) {
        Decision::Done => ("done", "done".into()),
        Decision::Failed | Decision::Ambiguous | Decision::Lost => {
            let r = record;
            let code = r.and_then(|r| r.error_code.clone()).unwrap_or_else(|| "Failed".into());
            let message = r.and_then(|r| r.error_message.clone()).unwrap_or_default();
            ("failed", format!("failed: {code}: {message}"))
        }
        Decision::Resume | Decision::Reconcile | Decision::Download => ("running", "running".into()),
        Decision::New => ("new", "not yet rendered".into()),
        Decision::Waiting => ("new", "waiting for a pick of a generated ref".into()),
        // Not reached without re-hashing, but named: a file the ledger did not write is kept.
        Decision::Exists => ("failed", "kept: the file there is not the one the ledger recorded".into()),
    }
}

/// Everything but unreserved characters and `/` is percent-encoded in a relative `src` path.
const PATH: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'/');

/// Percent-encodes a relative path for an `src` attribute (segments kept).
pub(super) fn href(path: &str) -> String {
    percent_encoding::utf8_percent_encode(path, PATH).to_string()
}

/// `k=v` pairs of a variant label.
fn axes(variant: &str) -> Vec<(&str, &str)> {
    variant.split(',').filter_map(|kv| kv.split_once('=')).collect()
}

/// When a shot's takes vary along exactly two axes, with one take per pair: (rows, columns).
fn two_axes(jobs: &[&Job]) -> Option<(String, Vec<String>, String, Vec<String>)> {
    let parsed: Vec<Vec<(&str, &str)>> = jobs.iter().map(|j| axes(&j.variant)).collect();
    let first = parsed.first()?;
    if first.len() != 2 || parsed.iter().any(|p| p.len() != 2 || p[0].0 != first[0].0 || p[1].0 != first[1].0) {
        return None;
    }
    let mut rows: Vec<String> = Vec::new();
    let mut cols: Vec<String> = Vec::new();
    for p in &parsed {
        if !rows.iter().any(|r| r == p[0].1) {
            rows.push(p[0].1.to_owned());
        }
        if !cols.iter().any(|c| c == p[1].1) {
            cols.push(p[1].1.to_owned());
        }
    }
    let distinct: BTreeSet<(&str, &str)> = parsed.iter().map(|p| (p[0].1, p[1].1)).collect();
    (distinct.len() == parsed.len() && rows.len() > 1 && cols.len() > 1)
        .then(|| (first[0].0.to_owned(), rows, first[1].0.to_owned(), cols))
}

/// When a shot's takes come from several models (`model` is an axis): the models in manifest
/// order, and the rest of each take's variant (its row), in order.
fn by_model(jobs: &[&Job]) -> Option<(Vec<String>, Vec<String>)> {
    let mut models: Vec<String> = Vec::new();
    let mut rows: Vec<String> = Vec::new();
    for job in jobs {
        if !axes(&job.variant).iter().any(|(k, _)| *k == "model") {
            return None;
        }
        if !models.contains(&job.model) {
            models.push(job.model.clone());
        }
        let rest = without_model(&job.variant);
        if !rows.contains(&rest) {
            rows.push(rest);
        }
    }
    (models.len() > 1).then_some((models, rows))
}

/// A variant label without its `model=` pair.
fn without_model(variant: &str) -> String {
    axes(variant)
        .into_iter()
        .filter(|(k, _)| *k != "model")
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

pub(super) struct Take<'a> {
    job: &'a Job,
    record: Option<&'a Record>,
    state: &'static str,
    state_text: String,
    picked: bool,
    /// The candidate of each generated ref it is keyed by (`@hero seed=2`).
    uses: Vec<String>,
    /// Its shot has other takes: it can be compared with one of them.
    comparable: bool,
    /// What it was billed, and its estimate.
    pub(super) money: super::sheet_money::Money,
}

fn take(t: &Take<'_>, mode: Mode<'_>) -> Markup {
    let job = t.job;
    let label = if job.variant.is_empty() { "(the shot)" } else { job.variant.as_str() };
    let cost = t.money.text();
    let search = format!("{} {} {} {}", job.shot, job.variant, job.model, job.prompt).to_lowercase();
    // The video's relative URL, once (the player and the compare box share it).
    let video = t.record.and_then(|r| r.path.as_deref()).filter(|_| t.state == "done").map(href);
    html! {
        figure.take data-state=(t.state) data-search=(search) data-key=(job.key) .picked[t.picked] tabindex="-1"
            aria-label={ (job.shot) " " (label) ", " (t.state_text) } {
            @if let Some(src) = &video {
                video preload="none" controls muted playsinline data-src=(src) {}
            } @else {
                div.placeholder { (t.state_text) }
            }
            figcaption {
                b { (label) }
                @if t.picked { " " span.badge { "picked" } }
                br;
                span.meta {
                    (crate::catalog::short_name(&job.model)) " · " (job.size) " · "
                    (job.duration) " s"
                    @if let Some(seed) = job.seed { " · seed " (seed) }
                    @if job.audio { " · audio" }
                    @if let Some(c) = cost { " · " (c) }
                }
                br;
                span.state { (t.state_text) }
                @if !t.uses.is_empty() {
                    br;
                    span.uses { (t.uses.join(" · ")) }
                }
                p.prompt { (job.prompt) }
                @if let (true, Some(src)) = (t.comparable, &video) {
                    label.cmp {
                        input.compare type="checkbox" data-src=(src) data-label={ (job.shot) " " (label) };
                        " compare"
                    }
                    " "
                }
                @if let Mode::Served { .. } = mode {
                    @if t.state == "done" {
                        button.pick type="button" data-shot=(job.shot) data-variant=(job.variant) aria-pressed=(t.picked) {
                            @if t.picked { "picked ✓" } @else { "pick this take" }
                        }
                    }
                }
            }
        }
    }
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:1em;background:#111;color:#ddd}\
h2{margin:1.2em 0 .3em}h3{margin:.8em 0 .2em}.grid{display:flex;flex-wrap:wrap;gap:10px}\
.take{margin:0;width:320px;background:#1c1c1c;padding:6px;border:2px solid #1c1c1c}\
.take.picked{border-color:#4caf50}.take video,.placeholder{width:100%;aspect-ratio:16/9;background:#000}\
.take img{width:100%;height:240px;object-fit:contain;background:#000;display:block}\
.candidate .placeholder{height:240px;aspect-ratio:auto}\
.take:focus{outline:none}.take.cursor{outline:3px solid #ffb300;outline-offset:2px}\
.placeholder{display:flex;align-items:center;justify-content:center;color:#888;font-size:12px;padding:4px;box-sizing:border-box}\
.take[data-state=failed] .state,.take[data-state=failed] .placeholder{color:#f66}\
.badge{background:#4caf50;color:#000;padding:0 4px;border-radius:3px}.auto{color:#8c8;font-size:12px}\
.meta,.state,.keys{font-size:12px;color:#aaa}.uses{font-size:12px;color:#8cf}.prompt{font-size:12px;white-space:pre-wrap;margin:.3em 0}\
.refline{margin:.2em 0 .5em}.consequence{color:#fc6}#references{border-bottom:1px solid #333;padding-bottom:1em}\
table{border-collapse:collapse}td,th{vertical-align:top;padding:4px}.hidden{display:none}\
#bar{position:sticky;top:0;background:#111;padding:.5em 0;z-index:1}#said{color:#fc6;margin-left:1em}\
#compare{background:#1c1c1c;color:#ddd;border:1px solid #444;max-width:96vw}#compare::backdrop{background:#000c}\
.pair{display:flex;gap:8px}.side{margin:0}.pair video{width:46vw;max-width:720px;background:#000}\
.controls{display:flex;gap:8px;align-items:center;margin-top:6px}#cseek{flex:1}";

/// The page's behaviour: lazy videos, filters, picks, the keyboard path and the compare view.
/// Plain script, no network but the pick `POST` to the review server that served the page.
const SCRIPT: &str = include_str!("sheet.js");

/// The contact sheet of an expansion against its ledger and picks.
pub fn render<'a>(
    expansion: &'a Expansion,
    ledger: &'a Ledger,
    picks: &Picks,
    name: Option<&str>,
    mode: Mode<'_>,
) -> String {
    let now = jiff::Timestamp::now();
    // The clips, ready or waiting for a pick; a generated ref's images are in References.
    let clips = expansion.jobs.iter().chain(&expansion.waiting).filter(|j| j.product == Product::Video);
    let shots = super::shots(clips);
    let names = sheet_refs::candidate_names(expansion, ledger);
    let takes = |jobs: &[&'a Job]| -> Vec<Take<'a>> {
        jobs.iter()
            .copied()
            .map(|job| {
                let record = ledger.records.get(&job.key);
                let (state, state_text) = if job.waiting.is_empty() {
                    state_of(record, now)
                } else {
                    ("waiting", sheet_refs::waiting_text(&job.waiting))
                };
                Take {
                    job,
                    record,
                    state,
                    state_text,
                    picked: picks.is_picked(&job.shot, &job.key),
                    uses: sheet_refs::used_picks(&names, job),
                    comparable: jobs.len() > 1,
                    money: super::sheet_money::Money::of(job, record),
                }
            })
            .collect()
    };
    // Every shot's takes, made once: the page's total adds up their money.
    let all_takes: Vec<Vec<Take<'a>>> = shots.iter().map(|(_, jobs)| takes(jobs)).collect();
    let token = match mode {
        Mode::Served { token } => token,
        Mode::Static => "",
    };
    let title = name.unwrap_or("pixbatch review");
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — contact sheet" }
                style { (PreEscaped(STYLE)) }
            }
            body data-token=(token) {
                h1 { (title) }
                (super::sheet_money::total(expansion, ledger, &all_takes))
                div #bar {
                    "state "
                    select #state {
                        option value="" { "all" }
                        option value="done" { "done" }
                        option value="failed" { "failed" }
                        option value="running" { "running" }
                        option value="new" { "not yet rendered" }
                        option value="waiting" { "waiting for a pick" }
                    }
                    " text " input #text type="search" placeholder="shot, variant, prompt…";
                    " " span.keys aria-keyshortcuts="ArrowLeft ArrowRight ArrowUp ArrowDown P C" {
                        "keys: ← → take · ↑ ↓ shot · "
                        @if let Mode::Served { .. } = mode { "p pick · " }
                        "c compare"
                    }
                    span #said role="status" aria-live="polite" {}
                }
                (sheet_refs::section(expansion, ledger, mode, now))
                @for ((shot, jobs), takes) in shots.iter().zip(&all_takes) {
                    section.shot data-shot=(shot) {
                        h2 { (shot) " " button.play type="button" { "play all" } " " (super::sheet_money::shot(takes)) }
                        @if let Some((models, rows)) = by_model(jobs) {
                            table.compare {
                                tr {
                                    th { "model comparison" }
                                    @for m in &models { th { (crate::catalog::short_name(m)) } }
                                }
                                @for r in &rows {
                                    tr {
                                        th { @if r.is_empty() { "—" } @else { (r) } }
                                        @for m in &models {
                                            td {
                                                @for t in takes.iter().filter(|t| t.job.model == *m && without_model(&t.job.variant) == *r) {
                                                    (take(t, mode))
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        } @else if let Some((row_axis, rows, col_axis, cols)) = two_axes(jobs) {
                            table {
                                tr { th { (row_axis) " \\ " (col_axis) } @for c in &cols { th { (c) } } }
                                @for r in &rows {
                                    tr {
                                        th { (r) }
                                        @for c in &cols {
                                            td {
                                                @for t in takes.iter().filter(|t| { let a = axes(&t.job.variant); a[0].1 == r.as_str() && a[1].1 == c.as_str() }) {
                                                    (take(t, mode))
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        } @else {
                            div.grid { @for t in takes { (take(t, mode)) } }
                        }
                    }
                }
                dialog #compare aria-label="compare two takes" {
                    div.pair {
                        // The two videos are made when the view first opens (the page lists takes' videos only).
                        div.side { div #cav {} div #cal {} }
                        div.side { div #cbv {} div #cbl {} }
                    }
                    div.controls {
                        button #cplay type="button" { "play" }
                        input #cseek type="range" min="0" max="1" step="0.01" value="0" aria-label="position of both takes";
                        span #ctime { "0.00 s" }
                        button #cclose type="button" { "close" }
                    }
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    page.into_string()
}

/// Writes `OUTPUT/review.html` atomically.
pub fn write(expansion: &Expansion, ledger: &Ledger, picks: &Picks, name: Option<&str>) -> std::io::Result<()> {
    let html = render(expansion, ledger, picks, name, Mode::Static);
    crate::files::write_atomic(&expansion.output_dir.join(REVIEW_HTML), html.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_percent_encoded_and_axes_parse() {
        assert_eq!(href("fight/seed-1.mp4"), "fight/seed-1.mp4");
        assert_eq!(href("a b/#1?.mp4"), "a%20b/%231%3F.mp4");
        assert_eq!(axes("seed=1,size=1280*720"), [("seed", "1"), ("size", "1280*720")]);
    }
}
