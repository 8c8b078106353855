//! The order a family's queued jobs are submitted in.
//!
//! `longest-first` is LPT scheduling: with the family's slots all busy, the run ends when the
//! last task ends, so the longest tasks go first and the short ones fill the gaps at the end
//! (a long shot written last would otherwise start when everything else is done, and the run
//! would wait for it alone). Ties keep manifest order.
//!
//! Under `--max-cost` the budget picks *which* jobs run exactly as manifest order would (the
//! first ones of the manifest that it affords), and only those are ordered longest first: a
//! cap must not be spent on a few long shots while many short ones that a manifest-order run
//! would have made are left out.

use std::collections::{HashSet, VecDeque};

/// Of `queued` (job indices), those that `remaining` CNY affords when taken in manifest order,
/// skipping any that does not fit (as the budget check itself does). All of them without a cap.
pub(super) fn affordable(queued: &[usize], remaining: Option<f64>, estimate: impl Fn(usize) -> f64) -> HashSet<usize> {
    let mut sorted = queued.to_vec();
    sorted.sort_unstable();
    let Some(mut left) = remaining else { return sorted.into_iter().collect() };
    let mut out = HashSet::new();
    for idx in sorted {
        let cost = estimate(idx);
        if cost <= left + super::pools::EPSILON {
            left -= cost;
            out.insert(idx);
        }
    }
    out
}

/// Rearranges a family's queue: the affordable jobs longest-predicted first (ties in manifest
/// order), then the others in manifest order.
pub(super) fn longest_first(queue: &mut VecDeque<usize>, affordable: &HashSet<usize>, predict: impl Fn(usize) -> f64) {
    let mut keyed: Vec<(bool, f64, usize)> =
        queue.iter().map(|&idx| (!affordable.contains(&idx), predict(idx), idx)).collect();
    keyed.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| if a.0 { std::cmp::Ordering::Equal } else { b.1.total_cmp(&a.1) })
            .then(a.2.cmp(&b.2))
    });
    *queue = keyed.into_iter().map(|(_, _, idx)| idx).collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arranged(queue: &[usize], times: &[f64], costs: &[f64], cap: Option<f64>) -> Vec<usize> {
        let ok = affordable(queue, cap, |i| costs[i]);
        let mut q: VecDeque<usize> = queue.iter().copied().collect();
        longest_first(&mut q, &ok, |i| times[i]);
        q.into_iter().collect()
    }

    #[test]
    fn the_longest_go_first_and_ties_keep_manifest_order() {
        let times = [5.0, 20.0, 5.0, 60.0, 20.0];
        assert_eq!(arranged(&[0, 1, 2, 3, 4], &times, &[1.0; 5], None), [3, 1, 4, 0, 2]);
        // Same-size jobs (a seed sweep) stay in manifest order.
        assert_eq!(arranged(&[0, 1, 2, 3], &[7.0; 4], &[1.0; 4], None), [0, 1, 2, 3]);
    }

    #[test]
    fn only_the_queued_jobs_are_ordered() {
        // A shard, or --only, or --retry-failed: whatever is queued, nothing else.
        let times = [5.0, 20.0, 5.0, 60.0, 20.0];
        assert_eq!(arranged(&[4, 0, 2], &times, &[1.0; 5], None), [4, 0, 2]);
        assert_eq!(arranged(&[2, 1], &times, &[1.0; 5], None), [1, 2]);
    }

    #[test]
    fn a_budget_picks_jobs_in_manifest_order_then_orders_them() {
        // 10 CNY: manifest order affords 0, 1, 2 (1 + 1 + 6) and skips 3 (would be 14), then 4.
        let times = [5.0, 5.0, 60.0, 90.0, 5.0];
        let costs = [1.0, 1.0, 6.0, 6.0, 2.0];
        assert_eq!(affordable(&[0, 1, 2, 3, 4], Some(10.0), |i| costs[i]), HashSet::from([0, 1, 2, 4]));
        // The longest affordable first; the one the budget leaves out last, not first.
        assert_eq!(arranged(&[0, 1, 2, 3, 4], &times, &costs, Some(10.0)), [2, 0, 1, 4, 3]);
        assert_eq!(affordable(&[0, 1], None, |i| costs[i]).len(), 2);
    }
}
