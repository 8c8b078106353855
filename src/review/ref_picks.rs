//! Picks of generated refs: a person's (`pixbatch pick MANIFEST @hero seed=2`, the review
//! page's buttons) and the automatic ones (`pick: first`, `run.auto_pick: first`, or a ref with
//! one candidate). A pick records the candidate's file and sha256; the jobs that use the ref
//! are keyed by that sha256, so a new pick re-renders exactly them.

use std::path::Path;

use super::picks::{PickError, Picks, PicksError, RefPick};
use crate::ledger::{Ledger, Phase};
use crate::plan::{Expansion, Job, RefStage};

/// One candidate image of a generated ref.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub job: &'a Job,
    /// Its index in the task (failed candidates count).
    pub index: u32,
    pub path: String,
    pub sha256: String,
    /// How `pixbatch pick` names it: the job's variant, with `#N` when its task made several.
    pub label: String,
}

/// The image jobs of a generated ref, in manifest order.
pub fn ref_jobs<'a>(expansion: &'a Expansion, name: &str) -> Vec<&'a Job> {
    let shot = format!("@{name}");
    expansion.jobs.iter().chain(&expansion.waiting).filter(|j| j.shot == shot).collect()
}

/// A ref's downloaded candidates, in manifest order then task order.
pub fn candidates<'a>(expansion: &'a Expansion, ledger: &Ledger, name: &str) -> Vec<Candidate<'a>> {
    let mut out = Vec::new();
    for job in ref_jobs(expansion, name) {
        let Some(record) = ledger.records.get(&job.key).filter(|r| r.phase == Phase::Downloaded) else { continue };
        let mut files = record.files.clone();
        files.sort_by_key(|f| f.index);
        for f in files {
            let label = crate::plan::candidate_label(job, f.index);
            out.push(Candidate { job, index: f.index, path: f.path.clone(), sha256: f.sha256.clone(), label });
        }
    }
    out
}

fn pick_of(c: &Candidate<'_>, auto: bool) -> RefPick {
    RefPick {
        key: c.job.key.clone(),
        variant: c.job.variant.clone(),
        index: c.index,
        path: c.path.clone(),
        sha256: c.sha256.clone(),
        at: jiff::Timestamp::now(),
        auto,
    }
}

/// Picks what needs no person: for each unpicked ref whose image jobs have all finished, its
/// first good candidate when it says `pick: first` (or `run.auto_pick`), or its only one.
/// Returns a line per pick made.
pub fn auto_pick(expansion: &Expansion, ledger: &Ledger) -> Result<Vec<String>, PicksError> {
    let mut made: Vec<(String, RefPick, String)> = Vec::new();
    for r in expansion.refs.iter().filter(|r| r.pick.is_none()) {
        let jobs = ref_jobs(expansion, &r.name);
        let all_final = !jobs.is_empty()
            && jobs.iter().all(|j| {
                ledger.records.get(&j.key).is_some_and(|rec| matches!(rec.phase, Phase::Downloaded | Phase::Failed))
            });
        if !all_final {
            continue;
        }
        let found = candidates(expansion, ledger, &r.name);
        let chosen = match (r.auto_first, found.len()) {
            (_, 0) => None,
            (true, _) | (false, 1) => found.first(),
            (false, _) => None,
        };
        if let Some(c) = chosen {
            let why = if r.auto_first { "the first good candidate" } else { "its only candidate" };
            made.push((r.name.clone(), pick_of(c, true), format!("@{}: picked {} ({why})", r.name, shown(c))));
        }
    }
    if made.is_empty() {
        return Ok(Vec::new());
    }
    Picks::update(&expansion.output_dir, |p| {
        made.into_iter()
            .map(|(name, pick, line)| {
                p.refs.insert(name, pick);
                line
            })
            .collect()
    })
}

fn shown(c: &Candidate<'_>) -> String {
    if c.label.is_empty() { c.path.clone() } else { format!("{} ({})", c.label, c.path) }
}

/// Picks candidate `which` of ref `name` (`seed=2`, `seed=2#3`, or `#2`), or clears the
/// ref's pick with `None`.
pub fn choose_ref(
    output_dir: &Path,
    expansion: &Expansion,
    ledger: &Ledger,
    name: &str,
    which: Option<&str>,
) -> Result<String, PickError> {
    let Some(stage) = expansion.refs.iter().find(|r| r.name == name) else {
        let hint = crate::manifest::diag::did_you_mean(name, expansion.refs.iter().map(|r| r.name.as_str()))
            .map_or_else(String::new, |s| format!("; did you mean `@{s}`?"));
        return Err(PickError::NoShot { shot: format!("@{name} (a generated ref)"), hint });
    };
    let Some(which) = which else {
        let had = Picks::update(output_dir, |p| p.refs.remove(name).is_some())?;
        return Ok(format!("@{name}: {}", if had { "pick cleared" } else { "had no pick" }));
    };
    let found = candidates(expansion, ledger, &stage.name);
    let Some(c) = found.iter().find(|c| c.label == which) else {
        if ref_jobs(expansion, name).iter().any(|j| j.variant == which) {
            return Err(PickError::NotRendered(format!("@{name}[{which}]")));
        }
        let list: Vec<&str> =
            found.iter().map(|c| if c.label.is_empty() { "(none)" } else { c.label.as_str() }).collect();
        return Err(PickError::NoTake { shot: format!("@{name}"), variant: which.to_owned(), takes: list.join(", ") });
    };
    let pick = pick_of(c, false);
    let line = format!("@{name}: picked {}", shown(c));
    Picks::update(output_dir, |p| p.refs.insert(name.to_owned(), pick))?;
    Ok(line)
}

/// The generated refs with no pick yet.
pub fn unpicked(expansion: &Expansion) -> Vec<&RefStage> {
    expansion.refs.iter().filter(|r| r.pick.is_none()).collect()
}
