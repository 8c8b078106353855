//! A job's identity: the content hash of what is sent (see `plan::job`), as its own type so a
//! key is never mixed up with a task id, a shot id or a path.

use std::borrow::Borrow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A job key: 64 hex digits of blake3 over the job's request, or whatever a hand-edited or
/// merged journal holds (so nothing here may assume hex or ASCII).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct JobKey(String);

impl JobKey {
    pub fn new(key: impl Into<String>) -> JobKey {
        JobKey(key.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 12 characters, for tables (the whole key when shorter or not cut at a
    /// character boundary).
    pub fn short(&self) -> &str {
        self.0.get(..12).unwrap_or(&self.0)
    }

    /// Which shard (0-based, of `n`) the job belongs to: a function of its key only, so N
    /// runners split the same jobs the same way whatever the manifest's order.
    pub fn shard(&self, n: u32) -> u32 {
        let head = self.0.get(..16).and_then(|h| u64::from_str_radix(h, 16).ok()).unwrap_or(0);
        (head % u64::from(n.max(1))) as u32
    }
}

impl From<&str> for JobKey {
    fn from(key: &str) -> JobKey {
        JobKey(key.to_owned())
    }
}

impl Borrow<str> for JobKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::JobKey;

    #[test]
    fn a_short_key_never_cuts_a_character() {
        assert_eq!(JobKey::new("0123456789abcdef").short(), "0123456789ab");
        assert_eq!(JobKey::new("ключключ").short(), "ключкл");
        assert_eq!(JobKey::new("ab").short(), "ab");
        // 12 bytes fall inside a two-byte character: the whole key, not a panic.
        assert_eq!(JobKey::new("aaaaaaaaaaaé").short(), "aaaaaaaaaaaé");
    }

    #[test]
    fn shards_split_by_the_keys_head() {
        let key = JobKey::new("0000000000000007ffff");
        assert_eq!(key.shard(4), 3);
        assert_eq!(JobKey::new("not hex").shard(4), 0);
        assert_eq!(key.shard(0), 0);
    }
}
