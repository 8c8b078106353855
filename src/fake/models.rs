//! What the fake checks of a create request, per model, and the `usage` it answers with: the
//! catalog's rules read as the service applies them (400 `InvalidParameter` naming the field).
//! Tests written from the facts documents (`tests/model_rules.rs`) pin these independently of
//! the catalog, so a wrong entry does not pass both sides unseen.

use std::collections::{HashMap, HashSet};

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::catalog::{
    self, Audio, Endpoint, Layout, MediaKind, Mentions, ModelSpec, Role, SEED_MAX, Shape, SrType, Tier,
};

pub(super) type Rejection = (StatusCode, &'static str, String);

fn bad(message: String) -> Rejection {
    (StatusCode::BAD_REQUEST, "InvalidParameter", message)
}

fn missing(field: &str, why: &str) -> Rejection {
    bad(format!("Required parameter({field}) missing or invalid: {why}"))
}

/// One media item of a request, as the fake reads it.
struct Item<'a> {
    role: Role,
    kind: MediaKind,
    url: &'a str,
    ref_name: Option<&'a str>,
}

/// The create-call checks the real service makes before accepting a task. An exact size
/// outside a model's table is accepted and then FAILS, as documented for PixVerse.
pub(super) fn validate_create(
    body: &Value,
    endpoint: Endpoint,
    oss_header: bool,
    uploads: &HashMap<String, Option<f64>>,
) -> Result<(), Rejection> {
    let Some(model) = body["model"].as_str().filter(|m| !m.is_empty()) else {
        return Err(missing("model", "a model id is required."));
    };
    if !body["input"].is_object() {
        return Err((
            StatusCode::BAD_REQUEST,
            "BadRequest.EmptyInput",
            "Required input(input) missing or invalid.".into(),
        ));
    }
    let Some(spec) = catalog::lookup(model) else {
        return Err((StatusCode::NOT_FOUND, "ModelNotFound", "Model can not be found.".into()));
    };
    if spec.endpoint != endpoint {
        return Err(bad(format!("url error, please check url! {model} is served at /{}.", spec.endpoint.path())));
    }
    if spec.prompt_required && body["input"]["prompt"].as_str().is_none_or(str::is_empty) {
        return Err(missing("prompt", "a prompt is required."));
    }
    if !body["parameters"].is_object() && spec.shape_required {
        return Err((
            StatusCode::BAD_REQUEST,
            "BadRequest.EmptyParameters",
            "Required parameter(parameters) missing or invalid.".into(),
        ));
    }
    let items = media(spec, &body["input"])?;
    for item in &items {
        check_url(spec, item.url, oss_header, uploads)?;
    }
    counts(spec, &items)?;
    let params = &body["parameters"];
    let has_first_frame = items.iter().any(|i| i.role == Role::FirstFrame);
    let tier = shape(spec, params, has_first_frame)?;
    let with_video = items.iter().any(|i| i.role == Role::Reference && i.kind == MediaKind::Video);
    let duration = match &params["duration"] {
        Value::Null => 5,
        v => match v.as_u64().and_then(|d| u32::try_from(d).ok()) {
            Some(d) => d,
            None => return Err(missing("duration", "must be a whole number of seconds.")),
        },
    };
    if let Some(tier) = tier
        && !spec.durations(with_video).allows(tier, duration)
    {
        return Err(bad(format!(
            "The duration {duration} is not supported: {model} takes {} seconds at {tier}.",
            spec.durations(with_video).text(tier)
        )));
    }
    if !params["seed"].is_null() && !params["seed"].as_i64().is_some_and(|s| (0..=SEED_MAX).contains(&s)) {
        return Err(missing("seed", "must be in [0, 2147483647]."));
    }
    let mut flags = vec!["watermark", "prompt_extend"];
    if matches!(spec.audio, Audio::Param { .. }) {
        flags.push("audio");
    }
    for flag in flags {
        if !params[flag].is_null() && !params[flag].is_boolean() {
            return Err(missing(flag, "must be a boolean."));
        }
    }
    if let (Some(max), Some(neg)) = (spec.negative_prompt_max, body["input"]["negative_prompt"].as_str())
        && neg.chars().count() > max
    {
        return Err(bad(format!("Range of negative_prompt length should be [0, {max}].")));
    }
    Ok(())
}

/// Reads the request's media as the model's layout puts them.
fn media<'a>(spec: &ModelSpec, input: &'a Value) -> Result<Vec<Item<'a>>, Rejection> {
    let kind_of_url = |url: &str| {
        let path = url.split(['?', '#']).next().unwrap_or(url).to_ascii_lowercase();
        match path.rsplit('.').next().unwrap_or("") {
            "mp4" | "mov" | "avi" | "webm" | "mkv" => MediaKind::Video,
            "wav" | "mp3" | "m4a" | "aac" => MediaKind::Audio,
            _ => MediaKind::Image,
        }
    };
    let mut items = Vec::new();
    match spec.layout {
        // No video model takes the image models' messages.
        Layout::Messages => {}
        Layout::MediaList => {
            let list = match &input["media"] {
                Value::Null => Vec::new(),
                Value::Array(list) => list.iter().collect(),
                _ => return Err(missing("media", "must be a list.")),
            };
            if !list.is_empty() && spec.slots.is_empty() {
                return Err(missing("media", &format!("{} takes no media.", spec.id)));
            }
            for item in list {
                let wire = item["type"].as_str().unwrap_or_default();
                let url = item["url"].as_str().unwrap_or_default();
                let candidates: Vec<_> = spec.slots.iter().filter(|s| s.wire == wire).collect();
                if candidates.is_empty() {
                    let types: Vec<&str> = spec.slots.iter().map(|s| s.wire).collect();
                    return Err(missing(
                        "media.type",
                        &format!("`{wire}` is not supported by {}; use one of {}.", spec.id, types.join(", ")),
                    ));
                }
                // Several slots of one name (Vidu's `image` as start and end frames, `image` or
                // `video`): the URL says the kind, the order says the role.
                let kind = if candidates.iter().any(|s| s.kind == kind_of_url(url)) {
                    kind_of_url(url)
                } else {
                    candidates[0].kind
                };
                let taken = |role: Role| items.iter().filter(|i: &&Item<'_>| i.role == role).count();
                let slot = candidates
                    .iter()
                    .filter(|s| s.kind == kind)
                    .find(|s| taken(s.role) < usize::from(s.max))
                    .or_else(|| candidates.iter().find(|s| s.kind == kind))
                    .copied()
                    .unwrap_or(candidates[0]);
                items.push(Item { role: slot.role, kind, url, ref_name: item["ref_name"].as_str() });
            }
        }
        Layout::Fields => {
            for slot in spec.slots {
                match &input[slot.wire] {
                    Value::Null => {}
                    Value::String(url) => items.push(Item { role: slot.role, kind: slot.kind, url, ref_name: None }),
                    _ => return Err(missing(slot.wire, "must be a URL.")),
                }
            }
        }
        Layout::UrlList(field) => {
            match &input[field] {
                Value::Null => {}
                Value::Array(list) => {
                    for url in list {
                        let Some(url) = url.as_str() else { return Err(missing(field, "must be a list of URLs.")) };
                        items.push(Item { role: Role::Reference, kind: kind_of_url(url), url, ref_name: None });
                    }
                }
                _ => return Err(missing(field, "must be a list of URLs.")),
            }
            for slot in spec.slots.iter().filter(|s| s.wire != field) {
                if let Some(url) = input[slot.wire].as_str() {
                    items.push(Item { role: slot.role, kind: slot.kind, url, ref_name: None });
                }
            }
        }
    }
    Ok(items)
}

fn check_url(
    spec: &ModelSpec,
    url: &str,
    oss_header: bool,
    uploads: &HashMap<String, Option<f64>>,
) -> Result<(), Rejection> {
    if let Some(key) = url.strip_prefix("oss://") {
        if spec.public_urls_only {
            return Err(missing("url", &format!("{} reads public http(s) URLs only.", spec.id)));
        }
        if !oss_header || !uploads.contains_key(key) {
            return Err((
                StatusCode::BAD_REQUEST,
                "InvalidParameter.DataInspection",
                "The provided URL does not appear to be valid. Ensure it is correctly formatted.".into(),
            ));
        }
    } else if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err((StatusCode::BAD_REQUEST, "InvalidURL", "Invalid URL provided in your request.".into()));
    }
    Ok(())
}

/// The field that names a role's media in errors: the list (`media`, `reference_urls`) or the
/// item's own field (`img_url`, `first_frame_url`), with the role's `type`.
fn field_of(spec: &ModelSpec, role: Role) -> String {
    let wire = spec.slots.iter().find(|s| s.role == role).map_or(role.name(), |s| s.wire);
    match spec.layout {
        Layout::MediaList => format!("media ({wire})"),
        Layout::Fields => wire.to_owned(),
        Layout::UrlList(field) => field.to_owned(),
        Layout::Messages => "messages".to_owned(),
    }
}

fn counts(spec: &ModelSpec, items: &[Item<'_>]) -> Result<(), Rejection> {
    let id = spec.id;
    let refs = items.iter().filter(|i| i.role == Role::Reference).count();
    let list = match spec.layout {
        Layout::UrlList(field) => field,
        _ => "media",
    };
    if spec.takes(Role::Reference) && (refs < usize::from(spec.refs_min) || refs > usize::from(spec.refs_max)) {
        return Err(missing(
            list,
            &format!("{id} takes {} to {} references, not {refs}.", spec.refs_min, spec.refs_max),
        ));
    }
    for item in items {
        if spec.slot(item.role, item.kind).is_none() {
            let wire = spec.slots.iter().find(|s| s.role == item.role).map_or("media", |s| s.wire);
            let which = match (item.role, item.kind) {
                (Role::Reference, MediaKind::Video) => "reference_video",
                _ => wire,
            };
            return Err(missing(which, &format!("{id} does not take a {} as {}.", item.kind.name(), item.role.name())));
        }
    }
    for slot in spec.slots {
        let n = items.iter().filter(|i| i.role == slot.role && i.kind == slot.kind).count();
        if n > usize::from(slot.max) {
            let field = match spec.layout {
                Layout::MediaList if slot.role == Role::Reference && slot.kind == MediaKind::Video => {
                    slot.wire.to_owned()
                }
                _ => field_of(spec, slot.role),
            };
            return Err(missing(
                &field,
                &format!("{id} takes at most {} {} {}.", slot.max, slot.role.name(), slot.kind.name()),
            ));
        }
    }
    if let Some(max) = spec.images_with_video_max {
        let videos = items.iter().any(|i| i.role == Role::Reference && i.kind == MediaKind::Video);
        let images = items.iter().filter(|i| i.role == Role::Reference && i.kind == MediaKind::Image).count();
        if videos && images > usize::from(max) {
            return Err(missing(list, &format!("with a reference video {id} takes at most {max} images.")));
        }
    }
    let has = |r: Role| items.iter().any(|i| i.role == r);
    for group in spec.needs {
        if !group.iter().any(|r| has(*r)) {
            return Err(missing(&field_of(spec, group[0]), &format!("{id} needs a {}.", group[0].name())));
        }
    }
    if has(Role::LastFrame) && !has(Role::FirstFrame) && !has(Role::FirstClip) {
        return Err(missing(&field_of(spec, Role::FirstFrame), "a last frame needs a first frame."));
    }
    if spec.mentions == Mentions::AtName {
        let mut names = HashSet::new();
        for name in items.iter().filter_map(|i| i.ref_name) {
            if !names.insert(name) {
                return Err(bad("The ref_name of media must be unique.".into()));
            }
        }
    }
    Ok(())
}

/// Checks the output-shape parameters; the tier they choose (`None`: an exact size outside the
/// table, which the task then FAILS on).
fn shape(spec: &ModelSpec, params: &Value, has_first_frame: bool) -> Result<Option<Tier>, Rejection> {
    let id = spec.id;
    // Lists are built for messages only.
    let tiers = || spec.shape.tiers();
    let names = |tiers: &[Tier]| tiers.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ");
    let resolution = |default: Option<Tier>| -> Result<Tier, Rejection> {
        match params["resolution"].as_str() {
            Some(r) => Tier::from_name(r)
                .filter(|t| spec.shape.has_tier(*t))
                .ok_or_else(|| missing("resolution", &format!("{id} takes {}.", names(&tiers())))),
            None => default.ok_or_else(|| missing("resolution", &format!("{id} needs one of {}.", names(&tiers())))),
        }
    };
    let ratios = || spec.shape.ratios();
    let ratio_ok = |field: &str, required: bool| -> Result<(), Rejection> {
        match params[field].as_str() {
            Some(r) if spec.shape.has_ratio(r) => Ok(()),
            None if !required => Ok(()),
            _ => Err(missing(field, &format!("{id} takes {}.", ratios().join(", ")))),
        }
    };
    let largest = Tier::ALL.into_iter().rev().find(|t| spec.shape.has_tier(*t));
    match spec.shape {
        Shape::Size(_) => {
            let Some(size) = params["size"].as_str() else {
                if spec.shape_required {
                    return Err(missing("size", "a size W*H is required."));
                }
                return Ok(largest);
            };
            Ok(spec.tier_of(size))
        }
        Shape::ResolutionSize(_) => {
            let tier = resolution(if spec.shape_required { None } else { Some(Tier::P720) })?;
            Ok(Some(tier))
        }
        Shape::ResolutionRatio { .. } => {
            let tier = resolution(largest)?;
            if !has_first_frame {
                ratio_ok("ratio", false)?;
            }
            Ok(Some(tier))
        }
        Shape::Resolution { .. } => Ok(Some(resolution(if spec.shape_required { None } else { largest })?)),
        Shape::ModeAspect { modes, .. } => {
            let tier = match params["mode"].as_str() {
                Some(m) => match modes.iter().find(|(name, _)| *name == m) {
                    Some((_, t)) => *t,
                    None => {
                        let all: Vec<&str> = modes.iter().map(|m| m.0).collect();
                        return Err(missing("mode", &format!("{id} takes {}.", all.join(", "))));
                    }
                },
                None => largest.unwrap_or(Tier::P1080),
            };
            ratio_ok("aspect_ratio", !has_first_frame)?;
            Ok(Some(tier))
        }
    }
}

/// The tier a request's parameters ask for (720P when they do not say).
pub(super) fn tier_of(spec: Option<&ModelSpec>, params: &Value) -> Tier {
    let Some(spec) = spec else { return Tier::P720 };
    params["size"]
        .as_str()
        .and_then(|s| spec.tier_of(s))
        .or_else(|| params["resolution"].as_str().and_then(Tier::from_name))
        .or_else(|| {
            let mode = params["mode"].as_str()?;
            match spec.shape {
                Shape::ModeAspect { modes, .. } => modes.iter().find(|m| m.0 == mode).map(|m| m.1),
                _ => None,
            }
        })
        .or_else(|| spec.shape.tiers().last().copied())
        .unwrap_or(Tier::P720)
}

/// The `usage` of a finished task, in the model's own shape.
pub(super) fn usage(spec: Option<&ModelSpec>, body: &Value, uploads: &HashMap<String, Option<f64>>) -> Value {
    let params = &body["parameters"];
    let output = params["duration"].as_u64().unwrap_or(5);
    let Some(spec) = spec else {
        return json!({"duration": output, "size": params["size"], "fps": 24, "video_count": 1, "SR": "720"});
    };
    let size = params["size"].as_str();
    let tier = tier_of(Some(spec), params);
    let videos = reference_videos(spec, &body["input"], uploads);
    let n_videos = videos.len() as u64;
    // A reference video is billed for its length (an uploaded MP4's own; 5 s for a URL the fake
    // cannot fetch), all of them together at most the cap.
    let input = spec.prices.billed_ref_video_max.map_or(0, |cap| {
        let total: f64 = videos.iter().map(|s| s.unwrap_or(f64::from(cap)).ceil()).sum();
        total.min(f64::from(cap)) as u64
    });
    let shape = spec.usage;
    let mut usage = json!({ shape.seconds_field: output + input, "video_count": 1 });
    match shape.sr {
        Some(SrType::Str) => usage["SR"] = tier.sr().into(),
        Some(SrType::Int) => usage["SR"] = tier.sr().parse::<u64>().unwrap_or(720).into(),
        None => {}
    }
    if shape.in_out {
        usage["input_video_duration"] = input.into();
        usage["output_video_duration"] = output.into();
    }
    if let Some(size) = size {
        usage["size"] = size.into();
    }
    if matches!(spec.audio, Audio::Param { .. }) {
        usage["audio"] = params["audio"].as_bool().unwrap_or(false).into();
    }
    if shape.sr == Some(SrType::Str) {
        // These report what they made: its size (the aspect of a first frame, or a mode's
        // default), its frame rate and whether it has sound.
        usage["fps"] = 24.into();
        usage["audio"] = params["audio"].as_bool().unwrap_or(false).into();
        if size.is_none() {
            let ratio = params["ratio"].as_str().or(params["aspect_ratio"].as_str()).unwrap_or("16:9");
            usage["size"] = output_size(spec, tier, ratio).into();
        }
    }
    if shape.output_seconds {
        usage["output_video_duration"] = output.into();
        if spec.takes(Role::Reference) {
            usage["reference_type"] = if n_videos > 0 { "image,video" } else { "image" }.into();
        }
    }
    usage
}

/// The reference videos a request sends, with their length when the fake holds the file.
fn reference_videos(spec: &ModelSpec, input: &Value, uploads: &HashMap<String, Option<f64>>) -> Vec<Option<f64>> {
    media(spec, input)
        .map(|items| {
            items
                .iter()
                .filter(|i| i.role == Role::Reference && i.kind == MediaKind::Video)
                .map(|i| i.url.strip_prefix("oss://").and_then(|k| uploads.get(k).copied().flatten()))
                .collect()
        })
        .unwrap_or_default()
}

/// The size a model without a `size` parameter makes: its table's, else the tier's short side
/// at the ratio.
fn output_size(spec: &ModelSpec, tier: Tier, ratio: &str) -> String {
    if let Some(size) = spec.size_for(tier, ratio) {
        return size.to_owned();
    }
    let short: u32 = tier.sr().parse().unwrap_or(720);
    let (w, h) = ratio
        .split_once(':')
        .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
        .unwrap_or((16, 9));
    let (w, h) = (w.max(1), h.max(1));
    if w >= h { format!("{}*{short}", short * w / h) } else { format!("{short}*{}", short * h / w) }
}
