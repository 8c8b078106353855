//! Prompt templates: `{{name}}` filled from the shot's variables.

use std::collections::BTreeMap;

use crate::manifest::diag::did_you_mean;
use crate::manifest::{Diagnostic, Diagnostics, Span};

/// Fills `{{name}}` from the variables; an unknown name is an error.
pub(super) fn render(
    diags: &mut Diagnostics,
    template: &str,
    vars: &BTreeMap<String, String>,
    span: Option<Span>,
) -> Option<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    let mut ok = true;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            diags.push(Diagnostic::error("unclosed `{{` in the prompt", span).hint("close it with `}}`"));
            return None;
        };
        let name = after[..end].trim();
        match vars.get(name) {
            Some(v) => out.push_str(v),
            None => {
                ok = false;
                let span = locate_in(diags, span, &format!("{{{{{}", &after[..end])).or(span);
                diags.push(
                    Diagnostic::error(format!("`{{{{{name}}}}}` has no value"), span).label("no such variable").hint(
                        match did_you_mean(name, vars.keys().map(String::as_str)) {
                            Some(best) => format!(
                                "did you mean `{{{{{best}}}}}`? define variables under `vars:` or as a matrix axis"
                            ),
                            None => {
                                "define it under `vars:` (manifest, defaults or shot) or as a matrix axis".to_owned()
                            }
                        },
                    ),
                );
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    ok.then_some(out)
}

/// The `{{name}}` variables a template uses.
pub(super) fn template_names(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push(after[..end].trim().to_owned());
        rest = &after[end + 2..];
    }
    out
}

/// The span of `needle` inside the source text of `within`, when it appears there literally.
pub(super) fn locate_in(diags: &Diagnostics, within: Option<Span>, needle: &str) -> Option<Span> {
    let within = within?;
    let text = &diags.source_of(within.source).text;
    let hay = text.get(within.offset..within.offset + within.len)?;
    let at = hay.find(needle)?;
    Some(Span { offset: within.offset + at, len: needle.len(), ..within })
}
