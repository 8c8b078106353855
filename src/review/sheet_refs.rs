//! The contact sheet's "References" section: every candidate image of every generated ref,
//! with the prompt sent, its seed and cost, failed candidates with their code, the current
//! pick, and what waits for a pick or a new pick would render again. Also the line under each
//! clip naming the candidate of each generated ref it was keyed by.

use std::collections::HashMap;

use maud::{Markup, html};

use super::ref_picks::{self, Candidate};
use super::sheet::{Mode, href, state_of};
use crate::catalog::{round_cents, short_name};
use crate::ledger::{Ledger, Phase, Record};
use crate::plan::{Expansion, Job, MediaSource, Product, RefStage};

/// How a candidate is named on the page: its `pixbatch pick` label, or `#N` when that is empty.
fn shown_label(label: &str, index: u32) -> String {
    if label.is_empty() { format!("#{}", index + 1) } else { label.to_owned() }
}

/// One slot of an image task: a downloaded image, a failed item, or nothing (yet).
enum Slot<'s, 'e> {
    Image(&'s Candidate<'e>),
    Failed { code: String, message: String },
    Missing,
}

/// The slots of `job`'s task, in order: every candidate the service answered for, at least `n`.
fn slots<'s, 'e>(job: &Job, record: &Record, found: &'s [Candidate<'e>]) -> Vec<(u32, Slot<'s, 'e>)> {
    let n = match job.product {
        Product::Images { n } => n as usize,
        Product::Video => 1,
    };
    let len = n.max(record.images.len()).max(record.files.len());
    (0..len as u32)
        .map(|i| {
            let slot = if let Some(c) = found.iter().find(|c| c.job.key == job.key && c.index == i) {
                Slot::Image(c)
            } else if let Some(out) = record.images.get(i as usize).filter(|o| o.url.is_none() || o.code.is_some()) {
                Slot::Failed {
                    code: out.code.clone().unwrap_or_else(|| "Failed".into()),
                    message: out.message.clone().unwrap_or_default(),
                }
            } else {
                Slot::Missing
            };
            (i, slot)
        })
        .collect()
}

/// The label a slot would have in `pixbatch pick` (for a slot with no image: for display).
fn slot_label(job: &Job, index: u32) -> String {
    let several = matches!(job.product, Product::Images { n } if n > 1);
    match (several, job.variant.is_empty()) {
        (true, true) => format!("#{}", index + 1),
        (true, false) => format!("{}#{}", job.variant, index + 1),
        (false, _) => shown_label(&job.variant, index),
    }
}

/// What waits for `r`'s pick, or what a new pick would render again.
fn consequence(expansion: &Expansion, r: &RefStage) -> String {
    let deps = ref_picks::dependents(expansion, &r.name);
    let cost = round_cents(deps.iter().filter_map(|j| crate::plan::estimate_cost(j)).sum());
    let jobs = |n: usize| if n == 1 { "1 job".to_owned() } else { format!("{n} jobs") };
    if r.pick.is_none() {
        // Everything that uses it waits, directly or through a ref made from it.
        if deps.is_empty() {
            return "nothing uses it yet".to_owned();
        }
        let mut shots: Vec<&str> = Vec::new();
        for j in &deps {
            if !shots.contains(&j.shot.as_str()) {
                shots.push(&j.shot);
            }
        }
        let what = if deps.len() == 1 { "1 job waits".to_owned() } else { format!("{} jobs wait", deps.len()) };
        return format!("{what} for a pick: {}", shots.join(", "));
    }
    format!("a new pick renders {} again, ¥{cost:.2}", jobs(deps.len()))
}

fn candidate_figure(r: &RefStage, job: &Job, index: u32, slot: &Slot<'_, '_>, mode: Mode<'_>) -> Markup {
    let picked = match slot {
        Slot::Image(c) => r.pick.as_ref().is_some_and(|p| p.key == job.key && p.index == c.index),
        _ => false,
    };
    let label = match slot {
        Slot::Image(c) => shown_label(&c.label, c.index),
        _ => slot_label(job, index),
    };
    let state = match slot {
        Slot::Image(_) => "done",
        Slot::Failed { .. } => "failed",
        Slot::Missing => "failed",
    };
    let search = format!("@{} {} {} {}", r.name, label, job.model, job.prompt).to_lowercase();
    html! {
        figure.take.candidate data-state=(state) data-search=(search) data-key=(job.key) data-index=(index)
            tabindex="-1" aria-label=(format!("@{} {label}, {state}", r.name)) .picked[picked] {
            @match slot {
                Slot::Image(c) => { img src=(href(&c.path)) alt=(format!("@{} {label}", r.name)) loading="lazy"; }
                Slot::Failed { code, .. } => { div.placeholder { "failed: " (code) } }
                Slot::Missing => { div.placeholder { "not returned by the service" } }
            }
            figcaption {
                b { "@" (r.name) " " (label) }
                @if picked {
                    " " span.badge { "picked" }
                    @if r.pick.as_ref().is_some_and(|p| p.auto) { " " span.auto { "auto" } }
                }
                br;
                span.meta {
                    (short_name(&job.model)) " · " (job.size)
                    @if let Some(seed) = job.seed { " · seed " (seed) }
                    @if let (Slot::Image(_), Some(p)) = (slot, job.price_per_image) { " · ¥" (format!("{:.2}", round_cents(p))) }
                }
                @if let Slot::Failed { code, message } = slot {
                    br;
                    span.state { "failed: " (code) @if !message.is_empty() { ": " (message) } }
                }
                p.prompt { (job.prompt) }
                @if let (Mode::Served { .. }, Slot::Image(c)) = (mode, slot) {
                    button.pick type="button" data-shot=(format!("@{}", r.name)) data-variant=(c.label) aria-pressed=(picked) {
                        @if picked { "picked ✓" } @else { "pick this image" }
                    }
                }
            }
        }
    }
}

/// A figure for an image task with no images to show yet (not rendered, running, failed).
fn pending_figure(r: &RefStage, job: &Job, record: Option<&Record>, now: jiff::Timestamp) -> Markup {
    let (state, text) =
        if job.waiting.is_empty() { state_of(record, now) } else { ("waiting", waiting_text(&job.waiting)) };
    let label = shown_label(&job.variant, 0);
    let n = match job.product {
        Product::Images { n } => n,
        Product::Video => 1,
    };
    let search = format!("@{} {} {} {}", r.name, label, job.model, job.prompt).to_lowercase();
    html! {
        figure.take.candidate data-state=(state) data-search=(search) data-key=(job.key) tabindex="-1"
            aria-label=(format!("@{} {label}, {text}", r.name)) {
            div.placeholder { (text) }
            figcaption {
                b { "@" (r.name) " " (label) }
                br;
                span.meta {
                    (short_name(&job.model)) " · " (job.size)
                    @if let Some(seed) = job.seed { " · seed " (seed) }
                    " · " (n) @if n == 1 { " image" } @else { " images" }
                    @if let Some(c) = crate::plan::estimate_cost(job) { " · ¥" (format!("{:.2}", round_cents(c))) }
                }
                br;
                span.state { (text) }
                p.prompt { (job.prompt) }
            }
        }
    }
}

/// "waiting for a pick of @hero, @bridge".
pub fn waiting_text(names: &[String]) -> String {
    let names: Vec<String> = names.iter().map(|n| format!("@{n}")).collect();
    format!("waiting for a pick of {}", names.join(", "))
}

/// The References section (empty for a manifest without generated refs).
pub fn section(expansion: &Expansion, ledger: &Ledger, mode: Mode<'_>, now: jiff::Timestamp) -> Markup {
    if expansion.refs.is_empty() {
        return html! {};
    }
    html! {
        section #references aria-label="References" {
            h2 { "References" }
            @for r in &expansion.refs {
                @let found = ref_picks::candidates(expansion, ledger, &r.name);
                @let jobs = ref_picks::ref_jobs(expansion, &r.name);
                section.shot.ref data-ref=(r.name) {
                    h3 {
                        "@" (r.name)
                        @if !r.inputs.is_empty() {
                            " " span.meta { "made from " (r.inputs.iter().map(|i| format!("@{i}")).collect::<Vec<_>>().join(", ")) }
                        }
                    }
                    p.refline {
                        @match &r.pick {
                            Some(p) => {
                                @let label = found.iter().find(|c| c.job.key == p.key && c.index == p.index)
                                    .map_or_else(|| shown_label(&p.variant, p.index), |c| shown_label(&c.label, c.index));
                                "picked " b { (label) }
                                @if p.auto { " (auto)" }
                            }
                            None => { "no pick yet" }
                        }
                        " · " span.consequence { (consequence(expansion, r)) }
                    }
                    div.grid {
                        @for job in &jobs {
                            @let record = ledger.records.get(&job.key);
                            @match record.filter(|rec| rec.phase == Phase::Downloaded) {
                                Some(rec) => {
                                    @for (i, slot) in slots(job, rec, &found) {
                                        (candidate_figure(r, job, i, &slot, mode))
                                    }
                                }
                                None => { (pending_figure(r, job, record, now)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Every downloaded candidate's name on the page (`@hero seed=2`), by ref and sha256.
pub fn candidate_names(expansion: &Expansion, ledger: &Ledger) -> HashMap<(String, String), String> {
    let mut out = HashMap::new();
    for r in &expansion.refs {
        for c in ref_picks::candidates(expansion, ledger, &r.name) {
            out.entry((r.name.clone(), c.sha256.clone()))
                .or_insert_with(|| format!("@{} {}", r.name, shown_label(&c.label, c.index)));
        }
    }
    out
}

/// Per generated ref a clip uses directly, the candidate it is keyed by (`@hero seed=2`), in
/// media order; a ref with no pick yet is not named here (the take says it waits).
pub fn used_picks(names: &HashMap<(String, String), String>, job: &Job) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in &job.media {
        let (Some(name), MediaSource::Picked { sha256, .. }) = (&m.name, &m.source) else { continue };
        let line = names
            .get(&(name.clone(), sha256.clone()))
            .cloned()
            .unwrap_or_else(|| format!("@{name} sha256 {}…", sha256.get(..8).unwrap_or(sha256)));
        if !out.contains(&line) {
            out.push(line);
        }
    }
    out
}

#[cfg(test)]
#[path = "sheet_refs_tests.rs"]
mod tests;
