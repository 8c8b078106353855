//! Reading a manifest: bytes → YAML → typed [`Manifest`], every problem located.
//!
//! This module owns parsing only. Checks that span several fields, and the expansion into
//! jobs, live in [`crate::plan`].

pub mod diag;
mod media;
pub mod model;
pub mod table;

use std::path::{Path, PathBuf};

pub use diag::{Diagnostic, Diagnostics, Severity, Source, SourceId, Span};
pub use model::{
    AutoPick, Combo, Defaults, Generate, Manifest, MediaItem, Order, RefKind, RefSpec, Region, RunSection, Scalar,
    Shot, ShotField, SpannedMap,
};
pub use table::{Column, ColumnKind, Table};

/// A manifest larger than this is refused before parsing (a real one is a few hundred KiB).
pub const MAX_MANIFEST_BYTES: usize = 16 * 1024 * 1024;

/// The manifest fields, for "did you mean" on unknown top-level fields.
const TOP_FIELDS: &[&str] = &[
    "version",
    "name",
    "output",
    "defaults",
    "refs",
    "vars",
    "matrix",
    "include",
    "exclude",
    "shots",
    "shots_from",
    "run",
];

/// A parsed manifest with its source and folder.
#[derive(Debug)]
pub struct Loaded {
    pub source: Source,
    /// The manifest as written, except its `shots`, which are in [`Loaded::shots`].
    pub manifest: Manifest,
    /// Every shot, in storyboard order: the manifest's `shots`, then its table's rows.
    pub shots: Vec<Shot>,
    /// The table named by `shots_from`.
    pub table: Option<Table>,
    /// The folder the manifest is in; relative paths start here.
    pub dir: PathBuf,
    /// Problems of the table's rows, found while reading it; the rows were left out, and the
    /// checks of [`crate::plan::expand`] report these with their own.
    pub problems: Vec<Diagnostic>,
}

impl Loaded {
    /// A sink for this manifest's problems, which knows its table and holds the problems found
    /// while reading it.
    pub fn diagnostics(&self) -> Diagnostics {
        let mut diags = Diagnostics::with_table(self.source.clone(), self.table.as_ref().map(|t| t.source.clone()));
        for problem in &self.problems {
            diags.push(problem.clone());
        }
        diags
    }
}

/// Reads and parses a manifest file; an unreadable or malformed file gives located problems.
pub fn load(path: &Path) -> Result<Loaded, Diagnostics> {
    let source_for = |text: &str| Source { path: path.to_path_buf(), text: text.into() };
    let fail = |text: &str, d: Diagnostic| {
        let mut diags = Diagnostics::new(source_for(text));
        diags.push(d);
        Err(diags)
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return fail(
                "",
                Diagnostic::error(format!("cannot read the manifest: {e}"), None)
                    .hint("check the path; a manifest is a YAML file such as examples/storyboard.yaml"),
            );
        }
    };
    if bytes.len() > MAX_MANIFEST_BYTES {
        return fail(
            "",
            Diagnostic::error(
                format!(
                    "the manifest is {} bytes; pixbatch reads manifests up to {MAX_MANIFEST_BYTES} bytes",
                    bytes.len()
                ),
                None,
            ),
        );
    }
    let text = match utf8(bytes) {
        Ok(text) => text,
        Err((text, valid)) => {
            return fail(
                &text,
                Diagnostic::error("the manifest is not valid UTF-8", Some(Span::manifest(valid, 1)))
                    .label("this byte")
                    .hint("save the file as UTF-8"),
            );
        }
    };
    if text.trim().is_empty() {
        return fail(
            &text,
            Diagnostic::error("the manifest is empty", Some(Span::default()))
                .hint("a manifest needs at least `version: 1` and a list of `shots`; see examples/ci.yaml"),
        );
    }
    parse(path, text)
}

/// Parses manifest text that was read from `path`.
pub fn parse(path: &Path, text: String) -> Result<Loaded, Diagnostics> {
    let source = Source { path: path.to_path_buf(), text: text.as_str().into() };
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    // YAML 1.1 booleans (`y`, `n`, `on`, `no`) are strings here: a matrix of letters stays letters.
    options.strict_booleans = true;
    match serde_saphyr::from_str_with_options::<Manifest>(&text, options) {
        Ok(mut manifest) => {
            let dir = manifest_dir(path);
            let mut diags = Diagnostics::new(source.clone());
            let written = manifest.shots.is_some();
            let mut shots = manifest.shots.take().unwrap_or_default();
            let table = match &manifest.shots_from {
                Some(from) => table::read(&dir, from, &mut diags).map(|(table, rows)| {
                    shots.extend(rows);
                    table
                }),
                None => {
                    if !written {
                        diags.push(
                            Diagnostic::error("the manifest has no shots", Some(Span::manifest(0, 0))).hint(
                                "add a `shots:` list (each shot needs an `id` and a `prompt`), or read them from a table with `shots_from: shots.csv`",
                            ),
                        );
                    }
                    None
                }
            };
            if table.is_none() && diags.has_errors() {
                return Err(diags);
            }
            Ok(Loaded { source, manifest, shots, table, dir, problems: diags.items })
        }
        Err(err) => {
            let mut diags = Diagnostics::new(source);
            let mut diag = yaml_error(&err);
            // Scanner errors know their line and column but not always their byte offset.
            if let (Some(loc), Some(span)) = (err.location(), diag.span.as_mut())
                && span.offset == 0
                && loc.line() > 1
            {
                span.offset = diags.source.offset_of(loc.line(), loc.column());
                span.len = 1;
            }
            diags.push(diag);
            Err(diags)
        }
    }
}

/// Text from bytes without a UTF-8 byte order mark; else the text with the bad bytes replaced
/// (every valid byte stays where it was, so offsets still point right) and where the first is.
pub(crate) fn utf8(bytes: Vec<u8>) -> Result<String, (String, usize)> {
    let bytes = match bytes.strip_prefix(b"\xef\xbb\xbf") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        (String::from_utf8_lossy(e.as_bytes()).into_owned(), valid)
    })
}

/// Turns a YAML/serde error into a located problem with a hint where one helps.
fn yaml_error(err: &serde_saphyr::Error) -> Diagnostic {
    let span = err.location().map(|l| Span::of(&l));
    let message = err.to_string();
    // serde's own wording, with our hint for it.
    let message = message.lines().next().unwrap_or("invalid manifest").trim().to_owned();
    let message = strip_location_suffix(&message);
    if let Some((field, hint)) = unknown_field_hint(&message) {
        return Diagnostic::error(format!("unknown field `{field}`"), span).label("not a manifest field").hint(hint);
    }
    let lower = message.to_lowercase();
    if lower.starts_with("budget breached") {
        return Diagnostic::error("the manifest is too large once its anchors and aliases are expanded", span)
            .hint("pixbatch refuses YAML that expands past its safety limits (an alias bomb, or a runaway anchor)");
    }
    let hint = if message.contains("missing field `version`") {
        Some("start the manifest with `version: 1`")
    } else if message.contains("missing field `shots`") {
        Some("add a `shots:` list; each shot needs an `id` and a `prompt`")
    } else if message.contains("missing field `id`") {
        Some("every shot needs a unique `id` ([A-Za-z0-9._-]), used to name its files")
    } else if lower.contains("budget") || lower.contains("alias") {
        Some("the manifest expands past pixbatch's safety limits (anchors/aliases, nesting or size)")
    } else {
        None
    };
    Diagnostic::error(message, span).maybe_hint(hint.map(str::to_owned))
}

/// saphyr appends " at line X column Y" to some messages; the snippet says it better.
fn strip_location_suffix(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains("column") => message[..i].to_owned(),
        _ => message.to_owned(),
    }
}

/// "unknown field `promt`, expected one of id, prompt" → (`promt`, "did you mean `prompt`? …").
fn unknown_field_hint(message: &str) -> Option<(String, String)> {
    let rest = message.split("unknown field `").nth(1)?;
    let (field, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest
        .split_once("expected ")
        .map(|(_, list)| {
            list.trim_start_matches("one of ").split(", ").map(|f| f.trim_matches(|c| c == '`' || c == ' ')).collect()
        })
        .unwrap_or_default();
    let candidates: Vec<&str> = if expected.is_empty() { TOP_FIELDS.to_vec() } else { expected };
    let list = candidates.join(", ");
    let hint = match diag::did_you_mean(field, candidates.iter().copied()) {
        Some(best) => format!("did you mean `{best}`? the fields here are: {list}"),
        None => format!("the fields here are: {list}"),
    };
    Some((field.to_owned(), hint))
}

/// The folder a manifest's relative paths start from: the folder of the file itself. A
/// manifest reached through a symbolic link resolves to the real file, so its output (and its
/// ledger) are the same wherever it is run from, never a second folder rendered again.
fn manifest_dir(path: &Path) -> PathBuf {
    let linked = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let real =
        if linked { std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()) } else { path.to_path_buf() };
    real.parent().map(Path::to_path_buf).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_suggests_the_nearest() {
        let (field, hint) =
            unknown_field_hint("unknown field `promt`, expected one of id, prompt, model").expect("parsed");
        assert_eq!(field, "promt");
        assert_eq!(hint, "did you mean `prompt`? the fields here are: id, prompt, model");
    }
}
