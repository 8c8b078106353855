//! Money in the ledger: every paid task's spend, in one of three states.
//!
//! - *committed*: accepted (or possibly accepted: a create with no answer) and not final, at
//!   the estimate written with its intent;
//! - *billed*: final and SUCCEEDED, at `usage` × the price in force when it finished, with that
//!   price and where it came from written in the journal, so a later price change does not
//!   rewrite history;
//! - *free*: failed, cancelled or expired unbilled; never billed.
//!
//! Journals written before money was recorded still replay: a SUCCEEDED task without its
//! money gets it computed from its usage at the catalog's price (`source: replayed`).

use serde::{Deserialize, Serialize};

use super::{Phase, Record};
use crate::catalog;

/// Where a billed task's price came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PriceSource {
    /// The catalog's price (`dashscope-*-models.md`) when the task finished.
    Catalog,
    /// The manifest's `run.prices` when the task finished.
    Manifest,
    /// Computed when the journal was read: it was written before money was recorded.
    Replayed,
}

/// A billed task's money, as recorded when it finished. The quantity is the task's `usage`
/// (seconds of video, or `image_count`), kept beside it in the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Billed {
    pub cny: f64,
    /// CNY per second of video, or per image, in force when it finished.
    pub unit_price: f64,
    /// Where the price came from (the catalog's unless said).
    #[serde(default = "catalog_source", skip_serializing_if = "is_catalog")]
    pub source: PriceSource,
    /// The run that created the task, when another run billed it (a killed run's task,
    /// resumed; or a lost create adopted through the list API): the price is the one in force
    /// when it finished, in the run that saw it finish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub inherited_from: Option<jiff::Timestamp>,
}

fn catalog_source() -> PriceSource {
    PriceSource::Catalog
}

fn is_catalog(s: &PriceSource) -> bool {
    *s == PriceSource::Catalog
}

/// A task's money now.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Spend {
    /// Nothing was ever sent.
    Nothing,
    /// Sent, not final: the estimate.
    Committed(f64),
    Billed(Billed),
    /// Ended without a bill.
    Free,
}

impl Spend {
    /// What it counts for against a budget: billed or committed CNY.
    pub fn cny(&self) -> f64 {
        match self {
            Spend::Committed(c) => *c,
            Spend::Billed(b) => b.cny,
            Spend::Nothing | Spend::Free => 0.0,
        }
    }
}

/// An earlier attempt of a job (a retry replaced it in the record): its money stays spent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PastAttempt {
    pub spend: Spend,
    /// The run it belonged to, and when it ended.
    pub run: Option<jiff::Timestamp>,
    pub when: Option<jiff::Timestamp>,
    pub meta: super::JobMeta,
}

/// One attempt's money, as `spend` and `run.budget` count it: a past one, or the current.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    pub spend: Spend,
    pub meta: &'a super::JobMeta,
    pub run: Option<jiff::Timestamp>,
    /// When it ended (or was sent, while it has not).
    pub when: Option<jiff::Timestamp>,
    /// The record's current attempt (the one a run may still resume).
    pub current: bool,
}

impl Record {
    /// Every attempt's money: the past ones, then the current.
    pub fn attempts(&self) -> impl Iterator<Item = Attempt<'_>> {
        let past = self.past.iter().map(|p| Attempt {
            spend: p.spend.clone(),
            meta: &p.meta,
            run: p.run,
            when: p.when,
            current: false,
        });
        let when = self.finished_at.or(self.submitted_at).or(self.intent_at);
        past.chain(std::iter::once(Attempt {
            spend: self.spend(),
            meta: &self.meta,
            run: self.run,
            when,
            current: true,
        }))
    }

    /// Keeps the current attempt's money before a new intent replaces it (a retry after a
    /// failure, a render again after a lost video: the first task was billed or free all the
    /// same).
    pub(super) fn keep_attempt(&mut self) {
        // New: nothing was made. Intent: an unanswered create not yet reconciled (the
        // reconciliation decides it; a new intent never follows one directly).
        if matches!(self.phase, Phase::New | Phase::Intent) {
            return;
        }
        let when = self.finished_at.or(self.submitted_at).or(self.intent_at);
        self.past.push(PastAttempt { spend: self.spend(), run: self.run, when, meta: self.meta.clone() });
    }

    /// The record's money: committed, billed or free.
    pub fn spend(&self) -> Spend {
        match self.phase {
            Phase::New => Spend::Nothing,
            // A create with no answer may have made its task: counted until reconciled.
            Phase::Intent | Phase::InFlight => Spend::Committed(self.meta.estimate_cny.unwrap_or(0.0)),
            Phase::Succeeded | Phase::Downloaded | Phase::Expired if self.billed.is_some() => {
                self.billed.clone().map_or(Spend::Free, Spend::Billed)
            }
            // Ambiguous: several tasks may be its own; the one that is was billed to someone.
            Phase::Ambiguous => Spend::Committed(self.meta.estimate_cny.unwrap_or(0.0)),
            Phase::Succeeded | Phase::Downloaded | Phase::Expired | Phase::Failed | Phase::Canceled => Spend::Free,
        }
    }
}

/// A SUCCEEDED task's money from its usage at the catalog's price (for journals written before
/// money was recorded).
pub fn replayed(record: &Record) -> Option<Billed> {
    let usage = record.usage.as_ref()?;
    let model = &record.meta.model;
    let (unit_price, quantity) = match (catalog::lookup(model), catalog::images::image_lookup(model)) {
        (Some(spec), _) => {
            let tier = spec.tier_of_label(&record.meta.size)?;
            let price = spec.price_per_second(tier, record.meta.audio, false, crate::manifest::Region::default())?;
            (price, usage.duration?)
        }
        (None, Some(spec)) => (spec.price, f64::from(usage.image_count?)),
        (None, None) => return None,
    };
    Some(Billed { cny: unit_price * quantity, unit_price, source: PriceSource::Replayed, inherited_from: None })
}
