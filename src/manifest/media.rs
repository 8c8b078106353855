//! What a manifest names as media: a ref (a URL or a local file, and what it is) and the items
//! of an explicit `media:` list.

use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A reference image: a URL (`https://`, `oss://`), `{url: …}`, a local path, or
/// `{generate: …}`: made by an image model, its candidates picked by a person.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(untagged)]
pub enum RefSpec {
    /// A URL, or a path relative to the manifest.
    Plain(String),
    /// `{url: …, kind: video}`.
    Object {
        /// A URL, or a path relative to the manifest.
        url: String,
        /// `image`, `video` or `audio`; by default read from the file, or the URL's extension.
        #[serde(default)]
        kind: Option<RefKind>,
    },
    /// `{generate: {prompt: …}}`: an image model makes candidates; one is picked.
    Generate { generate: Box<Generate> },
}

/// How an image model makes a ref's candidates (DESIGN.md § Stages).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Generate {
    /// An async image model (default `wan2.7-image`).
    #[serde(default)]
    pub model: Option<String>,
    /// What to make; `@name` mentions other refs, sent as input images.
    pub prompt: String,
    /// `W*H` or the model's tier (`1K`, `2K`).
    #[serde(default)]
    pub size: Option<String>,
    /// A tier (`1K`, `2K`), with `ratio` made into the model's size.
    #[serde(default)]
    pub resolution: Option<String>,
    /// `16:9`, `3:4`, …
    #[serde(default)]
    pub ratio: Option<String>,
    #[serde(default)]
    pub seed: Option<i64>,
    /// Images per task (default 1; pixbatch always sends it).
    #[serde(default)]
    pub n: Option<u32>,
    #[serde(default)]
    pub negative_prompt: Option<String>,
    /// Axes over `seed`, `model`, `size`, `resolution`, `ratio`, `prompt`: one task each.
    #[serde(default)]
    pub matrix: std::collections::BTreeMap<String, Vec<serde_json::Value>>,
    /// Tasks per combination (default 1).
    #[serde(default)]
    pub repeat: Option<u32>,
    /// `first`: take the first successful candidate without asking.
    #[serde(default)]
    pub pick: Option<super::model::AutoPick>,
}

/// What a ref is, when its URL does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RefKind {
    Image,
    Video,
    Audio,
}

impl RefSpec {
    /// What was written, URL or path; `None` for a generated ref.
    pub fn target(&self) -> Option<&str> {
        match self {
            RefSpec::Plain(s) | RefSpec::Object { url: s, .. } => Some(s),
            RefSpec::Generate { .. } => None,
        }
    }

    /// The kind written, if any (a generated ref is an image).
    pub fn kind(&self) -> Option<RefKind> {
        match self {
            RefSpec::Plain(_) => None,
            RefSpec::Object { kind, .. } => *kind,
            RefSpec::Generate { .. } => Some(RefKind::Image),
        }
    }

    /// The generation, for a generated ref.
    pub fn generate(&self) -> Option<&Generate> {
        match self {
            RefSpec::Generate { generate } => Some(generate),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for RefSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Obj {
            #[serde(default)]
            url: Option<String>,
            #[serde(default)]
            kind: Option<RefKind>,
            #[serde(default)]
            generate: Option<Box<Generate>>,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RefSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a URL, a local path, a map {url: …, kind: image|video|audio}, or {generate: {prompt: …}}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RefSpec, E> {
                Ok(RefSpec::Plain(v.to_owned()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RefSpec, A::Error> {
                match Obj::deserialize(de::value::MapAccessDeserializer::new(map))? {
                    Obj { url: Some(url), kind, generate: None } => Ok(RefSpec::Object { url, kind }),
                    Obj { url: None, kind: None | Some(RefKind::Image), generate: Some(generate) } => {
                        Ok(RefSpec::Generate { generate })
                    }
                    Obj { url: None, generate: None, .. } => Err(de::Error::missing_field("url")),
                    _ => Err(de::Error::custom("a ref has either `url` or `generate`, not both")),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// One item of an explicit `media` list: a ref name, or an inline image.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(untagged)]
pub enum MediaItem {
    /// The name of an entry in `refs`.
    Ref(String),
    /// An inline image.
    Inline {
        /// A URL, or a path relative to the manifest.
        url: String,
        /// The name the prompt uses as `@ref_name`.
        #[serde(default)]
        ref_name: Option<String>,
    },
    /// A ref in a role of its own: `{ref: walk, as: first_clip}` (`reference`, `first_frame`,
    /// `last_frame`, `driving_audio`, `first_clip`, as the model takes them).
    RefAs {
        /// The name of an entry in `refs`.
        #[serde(rename = "ref")]
        name: String,
        /// The role.
        #[serde(rename = "as")]
        role: String,
    },
}

impl<'de> Deserialize<'de> for MediaItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Obj {
            #[serde(default)]
            url: Option<String>,
            #[serde(default)]
            ref_name: Option<String>,
            #[serde(default, rename = "ref")]
            name: Option<String>,
            #[serde(default, rename = "as")]
            role: Option<String>,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MediaItem;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a ref name, a map {url: …, ref_name: …}, or a map {ref: …, as: …}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MediaItem, E> {
                Ok(MediaItem::Ref(v.to_owned()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<MediaItem, A::Error> {
                let obj = Obj::deserialize(de::value::MapAccessDeserializer::new(map))?;
                match obj {
                    Obj { url: Some(url), ref_name, name: None, role: None } => Ok(MediaItem::Inline { url, ref_name }),
                    Obj { url: None, ref_name: None, name: Some(name), role: Some(role) } => {
                        Ok(MediaItem::RefAs { name, role })
                    }
                    Obj { url: None, ref_name: None, name: Some(name), role: None } => Ok(MediaItem::Ref(name)),
                    _ => Err(de::Error::custom(
                        "write a media item as a ref name, {url: …, ref_name: …} or {ref: …, as: …}",
                    )),
                }
            }
        }
        d.deserialize_any(V)
    }
}
