//! Picks: the take a person chose for each shot, kept in `OUTPUT/picks.json` by job key, so a
//! rerun, a reordered manifest or a regenerated contact sheet keeps them. A pick whose job
//! left the manifest (its prompt was edited: a new key) is *stale*: shown as such, never moved
//! to another take.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::files::write_atomic;
use crate::key::JobKey;
use crate::ledger::LEDGER_DIR;
use crate::plan::Job;

/// The file in the output folder.
pub const PICKS_FILE: &str = "picks.json";
const FORMAT: &str = "pixbatch.picks/1";
/// Held while picks are read, changed and written (the CLI and a review server may both).
const LOCK_FILE: &str = "picks.lock";

/// One shot's pick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pick {
    pub key: JobKey,
    /// The take's variant when it was picked (to name a stale pick).
    pub variant: String,
    pub at: jiff::Timestamp,
}

/// A generated ref's pick: one candidate image of one of its image jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefPick {
    /// The image job's key.
    pub key: JobKey,
    pub variant: String,
    /// 0-based candidate index within the job's task.
    pub index: u32,
    /// The picked image, relative to the output folder, and its sha256: jobs that use the ref
    /// are keyed by it.
    pub path: String,
    pub sha256: String,
    pub at: jiff::Timestamp,
    /// Taken without a person (`pick: first`, `run.auto_pick`, or the only candidate).
    #[serde(default)]
    pub auto: bool,
}

/// Every pick of an output folder, by shot id, and by generated ref.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Picks {
    #[serde(default)]
    pub format: String,
    pub shots: BTreeMap<String, Pick>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub refs: BTreeMap<String, RefPick>,
}

/// Why picks could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PicksError {
    #[error("cannot use {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a picks file pixbatch can read: {message}")]
    Corrupt { path: PathBuf, message: String },
}

impl PicksError {
    pub fn hint(&self) -> &'static str {
        match self {
            PicksError::Io { .. } => "check that the output folder exists and is writable",
            PicksError::Corrupt { .. } => "fix or move the file away (pixbatch never overwrites picks it cannot read)",
        }
    }
}

/// Where a shot's pick stands against the manifest.
#[derive(Debug, Clone)]
pub enum ShotPick<'a> {
    None,
    /// The picked take is one of the shot's jobs.
    Current(&'a Job),
    /// The picked take is no longer in the manifest (its shot was edited).
    Stale(&'a Pick),
}

impl Picks {
    pub fn path(output_dir: &Path) -> PathBuf {
        output_dir.join(PICKS_FILE)
    }

    /// The picks of `output_dir` (none yet: empty).
    pub fn load(output_dir: &Path) -> Result<Picks, PicksError> {
        let path = Picks::path(output_dir);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Picks::default()),
            Err(source) => return Err(PicksError::Io { path, source }),
        };
        serde_json::from_slice(&bytes).map_err(|e| PicksError::Corrupt { path, message: e.to_string() })
    }

    /// Reads the picks, lets `change` change them, and writes them back atomically, with a lock
    /// held so that two writers (the CLI, a review server) never lose each other's picks.
    pub fn update<T>(output_dir: &Path, change: impl FnOnce(&mut Picks) -> T) -> Result<T, PicksError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| PicksError::Io { path, source }
        };
        let dir = output_dir.join(LEDGER_DIR);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        lock.lock().map_err(io(&lock_path))?;
        let mut picks = Picks::load(output_dir)?;
        let out = change(&mut picks);
        picks.format = FORMAT.to_owned();
        let path = Picks::path(output_dir);
        let mut bytes = serde_json::to_vec_pretty(&picks)
            .map_err(|e| PicksError::Corrupt { path: path.clone(), message: e.to_string() })?;
        bytes.push(b'\n');
        write_atomic(&path, &bytes).map_err(io(&path))?;
        Ok(out)
    }

    /// Picks `job` for its shot.
    pub fn pick(&mut self, job: &Job) {
        self.shots.insert(
            job.shot.clone(),
            Pick { key: job.key.clone(), variant: job.variant.clone(), at: jiff::Timestamp::now() },
        );
    }

    /// Where `shot`'s pick stands among `jobs` (the manifest's).
    pub fn of<'a>(&'a self, shot: &str, jobs: &'a [Job]) -> ShotPick<'a> {
        match self.shots.get(shot) {
            None => ShotPick::None,
            Some(pick) => match jobs.iter().find(|j| j.key == pick.key && j.shot == shot) {
                Some(job) => ShotPick::Current(job),
                None => ShotPick::Stale(pick),
            },
        }
    }

    /// Whether `job` is its shot's pick.
    pub fn is_picked(&self, job_shot: &str, key: &JobKey) -> bool {
        self.shots.get(job_shot).is_some_and(|p| &p.key == key)
    }
}

/// Why a take cannot be picked.
#[derive(Debug, thiserror::Error)]
pub enum PickError {
    #[error("no shot `{shot}`{hint}")]
    NoShot { shot: String, hint: String },
    #[error("shot `{shot}` has no take `{variant}`; its takes: {takes}")]
    NoTake { shot: String, variant: String, takes: String },
    #[error("{0} is not rendered yet: only a take with a video can be picked")]
    NotRendered(String),
    #[error(transparent)]
    Picks(#[from] PicksError),
}

/// Picks `shot`'s take `variant` (empty for a shot without variants), or clears the shot's
/// pick with `None`: the one code path of `pixbatch pick` and the review page's buttons.
pub fn choose(
    output_dir: &Path,
    jobs: &[Job],
    ledger: &crate::ledger::Ledger,
    shot: &str,
    variant: Option<&str>,
) -> Result<String, PickError> {
    let takes: Vec<&Job> = jobs.iter().filter(|j| j.shot == shot).collect();
    if takes.is_empty() {
        let hint = crate::manifest::diag::did_you_mean(shot, jobs.iter().map(|j| j.shot.as_str()))
            .map_or_else(String::new, |s| format!("; did you mean `{s}`?"));
        return Err(PickError::NoShot { shot: shot.to_owned(), hint });
    }
    let Some(variant) = variant else {
        let had = Picks::update(output_dir, |p| p.shots.remove(shot).is_some())?;
        return Ok(format!("{shot}: {}", if had { "pick cleared" } else { "had no pick" }));
    };
    let Some(job) = takes.iter().find(|j| j.variant == variant) else {
        let list: Vec<&str> =
            takes.iter().map(|j| if j.variant.is_empty() { "(none)" } else { j.variant.as_str() }).collect();
        return Err(PickError::NoTake { shot: shot.to_owned(), variant: variant.to_owned(), takes: list.join(", ") });
    };
    if ledger.records.get(&job.key).is_none_or(|r| r.phase != crate::ledger::Phase::Downloaded) {
        return Err(PickError::NotRendered(job.name()));
    }
    Picks::update(output_dir, |p| p.pick(job))?;
    Ok(format!("{}: picked", job.name()))
}

/// Marks the rows of picked takes (`picked` in results.csv, results.json, the report, status).
pub fn mark<S>(rows: &mut [crate::views::ResultRow<S>], picks: &Picks) {
    for row in rows {
        row.picked = picks.is_picked(&row.shot, &row.key);
    }
}
