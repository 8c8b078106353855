//! The models, one entry each. Facts and their sources: `dashscope-video-models.md` (§ numbers
//! below) and, for PixVerse r2v, `dashscope-api.md`. Where a fact is UNCONFIRMED or the sources
//! CONFLICT, the API reference page wins over console metadata, and the entry's `notes` say so.
//!
//! Families share a base entry; each model changes what differs (`..BASE`).

use super::MediaKind::{Audio as Sound, Image, Video};
use super::Role::{DrivingAudio, FirstClip, FirstFrame, LastFrame, Reference};
use super::Tier::{P360, P480, P540, P720, P1080};
use super::sizes::*;
use super::{
    Audio, Durations, Endpoint, Kind, Layout, Mentions, ModelSpec, N, PoolRule, PriceRow, Prices, Role, Shape, Slot,
    SrType, Tier, UsageShape,
};
use crate::manifest::Region::{self, ApSoutheast1, CnBeijing};

/// The c1 reference-to-video model.
pub const C1_R2V: &str = "pixverse/pixverse-c1-r2v";
/// The v5.6 reference-to-video model.
pub const V56_R2V: &str = "pixverse/pixverse-v5.6-r2v";

const BJ: &[Region] = &[CnBeijing];
const BJ_SG: &[Region] = &[CnBeijing, ApSoutheast1];

const fn row(
    p360: Option<f64>,
    p480: Option<f64>,
    p540: Option<f64>,
    p720: Option<f64>,
    p1080: Option<f64>,
) -> PriceRow {
    [p360, p480, p540, p720, p1080]
}

/// One price whatever the sound (the row for both).
const fn flat(r: PriceRow) -> Prices {
    Prices { silent: r, audio: r, with_video: None, billed_ref_video_max: None, intl: None }
}

const fn slot(role: Role, kind: super::MediaKind, wire: &'static str, max: u8) -> Slot {
    Slot { role, kind, wire, max }
}

const ALL_PV_TIERS: &[Tier] = &[P360, P540, P720, P1080];
const HD: &[Tier] = &[P720, P1080];
const RATIOS_5: &[&str] = &["16:9", "9:16", "1:1", "4:3", "3:4"];
const RATIOS_HH: &[&str] = &["16:9", "9:16", "3:4", "4:3", "4:5", "5:4", "1:1", "9:21", "21:9"];

const I2V: &[&[Role]] = &[&[FirstFrame]];
const KF2V: &[&[Role]] = &[&[FirstFrame], &[LastFrame]];

// ---- PixVerse (dashscope-api.md §1, §6, §8; dashscope-video-models.md §3–§5) ----------------

const PV_USAGE: UsageShape =
    UsageShape { seconds_field: "duration", sr: Some(SrType::Str), in_out: false, output_seconds: false };
const V56_SHORT: &[u32] = &[5, 8, 10];
const V56_1080: &[u32] = &[5, 8];
const V56_DURATIONS: Durations = Durations::PerTier([V56_SHORT, &[], V56_SHORT, V56_SHORT, V56_1080]);
const C1_PRICES: Prices = Prices {
    silent: row(Some(0.18), N, Some(0.24), Some(0.30), Some(0.56)),
    audio: row(Some(0.24), N, Some(0.30), Some(0.39), Some(0.71)),
    with_video: None,
    billed_ref_video_max: None,
    intl: None,
};
const V56_PRICES: Prices = Prices {
    silent: row(Some(0.21), N, Some(0.21), Some(0.27), Some(0.44)),
    audio: row(Some(0.47), N, Some(0.47), Some(0.53), Some(0.70)),
    ..C1_PRICES
};
const V6_PRICES: Prices = Prices {
    silent: row(Some(0.15), N, Some(0.21), Some(0.27), Some(0.53)),
    audio: row(Some(0.21), N, Some(0.27), Some(0.36), Some(0.68)),
    ..C1_PRICES
};
const C1_POOL: PoolRule = PoolRule::Shared { name: "c1", slots: 5 };
const V56_POOL: PoolRule = PoolRule::Shared { name: "v5.6", slots: 5 };
const V6_POOL: PoolRule = PoolRule::Shared { name: "v6", slots: 5 };

const PV_R2V: ModelSpec = ModelSpec {
    id: C1_R2V,
    kind: Kind::R2v,
    endpoint: Endpoint::VideoGeneration,
    layout: Layout::MediaList,
    slots: &[slot(Reference, Image, "image_url", 7)],
    refs_min: 1,
    refs_max: 7,
    images_with_video_max: None,
    needs: &[],
    mentions: Mentions::AtName,
    prompt_max: 5000,
    prompt_max_cjk: None,
    shape: Shape::Size(C1_SIZES),
    shape_required: true,
    durations: Durations::Range(1, 15),
    durations_with_video: None,
    audio: Audio::Param { default: false },
    seed: true,
    negative_prompt_max: None,
    prompt_extend: false,
    watermark_default: false,
    pool: C1_POOL,
    submit_rps: 5,
    usage: PV_USAGE,
    prices: C1_PRICES,
    regions: BJ,
    public_urls_only: false,
    url_hours: 24,
    watermark_url: false,
    notes: &[],
};
const PV_T2V: ModelSpec = ModelSpec { kind: Kind::T2v, slots: &[], refs_min: 0, refs_max: 0, ..PV_R2V };
const PV_IT2V: ModelSpec = ModelSpec {
    kind: Kind::I2v,
    slots: &[slot(FirstFrame, Image, "image_url", 1)],
    refs_min: 0,
    refs_max: 0,
    needs: I2V,
    shape: Shape::Resolution { tiers: ALL_PV_TIERS },
    ..PV_R2V
};
const PV_KF2V: ModelSpec = ModelSpec {
    kind: Kind::Kf2v,
    slots: &[slot(FirstFrame, Image, "first_frame", 1), slot(LastFrame, Image, "last_frame", 1)],
    needs: KF2V,
    notes: &[
        "CONFLICT: the Python SDK posts any model named *kf2v* to the image2video endpoint; the PixVerse kf2v API page says video-generation, which pixbatch uses",
    ],
    ..PV_IT2V
};
const PV_SG: &str = "CONFLICT: PixVerse is Beijing-only in the May 2026 pages; an October 2026 page documents r2v in Singapore, so r2v is allowed there (prices there UNCONFIRMED: Beijing's are used)";

// ---- Wan (§2–§4, §6–§8) ---------------------------------------------------------------------

const WAN_USAGE: UsageShape =
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

// ---- HappyHorse (§2–§4) ---------------------------------------------------------------------

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
    shape: Shape::Resolution { tiers: HD },
    ..HH_T2V
};

// ---- Kling (§2–§4, §6–§8) -------------------------------------------------------------------

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

// ---- Vidu (§2–§4, §6–§8) --------------------------------------------------------------------

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
    ..VIDU_I2V
};
const VIDU_T2V: ModelSpec =
    ModelSpec { id: "vidu/viduq3-pro_text2video", kind: Kind::T2v, slots: &[], refs_min: 0, refs_max: 0, ..VIDU_R2V };

/// Every model pixbatch knows.
pub static MODELS: &[ModelSpec] = &[
    // PixVerse: one pool per version across its four modes.
    ModelSpec { regions: BJ_SG, notes: &[PV_SG], ..PV_R2V },
    ModelSpec {
        id: V56_R2V,
        prompt_max: 2048,
        shape: Shape::Size(V56_SIZES),
        durations: V56_DURATIONS,
        prices: V56_PRICES,
        pool: V56_POOL,
        regions: BJ_SG,
        notes: &[PV_SG, "the submit limit is 300 a minute; pixbatch sends at most 5 a second"],
        ..PV_R2V
    },
    ModelSpec {
        id: "pixverse/pixverse-v6-r2v",
        prompt_max: 2048,
        prices: V6_PRICES,
        pool: V6_POOL,
        notes: &[
            "UNCONFIRMED: price (v6-t2v's is used, as third parties report); image count 1–7 (a third party says 2–7)",
        ],
        ..PV_R2V
    },
    ModelSpec { id: "pixverse/pixverse-c1-t2v", ..PV_T2V },
    ModelSpec {
        id: "pixverse/pixverse-v5.6-t2v",
        prompt_max: 2048,
        shape: Shape::Size(V56_T2V_SIZES),
        durations: V56_DURATIONS,
        prices: V56_PRICES,
        pool: V56_POOL,
        ..PV_T2V
    },
    ModelSpec { id: "pixverse/pixverse-v6-t2v", prices: V6_PRICES, pool: V6_POOL, ..PV_T2V },
    ModelSpec { id: "pixverse/pixverse-c1-it2v", ..PV_IT2V },
    ModelSpec {
        id: "pixverse/pixverse-v5.6-it2v",
        prompt_max: 2048,
        durations: V56_DURATIONS,
        prices: V56_PRICES,
        pool: V56_POOL,
        ..PV_IT2V
    },
    ModelSpec { id: "pixverse/pixverse-v6-it2v", prices: V6_PRICES, pool: V6_POOL, ..PV_IT2V },
    ModelSpec { id: "pixverse/pixverse-c1-kf2v", ..PV_KF2V },
    ModelSpec {
        id: "pixverse/pixverse-v5.6-kf2v",
        prompt_max: 2048,
        durations: V56_DURATIONS,
        prices: V56_PRICES,
        pool: V56_POOL,
        ..PV_KF2V
    },
    ModelSpec { id: "pixverse/pixverse-v6-kf2v", prices: V6_PRICES, pool: V6_POOL, ..PV_KF2V },
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
    // HappyHorse: a pool of 5 per model id.
    HH_R2V,
    HH_T2V,
    HH_I2V,
    // Kling: the video models share 10 (with the two Kling image models).
    KLING_V3,
    KLING_OMNI,
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
