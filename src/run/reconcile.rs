//! After a create call that got no answer (or a crash between the intent and the answer), the
//! list API tells whether a task was created. Submits are serialized per model, so at most one
//! create call per model is ever in doubt, and a task of that model that no ledger entry knows,
//! created around the intent's time, is the one.

use std::collections::HashSet;
use std::time::Duration;

use crate::api::{ApiError, Client, ListQuery, RetryPolicy};

/// What the list API showed for one intent.
#[derive(Debug, Clone, PartialEq)]
pub struct Reconciliation {
    /// The task to adopt, if one was found.
    pub task_id: Option<String>,
    /// Said in the ledger: what was found and decided.
    pub decision: String,
}

/// How far around the intent to look (the service's clock may differ from ours).
const WINDOW_BEFORE: jiff::SignedDuration = jiff::SignedDuration::from_secs(120);
const WINDOW_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_secs(600);

/// Looks for the task an intent may have created. `known` holds every task id already
/// recorded; `settle` is how long to wait before a second look when the first finds nothing
/// (zero: one look, for a caller that has already waited long enough since the create).
pub async fn reconcile(
    client: &Client,
    model: &str,
    prompt: &str,
    intent_at: jiff::Timestamp,
    known: &HashSet<String>,
    policy: &RetryPolicy,
    settle: Duration,
) -> Result<Reconciliation, ApiError> {
    let now = jiff::Timestamp::now();
    if now.duration_since(intent_at) > jiff::SignedDuration::from_hours(23) {
        return Ok(Reconciliation {
            task_id: None,
            decision: format!(
                "the intent of {intent_at} is older than the service keeps tasks (24 h); any task it made is gone: submitting again"
            ),
        });
    }
    let query = ListQuery {
        start_time: intent_at.checked_sub(WINDOW_BEFORE).ok(),
        end_time: intent_at.checked_add(WINDOW_AFTER).ok(),
        model_name: Some(model.to_owned()),
        ..ListQuery::default()
    };
    let mut candidates = Vec::new();
    for look in 0..2 {
        let listed = client.list_all_tasks(&query, policy).await?;
        candidates = listed.into_iter().filter(|t| !known.contains(&t.task_id)).collect::<Vec<_>>();
        if !candidates.is_empty() || look == 1 || settle.is_zero() {
            break;
        }
        // A task created a moment ago may not be listed yet.
        tokio::time::sleep(settle).await;
    }
    match candidates.len() {
        0 => Ok(Reconciliation {
            task_id: None,
            decision: format!(
                "no unknown {model} task around the intent of {intent_at}: the create call never landed; submitting again"
            ),
        }),
        1 => {
            let id = candidates[0].task_id.clone();
            Ok(Reconciliation {
                decision: format!("adopted task {id}: the only unknown {model} task around the intent of {intent_at}"),
                task_id: Some(id),
            })
        }
        n => {
            // Someone else is creating tasks on this account too. Prefer a task whose prompt is
            // ours (known once it finished), then the one created closest to the intent.
            let intent_ms = intent_at.as_millisecond();
            let mut best: Option<(bool, i64, String)> = None;
            for c in &candidates {
                let details = policy.run(|| client.get_task(&c.task_id)).await?;
                let same_prompt = details.output.orig_prompt.as_deref() == Some(prompt);
                let differs = details.output.orig_prompt.as_deref().is_some_and(|p| p != prompt);
                if differs {
                    continue;
                }
                let distance = c.gmt_create.map_or(i64::MAX, |g| (g - intent_ms).abs());
                let better = match &best {
                    None => true,
                    Some((bp, bd, _)) => (same_prompt, -distance) > (*bp, -*bd),
                };
                if better {
                    best = Some((same_prompt, distance, c.task_id.clone()));
                }
            }
            Ok(match best {
                Some((_, _, id)) => Reconciliation {
                    decision: format!(
                        "adopted task {id} out of {n} unknown {model} tasks around the intent of {intent_at} (closest in time, prompt not contradicting)"
                    ),
                    task_id: Some(id),
                },
                None => Reconciliation {
                    task_id: None,
                    decision: format!(
                        "{n} unknown {model} tasks around the intent, none with this prompt: submitting again"
                    ),
                },
            })
        }
    }
}
