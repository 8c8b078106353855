//! One job's values against its model's rules (the catalog): which fields the model takes,
//! how its output shape is written, which media it takes in which role and how its prompt
//! names them. Produces the request's `parameters` and `input`, or located errors that say
//! what the model takes instead.

use std::collections::BTreeMap;

use serde_json::Value;

use super::job::{Media, MediaSource};
use super::refs::Ref;
use crate::catalog::{self, Audio, Durations, MediaKind, Mentions, ModelSpec, Role, Shape, Tier};
use crate::manifest::{Diagnostic, Diagnostics, Region, Span};

/// A value as the manifest set it: where, and whether it came from `defaults:` (a default a
/// model lacks is simply not sent to it; a value set on the shot is an error).
#[derive(Debug, Clone)]
pub(super) struct Set<T> {
    pub(super) value: T,
    pub(super) span: Option<Span>,
    pub(super) from_defaults: bool,
}

/// A reference given to a job: mentioned, listed, or named as a frame.
#[derive(Debug, Clone)]
pub(super) struct Given {
    pub(super) name: Option<String>,
    pub(super) r: Ref,
    pub(super) span: Option<Span>,
}

/// Everything the manifest says about one job, before the model's rules.
pub(super) struct Wanted<'a> {
    pub(super) model: &'a str,
    pub(super) model_span: Option<Span>,
    pub(super) id_span: Option<Span>,
    pub(super) region: Region,
    pub(super) size: Option<Set<String>>,
    pub(super) resolution: Option<Set<String>>,
    pub(super) ratio: Option<Set<String>>,
    pub(super) duration: u32,
    pub(super) duration_span: Option<Span>,
    pub(super) audio: Option<Set<bool>>,
    pub(super) watermark: bool,
    pub(super) seed: Option<Set<i64>>,
    pub(super) negative_prompt: Option<Set<String>>,
    pub(super) prompt_extend: Option<Set<bool>>,
    pub(super) prompt: &'a str,
    pub(super) prompt_span: Option<Span>,
    /// References, in mention or list order.
    pub(super) refs: Vec<Given>,
    pub(super) refs_span: Option<Span>,
    pub(super) first_frame: Option<Given>,
    pub(super) last_frame: Option<Given>,
    pub(super) extra: BTreeMap<String, Value>,
}

/// What the request will carry.
#[derive(Debug)]
pub(super) struct Fitted {
    pub(super) params: BTreeMap<String, Value>,
    pub(super) input: BTreeMap<String, Value>,
    pub(super) size_label: String,
    pub(super) tier: Option<Tier>,
    pub(super) prompt: String,
    pub(super) media: Vec<Media>,
    pub(super) sound: bool,
    pub(super) with_video: bool,
    pub(super) billed_input_seconds: f64,
}

/// Applies the model's rules, or reports every way the job breaks them.
pub(super) fn fit(diags: &mut Diagnostics, w: Wanted<'_>) -> Option<Fitted> {
    match catalog::lookup(w.model) {
        Some(spec) => fit_known(diags, spec, w),
        None => fit_unknown(diags, w),
    }
}

/// Outside the catalog: the PixVerse r2v request shape, with any `W*H` size.
fn fit_unknown(diags: &mut Diagnostics, w: Wanted<'_>) -> Option<Fitted> {
    let errors = diags.error_count();
    for (field, set) in [("resolution", &w.resolution), ("ratio", &w.ratio)] {
        if let Some(s) = set.as_ref().filter(|s| !s.from_defaults) {
            diags.push(
                Diagnostic::error(
                    format!("pixbatch does not know `{}`, so it cannot write `{field}` for it", w.model),
                    s.span,
                )
                .hint("give the exact `size: \"W*H\"`, or pass the model's own fields under `extra:`"),
            );
        }
    }
    for (field, frame) in [("first_frame", &w.first_frame), ("last_frame", &w.last_frame)] {
        if let Some(f) = frame {
            diags.push(
                Diagnostic::error(
                    format!("pixbatch does not know which media role `{}` gives a {field}", w.model),
                    f.span,
                )
                .hint("list the media under `media:` and the rest under `extra:`"),
            );
        }
    }
    let size = match &w.size {
        Some(s) if catalog::parse_size(&s.value).is_none() => {
            diags.push(
                Diagnostic::error(format!("size `{}` is not of the form W*H", s.value), s.span)
                    .hint("write it like \"1280*720\""),
            );
            None
        }
        Some(s) => Some(s.value.clone()),
        None => {
            diags.push(
                Diagnostic::error("this job has no `size`", w.id_span)
                    .hint("set `size:` on the shot or under `defaults:`, e.g. \"1280*720\""),
            );
            None
        }
    };
    let refs_ok = counts_generic(diags, &w);
    if diags.error_count() > errors || !refs_ok {
        return None;
    }
    let size = size?;
    let media = w
        .refs
        .iter()
        .map(|g| Media {
            source: g.r.source.clone(),
            name: g.name.clone(),
            ref_name: g.name.clone(),
            role: Role::Reference,
            kind: g.r.kind,
            wire: "image_url",
        })
        .collect();
    let sound = w.audio.as_ref().is_some_and(|a| a.value);
    let mut params = w.extra.clone();
    params.insert("size".into(), size.clone().into());
    params.insert("duration".into(), w.duration.into());
    params.insert("audio".into(), sound.into());
    params.insert("watermark".into(), w.watermark.into());
    if let Some(seed) = &w.seed {
        params.insert("seed".into(), seed.value.into());
    }
    let tier = catalog::parse_size(&size).map(|(w, h)| match w.min(h) {
        0..=360 => Tier::P360,
        361..=480 => Tier::P480,
        481..=576 => Tier::P540,
        577..=832 => Tier::P720,
        _ => Tier::P1080,
    });
    Some(Fitted {
        params,
        input: BTreeMap::new(),
        size_label: size,
        tier,
        prompt: w.prompt.to_owned(),
        media,
        sound,
        with_video: false,
        billed_input_seconds: 0.0,
    })
}

fn counts_generic(diags: &mut Diagnostics, w: &Wanted<'_>) -> bool {
    if w.refs.is_empty() {
        diags.push(
            Diagnostic::error("this job has no reference images", w.refs_span.or(w.id_span))
                .hint("mention a ref as `@name ` in the prompt, or list them under `media:`"),
        );
        return false;
    }
    true
}

fn fit_known(diags: &mut Diagnostics, spec: &'static ModelSpec, w: Wanted<'_>) -> Option<Fitted> {
    let errors = diags.error_count();
    let id = spec.id;
    if !spec.in_region(w.region) {
        let offered: Vec<&str> = spec.regions.iter().map(|r| r.name()).collect();
        diags.push(
            Diagnostic::error(format!("{id} is not offered in {}", w.region), w.model_span)
                .label("not in this region")
                .hint(format!(
                    "it is offered in {}; set `run.region` (or --region) to one of them, or pick another model",
                    offered.join(", ")
                )),
        );
    }
    lacking_fields(diags, spec, &w);

    let media = media(diags, spec, &w);
    let with_video =
        media.as_ref().is_some_and(|m| m.iter().any(|m| m.role == Role::Reference && m.kind == MediaKind::Video));
    let has_frame = w.first_frame.is_some();
    let shape = shape(diags, spec, &w, has_frame);

    if let Some((_, tier)) = &shape {
        let durations: Durations = spec.durations(with_video);
        if !durations.allows(*tier, w.duration) {
            let with = if with_video && spec.durations_with_video.is_some() { " with a reference video" } else { "" };
            diags.push(
                Diagnostic::error(
                    format!("duration {}s is not allowed for {id} at {tier}{with}", w.duration),
                    w.duration_span,
                )
                .label(format!("{id} takes {} seconds", durations.text(*tier)))
                .hint(format!("at {tier}{with} use {} seconds", durations.text(*tier))),
            );
        }
    }
    let limit = spec.prompt_limit(w.prompt);
    let n = w.prompt.chars().count();
    if n > limit {
        diags.push(
            Diagnostic::error(format!("the prompt is {n} characters; {id} reads at most {limit}"), w.prompt_span)
                .label("too long")
                .hint(format!("the API would silently cut everything after character {limit}; shorten the prompt")),
        );
    }
    if let (Some(max), Some(neg)) = (spec.negative_prompt_max, &w.negative_prompt) {
        let n = neg.value.chars().count();
        if n > max {
            diags.push(
                Diagnostic::error(format!("the negative prompt is {n} characters; {id} reads at most {max}"), neg.span)
                    .hint("shorten it"),
            );
        }
    }
    if diags.error_count() > errors {
        return None;
    }
    let (mut params, tier) = shape?;
    let media = media?;

    // Parameters: the shape's, then the rest; `extra:` fills in what pixbatch does not set.
    params.insert("duration".into(), w.duration.into());
    let sound = match spec.audio {
        Audio::Param { default } => {
            let on = w.audio.as_ref().map_or(default, |a| a.value);
            params.insert("audio".into(), on.into());
            on
        }
        Audio::Always => true,
        Audio::Never => false,
    };
    params.insert("watermark".into(), w.watermark.into());
    if let Some(seed) = w.seed.as_ref().filter(|_| spec.seed) {
        params.insert("seed".into(), seed.value.into());
    }
    if let Some(extend) = w.prompt_extend.as_ref().filter(|_| spec.prompt_extend) {
        params.insert("prompt_extend".into(), extend.value.into());
    }
    for (k, v) in &w.extra {
        params.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let mut input = BTreeMap::new();
    if let Some(neg) = w.negative_prompt.as_ref().filter(|_| spec.negative_prompt_max.is_some()) {
        input.insert("negative_prompt".into(), neg.value.clone().into());
    }
    let billed_input_seconds = spec.prices.billed_ref_video_max.map_or(0.0, |cap| {
        let seconds: f64 = media
            .iter()
            .filter(|m| m.role == Role::Reference && m.kind == MediaKind::Video)
            .map(|m| video_seconds(&w, m).unwrap_or(f64::from(cap)))
            .sum();
        seconds.min(f64::from(cap))
    });
    let prompt = rewrite_mentions(spec.mentions, w.prompt, &media);
    let size_label = label(spec, &params, tier);
    Some(Fitted { params, input, size_label, tier: Some(tier), prompt, media, sound, with_video, billed_input_seconds })
}

/// The seconds of a reference video, when it is a local file pixbatch could read.
fn video_seconds(w: &Wanted<'_>, m: &Media) -> Option<f64> {
    w.refs.iter().find(|g| g.r.source == m.source).and_then(|g| g.r.seconds).map(f64::ceil)
}

/// Fields set on the shot that the model does not have. From `defaults:` they are dropped.
fn lacking_fields(diags: &mut Diagnostics, spec: &ModelSpec, w: &Wanted<'_>) {
    let id = spec.id;
    let explicit = |set: Option<Span>, from_defaults: bool| (!from_defaults).then_some(set);
    if let Some(a) = &w.audio
        && let Some(span) = explicit(a.span, a.from_defaults)
    {
        match spec.audio {
            Audio::Always => diags.push(
                Diagnostic::error(format!("{id} has no `audio`: its videos always have sound"), span)
                    .label("not a field of this model")
                    .hint("remove `audio`; the price is the one with sound"),
            ),
            Audio::Never if a.value => diags.push(
                Diagnostic::error(format!("{id} has no `audio`: its videos are silent"), span)
                    .label("not a field of this model")
                    .hint("remove `audio`, or pick a model that makes sound"),
            ),
            _ => {}
        }
    }
    if let Some(s) = &w.seed
        && !spec.seed
        && let Some(span) = explicit(s.span, s.from_defaults)
    {
        diags.push(
            Diagnostic::error(format!("{id} has no `seed`: each render is a new draw"), span)
                .label("not a field of this model")
                .hint("remove `seed`; use `repeat: N` for several takes"),
        );
    }
    if let Some(s) = &w.negative_prompt
        && spec.negative_prompt_max.is_none()
        && let Some(span) = explicit(s.span, s.from_defaults)
    {
        diags.push(
            Diagnostic::error(format!("{id} has no `negative_prompt`"), span)
                .label("not a field of this model")
                .hint("say what to avoid in the prompt itself"),
        );
    }
    if let Some(s) = &w.prompt_extend
        && !spec.prompt_extend
        && let Some(span) = explicit(s.span, s.from_defaults)
    {
        diags.push(
            Diagnostic::error(format!("{id} has no `prompt_extend`: it uses the prompt as written"), span)
                .label("not a field of this model")
                .hint("remove `prompt_extend`"),
        );
    }
}

/// The output shape's parameters and tier, as the model writes them.
fn shape(
    diags: &mut Diagnostics,
    spec: &ModelSpec,
    w: &Wanted<'_>,
    has_frame: bool,
) -> Option<(BTreeMap<String, Value>, Tier)> {
    let id = spec.id;
    // One of `size` or `resolution`+`ratio`: a shot's value beats a default.
    let mut size = w.size.clone();
    let mut resolution = w.resolution.clone();
    let mut ratio = w.ratio.clone();
    let shot_size = size.as_ref().is_some_and(|s| !s.from_defaults);
    let shot_res =
        resolution.as_ref().is_some_and(|s| !s.from_defaults) || ratio.as_ref().is_some_and(|s| !s.from_defaults);
    if size.is_some() && (resolution.is_some() || ratio.is_some()) {
        if shot_size && !shot_res {
            resolution = None;
            ratio = None;
        } else if shot_res && !shot_size {
            size = None;
        } else if shot_size && shot_res {
            diags.push(
                Diagnostic::error(
                    "give `size` or `resolution` + `ratio`, not both",
                    size.as_ref().and_then(|s| s.span),
                )
                .hint("`size` is exact pixels; `resolution` + `ratio` lets pixbatch pick each model's size"),
            );
            return None;
        } else {
            // Both from defaults: the model's shape decides which it takes.
            match spec.shape {
                Shape::Size(_) | Shape::ResolutionSize(_) => {
                    resolution = None;
                    ratio = None;
                }
                _ => size = None,
            }
        }
    }
    let tiers = spec.shape.tiers();
    let tier_names = || tiers.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ");
    let read_tier = |diags: &mut Diagnostics, r: &Set<String>| -> Option<Tier> {
        match Tier::from_name(&r.value).filter(|t| tiers.contains(t)) {
            Some(t) => Some(t),
            None => {
                diags.push(
                    Diagnostic::error(format!("resolution `{}` is not allowed for {id}", r.value), r.span)
                        .label("not a tier of this model")
                        .hint(format!("{id} takes {}", tier_names())),
                );
                None
            }
        }
    };
    let ratios = spec.shape.ratios();
    let check_ratio = |diags: &mut Diagnostics, r: &Set<String>| -> bool {
        if ratios.contains(&r.value.as_str()) {
            return true;
        }
        diags.push(
            Diagnostic::error(format!("ratio `{}` is not allowed for {id}", r.value), r.span)
                .label("not a ratio of this model")
                .hint(format!("{id} takes {}", ratios.join(", "))),
        );
        false
    };
    let no_size = |diags: &mut Diagnostics, s: &Set<String>| {
        if !s.from_defaults {
            diags.push(
                Diagnostic::error(format!("{id} has no `size`: it takes `resolution` ({})", tier_names()), s.span)
                    .label("not a field of this model")
                    .hint(if ratios.is_empty() {
                        "write `resolution:`; the aspect comes from the first frame".to_owned()
                    } else {
                        format!("write `resolution:` and `ratio:` ({})", ratios.join(", "))
                    }),
            );
        }
    };
    let frame_ratio = |diags: &mut Diagnostics, r: &Set<String>| {
        if !r.from_defaults {
            diags.push(
                Diagnostic::error(
                    format!("{id} has no `ratio` with a first frame: the aspect comes from the image"),
                    r.span,
                )
                .label("not used")
                .hint("remove `ratio`, or crop the first frame to the aspect you want"),
            );
        }
    };
    let need_resolution = |diags: &mut Diagnostics| {
        diags.push(
            Diagnostic::error(format!("this job has no `resolution` ({id} takes {})", tier_names()), w.id_span)
                .hint("set `resolution:` on the shot or under `defaults:`"),
        );
    };
    let mut params = BTreeMap::new();
    match spec.shape {
        Shape::Size(_) | Shape::ResolutionSize(_) => {
            let (exact, tier) = match (&size, &resolution) {
                (Some(s), _) => match spec.tier_of(&s.value) {
                    Some(t) => (s.value.clone(), t),
                    None => {
                        diags.push(super::checks::size_error(spec, &s.value, s.span));
                        return None;
                    }
                },
                (None, Some(r)) => {
                    let tier = read_tier(diags, r)?;
                    let ratio_text = ratio.as_ref().map_or("16:9", |r| r.value.as_str());
                    match spec.size_for(tier, ratio_text) {
                        Some(exact) => (exact.to_owned(), tier),
                        None => {
                            let at_tier: Vec<&str> = spec
                                .shape
                                .size_table()
                                .unwrap_or(&[])
                                .iter()
                                .filter(|row| row.2 == tier)
                                .map(|row| row.1)
                                .collect();
                            diags.push(
                                Diagnostic::error(
                                    format!("{id} has no ratio `{ratio_text}` at {tier}"),
                                    ratio.as_ref().and_then(|r| r.span).or(r.span),
                                )
                                .label("not in the model's size table")
                                .hint(format!("at {tier} {id} takes {}", at_tier.join(", "))),
                            );
                            return None;
                        }
                    }
                }
                (None, None) => {
                    diags.push(
                        Diagnostic::error("this job has no `size` (or `resolution` + `ratio`)", w.id_span)
                            .hint("set `resolution:` and `ratio:` (pixbatch picks the size), or an exact `size:`, on the shot or under `defaults:`"),
                    );
                    return None;
                }
            };
            if matches!(spec.shape, Shape::ResolutionSize(_)) {
                params.insert("resolution".into(), tier.name().into());
            }
            params.insert("size".into(), exact.into());
            Some((params, tier))
        }
        Shape::ResolutionRatio { .. } | Shape::ModeAspect { .. } | Shape::Resolution { .. } => {
            if let Some(s) = &size {
                no_size(diags, s);
                if !s.from_defaults {
                    return None;
                }
            }
            let Some(r) = &resolution else {
                need_resolution(diags);
                return None;
            };
            let tier = read_tier(diags, r)?;
            let takes_ratio = !matches!(spec.shape, Shape::Resolution { .. }) && !has_frame;
            match (&ratio, takes_ratio) {
                (Some(q), false) => {
                    frame_ratio(diags, q);
                    if !q.from_defaults {
                        return None;
                    }
                }
                (Some(q), true) => {
                    if !check_ratio(diags, q) {
                        return None;
                    }
                }
                (None, _) => {}
            }
            let ratio = ratio.filter(|_| takes_ratio);
            match spec.shape {
                Shape::ModeAspect { modes, .. } => {
                    let mode = modes.iter().find(|m| m.1 == tier).map_or("std", |m| m.0);
                    params.insert("mode".into(), mode.into());
                    match ratio {
                        Some(q) => {
                            params.insert("aspect_ratio".into(), q.value.into());
                        }
                        None if takes_ratio => {
                            diags.push(
                                Diagnostic::error(
                                    format!("this job has no `ratio`: {id} needs one without a first frame"),
                                    w.id_span,
                                )
                                .hint(format!("set `ratio:` ({})", ratios.join(", "))),
                            );
                            return None;
                        }
                        None => {}
                    }
                }
                _ => {
                    params.insert("resolution".into(), tier.name().into());
                    if let Some(q) = ratio {
                        params.insert("ratio".into(), q.value.into());
                    }
                }
            }
            Some((params, tier))
        }
    }
}

/// The job's media in the model's roles and order, checked against its counts.
fn media(diags: &mut Diagnostics, spec: &'static ModelSpec, w: &Wanted<'_>) -> Option<Vec<Media>> {
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
    if spec.public_urls_only {
        for g in w.refs.iter().chain(&w.first_frame).chain(&w.last_frame) {
            if matches!(g.r.source, MediaSource::Local { .. }) {
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

/// The prompt with each `@name` written in the model's own syntax.
fn rewrite_mentions(mentions: Mentions, prompt: &str, media: &[Media]) -> String {
    let words: BTreeMap<String, String> = match mentions {
        Mentions::AtName => return prompt.to_owned(),
        Mentions::Plain => media.iter().filter_map(|m| m.name.clone()).map(|n| (n.clone(), n)).collect(),
        Mentions::Numbered { image, video, cjk_image, cjk_video, one_counter } => {
            let cjk = catalog::has_cjk(prompt);
            let (image, video) = if cjk { (cjk_image, cjk_video) } else { (image, video) };
            let (mut images, mut videos) = (0, 0);
            let mut words = BTreeMap::new();
            for m in media.iter().filter(|m| m.role == Role::Reference) {
                let (pattern, n) = match m.kind {
                    MediaKind::Video if !one_counter => {
                        videos += 1;
                        (video, videos)
                    }
                    _ => {
                        images += 1;
                        (if m.kind == MediaKind::Video { video } else { image }, images)
                    }
                };
                if let Some(name) = &m.name {
                    words.insert(name.clone(), pattern.replace("{}", &n.to_string()));
                }
            }
            words
        }
    };
    super::mentions::rewrite(prompt, &words)
}

/// Describes the output shape for tables: the exact size when the request has one.
fn label(spec: &ModelSpec, params: &BTreeMap<String, Value>, tier: Tier) -> String {
    if let Some(size) = params.get("size").and_then(Value::as_str) {
        return size.to_owned();
    }
    match params.get("ratio").or_else(|| params.get("aspect_ratio")).and_then(Value::as_str) {
        Some(ratio) => format!("{tier} {ratio}"),
        None if matches!(spec.shape, Shape::Resolution { .. }) => tier.name().to_owned(),
        None => tier.name().to_owned(),
    }
}
