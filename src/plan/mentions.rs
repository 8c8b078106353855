//! `@name` mentions in prompts, which bind a job's reference images.

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
