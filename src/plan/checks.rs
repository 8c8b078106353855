//! Checks that span fields or shots: unique shot ids, matrix axes, prices, and jobs that
//! would collide (same key or same output file). Each writes to the diagnostics sink.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use serde_saphyr::Spanned;

use super::job::Job;
use super::template::template_names;
use super::values::Field;
use crate::catalog;
use crate::manifest::diag::did_you_mean;
use crate::manifest::{ColumnKind, Diagnostic, Diagnostics, Loaded, Scalar, Shot, Span, SpannedMap};

pub(super) fn shot_ids(loaded: &Loaded, diags: &mut Diagnostics) {
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for shot in &loaded.shots {
        let id = &shot.id.value;
        let span = Some(Span::at(&shot.id));
        if id.is_empty()
            || id.starts_with('.')
            || id.len() > 100
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            let bad: String =
                id.chars().filter(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))).collect();
            let why = if !bad.is_empty() {
                format!("it contains {bad:?}")
            } else if id.starts_with('.') {
                "it starts with `.` (a hidden file or folder; `.pixbatch` holds the ledger)".to_owned()
            } else {
                "it must be 1–100 characters".to_owned()
            };
            diags.push(
                Diagnostic::error(format!("invalid shot id `{id}`: {why}"), span)
                    .label("names the output file")
                    .hint("use only letters, digits, `.`, `_` and `-`, and start with a letter, digit, `_` or `-`"),
            );
        }
        if let Some(&first) = seen.get(id.as_str()) {
            let here = Span::at(&shot.id);
            let first_at = if first.source == here.source {
                format!("on line {}", diags.source_of(first.source).line_col(first.offset).0)
            } else {
                format!("at {}", diags.locate(first))
            };
            diags.push(
                Diagnostic::error(format!("duplicate shot id `{id}`"), span)
                    .label("used again here")
                    .hint(format!("the first shot with this id is {first_at}; ids must be unique")),
            );
        } else {
            seen.insert(id, Span::at(&shot.id));
        }
    }
}

/// A table's columns that are not shot fields are template variables; one that no prompt
/// uses is a typo (an error, when it is close to a field's name) or a note (a warning).
pub(super) fn table_columns(loaded: &Loaded, diags: &mut Diagnostics) {
    let Some(table) = &loaded.table else { return };
    let m = &loaded.manifest;
    let prompts =
        m.defaults.prompt.iter().chain(loaded.shots.iter().filter_map(|s| s.prompt.as_ref())).map(|p| p.value.as_str());
    let mut used: Vec<String> = prompts.flat_map(template_names).collect();
    // A prompt may also come from a matrix axis or an include entry.
    let axis_prompts = m.matrix.iter().chain(loaded.shots.iter().flat_map(|s| s.matrix.iter()));
    for (name, values) in axis_prompts {
        if name.value == Field::Prompt.name() {
            used.extend(values.value.iter().flat_map(|v| template_names(&v.value.to_string())));
        }
    }
    for entry in m.include.iter().chain(loaded.shots.iter().flat_map(|s| s.include.iter())) {
        if let Some(p) = entry.value.get(Field::Prompt.name()) {
            used.extend(template_names(&p.value.to_string()));
        }
    }
    for column in table.columns.iter().filter(|c| c.kind == ColumnKind::Var) {
        let name = column.name.as_str();
        if used.iter().any(|u| u == name) {
            continue;
        }
        let fields = Field::ALL.into_iter().filter(|f| f.in_tables()).map(Field::name);
        let note = format!("start its name with `#` (`#{name}`) to keep it as a note");
        // A typo is one edit from a field (two for long names): `promt`, `sead`, `durration`;
        // `mood` is a variable, not a misspelt `model`.
        let typo_of = fields.clone().find(|f| strsim::osa_distance(name, f) <= if f.len() >= 7 { 2 } else { 1 });
        match typo_of {
            Some(field) => diags.push(
                Diagnostic::error(format!("unknown column `{name}`"), Some(column.span))
                    .label("not a shot field, and no prompt uses it")
                    .hint(format!(
                        "did you mean `{field}`? the fields are: {}; any other column is a template variable used as {{{{{name}}}}}, or {note}",
                        fields.collect::<Vec<_>>().join(", ")
                    )),
            ),
            None => diags.push(
                Diagnostic::warning(
                    format!("column `{name}` is not a shot field and no prompt uses {{{{{name}}}}}"),
                    Some(column.span),
                )
                .label("ignored")
                .hint(note),
            ),
        }
    }
}

/// Axis names must be shot fields or variables, and every axis needs values.
pub(super) fn axes(
    loaded: &Loaded,
    diags: &mut Diagnostics,
    axes: &SpannedMap<Spanned<Vec<Spanned<Scalar>>>>,
    shot: Option<&Shot>,
) {
    for (name, values) in axes.iter() {
        let n = name.value.as_str();
        let kind = Field::named(n);
        if kind.is_some_and(|f| !f.is_param()) {
            diags.push(Diagnostic::error(format!("`{n}` cannot be a matrix axis"), Some(Span::at(name))).hint(
                format!("axes can be {} or a template variable", Field::param_names().collect::<Vec<_>>().join(", ")),
            ));
        }
        if values.value.is_empty() {
            diags.push(
                Diagnostic::error(format!("matrix axis `{n}` has no values"), Some(Span::at(values)))
                    .hint("give it at least one value, or remove it"),
            );
        }
        if kind.is_none() {
            let prompt = shot
                .and_then(|s| s.prompt.as_ref())
                .or(loaded.manifest.defaults.prompt.as_ref())
                .map(|p| p.value.as_str())
                .unwrap_or("");
            let used = template_names(prompt).iter().any(|v| v == n) || shot.is_none();
            if !used {
                diags.push(
                    Diagnostic::warning(
                        format!("matrix axis `{n}` is not a shot field and the prompt never uses {{{{{n}}}}}"),
                        Some(Span::at(name)),
                    )
                    .maybe_hint(did_you_mean(n, Field::param_names()).map(|f| format!("did you mean `{f}`?"))),
                );
            }
        }
    }
}

/// `run.prices` keys must name a tier, optionally `+audio` (CNY per second), or `image` for
/// an image model (CNY per image).
pub(super) fn prices(loaded: &Loaded, diags: &mut Diagnostics) {
    for (model, table) in &loaded.manifest.run.prices {
        for (key, price) in table {
            let tier = key.strip_suffix("+audio").unwrap_or(key);
            let per_image = key == "image" && catalog::images::image_lookup(model).is_some();
            if !per_image && !catalog::Tier::ALL.iter().any(|t| t.name() == tier) {
                diags.push(
                    Diagnostic::error(format!("run.prices.\"{model}\": `{key}` is not a tier"), None)
                        .hint("write 360P, 480P, 540P, 720P or 1080P, optionally with +audio (e.g. \"720P+audio\"); for an image model, `image`"),
                );
            }
            if !(price.is_finite() && *price >= 0.0) {
                diags.push(Diagnostic::error(format!("run.prices.\"{model}\".{key}: {price} is not a price"), None));
            }
        }
    }
}

/// Two jobs may not write one file, nor send one identical request.
pub(super) fn collisions(loaded: &Loaded, diags: &mut Diagnostics, jobs: &[Job]) {
    let mut outputs: HashMap<&Path, &Job> = HashMap::new();
    let mut keys: HashMap<&crate::key::JobKey, &Job> = HashMap::new();
    let shot_span = |id: &str| loaded.shots.iter().find(|s| s.id.value == id).map(|s| Span::at(&s.id));
    for job in jobs {
        if let Some(other) = outputs.insert(&job.output, job) {
            diags.push(
                Diagnostic::error(
                    format!("jobs `{}` and `{}` would both write `{}`", other.name(), job.name(), job.output.display()),
                    shot_span(&job.shot),
                )
                .hint("make the variants differ in something that shows in the file name, or rename a shot"),
            );
        }
        if let Some(other) = keys.insert(&job.key, job) {
            diags.push(
                Diagnostic::error(
                    format!("jobs `{}` and `{}` send the same request", other.name(), job.name()),
                    shot_span(&job.shot),
                )
                .hint("they would render the same video; use `repeat: N` for independent samples"),
            );
        }
    }
}

pub(super) fn size_error(spec: &catalog::ModelSpec, size: &str, span: Option<Span>) -> Diagnostic {
    let mut by_tier = String::new();
    let table = spec.shape.size_table().unwrap_or(&[]);
    for tier in spec.shape.tiers() {
        let sizes: Vec<&str> = table.iter().filter(|(_, _, t)| *t == tier).map(|(s, _, _)| *s).collect();
        by_tier.push_str(&format!("\n  {tier}: {}", sizes.join(" ")));
    }
    let nearest = spec.nearest_size(&size.replace(['x', 'X', '×'], "*"));
    Diagnostic::error(format!("size `{size}` is not allowed for {}", spec.id), span)
        .label("not in the model's size table")
        .hint(match nearest {
            Some(n) => format!("did you mean \"{n}\"? allowed sizes:{by_tier}"),
            None => format!("allowed sizes:{by_tier}"),
        })
}

/// `run.concurrency` keys name pools: a catalog pool (`c1`, `vidu`, `kling`, a Wan model id, …)
/// or the model id of a model outside the catalog that a job uses. Any other key caps nothing.
pub(super) fn concurrency_keys(loaded: &Loaded, diags: &mut Diagnostics, jobs: &[Job]) {
    let used: BTreeSet<&str> = jobs.iter().map(|j| j.family.name()).collect();
    let catalog_pools: Vec<catalog::Family> = catalog::models().map(catalog::ModelSpec::family).collect();
    let pools: BTreeSet<&str> = catalog_pools.iter().map(catalog::Family::name).chain(used.iter().copied()).collect();
    let used = used.into_iter().collect::<Vec<_>>().join(", ");
    for key in loaded.manifest.run.concurrency.keys() {
        if pools.contains(key.as_str()) {
            continue;
        }
        diags.push(
            Diagnostic::warning(format!("run.concurrency: `{key}` is not a pool, so it caps nothing"), None).hint(
                match did_you_mean(key, pools.iter().copied()) {
                    Some(best) => format!("did you mean `{best}`? this manifest's pools: {used}"),
                    None => format!("this manifest's pools: {used}"),
                },
            ),
        );
    }
}
