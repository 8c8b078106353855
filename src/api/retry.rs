//! Retry policies: exponential backoff with jitter, capped, honouring `Retry-After`.
//!
//! Each operation has its own policy. A create call is never retried after a fault that may
//! have created the task (a reset after sending): the run reconciles with the list API instead,
//! because a blind retry could pay for the same video twice.

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

use super::ApiError;

/// How to retry one kind of call.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub min_delay: Duration,
    pub max_delay: Duration,
    pub max_times: usize,
    /// Retry faults after which the request may have taken effect (safe for reads only).
    pub retry_maybe_processed: bool,
}

impl RetryPolicy {
    /// Creating tasks: patient with throttling, never retries an ambiguous fault.
    pub fn submit() -> RetryPolicy {
        RetryPolicy {
            min_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(20),
            max_times: 8,
            retry_maybe_processed: false,
        }
    }

    /// Queries, lists and cancels: idempotent reads.
    pub fn poll() -> RetryPolicy {
        RetryPolicy {
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_times: 6,
            retry_maybe_processed: true,
        }
    }

    /// Downloads: idempotent, larger bodies, a few patient tries.
    pub fn download() -> RetryPolicy {
        RetryPolicy {
            min_delay: Duration::from_millis(300),
            max_delay: Duration::from_secs(15),
            max_times: 5,
            retry_maybe_processed: true,
        }
    }

    /// No retries at all.
    pub fn none() -> RetryPolicy {
        RetryPolicy { min_delay: Duration::ZERO, max_delay: Duration::ZERO, max_times: 0, retry_maybe_processed: false }
    }

    /// A copy with every delay scaled (tests use tiny delays).
    pub fn scaled(mut self, factor: f64) -> RetryPolicy {
        self.min_delay = self.min_delay.mul_f64(factor);
        self.max_delay = self.max_delay.mul_f64(factor);
        self
    }

    /// Whether this policy retries `err`.
    pub fn retries(&self, err: &ApiError) -> bool {
        // "Stopped" is the run winding down, not the service: never worth a retry.
        err.is_transient() && err.code != "Stopped" && (self.retry_maybe_processed || !err.maybe_processed)
    }

    /// Runs `op` until it succeeds, fails for good, or the policy gives up.
    pub async fn run<T, F, Fut>(&self, op: F) -> Result<T, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
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
            .when(|e: &ApiError| self.retries(e))
            .adjust(|e: &ApiError, planned: Option<Duration>| match (e.retry_after, planned) {
                // Honour Retry-After, but never wait past our cap.
                (Some(after), Some(_)) => Some(after.min(self.max_delay.max(after.min(Duration::from_secs(60))))),
                (_, planned) => planned,
            })
            .notify(|e: &ApiError, after: Duration| {
                tracing::debug!(error = %e, retry_in_ms = after.as_millis() as u64, "retrying");
            })
            .await
    }
}
