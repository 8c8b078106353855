//! The committed JSON Schema matches the types, and every example passes it.

use std::path::Path;

#[test]
fn committed_schema_is_up_to_date() {
    let committed =
        std::fs::read_to_string("schemas/pixbatch.schema.json").expect("schemas/pixbatch.schema.json exists");
    let generated = pixbatch::schema::manifest_schema();
    assert!(
        committed == generated,
        "schemas/pixbatch.schema.json is stale: run `cargo run -- schema > schemas/pixbatch.schema.json` and commit it"
    );
}

fn yaml_to_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("example readable");
    serde_saphyr::from_str(&text).expect("example is YAML")
}

#[test]
fn examples_pass_the_schema_and_carry_the_modeline() {
    let schema: serde_json::Value = serde_json::from_str(&pixbatch::schema::manifest_schema()).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let mut seen = 0;
    for entry in std::fs::read_dir("examples").expect("examples/") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        seen += 1;
        let text = std::fs::read_to_string(&path).expect("readable");
        assert!(
            text.starts_with("# yaml-language-server: $schema=../schemas/pixbatch.schema.json"),
            "{} lacks the yaml-language-server modeline",
            path.display()
        );
        let errors: Vec<String> = validator.iter_errors(&yaml_to_json(&path)).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    }
    assert!(seen >= 3, "expected the three examples, saw {seen}");
}

#[test]
fn schema_rejects_an_unknown_field() {
    let schema: serde_json::Value = serde_json::from_str(&pixbatch::schema::manifest_schema()).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let bad = serde_json::json!({"version": 1, "shots": [{"id": "a", "promt": "x"}]});
    assert!(!validator.is_valid(&bad));
    let good = serde_json::json!({"version": 1, "shots": [{"id": "a", "prompt": "x"}]});
    assert!(validator.is_valid(&good));
}

#[test]
fn committed_report_schema_is_up_to_date() {
    let committed = std::fs::read_to_string("schemas/report.schema.json").expect("schemas/report.schema.json exists");
    assert!(
        committed == pixbatch::schema::report_schema(),
        "schemas/report.schema.json is stale: run `cargo run -- schema --report > schemas/report.schema.json`"
    );
}
