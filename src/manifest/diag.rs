//! Located problems in a manifest, collected all at once and rendered with a snippet.
//!
//! Every check appends to [`Diagnostics`] instead of stopping at the first problem; the CLI
//! renders them once, each with `file:line:col`, the offending line, a caret and a hint.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan,
    SpanContents,
};
use serde_saphyr::{Location, Spanned};

/// How bad a problem is: errors stop the command (exit 2), warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// Which file a span is in: the manifest, or the table its `shots_from` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub enum SourceId {
    #[default]
    Manifest,
    Table,
}

impl SourceId {
    /// The id serde-saphyr carries in a [`Location`]: the YAML parser writes 0 (the manifest).
    fn of(id: u32) -> SourceId {
        if id == 1 { SourceId::Table } else { SourceId::Manifest }
    }

    fn number(self) -> u32 {
        match self {
            SourceId::Manifest => 0,
            SourceId::Table => 1,
        }
    }
}

/// Where a problem is: which file, byte offset and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub source: SourceId,
    pub offset: usize,
    pub len: usize,
}

impl Span {
    /// A span in the manifest.
    pub fn manifest(offset: usize, len: usize) -> Span {
        Span { source: SourceId::Manifest, offset, len }
    }

    /// The span of a value the YAML parser (or the table reader) located.
    pub fn of(loc: &Location) -> Span {
        let span = loc.span();
        match span.byte_offset() {
            Some(offset) => Span {
                source: SourceId::of(loc.source_id()),
                offset: usize::try_from(offset).unwrap_or(0),
                len: span.byte_len().and_then(|l| usize::try_from(l).ok()).unwrap_or(0),
            },
            None => Span::default(),
        }
    }

    /// The [`Location`] of this span, for values that are not parsed from YAML but must be
    /// located like them (a table's cells). serde-saphyr builds locations only while it parses,
    /// so this goes through their documented `Deserialize` form. Line and column stay 0:
    /// pixbatch locates by byte offset and counts lines when it renders.
    pub fn location(self) -> Location {
        let value = serde_json::json!({
            "line": 0,
            "column": 0,
            "span": { "offset": self.offset, "len": self.len, "byte_info": [self.offset, self.len] },
            "source_id": self.source.number(),
        });
        serde_json::from_value(value).unwrap_or(Location::UNKNOWN)
    }

    /// A spanned value at this span.
    pub fn spanned<T>(self, value: T) -> Spanned<T> {
        let at = self.location();
        Spanned::new(value, at, at)
    }

    /// The span of a spanned value (where it is used, for aliases).
    pub fn at<T>(value: &Spanned<T>) -> Span {
        Span::of(&value.referenced)
    }
}

/// One problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub span: Option<Span>,
    /// Short text under the caret.
    pub label: Option<String>,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(message: impl Into<String>, span: Option<Span>) -> Diagnostic {
        Diagnostic { severity: Severity::Error, message: message.into(), span, label: None, hint: None }
    }

    /// A warning at `span`.
    pub fn warning(message: impl Into<String>, span: Option<Span>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, message: message.into(), span, label: None, hint: None }
    }

    /// Adds the text shown under the caret.
    #[must_use]
    pub fn label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    /// Adds a hint line.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    /// Adds a hint line when there is one.
    #[must_use]
    pub fn maybe_hint(mut self, hint: Option<String>) -> Diagnostic {
        if hint.is_some() {
            self.hint = hint;
        }
        self
    }
}

/// A file's text, with the path it was read from: the manifest, or its table.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub text: Arc<str>,
}

impl Source {
    /// The byte offset of a 1-based line and column (in characters), clamped to the text.
    pub fn offset_of(&self, line: u64, column: u64) -> usize {
        let mut offset = 0;
        for (i, l) in self.text.split_inclusive('\n').enumerate() {
            if (i as u64) + 1 == line {
                let col = usize::try_from(column.saturating_sub(1)).unwrap_or(0);
                return offset + l.char_indices().nth(col).map_or(l.len(), |(b, _)| b);
            }
            offset += l.len();
        }
        self.text.len()
    }

    /// 1-based line and column (in characters) of a byte offset. Lines end as editors (and
    /// YAML, and csv) end them: `\n`, `\r\n`, or a lone `\r` (classic Mac).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or("");
        let line = before.matches(LINE_ENDS).count() - before.matches("\r\n").count() + 1;
        let col = before.get(self.line_start(offset)..).map_or(0, |s| s.chars().count()) + 1;
        (line, col)
    }

    /// Where the line holding `offset` starts.
    fn line_start(&self, offset: usize) -> usize {
        self.text.get(..offset).and_then(|s| s.rfind(LINE_ENDS)).map_or(0, |i| i + 1)
    }

    /// Where the line holding `offset` ends (before its line end).
    fn line_end(&self, offset: usize) -> usize {
        self.text.get(offset..).and_then(|s| s.find(LINE_ENDS)).map_or(self.text.len(), |i| offset + i)
    }
}

/// The characters that end a line.
const LINE_ENDS: [char; 2] = ['\n', '\r'];

/// Every problem found in one manifest (and its table).
#[derive(Debug, Clone)]
pub struct Diagnostics {
    /// The manifest.
    pub source: Source,
    /// The table named by `shots_from`, once it is read.
    pub table: Option<Source>,
    pub items: Vec<Diagnostic>,
    /// Problems past [`Diagnostics::LIMIT`], counted but not kept.
    pub suppressed: usize,
}

impl Diagnostics {
    /// No problems yet.
    pub fn new(source: Source) -> Diagnostics {
        Diagnostics::with_table(source, None)
    }

    /// No problems yet, in a manifest and the table it reads shots from.
    pub fn with_table(source: Source, table: Option<Source>) -> Diagnostics {
        Diagnostics { source, table, items: Vec::new(), suppressed: 0 }
    }

    /// The file a span points into (the manifest when the table is not known).
    pub fn source_of(&self, id: SourceId) -> &Source {
        match (id, &self.table) {
            (SourceId::Table, Some(table)) => table,
            _ => &self.source,
        }
    }

    /// Where a span is, as `file:line:col`.
    pub fn locate(&self, span: Span) -> String {
        let source = self.source_of(span.source);
        let (line, col) = source.line_col(span.offset);
        format!("{}:{line}:{col}", display_path(&source.path))
    }

    /// More problems than this are counted, not listed: the first few hundred say enough.
    pub const LIMIT: usize = 200;

    /// Records a problem, once: the same problem found by several jobs is one problem.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        if self.items.contains(&diagnostic) {
            return;
        }
        if self.items.len() >= Self::LIMIT {
            self.suppressed += 1;
        } else {
            self.items.push(diagnostic);
        }
    }

    /// Whether any problem is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.severity == Severity::Error).count()
    }

    /// Orders problems by position, the manifest's before the table's, errors and warnings
    /// mixed.
    pub fn sort(&mut self) {
        self.items.sort_by_key(|d| d.span.map_or((SourceId::Table, usize::MAX), |s| (s.source, s.offset)));
    }

    /// Renders every problem: a `file:line:col: severity: message` line, then a snippet with a
    /// caret and the hint. `color` is for terminals.
    pub fn render(&self, color: bool) -> String {
        let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
        let handler = GraphicalReportHandler::new_themed(theme).with_width(100).with_context_lines(1);
        let name = display_path(&self.source.path);
        let mut out = String::new();
        for d in &self.items {
            let kind = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let source = self.source_of(d.span.map(|s| s.source).unwrap_or_default());
            let source_name = display_path(&source.path);
            match d.span {
                Some(span) => {
                    let _ = writeln!(out, "{}: {kind}: {}", self.locate(span), d.message);
                }
                None => {
                    let _ = writeln!(out, "{name}: {kind}: {}", d.message);
                }
            }
            // The message is already on the line above; the snippet's own header stays empty.
            let report = Snippet {
                message: String::new(),
                src: d.span.and_then(|span| Snippable::new(source_name, source, span)),
                labels: d
                    .span
                    .map(|s| {
                        LabeledSpan::new_primary_with_span(d.label.clone(), SourceSpan::new(s.offset.into(), s.len))
                    })
                    .into_iter()
                    .collect(),
                help: d.hint.clone(),
                severity: match d.severity {
                    Severity::Error => miette::Severity::Error,
                    Severity::Warning => miette::Severity::Warning,
                },
            };
            let mut body = String::new();
            if handler.render_report(&mut body, &report).is_ok() {
                // The first line repeats the message we already printed with its location.
                let rest = body.split_once('\n').map_or("", |(_, rest)| rest);
                out.push_str(rest.trim_end_matches(char::is_whitespace));
                out.push_str("\n\n");
            }
        }
        if self.suppressed > 0 {
            let _ = writeln!(out, "{name}: … and {} more problems not shown\n", self.suppressed);
        }
        out
    }
}

/// A file as miette reads it for a snippet, with columns counted in characters as on our
/// `file:line:col` line (miette counts bytes: a Chinese prompt would put its caret's column
/// elsewhere), and no snippet for a line too long to print (a 10 MB cell).
#[derive(Debug)]
struct Snippable {
    name: String,
    source: Source,
}

impl Snippable {
    /// Lines longer than this are not shown: the `file:line:col` line says where.
    const MAX_LINE: usize = 2000;

    fn new(name: String, source: &Source, span: Span) -> Option<Snippable> {
        let offset = span.offset.min(source.text.len());
        let long = source.line_end(offset) - source.line_start(offset) > Self::MAX_LINE;
        (!long).then(|| Snippable {
            name,
            source: Source { path: source.path.clone(), text: lone_cr_as_lf(&source.text) },
        })
    }
}

/// The text with each lone `\r` (classic Mac line ends) turned into `\n`, byte for byte so
/// every offset still points right: miette draws lines split at `\n` only.
fn lone_cr_as_lf(text: &Arc<str>) -> Arc<str> {
    if !text.contains('\r') {
        return text.clone();
    }
    let bytes = text.as_bytes();
    let lone_cr = |i: usize| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n');
    if !(0..bytes.len()).any(lone_cr) {
        return text.clone();
    }
    let shown: Vec<u8> = (0..bytes.len()).map(|i| if lone_cr(i) { b'\n' } else { bytes[i] }).collect();
    String::from_utf8(shown).map_or_else(|_| text.clone(), Arc::from)
}

impl SourceCode for Snippable {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let bytes = self.source.text.as_bytes();
        let inner = bytes.read_span(span, before, after)?;
        let (offset, len) = (inner.span().offset(), inner.span().len());
        let (line, column, lines) = (inner.line(), inner.column(), inner.line_count());
        drop(inner);
        // miette gives a column only for a span read without lines before it.
        let column = if before == 0 { self.source.line_col(span.offset()).1 - 1 } else { column };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            &bytes[offset..offset + len],
            (offset, len).into(),
            line,
            column,
            lines,
        )))
    }
}

/// Paths print relative to the working directory when they can, with `/` separators.
pub fn display_path(path: &Path) -> String {
    let rel = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf());
    rel.display().to_string()
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
struct Snippet {
    message: String,
    #[source_code]
    src: Option<Snippable>,
    #[label(collection)]
    labels: Vec<LabeledSpan>,
    #[help]
    help: Option<String>,
    #[diagnostic(severity)]
    severity: miette::Severity,
}

/// The closest candidate to `word`, for "did you mean".
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_location_points_where_the_span_does() {
        for span in [
            Span { source: SourceId::Table, offset: 0, len: 0 },
            Span { source: SourceId::Table, offset: 4_000_000, len: 17 },
            Span::manifest(42, 3),
        ] {
            assert_eq!(Span::at(&span.spanned("cell")), span);
        }
    }

    #[test]
    fn problems_in_the_table_are_located_in_the_table() {
        let manifest = Source { path: "m.yaml".into(), text: "version: 1\nshots_from: t.csv\n".into() };
        let table = Source { path: "t.csv".into(), text: "id,prompt\na,\"@man 吉他\"\n".into() };
        let diags = Diagnostics::with_table(manifest, Some(table));
        assert_eq!(diags.locate(Span { source: SourceId::Table, offset: 12, len: 9 }), "t.csv:2:3");
        assert_eq!(diags.locate(Span::manifest(11, 10)), "m.yaml:2:1");
    }
}
