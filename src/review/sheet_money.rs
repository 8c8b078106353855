//! Money on the contact sheet: each take's bill against its estimate, each shot's, the
//! page's total (generated refs included) and, with `run.budget`, what is left of it.

use maud::{Markup, html};

use crate::catalog::round_cents;
use crate::ledger::{Ledger, Record};
use crate::plan::{Expansion, Job, estimate_cost};

/// A take's money: what it was billed (recorded), and its estimate.
#[derive(Debug, Clone, Copy)]
pub(super) struct Money {
    billed: Option<f64>,
    estimate: Option<f64>,
}

impl Money {
    pub(super) fn of(job: &Job, record: Option<&Record>) -> Money {
        Money { billed: record.and_then(|r| r.billed.as_ref()).map(|b| b.cny), estimate: estimate_cost(job) }
    }

    /// `¥1.50` billed, `est. ¥1.50` before.
    pub(super) fn text(self) -> Option<String> {
        match (self.billed, self.estimate) {
            (Some(billed), _) => Some(format!("¥{:.2}", round_cents(billed))),
            (None, Some(est)) => Some(format!("est. ¥{:.2}", round_cents(est))),
            (None, None) => None,
        }
    }
}

/// Billed and estimated over some takes' money.
fn sums(money: impl Iterator<Item = Money>) -> (f64, f64) {
    money.fold((0.0, 0.0), |(b, e), m| (b + m.billed.unwrap_or(0.0), e + m.estimate.unwrap_or(0.0)))
}

/// A shot's line: billed against estimated over its takes.
pub(super) fn shot(takes: &[super::sheet::Take<'_>]) -> Markup {
    let (billed, est) = sums(takes.iter().map(|t| t.money));
    html! { span.money { "billed ¥" (format!("{:.2}", round_cents(billed))) " of ¥" (format!("{:.2}", round_cents(est))) " estimated" } }
}

/// The page's total (the shots' takes, and the generated refs' image jobs), and the budget
/// left when the manifest sets `run.budget`.
pub(super) fn total(expansion: &Expansion, ledger: &Ledger, takes: &[Vec<super::sheet::Take<'_>>]) -> Markup {
    let images = expansion.jobs.iter().chain(&expansion.waiting).filter(|j| j.product != crate::plan::Product::Video);
    let (billed, est) =
        sums(takes.iter().flatten().map(|t| t.money).chain(images.map(|j| Money::of(j, ledger.records.get(&j.key)))));
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
