//! `run.prices` overrides the built-in price table, and prices unknown models.

use std::path::Path;

fn jobs(yaml: &str) -> Result<Vec<pixbatch::plan::Job>, String> {
    let loaded = pixbatch::manifest::parse(Path::new("m.yaml"), yaml.to_owned()).map_err(|d| d.render(false))?;
    pixbatch::plan::expand(&loaded, &Default::default()).map(|e| e.jobs).map_err(|d| d.render(false))
}

const BASE: &str = "version: 1\nrefs: {man: https://example.com/m.jpg}\nshots:\n  - {id: a, prompt: '@man waves', model: pixverse/pixverse-c1-r2v, size: '1280*720', duration: 5}\n  - {id: b, prompt: '@man waves', model: pixverse/pixverse-c1-r2v, size: '1280*720', duration: 5, audio: true}\n  - {id: c, prompt: '@man waves', model: pixverse/pixverse-v9-r2v, size: '1280*720', duration: 5}\n";

#[test]
fn overrides_apply_per_tier_and_audio_and_price_unknown_models() {
    let cost = |jobs: &[pixbatch::plan::Job], i: usize| {
        pixbatch::plan::estimate_cost(&jobs[i]).map(pixbatch::catalog::round_cents)
    };
    let built_in = jobs(BASE).expect("valid");
    assert_eq!((cost(&built_in, 0), cost(&built_in, 1), cost(&built_in, 2)), (Some(1.5), Some(1.95), None));
    let priced = jobs(&format!(
        "{BASE}run:\n  prices:\n    pixverse/pixverse-c1-r2v: {{720P: 0.5}}\n    pixverse/pixverse-v9-r2v: {{720P: 0.27}}\n"
    ))
    .expect("valid");
    assert_eq!((cost(&priced, 0), cost(&priced, 1), cost(&priced, 2)), (Some(2.5), Some(1.95), Some(1.35)));
    // Prices never change a job's identity.
    assert_eq!(built_in[0].key, priced[0].key);
}

#[test]
fn a_bad_price_key_is_an_error() {
    let err =
        jobs(&format!("{BASE}run:\n  prices:\n    pixverse/pixverse-c1-r2v: {{720p: 0.5}}\n")).expect_err("bad tier");
    assert!(err.contains("`720p` is not a tier") && err.contains("720P+audio"), "{err}");
}
