//! THREATS.md points every defence at the test that shows it; a renamed or deleted test
//! must not leave a pointer to nothing.

use std::path::Path;

/// Every `path.rs::name` and `path.rs::{a, b}` pointer in THREATS.md.
fn pointers(threats: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for quoted in threats.split('`').skip(1).step_by(2) {
        let Some((file, names)) = quoted.split_once(".rs::") else {
            continue;
        };
        for name in names.trim_matches(['{', '}']).split(',') {
            found.push((format!("{file}.rs"), name.trim().to_owned()));
        }
    }
    found
}

#[test]
fn every_test_threats_md_points_at_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let threats = std::fs::read_to_string(root.join("THREATS.md")).unwrap();
    let pointers = pointers(&threats);
    assert!(
        pointers.len() >= 30,
        "found only {} pointers",
        pointers.len()
    );
    for (file, name) in pointers {
        let source = std::fs::read_to_string(root.join(&file))
            .unwrap_or_else(|e| panic!("THREATS.md points at {file}: {e}"));
        assert!(
            source.contains(&format!("fn {name}(")) || source.contains(&format!("fn {name}<")),
            "THREATS.md points at {file}::{name}, which is not there"
        );
    }
}
