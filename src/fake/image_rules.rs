//! What the fake checks of an image create request, and what the request asks for
//! (`dashscope-image-models.md` §1, §2): the catalog's [`ImageModelSpec`] read as the service
//! applies it, with 400 `InvalidParameter` naming the field.

use std::collections::HashMap;

use axum::http::StatusCode;
use serde_json::Value;

use super::models::Rejection;
use crate::catalog::images::{self, ImageModelSpec, ImageProtocol, ImageShape, NegativePrompt};
use crate::catalog::{self, Endpoint, SEED_MAX};

fn bad(message: String) -> Rejection {
    (StatusCode::BAD_REQUEST, "InvalidParameter", message)
}

fn missing(field: &str, why: &str) -> Rejection {
    bad(format!("Required parameter({field}) missing or invalid: {why}"))
}

/// Whether a create to `endpoint` for `model` is the image side's to check.
pub(super) fn is_image_request(model: Option<&str>, endpoint: Endpoint) -> bool {
    matches!(endpoint, Endpoint::ImageGeneration | Endpoint::Text2Image | Endpoint::Image2Image)
        || model.is_some_and(|m| images::image_lookup(m).is_some() || images::refused(m).is_some())
}

/// The output shape a request asks for, before the input images are read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Asked {
    /// An exact `W*H`.
    Pixels(u32, u32),
    /// A tier (`1K`, `2K`): about side² pixels, at the aspect of the last input image (square
    /// without one).
    Tier(u32),
    /// Kling's `resolution` (the short side it stands for) and `aspect_ratio`.
    Ratio { short: u32, w: u32, h: u32 },
}

/// What an image request asks for, read leniently (a body the fake accepted, or a neighbour's).
#[derive(Debug, Clone)]
pub(super) struct ImageAsk {
    pub spec: &'static ImageModelSpec,
    pub prompt: String,
    /// Input image URLs, in order.
    pub inputs: Vec<String>,
    /// `parameters.n`, or the service's default when it is not sent.
    pub n: u32,
    pub asked: Asked,
}

/// The pixels of a tier: `1K` about 1280² (the Wan 2.6 page's "≈1280²"), `2K` 2048², `4K` 4096².
fn tier_side(tier: &str) -> u32 {
    match tier.to_ascii_uppercase().as_str() {
        "2K" => 2048,
        "4K" => 4096,
        _ => 1280,
    }
}

fn parse_ratio(ratio: &str) -> Option<(u32, u32)> {
    let (w, h) = ratio.split_once(':')?;
    Some((w.trim().parse().ok().filter(|w| *w > 0)?, h.trim().parse().ok().filter(|h| *h > 0)?))
}

/// Content items of the one user message: the texts and the images, in order.
fn content(input: &Value) -> (Vec<&str>, Vec<&str>) {
    let items = input["messages"][0]["content"].as_array().map(Vec::as_slice).unwrap_or_default();
    let texts = items.iter().filter_map(|i| i["text"].as_str()).collect();
    let images = items.iter().filter_map(|i| i["image"].as_str()).collect();
    (texts, images)
}

impl ImageAsk {
    /// Reads a body of an image model; `None` for any other model.
    pub(super) fn read(body: &Value) -> Option<ImageAsk> {
        let spec = images::image_lookup(body["model"].as_str()?)?;
        let input = &body["input"];
        let (prompt, inputs) = match spec.protocol {
            ImageProtocol::Messages => {
                let (texts, images) = content(input);
                (texts.first().copied().unwrap_or_default(), images)
            }
            ImageProtocol::Prompt => (
                input["prompt"].as_str().unwrap_or_default(),
                input["images"].as_array().into_iter().flatten().filter_map(Value::as_str).collect(),
            ),
        };
        let params = &body["parameters"];
        let n = params["n"].as_u64().map_or(spec.n_default, |n| n.clamp(1, u64::from(spec.n_max)) as u32);
        let asked = match spec.shape {
            ImageShape::ResolutionRatio { .. } => {
                // INFERENCE: Kling's `usage.SR` is "1080" in the doc's example at the defaults
                // (1k, 16:9); read as the short side, 2k and 4k double it.
                let short = match params["resolution"].as_str().unwrap_or("1k").to_ascii_lowercase().as_str() {
                    "2k" => 2160,
                    "4k" => 4320,
                    _ => 1080,
                };
                let (w, h) = params["aspect_ratio"].as_str().and_then(parse_ratio).unwrap_or((16, 9));
                Asked::Ratio { short, w, h }
            }
            _ => match params["size"].as_str().or(spec.default_size) {
                Some(size) => match catalog::parse_size(size) {
                    Some((w, h)) => Asked::Pixels(w, h),
                    None => Asked::Tier(tier_side(size)),
                },
                // wan2.5-i2i-preview without `size`: about 1280² at the last input's aspect.
                None => Asked::Tier(1280),
            },
        };
        Some(ImageAsk {
            spec,
            prompt: prompt.to_owned(),
            inputs: inputs.into_iter().map(str::to_owned).collect(),
            n,
            asked,
        })
    }

    /// The size the service says it made (`usage.size`), given the last input image's size
    /// when the fake can read it.
    pub(super) fn size(&self, last_input: Option<(u32, u32)>) -> (u32, u32) {
        let at_aspect = |total: f64, (w, h): (u32, u32)| {
            let aspect = f64::from(w.max(1)) / f64::from(h.max(1));
            // Multiples of 16, as the Wan pages round.
            let round = |v: f64| (((v / 16.0).round() as u32).max(1)) * 16;
            (round((total * aspect).sqrt()), round((total / aspect).sqrt()))
        };
        match self.asked {
            Asked::Pixels(w, h) => (w, h),
            Asked::Tier(side) => {
                let aspect = if self.inputs.is_empty() { None } else { last_input };
                at_aspect(f64::from(side) * f64::from(side), aspect.unwrap_or((1, 1)))
            }
            Asked::Ratio { short, w, h } => {
                let long = (f64::from(short) * f64::from(w.max(h)) / f64::from(w.min(h))).round() as u32;
                if w >= h { (long, short) } else { (short, long) }
            }
        }
    }

    /// Where the request was sent.
    pub(super) fn endpoint(&self) -> Endpoint {
        self.spec.endpoint_for(self.inputs.len())
    }
}

/// The create-call checks of an image model's request.
pub(super) fn validate_create(
    body: &Value,
    endpoint: Endpoint,
    oss_header: bool,
    uploads: &HashMap<String, Option<f64>>,
) -> Result<(), Rejection> {
    let Some(model) = body["model"].as_str().filter(|m| !m.is_empty()) else {
        return Err(missing("model", "a model id is required."));
    };
    if let Some(refused) = images::refused(model) {
        return Err(bad(format!(
            "Model not supported on this endpoint: model {model} cannot be called asynchronously here ({}).",
            refused.reason
        )));
    }
    if let Some(video) = catalog::lookup(model) {
        return Err(bad(format!("url error, please check url! {model} is served at /{}.", video.endpoint.path())));
    }
    let Some(spec) = images::image_lookup(model) else {
        return Err((StatusCode::NOT_FOUND, "ModelNotFound", "Model can not be found.".into()));
    };
    let input = &body["input"];
    if !input.is_object() {
        return Err((
            StatusCode::BAD_REQUEST,
            "BadRequest.EmptyInput",
            "Required input(input) missing or invalid.".into(),
        ));
    }
    let (prompt_field, images_field) = match spec.protocol {
        ImageProtocol::Messages => {
            messages(input)?;
            ("text", "image")
        }
        ImageProtocol::Prompt => {
            if !input["images"].is_null() && !input["images"].as_array().is_some_and(|l| l.iter().all(Value::is_string))
            {
                return Err(missing("images", "must be a list of URLs."));
            }
            ("prompt", "images")
        }
    };
    let Some(ask) = ImageAsk::read(body) else { return Err(missing("model", "not an image model.")) };
    if ask.endpoint() != endpoint {
        return Err(bad(format!("url error, please check url! {model} is served at /{}.", ask.endpoint().path())));
    }
    let count = ask.inputs.len();
    if count < usize::from(spec.inputs_min) || count > usize::from(spec.inputs_max) {
        return Err(missing(
            images_field,
            &format!("{model} takes {} to {} input images, not {count}.", spec.inputs_min, spec.inputs_max),
        ));
    }
    for url in &ask.inputs {
        check_url(spec, url, oss_header, uploads).map_err(|why| missing(images_field, &why))?;
    }
    let chars = ask.prompt.chars().count();
    if chars == 0 {
        return Err(missing(prompt_field, "a prompt is required."));
    }
    if chars > spec.prompt_max {
        return Err(bad(format!(
            "Range of input length should be [1, {}]: the {prompt_field} has {chars} characters.",
            spec.prompt_max
        )));
    }
    let params = &body["parameters"];
    if !params.is_null() && !params.is_object() {
        return Err(missing("parameters", "must be an object."));
    }
    if !params["n"].is_null() && !params["n"].as_u64().is_some_and(|n| (1..=u64::from(spec.n_max)).contains(&n)) {
        return Err(missing("n", &format!("{model} makes 1 to {} images per task.", spec.n_max)));
    }
    shape(spec, params)?;
    if spec.seed && !params["seed"].is_null() && !params["seed"].as_i64().is_some_and(|s| (0..=SEED_MAX).contains(&s)) {
        return Err(missing("seed", "must be in [0, 2147483647]."));
    }
    for flag in ["watermark", "prompt_extend"] {
        if !params[flag].is_null() && !params[flag].is_boolean() {
            return Err(missing(flag, "must be a boolean."));
        }
    }
    let negative = match spec.negative_prompt {
        NegativePrompt::None => None,
        NegativePrompt::Input => input["negative_prompt"].as_str(),
        NegativePrompt::Parameters => params["negative_prompt"].as_str(),
    };
    if negative.is_some_and(|n| n.chars().count() > 500) {
        return Err(bad("Range of negative_prompt length should be [0, 500].".into()));
    }
    Ok(())
}

/// Exactly one user message whose content is `{image}` items and exactly one `{text}` (§2.1).
fn messages(input: &Value) -> Result<(), Rejection> {
    let Some(list) = input["messages"].as_array() else {
        return Err(missing("messages", "input.messages must be a list with one user message."));
    };
    let [message] = list.as_slice() else {
        return Err(missing("messages", &format!("only one round is supported: 1 message, not {}.", list.len())));
    };
    if message["role"].as_str() != Some("user") {
        return Err(missing("messages.role", "the message must be the user's."));
    }
    let Some(items) = message["content"].as_array() else {
        return Err(missing("content", "the message's content must be a list of {image} and {text} items."));
    };
    for item in items {
        let image = item["image"].is_string();
        let text = item["text"].is_string();
        if image == text {
            return Err(missing("content", "each item has either an `image` or a `text`."));
        }
    }
    let texts = items.iter().filter(|i| i["text"].is_string()).count();
    if texts != 1 {
        return Err(missing("text", &format!("the content must have exactly one text item, not {texts}.")));
    }
    Ok(())
}

/// An input image's URL: public http(s), or (unless the model reads public URLs only) base64
/// data or a temporary `oss://` upload sent with its header.
fn check_url(
    spec: &ImageModelSpec,
    url: &str,
    oss_header: bool,
    uploads: &HashMap<String, Option<f64>>,
) -> Result<(), String> {
    if url.starts_with("http://") || url.starts_with("https://") {
        return Ok(());
    }
    if spec.public_urls_only {
        return Err(format!("{} reads public http(s) URLs only.", spec.id));
    }
    if url.starts_with("data:image/") && url.contains(";base64,") {
        return Ok(());
    }
    match url.strip_prefix("oss://") {
        Some(key) if oss_header && uploads.contains_key(key) => Ok(()),
        Some(_) => Err("The provided URL does not appear to be valid: an oss:// URL needs the upload and the X-DashScope-OssResourceResolve header.".into()),
        None => Err(format!("`{}` is not an http(s), data: or oss:// URL.", url.chars().take(40).collect::<String>())),
    }
}

/// `size`, or Kling's `resolution` and `aspect_ratio`.
fn shape(spec: &ImageModelSpec, params: &Value) -> Result<(), Rejection> {
    match spec.shape {
        ImageShape::ResolutionRatio { ratios, .. } => {
            if let Some(res) = non_null(&params["resolution"]) {
                let res = res.as_str().ok_or_else(|| missing("resolution", "must be a string."))?;
                spec.check_size(res).map_err(|e| missing("resolution", &format!("{} takes {e}.", spec.id)))?;
            }
            if let Some(ratio) = non_null(&params["aspect_ratio"])
                && !ratio.as_str().is_some_and(|r| ratios.contains(&r))
            {
                return Err(missing("aspect_ratio", &format!("{} takes {}.", spec.id, ratios.join(", "))));
            }
        }
        _ => {
            if let Some(size) = non_null(&params["size"]) {
                let size = size.as_str().ok_or_else(|| missing("size", "must be a string."))?;
                spec.check_size(size).map_err(|e| missing("size", &format!("{} takes {e}.", spec.id)))?;
            }
        }
    }
    Ok(())
}

fn non_null(v: &Value) -> Option<&Value> {
    (!v.is_null()).then_some(v)
}
