//! Stages (DESIGN.md § Stages): refs made by an image model. Their prompts may mention other
//! refs, which go in as input images, so refs form a graph; [`graph`] orders it (a cycle or an
//! unknown ref is a located error), [`images::jobs`] makes each generated ref's image jobs,
//! and [`resolve`] turns a generated ref into what its users are keyed by: the sha256 of the
//! picked candidate, or `waiting` while it has none.

mod images;
mod size;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::job::{Job, MediaSource};
use super::refs::Ref;
use crate::catalog::MediaKind;
use crate::manifest::{Diagnostic, Diagnostics, Generate, Loaded, Span};
use crate::review::picks::{Picks, RefPick};

pub(super) use images::jobs;

/// A generated ref, in graph order.
#[derive(Debug)]
pub(super) struct GenRef<'a> {
    pub name: &'a str,
    pub spec: &'a Generate,
    pub span: Option<Span>,
    /// The refs its prompt mentions, in order of first mention (its input images).
    pub inputs: Vec<String>,
    /// 0 when it uses no generated ref, else one more than the deepest it uses.
    pub depth: u32,
}

/// The refs a prompt mentions, each the longest ref name that starts a mention's token
/// (`@hero,` is `hero`), in order of first mention; a token that starts with no ref name is
/// returned as `Err(token)`.
pub(super) fn mentioned<'n>(prompt: &str, names: &'n BTreeSet<&str>) -> Vec<Result<&'n str, String>> {
    let mut out: Vec<Result<&str, String>> = Vec::new();
    for m in super::mentions::mentions(prompt) {
        let found = names
            .iter()
            .copied()
            .filter(|n| {
                m.token.starts_with(*n)
                    && !m.token[n.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '-')
            })
            .max_by_key(|n| n.len());
        let item = match found {
            Some(n) => Ok(n),
            None => Err(m
                .token
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                .next()
                .unwrap_or("")
                .to_owned()),
        };
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// The generated refs in an order where each comes after those it mentions. An unknown
/// mention or a cycle is an error at the ref.
pub(super) fn graph<'a>(loaded: &'a Loaded, diags: &mut Diagnostics) -> Vec<GenRef<'a>> {
    let refs = &loaded.manifest.refs;
    let names: BTreeSet<&str> = refs.keys().map(String::as_str).collect();
    let all: Vec<String> = refs.keys().cloned().collect();
    let mut pending: BTreeMap<&str, GenRef<'a>> = BTreeMap::new();
    for (name, spec) in refs {
        let Some(generate) = spec.value.generate() else { continue };
        let span = Some(Span::at(spec));
        let mut inputs = Vec::new();
        for m in mentioned(&generate.prompt, &names) {
            match m {
                Ok(n) if n == name => diags.push(
                    Diagnostic::error(format!("ref `{name}` mentions itself (`@{name}`)"), span)
                        .hint("a generated ref can use other refs as input images, not itself"),
                ),
                Ok(n) => inputs.push(n.to_owned()),
                Err(token) => diags.push(super::mentions::unknown_ref(&token, &all, span)),
            }
        }
        pending.insert(name, GenRef { name, spec: generate, span, inputs, depth: 0 });
    }
    // Kahn's algorithm, in name order for a stable result.
    let mut ordered: Vec<GenRef<'a>> = Vec::new();
    let mut depth: BTreeMap<&str, u32> = BTreeMap::new();
    loop {
        let ready: Vec<&str> = pending
            .values()
            .filter(|g| g.inputs.iter().all(|i| !pending.contains_key(i.as_str())))
            .map(|g| g.name)
            .collect();
        if ready.is_empty() {
            break;
        }
        for name in ready {
            let Some(mut g) = pending.remove(name) else { continue };
            g.depth = g.inputs.iter().filter_map(|i| depth.get(i.as_str())).map(|d| d + 1).max().unwrap_or(0);
            depth.insert(g.name, g.depth);
            ordered.push(g);
        }
    }
    if let Some(first) = pending.values().next() {
        let cycle = cycle_from(first.name, &pending);
        diags.push(
            Diagnostic::error(
                format!("generated refs mention each other in a cycle: {}", cycle.join(" → ")),
                first.span,
            )
            .label("this ref is in the cycle")
            .hint("a ref can only use refs made before it: break the cycle by removing one mention"),
        );
    }
    ordered
}

/// A cycle through `start` among the refs left (each of which has an input left).
fn cycle_from(start: &str, left: &BTreeMap<&str, GenRef<'_>>) -> Vec<String> {
    let mut path = vec![start.to_owned()];
    let mut at = start;
    while let Some(next) = left.get(at).and_then(|g| g.inputs.iter().find(|i| left.contains_key(i.as_str()))) {
        if let Some(pos) = path.iter().position(|p| p == next) {
            let mut cycle: Vec<String> = path[pos..].iter().map(|p| format!("@{p}")).collect();
            cycle.push(format!("@{next}"));
            return cycle;
        }
        path.push(next.clone());
        at = next;
    }
    path.iter().map(|p| format!("@{p}")).collect()
}

/// A generated ref with no pick.
pub(super) fn waiting_ref(name: &str) -> Ref {
    Ref {
        source: MediaSource::Waiting(name.to_owned()),
        kind: MediaKind::Image,
        seconds: None,
        dims: None,
        bytes: None,
    }
}

/// What a generated ref is to the jobs that use it: its pick (a file in the output folder,
/// keyed by the sha256 of its bytes as they are), or `waiting`. A pick of a candidate that is
/// not one of `jobs` (the generation changed since) is stale: the ref waits for a new pick. A
/// picked file that is missing is a warning, and the ref waits; one changed since the pick (a
/// retouched still) is a warning, and its new content is what the clips get.
pub(super) fn resolve(
    g: &GenRef<'_>,
    jobs: &[Job],
    picks: &Picks,
    output_dir: &Path,
    diags: &mut Diagnostics,
) -> (Ref, Option<RefPick>) {
    let waiting = waiting_ref(g.name);
    let Some(pick) = picks.refs.get(g.name).filter(|p| jobs.iter().any(|j| j.key == p.key)) else {
        return (waiting, None);
    };
    let path = output_dir.join(&pick.path);
    let Ok(bytes) = std::fs::read(&path) else {
        diags.push(
            Diagnostic::warning(format!("the picked image of `{}` ({}) is missing", g.name, pick.path), g.span)
                .hint(format!("the next run downloads it again while its URL lives; or pick again: pixbatch pick MANIFEST @{} VARIANT", g.name)),
        );
        return (waiting, None);
    };
    // A picked still retouched by hand is what the clips get: they are keyed by it as it is.
    let sha256 = crate::files::sha256_hex(&bytes);
    if sha256 != pick.sha256 {
        diags.push(Diagnostic::warning(
            format!(
                "the picked image of `{}` ({}) was changed since it was picked: the jobs that use it are keyed by its new content",
                g.name, pick.path
            ),
            g.span,
        ));
    }
    let dims = imagesize::blob_size(&bytes)
        .ok()
        .and_then(|d| Some((u32::try_from(d.width).ok()?, u32::try_from(d.height).ok()?)));
    let r = Ref {
        source: MediaSource::Picked { path, sha256 },
        kind: MediaKind::Image,
        seconds: None,
        dims,
        bytes: Some(bytes.len() as u64),
    };
    (r, Some(pick.clone()))
}
