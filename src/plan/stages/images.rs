//! A generated ref's image jobs: one per `matrix` combination and `repeat` sample, each a task
//! of `n` candidates, checked against its image model's rules.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use super::GenRef;
use crate::catalog::images::{self, ImageModelSpec, ImageProtocol, NegativePrompt};
use crate::catalog::{Layout, MediaKind, Mentions, Role};
use crate::ledger::money::PriceSource;
use crate::manifest::{Diagnostic, Diagnostics, Region};
use crate::plan::job::{Job, Media, Product, Stage, slug};
use crate::plan::refs::Ref;

/// `run.prices`: model → key → CNY.
type Prices = BTreeMap<String, BTreeMap<String, f64>>;

/// The axes a `generate:` matrix may have.
const AXES: &[&str] = &["seed", "model", "size", "resolution", "ratio", "prompt"];
/// The most tasks one generated ref may make.
const TASKS_MAX: usize = 100;

/// How image models are told which input image a mention means: by number, in the order the
/// images are sent (`图1`, `图2` in the Wan pages' prompts).
const IMAGE_MENTIONS: Mentions = Mentions::Numbered {
    image: "image {}",
    video: "video {}",
    cjk_image: "图{}",
    cjk_video: "视频{}",
    one_counter: true,
};

/// The image jobs of `g`, or none (with the problems in `diags`). `refs` holds every ref
/// resolved so far: those `g` mentions are its input images.
pub(in crate::plan) fn jobs(
    g: &GenRef<'_>,
    refs: &BTreeMap<String, Ref>,
    region: Region,
    prices: &Prices,
    diags: &mut Diagnostics,
) -> Vec<Job> {
    let errors = diags.error_count();
    let spec = g.spec;
    let mut axes: Vec<(String, Vec<Value>)> = Vec::new();
    for (axis, values) in &spec.matrix {
        if !AXES.contains(&axis.as_str()) {
            diags.push(
                Diagnostic::error(format!("`generate.matrix` of `{}` has an unknown axis `{axis}`", g.name), g.span)
                    .hint(format!("a generated ref's matrix may vary: {}", AXES.join(", "))),
            );
        } else if values.is_empty() {
            diags.push(Diagnostic::error(format!("`generate.matrix.{axis}` of `{}` is empty", g.name), g.span));
        } else {
            axes.push((axis.clone(), values.clone()));
        }
    }
    let repeat = spec.repeat.unwrap_or(1);
    let combos = crate::plan::matrix::expand(
        &crate::plan::matrix::MatrixSpec { axes, exclude: Vec::new(), include: Vec::new() },
        |a: &Value, b: &Value| a == b,
    );
    let combos = if combos.is_empty() { vec![Vec::new()] } else { combos };
    if repeat == 0 || combos.len().saturating_mul(repeat as usize) > TASKS_MAX {
        diags.push(
            Diagnostic::error(
                format!("`{}` would make {} image tasks", g.name, combos.len().saturating_mul(repeat as usize)),
                g.span,
            )
            .hint(format!("a generated ref makes 1 to {TASKS_MAX} tasks: check its matrix and repeat")),
        );
        return Vec::new();
    }
    let mut out = Vec::new();
    for combo in &combos {
        for sample in 0..repeat {
            if let Some(job) = job(g, combo, sample, repeat, refs, (region, prices), diags) {
                out.push(job);
            }
        }
    }
    if diags.error_count() > errors { Vec::new() } else { out }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The image model named, checked: known, asynchronous, offered in the region.
fn model_spec(model: &str, g: &GenRef<'_>, region: Region, diags: &mut Diagnostics) -> Option<&'static ImageModelSpec> {
    if let Some(refused) = images::refused(model) {
        diags.push(
            Diagnostic::error(format!("`{}` cannot be made with {model}: {}", g.name, refused.reason), g.span)
                .label("a sync-only or undocumented image model")
                .hint(format!("use an async image model, e.g. `model: {}`", refused.instead)),
        );
        return None;
    }
    let Some(spec) = images::image_lookup(model) else {
        let known: Vec<&str> = images::image_models().map(|m| m.id).collect();
        let hint = match crate::manifest::diag::did_you_mean(model, known.iter().copied()) {
            Some(best) => format!("did you mean `{best}`? image models: {}", known.join(", ")),
            None => format!("image models: {}", known.join(", ")),
        };
        diags.push(Diagnostic::error(format!("`{model}` is not an image model pixbatch knows"), g.span).hint(hint));
        return None;
    };
    if !spec.in_region(region) {
        diags.push(
            Diagnostic::error(format!("{model} is not offered in {}", region.name()), g.span)
                .hint("choose another image model, or another region"),
        );
        return None;
    }
    Some(spec)
}

fn job(
    g: &GenRef<'_>,
    combo: &[(String, Value)],
    sample: u32,
    repeat: u32,
    refs: &BTreeMap<String, Ref>,
    (region, prices): (Region, &Prices),
    diags: &mut Diagnostics,
) -> Option<Job> {
    let spec = g.spec;
    let axis = |name: &str| combo.iter().find(|(k, _)| k == name).map(|(_, v)| text_of(v));
    let model = axis("model").or_else(|| spec.model.clone()).unwrap_or_else(|| images::DEFAULT_IMAGE_MODEL.to_owned());
    let prompt = axis("prompt").unwrap_or_else(|| spec.prompt.clone());
    let seed = match axis("seed") {
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (0..=2_147_483_647).contains(&n) => Some(n),
            _ => {
                diags.push(Diagnostic::error(
                    format!("`generate.matrix.seed` of `{}`: `{s}` is not a seed (0 to 2147483647)", g.name),
                    g.span,
                ));
                return None;
            }
        },
        None => spec.seed,
    };
    let m = model_spec(&model, g, region, diags)?;
    let n = spec.n.unwrap_or(1);
    if n == 0 || n > m.n_max {
        diags.push(
            Diagnostic::error(
                format!("`{}` asks for n: {n} images a task; {model} makes 1 to {}", g.name, m.n_max),
                g.span,
            )
            .hint("more candidates: lower `n` and add seeds (`matrix: {seed: [1, 2, 3]}`)"),
        );
        return None;
    }
    if prompt.trim().is_empty() || prompt.chars().count() > m.prompt_max {
        diags.push(Diagnostic::error(
            format!("the prompt of `{}` must have 1 to {} characters for {model}", g.name, m.prompt_max),
            g.span,
        ));
        return None;
    }
    let mut media = Vec::new();
    for name in &g.inputs {
        let Some(r) = refs.get(name) else { continue };
        if r.kind != MediaKind::Image {
            diags.push(Diagnostic::error(
                format!(
                    "`{}` mentions `@{name}`, which is {}: an image model takes images only",
                    g.name,
                    r.kind.name()
                ),
                g.span,
            ));
            return None;
        }
        if m.public_urls_only && !matches!(r.source, crate::plan::MediaSource::Url(_)) {
            diags.push(
                Diagnostic::error(
                    format!("{model} reads only public https:// URLs; `@{name}` is a local or generated image"),
                    g.span,
                )
                .hint("use wan2.7-image for input images made or kept here"),
            );
            return None;
        }
        let wire = if m.protocol == ImageProtocol::Messages { "image" } else { "images" };
        media.push(Media {
            source: r.source.clone(),
            name: Some(name.clone()),
            ref_name: None,
            role: Role::Reference,
            kind: MediaKind::Image,
            wire,
        });
    }
    let inputs = media.len();
    if inputs < usize::from(m.inputs_min) || inputs > usize::from(m.inputs_max) {
        let (what, hint) = if m.inputs_max == 0 {
            (
                format!("{model} takes no input images"),
                "mention no refs, or use wan2.7-image, which takes up to 9".to_owned(),
            )
        } else {
            (
                format!("{model} takes {} to {} input images", m.inputs_min, m.inputs_max),
                "mention as many refs as it takes (`@name` in the prompt)".to_owned(),
            )
        };
        diags.push(Diagnostic::error(format!("`{}` mentions {inputs} ref(s), but {what}", g.name), g.span).hint(hint));
        return None;
    }
    let shape = super::size::params(
        m,
        axis("size").as_deref().or(spec.size.as_deref()),
        axis("resolution").as_deref().or(spec.resolution.as_deref()),
        axis("ratio").as_deref().or(spec.ratio.as_deref()),
    );
    let mut params = match shape {
        Ok(p) => p,
        Err(e) => {
            diags.push(Diagnostic::error(format!("the shape of `{}`: {e}", g.name), g.span));
            return None;
        }
    };
    // Always sent: the service's default (4, or 12) would multiply the bill.
    params.insert("n".into(), n.into());
    params.insert("watermark".into(), false.into());
    match (seed, m.seed) {
        (Some(s), true) => {
            params.insert("seed".into(), s.into());
        }
        (Some(_), false) => {
            diags.push(
                Diagnostic::error(format!("{model} takes no `seed` (`{}`)", g.name), g.span)
                    .hint("vary the prompt or use `repeat` for more candidates"),
            );
            return None;
        }
        (None, _) => {}
    }
    let mut input = BTreeMap::new();
    if let Some(neg) = &spec.negative_prompt {
        match m.negative_prompt {
            NegativePrompt::Input => {
                input.insert("negative_prompt".to_owned(), Value::from(neg.clone()));
            }
            NegativePrompt::Parameters => {
                params.insert("negative_prompt".into(), neg.clone().into());
            }
            NegativePrompt::None => {
                diags.push(Diagnostic::error(format!("{model} takes no `negative_prompt` (`{}`)", g.name), g.span));
                return None;
            }
        }
    }
    let words = numbered(&prompt, &media);
    let sent_prompt = crate::plan::mentions::rewrite(&prompt, &words);
    let mut labels: Vec<(String, String)> = combo.iter().map(|(k, v)| (k.clone(), text_of(v))).collect();
    if repeat > 1 {
        labels.push(("sample".into(), (sample + 1).to_string()));
    }
    labels.sort();
    let variant = labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    let file = if variant.is_empty() { "default".to_owned() } else { slug(&variant) };
    let waiting = media
        .iter()
        .filter_map(|x| match &x.source {
            crate::plan::MediaSource::Waiting(name) => Some(name.clone()),
            _ => None,
        })
        .collect();
    // The manifest's `run.prices.<model>.image`, else the catalog's.
    let (price, price_source) = match prices.get(&model).and_then(|t| t.get("image")) {
        Some(p) => (*p, PriceSource::Manifest),
        None => (m.price_in(region), PriceSource::Catalog),
    };
    let size = params.get("size").or_else(|| params.get("resolution")).map_or_else(|| "auto".to_owned(), text_of);
    let mut job = Job {
        key: crate::key::JobKey::default(),
        shot: format!("@{}", g.name),
        variant,
        family: m.family(),
        endpoint: m.endpoint_for(inputs),
        layout: if m.protocol == ImageProtocol::Messages { Layout::Messages } else { Layout::UrlList("images") },
        model,
        size,
        tier: None,
        duration: 0,
        audio: false,
        watermark: false,
        seed,
        sample,
        prompt: sent_prompt,
        media,
        input,
        params,
        output: PathBuf::from("refs").join(g.name).join(format!("{file}.png")),
        price_per_second: None,
        billed_input_seconds: 0.0,
        product: Product::Images { n },
        price_per_image: Some(price),
        price_source,
        stage: Stage::Refs(g.depth),
        waiting,
    };
    job.key = job.compute_key();
    Some(job)
}

/// `@name` → `image 1` (`图1` in a CJK prompt), numbered in the order the images are sent.
fn numbered(prompt: &str, media: &[Media]) -> BTreeMap<String, String> {
    let Mentions::Numbered { image, cjk_image, .. } = IMAGE_MENTIONS else { return BTreeMap::new() };
    let pattern = if crate::catalog::has_cjk(prompt) { cjk_image } else { image };
    media
        .iter()
        .enumerate()
        .filter_map(|(i, m)| Some((m.name.clone()?, pattern.replace("{}", &(i + 1).to_string()))))
        .collect()
}
