//! Kling v3 and v3 omni (`dashscope-video-models.md` §2–§4, §6–§8): one pool of 10.

use super::super::MediaKind::{Image, Video};
use super::super::Role::{FirstFrame, LastFrame, Reference};
use super::super::Tier::{P720, P1080};
use super::super::{
    Audio, Durations, Endpoint, Kind, Layout, Mentions, ModelSpec, N, PoolRule, Prices, Shape, SrType, UsageShape,
};
use super::*;

const KLING_V3: ModelSpec = ModelSpec {
    id: "kling/kling-v3-video-generation",
    kind: Kind::Multi,
    endpoint: Endpoint::VideoGeneration,
    layout: Layout::MediaList,
    slots: &[slot(FirstFrame, Image, "first_frame", 1), slot(LastFrame, Image, "last_frame", 1)],
    refs_min: 0,
    refs_max: 0,
    images_with_video_max: None,
    needs: &[],
    mentions: Mentions::Plain,
    prompt_required: true,
    prompt_max: 2500,
    prompt_max_cjk: None,
    shape: Shape::ModeAspect { modes: &[("std", P720), ("pro", P1080)], ratios: &["16:9", "9:16", "1:1"] },
    shape_required: false,
    durations: Durations::Range(3, 15),
    durations_with_video: Some(Durations::Range(3, 10)),
    audio: Audio::Param { default: false },
    seed: false,
    negative_prompt_max: None,
    prompt_extend: false,
    watermark_default: false,
    pool: PoolRule::Shared { name: "kling", slots: 10 },
    submit_rps: 5,
    usage: UsageShape { seconds_field: "duration", sr: Some(SrType::Str), in_out: false, output_seconds: false },
    prices: Prices {
        silent: row(N, N, N, Some(0.6), Some(0.8)),
        audio: row(N, N, N, Some(0.9), Some(1.2)),
        with_video: None,
        billed_ref_video_max: None,
        intl: None,
    },
    regions: BJ,
    // §2.1: 300–8000 px, 1:2.5 to 2.5:1, 10 MB.
    image: ImageLimits { min_side: 300, max_side: 8000, max_aspect: 2.5, max_mb: 10 },
    public_urls_only: true,
    url_hours: 30 * 24,
    watermark_url: true,
    notes: &["UNCONFIRMED: the 4k mode third parties show; not offered"],
};
const KLING_OMNI: ModelSpec = ModelSpec {
    id: "kling/kling-v3-omni-video-generation",
    slots: &[
        slot(Reference, Image, "refer", 7),
        slot(Reference, Video, "feature", 1),
        slot(FirstFrame, Image, "first_frame", 1),
        slot(LastFrame, Image, "last_frame", 1),
    ],
    refs_max: 7,
    images_with_video_max: Some(4),
    mentions: Mentions::Numbered {
        image: "<<<image_{}>>>",
        video: "<<<video_{}>>>",
        cjk_image: "<<<image_{}>>>",
        cjk_video: "<<<video_{}>>>",
        one_counter: false,
    },
    prices: Prices { with_video: Some(row(N, N, N, Some(0.9), Some(1.2))), ..KLING_V3.prices },
    notes: &["INFERENCE: no price for sound with a reference video; the with-video price is used"],
    ..KLING_V3
};

/// The Kling video models.
pub(super) static MODELS: &[ModelSpec] = &[
    // Kling: the video models share 10 (with the two Kling image models).
    KLING_V3, KLING_OMNI,
];
