//! Command-line flags → library calls → printed results. No logic a library user would need.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::exit;
use crate::manifest::{self, Diagnostics};
use crate::plan::{self, ExpandOptions, Expansion, Plan};

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
    /// Print the manifest's JSON Schema.
    Schema,
}

/// Flags that shape expansion.
#[derive(Debug, clap::Args)]
pub struct ExpandFlags {
    /// Refuse manifests that expand to more jobs than this.
    #[arg(long, default_value_t = 10_000)]
    pub max_jobs: usize,
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
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { manifests, expand } => validate(&manifests, &expand),
        Command::Plan { manifest, format, expand } => plan_cmd(&manifest, format, &expand),
        Command::Schema => {
            print!("{}", crate::schema::manifest_schema());
            exit::OK
        }
    }
}

fn print_diagnostics(diags: &Diagnostics) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    eprint!("{}", diags.render(color));
}

/// Loads and expands one manifest, printing its problems; `None` when it has errors.
fn load_and_expand(path: &Path, flags: &ExpandFlags) -> Option<(manifest::Loaded, Expansion)> {
    let loaded = match manifest::load(path) {
        Ok(l) => l,
        Err(diags) => {
            print_diagnostics(&diags);
            return None;
        }
    };
    match plan::expand(&loaded, &ExpandOptions { max_jobs: flags.max_jobs }) {
        Ok(expansion) => {
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
    let plan = Plan { manifest: path, name: loaded.manifest.name.as_deref(), expansion: &expansion };
    let text = match format {
        Format::Table => plan.to_table(),
        Format::Json => return write_result(plan.write_json(std::io::stdout().lock())),
        Format::Csv => plan.to_csv(),
    };
    write_stdout(&text)
}

/// Writes data to stdout; a closed pipe (`| head`) is not an error.
fn write_stdout(text: &str) -> i32 {
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
