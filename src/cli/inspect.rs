//! The commands that read and print: `validate`, `plan` and `status`. No network.

use std::path::{Path, PathBuf};

use super::args::{ExpandFlags, Format};
use super::errors::CliError;
use super::output::{print_diagnostics, stdout_result, write_stdout};
use crate::exit;
use crate::ledger::Ledger;
use crate::manifest::{self, Loaded};
use crate::plan::{self, ExpandOptions, Expansion};
use crate::views::{self, Plan, status};

/// Loads and expands one manifest, printing its problems (and warnings) as they are found.
pub fn load_and_expand(path: &Path, flags: &ExpandFlags) -> Result<(Loaded, Expansion), CliError> {
    let loaded = manifest::load(path).map_err(|diags| refused(path, &diags))?;
    match plan::expand(&loaded, &ExpandOptions { max_jobs: flags.max_jobs, region: flags.region }) {
        Ok(mut expansion) => {
            flags
                .selection()
                .apply(&mut expansion)
                .map_err(|e| CliError::usage(e, Some("--only takes a glob over shot ids, e.g. --only 'intro*'")))?;
            if !expansion.warnings.items.is_empty() {
                print_diagnostics(&expansion.warnings);
            }
            Ok((loaded, expansion))
        }
        Err(diags) => Err(refused(path, &diags)),
    }
}

/// Prints a manifest's problems; the error says how many, and that nothing was sent.
fn refused(path: &Path, diags: &manifest::Diagnostics) -> CliError {
    print_diagnostics(diags);
    let n = diags.error_count() + diags.suppressed;
    let summary = format!(
        "{}: {n} problem{} found; nothing was sent",
        manifest::diag::display_path(path),
        if n == 1 { "" } else { "s" }
    );
    CliError::Manifest { summary }
}

/// `validate`: every manifest, every problem; exit 2 when any has one.
pub fn validate(paths: &[PathBuf], flags: &ExpandFlags) -> Result<i32, CliError> {
    let mut code = exit::OK;
    for path in paths {
        match load_and_expand(path, flags) {
            Ok((_, expansion)) => {
                println!("{}: ok, {} jobs", manifest::diag::display_path(path), expansion.jobs.len());
            }
            Err(e) => {
                eprint!("{}", e.render());
                code = code.max(e.exit_code());
            }
        }
    }
    Ok(code)
}

/// `plan`: the jobs, what a run would do with each, and the cost.
pub fn plan(path: &Path, format: Format, flags: &ExpandFlags) -> Result<i32, CliError> {
    let (loaded, expansion) = load_and_expand(path, flags)?;
    let ledger = Ledger::load(&expansion.output_dir)?;
    let mut plan = Plan::new(path, loaded.manifest.name.as_deref(), &expansion, &ledger);
    plan.region = flags.region.or(loaded.manifest.run.region).unwrap_or_default();
    plan.budget = loaded.manifest.run.budget.map(|b| (b, crate::views::spend::spent(&ledger)));
    match format {
        Format::Table => write_stdout(plan.to_table().as_bytes())?,
        Format::Json => stdout_result(plan.write_json(std::io::stdout().lock()))?,
        Format::Csv => write_stdout(&plan.to_csv().map_err(CliError::Stdout)?)?,
    }
    Ok(exit::OK)
}

/// `status`: the ledger against the manifest.
pub fn status(path: &Path, format: Format, flags: &ExpandFlags) -> Result<i32, CliError> {
    let (loaded, expansion) = load_and_expand(path, flags)?;
    let ledger = Ledger::load(&expansion.output_dir)?;
    let mut rows = status::rows(&expansion, &ledger);
    let picks = crate::review::Picks::load(&expansion.output_dir).map_err(CliError::Picks)?;
    crate::review::picks::mark(&mut rows, &picks);
    let bytes = match format {
        Format::Json => status::to_json(loaded.manifest.name.as_deref(), &rows),
        Format::Csv => views::to_csv(&rows),
        Format::Table => Ok(status::to_table(&rows).into_bytes()),
    };
    write_stdout(&bytes.map_err(CliError::Stdout)?)?;
    Ok(exit::OK)
}

/// `spend`: the money of one or more manifests' ledgers.
pub fn spend(
    paths: &[PathBuf],
    by: crate::views::spend::By,
    since: Option<std::time::Duration>,
    check: Option<f64>,
    format: Format,
    flags: &ExpandFlags,
) -> Result<i32, CliError> {
    use crate::views::spend;
    if check.is_some_and(|c| !(c.is_finite() && c >= 0.0)) {
        return Err(CliError::usage("--check must be a non-negative amount of CNY", None));
    }
    let since = match since {
        Some(d) => {
            let span = jiff::SignedDuration::try_from(d).map_err(|e| CliError::usage(e.to_string(), None))?;
            Some(jiff::Timestamp::now().checked_sub(span).map_err(|e| CliError::usage(e.to_string(), None))?)
        }
        None => None,
    };
    let mut loaded = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for path in paths {
        let (manifest, expansion) = load_and_expand(path, flags)?;
        // Two manifests writing one output folder share one ledger: counted once.
        if !seen.insert(expansion.output_dir.clone()) {
            continue;
        }
        let ledger = Ledger::load(&expansion.output_dir)?;
        loaded.push((path.display().to_string(), manifest.manifest.run.budget, expansion, ledger));
    }
    let sources: Vec<spend::Source<'_>> = loaded
        .iter()
        .map(|(m, budget, expansion, ledger)| spend::Source { manifest: m.clone(), expansion, ledger, budget: *budget })
        .collect();
    let report = spend::report(&sources, by, since);
    let bytes = match format {
        Format::Json => spend::to_json(&report),
        Format::Csv => spend::to_csv(&report),
        Format::Table => Ok(spend::to_table(&report).into_bytes()),
    };
    write_stdout(&bytes.map_err(CliError::Stdout)?)?;
    if let Some(limit) = check
        && report.spent_cny > limit + 1e-9
    {
        eprintln!(
            "error: spent ¥{:.2} (billed ¥{:.2} + committed ¥{:.2}) is over --check ¥{limit:.2}",
            report.spent_cny, report.total.billed_cny, report.total.committed_cny
        );
        return Ok(exit::BUDGET);
    }
    Ok(exit::OK)
}
