//! A job: one request to DashScope, its identity (key) and where its video goes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Value, json};

use crate::catalog::{Family, Tier};
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
}

impl MediaSource {
    /// The URL to send, for a local file a `file://` placeholder until it is uploaded.
    pub fn request_url(&self) -> String {
        match self {
            MediaSource::Url(url) => url.clone(),
            MediaSource::Local { path, .. } => format!("file://{}", path.display()),
        }
    }

    /// What identifies the image for the job key.
    fn key_source(&self) -> String {
        match self {
            MediaSource::Url(url) => url.clone(),
            MediaSource::Local { content_hash, .. } => format!("blake3:{content_hash}"),
        }
    }
}

/// One reference image of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub source: MediaSource,
    pub ref_name: Option<String>,
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
    pub size: String,
    /// `None` for a model the catalog does not know.
    pub tier: Option<Tier>,
    pub duration: u32,
    pub audio: bool,
    pub watermark: bool,
    pub seed: Option<i64>,
    /// 0-based sample index for `repeat`.
    pub sample: u32,
    pub prompt: String,
    pub media: Vec<Media>,
    /// Unknown API parameters, merged into `parameters` verbatim.
    pub extra: BTreeMap<String, Value>,
    /// Path of the video relative to the output folder.
    pub output: PathBuf,
    /// CNY per second of output (the catalog's, or the manifest's `run.prices`); not in the key.
    pub price_per_second: Option<f64>,
}

/// Exactly what determines a job's video, hashed into its key. Nothing about the manifest's
/// layout (order, comments, formatting, where a value was set) is in here.
#[derive(Serialize)]
struct KeyMaterial<'a> {
    format: u32,
    model: &'a str,
    prompt: &'a str,
    media: Vec<KeyMedia<'a>>,
    parameters: BTreeMap<String, Value>,
    sample: u32,
}

#[derive(Serialize)]
struct KeyMedia<'a> {
    source: String,
    ref_name: Option<&'a str>,
}

impl Job {
    /// The `parameters` object of the request, extra fields included.
    pub fn parameters(&self) -> BTreeMap<String, Value> {
        let mut p: BTreeMap<String, Value> = self.extra.clone();
        p.insert("size".into(), self.size.clone().into());
        p.insert("duration".into(), self.duration.into());
        p.insert("audio".into(), self.audio.into());
        p.insert("watermark".into(), self.watermark.into());
        if let Some(seed) = self.seed {
            p.insert("seed".into(), seed.into());
        }
        p
    }

    /// The exact JSON body of the create-task request (local files as `file://` placeholders).
    pub fn request_body(&self) -> Value {
        let media: Vec<Value> = self
            .media
            .iter()
            .map(|m| {
                let mut item = json!({"type": "image_url", "url": m.source.request_url()});
                if let Some(name) = &m.ref_name {
                    item["ref_name"] = name.clone().into();
                }
                item
            })
            .collect();
        json!({
            "model": self.model,
            "input": {"prompt": self.prompt, "media": media},
            "parameters": self.parameters(),
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
                .map(|m| KeyMedia { source: m.source.key_source(), ref_name: m.ref_name.as_deref() })
                .collect(),
            parameters: self.parameters().into_iter().map(|(k, v)| (k, canonical(v))).collect(),
            sample: self.sample,
        };
        // serde_json maps are sorted (no preserve_order), so this encoding is canonical.
        let bytes = serde_json::to_vec(&material).unwrap_or_default();
        JobKey::new(blake3::hash(&bytes).to_hex().to_string())
    }

    /// The human name: `shot` or `shot[variant]`.
    pub fn name(&self) -> String {
        if self.variant.is_empty() { self.shot.clone() } else { format!("{}[{}]", self.shot, self.variant) }
    }
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
