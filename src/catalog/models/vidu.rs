//! Vidu q2 and q3 (`dashscope-video-models.md` §2–§4, §6–§8): one pool of 5 for all of them.

use super::super::MediaKind::{Image, Video};
use super::super::Role::{FirstFrame, LastFrame, Reference};
use super::super::Tier::{P540, P720, P1080};
use super::super::sizes::*;
use super::super::{
    Audio, Durations, Endpoint, Kind, Layout, Mentions, ModelSpec, N, PoolRule, Shape, SrType, UsageShape,
};
use super::*;

const VIDU_R2V: ModelSpec = ModelSpec {
    id: "vidu/viduq3_reference2video",
    kind: Kind::R2v,
    endpoint: Endpoint::VideoGeneration,
    layout: Layout::MediaList,
    slots: &[slot(Reference, Image, "image", 7)],
    refs_min: 1,
    refs_max: 7,
    images_with_video_max: None,
    needs: &[],
    mentions: Mentions::Plain,
    prompt_required: true,
    prompt_max: 5000,
    prompt_max_cjk: None,
    shape: Shape::ResolutionSize(VIDU_SIZES),
    shape_required: false,
    durations: Durations::Range(1, 16),
    durations_with_video: None,
    audio: Audio::Param { default: false },
    seed: true,
    negative_prompt_max: None,
    prompt_extend: false,
    watermark_default: false,
    pool: PoolRule::Shared { name: "vidu", slots: 5 },
    submit_rps: 5,
    usage: UsageShape { seconds_field: "duration", sr: Some(SrType::Str), in_out: false, output_seconds: true },
    prices: flat(row(N, N, Some(0.3125), Some(0.625), Some(0.78125))),
    regions: BJ,
    // §2.1: 1:4 to 4:1, 50 MB.
    image: ImageLimits { min_side: 1, max_side: u32::MAX, max_aspect: 4.0, max_mb: 50 },
    public_urls_only: true,
    url_hours: 24,
    watermark_url: false,
    notes: &["UNCONFIRMED: whether sound changes the price (the pricing page shows one price)"],
};
/// Vidu q2: no sound, up to 10 s.
const VIDU_Q2_R2V: ModelSpec = ModelSpec {
    id: "vidu/viduq2_reference2video",
    durations: Durations::Range(1, 10),
    audio: Audio::Never,
    prices: flat(row(N, N, Some(0.21875), Some(0.28125), Some(0.71875))),
    notes: &[],
    ..VIDU_R2V
};
const VIDU_I2V: ModelSpec = ModelSpec {
    id: "vidu/viduq3-pro_img2video",
    kind: Kind::I2v,
    slots: &[slot(FirstFrame, Image, "image", 1)],
    refs_min: 0,
    refs_max: 0,
    needs: I2V,
    prompt_required: false,
    shape: Shape::Resolution { tiers: &[P540, P720, P1080] },
    prices: flat(row(N, N, Some(0.3125), Some(0.78125), Some(0.9375))),
    ..VIDU_R2V
};
const VIDU_KF: ModelSpec = ModelSpec {
    id: "vidu/viduq3-pro_start-end2video",
    kind: Kind::Kf2v,
    shape_required: true,
    slots: &[slot(FirstFrame, Image, "image", 1), slot(LastFrame, Image, "image", 1)],
    needs: KF2V,
    prompt_required: true,
    ..VIDU_I2V
};
const VIDU_T2V: ModelSpec =
    ModelSpec { id: "vidu/viduq3-pro_text2video", kind: Kind::T2v, slots: &[], refs_min: 0, refs_max: 0, ..VIDU_R2V };

/// The Vidu video models.
pub(super) static MODELS: &[ModelSpec] = &[
    // Vidu: all Vidu models share one pool of 5.
    ModelSpec {
        id: "vidu/viduq3-mix_reference2video",
        shape: Shape::ResolutionSize(VIDU_MIX_SIZES),
        prices: flat(row(N, N, N, Some(0.78125), Some(0.9375))),
        ..VIDU_R2V
    },
    VIDU_R2V,
    ModelSpec {
        id: "vidu/viduq3-turbo_reference2video",
        prices: flat(row(N, N, Some(0.15625), Some(0.3125), Some(0.40625))),
        ..VIDU_R2V
    },
    ModelSpec {
        id: "vidu/viduq2-pro_reference2video",
        slots: &[slot(Reference, Image, "image", 7), slot(Reference, Video, "video", 2)],
        images_with_video_max: Some(4),
        prices: flat(row(N, N, Some(0.25), Some(0.3125), Some(0.78125))),
        notes: &["duration 0 (automatic) is not offered: pixbatch needs the length to price the job"],
        ..VIDU_Q2_R2V
    },
    VIDU_Q2_R2V,
    VIDU_I2V,
    ModelSpec {
        id: "vidu/viduq3-turbo_img2video",
        prices: flat(row(N, N, Some(0.25), Some(0.375), Some(0.4375))),
        ..VIDU_I2V
    },
    ModelSpec {
        id: "vidu/viduq2-pro-fast_img2video",
        shape: Shape::Resolution { tiers: HD },
        durations: Durations::Range(1, 10),
        audio: Audio::Never,
        prices: flat(row(N, N, N, Some(0.1), Some(0.2))),
        ..VIDU_I2V
    },
    ModelSpec {
        id: "vidu/viduq2-pro_img2video",
        durations: Durations::Range(1, 10),
        audio: Audio::Never,
        prices: flat(row(N, N, Some(0.15625), Some(0.34375), Some(0.71875))),
        ..VIDU_I2V
    },
    ModelSpec {
        id: "vidu/viduq2-turbo_img2video",
        durations: Durations::Range(1, 10),
        audio: Audio::Never,
        prices: flat(row(N, N, Some(0.0875), Some(0.25), Some(0.46875))),
        ..VIDU_I2V
    },
    VIDU_T2V,
    ModelSpec {
        id: "vidu/viduq3-turbo_text2video",
        prices: flat(row(N, N, Some(0.25), Some(0.375), Some(0.4375))),
        ..VIDU_T2V
    },
    ModelSpec {
        id: "vidu/viduq2_text2video",
        durations: Durations::Range(1, 10),
        audio: Audio::Never,
        prices: flat(row(N, N, Some(0.1125), Some(0.21875), Some(0.375))),
        ..VIDU_T2V
    },
    VIDU_KF,
    ModelSpec {
        id: "vidu/viduq3-turbo_start-end2video",
        prices: flat(row(N, N, Some(0.25), Some(0.375), Some(0.4375))),
        ..VIDU_KF
    },
    ModelSpec {
        id: "vidu/viduq2-pro_start-end2video",
        durations: Durations::Range(1, 10),
        audio: Audio::Never,
        prices: flat(row(N, N, Some(0.15625), Some(0.34375), Some(0.71875))),
        ..VIDU_KF
    },
    ModelSpec {
        id: "vidu/viduq2-turbo_start-end2video",
        durations: Durations::Range(1, 10),
        audio: Audio::Never,
        prices: flat(row(N, N, Some(0.0875), Some(0.25), Some(0.46875))),
        ..VIDU_KF
    },
];
