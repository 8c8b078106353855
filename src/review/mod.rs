//! After the run, a person chooses: picks (the take to keep, per shot) and the export of the
//! picked takes in storyboard order. Above `views`: it joins the manifest's jobs, the ledger
//! and the picks.

pub mod export;
pub mod picks;
pub mod server;
pub mod sheet;

pub use picks::{Pick, PickError, Picks, PicksError, ShotPick};
