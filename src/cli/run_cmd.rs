//! `pixbatch run` and `pixbatch status`: flags → options, then printing what happened.

use std::io::IsTerminal;
use std::path::Path;

use super::progress::{Bar, Lines};
use super::{ExpandFlags, Format, RunArgs, load_and_expand, runtime, write_stdout};
use crate::api::{ApiConfig, ApiKey, Client};
use crate::exit;
use crate::fake::{FakeConfig, FakeServer};
use crate::files;
use crate::ledger::Ledger;
use crate::run::{PollConfig, RunInput, RunOptions, RunOutcome, RunSummary, Stop};
use crate::views::{self, junit, results, status};

/// Sets up `tracing` on stderr: info lines without a terminal, warnings only under a bar.
pub fn init_tracing(terminal: bool) {
    let default = if terminal { "warn" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("pixbatch={default},warn")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(terminal)
        .with_target(false)
        .try_init();
}

pub fn run(args: &RunArgs) -> i32 {
    let terminal = std::io::stderr().is_terminal();
    init_tracing(terminal);
    let Some((loaded, expansion)) = load_and_expand(&args.manifest, &args.expand) else {
        return exit::USAGE;
    };
    let section = &loaded.manifest.run;
    let mut options = RunOptions {
        concurrency: section.concurrency.clone(),
        retry_failed: args.retry_failed,
        overwrite: args.overwrite,
        unknown_grace: args.unknown_grace,
        // Jobs in doubt are looked at again as often as a task is polled at the slowest.
        doubt_recheck: args.poll_max.max(args.poll_min).min(RunOptions::default().doubt_recheck),
        submit_per_second: args.submit_rps,
        query_per_second: args.query_rps,
        poll: PollConfig { min_interval: args.poll_min, max_interval: args.poll_max.max(args.poll_min) },
        task_timeout: args.task_timeout,
        cancel_on_interrupt: args.cancel_on_interrupt,
        max_cost: args.max_cost.or(section.max_cost),
        max_failures: if args.fail_fast { Some(1) } else { args.max_failures.map(|n| n.max(1)) },
        ..RunOptions::default()
    };
    if let Some(n) = args.queue_ahead.or(section.queue_ahead) {
        options.queue_ahead = n;
    }
    if options.max_cost.is_some_and(|c| !(c.is_finite() && c >= 0.0)) {
        eprintln!("error: --max-cost must be a non-negative amount of CNY");
        return exit::USAGE;
    }
    if let Some(n) = args.concurrency {
        options.concurrency.clear();
        options.default_concurrency = n.max(1);
    }
    let Some(rt) = runtime() else { return exit::USAGE };
    rt.block_on(async {
        let (client, _fake) = match connect(args).await {
            Ok(pair) => pair,
            Err(code) => return code,
        };
        let interrupt = tokio_util::sync::CancellationToken::new();
        watch_signals(interrupt.clone());
        let input = RunInput { expansion: &expansion, name: loaded.manifest.name.as_deref() };
        let total = expansion.jobs.len();
        let result = if terminal && !args.json {
            let mut bar = Bar::new(total);
            let r = crate::run::run(input, client, &options, &mut bar, interrupt).await;
            bar.finish();
            r
        } else {
            crate::run::run(input, client, &options, &mut Lines::new(), interrupt).await
        };
        match result {
            Ok(RunOutcome { summary, ledger }) => {
                print_summary(&summary, &expansion.output_dir);
                // The rows of the reports: the ledger as the run left it.
                let rows = if args.junit.is_some() || args.json {
                    results::rows(&expansion.jobs, &expansion.unselected, &ledger)
                } else {
                    Vec::new()
                };
                if let Some(path) = &args.junit {
                    let name = loaded.manifest.name.clone().unwrap_or_else(|| args.manifest.display().to_string());
                    if let Err(e) = files::write_atomic(path, junit::junit(&name, &rows).as_bytes()) {
                        eprintln!("error: cannot write {}: {e}", path.display());
                    }
                }
                if args.json {
                    let report = crate::run::Report {
                        format: crate::run::REPORT_FORMAT.to_owned(),
                        manifest: args.manifest.display().to_string(),
                        name: loaded.manifest.name.clone(),
                        exit_code: exit_code(&summary),
                        summary: summary.clone(),
                        jobs: rows,
                    };
                    let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
                    text.push('\n');
                    write_stdout(&text);
                }
                exit_code(&summary)
            }
            Err(e) => {
                eprintln!("error: {e}");
                let crate::run::RunError::Ledger(l) = &e;
                eprintln!("hint: {}", l.hint());
                exit::JOBS_FAILED
            }
        }
    })
}

/// The client: a fake in this process with `--fake`, else DashScope from the environment.
async fn connect(args: &RunArgs) -> Result<(Client, Option<FakeServer>), i32> {
    if args.fake {
        let config = FakeConfig { run_time: args.fake_run_time, ..FakeConfig::default() };
        let fake = FakeServer::start(config).await.map_err(|e| {
            eprintln!("error: cannot start the fake server: {e}");
            exit::USAGE
        })?;
        tracing::info!("using the fake DashScope at {} (nothing is billed)", fake.base_url());
        let client = ApiConfig::new(&fake.base_url(), ApiKey::new("sk-test")).and_then(Client::new).map_err(|e| {
            eprintln!("error: {e}");
            exit::USAGE
        })?;
        return Ok((client, Some(fake)));
    }
    match ApiConfig::from_env().and_then(Client::new) {
        Ok(c) => Ok((c, None)),
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("hint: {}", e.hint());
            Err(exit::USAGE)
        }
    }
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

/// The exit code a summary means.
pub fn exit_code(s: &RunSummary) -> i32 {
    match &s.stop {
        Some(Stop::Fatal { .. }) => exit::FATAL_API,
        Some(Stop::Interrupted) => exit::INTERRUPTED,
        Some(Stop::Budget { .. }) => exit::BUDGET,
        Some(Stop::Disk { .. } | Stop::TooManyFailures { .. }) => exit::JOBS_FAILED,
        None if s.counts.failed > 0 => exit::JOBS_FAILED,
        None => exit::OK,
    }
}

fn print_summary(s: &RunSummary, output_dir: &Path) {
    let c = &s.counts;
    eprintln!(
        "{} of {} jobs done ({} already done), {} failed, {} s of video billed (¥{:.2}), {} submissions, {} queries, {:.1} s",
        c.done + c.skipped,
        c.total,
        c.skipped,
        c.failed,
        s.billed_seconds,
        s.cost_cny,
        s.submissions,
        s.queries,
        s.wall_seconds
    );
    for (code, n) in &s.failed_by_code {
        eprintln!("  failed: {n} × {code}");
    }
    match &s.stop {
        Some(Stop::Fatal { message, hint, .. }) => {
            eprintln!("error: stopped: {message}");
            if let Some(h) = hint {
                eprintln!("hint: {h}");
            }
        }
        Some(Stop::Interrupted) => eprintln!(
            "interrupted: {} tasks still on the service and {} jobs not started; run again to resume",
            s.left_in_flight, s.not_started
        ),
        Some(Stop::Disk { message }) => {
            eprintln!("error: {message}");
            eprintln!("hint: free space or fix permissions, then run again: the ledger is intact up to this point");
        }
        Some(Stop::Budget { skipped }) => eprintln!("budget: {skipped} jobs not submitted (skipped: budget)"),
        Some(Stop::TooManyFailures { failed }) => eprintln!("stopped after {failed} failures"),
        None if c.failed > 0 => eprintln!("hint: see results.csv; `pixbatch run --retry-failed` resubmits failed jobs"),
        None => {}
    }
    eprintln!("results: {}", output_dir.join("results.csv").display());
}

pub fn status(path: &Path, format: Format, flags: &ExpandFlags) -> i32 {
    let Some((loaded, expansion)) = load_and_expand(path, flags) else {
        return exit::USAGE;
    };
    let ledger = match Ledger::load(&expansion.output_dir) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("hint: {}", e.hint());
            return exit::JOBS_FAILED;
        }
    };
    let rows = status::rows(&expansion, &ledger);
    let text = match format {
        Format::Json => status::to_json(loaded.manifest.name.as_deref(), &rows),
        Format::Csv => views::to_csv(&rows),
        Format::Table => Ok(status::to_table(&rows).into_bytes()),
    };
    match text {
        Ok(bytes) => write_stdout(&String::from_utf8_lossy(&bytes)),
        Err(e) => {
            eprintln!("error: cannot render the status: {e}");
            exit::USAGE
        }
    }
}

pub fn cancel(path: &Path, flags: &ExpandFlags) -> i32 {
    init_tracing(std::io::stderr().is_terminal());
    let Some((_, expansion)) = load_and_expand(path, flags) else {
        return exit::USAGE;
    };
    let client = match ApiConfig::from_env().and_then(Client::new) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("hint: {}", e.hint());
            return exit::USAGE;
        }
    };
    let Some(rt) = runtime() else { return exit::USAGE };
    match rt.block_on(crate::run::cancel::cancel_pending(&expansion.output_dir, &expansion.jobs, &client)) {
        Ok(report) => {
            for job in &report.cancelled {
                println!("cancelled {job}");
            }
            for (job, why) in &report.not_cancelled {
                println!("not cancelled {job}: {why}");
            }
            eprintln!("{} cancelled, {} could not be cancelled", report.cancelled.len(), report.not_cancelled.len());
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("hint: {}", e.hint());
            exit::JOBS_FAILED
        }
    }
}
