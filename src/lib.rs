//! pixbatch: render a YAML manifest of DashScope video jobs (every model in [`catalog`]).
//!
//! [`manifest`] parses (the YAML and its `shots_from` table); [`plan`] validates and expands it into jobs; [`ledger`] records what
//! happened to every job key and decides what a run does with it; [`views`] joins the two (plan
//! and status tables, results files, JUnit); [`run`] drives the service. `plan` and `ledger`
//! never import each other. The CLI only turns flags into options and prints results.

pub mod api;
pub mod catalog;
#[doc(hidden)]
pub mod cli;
pub mod duration;
pub mod exit;
pub mod fake;
pub mod files;
pub mod key;
pub mod ledger;
pub mod manifest;
pub mod plan;
pub mod rate;
pub mod review;
pub mod run;
pub mod schema;
pub mod views;
