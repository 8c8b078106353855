//! A journal written by an earlier pixbatch (checked in as a fixture) still reads: every line
//! parses and writes back byte for byte, and it replays to the same records and decisions.
//!
//! The fixture is a real run against the fake (failures, lost create answers, an upload) plus
//! hand-written lines for the events a short run does not produce, in the format of 2026-12-02.

use std::path::Path;

use pixbatch::ledger::{Asked, FileCheck, Ledger, decide, journal};

const FIXTURE: &str = "tests/fixtures/journal-2026-12-02.jsonl";

#[test]
fn every_line_of_an_old_journal_reads_and_writes_back_unchanged() {
    let text = std::fs::read_to_string(FIXTURE).expect("fixture");
    let entries = journal::read_entries(Path::new(FIXTURE)).expect("fixture parses");
    assert_eq!(entries.len(), text.lines().count(), "no line may be dropped");
    for (line, entry) in text.lines().zip(&entries) {
        let again = serde_json::to_string(entry).expect("serializes");
        assert_eq!(again, line, "an entry must be written as it was read");
    }
}

#[test]
fn an_old_journal_replays_to_the_same_records_and_decisions() {
    let entries = journal::read_entries(Path::new(FIXTURE)).expect("fixture parses");
    let ledger = Ledger::from_entries(&entries);
    let mut records: Vec<_> = ledger.records.values().collect();
    records.sort_by(|a, b| a.key.cmp(&b.key));
    // A fixed "now" after every entry: URLs older than 24 h are dead.
    let now: jiff::Timestamp = "2026-12-03T00:00:00Z".parse().expect("time");
    let mut out = String::new();
    for r in records {
        let decision = decide(Some(r), Asked::default(), now, |_| FileCheck::Verified);
        let retry = decide(Some(r), Asked { retry_failed: true, overwrite: false }, now, |_| FileCheck::Missing);
        out.push_str(&format!("decision {decision:?} (retry-failed, file gone: {retry:?})\n"));
        out.push_str(&serde_json::to_string_pretty(r).expect("record serializes"));
        out.push('\n');
    }
    out.push_str(&format!(
        "task ids: {}\nruns: {}\nuploads: {}\n",
        ledger.task_ids.len(),
        ledger.runs.len(),
        ledger.uploads.len()
    ));
    insta::assert_snapshot!(out);
}
