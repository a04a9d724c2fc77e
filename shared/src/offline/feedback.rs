//! Support's decisions back into the training corpus.
//!
//! Every held or hidden submission ends with a human decision: a confirmed violation (with
//! its categories) or a false positive. Both are the most valuable labels there are — the
//! first are violations the platform really sees, the second are exactly the look-alikes
//! the model got wrong — so `anshin feedback` turns them into corpus rows, and the next
//! `train.py` run learns from them. A row's id is derived from the text, so deciding the
//! same text again updates its row instead of adding a duplicate, and the latest decision
//! wins (support may reverse itself on appeal).
//!
//! Input: JSON Lines of `{"submission": {...}, "decision": "confirmed_violation" |
//! "false_positive", "categories": [...]}` (categories required for a confirmed violation,
//! refused for a false positive).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::digest::stable_key;
use crate::input::{term_set, Id, InvalidInput};
use crate::screening::Submission;
use crate::taxonomy::Category;

/// One corpus row, in the schema of `shared/model/corpus/*.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorpusRow {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
    pub hard_negative: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

pub const FEEDBACK_SOURCE: &str = "support-feedback";

/// Parses one decision line into the corpus row it teaches.
pub fn row_from_decision(value: Value, default_author: &Id) -> Result<CorpusRow, InvalidInput> {
    let Value::Object(mut fields) = value else {
        return Err(InvalidInput::new("$", "must be a JSON object"));
    };
    let submission = fields
        .remove("submission")
        .ok_or_else(|| InvalidInput::new("submission", "is required"))?;
    let submission = Submission::from_json_with_default_author(submission, Some(default_author))
        .map_err(|e| e.within("submission"))?;
    let decision = match fields.remove("decision") {
        Some(Value::String(d)) => d,
        Some(_) => return Err(InvalidInput::new("decision", "must be a string")),
        None => return Err(InvalidInput::new("decision", "is required")),
    };
    let categories: BTreeSet<Category> = match fields.remove("categories") {
        None | Some(Value::Null) => BTreeSet::new(),
        Some(Value::Array(items)) => term_set("categories", &items)?,
        Some(_) => return Err(InvalidInput::new("categories", "must be an array")),
    };
    let (labels, hard_negative) = match decision.as_str() {
        "confirmed_violation" if categories.is_empty() => {
            return Err(InvalidInput::new(
                "categories",
                "a confirmed violation needs at least one category",
            ))
        }
        "confirmed_violation" => (categories, false),
        // Screening flagged it and a human said no: by definition a hard negative.
        "false_positive" if categories.is_empty() => (BTreeSet::new(), true),
        "false_positive" => {
            return Err(InvalidInput::new(
                "categories",
                "a false positive carries no categories",
            ))
        }
        _ => {
            return Err(InvalidInput::new(
                "decision",
                "must be confirmed_violation or false_positive",
            ))
        }
    };
    let title = submission.title().unwrap_or("").to_owned();
    let body = submission.body().to_owned();
    let kind = submission.kind().as_str().to_owned();
    // The first 64 bits of the text's stable key: the same text always lands on one row.
    let key = stable_key(&[kind.as_str(), title.as_str(), body.as_str()]);
    Ok(CorpusRow {
        id: format!("fb-{}", &key[..16]),
        kind,
        title,
        body,
        labels: labels.into_iter().map(|c| c.id().to_owned()).collect(),
        hard_negative,
        source: Some(FEEDBACK_SOURCE.to_owned()),
    })
}

/// What a merge did, for the operator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeCounts {
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
}

/// Merges new rows into existing ones: a row with a known id replaces it (latest decision
/// wins). The result is sorted by id, so the file — and the retrained model — depends only
/// on the decisions, not on the order they were exported in.
pub fn merge_rows(existing: Vec<CorpusRow>, new: Vec<CorpusRow>) -> (Vec<CorpusRow>, MergeCounts) {
    let mut by_id: BTreeMap<String, CorpusRow> =
        existing.into_iter().map(|r| (r.id.clone(), r)).collect();
    let mut counts = MergeCounts::default();
    for row in new {
        match by_id.insert(row.id.clone(), row.clone()) {
            None => counts.added += 1,
            Some(old) if old == row => counts.unchanged += 1,
            Some(_) => counts.changed += 1,
        }
    }
    (by_id.into_values().collect(), counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn author() -> Id {
        Id::parse("author_id", "support").unwrap()
    }

    fn decision(body: &str, decision: &str, categories: Value) -> Value {
        json!({
            "submission": {"submission_id": "s-1", "kind": "message", "body": body},
            "decision": decision,
            "categories": categories,
        })
    }

    #[test]
    fn a_confirmed_violation_becomes_a_labelled_row() {
        let row = row_from_decision(
            decision(
                "LINEで直接",
                "confirmed_violation",
                json!(["off_platform_contact"]),
            ),
            &author(),
        )
        .unwrap();
        assert_eq!(row.labels, vec!["off_platform_contact"]);
        assert!(!row.hard_negative);
        assert_eq!(row.body, "LINEで直接");
        assert_eq!(row.kind, "message");
        assert!(row.id.starts_with("fb-") && row.id.len() == 19);
        assert_eq!(row.source.as_deref(), Some(FEEDBACK_SOURCE));
    }

    #[test]
    fn a_false_positive_becomes_a_hard_negative() {
        let row = row_from_decision(
            decision("LINEスタンプ制作", "false_positive", json!([])),
            &author(),
        )
        .unwrap();
        assert!(row.labels.is_empty());
        assert!(row.hard_negative);
    }

    #[test]
    fn bad_decisions_name_the_field() {
        let cases = [
            (
                decision("x", "confirmed_violation", json!([])),
                "categories",
            ),
            (
                decision("x", "false_positive", json!(["spam"])),
                "categories",
            ),
            (decision("x", "maybe", json!([])), "decision"),
            (
                decision("x", "confirmed_violation", json!(["nope"])),
                "categories[0]",
            ),
            (json!({"decision": "false_positive"}), "submission"),
            (
                json!({"submission": {"submission_id": "s", "kind": "fax", "body": "x"}, "decision": "false_positive"}),
                "submission.kind",
            ),
        ];
        for (value, field) in cases {
            let error = row_from_decision(value, &author()).unwrap_err();
            assert_eq!(error.field, field, "{error}");
        }
    }

    #[test]
    fn the_same_text_decided_again_replaces_its_row_and_the_result_is_sorted() {
        let first = row_from_decision(
            decision(
                "先に登録料",
                "confirmed_violation",
                json!(["upfront_payment"]),
            ),
            &author(),
        )
        .unwrap();
        let reversed = row_from_decision(
            decision("先に登録料", "false_positive", json!([])),
            &author(),
        )
        .unwrap();
        let other =
            row_from_decision(decision("別の文", "false_positive", json!([])), &author()).unwrap();
        assert_eq!(
            first.id, reversed.id,
            "the id follows the text, not the decision"
        );

        let (rows, counts) = merge_rows(vec![first], vec![reversed.clone(), other.clone()]);
        assert_eq!(
            counts,
            MergeCounts {
                added: 1,
                changed: 1,
                unchanged: 0
            }
        );
        assert_eq!(rows.len(), 2);
        assert!(rows.windows(2).all(|w| w[0].id < w[1].id));
        assert!(rows.contains(&reversed));

        let (_, again) = merge_rows(rows, vec![other]);
        assert_eq!(
            again,
            MergeCounts {
                added: 0,
                changed: 0,
                unchanged: 1
            }
        );
    }
}
