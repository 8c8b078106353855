//! What the next run does with the jobs a run could not finish: the closing hint of `run`.
//! Read from the ledger as the run left it, through the same [`decide`](crate::ledger::decide)
//! as `status`, so the hint never promises what `--retry-failed` does not do.

use std::path::Path;

use super::results::decisions;
use crate::api::TaskStatus;
use crate::ledger::{Asked, Decision, Ledger};
use crate::plan::Job;

/// One line per kind of unfinished job, each with its remedy; empty when every job is done.
pub fn next_steps(jobs: &[Job], ledger: &Ledger, output_dir: &Path) -> Vec<String> {
    let (mut retry, mut asked_again, mut polled_again, mut exists, mut download, mut doubt, mut submit) =
        (0, 0, 0, 0, 0, 0, 0);
    for (job, decision) in jobs.iter().zip(decisions(jobs, ledger, output_dir, Asked::default())) {
        match decision {
            Decision::Done | Decision::Waiting => {}
            // Exactly what `--retry-failed` turns into `new` (see `decide`).
            Decision::Failed | Decision::Lost | Decision::Ambiguous => retry += 1,
            Decision::Resume => {
                let unknown = ledger.records.get(&job.key).is_some_and(|r| r.status == Some(TaskStatus::Unknown));
                if unknown { asked_again += 1 } else { polled_again += 1 }
            }
            Decision::Exists => exists += 1,
            Decision::Download => download += 1,
            Decision::Reconcile => doubt += 1,
            Decision::New => submit += 1,
        }
    }
    let mut lines = Vec::new();
    let mut say = |n: usize, text: &str| {
        if n > 0 {
            lines.push(format!("{n} {} {text}", if n == 1 { "job" } else { "jobs" }));
        }
    };
    say(retry, "failed: `pixbatch run --retry-failed` resubmits (paying again)");
    say(
        asked_again,
        "kept, not resubmitted (TaskNotFound): the next run asks for the task again; a task lives at the endpoint that created it",
    );
    say(polled_again, "still on the service (Timeout): the next run polls again, not resubmitted");
    say(
        exists,
        "with a file the ledger did not write (OutputExists, OutputChanged): kept; `pixbatch run --overwrite` renders again",
    );
    say(download, "not downloaded: the next run downloads again while the URL lives");
    say(doubt, "in doubt: the next run looks again whether the create made a task");
    say(submit, "not rendered: the next run submits again");
    lines
}
