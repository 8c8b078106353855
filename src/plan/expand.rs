//! Manifest → ordered jobs, checking everything that spans fields on the way.
//!
//! Every job's values are resolved as `matrix combination ⊕ shot ⊕ defaults` and checked
//! against the model catalog. Problems are collected, not thrown: one run of `validate` shows
//! them all, each pointing at the YAML value that caused it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use super::checks;
use super::fit::{self, Given, Set, Wanted};
use super::job::{Job, slug};
use super::matrix::{self, Combination, MatrixSpec};
use super::mentions::{self, Bound};
use super::refs;
use super::stages;
use super::template;
use super::values::{self, Field, Val, defaults_field, shot_field};
use crate::catalog::{self, Endpoint, Layout};
use crate::ledger::money::PriceSource;
use crate::manifest::diag::did_you_mean;
use crate::manifest::{Combo, Defaults, Diagnostic, Diagnostics, Loaded, MediaItem, Region, Shot, Span};

/// The most samples a shot may `repeat`.
const REPEAT_MAX: u32 = 1000;

/// The output folder when the manifest names none.
pub const DEFAULT_OUTPUT: &str = "renders";

/// Limits and switches for expansion.
#[derive(Debug, Clone)]
pub struct ExpandOptions {
    /// A manifest expanding to more jobs than this is refused (a typo in a matrix is costly).
    pub max_jobs: usize,
    /// The region the jobs are made in (`--region`), over the manifest's `run.region`: it
    /// decides which models are offered and their prices.
    pub region: Option<Region>,
}

impl Default for ExpandOptions {
    fn default() -> Self {
        ExpandOptions { max_jobs: 10_000, region: None }
    }
}

/// A generated ref as the plan sees it.
#[derive(Debug, Clone)]
pub struct RefStage {
    pub name: String,
    /// Its place in the ref graph: 0 unless it uses other generated refs.
    pub depth: u32,
    /// Its current pick, if any (a pick of a candidate it no longer makes is not).
    pub pick: Option<crate::review::picks::RefPick>,
    /// `pick: first` or `run.auto_pick: first`: the first good candidate is taken.
    pub auto_first: bool,
    /// The refs it uses as input images.
    pub inputs: Vec<String>,
}

/// The jobs of a manifest, in manifest order, and where their files go.
#[derive(Debug)]
pub struct Expansion {
    /// Jobs ready to run: the generated refs' image jobs first (by stage), then the clips.
    pub jobs: Vec<Job>,
    /// Jobs that use a generated ref with no pick yet: not sent, shown as `waiting`.
    pub waiting: Vec<Job>,
    /// The generated refs, in graph order.
    pub refs: Vec<RefStage>,
    /// The manifest's `run.budget` (CNY over every run), if any.
    pub budget: Option<f64>,
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
    let region = options.region.or(loaded.manifest.run.region).unwrap_or_default();
    let mut cx = Expander { loaded, diags: loaded.diagnostics(), refs: BTreeMap::new(), region };
    let m = &loaded.manifest;
    if m.version.value != 1 {
        cx.diags.push(
            Diagnostic::error(format!("unsupported manifest version {}", m.version.value), Some(Span::at(&m.version)))
                .label("only version 1 exists")
                .hint("write `version: 1`"),
        );
    }
    cx.refs = refs::resolve_all(cx.loaded, &mut cx.diags);
    let gens = stages::graph(cx.loaded, &mut cx.diags);
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

    let picks = if gens.is_empty() {
        crate::review::picks::Picks::default()
    } else {
        crate::review::picks::Picks::load(&output_dir).unwrap_or_else(|e| {
            cx.diags.push(Diagnostic::error(e.to_string(), None).hint(e.hint()));
            crate::review::picks::Picks::default()
        })
    };
    let mut jobs = Vec::new();
    let mut ref_stages = Vec::new();
    for g in &gens {
        let made = stages::jobs(g, &cx.refs, region, &m.run.prices, &mut cx.diags);
        let (r, pick) = stages::resolve(g, &made, &picks, &output_dir, &mut cx.diags);
        cx.refs.insert(g.name.to_owned(), r);
        let auto_first = g.spec.pick.or(m.run.auto_pick).is_some();
        ref_stages.push(RefStage {
            name: g.name.to_owned(),
            depth: g.depth,
            pick,
            auto_first,
            inputs: g.inputs.clone(),
        });
        jobs.extend(made);
    }
    // Refs in a cycle (an error already) still name something: no cascade of unknown refs.
    for (name, spec) in &m.refs {
        if spec.value.generate().is_some() && !cx.refs.contains_key(name) {
            cx.refs.insert(name.clone(), stages::waiting_ref(name));
        }
    }
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
        checks::concurrency_keys(cx.loaded, &mut cx.diags, &jobs);
    }

    if cx.diags.has_errors() {
        cx.diags.sort();
        return Err(cx.diags);
    }
    cx.diags.sort();
    let (waiting, jobs) = jobs.into_iter().partition(|j: &Job| !j.waiting.is_empty());
    let budget = m.run.budget;
    Ok(Expansion { jobs, waiting, refs: ref_stages, unselected: Vec::new(), output_dir, warnings: cx.diags, budget })
}

struct Expander<'a> {
    loaded: &'a Loaded,
    diags: Diagnostics,
    refs: BTreeMap<String, refs::Ref>,
    region: Region,
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
    /// the model's rules (`fit`) → `Job`, reporting everything wrong with it.
    fn job(&mut self, shot: &Shot, combo: &Combination<Val>, sample: u32, repeat: u32) -> Option<Job> {
        let id_span = Some(Span::at(&shot.id));
        let sid = &shot.id.value;
        let defaults = self.defaults();
        // A value and whether it came from `defaults:`.
        let get_set = |field: Field| -> Option<(Val, bool)> {
            combo
                .iter()
                .find(|(k, _)| k == field.name())
                .map(|(_, v)| (v.clone(), false))
                .or_else(|| shot_field(shot, field).map(|v| (v, false)))
                .or_else(|| defaults_field(defaults, field).map(|v| (v, true)))
        };
        let get = |field: Field| get_set(field).map(|(v, _)| v);
        let errors_before = self.diags.error_count();

        let model = values::required_str(&mut self.diags, get(Field::Model), "model", sid, id_span);
        let duration = values::duration(&mut self.diags, get(Field::Duration), sid, id_span);
        let watermark = values::boolean(&mut self.diags, get(Field::Watermark), "watermark");
        let diags = &mut self.diags;
        let text = |diags: &mut Diagnostics, field: Field| -> Option<Set<String>> {
            let (v, from_defaults) = get_set(field)?;
            let span = v.span;
            values::required_str(diags, Some(v), field.name(), sid, id_span).map(|value| Set {
                value,
                span,
                from_defaults,
            })
        };
        let size = text(diags, Field::Size);
        let resolution = text(diags, Field::Resolution);
        let ratio = text(diags, Field::Ratio);
        let negative_prompt = text(diags, Field::NegativePrompt);
        let first_frame_name = text(diags, Field::FirstFrame);
        let last_frame_name = text(diags, Field::LastFrame);
        let flag = |diags: &mut Diagnostics, field: Field| -> Option<Set<bool>> {
            let (v, from_defaults) = get_set(field)?;
            let span = v.span;
            Some(Set { value: values::boolean(diags, Some(v), field.name()), span, from_defaults })
        };
        let audio = flag(diags, Field::Audio);
        let prompt_extend = flag(diags, Field::PromptExtend);
        let seed = get_set(Field::Seed).and_then(|(v, from_defaults)| {
            let span = v.span;
            values::seed(diags, Some(v)).map(|value| Set { value, span, from_defaults })
        });
        // The model's rules, looked up once for the whole job.
        let spec = model.as_deref().and_then(catalog::lookup);
        let prompt_val = get(Field::Prompt);
        let prompt_template = match (&prompt_val, spec) {
            // An image-to-video model may go without a prompt: none is sent.
            (None, Some(spec)) if !spec.prompt_required => Some(String::new()),
            _ => values::required_str(&mut self.diags, prompt_val.clone(), "prompt", sid, id_span),
        };

        let vars = self.vars(shot, combo);
        let prompt_span = prompt_val.as_ref().and_then(|v| v.span);
        let prompt = prompt_template.as_ref().and_then(|t| template::render(&mut self.diags, t, &vars, prompt_span));

        // With a variable missing, the template still shows which refs are mentioned.
        let needs_space = spec.is_none_or(|s| s.mentions == catalog::Mentions::AtName);
        let refs =
            prompt.as_ref().or(prompt_template.as_ref()).and_then(|p| self.media(shot, p, prompt_span, needs_space));
        let first_frame = first_frame_name.and_then(|n| self.frame(&n));
        let last_frame = last_frame_name.and_then(|n| self.frame(&n));
        let extra = self.extra(shot);

        if self.diags.error_count() > errors_before {
            return None;
        }
        let (model, duration, prompt, (refs, refs_span)) = (model?, duration?, prompt?, refs?);
        let model_span = get(Field::Model).and_then(|v| v.span);
        if spec.is_none() {
            let known = catalog::models().map(|m| m.id);
            self.diags.push(
                Diagnostic::warning(
                    format!("unknown model `{model}`: pixbatch checks it only generically"),
                    model_span,
                )
                .maybe_hint(did_you_mean(&model, known).map(|m| format!("did you mean `{m}`?"))),
            );
        }
        let fitted = fit::fit(
            &mut self.diags,
            spec,
            Wanted {
                model: &model,
                model_span,
                id_span,
                region: self.region,
                size,
                resolution,
                ratio,
                duration,
                duration_span: get(Field::Duration).and_then(|v| v.span),
                audio,
                watermark,
                seed,
                negative_prompt,
                prompt_extend,
                prompt: &prompt,
                prompt_span,
                refs,
                refs_span,
                first_frame,
                last_frame,
                extra,
            },
        )?;

        let (variant, output) = variant_and_output(sid, combo, sample, repeat);
        let (price_per_second, price_source) = self.price(&model, spec, fitted.tier, fitted.sound, fitted.with_video);
        let mut job = Job {
            price_per_second,
            billed_input_seconds: fitted.billed_input_seconds,
            key: crate::key::JobKey::default(),
            shot: sid.clone(),
            variant,
            family: spec.map_or_else(|| catalog::Family::Other(model.clone()), catalog::ModelSpec::family),
            endpoint: spec.map_or(Endpoint::VideoGeneration, |s| s.endpoint),
            layout: spec.map_or(Layout::MediaList, |s| s.layout),
            model,
            size: fitted.size_label,
            tier: fitted.tier,
            duration,
            audio: fitted.sound,
            watermark,
            seed: fitted.params.get("seed").and_then(serde_json::Value::as_i64),
            sample,
            prompt: fitted.prompt,
            media: fitted.media,
            input: fitted.input,
            params: fitted.params,
            output,
            product: crate::plan::Product::Video,
            price_per_image: None,
            price_source,
            stage: crate::plan::Stage::Clips,
            waiting: Vec::new(),
        };
        job.waiting = job
            .media
            .iter()
            .filter_map(|m| match &m.source {
                crate::plan::MediaSource::Waiting(name) => Some(name.clone()),
                _ => None,
            })
            .collect();
        job.key = job.compute_key();
        Some(job)
    }

    /// Where a ref is defined under `refs:`.
    fn defined_at(&self, name: &str) -> Option<Span> {
        self.loaded.manifest.refs.get(name).map(Span::at)
    }

    /// A frame field's ref.
    fn frame(&mut self, name: &Set<String>) -> Option<Given> {
        match self.refs.get(&name.value) {
            Some(r) => Some(Given {
                name: Some(name.value.clone()),
                r: r.clone(),
                span: name.span,
                role: None,
                defined_at: self.defined_at(&name.value),
            }),
            None => {
                if !self.loaded.manifest.refs.contains_key(&name.value) {
                    let names: Vec<String> = self.loaded.manifest.refs.keys().cloned().collect();
                    self.diags.push(mentions::unknown_ref(&name.value, &names, name.span));
                }
                None
            }
        }
    }

    /// The price per second: `run.prices` first, then the catalog.
    fn price(
        &self,
        model: &str,
        spec: Option<&catalog::ModelSpec>,
        tier: Option<catalog::Tier>,
        sound: bool,
        with_video: bool,
    ) -> (Option<f64>, PriceSource) {
        let Some(tier) = tier else { return (None, PriceSource::Catalog) };
        if let Some(table) = self.loaded.manifest.run.prices.get(model) {
            let key = if sound { format!("{tier}+audio") } else { tier.to_string() };
            if let Some(p) = table.get(&key) {
                return (Some(*p), PriceSource::Manifest);
            }
        }
        (spec.and_then(|s| s.price_per_second(tier, sound, with_video, self.region)), PriceSource::Catalog)
    }

    /// The job's references: the explicit list, or the refs mentioned in the prompt in order;
    /// and where they were given.
    fn media(
        &mut self,
        shot: &Shot,
        prompt: &str,
        prompt_span: Option<Span>,
        needs_space: bool,
    ) -> Option<(Vec<Given>, Option<Span>)> {
        let explicit = shot.media.as_ref().or(self.defaults().media.as_ref());
        let mut media: Vec<Given> = Vec::new();
        let mut ok = true;
        let list_span;
        if let Some(list) = explicit {
            list_span = Some(Span::at(list));
            for item in &list.value {
                let span = Some(Span::at(item));
                match &item.value {
                    MediaItem::Ref(name) => match self.refs.get(name) {
                        Some(r) => media.push(Given {
                            name: Some(name.clone()),
                            r: r.clone(),
                            span,
                            role: None,
                            defined_at: self.defined_at(name),
                        }),
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
                        match refs::resolve_target(&self.loaded.dir, &mut self.diags, url, None, span) {
                            Some(r) => {
                                media.push(Given { name: ref_name.clone(), r, span, role: None, defined_at: span })
                            }
                            None => ok = false,
                        }
                    }
                    MediaItem::RefAs { name, role } => {
                        let role = match catalog::Role::from_name(role) {
                            Some(role) => Some(role),
                            None => {
                                ok = false;
                                let roles: Vec<&str> = catalog::Role::ALL.iter().map(|r| r.name()).collect();
                                self.diags.push(
                                    Diagnostic::error(format!("`as: {role}` is not a media role"), span).hint(
                                        match did_you_mean(role, roles.iter().copied()) {
                                            Some(r) => {
                                                format!("did you mean `{r}`? the roles are {}", roles.join(", "))
                                            }
                                            None => format!("the roles are {}", roles.join(", ")),
                                        },
                                    ),
                                );
                                None
                            }
                        };
                        match self.refs.get(name) {
                            Some(r) => media.push(Given {
                                name: Some(name.clone()),
                                r: r.clone(),
                                span,
                                role,
                                defined_at: self.defined_at(name),
                            }),
                            None => {
                                ok = false;
                                if !self.loaded.manifest.refs.contains_key(name) {
                                    let names: Vec<String> = self.loaded.manifest.refs.keys().cloned().collect();
                                    self.diags.push(mentions::unknown_ref(name, &names, span));
                                }
                            }
                        }
                    }
                }
            }
        } else {
            list_span = prompt_span;
        }

        // Mentions bind against the media's ref_names when media is explicit, else the refs.
        let names: Vec<String> = if explicit.is_some() {
            media.iter().filter_map(|m| m.name.clone()).collect()
        } else {
            self.loaded.manifest.refs.keys().cloned().collect()
        };
        let Bound { mentioned, ok: bound } = mentions::bind(&mut self.diags, prompt, prompt_span, &names, needs_space);
        ok &= bound;
        if explicit.is_none() {
            for name in &mentioned {
                if let Some(r) = self.refs.get(name) {
                    media.push(Given {
                        name: Some(name.clone()),
                        r: r.clone(),
                        span: prompt_span,
                        role: None,
                        defined_at: self.defined_at(name),
                    });
                }
            }
        } else {
            let names: Vec<Option<String>> = media.iter().map(|m| m.name.clone()).collect();
            ok &= mentions::check_explicit(&mut self.diags, &names, &mentioned, prompt, list_span);
        }
        ok.then_some((media, list_span))
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
