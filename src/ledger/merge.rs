//! `pixbatch ledger merge`: combine the ledgers (and videos) of shard runs into one folder.
//!
//! Each job's history is taken whole from one source: the one where the job got furthest
//! (downloaded > succeeded > in flight > submitting > failed > new). A job found in several
//! sources is a conflict (shards should not overlap) and is reported.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::journal::{self, Entry, Journal};
use super::{Ledger, LedgerError, Lock, Phase, Record};
use crate::key::JobKey;

/// What a merge did.
#[derive(Debug, Default)]
pub struct MergeReport {
    pub jobs: usize,
    /// Keys found in more than one source, with the source kept.
    pub conflicts: Vec<(JobKey, PathBuf)>,
    pub files_copied: usize,
}

fn rank(phase: Phase) -> u8 {
    match phase {
        Phase::Downloaded => 7,
        Phase::Succeeded => 6,
        Phase::InFlight => 5,
        Phase::Intent | Phase::Ambiguous => 4,
        Phase::Failed => 3,
        Phase::Expired => 2,
        Phase::Canceled => 1,
        Phase::New => 0,
    }
}

/// Merges the ledgers of `sources` (output folders) into `target` (an output folder, whose
/// own ledger, if any, takes part too). Videos are copied next to the merged ledger.
pub fn merge(target: &Path, sources: &[PathBuf]) -> Result<MergeReport, LedgerError> {
    std::fs::create_dir_all(target).map_err(|e| LedgerError::io(target, e))?;
    let _lock = Lock::acquire(target)?;
    let mut all: Vec<PathBuf> = vec![target.to_path_buf()];
    all.extend(sources.iter().cloned());
    // key → (source, its entries for that key, its record)
    let mut best: BTreeMap<JobKey, (PathBuf, Vec<Entry>, Record)> = BTreeMap::new();
    let mut report = MergeReport::default();
    for source in &all {
        let path = Ledger::journal_path(source);
        let entries = journal::read_entries(&path).map_err(|e| LedgerError::io(&path, e))?;
        let mut by_key: BTreeMap<JobKey, Vec<Entry>> = BTreeMap::new();
        for e in entries {
            by_key.entry(e.key.clone()).or_default().push(e);
        }
        for (key, entries) in by_key {
            let mut ledger = Ledger::default();
            for e in &entries {
                ledger.apply(e);
            }
            let Some(record) = ledger.records.remove(&key) else { continue };
            match best.get(&key) {
                // The same history in two places (a shard started from the merged ledger).
                Some((_, same, _)) if *same == entries => {}
                Some((kept, _, other)) => {
                    let keep_new = rank(record.phase) > rank(other.phase);
                    let kept_source = if keep_new { source.clone() } else { kept.clone() };
                    if source != target && kept != target {
                        report.conflicts.push((key.clone(), kept_source));
                    }
                    if keep_new {
                        best.insert(key, (source.clone(), entries, record));
                    }
                }
                None => {
                    best.insert(key, (source.clone(), entries, record));
                }
            }
        }
    }
    // Rewrite the target journal: every kept history, in time order.
    let mut merged: Vec<&Entry> = best.values().flat_map(|(_, entries, _)| entries.iter()).collect();
    merged.sort_by_key(|e| e.at);
    let path = Ledger::journal_path(target);
    let tmp = path.with_extension("jsonl.merging");
    let io = LedgerError::io;
    {
        let _ = std::fs::remove_file(&tmp);
        let mut journal = Journal::open(&tmp).map_err(|e| io(&tmp, e))?;
        for e in merged {
            journal.append(e).map_err(|e| io(&tmp, e))?;
        }
        journal.commit().map_err(|e| io(&tmp, e))?;
    }
    std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
    for (source, _, record) in best.values() {
        // The video, or an image job's every candidate.
        let files =
            record.path.iter().chain(record.files.iter().map(|f| &f.path).filter(|p| Some(*p) != record.path.as_ref()));
        for rel in files.filter(|_| source != target) {
            let (from, to) = (source.join(rel), target.join(rel));
            if from.exists() && !to.exists() {
                if let Some(dir) = to.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
                }
                std::fs::copy(&from, &to).map_err(|e| io(&to, e))?;
                report.files_copied += 1;
            }
        }
    }
    report.jobs = best.len();
    Ok(report)
}
