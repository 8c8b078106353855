//! Where the CLI's output goes: diagnostics and logs on stderr, documents on stdout (a closed
//! pipe is not an error), and the async runtime the commands run on.

use std::io::{IsTerminal, Write};

use super::errors::CliError;
use crate::manifest::Diagnostics;

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

pub fn print_diagnostics(diags: &Diagnostics) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    eprint!("{}", diags.render(color));
}

/// Writes a document to stdout; a closed pipe (`| head`) is not an error.
pub fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    stdout_result(out.write_all(bytes).and_then(|()| out.flush()))
}

/// A write to stdout's result: a closed pipe is fine.
pub fn stdout_result(result: std::io::Result<()>) -> Result<(), CliError> {
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Stdout(e)),
        _ => Ok(()),
    }
}

/// The multi-threaded runtime every networked command runs on.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::setup(format!("cannot start the async runtime: {e}"), None))
}
