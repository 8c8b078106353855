//! `results.csv` and `results.json`: one row per job, rewritten atomically (temp file in the
//! same folder, fsync, rename) at the end of every run and on interrupt.

use std::io::Write as _;
use std::path::Path;

use serde::Serialize;

use super::{Record, decide, verify_file};
use crate::catalog;
use crate::key::JobKey;
use crate::plan::{Job, round_cents};

/// The `format` of `results.json`.
pub const RESULTS_FORMAT: &str = "pixbatch.results/1";

/// One row of `results.csv` / `results.json`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ResultRow {
    pub key: JobKey,
    pub shot: String,
    pub variant: String,
    pub model: String,
    pub size: String,
    pub duration: u32,
    pub seed: Option<i64>,
    /// done, failed, in_flight, new, lost, orphaned…
    pub state: String,
    pub task_id: Option<String>,
    pub attempts: u32,
    pub submitted_at: Option<String>,
    pub finished_at: Option<String>,
    pub output: String,
    pub bytes: Option<u64>,
    pub sha256: Option<String>,
    pub billed_seconds: Option<f64>,
    pub cost_cny: Option<f64>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// The state word for a record, as `status` and the results files show it.
pub fn state_word(record: Option<&Record>) -> &'static str {
    use super::Phase;
    match record.map(|r| r.phase) {
        None | Some(Phase::New) => "new",
        Some(Phase::Intent) => "submitting",
        Some(Phase::InFlight) => "in_flight",
        Some(Phase::Succeeded) => "succeeded",
        Some(Phase::Downloaded) => "done",
        Some(Phase::Failed) => "failed",
        Some(Phase::Canceled) => "canceled",
        Some(Phase::Expired) => "expired",
        Some(Phase::Ambiguous) => "ambiguous",
    }
}

/// Billed cost of a record at the catalog's prices.
pub fn billed_cost(record: &Record) -> Option<f64> {
    let secs = record.billed_seconds()?;
    let spec = catalog::lookup(&record.meta.model)?;
    let tier = spec.tier_of(&record.meta.size)?;
    Some(round_cents(spec.price_per_second(tier, record.meta.audio) * secs))
}

impl ResultRow {
    /// The row of a manifest job.
    pub fn for_job(job: &Job, record: Option<&Record>) -> ResultRow {
        let mut row = ResultRow::from_record(record, state_word(record));
        row.key = job.key.clone();
        row.shot = job.shot.clone();
        row.variant = job.variant.clone();
        row.model = job.model.clone();
        row.size = job.size.clone();
        row.duration = job.duration;
        row.seed = job.seed;
        // Where the video really is: a renamed shot whose file could not be moved keeps its old path.
        row.output = record.and_then(|r| r.path.clone()).unwrap_or_else(|| job.output.display().to_string());
        row.cost_cny = match (row.billed_seconds, job.price_per_second) {
            (Some(secs), Some(p)) => Some(round_cents(secs * p)),
            _ => row.cost_cny,
        };
        row
    }

    /// The row of a ledger job that has left the manifest.
    pub fn orphan(record: &Record) -> ResultRow {
        let mut row = ResultRow::from_record(Some(record), "orphaned");
        row.key = record.key.clone();
        row.shot = record.meta.shot.clone();
        row.variant = record.meta.variant.clone();
        row.model = record.meta.model.clone();
        row.size = record.meta.size.clone();
        row.duration = record.meta.duration;
        row.seed = record.meta.seed;
        row.output = record.path.clone().unwrap_or_else(|| record.meta.output.clone());
        row
    }

    fn from_record(record: Option<&Record>, state: &str) -> ResultRow {
        ResultRow {
            key: JobKey::default(),
            shot: String::new(),
            variant: String::new(),
            model: String::new(),
            size: String::new(),
            duration: 0,
            seed: None,
            state: state.to_owned(),
            task_id: record.and_then(|r| r.task_id.clone()),
            attempts: record.map_or(0, |r| r.attempts),
            submitted_at: record.and_then(|r| r.submitted_at).map(|t| t.to_string()),
            finished_at: record.and_then(|r| r.finished_at).map(|t| t.to_string()),
            output: String::new(),
            bytes: record.and_then(|r| r.bytes),
            sha256: record.and_then(|r| r.sha256.clone()),
            billed_seconds: record.and_then(Record::billed_seconds),
            cost_cny: record.and_then(billed_cost),
            error_code: record.and_then(|r| r.error_code.clone()),
            error_message: record.and_then(|r| r.error_message.clone()),
        }
    }
}

/// Builds every row: the manifest's jobs in order, then the orphans.
///
/// `others` are the manifest's jobs left out of this command (`--shard`, `--only`): they get no
/// row, and are not orphans.
pub fn rows(jobs: &[Job], others: &[Job], ledger: &super::Ledger) -> Vec<ResultRow> {
    let mut out: Vec<ResultRow> = jobs.iter().map(|j| ResultRow::for_job(j, ledger.records.get(&j.key))).collect();
    out.extend(ledger.orphans(jobs.iter().chain(others).map(|j| &j.key)).into_iter().map(ResultRow::orphan));
    out
}

/// Writes `results.csv` and `results.json` into `output_dir`, each atomically.
pub fn write(output_dir: &Path, manifest_name: Option<&str>, rows: &[ResultRow]) -> std::io::Result<()> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    for row in rows {
        csv.serialize(row).map_err(std::io::Error::other)?;
    }
    let csv = csv.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?;
    write_atomic(&output_dir.join("results.csv"), &csv)?;
    let doc = serde_json::json!({
        "format": RESULTS_FORMAT,
        "name": manifest_name,
        "written_at": jiff::Timestamp::now().to_string(),
        "jobs": rows,
    });
    let mut json = serde_json::to_vec_pretty(&doc).map_err(std::io::Error::other)?;
    json.push(b'\n');
    write_atomic(&output_dir.join("results.json"), &json)
}

/// Temp file in the same folder, fsync, rename: readers see the old file or the new one.
/// The name every temporary file pixbatch makes starts with (partial downloads, atomic writes,
/// the writability probe), so that a run can remove what a killed one left.
pub const TEMP_PREFIX: &str = ".pixbatch-";

pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(TEMP_PREFIX).suffix(".tmp").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    set_readable(tmp.as_file())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The decision for every job (re-hashing downloaded files), shared by `plan` and `status`.
pub fn decisions(jobs: &[Job], ledger: &super::Ledger, output_dir: &Path, retry_failed: bool) -> Vec<super::Decision> {
    let now = jiff::Timestamp::now();
    jobs.iter().map(|j| decide(ledger.records.get(&j.key), retry_failed, now, |r| verify_file(output_dir, r))).collect()
}

/// A JUnit XML report: one test case per job (class = shot, name = variant), failures with the
/// API's code and message, jobs not done (queued, budget, in flight) as skipped.
pub fn junit(suite: &str, rows: &[ResultRow]) -> String {
    fn esc(s: &str) -> String {
        s.chars()
            .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
            .map(|c| match c {
                '&' => "&amp;".to_owned(),
                '<' => "&lt;".to_owned(),
                '>' => "&gt;".to_owned(),
                '"' => "&quot;".to_owned(),
                '\'' => "&apos;".to_owned(),
                c => c.to_string(),
            })
            .collect()
    }
    let rows: Vec<&ResultRow> = rows.iter().filter(|r| r.state != "orphaned").collect();
    let failures = rows.iter().filter(|r| matches!(r.state.as_str(), "failed" | "expired" | "canceled")).count();
    let skipped =
        rows.iter().filter(|r| !matches!(r.state.as_str(), "done" | "failed" | "expired" | "canceled")).count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n<testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">\n",
        esc(suite),
        rows.len()
    );
    for r in rows {
        let name = if r.variant.is_empty() { "default" } else { &r.variant };
        out.push_str(&format!("  <testcase classname=\"{}\" name=\"{}\"", esc(&r.shot), esc(name)));
        match r.state.as_str() {
            "done" => out.push_str("/>\n"),
            "failed" | "expired" | "canceled" => {
                let code = r.error_code.as_deref().unwrap_or(&r.state);
                out.push_str(&format!(
                    ">\n    <failure type=\"{}\" message=\"{}\">{}</failure>\n  </testcase>\n",
                    esc(code),
                    esc(r.error_message.as_deref().unwrap_or("")),
                    esc(&format!("key {} task {}", r.key, r.task_id.as_deref().unwrap_or("-")))
                ));
            }
            other => out.push_str(&format!(">\n    <skipped message=\"{}\"/>\n  </testcase>\n", esc(other))),
        }
    }
    out.push_str("</testsuite>\n</testsuites>\n");
    out
}

/// Gives a finished file the usual `rw-r--r--` permissions.
pub fn set_readable(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o644))
}
