//! Typed values of the manifest's parameter fields, read with their location; every problem
//! goes to the diagnostics sink, never a panic.

use serde_saphyr::Spanned;

use crate::catalog::{self, SEED_MAX};
pub(super) use crate::manifest::ShotField as Field;
use crate::manifest::{Defaults, Diagnostic, Diagnostics, Scalar, Shot, Span};

/// A value with where it was written.
#[derive(Debug, Clone)]
pub(super) struct Val {
    pub(super) value: Scalar,
    pub(super) span: Option<Span>,
}

impl Val {
    pub(super) fn of(s: &Spanned<Scalar>) -> Val {
        Val { value: s.value.clone(), span: Some(Span::at(s)) }
    }
    pub(super) fn of_str(s: &Spanned<String>) -> Val {
        Val { value: Scalar::Str(s.value.clone()), span: Some(Span::at(s)) }
    }
}

/// Shot and defaults have the same parameter fields; this reads one.
macro_rules! param_field {
    ($s:expr, $field:expr) => {
        match $field {
            Field::Prompt => $s.prompt.as_ref().map(Val::of_str),
            Field::Model => $s.model.as_ref().map(Val::of_str),
            Field::Size => $s.size.as_ref().map(Val::of_str),
            Field::Duration => $s.duration.as_ref().map(Val::of),
            Field::Audio => $s.audio.as_ref().map(Val::of),
            Field::Watermark => $s.watermark.as_ref().map(Val::of),
            Field::Seed => $s.seed.as_ref().map(Val::of),
            Field::Resolution => $s.resolution.as_ref().map(Val::of_str),
            Field::Ratio => $s.ratio.as_ref().map(Val::of_str),
            Field::FirstFrame => $s.first_frame.as_ref().map(Val::of_str),
            Field::LastFrame => $s.last_frame.as_ref().map(Val::of_str),
            Field::NegativePrompt => $s.negative_prompt.as_ref().map(Val::of_str),
            Field::PromptExtend => $s.prompt_extend.as_ref().map(Val::of),
            _ => None,
        }
    };
}

pub(super) fn shot_field(shot: &Shot, field: Field) -> Option<Val> {
    param_field!(shot, field)
}

pub(super) fn defaults_field(defaults: &Defaults, field: Field) -> Option<Val> {
    param_field!(defaults, field)
}

pub(super) fn required_str(
    diags: &mut Diagnostics,
    val: Option<Val>,
    field: &str,
    shot: &str,
    id_span: Option<Span>,
) -> Option<String> {
    match val {
        Some(Val { value: Scalar::Str(s), .. }) => Some(s),
        Some(Val { value, span }) => {
            diags.push(Diagnostic::error(format!("`{field}` must be a string, not `{value}`"), span).hint("quote it"));
            None
        }
        None => {
            let hint = match field {
                "model" => format!(
                    "set `model:` on the shot or under `defaults:`: {} or {}",
                    catalog::C1_R2V,
                    catalog::V56_R2V
                ),
                "size" => "set `size:` on the shot or under `defaults:`, e.g. \"1280*720\"".to_owned(),
                _ => format!("set `{field}:` on the shot or under `defaults:`"),
            };
            diags.push(Diagnostic::error(format!("shot `{shot}` has no `{field}`"), id_span).hint(hint));
            None
        }
    }
}

pub(super) fn duration(diags: &mut Diagnostics, val: Option<Val>, shot: &str, id_span: Option<Span>) -> Option<u32> {
    match val {
        Some(Val { value: Scalar::Int(d), span }) => match u32::try_from(d) {
            Ok(d) if d >= 1 => Some(d),
            _ => {
                diags.push(Diagnostic::error(format!("duration must be a positive number of seconds, not {d}"), span));
                None
            }
        },
        Some(Val { value, span }) => {
            diags.push(
                Diagnostic::error(format!("duration must be a whole number of seconds, not `{value}`"), span)
                    .hint("write e.g. `duration: 5`"),
            );
            None
        }
        None => {
            diags.push(
                Diagnostic::error(format!("shot `{shot}` has no `duration`"), id_span)
                    .hint("set `duration:` (seconds) on the shot or under `defaults:`"),
            );
            None
        }
    }
}

pub(super) fn boolean(diags: &mut Diagnostics, val: Option<Val>, field: &str) -> bool {
    match val {
        Some(Val { value: Scalar::Bool(b), .. }) => b,
        Some(Val { value, span }) => {
            diags.push(Diagnostic::error(format!("`{field}` must be true or false, not `{value}`"), span));
            false
        }
        None => false,
    }
}

pub(super) fn seed(diags: &mut Diagnostics, val: Option<Val>) -> Option<i64> {
    match val {
        Some(Val { value: Scalar::Int(s), span }) => {
            if (0..=SEED_MAX).contains(&s) {
                Some(s)
            } else {
                diags.push(
                    Diagnostic::error(format!("seed {s} is out of range"), span)
                        .label(format!("must be in [0, {SEED_MAX}]"))
                        .hint(format!("seeds go from 0 to {SEED_MAX}")),
                );
                None
            }
        }
        Some(Val { value, span }) => {
            diags.push(Diagnostic::error(format!("seed must be a whole number, not `{value}`"), span));
            None
        }
        None => None,
    }
}
