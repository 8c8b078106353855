//! One job's values against its model's rules (the catalog): which fields the model takes,
//! how its output shape is written, which media it takes in which role and how its prompt
//! names them. Produces the request's `parameters` and `input`, or located errors that say
//! what the model takes instead.

use std::collections::BTreeMap;

use serde_json::Value;

mod media;
mod shape;

use super::job::Media;
use super::refs::Ref;
use crate::catalog::{self, Audio, Durations, MediaKind, Mentions, ModelSpec, Role, Tier};
use crate::manifest::{Diagnostic, Diagnostics, Region, Span};
use media::media;
use shape::shape;

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
    /// The role the manifest gave it (`{ref: walk, as: first_clip}`); else the model's
    /// reference role for its kind.
    pub(super) role: Option<Role>,
    /// Where the ref is defined (`refs:`), for problems with the file itself.
    pub(super) defined_at: Option<Span>,
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
pub(super) fn fit(diags: &mut Diagnostics, spec: Option<&'static ModelSpec>, w: Wanted<'_>) -> Option<Fitted> {
    match spec {
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
    let size_label = label(&params, tier);
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

/// Describes the output shape for tables: the exact size when the request has one, else the
/// tier and the ratio sent (`720P 16:9`), else the tier (the aspect comes from the image).
fn label(params: &BTreeMap<String, Value>, tier: Tier) -> String {
    if let Some(size) = params.get("size").and_then(Value::as_str) {
        return size.to_owned();
    }
    match params.get("ratio").or_else(|| params.get("aspect_ratio")).and_then(Value::as_str) {
        Some(ratio) => format!("{tier} {ratio}"),
        None => tier.name().to_owned(),
    }
}
