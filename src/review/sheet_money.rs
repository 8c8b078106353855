//! Money on the contact sheet: each take's bill against its estimate, each shot's, the
//! page's total (generated refs included) and, with `run.budget`, what is left of it.

use maud::{Markup, html};

use crate::catalog::round_cents;
use crate::ledger::{Ledger, Record};
use crate::plan::{Expansion, Job, estimate_cost};

/// A take's money: what it was billed (recorded), and its estimate.
pub(super) fn of(job: &Job, record: Option<&Record>) -> (Option<f64>, Option<f64>) {
    (record.and_then(|r| r.billed.as_ref()).map(|b| round_cents(b.cny)), estimate_cost(job).map(round_cents))
}

/// `¥1.50` billed, `est. ¥1.50` before.
pub(super) fn take_text(job: &Job, record: Option<&Record>) -> Option<String> {
    match of(job, record) {
        (Some(billed), _) => Some(format!("¥{billed:.2}")),
        (None, Some(est)) => Some(format!("est. ¥{est:.2}")),
        (None, None) => None,
    }
}

/// Billed and estimated over `jobs`.
fn sums<'a>(jobs: impl Iterator<Item = &'a Job>, ledger: &Ledger) -> (f64, f64) {
    jobs.fold((0.0, 0.0), |(b, e), job| {
        let (billed, est) = of(job, ledger.records.get(&job.key));
        (b + billed.unwrap_or(0.0), e + est.unwrap_or(0.0))
    })
}

/// A shot's line: billed against estimated over its takes.
pub(super) fn shot(jobs: &[&Job], ledger: &Ledger) -> Markup {
    let (billed, est) = sums(jobs.iter().copied(), ledger);
    html! { span.money { "billed ¥" (format!("{:.2}", round_cents(billed))) " of ¥" (format!("{:.2}", round_cents(est))) " estimated" } }
}

/// The page's total, and the budget left when the manifest sets `run.budget`.
pub(super) fn total(expansion: &Expansion, ledger: &Ledger) -> Markup {
    let (billed, est) = sums(expansion.jobs.iter().chain(&expansion.waiting), ledger);
    let spent = crate::views::spend::spent(ledger);
    html! {
        p #money {
            "billed ¥" (format!("{:.2}", round_cents(billed))) " of ¥" (format!("{:.2}", round_cents(est)))
            " estimated for this manifest"
            @if let Some(budget) = expansion.budget {
                " · run.budget ¥" (format!("{budget:.2}")) ": ¥" (format!("{:.2}", round_cents(spent)))
                " spent over every run, " b { "¥" (format!("{:.2}", round_cents(budget - spent))) " left" }
            }
        }
    }
}
