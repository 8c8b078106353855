//! The write-ahead journal: one JSON object per line, appended, fsynced in groups.
//!
//! Every state change of every job is an [`Entry`]. Replaying the file in order rebuilds the
//! ledger. A crash can leave at most a torn last line, which replay ignores: everything
//! acknowledged by [`Journal::commit`] was on disk before the caller went on.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::api::Usage;

/// What happened to a job. The field names are the journal's format: add, never rename.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "ev", rename_all = "snake_case")]
pub enum Event {
    /// About to POST a create call; written (and synced) before the request leaves.
    Intent {
        attempt: u32,
        #[serde(flatten)]
        meta: JobMeta,
    },
    /// The service answered with a task id.
    Submitted { task_id: String },
    /// The create call failed without creating a task (`class`: transient, job_permanent, run_fatal).
    SubmitFailed { code: String, message: String, class: String },
    /// After a create call with no answer, what the list API showed.
    Reconciled {
        /// The task adopted, if one was found.
        task_id: Option<String>,
        decision: String,
    },
    /// A new non-final status (RUNNING).
    Status { status: String },
    /// A final status from the service.
    Finished {
        status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        video_url: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<Usage>,
    },
    /// The video is in place and verified.
    Downloaded { path: String, bytes: u64, sha256: String },
    /// The download failed for good this run (the URL may still work later).
    DownloadFailed { code: String, message: String },
    /// This run stopped waiting for the task; the next run polls it again.
    TimedOut,
    /// The file recorded as downloaded is gone or changed.
    OutputLost { reason: String },
    /// `pixbatch cancel` (or an interrupt with `--cancel-on-interrupt`) cancelled the task.
    Canceled,
    /// A local reference file of this job was uploaded to temporary storage (valid 48 h, bound
    /// to `model`); later runs reuse the URL until shortly before it expires.
    Uploaded { content_hash: String, model: String, url: String },
}

/// A job's description, stored with its first intent so the ledger can report on jobs that
/// have since left the manifest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobMeta {
    pub shot: String,
    pub variant: String,
    pub model: String,
    pub size: String,
    pub duration: u32,
    #[serde(default)]
    pub audio: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Relative to the output folder.
    pub output: String,
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// When it was written (RFC 3339).
    pub at: jiff::Timestamp,
    /// The job key.
    pub key: String,
    #[serde(flatten)]
    pub event: Event,
}

/// The journal file, opened for appending.
pub struct Journal {
    path: PathBuf,
    out: BufWriter<File>,
    pending: usize,
    /// Bytes written so far in this process (for benchmarks).
    pub bytes_written: u64,
    /// Every entry, kept to rebuild the file if its folder vanishes mid-run.
    history: Vec<Entry>,
}

impl Journal {
    /// Opens (creating) the journal for appending.
    pub fn open(path: &Path) -> std::io::Result<Journal> {
        let history = read_entries(path)?;
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Journal {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(64 * 1024, file),
            pending: 0,
            bytes_written: 0,
            history,
        })
    }

    /// Every entry in the file, in order (as read at open, plus those appended since).
    pub fn entries(&self) -> &[Entry] {
        &self.history
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Buffers an entry; it is durable after the next [`Journal::commit`].
    pub fn append(&mut self, entry: &Entry) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.bytes_written += line.len() as u64;
        self.out.write_all(&line)?;
        self.pending += 1;
        self.history.push(entry.clone());
        Ok(())
    }

    /// Writes and fsyncs everything appended since the last commit: one sync for the group.
    ///
    /// If the file was deleted under us (the output folder vanished), writing to the open
    /// handle would succeed and lose everything: the file is rebuilt at its path from the whole
    /// history and an error says so, so the run stops and the next one finds a complete ledger.
    pub fn commit(&mut self) -> std::io::Result<()> {
        if self.pending == 0 {
            return Ok(());
        }
        self.out.flush()?;
        self.out.get_ref().sync_data()?;
        self.pending = 0;
        if !self.still_there() {
            self.rebuild()?;
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("the ledger {} vanished during the run; it was rebuilt from memory", self.path.display()),
            ));
        }
        Ok(())
    }

    fn still_there(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(&self.path), self.out.get_ref().metadata()) {
            (Ok(on_disk), Ok(ours)) => on_disk.ino() == ours.ino() && on_disk.dev() == ours.dev(),
            _ => false,
        }
    }

    fn rebuild(&mut self) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).write(true).truncate(true).open(&self.path)?;
        let mut out = BufWriter::with_capacity(64 * 1024, file);
        for entry in &self.history {
            let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
            line.push(b'\n');
            out.write_all(&line)?;
        }
        out.flush()?;
        out.get_ref().sync_all()?;
        self.out = out;
        Ok(())
    }
}

/// Reads every entry. A torn last line (a crash mid-write) is skipped; a bad line elsewhere is
/// an error naming the line, because silently dropping history could re-render paid videos.
pub fn read_entries(path: &Path) -> std::io::Result<Vec<Entry>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut entries = Vec::new();
    let mut lines = BufReader::new(file).split(b'\n').enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        let line = line?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Entry>(&line) {
            Ok(e) => entries.push(e),
            Err(_) if lines.peek().is_none() => {
                tracing::warn!(line = n + 1, "ignoring a torn last line in {}", path.display());
            }
            Err(e) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}:{}: unreadable journal line: {e}", path.display(), n + 1),
                ));
            }
        }
    }
    Ok(entries)
}
