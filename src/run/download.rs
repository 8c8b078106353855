//! Downloads: a video goes to a temporary file beside its final path, is checked, and is
//! renamed into place; and the temporary files a killed run left.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use tokio::sync::Semaphore;

use super::events::{JobState, WorkerEvent};
use super::pools::Worker;
use crate::api::{ApiError, Client, DownloadError, Downloaded, RetryPolicy};
use crate::files;
use crate::ledger::{self};
use crate::plan::{Job, Product};

/// What a downloaded file must be: its first bytes decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expect {
    Mp4,
    Image,
}

/// Downloads one video (or image) next to its final path, checks it, and renames it into
/// place.
pub(super) async fn download(
    client: &Client,
    url: &str,
    dest: &Path,
    sem: &Semaphore,
    policy: &RetryPolicy,
    expect: Expect,
) -> Result<Downloaded, DownloadError> {
    // The semaphore is never closed; without a permit the download just goes ahead.
    let _permit = sem.acquire().await.ok();
    let disk = |e: std::io::Error| DownloadError::disk(dest, e);
    let dir = dest.parent().unwrap_or(Path::new("."));
    tokio::fs::create_dir_all(dir).await.map_err(disk)?;
    let tmp = tempfile::Builder::new().prefix(files::TEMP_PREFIX).suffix(".part").tempfile_in(dir).map_err(disk)?;
    let downloaded = policy
        .run(|| async {
            let d = client.download(url, tmp.path()).await?;
            let mut head = [0u8; 12];
            let ok = {
                use std::io::Read;
                std::fs::File::open(tmp.path()).and_then(|mut f| f.read_exact(&mut head)).is_ok()
            };
            match expect {
                Expect::Mp4 if !ok || &head[4..8] != b"ftyp" => {
                    let e = ApiError::transport("NotAnMp4", "the downloaded file is not an MP4".into(), false);
                    return Err(DownloadError::Api(e));
                }
                Expect::Image if !ok || crate::plan::refs::image_kind(&head).is_none() => {
                    let e = ApiError::transport(
                        "NotAnImage",
                        "the downloaded file is not a PNG, JPG or WEBP".into(),
                        false,
                    );
                    return Err(DownloadError::Api(e));
                }
                Expect::Mp4 | Expect::Image => {}
            }
            Ok(d)
        })
        .await?;
    // Temp files are private; a finished video is an ordinary file.
    files::set_readable(tmp.as_file()).map_err(disk)?;
    tmp.persist(dest).map_err(|e| disk(e.error))?;
    Ok(downloaded)
}

/// The folders a killed run may have left temporary files in: the output folder, the
/// ledger's, and every folder this manifest's videos go to.
pub(super) fn leftover_folders<'a>(output_dir: &Path, jobs: impl Iterator<Item = &'a Job>) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> =
        jobs.filter_map(|j| output_dir.join(&j.output).parent().map(Path::to_path_buf)).collect();
    folders.push(output_dir.to_path_buf());
    folders.push(output_dir.join(ledger::LEDGER_DIR));
    folders
}

/// The folders the ledger once put a video in that no job of the manifest uses now (a renamed
/// shot's), each with its parents below the output folder, deepest first: the candidates
/// [`files::remove_empty_folders`] removes when empty. Paths that would leave the output
/// folder (absolute, or with `..`) are never candidates.
pub(super) fn unused_folders<'a>(
    output_dir: &Path,
    ledger: &ledger::Ledger,
    jobs: impl Iterator<Item = &'a Job>,
) -> Vec<PathBuf> {
    let inside = |p: &Path| p.components().all(|c| matches!(c, std::path::Component::Normal(_)));
    // A file's folders below the output folder, borrowed: no allocation per job.
    fn folders_of(file: &Path) -> impl Iterator<Item = &Path> {
        file.ancestors().skip(1).filter(|d| !d.as_os_str().is_empty())
    }
    let used: HashSet<&Path> = jobs.flat_map(|j| folders_of(&j.output)).collect();
    let mut folders: BTreeSet<&Path> = BTreeSet::new();
    for r in ledger.records.values() {
        for file in r.path.iter().chain(std::iter::once(&r.meta.output)).map(Path::new).filter(|p| inside(p)) {
            folders.extend(folders_of(file).filter(|d| !used.contains(d)));
        }
    }
    let mut folders: Vec<PathBuf> = folders.into_iter().map(|d| output_dir.join(d)).collect();
    // Deepest first: a parent is empty only once its children are gone.
    folders.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    folders
}

impl super::coordinator::Coordinator<'_, '_> {
    /// Starts downloading a finished job's video; the worker reports back with how the file
    /// looks in place, for the stamps.
    pub(super) fn start_download(&mut self, idx: usize) {
        let job = &self.jobs[idx];
        let record = self.ledger.records.get(&job.key);
        let Some(url) = record.and_then(|r| r.video_url.clone()) else {
            self.fail(idx, "NoVideoUrl", "the task succeeded without a video URL");
            return;
        };
        // An image task: every good candidate, to its own file; the first is the job's output.
        let candidates: Vec<(u32, String, PathBuf)> = match job.product {
            Product::Video => Vec::new(),
            Product::Images { .. } => record
                .map(|r| r.images.iter().enumerate())
                .into_iter()
                .flatten()
                .filter_map(|(i, img)| {
                    let i = u32::try_from(i).ok()?;
                    Some((i, img.url.clone()?, job.candidate_path(i)))
                })
                // The first good one is the job's output, downloaded as such.
                .skip(1)
                .collect(),
        };
        let expect = if job.product == Product::Video { Expect::Mp4 } else { Expect::Image };
        self.states[idx] = JobState::Downloading;
        self.counts.downloading += 1;
        let output_dir = self.output_dir.clone();
        let dest = self.output_dir.join(&job.output);
        let (client, tx, sem, policy) =
            (self.client.clone(), self.tx.clone(), self.downloads.clone(), self.policy(RetryPolicy::download()));
        self.in_air.start(Worker::Download);
        tokio::spawn(async move {
            let mut result = download(&client, &url, &dest, &sem, &policy, expect).await;
            let stat = result.as_ref().ok().and_then(|_| std::fs::metadata(&dest).ok());
            let mut extra = Vec::new();
            for (index, url, rel) in candidates {
                if result.is_err() {
                    break;
                }
                let path = output_dir.join(&rel);
                match download(&client, &url, &path, &sem, &policy, expect).await {
                    Ok(d) => {
                        let file = ledger::CandidateFile {
                            index,
                            path: rel.display().to_string(),
                            bytes: d.bytes,
                            sha256: d.sha256,
                        };
                        extra.push((file, std::fs::metadata(&path).ok()));
                    }
                    Err(e) => result = Err(e),
                }
            }
            let _ = tx.send(WorkerEvent::Downloaded { idx, result, stat, extra });
        });
    }
}

impl super::coordinator::Coordinator<'_, '_> {
    /// An image job's candidate files: the first good one (at the job's output) and the
    /// others, each stamped; empty for a video.
    pub(super) fn candidate_files(
        &mut self,
        idx: usize,
        path: &str,
        first: &Downloaded,
        extra: Vec<(ledger::CandidateFile, Option<std::fs::Metadata>)>,
    ) -> Vec<ledger::CandidateFile> {
        let job = &self.jobs[idx];
        if job.product == Product::Video {
            return Vec::new();
        }
        let record = self.ledger.records.get(&job.key);
        let first_index = record
            .and_then(|r| r.images.iter().position(|i| i.url.is_some()))
            .and_then(|i| u32::try_from(i).ok())
            .unwrap_or(0);
        let mut files = vec![ledger::CandidateFile {
            index: first_index,
            path: path.to_owned(),
            bytes: first.bytes,
            sha256: first.sha256.clone(),
        }];
        for (file, stat) in extra {
            if let Some(meta) = &stat {
                self.ledger.stamps.remember(&file.path, &file.sha256, meta);
            }
            files.push(file);
        }
        files
    }
}
