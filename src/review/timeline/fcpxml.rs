//! Final Cut Pro XML 1.9 (the first version with `media-rep`), which Final Cut Pro and
//! DaVinci Resolve import: `resources` (one `format` at the timeline's rate, one `asset` per
//! file, its `media-rep` an absolute `file://` URL, as Final Cut Pro takes no relative ones),
//! then `library/event/project/sequence/spine` with an `asset-clip` per clip. Times are
//! rational seconds (`1001/24000s`), on frame boundaries; the sequence starts at 01:00:00:00.
//! Each clip carries a `note` (the prompt), a marker at its first frame naming the shot and
//! variant, and `metadata` with the shot, variant, model, job key and prompt. quick-xml escapes
//! every text and attribute.

use std::io;
use std::path::Path;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::{Rate, Timeline, one_line};

/// `frames` at `rate` as FCPXML rational seconds, reduced: `0s`, `3600s`, `1001/24000s`.
pub fn seconds(frames: u64, rate: Rate) -> String {
    let (num, den) = (frames * rate.den, rate.num.max(1));
    if num == 0 {
        return "0s".to_owned();
    }
    let g = gcd(num, den);
    match (num / g, den / g) {
        (n, 1) => format!("{n}s"),
        (n, d) => format!("{n}/{d}s"),
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// `path` (absolute) as a `file://` URL, percent-encoded.
pub fn file_url(path: &Path) -> String {
    url::Url::from_file_path(path).map(String::from).unwrap_or_default()
}

/// Characters XML 1.0 cannot hold at all (escaped or not) are dropped.
fn xml_chars(text: &str) -> String {
    text.chars().filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r')).collect()
}

/// The `.fcpxml` text.
pub fn render(timeline: &Timeline) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec cannot fail.
    let _ = document(&mut writer, timeline);
    let mut text = String::from_utf8(writer.into_inner()).unwrap_or_default();
    text.push('\n');
    text
}

fn document(w: &mut Writer<Vec<u8>>, timeline: &Timeline) -> io::Result<()> {
    let rate = timeline.rate;
    let t = |frames| seconds(frames, rate);
    let title = xml_chars(&one_line(&timeline.title));
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::DocType(BytesText::from_escaped("fcpxml")))?;
    w.create_element("fcpxml").with_attribute(("version", "1.9")).write_inner_content(|w| {
        w.create_element("resources").write_inner_content(|w| {
            let mut format = w
                .create_element("format")
                .with_attribute(("id", "r1"))
                .with_attribute(("frameDuration", t(1).as_str()));
            if let Some((width, height)) = timeline.size {
                format = format
                    .with_attribute(("width", width.to_string().as_str()))
                    .with_attribute(("height", height.to_string().as_str()));
            }
            format.write_empty()?;
            for (n, clip) in timeline.clips.iter().enumerate() {
                let url = file_url(&timeline.dir.join(&clip.file));
                w.create_element("asset")
                    .with_attribute(("id", format!("r{}", n + 2).as_str()))
                    .with_attribute(("name", xml_chars(&clip.file).as_str()))
                    .with_attribute(("start", "0s"))
                    .with_attribute(("duration", t(clip.frames).as_str()))
                    .with_attribute(("hasVideo", "1"))
                    .with_attribute(("format", "r1"))
                    .with_attribute(("videoSources", "1"))
                    .write_inner_content(|w| {
                        w.create_element("media-rep")
                            .with_attribute(("kind", "original-media"))
                            .with_attribute(("src", url.as_str()))
                            .write_empty()?;
                        Ok(())
                    })?;
            }
            Ok(())
        })?;
        w.create_element("library").write_inner_content(|w| {
            w.create_element("event").with_attribute(("name", title.as_str())).write_inner_content(|w| {
                w.create_element("project").with_attribute(("name", title.as_str())).write_inner_content(|w| {
                    w.create_element("sequence")
                        .with_attribute(("format", "r1"))
                        .with_attribute(("duration", t(timeline.frames()).as_str()))
                        .with_attribute(("tcStart", t(timeline.start_frames()).as_str()))
                        .with_attribute(("tcFormat", "NDF"))
                        .write_inner_content(|w| {
                            w.create_element("spine").write_inner_content(|w| spine(w, timeline))?;
                            Ok(())
                        })?;
                    Ok(())
                })?;
                Ok(())
            })?;
            Ok(())
        })?;
        Ok(())
    })?;
    Ok(())
}

fn spine(w: &mut Writer<Vec<u8>>, timeline: &Timeline) -> io::Result<()> {
    let t = |frames| seconds(frames, timeline.rate);
    let mut offset = timeline.start_frames();
    for (n, clip) in timeline.clips.iter().enumerate() {
        let label = match clip.variant.as_str() {
            "" => clip.shot.clone(),
            v => format!("{} {v}", clip.shot),
        };
        let prompt = xml_chars(&clip.prompt);
        w.create_element("asset-clip")
            .with_attribute(("ref", format!("r{}", n + 2).as_str()))
            .with_attribute(("name", xml_chars(&clip.file).as_str()))
            .with_attribute(("offset", t(offset).as_str()))
            .with_attribute(("duration", t(clip.frames).as_str()))
            .with_attribute(("start", "0s"))
            .with_attribute(("format", "r1"))
            .with_attribute(("tcFormat", "NDF"))
            .write_inner_content(|w| {
                // The order the DTD asks: note, markers, metadata.
                w.create_element("note").write_text_content(BytesText::new(&prompt))?;
                w.create_element("marker")
                    .with_attribute(("start", "0s"))
                    .with_attribute(("duration", t(1).as_str()))
                    .with_attribute(("value", xml_chars(&one_line(&label)).as_str()))
                    .with_attribute(("note", xml_chars(&one_line(&clip.prompt)).as_str()))
                    .write_empty()?;
                w.create_element("metadata").write_inner_content(|w| {
                    let fields = [
                        ("com.apple.proapps.studio.shotName", &clip.shot),
                        ("pixbatch.variant", &clip.variant),
                        ("pixbatch.model", &clip.model),
                        ("pixbatch.key", &clip.key),
                        ("pixbatch.prompt", &clip.prompt),
                    ];
                    for (key, value) in fields {
                        w.create_element("md")
                            .with_attribute(("key", key))
                            .with_attribute(("value", xml_chars(&one_line(value)).as_str()))
                            .write_empty()?;
                    }
                    Ok(())
                })?;
                Ok(())
            })?;
        offset += clip.frames;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_reduced_rational_seconds() {
        let ntsc = Rate { num: 24000, den: 1001 };
        assert_eq!(seconds(0, ntsc), "0s");
        assert_eq!(seconds(1, ntsc), "1001/24000s");
        assert_eq!(seconds(120, ntsc), "1001/200s");
        assert_eq!(seconds(86400, Rate::DEFAULT), "3600s");
        assert_eq!(seconds(1, Rate { num: 8, den: 1 }), "1/8s");
        assert_eq!(seconds(12, Rate::DEFAULT), "1/2s");
    }

    #[test]
    fn file_urls_are_percent_encoded() {
        assert_eq!(file_url(Path::new("/tmp/my cut/010-a#b.mp4")), "file:///tmp/my%20cut/010-a%23b.mp4");
        assert_eq!(file_url(Path::new("/é")), "file:///%C3%A9");
    }
}
