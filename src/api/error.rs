//! One error type for every DashScope call, classified once.
//!
//! The classification decides what the caller does: retry (transient), fail this job and go
//! on (job-permanent), or stop the whole run (run-fatal: a bad key, billing, model access).

use std::fmt;
use std::time::Duration;

/// What an error means for the run. The journal records it (snake_case) with a refused create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Worth retrying with backoff: throttling, 5xx, network faults.
    Transient,
    /// This job cannot succeed as sent; the run goes on.
    JobPermanent,
    /// No request will succeed: stop the whole run.
    RunFatal,
    /// This account cannot use this model (not found, not activated, access denied for it):
    /// no create for the model will succeed, other models' may.
    ModelFatal,
}

/// How a request failed to get an answer, when it did. Only the last two kinds happen after
/// the request was sent, so only they can have made a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// The host answered the connect with a refusal: nothing listens there.
    Refused,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// No answer to the connect within the connect timeout.
    ConnectTimeout,
    /// Any other failure to connect (network or host unreachable, …).
    Connect,
    /// The connection broke after the request was sent.
    Reset,
    /// No answer within the request timeout after the request was sent.
    Timeout,
}

impl Transport {
    /// The request never left this machine: it cannot have had an effect.
    pub fn before_sending(self) -> bool {
        !matches!(self, Transport::Reset | Transport::Timeout)
    }

    /// The error code pixbatch records for it.
    pub fn code(self) -> &'static str {
        match self {
            Transport::Refused => "ConnectionRefused",
            Transport::Dns => "DnsError",
            Transport::Tls => "TlsError",
            Transport::ConnectTimeout => "ConnectTimeout",
            Transport::Connect => "ConnectError",
            Transport::Reset => "ConnectionLost",
            Transport::Timeout => "Timeout",
        }
    }

    /// A few words for people ("connection refused").
    pub fn describe(self) -> &'static str {
        match self {
            Transport::Refused => "connection refused",
            Transport::Dns => "the host name does not resolve",
            Transport::Tls => "the TLS handshake failed",
            Transport::ConnectTimeout => "no answer to the connect",
            Transport::Connect => "cannot connect",
            Transport::Reset => "the connection broke after the request was sent",
            Transport::Timeout => "no answer after the request was sent",
        }
    }
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
    /// The transport fault, when no answer came.
    pub transport: Option<Transport>,
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
            transport: None,
        }
    }

    /// A request that got no answer: `kind` says why and whether it was sent (a create that
    /// was sent may have made a task), `message` is the OS's or library's words.
    pub fn no_answer(kind: Transport, message: String, mutating: bool) -> ApiError {
        ApiError {
            transport: Some(kind),
            ..ApiError::transport(kind.code(), message, mutating && !kind.before_sending())
        }
    }

    /// A transport fault: `maybe_processed` says whether the request may have reached the
    /// service and taken effect.
    pub fn transport(code: &str, message: String, maybe_processed: bool) -> ApiError {
        ApiError {
            class: ErrorClass::Transient,
            status: None,
            code: code.to_owned(),
            message,
            request_id: None,
            retry_after: None,
            maybe_processed,
            transport: None,
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
            transport: None,
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

    /// Whether this model cannot be used by the account (its jobs fail, the run goes on).
    pub fn is_model_fatal(&self) -> bool {
        self.class == ErrorClass::ModelFatal
    }

    /// The endpoint could not be reached at all: the request never left this machine.
    pub fn unreachable(&self) -> bool {
        self.transport.is_some_and(Transport::before_sending)
    }

    /// A 429: the service refused for rate or concurrency; nothing was created.
    pub fn is_throttled(&self) -> bool {
        self.status == Some(429) && self.class == ErrorClass::Transient
    }

    /// What the user should do about a run-fatal or model-fatal error.
    pub fn hint(&self) -> Option<&'static str> {
        if !matches!(self.class, ErrorClass::RunFatal | ErrorClass::ModelFatal) {
            return None;
        }
        Some(match (self.status, self.code.as_str()) {
            (Some(401), _) => {
                "check DASHSCOPE_API_KEY, and that the key belongs to the region of DASHSCOPE_BASE_URL (PixVerse runs in Beijing: https://dashscope.aliyuncs.com)"
            }
            (_, "Arrearage" | "PrepaidBillOverdue" | "PostpaidBillOverdue" | "CommodityNotPurchased") => {
                "the account has a billing problem: settle it in the Alibaba Cloud console, then rerun"
            }
            (_, c) if c.starts_with("AllocationQuota") || c == "Throttling.AllocationQuota" => {
                "the account's quota for this model is used up (waiting does not help): buy or enable pay-as-you-go in the Model Studio console (or turn off \"free tier only\"), then rerun"
            }
            (_, c) if c.starts_with("Workspace.") => {
                "the key cannot use this workspace: check DASHSCOPE_WORKSPACE_ID / --workspace and the key's permissions"
            }
            (_, "ModelNotFound") => {
                "check the model name and the region, and that the model is activated for this account in the Model Studio console; or remove its shots (or `--only` the others)"
            }
            (_, c) if c.contains("AccessDenied") || c.contains("Unpurchased") => {
                "activate the model for this account in the Model Studio console (or check the key's permissions), then rerun: its jobs are still new"
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

/// Why a download did not put a video in place: the service (retried by policy), or this
/// machine's disk (never retried: the run stops, the ledger stays intact).
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("cannot write {path}: {source}")]
    Disk { path: std::path::PathBuf, source: std::io::Error },
}

impl DownloadError {
    /// A disk error writing `path`.
    pub fn disk(path: &std::path::Path, source: std::io::Error) -> DownloadError {
        DownloadError::Disk { path: path.to_path_buf(), source }
    }
}

impl super::retry::Retryable for DownloadError {
    fn api_error(&self) -> Option<&ApiError> {
        match self {
            DownloadError::Api(e) => Some(e),
            DownloadError::Disk { .. } => None,
        }
    }
}

/// Billing and account states: no request will succeed until the account is fixed.
const BILLING: &[&str] = &["Arrearage", "CommodityNotPurchased", "PrepaidBillOverdue", "PostpaidBillOverdue"];

/// Words in a message that say a quota is used up rather than momentarily exceeded
/// (`dashscope-api.md` §5.2 and §12.7): waiting does not clear these.
const EXHAUSTED: &[&str] = &["free allocated quota exceeded", "free tier", "exhausted", "quota has been used up"];

/// The classification table (`dashscope-api.md` §5.2, §12.7): on the status, the code *and*
/// the message, because `Throttling.AllocationQuota` means "slow down" with one message and
/// "the free quota is gone" with another.
pub fn classify(status: u16, code: &str, message: &str) -> ErrorClass {
    if BILLING.contains(&code) || code.starts_with("AllocationQuota.") {
        return ErrorClass::RunFatal;
    }
    if code == "ModelServingError" || code == "ModelUnavailable" {
        return ErrorClass::Transient;
    }
    let lower = message.to_ascii_lowercase();
    let exhausted = EXHAUSTED.iter().any(|w| lower.contains(w));
    match status {
        429 if exhausted => ErrorClass::RunFatal,
        429 => ErrorClass::Transient,
        401 => ErrorClass::RunFatal,
        403 if lower.contains("policy expired") => ErrorClass::Transient,
        // The workspace as a whole, or a request no model accepts (our bug): nothing will pass.
        403 if code.starts_with("Workspace.") || lower.contains("synchronous") => ErrorClass::RunFatal,
        // Access is granted per model (`dashscope-api.md` §5.2): an account without this model
        // may still use the others. A key without any permission fails each model once.
        403 => ErrorClass::ModelFatal,
        404 if code == "ModelNotFound" => ErrorClass::ModelFatal,
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
        // Every row is a documented answer (`dashscope-api.md` §5.2, §10.4, §12.7).
        let cases = [
            (429, "Throttling", "Requests throttling triggered.", ErrorClass::Transient),
            (
                429,
                "Throttling.RateQuota",
                "Requests rate limit exceeded, please try again later.",
                ErrorClass::Transient,
            ),
            (429, "LimitRequests", "You exceeded your current requests list.", ErrorClass::Transient),
            (429, "Throttling.BurstRate", "Request rate increased too quickly.", ErrorClass::Transient),
            (
                429,
                "Throttling.AllocationQuota",
                "Allocated quota exceeded, please increase your quota limit.",
                ErrorClass::Transient,
            ),
            (429, "Throttling.AllocationQuota", "Free allocated quota exceeded.", ErrorClass::RunFatal),
            (429, "Throttling.AllocationQuota", "The free tier of the model has been exhausted.", ErrorClass::RunFatal),
            (
                403,
                "AllocationQuota.FreeTierOnly",
                "The free tier of the model has been exhausted. If you wish to continue access the model on a paid basis, please disable the \"use free tier only\" mode in the management console.",
                ErrorClass::RunFatal,
            ),
            (429, "CommodityNotPurchased", "", ErrorClass::RunFatal),
            (429, "PrepaidBillOverdue", "", ErrorClass::RunFatal),
            (429, "PostpaidBillOverdue", "", ErrorClass::RunFatal),
            (
                400,
                "Arrearage",
                "Access denied, please make sure your account is in good standing.",
                ErrorClass::RunFatal,
            ),
            (500, "InternalError", "An internal error has occured, please try again later.", ErrorClass::Transient),
            (500, "InternalError.Algo", "inference internal error.", ErrorClass::Transient),
            (503, "ModelUnavailable", "Model is unavailable, please try again later.", ErrorClass::Transient),
            (500, "ModelServingError", "Too many requests.", ErrorClass::Transient),
            (503, "ModelServingError", "Too many requests.", ErrorClass::Transient),
            (400, "InvalidParameter", "The size is not match", ErrorClass::JobPermanent),
            (400, "DataInspectionFailed", "Input data may contain inappropriate content.", ErrorClass::JobPermanent),
            (400, "IPInfringementSuspect", "", ErrorClass::JobPermanent),
            (400, "InvalidURL", "Invalid URL provided in your request.", ErrorClass::JobPermanent),
            (401, "InvalidApiKey", "Invalid API-key provided.", ErrorClass::RunFatal),
            (401, "InvalidApiKey", "No API-key provided.", ErrorClass::RunFatal),
            (403, "AccessDenied", "Access denied.", ErrorClass::ModelFatal),
            (403, "AccessDenied.Unpurchased", "", ErrorClass::ModelFatal),
            (403, "Model.AccessDenied", "", ErrorClass::ModelFatal),
            (403, "AccessDenied", "Invalid according to Policy: Policy expired.", ErrorClass::Transient),
            (403, "Workspace.AccessDenied", "Access denied.", ErrorClass::RunFatal),
            (403, "AccessDenied", "current user api does not support synchronous calls.", ErrorClass::RunFatal),
            (404, "ModelNotFound", "Model can not be found.", ErrorClass::ModelFatal),
        ];
        for (status, code, message, class) in cases {
            assert_eq!(classify(status, code, message), class, "{status} {code} {message}");
        }
    }
}
