//! `anshin screen` and `anshin demo` run as processes, the way README tells people to run
//! them: exit codes, verdict lines on stdout, alerts, strikes and refusals on stderr.

use std::process::{Command, Output};

use serde_json::Value;

fn anshin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anshin"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn screen_prints_one_verdict_per_submission_and_what_support_and_escalation_would_receive() {
    let out = anshin(&[
        "screen",
        "events/screen-submission/clean-job-posting.json",
        "events/screen-submission/crime-recruitment.json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdicts: Vec<Value> = lines(&out.stdout)
        .iter()
        .map(|l| serde_json::from_str(l).expect("each stdout line is a verdict"))
        .collect();
    let decisions: Vec<&str> = verdicts
        .iter()
        .map(|v| v["decision"].as_str().unwrap())
        .collect();
    assert_eq!(decisions, ["allow", "hide"]);
    assert_eq!(verdicts[1]["submission_id"], "job-20261127-0666");

    let stderr = lines(&out.stderr);
    let alerts: Vec<&String> = stderr.iter().filter(|l| l.starts_with("alert: ")).collect();
    assert_eq!(alerts.len(), 1, "{stderr:?}");
    let alert: Value = serde_json::from_str(&alerts[0]["alert: ".len()..]).unwrap();
    assert_eq!(alert["event_type"], "submission_hidden");
    let strikes: Vec<&String> = stderr
        .iter()
        .filter(|l| l.starts_with("violation: "))
        .collect();
    assert_eq!(
        strikes.len(),
        1,
        "crime recruitment strikes by itself: {stderr:?}"
    );
    let strike: Value = serde_json::from_str(&strikes[0]["violation: ".len()..]).unwrap();
    assert_eq!(strike["type"], "violation_confirmed");
    assert_eq!(strike["category"], "illegal_work");
}

#[test]
fn screen_refuses_a_bad_line_naming_file_line_and_field_screens_the_rest_and_exits_1() {
    let dir = std::env::temp_dir().join(format!("anshin-screen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("mixed.jsonl");
    std::fs::write(
        &input,
        concat!(
            r#"{"id": "a-1", "kind": "message", "body": "納期は来週金曜で大丈夫です"}"#,
            "\n",
            r#"{"id": "a-2", "kind": "tweet", "body": "secret-body-text 090-1234-5678"}"#,
            "\n",
            r#"{"id": "a-3", "kind": "message", "body": "ありがとうございました"}"#,
            "\n"
        ),
    )
    .unwrap();
    let out = anshin(&["screen", input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let ids: Vec<String> = lines(&out.stdout)
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["submission_id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids, ["a-1", "a-3"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:2: kind: must be one of", input.display())),
        "{stderr}"
    );
    assert!(
        !stderr.contains("secret-body-text") && !stderr.contains("090"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn demo_walks_the_whole_flow_and_exits_0() {
    let out = anshin(&["demo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    for section in ["== 1.", "== 2.", "== 3.", "== 4.", "== 5."] {
        assert!(stdout.contains(section), "missing {section}:\n{stdout}");
    }
    assert!(
        stdout.contains("[already recorded: nothing counted twice]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("by itself"),
        "screening's own strike: {stdout}"
    );
    assert!(
        stdout.contains("withdrawal_pending -> withdrawn"),
        "a second member confirms the withdrawal: {stdout}"
    );
    assert!(stdout.contains("report_brigading_suspected"), "{stdout}");
}
