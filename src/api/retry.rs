//! Retry policies: exponential backoff with jitter, capped, honouring `Retry-After`.
//!
//! Each operation has its own policy. A create call is never retried after a fault that may
//! have created the task (a reset after sending): the run reconciles with the list API instead,
//! because a blind retry could pay for the same video twice.

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable as _};

use super::ApiError;

/// The 429 codes that name a request rate (`dashscope-api.md` §5.2: "Requests rate limit
/// exceeded", "You exceeded your current requests list", "Request rate increased too
/// quickly"): the create came too soon, and waiting a moment lets it through. The service's
/// refusal of a task past its running ones has no documented code (§6, §12.1: most likely it
/// queues); the other 429s (plain `Throttling` "Requests throttling triggered", the transient
/// `Throttling.AllocationQuota`) name no rate, so on a create sent ahead of the family's slots
/// they are read as that refusal.
const RATE_CODES: [&str; 3] = ["Throttling.RateQuota", "LimitRequests", "Throttling.BurstRate"];

impl ApiError {
    /// A 429 that names a request rate: retry it later; it says nothing about running tasks.
    pub fn is_rate_limit(&self) -> bool {
        self.is_throttled() && RATE_CODES.contains(&self.code.as_str())
    }
}

/// How to retry one kind of call.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub min_delay: Duration,
    pub max_delay: Duration,
    pub max_times: usize,
    /// Retry faults after which the request may have taken effect (safe for reads only).
    pub retry_maybe_processed: bool,
    /// Retry a request that could not reach the endpoint at all (refused, DNS, TLS, connect
    /// timeout). The run's calls to DashScope do not: the coordinator hears of it at once, says
    /// so, and tries again on its own clock (see `run::reach`).
    pub retry_unreachable: bool,
}

impl RetryPolicy {
    /// Creating tasks: patient with throttling, never retries an ambiguous fault.
    pub fn submit() -> RetryPolicy {
        RetryPolicy {
            min_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(20),
            max_times: 8,
            retry_maybe_processed: false,
            retry_unreachable: false,
        }
    }

    /// Queries, lists and cancels: idempotent reads.
    pub fn poll() -> RetryPolicy {
        RetryPolicy {
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_times: 6,
            retry_maybe_processed: true,
            retry_unreachable: false,
        }
    }

    /// Downloads: idempotent, larger bodies, a few patient tries.
    pub fn download() -> RetryPolicy {
        RetryPolicy {
            min_delay: Duration::from_millis(300),
            max_delay: Duration::from_secs(15),
            max_times: 5,
            retry_maybe_processed: true,
            retry_unreachable: true,
        }
    }

    /// No retries at all.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            min_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            max_times: 0,
            retry_maybe_processed: false,
            retry_unreachable: false,
        }
    }

    /// A copy with every delay scaled (tests use tiny delays).
    pub fn scaled(mut self, factor: f64) -> RetryPolicy {
        self.min_delay = self.min_delay.mul_f64(factor);
        self.max_delay = self.max_delay.mul_f64(factor);
        self
    }

    /// Whether this policy retries `err`.
    pub fn retries(&self, err: &ApiError) -> bool {
        err.is_transient()
            && (self.retry_maybe_processed || !err.maybe_processed)
            && (self.retry_unreachable || !err.unreachable())
    }

    /// Runs `op` until it succeeds, fails for good, or the policy gives up. Only the service's
    /// errors are retried ([`Retryable::api_error`]); anything else ends the loop at once.
    pub async fn run<T, E, F, Fut>(&self, op: F) -> Result<T, E>
    where
        E: Retryable,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if self.max_times == 0 {
            let mut op = op;
            return op().await;
        }
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_times)
            .with_jitter();
        op.retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|e: &E| e.api_error().is_some_and(|e| self.retries(e)))
            .adjust(|e: &E, planned: Option<Duration>| {
                match (e.api_error().and_then(|e| e.retry_after), planned) {
                    // Honour Retry-After up to the larger of our cap and RETRY_AFTER_CAP: a
                    // service asking for 30 s gets 30 s even from a policy capped at 10 s.
                    (Some(after), Some(_)) => Some(after.min(self.max_delay.max(RETRY_AFTER_CAP))),
                    (_, planned) => planned,
                }
            })
            .notify(|e: &E, after: Duration| {
                if let Some(e) = e.api_error() {
                    tracing::debug!(error = %e, retry_in_ms = after.as_millis() as u64, "retrying");
                }
            })
            .await
    }
}

/// The longest `Retry-After` honoured when it is longer than a policy's own cap.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);

/// An error a [`RetryPolicy`] can judge: the service's, which may be retried, or one of ours
/// (a full disk, a run stopping), which never is.
pub trait Retryable {
    /// The service's error, if this is one.
    fn api_error(&self) -> Option<&ApiError>;
}

impl Retryable for ApiError {
    fn api_error(&self) -> Option<&ApiError> {
        Some(self)
    }
}
