//! `plan`: a manifest's jobs, each with what a run would do, and the cost of it, as a table,
//! JSON or CSV. The JSON shape is documented in docs/manifest.md ("plan --format json") and
//! versioned by its `format` field.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use serde::Serialize;
use serde::ser::SerializeSeq;
use serde_json::Value;

use super::results::{RowState, decisions};
use crate::catalog::round_cents;
use crate::ledger::{Asked, Decision, Ledger};
use crate::plan::{Expansion, Job, estimate_cost};

/// The `format` of `plan --format json`; bump on any incompatible change.
pub const PLAN_FORMAT: &str = "pixbatch.plan/1";

/// One job as `plan --format json|csv` shows it.
#[derive(Debug, Serialize)]
pub struct PlanRow {
    pub key: crate::key::JobKey,
    pub shot: String,
    pub variant: String,
    pub model: String,
    pub family: String,
    pub size: String,
    pub tier: Option<String>,
    pub duration: u32,
    pub audio: bool,
    pub watermark: bool,
    pub seed: Option<i64>,
    pub sample: u32,
    pub media_count: usize,
    pub output: String,
    pub estimated_cost_cny: Option<f64>,
    /// `refs` (and `refs 2`, … for refs made from other generated refs) or `clips`.
    pub stage: String,
    /// The generated refs it waits for a pick of (state `waiting`), space-separated.
    pub waits_for: String,
    /// What a run would do: new, resume, reconcile, download, done, failed, lost, ambiguous,
    /// exists, waiting. Last, as it always was, for scripts that read the CSV's last column.
    pub state: Decision,
}

impl PlanRow {
    /// The row for a job whose file goes under `output_dir`.
    pub fn new(job: &Job, output_dir: &Path, state: Decision) -> PlanRow {
        PlanRow {
            state,
            key: job.key.clone(),
            shot: job.shot.clone(),
            variant: job.variant.clone(),
            model: job.model.clone(),
            family: job.family.name().to_owned(),
            size: job.size.clone(),
            tier: job.tier.map(|t| t.name().to_owned()),
            duration: job.duration,
            audio: job.audio,
            watermark: job.watermark,
            seed: job.seed,
            sample: job.sample,
            media_count: job.media.len(),
            output: output_dir.join(&job.output).display().to_string(),
            estimated_cost_cny: estimate_cost(job).map(round_cents),
            stage: job.stage.name(),
            waits_for: job.waiting.iter().map(|r| format!("@{r}")).collect::<Vec<_>>().join(" "),
        }
    }
}

/// Totals shown under the plan.
#[derive(Debug, Serialize)]
pub struct PlanSummary {
    pub jobs: usize,
    /// Jobs a run would submit (state `new`).
    pub to_submit: usize,
    /// Seconds of video of the jobs a run would submit.
    pub video_seconds: u64,
    /// Estimated cost of what a run would submit (not of what is done).
    pub estimated_cost_cny: f64,
    /// Estimated cost of every job of the manifest, done or not.
    pub total_cost_cny: f64,
    /// Jobs whose model has no price in the catalog (not in the estimates).
    pub unpriced_jobs: usize,
    /// Jobs per state.
    pub by_state: std::collections::BTreeMap<&'static str, usize>,
    /// Jobs in the ledger that left the manifest.
    pub orphaned: usize,
    /// `run.budget` less what the ledger has spent (billed + committed), if there is a budget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_left_cny: Option<f64>,
    /// Per stage, in order: its jobs and what a run would submit of them.
    pub stages: Vec<super::stages::StageCost>,
    /// Per generated ref: its pick and what a new pick would render again.
    pub refs: Vec<super::stages::RefPlan>,
}

impl PlanSummary {
    fn estimated_cny_over(&self, left: f64) -> bool {
        self.estimated_cost_cny > left + 1e-9
    }
}

/// A ledger job that left the manifest.
#[derive(Debug, Serialize)]
pub struct Orphan {
    pub key: crate::key::JobKey,
    pub shot: String,
    pub variant: String,
    /// Its last state in the ledger.
    pub last_state: RowState,
}

/// A manifest's plan, ready to print.
#[derive(Debug)]
pub struct Plan<'a> {
    pub manifest: &'a Path,
    pub name: Option<&'a str>,
    pub expansion: &'a Expansion,
    /// The jobs that can run, then those waiting for a pick.
    pub jobs: Vec<&'a Job>,
    /// Per job, what a run would do (all `new` without a ledger).
    pub states: Vec<Decision>,
    pub orphans: Vec<Orphan>,
    /// Where a run would create the tasks (the manifest's `run.region`).
    pub region: crate::manifest::Region,
    /// `run.budget` and what the ledger has spent of it (billed + committed).
    pub budget: Option<(f64, f64)>,
}

impl<'a> Plan<'a> {
    /// The plan of an expansion against the ledger in its output folder (if any).
    pub fn new(manifest: &'a Path, name: Option<&'a str>, expansion: &'a Expansion, ledger: &Ledger) -> Plan<'a> {
        let mut states = decisions(&expansion.jobs, ledger, &expansion.output_dir, Asked::default());
        states.extend(expansion.waiting.iter().map(|_| Decision::Waiting));
        let jobs: Vec<&Job> = expansion.jobs.iter().chain(&expansion.waiting).collect();
        let orphans = ledger
            .orphans(expansion.jobs.iter().chain(&expansion.unselected).chain(&expansion.waiting).map(|j| &j.key))
            .into_iter()
            .map(|r| Orphan {
                key: r.key.clone(),
                shot: r.meta.shot.clone(),
                variant: r.meta.variant.clone(),
                last_state: RowState::of(Some(r)),
            })
            .collect();
        Plan {
            manifest,
            name,
            expansion,
            jobs,
            states,
            orphans,
            region: crate::manifest::Region::default(),
            budget: None,
        }
    }

    fn state(&self, i: usize) -> Decision {
        self.states.get(i).copied().unwrap_or(Decision::New)
    }

    /// Totals over every job.
    pub fn summary(&self) -> PlanSummary {
        let jobs = &self.jobs;
        let costs: Vec<Option<f64>> = jobs.iter().map(|j| estimate_cost(j)).collect();
        let new: Vec<usize> = (0..jobs.len()).filter(|&i| self.state(i) == Decision::New).collect();
        let mut by_state = std::collections::BTreeMap::new();
        for i in 0..jobs.len() {
            *by_state.entry(self.state(i).as_str()).or_default() += 1;
        }
        PlanSummary {
            jobs: jobs.len(),
            to_submit: new.len(),
            video_seconds: new.iter().map(|&i| u64::from(jobs[i].duration)).sum(),
            estimated_cost_cny: round_cents(new.iter().filter_map(|&i| costs[i]).sum()),
            total_cost_cny: round_cents(costs.iter().flatten().sum()),
            unpriced_jobs: costs.iter().filter(|c| c.is_none()).count(),
            by_state,
            orphaned: self.orphans.len(),
            budget_left_cny: self.budget.map(|(b, spent)| round_cents(b - spent)),
            stages: super::stages::stage_costs(jobs, &self.states),
            refs: super::stages::ref_plans(self.expansion),
        }
    }

    /// `plan --format json`: `{format, manifest, name, output_dir, summary, jobs: [row + request]}`,
    /// streamed to `w` job by job so a 100 000-job plan never sits in memory twice.
    pub fn write_json(&self, w: impl std::io::Write) -> std::io::Result<()> {
        let doc = PlanJson {
            format: PLAN_FORMAT,
            manifest: self.manifest.display().to_string(),
            name: self.name,
            output_dir: self.expansion.output_dir.display().to_string(),
            region: self.region.to_string(),
            summary: self.summary(),
            jobs: JobsJson(self),
            orphans: &self.orphans,
        };
        let mut w = std::io::BufWriter::new(w);
        serde_json::to_writer_pretty(&mut w, &doc)?;
        w.write_all(b"\n")?;
        w.flush()
    }

    /// `plan --format csv`: one row per job, the [`PlanRow`] columns.
    pub fn to_csv(&self) -> std::io::Result<Vec<u8>> {
        let out = &self.expansion.output_dir;
        super::to_csv(self.jobs.iter().enumerate().map(|(i, job)| PlanRow::new(job, out, self.state(i))))
    }

    /// `plan --format table`: aligned columns and a total line.
    pub fn to_table(&self) -> String {
        let header = ["STATE", "KEY", "SHOT", "VARIANT", "MODEL", "SIZE", "DUR", "SEED", "MEDIA", "COST", "OUTPUT"];
        let rows: Vec<[String; 11]> = self
            .jobs
            .iter()
            .enumerate()
            .map(|(i, job)| {
                [
                    self.state(i).as_str().to_owned(),
                    job.key.short().to_owned(),
                    job.shot.clone(),
                    if job.variant.is_empty() { "-".into() } else { job.variant.clone() },
                    crate::catalog::short_name(&job.model).to_owned(),
                    job.size.clone(),
                    format!("{}s", job.duration),
                    job.seed.map_or_else(|| "-".into(), |s| s.to_string()),
                    job.media.len().to_string(),
                    estimate_cost(job).map_or_else(|| "?".into(), |c| format!("{c:.2}")),
                    self.expansion.output_dir.join(&job.output).display().to_string(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |cells: &[&str]| {
            let mut s = String::new();
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if i + 1 == cells.len() {
                    s.push_str(cell);
                } else {
                    let pad = w.saturating_sub(cell.chars().count());
                    s.push_str(cell);
                    s.push_str(&" ".repeat(pad + 2));
                }
            }
            out.push_str(s.trim_end());
            out.push('\n');
        };
        line(&header);
        for row in &rows {
            let cells: Vec<&str> = row.iter().map(String::as_str).collect();
            line(&cells);
        }
        let s = self.summary();
        let states: Vec<String> = s.by_state.iter().map(|(k, v)| format!("{v} {k}")).collect();
        let _ = write!(out, "\n{} jobs", s.jobs);
        // A shard or `--only` may select nothing: no states to list.
        if !states.is_empty() {
            let _ = write!(out, " ({})", states.join(", "));
        }
        if !self.orphans.is_empty() {
            let _ = write!(out, "; {} jobs in the ledger left the manifest (orphaned)", self.orphans.len());
        }
        if let Some(n) = s.by_state.get(Decision::Exists.as_str()) {
            let _ = write!(
                out,
                "\n{n} jobs have a file at their path that the ledger did not write (exists): a run keeps it and renders nothing; `run --overwrite` renders them again"
            );
        }
        let _ = write!(
            out,
            "\na run would submit {} jobs, {} s of video, estimated ¥{:.2} (all jobs: ¥{:.2})",
            s.to_submit, s.video_seconds, s.estimated_cost_cny, s.total_cost_cny
        );
        if s.unpriced_jobs > 0 {
            let _ = write!(out, " (+{} jobs with unknown prices)", s.unpriced_jobs);
        }
        if let (Some((budget, spent)), Some(left)) = (self.budget, s.budget_left_cny) {
            let _ = write!(out, "\nrun.budget ¥{budget:.2}: ¥{spent:.2} spent over every run, ¥{left:.2} left");
            if s.estimated_cny_over(left) {
                let _ = write!(out, " (not enough for this run's estimate: a run stops submitting at the budget)");
            }
        }
        super::stages::write_table(&mut out, &s);
        let _ = write!(out, "\nregion {} (DASHSCOPE_BASE_URL overrides it)", self.region);
        out.push('\n');
        out
    }
}

#[derive(Serialize)]
struct PlanJson<'a> {
    format: &'static str,
    manifest: String,
    name: Option<&'a str>,
    output_dir: String,
    region: String,
    summary: PlanSummary,
    jobs: JobsJson<'a>,
    orphans: &'a [Orphan],
}

struct JobsJson<'a>(&'a Plan<'a>);

#[derive(Serialize)]
struct JobJson {
    #[serde(flatten)]
    row: PlanRow,
    request: Value,
}

impl Serialize for JobsJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let plan = self.0;
        let mut seq = serializer.serialize_seq(Some(plan.jobs.len()))?;
        for (i, job) in plan.jobs.iter().enumerate() {
            let row = PlanRow::new(job, &plan.expansion.output_dir, plan.state(i));
            seq.serialize_element(&JobJson { row, request: job.request_body() })?;
        }
        seq.end()
    }
}
