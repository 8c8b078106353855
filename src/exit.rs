//! Exit codes, in one place (docs/exit-codes.md lists the same).

/// Everything asked for is done.
pub const OK: i32 = 0;
/// The run finished, but some jobs failed.
pub const JOBS_FAILED: i32 = 1;
/// Bad manifest or bad usage: nothing was sent.
pub const USAGE: i32 = 2;
/// A run-fatal API error (key, billing, quota) stopped the run, or a model the account cannot
/// use failed its jobs (the rest of the run finished).
pub const FATAL_API: i32 = 3;
/// The budget (`--max-cost`) stopped submitting before every job was done.
pub const BUDGET: i32 = 4;
/// An endpoint stayed unreachable for `--unreachable-grace`: its jobs are kept for the next run.
pub const UNREACHABLE: i32 = 5;
/// Everything that could run did, but jobs wait for a person to pick a generated ref's
/// candidate (`pixbatch review`, `pixbatch pick`).
pub const WAITING: i32 = 6;
/// Interrupted (Ctrl-C, SIGTERM).
pub const INTERRUPTED: i32 = 130;
