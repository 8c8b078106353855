//! File helpers every stage shares: the prefix of pixbatch's temporary files, atomic writes,
//! and the sweep that removes what a killed run left.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The name every temporary file pixbatch makes starts with (partial downloads, atomic writes,
/// the writability probe), so that a run can remove what a killed one left.
pub const TEMP_PREFIX: &str = ".pixbatch-";

/// Temp file in the same folder, fsync, rename: readers see the old file or the new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(TEMP_PREFIX).suffix(".tmp").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    set_readable(tmp.as_file())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Gives a finished file the usual `rw-r--r--` permissions (temp files are private).
pub fn set_readable(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o644))
}

/// Removes those of `folders` that are empty, in the order given (deepest first, so a parent
/// emptied by its children goes too); returns how many. Never a file, nor a folder holding one.
pub fn remove_empty_folders(folders: impl IntoIterator<Item = PathBuf>) -> usize {
    // `remove_dir` removes only an empty folder: a file in one keeps it, whoever put it there.
    folders.into_iter().filter(|f| std::fs::remove_dir(f).is_ok()).count()
}

/// Removes the temporary files (`TEMP_PREFIX*`) a killed run left in `folders`: partial
/// downloads and atomic writes. Call it only with the ledger's lock held, so that no other
/// pixbatch is writing them. Returns how many were removed.
pub fn sweep_leftovers(folders: impl IntoIterator<Item = PathBuf>) -> usize {
    let folders: std::collections::BTreeSet<PathBuf> = folders.into_iter().collect();
    let mut removed = 0;
    for folder in folders {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with(TEMP_PREFIX) && entry.file_type().is_ok_and(|t| t.is_file()) {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => removed += 1,
                    Err(e) => tracing::debug!(error = %e, path = %entry.path().display(), "cannot remove a leftover"),
                }
            }
        }
    }
    removed
}

/// The sha256 of some bytes, in lowercase hex (the ledger's checksum).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
