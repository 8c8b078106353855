//! Shots from a table beside the manifest (`shots_from:`): a CSV file as LibreOffice or Excel
//! export it, a TSV file, or JSON Lines. Each row is one shot, and every cell is located in its
//! file like a YAML value, so the checks that follow point at the cell (`shots.csv:4:17`).
//!
//! The rows become the same [`Shot`]s the YAML parser makes: a job's key depends on what is
//! sent, never on where its shot was written.

use std::path::Path;

use serde_saphyr::Spanned;

mod delimited;
mod json_lines;

use super::diag::{Diagnostic, Diagnostics, Source, SourceId, Span};
use super::model::{MediaItem, Scalar, Shot, ShotField, SpannedMap};
use super::{MAX_MANIFEST_BYTES, utf8};

/// The table a manifest reads its shots from, once read.
#[derive(Debug, Clone)]
pub struct Table {
    pub source: Source,
    /// Every column, in the order the file names them.
    pub columns: Vec<Column>,
}

/// A column of the table: its name as written and what it sets.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// Where the header names it (JSON Lines: its first use).
    pub span: Span,
    pub kind: ColumnKind,
}

/// What a column's cells set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// A shot field.
    Field(ShotField),
    /// A template variable, used as `{{name}}`.
    Var,
    /// Not read: a name starting with `#`, or a nameless column with no values.
    Note,
}

/// One cell: its text, unquoted, and where it is in the file.
#[derive(Debug)]
struct Cell {
    text: String,
    span: Span,
    /// Where `text` starts in the file when it is written there as is (no `""` or `\"`
    /// escapes), so a part of it can be pointed at.
    text_at: Option<usize>,
}

impl Cell {
    /// A cell whose file text is `raw` at `offset`: the text itself, or quoted.
    fn new(text: String, raw: &str, offset: usize) -> Cell {
        let text_at = if raw == text {
            Some(offset)
        } else if raw.len() == text.len() + 2 && raw.get(1..raw.len() - 1) == Some(text.as_str()) {
            Some(offset + 1)
        } else {
            None
        };
        Cell { text, span: table_span(offset, raw.len()), text_at }
    }

    /// The text, trimmed; `None` when the cell is empty ("not set").
    fn value(&self) -> Option<&str> {
        let t = self.text.trim();
        (!t.is_empty()).then_some(t)
    }
}

/// One row: its cells by column index.
#[derive(Debug)]
struct Row {
    cells: Vec<(usize, Cell)>,
    /// The row's first cell, for problems of the whole row.
    start: Span,
}

/// The file formats a table may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Delimited(u8),
    JsonLines,
}

impl Format {
    /// The format a file's name says; a `.csv` whose header has no comma but semicolons is
    /// what Excel saves where the comma is the decimal mark, and is read with semicolons.
    fn of(path: &Path, text: &str) -> Format {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("jsonl" | "ndjson") => Format::JsonLines,
            Some("tsv" | "tab") => Format::Delimited(b'\t'),
            _ => {
                let header = text.lines().next().unwrap_or("");
                if !header.contains(',') && header.contains(';') {
                    Format::Delimited(b';')
                } else {
                    Format::Delimited(b',')
                }
            }
        }
    }
}

/// Reads the table `from` names (relative to `dir`) into shots. Problems go to `diags`; the
/// table's text becomes `diags`'s second source as soon as it is read. `None` when the table
/// cannot be read at all; a row with a problem is left out of the shots, and its problem
/// waits in `diags` for the checks of the rest (every problem is shown at once).
pub(super) fn read(dir: &Path, from: &Spanned<String>, diags: &mut Diagnostics) -> Option<(Table, Vec<Shot>)> {
    let at = Some(Span::at(from));
    if from.value.trim().is_empty() {
        diags.push(
            Diagnostic::error("`shots_from` is empty", at)
                .hint("name a table beside the manifest, e.g. `shots_from: shots.csv`"),
        );
        return None;
    }
    let path = dir.join(&from.value);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            diags.push(
                Diagnostic::error(format!("cannot read the table `{}`: {e}", from.value), at)
                    .label("read from here")
                    .hint("the path is relative to the manifest's folder; a table is a CSV file with a header line"),
            );
            return None;
        }
    };
    if bytes.len() > MAX_MANIFEST_BYTES {
        diags.push(Diagnostic::error(
            format!("the table is {} bytes; pixbatch reads tables up to {MAX_MANIFEST_BYTES} bytes", bytes.len()),
            at,
        ));
        return None;
    }
    let text = match utf8(bytes) {
        Ok(text) => text,
        Err((text, valid)) => {
            diags.table = Some(Source { path, text: text.into() });
            diags.push(
                Diagnostic::error("the table is not valid UTF-8", Some(table_span(valid, 1)))
                    .label("this byte")
                    .hint("save it as UTF-8: LibreOffice \"Text CSV\" with character set \"Unicode (UTF-8)\", Excel \"CSV UTF-8\""),
            );
            return None;
        }
    };
    let source = Source { path: path.clone(), text: text.as_str().into() };
    diags.table = Some(source.clone());
    if text.trim().is_empty() {
        diags
            .push(Diagnostic::error("the table is empty", Some(table_span(0, 0))).hint(
                "its first line names the columns (e.g. `id,prompt,duration`), and each line after it is a shot",
            ));
        return None;
    }
    let format = Format::of(&path, &text);
    let Parsed { columns, rows, seen } = match format {
        Format::Delimited(delimiter) => delimited::read(&text, delimiter, diags)?,
        Format::JsonLines => json_lines::read(&text, diags)?,
    };
    if seen == 0 {
        diags.push(
            Diagnostic::error("the table has no shots", Some(columns.first().map_or(table_span(0, 0), |c| c.span)))
                .label(if format == Format::JsonLines { "only empty lines" } else { "only a header" })
                .hint("add one row per shot below the header"),
        );
    }
    let shots: Vec<Shot> = rows.iter().filter_map(|row| shot(row, &columns, diags)).collect();
    Some((Table { source, columns }, shots))
}

/// A table split into columns and rows.
struct Parsed {
    columns: Vec<Column>,
    /// The rows that can be read as shots.
    rows: Vec<Row>,
    /// Rows in the file with anything in them, read or not.
    seen: usize,
}

/// A span in the table.
fn table_span(offset: usize, len: usize) -> Span {
    Span { source: SourceId::Table, offset, len }
}

/// What the column named `name` sets; a problem with the name is reported at the header cell.
fn column_kind(
    name: &str,
    span: Span,
    index: usize,
    before: &[Column],
    used: bool,
    diags: &mut Diagnostics,
) -> ColumnKind {
    if name.starts_with('#') {
        return ColumnKind::Note;
    }
    if name.is_empty() {
        if used {
            diags.push(
                Diagnostic::error(format!("column {} has no name", column_letters(index)), Some(span))
                    .label("no name")
                    .hint("name it after a shot field or a template variable, or start its name with `#` to keep it as a note"),
            );
        }
        return ColumnKind::Note;
    }
    if let Some(first) = before.iter().position(|c| c.name == name) {
        diags.push(
            Diagnostic::error(format!("column `{name}` appears twice"), Some(span))
                .label("again")
                .hint(format!("the first is column {}; a row sets each field once", column_letters(first))),
        );
        return ColumnKind::Note;
    }
    match ShotField::named(name) {
        Some(field) if field.in_tables() => ColumnKind::Field(field),
        Some(field) => {
            let hint = match field {
                ShotField::Vars => {
                    "every column that is not a shot field is a template variable: name the column after the variable"
                }
                ShotField::Extra => "set `extra:` under `defaults:` in the manifest",
                _ => "write a shot that needs a matrix under `shots:` in the manifest, or one row per variant",
            };
            diags.push(
                Diagnostic::error(format!("`{name}` cannot be set from a table"), Some(span))
                    .label("not a table column")
                    .hint(hint),
            );
            ColumnKind::Note
        }
        None => ColumnKind::Var,
    }
}

/// Spreadsheet column letters: 0 → A, 25 → Z, 26 → AA.
fn column_letters(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + u8::try_from(rem).unwrap_or(0)));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// A row as a shot: each cell read as the YAML path reads the same field; `None` when the row
/// cannot be a shot (its problems are reported).
fn shot(row: &Row, columns: &[Column], diags: &mut Diagnostics) -> Option<Shot> {
    let mut shot = Shot {
        id: row.start.spanned(String::new()),
        prompt: None,
        model: None,
        size: None,
        duration: None,
        audio: None,
        watermark: None,
        seed: None,
        resolution: None,
        ratio: None,
        first_frame: None,
        last_frame: None,
        negative_prompt: None,
        prompt_extend: None,
        media: None,
        matrix: SpannedMap::default(),
        include: Vec::new(),
        exclude: Vec::new(),
        vars: Default::default(),
        enabled: None,
        repeat: None,
        extra: None,
    };
    let mut has_id = false;
    let mut ok = true;
    for (index, cell) in &row.cells {
        let column = &columns[*index];
        // The prompt is sent as written: a trailing space after `@name` matters.
        if column.kind == ColumnKind::Field(ShotField::Prompt) {
            if cell.value().is_some() {
                shot.prompt = Some(cell.span.spanned(cell.text.clone()));
            }
            continue;
        }
        let Some(value) = cell.value() else { continue };
        let at = cell.span;
        match column.kind {
            ColumnKind::Note => {}
            ColumnKind::Var => {
                shot.vars.insert(column.name.clone(), at.spanned(Scalar::Str(value.to_owned())));
            }
            ColumnKind::Field(field) => match field {
                ShotField::Id => {
                    has_id = true;
                    shot.id = at.spanned(value.to_owned());
                }
                ShotField::Model => shot.model = Some(at.spanned(value.to_owned())),
                ShotField::Size => shot.size = Some(at.spanned(value.to_owned())),
                ShotField::Duration => shot.duration = Some(at.spanned(scalar(value))),
                ShotField::Seed => shot.seed = Some(at.spanned(scalar(value))),
                ShotField::Audio => shot.audio = Some(at.spanned(scalar(value))),
                ShotField::Watermark => shot.watermark = Some(at.spanned(scalar(value))),
                ShotField::Resolution => shot.resolution = Some(at.spanned(value.to_owned())),
                ShotField::Ratio => shot.ratio = Some(at.spanned(value.to_owned())),
                ShotField::FirstFrame => shot.first_frame = Some(at.spanned(value.to_owned())),
                ShotField::LastFrame => shot.last_frame = Some(at.spanned(value.to_owned())),
                ShotField::NegativePrompt => shot.negative_prompt = Some(at.spanned(value.to_owned())),
                ShotField::PromptExtend => shot.prompt_extend = Some(at.spanned(scalar(value))),
                ShotField::Enabled => match scalar(value) {
                    Scalar::Bool(b) => shot.enabled = Some(at.spanned(b)),
                    _ => {
                        ok = false;
                        diags.push(
                            Diagnostic::error(format!("`enabled` must be true or false, not `{value}`"), Some(at))
                                .hint("write TRUE or FALSE, or leave the cell empty (the shot is rendered)"),
                        );
                    }
                },
                ShotField::Repeat => match value.parse::<u32>() {
                    Ok(n) => shot.repeat = Some(at.spanned(n)),
                    Err(_) => {
                        ok = false;
                        diags.push(
                            Diagnostic::error(format!("`repeat` must be a whole number, not `{value}`"), Some(at))
                                .hint("write how many independent samples to render, e.g. 3"),
                        );
                    }
                },
                ShotField::Media => shot.media = Some(at.spanned(media(cell))),
                // Refused as a column already.
                _ => {}
            },
        }
    }
    if !has_id {
        let id_cell = columns.iter().position(|c| c.kind == ColumnKind::Field(ShotField::Id));
        let at = id_cell.and_then(|i| row.cells.iter().find(|(j, _)| *j == i)).map_or(row.start, |(_, c)| c.span);
        diags.push(Diagnostic::error("this row has no `id`", Some(at)).label("empty").hint(match id_cell {
            Some(_) => "every shot needs a unique id ([A-Za-z0-9._-]), used to name its files",
            None => "add an `id` column: every shot needs a unique id ([A-Za-z0-9._-]), used to name its files",
        }));
        return None;
    }
    ok.then_some(shot)
}

/// A cell as the YAML path would read the same plain scalar: a whole number, a boolean (as
/// spreadsheets write them too: TRUE, False), else text — "5.0" stays text, so a problem
/// quotes the cell as written.
fn scalar(value: &str) -> Scalar {
    if let Ok(n) = value.parse::<i64>() {
        return Scalar::Int(n);
    }
    match value.to_ascii_lowercase().as_str() {
        "true" => Scalar::Bool(true),
        "false" => Scalar::Bool(false),
        _ => Scalar::Str(value.to_owned()),
    }
}

/// A `media` cell: ref names separated by `|`, each located in the cell when the cell is
/// written there as is.
fn media(cell: &Cell) -> Vec<Spanned<MediaItem>> {
    let mut out = Vec::new();
    let mut offset = 0;
    for part in cell.text.split('|') {
        let name = part.trim();
        let lead = part.len() - part.trim_start().len();
        if !name.is_empty() {
            let at = cell.text_at.map_or(cell.span, |t| table_span(t + offset + lead, name.len()));
            out.push(at.spanned(MediaItem::Ref(name.to_owned())));
        }
        offset += part.len() + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_count_like_a_spreadsheet() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
    }

    #[test]
    fn cells_are_typed_like_plain_yaml() {
        assert_eq!(scalar("5"), Scalar::Int(5));
        assert_eq!(scalar("TRUE"), Scalar::Bool(true));
        assert_eq!(scalar("False"), Scalar::Bool(false));
        assert_eq!(scalar("5.0"), Scalar::Str("5.0".into()));
        assert_eq!(scalar("-3"), Scalar::Int(-3));
    }
}
