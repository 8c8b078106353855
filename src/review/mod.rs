//! After the run, a person chooses: picks (the take to keep, per shot) and the export of the
//! picked takes in storyboard order. Above `views`: it joins the manifest's jobs, the ledger
//! and the picks.

pub mod export;
pub mod picks;

pub use picks::{Pick, Picks, PicksError, ShotPick};
