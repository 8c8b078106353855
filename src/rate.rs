//! The service's own rate rule, one implementation for both sides: at most `limit` requests in
//! any window of `span`. The run's lanes wait on it ([`SlidingWindow`]); the fake answers 429
//! with it ([`Window::admit`]).
//!
//! Unlike a token bucket (`governor`, GCRA with a burst), it lets the first `limit` requests go
//! at once, which fills every slot of a run immediately, and then never exceeds the window.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The moments of the requests inside the current window.
#[derive(Debug, Clone)]
pub struct Window {
    span: Duration,
    sent: VecDeque<Instant>,
}

impl Window {
    pub fn new(span: Duration) -> Window {
        Window { span, sent: VecDeque::new() }
    }

    /// Takes a place for a request at `now`, or says when the oldest one leaves the window.
    /// `limit` 0 means unlimited.
    pub fn admit(&mut self, limit: u32, now: Instant) -> Result<(), Instant> {
        if limit == 0 {
            return Ok(());
        }
        while self.sent.front().is_some_and(|t| now.saturating_duration_since(*t) >= self.span) {
            self.sent.pop_front();
        }
        match self.sent.front() {
            Some(oldest) if self.sent.len() >= limit as usize => Err(*oldest + self.span),
            _ => {
                self.sent.push_back(now);
                Ok(())
            }
        }
    }
}

/// A [`Window`] that callers wait on: at most `limit` sends in any window of a little over one
/// second, the service's rule for creates with 5 % margin for clock and network jitter.
#[derive(Debug)]
pub struct SlidingWindow {
    limit: u32,
    window: std::sync::Mutex<Window>,
}

/// The service counts in one-second windows; ours is 5 % longer.
pub const CREATE_WINDOW: Duration = Duration::from_millis(1050);

impl SlidingWindow {
    pub fn new(per_second: u32) -> SlidingWindow {
        SlidingWindow { limit: per_second.max(1), window: std::sync::Mutex::new(Window::new(CREATE_WINDOW)) }
    }

    /// Returns once a send fits in the window (and counts it).
    pub async fn wait(&self) {
        loop {
            let admitted = {
                let mut w = self.window.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                w.admit(self.limit, Instant::now())
            };
            match admitted {
                Ok(()) => return,
                Err(until) => tokio::time::sleep_until(until.into()).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_admits_limit_at_once_then_waits_for_the_oldest() {
        let t0 = Instant::now();
        let mut w = Window::new(Duration::from_secs(1));
        for _ in 0..3 {
            assert_eq!(w.admit(3, t0), Ok(()));
        }
        assert_eq!(w.admit(3, t0 + Duration::from_millis(500)), Err(t0 + Duration::from_secs(1)));
        assert_eq!(w.admit(3, t0 + Duration::from_secs(1)), Ok(()));
        assert_eq!(w.admit(0, t0), Ok(()), "0 is unlimited");
    }
}
