//! `pixbatch pick` and `pixbatch export`: choosing takes and handing them to the editor.

use std::path::Path;

use super::args::ExpandFlags;
use super::errors::CliError;
use super::inspect::load_and_expand;
use super::output::runtime;
use crate::exit;
use crate::ledger::Ledger;
use crate::review::export::{self, Unpicked};
use crate::review::{PickError, Picks, picks, sheet, timeline};

/// `pick`: marks (or clears) a shot's take, through the same code path as the review page.
pub fn pick(path: &Path, shot: &str, variant: Option<&str>, clear: bool, flags: &ExpandFlags) -> Result<i32, CliError> {
    let (_, expansion) = load_and_expand(path, flags)?;
    let ledger = Ledger::load(&expansion.output_dir)?;
    let variant = if clear { None } else { Some(variant.unwrap_or("")) };
    let chosen = match shot.strip_prefix('@') {
        Some(name) => crate::review::ref_picks::choose_ref(&expansion.output_dir, &expansion, &ledger, name, variant),
        None => picks::choose(&expansion.output_dir, &expansion.jobs, &ledger, shot, variant),
    };
    match chosen {
        Ok(said) => {
            eprintln!("{said}");
            Ok(exit::OK)
        }
        Err(PickError::Picks(e)) => Err(e.into()),
        Err(e @ PickError::NotRendered(_)) => {
            Err(CliError::usage(e.to_string(), Some("run `pixbatch run` first; `pixbatch status` shows each take")))
        }
        Err(e) => Err(CliError::usage(
            e.to_string(),
            Some("give the shot id and the variant as `plan` or `status` shows them, e.g. seed=3"),
        )),
    }
}

/// `export`: the picked takes in storyboard order, and the timelines asked for.
pub fn export(
    path: &Path,
    to: &Path,
    allow_missing: bool,
    first_done: bool,
    timeline: &[timeline::Format],
    flags: &ExpandFlags,
) -> Result<i32, CliError> {
    let (loaded, expansion) = load_and_expand(path, flags)?;
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
    if !timeline.is_empty() {
        let title = loaded.manifest.name.clone().unwrap_or_else(|| stem(path));
        let cut = timeline::build(to, &title, &report.exported).map_err(export::ExportError::from)?;
        for file in timeline::write(&cut, timeline).map_err(export::ExportError::from)? {
            eprintln!(
                "wrote {} ({} clip(s), {} frames at {} fps)",
                file.display(),
                cut.clips.len(),
                cut.frames(),
                cut.rate
            );
        }
    }
    Ok(exit::OK)
}

/// A manifest's file name without its extension: a timeline's title when it has no `name`.
fn stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "pixbatch".to_owned())
}

/// `review`: the contact sheet, written or served.
pub fn review(path: &Path, write_static: bool, no_open: bool, port: u16, flags: &ExpandFlags) -> Result<i32, CliError> {
    let (loaded, expansion) = load_and_expand(path, flags)?;
    let name = loaded.manifest.name.clone();
    if write_static {
        // As the served page does: before the first run, the sheet shows every take not yet rendered.
        std::fs::create_dir_all(&expansion.output_dir)
            .map_err(|e| CliError::setup(format!("cannot write review.html: {e}"), None))?;
        let ledger = Ledger::load(&expansion.output_dir)?;
        let picks = Picks::load(&expansion.output_dir)?;
        sheet::write(&expansion, &ledger, &picks, name.as_deref())
            .map_err(|e| CliError::setup(format!("cannot write review.html: {e}"), None))?;
        println!("{}", expansion.output_dir.join(sheet::REVIEW_HTML).display());
        return Ok(exit::OK);
    }
    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
            CliError::setup(
                format!("cannot listen on 127.0.0.1:{port}: {e}"),
                Some("pick another --port, or 0 for any"),
            )
        })?;
        // Expanded again for every request, quietly (the warnings were printed once above):
        // a pick of a generated ref changes the keys of the jobs that use it.
        drop(expansion);
        let (manifest, options, selection) = (
            path.to_path_buf(),
            crate::plan::ExpandOptions { max_jobs: flags.max_jobs, region: flags.region },
            flags.selection(),
        );
        let reload: crate::review::server::Reload = Box::new(move || {
            let loaded = crate::manifest::load(&manifest).map_err(|d| d.render(false))?;
            let mut expansion = crate::plan::expand(&loaded, &options).map_err(|d| d.render(false))?;
            selection.apply(&mut expansion)?;
            Ok(expansion)
        });
        let server = crate::review::server::start_reloading(listener, reload, name)
            .map_err(|e| CliError::setup(format!("cannot serve the review: {e}"), None))?;
        let url = server.url();
        eprintln!("reviewing at {url} (Ctrl-C stops)");
        if !no_open {
            let opener = if cfg!(target_os = "macos") { "open" } else { "xdg-open" };
            if std::process::Command::new(opener).arg(&url).spawn().is_err() {
                eprintln!("could not start a browser ({opener}); open {url} yourself");
            }
        }
        let _ = tokio::signal::ctrl_c().await;
        server.stop();
        Ok(exit::OK)
    })
}
