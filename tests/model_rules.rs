//! Every DashScope video family's request rules, pinned against the fake over real HTTP.
//!
//! Written from the facts documents (`dashscope-video-models.md`, `dashscope-api.md`), not from
//! the catalog, so that a wrong catalog entry cannot be mirrored here. Each row cites the
//! section it comes from, sends one valid body (which must be accepted, reach SUCCEEDED and
//! answer with the family's `usage` shape) and one or more invalid bodies (each refused with
//! HTTP 400 `InvalidParameter` whose message names the offending field). A refused body must
//! not become a task.

mod common;

use std::time::{Duration, Instant};

use pixbatch::fake::{DurationRange, FakeConfig, FakeServer};
use serde_json::{Value, json};

const VIDEO: &str = "/api/v1/services/aigc/video-generation/video-synthesis";
/// Wan first/last-frame models only (`dashscope-video-models.md` §0.2, §1, §4).
const KF2V: &str = "/api/v1/services/aigc/image2video/video-synthesis";

const IMG: &str = "https://example.com/a.jpg";
const IMG2: &str = "https://example.com/b.png";
const CLIP: &str = "https://example.com/walk.mp4";

/// How a family's SUCCEEDED `usage` looks.
#[derive(Debug, Clone, Copy)]
enum Usage {
    /// PixVerse (`dashscope-api.md` §3.2, §10.5): `duration` int, `size`, `fps`, `audio`,
    /// `video_count`, `SR` a string.
    PixVerse,
    /// Wan 2.7 / 2.6 and HappyHorse (video-models §2.2, §3, §4): `duration` (= input + output
    /// video seconds), `input_video_duration`, `output_video_duration`, `video_count`, `SR`
    /// an int (the Wan SDK examples show a string: CONFLICT, both accepted).
    WanNew,
    /// Wan 2.5 / 2.2 i2v (§4): `duration`, `SR`, `video_count`.
    WanMid,
    /// Wan ≤2.5 t2v and kf2v (§0.4, §3, §4): `video_duration` instead of `duration`,
    /// `video_count`.
    WanOld,
    /// Kling (§2.2): PixVerse-like `usage` (`SR` a string) and `output.watermark_video_url`.
    Kling,
    /// Vidu (§2.2, §3): `duration`, `size`, `output_video_duration`, `fps`, `audio`,
    /// `video_count`, `SR` a string; r2v adds `reference_type`.
    Vidu { r2v: bool },
}

/// One invalid body: why it is wrong, the body, and the field its refusal must name.
struct Bad {
    why: &'static str,
    body: Value,
    field: &'static str,
}

struct Row {
    endpoint: &'static str,
    valid: Value,
    /// The seconds `usage` bills for the valid body.
    seconds: f64,
    /// The tier `usage.SR` reports ("720", "1080", …), when the family reports one.
    sr: Option<&'static str>,
    usage: Usage,
    bad: Vec<Bad>,
}

/// `body` with the value at the JSON pointer `ptr` replaced (or added, one level deep).
fn set(body: &Value, ptr: &str, value: Value) -> Value {
    let mut out = body.clone();
    let (parent, key) = ptr.rsplit_once('/').expect("a pointer");
    let slot = out.pointer_mut(parent).unwrap_or_else(|| panic!("no {parent} in {body}"));
    match slot {
        Value::Object(map) => {
            map.insert(key.to_owned(), value);
        }
        Value::Array(items) => {
            let i: usize = key.parse().expect("an index");
            items[i] = value;
        }
        other => panic!("{parent} is {other}"),
    }
    out
}

/// `body` without the value at `ptr`.
fn remove(body: &Value, ptr: &str) -> Value {
    let mut out = body.clone();
    let (parent, key) = ptr.rsplit_once('/').expect("a pointer");
    match out.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(key).unwrap_or_else(|| panic!("no {ptr} in {body}"));
        }
        Some(Value::Array(items)) => {
            items.remove(key.parse::<usize>().expect("an index"));
        }
        _ => panic!("no {parent} in {body}"),
    }
    out
}

fn images(kind: &str, n: usize) -> Value {
    Value::Array((0..n).map(|i| json!({"type": kind, "url": format!("https://example.com/{i}.jpg")})).collect())
}

fn bad(why: &'static str, body: Value, field: &'static str) -> Bad {
    Bad { why, body, field }
}

mod rows {
    use super::*;

    // dashscope-api.md §1.4, §1.6, §10.1 (c1-r2v: 1–7 `image_url`, size table, duration 1–15).
    pub fn pixverse_c1_r2v() -> Row {
        let valid = json!({
            "model": "pixverse/pixverse-c1-r2v",
            "input": {"prompt": "@man waves", "media": [{"type": "image_url", "url": IMG, "ref_name": "man"}]},
            "parameters": {"size": "1280*720", "duration": 5, "audio": false, "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            seconds: 5.0,
            sr: Some("720"),
            usage: Usage::PixVerse,
            bad: vec![
                bad("duration 16 is past c1's 1–15", set(&valid, "/parameters/duration", json!(16)), "duration"),
                bad("8 images, the limit is 7", set(&valid, "/input/media", images("image_url", 8)), "media"),
            ],
            valid,
        }
    }

    // dashscope-api.md §1.6, §1.7, §10.2 (v5.6-r2v: 5/8/10 s, 1080P 5/8 s).
    pub fn pixverse_v56_r2v() -> Row {
        let valid = json!({
            "model": "pixverse/pixverse-v5.6-r2v",
            "input": {"prompt": "@cat and @dog play", "media": [
                {"type": "image_url", "url": IMG, "ref_name": "cat"},
                {"type": "image_url", "url": IMG2, "ref_name": "dog"}]},
            "parameters": {"size": "1246*1662", "duration": 8, "audio": true, "watermark": false, "seed": 12345}
        });
        Row {
            endpoint: VIDEO,
            seconds: 8.0,
            sr: Some("1080"),
            usage: Usage::PixVerse,
            bad: vec![bad("10 s at 1080P (5 or 8 only)", set(&valid, "/parameters/duration", json!(10)), "duration")],
            valid,
        }
    }

    // video-models §3 (PixVerse `*-t2v`: `size` required, c1 8-ratio table, duration 1–15).
    pub fn pixverse_t2v() -> Row {
        let valid = json!({
            "model": "pixverse/pixverse-c1-t2v",
            "input": {"prompt": "a fox runs through snow"},
            "parameters": {"size": "1280*720", "duration": 5, "audio": false, "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            seconds: 5.0,
            sr: Some("720"),
            usage: Usage::PixVerse,
            bad: vec![
                bad("t2v without the required size", remove(&valid, "/parameters/size"), "size"),
                bad("duration 16 is past 1–15", set(&valid, "/parameters/duration", json!(16)), "duration"),
            ],
            valid,
        }
    }

    // video-models §4 (PixVerse `*-it2v`: `image_url`, `resolution` required 360P/540P/720P/1080P).
    pub fn pixverse_it2v() -> Row {
        let valid = json!({
            "model": "pixverse/pixverse-c1-it2v",
            "input": {"prompt": "he walks toward the camera", "media": [{"type": "image_url", "url": IMG}]},
            "parameters": {"resolution": "720P", "duration": 5, "audio": false, "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            seconds: 5.0,
            sr: Some("720"),
            usage: Usage::PixVerse,
            bad: vec![
                bad("480P is not a PixVerse tier", set(&valid, "/parameters/resolution", json!("480P")), "resolution"),
                bad("resolution is required", remove(&valid, "/parameters/resolution"), "resolution"),
            ],
            valid,
        }
    }

    // video-models §4 (PixVerse `*-kf2v`: exactly 1 `first_frame` + 1 `last_frame`, prompt required).
    pub fn pixverse_kf2v() -> Row {
        let valid = json!({
            "model": "pixverse/pixverse-c1-kf2v",
            "input": {"prompt": "the camera glides from the bridge to the cafe door", "media": [
                {"type": "first_frame", "url": IMG}, {"type": "last_frame", "url": IMG2}]},
            "parameters": {"resolution": "720P", "duration": 5, "audio": false, "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            seconds: 5.0,
            sr: Some("720"),
            usage: Usage::PixVerse,
            bad: vec![bad("kf2v without its last frame", remove(&valid, "/input/media/1"), "last_frame")],
            valid,
        }
    }

    // video-models §2.1 wan2.7-r2v (media reference_image/reference_video, images + videos ≤ 5,
    // resolution + ratio, duration 2–10 with a video), §2.2 (usage: duration = in + out).
    pub fn wan27_r2v() -> Row {
        let valid = json!({
            "model": "wan2.7-r2v",
            "input": {"prompt": "Image 1 walks like Video 1", "media": [
                {"type": "reference_image", "url": IMG}, {"type": "reference_video", "url": CLIP}]},
            "parameters": {"resolution": "720P", "ratio": "16:9", "duration": 5, "prompt_extend": true, "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            // Output seconds only is the lower bound; the reference video's seconds are added
            // (checked in `check_usage` as duration = input + output).
            seconds: 5.0,
            sr: Some("720"),
            usage: Usage::WanNew,
            bad: vec![
                bad("6 media, the limit is 5", set(&valid, "/input/media", images("reference_image", 6)), "media"),
                bad("11 s with a reference video (2–10)", set(&valid, "/parameters/duration", json!(11)), "duration"),
                bad("ratio 21:9 is not one of wan2.7's five", set(&valid, "/parameters/ratio", json!("21:9")), "ratio"),
            ],
            valid,
        }
    }

    // video-models §3 wan2.7-t2v (resolution 720P/1080P, ratio, duration 2–15, usage as §2.2).
    pub fn wan27_t2v() -> Row {
        let valid = json!({
            "model": "wan2.7-t2v",
            "input": {"prompt": "a lighthouse in a storm", "negative_prompt": "blurry"},
            "parameters": {"resolution": "1080P", "ratio": "9:16", "duration": 10, "prompt_extend": false, "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            seconds: 10.0,
            sr: Some("1080"),
            usage: Usage::WanNew,
            bad: vec![
                bad(
                    "480P is not a wan2.7-t2v tier",
                    set(&valid, "/parameters/resolution", json!("480P")),
                    "resolution",
                ),
                bad("16 s is past 2–15", set(&valid, "/parameters/duration", json!(16)), "duration"),
            ],
            valid,
        }
    }

    // video-models §4 wan2.7-i2v (media first_frame [+ last_frame], resolution, duration 2–15).
    pub fn wan27_i2v() -> Row {
        let valid = json!({
            "model": "wan2.7-i2v",
            "input": {"prompt": "the door opens", "media": [
                {"type": "first_frame", "url": IMG}, {"type": "last_frame", "url": IMG2}]},
            "parameters": {"resolution": "720P", "duration": 5, "prompt_extend": true, "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            seconds: 5.0,
            sr: Some("720"),
            usage: Usage::WanNew,
            bad: vec![
                bad("16 s is past 2–15", set(&valid, "/parameters/duration", json!(16)), "duration"),
                bad("a last frame alone is not an allowed set", remove(&valid, "/input/media/0"), "first_frame"),
            ],
            valid,
        }
    }

    // video-models §2.1 wan2.6-r2v (`input.reference_urls[]`, `size` W*H, duration 2–10),
    // §2.2 (usage: duration float, size, in/out durations, SR).
    pub fn wan26_r2v() -> Row {
        let valid = json!({
            "model": "wan2.6-r2v",
            "input": {"prompt": "character1 dances in the rain", "reference_urls": [IMG]},
            "parameters": {"size": "1280*720", "duration": 5, "shot_type": "single", "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            seconds: 5.0,
            sr: Some("720"),
            usage: Usage::WanNew,
            bad: vec![
                bad("11 s is past 2–10", set(&valid, "/parameters/duration", json!(11)), "duration"),
                bad(
                    "6 references, the limit is 5",
                    set(&valid, "/input/reference_urls", json!(vec![IMG; 6])),
                    "reference_urls",
                ),
            ],
            valid,
        }
    }

    // video-models §4 wan2.6-i2v (`input.img_url`, resolution 720P/1080P, duration 2–15).
    pub fn wan26_i2v() -> Row {
        let valid = json!({
            "model": "wan2.6-i2v",
            "input": {"prompt": "leaves fall", "img_url": IMG},
            "parameters": {"resolution": "720P", "duration": 5, "prompt_extend": true, "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            seconds: 5.0,
            sr: Some("720"),
            usage: Usage::WanNew,
            bad: vec![
                bad("img_url is required", remove(&valid, "/input/img_url"), "img_url"),
                bad("480P is not a wan2.6 tier", set(&valid, "/parameters/resolution", json!("480P")), "resolution"),
            ],
            valid,
        }
    }

    // video-models §4 wan2.5-i2v-preview (`img_url`, 480/720/1080P, duration 5 or 10; usage
    // `duration`, `SR`, `video_count`).
    pub fn wan25_i2v() -> Row {
        let valid = json!({
            "model": "wan2.5-i2v-preview",
            "input": {"prompt": "waves roll in", "img_url": IMG},
            "parameters": {"resolution": "480P", "duration": 10, "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            seconds: 10.0,
            sr: Some("480"),
            usage: Usage::WanMid,
            bad: vec![bad("7 s (2.5 takes 5 or 10)", set(&valid, "/parameters/duration", json!(7)), "duration")],
            valid,
        }
    }

    // video-models §4 wan2.2-i2v-plus (`img_url`, resolution 480P/1080P only, fixed 5 s).
    pub fn wan22_i2v() -> Row {
        let valid = json!({
            "model": "wan2.2-i2v-plus",
            "input": {"prompt": "a cat yawns", "img_url": IMG},
            "parameters": {"resolution": "1080P", "duration": 5, "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            seconds: 5.0,
            sr: Some("1080"),
            usage: Usage::WanMid,
            bad: vec![bad(
                "720P (2.2-plus has 480P and 1080P)",
                set(&valid, "/parameters/resolution", json!("720P")),
                "resolution",
            )],
            valid,
        }
    }

    // video-models §3 wan2.5-t2v-preview (`size` W*H, duration 5/10; usage `video_duration`).
    pub fn wan25_t2v() -> Row {
        let valid = json!({
            "model": "wan2.5-t2v-preview",
            "input": {"prompt": "a paper boat on a river"},
            "parameters": {"size": "832*480", "duration": 5, "prompt_extend": true, "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            seconds: 5.0,
            sr: None,
            usage: Usage::WanOld,
            bad: vec![bad("7 s (2.5 takes 5 or 10)", set(&valid, "/parameters/duration", json!(7)), "duration")],
            valid,
        }
    }

    // video-models §0.2, §4 wan2.2-kf2v-flash: its OWN endpoint, `first_frame_url` (required) +
    // `last_frame_url`, resolution 480/720/1080P, fixed 5 s; usage `video_duration`.
    pub fn wan_kf2v() -> Row {
        let valid = json!({
            "model": "wan2.2-kf2v-flash",
            "input": {"prompt": "day turns to night", "first_frame_url": IMG, "last_frame_url": IMG2},
            "parameters": {"resolution": "720P", "prompt_extend": true, "watermark": false}
        });
        Row {
            endpoint: KF2V,
            seconds: 5.0,
            sr: Some("720"),
            usage: Usage::WanOld,
            bad: vec![
                bad("first_frame_url is required", remove(&valid, "/input/first_frame_url"), "first_frame_url"),
                bad("2K is not a kf2v tier", set(&valid, "/parameters/resolution", json!("2K")), "resolution"),
            ],
            valid,
        }
    }

    // video-models §2.1 happyhorse-1.0-r2v (`reference_image` only, 1–9 images, resolution +
    // ratio, duration 3–15), §2.2 (usage like Wan, output seconds only).
    pub fn happyhorse_r2v() -> Row {
        let valid = json!({
            "model": "happyhorse-1.0-r2v",
            "input": {"prompt": "[Image 1] rides [Image 2]", "media": [
                {"type": "reference_image", "url": IMG}, {"type": "reference_image", "url": IMG2}]},
            "parameters": {"resolution": "720P", "ratio": "4:5", "duration": 5, "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            seconds: 5.0,
            sr: Some("720"),
            usage: Usage::WanNew,
            bad: vec![
                bad("10 images, the limit is 9", set(&valid, "/input/media", images("reference_image", 10)), "media"),
                bad(
                    "a reference video (images only)",
                    set(&valid, "/input/media/1", json!({"type": "reference_video", "url": CLIP})),
                    "reference_video",
                ),
            ],
            valid,
        }
    }

    // video-models §3 happyhorse-1.0-t2v (resolution + 9 ratios, duration 3–15).
    pub fn happyhorse_t2v() -> Row {
        let valid = json!({
            "model": "happyhorse-1.0-t2v",
            "input": {"prompt": "horses gallop on a beach"},
            "parameters": {"resolution": "1080P", "ratio": "21:9", "duration": 15, "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            seconds: 15.0,
            sr: Some("1080"),
            usage: Usage::WanNew,
            bad: vec![
                bad("16 s is past 3–15", set(&valid, "/parameters/duration", json!(16)), "duration"),
                bad("2 s is below 3–15", set(&valid, "/parameters/duration", json!(2)), "duration"),
            ],
            valid,
        }
    }

    // video-models §4 happyhorse-1.0-i2v (exactly 1 `first_frame`, 720P/1080P, 3–15 s).
    pub fn happyhorse_i2v() -> Row {
        let valid = json!({
            "model": "happyhorse-1.0-i2v",
            "input": {"prompt": "the horse turns its head", "media": [{"type": "first_frame", "url": IMG}]},
            "parameters": {"resolution": "720P", "duration": 3, "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            seconds: 3.0,
            sr: Some("720"),
            usage: Usage::WanNew,
            bad: vec![
                bad("two first frames (exactly 1)", set(&valid, "/input/media", images("first_frame", 2)), "media"),
                bad(
                    "540P is not a happyhorse tier",
                    set(&valid, "/parameters/resolution", json!("540P")),
                    "resolution",
                ),
            ],
            valid,
        }
    }

    // video-models §3 Kling v3 t2v (`mode` + `aspect_ratio` 16:9/9:16/1:1, required for t2v;
    // duration 3–15), §2.2 (usage with `SR` a string, `watermark_video_url`).
    pub fn kling_v3() -> Row {
        let valid = json!({
            "model": "kling/kling-v3-video-generation",
            "input": {"prompt": "a samurai draws his sword"},
            "parameters": {"mode": "std", "aspect_ratio": "16:9", "duration": 5, "audio": false, "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            seconds: 5.0,
            sr: Some("720"),
            usage: Usage::Kling,
            bad: vec![
                bad(
                    "aspect ratio 21:9 (Kling has 16:9, 9:16, 1:1)",
                    set(&valid, "/parameters/aspect_ratio", json!("21:9")),
                    "aspect_ratio",
                ),
                bad("t2v without aspect_ratio", remove(&valid, "/parameters/aspect_ratio"), "aspect_ratio"),
                bad("2 s is below 3–15", set(&valid, "/parameters/duration", json!(2)), "duration"),
            ],
            valid,
        }
    }

    // video-models §2.1 Kling v3-omni r2v (`refer` images ≤ 7, `feature` video 3–10 s total
    // duration, aspect_ratio required for refer/feature), §2.2 usage.
    pub fn kling_v3_omni() -> Row {
        let valid = json!({
            "model": "kling/kling-v3-omni-video-generation",
            "input": {"prompt": "<<<image_1>>> waves at <<<image_2>>>", "media": [
                {"type": "refer", "url": IMG}, {"type": "refer", "url": IMG2}]},
            "parameters": {"mode": "pro", "aspect_ratio": "1:1", "duration": 5, "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            seconds: 5.0,
            sr: Some("1080"),
            usage: Usage::Kling,
            bad: vec![
                bad("8 refer images, the limit is 7", set(&valid, "/input/media", images("refer", 8)), "media"),
                bad("refer without aspect_ratio", remove(&valid, "/parameters/aspect_ratio"), "aspect_ratio"),
                bad(
                    "11 s with a feature video (3–10)",
                    set(
                        &set(&valid, "/input/media/1", json!({"type": "feature", "url": CLIP})),
                        "/parameters/duration",
                        json!(11),
                    ),
                    "duration",
                ),
            ],
            valid,
        }
    }

    // video-models §2.1 Vidu r2v (`image` 1–7; `video` only on viduq2-pro; resolution + size
    // §2.3; q3 1–16 s), §2.2 (usage with `reference_type`, `SR` a string).
    pub fn vidu_r2v() -> Row {
        let valid = json!({
            "model": "vidu/viduq3_reference2video",
            "input": {"prompt": "the girl and the robot walk together", "media": [
                {"type": "image", "url": IMG}, {"type": "image", "url": IMG2}]},
            "parameters": {"resolution": "720P", "size": "1280*720", "duration": 5, "audio": false, "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            seconds: 5.0,
            sr: Some("720"),
            usage: Usage::Vidu { r2v: true },
            bad: vec![
                bad("8 images, the limit is 7", set(&valid, "/input/media", images("image", 8)), "media"),
                bad(
                    "a video reference on q3 (only q2-pro takes video)",
                    set(&valid, "/input/media/1", json!({"type": "video", "url": CLIP})),
                    "video",
                ),
                bad("17 s is past q3's 1–16", set(&valid, "/parameters/duration", json!(17)), "duration"),
            ],
            valid,
        }
    }

    // video-models §4 Vidu img2video (exactly 1 `image`, 540/720/1080P, q3 1–16 s).
    pub fn vidu_img2video() -> Row {
        let valid = json!({
            "model": "vidu/viduq3-pro_img2video",
            "input": {"prompt": "the kite rises", "media": [{"type": "image", "url": IMG}]},
            "parameters": {"resolution": "1080P", "duration": 16, "audio": true, "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            seconds: 16.0,
            sr: Some("1080"),
            usage: Usage::Vidu { r2v: false },
            bad: vec![
                bad("two images (img2video takes exactly 1)", set(&valid, "/input/media", images("image", 2)), "media"),
                bad("17 s is past q3's 1–16", set(&valid, "/parameters/duration", json!(17)), "duration"),
            ],
            valid,
        }
    }

    // video-models §3 Vidu text2video (resolution + size §2.3; q2 1–10 s; no audio on q2).
    pub fn vidu_text2video() -> Row {
        let valid = json!({
            "model": "vidu/viduq2_text2video",
            "input": {"prompt": "a city at dawn, time lapse"},
            "parameters": {"resolution": "540P", "size": "1024*576", "duration": 10, "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            seconds: 10.0,
            sr: Some("540"),
            usage: Usage::Vidu { r2v: false },
            bad: vec![bad("11 s is past q2's 1–10", set(&valid, "/parameters/duration", json!(11)), "duration")],
            valid,
        }
    }

    // video-models §4 Vidu start-end2video (exactly 2 `image`, prompt, resolution and duration
    // required).
    pub fn vidu_start_end() -> Row {
        let valid = json!({
            "model": "vidu/viduq3-turbo_start-end2video",
            "input": {"prompt": "the bud opens into a flower", "media": [
                {"type": "image", "url": IMG}, {"type": "image", "url": IMG2}]},
            "parameters": {"resolution": "720P", "duration": 5, "watermark": false}
        });
        Row {
            endpoint: VIDEO,
            seconds: 5.0,
            sr: Some("720"),
            usage: Usage::Vidu { r2v: false },
            bad: vec![
                bad("one image (start-end takes exactly 2)", remove(&valid, "/input/media/1"), "media"),
                bad("resolution is required", remove(&valid, "/parameters/resolution"), "resolution"),
            ],
            valid,
        }
    }
}

// ---------------------------------------------------------------------------------------------

async fn post(http: &reqwest::Client, fake: &FakeServer, path: &str, body: &Value) -> (u16, Value) {
    let resp = http
        .post(format!("{}{path}", fake.base_url()))
        .header("Authorization", "Bearer sk-test")
        .header("X-DashScope-Async", "enable")
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("create reached the fake");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn query(http: &reqwest::Client, fake: &FakeServer, id: &str) -> Value {
    let resp = http
        .get(format!("{}/api/v1/tasks/{id}", fake.base_url()))
        .header("Authorization", "Bearer sk-test")
        .send()
        .await
        .expect("query reached the fake");
    assert_eq!(resp.status().as_u16(), 200, "query {id}");
    resp.json().await.expect("query JSON")
}

/// Polls the task until it is final, for at most 20 s.
async fn wait_final(http: &reqwest::Client, fake: &FakeServer, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let task = query(http, fake, id).await;
        let status = task["output"]["task_status"].as_str().unwrap_or_default().to_owned();
        if matches!(status.as_str(), "SUCCEEDED" | "FAILED" | "CANCELED" | "UNKNOWN") {
            return task;
        }
        assert!(Instant::now() < deadline, "task {id} still {status} after 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn num(usage: &Value, key: &str) -> f64 {
    usage[key].as_f64().unwrap_or_else(|| panic!("usage.{key} is not a number in {usage}"))
}

/// `SR` as text, whether the family sends a string or a number.
fn sr_text(usage: &Value, string_only: bool) -> String {
    match &usage["SR"] {
        Value::String(s) => s.clone(),
        Value::Number(n) if !string_only => n.to_string(),
        other => panic!("usage.SR is {other} in {usage}"),
    }
}

fn check_usage(row: &Row, task: &Value) -> Result<(), String> {
    let usage = &task["usage"];
    if !usage.is_object() {
        return Err(format!("no usage in {task}"));
    }
    let fail = |what: &str| Err(format!("{what}; usage {usage}"));
    let check_sr = |string_only: bool| -> Result<(), String> {
        if let Some(sr) = row.sr {
            let got = sr_text(usage, string_only);
            if got != sr {
                return Err(format!("usage.SR {got}, expected {sr}; usage {usage}"));
            }
        }
        Ok(())
    };
    match row.usage {
        Usage::PixVerse | Usage::Kling => {
            if !usage["duration"].is_u64() {
                return fail("usage.duration is not an integer");
            }
            if num(usage, "duration") != row.seconds {
                return fail(&format!("usage.duration is not {}", row.seconds));
            }
            if !usage["SR"].is_string() {
                return fail("usage.SR is not a string");
            }
            check_sr(true)?;
            if !usage["size"].is_string() || !usage["audio"].is_boolean() || !usage["fps"].is_u64() {
                return fail("size/audio/fps missing");
            }
            if usage["video_count"] != json!(1) {
                return fail("video_count is not 1");
            }
            if matches!(row.usage, Usage::Kling) && !task["output"]["watermark_video_url"].is_string() {
                return Err(format!("Kling answers without output.watermark_video_url: {task}"));
            }
        }
        Usage::WanNew => {
            let (duration, input, output) =
                (num(usage, "duration"), num(usage, "input_video_duration"), num(usage, "output_video_duration"));
            if duration != input + output {
                return fail("duration is not input_video_duration + output_video_duration");
            }
            if output != row.seconds {
                return fail(&format!("output_video_duration is not {}", row.seconds));
            }
            check_sr(false)?;
            if usage["video_count"] != json!(1) {
                return fail("video_count is not 1");
            }
        }
        Usage::WanMid => {
            if num(usage, "duration") != row.seconds {
                return fail(&format!("usage.duration is not {}", row.seconds));
            }
            check_sr(false)?;
            if usage["video_count"] != json!(1) {
                return fail("video_count is not 1");
            }
        }
        Usage::WanOld => {
            if num(usage, "video_duration") != row.seconds {
                return fail(&format!("usage.video_duration is not {}", row.seconds));
            }
            if usage["video_count"] != json!(1) {
                return fail("video_count is not 1");
            }
            // kf2v 2.2 reports `SR`; 2.5 t2v documents none (its row has `sr: None`).
            check_sr(false)?;
        }
        Usage::Vidu { r2v } => {
            if num(usage, "duration") != row.seconds || num(usage, "output_video_duration") != row.seconds {
                return fail(&format!("duration/output_video_duration is not {}", row.seconds));
            }
            if !usage["SR"].is_string() {
                return fail("usage.SR is not a string");
            }
            check_sr(true)?;
            if !usage["size"].is_string() || !usage["audio"].is_boolean() || !usage["fps"].is_u64() {
                return fail("size/audio/fps missing");
            }
            if usage["video_count"] != json!(1) {
                return fail("video_count is not 1");
            }
            if r2v && !usage["reference_type"].is_string() {
                return fail("r2v usage without reference_type");
            }
        }
    }
    Ok(())
}

/// Runs one row: the valid body to SUCCEEDED with its usage, then every invalid body refused.
/// Collects every problem so one run shows all a family still lacks.
async fn check(row: Row) {
    let fake = FakeServer::start(common::fast_fake()).await.expect("fake");
    let http = reqwest::Client::new();
    let model = row.valid["model"].as_str().expect("model").to_owned();
    let mut problems = Vec::new();

    let (status, created) = post(&http, &fake, row.endpoint, &row.valid).await;
    let task_id = created["output"]["task_id"].as_str().map(str::to_owned);
    match (status, task_id) {
        (200, Some(id)) if !id.is_empty() => {
            let task = wait_final(&http, &fake, &id).await;
            if task["output"]["task_status"] != "SUCCEEDED" {
                problems.push(format!("valid body ended {}: {task}", task["output"]["task_status"]));
            } else {
                if !task["output"]["video_url"].is_string() {
                    problems.push(format!("SUCCEEDED without video_url: {task}"));
                }
                if let Err(e) = check_usage(&row, &task) {
                    problems.push(e);
                }
            }
        }
        _ => problems.push(format!("valid body refused: HTTP {status} {created}")),
    }
    let accepted = fake.stats().submissions;

    for b in &row.bad {
        let (status, answer) = post(&http, &fake, row.endpoint, &b.body).await;
        let code = answer["code"].as_str().unwrap_or_default();
        let message = answer["message"].as_str().unwrap_or_default();
        if status != 400 || code != "InvalidParameter" {
            problems.push(format!("{}: expected 400 InvalidParameter, got HTTP {status} {answer}", b.why));
        } else if !message.contains(b.field) {
            problems.push(format!("{}: the message does not name `{}`: {message:?}", b.why, b.field));
        }
    }
    if fake.stats().submissions != accepted {
        problems.push(format!("{} refused bodies became tasks", fake.stats().submissions - accepted));
    }
    assert!(problems.is_empty(), "{model} ({}):\n  {}", row.endpoint, problems.join("\n  "));
}

macro_rules! table {
    ($($name:ident),* $(,)?) => {
        mod table {
            $(
                #[tokio::test]
                async fn $name() {
                    super::check(super::rows::$name()).await;
                }
            )*
        }
    };
}

table!(
    pixverse_c1_r2v,
    pixverse_v56_r2v,
    pixverse_t2v,
    pixverse_it2v,
    pixverse_kf2v,
    wan27_r2v,
    wan27_t2v,
    wan27_i2v,
    wan26_r2v,
    wan26_i2v,
    wan25_i2v,
    wan22_i2v,
    wan25_t2v,
    wan_kf2v,
    happyhorse_r2v,
    happyhorse_t2v,
    happyhorse_i2v,
    kling_v3,
    kling_v3_omni,
    vidu_r2v,
    vidu_img2video,
    vidu_text2video,
    vidu_start_end,
);

// ---------------------------------------------------------------------------------------------
// Endpoints (video-models §0.2, §1, §4: the Wan kf2v models POST to image2video, nothing else does).

#[tokio::test]
async fn wan_kf2v_on_the_video_generation_endpoint_is_refused() {
    let fake = FakeServer::start(common::fast_fake()).await.expect("fake");
    let http = reqwest::Client::new();
    let body = rows::wan_kf2v().valid;
    let (status, answer) = post(&http, &fake, VIDEO, &body).await;
    // The service's exact answer is not documented (UNCONFIRMED): any 4xx that makes no task.
    assert!((400..500).contains(&status), "kf2v on {VIDEO}: HTTP {status} {answer}");
    assert_eq!(fake.stats().submissions, 0, "no task was made");
    // And the right endpoint takes the same body.
    let (status, answer) = post(&http, &fake, KF2V, &body).await;
    assert_eq!(status, 200, "kf2v on {KF2V}: {answer}");
}

#[tokio::test]
async fn a_video_generation_model_on_the_kf2v_endpoint_is_refused() {
    let fake = FakeServer::start(common::fast_fake()).await.expect("fake");
    let http = reqwest::Client::new();
    let body = rows::wan27_i2v().valid;
    let (status, answer) = post(&http, &fake, KF2V, &body).await;
    assert!((400..500).contains(&status), "wan2.7-i2v on {KF2V}: HTTP {status} {answer}");
    assert_eq!(fake.stats().submissions, 0, "no task was made");
}

// ---------------------------------------------------------------------------------------------
// Shared pools (video-models §0.3, §6; dashscope-api.md §6), seen through task states: tasks
// run long enough that none ends while the test counts RUNNING against PENDING.

fn slow_fake() -> FakeConfig {
    FakeConfig {
        run_time: DurationRange::fixed(Duration::from_secs(4)),
        submit_rps: 0,
        query_rps: 0,
        pending_min: Duration::ZERO,
        ..FakeConfig::default()
    }
}

/// Creates the bodies in order (each prompt numbered so none is a duplicate; Kling has no
/// `seed`) and returns
/// how many are RUNNING and how many PENDING right after.
async fn running_and_pending(bodies: &[Value]) -> (usize, usize) {
    let fake = FakeServer::start(slow_fake()).await.expect("fake");
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        let prompt = format!("{} (take {i})", body["input"]["prompt"].as_str().expect("prompt"));
        let body = set(body, "/input/prompt", json!(prompt));
        let (status, answer) = post(&http, &fake, VIDEO, &body).await;
        assert_eq!(status, 200, "{}: {answer}", body["model"]);
        ids.push(answer["output"]["task_id"].as_str().expect("task_id").to_owned());
    }
    let mut counts = (0, 0);
    for id in &ids {
        match query(&http, &fake, id).await["output"]["task_status"].as_str() {
            Some("RUNNING") => counts.0 += 1,
            Some("PENDING") => counts.1 += 1,
            other => panic!("task {id} is {other:?} within its 4 s run"),
        }
    }
    counts
}

fn repeat(body: Value, n: usize) -> Vec<Value> {
    vec![body; n]
}

#[tokio::test]
async fn the_vidu_models_share_one_pool_of_five() {
    // §6: "17 个模型间共享并发额度", 5 running.
    let mut bodies = repeat(rows::vidu_r2v().valid, 3);
    bodies.extend(repeat(rows::vidu_text2video().valid, 3));
    assert_eq!(running_and_pending(&bodies).await, (5, 1));
}

#[tokio::test]
async fn the_kling_video_models_share_one_pool_of_ten() {
    // §6: 10 running, shared by the Kling models.
    let mut bodies = repeat(rows::kling_v3().valid, 7);
    bodies.extend(repeat(rows::kling_v3_omni().valid, 5));
    assert_eq!(running_and_pending(&bodies).await, (10, 2));
}

#[tokio::test]
async fn pixverse_modes_of_one_version_share_a_pool_of_five() {
    // dashscope-api.md §1.7, video-models §5: c1 r2v shares with c1 t2v/it2v/kf2v.
    let mut bodies = repeat(rows::pixverse_c1_r2v().valid, 3);
    bodies.extend(repeat(rows::pixverse_t2v().valid, 3));
    assert_eq!(running_and_pending(&bodies).await, (5, 1));
}

#[tokio::test]
async fn wan_models_have_a_pool_each() {
    // §6: no sharing note for Wan, so 5 per model id (INFERENCE in the facts doc).
    let mut bodies = repeat(rows::wan27_t2v().valid, 5);
    bodies.extend(repeat(rows::wan27_i2v().valid, 2));
    assert_eq!(running_and_pending(&bodies).await, (7, 0));
}
