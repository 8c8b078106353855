//! The fake's image models over real HTTP (`dashscope-image-models.md` §2, §3, §5): both
//! protocols from create to a downloaded PNG, `n` and its default, partial failures, the
//! create-call checks, the Kling pool shared with video, and the list API.

use std::time::{Duration, Instant};

use pixbatch::fake::{DurationRange, FakeConfig, FakeServer, Faults};
use serde_json::{Value, json};

const MESSAGES: &str = "/api/v1/services/aigc/image-generation/generation";
const T2I: &str = "/api/v1/services/aigc/text2image/image-synthesis";
const I2I: &str = "/api/v1/services/aigc/image2image/image-synthesis";
const VIDEO: &str = "/api/v1/services/aigc/video-generation/video-synthesis";

/// Tasks start at once and take a fraction of a second per image; no rate limits.
fn quick() -> FakeConfig {
    FakeConfig {
        run_time: DurationRange { min: Duration::from_millis(100), max: Duration::from_millis(200) },
        pending_min: Duration::ZERO,
        submit_rps: 0,
        query_rps: 0,
        ..FakeConfig::default()
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn new(fake: &FakeServer) -> Client {
        Client { http: reqwest::Client::new(), base: fake.base_url() }
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
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

    /// Creates a task that must be accepted; its id.
    async fn create(&self, path: &str, body: &Value) -> String {
        let (status, answer) = self.post(path, body).await;
        assert_eq!(status, 200, "{body}: {answer}");
        answer["output"]["task_id"].as_str().expect("task_id").to_owned()
    }

    async fn get(&self, path_and_query: &str) -> Value {
        let resp = self
            .http
            .get(format!("{}{path_and_query}", self.base))
            .header("Authorization", "Bearer sk-test")
            .send()
            .await
            .expect("reached the fake");
        assert_eq!(resp.status().as_u16(), 200, "{path_and_query}");
        resp.json().await.expect("JSON")
    }

    /// Polls the task until it is final, for at most 20 s.
    async fn wait_final(&self, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let task = self.get(&format!("/api/v1/tasks/{id}")).await;
            let status = task["output"]["task_status"].as_str().unwrap_or_default().to_owned();
            if matches!(status.as_str(), "SUCCEEDED" | "FAILED" | "CANCELED" | "UNKNOWN") {
                return task;
            }
            assert!(Instant::now() < deadline, "task {id} still {status} after 20 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Creates a task and waits for it to end.
    async fn run(&self, path: &str, body: &Value) -> Value {
        let id = self.create(path, body).await;
        self.wait_final(&id).await
    }

    /// Downloads a URL: its status and bytes.
    async fn download(&self, url: &str) -> (u16, Vec<u8>) {
        let resp = self.http.get(url).send().await.expect("download reached the fake");
        (resp.status().as_u16(), resp.bytes().await.expect("bytes").to_vec())
    }
}

/// Decodes a PNG fully (so it is valid, not just its header): its width and height.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    (info.width, info.height)
}

/// The image URLs of a SUCCEEDED messages-protocol task, over every choice and content item.
fn choice_urls(task: &Value) -> Vec<String> {
    let choices = task["output"]["choices"].as_array().expect("choices");
    choices
        .iter()
        .flat_map(|c| c["message"]["content"].as_array().expect("content").iter())
        .filter_map(|item| item["image"].as_str().map(str::to_owned))
        .collect()
}

/// The URLs of a prompt-protocol task's successful results.
fn result_urls(task: &Value) -> Vec<String> {
    let results = task["output"]["results"].as_array().expect("results");
    results.iter().filter_map(|r| r["url"].as_str().map(str::to_owned)).collect()
}

fn assert_aspect((w, h): (u32, u32), (aw, ah): (u32, u32)) {
    let (got, want) = (f64::from(w) / f64::from(h), f64::from(aw) / f64::from(ah));
    assert!((got - want).abs() < 0.01, "{w}×{h} is not {aw}:{ah}");
    assert!(w.min(h) >= 400, "{w}×{h}: the short side must suit the video models' input checks");
}

fn wan27(prompt: &str, size: &str, n: u32, seed: u32) -> Value {
    json!({
        "model": "wan2.7-image",
        "input": {"messages": [{"role": "user", "content": [{"text": prompt}]}]},
        "parameters": {"size": size, "n": n, "seed": seed, "watermark": false},
    })
}

fn wan25_t2i(prompt: &str, size: &str, n: u32, seed: u32) -> Value {
    json!({
        "model": "wan2.5-t2i-preview",
        "input": {"prompt": prompt},
        "parameters": {"size": size, "n": n, "seed": seed, "prompt_extend": false},
    })
}

#[tokio::test]
async fn messages_protocol_makes_n_pngs_at_the_asked_aspect_and_they_differ() {
    let fake = FakeServer::start(quick()).await.expect("fake");
    let c = Client::new(&fake);
    let body = wan27("a lighthouse at dusk", "1920*1080", 2, 7);
    let task = c.run(MESSAGES, &body).await;
    assert_eq!(task["output"]["task_status"], "SUCCEEDED", "{task}");
    let choices = task["output"]["choices"].as_array().expect("choices");
    assert_eq!(choices.len(), 2, "Wan: one choice per image: {task}");
    for choice in choices {
        assert_eq!(choice["finish_reason"], "stop");
        assert_eq!(choice["message"]["role"], "assistant");
        assert_eq!(choice["message"]["content"][0]["type"], "image");
    }
    assert_eq!(task["usage"]["image_count"], 2);
    assert_eq!(task["usage"]["size"], "1920*1080");
    let urls = choice_urls(&task);
    let mut pictures = Vec::new();
    for url in &urls {
        let (status, bytes) = c.download(url).await;
        assert_eq!(status, 200, "{url}");
        assert_aspect(png_size(&bytes), (16, 9));
        pictures.push(bytes);
    }
    assert_ne!(pictures[0], pictures[1], "two candidates of one task differ");
    assert_eq!(c.download(&urls[0]).await.1, pictures[0], "the same candidate downloads the same bytes");

    let other_seed = c.run(MESSAGES, &wan27("a lighthouse at dusk", "1920*1080", 1, 8)).await;
    let (_, other) = c.download(&choice_urls(&other_seed)[0]).await;
    assert_ne!(other, pictures[0], "another seed, another picture");
    assert_eq!(fake.stats().images_billed, 3);
}

#[tokio::test]
async fn prompt_protocol_answers_results_with_task_metrics() {
    let fake = FakeServer::start(quick()).await.expect("fake");
    let c = Client::new(&fake);
    let task = c.run(T2I, &wan25_t2i("a red kite over hills", "1200*1600", 2, 3)).await;
    assert_eq!(task["output"]["task_status"], "SUCCEEDED", "{task}");
    let results = task["output"]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["orig_prompt"], "a red kite over hills");
    assert!(results[0].get("actual_prompt").is_none(), "prompt_extend was off: {task}");
    assert_eq!(task["output"]["task_metrics"], json!({"TOTAL": 2, "SUCCEEDED": 2, "FAILED": 0}));
    assert_eq!(task["usage"], json!({"image_count": 2, "size": "1200*1600"}));
    let urls = result_urls(&task);
    let (a, b) = (c.download(&urls[0]).await.1, c.download(&urls[1]).await.1);
    assert_eq!(png_size(&a), (480, 640));
    assert_ne!(a, b);

    // wan2.5-i2i-preview: input.images on image2image; without `size`, the last input's aspect
    // (here a candidate this fake made, 3:4).
    let i2i = json!({
        "model": "wan2.5-i2i-preview",
        "input": {"prompt": "the kite in a storm", "images": ["https://example.com/a.png", urls[0]]},
        "parameters": {"n": 1},
    });
    let task = c.run(I2I, &i2i).await;
    assert_eq!(task["output"]["task_status"], "SUCCEEDED", "{task}");
    assert!(task["output"]["results"][0]["actual_prompt"].is_string(), "prompt_extend defaults to on: {task}");
    let (_, bytes) = c.download(&result_urls(&task)[0]).await;
    assert_aspect(png_size(&bytes), (3, 4));
}

#[tokio::test]
async fn a_create_without_n_makes_the_models_default_and_bills_them() {
    let fake = FakeServer::start(quick()).await.expect("fake");
    let c = Client::new(&fake);
    // wan2.6-t2i defaults to n = 4 (§2.1): a client that forgets `n` pays for four.
    let body = json!({
        "model": "wan2.6-t2i",
        "input": {"messages": [{"role": "user", "content": [{"text": "a cat on a windowsill"}]}]},
        "parameters": {"size": "1280*1280"},
    });
    let task = c.run(MESSAGES, &body).await;
    assert_eq!(choice_urls(&task).len(), 4, "{task}");
    assert_eq!(task["usage"]["image_count"], 4);
    assert_eq!(fake.stats().images_billed, 4);
    assert_eq!(fake.billed_images().get(&body.to_string()), Some(&4));
    assert_eq!(fake.billed_bodies().get(&body.to_string()), Some(&1), "billed_bodies counts tasks");
}

#[tokio::test]
async fn kling_answers_one_choice_with_every_image_and_sr() {
    let fake = FakeServer::start(quick()).await.expect("fake");
    let c = Client::new(&fake);
    let body = json!({
        "model": "kling/kling-v3-omni-image-generation",
        "input": {"messages": [{"role": "user", "content": [{"image": "https://example.com/hero.png"}, {"text": "the hero, full body"}]}]},
        "parameters": {"n": 3, "resolution": "1k", "aspect_ratio": "9:16"},
    });
    let task = c.run(MESSAGES, &body).await;
    assert_eq!(task["output"]["choices"].as_array().map(Vec::len), Some(1), "{task}");
    let urls = choice_urls(&task);
    assert_eq!(urls.len(), 3);
    assert_eq!(task["usage"]["SR"], "1080");
    assert_eq!(task["usage"]["size"], "1080*1920");
    assert_aspect(png_size(&c.download(&urls[2]).await.1), (9, 16));
}

/// One invalid body, where it is sent, and what its refusal must say.
struct Bad {
    why: &'static str,
    path: &'static str,
    body: Value,
    says: &'static str,
}

#[tokio::test]
async fn bad_creates_are_refused_with_400_naming_the_field_and_make_no_task() {
    let fake = FakeServer::start(quick()).await.expect("fake");
    let c = Client::new(&fake);
    let wan = wan27("a bridge", "1K", 1, 1);
    let mut two_texts = wan.clone();
    two_texts["input"]["messages"][0]["content"] = json!([{"text": "a"}, {"text": "b"}]);
    let mut ten_images = wan.clone();
    let mut content: Vec<Value> = (0..10).map(|i| json!({"image": format!("https://example.com/{i}.png")})).collect();
    content.push(json!({"text": "ten references"}));
    ten_images["input"]["messages"][0]["content"] = content.into();
    let i2i = |images: usize| {
        let urls: Vec<String> = (0..images).map(|i| format!("https://example.com/{i}.png")).collect();
        json!({"model": "wan2.5-i2i-preview", "input": {"prompt": "merge", "images": urls}, "parameters": {"n": 1}})
    };
    let kling = json!({
        "model": "kling/kling-v3-image-generation",
        "input": {"messages": [{"role": "user", "content": [{"text": "a fox"}]}]},
        "parameters": {"n": 1, "aspect_ratio": "21:9"},
    });
    let mut kling_base64 = kling.clone();
    kling_base64["parameters"]["aspect_ratio"] = "1:1".into();
    kling_base64["input"]["messages"][0]["content"] =
        json!([{"image": "data:image/png;base64,iVBORw0KGgo="}, {"text": "a fox"}]);
    let cases = [
        Bad { why: "n over wan2.7's 4", path: MESSAGES, body: wan27("a bridge", "1K", 5, 1), says: "parameter(n)" },
        Bad { why: "0 is not an n", path: MESSAGES, body: wan27("a bridge", "1K", 0, 1), says: "parameter(n)" },
        Bad { why: "messages body on text2image", path: T2I, body: wan.clone(), says: "url error" },
        Bad { why: "old t2i on image2image", path: I2I, body: wan25_t2i("x", "1280*1280", 1, 1), says: "url error" },
        Bad { why: "i2i on text2image", path: T2I, body: i2i(1), says: "url error" },
        Bad { why: "4 images, wan2.5-i2i takes 3", path: I2I, body: i2i(4), says: "parameter(images)" },
        Bad { why: "wan2.5-i2i needs an image", path: I2I, body: i2i(0), says: "parameter(images)" },
        Bad { why: "10 images, wan2.7 takes 9", path: MESSAGES, body: ten_images, says: "parameter(image)" },
        Bad { why: "two text items", path: MESSAGES, body: two_texts, says: "parameter(text)" },
        Bad {
            why: "size below 768²",
            path: MESSAGES,
            body: wan27("a bridge", "500*500", 1, 1),
            says: "parameter(size)",
        },
        Bad { why: "3K is no tier", path: MESSAGES, body: wan27("a bridge", "3K", 1, 1), says: "parameter(size)" },
        Bad { why: "Kling has no 21:9", path: MESSAGES, body: kling, says: "parameter(aspect_ratio)" },
        Bad { why: "Kling reads URLs only", path: MESSAGES, body: kling_base64, says: "parameter(image)" },
        Bad {
            why: "a prompt over wan2.5's 2000",
            path: T2I,
            body: wan25_t2i(&"x".repeat(2001), "1280*1280", 1, 1),
            says: "prompt has 2001",
        },
        Bad {
            why: "sync-only model",
            path: MESSAGES,
            body: json!({"model": "qwen-image-2.0", "input": {"messages": [{"role": "user", "content": [{"text": "a"}]}]}}),
            says: "Model not supported on this endpoint",
        },
        Bad {
            why: "an image model on the video endpoint",
            path: VIDEO,
            body: wan.clone(),
            says: "url error, please check url! wan2.7-image is served at /api/v1/services/aigc/image-generation/generation",
        },
        Bad {
            why: "a video model on the image endpoint",
            path: MESSAGES,
            body: json!({"model": "wan2.6-t2v", "input": {"prompt": "a"}}),
            says: "url error",
        },
    ];
    for bad in cases {
        let (status, answer) = c.post(bad.path, &bad.body).await;
        assert_eq!(status, 400, "{}: {answer}", bad.why);
        assert_eq!(answer["code"], "InvalidParameter", "{}: {answer}", bad.why);
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(message.contains(bad.says), "{}: `{message}` should say `{}`", bad.why, bad.says);
    }
    assert_eq!(fake.stats().submissions, 0, "a refused body makes no task");
}

#[tokio::test]
async fn failed_candidates_carry_codes_and_only_successes_are_billed() {
    let config = FakeConfig { faults: Faults { image_fail_rate: 0.5, ..Faults::default() }, seed: 5, ..quick() };
    let fake = FakeServer::start(config).await.expect("fake");
    let c = Client::new(&fake);
    let (mut partial, mut all_failed, mut billed) = (0, 0, 0);
    let mut ids = Vec::new();
    for seed in 0..8 {
        ids.push(c.create(T2I, &wan25_t2i("a tower", "1280*1280", 4, seed)).await);
    }
    for id in &ids {
        let task = c.wait_final(id).await;
        let output = &task["output"];
        let results = output["results"].as_array().expect("results");
        assert_eq!(results.len(), 4, "one result per candidate: {task}");
        let failed: Vec<&Value> = results.iter().filter(|r| r.get("url").is_none()).collect();
        for f in &failed {
            assert_eq!(f["code"], "DataInspectionFailed", "{task}");
            assert_eq!(f["message"], "Output data may contain inappropriate content.");
        }
        let ok = 4 - failed.len();
        assert_eq!(output["task_metrics"], json!({"TOTAL": 4, "SUCCEEDED": ok, "FAILED": failed.len()}));
        if ok == 0 {
            all_failed += 1;
            assert_eq!(output["task_status"], "FAILED", "{task}");
            assert_eq!(output["code"], "DataInspectionFailed");
        } else {
            assert_eq!(output["task_status"], "SUCCEEDED", "{task}");
            assert_eq!(task["usage"]["image_count"], ok);
            billed += ok as u64;
            partial += usize::from(ok < 4);
        }
    }
    assert!(partial > 0, "at 0.5 a candidate, some of 8 tasks of 4 partly fail");
    let stats = fake.stats();
    assert_eq!(stats.images_billed, billed);
    assert_eq!(stats.images_billed + stats.images_failed, 32, "{stats:?}; {all_failed} tasks failed whole");

    // The messages protocol leaves failed candidates out of `choices` (UNDOCUMENTED shape).
    let mut seen_partial = false;
    let mut ids = Vec::new();
    for seed in 0..8 {
        ids.push(c.create(MESSAGES, &wan27("a tower", "1K", 4, seed)).await);
    }
    for id in &ids {
        let task = c.wait_final(id).await;
        if task["output"]["task_status"] != "SUCCEEDED" {
            assert_eq!(task["output"]["code"], "DataInspectionFailed", "{task}");
            continue;
        }
        let urls = choice_urls(&task);
        assert_eq!(task["usage"]["image_count"], urls.len(), "{task}");
        seen_partial |= urls.len() < 4;
        for url in &urls {
            assert_eq!(c.download(url).await.0, 200, "{url}");
        }
        let task_id = task["output"]["task_id"].as_str().expect("id");
        let missing =
            (0..4).map(|i| format!("{}/__media/{task_id}-{i}.png", fake.base_url())).find(|u| !urls.contains(u));
        if let Some(url) = missing {
            assert_eq!(c.download(&url).await.0, 404, "a failed candidate has no image");
        }
    }
    assert!(seen_partial, "some messages tasks answered fewer choices than n");
}

#[tokio::test]
async fn image_urls_expire_like_video_urls() {
    let fake = FakeServer::start(quick()).await.expect("fake");
    let c = Client::new(&fake);
    let task = c.run(MESSAGES, &wan27("a lake", "1K", 1, 1)).await;
    let url = &choice_urls(&task)[0];
    assert_eq!(c.download(url).await.0, 200);
    let id = task["output"]["task_id"].as_str().expect("id");
    assert_eq!(c.download(&format!("{}/__media/{id}.mp4", fake.base_url())).await.0, 404, "an image task has no video");
    assert_eq!(c.download(&format!("{}/__media/{id}-1.png", fake.base_url())).await.0, 404, "n was 1");
    fake.expire_urls();
    assert_eq!(c.download(url).await.0, 403, "expired as the service's signed URLs do");
    assert_eq!(fake.stats().expired_downloads, 1);
}

#[tokio::test]
async fn kling_image_and_video_tasks_share_one_pool_of_ten() {
    let fake = FakeServer::start(FakeConfig { run_time: DurationRange::fixed(Duration::from_secs(8)), ..quick() })
        .await
        .expect("fake");
    let c = Client::new(&fake);
    let mut ids = Vec::new();
    for i in 0..7 {
        let body = json!({
            "model": "kling/kling-v3-image-generation",
            "input": {"messages": [{"role": "user", "content": [{"text": format!("a samurai, take {i}")}]}]},
            "parameters": {"n": 1, "resolution": "1k", "aspect_ratio": "16:9"},
        });
        ids.push(c.create(MESSAGES, &body).await);
    }
    for i in 0..5 {
        let body = json!({
            "model": "kling/kling-v3-video-generation",
            "input": {"prompt": format!("a samurai draws his sword, take {i}")},
            "parameters": {"mode": "std", "aspect_ratio": "16:9", "duration": 5, "audio": false, "watermark": false},
        });
        ids.push(c.create(VIDEO, &body).await);
    }
    let mut counts = (0, 0);
    for id in &ids {
        match c.get(&format!("/api/v1/tasks/{id}")).await["output"]["task_status"].as_str() {
            Some("RUNNING") => counts.0 += 1,
            Some("PENDING") => counts.1 += 1,
            other => panic!("task {id} is {other:?} within its run"),
        }
    }
    assert_eq!(counts, (10, 2), "7 image + 5 video tasks: 10 run, 2 wait");
    assert_eq!(fake.stats().peak_running.get("kling"), Some(&10));
}

#[tokio::test]
async fn image_tasks_are_in_the_list_api_filtered_by_model_name() {
    let fake = FakeServer::start(quick()).await.expect("fake");
    let c = Client::new(&fake);
    let a = c.create(MESSAGES, &wan27("a", "1K", 1, 1)).await;
    let b = c.create(T2I, &wan25_t2i("b", "1280*1280", 1, 1)).await;
    let k = c
        .create(
            MESSAGES,
            &json!({
                "model": "kling/kling-v3-image-generation",
                "input": {"messages": [{"role": "user", "content": [{"text": "k"}]}]},
                "parameters": {"n": 1},
            }),
        )
        .await;
    let list = c.get("/api/v1/tasks/?model_name=wan2.7-image").await;
    let data = list["data"].as_array().expect("data");
    assert_eq!(data.len(), 1, "{list}");
    assert_eq!(data[0]["task_id"], a.as_str());
    assert_eq!(data[0]["user_api_unique_key"], "apikey:v1:aigc:image-generation:generation:wan2.7-image");
    let list = c.get("/api/v1/tasks/?model_name=wan2.5-t2i-preview").await;
    assert_eq!(list["data"][0]["task_id"], b.as_str());
    assert_eq!(list["data"][0]["user_api_unique_key"], "apikey:v1:aigc:text2image:image-synthesis:wan2.5-t2i-preview");
    let list = c.get("/api/v1/tasks/?model_name=kling%2Fkling-v3-image-generation").await;
    assert_eq!(list["data"][0]["task_id"], k.as_str(), "{list}");
    assert_eq!(c.get("/api/v1/tasks/").await["total"], 3);
}
