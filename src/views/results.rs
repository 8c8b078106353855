//! `results.csv` and `results.json`: one row per job, rewritten atomically (temp file in the
//! same folder, fsync, rename) at the end of every run and on interrupt.

use std::path::Path;

use serde::Serialize;

use crate::catalog::round_cents;
use crate::files::write_atomic;
use crate::key::JobKey;
use crate::ledger::{Asked, Decision, Ledger, Phase, Record, check_output, decide};
use crate::plan::Job;

/// The `format` of `results.json`.
pub const RESULTS_FORMAT: &str = "pixbatch.results/1";
/// The results files' names in the output folder.
pub const RESULTS_CSV: &str = "results.csv";
pub const RESULTS_JSON: &str = "results.json";

/// Where a job stands in `results.csv`/`results.json` and the `--json` report: the ledger's
/// phase in words, or `orphaned` for a ledger job that left the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowState {
    /// Never submitted.
    New,
    /// A create call whose outcome is not known yet.
    Submitting,
    InFlight,
    /// The task succeeded; the video is not downloaded yet.
    Succeeded,
    /// The video is in place.
    Done,
    Failed,
    Canceled,
    /// The task or its video URL expired before the video was saved.
    Expired,
    /// Tasks that may be its own could not be told apart; held for the user.
    Ambiguous,
    /// In the ledger, no longer in the manifest.
    Orphaned,
    /// It uses a generated ref with no pick yet: not sent.
    Waiting,
}

impl RowState {
    /// The state of a job with this record (none: never submitted).
    pub fn of(record: Option<&Record>) -> RowState {
        match record.map(|r| r.phase) {
            None | Some(Phase::New) => RowState::New,
            Some(Phase::Intent) => RowState::Submitting,
            Some(Phase::InFlight) => RowState::InFlight,
            Some(Phase::Succeeded) => RowState::Succeeded,
            Some(Phase::Downloaded) => RowState::Done,
            Some(Phase::Failed) => RowState::Failed,
            Some(Phase::Canceled) => RowState::Canceled,
            Some(Phase::Expired) => RowState::Expired,
            Some(Phase::Ambiguous) => RowState::Ambiguous,
        }
    }

    /// The word the files print.
    pub fn word(self) -> &'static str {
        match self {
            RowState::New => "new",
            RowState::Submitting => "submitting",
            RowState::InFlight => "in_flight",
            RowState::Succeeded => "succeeded",
            RowState::Done => "done",
            RowState::Failed => "failed",
            RowState::Canceled => "canceled",
            RowState::Expired => "expired",
            RowState::Ambiguous => "ambiguous",
            RowState::Orphaned => "orphaned",
            RowState::Waiting => "waiting",
        }
    }
}

/// One row of `results.csv` / `results.json` (`S` = [`RowState`]) or of `status`
/// (`S` = [`super::status::StatusState`]).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[schemars(rename = "ResultRow")]
pub struct ResultRow<S = RowState> {
    pub key: JobKey,
    pub shot: String,
    pub variant: String,
    pub model: String,
    pub size: String,
    pub duration: u32,
    pub seed: Option<i64>,
    pub state: S,
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
    /// The take a person picked for its shot (`pixbatch pick`, `pixbatch review`).
    pub picked: bool,
}

/// What a record's task was billed, as recorded when it finished (a later price change does
/// not rewrite it).
pub fn billed_cost(record: &Record) -> Option<f64> {
    record.billed.as_ref().map(|b| round_cents(b.cny))
}

impl ResultRow {
    /// The row of a manifest job.
    pub fn for_job(job: &Job, record: Option<&Record>) -> ResultRow {
        let state = if job.waiting.is_empty() { RowState::of(record) } else { RowState::Waiting };
        let mut row = ResultRow::from_record(record, state);
        row.key = job.key.clone();
        row.shot = job.shot.clone();
        row.variant = job.variant.clone();
        row.model = job.model.clone();
        row.size = job.size.clone();
        row.duration = job.duration;
        row.seed = job.seed;
        // Where the video really is: a renamed shot whose file could not be moved keeps its old path.
        row.output = record.and_then(|r| r.path.clone()).unwrap_or_else(|| job.output.display().to_string());
        row
    }

    /// The row of a ledger job that has left the manifest.
    pub fn orphan(record: &Record) -> ResultRow {
        let mut row = ResultRow::from_record(Some(record), RowState::Orphaned);
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

    fn from_record(record: Option<&Record>, state: RowState) -> ResultRow {
        ResultRow {
            key: JobKey::default(),
            shot: String::new(),
            variant: String::new(),
            model: String::new(),
            size: String::new(),
            duration: 0,
            seed: None,
            state,
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
            picked: false,
        }
    }
}

impl<S> ResultRow<S> {
    /// The same row in another state vocabulary.
    pub fn with_state<T>(self, state: T) -> ResultRow<T> {
        ResultRow {
            key: self.key,
            shot: self.shot,
            variant: self.variant,
            model: self.model,
            size: self.size,
            duration: self.duration,
            seed: self.seed,
            state,
            task_id: self.task_id,
            attempts: self.attempts,
            submitted_at: self.submitted_at,
            finished_at: self.finished_at,
            output: self.output,
            bytes: self.bytes,
            sha256: self.sha256,
            billed_seconds: self.billed_seconds,
            cost_cny: self.cost_cny,
            error_code: self.error_code,
            error_message: self.error_message,
            picked: self.picked,
        }
    }
}

/// Builds every row: `jobs` in order, then the orphans (ledger jobs in neither `jobs` nor
/// `others`). `others` are the manifest's jobs left out of this command (`--shard`, `--only`):
/// they get no row, and are not orphans.
pub fn rows<'a, J, O>(jobs: J, others: O, ledger: &Ledger) -> Vec<ResultRow>
where
    J: IntoIterator<Item = &'a Job>,
    J::IntoIter: Clone,
    O: IntoIterator<Item = &'a Job>,
{
    let jobs = jobs.into_iter();
    let mut out: Vec<ResultRow> = jobs.clone().map(|j| ResultRow::for_job(j, ledger.records.get(&j.key))).collect();
    out.extend(ledger.orphans(jobs.chain(others).map(|j| &j.key)).into_iter().map(ResultRow::orphan));
    out
}

/// `results.json`.
#[derive(Debug, Serialize)]
pub struct ResultsDoc<'a, S: Serialize> {
    pub format: &'static str,
    pub name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub written_at: Option<String>,
    pub jobs: &'a [ResultRow<S>],
}

/// Pretty JSON with a trailing newline.
pub fn to_json<T: Serialize>(doc: &T) -> std::io::Result<Vec<u8>> {
    let mut json = serde_json::to_vec_pretty(doc).map_err(std::io::Error::other)?;
    json.push(b'\n');
    Ok(json)
}

/// Writes `results.csv` and `results.json` into `output_dir`, each atomically.
pub fn write(output_dir: &Path, manifest_name: Option<&str>, rows: &[ResultRow]) -> std::io::Result<()> {
    write_atomic(&output_dir.join(RESULTS_CSV), &super::to_csv(rows)?)?;
    let doc = ResultsDoc {
        format: RESULTS_FORMAT,
        name: manifest_name,
        written_at: Some(jiff::Timestamp::now().to_string()),
        jobs: rows,
    };
    write_atomic(&output_dir.join(RESULTS_JSON), &to_json(&doc)?)
}

/// What a run would do with every job (re-hashing downloaded files, looking for files the
/// ledger does not know), shared by `plan` and `status`.
pub fn decisions(jobs: &[Job], ledger: &Ledger, output_dir: &Path, asked: Asked) -> Vec<Decision> {
    let now = jiff::Timestamp::now();
    let known = ledger.known_paths();
    jobs.iter()
        .map(|j| {
            decide(ledger.records.get(&j.key), asked, now, |r| {
                check_output(output_dir, &j.output, r, &known, &ledger.stamps)
            })
        })
        .collect()
}
