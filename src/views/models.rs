//! `pixbatch models`: the catalog as a table, Markdown (the list in docs/models.md) or JSON, with the
//! facts the documentation leaves UNCONFIRMED or in CONFLICT marked and the choice made.

use serde::Serialize;

use crate::catalog::{self, Audio, Durations, ModelSpec, Role, Tier};

/// One model as `pixbatch models` shows it.
#[derive(Debug, Serialize)]
pub struct ModelRow {
    pub id: &'static str,
    pub kind: &'static str,
    pub endpoint: &'static str,
    /// How the output shape is set: `size`, `resolution+ratio`, …
    pub shape: &'static str,
    pub resolutions: Vec<&'static str>,
    pub ratios: Vec<&'static str>,
    /// Allowed seconds, per tier where they differ.
    pub durations: String,
    /// Media the model takes: `reference image ≤7`, `first_frame image`, …
    pub media: Vec<String>,
    pub sound: &'static str,
    pub fields: Vec<&'static str>,
    pub pool: String,
    pub pool_slots: u32,
    pub submit_per_second: u32,
    /// CNY per second by tier: `(tier, silent, with sound)`.
    pub prices: Vec<(&'static str, Option<f64>, Option<f64>)>,
    pub regions: Vec<&'static str>,
    pub url_hours: u32,
    pub notes: Vec<&'static str>,
}

/// Every model of the catalog, in its order.
pub fn rows() -> Vec<ModelRow> {
    catalog::models().map(row).collect()
}

fn row(m: &ModelSpec) -> ModelRow {
    let tiers = m.shape.tiers();
    let family = m.family();
    let mut fields = vec!["prompt", "duration", "watermark"];
    if matches!(m.audio, Audio::Param { .. }) {
        fields.push("audio");
    }
    if m.seed {
        fields.push("seed");
    }
    if m.negative_prompt_max.is_some() {
        fields.push("negative_prompt");
    }
    if m.prompt_extend {
        fields.push("prompt_extend");
    }
    for role in [Role::FirstFrame, Role::LastFrame] {
        if m.takes(role) {
            fields.push(role.name());
        }
    }
    ModelRow {
        id: m.id,
        kind: if m.kind == catalog::Kind::Multi && m.takes(Role::Reference) {
            "t2v/i2v/kf2v/r2v"
        } else {
            m.kind.name()
        },
        endpoint: m.endpoint.path(),
        shape: m.shape.describe(),
        resolutions: tiers.iter().map(|t| t.name()).collect(),
        ratios: m.shape.ratios(),
        durations: durations(m.durations, &tiers),
        media: m
            .slots
            .iter()
            .map(|s| {
                let role = s.role.name().replace('_', " ");
                if s.max > 1 {
                    format!("{role} {} ≤{}", s.kind.name(), s.max)
                } else {
                    format!("{role} {}", s.kind.name())
                }
            })
            .collect(),
        sound: match m.audio {
            Audio::Param { default: true } => "audio (default on)",
            Audio::Param { default: false } => "audio (default off)",
            Audio::Always => "always",
            Audio::Never => "silent",
        },
        fields,
        pool: family.name().to_owned(),
        pool_slots: family.service_slots().unwrap_or(0),
        submit_per_second: m.submit_rps,
        prices: tiers
            .iter()
            .map(|t| {
                let region = crate::manifest::Region::default();
                (t.name(), m.price_per_second(*t, false, false, region), m.price_per_second(*t, true, false, region))
            })
            .collect(),
        regions: m.regions.iter().map(|r| r.name()).collect(),
        url_hours: m.url_hours,
        notes: m.notes.to_vec(),
    }
}

fn durations(d: Durations, tiers: &[Tier]) -> String {
    match d {
        Durations::PerTier(_) => {
            let mut parts: Vec<String> = Vec::new();
            for t in tiers {
                let text = d.text(*t);
                match parts.last_mut() {
                    Some(last) if last.ends_with(&format!(": {text}")) => {
                        let (names, _) = last.split_once(": ").unwrap_or((last.as_str(), ""));
                        *last = format!("{names}/{}: {text}", t.name());
                    }
                    _ => parts.push(format!("{}: {text}", t.name())),
                }
            }
            parts.join("; ")
        }
        _ => d.text(tiers.first().copied().unwrap_or(Tier::P720)),
    }
}

fn price_text(row: &ModelRow) -> String {
    row.prices
        .iter()
        .map(|(t, silent, sound)| match (silent, sound) {
            (Some(a), Some(b)) if (a - b).abs() > f64::EPSILON => format!("{t} {a}/{b}"),
            (Some(a), _) | (None, Some(a)) => format!("{t} {a}"),
            (None, None) => format!("{t} ?"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The table in docs/models.md (Markdown): one line per model.
pub fn markdown() -> String {
    let mut out = String::from(
        "| model | kind | shape | durations (s) | pool (running) | CNY/s (silent/sound) | regions |\n|---|---|---|---|---|---|---|\n",
    );
    for r in rows() {
        let mark = if r.notes.is_empty() { "" } else { " ¹" };
        out.push_str(&format!(
            "| `{}`{mark} | {} | {} {} | {} | {} ({}) | {} | {} |\n",
            r.id,
            r.kind,
            r.shape,
            r.resolutions.join("/"),
            r.durations,
            r.pool,
            r.pool_slots,
            price_text(&r),
            r.regions.join(", "),
        ));
    }
    out
}

/// The terminal table: the same columns, aligned, then the notes.
pub fn table() -> String {
    let rows = rows();
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                format!("{}{}", r.id, if r.notes.is_empty() { "" } else { " *" }),
                r.kind.to_owned(),
                format!("{} {}", r.shape, r.resolutions.join("/")),
                r.durations.clone(),
                format!("{} ({})", r.pool, r.pool_slots),
                price_text(r),
                r.regions.join(","),
            ]
        })
        .collect();
    let header = ["MODEL", "KIND", "SHAPE", "SECONDS", "POOL", "CNY/S (SILENT/SOUND)", "REGIONS"];
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: &[String]| {
        let mut s = String::new();
        for (i, (c, w)) in cols.iter().zip(widths).enumerate() {
            if i + 1 == cols.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(&header.map(str::to_owned));
    for row in &cells {
        out.push_str(&line(row));
    }
    out.push_str("\n* unconfirmed or conflicting facts, and the choice made:\n");
    for r in rows.iter().filter(|r| !r.notes.is_empty()) {
        for note in &r.notes {
            out.push_str(&format!("  {}: {note}\n", r.id));
        }
    }
    out
}

/// The JSON form: every row in full, the video models' then the image models' (`kind:
/// "image"`).
pub fn json() -> String {
    #[derive(Serialize)]
    #[serde(untagged)]
    enum Row {
        Video(ModelRow),
        Image(super::image_models::ImageRow),
    }
    let rows: Vec<Row> =
        rows().into_iter().map(Row::Video).chain(super::image_models::rows().into_iter().map(Row::Image)).collect();
    serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n"
}
