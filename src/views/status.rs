//! `pixbatch status`: every job of the manifest with what a run would do with it now (files
//! are re-hashed, so a deleted video shows), then the ledger's jobs that left the manifest.
//!
//! Its `state` is one vocabulary, [`StatusState`]: a run's [`Decision`] for a manifest job
//! (`new`, `resume`, `reconcile`, `download`, `done`, `failed`, `lost`, `ambiguous`, `exists`), or
//! `orphaned`. It differs on purpose from `results.json`'s [`super::RowState`], which says
//! where the ledger left a job, not what happens next.

use std::fmt::Write as _;

use serde::{Serialize, Serializer};

use super::results::{self, RESULTS_FORMAT, ResultRow, ResultsDoc, RowState};
use crate::ledger::{Asked, Decision, Ledger};
use crate::plan::Expansion;

/// A job's state as `status` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusState {
    /// What a run would do with this manifest job.
    Run(Decision),
    /// In the ledger, no longer in the manifest.
    Orphaned,
}

impl StatusState {
    pub fn word(self) -> &'static str {
        match self {
            StatusState::Run(d) => d.as_str(),
            StatusState::Orphaned => "orphaned",
        }
    }
}

impl Serialize for StatusState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.word())
    }
}

/// The rows of `status`: the selected jobs, then the orphans.
pub fn rows(expansion: &Expansion, ledger: &Ledger) -> Vec<ResultRow<StatusState>> {
    let mut decisions = results::decisions(&expansion.jobs, ledger, &expansion.output_dir, Asked::default());
    decisions.extend(expansion.waiting.iter().map(|_| Decision::Waiting));
    let mut decisions = decisions.into_iter();
    results::rows(expansion.jobs.iter().chain(&expansion.waiting), &expansion.unselected, ledger)
        .into_iter()
        .map(|row| {
            let state = match (row.state, decisions.next()) {
                (RowState::Orphaned, _) | (_, None) => StatusState::Orphaned,
                (_, Some(d)) => StatusState::Run(d),
            };
            row.with_state(state)
        })
        .collect()
}

/// `status --format json`.
pub fn to_json(name: Option<&str>, rows: &[ResultRow<StatusState>]) -> std::io::Result<Vec<u8>> {
    results::to_json(&ResultsDoc { format: RESULTS_FORMAT, name, written_at: None, jobs: rows })
}

/// `status --format table`: state, short key, job, and the error or the task.
pub fn to_table(rows: &[ResultRow<StatusState>]) -> String {
    let mut t = String::new();
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for r in rows {
        let state = r.state.word();
        *counts.entry(state).or_default() += 1;
        let name = if r.variant.is_empty() { r.shot.clone() } else { format!("{}[{}]", r.shot, r.variant) };
        let detail = match (&r.error_code, &r.task_id) {
            _ if r.state == StatusState::Run(Decision::Exists) => {
                "kept: a file the ledger did not write is there; `run --overwrite` renders it again".to_owned()
            }
            (Some(code), _) if r.state != StatusState::Run(Decision::Done) => {
                format!("{code}: {}", r.error_message.clone().unwrap_or_default())
            }
            (_, Some(id)) => format!("task {id}"),
            _ => String::new(),
        };
        let picked = if r.picked { "  (picked)" } else { "" };
        let _ = writeln!(t, "{state:<10} {:<12} {name}  {detail}{picked}", r.key.short());
    }
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    let _ = write!(t, "\n{}\n", summary.join(", "));
    t
}
