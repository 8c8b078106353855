//! Whether each endpoint answers: the one place that knows an endpoint is down, since when, why,
//! and when to knock again.
//!
//! A call that cannot reach its endpoint (refused, DNS, TLS, connect timeout) is not retried by
//! the worker that made it: the coordinator hears of it at once, warns, and from then on lets
//! one call at a time (a poll or a create) knock, on a short backoff. The first answer of any
//! kind, even an HTTP error, ends the outage.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::api::{ApiError, Transport};

/// The first wait before knocking again on an endpoint that did not answer.
const FIRST_KNOCK: Duration = Duration::from_millis(500);
/// The longest wait between knocks: an endpoint that comes back is used within this.
const MAX_KNOCK: Duration = Duration::from_secs(5);

/// An endpoint that does not answer.
#[derive(Debug, Clone)]
pub(super) struct Outage {
    pub(super) since: Instant,
    pub(super) kind: Transport,
    /// The operating system's (or library's) words for the last failure.
    pub(super) error: String,
    /// No call goes there before this; the first call after it is the knock.
    next_try: Instant,
    backoff: Duration,
    /// `--unreachable-grace` ran out: its work was left for the next run.
    pub(super) given_up: bool,
}

impl Outage {
    /// What happened, in the words the warning, the summary and `--json` share.
    pub(super) fn reason(&self) -> String {
        format!("{} ({})", self.kind.describe(), self.error)
    }
}

/// Reachability of every endpoint this run talks to.
#[derive(Debug, Default)]
pub(super) struct Reach {
    down: HashMap<String, Outage>,
}

impl Reach {
    /// `endpoint` answered (any HTTP status): the outage it was in, if any, is over.
    pub(super) fn answered(&mut self, endpoint: &str) -> Option<Outage> {
        if self.down.is_empty() {
            return None;
        }
        self.down.remove(endpoint)
    }

    /// A call to `endpoint` did not reach it. Returns the new outage when this starts one.
    pub(super) fn failed(&mut self, endpoint: &str, error: &ApiError, now: Instant) -> Option<&Outage> {
        let kind = error.transport.unwrap_or(Transport::Connect);
        let words = os_words(&error.message).to_owned();
        match self.down.get_mut(endpoint) {
            Some(outage) => {
                outage.kind = kind;
                outage.error = words;
                outage.next_try = now + outage.backoff;
                outage.backoff = (outage.backoff * 2).min(MAX_KNOCK);
                None
            }
            None => {
                let outage = Outage {
                    since: now,
                    kind,
                    error: words,
                    next_try: now + FIRST_KNOCK,
                    backoff: FIRST_KNOCK * 2,
                    given_up: false,
                };
                Some(&*self.down.entry(endpoint.to_owned()).or_insert(outage))
            }
        }
    }

    /// Whether a call may go to `endpoint` at `now`. For an endpoint that is down, the call that
    /// gets `true` is the knock: the next one waits for its outcome or the next backoff.
    pub(super) fn may_call(&mut self, endpoint: &str, now: Instant) -> bool {
        let Some(outage) = self.down.get_mut(endpoint) else { return true };
        if now < outage.next_try {
            return false;
        }
        outage.next_try = now + outage.backoff;
        true
    }

    /// When the next knock on `endpoint` may go (none while it answers).
    pub(super) fn next_try(&self, endpoint: &str) -> Option<Instant> {
        self.down.get(endpoint).map(|o| o.next_try)
    }

    pub(super) fn is_down(&self, endpoint: &str) -> bool {
        !self.down.is_empty() && self.down.contains_key(endpoint)
    }

    pub(super) fn any_down(&self) -> bool {
        !self.down.is_empty()
    }

    /// Outages not given up yet that have lasted `grace` at `now`: their work is left for the
    /// next run (each endpoint is returned once).
    pub(super) fn past_grace(&mut self, grace: Duration, now: Instant) -> Vec<(String, Outage)> {
        let mut out = Vec::new();
        for (endpoint, outage) in &mut self.down {
            if !outage.given_up && now.saturating_duration_since(outage.since) >= grace {
                outage.given_up = true;
                out.push((endpoint.clone(), outage.clone()));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// The next moment something is due: a knock, or a grace running out.
    pub(super) fn next_wake(&self, grace: Duration) -> Option<Instant> {
        self.down.values().flat_map(|o| [Some(o.next_try), (!o.given_up).then_some(o.since + grace)]).flatten().min()
    }
}

/// The last words of a transport error's cause chain: the OS's ("Connection refused (os error
/// 111)") rather than the library's framing around it.
fn os_words(message: &str) -> &str {
    message.rsplit(": ").next().unwrap_or(message).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused() -> ApiError {
        ApiError::no_answer(
            Transport::Refused,
            "error sending request: client error (Connect): tcp connect error: Connection refused (os error 111)"
                .into(),
            true,
        )
    }

    #[test]
    fn an_outage_starts_once_and_knocks_one_call_at_a_time() {
        let now = Instant::now();
        let mut reach = Reach::default();
        let outage = reach.failed("http://a/", &refused(), now).expect("a new outage");
        assert_eq!(outage.reason(), "connection refused (Connection refused (os error 111))");
        assert!(reach.failed("http://a/", &refused(), now).is_none(), "the same outage goes on");
        assert!(reach.is_down("http://a/") && !reach.is_down("http://b/"));
        assert!(!reach.may_call("http://a/", now), "no call before the knock is due");
        assert!(reach.may_call("http://b/", now), "another endpoint is not held back");
        let knock = reach.next_try("http://a/").expect("a knock is due");
        assert!(reach.may_call("http://a/", knock), "the knock goes");
        assert!(!reach.may_call("http://a/", knock), "only one knock per backoff");
        assert!(reach.answered("http://a/").is_some());
        assert!(reach.may_call("http://a/", knock) && !reach.any_down());
    }

    #[test]
    fn knocks_back_off_to_a_few_seconds() {
        let now = Instant::now();
        let mut reach = Reach::default();
        for _ in 0..20 {
            reach.failed("e", &refused(), now);
        }
        let wait = reach.next_try("e").expect("down").duration_since(now);
        assert_eq!(wait, MAX_KNOCK, "a returning endpoint is used within {MAX_KNOCK:?}");
    }

    #[test]
    fn the_grace_gives_an_outage_up_once() {
        let now = Instant::now();
        let grace = Duration::from_secs(120);
        let mut reach = Reach::default();
        reach.failed("e", &refused(), now);
        assert!(reach.past_grace(grace, now + Duration::from_secs(119)).is_empty());
        assert_eq!(reach.next_wake(grace), Some(now + FIRST_KNOCK));
        let gone = reach.past_grace(grace, now + grace);
        assert_eq!(gone.len(), 1);
        assert!(reach.past_grace(grace, now + grace * 2).is_empty(), "once");
    }
}
