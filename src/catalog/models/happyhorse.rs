//! HappyHorse 1.0 (`dashscope-video-models.md` §2–§4): a pool of 5 per model id.

use super::super::MediaKind::Image;
use super::super::Role::{FirstFrame, Reference};
use super::super::{Audio, Durations, Endpoint, Kind, Layout, Mentions, ModelSpec, N, PoolRule, Prices, Shape};
use super::wan::WAN_USAGE;
use super::*;

const HH_R2V: ModelSpec = ModelSpec {
    id: "happyhorse-1.0-r2v",
    kind: Kind::R2v,
    endpoint: Endpoint::VideoGeneration,
    layout: Layout::MediaList,
    slots: &[slot(Reference, Image, "reference_image", 9)],
    refs_min: 1,
    refs_max: 9,
    images_with_video_max: None,
    needs: &[],
    mentions: Mentions::Numbered {
        image: "[Image {}]",
        video: "[Video {}]",
        cjk_image: "[Image {}]",
        cjk_video: "[Video {}]",
        one_counter: false,
    },
    prompt_required: true,
    prompt_max: 5000,
    prompt_max_cjk: Some(2500),
    shape: Shape::ResolutionRatio { tiers: HD, ratios: RATIOS_HH },
    shape_required: false,
    durations: Durations::Range(3, 15),
    durations_with_video: None,
    audio: Audio::Never,
    seed: true,
    negative_prompt_max: None,
    prompt_extend: false,
    watermark_default: true,
    pool: PoolRule::PerModel { slots: 5 },
    submit_rps: 5,
    usage: WAN_USAGE,
    prices: Prices {
        intl: Some(row(N, N, N, Some(1.049188), Some(1.798608))),
        ..flat(row(N, N, N, Some(0.9), Some(1.6)))
    },
    regions: BJ_SG,
    // §2.1: short side at least 400 px, 20 MB.
    image: ImageLimits { min_side: 400, max_side: u32::MAX, max_aspect: f64::INFINITY, max_mb: 20 },
    public_urls_only: false,
    url_hours: 24,
    watermark_url: false,
    notes: &[
        "CONFLICT: submit rate 5/s (rate-limit page) vs 10/s (console); pixbatch uses 5",
        "UNCONFIRMED: whether 1.0 videos have sound (no audio parameter)",
        "the service's watermark default is true; pixbatch always sends watermark (false unless set)",
    ],
};
const HH_T2V: ModelSpec = ModelSpec {
    id: "happyhorse-1.0-t2v",
    kind: Kind::T2v,
    slots: &[],
    refs_min: 0,
    refs_max: 0,
    mentions: Mentions::Plain,
    ..HH_R2V
};
const HH_I2V: ModelSpec = ModelSpec {
    id: "happyhorse-1.0-i2v",
    kind: Kind::I2v,
    slots: &[slot(FirstFrame, Image, "first_frame", 1)],
    needs: I2V,
    prompt_required: false,
    // §4: at least 300 px, 1:2.5 to 2.5:1, 20 MB.
    image: ImageLimits { min_side: 300, max_side: u32::MAX, max_aspect: 2.5, max_mb: 20 },
    shape: Shape::Resolution { tiers: HD },
    ..HH_T2V
};

/// The HappyHorse models.
pub(super) static MODELS: &[ModelSpec] = &[
    // HappyHorse: a pool of 5 per model id.
    HH_R2V, HH_T2V, HH_I2V,
];
