//! The plan's stages: the generated refs' image jobs (by depth in the ref graph), then the
//! clips, each with its cost; and per generated ref, its pick and what a new pick would render
//! again.

use std::fmt::Write as _;

use serde::Serialize;

use crate::catalog::round_cents;
use crate::ledger::Decision;
use crate::plan::{Expansion, Job, Stage, estimate_cost};

/// One stage of the plan.
#[derive(Debug, Serialize)]
pub struct StageCost {
    pub stage: String,
    pub jobs: usize,
    /// Jobs a run would submit now.
    pub to_submit: usize,
    /// Jobs waiting for a pick.
    pub waiting: usize,
    /// Estimated cost of what a run would submit now.
    pub estimated_cost_cny: f64,
    /// Estimated cost of every job of the stage, done or not, waiting included.
    pub total_cost_cny: f64,
}

/// A generated ref in the plan.
#[derive(Debug, Serialize)]
pub struct RefPlan {
    pub name: String,
    /// The candidate picked (`seed=2`), if any.
    pub picked: Option<String>,
    pub auto: bool,
    /// The jobs that use it (directly or through refs made from it): a new pick renders them
    /// again.
    pub dependents: usize,
    /// Their estimated cost.
    pub repick_cost_cny: f64,
}

/// Per stage, in order.
pub fn stage_costs(jobs: &[&Job], states: &[Decision]) -> Vec<StageCost> {
    let mut stages: Vec<Stage> = jobs.iter().map(|j| j.stage).collect();
    stages.sort();
    stages.dedup();
    stages
        .into_iter()
        .map(|stage| {
            let of: Vec<(usize, &&Job)> = jobs.iter().enumerate().filter(|(_, j)| j.stage == stage).collect();
            let state = |i: usize| states.get(i).copied().unwrap_or(Decision::New);
            let new: Vec<&&Job> = of.iter().filter(|(i, _)| state(*i) == Decision::New).map(|(_, j)| *j).collect();
            StageCost {
                stage: stage.name(),
                jobs: of.len(),
                to_submit: new.len(),
                waiting: of.iter().filter(|(i, _)| state(*i) == Decision::Waiting).count(),
                estimated_cost_cny: round_cents(new.iter().filter_map(|j| estimate_cost(j)).sum()),
                total_cost_cny: round_cents(of.iter().filter_map(|(_, j)| estimate_cost(j)).sum()),
            }
        })
        .collect()
}

/// Per generated ref, in graph order.
pub fn ref_plans(expansion: &Expansion) -> Vec<RefPlan> {
    expansion
        .refs
        .iter()
        .map(|r| {
            let deps = crate::plan::dependents(expansion, &r.name);
            RefPlan {
                name: format!("@{}", r.name),
                picked: r.pick.as_ref().map(|p| {
                    let job = expansion.jobs.iter().chain(&expansion.waiting).find(|j| j.key == p.key);
                    match job.map(|j| crate::plan::candidate_label(j, p.index)) {
                        Some(l) if !l.is_empty() => l,
                        _ => format!("#{}", p.index + 1),
                    }
                }),
                auto: r.pick.as_ref().is_some_and(|p| p.auto),
                dependents: deps.len(),
                repick_cost_cny: round_cents(deps.iter().filter_map(|j| estimate_cost(j)).sum()),
            }
        })
        .collect()
}

/// The stages and refs under the plan's table (nothing for a manifest without generated refs).
pub fn write_table(out: &mut String, s: &super::plan::PlanSummary) {
    if s.refs.is_empty() {
        return;
    }
    out.push_str("\nstages:");
    for st in &s.stages {
        let _ = write!(
            out,
            "\n  {:<7} {} jobs: {} to submit (¥{:.2}), {} waiting for a pick; all ¥{:.2}",
            st.stage, st.jobs, st.to_submit, st.estimated_cost_cny, st.waiting, st.total_cost_cny
        );
    }
    out.push_str("\ngenerated refs:");
    for r in &s.refs {
        let pick = match (&r.picked, r.auto) {
            (Some(p), true) => format!("picked {p} (automatically)"),
            (Some(p), false) => format!("picked {p}"),
            (None, _) => "no pick yet".to_owned(),
        };
        let _ = write!(
            out,
            "\n  {}: {pick}; a new pick renders {} job(s) again, ¥{:.2}",
            r.name, r.dependents, r.repick_cost_cny
        );
    }
}
