//! `anshin eval` as a process: the errors file for policy authors, and the promotion gate
//! that refuses a candidate worse than the active screener on any file.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn anshin(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_anshin"));
    command
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("ANSHIN_POLICY_PATH")
        .env_remove("ANSHIN_MODEL_PATH");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

/// A fresh folder under the system temp dir for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("anshin-cli-eval-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const TWO_ITEMS: &str = concat!(
    r#"{"id": "mail", "kind": "message", "body": "続きは taro.yamada@example.jp にメールください", "labels": ["off_platform_contact"]}"#,
    "\n",
    r#"{"id": "plain", "kind": "message", "body": "納品しました。ご確認ください。", "labels": []}"#,
    "\n",
);

/// The embedded policy with its e-mail rule made blind: a candidate that misses addresses.
fn blind_policy(dir: &std::path::Path) -> PathBuf {
    let policy = std::fs::read_to_string("shared/policy/default.toml").unwrap();
    let email = "regex = ['[a-z0-9][a-z0-9._%+-]{0,63}@[a-z0-9-]+(\\.[a-z0-9-]+)*\\.[a-z]{2,}']";
    assert!(policy.contains(email), "the e-mail rule's pattern moved");
    let blind = policy
        .replace(email, "regex = ['never-matches-anything-zq']")
        .replace("version = \"", "version = \"blind-");
    let path = dir.join("blind.toml");
    std::fs::write(&path, blind).unwrap();
    path
}

#[test]
fn errors_lists_every_false_positive_and_negative_with_file_and_evidence() {
    let dir = scratch("errors");
    let data = dir.join("items.jsonl");
    std::fs::write(&data, TWO_ITEMS).unwrap();
    let blind = blind_policy(&dir);
    let errors = dir.join("errors.jsonl");
    let out = anshin(
        &[
            "eval",
            "--data",
            data.to_str().unwrap(),
            "--errors",
            errors.to_str().unwrap(),
        ],
        &[
            ("ANSHIN_MODEL_PATH", "off"),
            ("ANSHIN_POLICY_PATH", blind.to_str().unwrap()),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = std::fs::read_to_string(&errors)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let missed = &rows[0];
    assert_eq!(missed["id"], "mail");
    assert_eq!(missed["category"], "off_platform_contact");
    assert_eq!(missed["error"], "false_negative");
    assert_eq!(missed["file"], data.to_str().unwrap());
    assert!(missed["body"].as_str().unwrap().contains("example.jp"));

    // With the real policy the address is found, and nothing is wrong.
    let out = anshin(
        &[
            "eval",
            "--data",
            data.to_str().unwrap(),
            "--errors",
            errors.to_str().unwrap(),
        ],
        &[("ANSHIN_MODEL_PATH", "off")],
    );
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&errors).unwrap(), "");
}

#[test]
fn the_gate_refuses_a_candidate_worse_on_a_file_and_accepts_one_that_is_not() {
    let dir = scratch("gate");
    let data = dir.join("items.jsonl");
    std::fs::write(&data, TWO_ITEMS).unwrap();
    let blind = blind_policy(&dir);
    let dev = "shared/policy/dev-examples.jsonl";

    // Candidate: the blind policy; active: the embedded policy, both on rules alone.
    let worse = anshin(
        &[
            "eval",
            "--data",
            dev,
            "--data",
            data.to_str().unwrap(),
            "--baseline",
            "off",
            "--baseline-policy",
            "shared/policy/default.toml",
        ],
        &[
            ("ANSHIN_MODEL_PATH", "off"),
            ("ANSHIN_POLICY_PATH", blind.to_str().unwrap()),
        ],
    );
    assert_eq!(worse.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&worse.stderr);
    assert!(stderr.contains("REFUSED"), "{stderr}");
    assert!(
        stderr.contains(&format!("{}: any_violation_f1", data.display())),
        "{stderr}"
    );

    // The other way round the candidate is better everywhere: accepted.
    let better = anshin(
        &[
            "eval",
            "--data",
            data.to_str().unwrap(),
            "--baseline",
            "off",
            "--baseline-policy",
            blind.to_str().unwrap(),
            "--json",
        ],
        &[("ANSHIN_MODEL_PATH", "off")],
    );
    assert!(
        better.status.success(),
        "{}",
        String::from_utf8_lossy(&better.stderr)
    );
    let report: Value = serde_json::from_slice(&better.stdout).unwrap();
    assert_eq!(report["refused"], serde_json::json!([]));
    let file = &report["files"][0];
    assert_eq!(file["candidate"]["combined"]["any_violation"]["f1"], 1.0);
    assert_eq!(file["baseline"]["combined"]["any_violation"]["f1"], 0.0);
}
