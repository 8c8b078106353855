//! The ledger: what happened to every job, kept in the output folder.
//!
//! ```text
//! OUTPUT/
//!   .pixbatch/journal.jsonl   append-only, one event per line, fsynced per group (the truth)
//!   .pixbatch/lock            held while a run uses the ledger; names the holder
//!   results.csv, results.json one row per job, rewritten atomically at the end of every run
//! ```
//!
//! [`Ledger::load`] replays the journal into one [`Record`] per job key; [`decide`] says what
//! a run must do with a job given its record. `plan`, `status` and `run` share both.

pub mod journal;
pub mod merge;
pub mod money;
pub mod stamps;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use journal::{CandidateFile, Entry, Event, JobMeta, Journal};

use crate::api::{ErrorClass, ImageOut, TaskStatus, Usage};
use crate::key::JobKey;

/// The ledger's folder inside the output folder.
pub const LEDGER_DIR: &str = ".pixbatch";
/// The journal's file name.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// The code and message of a task that FAILED without saying why.
pub const TASK_FAILED_CODE: &str = "TaskFailed";
pub const TASK_FAILED_MESSAGE: &str = "the task FAILED without a code or message";

/// Where a job stands according to the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Never submitted.
    New,
    /// An intent without a task id: a create call whose outcome is unknown.
    Intent,
    /// A task exists and has not finished (as far as we know).
    InFlight,
    /// The task succeeded; the video is not downloaded yet.
    Succeeded,
    /// The video is downloaded and was verified when written.
    Downloaded,
    /// The task failed, or the create call was refused.
    Failed,
    Canceled,
    /// The task expired (UNKNOWN after 24 h) before we saw it finish, or its video URL did.
    Expired,
    /// Several tasks may be this job's and nothing tells them apart; held for the user.
    Ambiguous,
}

/// Everything the ledger knows about one job.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub key: JobKey,
    pub meta: JobMeta,
    pub phase: Phase,
    pub attempts: u32,
    pub task_id: Option<String>,
    /// Status last seen.
    pub status: Option<TaskStatus>,
    pub intent_at: Option<jiff::Timestamp>,
    pub submitted_at: Option<jiff::Timestamp>,
    pub finished_at: Option<jiff::Timestamp>,
    pub video_url: Option<String>,
    pub usage: Option<Usage>,
    pub path: Option<String>,
    pub bytes: Option<u64>,
    pub sha256: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// Notes such as reconciliation decisions.
    pub notes: Vec<String>,
    /// Where the task was created (and is queried); `None` in older ledgers.
    pub endpoint: Option<String>,
    /// When an unanswered create call may have made its task: sent, given up.
    pub create_window: Option<(jiff::Timestamp, jiff::Timestamp)>,
    /// The tasks an ambiguous job could not be told apart from.
    pub candidates: Vec<String>,
    /// When the run of its latest intent started.
    pub run: Option<jiff::Timestamp>,
    /// An image task's candidates as the service answered (URL, or a failed item's code).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageOut>,
    /// An image task's downloaded candidates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<CandidateFile>,
    /// What its task was billed, once SUCCEEDED (see [`money`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billed: Option<money::Billed>,
    /// Earlier attempts' money (tasks a retry replaced).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub past: Vec<money::PastAttempt>,
}

impl Record {
    fn new(key: &JobKey) -> Record {
        Record {
            key: key.clone(),
            meta: JobMeta::default(),
            phase: Phase::New,
            attempts: 0,
            task_id: None,
            status: None,
            intent_at: None,
            submitted_at: None,
            finished_at: None,
            video_url: None,
            usage: None,
            path: None,
            bytes: None,
            sha256: None,
            error_code: None,
            error_message: None,
            notes: Vec::new(),
            endpoint: None,
            create_window: None,
            candidates: Vec::new(),
            run: None,
            images: Vec::new(),
            files: Vec::new(),
            billed: None,
            past: Vec::new(),
        }
    }

    /// Applies one journal event.
    pub fn apply(&mut self, at: jiff::Timestamp, event: &Event) {
        match event {
            Event::Intent { attempt, endpoint, run, .. } => {
                self.keep_attempt();
                self.meta = event.intent_meta().unwrap_or_default();
                self.endpoint = endpoint.clone();
                self.run = *run;
                self.create_window = None;
                self.candidates.clear();
                self.attempts = (*attempt).max(self.attempts);
                self.phase = Phase::Intent;
                self.intent_at = Some(at);
                self.task_id = None;
                self.status = None;
                self.error_code = None;
                self.error_message = None;
                self.video_url = None;
                self.usage = None;
                self.finished_at = None;
                self.images.clear();
                self.files.clear();
                self.billed = None;
            }
            Event::Submitted { task_id } => {
                self.task_id = Some(task_id.clone());
                self.submitted_at = Some(at);
                self.status = Some(TaskStatus::Pending);
                self.phase = Phase::InFlight;
            }
            Event::SubmitFailed { code, message, class } => {
                self.error_code = Some(code.clone());
                self.error_message = Some(message.clone());
                // A transient refusal (429) created nothing and failed nothing: the job is new.
                self.phase = if *class == ErrorClass::Transient { Phase::New } else { Phase::Failed };
                self.intent_at = None;
                self.finished_at = Some(at);
            }
            Event::Unanswered { sent_at, failed_at, .. } => {
                self.create_window = Some((*sent_at, *failed_at));
            }
            Event::Ambiguous { candidates, decision } => {
                self.notes.push(decision.clone());
                self.candidates = candidates.clone();
                self.phase = Phase::Ambiguous;
                self.error_code = Some("Ambiguous".into());
                self.error_message = Some(decision.clone());
            }
            Event::NotFound { endpoint, reason } => {
                self.notes.push(format!("{at}: {endpoint}: {reason}"));
                self.status = Some(TaskStatus::Unknown);
            }
            Event::UrlExpired { code, message } => {
                self.notes.push(format!("{at}: the video URL expired before it was downloaded ({code}: {message})"));
                self.video_url = None;
                self.phase = Phase::Expired;
                self.error_code = Some("UrlExpired".into());
                self.error_message = Some(format!("{code}: {message}"));
            }
            Event::Moved { from, to } => {
                self.notes.push(format!("{at}: moved {from} to {to}"));
                self.path = Some(to.clone());
            }
            Event::Reconciled { task_id, decision } => {
                self.notes.push(decision.clone());
                match task_id {
                    Some(id) => {
                        self.task_id = Some(id.clone());
                        self.submitted_at = self.intent_at.or(Some(at));
                        self.phase = Phase::InFlight;
                    }
                    None => {
                        self.phase = Phase::New;
                        self.intent_at = None;
                    }
                }
            }
            Event::Status { status } => {
                self.status = Some(*status);
            }
            Event::Finished { status, code, message, video_url, usage, images, billed } => {
                self.images = images.clone();
                self.billed = billed.clone();
                self.status = Some(*status);
                self.finished_at = Some(at);
                self.error_code = code.clone();
                self.error_message = message.clone();
                self.video_url = video_url.clone();
                self.usage = usage.clone();
                self.phase = match status {
                    TaskStatus::Succeeded => Phase::Succeeded,
                    TaskStatus::Canceled => Phase::Canceled,
                    TaskStatus::Unknown => Phase::Expired,
                    _ => Phase::Failed,
                };
                if self.phase == Phase::Succeeded && self.billed.is_none() {
                    self.billed = money::replayed(self);
                }
                if self.phase == Phase::Failed && self.error_code.is_none() {
                    self.error_code = Some(TASK_FAILED_CODE.into());
                    self.error_message.get_or_insert_with(|| TASK_FAILED_MESSAGE.into());
                }
            }
            Event::Downloaded { path, bytes, sha256, images } => {
                self.files = images.clone();
                self.path = Some(path.clone());
                self.bytes = Some(*bytes);
                self.sha256 = Some(sha256.clone());
                self.phase = Phase::Downloaded;
                self.error_code = None;
                self.error_message = None;
            }
            Event::DownloadFailed { code, message } => {
                self.error_code = Some(code.clone());
                self.error_message = Some(message.clone());
            }
            Event::TimedOut => {
                self.notes.push(format!("{at}: stopped waiting (task timeout); the next run polls it again"));
            }
            Event::OutputLost { reason } => {
                self.notes.push(format!("{at}: {reason}"));
                self.path = None;
                self.bytes = None;
                self.sha256 = None;
                self.files.clear();
                self.phase = if self.video_url.is_some() { Phase::Succeeded } else { Phase::Expired };
            }
            Event::Uploaded { .. } => {}
            Event::Canceled => {
                self.phase = Phase::Canceled;
                self.status = Some(TaskStatus::Canceled);
                self.finished_at = Some(at);
            }
        }
    }

    /// Billed seconds, from the service's usage.
    pub fn billed_seconds(&self) -> Option<f64> {
        self.usage.as_ref().and_then(|u| u.duration)
    }
}

/// The ledger of one output folder, replayed.
#[derive(Debug, Default)]
pub struct Ledger {
    pub records: HashMap<JobKey, Record>,
    /// Every task id the ledger has ever recorded.
    pub task_ids: HashSet<String>,
    /// When each run that wrote an intent started.
    pub runs: std::collections::BTreeSet<jiff::Timestamp>,
    /// (content hash, model) → (`oss://` URL, when uploaded).
    pub uploads: HashMap<(String, String), (String, jiff::Timestamp)>,
    /// How verified files looked, so that an unchanged one is not hashed again.
    pub stamps: stamps::Stamps,
}

/// Temporary files live 48 h; reuse one only while it has this much left.
pub const UPLOAD_REUSE_FOR: jiff::SignedDuration = jiff::SignedDuration::from_hours(40);

/// Why the ledger could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("cannot use the output folder {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("another pixbatch run is using {path} ({holder})")]
    Locked { path: PathBuf, holder: String },
}

impl LedgerError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> LedgerError {
        LedgerError::Io { path: path.to_path_buf(), source }
    }

    /// What to do next.
    pub fn hint(&self) -> &'static str {
        match self {
            LedgerError::Io { .. } => "check that the output folder exists, is writable and has free space",
            LedgerError::Locked { .. } => {
                "wait for that run to finish, or stop it; if it is gone, the lock is released automatically"
            }
        }
    }
}

impl Ledger {
    /// The journal's path for an output folder.
    pub fn journal_path(output_dir: &Path) -> PathBuf {
        output_dir.join(LEDGER_DIR).join(JOURNAL_FILE)
    }

    /// Replays the journal of `output_dir` (an absent journal is an empty ledger).
    pub fn load(output_dir: &Path) -> Result<Ledger, LedgerError> {
        let path = Ledger::journal_path(output_dir);
        let entries = journal::read_entries(&path).map_err(|e| LedgerError::io(&path, e))?;
        let mut ledger = Ledger::from_entries(&entries);
        ledger.stamps = stamps::Stamps::load(&output_dir.join(LEDGER_DIR));
        Ok(ledger)
    }

    /// Replays entries.
    pub fn from_entries(entries: &[Entry]) -> Ledger {
        let mut ledger = Ledger::default();
        for entry in entries {
            ledger.apply(entry);
        }
        ledger
    }

    /// Applies one entry.
    pub fn apply(&mut self, entry: &Entry) {
        if let Event::Uploaded { content_hash, model, url } = &entry.event {
            self.uploads.insert((content_hash.clone(), model.clone()), (url.clone(), entry.at));
        }
        match &entry.event {
            Event::Submitted { task_id } | Event::Reconciled { task_id: Some(task_id), .. } => {
                self.task_ids.insert(task_id.clone());
            }
            Event::Intent { run: Some(run), .. } => {
                self.runs.insert(*run);
            }
            _ => {}
        }
        self.records.entry(entry.key.clone()).or_insert_with(|| Record::new(&entry.key)).apply(entry.at, &entry.event);
    }

    /// Uploads of `model` still young enough to reuse: content hash → URL.
    pub fn live_uploads(&self, model: &str, now: jiff::Timestamp) -> HashMap<String, String> {
        self.uploads
            .iter()
            .filter(|((_, m), (_, at))| m == model && now.duration_since(*at) < UPLOAD_REUSE_FOR)
            .map(|((hash, _), (url, _))| (hash.clone(), url.clone()))
            .collect()
    }

    /// Every path (relative to the output folder) the ledger knows a file at, whichever job:
    /// anything else at a job's path is not ours.
    pub fn known_paths(&self) -> HashSet<PathBuf> {
        self.records
            .values()
            .flat_map(|r| r.path.iter().chain(std::iter::once(&r.meta.output)))
            .map(PathBuf::from)
            .collect()
    }

    /// Records whose key is none of `keys` (the manifest's jobs).
    pub fn orphans<'a, 'k>(&'a self, keys: impl IntoIterator<Item = &'k JobKey>) -> Vec<&'a Record> {
        let keys: HashSet<&JobKey> = keys.into_iter().collect();
        let mut out: Vec<&Record> = self.records.values().filter(|r| !keys.contains(&r.key)).collect();
        out.sort_by(|a, b| (&a.meta.shot, &a.meta.variant).cmp(&(&b.meta.shot, &b.meta.variant)));
        out
    }
}

/// What a run does with a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Submit it.
    New,
    /// It has a task: poll it, never resubmit.
    Resume,
    /// An intent without a task id: ask the list API before deciding.
    Reconcile,
    /// The task succeeded: download the video.
    Download,
    /// The video is in place and verified.
    Done,
    /// It failed; only `--retry-failed` resubmits it.
    Failed,
    /// The video is gone and its URL has expired; only `--retry-failed` renders it again.
    Lost,
    /// Tasks that may be its own cannot be told apart from others'; only `--retry-failed`
    /// renders it again (paying again, knowingly).
    Ambiguous,
    /// A file is at its path that the ledger did not write: none was recorded (was
    /// `.pixbatch` deleted?), or the recorded one was edited since. The file is kept and the job
    /// not rendered; only `--overwrite` renders (or downloads) it again.
    Exists,
    /// It uses a generated ref with no pick yet: not sent until one is picked.
    Waiting,
}

impl Decision {
    /// The word `plan` and `status` print.
    pub fn as_str(&self) -> &'static str {
        match self {
            Decision::New => "new",
            Decision::Resume => "resume",
            Decision::Reconcile => "reconcile",
            Decision::Download => "download",
            Decision::Done => "done",
            Decision::Failed => "failed",
            Decision::Lost => "lost",
            Decision::Ambiguous => "ambiguous",
            Decision::Exists => "exists",
            Decision::Waiting => "waiting",
        }
    }
}

/// How the file at a job's path compares with the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileCheck {
    /// The bytes the ledger recorded.
    Verified,
    /// No file, or one the ledger knows (another job's video, a renamed shot's).
    Missing,
    /// A file the ledger did not write: edited since it was recorded, or never recorded.
    Changed,
}

/// What a run is asked to do beyond the ledger's say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Asked {
    /// `--retry-failed`: render failed, lost and ambiguous jobs again.
    pub retry_failed: bool,
    /// `--overwrite`: replace a file at a job's path that the ledger did not write.
    pub overwrite: bool,
}

/// Re-hashes a recorded output file, unless `stamps` vouch that it has not changed since it
/// last matched.
pub fn verify_file(output_dir: &Path, record: &Record, stamps: &stamps::Stamps) -> FileCheck {
    let (Some(rel), Some(sha)) = (&record.path, &record.sha256) else { return FileCheck::Missing };
    // An image task's candidates are verified each; the worst answer is the record's.
    let mut worst = FileCheck::Verified;
    for file in record.files.iter().filter(|f| &f.path != rel) {
        match verify_one(output_dir, &file.path, &file.sha256, stamps) {
            FileCheck::Verified => {}
            FileCheck::Changed => worst = FileCheck::Changed,
            FileCheck::Missing if worst == FileCheck::Verified => worst = FileCheck::Missing,
            FileCheck::Missing => {}
        }
    }
    match verify_one(output_dir, rel, sha, stamps) {
        FileCheck::Verified => worst,
        FileCheck::Changed => FileCheck::Changed,
        FileCheck::Missing if worst == FileCheck::Changed => FileCheck::Changed,
        FileCheck::Missing => FileCheck::Missing,
    }
}

/// One recorded file against its sha256.
fn verify_one(output_dir: &Path, rel: &str, sha: &str, stamps: &stamps::Stamps) -> FileCheck {
    let path = output_dir.join(rel);
    // A stat is enough when the stamps vouch: no open, no read.
    if std::fs::metadata(&path).is_ok_and(|meta| stamps.vouch(rel, sha, &meta)) {
        return FileCheck::Verified;
    }
    let Ok(mut file) = File::open(&path) else { return FileCheck::Missing };
    // Taken before the bytes are read: a write while hashing moves the change time.
    let Ok(meta) = file.metadata() else { return FileCheck::Missing };
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    // Sha256 is an io::Write: the file streams through it.
    if std::io::copy(&mut file, &mut hasher).is_err() {
        return FileCheck::Missing;
    }
    if hex::encode(hasher.finalize()) == sha {
        stamps.remember(rel, sha, &meta);
        FileCheck::Verified
    } else {
        FileCheck::Changed
    }
}

/// The file at a job's path (`output`, relative to `output_dir`) against its record, for
/// [`decide`]. Without a record, a file there that the ledger knows under no job (`known`,
/// see [`Ledger::known_paths`]) is [`FileCheck::Changed`]: not ours.
pub fn check_output(
    output_dir: &Path,
    output: &Path,
    record: Option<&Record>,
    known: &HashSet<PathBuf>,
    stamps: &stamps::Stamps,
) -> FileCheck {
    match record {
        Some(r) => verify_file(output_dir, r, stamps),
        None if !known.contains(output) && output_dir.join(output).exists() => FileCheck::Changed,
        None => FileCheck::Missing,
    }
}

/// Decides what to do with a job from its record; `check` looks at the file at its path (see
/// [`check_output`]), only when the decision depends on it.
pub fn decide(
    record: Option<&Record>,
    asked: Asked,
    now: jiff::Timestamp,
    check: impl FnOnce(Option<&Record>) -> FileCheck,
) -> Decision {
    let retry_failed = asked.retry_failed;
    let Some(r) = record else {
        // Rendering it would pay again and replace a file someone else put there.
        return if !asked.overwrite && check(None) == FileCheck::Changed { Decision::Exists } else { Decision::New };
    };
    let url_alive = |r: &Record| {
        r.video_url.is_some()
            && r.finished_at.is_some_and(|f| now.duration_since(f) < crate::catalog::url_lifetime(&r.meta.model))
    };
    match r.phase {
        Phase::New | Phase::Canceled => Decision::New,
        Phase::Intent => Decision::Reconcile,
        Phase::InFlight => Decision::Resume,
        Phase::Succeeded if url_alive(r) => Decision::Download,
        Phase::Succeeded | Phase::Expired => {
            if retry_failed {
                Decision::New
            } else {
                Decision::Lost
            }
        }
        Phase::Downloaded => match check(Some(r)) {
            FileCheck::Verified => Decision::Done,
            // Edited since it was downloaded: the user's bytes now, kept like an unknown file.
            FileCheck::Changed if !asked.overwrite => Decision::Exists,
            FileCheck::Missing | FileCheck::Changed if url_alive(r) => Decision::Download,
            FileCheck::Missing | FileCheck::Changed => {
                if retry_failed {
                    Decision::New
                } else {
                    Decision::Lost
                }
            }
        },
        Phase::Failed => {
            if retry_failed {
                Decision::New
            } else {
                Decision::Failed
            }
        }
        Phase::Ambiguous => {
            if retry_failed {
                Decision::New
            } else {
                Decision::Ambiguous
            }
        }
    }
}

/// A ledger opened to be written: the lock (held while this lives), the journal (its torn
/// tail mended, see `journal.repairs`) and the replayed records.
pub struct Opened {
    pub lock: Lock,
    pub journal: Journal,
    pub ledger: Ledger,
}

/// Creates `output_dir` if needed, takes its ledger's lock, opens the journal and replays it:
/// what every command that writes the ledger does first.
pub fn open_locked(output_dir: &Path) -> Result<Opened, LedgerError> {
    std::fs::create_dir_all(output_dir).map_err(|e| LedgerError::io(output_dir, e))?;
    let lock = Lock::acquire(output_dir)?;
    let path = Ledger::journal_path(output_dir);
    let journal = Journal::open(&path).map_err(|e| LedgerError::io(&path, e))?;
    let mut ledger = Ledger::from_entries(journal.entries());
    ledger.stamps = stamps::Stamps::load(&output_dir.join(LEDGER_DIR));
    Ok(Opened { lock, journal, ledger })
}

/// The lock on one ledger, held for a run; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

impl Lock {
    /// Takes the lock of `output_dir`, creating the ledger folder; says who holds it if taken.
    pub fn acquire(output_dir: &Path) -> Result<Lock, LedgerError> {
        let dir = output_dir.join(LEDGER_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| LedgerError::io(&dir, e))?;
        let path = dir.join("lock");
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| LedgerError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                let holder =
                    if holder.trim().is_empty() { "unknown process".to_owned() } else { holder.trim().to_owned() };
                return Err(LedgerError::Locked { path: output_dir.to_path_buf(), holder });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(LedgerError::io(&path, e)),
        }
        // A folder we may append to but not create files in (read-only, or a file system
        // mounted so) would let a run pay for videos it cannot save: find out before any request.
        for folder in [output_dir, dir.as_path()] {
            tempfile::Builder::new()
                .prefix(crate::files::TEMP_PREFIX)
                .suffix(".probe")
                .tempfile_in(folder)
                .map_err(|e| LedgerError::io(folder, e))?;
        }
        let host = std::env::var("HOSTNAME").unwrap_or_default();
        let who = format!(
            "pid {} on {}, since {}",
            std::process::id(),
            if host.is_empty() { "this machine" } else { &host },
            jiff::Timestamp::now()
        );
        let _ = file.set_len(0).and_then(|()| file.write_all(who.as_bytes())).and_then(|()| file.sync_data());
        Ok(Lock { _file: file })
    }
}
