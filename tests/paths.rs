//! Whatever a manifest holds, a job's video lands inside the output folder.

use std::path::{Component, Path};

use proptest::prelude::*;

/// A manifest whose shot has a variable axis with `values` (any strings), used in the prompt,
/// so each value names a variant and so a file.
fn manifest(id: &str, values: &[String]) -> String {
    let values: Vec<String> = values.iter().map(|v| serde_json::to_string(v).expect("json")).collect();
    format!(
        "version: 1\noutput: out\ndefaults: {{model: pixverse/pixverse-c1-r2v, size: \"1280*720\", duration: 5}}\nrefs: {{man: https://example.com/m.jpg}}\nshots:\n  - id: {}\n    prompt: \"@man {{{{mood}}}}\"\n    matrix: {{mood: [{}]}}\n",
        serde_json::to_string(id).expect("json"),
        values.join(", ")
    )
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("../../../etc/passwd".to_owned()),
        Just("/tmp/x".to_owned()),
        Just("..".to_owned()),
        Just(".hidden".to_owned()),
        Just("a\\..\\..\\b".to_owned()),
        Just("C:\\x".to_owned()),
        "[./\\\\a-z ]{1,12}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_output_path_stays_inside_the_output_folder(
        id in prop_oneof![Just("shot".to_owned()), "[a-z.]{1,6}", "[./a-z]{1,8}", any::<String>()],
        values in prop::collection::vec(value(), 1..4),
    ) {
        let yaml = manifest(&id, &values);
        let Ok(loaded) = pixbatch::manifest::parse(Path::new("m.yaml"), yaml) else { return Ok(()) };
        // A manifest may be refused (a bad id, two values with one file); never a path outside.
        let Ok(expansion) = pixbatch::plan::expand(&loaded, &Default::default()) else { return Ok(()) };
        for job in &expansion.jobs {
            let parts: Vec<Component> = job.output.components().collect();
            prop_assert!((1..=2).contains(&parts.len()), "{}", job.output.display());
            for part in &parts {
                let Component::Normal(name) = part else {
                    return Err(TestCaseError::fail(format!("{} has {part:?}", job.output.display())));
                };
                let name = name.to_string_lossy();
                prop_assert!(!name.starts_with('.') && !name.contains('\\'), "{}", job.output.display());
            }
        }
    }
}

#[test]
fn a_variable_that_looks_like_a_path_becomes_one_file_name() {
    let values = ["../../escape".to_owned(), "/abs/path".to_owned()];
    let loaded = pixbatch::manifest::parse(Path::new("m.yaml"), manifest("shot", &values)).expect("parses");
    let expansion = pixbatch::plan::expand(&loaded, &Default::default()).expect("expands");
    let outputs: Vec<String> = expansion.jobs.iter().map(|j| j.output.display().to_string()).collect();
    assert_eq!(outputs, ["shot/mood-.._.._escape.mp4", "shot/mood-_abs_path.mp4"]);
}
