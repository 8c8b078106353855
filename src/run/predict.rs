//! How long a job will render, before it is submitted: what decides the order of a
//! `longest-first` run.
//!
//! The service's render time grows with what is rendered: the model, the resolution tier, the
//! video's seconds and its audio. Before anything is learnt, a job's prediction is the work a
//! video model does: its pixels per frame (by tier) × its seconds, a little more with sound.
//! (Prices are no guide across models: a Vidu second costs an eighth of a Kling one; within a
//! family a 1080P second costs 1.3–1.9× a 720P one while it has 2.25× the pixels.)
//! Every finished task teaches the render seconds per video second of its (model, tier, audio)
//! from the service's own `scheduled_time` and `end_time`; the median of the recent samples is
//! used, so one task stuck in the service's queue does not move it. Classes not seen yet take
//! the prior scaled by how the family's seen classes compare with their priors. What is learnt
//! is kept in the ledger folder, so the next run starts informed.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::plan::Job;

/// The prior: render seconds per second of 720P video. Only ratios between jobs matter until a
/// sample calibrates it.
const PRIOR_SECONDS_PER_720P_SECOND: f64 = 12.0;
/// How much longer a video with sound takes (sound costs about that much more).
const PRIOR_SOUND_FACTOR: f64 = 1.2;
/// Pixels of a 720P frame.
const PIXELS_720P: f64 = 1280.0 * 720.0;
/// Recent samples kept per class.
const KEEP: usize = 64;
/// The file in the ledger folder.
pub const FILE: &str = "render-times.json";
const FORMAT: &str = "pixbatch.render-times/1";

/// What determines a job's render time, apart from its seconds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Class {
    pub model: String,
    pub tier: String,
    pub audio: bool,
}

impl Class {
    fn of(job: &Job) -> Class {
        Class {
            model: job.model.clone(),
            tier: job.tier.map_or_else(|| job.size.clone(), |t| t.name().to_owned()),
            audio: job.audio,
        }
    }
}

/// Learnt render times.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Predictor {
    /// Render seconds per video second, recent samples, by class.
    per_second: HashMap<Class, Vec<f64>>,
    /// Observed render time ÷ prior, recent samples, by family name.
    calibration: HashMap<String, Vec<f64>>,
}

#[derive(Serialize, Deserialize)]
struct Saved {
    format: String,
    samples: Vec<(Class, Vec<f64>)>,
    calibration: Vec<(String, Vec<f64>)>,
}

fn median(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 { sorted[mid] } else { (sorted[mid - 1] + sorted[mid]) / 2.0 })
}

fn push(samples: &mut Vec<f64>, value: f64) {
    if samples.len() >= KEEP {
        samples.remove(0);
    }
    samples.push(value);
}

impl Predictor {
    /// The prior of a job, in seconds: proportional to its pixels × seconds.
    pub fn prior(job: &Job) -> f64 {
        let pixels = match job.tier {
            Some(tier) => {
                let short: f64 = tier.sr().parse().unwrap_or(720.0);
                short * short * 16.0 / 9.0 / PIXELS_720P
            }
            None => {
                crate::catalog::parse_size(&job.size).map_or(1.0, |(w, h)| f64::from(w) * f64::from(h) / PIXELS_720P)
            }
        };
        let sound = if job.audio { PRIOR_SOUND_FACTOR } else { 1.0 };
        pixels * sound * f64::from(job.duration.max(1)) * PRIOR_SECONDS_PER_720P_SECOND
    }

    /// Predicted render seconds of a job.
    pub fn predict(&self, job: &Job) -> f64 {
        if let Some(per_second) = self.per_second.get(&Class::of(job)).and_then(|s| median(s)) {
            return per_second * f64::from(job.duration.max(1));
        }
        let scale = self.calibration.get(job.family.name()).and_then(|s| median(s)).unwrap_or(1.0);
        Predictor::prior(job) * scale
    }

    /// The range of render seconds seen for jobs of this one's class, scaled to its video
    /// seconds (the prior alone is a ranking, not a time: `None` until the class is seen).
    pub fn expected(&self, job: &Job) -> Option<(f64, f64)> {
        let samples = self.per_second.get(&Class::of(job))?;
        let seconds = f64::from(job.duration.max(1));
        let lo = samples.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = samples.iter().copied().fold(0.0, f64::max);
        (lo.is_finite() && hi >= lo).then_some((lo * seconds, hi * seconds))
    }

    /// Learns from a finished task of `job` that rendered for `seconds`; says whether the
    /// prediction of its class changed.
    pub fn observe(&mut self, job: &Job, seconds: f64) -> bool {
        if !(seconds.is_finite() && seconds > 0.0) {
            return false;
        }
        let before = self.predict(job);
        let per_second = seconds / f64::from(job.duration.max(1));
        push(self.per_second.entry(Class::of(job)).or_default(), per_second);
        push(self.calibration.entry(job.family.name().to_owned()).or_default(), seconds / Predictor::prior(job));
        (self.predict(job) - before).abs() > f64::EPSILON
    }

    /// What an earlier run learnt, from the ledger folder (nothing if absent or unreadable: it
    /// is only a head start).
    pub fn load(ledger_dir: &Path) -> Predictor {
        let Ok(bytes) = std::fs::read(ledger_dir.join(FILE)) else { return Predictor::default() };
        match serde_json::from_slice::<Saved>(&bytes) {
            Ok(saved) if saved.format == FORMAT => Predictor {
                per_second: saved.samples.into_iter().collect(),
                calibration: saved.calibration.into_iter().collect(),
            },
            _ => Predictor::default(),
        }
    }

    /// Keeps what was learnt in the ledger folder (atomically).
    pub fn save(&self, ledger_dir: &Path) -> std::io::Result<()> {
        let mut samples: Vec<(Class, Vec<f64>)> = self.per_second.clone().into_iter().collect();
        samples.sort_by(|a, b| a.0.cmp(&b.0));
        let mut calibration: Vec<(String, Vec<f64>)> = self.calibration.clone().into_iter().collect();
        calibration.sort_by(|a, b| a.0.cmp(&b.0));
        let saved = Saved { format: FORMAT.to_owned(), samples, calibration };
        let bytes = serde_json::to_vec_pretty(&saved).map_err(std::io::Error::other)?;
        crate::files::write_atomic(&ledger_dir.join(FILE), &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{self, Tier};

    fn job(model: &str, tier: Tier, duration: u32, audio: bool) -> Job {
        let spec = catalog::lookup(model).expect("known model");
        let size = spec.sizes().find(|s| spec.tier_of(s) == Some(tier)).expect("size");
        Job {
            key: crate::key::JobKey::default(),
            shot: "s".into(),
            variant: String::new(),
            model: model.into(),
            family: catalog::family_of(model),
            endpoint: spec.endpoint,
            layout: spec.layout,
            size: size.into(),
            tier: Some(tier),
            duration,
            audio,
            watermark: false,
            seed: None,
            sample: 0,
            prompt: "p".into(),
            media: Vec::new(),
            input: Default::default(),
            params: Default::default(),
            output: "s.mp4".into(),
            price_per_second: spec.price_per_second(tier, audio, false, crate::manifest::Region::default()),
            billed_input_seconds: 0.0,
            product: crate::plan::Product::Video,
            price_per_image: None,
            price_source: crate::ledger::money::PriceSource::Catalog,
            stage: crate::plan::Stage::Clips,
            waiting: Vec::new(),
        }
    }

    #[test]
    fn the_prior_follows_pixels_and_seconds() {
        let p = Predictor::default();
        let short = job(catalog::C1_R2V, Tier::P360, 5, false);
        let long = job(catalog::C1_R2V, Tier::P1080, 15, false);
        let with_audio = job(catalog::C1_R2V, Tier::P360, 5, true);
        assert!(p.predict(&long) > 20.0 * p.predict(&short), "3× the seconds at 9× the pixels");
        let (hd, full_hd) = (job(catalog::C1_R2V, Tier::P720, 5, false), job(catalog::C1_R2V, Tier::P1080, 5, false));
        assert!(p.predict(&full_hd) > 2.0 * p.predict(&hd), "1080P has 2.25× the pixels of 720P");
        assert!(p.predict(&with_audio) > p.predict(&short));
        assert_eq!(p.predict(&short), Predictor::prior(&short));
    }

    #[test]
    fn it_learns_per_class_and_per_video_second() {
        let mut p = Predictor::default();
        let five = job(catalog::V56_R2V, Tier::P720, 5, false);
        let ten = job(catalog::V56_R2V, Tier::P720, 10, false);
        assert!(p.observe(&five, 50.0));
        assert!((p.predict(&five) - 50.0).abs() < 1e-9);
        assert!((p.predict(&ten) - 100.0).abs() < 1e-9, "twice the seconds, twice the time");
        // Another tier of the family, not seen: its prior scaled as the family's seen ones are.
        let other = job(catalog::V56_R2V, Tier::P1080, 5, false);
        let scale = 50.0 / Predictor::prior(&five);
        assert!((p.predict(&other) - Predictor::prior(&other) * scale).abs() < 1e-9);
        // Another family learns nothing from it.
        let c1 = job(catalog::C1_R2V, Tier::P720, 5, false);
        assert_eq!(p.predict(&c1), Predictor::prior(&c1));
    }

    #[test]
    fn one_outlier_does_not_move_it() {
        let mut p = Predictor::default();
        let j = job(catalog::C1_R2V, Tier::P540, 5, false);
        for secs in [40.0, 42.0, 41.0, 39.0] {
            p.observe(&j, secs);
        }
        p.observe(&j, 900.0); // stuck in the service's queue, say
        assert!((p.predict(&j) - 41.0).abs() < 1e-9, "{}", p.predict(&j));
        assert!(!p.observe(&j, f64::NAN) && !p.observe(&j, 0.0), "nonsense is not learnt");
    }

    #[test]
    fn what_is_learnt_is_kept_for_the_next_run() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut p = Predictor::default();
        let j = job(catalog::C1_R2V, Tier::P720, 8, true);
        p.observe(&j, 80.0);
        p.save(dir.path()).expect("save");
        let again = Predictor::load(dir.path());
        assert!((again.predict(&j) - 80.0).abs() < 1e-9);
        std::fs::write(dir.path().join(FILE), "not json").expect("write");
        assert_eq!(Predictor::load(dir.path()).predict(&j), Predictor::prior(&j), "unreadable: start over");
    }
}
