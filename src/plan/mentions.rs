//! `@name` mentions in prompts, which bind a job's reference images: found, checked against
//! the names they may bind, and checked against an explicit `media:` list.

use std::collections::HashSet;

use super::template::locate_in;
use crate::manifest::diag::did_you_mean;
use crate::manifest::{Diagnostic, Diagnostics, Span};

/// A mention: `@` then everything up to the next whitespace.
#[derive(Debug, PartialEq)]
pub struct Mention {
    pub token: String,
    pub followed_by_space: bool,
}

/// Finds `@name` mentions. An `@` right after an ASCII letter or digit (an e-mail) is not one.
pub fn mentions(prompt: &str) -> Vec<Mention> {
    let mut out = Vec::new();
    let mut prev: Option<char> = None;
    for (i, c) in prompt.char_indices() {
        if c == '@' && !prev.is_some_and(|p| p.is_ascii_alphanumeric()) {
            let rest = &prompt[i + 1..];
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let token = &rest[..end];
            if !token.is_empty() {
                out.push(Mention { token: token.to_owned(), followed_by_space: end < rest.len() });
            }
        }
        prev = Some(c);
    }
    out
}

/// The prompt with each `@name` mention replaced by `words[name]`: the longest name that
/// starts the mention, so `@hero,` is `hero` then `,` (the `@` goes too). Mentions of other
/// names are left as written.
pub fn rewrite(prompt: &str, words: &std::collections::BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(prompt.len());
    let mut prev: Option<char> = None;
    let mut rest = prompt;
    while let Some(c) = rest.chars().next() {
        if c == '@' && !prev.is_some_and(|p| p.is_ascii_alphanumeric()) {
            let after = &rest[1..];
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            let token = &after[..end];
            if let Some((name, word)) =
                words.iter().filter(|(n, _)| token.starts_with(n.as_str())).max_by_key(|(n, _)| n.len())
            {
                out.push_str(word);
                prev = name.chars().last();
                rest = &after[name.len()..];
                continue;
            }
        }
        out.push(c);
        prev = Some(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The mentions of a prompt, bound.
#[derive(Debug)]
pub(super) struct Bound {
    /// Names mentioned, in order of first mention.
    pub(super) mentioned: Vec<String>,
    /// No mention was wrong (each wrong one is reported).
    pub(super) ok: bool,
}

/// Binds the prompt's mentions against `names` (the refs, or an explicit media list's
/// ref_names): a known name must be followed by a space; an unknown one is an error with the
/// closest name.
///
/// `needs_space`: the model binds `@name` only when a space follows (PixVerse); for the others
/// pixbatch rewrites the mention itself, so `@name,` and a mention at the end bind too.
pub(super) fn bind(
    diags: &mut Diagnostics,
    prompt: &str,
    prompt_span: Option<Span>,
    names: &[String],
    needs_space: bool,
) -> Bound {
    let mut ok = true;
    let mut mentioned: Vec<String> = Vec::new();
    for mention in mentions(prompt) {
        let span = locate_in(diags, prompt_span, &format!("@{}", mention.token)).or(prompt_span);
        if names.contains(&mention.token) {
            if !mention.followed_by_space && needs_space {
                ok = false;
                diags.push(
                    Diagnostic::error(
                        format!("`@{}` at the end of the prompt must be followed by a space", mention.token),
                        span,
                    )
                    .label("add a space after this")
                    .hint("the API binds @name only when a space follows it"),
                );
            }
            if !mentioned.contains(&mention.token) {
                mentioned.push(mention.token.clone());
            }
            continue;
        }
        let prefix = names.iter().filter(|n| mention.token.starts_with(n.as_str())).max_by_key(|n| n.len());
        if let Some(name) = prefix.filter(|_| !needs_space) {
            if !mentioned.contains(name) {
                mentioned.push(name.clone());
            }
            continue;
        }
        ok = false;
        match prefix {
            Some(name) => {
                let after: String = mention.token[name.len()..].chars().next().map(String::from).unwrap_or_default();
                diags.push(
                    Diagnostic::error(format!("`@{name}` must be followed by a space, not `{after}`"), span)
                        .label("no space after the ref name")
                        .hint(format!(
                            "write `@{name} {}`: the API binds @name only when a space follows it",
                            &mention.token[name.len()..]
                        )),
                );
            }
            None => diags.push(unknown_ref(&mention.token, names, span)),
        }
    }
    Bound { mentioned, ok }
}

/// With an explicit `media:` list: a ref_name never mentioned is a warning (when the prompt
/// mentions any), a ref_name twice is an error. False when there is an error.
pub(super) fn check_explicit(
    diags: &mut Diagnostics,
    names: &[Option<String>],
    mentioned: &[String],
    prompt: &str,
    list_span: Option<Span>,
) -> bool {
    let mut ok = true;
    for name in names.iter().flatten() {
        if !mentioned.contains(name) && !mentions(prompt).is_empty() {
            diags.push(
                Diagnostic::warning(
                    format!("media `{name}` is never mentioned as `@{name} ` in the prompt"),
                    list_span,
                )
                .hint("the API expects ref_names and @mentions to correspond one to one"),
            );
        }
    }
    let mut seen = HashSet::new();
    for name in names.iter().flatten() {
        if !seen.insert(name.clone()) {
            ok = false;
            diags.push(
                Diagnostic::error(format!("ref_name `{name}` appears twice in media"), list_span)
                    .hint("each ref_name must be unique in a request"),
            );
        }
    }
    ok
}

/// `@name` that names no ref: the closest one, and the list.
pub(super) fn unknown_ref(name: &str, names: &[String], span: Option<Span>) -> Diagnostic {
    let list = if names.is_empty() { "none are defined".to_owned() } else { names.join(", ") };
    Diagnostic::error(format!("unknown ref `@{name}`"), span).label("not in refs").hint(
        match did_you_mean(name, names.iter().map(String::as_str)) {
            Some(best) => format!("did you mean `@{best}`? refs: {list}"),
            None => format!("define it under `refs:`; refs: {list}"),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_need_a_space_and_skip_emails() {
        let m = mentions("@男人 坐在@吉他，mail a@b.com @cafe");
        assert_eq!(
            m,
            vec![
                Mention { token: "男人".into(), followed_by_space: true },
                Mention { token: "吉他，mail".into(), followed_by_space: true },
                Mention { token: "cafe".into(), followed_by_space: false },
            ]
        );
    }
}
