//! Command-line flags → library calls → printed results. No logic a library user would need:
//! `args` holds the clap types (defaults from the library), `errors` the one error type with
//! its exit code, `output` where text goes; each command has its own file.

mod args;
mod errors;
mod fake_cmd;
mod inspect;
mod output;
mod progress;
mod review_cmd;
mod run_cmd;

use clap::Parser;

pub use args::{Cli, Command, ExpandFlags, FakeServerArgs, Format, LedgerCommand, RunArgs};
pub use errors::CliError;

use crate::exit;

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
    let result = match cli.command {
        Command::Validate { manifests, expand } => inspect::validate(&manifests, &expand),
        Command::Plan { manifest, format, expand } => inspect::plan(&manifest, format, &expand),
        Command::Status { manifest, format, expand } => inspect::status(&manifest, format, &expand),
        Command::Spend { manifests, by, since, check, format, expand } => {
            inspect::spend(&manifests, by, since.map(|h| h.0), check, format, &expand)
        }
        Command::Models { format } => {
            let text = match format {
                args::ModelsFormat::Table => crate::views::models::table() + &crate::views::image_models::table(),
                args::ModelsFormat::Json => crate::views::models::json(),
                args::ModelsFormat::Markdown => {
                    crate::views::models::markdown() + "\n" + &crate::views::image_models::markdown()
                }
            };
            output::write_stdout(text.as_bytes()).map(|()| exit::OK)
        }
        Command::Schema { report } => {
            let schema = if report { crate::schema::report_schema() } else { crate::schema::manifest_schema() };
            output::write_stdout(schema.as_bytes()).map(|()| exit::OK)
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "pixbatch", &mut out);
            output::write_stdout(&out).map(|()| exit::OK)
        }
        Command::Manpage => {
            let mut out = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut out)
                .map_err(CliError::Stdout)
                .and_then(|()| output::write_stdout(&out))
                .map(|()| exit::OK)
        }
        Command::FakeServer(args) => fake_cmd::fake_server(&args).map(|()| exit::OK),
        Command::Run(args) => run_cmd::run(&args),
        Command::Cancel { manifest, expand } => run_cmd::cancel(&manifest, &expand),
        Command::Pick { manifest, shot, variant, clear, expand } => {
            review_cmd::pick(&manifest, &shot, variant.as_deref(), clear, &expand)
        }
        Command::Review { manifest, write_static, no_open, port, expand } => {
            review_cmd::review(&manifest, write_static, no_open, port, &expand)
        }
        Command::Export { manifest, to, allow_missing, first_done, timeline, expand } => {
            let timeline: Vec<_> = timeline.into_iter().map(Into::into).collect();
            review_cmd::export(&manifest, &to, allow_missing, first_done, &timeline, &expand)
        }
        Command::Ledger(LedgerCommand::Merge { into, sources }) => run_cmd::merge(&into, &sources),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprint!("{}", e.render());
            e.exit_code()
        }
    }
}
