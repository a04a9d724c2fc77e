//! The shipped model scores the same under tract (what the Lambda runs) as under
//! onnxruntime (the reference implementation), to 1e-5, on real documents: the sample
//! events and a slice of the training corpus.

use std::path::Path;
use std::process::Command;

use anshin_core::input::Id;
use anshin_core::screening::featurize::FeaturizerConfig;
use anshin_core::screening::model::OnnxClassifier;
use anshin_core::screening::ScreenDocument;
use anshin_core::screening::Submission;
use anshin_core::text::normalize;
use serde_json::{json, Value};

/// Set by `tests/run.sh` to the virtual environment's Python, which has onnxruntime.
const PYTHON_VAR: &str = "ANSHIN_TEST_PYTHON";

fn documents() -> Vec<Value> {
    let mut docs = Vec::new();
    for dir in ["events/screen-submission"] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                docs.push(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap());
            }
        }
    }
    let corpus = std::fs::read_to_string("shared/model/corpus/clean.jsonl").unwrap()
        + &std::fs::read_to_string("shared/model/corpus/violations-scam-spam-harassment.jsonl")
            .unwrap();
    // Every 40th line: long and short texts, both languages, clean and violating.
    docs.extend(
        corpus
            .lines()
            .step_by(40)
            .map(|l| serde_json::from_str::<Value>(l).unwrap()),
    );
    // Corpus items stay under 1,024 features; one long posting fills the widest plan.
    let long_body: String = corpus
        .lines()
        .take(60)
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["body"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n");
    docs.push(json!({"id": "long", "kind": "job_posting", "body": long_body}));
    docs
}

#[test]
fn tract_and_onnxruntime_agree_to_1e_5_on_the_shipped_model() {
    let python = std::env::var(PYTHON_VAR).unwrap_or_else(|_| {
        panic!("{PYTHON_VAR} is not set: run the suite with tests/run.sh, which makes the venv")
    });
    let classifier = OnnxClassifier::embedded().unwrap();
    let width = FeaturizerConfig::default().max_features;
    let author = Id::parse("author_id", "parity").unwrap();
    let mut rows = Vec::new();
    let mut tract_scores = Vec::new();
    let mut most_features = 0;
    for doc in documents() {
        let Ok(submission) = Submission::from_json_with_default_author(doc, Some(&author)) else {
            continue; // the malformed sample events
        };
        let title = submission.title().map(normalize);
        let body = normalize(submission.body());
        let features = classifier.features(&ScreenDocument {
            kind: submission.kind(),
            title: title.as_ref(),
            body: &body,
        });
        most_features = most_features.max(features.indices.len());
        tract_scores.push(classifier.predict_features(&features).unwrap());
        let mut indices: Vec<i64> = features.indices.iter().map(|&i| i64::from(i)).collect();
        let mut values = features.values.clone();
        indices.resize(width, 0);
        values.resize(width, 0.0);
        rows.push(json!({"indices": indices, "values": values}));
    }
    assert!(rows.len() >= 50, "only {} documents", rows.len());
    assert!(
        most_features > width / 2,
        "no document reached the widest plan ({most_features} features at most)"
    );

    let dir = std::env::temp_dir().join(format!("anshin-parity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rows_path = dir.join("rows.json");
    std::fs::write(&rows_path, serde_json::to_vec(&rows).unwrap()).unwrap();
    let model = Path::new("shared/model").join(&classifier.manifest().model_file);
    let output = Command::new(python)
        .arg("tests/onnxruntime_scores.py")
        .arg(&model)
        .arg(&rows_path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "onnxruntime failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reference: Vec<Vec<f32>> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(reference.len(), tract_scores.len());
    let mut worst = 0f32;
    for (ours, theirs) in tract_scores.iter().zip(&reference) {
        assert_eq!(ours.len(), theirs.len());
        for (a, b) in ours.iter().zip(theirs) {
            worst = worst.max((a - b).abs());
        }
    }
    assert!(worst <= 1e-5, "largest difference {worst}");
    // Scores that were all zero would agree trivially.
    assert!(reference.iter().flatten().any(|&s| s > 0.5));
    std::fs::remove_dir_all(dir).ok();
}
