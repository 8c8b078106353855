//! pixbatch: render a YAML manifest of PixVerse reference-to-video jobs on DashScope.
//!
//! Data flows one way: [`manifest`] (parse) → [`plan`] (validate, expand into jobs) → run →
//! ledger. The CLI in [`cli`] only turns flags into options and prints results.

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
pub mod run;
pub mod schema;
pub mod views;
