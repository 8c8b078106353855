//! `pixbatch models`, the image models of the ref stage: protocol, inputs, `n`, shape, pool
//! and price per image, and the image models pixbatch refuses with the reason.

use serde::Serialize;

use crate::catalog::images::{self, ImageModelSpec, ImageProtocol, ImageShape};
use crate::manifest::Region;

/// One image model as `pixbatch models` shows it.
#[derive(Debug, Serialize)]
pub struct ImageRow {
    pub id: &'static str,
    pub kind: &'static str,
    pub protocol: &'static str,
    pub endpoint: &'static str,
    /// Input images a request takes: `0–9`.
    pub inputs: String,
    pub n_max: u32,
    /// The service's own `n` (pixbatch always sends `n`: 1 unless the manifest says).
    pub n_default: u32,
    pub shape: String,
    pub pool: String,
    pub pool_slots: u32,
    pub submit_per_second: u32,
    /// CNY per successful image, Beijing and Singapore.
    pub price: f64,
    pub price_intl: Option<f64>,
    pub regions: Vec<&'static str>,
    pub url_hours: u32,
    pub notes: Vec<&'static str>,
}

/// Every async image model, in catalog order.
pub fn rows() -> Vec<ImageRow> {
    images::image_models().map(row).collect()
}

fn row(m: &ImageModelSpec) -> ImageRow {
    let family = m.family();
    ImageRow {
        id: m.id,
        kind: "image",
        protocol: match m.protocol {
            ImageProtocol::Messages => "messages",
            ImageProtocol::Prompt => "prompt",
        },
        endpoint: m.endpoint.path(),
        inputs: if m.inputs_max == 0 { "0".to_owned() } else { format!("{}–{}", m.inputs_min, m.inputs_max) },
        n_max: m.n_max,
        n_default: m.n_default,
        shape: shape(m.shape),
        pool: family.name().to_owned(),
        pool_slots: family.service_slots().unwrap_or(0),
        submit_per_second: m.submit_rps,
        price: m.price,
        price_intl: m.price_intl.filter(|_| m.in_region(Region::ApSoutheast1)),
        regions: m.regions.iter().map(|r| r.name()).collect(),
        url_hours: m.url_hours,
        notes: m.notes.to_vec(),
    }
}

fn shape(s: ImageShape) -> String {
    match s {
        ImageShape::TierOrPixels { tiers, min_total, max_total, .. } => {
            format!("size {} or W*H {min_total}²–{max_total}²", tiers.join("/"))
        }
        ImageShape::Pixels { min_total, max_total, .. } => format!("size W*H {min_total}²–{max_total}²"),
        ImageShape::Sides { min, max } => format!("size W*H, each side {min}–{max}"),
        ImageShape::Fixed(sizes) => format!("size {}", sizes.join(", ")),
        ImageShape::ResolutionRatio { resolutions, ratios } => {
            format!("resolution {} + aspect_ratio {}", resolutions.join("/"), ratios.join("/"))
        }
    }
}

fn price(r: &ImageRow) -> String {
    match r.price_intl {
        Some(intl) => format!("{} (SG {intl})", r.price),
        None => r.price.to_string(),
    }
}

/// The image table in docs/models.md (Markdown), then the refused models.
pub fn markdown() -> String {
    let mut out = String::from(
        "| image model | protocol | input images | n (service default) | shape | pool (running) | CNY/image | regions |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows() {
        let mark = if r.notes.is_empty() { "" } else { " ¹" };
        out.push_str(&format!(
            "| `{}`{mark} | {} | {} | 1–{} ({}) | {} | {} ({}) | {} | {} |\n",
            r.id,
            r.protocol,
            r.inputs,
            r.n_max,
            r.n_default,
            r.shape,
            r.pool,
            r.pool_slots,
            price(&r),
            r.regions.join(", ")
        ));
    }
    out.push_str("\nRefused (a `generate:` ref naming one is an error):\n\n");
    for m in refused() {
        out.push_str(&format!("- `{}`: {}; use `{}`\n", m.0, m.1, m.2));
    }
    out
}

/// The refused image models: id, reason, what to use instead.
pub fn refused() -> Vec<(&'static str, &'static str, &'static str)> {
    images::refused_models().map(|r| (r.id, r.reason, r.instead)).collect()
}

/// The terminal form: one line per model, then the notes and the refused.
pub fn table() -> String {
    let mut out = String::from("\nIMAGE MODELS (for `generate:` refs)\n");
    for r in rows() {
        out.push_str(&format!(
            "{:<38} {:<8} inputs {:<4} n 1–{} (default {})  {}  {} ({})  CNY {}/image  {}\n",
            format!("{}{}", r.id, if r.notes.is_empty() { "" } else { " *" }),
            r.protocol,
            r.inputs,
            r.n_max,
            r.n_default,
            r.shape,
            r.pool,
            r.pool_slots,
            price(&r),
            r.regions.join(",")
        ));
    }
    for r in rows().iter().filter(|r| !r.notes.is_empty()) {
        for note in &r.notes {
            out.push_str(&format!("  {}: {note}\n", r.id));
        }
    }
    out.push_str("refused:\n");
    for (id, reason, instead) in refused() {
        out.push_str(&format!("  {id}: {reason}; use {instead}\n"));
    }
    out
}
