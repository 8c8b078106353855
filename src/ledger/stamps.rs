//! What a file looked like when its bytes were last hashed and matched the ledger: size,
//! modification and change times, inode (as git's index keeps them). A file that still looks
//! the same is not hashed again, so a rerun does not read every video it already has. A change
//! time cannot be set by any tool, and every write, rename or copy over the file moves it.
//!
//! Kept beside the journal in `verified.json`, rewritten atomically by a run; a missing or
//! unreadable file is an empty one (everything is hashed once more). Not part of the ledger's
//! truth: the journal's sha256 is.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// The file beside the journal.
pub const FILE: &str = "verified.json";
const FORMAT: &str = "pixbatch.verified/1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    sha256: String,
    len: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    ino: u64,
}

impl Stamp {
    fn of(sha256: &str, meta: &std::fs::Metadata) -> Stamp {
        Stamp {
            sha256: sha256.to_owned(),
            len: meta.len(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
            ino: meta.ino(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Saved {
    format: String,
    stamps: HashMap<String, Stamp>,
}

/// Stamps of verified files, by path relative to the output folder.
#[derive(Debug, Default)]
pub struct Stamps {
    /// Where they are kept; `None`: not kept (a ledger built in memory).
    file: Option<PathBuf>,
    known: Mutex<Known>,
}

/// The stamps, and whether any was learnt since they were read.
#[derive(Debug, Default)]
struct Known {
    map: HashMap<String, Stamp>,
    changed: bool,
}

impl Stamps {
    /// The stamps kept in `ledger_dir` (none if the file is missing or unreadable).
    pub fn load(ledger_dir: &Path) -> Stamps {
        let file = ledger_dir.join(FILE);
        let map = std::fs::read(&file)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Saved>(&bytes).ok())
            .filter(|s| s.format == FORMAT)
            .map(|s| s.stamps)
            .unwrap_or_default();
        Stamps { file: Some(file), known: Mutex::new(Known { map, changed: false }) }
    }

    fn known(&self) -> std::sync::MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the file at `rel`, whose metadata is `meta`, is unchanged since it was hashed
    /// to `sha256`.
    pub fn vouch(&self, rel: &str, sha256: &str, meta: &std::fs::Metadata) -> bool {
        self.known().map.get(rel).is_some_and(|s| *s == Stamp::of(sha256, meta))
    }

    /// Remembers that the file at `rel` hashed to `sha256` as it looks now.
    pub fn remember(&self, rel: &str, sha256: &str, meta: &std::fs::Metadata) {
        let stamp = Stamp::of(sha256, meta);
        let mut known = self.known();
        if known.map.get(rel) != Some(&stamp) {
            known.map.insert(rel.to_owned(), stamp);
            known.changed = true;
        }
    }

    /// Writes them back if anything was learnt (atomically; a failure only costs a rehash).
    pub fn save(&self) {
        let Some(file) = &self.file else { return };
        let mut known = self.known();
        if !known.changed {
            return;
        }
        let saved = Saved { format: FORMAT.to_owned(), stamps: std::mem::take(&mut known.map) };
        let written = serde_json::to_vec(&saved).is_ok_and(|bytes| crate::files::write_atomic(file, &bytes).is_ok());
        known.map = saved.stamps;
        known.changed = !written;
    }
}
