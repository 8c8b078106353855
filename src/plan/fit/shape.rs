//! The output shape as each model writes it: an exact size from a table, `resolution` +
//! `ratio`, Kling's `mode` + `aspect_ratio`, Vidu's `resolution` + `size`, or the resolution
//! alone (the first frame sets the aspect).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Set, Wanted};
use crate::catalog::{ModelSpec, Shape, Tier};
use crate::manifest::Diagnostic;
use crate::manifest::Diagnostics;

/// The output shape's parameters and tier, as the model writes them.
pub(super) fn shape(
    diags: &mut Diagnostics,
    spec: &ModelSpec,
    w: &Wanted<'_>,
    has_frame: bool,
) -> Option<(BTreeMap<String, Value>, Tier)> {
    let id = spec.id;
    // One of `size` or `resolution`+`ratio`: a shot's value beats a default.
    let mut size = w.size.as_ref();
    let mut resolution = w.resolution.as_ref();
    let mut ratio = w.ratio.as_ref();
    let shot_size = size.as_ref().is_some_and(|s| !s.from_defaults);
    let shot_res =
        resolution.as_ref().is_some_and(|s| !s.from_defaults) || ratio.as_ref().is_some_and(|s| !s.from_defaults);
    if size.is_some() && (resolution.is_some() || ratio.is_some()) {
        if shot_size && !shot_res {
            resolution = None;
            ratio = None;
        } else if shot_res && !shot_size {
            size = None;
        } else if shot_size && shot_res {
            diags.push(
                Diagnostic::error(
                    "give `size` or `resolution` + `ratio`, not both",
                    size.as_ref().and_then(|s| s.span),
                )
                .hint("`size` is exact pixels; `resolution` + `ratio` lets pixbatch pick each model's size"),
            );
            return None;
        } else {
            // Both from defaults: the model's shape decides which it takes.
            match spec.shape {
                Shape::Size(_) | Shape::ResolutionSize(_) => {
                    resolution = None;
                    ratio = None;
                }
                _ => size = None,
            }
        }
    }
    // The lists are built only for messages: the common path allocates nothing.
    let tier_names = || spec.shape.tiers().iter().map(|t| t.name()).collect::<Vec<_>>().join(", ");
    let read_tier = |diags: &mut Diagnostics, r: &Set<String>| -> Option<Tier> {
        match Tier::from_name(&r.value).filter(|t| spec.shape.has_tier(*t)) {
            Some(t) => Some(t),
            None => {
                diags.push(
                    Diagnostic::error(format!("resolution `{}` is not allowed for {id}", r.value), r.span)
                        .label("not a tier of this model")
                        .hint(format!("{id} takes {}", tier_names())),
                );
                None
            }
        }
    };
    let ratios = || spec.shape.ratios();
    let check_ratio = |diags: &mut Diagnostics, r: &Set<String>| -> bool {
        if spec.shape.has_ratio(&r.value) {
            return true;
        }
        diags.push(
            Diagnostic::error(format!("ratio `{}` is not allowed for {id}", r.value), r.span)
                .label("not a ratio of this model")
                .hint(format!("{id} takes {}", ratios().join(", "))),
        );
        false
    };
    let no_size = |diags: &mut Diagnostics, s: &Set<String>| {
        if !s.from_defaults {
            diags.push(
                Diagnostic::error(format!("{id} has no `size`: it takes `resolution` ({})", tier_names()), s.span)
                    .label("not a field of this model")
                    .hint(if ratios().is_empty() {
                        "write `resolution:`; the aspect comes from the first frame".to_owned()
                    } else {
                        format!("write `resolution:` and `ratio:` ({})", ratios().join(", "))
                    }),
            );
        }
    };
    let frame_ratio = |diags: &mut Diagnostics, r: &Set<String>| {
        if !r.from_defaults {
            diags.push(
                Diagnostic::error(
                    format!("{id} has no `ratio` with a first frame: the aspect comes from the image"),
                    r.span,
                )
                .label("not used")
                .hint("remove `ratio`, or crop the first frame to the aspect you want"),
            );
        }
    };
    let need_resolution = |diags: &mut Diagnostics| {
        diags.push(
            Diagnostic::error(format!("this job has no `resolution` ({id} takes {})", tier_names()), w.id_span)
                .hint("set `resolution:` on the shot or under `defaults:`"),
        );
    };
    let mut params = BTreeMap::new();
    match spec.shape {
        Shape::Size(_) | Shape::ResolutionSize(_) => {
            let (exact, tier) = match (&size, &resolution) {
                (Some(s), _) => match spec.tier_of(&s.value) {
                    Some(t) => (s.value.clone(), t),
                    None => {
                        diags.push(crate::plan::checks::size_error(spec, &s.value, s.span));
                        return None;
                    }
                },
                (None, Some(r)) => {
                    let tier = read_tier(diags, r)?;
                    let ratio_text = ratio.as_ref().map_or("16:9", |r| r.value.as_str());
                    match spec.size_for(tier, ratio_text) {
                        Some(exact) => (exact.to_owned(), tier),
                        None => {
                            let at_tier: Vec<&str> = spec
                                .shape
                                .size_table()
                                .unwrap_or(&[])
                                .iter()
                                .filter(|row| row.2 == tier)
                                .map(|row| row.1)
                                .collect();
                            diags.push(
                                Diagnostic::error(
                                    format!("{id} has no ratio `{ratio_text}` at {tier}"),
                                    ratio.as_ref().and_then(|r| r.span).or(r.span),
                                )
                                .label("not in the model's size table")
                                .hint(format!("at {tier} {id} takes {}", at_tier.join(", "))),
                            );
                            return None;
                        }
                    }
                }
                (None, None) => {
                    diags.push(
                        Diagnostic::error("this job has no `size` (or `resolution` + `ratio`)", w.id_span)
                            .hint("set `resolution:` and `ratio:` (pixbatch picks the size), or an exact `size:`, on the shot or under `defaults:`"),
                    );
                    return None;
                }
            };
            if matches!(spec.shape, Shape::ResolutionSize(_)) {
                params.insert("resolution".into(), tier.name().into());
            }
            params.insert("size".into(), exact.into());
            Some((params, tier))
        }
        Shape::ResolutionRatio { .. } | Shape::ModeAspect { .. } | Shape::Resolution { .. } => {
            if let Some(s) = &size {
                no_size(diags, s);
                if !s.from_defaults {
                    return None;
                }
            }
            let Some(r) = &resolution else {
                need_resolution(diags);
                return None;
            };
            let tier = read_tier(diags, r)?;
            let takes_ratio = !matches!(spec.shape, Shape::Resolution { .. }) && !has_frame;
            match (&ratio, takes_ratio) {
                (Some(q), false) => {
                    frame_ratio(diags, q);
                    if !q.from_defaults {
                        return None;
                    }
                }
                (Some(q), true) => {
                    if !check_ratio(diags, q) {
                        return None;
                    }
                }
                (None, _) => {}
            }
            let ratio = ratio.filter(|_| takes_ratio);
            match spec.shape {
                Shape::ModeAspect { modes, .. } => {
                    let mode = modes.iter().find(|m| m.1 == tier).map_or("std", |m| m.0);
                    params.insert("mode".into(), mode.into());
                    match ratio {
                        Some(q) => {
                            params.insert("aspect_ratio".into(), q.value.clone().into());
                        }
                        None if takes_ratio => {
                            diags.push(
                                Diagnostic::error(
                                    format!("this job has no `ratio`: {id} needs one without a first frame"),
                                    w.id_span,
                                )
                                .hint(format!("set `ratio:` ({})", ratios().join(", "))),
                            );
                            return None;
                        }
                        None => {}
                    }
                }
                _ => {
                    params.insert("resolution".into(), tier.name().into());
                    if let Some(q) = ratio {
                        params.insert("ratio".into(), q.value.clone().into());
                    }
                }
            }
            Some((params, tier))
        }
    }
}
