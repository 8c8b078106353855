//! Matrix expansion with the rules of GitHub Actions `strategy.matrix`.
//!
//! 1. The cross product of the axes, first axis outermost.
//! 2. Minus every combination that an `exclude` entry matches (all of the entry's keys equal;
//!    a partial entry matches many).
//! 3. Each `include` entry is added to every original combination whose *original* axis values
//!    it does not contradict (it may overwrite values earlier includes added); an entry that
//!    fits no original combination becomes a combination of its own.

/// A combination: axis name → value, in the order the keys were introduced.
pub type Combination<V> = Vec<(String, V)>;

/// What to expand.
#[derive(Debug, Clone)]
pub struct MatrixSpec<V> {
    pub axes: Vec<(String, Vec<V>)>,
    pub exclude: Vec<Combination<V>>,
    pub include: Vec<Combination<V>>,
}

/// How many combinations the cross product has before exclude/include (saturating).
pub fn cross_len<V>(axes: &[(String, Vec<V>)]) -> usize {
    axes.iter().fold(1usize, |n, (_, values)| n.saturating_mul(values.len()))
}

fn get<'a, V>(combo: &'a Combination<V>, key: &str) -> Option<&'a V> {
    combo.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn set<V>(combo: &mut Combination<V>, key: &str, value: V) {
    match combo.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = value,
        None => combo.push((key.to_owned(), value)),
    }
}

/// Expands the matrix; `eq` decides when two values are the same.
pub fn expand<V: Clone>(spec: &MatrixSpec<V>, eq: impl Fn(&V, &V) -> bool) -> Vec<Combination<V>> {
    let mut combos: Vec<Combination<V>> = if spec.axes.is_empty() {
        Vec::new()
    } else {
        let mut acc: Vec<Combination<V>> = vec![Vec::new()];
        for (name, values) in &spec.axes {
            let mut next = Vec::with_capacity(acc.len().saturating_mul(values.len()));
            for combo in &acc {
                for value in values {
                    let mut c = combo.clone();
                    c.push((name.clone(), value.clone()));
                    next.push(c);
                }
            }
            acc = next;
        }
        acc
    };

    combos.retain(|combo| {
        !spec.exclude.iter().any(|ex| ex.iter().all(|(k, v)| get(combo, k).is_some_and(|cv| eq(cv, v))))
    });

    let original: Vec<&str> = spec.axes.iter().map(|(k, _)| k.as_str()).collect();
    let original_count = combos.len();
    let mut extra = Vec::new();
    for inc in &spec.include {
        let mut fitted = false;
        for combo in combos.iter_mut().take(original_count) {
            let fits =
                inc.iter().all(|(k, v)| !original.contains(&k.as_str()) || get(combo, k).is_some_and(|cv| eq(cv, v)));
            if fits {
                fitted = true;
                for (k, v) in inc {
                    set(combo, k, v.clone());
                }
            }
        }
        if !fitted {
            extra.push(inc.clone());
        }
    }
    combos.extend(extra);
    if combos.is_empty() && spec.axes.is_empty() {
        combos.push(Vec::new());
    }
    combos
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(pairs: &[(&str, &str)]) -> Combination<String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn axes(list: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        list.iter().map(|(k, vs)| ((*k).to_owned(), vs.iter().map(|v| (*v).to_owned()).collect())).collect()
    }

    fn run(spec: &MatrixSpec<String>) -> Vec<Vec<(String, String)>> {
        let mut out = expand(spec, |a, b| a == b);
        for combo in &mut out {
            combo.sort();
        }
        out
    }

    fn sorted(list: Vec<Combination<String>>) -> Vec<Combination<String>> {
        list.into_iter()
            .map(|mut c| {
                c.sort();
                c
            })
            .collect()
    }

    /// The worked example from the GitHub Actions documentation ("Expanding or adding matrix
    /// configurations"), with its documented result.
    #[test]
    fn github_docs_include_example() {
        let spec = MatrixSpec {
            axes: axes(&[("fruit", &["apple", "pear"]), ("animal", &["cat", "dog"])]),
            exclude: vec![],
            include: vec![
                c(&[("color", "green")]),
                c(&[("color", "pink"), ("animal", "cat")]),
                c(&[("fruit", "apple"), ("shape", "circle")]),
                c(&[("fruit", "banana")]),
                c(&[("fruit", "banana"), ("animal", "cat")]),
            ],
        };
        let expected = sorted(vec![
            c(&[("fruit", "apple"), ("animal", "cat"), ("color", "pink"), ("shape", "circle")]),
            c(&[("fruit", "apple"), ("animal", "dog"), ("color", "green"), ("shape", "circle")]),
            c(&[("fruit", "pear"), ("animal", "cat"), ("color", "pink")]),
            c(&[("fruit", "pear"), ("animal", "dog"), ("color", "green")]),
            c(&[("fruit", "banana")]),
            c(&[("fruit", "banana"), ("animal", "cat")]),
        ]);
        assert_eq!(run(&spec), expected);
    }

    /// The table of cases: (axes, exclude, include, expected combinations).
    #[test]
    fn rule_table() {
        type Case<'a> = (
            &'a [(&'a str, &'a [&'a str])],
            Vec<Combination<String>>,
            Vec<Combination<String>>,
            Vec<Combination<String>>,
        );
        let cases: Vec<Case> = vec![
            // Plain cross product, first axis outermost.
            (
                &[("a", &["1", "2"]), ("b", &["x", "y"])],
                vec![],
                vec![],
                vec![
                    c(&[("a", "1"), ("b", "x")]),
                    c(&[("a", "1"), ("b", "y")]),
                    c(&[("a", "2"), ("b", "x")]),
                    c(&[("a", "2"), ("b", "y")]),
                ],
            ),
            // A partial exclude removes every combination it matches.
            (
                &[("a", &["1", "2"]), ("b", &["x", "y"])],
                vec![c(&[("a", "1")])],
                vec![],
                vec![c(&[("a", "2"), ("b", "x")]), c(&[("a", "2"), ("b", "y")])],
            ),
            // A full exclude removes one.
            (
                &[("a", &["1", "2"]), ("b", &["x", "y"])],
                vec![c(&[("a", "2"), ("b", "y")])],
                vec![],
                vec![c(&[("a", "1"), ("b", "x")]), c(&[("a", "1"), ("b", "y")]), c(&[("a", "2"), ("b", "x")])],
            ),
            // An include that contradicts an original value becomes its own job.
            (
                &[("a", &["1"])],
                vec![],
                vec![c(&[("a", "3"), ("b", "z")])],
                vec![c(&[("a", "1")]), c(&[("a", "3"), ("b", "z")])],
            ),
            // An include with only new keys extends every combination.
            (
                &[("a", &["1", "2"])],
                vec![],
                vec![c(&[("b", "z")])],
                vec![c(&[("a", "1"), ("b", "z")]), c(&[("a", "2"), ("b", "z")])],
            ),
            // An include can re-add an excluded combination (exclude runs first).
            (
                &[("a", &["1", "2"])],
                vec![c(&[("a", "2")])],
                vec![c(&[("a", "2")])],
                vec![c(&[("a", "1")]), c(&[("a", "2")])],
            ),
            // No axes: each include is a job; nothing at all is one empty job.
            (&[], vec![], vec![c(&[("a", "1")]), c(&[("a", "2")])], vec![c(&[("a", "1")]), c(&[("a", "2")])]),
            (&[], vec![], vec![], vec![c(&[])]),
            // Excluding everything leaves nothing.
            (&[("a", &["1"])], vec![c(&[("a", "1")])], vec![], vec![]),
        ];
        for (i, (ax, exclude, include, expected)) in cases.into_iter().enumerate() {
            let spec = MatrixSpec { axes: axes(ax), exclude, include };
            assert_eq!(run(&spec), sorted(expected), "case {i}");
        }
    }
}
