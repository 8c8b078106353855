//! After the run, a person chooses: picks (the take to keep, per shot) and the export of the
//! picked takes in storyboard order, as files and as an editor's timeline. Above `views`: it joins the manifest's jobs, the ledger
//! and the picks.

pub mod export;
pub mod picks;
pub mod ref_picks;
pub mod server;
pub mod sheet;
mod sheet_money;
pub mod sheet_refs;
pub mod timeline;

pub use picks::{Pick, PickError, Picks, PicksError, ShotPick};

use crate::plan::Job;

/// The shots of `jobs` in manifest order, each with its takes.
pub fn shots<'a>(jobs: impl IntoIterator<Item = &'a Job>) -> Vec<(&'a str, Vec<&'a Job>)> {
    let mut out: Vec<(&'a str, Vec<&'a Job>)> = Vec::new();
    for job in jobs {
        match out.iter_mut().find(|(s, _)| *s == job.shot) {
            Some((_, takes)) => takes.push(job),
            None => out.push((&job.shot, vec![job])),
        }
    }
    out
}
