//! `anshin feedback`: support's decisions merged into a corpus file, idempotently, and a
//! bad decision refused with nothing written.

use std::process::Command;

fn anshin(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_anshin"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn decisions_become_corpus_rows_once_and_a_bad_line_writes_nothing() {
    let dir = std::env::temp_dir().join(format!("anshin-feedback-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let decisions = dir.join("decisions.jsonl");
    let corpus = dir.join("feedback.jsonl");
    std::fs::write(
        &decisions,
        concat!(
            r#"{"submission": {"submission_id": "s-1", "kind": "message", "body": "続きはLINEで"}, "decision": "confirmed_violation", "categories": ["off_platform_contact"]}"#,
            "\n",
            r#"{"submission": {"submission_id": "s-2", "kind": "job_posting", "title": "LINEスタンプ", "body": "LINEスタンプ40種の制作"}, "decision": "false_positive"}"#,
            "\n"
        ),
    )
    .unwrap();
    let args = [
        "feedback",
        "--decisions",
        decisions.to_str().unwrap(),
        "--corpus",
        corpus.to_str().unwrap(),
    ];
    let first = anshin(&args);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(&corpus)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    let sticker = rows.iter().find(|r| r["title"] == "LINEスタンプ").unwrap();
    assert_eq!(sticker["hard_negative"], true);
    assert_eq!(sticker["labels"], serde_json::json!([]));

    // The same export again changes nothing.
    let before = std::fs::read(&corpus).unwrap();
    assert!(anshin(&args).status.success());
    assert_eq!(std::fs::read(&corpus).unwrap(), before);

    // A bad line refuses the whole file, naming the line and field, and leaves the corpus.
    std::fs::write(
        &decisions,
        r#"{"submission": {"submission_id": "s-3", "kind": "message", "body": "x"}, "decision": "confirmed_violation"}"#,
    )
    .unwrap();
    let refused = anshin(&args);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(":1:") && stderr.contains("categories"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&corpus).unwrap(), before);
    std::fs::remove_dir_all(dir).ok();
}
