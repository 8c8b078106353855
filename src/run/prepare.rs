//! Before the loop: what to do with every selected job, decided against the ledger.

use super::Note;
use super::coordinator::Coordinator;
use super::events::JobState;
use crate::ledger::{self, Decision, Event};

impl Coordinator<'_, '_> {
    /// Decides what to do with every selected job. Unanswered creates of earlier runs become
    /// jobs in doubt, which keep their slot until the evidence decides them.
    pub(super) fn prepare(&mut self) {
        let now = jiff::Timestamp::now();
        // Files the ledger knows, whichever job: anything else at a job's path is not ours.
        let known_files = self.ledger.known_paths();
        let asked = ledger::Asked { retry_failed: self.options.retry_failed, overwrite: self.options.overwrite };
        let (mut unknown_files, mut changed_files) = (0, 0);
        let mut reconcile = Vec::new();
        for idx in 0..self.jobs.len() {
            let job = &self.jobs[idx];
            let record = self.ledger.records.get(&job.key).cloned();
            let record = record.as_ref();
            let decision = ledger::decide(record, asked, now, |r| {
                ledger::check_output(&self.output_dir, &job.output, r, &known_files, &self.ledger.stamps)
            });
            let (code, message) = record
                .map(|r| (r.error_code.clone().unwrap_or_default(), r.error_message.clone().unwrap_or_default()))
                .unwrap_or_default();
            if matches!(decision, Decision::Lost) && record.is_some_and(|r| r.phase == ledger::Phase::Downloaded) {
                self.record(idx, Event::OutputLost { reason: "the downloaded file is missing or changed".into() });
            }
            match decision {
                Decision::Done => {
                    self.relocate(idx);
                    self.states[idx] = JobState::Skipped;
                    self.counts.skipped += 1;
                }
                Decision::Exists if record.is_none() => {
                    unknown_files += 1;
                    self.fail(
                        idx,
                        "OutputExists",
                        &format!(
                            "{} exists but the ledger does not know it (was .pixbatch deleted?): not rendered again, which would pay again and replace it; move it away, or pass --overwrite",
                            job.output.display()
                        ),
                    );
                }
                Decision::Exists => {
                    changed_files += 1;
                    self.fail(
                        idx,
                        "OutputChanged",
                        &format!(
                            "{} is not the video the ledger recorded (edited since?): kept, not replaced; move it away, or pass --overwrite",
                            job.output.display()
                        ),
                    );
                }
                Decision::New => self.enqueue_back(idx),
                // A waiting job is never among a run's jobs (`Expansion::waiting`).
                Decision::Waiting => {}
                Decision::Resume => self.resume(idx),
                Decision::Download => self.start_download(idx),
                Decision::Reconcile => reconcile.push(idx),
                Decision::Failed => {
                    let code = if code.is_empty() { "Failed".to_owned() } else { code };
                    self.fail(
                        idx,
                        &code,
                        &format!("{message} (failed in an earlier run; --retry-failed resubmits it)"),
                    );
                }
                Decision::Ambiguous => self.fail(
                    idx,
                    "Ambiguous",
                    &format!("{message} (held: --retry-failed renders it again, paying again)"),
                ),
                Decision::Lost => self.fail(
                    idx,
                    "OutputLost",
                    "the video is missing and its URL has expired; --retry-failed renders it again",
                ),
            }
        }
        self.doubts_from_ledger(&reconcile, now);
        if unknown_files > 0 {
            self.reporter.note(&Note::Info {
                message: format!(
                    "{unknown_files} output file(s) exist that the ledger does not know (was .pixbatch deleted?); they are kept and those jobs not rendered: --overwrite renders them again"
                ),
            });
        }
        if changed_files > 0 {
            self.reporter.note(&Note::Info {
                message: format!(
                    "{changed_files} output file(s) changed since they were downloaded; they are kept: --overwrite replaces them"
                ),
            });
        }
        self.arrange_queues();
        self.commit();
        self.report();
    }

    /// A job whose video is in place under an old name (its shot was renamed): the file moves
    /// to the job's path, unless something else is there, and the ledger says so.
    pub(super) fn relocate(&mut self, idx: usize) {
        let job = &self.jobs[idx];
        let Some(record) = self.ledger.records.get(&job.key) else { return };
        let Some(old) = record.path.clone() else { return };
        let new = job.output.display().to_string();
        if old == new {
            return;
        }
        let (from, to) = (self.output_dir.join(&old), self.output_dir.join(&job.output));
        let message = if to.exists() {
            format!("{}: the video stays at {old}: {new} is taken by another file", job.name())
        } else {
            let moved = to.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| std::fs::rename(&from, &to));
            match moved {
                Ok(()) => {
                    self.record(idx, Event::Moved { from: old.clone(), to: new.clone() });
                    format!("{}: renamed, so its video moved from {old} to {new}", self.jobs[idx].name())
                }
                Err(e) => format!("{}: the video stays at {old}: cannot move it to {new}: {e}", self.jobs[idx].name()),
            }
        };
        self.reporter.note(&Note::Info { message });
    }
}
