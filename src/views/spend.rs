//! `pixbatch spend`: what the manifests' ledgers have cost (billed), what is on the service and
//! not final (committed, at the estimate), what the rest would cost, and how far the bills
//! drifted from the estimates per model (a stale price table shows here first).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::catalog::round_cents;
use crate::ledger::money::{Attempt, PriceSource, Spend};
use crate::ledger::{Decision, Ledger, Record};
use crate::plan::{Expansion, estimate_cost};

/// How `spend` groups its rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    Run,
    Day,
    Shot,
    #[default]
    Model,
    Stage,
}

/// One group's money.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SpendRow {
    pub group: String,
    /// Tasks billed.
    pub billed_tasks: usize,
    pub billed_cny: f64,
    /// Tasks sent and not final.
    pub committed_tasks: usize,
    pub committed_cny: f64,
    /// Tasks that ended unbilled (failed, cancelled).
    pub free_tasks: usize,
    /// What the billed tasks were estimated at when they were sent.
    pub estimated_cny: f64,
    /// Billed minus estimated (over the billed tasks that carry an estimate).
    pub drift_cny: f64,
    /// Billed tasks whose price came from `run.prices` or was computed on replay (old journal).
    pub priced_by_manifest: usize,
    pub priced_on_replay: usize,
}

/// The whole report.
#[derive(Debug, Serialize)]
pub struct SpendReport {
    pub format: &'static str,
    pub by: By,
    /// Only tasks sent (or finished) since this moment.
    pub since: Option<String>,
    pub rows: Vec<SpendRow>,
    pub total: SpendRow,
    /// Jobs of the manifests a run would still send (new, or waiting for a pick), and their
    /// estimate.
    pub left_jobs: usize,
    pub left_cny: f64,
    /// Billed and committed together: what `--check` and `run.budget` compare.
    pub spent_cny: f64,
    /// Per manifest with a `run.budget`: the budget and what is left of it.
    pub budgets: Vec<BudgetLine>,
}

/// A manifest's `run.budget` against its ledger.
#[derive(Debug, Serialize)]
pub struct BudgetLine {
    pub manifest: String,
    pub budget_cny: f64,
    pub spent_cny: f64,
    pub left_cny: f64,
}

/// The `format` of `spend --format json`.
pub const SPEND_FORMAT: &str = "pixbatch.spend/1";

/// One manifest's part: its expansion, its ledger and its budget.
#[derive(Debug)]
pub struct Source<'a> {
    pub manifest: String,
    pub expansion: &'a Expansion,
    pub ledger: &'a Ledger,
    pub budget: Option<f64>,
}

fn group_of(a: &Attempt<'_>, by: By) -> String {
    match by {
        By::Run => {
            a.run.map_or_else(|| "(unknown run)".to_owned(), |t| t.strftime("%Y-%m-%d %H:%M:%S%.3f").to_string())
        }
        By::Day => a.when.map_or_else(|| "(unknown day)".to_owned(), |t| t.strftime("%Y-%m-%d").to_string()),
        By::Shot => a.meta.shot.clone(),
        By::Model => a.meta.model.clone(),
        By::Stage => a.meta.stage.clone().unwrap_or_else(|| "clips".to_owned()),
    }
}

/// Adds one attempt's money to a row.
fn add(row: &mut SpendRow, a: &Attempt<'_>) {
    match a.spend.clone() {
        Spend::Nothing => {}
        Spend::Committed(cny) => {
            row.committed_tasks += 1;
            row.committed_cny += cny;
        }
        Spend::Billed(b) => {
            row.billed_tasks += 1;
            row.billed_cny += b.cny;
            if let Some(est) = a.meta.estimate_cny {
                row.estimated_cny += est;
                row.drift_cny += b.cny - est;
            }
            match b.source {
                PriceSource::Manifest => row.priced_by_manifest += 1,
                PriceSource::Replayed => row.priced_on_replay += 1,
                PriceSource::Catalog => {}
            }
        }
        Spend::Free => row.free_tasks += 1,
    }
}

fn rounded(mut row: SpendRow) -> SpendRow {
    row.billed_cny = round_cents(row.billed_cny);
    row.committed_cny = round_cents(row.committed_cny);
    row.estimated_cny = round_cents(row.estimated_cny);
    row.drift_cny = round_cents(row.drift_cny);
    row
}

/// A ledger's billed + committed over every attempt (what `run.budget` caps).
pub fn spent(ledger: &Ledger) -> f64 {
    ledger.records.values().flat_map(Record::attempts).map(|a| a.spend.cny()).sum()
}

/// The report over every source; `since` keeps the tasks sent or finished since then.
pub fn report(sources: &[Source<'_>], by: By, since: Option<jiff::Timestamp>) -> SpendReport {
    let mut groups: BTreeMap<String, SpendRow> = BTreeMap::new();
    let mut total = SpendRow { group: "total".to_owned(), ..SpendRow::default() };
    let (mut left_jobs, mut left_cny) = (0, 0.0);
    let mut budgets = Vec::new();
    for s in sources {
        for a in s.ledger.records.values().flat_map(Record::attempts) {
            if since.is_some_and(|cut| a.when.is_none_or(|w| w < cut)) {
                continue;
            }
            let key = group_of(&a, by);
            add(groups.entry(key.clone()).or_insert_with(|| SpendRow { group: key, ..SpendRow::default() }), &a);
            add(&mut total, &a);
        }
        let decisions =
            super::results::decisions(&s.expansion.jobs, s.ledger, &s.expansion.output_dir, Default::default());
        for (job, d) in s.expansion.jobs.iter().zip(decisions) {
            if d == Decision::New {
                left_jobs += 1;
                left_cny += estimate_cost(job).unwrap_or(0.0);
            }
        }
        left_jobs += s.expansion.waiting.len();
        left_cny += s.expansion.waiting.iter().filter_map(estimate_cost).sum::<f64>();
        if let Some(budget) = s.budget {
            let spent = round_cents(spent(s.ledger));
            budgets.push(BudgetLine {
                manifest: s.manifest.clone(),
                budget_cny: budget,
                spent_cny: spent,
                left_cny: round_cents(budget - spent),
            });
        }
    }
    let total = rounded(total);
    SpendReport {
        format: SPEND_FORMAT,
        by,
        since: since.map(|t| t.to_string()),
        rows: groups.into_values().map(rounded).collect(),
        spent_cny: round_cents(total.billed_cny + total.committed_cny),
        total,
        left_jobs,
        left_cny: round_cents(left_cny),
        budgets,
    }
}

/// `spend --format table`.
pub fn to_table(r: &SpendReport) -> String {
    let header = ["GROUP", "BILLED", "TASKS", "COMMITTED", "TASKS", "FREE", "ESTIMATED", "DRIFT"];
    let line = |row: &SpendRow| -> [String; 8] {
        [
            row.group.clone(),
            format!("{:.2}", row.billed_cny),
            row.billed_tasks.to_string(),
            format!("{:.2}", row.committed_cny),
            row.committed_tasks.to_string(),
            row.free_tasks.to_string(),
            format!("{:.2}", row.estimated_cny),
            format!("{:+.2}", row.drift_cny),
        ]
    };
    let mut cells: Vec<[String; 8]> = r.rows.iter().map(line).collect();
    cells.push(line(&r.total));
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut put = |cols: &[String]| {
        let mut s = String::new();
        for (i, (c, w)) in cols.iter().zip(widths).enumerate() {
            let pad = w.saturating_sub(c.chars().count());
            if i == 0 {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str(&" ".repeat(pad + 2));
                s.push_str(c);
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    put(&header.map(str::to_owned));
    for row in &cells {
        put(row);
    }
    let t = &r.total;
    let _ = writeln!(
        out,
        "\nbilled ¥{:.2}, committed ¥{:.2} (on the service, at the estimate): ¥{:.2} spent; the rest ({} jobs) would cost ¥{:.2}",
        t.billed_cny, t.committed_cny, r.spent_cny, r.left_jobs, r.left_cny
    );
    if t.priced_by_manifest + t.priced_on_replay > 0 {
        let _ = writeln!(
            out,
            "{} billed task(s) priced by run.prices, {} priced when an older journal was read (catalog prices)",
            t.priced_by_manifest, t.priced_on_replay
        );
    }
    for b in &r.budgets {
        let _ = writeln!(
            out,
            "budget of {}: ¥{:.2}, ¥{:.2} spent, ¥{:.2} left",
            b.manifest, b.budget_cny, b.spent_cny, b.left_cny
        );
    }
    out
}

/// `spend --format json`.
pub fn to_json(r: &SpendReport) -> std::io::Result<Vec<u8>> {
    super::results::to_json(r)
}

/// `spend --format csv`: the rows, then the total.
pub fn to_csv(r: &SpendReport) -> std::io::Result<Vec<u8>> {
    super::to_csv(r.rows.iter().chain(std::iter::once(&r.total)))
}
