//! A CMX3600 edit decision list: `TITLE:`, `FCM: NON-DROP FRAME`, then one event per clip,
//! a cut on the video channel from the auxiliary source `AX` (a file, named by the
//! `* FROM CLIP NAME:` comment that follows, which is how Resolve and Premiere relink it),
//! then `* PIXBATCH` comments with the shot, variant, model, job key and prompt.
//!
//! The event line is fixed-column (1-based): event number 1–3, reel 6–13, channel 15–18,
//! transition 21–24, transition length 26–28, source in 30–40, source out 42–52, record in
//! 54–64, record out 66–76. Timecodes are non-drop-frame at the timeline's rate (counting
//! 24 a second at 23.976); the record side starts at 01:00:00:00. An EDL does not name its
//! rate: import it into a project at the rate `timeline.otio` states.

use std::fmt::Write as _;

use super::{Timeline, one_line, timecode};

/// The reel of a file-based source.
const REEL: &str = "AX";

/// The longest title CMX3600 readers take.
const TITLE_MAX: usize = 70;

/// One event line. The field has three digits: numbers past 999 start again at 001 (the
/// record timecodes still order the cut).
pub fn event_line(event: usize, source: (u64, u64), record: (u64, u64), base: u64) -> String {
    format!(
        "{:03}  {:<8} {:<4}  {:<4} {:>3} {} {} {} {}",
        (event.max(1) - 1) % 999 + 1,
        REEL,
        "V",
        "C",
        "",
        timecode(source.0, base),
        timecode(source.1, base),
        timecode(record.0, base),
        timecode(record.1, base),
    )
}

/// The `.edl` text.
pub fn render(timeline: &Timeline) -> String {
    let base = timeline.rate.timecode_base();
    let title: String = one_line(&timeline.title).chars().take(TITLE_MAX).collect();
    let mut out = format!("TITLE: {title}\nFCM: NON-DROP FRAME\n\n");
    let mut record = timeline.start_frames();
    for (n, clip) in timeline.clips.iter().enumerate() {
        let line = event_line(n + 1, (0, clip.frames), (record, record + clip.frames), base);
        record += clip.frames;
        let _ = writeln!(out, "{line}");
        let _ = writeln!(out, "* FROM CLIP NAME: {}", one_line(&clip.file));
        let _ = writeln!(out, "* PIXBATCH SHOT: {}", one_line(&clip.shot));
        if !clip.variant.is_empty() {
            let _ = writeln!(out, "* PIXBATCH VARIANT: {}", one_line(&clip.variant));
        }
        let _ = writeln!(out, "* PIXBATCH MODEL: {}", one_line(&clip.model));
        let _ = writeln!(out, "* PIXBATCH KEY: {}", one_line(&clip.key));
        let _ = writeln!(out, "* PIXBATCH PROMPT: {}", one_line(&clip.prompt));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::event_line;

    #[test]
    fn event_lines_sit_in_the_cmx3600_columns() {
        let line = event_line(7, (0, 121), (86400, 86521), 24);
        assert_eq!(line, "007  AX       V     C        00:00:00:00 00:00:05:01 01:00:00:00 01:00:05:01");
        assert_eq!(line.len(), 76);
        assert_eq!(&line[29..40], "00:00:00:00");
        assert_eq!(&line[65..76], "01:00:05:01");
        assert_eq!(&event_line(999, (0, 1), (0, 1), 24)[..3], "999");
        assert_eq!(&event_line(1000, (0, 1), (0, 1), 24)[..3], "001");
    }
}
