//! Every async DashScope image model's rules, pinned against the facts document
//! `dashscope-image-models.md` (§ numbers below), not against the catalog's data.
//!
//! The client and the fake both read the same table (`catalog/models/images.rs`), so a wrong
//! entry passes both. These tests restate each fact from the document. Where the document
//! marks a fact CONFLICT or UNCONFIRMED, the catalog may choose; there the test asks for a
//! note that names the choice rather than for a value, and says which source it follows.
//!

use pixbatch::catalog::images::{
    DEFAULT_IMAGE_MODEL, ImageModelSpec, ImageProtocol, ImageShape, NegativePrompt, image_lookup, image_models, refused,
};
use pixbatch::catalog::{Endpoint, Family, PoolRule, lookup, models, url_lifetime};
use pixbatch::manifest::Region::{self, ApSoutheast1, CnBeijing};

/// §0.1, §1: the two async create paths (relative to the base URL).
const MESSAGES_PATH: &str = "api/v1/services/aigc/image-generation/generation";
const T2I_PATH: &str = "api/v1/services/aigc/text2image/image-synthesis";
const I2I_PATH: &str = "api/v1/services/aigc/image2image/image-synthesis";

/// The async image models §1 lists with a documented request schema (Vidu image is left out:
/// its parameters are UNCONFIRMED, §2.1).
/// §1: the async models, with Singapore's own spelling of the Wan 2.1 ids.
const ASYNC_MODELS: [&str; 17] = [
    "wan2.7-image-pro",
    "wan2.7-image",
    "wan2.6-image",
    "wan2.6-t2i",
    "wan2.5-t2i-preview",
    "wan2.2-t2i-plus",
    "wan2.2-t2i-flash",
    "wanx2.1-t2i-plus",
    "wanx2.1-t2i-turbo",
    "wan2.1-t2i-plus",
    "wan2.1-t2i-turbo",
    "wanx2.0-t2i-turbo",
    "wan2.5-i2i-preview",
    "qwen-image-plus",
    "qwen-image",
    "kling/kling-v3-image-generation",
    "kling/kling-v3-omni-image-generation",
];

const KLING_IMAGE: [&str; 2] = ["kling/kling-v3-image-generation", "kling/kling-v3-omni-image-generation"];

/// The old-protocol Wan text-to-image models at and below 2.2 (§2.2: default `1024*1024`, each
/// side 512–1440; §5: 2 / 2).
const OLD_WAN_T2I: [&str; 5] =
    ["wan2.2-t2i-plus", "wan2.2-t2i-flash", "wanx2.1-t2i-plus", "wanx2.1-t2i-turbo", "wanx2.0-t2i-turbo"];

fn spec(id: &str) -> &'static ImageModelSpec {
    image_lookup(id).unwrap_or_else(|| panic!("{id} is not in the image catalog"))
}

fn accepts(id: &str, sizes: &[&str]) {
    let s = spec(id);
    for size in sizes {
        assert!(s.check_size(size).is_ok(), "{id} must accept size {size}: {:?}", s.check_size(size));
    }
}

fn refuses(id: &str, sizes: &[&str]) {
    let s = spec(id);
    for size in sizes {
        let err = s.check_size(size).expect_err(&format!("{id} must refuse size {size}"));
        assert!(!err.is_empty(), "{id}: refusing {size} must say what is allowed");
    }
}

/// A note that mentions every word (case-insensitive).
fn has_note(s: &ImageModelSpec, words: &[&str]) -> bool {
    s.notes.iter().any(|n| {
        let n = n.to_lowercase();
        words.iter().all(|w| n.contains(&w.to_lowercase()))
    })
}

fn price(id: &str, region: Region) -> f64 {
    spec(id).price_in(region)
}

fn assert_price(id: &str, beijing: f64, singapore: Option<f64>) {
    let bj = price(id, CnBeijing);
    assert!((bj - beijing).abs() < 1e-9, "{id}: Beijing price {bj}, the pricing page says {beijing}");
    if let Some(sg) = singapore {
        let got = price(id, ApSoutheast1);
        assert!((got - sg).abs() < 1e-9, "{id}: Singapore price {got}, the pricing page says {sg}");
    }
}

fn assert_pool(id: &str, slots: u32) {
    let family = spec(id).family();
    assert_eq!(family.service_slots(), Some(slots), "{id}: running tasks");
    assert_eq!(family.name(), id, "{id}: an image pool is the model's own (§11.5)");
}

// ---------------------------------------------------------------------------------------------
// The catalogue as a whole (§0, §1, §9).

#[test]
fn every_documented_async_image_model_is_known() {
    for id in ASYNC_MODELS {
        assert!(image_lookup(id).is_some(), "{id} is missing from the image catalog");
        assert!(refused(id).is_none(), "{id} is async (§1) and must not be refused");
        assert!(lookup(id).is_none(), "{id} is an image model, not a video model");
    }
    // No unlisted model may slip in with a guessed schema (Vidu image is UNCONFIRMED, §2.1;
    // the third-party `wan2.7-t2i-pro` has no first-party source, §9).
    for s in image_models() {
        assert!(ASYNC_MODELS.contains(&s.id), "{} is in the image catalog but not among the documented ones", s.id);
    }
    assert!(image_lookup("wan2.7-t2i-pro").is_none());
}

#[test]
fn a_ref_without_a_model_uses_wan27_image() {
    assert_eq!(DEFAULT_IMAGE_MODEL, "wan2.7-image");
    assert!(image_lookup(DEFAULT_IMAGE_MODEL).is_some());
}

#[test]
fn retired_flux_is_not_an_image_model() {
    // §0.8, §1, §9: retired 2026-03-30.
    for id in ["flux-schnell", "flux-dev", "flux-merged"] {
        assert!(image_lookup(id).is_none(), "{id} was retired and must not be offered");
        assert!(lookup(id).is_none(), "{id} is not a video model either");
    }
}

#[test]
fn sync_only_qwen_and_z_image_models_are_refused_with_a_reason() {
    // §0.2, §1, §2.3: no task shape, so a crash loses the call.
    for id in [
        "qwen-image-2.0-pro",
        "qwen-image-2.0",
        "qwen-image-max",
        "qwen-image-edit-max",
        "qwen-image-edit-plus",
        "qwen-image-edit",
        "z-image-turbo",
    ] {
        let r = refused(id).unwrap_or_else(|| panic!("{id} is sync only and must be refused"));
        assert_eq!(r.id, id);
        assert!(!r.reason.trim().is_empty(), "{id}: refused without a reason");
        assert!(image_lookup(id).is_none(), "{id} is sync only, not an async image model");
        assert!(image_lookup(r.instead).is_some(), "{id}: suggests {}, which is not an async image model", r.instead);
    }
}

#[test]
fn dated_snapshots_of_sync_only_qwen_models_are_refused_too() {
    // §1: the sync-only rows list these snapshots; `qwen-image-plus-2026-01-09` is sync only
    // although `qwen-image-plus` itself is async.
    for id in [
        "qwen-image-2.0-pro-2026-04-22",
        "qwen-image-2.0-pro-2026-03-03",
        "qwen-image-2.0-2026-03-03",
        "qwen-image-max-2025-12-30",
        "qwen-image-plus-2026-01-09",
        "qwen-image-edit-max-2026-01-16",
        "qwen-image-edit-plus-2025-12-15",
        "qwen-image-edit-plus-2025-10-30",
    ] {
        assert!(image_lookup(id).is_none(), "{id} is sync only");
        let r = refused(id).unwrap_or_else(|| panic!("{id} is sync only and must be refused"));
        assert!(!r.reason.trim().is_empty(), "{id}: refused without a reason");
    }
}

#[test]
fn endpoint_paths_are_the_documented_ones() {
    // §0.1, §1.
    assert_eq!(Endpoint::ImageGeneration.path(), MESSAGES_PATH);
    assert_eq!(Endpoint::Text2Image.path(), T2I_PATH);
    assert_eq!(Endpoint::Image2Image.path(), I2I_PATH);
}

#[test]
fn every_image_model_has_a_default_size_it_accepts_itself() {
    for s in image_models() {
        if let Some(size) = s.default_size {
            assert!(s.check_size(size).is_ok(), "{}: its own default size {size} is refused", s.id);
        }
        assert!(
            s.n_default >= 1 && s.n_default <= s.n_max,
            "{}: n default {} beyond 1..={}",
            s.id,
            s.n_default,
            s.n_max
        );
        assert!(s.inputs_min <= s.inputs_max, "{}", s.id);
    }
}

// ---------------------------------------------------------------------------------------------
// Wan 2.7 image (§1, §2.1, §4, §5, §6, §7): the messages protocol, 0–9 images.

#[test]
fn wan27_image_takes_up_to_nine_references_and_makes_one_image_by_default() {
    for id in ["wan2.7-image-pro", "wan2.7-image"] {
        let s = spec(id);
        assert_eq!(s.protocol, ImageProtocol::Messages, "{id}");
        assert_eq!(s.endpoint_for(0).path(), MESSAGES_PATH, "{id}");
        assert_eq!(s.endpoint_for(9).path(), MESSAGES_PATH, "{id}");
        assert_eq!((s.inputs_min, s.inputs_max), (0, 9), "{id}: 0–9 input images");
        // Outside 组图 mode: 1–4, default 1 (组图 is 1–12, default 12; not used by a ref).
        assert_eq!((s.n_max, s.n_default), (4, 1), "{id}: n");
        assert_eq!(s.prompt_max, 5000, "{id}");
        // `negative_prompt` is not documented for 2.7 ([MS:IMGGUIDE] sends it to qwen).
        assert_eq!(s.negative_prompt, NegativePrompt::None, "{id}");
        // The rewrite switch is `thinking_mode`, not `prompt_extend`.
        assert!(!s.prompt_extend, "{id}: 2.7 has no prompt_extend");
        assert!(s.seed, "{id}");
        // Input images: 240–8000 px, 1:8–8:1, ≤ 20 MB, URL or base64.
        assert_eq!((s.image.min_side, s.image.max_side, s.image.max_mb), (240, 8000, 20), "{id}");
        assert!((s.image.max_aspect - 8.0).abs() < 1e-9, "{id}");
        assert!(!s.public_urls_only, "{id}: base64 data URIs are accepted");
    }
}

#[test]
fn wan27_image_sizes_are_1k_2k_or_pixels_up_to_2048_squared_within_1_to_8() {
    let id = "wan2.7-image";
    assert!(matches!(spec(id).shape, ImageShape::TierOrPixels { .. }));
    accepts(id, &["1K", "2K", "768*768", "2048*2048", "1280*720", "720*1280", "512*4096", "4096*512"]);
    // 4K is pro-only; below 768², above 2048², beyond 1:8.
    refuses(id, &["4K", "3K", "767*767", "2049*2049", "4096*4096", "480*4320", "4320*480", "big"]);
}

#[test]
fn wan27_image_pro_alone_makes_4k_text_to_image() {
    let id = "wan2.7-image-pro";
    assert!(matches!(spec(id).shape, ImageShape::TierOrPixels { .. }));
    // Pro t2i: `4K`, total up to 4096².
    accepts(id, &["1K", "2K", "4K", "768*768", "2048*2048", "4096*4096", "512*4096"]);
    refuses(id, &["8K", "767*767", "4097*4097", "480*4320"]);
    // 4K and > 2048² only without input images and outside 组图: one shape cannot say that.
    assert!(has_note(spec(id), &["4K"]), "{id}: a note must say 4K is for text-to-image only");
}

#[test]
fn wan27_image_pro_costs_half_a_yuan_and_wan27_image_a_fifth() {
    assert_price("wan2.7-image-pro", 0.50, Some(0.562065));
    assert_price("wan2.7-image", 0.20, Some(0.220177));
}

#[test]
fn wan27_image_runs_five_at_a_time_in_beijing_and_singapore() {
    for id in ["wan2.7-image-pro", "wan2.7-image"] {
        assert_pool(id, 5);
        assert_eq!(spec(id).submit_rps, 5, "{id}");
        assert_eq!(spec(id).regions, &[CnBeijing, ApSoutheast1], "{id}");
    }
}

// ---------------------------------------------------------------------------------------------
// Wan 2.6 image (§2.1 edit mode, §5, §6).

#[test]
fn wan26_image_needs_one_to_four_images_and_defaults_to_four_images() {
    let id = "wan2.6-image";
    let s = spec(id);
    assert_eq!(s.protocol, ImageProtocol::Messages);
    assert_eq!(s.endpoint_for(1).path(), MESSAGES_PATH);
    assert_eq!(s.endpoint_for(4).path(), MESSAGES_PATH);
    // Edit mode (`enable_interleave=false`, the default): 1–4 images required.
    assert_eq!((s.inputs_min, s.inputs_max), (1, 4));
    assert_eq!((s.n_max, s.n_default), (4, 4));
    assert_eq!(s.prompt_max, 2000);
    assert_eq!(s.negative_prompt, NegativePrompt::Parameters);
    assert!(s.prompt_extend);
    assert!(s.seed);
    // 240–8000 px, ≤ 10 MB (not 20 as for 2.7), URL or base64.
    assert_eq!((s.image.min_side, s.image.max_side, s.image.max_mb), (240, 8000, 10));
    assert!(!s.public_urls_only);
    assert_pool(id, 5);
    assert_eq!(s.submit_rps, 5);
    assert_price(id, 0.20, Some(0.220177));
    assert_eq!(s.regions, &[CnBeijing, ApSoutheast1]);
}

#[test]
fn wan26_image_sizes_are_1k_2k_or_pixels_up_to_2048_squared_within_1_to_4() {
    let id = "wan2.6-image";
    assert!(matches!(spec(id).shape, ImageShape::TierOrPixels { .. }));
    accepts(id, &["1K", "2K", "768*768", "1280*1280", "2048*2048", "768*3072", "3072*768"]);
    refuses(id, &["4K", "767*767", "2049*2049", "600*3000", "3000*600"]);
}

// ---------------------------------------------------------------------------------------------
// Wan 2.6 t2i (§2.1, §5, §6).

#[test]
fn wan26_t2i_refuses_input_images_and_defaults_to_four_images() {
    let id = "wan2.6-t2i";
    let s = spec(id);
    assert_eq!(s.protocol, ImageProtocol::Messages);
    assert_eq!(s.endpoint_for(0).path(), MESSAGES_PATH);
    assert_eq!((s.inputs_min, s.inputs_max), (0, 0), "text only");
    assert_eq!((s.n_max, s.n_default), (4, 4));
    assert_eq!(s.prompt_max, 2100);
    assert_eq!(s.negative_prompt, NegativePrompt::Parameters);
    assert!(s.prompt_extend);
    assert!(s.seed);
    assert_price(id, 0.20, Some(0.220177));
    assert_eq!(s.regions, &[CnBeijing, ApSoutheast1]);
}

#[test]
fn wan26_t2i_submits_one_task_a_second_in_beijing_and_runs_five() {
    // §5: Beijing 1 / 5 ([MKT] count_limit 1 per 1 s); the tighter limit governs.
    assert_eq!(spec("wan2.6-t2i").submit_rps, 1);
    assert_pool("wan2.6-t2i", 5);
}

#[test]
fn wan26_t2i_takes_its_recommended_sizes_and_refuses_tiers_and_small_totals() {
    let id = "wan2.6-t2i";
    assert!(matches!(spec(id).shape, ImageShape::Pixels { .. }), "W*H only");
    // The page's own recommended sizes and its 1:4 example.
    accepts(id, &["1280*1280", "1104*1472", "1472*1104", "960*1696", "1696*960", "768*2700", "1440*1440"]);
    assert_eq!(spec(id).default_size, Some("1280*1280"));
    refuses(id, &["1K", "2K", "1024*1024", "1441*1441", "600*3000", "3000*600", "1280x1280"]);
    // CONFLICT (§2.1): the May 2026 page says a 1280² floor, an older copy 768². The catalog
    // takes 1264² so that the page's own 1104*1472 and 1696*960 pass; a note must say so.
    assert!(has_note(spec(id), &["1264"]), "{id}: the size-floor CONFLICT must be noted");
}

// ---------------------------------------------------------------------------------------------
// Wan 2.5 t2i preview (§2.2 old protocol, §5, §6).

#[test]
fn wan25_t2i_posts_a_prompt_to_text2image_and_defaults_to_four_images() {
    let id = "wan2.5-t2i-preview";
    let s = spec(id);
    assert_eq!(s.protocol, ImageProtocol::Prompt);
    assert_eq!(s.endpoint_for(0).path(), T2I_PATH);
    assert_eq!((s.inputs_min, s.inputs_max), (0, 0));
    assert_eq!((s.n_max, s.n_default), (4, 4));
    assert_eq!(s.prompt_max, 2000);
    assert_eq!(s.negative_prompt, NegativePrompt::Input);
    assert!(s.prompt_extend);
    assert!(s.seed);
    assert_pool(id, 5);
    assert_eq!(s.submit_rps, 5);
    assert_price(id, 0.20, None);
    assert_eq!(s.regions, &[CnBeijing, ApSoutheast1]);
}

#[test]
fn wan25_t2i_takes_the_recommended_sizes_and_refuses_small_totals() {
    let id = "wan2.5-t2i-preview";
    assert!(matches!(spec(id).shape, ImageShape::Pixels { .. }));
    accepts(id, &["1280*1280", "1104*1472", "1696*960", "960*1696", "1440*1440", "768*2700"]);
    assert_eq!(spec(id).default_size, Some("1280*1280"));
    refuses(id, &["1K", "1024*1024", "1441*1441", "600*3000"]);
    // The same 1264² choice as wan2.6-t2i (§2.2 says [1280², 1440²]).
    assert!(has_note(spec(id), &["1264"]), "{id}: the size-floor choice must be noted");
}

// ---------------------------------------------------------------------------------------------
// Wan ≤ 2.2 t2i (§2.2, §5, §6).

#[test]
fn old_wan_t2i_defaults_to_four_1024_square_images_and_runs_two_at_a_time() {
    for id in OLD_WAN_T2I {
        let s = spec(id);
        assert_eq!(s.protocol, ImageProtocol::Prompt, "{id}");
        assert_eq!(s.endpoint_for(0).path(), T2I_PATH, "{id}");
        assert_eq!((s.inputs_min, s.inputs_max), (0, 0), "{id}");
        assert_eq!((s.n_max, s.n_default), (4, 4), "{id}");
        assert_eq!(s.negative_prompt, NegativePrompt::Input, "{id}");
        assert!(s.prompt_extend, "{id}");
        assert!(s.seed, "{id}");
        assert_eq!(s.default_size, Some("1024*1024"), "{id}");
        assert_pool(id, 2);
        assert_eq!(s.submit_rps, 2, "{id}");
    }
}

#[test]
fn old_wan_t2i_prompts_are_500_chars_and_wanx20_800() {
    for id in ["wan2.2-t2i-plus", "wan2.2-t2i-flash", "wanx2.1-t2i-plus", "wanx2.1-t2i-turbo"] {
        assert_eq!(spec(id).prompt_max, 500, "{id}");
    }
    assert_eq!(spec("wanx2.0-t2i-turbo").prompt_max, 800);
}

#[test]
fn old_wan_t2i_sizes_are_512_to_1440_a_side() {
    for id in OLD_WAN_T2I {
        accepts(id, &["1024*1024", "512*512", "1440*1440", "512*1440", "1440*512", "1280*720"]);
        refuses(id, &["1K", "1441*1441", "2048*512", "400*2000", "300*300"]);
    }
}

#[test]
fn old_wan_t2i_refuses_a_side_under_512_or_over_1440() {
    for id in OLD_WAN_T2I {
        refuses(id, &["511*1024", "1024*511", "1441*1024", "1024*1441", "1600*800"]);
    }
}

#[test]
fn old_wan_t2i_prices_plus_a_fifth_flash_and_turbo_less() {
    // Beijing (§6); Singapore is pinned by `old_protocol_models_cost_more_in_singapore`.
    assert_price("wan2.2-t2i-plus", 0.20, None);
    assert_price("wan2.2-t2i-flash", 0.14, None);
    assert_price("wanx2.1-t2i-plus", 0.20, None);
    assert_price("wanx2.1-t2i-turbo", 0.14, None);
    assert_price("wanx2.0-t2i-turbo", 0.04, None);
    for id in ["wan2.2-t2i-plus", "wan2.2-t2i-flash"] {
        assert_eq!(spec(id).regions, &[CnBeijing, ApSoutheast1], "{id}");
    }
    // §1: the Wan 2.1 ids are spelt `wanx2.1-…` in Beijing and `wan2.1-…` in Singapore.
    for id in ["wanx2.1-t2i-plus", "wanx2.1-t2i-turbo"] {
        assert_eq!(spec(id).regions, &[CnBeijing], "{id}");
    }
    for id in ["wan2.1-t2i-plus", "wan2.1-t2i-turbo"] {
        assert_eq!(spec(id).regions, &[ApSoutheast1], "{id}");
    }
}

#[test]
fn old_protocol_models_cost_more_in_singapore() {
    // §6, Singapore column.
    assert_price("wan2.5-t2i-preview", 0.20, Some(0.220177));
    assert_price("wan2.2-t2i-plus", 0.20, Some(0.366962));
    assert_price("wan2.2-t2i-flash", 0.14, Some(0.183481));
    // Singapore's spelling of the Wan 2.1 ids (§1).
    assert!((price("wan2.1-t2i-plus", ApSoutheast1) - 0.366962).abs() < 1e-9);
    assert!((price("wan2.1-t2i-turbo", ApSoutheast1) - 0.183481).abs() < 1e-9);
    assert_price("wan2.5-i2i-preview", 0.20, Some(0.220177));
}

#[test]
fn singapore_wan21_t2i_models_go_by_their_singapore_ids() {
    // §1: "Singapore spells them `wan2.1-t2i-plus` / `wan2.1-t2i-turbo`". Either the catalog
    // knows those ids, or it does not offer the `wanx` spelling in Singapore.
    for (beijing, singapore) in [("wanx2.1-t2i-plus", "wan2.1-t2i-plus"), ("wanx2.1-t2i-turbo", "wan2.1-t2i-turbo")] {
        let known = image_lookup(singapore).is_some_and(|s| s.in_region(ApSoutheast1));
        assert!(known || !spec(beijing).in_region(ApSoutheast1), "{beijing} is sent as `{beijing}` in Singapore");
    }
}

#[test]
fn wanx20_t2i_turbo_is_priced_in_beijing_only() {
    // §1: the endpoint list names Beijing and Singapore, but §6 prices it in Beijing only. A
    // Singapore entry would have no price; if the catalog offers it there, a note must say why.
    let s = spec("wanx2.0-t2i-turbo");
    assert!(s.in_region(CnBeijing));
    assert!(!s.in_region(ApSoutheast1) || has_note(s, &["singapore"]), "wanx2.0-t2i-turbo has no Singapore price (§6)");
}

// ---------------------------------------------------------------------------------------------
// Wan 2.5 i2i preview (§2.2, §4, §5, §6).

#[test]
fn wan25_i2i_posts_up_to_three_images_to_image2image_and_defaults_to_four_images() {
    let id = "wan2.5-i2i-preview";
    let s = spec(id);
    assert_eq!(s.protocol, ImageProtocol::Prompt);
    for inputs in 1..=3 {
        assert_eq!(s.endpoint_for(inputs).path(), I2I_PATH, "{inputs} images");
    }
    assert_eq!((s.inputs_min, s.inputs_max), (1, 3), "an edit model: 1–3 images");
    assert_eq!((s.n_max, s.n_default), (4, 4));
    assert_eq!(s.prompt_max, 2000);
    assert_eq!(s.negative_prompt, NegativePrompt::Input);
    assert!(s.prompt_extend);
    assert!(s.seed);
    // 384–5000 px a side, ≤ 10 MB, URL or base64.
    assert_eq!((s.image.min_side, s.image.max_side, s.image.max_mb), (384, 5000, 10));
    assert!(!s.public_urls_only);
    // No size sent: the service takes the last image's aspect at ≈1280².
    assert_eq!(s.default_size, None);
    assert_pool(id, 5);
    assert_eq!(s.submit_rps, 5);
    assert_price(id, 0.20, None);
    assert_eq!(s.regions, &[CnBeijing, ApSoutheast1]);
}

#[test]
fn wan25_i2i_explicit_sizes_are_768_to_1280_squared_within_1_to_4() {
    let id = "wan2.5-i2i-preview";
    accepts(id, &["768*768", "1280*1280", "1024*1024", "640*2560", "2560*640"]);
    refuses(id, &["1K", "767*767", "1281*1281", "1440*1440", "500*2500"]);
}

// ---------------------------------------------------------------------------------------------
// Qwen image async (§2.2, §5, §6).

#[test]
fn qwen_image_makes_exactly_one_image_at_one_of_five_fixed_sizes() {
    for id in ["qwen-image-plus", "qwen-image"] {
        let s = spec(id);
        assert_eq!(s.protocol, ImageProtocol::Prompt, "{id}");
        assert_eq!(s.endpoint_for(0).path(), T2I_PATH, "{id}");
        assert_eq!((s.inputs_min, s.inputs_max), (0, 0), "{id}");
        assert_eq!((s.n_max, s.n_default), (1, 1), "{id}: n must be 1");
        assert_eq!(s.prompt_max, 800, "{id}");
        assert!(s.prompt_extend, "{id}");
        assert!(s.seed, "{id}");
        let ImageShape::Fixed(sizes) = s.shape else { panic!("{id}: a fixed size set") };
        let mut got = sizes.to_vec();
        got.sort_unstable();
        assert_eq!(got, ["1104*1472", "1328*1328", "1472*1104", "1664*928", "928*1664"], "{id}");
        assert_eq!(s.default_size, Some("1664*928"), "{id}");
        accepts(id, &["1664*928", "1472*1104", "1328*1328", "1104*1472", "928*1664"]);
        refuses(id, &["1024*1024", "1280*1280", "1K", "928*1663"]);
        assert_pool(id, 2);
        assert_eq!(s.submit_rps, 2, "{id}");
        assert_eq!(s.regions, &[CnBeijing, ApSoutheast1], "{id}");
    }
    assert_price("qwen-image-plus", 0.20, Some(0.220177));
    assert_price("qwen-image", 0.25, Some(0.256873));
}

#[test]
fn qwen_image_negative_prompt_placement_conflict_is_noted() {
    // CONFLICT (§2.2): the field list puts it in `input`, the curl example in `parameters`.
    for id in ["qwen-image-plus", "qwen-image"] {
        let s = spec(id);
        assert_ne!(s.negative_prompt, NegativePrompt::None, "{id} takes a negative prompt (≤ 500)");
        assert!(has_note(s, &["negative_prompt"]), "{id}: the placement CONFLICT must be noted");
    }
}

// ---------------------------------------------------------------------------------------------
// Kling v3 image (§1, §2.1, §4, §5, §6, §7).

#[test]
fn kling_image_posts_messages_in_beijing_only_with_public_urls() {
    for id in KLING_IMAGE {
        let s = spec(id);
        assert_eq!(s.protocol, ImageProtocol::Messages, "{id}");
        assert_eq!(s.endpoint_for(0).path(), MESSAGES_PATH, "{id}");
        assert_eq!(s.endpoint_for(1).path(), MESSAGES_PATH, "{id}");
        assert_eq!(s.regions, &[CnBeijing], "{id}: Beijing only");
        assert_eq!((s.n_max, s.n_default), (9, 1), "{id}: n");
        assert_eq!(s.prompt_max, 2500, "{id}");
        assert_eq!(s.negative_prompt, NegativePrompt::None, "{id}: not documented");
        assert!(!s.prompt_extend, "{id}: no rewrite documented");
        // http(s) URL only; 300–8000 px, 1:2.5–2.5:1, ≤ 10 MB.
        assert!(s.public_urls_only, "{id}");
        assert_eq!((s.image.min_side, s.image.max_side, s.image.max_mb), (300, 8000, 10), "{id}");
        assert!((s.image.max_aspect - 2.5).abs() < 1e-9, "{id}");
        assert_eq!(s.submit_rps, 5, "{id}");
        assert_price(id, 0.20, None);
        // Seed is UNCONFIRMED (§2.1, §12): if the catalog sends one, a note must say so.
        assert!(!s.seed || has_note(s, &["seed"]), "{id}: seed is undocumented");
    }
}

#[test]
fn kling_v3_image_takes_one_reference_and_omni_ten() {
    assert_eq!(spec("kling/kling-v3-image-generation").inputs_max, 1);
    assert_eq!(spec("kling/kling-v3-omni-image-generation").inputs_max, 10, "images + subjects ≤ 10");
    assert_eq!(spec("kling/kling-v3-omni-image-generation").inputs_min, 0);
}

#[test]
fn kling_image_sizes_are_1k_2k_and_4k_for_omni_at_three_ratios() {
    for id in KLING_IMAGE {
        let ImageShape::ResolutionRatio { resolutions, ratios } = spec(id).shape else {
            panic!("{id}: resolution + aspect_ratio")
        };
        let mut got = ratios.to_vec();
        got.sort_unstable();
        assert_eq!(got, ["16:9", "1:1", "9:16"], "{id}");
        let got: Vec<String> = resolutions.iter().map(|r| r.to_lowercase()).collect();
        assert!(got.contains(&"1k".to_owned()) && got.contains(&"2k".to_owned()), "{id}: {got:?}");
        assert!(got.iter().all(|r| ["1k", "2k", "4k"].contains(&r.as_str())), "{id}: {got:?}");
        accepts(id, &["1k", "2k"]);
        refuses(id, &["1280*720", "8k", "720P"]);
    }
    // §2.1: 4k is omni only.
    refuses("kling/kling-v3-image-generation", &["4k"]);
}

#[test]
fn kling_omni_4k_is_offered_or_its_absence_noted() {
    // §2.1, §6: omni makes 4k at 0.40 an image (CONFLICT: [MKT] says "每秒", the pricing page
    // "元/张"; this follows the pricing page). One flat price per model cannot bill it, so the
    // catalog may leave 4k out, with a note that says so.
    let s = spec("kling/kling-v3-omni-image-generation");
    if s.check_size("4k").is_err() {
        assert!(has_note(s, &["4k"]), "omni's documented 4k is left out without a note");
    } else {
        assert!(has_note(s, &["0.40"]), "omni's 4k costs 0.40, not the flat 0.20: a note must say so");
    }
}

#[test]
fn kling_image_shares_ten_running_tasks_with_kling_video() {
    let video: Vec<_> = models().filter(|m| m.id.starts_with("kling/")).collect();
    assert!(!video.is_empty(), "the video catalog has no Kling model");
    for id in KLING_IMAGE {
        let family = spec(id).family();
        assert_eq!(family.service_slots(), Some(10), "{id}");
        assert!(matches!(spec(id).pool, PoolRule::Shared { slots: 10, .. }), "{id}");
        for v in &video {
            assert_eq!(family, v.family(), "{id} and {} share one pool (§5)", v.id);
        }
    }
    assert_eq!(spec(KLING_IMAGE[0]).family(), spec(KLING_IMAGE[1]).family());
    let kling = lookup("kling/kling-v3-video-generation").expect("Kling v3 video");
    assert!(matches!(kling.family(), Family::Known { slots: 10, .. }));
}

// ---------------------------------------------------------------------------------------------
// Pools, URL lifetime (§3, §5).

#[test]
fn non_kling_image_pools_are_per_model() {
    for s in image_models().filter(|s| !s.id.starts_with("kling/")) {
        assert!(matches!(s.pool, PoolRule::PerModel { .. }), "{}: image pools are per model (§11.5)", s.id);
    }
}

#[test]
fn result_urls_last_a_day_except_klings_thirty() {
    for id in ASYNC_MODELS {
        let hours: u32 = if id.starts_with("kling/") { 30 * 24 } else { 24 };
        assert_eq!(url_lifetime(id), jiff::SignedDuration::from_hours(i64::from(hours)), "{id}");
        assert_eq!(spec(id).url_hours, hours, "{id}");
    }
}
