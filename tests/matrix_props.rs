//! Matrix rules (GitHub Actions' `strategy.matrix`) hold for any axes, excludes and includes,
//! beside the table test in `plan::matrix`.

use pixbatch::plan::matrix::{Combination, MatrixSpec, cross_len, expand};
use proptest::prelude::*;

const AXES: [&str; 3] = ["a", "b", "c"];

fn spec() -> impl Strategy<Value = MatrixSpec<u8>> {
    let axes = prop::collection::vec(prop::collection::vec(0u8..4, 1..4), 1..=3)
        .prop_map(|values| values.into_iter().enumerate().map(|(i, v)| (AXES[i].to_owned(), v)).collect::<Vec<_>>());
    axes.prop_flat_map(|axes| {
        let n = axes.len();
        // Entries over the axes (some keys left out: partial entries) and, for includes, a new key.
        let entry = move |extra: bool| {
            prop::collection::vec(prop::option::of(0u8..4), n + usize::from(extra)).prop_map(move |vals| {
                vals.into_iter()
                    .enumerate()
                    .filter_map(|(i, v)| v.map(|v| (if i < n { AXES[i].to_owned() } else { "x".to_owned() }, v)))
                    .collect::<Combination<u8>>()
            })
        };
        (Just(axes), prop::collection::vec(entry(false), 0..3), prop::collection::vec(entry(true), 0..3))
            .prop_map(|(axes, exclude, include)| MatrixSpec { axes, exclude, include })
    })
}

fn cross(spec: &MatrixSpec<u8>) -> Vec<Combination<u8>> {
    let mut acc: Vec<Combination<u8>> = vec![Vec::new()];
    for (name, values) in &spec.axes {
        acc = acc
            .iter()
            .flat_map(|c| values.iter().map(move |v| [c.clone(), vec![(name.clone(), *v)]].concat()))
            .collect();
    }
    acc
}

fn matches(combo: &Combination<u8>, entry: &Combination<u8>) -> bool {
    entry.iter().all(|(k, v)| combo.iter().any(|(ck, cv)| ck == k && cv == v))
}

proptest! {
    #[test]
    fn the_cross_product_minus_excludes_comes_first_and_in_order(spec in spec()) {
        let out = expand(&spec, |a, b| a == b);
        let kept: Vec<Combination<u8>> =
            cross(&spec).into_iter().filter(|c| !spec.exclude.iter().any(|e| matches(c, e))).collect();
        prop_assert!(cross_len(&spec.axes) >= kept.len());
        prop_assert!(out.len() >= kept.len());
        // Includes add keys and may fill in new ones, but never change an original axis value.
        for (got, want) in out.iter().zip(&kept) {
            for (k, v) in want {
                prop_assert!(got.iter().any(|(gk, gv)| gk == k && gv == v), "{got:?} lost {k}={v}");
            }
        }
    }

    #[test]
    fn without_includes_no_excluded_combination_survives(spec in spec()) {
        let spec = MatrixSpec { include: Vec::new(), ..spec };
        let out = expand(&spec, |a, b| a == b);
        for combo in &out {
            prop_assert!(!spec.exclude.iter().any(|e| matches(combo, e)), "{combo:?} is excluded");
        }
        let excluded = cross(&spec).iter().filter(|c| spec.exclude.iter().any(|e| matches(c, e))).count();
        prop_assert_eq!(out.len() + excluded, cross_len(&spec.axes));
    }

    #[test]
    fn the_last_include_shows_in_full_somewhere(spec in spec()) {
        let out = expand(&spec, |a, b| a == b);
        if let Some(last) = spec.include.last() {
            prop_assert!(out.iter().any(|c| matches(c, last)), "{last:?} in none of {out:?}");
        }
        // An include that fits no original combination is a combination of its own, after them.
        let kept = cross(&spec).into_iter().filter(|c| !spec.exclude.iter().any(|e| matches(c, e))).count();
        let original: Vec<&str> = spec.axes.iter().map(|(k, _)| k.as_str()).collect();
        let own = spec
            .include
            .iter()
            .filter(|inc| {
                !cross(&spec).iter().filter(|c| !spec.exclude.iter().any(|e| matches(c, e))).any(|c| {
                    inc.iter().all(|(k, v)| !original.contains(&k.as_str()) || c.iter().any(|(ck, cv)| ck == k && cv == v))
                })
            })
            .count();
        prop_assert_eq!(out.len(), kept + own);
    }
}
