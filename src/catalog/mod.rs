//! The model catalog: every per-model rule pixbatch knows, as data.
//!
//! One [`ModelSpec`] per DashScope model (`models.rs`), with its facts from
//! `dashscope-video-models.md` and `dashscope-api.md`. The code that builds requests, checks
//! manifests, prices jobs, sizes pools and plays the fake branches on *kinds of rule* (a
//! [`Shape`], a [`Layout`], a [`Role`], a [`Mentions`] syntax), never on a model's name: adding
//! a model is adding an entry.

pub mod images;
mod models;
mod sizes;

use std::fmt;

pub use models::{C1_R2V, V56_R2V};

use crate::manifest::Region;

/// Seeds accepted by every model that takes one: `[0, 2147483647]`.
pub const SEED_MAX: i64 = 2_147_483_647;

/// A resolution tier; it decides allowed durations and the price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    P360,
    P480,
    P540,
    P720,
    P1080,
}

/// How many tiers there are (the length of every per-tier table).
pub const TIERS: usize = 5;

impl Tier {
    /// All tiers, smallest first.
    pub const ALL: [Tier; TIERS] = [Tier::P360, Tier::P480, Tier::P540, Tier::P720, Tier::P1080];

    /// The tier's name as the API and the pricing page write it (`720P`).
    pub fn name(self) -> &'static str {
        match self {
            Tier::P360 => "360P",
            Tier::P480 => "480P",
            Tier::P540 => "540P",
            Tier::P720 => "720P",
            Tier::P1080 => "1080P",
        }
    }

    /// The `usage.SR` value the service reports for this tier.
    pub fn sr(self) -> &'static str {
        self.name().trim_end_matches('P')
    }

    /// Parses `720P` (or `720p`).
    pub fn from_name(name: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.name().eq_ignore_ascii_case(name))
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a model makes from what (its documentation's task name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Text to video.
    T2v,
    /// First frame to video.
    I2v,
    /// First and last frame to video.
    Kf2v,
    /// Reference images (and videos) to video.
    R2v,
    /// One id for several tasks, chosen by the media sent (Kling).
    Multi,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::T2v => "t2v",
            Kind::I2v => "i2v",
            Kind::Kf2v => "kf2v",
            Kind::R2v => "r2v",
            Kind::Multi => "t2v/i2v/kf2v",
        }
    }
}

/// Where a model's create request is posted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `/api/v1/services/aigc/video-generation/video-synthesis`: almost every model.
    VideoGeneration,
    /// `/api/v1/services/aigc/image2video/video-synthesis`: the Wan first/last-frame models.
    Image2Video,
    /// `/api/v1/services/aigc/image-generation/generation`: the messages image protocol.
    ImageGeneration,
    /// `/api/v1/services/aigc/text2image/image-synthesis`: the `input.prompt` protocol.
    Text2Image,
    /// `/api/v1/services/aigc/image2image/image-synthesis`: the same, with input images.
    Image2Image,
}

impl Endpoint {
    /// The path, relative to the base URL.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::VideoGeneration => "api/v1/services/aigc/video-generation/video-synthesis",
            Endpoint::Image2Video => "api/v1/services/aigc/image2video/video-synthesis",
            Endpoint::ImageGeneration => "api/v1/services/aigc/image-generation/generation",
            Endpoint::Text2Image => "api/v1/services/aigc/text2image/image-synthesis",
            Endpoint::Image2Image => "api/v1/services/aigc/image2image/image-synthesis",
        }
    }
}

/// What a media file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MediaKind {
    Image,
    Video,
    Audio,
}

impl MediaKind {
    pub fn name(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
        }
    }
}

/// What a media item does in a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// A reference (subject, style, voice) that the prompt may mention.
    Reference,
    /// The video's first frame.
    FirstFrame,
    /// The video's last frame.
    LastFrame,
    /// Audio the video is cut to (lip sync, music).
    DrivingAudio,
    /// A clip the video continues.
    FirstClip,
}

impl Role {
    /// The name the manifest uses (`media: [{ref: x, as: first_clip}]`, and the field names
    /// `first_frame`, `last_frame`).
    pub fn name(self) -> &'static str {
        match self {
            Role::Reference => "reference",
            Role::FirstFrame => "first_frame",
            Role::LastFrame => "last_frame",
            Role::DrivingAudio => "driving_audio",
            Role::FirstClip => "first_clip",
        }
    }

    pub const ALL: [Role; 5] =
        [Role::Reference, Role::FirstFrame, Role::LastFrame, Role::DrivingAudio, Role::FirstClip];

    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// One kind of media a model takes: its role, what it is, the name the request gives it, and
/// how many of it one request may carry.
#[derive(Clone, Copy, Debug)]
pub struct Slot {
    pub role: Role,
    pub kind: MediaKind,
    /// The `type` of a `media[]` item, or the `input` field's name ([`Layout`]).
    pub wire: &'static str,
    pub max: u8,
}

/// Where media go in the request body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `input.media[]` of `{type, url}` (`type` = the slot's wire name).
    MediaList,
    /// One `input` field per item, named by the slot's wire name (`input.img_url`).
    Fields,
    /// `input.<name>[]`: a list of URLs; the service tells images from videos itself.
    UrlList(&'static str),
    /// `input.messages[0].content[]`: `{image}` items in order, then `{text}` (the image
    /// models' messages protocol).
    Messages,
}

/// How the prompt refers to the media, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mentions {
    /// `@name ` in the prompt, and each item carries `ref_name` (PixVerse).
    AtName,
    /// A numbered word per media kind, `{}` standing for the 1-based number. `cjk_*` are used
    /// when the prompt has CJK characters. `one_counter`: images and videos share one count.
    Numbered {
        image: &'static str,
        video: &'static str,
        cjk_image: &'static str,
        cjk_video: &'static str,
        one_counter: bool,
    },
    /// The model has no syntax: a mention is written as the plain name.
    Plain,
}

/// How a model's output shape is set.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// `parameters.size` from a table of `(size, ratio, tier)`.
    Size(&'static [(&'static str, &'static str, Tier)]),
    /// `parameters.resolution` + `parameters.ratio`.
    ResolutionRatio { tiers: &'static [Tier], ratios: &'static [&'static str] },
    /// `parameters.resolution` only: the aspect comes from the first frame.
    Resolution { tiers: &'static [Tier] },
    /// `parameters.mode` (one per tier) + `parameters.aspect_ratio` (Kling).
    ModeAspect { modes: &'static [(&'static str, Tier)], ratios: &'static [&'static str] },
    /// `parameters.resolution` + `parameters.size` from a table (Vidu: both must be sent).
    ResolutionSize(&'static [(&'static str, &'static str, Tier)]),
}

impl Shape {
    /// The tiers this shape allows, smallest first.
    pub fn tiers(&self) -> Vec<Tier> {
        let mut tiers: Vec<Tier> = match self {
            Shape::Size(table) | Shape::ResolutionSize(table) => table.iter().map(|r| r.2).collect(),
            Shape::ResolutionRatio { tiers, .. } | Shape::Resolution { tiers } => tiers.to_vec(),
            Shape::ModeAspect { modes, .. } => modes.iter().map(|m| m.1).collect(),
        };
        tiers.sort();
        tiers.dedup();
        tiers
    }

    /// The ratios this shape allows (empty: the aspect comes from the first frame).
    pub fn ratios(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        let mut add = |r: &'static str| {
            if !out.contains(&r) {
                out.push(r);
            }
        };
        match self {
            Shape::Size(table) | Shape::ResolutionSize(table) => table.iter().for_each(|r| add(r.1)),
            Shape::ResolutionRatio { ratios, .. } | Shape::ModeAspect { ratios, .. } => {
                ratios.iter().for_each(|r| add(r));
            }
            Shape::Resolution { .. } => {}
        }
        out
    }

    /// Whether the shape allows a tier (without building [`Shape::tiers`]).
    pub fn has_tier(&self, tier: Tier) -> bool {
        match self {
            Shape::Size(table) | Shape::ResolutionSize(table) => table.iter().any(|r| r.2 == tier),
            Shape::ResolutionRatio { tiers, .. } | Shape::Resolution { tiers } => tiers.contains(&tier),
            Shape::ModeAspect { modes, .. } => modes.iter().any(|m| m.1 == tier),
        }
    }

    /// Whether the shape allows a ratio (without building [`Shape::ratios`]).
    pub fn has_ratio(&self, ratio: &str) -> bool {
        match self {
            Shape::Size(table) | Shape::ResolutionSize(table) => table.iter().any(|r| r.1 == ratio),
            Shape::ResolutionRatio { ratios, .. } | Shape::ModeAspect { ratios, .. } => ratios.contains(&ratio),
            Shape::Resolution { .. } => false,
        }
    }

    /// The exact-size table, for a shape that has one.
    pub fn size_table(&self) -> Option<&'static [(&'static str, &'static str, Tier)]> {
        match self {
            Shape::Size(t) | Shape::ResolutionSize(t) => Some(t),
            _ => None,
        }
    }

    /// How `pixbatch models` names the shape.
    pub fn describe(&self) -> &'static str {
        match self {
            Shape::Size(_) => "size",
            Shape::ResolutionRatio { .. } => "resolution+ratio",
            Shape::Resolution { .. } => "resolution (aspect from image)",
            Shape::ModeAspect { .. } => "mode+aspect_ratio",
            Shape::ResolutionSize(_) => "resolution+size",
        }
    }
}

/// Which durations a model allows.
#[derive(Clone, Copy, Debug)]
pub enum Durations {
    /// Any whole number of seconds in the range, at every tier.
    Range(u32, u32),
    /// These values, at every tier.
    List(&'static [u32]),
    /// A list per tier (index = tier); an empty list where the model lacks the tier.
    PerTier([&'static [u32]; TIERS]),
}

impl Durations {
    pub fn allows(&self, tier: Tier, duration: u32) -> bool {
        match *self {
            Durations::Range(lo, hi) => (lo..=hi).contains(&duration),
            Durations::List(list) => list.contains(&duration),
            Durations::PerTier(lists) => lists[tier.index()].contains(&duration),
        }
    }

    /// A human description at `tier` (`5, 8 or 10`, `2 to 15`).
    pub fn text(&self, tier: Tier) -> String {
        let list = match *self {
            Durations::Range(lo, hi) => return format!("{lo} to {hi}"),
            Durations::List(list) => list,
            Durations::PerTier(lists) => lists[tier.index()],
        };
        let words: Vec<String> = list.iter().map(u32::to_string).collect();
        match words.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => words.join(""),
        }
    }
}

/// Whether a model's videos have sound, and who says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audio {
    /// `parameters.audio`, with its default.
    Param { default: bool },
    /// Always with sound; there is no switch.
    Always,
    /// Always silent; there is no switch.
    Never,
}

/// Which running-task pool a model draws from, and how many tasks it runs at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolRule {
    /// A pool shared by several models, named (`c1`, `vidu`, `kling`).
    Shared { name: &'static str, slots: u32 },
    /// A pool of the model's own, named after the model.
    PerModel { slots: u32 },
}

/// How the service writes a finished task's `usage` (the fake plays it; the client reads
/// every variant with one tolerant parser).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageShape {
    /// `duration` or `video_duration`: the billed seconds.
    pub seconds_field: &'static str,
    /// `SR` as an integer (Wan, HappyHorse) rather than a string; `None`: no `SR`.
    pub sr: Option<SrType>,
    /// `input_video_duration` / `output_video_duration` are reported.
    pub in_out: bool,
    /// `output_video_duration` is reported on its own, and `reference_type` by a model that
    /// takes references (Vidu).
    pub output_seconds: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SrType {
    Str,
    Int,
}

/// Absent price (the model lacks the tier).
const N: Option<f64> = None;

/// CNY per second of output, per tier (index = [`Tier`]).
pub type PriceRow = [Option<f64>; TIERS];

/// What a model costs.
#[derive(Clone, Copy, Debug)]
pub struct Prices {
    pub silent: PriceRow,
    /// With sound (for [`Audio::Always`], the only row that applies).
    pub audio: PriceRow,
    /// Silent, with a reference video among the media (Kling omni).
    pub with_video: Option<PriceRow>,
    /// Reference-video seconds billed on top of the output, at most this many (Wan r2v).
    pub billed_ref_video_max: Option<u32>,
    /// Singapore (`ap-southeast-1`) prices, where they differ.
    pub intl: Option<PriceRow>,
}

/// What the model reads of an image file.
#[derive(Clone, Copy, Debug)]
pub struct ImageLimits {
    /// Each side at least this many pixels.
    pub min_side: u32,
    /// Each side at most this many pixels.
    pub max_side: u32,
    /// Long side ÷ short side at most this.
    pub max_aspect: f64,
    /// At most this many MB.
    pub max_mb: u32,
}

/// Everything pixbatch knows about one model.
#[derive(Debug)]
pub struct ModelSpec {
    pub id: &'static str,
    pub kind: Kind,
    pub endpoint: Endpoint,
    pub layout: Layout,
    pub slots: &'static [Slot],
    /// Reference items (any kind) a request needs and may carry.
    pub refs_min: u8,
    pub refs_max: u8,
    /// With a reference video, at most this many reference images.
    pub images_with_video_max: Option<u8>,
    /// Roles a request must have: each inner list is "one of these" (i2v: a first frame or a
    /// clip to continue; kf2v: a first frame and a last frame).
    pub needs: &'static [&'static [Role]],
    pub mentions: Mentions,
    /// The prompt must be given (an image-to-video model may go without one).
    pub prompt_required: bool,
    pub prompt_max: usize,
    /// A lower limit for prompts with CJK characters (HappyHorse counts them apart).
    pub prompt_max_cjk: Option<usize>,
    pub shape: Shape,
    /// The shape's fields must be sent (the service has no default: PixVerse's `size` and
    /// `resolution`, Vidu's start-end `resolution`).
    pub shape_required: bool,
    pub durations: Durations,
    /// Durations with a reference video among the media, where they differ.
    pub durations_with_video: Option<Durations>,
    pub audio: Audio,
    pub seed: bool,
    /// `input.negative_prompt`, at most this many characters.
    pub negative_prompt_max: Option<usize>,
    pub prompt_extend: bool,
    /// The service's `watermark` default (pixbatch always sends it).
    pub watermark_default: bool,
    pub pool: PoolRule,
    /// Create requests per second for the account.
    pub submit_rps: u32,
    pub usage: UsageShape,
    pub prices: Prices,
    pub regions: &'static [Region],
    /// What an image may be (checked for local files, whose pixels pixbatch can read).
    pub image: ImageLimits,
    /// Media must be public http(s) URLs: a local file cannot be sent (it would go through
    /// temporary `oss://` storage, which the model does not read).
    pub public_urls_only: bool,
    /// Hours a result URL stays valid.
    pub url_hours: u32,
    /// The task also returns `watermark_video_url`.
    pub watermark_url: bool,
    /// Facts marked UNCONFIRMED or CONFLICT, with the choice made.
    pub notes: &'static [&'static str],
}

/// Every model pixbatch knows, family by family.
pub fn models() -> impl Iterator<Item = &'static ModelSpec> {
    models::MODELS.iter().copied()
}

/// Looks a model up by its DashScope id.
pub fn lookup(model: &str) -> Option<&'static ModelSpec> {
    models().find(|m| m.id == model)
}

/// How tables and the contact sheet name a model: without the vendor's repeated prefix.
pub fn short_name(model: &str) -> &str {
    match model.split_once('/') {
        Some((vendor, rest)) => rest.strip_prefix(vendor).and_then(|r| r.strip_prefix('-')).unwrap_or(rest),
        None => model,
    }
}

/// Which running-task pool a job draws from (`dashscope-video-models.md` §6).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// A pool the catalog knows: its name and the service's running cap.
    Known { name: &'static str, slots: u32 },
    /// A model the catalog does not know gets a pool of its own, named after the model.
    Other(String),
}

impl Family {
    /// The name used in `run.concurrency` and `--concurrency` (`c1`, `vidu`, a model id).
    pub fn name(&self) -> &str {
        match self {
            Family::Known { name, .. } => name,
            Family::Other(model) => model,
        }
    }

    /// Parses a family name as the user writes it in `run.concurrency`.
    pub fn from_name(name: &str) -> Family {
        models()
            .map(ModelSpec::family)
            .chain(images::image_models().map(images::ImageModelSpec::family))
            .find(|f| f.name() == name)
            .unwrap_or_else(|| Family::Other(name.to_owned()))
    }

    /// How many tasks of this family the service runs at once for an account; unknown for a
    /// model outside the catalog.
    pub fn service_slots(&self) -> Option<u32> {
        match self {
            Family::Known { slots, .. } => Some(*slots),
            Family::Other(_) => None,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The concurrency family of any model id, known or not.
pub fn family_of(model: &str) -> Family {
    match (lookup(model), images::image_lookup(model)) {
        (Some(spec), _) => spec.family(),
        (None, Some(spec)) => spec.family(),
        (None, None) => Family::Other(model.to_owned()),
    }
}

/// How long a model's result URL is trusted after the task finished (24 h unless the catalog
/// says longer: Kling's last 30 days).
pub fn url_lifetime(model: &str) -> jiff::SignedDuration {
    let hours = lookup(model).map(|m| m.url_hours).or_else(|| images::image_lookup(model).map(|m| m.url_hours));
    jiff::SignedDuration::from_hours(i64::from(hours.unwrap_or(24)))
}

/// Parses `"W*H"` into its two numbers.
pub fn parse_size(size: &str) -> Option<(u32, u32)> {
    let (w, h) = size.split_once('*')?;
    Some((w.trim().parse().ok()?, h.trim().parse().ok()?))
}

/// Whether a text has CJK characters (it decides Wan 2.7's `图1` over `Image 1`, and
/// HappyHorse's prompt limit).
pub fn has_cjk(text: &str) -> bool {
    text.chars().any(
        |c| matches!(c as u32, 0x3000..=0x303F | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF),
    )
}

impl ModelSpec {
    /// The pool this model draws from.
    pub fn family(&self) -> Family {
        match self.pool {
            PoolRule::Shared { name, slots } => Family::Known { name, slots },
            PoolRule::PerModel { slots } => Family::Known { name: self.id, slots },
        }
    }

    /// The slot for a role and kind, if the model takes it.
    pub fn slot(&self, role: Role, kind: MediaKind) -> Option<&'static Slot> {
        self.slots.iter().find(|s| s.role == role && s.kind == kind)
    }

    /// Whether the model takes any media in this role.
    pub fn takes(&self, role: Role) -> bool {
        self.slots.iter().any(|s| s.role == role)
    }

    /// The media kinds the model takes in a role.
    pub fn kinds_for(&self, role: Role) -> Vec<MediaKind> {
        self.slots.iter().filter(|s| s.role == role).map(|s| s.kind).collect()
    }

    /// The tier of an exact size, or `None` when the model has no such size.
    pub fn tier_of(&self, size: &str) -> Option<Tier> {
        self.shape.size_table()?.iter().find(|(s, _, _)| *s == size).map(|(_, _, t)| *t)
    }

    /// The tier of a job's shape as tables show it (`1280*720`, `720P 16:9`, `720P`).
    pub fn tier_of_label(&self, label: &str) -> Option<Tier> {
        self.tier_of(label).or_else(|| Tier::from_name(label.split(' ').next()?))
    }

    /// The table's size for a tier and ratio.
    pub fn size_for(&self, tier: Tier, ratio: &str) -> Option<&'static str> {
        self.shape.size_table()?.iter().find(|(_, r, t)| *t == tier && *r == ratio).map(|(s, _, _)| *s)
    }

    /// Every exact size, in the table's order.
    pub fn sizes(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.shape.size_table().unwrap_or(&[]).iter().map(|(s, _, _)| *s)
    }

    /// The allowed durations, given whether a reference video is sent.
    pub fn durations(&self, with_video: bool) -> Durations {
        match (with_video, self.durations_with_video) {
            (true, Some(d)) => d,
            _ => self.durations,
        }
    }

    /// The prompt limit for this prompt.
    pub fn prompt_limit(&self, prompt: &str) -> usize {
        match self.prompt_max_cjk {
            Some(cjk) if has_cjk(prompt) => cjk,
            _ => self.prompt_max,
        }
    }

    /// Whether the videos have sound with this setting.
    pub fn sound(&self, audio: bool) -> bool {
        match self.audio {
            Audio::Param { .. } => audio,
            Audio::Always => true,
            Audio::Never => false,
        }
    }

    /// CNY per output second; `None` where the model lacks the tier.
    pub fn price_per_second(&self, tier: Tier, sound: bool, with_video: bool, region: Region) -> Option<f64> {
        let p = &self.prices;
        let row = match (region, p.intl) {
            (Region::ApSoutheast1, Some(intl)) => intl,
            _ if with_video && p.with_video.is_some() => p.with_video.unwrap_or(p.silent),
            _ if sound => p.audio,
            _ => p.silent,
        };
        row[tier.index()]
    }

    /// The allowed size nearest to `size` in aspect ratio and pixel count, for "did you mean".
    pub fn nearest_size(&self, size: &str) -> Option<&'static str> {
        let (w, h) = parse_size(size)?;
        let (w, h) = (f64::from(w.max(1)), f64::from(h.max(1)));
        let score = |s: &str| {
            let (sw, sh) = parse_size(s).map_or((1.0, 1.0), |(a, b)| (f64::from(a), f64::from(b)));
            let ratio = ((sw / sh) / (w / h)).ln().abs();
            let area = ((sw * sh) / (w * h)).ln().abs();
            ratio * 4.0 + area
        };
        self.sizes().min_by(|a, b| score(a).total_cmp(&score(b)))
    }

    /// Whether the model is offered in a region.
    pub fn in_region(&self, region: Region) -> bool {
        self.regions.contains(&region)
    }
}

/// Rounds money to 0.01 for display and reports.
pub fn round_cents(x: f64) -> f64 {
    // `+ 0.0` turns the -0.0 of an empty float sum into 0.0.
    (x * 100.0).round() / 100.0 + 0.0
}

#[cfg(test)]
mod tests;
