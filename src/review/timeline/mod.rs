//! `export --timeline`: the exported takes as a timeline an editor imports (OpenTimelineIO,
//! CMX3600 EDL, FCPXML), one video track of cuts in storyboard order. This module owns what the
//! three formats share: each clip's length and the frame rate, read from the MP4s themselves
//! (`moov/mvhd` for the length, the video track's sample table for the rate; no ffprobe), and
//! timecodes. Each format's module only writes.
//!
//! Every clip is named after its exported file (`010-intro.mp4`), which is what an editor
//! relinks by; its shot, variant, prompt, model and job key ride along as metadata.

mod edl;
mod fcpxml;
mod otio;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::export::Exported;
use crate::files::write_atomic;

/// The timeline formats `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    /// OpenTimelineIO JSON (`timeline.otio`).
    Otio,
    /// CMX3600 edit decision list (`timeline.edl`).
    Edl,
    /// Final Cut Pro XML 1.9 (`timeline.fcpxml`), which DaVinci Resolve also imports.
    Fcpxml,
}

impl Format {
    /// The file this format is written to, in the export folder.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Otio => "timeline.otio",
            Format::Edl => "timeline.edl",
            Format::Fcpxml => "timeline.fcpxml",
        }
    }
}

/// A frame rate, `num / den` frames per second (`24000/1001` for 23.976).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub num: u64,
    pub den: u64,
}

impl Rate {
    /// The rate assumed when no clip says: 24 fps, film's and most editors' default. (The fake
    /// DashScope's sample MP4 says 8 fps, so a `--fake` export has an 8 fps timeline.)
    pub const DEFAULT: Rate = Rate { num: 24, den: 1 };

    pub fn fps(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// The frames a timecode counts per second: 24 for 23.976 (non-drop-frame).
    pub fn timecode_base(self) -> u64 {
        self.num.div_ceil(self.den).max(1)
    }

    /// `seconds` in whole frames, rounded to the nearest.
    pub fn frames(self, seconds: f64) -> u64 {
        (seconds * self.fps()).round().max(0.0) as u64
    }

    /// A measured rate snapped to the one it stands for: the NTSC rates (`N*1000/1001`), whole
    /// numbers, else the nearest whole number (a timeline needs a rate editors accept).
    fn snap(fps: f64) -> Option<Rate> {
        if !fps.is_finite() || fps < 1.0 {
            return None;
        }
        for n in [24, 30, 48, 60, 120] {
            if (fps - n as f64 * 1000.0 / 1001.0).abs() < 0.005 {
                return Some(Rate { num: n * 1000, den: 1001 });
            }
        }
        Some(Rate { num: fps.round() as u64, den: 1 })
    }
}

impl std::fmt::Display for Rate {
    /// `24`, or `23.976` for a fractional rate.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.den {
            1 => write!(f, "{}", self.num),
            _ => write!(f, "{:.3}", self.fps()),
        }
    }
}

/// `frames` as a non-drop-frame timecode `HH:MM:SS:FF` counting `base` frames a second.
pub fn timecode(frames: u64, base: u64) -> String {
    let base = base.max(1);
    let (ff, secs) = (frames % base, frames / base);
    format!("{:02}:{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60, ff)
}

/// One cut on the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    /// The exported file, relative to the export folder; also the clip's name.
    pub file: String,
    pub shot: String,
    pub variant: String,
    pub prompt: String,
    pub model: String,
    pub key: String,
    /// The length the MP4's header gives.
    pub seconds: f64,
    /// That length in frames at the timeline's rate.
    pub frames: u64,
}

/// The cut: clips back to back on one video track.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub title: String,
    pub rate: Rate,
    /// Width and height of the first clip's video, when its header gives them.
    pub size: Option<(u32, u32)>,
    /// The export folder, absolute (FCPXML wants file URLs).
    pub dir: PathBuf,
    pub clips: Vec<Clip>,
}

impl Timeline {
    /// Where the cut starts on the record side: 01:00:00:00, as editors expect.
    pub fn start_frames(&self) -> u64 {
        3600 * self.rate.timecode_base()
    }

    /// The whole cut in frames.
    pub fn frames(&self) -> u64 {
        self.clips.iter().map(|c| c.frames).sum()
    }
}

/// Why a timeline was not written.
#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    #[error("cannot read the length of {path} from its MP4 header")]
    Length { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// The timeline of an export's files in `dir`, in the order given. The rate is the first
/// clip's whose video track gives one, else [`Rate::DEFAULT`]; every clip is counted at it.
pub fn build(dir: &Path, title: &str, exported: &[Exported]) -> Result<Timeline, TimelineError> {
    let dir = std::path::absolute(dir).map_err(|source| TimelineError::Read { path: dir.to_owned(), source })?;
    let mut probes = Vec::new();
    for e in exported {
        let path = dir.join(&e.file);
        let moov = read_moov(&path).map_err(|source| TimelineError::Read { path: path.clone(), source })?;
        let seconds = moov.as_deref().and_then(crate::plan::refs::mp4_seconds);
        let Some(seconds) = seconds else { return Err(TimelineError::Length { path }) };
        probes.push((seconds, moov.as_deref().and_then(video_track)));
    }
    let first = probes.iter().find_map(|(_, v)| *v);
    let rate = first.and_then(|v| v.rate).unwrap_or(Rate::DEFAULT);
    let clips = exported
        .iter()
        .zip(&probes)
        .map(|(e, (seconds, _))| Clip {
            file: e.file.clone(),
            shot: e.shot.clone(),
            variant: e.variant.clone(),
            prompt: e.prompt.clone(),
            model: e.model.clone(),
            key: e.key.to_string(),
            seconds: *seconds,
            frames: rate.frames(*seconds),
        })
        .collect();
    Ok(Timeline { title: title.to_owned(), rate, size: first.and_then(|v| v.size), dir, clips })
}

/// Writes `timeline` in each of `formats` into its folder, atomically; returns the files.
pub fn write(timeline: &Timeline, formats: &[Format]) -> Result<Vec<PathBuf>, TimelineError> {
    let mut formats = formats.to_vec();
    formats.sort();
    formats.dedup();
    let mut written = Vec::new();
    for format in formats {
        let text = match format {
            Format::Otio => otio::render(timeline),
            Format::Edl => edl::render(timeline),
            Format::Fcpxml => fcpxml::render(timeline),
        };
        let path = timeline.dir.join(format.file_name());
        write_atomic(&path, text.as_bytes()).map_err(|source| TimelineError::Write { path: path.clone(), source })?;
        written.push(path);
    }
    Ok(written)
}

/// The `moov` box of an MP4 (header included), found by walking the top-level box headers,
/// so a long video's media data is never read. `None` when there is none.
fn read_moov(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut at = 0u64;
    while at + 8 <= len {
        let mut head = [0u8; 16];
        file.seek(SeekFrom::Start(at))?;
        file.read_exact(&mut head[..8])?;
        let (size, header) = match u32::from_be_bytes([head[0], head[1], head[2], head[3]]) {
            1 => {
                file.read_exact(&mut head[8..16])?;
                (u64::from_be_bytes(head[8..16].try_into().unwrap_or_default()), 16)
            }
            0 => (len - at, 8),
            n => (u64::from(n), 8),
        };
        if size < header || at + size > len {
            return Ok(None);
        }
        if &head[4..8] == b"moov" {
            // A moov beyond 64 MiB is no MP4 pixbatch downloaded.
            let size = usize::try_from(size).ok().filter(|s| *s <= 64 << 20);
            let Some(size) = size else { return Ok(None) };
            let mut moov = vec![0u8; size];
            file.seek(SeekFrom::Start(at))?;
            file.read_exact(&mut moov)?;
            return Ok(Some(moov));
        }
        at += size;
    }
    Ok(None)
}

/// What the video track of a `moov` box says.
#[derive(Debug, Clone, Copy)]
struct Video {
    rate: Option<Rate>,
    size: Option<(u32, u32)>,
}

/// The first video track (`hdlr` type `vide`) of `moov` (the whole box): its frame rate,
/// samples over the media's length (`mdhd`, `stts`), and its size (`tkhd`).
fn video_track(moov: &[u8]) -> Option<Video> {
    let (_, moov) = boxes(moov).find(|(name, _)| name == b"moov")?;
    boxes(moov).filter(|(name, _)| name == b"trak").find_map(|(_, trak)| {
        let mdia = child(trak, b"mdia")?;
        if child(mdia, b"hdlr")?.get(8..12)? != b"vide" {
            return None;
        }
        let mdhd = child(mdia, b"mdhd")?;
        let (scale, duration) = match *mdhd.first()? {
            0 => (be(mdhd.get(12..16)?), be(mdhd.get(16..20)?)),
            1 => (be(mdhd.get(20..24)?), be(mdhd.get(24..32)?)),
            _ => return None,
        };
        let stts = child(child(child(mdia, b"minf")?, b"stbl")?, b"stts")?;
        let entries = usize::try_from(be(stts.get(4..8)?)).ok()?;
        let samples: u64 = (0..entries).map(|i| stts.get(8 + i * 8..12 + i * 8).map(be)).sum::<Option<u64>>()?;
        let rate = (scale > 0 && duration > 0 && samples > 0)
            .then(|| Rate::snap(samples as f64 * scale as f64 / duration as f64))
            .flatten();
        let tkhd = child(trak, b"tkhd")?;
        let at = if tkhd.first() == Some(&1) { 88 } else { 76 };
        let size = (|| {
            let (w, h) = (be(tkhd.get(at..at + 4)?) >> 16, be(tkhd.get(at + 4..at + 8)?) >> 16);
            (w > 0 && h > 0).then(|| Some((u32::try_from(w).ok()?, u32::try_from(h).ok()?))).flatten()
        })();
        Some(Video { rate, size })
    })
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b))
}

/// The body of the first child box named `name`.
fn child<'a>(bytes: &'a [u8], name: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(bytes).find(|(n, _)| n == name).map(|(_, body)| body)
}

/// A run of ISO-BMFF boxes: each one's type and body; stops at the first malformed header.
fn boxes(mut bytes: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    std::iter::from_fn(move || {
        let name: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
        let (header, size) = match be(bytes.get(..4)?) {
            1 => (16, usize::try_from(be(bytes.get(8..16)?)).ok()?),
            0 => (8, bytes.len()),
            n => (8, usize::try_from(n).ok()?),
        };
        if size < header || size > bytes.len() {
            return None;
        }
        let body = &bytes[header..size];
        bytes = &bytes[size..];
        Some((name, body))
    })
}

/// `text` on one line: what EDL comments and XML attributes can hold.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timecodes_count_frames_at_the_base_rate() {
        assert_eq!(timecode(0, 24), "00:00:00:00");
        assert_eq!(timecode(23, 24), "00:00:00:23");
        assert_eq!(timecode(24, 24), "00:00:01:00");
        assert_eq!(timecode(24 * 61 + 5, 24), "00:01:01:05");
        assert_eq!(timecode(3600 * 25, 25), "01:00:00:00");
        assert_eq!(timecode(3600 * 30 + 30 * 59 * 60 + 29, 30), "01:59:00:29");
        assert_eq!(timecode(9, 8), "00:00:01:01");
    }

    #[test]
    fn rates_snap_to_what_they_stand_for() {
        assert_eq!(Rate::snap(23.976), Some(Rate { num: 24000, den: 1001 }));
        assert_eq!(Rate::snap(29.97003), Some(Rate { num: 30000, den: 1001 }));
        assert_eq!(Rate::snap(24.0), Some(Rate { num: 24, den: 1 }));
        assert_eq!(Rate::snap(15.9), Some(Rate { num: 16, den: 1 }));
        assert_eq!(Rate::snap(0.0), None);
        assert_eq!(Rate { num: 24000, den: 1001 }.timecode_base(), 24);
        assert_eq!(Rate { num: 24000, den: 1001 }.frames(5.005), 120);
        assert_eq!(Rate::DEFAULT.frames(5.02), 120);
        assert_eq!(Rate::DEFAULT.frames(5.03), 121);
    }

    #[test]
    fn the_fake_video_is_one_second_at_8_fps_and_64_by_36() {
        let video = crate::fake::video_for("t-1");
        let video = video_track(&video).expect("a video track");
        assert_eq!(video.rate, Some(Rate { num: 8, den: 1 }));
        assert_eq!(video.size, Some((64, 36)));
    }

    #[test]
    fn the_moov_box_is_found_after_the_media_data_too() {
        let video = crate::fake::video_for("t-1");
        let mut tail_moov = Vec::new();
        let mut moov = Vec::new();
        let mut at = 0;
        for (name, body) in boxes(&video) {
            let whole = &video[at..at + body.len() + 8];
            at += whole.len();
            if &name == b"moov" { moov.extend_from_slice(whole) } else { tail_moov.extend_from_slice(whole) }
        }
        tail_moov.extend_from_slice(&moov);
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("late.mp4"), &tail_moov).expect("write");
        let read = read_moov(&dir.path().join("late.mp4")).expect("read").expect("a moov");
        assert_eq!(read, moov);
        assert_eq!(crate::plan::refs::mp4_seconds(&read), Some(1.0));
        std::fs::write(dir.path().join("none.mp4"), b"\0\0\0\x08free").expect("write");
        assert_eq!(read_moov(&dir.path().join("none.mp4")).expect("read"), None);
    }

    #[test]
    fn one_line_flattens_whitespace() {
        assert_eq!(one_line("a\n b\t\tc  "), "a b c");
    }
}
