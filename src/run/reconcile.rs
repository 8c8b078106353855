//! Gathering the evidence for jobs in doubt (see [`super::doubt`]): one list call per endpoint
//! and model over the window of its doubts, and one query per candidate that has finished since
//! the last look (its prompt and usage; a finished task does not change, so it is asked once).

use std::collections::HashSet;
use std::sync::Arc;

use governor::DefaultDirectRateLimiter;

use super::doubt::Candidate;
use crate::api::{ApiError, Client, ListQuery, RetryPolicy, TaskStatus};

/// One list call's worth of doubts: an endpoint, a model and the window their tasks may be in.
#[derive(Debug, Clone)]
pub struct Group {
    pub endpoint: String,
    pub model: String,
    pub from: jiff::Timestamp,
    pub to: jiff::Timestamp,
}

/// How far past a window the list call looks (its filter has one-second steps).
const MARGIN: jiff::SignedDuration = jiff::SignedDuration::from_secs(2);

/// The tasks of `group` that no ledger record claims (`known`), with the details of those that
/// have finished unless `detailed` already has them.
pub async fn probe(
    client: &Client,
    group: &Group,
    known: &HashSet<String>,
    detailed: &HashSet<String>,
    policy: &RetryPolicy,
    limiter: &Arc<DefaultDirectRateLimiter>,
) -> Result<Vec<Candidate>, ApiError> {
    let query = ListQuery {
        start_time: group.from.checked_sub(MARGIN).ok(),
        end_time: group.to.checked_add(MARGIN).ok(),
        model_name: Some(group.model.clone()),
        ..ListQuery::default()
    };
    limiter.until_ready().await;
    let listed = client.list_all_tasks(&query, policy).await?;
    let mut out = Vec::new();
    for task in listed.into_iter().filter(|t| !known.contains(&t.task_id)) {
        let mut candidate = Candidate {
            task_id: task.task_id.clone(),
            endpoint: group.endpoint.clone(),
            model: task.model_name.clone(),
            created_ms: task.gmt_create,
            status: task.status,
            orig_prompt: None,
            usage: None,
        };
        if task.status == TaskStatus::Succeeded && !detailed.contains(&task.task_id) {
            limiter.until_ready().await;
            let details = policy.run(|| client.get_task(&task.task_id)).await?;
            candidate.status = details.output.task_status;
            candidate.orig_prompt = details.output.orig_prompt;
            candidate.usage = details.usage;
        }
        out.push(candidate);
    }
    Ok(out)
}
