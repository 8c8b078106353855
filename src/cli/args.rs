//! The command line's arguments: clap types only, with defaults taken from the library's
//! `Default`s (written once). Nothing here decides anything.

use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::duration::Human;
use crate::fake::{DurationRange, FakeConfig, Render};
use crate::plan::{self, ExpandOptions};
use crate::run::RunOptions;

static RUN: LazyLock<RunOptions> = LazyLock::new(RunOptions::default);
static FAKE: LazyLock<FakeConfig> = LazyLock::new(FakeConfig::default);
static RENDER: LazyLock<Render> = LazyLock::new(Render::default);

/// Render a YAML manifest of AI videos on DashScope: PixVerse, Wan, HappyHorse, Kling and Vidu.
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
  3    a run-fatal API error (key, billing, quota) stopped the run, or a model
       the account cannot use failed its jobs
  4    the budget (--max-cost, run.budget) stopped submitting, or spend --check
       found more spent than the amount
  5    an endpoint stayed unreachable for --unreachable-grace (jobs kept)
  6    jobs wait for a pick of a generated ref (pixbatch review, pixbatch pick)
  130  interrupted";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests without any network call; every problem with its location.
    #[command(
        after_help = "Examples:\n  pixbatch validate storyboard.yaml\n  pixbatch validate shots/*.yaml --max-jobs 50000"
    )]
    Validate {
        /// Manifest files.
        #[arg(required = true)]
        manifests: Vec<PathBuf>,
        #[command(flatten)]
        expand: ExpandFlags,
    },
    /// Show the jobs a manifest expands to, and their estimated cost.
    #[command(
        after_help = "Examples:\n  pixbatch plan storyboard.yaml\n  pixbatch plan storyboard.yaml --format json | jq .summary\n  pixbatch plan storyboard.yaml --only 'intro*' --format csv"
    )]
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
    #[command(
        after_help = "Examples:\n  pixbatch run storyboard.yaml --fake\n  pixbatch run storyboard.yaml --max-cost 20 --junit junit.xml\n  pixbatch run storyboard.yaml --shard 2/4 --retry-failed"
    )]
    Run(RunArgs),
    /// The ledger against the manifest: every job's state, and jobs that left the manifest.
    #[command(
        after_help = "Examples:\n  pixbatch status storyboard.yaml\n  pixbatch status storyboard.yaml --format csv > status.csv"
    )]
    Status {
        /// Manifest file.
        manifest: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[command(flatten)]
        expand: ExpandFlags,
    },
    /// Mark the take to keep for a shot (or --clear it); `status` and results.csv show picks.
    #[command(
        after_help = "Examples:\n  pixbatch pick storyboard.yaml intro seed=3\n  pixbatch pick storyboard.yaml finale      # a shot without variants\n  pixbatch pick storyboard.yaml intro --clear\n  pixbatch pick stages.yaml @hero seed=2      # a generated ref's candidate"
    )]
    Pick {
        /// Manifest file.
        manifest: PathBuf,
        /// The shot's id, or `@ref` for a generated ref.
        shot: String,
        /// The take's variant as `plan` and `status` show it (`seed=3`, `seed=3,size=1280*720`);
        /// omit it for a shot without variants. A ref's candidate: its variant, with `#N` when
        /// its task made several (`seed=2#3`).
        variant: Option<String>,
        /// Remove the shot's pick.
        #[arg(long, conflicts_with = "variant")]
        clear: bool,
        #[command(flatten)]
        expand: ExpandFlags,
    },
    /// Look at every take: the contact sheet served on 127.0.0.1 with a pick button per take
    /// and per candidate image of a generated ref (opens the browser unless --no-open), or
    /// written to OUTPUT/review.html with --static. Keys: arrows move, p picks, c compares two
    /// takes side by side.
    #[command(
        after_help = "Examples:\n  pixbatch review storyboard.yaml\n  pixbatch review storyboard.yaml --no-open --port 8765\n  pixbatch review storyboard.yaml --static"
    )]
    Review {
        /// Manifest file.
        manifest: PathBuf,
        /// Write OUTPUT/review.html (every run writes it too) instead of serving.
        #[arg(long = "static")]
        write_static: bool,
        /// Do not open a browser; print the address.
        #[arg(long)]
        no_open: bool,
        /// Port on 127.0.0.1 (0: any free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        #[command(flatten)]
        expand: ExpandFlags,
    },
    /// Write the picked take of every shot into a folder in storyboard order, with a
    /// concat.txt for `ffmpeg -f concat` and an export.json.
    #[command(
        after_help = "Examples:\n  pixbatch export storyboard.yaml --to cut/\n  pixbatch export storyboard.yaml --to cut/ --first-done\n  pixbatch export storyboard.yaml --to cut/ --timeline otio,edl,fcpxml\n  ffmpeg -f concat -safe 0 -i cut/concat.txt -c copy cut.mp4"
    )]
    Export {
        /// Manifest file.
        manifest: PathBuf,
        /// The folder to write into (created if needed).
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
        /// Leave out shots without a pick (they are listed), instead of refusing.
        #[arg(long, conflicts_with = "first_done")]
        allow_missing: bool,
        /// For a shot without a pick, take its first done take in manifest order.
        #[arg(long)]
        first_done: bool,
        /// Also write the cut as an editor's timeline: DIR/timeline.otio, .edl, .fcpxml (repeat
        /// the flag or separate with commas).
        #[arg(long, value_enum, value_delimiter = ',', value_name = "FORMAT")]
        timeline: Vec<TimelineFormat>,
        #[command(flatten)]
        expand: ExpandFlags,
    },
    /// Ledger tools.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Cancel this manifest's tasks that are still PENDING on the service.
    #[command(
        after_help = "Examples:\n  pixbatch cancel storyboard.yaml\n  pixbatch cancel storyboard.yaml --only 'fight*'"
    )]
    Cancel {
        /// Manifest file.
        manifest: PathBuf,
        #[command(flatten)]
        expand: ExpandFlags,
    },
    /// What the manifests have cost: billed, committed (on the service, at the estimate), what
    /// the rest would cost, and the drift between estimates and bills, grouped by run, day,
    /// shot, model or stage. Over several manifests, and over shard ledgers merged with
    /// `ledger merge`.
    #[command(after_help = "Examples:
  pixbatch spend storyboard.yaml
  pixbatch spend storyboard.yaml --by day --since 7d
  pixbatch spend a.yaml b.yaml --by model --format csv > spend.csv
  pixbatch spend storyboard.yaml --check 500      # CI: exit 4 past ¥500")]
    Spend {
        /// Manifest files.
        #[arg(required = true)]
        manifests: Vec<PathBuf>,
        /// Group by run, day, shot, model or stage.
        #[arg(long, value_enum, default_value_t = crate::views::spend::By::Model)]
        by: crate::views::spend::By,
        /// Only tasks sent or finished within this long (`7d`, `24h`).
        #[arg(long, value_name = "DURATION")]
        since: Option<Human>,
        /// Exit 4 when billed + committed is over this many CNY (a CI gate).
        #[arg(long, value_name = "AMOUNT")]
        check: Option<f64>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[command(flatten)]
        expand: ExpandFlags,
    },
    /// List every model pixbatch knows: kind, shape, durations, pool, prices, regions, and
    /// the facts the documentation leaves unconfirmed.
    #[command(
        after_help = "Examples:\n  pixbatch models\n  pixbatch models --format json | jq '.[] | select(.pool == \"vidu\") | .id'"
    )]
    Models {
        #[arg(long, value_enum, default_value_t = ModelsFormat::Table)]
        format: ModelsFormat,
    },
    /// Print the manifest's JSON Schema (or, with --report, the `run --json` report's).
    #[command(
        after_help = "Examples:\n  pixbatch schema > pixbatch.schema.json\n  pixbatch schema --report > report.schema.json"
    )]
    Schema {
        /// The schema of `pixbatch run --json` instead.
        #[arg(long)]
        report: bool,
    },
    /// Print a shell completion script: `pixbatch completions bash > ~/.local/share/bash-completion/completions/pixbatch`.
    #[command(
        after_help = "Examples:\n  pixbatch completions bash > ~/.local/share/bash-completion/completions/pixbatch\n  pixbatch completions zsh > ~/.zfunc/_pixbatch\n  pixbatch completions fish > ~/.config/fish/completions/pixbatch.fish"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `pixbatch manpage | man -l -`.
    #[command(
        after_help = "Examples:\n  pixbatch manpage | man -l -\n  pixbatch manpage > ~/.local/share/man/man1/pixbatch.1"
    )]
    Manpage,
    /// Run the fake DashScope server (for demos and tests; no key or network needed).
    #[command(
        after_help = "Examples:\n  pixbatch fake-server --addr 127.0.0.1:8090\n  pixbatch fake-server --render-base 10s --neighbours 2 --lost-create-answer 0.1"
    )]
    FakeServer(FakeServerArgs),
}

/// `pixbatch ledger …`
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Combine shard runs' output folders (ledger and videos) into one; a job in several keeps
    /// its most advanced state and is reported as a conflict.
    #[command(after_help = "Examples:\n  pixbatch ledger merge --into renders shard-1/renders shard-2/renders")]
    Merge {
        /// The output folder to merge into (its own ledger takes part).
        #[arg(long)]
        into: PathBuf,
        /// Output folders of the shard runs.
        #[arg(required = true)]
        sources: Vec<PathBuf>,
    },
}

/// The stage `--until` stops after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Until {
    /// The generated refs (every depth of the ref graph).
    Refs,
}

/// Flags of `pixbatch run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Manifest file.
    pub manifest: PathBuf,
    /// Run against a fake DashScope started in this process (no key, no network).
    #[arg(long)]
    pub fake: bool,
    /// Stop after a stage: `refs` renders only the generated refs' candidates, so they can be
    /// reviewed and picked before any video is paid for.
    #[arg(long, value_name = "STAGE")]
    pub until: Option<Until>,
    /// Running tasks per pool, the same for every pool (default: the service's own cap per pool,
    /// 5 for most, 10 for Kling, 2 for Wan 2.2/2.1; overrides `run.concurrency`).
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
    /// Model Studio workspace id, for a region's workspace domain (or DASHSCOPE_WORKSPACE_ID).
    #[arg(long, value_name = "ID")]
    pub workspace: Option<String>,
    /// Submission order within each model family: `longest-first` (default, or `run.order`:
    /// the jobs predicted to render longest go first, so the run does not end waiting on one
    /// long shot) or `manifest`.
    #[arg(long, value_name = "ORDER")]
    pub order: Option<crate::manifest::Order>,
    /// How long to keep asking about a task that its endpoint does not know although it is
    /// less than 24 h old (another endpoint's task, or the service not caught up) before this
    /// run leaves it for the next; such a task is never written off or resubmitted.
    #[arg(long, default_value_t = Human(RUN.unknown_grace))]
    pub unknown_grace: Human,
    /// How long an endpoint may stay unreachable (refused, DNS, TLS, connect timeout) before
    /// the run stops waiting for it: its tasks are kept for the next run, nothing is written
    /// off or resubmitted; exit 5 (a run whose own endpoint is down stops creating).
    #[arg(long, default_value_t = Human(RUN.unreachable_grace))]
    pub unreachable_grace: Human,
    /// Stop waiting for a task after this long (it is not resubmitted; a rerun polls it).
    #[arg(long, default_value_t = Human(RUN.task_timeout))]
    pub task_timeout: Human,
    /// Queries per second for polling (DashScope allows 20 per account).
    #[arg(long, default_value_t = RUN.query_per_second)]
    pub query_rps: u32,
    /// Creates per second per model (default: each model's own limit, 5 for most and 2 for
    /// Wan 2.2/2.1, in any one-second window).
    #[arg(long)]
    pub submit_rps: Option<u32>,
    /// Never poll one task more often than this.
    #[arg(long, default_value_t = Human(RUN.poll.min_interval))]
    pub poll_min: Human,
    /// Never leave a task unpolled longer than this.
    #[arg(long, default_value_t = Human(RUN.poll.max_interval))]
    pub poll_max: Human,
    /// Every task of the `--fake` server runs this long, e.g. `2s:5s`, whatever it renders
    /// (without it, run times grow with the video like the service's; see --fake-render-base).
    #[arg(long, value_parser = DurationRange::parse, requires = "fake")]
    pub fake_run_time: Option<DurationRange>,
    /// How long the `--fake` server takes for a 5 s 720P silent c1 video; longer and larger
    /// videos take proportionally longer.
    #[arg(long, default_value_t = Human(RENDER.base), requires = "fake")]
    pub fake_render_base: Human,
    /// Every task of the `--fake` server stays PENDING at least this long before it runs (the
    /// service's scheduling; long enough to cancel it), on top of its run time; `0s` for none.
    #[arg(long, default_value_t = Human(FAKE.pending_min), requires = "fake")]
    pub fake_pending_min: Human,
    #[command(flatten)]
    pub expand: ExpandFlags,
}

/// Flags of `pixbatch fake-server`; every knob of the fake's config.
#[derive(Debug, clap::Args)]
pub struct FakeServerArgs {
    /// Address to listen on (loopback only: it accepts a made-up key).
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub addr: std::net::SocketAddr,
    /// The one API key accepted; others get 401 InvalidApiKey.
    #[arg(long, default_value_t = FAKE.api_key.clone())]
    pub api_key: String,
    /// Running tasks per pool, the same for every pool (default: the service's own caps,
    /// 5 per PixVerse version, Vidu, Wan and HappyHorse model; 10 for Kling; 2 for Wan 2.2/2.1).
    #[arg(long)]
    pub concurrency: Option<u32>,
    /// Reject creates past the concurrency with 429 instead of queueing them.
    #[arg(long)]
    pub overflow: bool,
    /// Every task runs this long whatever it renders: `2s`, or `3s:6s` for a seeded uniform
    /// draw (without it, run times grow with the video like the service's; see --render-base).
    #[arg(long, value_parser = DurationRange::parse)]
    pub run_time: Option<DurationRange>,
    /// How long a 5 s 720P silent c1 video takes; v5.6 takes 1.3×, 1080P 2.2×, 360P 0.45×,
    /// audio 1.2×, each within ±10 % (seeded by the request).
    #[arg(long, default_value_t = Human(RENDER.base))]
    pub render_base: Human,
    /// Every task stays PENDING at least this long before it runs, even with a slot free (the
    /// service's scheduling; long enough to cancel it), on top of its run time; `0s` for none.
    #[arg(long, default_value_t = Human(FAKE.pending_min))]
    pub pending_min: Human,
    /// Creates per second per model (0 = unlimited).
    #[arg(long, default_value_t = FAKE.submit_rps)]
    pub submit_rps: u32,
    /// Queries/lists/cancels per second, shared (0 = unlimited).
    #[arg(long, default_value_t = FAKE.query_rps)]
    pub query_rps: u32,
    /// After this a task id answers UNKNOWN.
    #[arg(long, default_value_t = Human(FAKE.task_ttl))]
    pub ttl: Human,
    /// Seed for task durations and faults.
    #[arg(long, default_value_t = FAKE.seed)]
    pub seed: u64,
    /// Probability of a 429 on any call.
    #[arg(long, default_value_t = FAKE.faults.throttle)]
    pub throttle: f64,
    /// Probability of a 500 InternalError on any call.
    #[arg(long, default_value_t = FAKE.faults.server_error)]
    pub server_error: f64,
    /// Probability of closing the connection before doing anything.
    #[arg(long, default_value_t = FAKE.faults.drop_before)]
    pub drop_before: f64,
    /// Probability of doing the work, then closing the connection without answering.
    #[arg(long, default_value_t = FAKE.faults.drop_after)]
    pub drop_after: f64,
    /// Probability that a create call that made its task loses its answer on the way back.
    #[arg(long, default_value_t = FAKE.faults.lost_create_answer)]
    pub lost_create_answer: f64,
    /// Probability that a task ends FAILED with a code.
    #[arg(long, default_value_t = FAKE.faults.task_failed)]
    pub task_failed: f64,
    /// Probability that a task ends FAILED without code or message.
    #[arg(long, default_value_t = FAKE.faults.task_failed_silent)]
    pub task_failed_silent: f64,
    /// Probability that an image candidate fails the output inspection (DataInspectionFailed);
    /// a task whose every candidate fails ends FAILED.
    #[arg(long, default_value_t = FAKE.faults.image_fail_rate)]
    pub image_fail_rate: f64,
    /// Probability that a download is cut in half.
    #[arg(long, default_value_t = FAKE.faults.truncated_download)]
    pub truncated_download: f64,
    /// Probability that an answer is delayed by --slow-delay.
    #[arg(long, default_value_t = FAKE.faults.slow)]
    pub slow: f64,
    /// How late a slowed answer comes (see --slow), e.g. 2s or 500ms.
    #[arg(long, default_value_t = Human(crate::fake::config::SLOW_DELAY))]
    pub slow_delay: Human,
    /// Tasks per second that other clients of the account create (they take slots and show in
    /// the list API).
    #[arg(long, default_value_t = FAKE.neighbours.per_second)]
    pub neighbours: f64,
    /// Share of the neighbours' tasks that copy one of your recent requests with one change.
    #[arg(long, default_value_t = crate::fake::config::NEIGHBOURS_SIMILAR)]
    pub neighbours_similar: f64,
    /// Result URLs stop working this long after their task ended (403 "Request has expired").
    #[arg(long)]
    pub url_ttl: Option<Human>,
    /// Error answers quote the request's Authorization header, as some gateways do.
    #[arg(long)]
    pub echo_auth: bool,
    /// Stop accepting connections this long after starting (connects are refused, open ones
    /// closed: a server gone), e.g. `30s`; see --offline-for.
    #[arg(long, value_name = "DURATION")]
    pub offline_after: Option<Human>,
    /// How long the outage of --offline-after lasts (default: for good), e.g. `1m`.
    #[arg(long, value_name = "DURATION", requires = "offline_after")]
    pub offline_for: Option<Human>,
}

impl FakeServerArgs {
    /// The fake's config from the flags.
    pub fn config(&self) -> crate::fake::FakeConfig {
        crate::fake::FakeConfig {
            api_key: self.api_key.clone(),
            concurrency: self.concurrency,
            overflow: self.overflow,
            run_time: self.run_time.unwrap_or(FAKE.run_time),
            render: Render::unless_flat(self.run_time, self.render_base.0),
            pending_min: self.pending_min.0,
            submit_rps: self.submit_rps,
            query_rps: self.query_rps,
            task_ttl: self.ttl.0,
            seed: self.seed,
            faults: crate::fake::Faults {
                throttle: self.throttle,
                server_error: self.server_error,
                drop_before: self.drop_before,
                drop_after: self.drop_after,
                lost_create_answer: self.lost_create_answer,
                task_failed: self.task_failed,
                task_failed_silent: self.task_failed_silent,
                image_fail_rate: self.image_fail_rate,
                truncated_download: self.truncated_download,
                slow: self.slow,
                slow_delay: self.slow_delay.0,
            },
            neighbours: crate::fake::Neighbours {
                per_second: self.neighbours,
                similar: self.neighbours_similar,
                echo_seed: false,
            },
            url_ttl: self.url_ttl.map(Duration::from),
            echo_auth: self.echo_auth,
            refuse_creates: None,
            outage: self
                .offline_after
                .map(|after| crate::fake::Outage { after: after.0, lasting: self.offline_for.map(|h| h.0) }),
            clock_ahead: jiff::SignedDuration::ZERO,
        }
    }
}

/// Flags that shape expansion and pick the jobs a command works on.
#[derive(Debug, clap::Args)]
pub struct ExpandFlags {
    /// Refuse manifests that expand to more jobs than this.
    #[arg(long, default_value_t = ExpandOptions::default().max_jobs)]
    pub max_jobs: usize,
    /// Only this shard of the jobs, `K/N` (split by job key: N runners cover every job once).
    #[arg(long, value_parser = crate::plan::parse_shard, value_name = "K/N")]
    pub shard: Option<(u32, u32)>,
    /// Only shots whose id matches this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub only: Vec<String>,
    /// Region to create tasks in: `cn-beijing` (default, or `run.region`) or `ap-southeast-1`
    /// (needs --workspace); it decides which models are offered and their prices.
    /// DASHSCOPE_BASE_URL overrides where requests go.
    #[arg(long)]
    pub region: Option<crate::manifest::Region>,
}

impl ExpandFlags {
    /// The jobs these flags select.
    pub fn selection(&self) -> plan::Selection {
        plan::Selection { shard: self.shard, only: self.only.clone() }
    }
}

/// Output formats of `models`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModelsFormat {
    Table,
    Json,
    /// The table in docs/models.md.
    Markdown,
}

/// Timeline formats of `export --timeline`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TimelineFormat {
    /// OpenTimelineIO JSON.
    Otio,
    /// CMX3600 edit decision list, video only.
    Edl,
    /// Final Cut Pro XML 1.9 (Final Cut Pro, Resolve).
    Fcpxml,
}

impl From<TimelineFormat> for crate::review::timeline::Format {
    fn from(format: TimelineFormat) -> Self {
        match format {
            TimelineFormat::Otio => Self::Otio,
            TimelineFormat::Edl => Self::Edl,
            TimelineFormat::Fcpxml => Self::Fcpxml,
        }
    }
}

/// Output formats of `plan` and `status`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}
