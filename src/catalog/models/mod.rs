//! The models, one entry each. Facts and their sources: `dashscope-video-models.md` (§ numbers
//! below) and, for PixVerse r2v, `dashscope-api.md`. Where a fact is UNCONFIRMED or the sources
//! CONFLICT, the API reference page wins over console metadata, and the entry's `notes` say so.
//!
//! One file per family; within it, models share a base entry and change what differs
//! (`..BASE`). The helpers here are the families' common vocabulary.

mod happyhorse;
pub(super) mod images;
mod kling;
mod pixverse;
mod vidu;
mod wan;

use std::sync::LazyLock;

use super::Role::{FirstFrame, LastFrame};
use super::Tier::{P360, P540, P720, P1080};
use super::{ImageLimits, ModelSpec, PriceRow, Prices, Role, Slot, Tier};
use crate::manifest::Region::{self, ApSoutheast1, CnBeijing};

/// The c1 reference-to-video model.
pub const C1_R2V: &str = "pixverse/pixverse-c1-r2v";
/// The v5.6 reference-to-video model.
pub const V56_R2V: &str = "pixverse/pixverse-v5.6-r2v";

pub(super) const BJ: &[Region] = &[CnBeijing];
pub(super) const BJ_SG: &[Region] = &[CnBeijing, ApSoutheast1];

pub(super) const fn row(
    p360: Option<f64>,
    p480: Option<f64>,
    p540: Option<f64>,
    p720: Option<f64>,
    p1080: Option<f64>,
) -> PriceRow {
    [p360, p480, p540, p720, p1080]
}

/// One price whatever the sound (the row for both).
pub(super) const fn flat(r: PriceRow) -> Prices {
    Prices { silent: r, audio: r, with_video: None, billed_ref_video_max: None, intl: None }
}

pub(super) const fn slot(role: Role, kind: super::MediaKind, wire: &'static str, max: u8) -> Slot {
    Slot { role, kind, wire, max }
}

pub(super) const ALL_PV_TIERS: &[Tier] = &[P360, P540, P720, P1080];
pub(super) const HD: &[Tier] = &[P720, P1080];
pub(super) const RATIOS_5: &[&str] = &["16:9", "9:16", "1:1", "4:3", "3:4"];
pub(super) const RATIOS_HH: &[&str] = &["16:9", "9:16", "3:4", "4:3", "4:5", "5:4", "1:1", "9:21", "21:9"];

/// Wan's images (§2.1, §4): 240–8000 px a side, 1:8 to 8:1, 20 MB.
pub(super) const WAN_IMAGE: ImageLimits = ImageLimits { min_side: 240, max_side: 8000, max_aspect: 8.0, max_mb: 20 };

pub(super) const I2V: &[&[Role]] = &[&[FirstFrame]];
pub(super) const KF2V: &[&[Role]] = &[&[FirstFrame], &[LastFrame]];

/// Every model pixbatch knows, family by family.
pub static MODELS: LazyLock<Vec<&'static ModelSpec>> = LazyLock::new(|| {
    [pixverse::MODELS, wan::MODELS, happyhorse::MODELS, kling::MODELS, vidu::MODELS].into_iter().flatten().collect()
});
