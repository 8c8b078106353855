//! The task timeline's own rules, at fixed instants.

use super::*;
use crate::fake::DurationRange;

fn body(seed: i64) -> Value {
    json!({
        "model": catalog::C1_R2V,
        "input": {"prompt": "@man waves", "media": [{"type": "image_url", "url": "https://example.com/m.jpg", "ref_name": "man"}]},
        "parameters": {"size": "1280*720", "duration": 5, "seed": seed},
    })
}

fn create(sim: &mut Sim, seed: i64, at: Instant) -> String {
    match sim.create(&body(seed), at) {
        Created::Task { task_id, .. } => task_id,
        Created::Throttled(code, _) => panic!("create refused: {code}"),
    }
}

fn status(sim: &mut Sim, id: &str, at: Instant) -> String {
    sim.task_json(id, at, "http://fake")["output"]["task_status"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn at_the_defaults_a_new_task_stays_pending_long_enough_to_cancel() {
    let mut sim = Sim::new(FakeConfig::default());
    let delay = sim.config.pending_min;
    assert!(delay >= Duration::from_millis(500), "{delay:?}: too short to create and then cancel");
    let t0 = Instant::now();
    let (a, b) = (create(&mut sim, 1, t0), create(&mut sim, 2, t0));
    assert_eq!(status(&mut sim, &a, t0), "PENDING", "right after its create");
    let almost = t0 + delay - Duration::from_millis(1);
    assert_eq!(status(&mut sim, &a, almost), "PENDING", "slots are free, but it is still being scheduled");
    assert!(sim.cancel(&b, almost), "a PENDING task can be cancelled");
    assert_eq!(status(&mut sim, &b, almost), "CANCELED");
    assert_eq!(status(&mut sim, &a, t0 + delay), "RUNNING", "it starts once the delay is over");
    assert!(!sim.cancel(&a, t0 + delay), "a RUNNING task cannot be cancelled");
}

#[test]
fn the_delay_comes_on_top_of_the_run_time_and_a_task_queued_longer_is_not_delayed_again() {
    let run = Duration::from_secs(3);
    let delay = Duration::from_secs(1);
    let mut sim = Sim::new(FakeConfig {
        concurrency: Some(1),
        run_time: DurationRange::fixed(run),
        pending_min: delay,
        ..FakeConfig::default()
    });
    let t0 = Instant::now();
    let (a, b) = (create(&mut sim, 1, t0), create(&mut sim, 2, t0));
    let end = t0 + delay + run;
    assert_eq!(status(&mut sim, &a, end - Duration::from_millis(1)), "RUNNING");
    assert_eq!(status(&mut sim, &a, end), "SUCCEEDED", "created at t0, ends after delay + run time");
    let task_b = sim.task(&b).expect("b");
    assert_eq!(task_b.scheduled, Some(end), "b waited for the slot longer than the delay: it starts when a ends");

    let mut zero = Sim::new(FakeConfig { pending_min: Duration::ZERO, ..FakeConfig::default() });
    let t1 = Instant::now();
    let c = create(&mut zero, 3, t1);
    assert_eq!(status(&mut zero, &c, t1), "RUNNING", "no delay: a free slot takes it at once");
}
