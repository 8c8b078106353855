//! A job: one request to DashScope, its identity (key) and where its video goes.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Value, json};

use crate::catalog::{Endpoint, Family, Layout, MediaKind, Role, Tier};
use crate::key::JobKey;

/// Bumped whenever the key material changes shape, so old ledgers never match by accident.
pub const KEY_FORMAT: u32 = 1;

/// Where a reference image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaSource {
    /// A URL the service fetches itself (`https://`, `oss://`).
    Url(String),
    /// A local file, uploaded to temporary storage before submitting.
    Local {
        path: PathBuf,
        /// blake3 of the file's bytes: the job key uses it, not the temporary URL.
        content_hash: String,
    },
    /// The picked candidate of a generated ref: a local file in the output folder, uploaded
    /// like one, and keyed by its sha256 (the ledger's checksum of it).
    Picked { path: PathBuf, sha256: String },
    /// A generated ref with no pick yet: the job waits for it and is not sent.
    Waiting(String),
}

impl MediaSource {
    /// The URL to send, for a local file a `file://` placeholder until it is uploaded.
    pub fn request_url(&self) -> String {
        match self {
            MediaSource::Url(url) => url.clone(),
            MediaSource::Local { path, .. } | MediaSource::Picked { path, .. } => format!("file://{}", path.display()),
            MediaSource::Waiting(name) => format!("waiting://{name}"),
        }
    }

    /// What identifies the image for the job key.
    fn key_source(&self) -> String {
        match self {
            MediaSource::Url(url) => url.clone(),
            MediaSource::Local { content_hash, .. } => format!("blake3:{content_hash}"),
            MediaSource::Picked { sha256, .. } => format!("sha256:{sha256}"),
            MediaSource::Waiting(name) => format!("waiting:{name}"),
        }
    }

    /// A file to upload before sending, with what identifies its content (the upload cache's
    /// key).
    pub fn local_file(&self) -> Option<(&std::path::Path, &str)> {
        match self {
            MediaSource::Local { path, content_hash } => Some((path, content_hash)),
            MediaSource::Picked { path, sha256 } => Some((path, sha256)),
            MediaSource::Url(_) | MediaSource::Waiting(_) => None,
        }
    }
}

/// What a job makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    /// One video.
    Video,
    /// `n` candidate images of a generated ref (one task, `parameters.n`).
    Images { n: u32 },
}

/// When a job can run: a generated ref's candidates by depth in the ref graph (a keyframe
/// made from other generated refs comes after them), the clips last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    Refs(u32),
    Clips,
}

impl Stage {
    pub fn name(self) -> String {
        match self {
            Stage::Refs(0) => "refs".to_owned(),
            Stage::Refs(d) => format!("refs {}", d + 1),
            Stage::Clips => "clips".to_owned(),
        }
    }
}

/// One media item of a job: a reference, a frame, a clip or audio.
#[derive(Debug, Clone, PartialEq)]
pub struct Media {
    pub source: MediaSource,
    /// The ref's name in the manifest (not sent, not in the key).
    pub name: Option<String>,
    /// The `ref_name` sent with the item (PixVerse binds `@name` with it).
    pub ref_name: Option<String>,
    pub role: Role,
    pub kind: MediaKind,
    /// Its name in the request: a `media[]` item's `type`, or an `input` field (see
    /// [`crate::catalog::Layout`]).
    pub wire: &'static str,
}

/// One render: what is sent, its key, and its output file.
#[derive(Debug, Clone)]
pub struct Job {
    /// blake3 hex of the canonical request: the job's identity across runs.
    pub key: JobKey,
    pub shot: String,
    /// Axis values, `k=v` sorted by key and joined with `,`; empty when the shot has none.
    pub variant: String,
    pub model: String,
    pub family: Family,
    /// Where the create request goes.
    pub endpoint: Endpoint,
    /// How media go in the body.
    pub layout: Layout,
    /// The output shape as shown: `1280*720`, or `720P 16:9` for a model without sizes.
    pub size: String,
    /// `None` for a model the catalog does not know.
    pub tier: Option<Tier>,
    pub duration: u32,
    /// The video has sound (set, or the model always makes it): it decides the price.
    pub audio: bool,
    pub watermark: bool,
    pub seed: Option<i64>,
    /// 0-based sample index for `repeat`.
    pub sample: u32,
    /// The prompt as sent: mentions written in the model's own syntax.
    pub prompt: String,
    pub media: Vec<Media>,
    /// `input` fields besides the prompt and media (`negative_prompt`).
    pub input: BTreeMap<String, Value>,
    /// The request's `parameters`, exactly as sent (`extra:` merged in).
    pub params: BTreeMap<String, Value>,
    /// Path of the video relative to the output folder.
    pub output: PathBuf,
    /// CNY per second of output (the catalog's, or the manifest's `run.prices`); not in the key.
    pub price_per_second: Option<f64>,
    /// Reference-video seconds billed on top of the output (Wan r2v); not in the key.
    pub billed_input_seconds: f64,
    /// A video, or a generated ref's candidate images.
    pub product: Product,
    /// CNY per successful image, for an image job; not in the key.
    pub price_per_image: Option<f64>,
    /// Where its price came from (the catalog, or the manifest's `run.prices`).
    pub price_source: crate::ledger::money::PriceSource,
    pub stage: Stage,
    /// Generated refs it uses that have no pick yet: it is `waiting` and is not sent.
    pub waiting: Vec<String>,
}

/// Exactly what determines a job's video, hashed into its key. Nothing about the manifest's
/// layout (order, comments, formatting, where a value was set) is in here. Fields a PixVerse
/// r2v job does not have are left out when empty, so its key is what it always was.
#[derive(Serialize)]
struct KeyMaterial<'a> {
    format: u32,
    model: &'a str,
    prompt: &'a str,
    media: Vec<KeyMedia<'a>>,
    parameters: BTreeMap<&'a str, Cow<'a, Value>>,
    sample: u32,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    input: BTreeMap<&'a str, Cow<'a, Value>>,
}

#[derive(Serialize)]
struct KeyMedia<'a> {
    source: String,
    ref_name: Option<&'a str>,
    /// The item's `type` or field, unless it is a PixVerse reference image (`image_url`).
    #[serde(skip_serializing_if = "Option::is_none")]
    wire: Option<&'a str>,
}

impl Job {
    /// The `parameters` object of the request, extra fields included.
    pub fn parameters(&self) -> BTreeMap<String, Value> {
        self.params.clone()
    }

    /// Where local media go in [`Job::request_body`]: a JSON pointer per media item.
    pub fn media_pointer(&self, index: usize) -> String {
        match self.layout {
            Layout::MediaList => format!("/input/media/{index}/url"),
            Layout::Messages => format!("/input/messages/0/content/{index}/image"),
            Layout::Fields => format!("/input/{}", self.media[index].wire),
            Layout::UrlList(field) => {
                let nth = self.media[..index].iter().filter(|m| m.wire == field).count();
                format!("/input/{field}/{nth}")
            }
        }
    }

    /// The exact JSON body of the create-task request (local files as `file://` placeholders).
    pub fn request_body(&self) -> Value {
        let mut input = serde_json::Map::new();
        if self.layout == Layout::Messages {
            let mut content: Vec<Value> =
                self.media.iter().map(|m| json!({ "image": m.source.request_url() })).collect();
            content.push(json!({ "text": self.prompt }));
            input.insert("messages".into(), json!([{ "role": "user", "content": content }]));
        } else if !self.prompt.is_empty() {
            // An image-to-video job may have no prompt: none is sent.
            input.insert("prompt".into(), self.prompt.clone().into());
        }
        match self.layout {
            Layout::MediaList => {
                if !self.media.is_empty() {
                    let items: Vec<Value> = self
                        .media
                        .iter()
                        .map(|m| {
                            let mut item = json!({"type": m.wire, "url": m.source.request_url()});
                            if let Some(name) = &m.ref_name {
                                item["ref_name"] = name.clone().into();
                            }
                            item
                        })
                        .collect();
                    input.insert("media".into(), items.into());
                }
            }
            Layout::Messages => {}
            Layout::Fields => {
                for m in &self.media {
                    input.insert(m.wire.into(), m.source.request_url().into());
                }
            }
            Layout::UrlList(field) => {
                let urls: Vec<Value> =
                    self.media.iter().filter(|m| m.wire == field).map(|m| m.source.request_url().into()).collect();
                input.insert(field.into(), urls.into());
                for m in self.media.iter().filter(|m| m.wire != field) {
                    input.insert(m.wire.into(), m.source.request_url().into());
                }
            }
        }
        for (k, v) in &self.input {
            input.insert(k.clone(), v.clone());
        }
        json!({
            "model": self.model,
            "input": input,
            "parameters": self.params,
        })
    }

    /// Computes the key from the fields; call after every field is final.
    pub fn compute_key(&self) -> JobKey {
        let material = KeyMaterial {
            format: KEY_FORMAT,
            model: &self.model,
            prompt: &self.prompt,
            media: self
                .media
                .iter()
                .map(|m| KeyMedia {
                    source: m.source.key_source(),
                    ref_name: m.ref_name.as_deref(),
                    wire: (m.wire != PIXVERSE_REFERENCE).then_some(m.wire),
                })
                .collect(),
            parameters: canonical_map(&self.params),
            sample: self.sample,
            input: canonical_map(&self.input),
        };
        // serde_json maps are sorted (no preserve_order), so this encoding is canonical.
        let bytes = serde_json::to_vec(&material).unwrap_or_default();
        JobKey::new(blake3::hash(&bytes).to_hex().to_string())
    }

    /// Where candidate `index` of an image job goes when it is not the first good one (which
    /// is the job's output): `stem-N.png`, N 1-based.
    pub fn candidate_path(&self, index: u32) -> PathBuf {
        let stem = self.output.file_stem().and_then(|s| s.to_str()).unwrap_or("image");
        self.output.with_file_name(format!("{stem}-{}.png", index + 1))
    }

    /// The human name: `shot` or `shot[variant]`.
    pub fn name(&self) -> String {
        if self.variant.is_empty() { self.shot.clone() } else { format!("{}[{}]", self.shot, self.variant) }
    }
}

/// The media `type` of every job keyed before the catalog grew: left out of the key material.
const PIXVERSE_REFERENCE: &str = "image_url";

/// A map's values for the key material: scalars as they are, nested values re-sorted.
fn canonical_map(map: &BTreeMap<String, Value>) -> BTreeMap<&str, Cow<'_, Value>> {
    map.iter()
        .map(|(k, v)| {
            let v = match v {
                Value::Object(_) | Value::Array(_) => Cow::Owned(canonical(v.clone())),
                _ => Cow::Borrowed(v),
            };
            (k.as_str(), v)
        })
        .collect()
}

/// Re-sorts nested objects (they already are without `preserve_order`; this keeps the key
/// stable even if that feature is ever switched on by another crate).
fn canonical(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let sorted: BTreeMap<String, Value> = map.into_iter().map(|(k, v)| (k, canonical(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// Turns a variant label into a file-name-safe slug: `seed=2,size=720*1280` →
/// `seed-2_size-720x1280`; very long labels are cut and suffixed with a hash.
pub fn slug(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for ch in label.chars() {
        match ch {
            '=' => out.push('-'),
            ',' => out.push('_'),
            '*' => out.push('x'),
            c if c.is_ascii_alphanumeric() || c == '.' || c == '-' => out.push(c),
            _ => out.push('_'),
        }
    }
    let out = out.trim_start_matches('.').to_owned();
    if out.len() > 120 {
        let hash = blake3::hash(label.as_bytes()).to_hex();
        format!("{}-{}", &out[..100], &hash[..10])
    } else if out.is_empty() {
        "default".to_owned()
    } else {
        out
    }
}
