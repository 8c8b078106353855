//! PixVerse (`dashscope-api.md` §1, §6, §8; `dashscope-video-models.md` §3–§5): c1, v5.6 and v6,
//! text, first frame, first and last frame, references; one pool of 5 per version.

use super::super::MediaKind::Image;
use super::super::Role::{FirstFrame, LastFrame, Reference};
use super::super::sizes::*;
use super::super::{
    Audio, Durations, Endpoint, Kind, Layout, Mentions, ModelSpec, N, PoolRule, Prices, Shape, SrType, UsageShape,
};
use super::*;

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
    prompt_required: true,
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
    // dashscope-api.md §1.4: each side at most 10000 px, 20 MB; no minimum documented.
    image: ImageLimits { min_side: 1, max_side: 10_000, max_aspect: f64::INFINITY, max_mb: 20 },
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
    prompt_required: false,
    shape: Shape::Resolution { tiers: ALL_PV_TIERS },
    ..PV_R2V
};
const PV_KF2V: ModelSpec = ModelSpec {
    kind: Kind::Kf2v,
    slots: &[slot(FirstFrame, Image, "first_frame", 1), slot(LastFrame, Image, "last_frame", 1)],
    needs: KF2V,
    prompt_required: true,
    notes: &[
        "CONFLICT: the Python SDK posts any model named *kf2v* to the image2video endpoint; the PixVerse kf2v API page says video-generation, which pixbatch uses",
    ],
    ..PV_IT2V
};
const PV_SG: &str = "CONFLICT: PixVerse is Beijing-only in the May 2026 pages; an October 2026 page documents r2v in Singapore, so r2v is allowed there (prices there UNCONFIRMED: Beijing's are used)";

/// A mode's rules (t2v, it2v, kf2v, r2v) at v5.6: its prompt limit, durations, prices, pool.
const fn v56(mode: ModelSpec) -> ModelSpec {
    ModelSpec { prompt_max: 2048, durations: V56_DURATIONS, prices: V56_PRICES, pool: V56_POOL, ..mode }
}

/// A mode's rules at v6: its prices and pool.
const fn v6(mode: ModelSpec) -> ModelSpec {
    ModelSpec { prices: V6_PRICES, pool: V6_POOL, ..mode }
}

/// The PixVerse models.
pub(super) static MODELS: &[ModelSpec] = &[
    // PixVerse: one pool per version across its four modes.
    ModelSpec { regions: BJ_SG, notes: &[PV_SG], ..PV_R2V },
    ModelSpec {
        id: V56_R2V,
        shape: Shape::Size(V56_SIZES),
        regions: BJ_SG,
        notes: &[PV_SG, "the submit limit is 300 a minute; pixbatch sends at most 5 a second"],
        ..v56(PV_R2V)
    },
    ModelSpec {
        id: "pixverse/pixverse-v6-r2v",
        prompt_max: 2048,
        notes: &[
            "UNCONFIRMED: price (v6-t2v's is used, as third parties report); image count 1–7 (a third party says 2–7)",
        ],
        ..v6(PV_R2V)
    },
    ModelSpec { id: "pixverse/pixverse-c1-t2v", ..PV_T2V },
    ModelSpec { id: "pixverse/pixverse-v5.6-t2v", shape: Shape::Size(V56_T2V_SIZES), ..v56(PV_T2V) },
    ModelSpec { id: "pixverse/pixverse-v6-t2v", ..v6(PV_T2V) },
    ModelSpec { id: "pixverse/pixverse-c1-it2v", ..PV_IT2V },
    ModelSpec { id: "pixverse/pixverse-v5.6-it2v", ..v56(PV_IT2V) },
    ModelSpec { id: "pixverse/pixverse-v6-it2v", ..v6(PV_IT2V) },
    ModelSpec { id: "pixverse/pixverse-c1-kf2v", ..PV_KF2V },
    ModelSpec { id: "pixverse/pixverse-v5.6-kf2v", ..v56(PV_KF2V) },
    ModelSpec { id: "pixverse/pixverse-v6-kf2v", ..v6(PV_KF2V) },
];
