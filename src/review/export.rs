//! `pixbatch export`: the picked take of every shot into one folder, in storyboard order
//! (`010-intro.mp4`, `020-fight.mp4`, …), hard-linked when possible, else copied, each
//! verified by sha256 against the ledger; with a `concat.txt` that `ffmpeg -f concat -i`
//! accepts and an `export.json` listing what came from where. Exporting again changes only
//! what changed, and never deletes or overwrites a file it did not write.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::picks::{Picks, ShotPick};
use crate::files::{TEMP_PREFIX, write_atomic};
use crate::key::JobKey;
use crate::ledger::stamps::Stamps;
use crate::ledger::{FileCheck, Ledger, Phase, verify_file};
use crate::plan::{Expansion, Job};

pub const EXPORT_JSON: &str = "export.json";
pub const CONCAT_TXT: &str = "concat.txt";
const FORMAT: &str = "pixbatch.export/1";

/// What to do with a shot that has no pick.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Unpicked {
    /// Refuse, listing them.
    #[default]
    Refuse,
    /// List them and leave them out.
    Skip,
    /// Take the shot's first done take, in manifest order.
    FirstDone,
}

/// One exported shot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exported {
    pub file: String,
    pub shot: String,
    pub variant: String,
    pub key: JobKey,
    /// The video in the output folder it came from.
    pub source: String,
    pub sha256: String,
    pub prompt: String,
    /// Absent from an `export.json` written before timelines.
    #[serde(default)]
    pub model: String,
}

/// `export.json`.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    shots: Vec<Exported>,
}

/// What an export did.
#[derive(Debug, Default)]
pub struct Report {
    pub exported: Vec<Exported>,
    /// Files written or replaced this time (the others were already in place).
    pub written: usize,
    /// Shots left out, with why.
    pub skipped: Vec<(String, String)>,
}

/// Why an export did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{} shot(s) have no pick: {}", .0.len(), .0.join(", "))]
    Unpicked(Vec<String>),
    #[error("{shot}: {why}")]
    Take { shot: String, why: String },
    #[error("{path} exists and was not written by pixbatch export; not overwriting it")]
    Foreign { path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Timeline(#[from] super::timeline::TimelineError),
}

impl ExportError {
    pub fn hint(&self) -> &'static str {
        match self {
            ExportError::Unpicked(_) => {
                "pick them (`pixbatch pick MANIFEST SHOT VARIANT` or `pixbatch review`), or pass --allow-missing or --first-done"
            }
            ExportError::Take { .. } => "run `pixbatch run` again to render or download it, or pick another take",
            ExportError::Foreign { .. } => "export into an empty folder, or move that file away",
            ExportError::Io { .. } => "check that the folder is writable and has free space",
            ExportError::Timeline(_) => {
                "the takes are exported; a timeline needs each file's MP4 header and a writable folder"
            }
        }
    }
}

/// A line of `concat.txt`: ffmpeg's concat demuxer quotes with `'`, escaping it as `'\''`.
fn concat_line(file: &str) -> String {
    format!("file '{}'\n", file.replace('\'', "'\\''"))
}

/// Exports the picked takes of `expansion` (its output folder, ledger and picks) into `to`.
pub fn export(
    expansion: &Expansion,
    ledger: &Ledger,
    picks: &Picks,
    to: &Path,
    unpicked: Unpicked,
) -> Result<Report, ExportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError::Io { path, source }
    };
    let done = |job: &Job| ledger.records.get(&job.key).filter(|r| r.phase == Phase::Downloaded);
    let mut report = Report::default();
    let mut chosen: Vec<(usize, &Job)> = Vec::new();
    let mut missing = Vec::new();
    for (n, (shot, jobs)) in super::shots(&expansion.jobs).into_iter().enumerate() {
        let job = match picks.of(shot, &expansion.jobs) {
            ShotPick::Current(job) => Some(job),
            ShotPick::Stale(p) if unpicked != Unpicked::FirstDone => {
                missing.push(format!("{shot} (its pick {} left the manifest)", p.variant));
                continue;
            }
            ShotPick::None | ShotPick::Stale(_) => match unpicked {
                Unpicked::FirstDone => jobs.iter().copied().find(|j| done(j).is_some()),
                _ => None,
            },
        };
        match job {
            Some(job) => chosen.push(((n + 1) * 10, job)),
            None => missing.push(shot.to_owned()),
        }
    }
    if !missing.is_empty() {
        if unpicked == Unpicked::Refuse {
            return Err(ExportError::Unpicked(missing));
        }
        report.skipped = missing.into_iter().map(|s| (s, "no pick".to_owned())).collect();
    }
    std::fs::create_dir_all(to).map_err(io(to))?;
    // What an earlier export wrote here: only those files may be replaced.
    let earlier: Vec<Exported> = std::fs::read(to.join(EXPORT_JSON))
        .ok()
        .and_then(|b| serde_json::from_slice::<Manifest>(&b).ok())
        .map(|m| m.shots)
        .unwrap_or_default();
    for (number, job) in chosen {
        let record = done(job).ok_or_else(|| ExportError::Take {
            shot: job.shot.clone(),
            why: format!("its picked take {} has no video in the ledger", job.name()),
        })?;
        // What goes to the editor is hashed in full, whatever the stamps say.
        if verify_file(&expansion.output_dir, record, &Stamps::default()) != FileCheck::Verified {
            return Err(ExportError::Take {
                shot: job.shot.clone(),
                why: format!("the video of {} is missing or changed since it was downloaded", job.name()),
            });
        }
        let (Some(source), Some(sha256)) = (record.path.clone(), record.sha256.clone()) else { continue };
        let file = format!("{number:03}-{}.mp4", crate::plan::job::slug(&job.shot));
        let dest = to.join(&file);
        let entry = Exported {
            file: file.clone(),
            shot: job.shot.clone(),
            variant: job.variant.clone(),
            key: job.key.clone(),
            source: source.clone(),
            sha256: sha256.clone(),
            prompt: job.prompt.clone(),
            model: job.model.clone(),
        };
        let in_place = earlier.iter().any(|e| e.file == file && e.sha256 == sha256) && dest.exists();
        if !in_place {
            if dest.exists() && !earlier.iter().any(|e| e.file == file) {
                return Err(ExportError::Foreign { path: dest });
            }
            place(&expansion.output_dir.join(&source), &dest).map_err(io(&dest))?;
            report.written += 1;
        }
        report.exported.push(entry);
    }
    let concat: String = report.exported.iter().map(|e| concat_line(&e.file)).collect();
    write_atomic(&to.join(CONCAT_TXT), concat.as_bytes()).map_err(io(&to.join(CONCAT_TXT)))?;
    let doc = Manifest { format: FORMAT.to_owned(), shots: report.exported.clone() };
    let mut json = serde_json::to_vec_pretty(&doc).map_err(|e| io(&to.join(EXPORT_JSON))(std::io::Error::other(e)))?;
    json.push(b'\n');
    write_atomic(&to.join(EXPORT_JSON), &json).map_err(io(&to.join(EXPORT_JSON)))?;
    Ok(report)
}

/// Puts `source` at `dest` in one rename: a hard link when the folders share a file system,
/// else a copy.
fn place(source: &Path, dest: &Path) -> std::io::Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!("{TEMP_PREFIX}{}.part", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    if std::fs::hard_link(source, &tmp).is_err() {
        std::fs::copy(source, &tmp)?;
        std::fs::File::open(&tmp)?.sync_all()?;
    }
    std::fs::rename(&tmp, dest)
}

#[cfg(test)]
mod tests {
    use super::concat_line;

    #[test]
    fn concat_lines_quote_as_ffmpeg_reads_them() {
        assert_eq!(concat_line("010-intro.mp4"), "file '010-intro.mp4'\n");
        assert_eq!(concat_line("020-it's.mp4"), "file '020-it'\\''s.mp4'\n");
    }
}
