//! The plan: a manifest's jobs, each with its key, its output file and its cost.
//!
//! [`expand`] turns a parsed manifest into jobs; [`Selection`] picks the ones a command works
//! on. What a run would do with each job (the ledger's side) is a view: `views::plan`.

mod checks;
pub mod expand;
mod fit;
pub mod job;
pub mod matrix;
pub mod mentions;
pub mod refs;
mod stages;
mod template;
mod values;

pub use expand::{ExpandOptions, Expansion, RefStage, expand};
pub use job::{Job, Media, MediaSource, Product, Stage};

/// Estimated cost of a job in CNY: its price per second (the catalog's, or `run.prices`) times
/// its billed seconds (its duration, and for Wan r2v its reference videos' seconds, at most
/// 5); `None` when nothing prices its model.
pub fn estimate_cost(job: &Job) -> Option<f64> {
    match job.product {
        Product::Video => Some(job.price_per_second? * (f64::from(job.duration) + job.billed_input_seconds)),
        Product::Images { n } => Some(job.price_per_image? * f64::from(n)),
    }
}

/// What a finished task of `job` was billed, with the price in force and where it came from.
pub fn billed(job: &Job, usage: &crate::api::Usage) -> Option<crate::ledger::money::Billed> {
    use crate::ledger::money::Billed;
    let (unit_price, quantity) = match job.product {
        Product::Video => (job.price_per_second?, usage.duration?),
        Product::Images { .. } => (job.price_per_image?, f64::from(usage.image_count?)),
    };
    // To a millionth of a yuan: the float product's noise is not money.
    let cny = (unit_price * quantity * 1e6).round() / 1e6;
    Some(Billed { cny, unit_price, source: job.price_source, inherited_from: None })
}

/// Parses `K/N` (1-based K).
pub fn parse_shard(text: &str) -> Result<(u32, u32), String> {
    let (k, n) = text.split_once('/').ok_or_else(|| format!("`{text}`: write the shard as K/N, e.g. 2/4"))?;
    let (k, n): (u32, u32) = (
        k.trim().parse().map_err(|_| format!("`{text}`: K is not a number"))?,
        n.trim().parse().map_err(|_| format!("`{text}`: N is not a number"))?,
    );
    if n == 0 {
        return Err(format!("`{text}`: N must be at least 1 (the number of shards)"));
    }
    if k == 0 || k > n {
        return Err(format!("`{text}`: K must be between 1 and N"));
    }
    Ok((k, n))
}

/// Which of a manifest's jobs a command works on: `--shard K/N` and `--only GLOB`.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `(K, N)`, 1-based K: the jobs whose key falls in shard K of N.
    pub shard: Option<(u32, u32)>,
    /// Globs over shot ids; empty selects every shot.
    pub only: Vec<String>,
}

impl Selection {
    /// Moves the jobs outside the shard and the `--only` globs to `expansion.unselected`. A
    /// glob that is not one, or globs that match no shot, are an error (what to fix).
    pub fn apply(&self, expansion: &mut Expansion) -> Result<(), String> {
        let set = if self.only.is_empty() {
            None
        } else {
            let mut b = globset::GlobSetBuilder::new();
            for g in &self.only {
                b.add(globset::Glob::new(g).map_err(|e| format!("bad --only glob `{g}`: {e}"))?);
            }
            Some(b.build().map_err(|e| e.to_string())?)
        };
        if let Some(set) = &set
            && !expansion.jobs.is_empty()
            && !expansion.jobs.iter().chain(&expansion.waiting).any(|j| set.is_match(&j.shot))
        {
            return Err(format!("no shot matches --only {}", self.only.join(" --only ")));
        }
        let in_shard = |j: &Job| self.shard.is_none_or(|(k, n)| j.key.shard(n) == k - 1);
        let matched = |j: &Job| set.as_ref().is_none_or(|s| s.is_match(&j.shot));
        // A generated ref's image jobs go with the shots (and refs) `--only` selects that use it.
        let mut needed: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
        for j in expansion.jobs.iter().chain(&expansion.waiting).filter(|j| matched(j)) {
            needed.extend(j.media.iter().filter_map(|m| m.name.as_deref()));
        }
        let mut grew = true;
        while grew {
            grew = false;
            for r in &expansion.refs {
                if needed.contains(r.name.as_str()) {
                    for input in &r.inputs {
                        grew |= needed.insert(input.as_str());
                    }
                }
            }
        }
        let needed: std::collections::BTreeSet<String> = needed.into_iter().map(str::to_owned).collect();
        let keep = |j: &Job| {
            let by_ref = j.shot.strip_prefix('@').is_some_and(|name| needed.contains(name));
            in_shard(j) && (matched(j) || by_ref)
        };
        let (kept, left) = std::mem::take(&mut expansion.jobs).into_iter().partition(|j| keep(j));
        let (waiting, left_waiting): (Vec<Job>, Vec<Job>) =
            std::mem::take(&mut expansion.waiting).into_iter().partition(|j| keep(j));
        expansion.jobs = kept;
        expansion.waiting = waiting;
        expansion.unselected = left;
        expansion.unselected.extend(left_waiting);
        Ok(())
    }
}
