//! `pixbatch pick` and `pixbatch export`: choosing takes and handing them to the editor.

use std::path::Path;

use super::args::ExpandFlags;
use super::errors::CliError;
use super::inspect::load_and_expand;
use crate::exit;
use crate::ledger::{Ledger, Phase};
use crate::review::Picks;
use crate::review::export::{self, Unpicked};

/// `pick`: marks (or clears) a shot's take, through the same code path as the review page.
pub fn pick(path: &Path, shot: &str, variant: Option<&str>, clear: bool, flags: &ExpandFlags) -> Result<i32, CliError> {
    let (_, expansion) = load_and_expand(path, flags)?;
    let takes: Vec<_> = expansion.jobs.iter().filter(|j| j.shot == shot).collect();
    if takes.is_empty() {
        let shots: Vec<&str> = expansion.jobs.iter().map(|j| j.shot.as_str()).collect();
        let hint = crate::manifest::diag::did_you_mean(shot, shots.iter().copied())
            .map_or_else(|| "`pixbatch plan MANIFEST` lists the shots".to_owned(), |s| format!("did you mean `{s}`?"));
        return Err(CliError::usage(format!("no shot `{shot}` in {}; {hint}", path.display()), None));
    }
    if clear {
        let had = Picks::update(&expansion.output_dir, |p| p.shots.remove(shot).is_some())?;
        eprintln!("{shot}: {}", if had { "pick cleared" } else { "had no pick" });
        return Ok(exit::OK);
    }
    let want = variant.unwrap_or("");
    let Some(job) = takes.iter().find(|j| j.variant == want) else {
        let list: Vec<&str> =
            takes.iter().map(|j| if j.variant.is_empty() { "(none)" } else { j.variant.as_str() }).collect();
        return Err(CliError::usage(
            format!("shot `{shot}` has no take `{want}`; its takes: {}", list.join(", ")),
            Some("give the variant as `plan` or `status` shows it, e.g. seed=3"),
        ));
    };
    let ledger = Ledger::load(&expansion.output_dir)?;
    if ledger.records.get(&job.key).is_none_or(|r| r.phase != Phase::Downloaded) {
        return Err(CliError::usage(
            format!("{} is not rendered yet: only a take with a video can be picked", job.name()),
            Some("run `pixbatch run` first; `pixbatch status` shows each take"),
        ));
    }
    Picks::update(&expansion.output_dir, |p| p.pick(job))?;
    eprintln!("{}: picked", job.name());
    Ok(exit::OK)
}

/// `export`: the picked takes in storyboard order.
pub fn export(
    path: &Path,
    to: &Path,
    allow_missing: bool,
    first_done: bool,
    flags: &ExpandFlags,
) -> Result<i32, CliError> {
    let (_, expansion) = load_and_expand(path, flags)?;
    let ledger = Ledger::load(&expansion.output_dir)?;
    let picks = Picks::load(&expansion.output_dir)?;
    let unpicked = match (allow_missing, first_done) {
        (_, true) => Unpicked::FirstDone,
        (true, false) => Unpicked::Skip,
        (false, false) => Unpicked::Refuse,
    };
    let report = export::export(&expansion, &ledger, &picks, to, unpicked)?;
    for e in &report.exported {
        println!("{}  {}  {}", e.file, if e.variant.is_empty() { &e.shot } else { &e.variant }, e.source);
    }
    for (shot, why) in &report.skipped {
        eprintln!("skipped {shot}: {why}");
    }
    eprintln!(
        "exported {} shot(s) to {} ({} written, {} already in place); ffmpeg -f concat -safe 0 -i {} -c copy out.mp4",
        report.exported.len(),
        to.display(),
        report.written,
        report.exported.len() - report.written,
        to.join(export::CONCAT_TXT).display()
    );
    Ok(exit::OK)
}
