//! When to poll a task: spend queries where a task is likely to finish.
//!
//! Each family learns how long its tasks run from the service's own `scheduled_time` and
//! `end_time`. With no sample yet, a task is polled at a fraction of its age (frequent at
//! first, sparser later). With samples, the first poll waits until the shortest run seen, then
//! polls finely across the range seen so far, then backs off past the longest.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::catalog::Family;

/// Polling limits.
#[derive(Debug, Clone, Copy)]
pub struct PollConfig {
    /// Never poll one task more often than this.
    pub min_interval: Duration,
    /// Never leave a task unpolled longer than this.
    pub max_interval: Duration,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig { min_interval: Duration::from_millis(500), max_interval: Duration::from_secs(15) }
    }
}

/// Observed run durations per family.
#[derive(Debug, Default)]
pub struct Schedule {
    config: PollConfig,
    seen: HashMap<Family, (f64, f64, u32)>,
}

impl Schedule {
    /// A schedule with no observations.
    pub fn new(config: PollConfig) -> Schedule {
        Schedule { config, seen: HashMap::new() }
    }

    /// Records how long a finished task of `family` ran, in seconds.
    pub fn observe(&mut self, family: &Family, seconds: f64) {
        if !(seconds.is_finite() && seconds > 0.0) {
            return;
        }
        let e = self.seen.entry(family.clone()).or_insert((seconds, seconds, 0));
        e.0 = e.0.min(seconds);
        e.1 = e.1.max(seconds);
        e.2 += 1;
    }

    /// When to poll next a task that started (or was submitted) at `started`. `expected` is
    /// the range of run times learnt for this task's own kind of job (model, tier, audio,
    /// seconds), when there is one: a storyboard mixes 1 s and 60 s renders in one family, and
    /// the family's range says little about one task.
    pub fn next(&self, family: &Family, started: Instant, now: Instant, expected: Option<(f64, f64)>) -> Instant {
        // A config with min > max (its fields are public) means "never more often than min".
        let (min, max) = (self.config.min_interval, self.config.max_interval.max(self.config.min_interval));
        let age = now.saturating_duration_since(started).as_secs_f64();
        let clamp = |secs: f64| Duration::from_secs_f64(secs.max(0.0)).clamp(min, max);
        let range = expected
            .filter(|(lo, hi)| lo.is_finite() && hi.is_finite() && *lo > 0.0 && hi >= lo)
            .or_else(|| self.seen.get(family).map(|&(lo, hi, _)| (lo, hi)));
        let Some((lo, hi)) = range else {
            return now + clamp(age / 8.0);
        };
        let (lo, hi) = (lo * 0.97, hi * 1.03);
        if age < lo {
            (started + Duration::from_secs_f64(lo)).max(now + min.min(Duration::from_millis(50)))
        } else if age < hi {
            now + clamp((hi - lo) / 10.0)
        } else {
            now + clamp((age - hi) / 4.0)
        }
    }
}

/// Parses the service's `YYYY-MM-DD HH:mm:ss.SSS` times (the zone does not matter: only
/// differences between two of them are used).
pub fn service_time(text: &str) -> Option<jiff::civil::DateTime> {
    jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S%.f", text.trim()).ok()
}

/// Seconds between two service times.
pub fn service_seconds(from: &str, to: &str) -> Option<f64> {
    let (a, b) = (service_time(from)?, service_time(to)?);
    Some(b.duration_since(a).as_secs_f64())
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_config_with_min_above_max_does_not_panic() {
        let config = PollConfig { min_interval: Duration::from_secs(5), max_interval: Duration::from_secs(1) };
        let schedule = Schedule::new(config);
        let now = Instant::now();
        let next = schedule.next(&crate::catalog::family_of("pixverse/pixverse-c1-r2v"), now, now, None);
        assert_eq!(next - now, Duration::from_secs(5));
    }

    use super::*;

    #[test]
    fn polls_finely_inside_the_range_seen() {
        let mut s = Schedule::new(PollConfig::default());
        let f = crate::catalog::family_of(crate::catalog::C1_R2V);
        let t0 = Instant::now();
        // Cold: an eighth of the age, at least the minimum.
        assert_eq!(s.next(&f, t0, t0, None), t0 + Duration::from_millis(500));
        s.observe(&f, 3.0);
        s.observe(&f, 6.0);
        // Before the shortest run: wait for it.
        let first = s.next(&f, t0, t0, None);
        assert!(first >= t0 + Duration::from_secs_f64(2.9) && first <= t0 + Duration::from_secs(3));
        // Inside: every (6.18-2.91)/10 ≈ 0.33 s, but never under the 0.5 s minimum.
        let at = t0 + Duration::from_secs(4);
        let step = s.next(&f, t0, at, None) - at;
        assert_eq!(step, Duration::from_millis(500));
        // Long past: back off, up to the maximum.
        let late = t0 + Duration::from_secs(600);
        assert_eq!(s.next(&f, t0, late, None) - late, Duration::from_secs(15));
    }

    #[test]
    fn a_task_with_an_expected_time_is_polled_around_it() {
        let s = Schedule::new(PollConfig::default());
        let f = crate::catalog::family_of(crate::catalog::C1_R2V);
        let t0 = Instant::now();
        let mut s = s;
        s.observe(&f, 1.0);
        s.observe(&f, 60.0);
        // Its own kind runs 18-22 s, whatever else the family renders.
        let e = Some((18.0, 22.0));
        let first = s.next(&f, t0, t0, e);
        assert!(
            first >= t0 + Duration::from_secs_f64(17.4) && first <= t0 + Duration::from_secs(18),
            "just before 18 s"
        );
        let at = t0 + Duration::from_secs(19);
        assert_eq!(s.next(&f, t0, at, e) - at, Duration::from_secs_f64((22.0 * 1.03 - 18.0 * 0.97) / 10.0));
        let late = t0 + Duration::from_secs(100);
        assert_eq!(s.next(&f, t0, late, e) - late, Duration::from_secs(15), "long past it: back off");
        // Without one, the family's 1-60 s.
        assert!(s.next(&f, t0, t0, None) < t0 + Duration::from_secs(1));
    }

    #[test]
    fn service_times_subtract() {
        assert_eq!(
            service_seconds("2026-03-10 15:03:25.884", "2026-03-10 15:04:05.882").map(|s| (s * 1000.0).round()),
            Some(39998.0)
        );
    }
}
