//! Image tasks in the simulation (`dashscope-image-models.md` §3): the same timeline, pools,
//! rate windows and list as video tasks; what differs is decided here. A task makes `n`
//! candidates (the service's `n_default` when the request leaves `n` out); each may fail the
//! output inspection (`Faults::image_fail_rate`); the task SUCCEEDS when one image did and
//! bills `usage.image_count` images. Candidate `i` is served at `/__media/{task}-{i}.png`.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};

use super::{Outcome, Sim, Task};
use crate::api::TaskStatus;
use crate::catalog::images::{ImageProtocol, ImageShape};
use crate::catalog::{self, Endpoint};
use crate::fake::image_rules::ImageAsk;

/// The code and message of a candidate (or a task whose every candidate) failed the inspection.
pub const INSPECTION_FAILED: (&str, &str) = ("DataInspectionFailed", "Output data may contain inappropriate content.");

/// What an image task makes, decided when it is created.
#[derive(Debug, Clone)]
pub struct ImageTask {
    protocol: ImageProtocol,
    endpoint: Endpoint,
    prompt: String,
    /// One per candidate: whether it failed the output inspection.
    failed: Vec<bool>,
    /// What the service reports it made (`usage.size`).
    size: (u32, u32),
    /// The served PNG's size: the same aspect, smaller (`png::pixels_for`).
    pixels: (u32, u32),
    /// Kling's `usage.SR`: the short side it stands for.
    sr: Option<u32>,
    /// One choice holding every image (Kling, §3) rather than one choice per image (Wan).
    one_choice: bool,
    /// `actual_prompt` is reported (the old protocol with `prompt_extend` on).
    rewritten: bool,
}

impl ImageTask {
    /// Images asked for (`n`, or the model's default).
    pub fn candidates(&self) -> usize {
        self.failed.len()
    }

    /// Candidates that passed the inspection: what is billed.
    pub fn successes(&self) -> u32 {
        self.failed.iter().filter(|f| !**f).count() as u32
    }

    fn size_text(&self) -> String {
        format!("{}*{}", self.size.0, self.size.1)
    }

    fn url(&self, id: &str, index: usize, base: &str) -> String {
        format!("{base}/__media/{id}-{index}.png")
    }

    /// Fills a SUCCEEDED task's `output` and answers its `usage`.
    ///
    /// The messages protocol's partial-failure shape is UNDOCUMENTED (§3, §12): the fake leaves
    /// a failed candidate out of `choices` (or out of Kling's one choice's `content`), so a
    /// task may answer fewer images than `n`, and `usage.image_count` says how many.
    pub(super) fn fill_succeeded(&self, id: &str, base: &str, output: &mut Value) -> Value {
        let ok = (0..self.failed.len()).filter(|i| !self.failed[*i]);
        match self.protocol {
            ImageProtocol::Messages => {
                let item = |i: usize| json!({"image": self.url(id, i, base), "type": "image"});
                let choice = |content: Vec<Value>| json!({"finish_reason": "stop", "message": {"role": "assistant", "content": content}});
                output["choices"] = if self.one_choice {
                    json!([choice(ok.map(item).collect())])
                } else {
                    ok.map(|i| choice(vec![item(i)])).collect()
                };
                output["finished"] = true.into();
                let mut usage = json!({
                    "image_count": self.successes(), "size": self.size_text(),
                    "input_tokens": 0, "output_tokens": 0, "total_tokens": 0,
                });
                if let Some(sr) = self.sr {
                    usage["SR"] = sr.to_string().into();
                }
                usage
            }
            ImageProtocol::Prompt => {
                self.results(id, base, output);
                json!({"image_count": self.successes(), "size": self.size_text()})
            }
        }
    }

    /// Fills a FAILED task's `output` beyond its `code` and `message`: the old protocol's
    /// per-candidate results.
    pub(super) fn fill_failed(&self, id: &str, base: &str, output: &mut Value) {
        if self.protocol == ImageProtocol::Prompt && self.failed.iter().all(|f| *f) {
            self.results(id, base, output);
        }
    }

    fn results(&self, id: &str, base: &str, output: &mut Value) {
        let results: Vec<Value> = (0..self.failed.len())
            .map(|i| {
                if self.failed[i] {
                    json!({"code": INSPECTION_FAILED.0, "message": INSPECTION_FAILED.1})
                } else {
                    let mut r = json!({"orig_prompt": self.prompt, "url": self.url(id, i, base)});
                    if self.rewritten {
                        r["actual_prompt"] = format!("{}, highly detailed, soft natural light", self.prompt).into();
                    }
                    r
                }
            })
            .collect();
        let n = self.failed.len();
        let ok = self.successes() as usize;
        output["results"] = results.into();
        output["task_metrics"] = json!({"TOTAL": n, "SUCCEEDED": ok, "FAILED": n - ok});
    }
}

/// The list API's `user_api_unique_key`: `apikey:v1:{group}:{task}:{function}:{model}`, the
/// segments of the create path (`dashscope-image-models.md` §8, INFERENCE for the new protocol).
pub(super) fn unique_key(t: &Task) -> String {
    let endpoint = t.image.as_ref().map(|i| i.endpoint).or_else(|| catalog::lookup(&t.model).map(|s| s.endpoint));
    let path = endpoint.unwrap_or(Endpoint::VideoGeneration).path();
    format!("apikey:v1:{}:{}", path.trim_start_matches("api/v1/services/").replace('/', ":"), t.model)
}

/// A neighbour's copy of one of this client's image requests: the prompt reworded.
pub(super) fn reword(body: &mut Value, take: u64) {
    let text = if body["input"]["prompt"].is_string() {
        Some(&mut body["input"]["prompt"])
    } else {
        body["input"]["messages"][0]["content"]
            .as_array_mut()
            .and_then(|items| items.iter_mut().find(|i| i["text"].is_string()))
            .map(|i| &mut i["text"])
    };
    if let Some(text) = text {
        *text = format!("{}, take {take}", text.as_str().unwrap_or_default()).into();
    }
}

/// Decodes standard base64 (padding and whitespace ignored); `None` on another character.
fn base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

impl Sim {
    /// The image side of a task being created (`None` for a video model). A task whose every
    /// candidate fails the inspection will end FAILED with that code.
    pub(super) fn image_task(&mut self, body: &Value, outcome: &mut Outcome) -> Option<ImageTask> {
        let ask = ImageAsk::read(body)?;
        let last = ask.inputs.last().and_then(|url| self.input_size(url));
        let size = ask.size(last);
        let p = self.config.faults.image_fail_rate;
        let failed: Vec<bool> = (0..ask.n).map(|_| self.roll(p)).collect();
        if matches!(outcome, Outcome::Succeed) && failed.iter().all(|f| *f) {
            let (code, message) = INSPECTION_FAILED;
            *outcome = Outcome::Fail { code: Some(code.into()), message: Some(message.into()) };
        }
        let params = &body["parameters"];
        Some(ImageTask {
            protocol: ask.spec.protocol,
            endpoint: ask.endpoint(),
            prompt: ask.prompt.clone(),
            failed,
            size,
            pixels: crate::fake::png::pixels_for(size.0, size.1),
            sr: matches!(ask.spec.shape, ImageShape::ResolutionRatio { .. }).then_some(size.0.min(size.1)),
            one_choice: matches!(ask.spec.shape, ImageShape::ResolutionRatio { .. }),
            rewritten: ask.spec.protocol == ImageProtocol::Prompt
                && ask.spec.prompt_extend
                && params["prompt_extend"].as_bool() != Some(false),
        })
    }

    /// An image task runs a third to two thirds of `drawn` (what a video task would have drawn:
    /// the same timing knobs) per candidate, the share seeded by the request: at the defaults
    /// 1–3 s an image; a fast fake's stay fast.
    pub(super) fn image_run_time(&self, drawn: Duration, body: &Value, n: usize) -> Duration {
        let hash = blake3::hash(&[&self.config.seed.to_le_bytes()[..], body.to_string().as_bytes()].concat());
        let share = f64::from(hash.as_bytes()[0]) / 255.0;
        drawn.mul_f64(n as f64 * (1.0 + share) / 3.0)
    }

    /// The size of an input image, when the fake can read it: base64 data, an upload, or a
    /// candidate this fake served.
    fn input_size(&self, url: &str) -> Option<(u32, u32)> {
        if let Some(data) = url.strip_prefix("data:") {
            let bytes = base64(data.split_once(";base64,")?.1)?;
            let size = imagesize::blob_size(&bytes).ok()?;
            return Some((u32::try_from(size.width).ok()?, u32::try_from(size.height).ok()?));
        }
        if let Some(key) = url.strip_prefix("oss://") {
            return self.upload_sizes.get(key).copied();
        }
        let file = url.split(['?', '#']).next()?.rsplit_once("/__media/")?.1;
        let (id, index) = file.strip_suffix(".png")?.rsplit_once('-')?;
        let _: usize = index.parse().ok()?;
        self.tasks.get(id)?.image.as_ref().map(|i| i.pixels)
    }

    /// What the PNG of candidate `index` of a SUCCEEDED task is drawn from (the request as
    /// sent) and its size; `None` when there is no such image.
    pub fn image_candidate(&self, id: &str, index: usize) -> Option<(String, (u32, u32))> {
        let task = self.tasks.get(id).filter(|t| t.status == TaskStatus::Succeeded)?;
        let image = task.image.as_ref()?;
        (!*image.failed.get(index)?).then(|| (task.body.to_string(), image.pixels))
    }

    /// Whether a task is an image model's.
    pub fn is_image_task(&self, id: &str) -> bool {
        self.tasks.get(id).is_some_and(|t| t.image.is_some())
    }

    /// Exact bodies sent by create calls → the images their SUCCEEDED tasks billed.
    pub fn billed_images(&self) -> HashMap<String, u32> {
        self.bodies
            .iter()
            .filter_map(|(body, ids)| {
                let n: u32 = ids
                    .iter()
                    .filter_map(|id| self.tasks.get(id))
                    .filter(|t| t.status == TaskStatus::Succeeded)
                    .filter_map(|t| t.image.as_ref().map(ImageTask::successes))
                    .sum();
                (n > 0).then(|| (body.clone(), n))
            })
            .collect()
    }

    /// Fills the image counters of [`super::Stats`].
    pub(super) fn count_images(&mut self) {
        let (mut billed, mut failed) = (0, 0);
        for t in self.tasks.values().filter(|t| t.owner == super::Owner::Api) {
            let Some(image) = &t.image else { continue };
            let inspected = image.failed.len() as u64 - u64::from(image.successes());
            match t.status {
                TaskStatus::Succeeded => {
                    billed += u64::from(image.successes());
                    failed += inspected;
                }
                TaskStatus::Failed if image.successes() == 0 => failed += inspected,
                _ => {}
            }
        }
        self.stats.images_billed = billed;
        self.stats.images_failed = failed;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::fake::{FakeConfig, Neighbours, image_rules};

    #[test]
    fn a_neighbour_copies_an_image_request_as_a_valid_image_request_with_another_prompt() {
        let neighbours = Neighbours { per_second: 20.0, similar: 1.0, echo_seed: false };
        let mut sim = Sim::new(FakeConfig { neighbours, ..FakeConfig::default() });
        let ours = json!({
            "model": "wan2.7-image",
            "input": {"messages": [{"role": "user", "content": [{"text": "a bridge"}]}]},
            "parameters": {"size": "1K", "n": 2, "seed": 1},
        });
        let t0 = Instant::now();
        assert!(matches!(sim.create(&ours, t0), super::super::Created::Task { .. }));
        sim.advance(t0 + Duration::from_secs(3));
        let copies: Vec<&Task> =
            sim.tasks.values().filter(|t| t.owner == super::super::Owner::Neighbour && t.image.is_some()).collect();
        assert!(!copies.is_empty(), "some neighbours copied the image request");
        for copy in copies {
            let checked = image_rules::validate_create(&copy.body, Endpoint::ImageGeneration, false, &HashMap::new());
            assert!(checked.is_ok(), "{}: {checked:?}", copy.body);
            let text = copy.body["input"]["messages"][0]["content"][0]["text"].as_str().unwrap_or_default();
            assert!(text.starts_with("a bridge, take "), "{}", copy.body);
            assert!(copy.body["input"]["prompt"].is_null(), "no field the protocol lacks: {}", copy.body);
        }
    }

    #[test]
    fn an_image_task_runs_a_third_to_two_thirds_of_a_video_draw_per_image() {
        let sim = Sim::new(FakeConfig::default());
        let body = json!({"model": "wan2.7-image", "parameters": {"n": 3}});
        let t = sim.image_run_time(Duration::from_secs(3), &body, 3);
        assert!(t >= Duration::from_secs(3) && t <= Duration::from_secs(6), "{t:?} for 3 images");
    }
}
