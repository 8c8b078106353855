//! References: each `refs:` entry resolved once to a URL or a checked local file (it must
//! exist, be an image, a video or an audio file the service reads, and not be too large), with
//! what it is (image, video, audio) and, for a local video, its length.

use std::collections::BTreeMap;
use std::path::Path;

use super::job::MediaSource;
use crate::catalog::MediaKind;
use crate::manifest::{Diagnostic, Diagnostics, Loaded, RefKind, Span};

/// A resolved reference.
#[derive(Debug, Clone, PartialEq)]
pub struct Ref {
    pub source: MediaSource,
    pub kind: MediaKind,
    /// Seconds of a local video, read from its MP4 header.
    pub seconds: Option<f64>,
    /// Width and height of a local image, from its header.
    pub dims: Option<(u32, u32)>,
    /// Bytes of a local file.
    pub bytes: Option<u64>,
}

/// JPG, PNG or WEBP by magic bytes.
pub fn image_kind(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// What a file is and its MIME type, by magic bytes: an image (JPG/PNG/WEBP), a video
/// (MP4/MOV) or audio (WAV/MP3).
pub fn media_kind(bytes: &[u8]) -> Option<(MediaKind, &'static str)> {
    if let Some(mime) = image_kind(bytes) {
        Some((MediaKind::Image, mime))
    } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        Some((MediaKind::Video, if &bytes[8..10] == b"qt" { "video/quicktime" } else { "video/mp4" }))
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
        Some((MediaKind::Audio, "audio/wav"))
    } else if bytes.starts_with(b"ID3") || (bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0) {
        Some((MediaKind::Audio, "audio/mpeg"))
    } else {
        None
    }
}

/// The length in seconds of an MP4/MOV file, from its `moov/mvhd` box.
pub fn mp4_seconds(bytes: &[u8]) -> Option<f64> {
    let moov = find_box(bytes, b"moov")?;
    let mvhd = find_box(moov, b"mvhd")?;
    let (scale, duration) = match *mvhd.first()? {
        0 => (be(mvhd.get(12..16)?), be(mvhd.get(16..20)?)),
        1 => (be(mvhd.get(20..24)?), be(mvhd.get(24..32)?)),
        _ => return None,
    };
    (scale > 0).then(|| duration as f64 / scale as f64)
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b))
}

/// The body of the first box of type `name` in a run of ISO-BMFF boxes.
fn find_box<'a>(mut bytes: &'a [u8], name: &[u8; 4]) -> Option<&'a [u8]> {
    while bytes.len() >= 8 {
        let size = be(&bytes[..4]);
        let (header, size) = match size {
            1 => (16, usize::try_from(be(bytes.get(8..16)?)).ok()?),
            0 => (8, bytes.len()),
            n => (8, usize::try_from(n).ok()?),
        };
        if size < header || size > bytes.len() {
            return None;
        }
        if &bytes[4..8] == name {
            return Some(&bytes[header..size]);
        }
        bytes = &bytes[size..];
    }
    None
}

/// The most bytes the service takes for a reference of each kind.
pub fn max_bytes(kind: MediaKind) -> u64 {
    match kind {
        MediaKind::Image => 20 * 1024 * 1024,
        MediaKind::Video => 100 * 1024 * 1024,
        MediaKind::Audio => 15 * 1024 * 1024,
    }
}

fn kind_of(k: RefKind) -> MediaKind {
    match k {
        RefKind::Image => MediaKind::Image,
        RefKind::Video => MediaKind::Video,
        RefKind::Audio => MediaKind::Audio,
    }
}

/// A URL's kind by its path's extension (an image unless it says otherwise).
fn url_kind(url: &str) -> MediaKind {
    let path = url.split(['?', '#']).next().unwrap_or(url).to_ascii_lowercase();
    let ext = path.rsplit('.').next().unwrap_or("");
    match ext {
        "mp4" | "mov" | "avi" | "webm" | "mkv" => MediaKind::Video,
        "wav" | "mp3" | "m4a" | "aac" => MediaKind::Audio,
        _ => MediaKind::Image,
    }
}

/// Resolves every ref once: URL or local file (which must exist and be a media file).
pub(super) fn resolve_all(loaded: &Loaded, diags: &mut Diagnostics) -> BTreeMap<String, Ref> {
    let m = &loaded.manifest;
    let mut refs = BTreeMap::new();
    for (name, spec) in &m.refs {
        let span = Some(Span::at(spec));
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '@') {
            diags.push(
                Diagnostic::error(format!("ref name `{name}` cannot be used as @{name}"), span)
                    .hint("a ref name must be non-empty, without spaces or `@`"),
            );
            continue;
        }
        // A generated ref is resolved with its stage (`stages::resolve`).
        let Some(target) = spec.value.target() else { continue };
        if let Some(r) = resolve_target(&loaded.dir, diags, target, spec.value.kind(), span) {
            refs.insert(name.clone(), r);
        }
    }
    refs
}

/// A URL stays a URL; anything else is a local file relative to the manifest.
pub(super) fn resolve_target(
    dir: &Path,
    diags: &mut Diagnostics,
    target: &str,
    kind: Option<RefKind>,
    span: Option<Span>,
) -> Option<Ref> {
    let said = kind.map(kind_of);
    let target = target.trim();
    let lower = target.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return match url::Url::parse(target) {
            Ok(u) if u.host_str().is_some_and(|h| !h.is_empty()) => Some(Ref {
                source: MediaSource::Url(target.to_owned()),
                kind: said.unwrap_or_else(|| url_kind(target)),
                seconds: None,
                dims: None,
                bytes: None,
            }),
            Ok(_) | Err(_) => {
                diags.push(Diagnostic::error(format!("`{target}` is not a valid URL"), span).label("here"));
                None
            }
        };
    }
    if lower.starts_with("oss://") {
        let kind = said.unwrap_or_else(|| url_kind(target));
        return Some(Ref { source: MediaSource::Url(target.to_owned()), kind, seconds: None, dims: None, bytes: None });
    }
    if let Some((scheme, _)) = target.split_once("://")
        && scheme != "file"
    {
        diags.push(
            Diagnostic::error(format!("unsupported URL scheme `{scheme}://`"), span)
                .hint("use an https:// URL, an oss:// URL, or a path to a local file"),
        );
        return None;
    }
    let path_text = target.strip_prefix("file://").unwrap_or(target);
    if path_text.is_empty() {
        diags.push(Diagnostic::error("empty reference path", span));
        return None;
    }
    let path = dir.join(path_text);
    let local = check_local(diags, &path, said, span)?;
    Some(Ref {
        source: MediaSource::Local { path, content_hash: local.content_hash },
        kind: local.kind,
        seconds: local.seconds,
        dims: local.dims,
        bytes: Some(local.bytes),
    })
}

/// What a local file is, as read once.
struct Local {
    content_hash: String,
    kind: MediaKind,
    seconds: Option<f64>,
    dims: Option<(u32, u32)>,
    bytes: u64,
}

/// A local reference must exist, be an image, video or audio file (of the kind the manifest
/// says, if it says), and not be larger than the service takes; returns its hash, kind and,
/// for a video, its length, for an image its size in pixels.
fn check_local(diags: &mut Diagnostics, path: &Path, said: Option<MediaKind>, span: Option<Span>) -> Option<Local> {
    let shown = crate::manifest::diag::display_path(path);
    let meta = match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => meta,
        Ok(_) => {
            diags.push(Diagnostic::error(format!("reference `{shown}` is not a file"), span));
            return None;
        }
        Err(e) => {
            diags.push(
                Diagnostic::error(format!("reference file `{shown}` cannot be read: {e}"), span)
                    .label("relative paths start at the manifest's folder")
                    .hint("use a URL (https://…) or fix the path"),
            );
            return None;
        }
    };
    let largest = max_bytes(MediaKind::Video);
    if meta.len() > largest {
        diags.push(
            Diagnostic::error(
                format!("reference `{shown}` is {} bytes; the service takes at most 100 MB", meta.len()),
                span,
            )
            .hint("shrink or recompress the file"),
        );
        return None;
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            diags.push(Diagnostic::error(format!("reference file `{shown}` cannot be read: {e}"), span));
            return None;
        }
    };
    let Some((kind, _)) = media_kind(&bytes) else {
        diags.push(
            Diagnostic::error(
                format!("reference `{shown}` is not a JPG, PNG or WEBP image, an MP4/MOV video or a WAV/MP3 file"),
                span,
            )
            .hint("the service accepts these formats only"),
        );
        return None;
    };
    if let Some(said) = said.filter(|k| *k != kind) {
        diags.push(
            Diagnostic::error(
                format!("reference `{shown}` is marked `kind: {}` but is {}", said.name(), kind.name()),
                span,
            )
            .hint(format!("write `kind: {}`, or point at the right file", kind.name())),
        );
        return None;
    }
    if meta.len() > max_bytes(kind) {
        diags.push(
            Diagnostic::error(
                format!(
                    "reference `{shown}` is {} bytes; the service takes at most {} MB for {}",
                    meta.len(),
                    max_bytes(kind) / (1024 * 1024),
                    kind.name()
                ),
                span,
            )
            .hint("shrink or recompress the file"),
        );
        return None;
    }
    let seconds = (kind == MediaKind::Video).then(|| mp4_seconds(&bytes)).flatten();
    let dims = (kind == MediaKind::Image)
        .then(|| imagesize::blob_size(&bytes).ok())
        .flatten()
        .and_then(|d| Some((u32::try_from(d.width).ok()?, u32::try_from(d.height).ok()?)));
    Some(Local { content_hash: blake3::hash(&bytes).to_hex().to_string(), kind, seconds, dims, bytes: meta.len() })
}
