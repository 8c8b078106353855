//! Whose task is it? After a create call that got no answer (or a crash between its intent and
//! its answer), a task may exist that nobody recorded. The account is shared (`dashscope-api.md`
//! §12.5): other tools, teammates and other pixbatch runs create tasks on the same list, so a
//! listed task becomes a job's only on evidence.
//!
//! The evidence, all from the service: the task's model, when it was created (inside the create
//! call's own window), and once it has SUCCEEDED its `orig_prompt` (compared modulo the
//! service's rewrite, §12.3) and `usage` (size, duration, audio). A PENDING or RUNNING task
//! shows none of the request (§12.4), so a job with such a candidate stays *in doubt* — neither
//! resubmitted nor adopted — until its candidates finish.
//!
//! Seed, watermark and the reference images show in no answer. Two finished tasks that match a
//! job equally (two sweeps that differ only in seed, created in the same moment) can never be
//! told apart: the job is then *ambiguous* and held — not resubmitted, which could pay for it
//! twice, and not adopted, which could save a video whose request differs. Our own creates are
//! told apart by their windows: while a job is in doubt, a create with the same visible request
//! (a twin: the next seed of its sweep) is sent no sooner than [`twin_gap`] after the doubt's
//! call can have been in the air, which keeps their windows apart with the clocks' tolerance on
//! both ends, in this run and in the next.
//!
//! Our clock and the service's disagree, by an offset nobody publishes. Before any create is
//! answered a window allows a fixed tolerance either way; once some are, their tasks' listed
//! creation times bound the offset ([`Offset::learn`]): each was made between its call's sending
//! and its answer. A window from a learnt offset is a few hundred milliseconds wide instead of
//! seconds, so fewer tasks of other clients (another run's PENDING ones) are candidates that must
//! finish before a doubt is decided, and a service clock seconds off ours is followed instead of
//! missed.
//!
//! A killed run leaves intents with no outcome. A model's creates go out one at a time, each
//! only once the outcome of the one before is in the journal, so of one run's unrecorded intents
//! of a model only the earliest can have been sent ([`in_the_air`]); the others are submitted
//! again at once.
//!
//! Everything here is pure: the coordinator gathers the candidates and records the outcomes.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::api::{TaskStatus, Usage};
use crate::catalog::Shape;

/// One create call that was answered, as both clocks saw it: sent at `sent_ms` and answered at
/// `answered_ms` by ours, its task created at `created_ms` by the service's (the list API's
/// `gmt_create`, the very field candidates are judged on), all in ms since the epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Answered {
    pub sent_ms: i64,
    pub answered_ms: i64,
    pub created_ms: i64,
}

/// How far the service's clock is ahead of ours (ms; negative when behind): somewhere in
/// `[lo_ms, hi_ms]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offset {
    pub lo_ms: i64,
    pub hi_ms: i64,
}

impl Offset {
    /// Before any answered create says otherwise: the clocks agree within `tolerance_ms`.
    pub fn assumed(tolerance_ms: i64) -> Offset {
        Offset { lo_ms: -tolerance_ms, hi_ms: tolerance_ms }
    }

    /// The offset that answered creates prove. A task is made between its call's sending and its
    /// answer, so the offset lies in `[created − answered, created − sent]` for every one of
    /// them, and so in their intersection (one more ms each way for the rounding to ms), widened
    /// by `slack_ms` for what one offset does not capture (the service's machines disagreeing a
    /// little, drift between the samples). `None` with no sample, or when the samples disagree
    /// beyond rounding (a clock stepped): then nothing is learnt.
    pub fn learn<'a>(samples: impl IntoIterator<Item = &'a Answered>, slack_ms: i64) -> Option<Offset> {
        let mut bounds: Option<(i64, i64)> = None;
        for s in samples {
            let (lo, hi) = (s.created_ms - s.answered_ms - 1, s.created_ms - s.sent_ms + 1);
            bounds = Some(bounds.map_or((lo, hi), |(l, h)| (l.max(lo), h.min(hi))));
        }
        let (lo, hi) = bounds?;
        (lo <= hi).then_some(Offset { lo_ms: lo - slack_ms, hi_ms: hi + slack_ms })
    }

    /// When a create call sent at `sent_ms` and given up at `failed_ms` (our clock) can have made
    /// its task, in the service's clock.
    pub fn window(&self, sent_ms: i64, failed_ms: i64) -> (i64, i64) {
        (sent_ms + self.lo_ms, failed_ms + self.hi_ms)
    }
}

/// What a job's create call sent that the service can show back.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    pub model: String,
    pub prompt: String,
    pub size: String,
    pub duration: u32,
    pub audio: bool,
}

/// A job whose create call may have made a task nobody recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Doubt {
    pub idx: usize,
    pub endpoint: String,
    /// When the task can have been created, in the service's clock (ms since the epoch).
    pub from_ms: i64,
    pub to_ms: i64,
    pub expect: Expect,
}

/// How long after a doubt's create call can have been in the air a twin's create may go: the
/// doubt's window reaches `tolerance` past its end and the twin's starts `tolerance` before its
/// sending, so twice that and a margin keep them apart even when the offset between the clocks
/// is only assumed (an earlier run's doubt, or nothing answered yet).
pub fn twin_gap(tolerance: std::time::Duration) -> jiff::SignedDuration {
    jiff::SignedDuration::try_from(tolerance * 2 + std::time::Duration::from_millis(500))
        .unwrap_or(jiff::SignedDuration::MAX)
}

/// An intent of an earlier run whose create may have made a task nobody recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Unrecorded {
    pub idx: usize,
    /// When the run that wrote it started; `None` in ledgers older than that record.
    pub run: Option<jiff::Timestamp>,
    pub endpoint: String,
    pub expect: Expect,
    /// When the intent was written: a model's creates go out in this order.
    pub at: jiff::Timestamp,
    /// Its create was sent and got no answer (the window is recorded): in doubt whatever else.
    pub answered: bool,
    /// For an `answered` one: until when its create call can have been in the air.
    pub until: Option<jiff::Timestamp>,
}

/// What the service shows back of a request (model, prompt modulo its rewrite, size,
/// duration, audio): two creates with the same one cannot be told apart by their tasks.
pub type Visible = (String, String, String, u32, bool);

impl Expect {
    /// What tells two requests apart in the service's answers.
    pub fn visible(&self) -> Visible {
        (self.model.clone(), canonical_prompt(&self.prompt), self.size.clone(), self.duration, self.audio)
    }
}

/// Which intents of earlier runs may have made a task. One whose unanswered create is
/// recorded is in doubt. Of one run's intents with no outcome at all, for one model at one
/// endpoint, only the earliest can have been sent (the create in the air when the run died:
/// every later one was waiting for its outcome to be recorded), and if a create with the same
/// visible request was still in doubt in that run, not before [`twin_gap`] (`gap`) past that
/// doubt's window. Returns (in doubt, each with the moment its create cannot have been sent
/// before, if any; never sent). Intents of older ledgers, which do not say their run, are all
/// in doubt.
pub fn in_the_air(
    intents: Vec<Unrecorded>,
    gap: jiff::SignedDuration,
) -> (Vec<(usize, Option<jiff::Timestamp>)>, Vec<usize>) {
    let (settled, mut open): (Vec<Unrecorded>, Vec<Unrecorded>) =
        intents.into_iter().partition(|u| u.answered || u.run.is_none());
    let mut doubt: Vec<(usize, Option<jiff::Timestamp>)> = settled.iter().map(|u| (u.idx, None)).collect();
    let mut never = Vec::new();
    open.sort_by(|a, b| {
        (&a.run, &a.endpoint, &a.expect.model, a.at).cmp(&(&b.run, &b.endpoint, &b.expect.model, b.at))
    });
    for group in open.chunk_by(|a, b| a.run == b.run && a.endpoint == b.endpoint && a.expect.model == b.expect.model) {
        let first = &group[0];
        let not_before = settled
            .iter()
            .filter(|w| {
                w.answered
                    && w.run == first.run
                    && w.endpoint == first.endpoint
                    && w.expect.visible() == first.expect.visible()
            })
            .map(|w| w.until.unwrap_or(w.at).checked_add(gap).unwrap_or(jiff::Timestamp::MAX))
            .max();
        doubt.push((first.idx, not_before));
        never.extend(group[1..].iter().map(|u| u.idx));
    }
    (doubt, never)
}

/// A task of the account that no ledger record claims, as listed (and queried once finished).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub task_id: String,
    pub endpoint: String,
    pub model: Option<String>,
    pub created_ms: Option<i64>,
    pub status: TaskStatus,
    pub orig_prompt: Option<String>,
    pub usage: Option<Usage>,
}

/// What one candidate says about one job.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Something the service shows differs from what the job sent.
    Contradicts(String),
    /// Finished, and everything the service shows agrees.
    Matches,
    /// Not finished: it shows nothing of its request yet.
    Unsettled,
    /// Ended without a video (FAILED, CANCELED): nothing was billed, whoever made it.
    Unbilled,
}

/// What to do with a job in doubt.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The task is this job's.
    Adopt { task_id: String, evidence: String },
    /// No task of the account can be this job's: the create never made one (or made one that
    /// ended unbilled); submitting again cannot pay twice.
    NothingMade { evidence: String },
    /// A candidate has not finished; look again later.
    Wait { evidence: String },
    /// Several finished tasks match equally: hold the job.
    Ambiguous { task_ids: Vec<String>, evidence: String },
}

/// A prompt as compared: lowercase letters and digits only. This absorbs the documented
/// rewrite (the `@` of a mention and the space that binds it go) and other normalisation
/// (spacing, punctuation, full-width commas), never a changed word.
pub fn canonical_prompt(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Whether `c` can be the task `e` asked for.
pub fn verdict(e: &Expect, c: &Candidate) -> Verdict {
    if c.model.as_deref().is_some_and(|m| m != e.model) {
        return Verdict::Contradicts(format!("model {}", c.model.as_deref().unwrap_or_default()));
    }
    match c.status {
        TaskStatus::Succeeded => {}
        TaskStatus::Failed | TaskStatus::Canceled | TaskStatus::Unknown => return Verdict::Unbilled,
        TaskStatus::Pending | TaskStatus::Running | TaskStatus::Other => return Verdict::Unsettled,
    }
    if let Some(p) = &c.orig_prompt
        && canonical_prompt(p) != canonical_prompt(&e.prompt)
    {
        let short: String = p.chars().take(60).collect();
        return Verdict::Contradicts(format!("prompt \"{short}\""));
    }
    if let Some(u) = &c.usage {
        // Only a model that is sent an exact size reports it back; the others report what they
        // made (the first frame's aspect, a tier's default), which says nothing of the request.
        // An image model reports roughly what it made (`2976*1408` for `2K`): never evidence.
        let exact_size = crate::catalog::lookup(&e.model).is_none_or(|m| matches!(m.shape, Shape::Size(_)))
            && crate::catalog::images::image_lookup(&e.model).is_none();
        if let Some(size) = u.size.as_deref().filter(|s| exact_size && *s != e.size) {
            return Verdict::Contradicts(format!("size {size}"));
        }
        // The output's seconds: `duration` also counts billed reference-video seconds (Wan r2v).
        let output = u.output_video_duration.or_else(|| Some(u.duration? - u.input_video_duration.unwrap_or(0.0)));
        if let Some(d) = output.filter(|d| (d - f64::from(e.duration)).abs() > 0.5) {
            return Verdict::Contradicts(format!("{d} s"));
        }
        if let Some(a) = u.audio.filter(|a| *a != e.audio) {
            return Verdict::Contradicts(if a { "audio on".into() } else { "audio off".into() });
        }
    }
    Verdict::Matches
}

/// Decides every doubt at once. `busy_from` gives, per (endpoint, model), the earliest moment
/// (service clock, ms) a create call of ours still in the air may have made a task: a candidate
/// made after it may be that call's, not yet recorded, and so proves nothing yet.
///
/// A candidate that matches only one doubt, alone among that doubt's candidates, is adopted;
/// adopted tasks are then out of the running for the others, and so on until nothing changes.
pub fn resolve(
    doubts: &[Doubt],
    candidates: &[Candidate],
    busy_from: &HashMap<(String, String), i64>,
) -> Vec<(usize, Outcome)> {
    struct Seen<'a> {
        matches: Vec<&'a str>,
        unsettled: Vec<&'a str>,
        said: Vec<String>,
    }
    let mut seen: BTreeMap<usize, Seen> = BTreeMap::new();
    for d in doubts {
        let mut s = Seen { matches: Vec::new(), unsettled: Vec::new(), said: Vec::new() };
        let busy = busy_from.get(&(d.endpoint.clone(), d.expect.model.clone())).copied();
        for c in candidates {
            let Some(created) = c.created_ms else { continue };
            if c.endpoint != d.endpoint || created < d.from_ms || created > d.to_ms {
                continue;
            }
            if c.model.as_deref().is_some_and(|m| m != d.expect.model) {
                continue;
            }
            let id = c.task_id.as_str();
            match verdict(&d.expect, c) {
                Verdict::Contradicts(what) => s.said.push(format!("{id}: {what}")),
                Verdict::Unbilled => s.said.push(format!("{id}: {} (unbilled)", c.status.as_str())),
                Verdict::Unsettled => {
                    s.said.push(format!("{id}: {}", c.status.as_str()));
                    s.unsettled.push(id);
                }
                Verdict::Matches if busy.is_some_and(|b| created >= b) => {
                    s.said.push(format!("{id}: matches, but a create of this run was in the air"));
                    s.unsettled.push(id);
                }
                Verdict::Matches => {
                    s.said.push(format!("{id}: matches"));
                    s.matches.push(id);
                }
            }
        }
        seen.insert(d.idx, s);
    }
    let window = |d: &Doubt| {
        let t = |ms: i64| jiff::Timestamp::from_millisecond(ms).map(|t| t.to_string()).unwrap_or_default();
        format!("created {} to {}", t(d.from_ms), t(d.to_ms))
    };
    let evidence = |d: &Doubt, s: &Seen| {
        let listed = if s.said.is_empty() { "none".to_owned() } else { s.said.join("; ") };
        format!("{} tasks {} — {listed}", d.expect.model, window(d))
    };
    let mut out: Vec<(usize, Outcome)> = Vec::new();
    let mut decided: HashSet<usize> = HashSet::new();
    let mut claimed: HashSet<&str> = HashSet::new();
    loop {
        let mut progress = false;
        for d in doubts {
            if decided.contains(&d.idx) {
                continue;
            }
            let s = &seen[&d.idx];
            if !s.unsettled.is_empty() {
                continue;
            }
            let open: Vec<&str> = s.matches.iter().copied().filter(|m| !claimed.contains(m)).collect();
            let outcome = match open.as_slice() {
                [] => Outcome::NothingMade { evidence: evidence(d, s) },
                [one] => {
                    let shared = doubts
                        .iter()
                        .any(|o| o.idx != d.idx && !decided.contains(&o.idx) && seen[&o.idx].matches.contains(one));
                    if shared {
                        continue;
                    }
                    claimed.insert(one);
                    Outcome::Adopt { task_id: (*one).to_owned(), evidence: evidence(d, s) }
                }
                _ => continue,
            };
            decided.insert(d.idx);
            out.push((d.idx, outcome));
            progress = true;
        }
        if !progress {
            break;
        }
    }
    for d in doubts {
        if decided.contains(&d.idx) {
            continue;
        }
        let s = &seen[&d.idx];
        let outcome = if s.unsettled.is_empty() {
            let mut ids: Vec<String> =
                s.matches.iter().filter(|m| !claimed.contains(*m)).map(|m| (*m).to_owned()).collect();
            // Matches another doubt wants as much: every doubt sharing them is held.
            if ids.is_empty() {
                ids = s.matches.iter().map(|m| (*m).to_owned()).collect();
            }
            Outcome::Ambiguous { task_ids: ids, evidence: evidence(d, s) }
        } else {
            Outcome::Wait { evidence: evidence(d, s) }
        };
        out.push((d.idx, outcome));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EP: &str = "https://dashscope.aliyuncs.com/";
    const C1: &str = "pixverse/pixverse-c1-r2v";

    fn expect(prompt: &str) -> Expect {
        Expect { model: C1.into(), prompt: prompt.into(), size: "1280*720".into(), duration: 5, audio: false }
    }

    fn doubt(idx: usize, prompt: &str, from_ms: i64, to_ms: i64) -> Doubt {
        Doubt { idx, endpoint: EP.into(), from_ms, to_ms, expect: expect(prompt) }
    }

    fn done(id: &str, at: i64, orig: &str, size: &str) -> Candidate {
        Candidate {
            task_id: id.into(),
            endpoint: EP.into(),
            model: Some(C1.into()),
            created_ms: Some(at),
            status: TaskStatus::Succeeded,
            orig_prompt: Some(orig.into()),
            usage: Some(Usage { duration: Some(5.0), size: Some(size.into()), audio: Some(false), ..Usage::default() }),
        }
    }

    fn running(id: &str, at: i64) -> Candidate {
        Candidate { status: TaskStatus::Running, orig_prompt: None, usage: None, ..done(id, at, "", "") }
    }

    fn none() -> HashMap<(String, String), i64> {
        HashMap::new()
    }

    #[test]
    fn the_documented_rewrite_is_not_a_different_prompt() {
        // dashscope-api.md §10.5 / §12.3, byte for byte.
        let sent = "@男人 坐在靠窗的椅子上，手持@吉他 ，在@咖啡厅 旁演奏一首舒缓的美国乡村民谣";
        let shown = "男人坐在靠窗的椅子上，手持吉他，在咖啡厅旁演奏一首舒缓的美国乡村民谣";
        assert_eq!(canonical_prompt(sent), canonical_prompt(shown));
        assert_eq!(canonical_prompt("@man walks  home."), canonical_prompt("man walks home"));
        assert_ne!(canonical_prompt("@man walks home"), canonical_prompt("man walks home, take 2"));
    }

    #[test]
    fn a_lone_candidate_is_adopted_only_on_evidence() {
        let d = [doubt(0, "@man walks home", 1000, 2000)];
        let theirs = done("t1", 1500, "man runs away", "1280*720");
        let out = resolve(&d, &[theirs], &none());
        assert!(matches!(&out[0].1, Outcome::NothingMade { evidence } if evidence.contains("prompt")), "{out:?}");
        let ours = done("t2", 1500, "man walks home", "1280*720");
        let out = resolve(&d, &[ours], &none());
        assert!(matches!(&out[0].1, Outcome::Adopt { task_id, .. } if task_id == "t2"), "{out:?}");
        let other_size = done("t3", 1500, "man walks home", "720*1280");
        assert!(matches!(resolve(&d, &[other_size], &none())[0].1, Outcome::NothingMade { .. }));
    }

    #[test]
    fn tasks_outside_the_create_calls_window_are_not_candidates() {
        let d = [doubt(0, "@man walks home", 1000, 2000)];
        let early = done("t1", 999, "man walks home", "1280*720");
        let late = done("t2", 2001, "man walks home", "1280*720");
        assert!(matches!(resolve(&d, &[early, late], &none())[0].1, Outcome::NothingMade { .. }));
    }

    #[test]
    fn an_unfinished_candidate_keeps_the_job_in_doubt() {
        let d = [doubt(0, "@man walks home", 1000, 2000)];
        let out = resolve(&d, &[running("t1", 1500), done("t2", 1600, "man walks home", "1280*720")], &none());
        assert!(matches!(out[0].1, Outcome::Wait { .. }), "{out:?}");
    }

    #[test]
    fn a_task_made_while_a_create_of_ours_was_in_the_air_proves_nothing_yet() {
        let d = [doubt(0, "@man walks home", 1000, 2000)];
        let busy = HashMap::from([((EP.to_owned(), C1.to_owned()), 1400)]);
        let out = resolve(&d, &[done("t1", 1500, "man walks home", "1280*720")], &busy);
        assert!(matches!(out[0].1, Outcome::Wait { .. }), "{out:?}");
    }

    #[test]
    fn failed_candidates_cost_nothing_so_the_job_is_submitted_again() {
        let d = [doubt(0, "@man walks home", 1000, 2000)];
        let failed = Candidate { status: TaskStatus::Failed, ..running("t1", 1500) };
        assert!(matches!(resolve(&d, &[failed], &none())[0].1, Outcome::NothingMade { .. }));
    }

    #[test]
    fn two_tasks_that_match_equally_hold_the_job() {
        // Two sweeps that differ only in seed, created in the same moment.
        let d = [doubt(0, "@man walks home", 1000, 2000)];
        let c = [done("a", 1500, "man walks home", "1280*720"), done("b", 1500, "man walks home", "1280*720")];
        let out = resolve(&d, &c, &none());
        assert!(matches!(&out[0].1, Outcome::Ambiguous { task_ids, .. } if task_ids.len() == 2), "{out:?}");
    }

    #[test]
    fn serialized_creates_are_told_apart_by_their_windows() {
        // Seeds 1 and 2 of a sweep, both unanswered, one after the other on the model's lane.
        let d = [doubt(0, "@man walks home", 1000, 2000), doubt(1, "@man walks home", 2100, 3000)];
        let c = [done("a", 1500, "man walks home", "1280*720"), done("b", 2500, "man walks home", "1280*720")];
        let out: HashMap<usize, Outcome> = resolve(&d, &c, &none()).into_iter().collect();
        assert!(matches!(&out[&0], Outcome::Adopt { task_id, .. } if task_id == "a"), "{out:?}");
        assert!(matches!(&out[&1], Outcome::Adopt { task_id, .. } if task_id == "b"), "{out:?}");
    }

    #[test]
    fn of_a_killed_runs_unrecorded_creates_only_the_earliest_per_model_was_sent() {
        let t = |s: i64| jiff::Timestamp::from_second(s).expect("ts");
        let run = Some(t(100));
        let u = |idx, model: &str, at, run| Unrecorded {
            idx,
            run,
            endpoint: EP.into(),
            expect: Expect { model: model.into(), ..expect("@man walks home") },
            at: t(at),
            answered: false,
            until: None,
        };
        let c56 = "pixverse/pixverse-v5.6-r2v";
        let intents = vec![
            u(0, C1, 103, run),
            u(1, C1, 101, run),
            u(2, C1, 102, run),
            u(3, c56, 105, run),
            u(4, c56, 104, run),
            // Another (earlier) run's leftover of the same model has its own create in the air.
            u(5, C1, 50, Some(t(40))),
            // An old ledger says nothing of runs: every intent stays in doubt.
            u(6, C1, 10, None),
            u(7, C1, 11, None),
        ];
        let (doubt, mut never) = in_the_air(intents, twin_gap(std::time::Duration::from_secs(2)));
        let mut doubt: Vec<usize> = doubt.into_iter().map(|(i, _)| i).collect();
        doubt.sort_unstable();
        never.sort_unstable();
        assert_eq!(doubt, [1, 4, 5, 6, 7]);
        assert_eq!(never, [0, 2, 3]);
    }

    #[test]
    fn a_twin_of_a_doubt_was_sent_no_sooner_than_the_gap_after_it() {
        let t = |s: i64| jiff::Timestamp::from_second(s).expect("ts");
        let u = |idx, prompt: &str, at, answered| Unrecorded {
            idx,
            run: Some(t(100)),
            endpoint: EP.into(),
            expect: expect(prompt),
            at: t(at),
            answered,
            until: answered.then(|| t(at + 1)),
        };
        let gap = twin_gap(std::time::Duration::from_secs(2));
        // Seed 1's create got no answer (recorded, in the air until 102); seed 2, the same
        // visible request, had no outcome when the run died: it may have gone out, but not
        // before the gap after 102, so its window cannot reach back to seed 1's task.
        let (mut doubt, never) =
            in_the_air(vec![u(0, "@man walks home", 101, true), u(1, "@man walks home", 102, false)], gap);
        doubt.sort_unstable();
        assert_eq!((doubt, never), (vec![(0, None), (1, t(102).checked_add(gap).ok())], vec![]));
        // Another prompt waits for nothing: it may have been in the air at once.
        let (mut doubt, never) =
            in_the_air(vec![u(0, "@man walks home", 101, true), u(1, "@man runs", 102, false)], gap);
        doubt.sort_unstable();
        assert_eq!((doubt, never), (vec![(0, None), (1, None)], vec![]));
    }

    #[test]
    fn twins_sent_the_gap_apart_are_told_apart_by_their_windows() {
        // Seed 1's call (20 000 to 20 050) and seed 2's, sent the gap after it, both unanswered,
        // with only the assumed tolerance: each window holds its own task alone.
        let tol = std::time::Duration::from_secs(2);
        let gap = twin_gap(tol).as_millis() as i64;
        let assumed = Offset::assumed(2_000);
        let (a0, a1) = assumed.window(20_000, 20_050);
        let (b0, b1) = assumed.window(20_050 + gap, 20_100 + gap);
        let d = [doubt(0, "@man walks home", a0, a1), doubt(1, "@man walks home", b0, b1)];
        let c =
            [done("a", 20_050, "man walks home", "1280*720"), done("b", 20_050 + gap, "man walks home", "1280*720")];
        let out: HashMap<usize, Outcome> = resolve(&d, &c, &none()).into_iter().collect();
        assert!(matches!(&out[&0], Outcome::Adopt { task_id, .. } if task_id == "a"), "{out:?}");
        assert!(matches!(&out[&1], Outcome::Adopt { task_id, .. } if task_id == "b"), "{out:?}");
    }

    fn answered(sent_ms: i64, rtt: i64, ahead: i64) -> Answered {
        // The service made the task halfway through the call, its clock `ahead` of ours.
        Answered { sent_ms, answered_ms: sent_ms + rtt, created_ms: sent_ms + rtt / 2 + ahead }
    }

    #[test]
    fn answered_creates_bound_the_services_clock() {
        let samples = [answered(10_000, 40, 5_000), answered(10_300, 8, 5_000), answered(10_600, 30, 5_000)];
        let offset = Offset::learn(&samples, 100).expect("learnt");
        assert!(offset.lo_ms <= 5_000 && 5_000 <= offset.hi_ms, "{offset:?}");
        // The tightest sample (8 ms) and the slack decide the width.
        assert!(offset.hi_ms - offset.lo_ms <= 2 * 100 + 8 + 2, "{offset:?}");
        assert_eq!(Offset::learn(&[], 100), None, "nothing answered, nothing learnt");
    }

    #[test]
    fn samples_that_disagree_teach_nothing() {
        // Our clock stepped by a second between two answered creates.
        let samples = [answered(10_000, 10, 0), answered(20_000, 10, 1_000)];
        assert_eq!(Offset::learn(&samples, 100), None);
    }

    #[test]
    fn a_learnt_window_always_holds_the_task() {
        // Whatever the offset and the round trips, the task of an unanswered call made between
        // its sending and its giving up lies in the window learnt from answered calls.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: i64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as i64
        };
        for _ in 0..2_000 {
            let ahead = next(20_000) - 10_000;
            let samples: Vec<Answered> = (0..1 + next(5))
                .map(|i| {
                    let (sent, rtt) = (1_000_000 + i * 200, 1 + next(300));
                    let made = sent + next(rtt + 1);
                    Answered { sent_ms: sent, answered_ms: sent + rtt, created_ms: made + ahead }
                })
                .collect();
            let offset = Offset::learn(&samples, 0).expect("consistent");
            let (sent, wait) = (1_000_000 + next(2_000), next(30_000));
            let made = sent + next(wait + 1) + ahead;
            let (from, to) = offset.window(sent, sent + wait);
            assert!(from <= made && made <= to, "{offset:?} {from}..{to} misses {made}");
        }
    }

    #[test]
    fn a_service_clock_seconds_ahead_is_followed_not_missed() {
        // The service's clock is 3 s ahead of ours. The task of the unanswered call (sent at
        // 20 000, given up at 20 050, ours) is listed as made at 23 020.
        let ours = done("t1", 23_020, "man walks home", "1280*720");
        let assumed = Offset::assumed(2_000).window(20_000, 20_050);
        let d = [doubt(0, "@man walks home", assumed.0, assumed.1)];
        assert!(
            matches!(resolve(&d, std::slice::from_ref(&ours), &none())[0].1, Outcome::NothingMade { .. }),
            "the fixed tolerance misses it"
        );
        let offset = Offset::learn(&[answered(19_500, 20, 3_000), answered(20_200, 20, 3_000)], 250).expect("learnt");
        let (from, to) = offset.window(20_000, 20_050);
        let out = resolve(&[doubt(0, "@man walks home", from, to)], &[ours], &none());
        assert!(matches!(&out[0].1, Outcome::Adopt { task_id, .. } if task_id == "t1"), "{out:?}");
    }

    #[test]
    fn a_learnt_window_leaves_out_a_task_made_a_second_later() {
        // Another run's task, still PENDING, made 1 s after our unanswered call; ours is done.
        let c = [done("ours", 20_010, "man walks home", "1280*720"), running("theirs", 21_000)];
        let assumed = Offset::assumed(2_000).window(20_000, 20_020);
        let out = resolve(&[doubt(0, "@man walks home", assumed.0, assumed.1)], &c, &none());
        assert!(matches!(out[0].1, Outcome::Wait { .. }), "the fixed tolerance waits for theirs: {out:?}");
        let offset = Offset::learn(&[answered(19_800, 10, 0), answered(20_300, 10, 0)], 250).expect("learnt");
        let (from, to) = offset.window(20_000, 20_020);
        let out = resolve(&[doubt(0, "@man walks home", from, to)], &c, &none());
        assert!(matches!(&out[0].1, Outcome::Adopt { task_id, .. } if task_id == "ours"), "{out:?}");
    }

    #[test]
    fn twins_that_both_could_own_a_task_are_held() {
        // Two doubts of the same visible request (left by two killed runs): doubt 0 can only
        // be task a, doubt 1 a or b. If doubt 0's create made nothing, a may be doubt 1's and
        // b someone else's: nothing decides, so both are held.
        let d = [doubt(0, "@man walks home", 1000, 1600), doubt(1, "@man walks home", 1000, 3000)];
        let c = [done("a", 1500, "man walks home", "1280*720"), done("b", 2500, "man walks home", "1280*720")];
        let out = resolve(&d, &c, &none());
        assert!(out.iter().all(|(_, o)| matches!(o, Outcome::Ambiguous { .. })), "{out:?}");
    }
}
