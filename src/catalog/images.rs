//! Image models: the kinds of rule an image model's request follows, for the ref stage
//! (`dashscope-image-models.md`). The models themselves are data in `models/images.rs`.

use super::{Endpoint, Family, ImageLimits, PoolRule};
use crate::manifest::Region;

/// How a create request carries the prompt and the input images (§2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageProtocol {
    /// `input.messages[0].content[]`: `{image}` items in order, then one `{text}` item;
    /// results in `output.choices[].message.content[].image`.
    Messages,
    /// `input.prompt` (and `input.images[]` for image-to-image); results in
    /// `output.results[].url`, failed items with `code`/`message`.
    Prompt,
}

/// What an image model's output shape is set with (§2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ImageShape {
    /// `parameters.size` as a tier (`1K`, `2K`, …) or `W*H` with a total pixel range and an
    /// aspect limit. With input images, a tier takes the aspect of the last one.
    TierOrPixels { tiers: &'static [&'static str], min_total: u32, max_total: u32, max_aspect: f64 },
    /// `parameters.size` as `W*H` only, within a total pixel range and an aspect limit.
    Pixels { min_total: u32, max_total: u32, max_aspect: f64 },
    /// `parameters.size` as `W*H`, each side within `min..=max` pixels (Wan 2.2 and older).
    Sides { min: u32, max: u32 },
    /// `parameters.size`, one of a fixed set of `W*H`.
    Fixed(&'static [&'static str]),
    /// `parameters.resolution` (`1k`, …) and `parameters.aspect_ratio` (Kling).
    ResolutionRatio { resolutions: &'static [&'static str], ratios: &'static [&'static str] },
}

/// Where `negative_prompt` goes, if the model takes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NegativePrompt {
    None,
    /// `input.negative_prompt` (the old protocol).
    Input,
    /// `parameters.negative_prompt` (Wan 2.6).
    Parameters,
}

/// Everything pixbatch knows about one async image model.
#[derive(Debug)]
pub struct ImageModelSpec {
    pub id: &'static str,
    pub protocol: ImageProtocol,
    /// Where the create goes without input images.
    pub endpoint: Endpoint,
    /// Where it goes with input images (the old protocol's image-to-image path), if different.
    pub endpoint_with_images: Option<Endpoint>,
    /// Input images a request needs and may carry.
    pub inputs_min: u8,
    pub inputs_max: u8,
    /// Images one task may make (`n`).
    pub n_max: u32,
    /// The service's own `n` default: why pixbatch always sends `n`.
    pub n_default: u32,
    pub shape: ImageShape,
    /// The shape pixbatch sends when the manifest gives none (`None`: the service's own,
    /// from the last input image).
    pub default_size: Option<&'static str>,
    pub seed: bool,
    pub negative_prompt: NegativePrompt,
    /// `parameters.prompt_extend` is taken.
    pub prompt_extend: bool,
    pub prompt_max: usize,
    /// What the model reads of an input image.
    pub image: ImageLimits,
    /// Input images must be public http(s) URLs (no temporary `oss://`, no base64).
    pub public_urls_only: bool,
    pub pool: PoolRule,
    pub submit_rps: u32,
    /// CNY per successful image, Beijing; Singapore where it differs.
    pub price: f64,
    pub price_intl: Option<f64>,
    pub regions: &'static [Region],
    /// Hours a result URL stays valid.
    pub url_hours: u32,
    /// Facts marked UNCONFIRMED or CONFLICT, with the choice made.
    pub notes: &'static [&'static str],
}

/// An image model pixbatch refuses, and why (sync only: no task, nothing to recover after a
/// crash).
#[derive(Debug)]
pub struct Refused {
    pub id: &'static str,
    pub reason: &'static str,
    /// An async model that does the same job.
    pub instead: &'static str,
}

/// The image model a `generate:` ref uses when it names none.
pub const DEFAULT_IMAGE_MODEL: &str = "wan2.7-image";

/// Every async image model pixbatch knows.
pub fn image_models() -> impl Iterator<Item = &'static ImageModelSpec> {
    super::models::images::MODELS.iter()
}

/// Looks an image model up by its DashScope id.
pub fn image_lookup(model: &str) -> Option<&'static ImageModelSpec> {
    image_models().find(|m| m.id == model)
}

/// Every image model pixbatch refuses.
pub fn refused_models() -> impl Iterator<Item = &'static Refused> {
    super::models::images::REFUSED.iter()
}

/// An image model pixbatch refuses, if `model` is one.
pub fn refused(model: &str) -> Option<&'static Refused> {
    super::models::images::REFUSED.iter().find(|m| m.id == model)
}

impl ImageModelSpec {
    pub fn family(&self) -> Family {
        match self.pool {
            PoolRule::Shared { name, slots } => Family::Known { name, slots },
            PoolRule::PerModel { slots } => Family::Known { name: self.id, slots },
        }
    }

    /// Where a request with `inputs` input images is posted.
    pub fn endpoint_for(&self, inputs: usize) -> Endpoint {
        if inputs > 0 { self.endpoint_with_images.unwrap_or(self.endpoint) } else { self.endpoint }
    }

    /// CNY per image in a region.
    pub fn price_in(&self, region: Region) -> f64 {
        match region {
            Region::ApSoutheast1 => self.price_intl.unwrap_or(self.price),
            _ => self.price,
        }
    }

    pub fn in_region(&self, region: Region) -> bool {
        self.regions.contains(&region)
    }

    /// Checks a `size` value against the model's shape; `Err` says what is allowed.
    pub fn check_size(&self, size: &str) -> Result<(), String> {
        let pixels = |min_total: u32, max_total: u32, max_aspect: f64| -> Result<(), String> {
            let (w, h) = super::parse_size(size).ok_or_else(|| format!("`{size}` is not W*H"))?;
            let total = u64::from(w) * u64::from(h);
            let aspect = f64::from(w.max(h)) / f64::from(w.min(h).max(1));
            if total < u64::from(min_total) * u64::from(min_total)
                || total > u64::from(max_total) * u64::from(max_total)
            {
                return Err(format!("W×H must be between {min_total}×{min_total} and {max_total}×{max_total} pixels"));
            }
            if aspect > max_aspect {
                return Err(format!("the aspect must be within 1:{max_aspect} and {max_aspect}:1"));
            }
            Ok(())
        };
        match self.shape {
            ImageShape::TierOrPixels { tiers, min_total, max_total, max_aspect } => {
                if tiers.iter().any(|t| t.eq_ignore_ascii_case(size)) {
                    Ok(())
                } else {
                    pixels(min_total, max_total, max_aspect)
                        .map_err(|e| format!("{e}, or a tier: {}", tiers.join(", ")))
                }
            }
            ImageShape::Pixels { min_total, max_total, max_aspect } => pixels(min_total, max_total, max_aspect),
            ImageShape::Sides { min, max } => match super::parse_size(size) {
                Some((w, h)) if (min..=max).contains(&w) && (min..=max).contains(&h) => Ok(()),
                Some(_) => Err(format!("W*H with each side from {min} to {max} pixels")),
                None => Err(format!("`{size}` is not W*H")),
            },
            ImageShape::Fixed(sizes) => {
                if sizes.contains(&size) {
                    Ok(())
                } else {
                    Err(format!("one of {}", sizes.join(", ")))
                }
            }
            ImageShape::ResolutionRatio { resolutions, .. } => {
                if resolutions.iter().any(|r| r.eq_ignore_ascii_case(size)) {
                    Ok(())
                } else {
                    Err(format!("a resolution: {}", resolutions.join(", ")))
                }
            }
        }
    }
}
