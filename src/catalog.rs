//! The model catalog: every per-model rule pixbatch knows, in one table.
//!
//! Sizes, durations, prompt limits and prices come from `dashscope-api.md` §1.6–1.7 and §8.
//! Validation, the fake server and the cost estimate all read this table; nothing else in the
//! code knows a model's rules.

use std::fmt;

/// A DashScope model id for the c1 reference-to-video model.
pub const C1_R2V: &str = "pixverse/pixverse-c1-r2v";
/// A DashScope model id for the v5.6 reference-to-video model.
pub const V56_R2V: &str = "pixverse/pixverse-v5.6-r2v";

/// Seeds accepted by every model: `[0, 2147483647]`.
pub const SEED_MAX: i64 = 2_147_483_647;
/// Every model takes between 1 and 7 reference images.
pub const MEDIA_MIN: usize = 1;
/// Every model takes between 1 and 7 reference images.
pub const MEDIA_MAX: usize = 7;

/// A resolution tier; it decides allowed durations and the price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    P360,
    P540,
    P720,
    P1080,
}

impl Tier {
    /// All tiers, smallest first.
    pub const ALL: [Tier; 4] = [Tier::P360, Tier::P540, Tier::P720, Tier::P1080];

    /// The tier's name as the pricing page writes it (`720P`).
    pub fn name(self) -> &'static str {
        match self {
            Tier::P360 => "360P",
            Tier::P540 => "540P",
            Tier::P720 => "720P",
            Tier::P1080 => "1080P",
        }
    }

    /// The `usage.SR` value the service reports for this tier.
    pub fn sr(self) -> &'static str {
        match self {
            Tier::P360 => "360",
            Tier::P540 => "540",
            Tier::P720 => "720",
            Tier::P1080 => "1080",
        }
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

/// Which running-task pool a model draws from (DashScope: 5 running tasks per family).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    C1,
    V56,
    /// A model the catalog does not know gets a pool of its own, named after the model.
    Other(String),
}

impl Family {
    /// The name used in `run.concurrency` and `--concurrency` (`c1`, `v5.6`, or the model id).
    pub fn name(&self) -> &str {
        match self {
            Family::C1 => "c1",
            Family::V56 => "v5.6",
            Family::Other(model) => model,
        }
    }

    /// Parses a family name as the user writes it in `run.concurrency`.
    pub fn from_name(name: &str) -> Family {
        match name {
            "c1" => Family::C1,
            "v5.6" => Family::V56,
            other => Family::Other(other.to_owned()),
        }
    }

    /// How many tasks of this family the service runs at once for an account (DashScope's
    /// rate-limit page: 5 per PixVerse family); unknown for a model outside the catalog.
    pub fn service_slots(&self) -> Option<u32> {
        match self {
            Family::C1 | Family::V56 => Some(5),
            Family::Other(_) => None,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which durations a model allows.
#[derive(Clone, Copy, Debug)]
pub enum Durations {
    /// Any whole number of seconds in the range, at every tier.
    Range(u32, u32),
    /// A list per tier (index = tier).
    PerTier([&'static [u32]; 4]),
}

/// Everything pixbatch knows about one model.
#[derive(Debug)]
pub struct ModelSpec {
    pub id: &'static str,
    pub family: Family,
    pub prompt_max_chars: usize,
    /// `(size, aspect ratio, tier)`, in the documentation's order.
    pub sizes: &'static [(&'static str, &'static str, Tier)],
    pub durations: Durations,
    /// CNY per second of output, silent, by tier.
    pub price_silent: [f64; 4],
    /// CNY per second of output, with `audio: true`, by tier.
    pub price_audio: [f64; 4],
}

const C1_SIZES: &[(&str, &str, Tier)] = &[
    ("640*360", "16:9", Tier::P360),
    ("640*480", "4:3", Tier::P360),
    ("640*640", "1:1", Tier::P360),
    ("480*640", "3:4", Tier::P360),
    ("360*640", "9:16", Tier::P360),
    ("640*432", "3:2", Tier::P360),
    ("432*640", "2:3", Tier::P360),
    ("640*288", "21:9", Tier::P360),
    ("1024*576", "16:9", Tier::P540),
    ("1024*768", "4:3", Tier::P540),
    ("1024*1024", "1:1", Tier::P540),
    ("768*1024", "3:4", Tier::P540),
    ("576*1024", "9:16", Tier::P540),
    ("1024*688", "3:2", Tier::P540),
    ("688*1024", "2:3", Tier::P540),
    ("1024*448", "21:9", Tier::P540),
    ("1280*720", "16:9", Tier::P720),
    ("1108*832", "4:3", Tier::P720),
    ("960*960", "1:1", Tier::P720),
    ("832*1108", "3:4", Tier::P720),
    ("720*1280", "9:16", Tier::P720),
    ("1200*800", "3:2", Tier::P720),
    ("800*1200", "2:3", Tier::P720),
    ("1280*560", "21:9", Tier::P720),
    ("1920*1080", "16:9", Tier::P1080),
    ("1664*1248", "4:3", Tier::P1080),
    ("1440*1440", "1:1", Tier::P1080),
    ("1248*1664", "3:4", Tier::P1080),
    ("1080*1920", "9:16", Tier::P1080),
    ("1776*1184", "3:2", Tier::P1080),
    ("1184*1776", "2:3", Tier::P1080),
    ("1920*832", "21:9", Tier::P1080),
];

const V56_SIZES: &[(&str, &str, Tier)] = &[
    ("640*360", "16:9", Tier::P360),
    ("640*480", "4:3", Tier::P360),
    ("640*640", "1:1", Tier::P360),
    ("480*640", "3:4", Tier::P360),
    ("360*640", "9:16", Tier::P360),
    ("1024*576", "16:9", Tier::P540),
    ("1024*768", "4:3", Tier::P540),
    ("1024*1024", "1:1", Tier::P540),
    ("768*1024", "3:4", Tier::P540),
    ("576*1024", "9:16", Tier::P540),
    ("1280*720", "16:9", Tier::P720),
    ("1108*830", "4:3", Tier::P720),
    ("960*960", "1:1", Tier::P720),
    ("830*1108", "3:4", Tier::P720),
    ("720*1280", "9:16", Tier::P720),
    ("1920*1080", "16:9", Tier::P1080),
    ("1662*1246", "4:3", Tier::P1080),
    ("1440*1440", "1:1", Tier::P1080),
    ("1246*1662", "3:4", Tier::P1080),
    ("1080*1920", "9:16", Tier::P1080),
];

const V56_DURATIONS_SHORT: &[u32] = &[5, 8, 10];
const V56_DURATIONS_1080: &[u32] = &[5, 8];

/// The models pixbatch knows, with their rules.
pub static MODELS: &[ModelSpec] = &[
    ModelSpec {
        id: C1_R2V,
        family: Family::C1,
        prompt_max_chars: 5000,
        sizes: C1_SIZES,
        durations: Durations::Range(1, 15),
        price_silent: [0.18, 0.24, 0.30, 0.56],
        price_audio: [0.24, 0.30, 0.39, 0.71],
    },
    ModelSpec {
        id: V56_R2V,
        family: Family::V56,
        prompt_max_chars: 2048,
        sizes: V56_SIZES,
        durations: Durations::PerTier([
            V56_DURATIONS_SHORT,
            V56_DURATIONS_SHORT,
            V56_DURATIONS_SHORT,
            V56_DURATIONS_1080,
        ]),
        price_silent: [0.21, 0.21, 0.27, 0.44],
        price_audio: [0.47, 0.47, 0.53, 0.70],
    },
];

/// Looks a model up by its DashScope id.
pub fn lookup(model: &str) -> Option<&'static ModelSpec> {
    MODELS.iter().find(|m| m.id == model)
}

/// How tables and the contact sheet name a model: without the vendor's repeated prefix.
pub fn short_name(model: &str) -> &str {
    model.strip_prefix("pixverse/pixverse-").unwrap_or(model)
}

/// The concurrency family of any model id, known or not.
pub fn family_of(model: &str) -> Family {
    lookup(model).map_or_else(|| Family::Other(model.to_owned()), |m| m.family.clone())
}

/// Parses `"W*H"` into its two numbers.
pub fn parse_size(size: &str) -> Option<(u32, u32)> {
    let (w, h) = size.split_once('*')?;
    Some((w.trim().parse().ok()?, h.trim().parse().ok()?))
}

impl ModelSpec {
    /// The tier of an allowed size, or `None` when the model does not allow it.
    pub fn tier_of(&self, size: &str) -> Option<Tier> {
        self.sizes.iter().find(|(s, _, _)| *s == size).map(|(_, _, t)| *t)
    }

    /// Every allowed size, in the table's order.
    pub fn sizes(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.sizes.iter().map(|(s, _, _)| *s)
    }

    /// Whether `duration` seconds is allowed at `tier`.
    pub fn allows_duration(&self, tier: Tier, duration: u32) -> bool {
        match self.durations {
            Durations::Range(lo, hi) => (lo..=hi).contains(&duration),
            Durations::PerTier(lists) => lists[tier.index()].contains(&duration),
        }
    }

    /// A human description of the allowed durations at `tier` (`5, 8 or 10`).
    pub fn durations_text(&self, tier: Tier) -> String {
        match self.durations {
            Durations::Range(lo, hi) => format!("any whole number from {lo} to {hi}"),
            Durations::PerTier(lists) => {
                let list = lists[tier.index()];
                let words: Vec<String> = list.iter().map(u32::to_string).collect();
                match words.split_last() {
                    Some((last, rest)) if !rest.is_empty() => {
                        format!("{} or {last}", rest.join(", "))
                    }
                    _ => words.join(""),
                }
            }
        }
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
        self.sizes.iter().map(|(s, _, _)| *s).min_by(|a, b| score(a).total_cmp(&score(b)))
    }

    /// CNY per output second for a tier and audio setting.
    pub fn price_per_second(&self, tier: Tier, audio: bool) -> f64 {
        if audio { self.price_audio[tier.index()] } else { self.price_silent[tier.index()] }
    }
}

/// Rounds money to 0.01 for display and reports.
pub fn round_cents(x: f64) -> f64 {
    // `+ 0.0` turns the -0.0 of an empty float sum into 0.0.
    (x * 100.0).round() / 100.0 + 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v56_1080p_does_not_allow_ten_seconds() {
        let m = lookup(V56_R2V).expect("known model");
        let tier = m.tier_of("1920*1080").expect("allowed size");
        assert_eq!(tier, Tier::P1080);
        assert!(m.allows_duration(tier, 8));
        assert!(!m.allows_duration(tier, 10));
        assert!(m.allows_duration(Tier::P720, 10));
        assert_eq!(m.durations_text(tier), "5 or 8");
    }

    #[test]
    fn c1_and_v56_differ_on_4_3_at_720p() {
        assert!(lookup(C1_R2V).and_then(|m| m.tier_of("1108*832")).is_some());
        assert!(lookup(V56_R2V).and_then(|m| m.tier_of("1108*832")).is_none());
        assert_eq!(lookup(V56_R2V).and_then(|m| m.nearest_size("1108*832")), Some("1108*830"));
    }

    #[test]
    fn unknown_model_has_its_own_family() {
        assert_eq!(family_of("x/y"), Family::Other("x/y".into()));
        assert_eq!(family_of(C1_R2V), Family::C1);
    }
}
