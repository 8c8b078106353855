//! DashScope's JSON shapes, parsed leniently: every field the service may omit is optional,
//! unknown fields are ignored, and `usage.SR` may be a string or a number.

use serde::{Deserialize, Deserializer, Serialize};

/// A task's state as the service reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    Pending,
    Running,
    Succeeded,
    Failed,
    Canceled,
    /// Expired (older than 24 h) or never existed.
    #[default]
    Unknown,
    /// A state this version does not know (e.g. `SUSPENDED`); treated as still in flight.
    #[serde(other)]
    Other,
}

impl TaskStatus {
    /// Whether the task will not change any more.
    pub fn is_final(self) -> bool {
        matches!(self, TaskStatus::Succeeded | TaskStatus::Failed | TaskStatus::Canceled | TaskStatus::Unknown)
    }

    /// The wire name (`SUCCEEDED`).
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "PENDING",
            TaskStatus::Running => "RUNNING",
            TaskStatus::Succeeded => "SUCCEEDED",
            TaskStatus::Failed => "FAILED",
            TaskStatus::Canceled => "CANCELED",
            TaskStatus::Unknown => "UNKNOWN",
            TaskStatus::Other => "OTHER",
        }
    }
}

/// The answer to a create-task call.
#[derive(Debug, Clone, Deserialize)]
pub struct CreateResponse {
    #[serde(default)]
    pub request_id: Option<String>,
    pub output: CreateOutput,
}

/// `output` of a create-task answer.
#[derive(Debug, Clone, Deserialize)]
pub struct CreateOutput {
    pub task_id: String,
    #[serde(default = "pending")]
    pub task_status: TaskStatus,
}

fn pending() -> TaskStatus {
    TaskStatus::Pending
}

/// The answer to a task query.
#[derive(Debug, Clone, Deserialize)]
pub struct TaskResponse {
    #[serde(default)]
    pub request_id: Option<String>,
    pub output: TaskOutput,
    #[serde(default)]
    pub usage: Option<Usage>,
}

/// `output` of a task query.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TaskOutput {
    #[serde(default)]
    pub task_id: String,
    #[serde(default = "unknown")]
    pub task_status: TaskStatus,
    #[serde(default)]
    pub submit_time: Option<String>,
    #[serde(default)]
    pub scheduled_time: Option<String>,
    #[serde(default)]
    pub end_time: Option<String>,
    #[serde(default)]
    pub orig_prompt: Option<String>,
    #[serde(default)]
    pub video_url: Option<String>,
    /// An image task's results, messages protocol: every `image` of every choice's content.
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// An image task's results, prompt protocol: a URL, or a failed item's code and message.
    #[serde(default)]
    pub results: Vec<ImageOut>,
    /// Set on FAILED — but real responses sometimes lack it.
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

fn unknown() -> TaskStatus {
    TaskStatus::Unknown
}

/// One choice of a messages-protocol image task.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Choice {
    #[serde(default)]
    pub message: ChoiceMessage,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChoiceMessage {
    #[serde(default)]
    pub content: Vec<ContentItem>,
}

/// A content item: an image, or text (interleave mode), which is skipped.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContentItem {
    #[serde(default)]
    pub image: Option<String>,
}

/// One candidate of an image task: its URL, or why it failed (`DataInspectionFailed`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageOut {
    /// The prompt as sent (prompt protocol); not kept in the ledger.
    #[serde(default, skip_serializing)]
    pub orig_prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl TaskOutput {
    /// An image task's candidates in order: the prompt protocol's `results`, then every
    /// `image` of every choice (Wan 2.6 sends a choice per image, Kling one choice with
    /// several). A messages-protocol task returns no failed items (their shape is not
    /// documented): fewer images than asked for is all it says.
    pub fn images(&self) -> Vec<ImageOut> {
        let mut out = self.results.clone();
        for choice in &self.choices {
            for item in &choice.message.content {
                if let Some(url) = &item.image {
                    out.push(ImageOut { url: Some(url.clone()), ..ImageOut::default() });
                }
            }
        }
        out
    }

    /// The first result's `orig_prompt` (an image task of the prompt protocol).
    pub fn first_orig_prompt(&self) -> Option<String> {
        self.results.iter().find_map(|r| r.orig_prompt.clone())
    }
}

/// What a succeeded task was billed for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Seconds of video: the billed quantity (`video_duration` for Wan 2.5 and older, and for
    /// Wan r2v the reference-video seconds too).
    #[serde(default, alias = "video_duration")]
    pub duration: Option<f64>,
    /// Reference-video seconds billed (Wan r2v).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_video_duration: Option<f64>,
    /// Seconds of video made (Wan, HappyHorse, Vidu).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_video_duration: Option<f64>,
    #[serde(default)]
    pub size: Option<String>,
    #[serde(default)]
    pub fps: Option<f64>,
    /// Resolution tier, `"720"`; some models send a number.
    #[serde(default, rename = "SR", deserialize_with = "string_or_number")]
    pub sr: Option<String>,
    #[serde(default)]
    pub audio: Option<bool>,
    #[serde(default)]
    pub video_count: Option<u32>,
    /// Successful images of an image task: the billed quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_count: Option<u32>,
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Sn {
        S(String),
        N(serde_json::Number),
    }
    Ok(Option::<Sn>::deserialize(d)?.map(|v| match v {
        Sn::S(s) => s,
        Sn::N(n) => n.to_string(),
    }))
}

/// The answer to a list call.
#[derive(Debug, Clone, Deserialize)]
pub struct ListResponse {
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub total_page: u64,
    #[serde(default)]
    pub page_no: u64,
    #[serde(default)]
    pub page_size: u64,
    #[serde(default)]
    pub data: Vec<ListedTask>,
}

/// One task in a list answer (no prompt, no video URL).
#[derive(Debug, Clone, Deserialize)]
pub struct ListedTask {
    pub task_id: String,
    #[serde(default = "unknown")]
    pub status: TaskStatus,
    #[serde(default)]
    pub model_name: Option<String>,
    /// Millisecond epoch.
    #[serde(default)]
    pub gmt_create: Option<i64>,
    #[serde(default)]
    pub start_time: Option<i64>,
    #[serde(default)]
    pub end_time: Option<i64>,
    #[serde(default)]
    pub request_id: Option<String>,
}

/// An HTTP error body: `{request_id, code, message}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// The answer to `uploads?action=getPolicy`.
#[derive(Debug, Clone, Deserialize)]
pub struct PolicyResponse {
    #[serde(default)]
    pub request_id: Option<String>,
    pub data: UploadPolicy,
}

/// A temporary-storage upload credential.
#[derive(Debug, Clone, Deserialize)]
pub struct UploadPolicy {
    pub policy: String,
    pub signature: String,
    pub upload_dir: String,
    pub upload_host: String,
    #[serde(default)]
    pub expire_in_seconds: Option<u64>,
    #[serde(default)]
    pub max_file_size_mb: Option<u64>,
    pub oss_access_key_id: String,
    #[serde(default)]
    pub x_oss_object_acl: Option<String>,
    #[serde(default)]
    pub x_oss_forbid_overwrite: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_succeeded_example() {
        let body = r#"{"request_id": "35137489", "output": {"task_id": "1469cfc3", "task_status": "SUCCEEDED",
          "submit_time": "2026-03-10 15:03:25.848", "video_url": "https://media.pixverseai.cn/x.mp4"},
          "usage": {"duration": 5, "size": "1280*720", "fps": 24, "video_count": 1, "audio": false, "SR": "720"}}"#;
        let r: TaskResponse = serde_json::from_str(body).expect("parses");
        assert_eq!(r.output.task_status, TaskStatus::Succeeded);
        let usage = r.usage.expect("usage");
        assert_eq!(usage.sr.as_deref(), Some("720"));
        assert_eq!(usage.duration, Some(5.0));
    }

    #[test]
    fn tolerates_numeric_sr_missing_code_and_unknown_states() {
        let r: TaskResponse = serde_json::from_str(
            r#"{"output": {"task_id": "t", "task_status": "FAILED", "extra": 1}, "usage": {"SR": 1080}}"#,
        )
        .expect("parses");
        assert_eq!(r.output.code, None);
        assert_eq!(r.usage.and_then(|u| u.sr).as_deref(), Some("1080"));
        let r: TaskResponse =
            serde_json::from_str(r#"{"output": {"task_id": "t", "task_status": "SUSPENDED"}}"#).expect("parses");
        assert_eq!(r.output.task_status, TaskStatus::Other);
    }
}
