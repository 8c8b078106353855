//! The manifest's JSON Schema, generated from the manifest types.

use crate::manifest::Manifest;

/// The schema as pretty JSON with a trailing newline, as committed in `schemas/`.
pub fn manifest_schema() -> String {
    let schema = schemars::schema_for!(Manifest);
    // A schema is a JSON value already: writing it as text cannot fail.
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// The `--json` report's schema, as committed in `schemas/report.schema.json`.
pub fn report_schema() -> String {
    let schema = schemars::schema_for!(crate::run::Report);
    // A schema is a JSON value already: writing it as text cannot fail.
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
