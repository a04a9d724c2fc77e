//! What each fuzz target checks, one function per target taking the bytes libFuzzer made.
//!
//! The targets in `fuzz/` are one line each, calling these. They live in the core so that
//! the committed corpus (`fuzz/corpus/<target>/`) replays through exactly the same checks as
//! an ordinary test on stable (`shared/tests/fuzz_corpus.rs`). A broken property panics,
//! which both libFuzzer and the test harness report as a failure.
//!
//! Every boundary parser is held to the rule in [`crate::input`]: a refusal names the field
//! and never echoes what the payload holds. "Echoes" is checked for the payload's strings
//! that no message of ours could contain by chance: those with a char outside
//! [`MESSAGE_CHARS`] (non-ASCII, `@`, `{`, `<`, …), which the fuzzer's inputs are full of.

use serde_json::Value;

use crate::delivery::{self, Delivery};
use crate::escalation::{EscalationCommand, EscalationCommandType};
use crate::input::{InvalidInput, MAX_ID_CHARS};
use crate::policy::gate::{gate_of, Gate};
use crate::policy::rules::compile_pattern;
use crate::policy::Policy;
use crate::reports::command::MAX_DESCRIPTION_CHARS;
use crate::reports::ReportCommand;
use crate::screening::submission::{MAX_BODY_CHARS, MAX_METADATA_BYTES, MAX_TITLE_CHARS};
use crate::screening::Submission;
use crate::taxonomy::{Category, SubmissionKind};

/// One target's check of one input; it panics when a property breaks.
pub type Check = fn(&[u8]);

/// The fuzz targets by name (`fuzz/fuzz_targets/<name>.rs`) and what each checks.
pub const TARGETS: &[(&str, Check)] = &[
    ("normalize", normalize),
    ("submission", submission),
    ("report", report),
    ("command", command),
    ("sns_envelope", sns_envelope),
    ("policy", policy),
    ("gate", gate),
];

// ---- targets -------------------------------------------------------------------------------

/// The normaliser never panics, and its map back to the original keeps its promises
/// (`text::map_check`). Bytes that are not UTF-8 are read lossily: a posting is a `&str`.
pub fn normalize(data: &[u8]) {
    crate::text::map_check::assert_map_is_sound(&String::from_utf8_lossy(data));
}

/// A screening request: a valid [`Submission`] or a refusal that names a field and quotes
/// nothing, whether it arrives as a JSON value (the Lambda) or as text (the CLI).
pub fn submission(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        if let Ok(text) = std::str::from_utf8(data) {
            let refusal = Submission::from_json_str(text).expect_err("not JSON, so refused");
            assert_eq!(refusal.field, "$");
            assert_quotes_nothing(&refusal.reason);
        }
        return;
    };
    let parsed = Submission::from_json(value.clone());
    if let Ok(text) = std::str::from_utf8(data) {
        assert_eq!(
            Submission::from_json_str(text),
            parsed,
            "text and value disagree"
        );
    }
    match parsed {
        Ok(submission) => assert_submission_is_valid(&submission),
        Err(refusal) => assert_refusal_is_safe(&value, &refusal),
    }
}

/// A report-intake invocation: a report invoked directly, or resolutions only, one per SNS
/// record (a resolution acts in a support member's name; only the console's topic carries it).
pub fn report(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    match ReportCommand::from_invocation(value.clone()) {
        Ok(Delivery::Direct(command)) => {
            assert_eq!(ReportCommand::from_json(value).as_ref(), Ok(&command));
            assert!(
                matches!(command, ReportCommand::Report(_)),
                "a resolution came through the platform's direct invocation"
            );
            assert_report_command_is_valid(&command);
        }
        Ok(Delivery::Sns(commands)) => {
            assert_eq!(commands.len(), sns_records(&value).len());
            for command in &commands {
                assert!(
                    matches!(command, ReportCommand::Resolution(_)),
                    "a report came through SNS"
                );
                assert_report_command_is_valid(command);
            }
        }
        Err(refusal) => assert_refusal_is_safe(&value, &refusal),
    }
}

/// A user-escalation invocation: one command invoked directly, or one per SNS record; the
/// commands that act in a support member's name come only through SNS.
pub fn command(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    match EscalationCommand::from_invocation(value.clone()) {
        Ok(Delivery::Direct(command)) => {
            assert_eq!(EscalationCommand::from_json(value).as_ref(), Ok(&command));
            assert!(
                matches!(
                    command.command_type(),
                    EscalationCommandType::ViolationConfirmed
                        | EscalationCommandType::StandingQuery
                ),
                "a command in a support member's name came through the direct invocation"
            );
            assert_escalation_command_is_valid(&command);
        }
        Ok(Delivery::Sns(commands)) => {
            assert_eq!(commands.len(), sns_records(&value).len());
            commands.iter().for_each(assert_escalation_command_is_valid);
        }
        Err(refusal) => assert_refusal_is_safe(&value, &refusal),
    }
}

/// The SNS envelope alone, with parsers that take any message object: a plain payload
/// comes back untouched, an SNS event as each record's message in order, and a refusal
/// names the envelope field, or the first record whose message is not an object.
pub fn sns_envelope(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let object = |message: Value| {
        if message.is_object() {
            Ok(message)
        } else {
            Err(InvalidInput::new("$", "must be a JSON object"))
        }
    };
    match delivery::read(value.clone(), Ok, object) {
        Ok(Delivery::Direct(payload)) => assert_eq!(payload, value),
        Ok(Delivery::Sns(messages)) => {
            let records = sns_records(&value);
            assert_eq!(messages.len(), records.len());
            for (message, record) in messages.iter().zip(records) {
                let sent = record["Sns"]["Message"].as_str().expect("a message string");
                let sent: Value = serde_json::from_str(sent).expect("a JSON message");
                assert_eq!(message, &sent);
            }
        }
        Err(refusal) => {
            assert_refusal_is_safe(&value, &refusal);
            assert!(refusal.field.starts_with("Records"), "{refusal}");
            if refusal.reason == "must be a JSON object" {
                let first_bad = sns_records(&value).iter().position(|r| {
                    r["Sns"]["Message"]
                        .as_str()
                        .and_then(|m| serde_json::from_str::<Value>(m).ok())
                        .is_some_and(|m| !m.is_object())
                });
                let first_bad = first_bad.expect("some record's message is not an object");
                assert_eq!(refusal.field, format!("Records[{first_bad}].Sns.Message"));
            }
        }
    }
}

/// A policy file: a typed error, or a policy whose every promise holds and whose rules run
/// on any text, quoting spans of it.
pub fn policy(data: &[u8]) {
    let Ok(file) = std::str::from_utf8(data) else {
        return;
    };
    match Policy::from_toml_str(file) {
        Err(error) => {
            let _ = error.to_string();
        }
        Ok(policy) => {
            assert_policy_is_valid(&policy);
            // The policy's own text is a fine haystack: it holds every keyword it names.
            let sample = crate::text::normalize(prefix(file, 4_096));
            for kind in SubmissionKind::ALL {
                for hit in policy.rules().find_hits(kind, sample.as_str()) {
                    let rule = &policy.rules().rules()[hit.rule];
                    assert!(rule.kinds.as_ref().is_none_or(|ks| ks.contains(&kind)));
                    for span in &hit.spans {
                        assert!(sample.as_str().get(span.clone()).is_some(), "{span:?}");
                        let _ = sample.original_range(span.clone());
                    }
                }
            }
        }
    }
}

/// The literal gate of a policy pattern (first line) is sound on a text (the rest): every
/// match starts with one of the `Starts` literals (and contains one of those it
/// `requires`), or contains one of the `Contains` ones, ASCII case ignored — or the rule
/// engine would skip a text the pattern matches.
pub fn gate(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let (pattern, haystack) = input.split_once('\n').unwrap_or((input, ""));
    let Ok(gate) = gate_of(pattern) else {
        return;
    };
    let Ok(regex) = compile_pattern(pattern) else {
        return;
    };
    let lower = |s: &str| s.to_ascii_lowercase();
    for m in regex.find_iter(haystack) {
        let matched = lower(&haystack[m.range()]);
        let from_start = lower(&haystack[m.start()..]);
        let sound = match &gate {
            Gate::Starts { literals, requires } => {
                literals.iter().any(|l| from_start.starts_with(&lower(l)))
                    && requires
                        .as_ref()
                        .is_none_or(|set| set.iter().any(|l| matched.contains(&lower(l))))
            }
            Gate::Contains(literals) => literals.iter().any(|l| matched.contains(&lower(l))),
            Gate::Always => true,
        };
        assert!(
            sound,
            "{pattern:?} matches {matched:?} outside its gate {gate:?}"
        );
    }
}

// ---- what a parsed value promises ----------------------------------------------------------

fn assert_submission_is_valid(s: &Submission) {
    assert_id(s.submission_id().as_str());
    assert_id(s.author_id().as_str());
    assert_bounded_text(s.body(), MAX_BODY_CHARS, false);
    if let Some(title) = s.title() {
        assert_bounded_text(title, MAX_TITLE_CHARS, false);
    }
    let metadata = serde_json::to_vec(s.metadata()).expect("metadata serialises");
    assert!(metadata.len() <= MAX_METADATA_BYTES);
    // What the screener writes down reads back as the same submission.
    let written = serde_json::to_value(s).expect("a submission serialises");
    assert_eq!(Submission::from_json(written).as_ref(), Ok(s));
}

fn assert_report_command_is_valid(command: &ReportCommand) {
    match command {
        ReportCommand::Report(r) => {
            assert_ne!(r.reporter_id, r.target_user_id, "a self-report");
            assert_bounded_text(&r.description, MAX_DESCRIPTION_CHARS, true);
            if let Some(s) = &r.submission {
                assert_submission_is_valid(s);
                assert_eq!(s.author_id(), &r.target_user_id);
                assert_eq!(r.target_submission_id.as_ref(), Some(s.submission_id()));
            }
            assert_id(r.report_id.as_str());
        }
        ReportCommand::Resolution(r) => {
            assert_id(r.report_id.as_str());
            assert_id(r.decided_by.as_str());
        }
    }
}

fn assert_escalation_command_is_valid(command: &EscalationCommand) {
    use crate::escalation::command::{MAX_EVIDENCE_REFS, MAX_EVIDENCE_REF_CHARS, MAX_REASON_CHARS};
    match command {
        EscalationCommand::ViolationConfirmed(v) => {
            assert!(v.evidence.len() <= MAX_EVIDENCE_REFS);
            for reference in &v.evidence {
                assert_bounded_text(reference, MAX_EVIDENCE_REF_CHARS, false);
            }
            // Screening and report-intake send violations as `to_command_json`; it must
            // read back as the same violation.
            assert_eq!(
                EscalationCommand::from_json(v.to_command_json()).as_ref(),
                Ok(command)
            );
        }
        EscalationCommand::ViolationRevoked(r) => {
            assert_bounded_text(&r.reason, MAX_REASON_CHARS, false);
        }
        EscalationCommand::Reinstated(r) => assert_bounded_text(&r.reason, MAX_REASON_CHARS, false),
        EscalationCommand::WithdrawalConfirmed(_) | EscalationCommand::StandingQuery { .. } => {}
    }
}

fn assert_policy_is_valid(policy: &Policy) {
    assert!(!policy.version().trim().is_empty());
    for category in Category::ALL {
        let c = policy.category(category);
        assert_eq!(c.category, category);
        for text in [
            &c.name_ja,
            &c.name_en,
            &c.clause,
            &c.message_ja,
            &c.message_en,
        ] {
            assert!(!text.trim().is_empty());
        }
        assert!(0.0 < c.review_threshold && c.review_threshold <= c.hide_threshold);
        assert!(c.hide_threshold <= 1.0);
    }
    for rule in policy.rules().rules() {
        assert!(rule.weight > 0.0 && rule.weight <= 1.0, "{}", rule.id);
    }
    let l = policy.ladder();
    assert!(0 < l.warning_points && l.warning_points <= l.suspension_points);
    assert!(l.suspension_points <= l.withdrawal_points && l.strike_expiry_days >= 1);
    let r = policy.reports();
    assert!(r.rate_limit_per_day >= 1 && r.brigade_min_reports >= 2);
    assert!(0.0 < r.severe_threshold && r.severe_threshold <= r.threshold);
    assert!((0.0..=1.0).contains(&r.new_account_weight));
    assert!(r.window_days >= 1 && r.brigade_window_minutes >= 1);
}

fn assert_id(id: &str) {
    let len = id.chars().count();
    assert!((1..=MAX_ID_CHARS).contains(&len), "{id:?}");
    assert!(id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')));
}

fn assert_bounded_text(text: &str, max_chars: usize, blank_allowed: bool) {
    assert!(text.chars().count() <= max_chars);
    assert!(!text.contains('\0'));
    assert!(blank_allowed || !text.trim().is_empty());
}

// ---- what a refusal promises ---------------------------------------------------------------

/// Every char a message of ours may contain: field paths, reasons, allowed values, serde's
/// and serde_json's wording. A payload string with any other char cannot turn up in a
/// message unless the message quotes it.
pub const MESSAGE_CHARS: &str =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.:,;`'\"()[]$?\\";

/// The refusal names a field and echoes none of `payload`'s strings (object keys aside:
/// an unknown field is named by its key).
fn assert_refusal_is_safe(payload: &Value, refusal: &InvalidInput) {
    assert!(
        is_field_path(&refusal.field),
        "refusal names no field: {refusal:?}"
    );
    assert!(!refusal.reason.is_empty());
    let mut strings = Vec::new();
    let mut keys = Vec::new();
    collect_strings(payload, &mut strings, &mut keys);
    let message = refusal.to_string();
    for s in strings {
        let distinctive = s.chars().any(|c| !MESSAGE_CHARS.contains(c));
        if distinctive && !keys.iter().any(|k| k.contains(s.as_str())) {
            assert!(
                !message.contains(s.as_str()),
                "refusal {message:?} quotes the payload's {s:?}"
            );
        }
    }
}

/// A message that quotes no input at all: only [`MESSAGE_CHARS`], and the braces of
/// serde_json's syntax errors (`expected `,` or `}``).
fn assert_quotes_nothing(reason: &str) {
    assert!(
        reason
            .chars()
            .all(|c| MESSAGE_CHARS.contains(c) || c == '{' || c == '}'),
        "{reason:?}"
    );
}

/// `$`, or a path of field names with indices: `body`, `Records[0].Sns.Message.evidence[2]`
/// (`$[0]` for an element of a document that is an array).
fn is_field_path(field: &str) -> bool {
    let is_name = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let is_indices = |s: &str| {
        s.strip_suffix(']').is_some_and(|s| {
            s.split("][")
                .all(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
        })
    };
    let segment = |i: usize, s: &str| match s.split_once('[') {
        None => is_name(s),
        Some((name, indices)) => (is_name(name) || (i == 0 && name == "$")) && is_indices(indices),
    };
    field == "$" || field.split('.').enumerate().all(|(i, s)| segment(i, s))
}

/// Every string value in `value` (and in strings that are JSON themselves, such as an SNS
/// record's message), and every object key.
fn collect_strings(value: &Value, strings: &mut Vec<String>, keys: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            if let Ok(inner @ (Value::Object(_) | Value::Array(_))) = serde_json::from_str(s) {
                collect_strings(&inner, strings, keys);
            }
            strings.push(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, strings, keys)),
        Value::Object(map) => {
            for (k, v) in map {
                keys.push(k.clone());
                collect_strings(v, strings, keys);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn sns_records(payload: &Value) -> &[Value] {
    payload["Records"].as_array().map_or(&[], Vec::as_slice)
}

/// The longest prefix of `text` of at most `max` bytes that ends on a char boundary.
fn prefix(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_field_path_is_names_and_indices() {
        for good in [
            "$",
            "body",
            "Records[0].Sns.Message.evidence[2]",
            "$[0]",
            "a[1][2]",
        ] {
            assert!(is_field_path(good), "{good}");
        }
        for bad in [
            ".",
            "",
            "a.[0]",
            "x[]",
            "a.b c",
            "Records[0].Sns.MessageAttributes. x",
        ] {
            assert!(!is_field_path(bad), "{bad}");
        }
    }

    #[test]
    #[should_panic(expected = "quotes the payload")]
    fn a_refusal_quoting_a_payload_string_fails_the_check() {
        let payload = json!({"body": "call 090-1234-5678 ☎"});
        let refusal = InvalidInput::new("body", "\"call 090-1234-5678 ☎\" is not allowed");
        assert_refusal_is_safe(&payload, &refusal);
    }

    #[test]
    fn a_refusal_naming_an_unknown_key_passes_the_check() {
        let payload = json!({"bödy": "bödy"});
        let refusal = InvalidInput::new("$", "unknown field `bödy`, expected `body`");
        assert_refusal_is_safe(&payload, &refusal);
    }
}
