//! `pixbatch run`, `cancel` and `ledger merge`: the commands that change the ledger. Flags →
//! options, then printing what happened.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::args::{ExpandFlags, RunArgs, Until};
use super::errors::CliError;
use super::inspect::load_and_expand;
use super::output::{init_tracing, runtime, write_stdout};
use super::progress::{Bar, Lines};
use crate::api::{ApiConfig, ApiKey, Client};
use crate::exit;
use crate::fake::{FakeConfig, FakeServer};
use crate::files;
use crate::plan::{Expansion, Stage};
use crate::run::{PollConfig, RunInput, RunOptions, RunOutcome, RunSummary, Stop};
use crate::views::{junit, results};

pub fn run(args: &RunArgs) -> Result<i32, CliError> {
    let terminal = std::io::stderr().is_terminal();
    init_tracing(terminal);
    let (loaded, mut expansion) = load_and_expand(&args.manifest, &args.expand)?;
    let mut options = options(args, &loaded.manifest.run)?;
    let region = args.expand.region.or(loaded.manifest.run.region).unwrap_or_default();
    runtime()?.block_on(async {
        let (client, _fake) = connect(args, region).await?;
        let interrupt = tokio_util::sync::CancellationToken::new();
        watch_signals(interrupt.clone());
        // Stage by stage: what is ready runs; picks that need no person are made; what they
        // made ready runs next. Each pass picks at least one ref, so this ends.
        let mut so_far: Option<RunSummary> = None;
        let (summary, ledger, results_written) = loop {
            if args.until == Some(Until::Refs) {
                let (refs, clips) =
                    std::mem::take(&mut expansion.jobs).into_iter().partition(|j| j.stage != Stage::Clips);
                expansion.jobs = refs;
                expansion.unselected.extend(clips);
            }
            let input = RunInput { expansion: &expansion, name: loaded.manifest.name.as_deref() };
            let RunOutcome { summary, ledger, results_written } = if terminal && !args.json {
                let mut bar = Bar::new(expansion.jobs.len());
                let r = crate::run::run(input, client.clone(), &options, &mut bar, interrupt.clone()).await;
                bar.finish();
                r
            } else {
                crate::run::run(input, client.clone(), &options, &mut Lines::new(), interrupt.clone()).await
            }
            .map_err(|crate::run::RunError::Ledger(e)| CliError::Ledger(e))?;
            // `--max-cost` caps the whole run, every stage together.
            options.max_cost = options.max_cost.map(|c| (c - summary.cost_cny).max(0.0));
            let summary = match so_far.take() {
                Some(before) => before.then(summary),
                None => summary,
            };
            if summary.stop.is_some() || expansion.refs.is_empty() {
                break (summary, ledger, results_written);
            }
            let made = crate::review::ref_picks::auto_pick(&expansion, &ledger)?;
            if made.is_empty() {
                break (summary, ledger, results_written);
            }
            for line in &made {
                eprintln!("{line}");
            }
            so_far = Some(summary);
            expansion = load_and_expand(&args.manifest, &args.expand)?.1;
        };
        let mut summary = summary;
        waiting(&mut summary, &expansion);
        let next = if summary.stop.is_none() && summary.counts.failed > 0 {
            crate::views::next::next_steps(&expansion.jobs, &ledger, &expansion.output_dir)
        } else {
            Vec::new()
        };
        print_summary(&summary, args.fake, &next);
        if results_written {
            eprintln!("results: {}", expansion.output_dir.join("results.csv").display());
        }
        // The rows of the reports: the ledger as the run left it.
        let rows = if args.junit.is_some() || args.json {
            let mut rows =
                results::rows(expansion.jobs.iter().chain(&expansion.waiting), &expansion.unselected, &ledger);
            if let Ok(picks) = crate::review::Picks::load(&expansion.output_dir) {
                crate::review::picks::mark(&mut rows, &picks);
            }
            rows
        } else {
            Vec::new()
        };
        if let Some(path) = &args.junit {
            let name = loaded.manifest.name.clone().unwrap_or_else(|| args.manifest.display().to_string());
            if let Err(e) = files::write_atomic(path, junit::junit(&name, &rows).as_bytes()) {
                eprintln!("error: cannot write {}: {e}", path.display());
            }
        }
        let code = exit_code(&summary);
        if args.json {
            let report = crate::run::Report {
                format: crate::run::REPORT_FORMAT.to_owned(),
                manifest: args.manifest.display().to_string(),
                name: loaded.manifest.name.clone(),
                exit_code: code,
                summary,
                jobs: rows,
            };
            write_stdout(&results::to_json(&report).map_err(CliError::Stdout)?)?;
        }
        Ok(code)
    })
}

/// The run's options: the library's defaults, the manifest's `run:` section, then the flags.
fn options(args: &RunArgs, section: &crate::manifest::RunSection) -> Result<RunOptions, CliError> {
    let mut options = RunOptions::from_section(section);
    let (poll_min, poll_max) = (args.poll_min.0, args.poll_max.0.max(args.poll_min.0));
    options.retry_failed = args.retry_failed;
    options.overwrite = args.overwrite;
    options.unknown_grace = args.unknown_grace.0;
    options.unreachable_grace = args.unreachable_grace.0;
    // Jobs in doubt are looked at again as often as a task is polled at the slowest.
    options.doubt_recheck = poll_max.min(options.doubt_recheck);
    options.submit_per_second = args.submit_rps;
    options.query_per_second = args.query_rps;
    options.poll = PollConfig { min_interval: poll_min, max_interval: poll_max };
    options.task_timeout = args.task_timeout.0;
    options.cancel_on_interrupt = args.cancel_on_interrupt;
    options.max_cost = args.max_cost.or(options.max_cost);
    options.max_failures = if args.fail_fast { Some(1) } else { args.max_failures.map(|n| n.max(1)) };
    if let Some(order) = args.order {
        options.order = order;
    }
    if let Some(n) = args.queue_ahead {
        options.queue_ahead = n;
    }
    if options.max_cost.is_some_and(|c| !(c.is_finite() && c >= 0.0)) {
        return Err(CliError::usage("--max-cost must be a non-negative amount of CNY", None));
    }
    if let Some(n) = args.concurrency {
        options.concurrency.clear();
        options.default_concurrency = Some(n.max(1));
    }
    Ok(options)
}

/// The client: a fake in this process with `--fake`, else DashScope from the environment.
async fn connect(args: &RunArgs, region: crate::manifest::Region) -> Result<(Client, Option<FakeServer>), CliError> {
    if args.fake {
        let defaults = FakeConfig::default();
        let config = FakeConfig {
            run_time: args.fake_run_time.unwrap_or(defaults.run_time),
            render: crate::fake::Render::unless_flat(args.fake_run_time, args.fake_render_base.0),
            pending_min: args.fake_pending_min.0,
            ..defaults
        };
        let key = ApiKey::new(&config.api_key);
        let fake = FakeServer::start(config)
            .await
            .map_err(|e| CliError::setup(format!("cannot start the fake server: {e}"), None))?;
        tracing::info!("using the fake DashScope at {} (nothing is billed)", fake.base_url());
        let client = ApiConfig::new(&fake.base_url(), key).and_then(Client::new)?;
        return Ok((client, Some(fake)));
    }
    let config = ApiConfig::from_env_in(region, args.workspace.as_deref())?;
    tracing::info!("creating tasks at {}", crate::api::describe_endpoint(config.base_url.as_str()));
    Ok((Client::new(config)?, None))
}

/// First Ctrl-C or SIGTERM: stop submitting and wind down. Second: exit at once.
fn watch_signals(token: tokio_util::sync::CancellationToken) {
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let term_recv = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        // A handler that cannot be installed is not a signal: wait for the other one.
        let ctrl_c = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            () = ctrl_c => {}
            () = term_recv => {}
        }
        token.cancel();
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        eprintln!("interrupted twice: exiting now; the next run resumes from the ledger");
        std::process::exit(exit::INTERRUPTED);
    });
}

/// What waits for a person's pick at the end: the jobs (clips, or keyframes made from other
/// refs) and the refs they wait for.
fn waiting(summary: &mut RunSummary, expansion: &Expansion) {
    summary.waiting = expansion.waiting.len();
    summary.waiting_for =
        crate::review::ref_picks::unpicked(expansion).iter().map(|r| format!("@{}", r.name)).collect();
}

/// The exit code a summary means.
pub fn exit_code(s: &RunSummary) -> i32 {
    match &s.stop {
        Some(Stop::Fatal { .. } | Stop::ModelUnavailable { .. }) => exit::FATAL_API,
        Some(Stop::Unreachable { .. }) => exit::UNREACHABLE,
        Some(Stop::Interrupted) => exit::INTERRUPTED,
        Some(Stop::Budget { .. }) => exit::BUDGET,
        Some(Stop::Disk { .. } | Stop::TooManyFailures { .. }) => exit::JOBS_FAILED,
        None if s.counts.failed > 0 => exit::JOBS_FAILED,
        None if !s.waiting_for.is_empty() => exit::WAITING,
        None => exit::OK,
    }
}

/// The end of a run on stderr; `next` says what the next run does with the failed jobs.
fn print_summary(s: &RunSummary, fake: bool, next: &[String]) {
    let c = &s.counts;
    // Against the fake nothing is billed: say what the service would have charged.
    let spend = if fake {
        format!("{} s of video (would cost ¥{:.2} on DashScope; nothing billed: --fake)", s.billed_seconds, s.cost_cny)
    } else {
        format!("{} s of video billed (¥{:.2})", s.billed_seconds, s.cost_cny)
    };
    eprintln!(
        "{} of {} jobs done ({} already done), {} failed, {spend}, {} submissions, {} queries, {:.1} s",
        c.done + c.skipped,
        c.total,
        c.skipped,
        c.failed,
        s.submissions,
        s.queries,
        s.wall_seconds
    );
    for (code, n) in &s.failed_by_code {
        eprintln!("  failed: {n} × {code}");
    }
    let left = left_over(s);
    match &s.stop {
        Some(Stop::Fatal { message, hint, .. }) => {
            eprintln!("error: stopped: {message}{left}");
            if let Some(h) = hint {
                eprintln!("hint: {h}");
            }
        }
        Some(Stop::ModelUnavailable { message, hint, jobs, .. }) => {
            eprintln!("error: {message}: its {jobs} job(s) were not rendered; everything else finished{left}");
            if let Some(h) = hint {
                eprintln!("hint: {h}");
            }
        }
        Some(Stop::Unreachable { endpoint, error, seconds }) => {
            eprintln!("error: stopped: {endpoint} unreachable for {seconds} s ({error}){left}");
            eprintln!(
                "hint: check DASHSCOPE_BASE_URL, the network and any proxy or firewall, then run again: every job is kept, nothing was written off or resubmitted"
            );
        }
        Some(Stop::Interrupted) => eprintln!("interrupted{left}; run again to resume"),
        Some(Stop::Disk { message }) => {
            eprintln!("error: {message}");
            eprintln!("hint: free space or fix permissions, then run again: the ledger is intact up to this point");
        }
        Some(Stop::Budget { skipped, rest_cny, storyboard }) => print_budget(*skipped, *rest_cny, storyboard.as_ref()),
        Some(Stop::TooManyFailures { failed }) => eprintln!("stopped after {failed} failures"),
        None if c.failed > 0 => print_next_steps(next),
        None => {}
    }
    if !s.waiting_for.is_empty() {
        eprintln!("waiting: {} job(s) wait for a pick of {}", s.waiting, s.waiting_for.join(", "));
        eprintln!(
            "hint: look at the candidates and pick: pixbatch review MANIFEST (or pixbatch pick MANIFEST @ref VARIANT)"
        );
    }
}

/// Why the budget stopped the run: for `run.budget`, what was spent before, run by run.
fn print_budget(skipped: usize, rest: f64, storyboard: Option<&crate::run::StoryboardBudget>) {
    eprintln!("budget: {skipped} jobs not submitted (skipped: budget); they would cost ¥{rest:.2}");
    if let Some(b) = storyboard {
        eprintln!(
            "budget: run.budget is ¥{:.2}; earlier runs had spent ¥{:.2} (billed + committed):",
            b.budget_cny, b.spent_before_cny
        );
        for (run, cny) in &b.by_run {
            eprintln!("  run of {run}: ¥{cny:.2}");
        }
        eprintln!("hint: raise run.budget, or see `pixbatch spend MANIFEST --by run`");
    }
}

/// The closing hint: each kind of failure with what brings it back.
fn print_next_steps(next: &[String]) {
    eprintln!("hint: see results.csv");
    for line in next {
        eprintln!("hint: {line}");
    }
}

/// What a stopped run leaves for the next one, in the words the summary and `--json` share:
/// tasks on the service (those with an id), creates whose outcome the next run checks, and jobs
/// not started.
fn left_over(s: &RunSummary) -> String {
    let mut parts = vec![format!("{} task(s) still on the service", s.left_in_flight)];
    if s.creates_in_doubt > 0 {
        parts.push(format!("{} create(s) with no answer (the next run asks the list API)", s.creates_in_doubt));
    }
    parts.push(format!("{} job(s) not started", s.not_started));
    format!(": {}", parts.join(", "))
}

pub fn cancel(path: &Path, flags: &ExpandFlags) -> Result<i32, CliError> {
    init_tracing(std::io::stderr().is_terminal());
    let (_, expansion) = load_and_expand(path, flags)?;
    // Each task is cancelled at the endpoint recorded with it, whatever this one is.
    let client = ApiConfig::from_env().and_then(Client::new)?;
    let report =
        runtime()?.block_on(crate::run::cancel::cancel_pending(&expansion.output_dir, &expansion.jobs, &client))?;
    for job in &report.cancelled {
        println!("cancelled {job}");
    }
    for (job, why) in &report.not_cancelled {
        println!("not cancelled {job}: {why}");
    }
    eprintln!("{} cancelled, {} could not be cancelled", report.cancelled.len(), report.not_cancelled.len());
    Ok(exit::OK)
}

/// `pixbatch ledger merge`.
pub fn merge(into: &Path, sources: &[PathBuf]) -> Result<i32, CliError> {
    let r = crate::ledger::merge::merge(into, sources)?;
    for (key, kept) in &r.conflicts {
        eprintln!("conflict: job {key} is in several ledgers; kept the one from {}", kept.display());
    }
    eprintln!(
        "merged {} jobs into {} ({} videos copied, {} conflicts)",
        r.jobs,
        into.display(),
        r.files_copied,
        r.conflicts.len()
    );
    Ok(exit::OK)
}
