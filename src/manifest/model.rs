//! The manifest's types, exactly as a user writes them (version 1).
//!
//! These types are parsed strictly (`deny_unknown_fields`) and carry the YAML location of
//! every value a later check may need to point at. The JSON Schema in `schemas/` is generated
//! from them, so a field documented here is a field editors complete.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_saphyr::Spanned;

pub use super::media::{Generate, MediaItem, RefKind, RefSpec};

/// A manifest file: what to render, and how.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "pixbatch manifest",
    extend("$id" = "https://pixbatch.dev/schemas/pixbatch.schema.json"),
    extend("anyOf" = [{"required": ["shots"]}, {"required": ["shots_from"]}])
)]
pub struct Manifest {
    /// Manifest format version; only `1` exists.
    #[schemars(with = "u32", range(min = 1, max = 1))]
    pub version: Spanned<u32>,
    /// A label shown in reports.
    #[serde(default)]
    pub name: Option<String>,
    /// Output folder, relative to the manifest file (default `renders`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub output: Option<Spanned<String>>,
    /// Fields every shot inherits; a shot overrides them field by field.
    #[serde(default)]
    pub defaults: Defaults,
    /// Named reference images; a prompt binds one with `@name`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, RefSpec>")]
    pub refs: BTreeMap<String, Spanned<RefSpec>>,
    /// Template variables, used as `{{name}}` in prompts.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Scalar>")]
    pub vars: BTreeMap<String, Spanned<Scalar>>,
    /// Axes applied to every shot (cross product), as GitHub Actions `strategy.matrix`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Vec<Scalar>>")]
    pub matrix: SpannedMap<Spanned<Vec<Spanned<Scalar>>>>,
    /// Extra combinations added to every shot's matrix.
    #[serde(default)]
    #[schemars(with = "Vec<BTreeMap<String, Scalar>>")]
    pub include: Vec<Spanned<Combo>>,
    /// Combinations removed from every shot's matrix (partial entries match many).
    #[serde(default)]
    #[schemars(with = "Vec<BTreeMap<String, Scalar>>")]
    pub exclude: Vec<Spanned<Combo>>,
    /// The shots to render. A manifest needs `shots`, `shots_from`, or both (the table's
    /// shots come after these).
    #[serde(default)]
    pub shots: Option<Vec<Shot>>,
    /// A table of shots beside the manifest, path relative to it: CSV as a spreadsheet exports
    /// it (UTF-8, with or without BOM; `.tsv` is tab-separated) or JSON Lines (`.jsonl`). The
    /// first line names the columns: shot fields (`id`, `prompt`, `model`, `size`,
    /// `duration`, `seed`, `audio`, `watermark`, `enabled`, `repeat`, and `media` as ref names
    /// separated by `|`) or template variables (any other name); an empty cell is not set, and
    /// a column whose name starts with `#` is a note. Each row is one shot.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub shots_from: Option<Spanned<String>>,
    /// Run settings; command-line flags override them.
    #[serde(default)]
    pub run: RunSection,
}

/// A matrix combination as written in `include`/`exclude`: axis name → value.
pub type Combo = SpannedMap<Spanned<Scalar>>;

/// Shot fields that `defaults` may set for every shot.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// The prompt; `@name` binds a ref, `{{var}}` inserts a variable.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub prompt: Option<Spanned<String>>,
    /// DashScope model id, e.g. `pixverse/pixverse-v5.6-r2v`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub model: Option<Spanned<String>>,
    /// Output size `"W*H"`, from the model's size table.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub size: Option<Spanned<String>>,
    /// Seconds of video.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub duration: Option<Spanned<Scalar>>,
    /// Generate sound (changes the price).
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub audio: Option<Spanned<Scalar>>,
    /// Add the "AI生成" watermark.
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub watermark: Option<Spanned<Scalar>>,
    /// Seed in [0, 2147483647]; random when absent.
    #[serde(default)]
    #[schemars(with = "Option<i64>")]
    pub seed: Option<Spanned<Scalar>>,
    /// Output tier, `360P` `480P` `540P` `720P` `1080P` as the model allows; with `ratio`,
    /// pixbatch writes what the model takes (a size, mode and aspect, …).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub resolution: Option<Spanned<String>>,
    /// Aspect ratio, `16:9`, `9:16`, `1:1`, … as the model allows; not for image-to-video.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub ratio: Option<Spanned<String>>,
    /// The ref whose image is the video's first frame.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub first_frame: Option<Spanned<String>>,
    /// The ref whose image is the video's last frame.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub last_frame: Option<Spanned<String>>,
    /// What the video should not show (models that take it).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub negative_prompt: Option<Spanned<String>>,
    /// Let the service rewrite the prompt (models that take it).
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub prompt_extend: Option<Spanned<Scalar>>,
    /// Explicit media list; when absent, the refs mentioned in the prompt.
    #[serde(default)]
    #[schemars(with = "Option<Vec<MediaItem>>")]
    pub media: Option<Spanned<Vec<Spanned<MediaItem>>>>,
    /// Template variables for this shot.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Scalar>")]
    pub vars: BTreeMap<String, Spanned<Scalar>>,
    /// Render this shot (default true).
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub enabled: Option<Spanned<bool>>,
    /// N independent samples of the same request (default 1).
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1))]
    pub repeat: Option<Spanned<u32>>,
    /// Merged into `parameters` verbatim, for API fields pixbatch does not know.
    #[serde(default)]
    #[schemars(with = "Option<BTreeMap<String, serde_json::Value>>")]
    pub extra: Option<Spanned<BTreeMap<String, JsonValue>>>,
}

/// One shot: a prompt with its references and parameters, maybe over a matrix.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Shot {
    /// Unique id, `[A-Za-z0-9._-]`, not starting with `.`; names the output files.
    #[schemars(with = "String", regex(pattern = r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$"))]
    pub id: Spanned<String>,
    /// The prompt; `@name` binds a ref, `{{var}}` inserts a variable.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub prompt: Option<Spanned<String>>,
    /// DashScope model id.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub model: Option<Spanned<String>>,
    /// Output size `"W*H"`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub size: Option<Spanned<String>>,
    /// Seconds of video.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub duration: Option<Spanned<Scalar>>,
    /// Generate sound (changes the price).
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub audio: Option<Spanned<Scalar>>,
    /// Add the "AI生成" watermark.
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub watermark: Option<Spanned<Scalar>>,
    /// Seed in [0, 2147483647]; random when absent.
    #[serde(default)]
    #[schemars(with = "Option<i64>")]
    pub seed: Option<Spanned<Scalar>>,
    /// Output tier, `360P` `480P` `540P` `720P` `1080P` as the model allows; with `ratio`,
    /// pixbatch writes what the model takes (a size, mode and aspect, …).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub resolution: Option<Spanned<String>>,
    /// Aspect ratio, `16:9`, `9:16`, `1:1`, … as the model allows; not for image-to-video.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub ratio: Option<Spanned<String>>,
    /// The ref whose image is the video's first frame.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub first_frame: Option<Spanned<String>>,
    /// The ref whose image is the video's last frame.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub last_frame: Option<Spanned<String>>,
    /// What the video should not show (models that take it).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub negative_prompt: Option<Spanned<String>>,
    /// Let the service rewrite the prompt (models that take it).
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub prompt_extend: Option<Spanned<Scalar>>,
    /// Explicit media list: ref names, or inline `{url, ref_name}`.
    #[serde(default)]
    #[schemars(with = "Option<Vec<MediaItem>>")]
    pub media: Option<Spanned<Vec<Spanned<MediaItem>>>>,
    /// Axes for this shot; they extend or override the global ones.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Vec<Scalar>>")]
    pub matrix: SpannedMap<Spanned<Vec<Spanned<Scalar>>>>,
    /// Extra combinations for this shot.
    #[serde(default)]
    #[schemars(with = "Vec<BTreeMap<String, Scalar>>")]
    pub include: Vec<Spanned<Combo>>,
    /// Combinations removed for this shot.
    #[serde(default)]
    #[schemars(with = "Vec<BTreeMap<String, Scalar>>")]
    pub exclude: Vec<Spanned<Combo>>,
    /// Template variables for this shot.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Scalar>")]
    pub vars: BTreeMap<String, Spanned<Scalar>>,
    /// Render this shot (default true).
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub enabled: Option<Spanned<bool>>,
    /// N independent samples of the same request (default 1).
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1))]
    pub repeat: Option<Spanned<u32>>,
    /// Merged into `parameters` verbatim.
    #[serde(default)]
    #[schemars(with = "Option<BTreeMap<String, serde_json::Value>>")]
    pub extra: Option<Spanned<BTreeMap<String, JsonValue>>>,
}

/// A shot's fields (and `defaults:`'s): the one list of their names and what each may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShotField {
    Prompt,
    Model,
    Size,
    Duration,
    Audio,
    Watermark,
    Seed,
    Resolution,
    Ratio,
    FirstFrame,
    LastFrame,
    NegativePrompt,
    PromptExtend,
    Id,
    Media,
    Matrix,
    Include,
    Exclude,
    Vars,
    Enabled,
    Repeat,
    Extra,
}

impl ShotField {
    /// Every field, the ones a job is made of (see [`ShotField::is_param`]) first.
    pub const ALL: [ShotField; 22] = [
        ShotField::Prompt,
        ShotField::Model,
        ShotField::Size,
        ShotField::Duration,
        ShotField::Audio,
        ShotField::Watermark,
        ShotField::Seed,
        ShotField::Resolution,
        ShotField::Ratio,
        ShotField::FirstFrame,
        ShotField::LastFrame,
        ShotField::NegativePrompt,
        ShotField::PromptExtend,
        ShotField::Id,
        ShotField::Media,
        ShotField::Matrix,
        ShotField::Include,
        ShotField::Exclude,
        ShotField::Vars,
        ShotField::Enabled,
        ShotField::Repeat,
        ShotField::Extra,
    ];

    /// The field's name in the manifest (and as a table's column).
    pub fn name(self) -> &'static str {
        match self {
            ShotField::Prompt => "prompt",
            ShotField::Model => "model",
            ShotField::Size => "size",
            ShotField::Duration => "duration",
            ShotField::Audio => "audio",
            ShotField::Watermark => "watermark",
            ShotField::Seed => "seed",
            ShotField::Resolution => "resolution",
            ShotField::Ratio => "ratio",
            ShotField::FirstFrame => "first_frame",
            ShotField::LastFrame => "last_frame",
            ShotField::NegativePrompt => "negative_prompt",
            ShotField::PromptExtend => "prompt_extend",
            ShotField::Id => "id",
            ShotField::Media => "media",
            ShotField::Matrix => "matrix",
            ShotField::Include => "include",
            ShotField::Exclude => "exclude",
            ShotField::Vars => "vars",
            ShotField::Enabled => "enabled",
            ShotField::Repeat => "repeat",
            ShotField::Extra => "extra",
        }
    }

    /// The field called `name`.
    pub fn named(name: &str) -> Option<ShotField> {
        ShotField::ALL.into_iter().find(|f| f.name() == name)
    }

    /// A value of the job: a matrix axis or an include entry may set it (any other axis is a
    /// template variable).
    pub fn is_param(self) -> bool {
        matches!(
            self,
            ShotField::Prompt
                | ShotField::Model
                | ShotField::Size
                | ShotField::Duration
                | ShotField::Audio
                | ShotField::Watermark
                | ShotField::Seed
                | ShotField::Resolution
                | ShotField::Ratio
                | ShotField::FirstFrame
                | ShotField::LastFrame
                | ShotField::NegativePrompt
                | ShotField::PromptExtend
        )
    }

    /// Sent in the request's `parameters`, so `extra:` may not override it.
    pub fn is_parameter(self) -> bool {
        matches!(
            self,
            ShotField::Size
                | ShotField::Duration
                | ShotField::Audio
                | ShotField::Watermark
                | ShotField::Seed
                | ShotField::Resolution
                | ShotField::Ratio
                | ShotField::PromptExtend
        )
    }

    /// A table's column may set it (`shots_from:`): everything a row can hold in one cell.
    pub fn in_tables(self) -> bool {
        !matches!(
            self,
            ShotField::Matrix | ShotField::Include | ShotField::Exclude | ShotField::Vars | ShotField::Extra
        )
    }

    /// The names of the fields an axis may set, for hints.
    pub fn param_names() -> impl Iterator<Item = &'static str> + Clone {
        ShotField::ALL.into_iter().filter(|f| f.is_param()).map(ShotField::name)
    }
}

/// A YAML scalar: the value of a matrix axis, a variable, or a field that may come from one.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(untagged)]
pub enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::Str(s) => f.write_str(s),
        }
    }
}

impl Scalar {
    /// Two scalars match (for include/exclude) when they print the same: `1` matches `"1"`.
    pub fn matches(&self, other: &Scalar) -> bool {
        self.to_string() == other.to_string()
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                i64::try_from(v).map(Scalar::Int).map_err(|_| E::custom("number too large"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Str(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Any JSON value, written in YAML; only `extra` takes these.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonValue(pub serde_json::Value);

impl<'de> Deserialize<'de> for JsonValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(d).map(JsonValue)
    }
}

/// Settings for `pixbatch run`; flags override them.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    /// Running tasks per family, e.g. `{c1: 5, v5.6: 5}`.
    #[serde(default)]
    pub concurrency: BTreeMap<String, u32>,
    /// CNY; stop submitting before crossing it.
    #[serde(default)]
    pub max_cost: Option<f64>,
    /// CNY for the whole storyboard, over every run of the manifest: billed + committed in
    /// the ledger + this run's spend never cross it (`--max-cost` still caps one run).
    #[serde(default)]
    pub budget: Option<f64>,
    /// Price overrides: model → tier (`720P`, or `720P+audio`) → CNY per second.
    #[serde(default)]
    pub prices: BTreeMap<String, BTreeMap<String, f64>>,
    /// Tasks submitted past a family's full 5 slots so that the service starts the next one
    /// the moment a slot frees (default 2; 0 turns it off). Only when the family runs at the
    /// service's full 5; a service that refuses them turns it off for the rest of the run.
    #[serde(default)]
    pub queue_ahead: Option<u32>,
    /// The order jobs are submitted in, within each model family: `longest-first` (the
    /// default: the jobs predicted to render longest go first, so the run does not end waiting
    /// on one long shot) or `manifest`.
    #[serde(default)]
    pub order: Option<Order>,
    /// Where tasks are created (`dashscope-api.md` §2): `cn-beijing` (the default; PixVerse's
    /// documented region) or `ap-southeast-1` (Singapore: needs a workspace id, from
    /// `--workspace` or `DASHSCOPE_WORKSPACE_ID`). `DASHSCOPE_BASE_URL` overrides both.
    #[serde(default)]
    pub region: Option<Region>,
    /// `first`: every generated ref with several candidates takes its first successful one
    /// without asking (as `generate: {pick: first}` does for one ref).
    #[serde(default)]
    pub auto_pick: Option<AutoPick>,
}

/// How a generated ref is picked without a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AutoPick {
    /// The first successful candidate, in manifest order.
    First,
}

/// A DashScope region pixbatch knows the endpoints of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Region {
    #[default]
    CnBeijing,
    #[serde(rename = "ap-southeast-1")]
    ApSoutheast1,
}

impl Region {
    /// Every region, for parsing its name.
    pub const ALL: [Region; 2] = [Region::CnBeijing, Region::ApSoutheast1];

    /// The region's name, as the manifest and `--region` write it.
    pub fn name(self) -> &'static str {
        match self {
            Region::CnBeijing => "cn-beijing",
            Region::ApSoutheast1 => "ap-southeast-1",
        }
    }
}

impl std::str::FromStr for Region {
    type Err = String;

    fn from_str(text: &str) -> Result<Region, String> {
        named(&Region::ALL, Region::name, text, "region")
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The value of `all` called `text`, else an error listing the names.
fn named<T: Copy>(all: &[T], name: fn(T) -> &'static str, text: &str, what: &str) -> Result<T, String> {
    all.iter().copied().find(|v| name(*v) == text).ok_or_else(|| {
        let names: Vec<String> = all.iter().map(|v| format!("`{}`", name(*v))).collect();
        format!("`{text}`: the {what} is {}", names.join(" or "))
    })
}

/// The order a run submits jobs in, within each model family.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Order {
    /// The jobs predicted to render longest first (ties in manifest order).
    #[default]
    LongestFirst,
    /// As written in the manifest.
    Manifest,
}

impl Order {
    /// Every order, for parsing its name.
    pub const ALL: [Order; 2] = [Order::LongestFirst, Order::Manifest];

    /// The order's name, as the manifest and `--order` write it.
    pub fn name(self) -> &'static str {
        match self {
            Order::LongestFirst => "longest-first",
            Order::Manifest => "manifest",
        }
    }
}

impl std::str::FromStr for Order {
    type Err = String;

    fn from_str(text: &str) -> Result<Order, String> {
        named(&Order::ALL, Order::name, text, "order")
    }
}

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A YAML map kept in the order it was written, with the location of every key.
#[derive(Debug, Clone)]
pub struct SpannedMap<V>(pub Vec<(Spanned<String>, V)>);

impl<V> Default for SpannedMap<V> {
    fn default() -> Self {
        SpannedMap(Vec::new())
    }
}

impl<V> SpannedMap<V> {
    /// The value under `key`, if any.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k.value == key).map(|(_, v)| v)
    }

    /// The entries, in written order.
    pub fn iter(&self) -> impl Iterator<Item = (&Spanned<String>, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for SpannedMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = SpannedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    let value = map.next_value::<V>()?;
                    entries.push((key, value));
                }
                Ok(SpannedMap(entries))
            }
        }
        d.deserialize_map(MapVisitor(std::marker::PhantomData))
    }
}
