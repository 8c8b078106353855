//! Wan (`dashscope-video-models.md` §2–§4, §6–§8): 2.7, 2.6, 2.5, 2.2, 2.1 and the first/last-frame
//! models on their own endpoint; a pool per model id.

use super::super::MediaKind::{Audio as Sound, Image, Video};
use super::super::Role::{DrivingAudio, FirstClip, FirstFrame, LastFrame, Reference};
use super::super::Tier::{P480, P720, P1080};
use super::super::sizes::*;
use super::super::{
    Audio, Durations, Endpoint, Kind, Layout, Mentions, ModelSpec, N, PoolRule, Prices, Shape, SrType, UsageShape,
};
use super::*;

pub(super) const WAN_USAGE: UsageShape =
    UsageShape { seconds_field: "duration", sr: Some(SrType::Int), in_out: true, output_seconds: false };
const WAN_OLD_USAGE: UsageShape =
    UsageShape { seconds_field: "video_duration", sr: None, in_out: false, output_seconds: false };
const WAN_KF_USAGE: UsageShape =
    UsageShape { seconds_field: "video_duration", sr: Some(SrType::Int), in_out: false, output_seconds: false };
const WAN_I2V_OLD_USAGE: UsageShape =
    UsageShape { seconds_field: "duration", sr: Some(SrType::Int), in_out: false, output_seconds: false };
const WAN_PRICES: Prices =
    Prices { intl: Some(row(N, N, N, Some(0.733924), Some(1.100886))), ..flat(row(N, N, N, Some(0.6), Some(1.0))) };
const WAN_FLASH_PRICES: Prices = Prices {
    silent: row(N, N, N, Some(0.15), Some(0.25)),
    audio: row(N, N, N, Some(0.3), Some(0.5)),
    with_video: None,
    billed_ref_video_max: None,
    intl: Some(row(N, N, N, Some(0.366962), Some(0.550443))),
};
const WAN_FLASH_NOTE: &str =
    "Singapore prices the flash models apart with and without sound; pixbatch estimates with the higher (with sound)";

const WAN27_R2V: ModelSpec = ModelSpec {
    id: "wan2.7-r2v",
    kind: Kind::R2v,
    endpoint: Endpoint::VideoGeneration,
    layout: Layout::MediaList,
    slots: &[
        slot(Reference, Image, "reference_image", 5),
        slot(Reference, Video, "reference_video", 5),
        slot(FirstFrame, Image, "first_frame", 1),
    ],
    refs_min: 1,
    refs_max: 5,
    images_with_video_max: None,
    needs: &[],
    mentions: Mentions::Numbered {
        image: "Image {}",
        video: "Video {}",
        cjk_image: "图{}",
        cjk_video: "视频{}",
        one_counter: false,
    },
    prompt_required: true,
    prompt_max: 5000,
    prompt_max_cjk: None,
    shape: Shape::ResolutionRatio { tiers: HD, ratios: RATIOS_5 },
    shape_required: false,
    durations: Durations::Range(2, 15),
    durations_with_video: Some(Durations::Range(2, 10)),
    audio: Audio::Always,
    seed: true,
    negative_prompt_max: Some(500),
    prompt_extend: true,
    watermark_default: false,
    pool: PoolRule::PerModel { slots: 5 },
    submit_rps: 5,
    usage: WAN_USAGE,
    prices: Prices { billed_ref_video_max: Some(5), ..WAN_PRICES },
    regions: BJ_SG,
    image: WAN_IMAGE,
    public_urls_only: false,
    url_hours: 24,
    watermark_url: false,
    notes: &[
        "CONFLICT: durations 2–15 s (2–10 with a reference video) from the API page; the console widget says 2–10",
        "UNCONFIRMED: whether usage.input_video_duration is already capped at 5 s; pixbatch estimates with the cap",
    ],
};
const WAN27_T2V: ModelSpec = ModelSpec {
    id: "wan2.7-t2v",
    kind: Kind::T2v,
    layout: Layout::Fields,
    slots: &[slot(DrivingAudio, Sound, "audio_url", 1)],
    refs_min: 0,
    refs_max: 0,
    mentions: Mentions::Plain,
    durations_with_video: None,
    prices: WAN_PRICES,
    notes: &[],
    ..WAN27_R2V
};
const WAN27_I2V: ModelSpec = ModelSpec {
    id: "wan2.7-i2v",
    kind: Kind::I2v,
    layout: Layout::MediaList,
    slots: &[
        slot(FirstFrame, Image, "first_frame", 1),
        slot(LastFrame, Image, "last_frame", 1),
        slot(DrivingAudio, Sound, "driving_audio", 1),
        slot(FirstClip, Video, "first_clip", 1),
    ],
    needs: &[&[FirstFrame, FirstClip]],
    prompt_required: false,
    shape: Shape::Resolution { tiers: HD },
    ..WAN27_T2V
};
const WAN26_R2V: ModelSpec = ModelSpec {
    id: "wan2.6-r2v",
    layout: Layout::UrlList("reference_urls"),
    slots: &[slot(Reference, Image, "reference_urls", 5), slot(Reference, Video, "reference_urls", 3)],
    mentions: Mentions::Numbered {
        image: "character{}",
        video: "character{}",
        cjk_image: "character{}",
        cjk_video: "character{}",
        one_counter: true,
    },
    prompt_max: 1500,
    shape: Shape::Size(WAN26_SIZES),
    durations: Durations::Range(2, 10),
    durations_with_video: None,
    prompt_extend: false,
    notes: &[
        "UNCONFIRMED: prompt_extend for r2v (not documented; not sent)",
        "UNCONFIRMED: how billed reference-video seconds split across several videos; pixbatch counts each video up to 5 s in all",
    ],
    ..WAN27_R2V
};
const WAN26_T2V: ModelSpec = ModelSpec {
    id: "wan2.6-t2v",
    prompt_max: 1500,
    shape: Shape::Size(WAN26_SIZES),
    slots: &[slot(DrivingAudio, Sound, "audio_url", 1)],
    ..WAN27_T2V
};
const WAN26_I2V: ModelSpec = ModelSpec {
    id: "wan2.6-i2v",
    kind: Kind::I2v,
    layout: Layout::Fields,
    slots: &[slot(FirstFrame, Image, "img_url", 1), slot(DrivingAudio, Sound, "audio_url", 1)],
    needs: I2V,
    prompt_required: false,
    prompt_max: 1500,
    shape: Shape::Resolution { tiers: HD },
    ..WAN27_T2V
};
const WAN25_T2V: ModelSpec = ModelSpec {
    id: "wan2.5-t2v-preview",
    shape: Shape::Size(WAN25_SIZES),
    durations: Durations::List(&[5, 10]),
    usage: WAN_OLD_USAGE,
    prices: Prices {
        intl: Some(row(N, Some(0.366961), N, Some(0.733923), Some(1.100885))),
        ..flat(row(N, Some(0.3), N, Some(0.6), Some(1.0)))
    },
    ..WAN26_T2V
};
const WAN25_I2V: ModelSpec = ModelSpec {
    id: "wan2.5-i2v-preview",
    shape: Shape::Resolution { tiers: &[P480, P720, P1080] },
    durations: Durations::List(&[5, 10]),
    usage: WAN_I2V_OLD_USAGE,
    prices: WAN25_T2V.prices,
    ..WAN26_I2V
};
/// Wan 2.2 and 2.1: silent, 2 tasks at a time, 2 creates a second, prompts of 800.
const WAN22_T2V: ModelSpec = ModelSpec {
    id: "wan2.2-t2v-plus",
    slots: &[],
    prompt_max: 800,
    shape: Shape::Size(WAN22_SIZES),
    durations: Durations::List(&[5]),
    audio: Audio::Never,
    pool: PoolRule::PerModel { slots: 2 },
    submit_rps: 2,
    usage: WAN_OLD_USAGE,
    prices: flat(row(N, Some(0.14), N, N, Some(0.70))),
    ..WAN26_T2V
};
const WAN22_I2V: ModelSpec = ModelSpec {
    id: "wan2.2-i2v-plus",
    // §4: 2.2 and 2.1 take images of at most 10 MB.
    image: ImageLimits { max_mb: 10, ..WAN_IMAGE },
    slots: &[slot(FirstFrame, Image, "img_url", 1)],
    prompt_max: 800,
    shape: Shape::Resolution { tiers: &[P480, P1080] },
    durations: Durations::List(&[5]),
    audio: Audio::Never,
    pool: PoolRule::PerModel { slots: 2 },
    submit_rps: 2,
    usage: WAN_I2V_OLD_USAGE,
    prices: WAN22_T2V.prices,
    ..WAN26_I2V
};
const WAN_KF2V: ModelSpec = ModelSpec {
    id: "wan2.2-kf2v-flash",
    kind: Kind::Kf2v,
    endpoint: Endpoint::Image2Video,
    slots: &[slot(FirstFrame, Image, "first_frame_url", 1), slot(LastFrame, Image, "last_frame_url", 1)],
    needs: KF2V,
    shape: Shape::Resolution { tiers: &[P480, P720, P1080] },
    usage: WAN_KF_USAGE,
    prices: flat(row(N, Some(0.10), N, Some(0.20), Some(0.48))),
    regions: BJ,
    notes: &[
        "the API page makes last_frame_url optional; pixbatch requires it for a kf2v model (without it, use an i2v model)",
    ],
    ..WAN22_I2V
};
const SNAPSHOT_NOTE: &str = "UNCONFIRMED: a June 2026 snapshot known from release notes only (\"same abilities\"); the undated model's rules are used";
const WAN21_NOTE: &str = "Singapore names this model wan2.1-…; the wanx2.1 id is Beijing only";

/// The Wan models.
pub(super) static MODELS: &[ModelSpec] = &[
    // Wan 2.7: a pool of 5 per model id; dated snapshots have the same rules.
    WAN27_R2V,
    ModelSpec { id: "wan2.7-r2v-2026-06-12", notes: &[SNAPSHOT_NOTE], ..WAN27_R2V },
    WAN27_T2V,
    ModelSpec { id: "wan2.7-t2v-2026-04-25", ..WAN27_T2V },
    ModelSpec { id: "wan2.7-t2v-2026-06-12", notes: &[SNAPSHOT_NOTE], ..WAN27_T2V },
    WAN27_I2V,
    ModelSpec { id: "wan2.7-i2v-2026-04-25", ..WAN27_I2V },
    // Wan 2.6.
    WAN26_R2V,
    ModelSpec {
        id: "wan2.6-r2v-flash",
        audio: Audio::Param { default: true },
        prices: Prices { billed_ref_video_max: Some(5), ..WAN_FLASH_PRICES },
        notes: &[WAN_FLASH_NOTE],
        ..WAN26_R2V
    },
    WAN26_T2V,
    WAN26_I2V,
    ModelSpec {
        id: "wan2.6-i2v-flash",
        audio: Audio::Param { default: true },
        prices: WAN_FLASH_PRICES,
        notes: &[WAN_FLASH_NOTE],
        ..WAN26_I2V
    },
    // Wan 2.5, 2.2, 2.1.
    WAN25_T2V,
    WAN25_I2V,
    WAN22_T2V,
    WAN22_I2V,
    ModelSpec {
        id: "wan2.2-i2v-flash",
        shape: Shape::Resolution { tiers: &[P480, P720, P1080] },
        prices: flat(row(N, Some(0.10), N, Some(0.20), Some(0.48))),
        ..WAN22_I2V
    },
    ModelSpec {
        id: "wanx2.1-t2v-turbo",
        shape: Shape::Size(WAN21_TURBO_SIZES),
        usage: WAN_OLD_USAGE,
        prices: flat(row(N, Some(0.24), N, Some(0.24), N)),
        regions: BJ,
        notes: &[WAN21_NOTE],
        ..WAN22_T2V
    },
    ModelSpec {
        id: "wanx2.1-t2v-plus",
        shape: Shape::Size(WAN21_PLUS_SIZES),
        prices: flat(row(N, N, N, Some(0.70), N)),
        regions: BJ,
        notes: &[WAN21_NOTE],
        ..WAN22_T2V
    },
    ModelSpec {
        id: "wanx2.1-i2v-turbo",
        shape: Shape::Resolution { tiers: &[P480, P720] },
        durations: Durations::List(&[3, 4, 5]),
        usage: WAN_OLD_USAGE,
        prices: flat(row(N, Some(0.24), N, Some(0.24), N)),
        regions: BJ,
        notes: &[WAN21_NOTE],
        ..WAN22_I2V
    },
    ModelSpec {
        id: "wanx2.1-i2v-plus",
        shape: Shape::Resolution { tiers: &[P720] },
        usage: WAN_OLD_USAGE,
        prices: flat(row(N, N, N, Some(0.70), N)),
        regions: BJ,
        notes: &[WAN21_NOTE],
        ..WAN22_I2V
    },
    // Wan first and last frame: their own endpoint.
    WAN_KF2V,
    ModelSpec {
        id: "wanx2.1-kf2v-plus",
        shape: Shape::Resolution { tiers: &[P720] },
        prices: flat(row(N, N, N, Some(0.70), N)),
        notes: &[WAN21_NOTE],
        ..WAN_KF2V
    },
];
