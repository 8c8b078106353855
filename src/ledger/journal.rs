//! The write-ahead journal: one JSON object per line, appended, fsynced in groups.
//!
//! Every state change of every job is an [`Entry`]. Replaying the file in order rebuilds the
//! ledger. A crash can leave at most a torn last line, which replay ignores: everything
//! acknowledged by [`Journal::commit`] was on disk before the caller went on.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::api::{ErrorClass, ImageOut, TaskStatus, Usage};
use crate::key::JobKey;

/// One downloaded candidate of an image task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateFile {
    /// Its index among the task's candidates (failed ones included).
    pub index: u32,
    /// Relative to the output folder.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// What happened to a job. The field names are the journal's format: add, never rename.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "ev", rename_all = "snake_case")]
pub enum Event {
    /// About to POST a create call; written (and synced) before the request leaves.
    /// The job's description ([`JobMeta`]'s fields, written inline: an explicit list reads
    /// back without serde's flatten buffering, on the path every rerun takes).
    Intent {
        attempt: u32,
        shot: String,
        variant: String,
        model: String,
        size: String,
        duration: u32,
        #[serde(default)]
        audio: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seed: Option<i64>,
        output: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        estimate_cny: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage: Option<String>,
        /// The base URL the create call goes to: the task lives there, and every later call
        /// about it goes there too. Absent in ledgers written before it was recorded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        endpoint: Option<String>,
        /// When the run that wrote it started: a killed run's create calls all went out
        /// before the next run started, one model's at a time, in intent order.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run: Option<jiff::Timestamp>,
    },
    /// The service answered with a task id.
    Submitted { task_id: String },
    /// The create call failed without creating a task. `class` is `transient` when the job stays
    /// new (a refusal, a run stopping before it was sent), `job_permanent` when it failed.
    SubmitFailed { code: String, message: String, class: ErrorClass },
    /// The create call got no answer (the connection broke after the request left): a task
    /// may exist. It was sent at `sent_at` and given up at `failed_at`, which bounds when the
    /// service can have made it.
    Unanswered { sent_at: jiff::Timestamp, failed_at: jiff::Timestamp, code: String, message: String },
    /// After a create call with no answer, what the list API showed.
    Reconciled {
        /// The task adopted, if one was found.
        task_id: Option<String>,
        decision: String,
    },
    /// Several tasks of the account match this job's create call and nothing the service says
    /// tells them apart: the job is neither resubmitted (one of them may be its own, paid) nor
    /// adopted (the others are someone else's).
    Ambiguous { candidates: Vec<String>, decision: String },
    /// A new non-final status (RUNNING).
    Status { status: TaskStatus },
    /// The task's endpoint answered UNKNOWN too soon for the service to have forgotten it
    /// (24 h): it is kept, never written off.
    NotFound { endpoint: String, reason: String },
    /// A final status from the service.
    Finished {
        status: TaskStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        video_url: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<Usage>,
        /// An image task's candidates, in order (`video_url` is the first good one's).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        images: Vec<ImageOut>,
        /// What it was billed, at the price in force (SUCCEEDED only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        billed: Option<super::money::Billed>,
    },
    /// The video is in place and verified (for an image task: its first good candidate, and
    /// every candidate in `images`).
    Downloaded {
        path: String,
        bytes: u64,
        sha256: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        images: Vec<CandidateFile>,
    },
    /// The download failed for good this run (the URL may still work later).
    DownloadFailed { code: String, message: String },
    /// This run stopped waiting for the task; the next run polls it again.
    TimedOut,
    /// The service's URL for the video stopped working before it was downloaded.
    UrlExpired { code: String, message: String },
    /// The video was moved to the job's new output path (its shot was renamed).
    Moved { from: String, to: String },
    /// The file recorded as downloaded is gone or changed.
    OutputLost { reason: String },
    /// `pixbatch cancel` (or an interrupt with `--cancel-on-interrupt`) cancelled the task.
    Canceled,
    /// A local reference file of this job was uploaded to temporary storage (valid 48 h, bound
    /// to `model`); later runs reuse the URL until shortly before it expires.
    Uploaded { content_hash: String, model: String, url: String },
}

impl Event {
    /// An intent to send `meta`'s job.
    pub fn intent(attempt: u32, meta: JobMeta, endpoint: Option<String>, run: Option<jiff::Timestamp>) -> Event {
        let JobMeta { shot, variant, model, size, duration, audio, seed, output, estimate_cny, stage } = meta;
        Event::Intent {
            attempt,
            shot,
            variant,
            model,
            size,
            duration,
            audio,
            seed,
            output,
            estimate_cny,
            stage,
            endpoint,
            run,
        }
    }

    /// The job an intent describes.
    pub fn intent_meta(&self) -> Option<JobMeta> {
        match self {
            Event::Intent {
                shot, variant, model, size, duration, audio, seed, output, estimate_cny, stage, ..
            } => Some(JobMeta {
                shot: shot.clone(),
                variant: variant.clone(),
                model: model.clone(),
                size: size.clone(),
                duration: *duration,
                audio: *audio,
                seed: *seed,
                output: output.clone(),
                estimate_cny: *estimate_cny,
                stage: stage.clone(),
            }),
            _ => None,
        }
    }
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
    /// The estimate when it was sent: its money while it is committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate_cny: Option<f64>,
    /// `refs`, `refs 2`, `clips` (none in older journals: clips).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// When it was written (RFC 3339).
    pub at: jiff::Timestamp,
    pub key: JobKey,
    #[serde(flatten)]
    pub event: Event,
}

/// The journal file, opened for appending.
pub struct Journal {
    path: PathBuf,
    file: File,
    /// Lines appended since the last commit, not yet on disk.
    buf: Vec<u8>,
    /// The file's length up to the last whole line written (synced or not).
    durable_len: u64,
    /// Lines have been written since the last fsync.
    unsynced: bool,
    /// Every entry, kept to rebuild the file if its folder vanishes mid-run.
    history: Vec<Entry>,
    /// What [`Journal::open`] had to mend (a torn last line), said to the user by the caller.
    pub repairs: Vec<String>,
}

impl Journal {
    /// Opens (creating) the journal for appending. Call it with the ledger's lock held: a torn
    /// last line (a crash or a full disk mid-write) is cut off, or newline-terminated when it is
    /// a whole entry, so the next append starts on a line of its own.
    pub fn open(path: &Path) -> std::io::Result<Journal> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let parsed = parse(&bytes, path)?;
        let mut file = OpenOptions::new().create(true).read(true).append(true).open(path)?;
        let mut repairs = parsed.notes;
        let mut durable_len = bytes.len() as u64;
        match parsed.tail {
            Tail::Clean => {}
            Tail::Unterminated => {
                file.write_all(b"\n")?;
                file.sync_data()?;
                durable_len += 1;
                repairs.push(format!("{}: the last line had no newline; added one", path.display()));
            }
            Tail::Torn { from } => {
                file.set_len(from as u64)?;
                file.sync_data()?;
                durable_len = from as u64;
                repairs.push(format!(
                    "{}: removed a torn last line ({} bytes, from a crash or a full disk mid-write)",
                    path.display(),
                    bytes.len() - from
                ));
            }
        }
        Ok(Journal {
            path: path.to_path_buf(),
            file,
            buf: Vec::with_capacity(64 * 1024),
            durable_len,
            unsynced: false,
            history: parsed.entries,
            repairs,
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
        self.buf.extend_from_slice(&line);
        self.history.push(entry.clone());
        Ok(())
    }

    /// Writes and fsyncs everything appended since the last commit: one sync for the group.
    /// What must survive a power cut before the next step (an intent before its create call,
    /// a create's outcome before the model's next create) goes through here.
    ///
    /// A write that fails (a full disk) is undone, so the file stays a whole number of lines,
    /// and the lines stay buffered for the next commit. If the file was deleted under us (the
    /// output folder vanished), writing to the open handle would succeed and lose everything:
    /// the file is rebuilt at its path from the whole history and an error says so, so the run
    /// stops and the next one finds a complete ledger.
    pub fn commit(&mut self) -> std::io::Result<()> {
        self.write_out()?;
        if self.unsynced {
            self.file.sync_data()?;
            self.unsynced = false;
        }
        Ok(())
    }

    /// Writes what was appended to the file without waiting for the disk: it survives the
    /// process being killed, and the next [`Journal::commit`] makes it survive a power cut.
    /// For entries whose loss would cost nothing but a query or a download.
    pub fn write(&mut self) -> std::io::Result<()> {
        self.write_out()
    }

    fn write_out(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.file.write_all(&self.buf) {
            // Cutting a file back needs no free space.
            let _ = self.file.set_len(self.durable_len).and_then(|()| self.file.sync_data());
            return Err(e);
        }
        self.durable_len += self.buf.len() as u64;
        self.buf.clear();
        self.unsynced = true;
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
        match (std::fs::metadata(&self.path), self.file.metadata()) {
            (Ok(on_disk), Ok(ours)) => on_disk.ino() == ours.ino() && on_disk.dev() == ours.dev(),
            _ => false,
        }
    }

    fn rebuild(&mut self) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).read(true).write(true).truncate(true).open(&self.path)?;
        let mut out = BufWriter::with_capacity(64 * 1024, file);
        for entry in &self.history {
            let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
            line.push(b'\n');
            out.write_all(&line)?;
        }
        out.flush()?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        self.durable_len = file.metadata()?.len();
        self.unsynced = false;
        // Appends go to the end of the rebuilt file.
        self.file = OpenOptions::new().append(true).read(true).open(&self.path)?;
        Ok(())
    }
}

/// How a journal file ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// Every line is whole.
    Clean,
    /// The last line is a whole entry without its newline.
    Unterminated,
    /// The last line, from this byte on, is not an entry: cut short mid-write.
    Torn { from: usize },
}

struct Parsed {
    entries: Vec<Entry>,
    tail: Tail,
    /// Lines that were mended while reading.
    notes: Vec<String>,
}

/// How every entry starts, which marks where a line written after a torn fragment begins.
const ENTRY_START: &[u8] = b"{\"at\":";

fn parse(bytes: &[u8], path: &Path) -> std::io::Result<Parsed> {
    let mut entries = Vec::new();
    let mut notes = Vec::new();
    let mut tail = Tail::Clean;
    let mut start = 0;
    let mut n = 0;
    while start < bytes.len() {
        n += 1;
        let (end, terminated) = match bytes[start..].iter().position(|b| *b == b'\n') {
            Some(i) => (start + i, true),
            None => (bytes.len(), false),
        };
        let line = &bytes[start..end];
        let last = end + usize::from(terminated) >= bytes.len();
        if !line.iter().all(u8::is_ascii_whitespace) {
            match serde_json::from_slice::<Entry>(line) {
                Ok(e) => {
                    entries.push(e);
                    if !terminated {
                        tail = Tail::Unterminated;
                    }
                }
                Err(_) if last => tail = Tail::Torn { from: start },
                Err(e) => match recover(line) {
                    // An older pixbatch appended after a torn fragment: the fragment was never
                    // acknowledged, the entry after it was.
                    Some(entry) => {
                        notes
                            .push(format!("{}:{n}: dropped a torn fragment in front of a whole entry", path.display()));
                        entries.push(entry);
                    }
                    None => {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!("{}:{n}: unreadable journal line: {e}", path.display()),
                        ));
                    }
                },
            }
        }
        start = end + 1;
    }
    Ok(Parsed { entries, tail, notes })
}

/// The whole entry at the end of a line that starts with a torn fragment.
fn recover(line: &[u8]) -> Option<Entry> {
    let at = line.windows(ENTRY_START.len()).rposition(|w| w == ENTRY_START).filter(|i| *i > 0)?;
    serde_json::from_slice(&line[at..]).ok()
}

/// Reads every entry. A torn last line (a crash or a full disk mid-write) is skipped, and so is
/// a torn fragment that an older version appended after; any other bad line is an error naming
/// the line, because silently dropping history could re-render paid videos. Reading never
/// changes the file: [`Journal::open`], under the lock, mends it.
pub fn read_entries(path: &Path) -> std::io::Result<Vec<Entry>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let parsed = parse(&bytes, path)?;
    if let Tail::Torn { from } = parsed.tail {
        tracing::warn!("{}: ignoring a torn last line ({} bytes)", path.display(), bytes.len() - from);
    }
    for note in &parsed.notes {
        tracing::warn!("{note}");
    }
    Ok(parsed.entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str) -> Entry {
        Entry { at: jiff::Timestamp::UNIX_EPOCH, key: key.into(), event: Event::TimedOut }
    }

    fn line(key: &str) -> Vec<u8> {
        let mut l = serde_json::to_vec(&entry(key)).expect("json");
        l.push(b'\n');
        l
    }

    #[test]
    fn every_kind_of_line_reads_back_as_written() {
        let meta = JobMeta { shot: "s".into(), output: "s.mp4".into(), estimate_cny: Some(1.5), ..JobMeta::default() };
        let events = vec![
            Event::intent(1, meta, Some("http://x/".into()), Some(jiff::Timestamp::UNIX_EPOCH)),
            Event::Submitted { task_id: "t".into() },
            Event::Status { status: TaskStatus::Running },
            Event::Finished {
                status: TaskStatus::Succeeded,
                code: None,
                message: None,
                video_url: Some("http://x/v.mp4".into()),
                usage: Some(Usage { duration: Some(5.0), sr: Some("720".into()), ..Usage::default() }),
                images: Vec::new(),
                billed: Some(super::super::money::Billed {
                    cny: 1.5,
                    unit_price: 0.3,
                    source: super::super::money::PriceSource::Manifest,
                    inherited_from: None,
                }),
            },
            Event::Downloaded { path: "s.mp4".into(), bytes: 9, sha256: "ab".into(), images: Vec::new() },
            Event::TimedOut,
            Event::Canceled,
            Event::Uploaded { content_hash: "h".into(), model: "m".into(), url: "oss://u".into() },
        ];
        for event in events {
            let entry = Entry { at: jiff::Timestamp::UNIX_EPOCH, key: JobKey::new("k".repeat(64)), event };
            let line = serde_json::to_vec(&entry).expect("json");
            let back: Entry = serde_json::from_slice(&line).expect("reads back");
            assert_eq!(back, entry, "{}", String::from_utf8_lossy(&line));
        }
    }

    #[test]
    fn a_torn_tail_is_cut_and_the_next_append_starts_a_line_of_its_own() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("journal.jsonl");
        let mut bytes = [line("a"), line("b")].concat();
        let whole = bytes.len();
        bytes.extend_from_slice(&line("c")[..20]);
        std::fs::write(&path, &bytes).expect("write");
        assert_eq!(read_entries(&path).expect("reads").len(), 2, "reading ignores the torn tail");
        let mut j = Journal::open(&path).expect("opens");
        assert_eq!(j.repairs.len(), 1, "{:?}", j.repairs);
        assert_eq!(std::fs::metadata(&path).expect("meta").len() as usize, whole);
        j.append(&entry("d")).expect("append");
        j.commit().expect("commit");
        let keys: Vec<String> = read_entries(&path).expect("reads").into_iter().map(|e| e.key.to_string()).collect();
        assert_eq!(keys, ["a", "b", "d"]);
    }

    #[test]
    fn a_whole_last_entry_without_its_newline_is_kept() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("journal.jsonl");
        let mut bytes = line("a");
        bytes.extend_from_slice(&line("b")[..line("b").len() - 1]);
        std::fs::write(&path, &bytes).expect("write");
        let mut j = Journal::open(&path).expect("opens");
        j.append(&entry("c")).expect("append");
        j.commit().expect("commit");
        let keys: Vec<String> = read_entries(&path).expect("reads").into_iter().map(|e| e.key.to_string()).collect();
        assert_eq!(keys, ["a", "b", "c"]);
    }

    #[test]
    fn a_ledger_bricked_by_an_older_version_reads_again() {
        // The old bug: the next run appended straight after the fragment.
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("journal.jsonl");
        let bytes = [line("a"), line("torn")[..17].to_vec(), line("b"), line("c")].concat();
        std::fs::write(&path, &bytes).expect("write");
        let keys: Vec<String> = read_entries(&path).expect("reads").into_iter().map(|e| e.key.to_string()).collect();
        assert_eq!(keys, ["a", "b", "c"]);
    }

    #[test]
    fn a_bad_line_in_the_middle_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("journal.jsonl");
        let bytes = [line("a"), b"hand edited\n".to_vec(), line("b")].concat();
        std::fs::write(&path, &bytes).expect("write");
        let err = read_entries(&path).expect_err("refused");
        assert!(err.to_string().contains("journal.jsonl:2"), "{err}");
    }
}
