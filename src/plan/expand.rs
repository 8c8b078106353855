//! Manifest → ordered jobs, checking everything that spans fields on the way.
//!
//! Every job's values are resolved as `matrix combination ⊕ shot ⊕ defaults` and checked
//! against the model catalog. Problems are collected, not thrown: one run of `validate` shows
//! them all, each pointing at the YAML value that caused it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use super::checks::{self, Fit};
use super::job::{Job, Media, MediaSource, slug};
use super::matrix::{self, Combination, MatrixSpec};
use super::mentions::{self, Bound};
use super::refs;
use super::template;
use super::values::{self, Field, Val, defaults_field, shot_field};
use crate::catalog::{self, MEDIA_MAX, MEDIA_MIN};
use crate::manifest::diag::did_you_mean;
use crate::manifest::{Combo, Defaults, Diagnostic, Diagnostics, Loaded, MediaItem, Shot, Span};

/// The most samples a shot may `repeat`.
const REPEAT_MAX: u32 = 1000;

/// Reference files larger than this are refused by the service.
pub const REF_MAX_BYTES: u64 = 20 * 1024 * 1024;
/// The output folder when the manifest names none.
pub const DEFAULT_OUTPUT: &str = "renders";

/// Limits and switches for expansion.
#[derive(Debug, Clone)]
pub struct ExpandOptions {
    /// A manifest expanding to more jobs than this is refused (a typo in a matrix is costly).
    pub max_jobs: usize,
}

impl Default for ExpandOptions {
    fn default() -> Self {
        ExpandOptions { max_jobs: 10_000 }
    }
}

/// The jobs of a manifest, in manifest order, and where their files go.
#[derive(Debug)]
pub struct Expansion {
    pub jobs: Vec<Job>,
    /// Jobs of the manifest left out by `--shard` / `--only`: not run and not listed as this
    /// command's jobs, but not orphans either (they are still in the manifest).
    pub unselected: Vec<Job>,
    /// Absolute or manifest-relative output folder.
    pub output_dir: PathBuf,
    /// Warnings (never errors: with errors, expansion fails).
    pub warnings: Diagnostics,
}

/// Expands a loaded manifest into jobs, or returns every problem found.
pub fn expand(loaded: &Loaded, options: &ExpandOptions) -> Result<Expansion, Diagnostics> {
    let mut cx = Expander { loaded, diags: loaded.diagnostics(), refs: BTreeMap::new() };
    let m = &loaded.manifest;
    if m.version.value != 1 {
        cx.diags.push(
            Diagnostic::error(format!("unsupported manifest version {}", m.version.value), Some(Span::at(&m.version)))
                .label("only version 1 exists")
                .hint("write `version: 1`"),
        );
    }
    cx.refs = refs::resolve_all(cx.loaded, &mut cx.diags);
    checks::prices(cx.loaded, &mut cx.diags);
    checks::shot_ids(cx.loaded, &mut cx.diags);
    checks::table_columns(cx.loaded, &mut cx.diags);
    checks::axes(cx.loaded, &mut cx.diags, &m.matrix, None);

    let output_dir = match &m.output {
        Some(out) if out.value.trim().is_empty() => {
            cx.diags.push(
                Diagnostic::error("`output` is empty", Some(Span::at(out)))
                    .hint("name a folder, e.g. `output: renders`"),
            );
            PathBuf::new()
        }
        Some(out) => loaded.dir.join(&out.value),
        None => loaded.dir.join(DEFAULT_OUTPUT),
    };

    let mut jobs = Vec::new();
    let mut total = 0usize;
    for shot in &loaded.shots {
        if shot.enabled.as_ref().is_some_and(|e| !e.value) {
            continue;
        }
        checks::axes(cx.loaded, &mut cx.diags, &shot.matrix, Some(shot));
        let spec = cx.matrix_spec(shot);
        let repeat = cx.repeat(shot);
        let bound = matrix::cross_len(&spec.axes).saturating_add(spec.include.len()).saturating_mul(repeat as usize);
        total = total.saturating_add(bound);
        if total > options.max_jobs {
            let span = shot.matrix.iter().next().map(|(k, _)| Span::at(k)).or(Some(Span::at(&shot.id)));
            cx.diags.push(
                Diagnostic::error(
                    format!(
                        "the manifest expands to more than {} jobs (at shot `{}`)",
                        options.max_jobs, shot.id.value
                    ),
                    span,
                )
                .label("this matrix")
                .hint("check the matrix for a mistake, or raise the limit with --max-jobs"),
            );
            break;
        }
        let combos = matrix::expand(&spec, |a: &Val, b: &Val| a.value.matches(&b.value));
        if combos.is_empty() {
            cx.diags.push(Diagnostic::warning(
                format!("shot `{}` has no jobs: its exclude list removes every combination", shot.id.value),
                Some(Span::at(&shot.id)),
            ));
        }
        for combo in &combos {
            for sample in 0..repeat {
                if let Some(job) = cx.job(shot, combo, sample, repeat) {
                    jobs.push(job);
                }
            }
        }
    }
    if !cx.diags.has_errors() {
        checks::collisions(cx.loaded, &mut cx.diags, &jobs);
    }

    if cx.diags.has_errors() {
        cx.diags.sort();
        return Err(cx.diags);
    }
    cx.diags.sort();
    Ok(Expansion { jobs, unselected: Vec::new(), output_dir, warnings: cx.diags })
}

struct Expander<'a> {
    loaded: &'a Loaded,
    diags: Diagnostics,
    refs: BTreeMap<String, MediaSource>,
}

impl<'a> Expander<'a> {
    fn defaults(&self) -> &'a Defaults {
        &self.loaded.manifest.defaults
    }

    /// Global axes, overridden or extended by the shot's; excludes and includes concatenated.
    fn matrix_spec(&mut self, shot: &Shot) -> MatrixSpec<Val> {
        let m = &self.loaded.manifest;
        let mut axes: Vec<(String, Vec<Val>)> = Vec::new();
        for (name, values) in m.matrix.iter().chain(shot.matrix.iter()) {
            let vals: Vec<Val> = values.value.iter().map(Val::of).collect();
            match axes.iter_mut().find(|(k, _)| *k == name.value) {
                Some(slot) => slot.1 = vals,
                None => axes.push((name.value.clone(), vals)),
            }
        }
        let axis_names: Vec<String> = axes.iter().map(|(k, _)| k.clone()).collect();
        let mut exclude = Vec::new();
        for entry in m.exclude.iter().chain(&shot.exclude) {
            for (k, _) in entry.value.iter() {
                if !axis_names.contains(&k.value) {
                    self.diags.push(
                        Diagnostic::error(
                            format!("exclude key `{}` is not a matrix axis of shot `{}`", k.value, shot.id.value),
                            Some(Span::at(k)),
                        )
                        .maybe_hint(
                            did_you_mean(&k.value, axis_names.iter().map(String::as_str))
                                .map(|f| format!("did you mean `{f}`?")),
                        )
                        .label("matches nothing"),
                    );
                }
            }
            exclude.push(combo_of(&entry.value));
        }
        let mut include = Vec::new();
        for entry in m.include.iter().chain(&shot.include) {
            for (k, _) in entry.value.iter() {
                if Field::named(&k.value).is_some_and(|f| !f.is_param()) {
                    self.diags.push(Diagnostic::error(
                        format!("`{}` cannot be set by an include entry", k.value),
                        Some(Span::at(k)),
                    ));
                }
            }
            include.push(combo_of(&entry.value));
        }
        MatrixSpec { axes, exclude, include }
    }

    fn repeat(&mut self, shot: &Shot) -> u32 {
        match shot.repeat.as_ref().or(self.defaults().repeat.as_ref()) {
            Some(r) if r.value == 0 => {
                self.diags.push(Diagnostic::error("`repeat` must be at least 1", Some(Span::at(r))));
                1
            }
            Some(r) if r.value > REPEAT_MAX => {
                self.diags.push(Diagnostic::error(format!("`repeat` is at most {REPEAT_MAX}"), Some(Span::at(r))));
                1
            }
            Some(r) => r.value,
            None => 1,
        }
    }

    /// Resolves one combination of one shot into a job, reporting what is wrong with it.
    /// Template variables: manifest ⊕ defaults ⊕ shot ⊕ variable axes of this combination.
    fn vars(&self, shot: &Shot, combo: &Combination<Val>) -> BTreeMap<String, String> {
        let mut vars: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in self.loaded.manifest.vars.iter().chain(&self.defaults().vars).chain(&shot.vars) {
            vars.insert(k.clone(), v.value.to_string());
        }
        for (k, v) in combo {
            if !Field::named(k).is_some_and(Field::is_param) {
                vars.insert(k.clone(), v.value.to_string());
            }
        }
        vars
    }

    /// Resolves one combination of a shot into a job: fields → typed values → template →
    /// catalog checks → media → `Job`, reporting everything wrong with it.
    fn job(&mut self, shot: &Shot, combo: &Combination<Val>, sample: u32, repeat: u32) -> Option<Job> {
        let id_span = Some(Span::at(&shot.id));
        let sid = &shot.id.value;
        let defaults = self.defaults();
        let get = |field: Field| -> Option<Val> {
            combo
                .iter()
                .find(|(k, _)| k == field.name())
                .map(|(_, v)| v.clone())
                .or_else(|| shot_field(shot, field))
                .or_else(|| defaults_field(defaults, field))
        };
        let errors_before = self.diags.error_count();

        let model = values::required_str(&mut self.diags, get(Field::Model), "model", sid, id_span);
        let size = values::required_str(&mut self.diags, get(Field::Size), "size", sid, id_span);
        let duration = values::duration(&mut self.diags, get(Field::Duration), sid, id_span);
        let audio = values::boolean(&mut self.diags, get(Field::Audio), "audio");
        let watermark = values::boolean(&mut self.diags, get(Field::Watermark), "watermark");
        let seed = values::seed(&mut self.diags, get(Field::Seed));
        let prompt_val = get(Field::Prompt);
        let prompt_template = values::required_str(&mut self.diags, prompt_val.clone(), "prompt", sid, id_span);

        let vars = self.vars(shot, combo);
        let prompt_span = prompt_val.as_ref().and_then(|v| v.span);
        let prompt = prompt_template.as_ref().and_then(|t| template::render(&mut self.diags, t, &vars, prompt_span));

        let (spec, tier) = checks::catalog_fit(
            &mut self.diags,
            Fit {
                model: model.as_deref(),
                model_span: get(Field::Model).and_then(|v| v.span),
                size: size.as_deref(),
                size_span: get(Field::Size).and_then(|v| v.span),
                duration,
                duration_span: get(Field::Duration).and_then(|v| v.span),
                prompt: prompt.as_deref(),
                prompt_span,
            },
        );

        // With a variable missing, the template still shows which refs are mentioned.
        let media =
            prompt.as_ref().or(prompt_template.as_ref()).and_then(|p| self.media(shot, p, prompt_span, id_span));
        let extra = self.extra(shot);

        if self.diags.error_count() > errors_before {
            return None;
        }
        let (model, size, duration, prompt, media) = (model?, size?, duration?, prompt?, media?);

        let (variant, output) = variant_and_output(sid, combo, sample, repeat);
        let price_per_second = self.price(&model, spec, tier, &size, audio);
        let mut job = Job {
            price_per_second,
            key: crate::key::JobKey::default(),
            shot: sid.clone(),
            variant,
            family: catalog::family_of(&model),
            model,
            size,
            tier,
            duration,
            audio,
            watermark,
            seed,
            sample,
            prompt,
            media,
            extra,
            output,
        };
        job.key = job.compute_key();
        Some(job)
    }

    /// The price per second: `run.prices` first, then the catalog. An unknown model's tier is
    /// read off the size's short side.
    fn price(
        &self,
        model: &str,
        spec: Option<&catalog::ModelSpec>,
        tier: Option<catalog::Tier>,
        size: &str,
        audio: bool,
    ) -> Option<f64> {
        let tier = tier.or_else(|| {
            let (w, h) = catalog::parse_size(size)?;
            Some(match w.min(h) {
                0..=360 => catalog::Tier::P360,
                361..=576 => catalog::Tier::P540,
                577..=832 => catalog::Tier::P720,
                _ => catalog::Tier::P1080,
            })
        });
        if let (Some(table), Some(t)) = (self.loaded.manifest.run.prices.get(model), tier) {
            let key = if audio { format!("{t}+audio") } else { t.to_string() };
            if let Some(p) = table.get(&key) {
                return Some(*p);
            }
        }
        Some(spec?.price_per_second(tier?, audio))
    }

    /// The job's media: the explicit list, or the refs mentioned in the prompt in order.
    fn media(
        &mut self,
        shot: &Shot,
        prompt: &str,
        prompt_span: Option<Span>,
        id_span: Option<Span>,
    ) -> Option<Vec<Media>> {
        let explicit = shot.media.as_ref().or(self.defaults().media.as_ref());
        let mut media: Vec<Media> = Vec::new();
        let mut ok = true;
        let list_span;
        if let Some(list) = explicit {
            list_span = Some(Span::at(list));
            for item in &list.value {
                let span = Some(Span::at(item));
                match &item.value {
                    MediaItem::Ref(name) => match self.refs.get(name) {
                        Some(source) => media.push(Media { source: source.clone(), ref_name: Some(name.clone()) }),
                        None => {
                            ok = false;
                            if !self.loaded.manifest.refs.contains_key(name) {
                                self.diags.push(mentions::unknown_ref(
                                    name,
                                    &self.loaded.manifest.refs.keys().cloned().collect::<Vec<_>>(),
                                    span,
                                ));
                            }
                        }
                    },
                    MediaItem::Inline { url, ref_name } => {
                        match refs::resolve_target(&self.loaded.dir, &mut self.diags, url, span) {
                            Some(source) => media.push(Media { source, ref_name: ref_name.clone() }),
                            None => ok = false,
                        }
                    }
                }
            }
        } else {
            list_span = prompt_span;
        }

        // Mentions bind against the media's ref_names when media is explicit, else the refs.
        let names: Vec<String> = if explicit.is_some() {
            media.iter().filter_map(|m| m.ref_name.clone()).collect()
        } else {
            self.loaded.manifest.refs.keys().cloned().collect()
        };
        let Bound { mentioned, ok: bound } = mentions::bind(&mut self.diags, prompt, prompt_span, &names);
        ok &= bound;
        if explicit.is_none() {
            for name in &mentioned {
                if let Some(source) = self.refs.get(name) {
                    media.push(Media { source: source.clone(), ref_name: Some(name.clone()) });
                }
            }
        } else {
            ok &= mentions::check_explicit(&mut self.diags, &media, &mentioned, prompt, list_span);
        }
        if ok && media.len() < MEDIA_MIN {
            ok = false;
            self.diags.push(
                Diagnostic::error(format!("shot `{}` has no reference images", shot.id.value), list_span.or(id_span))
                    .hint("mention a ref as `@name ` in the prompt, or list them under `media:`; the models need 1 to 7 images"),
            );
        }
        if media.len() > MEDIA_MAX {
            ok = false;
            self.diags.push(
                Diagnostic::error(
                    format!(
                        "shot `{}` has {} reference images; the models take at most {MEDIA_MAX}",
                        shot.id.value,
                        media.len()
                    ),
                    list_span,
                )
                .hint("split the shot, or combine references into one image"),
            );
        }
        ok.then_some(media)
    }

    /// `extra` from defaults then shot (shot wins); known fields cannot be set through it.
    fn extra(&mut self, shot: &Shot) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        for extra in [self.defaults().extra.as_ref(), shot.extra.as_ref()].into_iter().flatten() {
            for (k, v) in &extra.value {
                if Field::named(k).is_some_and(Field::is_parameter) {
                    self.diags.push(
                        Diagnostic::error(format!("`extra.{k}` would override the `{k}` field"), Some(Span::at(extra)))
                            .hint(format!("set `{k}:` directly on the shot or under `defaults:`")),
                    );
                } else {
                    out.insert(k.clone(), v.0.clone());
                }
            }
        }
        out
    }
}

fn combo_of(entry: &Combo) -> Combination<Val> {
    entry.iter().map(|(k, v)| (k.value.clone(), Val::of(v))).collect()
}

/// A job's variant label (`k=v` sorted, with `sample=N` when repeated) and its output path.
fn variant_and_output(sid: &str, combo: &Combination<Val>, sample: u32, repeat: u32) -> (String, PathBuf) {
    let mut labels: Vec<(String, String)> = combo.iter().map(|(k, v)| (k.clone(), v.value.to_string())).collect();
    if repeat > 1 {
        labels.push(("sample".into(), (sample + 1).to_string()));
    }
    labels.sort();
    let variant = labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    let output = if variant.is_empty() {
        PathBuf::from(format!("{sid}.mp4"))
    } else {
        PathBuf::from(sid).join(format!("{}.mp4", slug(&variant)))
    };
    (variant, output)
}
