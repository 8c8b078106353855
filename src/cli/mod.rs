//! Command-line flags → library calls → printed results. No logic a library user would need.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

mod progress;
mod run_cmd;

use crate::exit;
use crate::manifest::{self, Diagnostics};
use crate::plan::{self, ExpandOptions, Expansion};
use crate::views::Plan;

/// Render a YAML manifest of PixVerse reference-to-video jobs on DashScope.
#[derive(Debug, Parser)]
#[command(name = "pixbatch", version, about, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES_HELP: &str = "Exit codes:
  0    all done
  1    some jobs failed
  2    bad manifest or usage (nothing was sent)
  3    a run-fatal API error (key, billing, model access) stopped the run
  4    the budget (--max-cost) stopped submitting
  130  interrupted";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests without any network call; every problem with its location.
    Validate {
        /// Manifest files.
        #[arg(required = true)]
        manifests: Vec<PathBuf>,
        #[command(flatten)]
        expand: ExpandFlags,
    },
    /// Show the jobs a manifest expands to, and their estimated cost.
    Plan {
        /// Manifest file.
        manifest: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[command(flatten)]
        expand: ExpandFlags,
    },
    /// Render every job of a manifest that is not done yet.
    Run(RunArgs),
    /// The ledger against the manifest: every job's state, and jobs that left the manifest.
    Status {
        /// Manifest file.
        manifest: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[command(flatten)]
        expand: ExpandFlags,
    },
    /// Ledger tools.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Cancel this manifest's tasks that are still PENDING on the service.
    Cancel {
        /// Manifest file.
        manifest: PathBuf,
        #[command(flatten)]
        expand: ExpandFlags,
    },
    /// Print the manifest's JSON Schema (or, with --report, the `run --json` report's).
    Schema {
        /// The schema of `pixbatch run --json` instead.
        #[arg(long)]
        report: bool,
    },
    /// Run the fake DashScope server (for demos and tests; no key or network needed).
    FakeServer(FakeServerArgs),
}

/// `pixbatch ledger …`
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Combine shard runs' output folders (ledger and videos) into one; a job in several keeps
    /// its most advanced state and is reported as a conflict.
    Merge {
        /// The output folder to merge into (its own ledger takes part).
        #[arg(long)]
        into: PathBuf,
        /// Output folders of the shard runs.
        #[arg(required = true)]
        sources: Vec<PathBuf>,
    },
}

/// Flags of `pixbatch run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Manifest file.
    pub manifest: PathBuf,
    /// Run against a fake DashScope started in this process (no key, no network).
    #[arg(long)]
    pub fake: bool,
    /// Running tasks per model family (default 5, DashScope's limit; overrides `run.concurrency`).
    #[arg(long)]
    pub concurrency: Option<u32>,
    /// Resubmit jobs that failed in earlier runs.
    #[arg(long)]
    pub retry_failed: bool,
    /// Print one machine-readable JSON report on stdout at the end.
    #[arg(long)]
    pub json: bool,
    /// Stop submitting at the first failed job (same as --max-failures 1); tasks still waiting
    /// on the service are cancelled, running ones are resumed by the next run.
    #[arg(long)]
    pub fail_fast: bool,
    /// Stop submitting once this many jobs have failed; tasks still waiting on the service are
    /// cancelled, running ones are resumed by the next run.
    #[arg(long, value_name = "N")]
    pub max_failures: Option<usize>,
    /// Also write a JUnit XML report here (one test case per job).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// CNY: never submit a job whose estimate would take this run's spend past it
    /// (overrides `run.max_cost`); the jobs left are reported as skipped: budget (exit 4).
    #[arg(long, value_name = "AMOUNT")]
    pub max_cost: Option<f64>,
    /// Render jobs whose output file exists although the ledger does not know it (a deleted
    /// `.pixbatch`, a file put there by hand): the file is replaced and the job paid for again.
    #[arg(long)]
    pub overwrite: bool,
    /// On Ctrl-C, cancel tasks still PENDING on the service.
    #[arg(long)]
    pub cancel_on_interrupt: bool,
    /// Tasks to submit past a family's 5 running ones, so the service starts the next the
    /// moment a slot frees (default 2, or `run.queue_ahead`; 0 turns it off).
    #[arg(long, value_name = "N")]
    pub queue_ahead: Option<u32>,
    /// How long to keep asking about a task that its endpoint does not know although it is
    /// less than 24 h old (another endpoint's task, or the service not caught up) before this
    /// run leaves it for the next; such a task is never written off or resubmitted.
    #[arg(long, default_value = "60s", value_parser = parse_long_duration)]
    pub unknown_grace: std::time::Duration,
    /// Stop waiting for a task after this long (it is not resubmitted; a rerun polls it).
    #[arg(long, default_value = "3h10m", value_parser = parse_long_duration)]
    pub task_timeout: std::time::Duration,
    /// Queries per second for polling (DashScope allows 20 per account).
    #[arg(long, default_value_t = 10)]
    pub query_rps: u32,
    /// Creates per second per model (DashScope allows 5 in any one-second window).
    #[arg(long, default_value_t = 5)]
    pub submit_rps: u32,
    /// Never poll one task more often than this.
    #[arg(long, default_value = "500ms", value_parser = crate::fake::config::parse_duration)]
    pub poll_min: std::time::Duration,
    /// Never leave a task unpolled longer than this.
    #[arg(long, default_value = "15s", value_parser = crate::fake::config::parse_duration)]
    pub poll_max: std::time::Duration,
    /// Task durations of the `--fake` server, e.g. `2s:5s`.
    #[arg(long, default_value = "2s:5s", value_parser = crate::fake::DurationRange::parse, requires = "fake")]
    pub fake_run_time: crate::fake::DurationRange,
    #[command(flatten)]
    pub expand: ExpandFlags,
}

/// `3h10m`, `90s`, `2h` or a plain duration.
fn parse_long_duration(text: &str) -> Result<std::time::Duration, String> {
    let mut total = std::time::Duration::ZERO;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    while !rest.is_empty() {
        let split = rest.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(rest.len());
        let unit_end = rest[split..].find(|c: char| !c.is_ascii_alphabetic()).map_or(rest.len(), |i| split + i);
        total += crate::fake::config::parse_duration(&rest[..unit_end])?;
        rest = &rest[unit_end..];
    }
    Ok(total)
}

/// Flags of `pixbatch fake-server`; every knob of the fake's config.
#[derive(Debug, clap::Args)]
pub struct FakeServerArgs {
    /// Address to listen on (loopback only: it accepts a made-up key).
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub addr: std::net::SocketAddr,
    /// The one API key accepted; others get 401 InvalidApiKey.
    #[arg(long, default_value = "sk-test")]
    pub api_key: String,
    /// Running tasks per model family.
    #[arg(long, default_value_t = 5)]
    pub concurrency: u32,
    /// Reject creates past the concurrency with 429 instead of queueing them.
    #[arg(long)]
    pub overflow: bool,
    /// How long a task runs: `2s`, or `3s:6s` for a seeded uniform draw.
    #[arg(long, default_value = "2s:5s", value_parser = crate::fake::DurationRange::parse)]
    pub run_time: crate::fake::DurationRange,
    /// Creates per second per model (0 = unlimited).
    #[arg(long, default_value_t = 5)]
    pub submit_rps: u32,
    /// Queries/lists/cancels per second, shared (0 = unlimited).
    #[arg(long, default_value_t = 20)]
    pub query_rps: u32,
    /// After this a task id answers UNKNOWN.
    #[arg(long, default_value = "24h", value_parser = crate::fake::config::parse_duration)]
    pub ttl: std::time::Duration,
    /// Seed for task durations and faults.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Probability of a 429 on any call.
    #[arg(long, default_value_t = 0.0)]
    pub throttle: f64,
    /// Probability of a 500 InternalError on any call.
    #[arg(long, default_value_t = 0.0)]
    pub server_error: f64,
    /// Probability of closing the connection before doing anything.
    #[arg(long, default_value_t = 0.0)]
    pub drop_before: f64,
    /// Probability of doing the work, then closing the connection without answering.
    #[arg(long, default_value_t = 0.0)]
    pub drop_after: f64,
    /// Probability that a create call that made its task loses its answer on the way back.
    #[arg(long, default_value_t = 0.0)]
    pub lost_create_answer: f64,
    /// Probability that a task ends FAILED with a code.
    #[arg(long, default_value_t = 0.0)]
    pub task_failed: f64,
    /// Probability that a task ends FAILED without code or message.
    #[arg(long, default_value_t = 0.0)]
    pub task_failed_silent: f64,
    /// Probability that a download is cut in half.
    #[arg(long, default_value_t = 0.0)]
    pub truncated_download: f64,
    /// Probability that an answer is delayed by --slow-delay.
    #[arg(long, default_value_t = 0.0)]
    pub slow: f64,
    #[arg(long, default_value = "2s", value_parser = crate::fake::config::parse_duration)]
    pub slow_delay: std::time::Duration,
    /// Tasks per second that other clients of the account create (they take slots and show in
    /// the list API).
    #[arg(long, default_value_t = 0.0)]
    pub neighbours: f64,
    /// Share of the neighbours' tasks that copy one of your recent requests with one change.
    #[arg(long, default_value_t = 0.3)]
    pub neighbours_similar: f64,
    /// Result URLs stop working this long after their task ended (403 "Request has expired").
    #[arg(long, value_parser = crate::fake::config::parse_duration)]
    pub url_ttl: Option<std::time::Duration>,
    /// Error answers quote the request's Authorization header, as some gateways do.
    #[arg(long)]
    pub echo_auth: bool,
}

impl FakeServerArgs {
    /// The fake's config from the flags.
    pub fn config(&self) -> crate::fake::FakeConfig {
        crate::fake::FakeConfig {
            api_key: self.api_key.clone(),
            concurrency: self.concurrency,
            overflow: self.overflow,
            run_time: self.run_time,
            submit_rps: self.submit_rps,
            query_rps: self.query_rps,
            task_ttl: self.ttl,
            seed: self.seed,
            faults: crate::fake::Faults {
                throttle: self.throttle,
                server_error: self.server_error,
                drop_before: self.drop_before,
                drop_after: self.drop_after,
                lost_create_answer: self.lost_create_answer,
                task_failed: self.task_failed,
                task_failed_silent: self.task_failed_silent,
                truncated_download: self.truncated_download,
                slow: self.slow,
                slow_delay: self.slow_delay,
            },
            neighbours: crate::fake::Neighbours {
                per_second: self.neighbours,
                similar: self.neighbours_similar,
                echo_seed: false,
            },
            url_ttl: self.url_ttl,
            echo_auth: self.echo_auth,
            refuse_creates: None,
        }
    }
}

/// Flags that shape expansion and pick the jobs a command works on.
#[derive(Debug, clap::Args)]
pub struct ExpandFlags {
    /// Refuse manifests that expand to more jobs than this.
    #[arg(long, default_value_t = 10_000)]
    pub max_jobs: usize,
    /// Only this shard of the jobs, `K/N` (split by job key: N runners cover every job once).
    #[arg(long, value_parser = crate::plan::parse_shard, value_name = "K/N")]
    pub shard: Option<(u32, u32)>,
    /// Only shots whose id matches this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub only: Vec<String>,
}

impl ExpandFlags {
    /// The jobs these flags select.
    pub fn selection(&self) -> plan::Selection {
        plan::Selection { shard: self.shard, only: self.only.clone() }
    }
}

/// Output formats of `plan` and `status`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    main_from(std::env::args_os())
}

/// [`main`] with the command line given (the first item is the program's name).
pub fn main_from<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::parse_from(args);
    match cli.command {
        Command::Validate { manifests, expand } => validate(&manifests, &expand),
        Command::Plan { manifest, format, expand } => plan_cmd(&manifest, format, &expand),
        Command::Schema { report } => {
            if report {
                print!("{}", crate::schema::report_schema());
            } else {
                print!("{}", crate::schema::manifest_schema());
            }
            exit::OK
        }
        Command::FakeServer(args) => fake_server(&args),
        Command::Run(args) => run_cmd::run(&args),
        Command::Cancel { manifest, expand } => run_cmd::cancel(&manifest, &expand),
        Command::Ledger(LedgerCommand::Merge { into, sources }) => match crate::ledger::merge::merge(&into, &sources) {
            Ok(r) => {
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
                exit::OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                eprintln!("hint: {}", e.hint());
                exit::JOBS_FAILED
            }
        },
        Command::Status { manifest, format, expand } => run_cmd::status(&manifest, format, &expand),
    }
}

pub(crate) fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            None
        }
    }
}

fn fake_server(args: &FakeServerArgs) -> i32 {
    if !args.addr.ip().is_loopback() {
        eprintln!("error: the fake server listens on loopback only, not {}", args.addr.ip());
        eprintln!("hint: use --addr 127.0.0.1:PORT");
        return exit::USAGE;
    }
    let Some(rt) = runtime() else { return exit::USAGE };
    rt.block_on(async {
        let listener = match tokio::net::TcpListener::bind(args.addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on {}: {e}", args.addr);
                eprintln!("hint: pick another port with --addr 127.0.0.1:PORT");
                return exit::USAGE;
            }
        };
        let shutdown = tokio_util::sync::CancellationToken::new();
        let token = shutdown.clone();
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            token.cancel();
        });
        eprintln!(
            "fake DashScope on http://{} (key {}); stats at /__fake/stats; Ctrl-C stops it",
            args.addr, args.api_key
        );
        eprintln!("  export DASHSCOPE_BASE_URL=http://{} DASHSCOPE_API_KEY={}", args.addr, args.api_key);
        match crate::fake::serve(listener, args.config(), shutdown).await {
            Ok(()) => exit::OK,
            Err(e) => {
                eprintln!("error: {e}");
                exit::USAGE
            }
        }
    })
}

pub(crate) fn print_diagnostics(diags: &Diagnostics) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    eprint!("{}", diags.render(color));
}

/// Loads and expands one manifest, printing its problems; `None` when it has errors.
pub(crate) fn load_and_expand(path: &Path, flags: &ExpandFlags) -> Option<(manifest::Loaded, Expansion)> {
    let loaded = match manifest::load(path) {
        Ok(l) => l,
        Err(diags) => {
            print_diagnostics(&diags);
            return None;
        }
    };
    match plan::expand(&loaded, &ExpandOptions { max_jobs: flags.max_jobs }) {
        Ok(mut expansion) => {
            if let Err(e) = flags.selection().apply(&mut expansion) {
                eprintln!("error: {e}");
                eprintln!("hint: --only takes a glob over shot ids, e.g. --only 'intro*'");
                return None;
            }
            if !expansion.warnings.items.is_empty() {
                print_diagnostics(&expansion.warnings);
            }
            Some((loaded, expansion))
        }
        Err(diags) => {
            print_diagnostics(&diags);
            let n = diags.error_count() + diags.suppressed;
            eprintln!(
                "{}: {n} problem{} found; nothing was sent",
                manifest::diag::display_path(path),
                if n == 1 { "" } else { "s" }
            );
            None
        }
    }
}

fn validate(paths: &[PathBuf], flags: &ExpandFlags) -> i32 {
    let mut code = exit::OK;
    for path in paths {
        match load_and_expand(path, flags) {
            Some((_, expansion)) => {
                println!("{}: ok, {} jobs", manifest::diag::display_path(path), expansion.jobs.len());
            }
            None => code = exit::USAGE,
        }
    }
    code
}

fn plan_cmd(path: &Path, format: Format, flags: &ExpandFlags) -> i32 {
    let Some((loaded, expansion)) = load_and_expand(path, flags) else {
        return exit::USAGE;
    };
    let ledger = match crate::ledger::Ledger::load(&expansion.output_dir) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("hint: {}", e.hint());
            return exit::JOBS_FAILED;
        }
    };
    let plan = Plan::new(path, loaded.manifest.name.as_deref(), &expansion, &ledger);
    let text = match format {
        Format::Table => plan.to_table(),
        Format::Json => return write_result(plan.write_json(std::io::stdout().lock())),
        Format::Csv => match plan.to_csv() {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => {
                eprintln!("error: cannot render the plan: {e}");
                return exit::USAGE;
            }
        },
    };
    write_stdout(&text)
}

/// Writes data to stdout; a closed pipe (`| head`) is not an error.
pub(crate) fn write_stdout(text: &str) -> i32 {
    let mut out = std::io::stdout().lock();
    write_result(out.write_all(text.as_bytes()).and_then(|()| out.flush()))
}

fn write_result(result: std::io::Result<()>) -> i32 {
    match result {
        Ok(()) => exit::OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => exit::OK,
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            exit::USAGE
        }
    }
}
