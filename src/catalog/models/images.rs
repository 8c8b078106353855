//! The async image models of the ref stage (`dashscope-image-models.md`, § numbers below), and
//! the image models pixbatch refuses.

use super::super::images::{ImageModelSpec, ImageProtocol, ImageShape, NegativePrompt, Refused};
use super::super::{Endpoint, ImageLimits, PoolRule};
use super::{BJ, BJ_SG, WAN_IMAGE};
use crate::manifest::Region;

const SG: &[Region] = &[Region::ApSoutheast1];

/// Wan 2.6 and 2.5 inputs (§2.1, §2.2): 10 MB; the 2.5 edit model reads 384–5000 px a side.
const WAN26_IMAGE: ImageLimits = ImageLimits { max_mb: 10, ..WAN_IMAGE };
const WAN25_IMAGE: ImageLimits = ImageLimits { min_side: 384, max_side: 5000, max_aspect: 8.0, max_mb: 10 };
/// Kling (§2.1): 300–8000 px, 1:2.5–2.5:1, 10 MB, http(s) URLs only.
const KLING_IMAGE: ImageLimits = ImageLimits { min_side: 300, max_side: 8000, max_aspect: 2.5, max_mb: 10 };

/// The smallest side of a square as large as the smallest size wan2.6-t2i and
/// wan2.5-t2i-preview take (see [`T2I_FLOOR_NOTE`]).
const T2I_FLOOR: u32 = 1264;
const T2I_FLOOR_NOTE: &str = "CONFLICT size floor: the May 2026 page says [1280², 1440²] pixels, an older copy [768², 1440²], and the page's own recommended sizes (1104*1472, 1696*960) fall about 1% under 1280²; pixbatch takes 1264² and up, so that those pass.";

/// wan2.7-image (§2.1, §5, §6): messages, 0–9 inputs, `n` 1–4 (default 1; 12 in 组图 mode,
/// which pixbatch does not use), 1K/2K or W*H within [768², 2048²], 5 running, 0.20 CNY.
const WAN27: ImageModelSpec = ImageModelSpec {
    id: "wan2.7-image",
    protocol: ImageProtocol::Messages,
    endpoint: Endpoint::ImageGeneration,
    endpoint_with_images: None,
    inputs_min: 0,
    inputs_max: 9,
    n_max: 4,
    n_default: 1,
    shape: ImageShape::TierOrPixels { tiers: &["1K", "2K"], min_total: 768, max_total: 2048, max_aspect: 8.0 },
    default_size: Some("2K"),
    seed: true,
    negative_prompt: NegativePrompt::None,
    prompt_extend: false,
    prompt_max: 5000,
    image: WAN_IMAGE,
    public_urls_only: false,
    pool: PoolRule::PerModel { slots: 5 },
    submit_rps: 5,
    price: 0.20,
    price_intl: Some(0.220177),
    regions: BJ_SG,
    url_hours: 24,
    notes: &[
        "CONFLICT `thinking_mode`: the HTTP page types it as a boolean, the SDK as fast/balanced/quality; pixbatch does not send it (the service's default applies).",
        "The 组图 mode (`enable_sequential`, n up to 12 by default) is not used: its count is up to the model.",
    ],
};

/// Every async image model pixbatch knows.
pub static MODELS: [ImageModelSpec; 17] = [
    WAN27,
    // wan2.7-image-pro (§2.1, §6): 4K and [768², 4096²] for text-to-image only; 0.50 CNY.
    ImageModelSpec {
        id: "wan2.7-image-pro",
        shape: ImageShape::TierOrPixels {
            tiers: &["1K", "2K", "4K"],
            min_total: 768,
            max_total: 4096,
            max_aspect: 8.0,
        },
        price: 0.50,
        price_intl: Some(0.562065),
        notes: &[
            "4K and sizes over 2048² are for text-to-image only; with input images the service caps at 2K (pixbatch does not check this).",
        ],
        ..WAN27
    },
    // wan2.6-image (§2.1): edit mode, 1–4 input images required, `n` default 4.
    ImageModelSpec {
        id: "wan2.6-image",
        inputs_min: 1,
        inputs_max: 4,
        n_default: 4,
        shape: ImageShape::TierOrPixels { tiers: &["1K", "2K"], min_total: 768, max_total: 2048, max_aspect: 4.0 },
        default_size: Some("1K"),
        negative_prompt: NegativePrompt::Parameters,
        prompt_extend: true,
        prompt_max: 2000,
        image: WAN26_IMAGE,
        notes: &["Only the edit mode (`enable_interleave: false`, the default) is used: 1–4 input images."],
        ..WAN27
    },
    // wan2.6-t2i (§2.1, §5): text only, W*H, 1 submit per second in Beijing.
    ImageModelSpec {
        id: "wan2.6-t2i",
        inputs_max: 0,
        n_default: 4,
        shape: ImageShape::Pixels { min_total: T2I_FLOOR, max_total: 1440, max_aspect: 4.0 },
        default_size: Some("1280*1280"),
        negative_prompt: NegativePrompt::Parameters,
        prompt_extend: true,
        prompt_max: 2100,
        submit_rps: 1,
        notes: &[T2I_FLOOR_NOTE],
        ..WAN27
    },
    ImageModelSpec {
        notes: &[T2I_FLOOR_NOTE],
        price_intl: Some(0.220177),
        ..old_t2i("wan2.5-t2i-preview", T2I_FLOOR, 1440, 4.0, "1280*1280", 2000, 5, 0.20)
    },
    old_sides("wan2.2-t2i-plus", 500, 0.20, Some(0.366962), BJ_SG),
    old_sides("wan2.2-t2i-flash", 500, 0.14, Some(0.183481), BJ_SG),
    // Singapore spells the Wan 2.1 ids `wan2.1-…` (§1): one entry per spelling and region.
    old_sides("wanx2.1-t2i-plus", 500, 0.20, None, BJ),
    old_sides("wanx2.1-t2i-turbo", 500, 0.14, None, BJ),
    old_sides("wan2.1-t2i-plus", 500, 0.366962, None, SG),
    old_sides("wan2.1-t2i-turbo", 500, 0.183481, None, SG),
    old_sides("wanx2.0-t2i-turbo", 800, 0.04, None, BJ),
    // wan2.5-i2i-preview (§2.2): the old protocol with `input.images`, ≤ 3.
    ImageModelSpec {
        id: "wan2.5-i2i-preview",
        endpoint: Endpoint::Image2Image,
        endpoint_with_images: Some(Endpoint::Image2Image),
        inputs_min: 1,
        inputs_max: 3,
        shape: ImageShape::Pixels { min_total: 768, max_total: 1280, max_aspect: 4.0 },
        default_size: None,
        image: WAN25_IMAGE,
        price_intl: Some(0.220177),
        notes: &["UNCONFIRMED input aspect limit: the page gives 384–5000 px and 10 MB only; pixbatch checks 1:8–8:1."],
        ..old_t2i("wan2.5-i2i-preview", 768, 1280, 4.0, "", 2000, 5, 0.20)
    },
    // qwen-image-plus, qwen-image (§2.2): async through the old protocol, n must be 1, a fixed
    // set of sizes, 2 running.
    qwen("qwen-image-plus", 0.20, 0.220177),
    qwen("qwen-image", 0.25, 0.256873),
    // Kling (§2.1, §5): messages, URLs only, 1k/2k + aspect_ratio, shares Kling's 10 slots.
    kling("kling/kling-v3-image-generation", 1, &["1k", "2k"]),
    kling("kling/kling-v3-omni-image-generation", 10, &["1k", "2k"]),
];

/// The old protocol's text-to-image models (§2.2): `input.prompt`, `n` 1–4 (default 4), W*H.
#[allow(clippy::too_many_arguments)]
const fn old_t2i(
    id: &'static str,
    min_total: u32,
    max_total: u32,
    max_aspect: f64,
    default_size: &'static str,
    prompt_max: usize,
    slots: u32,
    price: f64,
) -> ImageModelSpec {
    ImageModelSpec {
        id,
        protocol: ImageProtocol::Prompt,
        endpoint: Endpoint::Text2Image,
        endpoint_with_images: None,
        inputs_min: 0,
        inputs_max: 0,
        n_max: 4,
        n_default: 4,
        shape: ImageShape::Pixels { min_total, max_total, max_aspect },
        default_size: Some(default_size),
        seed: true,
        negative_prompt: NegativePrompt::Input,
        prompt_extend: true,
        prompt_max,
        image: WAN_IMAGE,
        public_urls_only: false,
        pool: PoolRule::PerModel { slots },
        submit_rps: slots,
        price,
        price_intl: None,
        regions: BJ_SG,
        url_hours: 24,
        notes: &[],
    }
}

/// Wan 2.2 and older text-to-image (§2.2): each side 512–1440 px, default `1024*1024`.
const fn old_sides(
    id: &'static str,
    prompt_max: usize,
    price: f64,
    price_intl: Option<f64>,
    regions: &'static [Region],
) -> ImageModelSpec {
    ImageModelSpec {
        shape: ImageShape::Sides { min: 512, max: 1440 },
        price_intl,
        regions,
        ..old_t2i(id, 512, 1440, 2.8125, "1024*1024", prompt_max, 2, price)
    }
}

const fn qwen(id: &'static str, price: f64, price_intl: f64) -> ImageModelSpec {
    ImageModelSpec {
        n_max: 1,
        n_default: 1,
        shape: ImageShape::Fixed(&["1664*928", "1472*1104", "1328*1328", "1104*1472", "928*1664"]),
        default_size: Some("1664*928"),
        prompt_max: 800,
        price_intl: Some(price_intl),
        notes: &[
            "CONFLICT `negative_prompt`: the field list puts it in `input`, the curl example in `parameters`; pixbatch follows the field list.",
        ],
        ..old_t2i(id, 928, 1664, 1.8, "1664*928", 800, 2, price)
    }
}

const fn kling(id: &'static str, inputs_max: u8, resolutions: &'static [&'static str]) -> ImageModelSpec {
    ImageModelSpec {
        id,
        protocol: ImageProtocol::Messages,
        endpoint: Endpoint::ImageGeneration,
        endpoint_with_images: None,
        inputs_min: 0,
        inputs_max,
        n_max: 9,
        n_default: 1,
        shape: ImageShape::ResolutionRatio { resolutions, ratios: &["16:9", "9:16", "1:1"] },
        default_size: Some("1k"),
        seed: false,
        negative_prompt: NegativePrompt::None,
        prompt_extend: false,
        prompt_max: 2500,
        image: KLING_IMAGE,
        public_urls_only: true,
        pool: PoolRule::Shared { name: "kling", slots: 10 },
        submit_rps: 5,
        price: 0.20,
        price_intl: None,
        regions: BJ,
        url_hours: 30 * 24,
        notes: &[
            "UNCONFIRMED `seed`: not documented for Kling image; pixbatch does not send one.",
            "The omni model's 4K (0.40 CNY an image) and `series` mode are not offered: one price per model.",
        ],
    }
}

/// Image models that answer only synchronously (§0.2, §2.3), and Vidu's, whose request
/// schema and price are UNCONFIRMED (§2.1, §10).
pub static REFUSED: [Refused; 19] = [
    sync("qwen-image-2.0-pro", "wan2.7-image-pro"),
    sync("qwen-image-2.0-pro-2026-04-22", "wan2.7-image-pro"),
    sync("qwen-image-2.0-pro-2026-03-03", "wan2.7-image-pro"),
    sync("qwen-image-2.0-2026-03-03", "wan2.7-image"),
    sync("qwen-image-max-2025-12-30", "wan2.7-image-pro"),
    sync("qwen-image-plus-2026-01-09", "qwen-image-plus"),
    sync("qwen-image-edit-max-2026-01-16", "wan2.7-image"),
    sync("qwen-image-edit-plus-2025-12-15", "wan2.7-image"),
    sync("qwen-image-edit-plus-2025-10-30", "wan2.7-image"),
    sync("qwen-image-2.0", "wan2.7-image"),
    sync("qwen-image-max", "wan2.7-image-pro"),
    sync("qwen-image-edit-max", "wan2.7-image"),
    sync("qwen-image-edit-plus", "wan2.7-image"),
    sync("qwen-image-edit", "wan2.7-image"),
    sync("z-image-turbo", "wan2.7-image"),
    vidu("vidu/vidu-image_reference2image"),
    vidu("vidu/viduq3-fast_reference2image"),
    vidu("vidu/viduq2-pro_reference2image"),
    vidu("vidu/viduq2-fast_reference2image"),
];

const fn sync(id: &'static str, instead: &'static str) -> Refused {
    Refused {
        id,
        reason: "it answers synchronously only: no task is left to recover after a crash, so a lost answer would be paid again",
        instead,
    }
}

const fn vidu(id: &'static str) -> Refused {
    Refused {
        id,
        reason: "its request fields, workspace host and price are not documented (UNCONFIRMED)",
        instead: "wan2.7-image",
    }
}
