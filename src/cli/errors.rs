//! One error type for everything a command can fail with, rendered once (`error:` and a
//! `hint:` saying what to do next) with its exit code.

use crate::api::ConfigError;
use crate::exit;
use crate::ledger::LedgerError;

/// Why a command stopped before doing its work.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The manifest has problems, already printed with their locations; `summary` is the line
    /// that closes them.
    #[error("{summary}")]
    Manifest { summary: String },
    /// A flag's value that the library refuses.
    #[error("{message}")]
    Usage { message: String, hint: Option<&'static str> },
    /// The ledger cannot be used (locked, unreadable, unwritable).
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// No usable API configuration (key, base URL).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// This machine cannot do what was asked (start a runtime, listen on a port).
    #[error("{message}")]
    Setup { message: String, hint: Option<&'static str> },
    #[error("cannot write to stdout: {0}")]
    Stdout(std::io::Error),
    #[error(transparent)]
    Picks(#[from] crate::review::PicksError),
    #[error(transparent)]
    Export(#[from] crate::review::export::ExportError),
}

impl CliError {
    pub fn usage(message: impl Into<String>, hint: Option<&'static str>) -> CliError {
        CliError::Usage { message: message.into(), hint }
    }

    pub fn setup(message: impl Into<String>, hint: Option<&'static str>) -> CliError {
        CliError::Setup { message: message.into(), hint }
    }

    /// The process exit code (docs/exit-codes.md). A ledger that cannot be used exits 1,
    /// like failed jobs: the manifest was fine, the run could not be done.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Manifest { .. }
            | CliError::Usage { .. }
            | CliError::Config(_)
            | CliError::Setup { .. }
            | CliError::Stdout(_) => exit::USAGE,
            CliError::Ledger(_) | CliError::Picks(_) | CliError::Export(_) => exit::JOBS_FAILED,
        }
    }

    /// What to do next, when there is something to say.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            CliError::Manifest { .. } | CliError::Stdout(_) => None,
            CliError::Usage { hint, .. } | CliError::Setup { hint, .. } => *hint,
            CliError::Ledger(e) => Some(e.hint()),
            CliError::Config(e) => Some(e.hint()),
            CliError::Picks(e) => Some(e.hint()),
            CliError::Export(e) => Some(e.hint()),
        }
    }

    /// The text for stderr.
    pub fn render(&self) -> String {
        let mut out = match self {
            CliError::Manifest { summary } => format!("{summary}\n"),
            other => format!("error: {other}\n"),
        };
        if let Some(hint) = self.hint() {
            out.push_str(&format!("hint: {hint}\n"));
        }
        out
    }
}
