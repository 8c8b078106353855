//! JSON Lines tables: one object per line, each value located in its line.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{Cell, Column, Parsed, Row, column_kind, table_span};
use crate::manifest::ShotField;
use crate::manifest::diag::{Diagnostic, Diagnostics};

/// Reads JSON Lines: each non-empty line one object of field → string, number, boolean or
/// null (not set); `media` may also be a list of ref names.
pub(super) fn read(text: &str, diags: &mut Diagnostics) -> Option<Parsed> {
    let mut columns: Vec<Column> = Vec::new();
    let mut rows = Vec::new();
    let mut line_start = 0;
    let mut ok = true;
    for line in text.split_inclusive('\n') {
        let base = line_start;
        line_start += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        if body.trim().is_empty() {
            continue;
        }
        let entries = match serde_json::from_str::<Entries<'_>>(body) {
            Ok(Entries(entries)) => entries,
            Err(e) => {
                ok = false;
                let col = e.column().saturating_sub(1).min(body.len());
                // serde_json counts this line as line 1; the location is on the line above.
                let why = e.to_string();
                let why = why.rsplit_once(" at line ").map_or(why.as_str(), |(why, _)| why);
                diags.push(
                    Diagnostic::error(
                        format!("this line is not a JSON object of shot fields: {why}"),
                        Some(table_span(base + col, 1)),
                    )
                    .hint(
                        "each line is one shot, e.g. {\"id\": \"intro\", \"prompt\": \"@man walks\", \"duration\": 5}",
                    ),
                );
                continue;
            }
        };
        let mut cells = Vec::with_capacity(entries.len());
        let mut start = None;
        for (key, raw) in entries {
            let offset = base + (raw.get().as_ptr() as usize - body.as_ptr() as usize);
            let span = table_span(offset, raw.get().len());
            let key_span = body[..offset - base]
                .rfind(&format!("\"{key}\""))
                .map_or(span, |k| table_span(base + k, key.len() + 2));
            start.get_or_insert(key_span);
            let index = match columns.iter().position(|c| c.name == key) {
                Some(i) => i,
                None => {
                    let kind = column_kind(&key, key_span, columns.len(), &[], true, diags);
                    columns.push(Column { name: key.clone(), span: key_span, kind });
                    columns.len() - 1
                }
            };
            if cells.iter().any(|(i, _)| *i == index) {
                ok = false;
                diags.push(
                    Diagnostic::error(format!("`{key}` is set twice on this line"), Some(key_span)).label("again"),
                );
                continue;
            }
            match json_cell(&key, raw.get()) {
                Ok(text) => cells.push((index, Cell::new(text, raw.get(), offset))),
                Err(why) => {
                    ok = false;
                    diags.push(Diagnostic::error(format!("`{key}` {why}"), Some(span)));
                }
            }
        }
        rows.push(Row { cells, start: start.unwrap_or(table_span(base, 0)) });
    }
    let seen = rows.len();
    ok.then_some(Parsed { columns, rows, seen })
}

/// A JSON value as the text of a cell.
fn json_cell(key: &str, raw: &str) -> Result<String, String> {
    let value: serde_json::Value = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    match value {
        serde_json::Value::Null => Ok(String::new()),
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Bool(b) => Ok(b.to_string()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Array(items) if key == ShotField::Media.name() => items
            .into_iter()
            .map(|item| match item {
                serde_json::Value::String(s) if !s.contains('|') => Ok(s),
                _ => Err("must list ref names (strings)".to_owned()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|names| names.join("|")),
        _ => Err("must be a string, a number, true or false".to_owned()),
    }
}

/// A JSON object's entries in written order, each value left as its raw text so that it can
/// be located in the line.
struct Entries<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Entries<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Entries<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<'a>, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    entries.push((key, map.next_value::<&'a RawValue>()?));
                }
                Ok(Entries(entries))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}
