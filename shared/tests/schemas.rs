//! The JSON Schemas in `schemas/` are what this build generates: a change to a payload type
//! that is not carried into the published files fails here.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anshin_core::schemas::{documents, Direction};

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

const REGENERATE: &str = "regenerate with `cargo run --bin anshin -- schemas --write schemas`";

#[test]
fn every_committed_schema_is_what_this_build_generates() {
    for document in documents() {
        let path = schemas_dir().join(document.file);
        let committed = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; {REGENERATE}", path.display()));
        assert!(
            committed == document.to_file_text(),
            "schemas/{} is stale; {REGENERATE}",
            document.file
        );
    }
}

#[test]
fn the_schemas_folder_holds_exactly_the_generated_files() {
    let generated: BTreeSet<String> = documents().iter().map(|d| d.file.to_owned()).collect();
    let committed: BTreeSet<String> = std::fs::read_dir(schemas_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    assert_eq!(committed, generated, "{REGENERATE}");
}

#[test]
fn each_schema_names_its_payload_and_requires_what_the_parsers_require() {
    let by_file = |file: &str| {
        let document = documents().into_iter().find(|d| d.file == file).unwrap();
        serde_json::to_value(&document.schema).unwrap()
    };
    let submission = by_file("submission.json");
    let required: BTreeSet<&str> = submission["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        required,
        BTreeSet::from(["submission_id", "kind", "author_id", "body"])
    );
    assert_eq!(submission["properties"]["body"]["maxLength"], 20_000);
    // Every command kind appears once, tagged by its `type`.
    let commands = by_file("escalation-command.json").to_string();
    for kind in [
        "violation_confirmed",
        "violation_revoked",
        "withdrawal_confirmed",
        "reinstated",
        "standing_query",
    ] {
        assert_eq!(
            commands.matches(&format!("\"{kind}\"")).count(),
            1,
            "{kind}"
        );
    }
    let directions: Vec<Direction> = documents().iter().map(|d| d.direction).collect();
    assert!(directions.contains(&Direction::Taken) && directions.contains(&Direction::Sent));
}
