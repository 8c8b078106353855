//! CSV and TSV tables, split with csv-core so that every cell keeps its place in the file.

use super::{Cell, Column, ColumnKind, Parsed, Row, column_kind, table_span};
use crate::manifest::ShotField;
use crate::manifest::diag::{Diagnostic, Diagnostics};

/// Splits CSV (or TSV) text into cells with csv-core, the csv crate's own parser, because it
/// alone says where each field was in the file; then reads the header.
pub(super) fn read(text: &str, delimiter: u8, diags: &mut Diagnostics) -> Option<Parsed> {
    let records = records(text, delimiter, diags)?;
    let mut records = records.into_iter();
    let Some(header) = records.next() else {
        diags.push(Diagnostic::error("the table is empty", Some(table_span(0, 0))));
        return None;
    };
    let body: Vec<Vec<Cell>> = records.collect();
    let width = header.len();
    let mut columns = Vec::with_capacity(width);
    for (i, cell) in header.into_iter().enumerate() {
        let name = cell.text.trim().to_owned();
        let used = body.iter().any(|r| r.get(i).is_some_and(|c| c.value().is_some()));
        let kind = column_kind(&name, cell.span, i, &columns, used, diags);
        columns.push(Column { name, span: cell.span, kind });
    }
    if !columns.iter().any(|c| c.kind == ColumnKind::Field(ShotField::Id)) {
        diags.push(
            Diagnostic::error("the table has no `id` column", Some(columns[0].span))
                .label("the header")
                .hint("add an `id` column: every shot needs a unique id ([A-Za-z0-9._-]), used to name its files"),
        );
        return None;
    }
    let mut rows = Vec::with_capacity(body.len());
    let mut seen = 0;
    for cells in body {
        // A row of empty cells is what a spreadsheet writes for a formatted but empty line.
        if cells.iter().all(|c| c.value().is_none()) {
            continue;
        }
        seen += 1;
        let start = cells[0].span;
        if cells.len() < width {
            let last = cells.last().map_or(start, |c| c.span);
            diags.push(
                Diagnostic::error(
                    format!("this row has {} cells; the header names {width} columns", cells.len()),
                    Some(table_span(last.offset + last.len, 0)),
                )
                .label("the row ends here")
                .hint("a spreadsheet writes every column; a cell holding a comma or a line break must be quoted (\"a, b\")"),
            );
            continue;
        }
        if let Some(extra) = cells[width..].iter().find(|c| c.value().is_some()) {
            diags.push(
                Diagnostic::error(
                    format!("this row has a cell past the last column (the header names {width})"),
                    Some(extra.span),
                )
                .label("no column")
                .hint("quote a cell that holds a comma (\"red, blue\"), or name the column in the header"),
            );
            continue;
        }
        rows.push(Row { cells: cells.into_iter().take(width).enumerate().collect(), start });
    }
    Some(Parsed { columns, rows, seen })
}

/// Every record of the text, each field with its span. A quote left open to the end of the
/// file is an error (csv-core would read the rest of the file as one cell).
fn records(text: &str, delimiter: u8, diags: &mut Diagnostics) -> Option<Vec<Vec<Cell>>> {
    let bytes = text.as_bytes();
    let mut reader = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let mut out = vec![0u8; 64 * 1024];
    let mut records = Vec::new();
    let mut record: Vec<Cell> = Vec::new();
    let mut pos = 0;
    loop {
        let mut start = pos;
        if record.is_empty() {
            // Line ends before a record (CRLF's `\n`, blank lines) are not part of its first cell.
            while bytes.get(start).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
                start += 1;
            }
        }
        let mut field = Vec::new();
        let record_end = loop {
            let (result, read, written) = reader.read_field(&bytes[pos..], &mut out);
            pos += read;
            field.extend_from_slice(&out[..written]);
            match result {
                csv_core::ReadFieldResult::InputEmpty | csv_core::ReadFieldResult::OutputFull => {}
                csv_core::ReadFieldResult::Field { record_end } => break Some(record_end),
                csv_core::ReadFieldResult::End => break None,
            }
        };
        let Some(record_end) = record_end else { break };
        let mut end = pos.max(start);
        if record_end {
            for terminator in [b'\n', b'\r'] {
                if end > start && bytes[end - 1] == terminator {
                    end -= 1;
                }
            }
        } else if end > start {
            end -= 1; // the delimiter
        }
        let raw = &text[start..end];
        if raw.starts_with('"') && raw.matches('"').count() % 2 == 1 && pos >= bytes.len() {
            diags.push(
                Diagnostic::error("this quoted cell is never closed", Some(table_span(start, 1)))
                    .label("the quote opens here and runs to the end of the file")
                    .hint("close the quote; inside a quoted cell, write a quote as two (\"\")"),
            );
            return None;
        }
        record.push(Cell::new(String::from_utf8_lossy(&field).into_owned(), raw, start));
        if record_end {
            records.push(std::mem::take(&mut record));
        }
    }
    Some(records)
}
