//! OpenTimelineIO's JSON (`.otio`), written from its published schema: `Timeline.1` holding a
//! `Stack.1` of one `Track.1` (kind `Video`) of `Clip.2`s, each with an `ExternalReference.1`
//! whose `target_url` is the exported file, relative to the `.otio` file beside it. Times are
//! `RationalTime.1` (value in frames, rate in frames per second) and `TimeRange.1`. The 0.18
//! `color` fields are left out, so older readers (the ones editors bundle) read it too.

use serde_json::{Value, json};

use super::{Rate, Timeline};

/// A `RationalTime.1`.
fn time(frames: u64, rate: Rate) -> Value {
    json!({ "OTIO_SCHEMA": "RationalTime.1", "rate": rate.fps(), "value": frames as f64 })
}

/// A `TimeRange.1` from `start` for `frames`.
fn range(start: u64, frames: u64, rate: Rate) -> Value {
    json!({ "OTIO_SCHEMA": "TimeRange.1", "duration": time(frames, rate), "start_time": time(start, rate) })
}

/// The `.otio` document, pretty-printed, ending with a newline.
pub fn render(timeline: &Timeline) -> String {
    let rate = timeline.rate;
    let clips: Vec<Value> = timeline
        .clips
        .iter()
        .map(|clip| {
            json!({
                "OTIO_SCHEMA": "Clip.2",
                "metadata": { "pixbatch": {
                    "shot": clip.shot,
                    "variant": clip.variant,
                    "prompt": clip.prompt,
                    "model": clip.model,
                    "key": clip.key,
                    "seconds": clip.seconds,
                } },
                "name": clip.file,
                "source_range": range(0, clip.frames, rate),
                "effects": [],
                "markers": [],
                "enabled": true,
                "media_references": { "DEFAULT_MEDIA": {
                    "OTIO_SCHEMA": "ExternalReference.1",
                    "metadata": {},
                    "name": clip.file,
                    "available_range": range(0, clip.frames, rate),
                    "available_image_bounds": null,
                    "target_url": clip.file,
                } },
                "active_media_reference_key": "DEFAULT_MEDIA",
            })
        })
        .collect();
    let track = json!({
        "OTIO_SCHEMA": "Track.1",
        "metadata": {},
        "name": "V1",
        "source_range": null,
        "effects": [],
        "markers": [],
        "enabled": true,
        "children": clips,
        "kind": "Video",
    });
    let doc = json!({
        "OTIO_SCHEMA": "Timeline.1",
        "metadata": { "pixbatch": { "rate": format!("{}/{}", rate.num, rate.den) } },
        "name": timeline.title,
        "global_start_time": time(timeline.start_frames(), rate),
        "tracks": {
            "OTIO_SCHEMA": "Stack.1",
            "metadata": {},
            "name": "tracks",
            "source_range": null,
            "effects": [],
            "markers": [],
            "enabled": true,
            "children": [track],
        },
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::super::{Clip, Rate, Timeline};

    #[test]
    fn clips_carry_frames_at_the_rate_and_a_relative_target() {
        let timeline = Timeline {
            title: "cut".into(),
            rate: Rate { num: 24000, den: 1001 },
            size: None,
            dir: "/tmp/cut".into(),
            clips: vec![Clip {
                file: "010-intro.mp4".into(),
                shot: "intro".into(),
                variant: "seed=1".into(),
                prompt: "a \"quoted\" prompt".into(),
                model: "m".into(),
                key: "k".into(),
                seconds: 5.005,
                frames: 120,
            }],
        };
        let doc: serde_json::Value = serde_json::from_str(&super::render(&timeline)).expect("json");
        let clip = &doc["tracks"]["children"][0]["children"][0];
        assert_eq!(clip["source_range"]["duration"]["value"], 120.0);
        assert!((clip["source_range"]["duration"]["rate"].as_f64().expect("rate") - 23.976).abs() < 0.001);
        assert_eq!(clip["media_references"]["DEFAULT_MEDIA"]["target_url"], "010-intro.mp4");
        assert_eq!(clip["metadata"]["pixbatch"]["prompt"], "a \"quoted\" prompt");
        assert_eq!(doc["global_start_time"]["value"], 86400.0);
    }
}
