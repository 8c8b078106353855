//! One error type for every DashScope call, classified once.
//!
//! The classification decides what the caller does: retry (transient), fail this job and go
//! on (job-permanent), or stop the whole run (run-fatal: a bad key, billing, model access).

use std::fmt;
use std::time::Duration;

/// What an error means for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Worth retrying with backoff: throttling, 5xx, network faults.
    Transient,
    /// This job cannot succeed as sent; the run goes on.
    JobPermanent,
    /// No request will succeed: stop the whole run.
    RunFatal,
}

/// A failed DashScope call.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub class: ErrorClass,
    /// HTTP status, when the service answered.
    pub status: Option<u16>,
    /// The service's error code (`Throttling.RateQuota`), or ours for transport faults.
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    /// From a `Retry-After` header, when sent.
    pub retry_after: Option<Duration>,
    /// The request may have reached the service and taken effect although no answer came back
    /// (a reset or timeout after sending). For a create call this means a task may exist.
    pub maybe_processed: bool,
}

impl ApiError {
    /// An error the service answered with.
    pub fn http(status: u16, code: Option<String>, message: Option<String>, request_id: Option<String>) -> ApiError {
        let code = code.unwrap_or_else(|| format!("HTTP{status}"));
        let message = message.unwrap_or_default();
        ApiError {
            class: classify(status, &code, &message),
            status: Some(status),
            code,
            message,
            request_id,
            retry_after: None,
            maybe_processed: false,
        }
    }

    /// A transport fault: `sent` says whether the request may have left this machine.
    pub fn transport(code: &str, message: String, maybe_processed: bool) -> ApiError {
        ApiError {
            class: ErrorClass::Transient,
            status: None,
            code: code.to_owned(),
            message,
            request_id: None,
            retry_after: None,
            maybe_processed,
        }
    }

    /// A problem on this machine (disk, file): no retry helps; `code` names it.
    pub fn local(class: ErrorClass, code: &str, message: String) -> ApiError {
        ApiError {
            class,
            status: None,
            code: code.to_owned(),
            message,
            request_id: None,
            retry_after: None,
            maybe_processed: false,
        }
    }

    /// An answer we could not read (e.g. a gateway page with status 200).
    pub fn decode(message: String) -> ApiError {
        ApiError::transport("DecodeError", message, false)
    }

    /// Whether a retry may help.
    pub fn is_transient(&self) -> bool {
        self.class == ErrorClass::Transient
    }

    /// Whether the run must stop.
    pub fn is_run_fatal(&self) -> bool {
        self.class == ErrorClass::RunFatal
    }

    /// A 429: the service refused for rate or concurrency; nothing was created.
    pub fn is_throttled(&self) -> bool {
        self.status == Some(429) && self.class == ErrorClass::Transient
    }

    /// What the user should do about a run-fatal error.
    pub fn hint(&self) -> Option<&'static str> {
        if self.class != ErrorClass::RunFatal {
            return None;
        }
        Some(match (self.status, self.code.as_str()) {
            (Some(401), _) => {
                "check DASHSCOPE_API_KEY, and that the key belongs to the region of DASHSCOPE_BASE_URL (PixVerse runs in Beijing: https://dashscope.aliyuncs.com)"
            }
            (_, "Arrearage" | "PrepaidBillOverdue" | "PostpaidBillOverdue" | "CommodityNotPurchased") => {
                "the account has a billing problem: settle it in the Alibaba Cloud console, then rerun"
            }
            (_, "ModelNotFound") => "check the model name, and that the model is activated for this account",
            (_, c) if c.contains("AccessDenied") || c.contains("Unpurchased") => {
                "activate the PixVerse models for this account in the Model Studio console, or check the key's permissions"
            }
            _ => "fix the account or key, then rerun: finished jobs are kept",
        })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(f, "HTTP {status} {}", self.code)?,
            None => write!(f, "{}", self.code)?,
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// The classification table (`dashscope-api.md` §5.2).
pub fn classify(status: u16, code: &str, message: &str) -> ErrorClass {
    const BILLING: &[&str] = &["Arrearage", "CommodityNotPurchased", "PrepaidBillOverdue", "PostpaidBillOverdue"];
    if BILLING.contains(&code) {
        return ErrorClass::RunFatal;
    }
    if code == "ModelServingError" || code == "ModelUnavailable" {
        return ErrorClass::Transient;
    }
    match status {
        429 if message.contains("Free allocated quota exceeded") => ErrorClass::RunFatal,
        429 => ErrorClass::Transient,
        401 => ErrorClass::RunFatal,
        403 if message.contains("Policy expired") => ErrorClass::Transient,
        403 => ErrorClass::RunFatal,
        404 if code == "ModelNotFound" => ErrorClass::RunFatal,
        408 => ErrorClass::Transient,
        500..=599 => ErrorClass::Transient,
        _ => ErrorClass::JobPermanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classification_table() {
        let cases = [
            (429, "Throttling.RateQuota", "Requests rate limit exceeded", ErrorClass::Transient),
            (429, "Throttling.AllocationQuota", "Allocated quota exceeded", ErrorClass::Transient),
            (429, "Throttling.AllocationQuota", "Free allocated quota exceeded.", ErrorClass::RunFatal),
            (429, "PrepaidBillOverdue", "", ErrorClass::RunFatal),
            (500, "InternalError", "", ErrorClass::Transient),
            (503, "ModelUnavailable", "", ErrorClass::Transient),
            (500, "ModelServingError", "", ErrorClass::Transient),
            (400, "InvalidParameter", "", ErrorClass::JobPermanent),
            (400, "DataInspectionFailed", "", ErrorClass::JobPermanent),
            (400, "IPInfringementSuspect", "", ErrorClass::JobPermanent),
            (400, "InvalidURL", "", ErrorClass::JobPermanent),
            (400, "Arrearage", "", ErrorClass::RunFatal),
            (401, "InvalidApiKey", "", ErrorClass::RunFatal),
            (403, "AccessDenied", "Access denied.", ErrorClass::RunFatal),
            (403, "Model.AccessDenied", "", ErrorClass::RunFatal),
            (403, "AccessDenied", "Invalid according to Policy: Policy expired.", ErrorClass::Transient),
            (404, "ModelNotFound", "", ErrorClass::RunFatal),
        ];
        for (status, code, message, class) in cases {
            assert_eq!(classify(status, code, message), class, "{status} {code} {message}");
        }
    }
}
