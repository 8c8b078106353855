//! Reference images: each `refs:` entry resolved once to a URL or a checked local file (it
//! must exist, be a JPG/PNG/WEBP and be at most 20 MB), and what a file's bytes say it is.

use std::collections::BTreeMap;
use std::path::Path;

use super::expand::REF_MAX_BYTES;
use super::job::MediaSource;
use crate::manifest::{Diagnostic, Diagnostics, Loaded, Span};

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

/// Resolves every ref once: URL or local file (which must exist and be an image).
pub(super) fn resolve_all(loaded: &Loaded, diags: &mut Diagnostics) -> BTreeMap<String, MediaSource> {
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
        if let Some(source) = resolve_target(&loaded.dir, diags, spec.value.target(), span) {
            refs.insert(name.clone(), source);
        }
    }
    refs
}

/// A URL stays a URL; anything else is a local file relative to the manifest.
pub(super) fn resolve_target(
    dir: &Path,
    diags: &mut Diagnostics,
    target: &str,
    span: Option<Span>,
) -> Option<MediaSource> {
    let target = target.trim();
    let lower = target.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return match url::Url::parse(target) {
            Ok(u) if u.host_str().is_some_and(|h| !h.is_empty()) => Some(MediaSource::Url(target.to_owned())),
            Ok(_) | Err(_) => {
                diags.push(Diagnostic::error(format!("`{target}` is not a valid URL"), span).label("here"));
                None
            }
        };
    }
    if lower.starts_with("oss://") {
        return Some(MediaSource::Url(target.to_owned()));
    }
    if let Some((scheme, _)) = target.split_once("://")
        && scheme != "file"
    {
        diags.push(
            Diagnostic::error(format!("unsupported URL scheme `{scheme}://`"), span)
                .hint("use an https:// URL, an oss:// URL, or a path to a local JPG/PNG/WEBP file"),
        );
        return None;
    }
    let path_text = target.strip_prefix("file://").unwrap_or(target);
    if path_text.is_empty() {
        diags.push(Diagnostic::error("empty reference image path", span));
        return None;
    }
    let path = dir.join(path_text);
    check_local_image(diags, &path, span).map(|content_hash| MediaSource::Local { path, content_hash })
}

/// A local reference must exist, be a JPG/PNG/WEBP, and be at most 20 MB.
fn check_local_image(diags: &mut Diagnostics, path: &Path, span: Option<Span>) -> Option<String> {
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
    if meta.len() > REF_MAX_BYTES {
        diags.push(
            Diagnostic::error(
                format!("reference `{shown}` is {} bytes; the service takes at most 20 MB", meta.len()),
                span,
            )
            .hint("shrink or recompress the image"),
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
    if image_kind(&bytes).is_none() {
        diags.push(
            Diagnostic::error(format!("reference `{shown}` is not a JPG, PNG or WEBP image"), span)
                .hint("the service accepts JPG, PNG and WEBP only"),
        );
        return None;
    }
    Some(blake3::hash(&bytes).to_hex().to_string())
}
