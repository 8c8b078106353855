//! A job's media in the model's roles (reference, first and last frame, driving audio, a clip
//! to continue), its kinds and counts, in the order the model reads them.

use super::{Given, Wanted};
use crate::catalog::{MediaKind, Mentions, ModelSpec, Role};
use crate::manifest::{Diagnostic, Diagnostics};
use crate::plan::job::Media;

/// The job's media in the model's roles and order, checked against its counts.
pub(super) fn media(diags: &mut Diagnostics, spec: &'static ModelSpec, w: &Wanted<'_>) -> Option<Vec<Media>> {
    let id = spec.id;
    let errors = diags.error_count();
    let mut out: Vec<Media> = Vec::new();
    let frame_names: Vec<&str> =
        [&w.first_frame, &w.last_frame].into_iter().flatten().filter_map(|g| g.name.as_deref()).collect();
    for g in &w.refs {
        // A ref that is this job's frame and is only mentioned: the prompt names it, nothing more.
        if !spec.takes(Role::Reference) && g.name.as_deref().is_some_and(|n| frame_names.contains(&n)) {
            continue;
        }
        if let Some(role) = g.role.filter(|r| *r != Role::Reference) {
            if spec.slot(role, g.r.kind).is_some() {
                push(&mut out, spec, g, role);
            } else {
                let kinds: Vec<&str> = spec.kinds_for(role).iter().map(|k| k.name()).collect();
                diags.push(
                    Diagnostic::error(
                        if kinds.is_empty() {
                            format!("{id} has no `{}`", role.name())
                        } else {
                            format!("{id} takes {} as `{}`, not {}", kinds.join(" or "), role.name(), g.r.kind.name())
                        },
                        g.span.or(w.refs_span),
                    )
                    .label("not a role of this model")
                    .hint(format!("{id} takes {}", takes_text(spec))),
                );
            }
            continue;
        }
        let role = if spec.slot(Role::Reference, g.r.kind).is_some() {
            Some(Role::Reference)
        } else {
            [Role::DrivingAudio, Role::FirstClip].into_iter().find(|r| spec.slot(*r, g.r.kind).is_some())
        };
        let shown = g.name.as_deref().map_or_else(|| "this item".to_owned(), |n| format!("`{n}`"));
        match role {
            Some(role) => push(&mut out, spec, g, role),
            None if !spec.takes(Role::Reference) => diags.push(
                Diagnostic::error(format!("{id} takes no reference {}s ({shown} is one)", g.r.kind.name()), g.span.or(w.refs_span))
                    .label("not sent")
                    .hint(if spec.takes(Role::FirstFrame) {
                        "name the first frame with `first_frame:`; write the ref's name without `@` to just say it"
                    } else {
                        "this model makes video from text only: write the name without `@`, or use a reference-to-video model"
                    }),
            ),
            None => {
                let kinds: Vec<&str> = spec.kinds_for(Role::Reference).iter().map(|k| k.name()).collect();
                diags.push(
                    Diagnostic::error(
                        format!("{id} takes no reference {}s, only {}s ({shown} is one)", g.r.kind.name(), kinds.join(" and ")),
                        g.span.or(w.refs_span),
                    )
                        .label("not this kind")
                        .hint("use a model that takes reference videos (wan r2v, Kling omni, Vidu q2-pro), or an image"),
                );
            }
        }
    }
    for (role, frame) in [(Role::FirstFrame, &w.first_frame), (Role::LastFrame, &w.last_frame)] {
        let Some(g) = frame else { continue };
        if !spec.takes(role) {
            let hint = match role {
                Role::FirstFrame => {
                    "use an image-to-video or first/last-frame model, or mention the ref in the prompt as a reference"
                }
                _ => "use a first/last-frame (kf2v) model",
            };
            diags.push(
                Diagnostic::error(format!("{id} has no `{}`", role.name()), g.span)
                    .label("not a field of this model")
                    .hint(hint),
            );
        } else if spec.slot(role, g.r.kind).is_none() {
            diags.push(
                Diagnostic::error(
                    format!(
                        "the {} must be an image; `{}` is {}",
                        role.name(),
                        g.name.as_deref().unwrap_or("?"),
                        g.r.kind.name()
                    ),
                    g.span,
                )
                .hint("point it at an image ref"),
            );
        } else {
            push(&mut out, spec, g, role);
        }
    }
    let has = |r: Role| out.iter().any(|m| m.role == r);
    for group in spec.needs {
        if !group.iter().any(|r| has(*r)) {
            let names: Vec<&str> = group.iter().map(|r| r.name()).collect();
            diags.push(
                Diagnostic::error(format!("this job has no `{}`: {id} needs one", names.join("` or `")), w.id_span)
                    .label(format!("{} is {}", id, spec.kind.name()))
                    .hint(format!("set `{}:` to an image ref", names[0])),
            );
        }
    }
    if has(Role::LastFrame) && !has(Role::FirstFrame) && !has(Role::FirstClip) {
        diags.push(
            Diagnostic::error("a `last_frame` needs a `first_frame`", w.last_frame.as_ref().and_then(|g| g.span))
                .hint("set `first_frame:` too"),
        );
    }
    // Counts.
    let refs: Vec<&Media> = out.iter().filter(|m| m.role == Role::Reference).collect();
    let n = refs.len();
    if spec.takes(Role::Reference) && n < usize::from(spec.refs_min) {
        diags.push(
            Diagnostic::error(
                format!("this job has no references; {id} needs at least {}", spec.refs_min),
                w.refs_span.or(w.id_span),
            )
            .hint("mention a ref as `@name ` in the prompt, or list them under `media:`"),
        );
    }
    if n > usize::from(spec.refs_max) {
        diags.push(
            Diagnostic::error(
                format!("this job has {n} {}; {id} takes at most {}", refs_noun(&refs), spec.refs_max),
                w.refs_span.or(w.id_span),
            )
            .hint("split the shot, or combine references into one image"),
        );
    }
    for slot in spec.slots {
        let k = out.iter().filter(|m| m.role == slot.role && m.kind == slot.kind).count();
        if k > usize::from(slot.max) && !(slot.role == Role::Reference && n > usize::from(spec.refs_max)) {
            diags.push(
                Diagnostic::error(
                    format!(
                        "this job has {k} {} {}s; {id} takes at most {}",
                        slot.role.name().replace('_', " "),
                        slot.kind.name(),
                        slot.max
                    ),
                    w.refs_span.or(w.id_span),
                )
                .hint("send fewer"),
            );
        }
    }
    if let Some(max) = spec.images_with_video_max {
        let videos = refs.iter().filter(|m| m.kind == MediaKind::Video).count();
        let images = refs.iter().filter(|m| m.kind == MediaKind::Image).count();
        if videos > 0 && images > usize::from(max) {
            diags.push(
                Diagnostic::error(
                    format!("with a reference video {id} takes at most {max} reference images; this job has {images}"),
                    w.refs_span.or(w.id_span),
                )
                .hint("drop images, or the video"),
            );
        }
    }
    for g in w.refs.iter().chain(&w.first_frame).chain(&w.last_frame) {
        if let Some(problem) = image_problem(spec, g) {
            diags.push(
                Diagnostic::error(
                    format!("`{}` {problem}", g.name.as_deref().unwrap_or("this image")),
                    g.defined_at.or(g.span).or(w.refs_span),
                )
                .label("the service would refuse it")
                .hint("resize or re-export the image"),
            );
        }
    }
    if spec.public_urls_only {
        for g in w.refs.iter().chain(&w.first_frame).chain(&w.last_frame) {
            if g.r.source.local_file().is_some() {
                diags.push(
                    Diagnostic::error(format!("{id} reads only public https:// URLs; `{}` is a local file", g.name.as_deref().unwrap_or("?")), g.span.or(w.refs_span))
                        .hint("upload the file somewhere public and give its https:// URL (the temporary oss:// storage does not work for this model)"),
                );
            }
        }
    }
    (diags.error_count() == errors).then_some(out)
}

/// "reference images", or "references" when they are not all images.
fn refs_noun(refs: &[&Media]) -> &'static str {
    if refs.iter().all(|m| m.kind == MediaKind::Image) { "reference images" } else { "references" }
}

fn push(out: &mut Vec<Media>, spec: &ModelSpec, g: &Given, role: Role) {
    let Some(slot) = spec.slot(role, g.r.kind) else { return };
    let ref_name = if spec.mentions == Mentions::AtName && role == Role::Reference { g.name.clone() } else { None };
    let media =
        Media { source: g.r.source.clone(), name: g.name.clone(), ref_name, role, kind: g.r.kind, wire: slot.wire };
    // References first, then frames, then the rest, each in the order given.
    let at = out.iter().position(|m| m.role > role).unwrap_or(out.len());
    out.insert(at, media);
}

/// What media a model takes, for hints: `reference image, first_frame image`.
fn takes_text(spec: &ModelSpec) -> String {
    let all: Vec<String> = spec.slots.iter().map(|s| format!("{} {}", s.role.name(), s.kind.name())).collect();
    if all.is_empty() { "no media".to_owned() } else { all.join(", ") }
}

/// What is wrong with a local image for this model, if anything (a URL's pixels are unknown).
fn image_problem(spec: &ModelSpec, g: &Given) -> Option<String> {
    let limits = spec.image;
    let id = spec.id;
    if g.r.kind != MediaKind::Image {
        return None;
    }
    if let Some(bytes) = g.r.bytes
        && bytes > u64::from(limits.max_mb) * 1024 * 1024
    {
        return Some(format!(
            "is {:.1} MB; {id} takes images of at most {} MB",
            bytes as f64 / 1048576.0,
            limits.max_mb
        ));
    }
    let (w, h) = g.r.dims?;
    let (short, long) = (w.min(h), w.max(h));
    if short < limits.min_side {
        return Some(format!("is {w}×{h} px; {id} needs at least {} px on each side", limits.min_side));
    }
    if long > limits.max_side {
        return Some(format!("is {w}×{h} px; {id} takes at most {} px on a side", limits.max_side));
    }
    if f64::from(long) / f64::from(short.max(1)) > limits.max_aspect {
        return Some(format!("is {w}×{h} px; {id} takes aspect ratios up to {}:1", limits.max_aspect));
    }
    None
}
