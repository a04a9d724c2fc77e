//! What the platform asks us to screen: a job posting, proposal, message or profile.
//!
//! Parse, don't validate: a [`Submission`] can only be built by [`Submission::from_json`]
//! (or its siblings), which refuse a bad payload with an [`InvalidInput`] naming the field
//! and the reason. Code past this point never re-checks bounds.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::input::{bounded_text, field_of, parse_term, required, Blank, Id, InvalidInput};
use crate::taxonomy::SubmissionKind;

/// Longest body we accept, in Unicode code points.
pub const MAX_BODY_CHARS: usize = 20_000;
/// Longest title we accept, in Unicode code points.
pub const MAX_TITLE_CHARS: usize = 200;
/// Largest free-form metadata object we carry, serialised, in bytes.
pub const MAX_METADATA_BYTES: usize = 8_192;

/// A validated submission. Fields are private so that no unchecked one can exist.
///
/// Its JSON Schema (`schemas/submission.json`) is what [`Submission::from_json`] accepts;
/// the `schemars` attributes repeat the bounds checked there, and
/// `tests/check_schemas.py` holds the two together on every fixture.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(
    title = "Submission",
    description = "What the platform sends screen-submission: a job posting, proposal, message or profile. `id` is accepted in place of `submission_id`."
)]
pub struct Submission {
    submission_id: Id,
    kind: SubmissionKind,
    author_id: Id,
    /// Up to 200 characters; a blank title counts as none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_TITLE_CHARS))]
    title: Option<String>,
    /// Up to 20,000 characters, not blank.
    #[schemars(length(min = 1, max = MAX_BODY_CHARS), regex(pattern = r"\S"))]
    body: String,
    /// A language tag such as `ja` or `en-US`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(
        regex(pattern = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$"),
        length(max = 35)
    )]
    locale: Option<String>,
    /// Free-form data the platform wants back with alerts; at most 8,192 bytes as JSON.
    #[serde(skip_serializing_if = "Map::is_empty")]
    #[schemars(with = "Option<Map<String, Value>>")]
    metadata: Map<String, Value>,
}

/// The wire shape, every field optional so that a missing one is reported by name
/// rather than by serde's generic "missing field" message. `id` is accepted for
/// `submission_id` so that the evaluation set's JSON Lines read as they are.
#[derive(Deserialize)]
struct SubmissionPayload {
    #[serde(alias = "id")]
    submission_id: Option<String>,
    kind: Option<String>,
    author_id: Option<String>,
    title: Option<String>,
    body: Option<String>,
    locale: Option<String>,
    metadata: Option<Map<String, Value>>,
}

impl Submission {
    /// Parses a submission from a JSON value, requiring every mandatory field.
    pub fn from_json(value: Value) -> Result<Self, InvalidInput> {
        Self::from_json_with_default_author(value, None)
    }

    /// Parses a JSON text; syntax errors are reported against the field `$`.
    pub fn from_json_str(text: &str) -> Result<Self, InvalidInput> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| InvalidInput::new("$", format!("is not valid JSON: {e}")))?;
        Self::from_json(value)
    }

    /// As [`Submission::from_json`], but an absent `author_id` takes `default_author`.
    /// The CLI uses this for labelled data sets, which carry no author.
    pub fn from_json_with_default_author(
        value: Value,
        default_author: Option<&Id>,
    ) -> Result<Self, InvalidInput> {
        if !value.is_object() {
            return Err(InvalidInput::new("$", "must be a JSON object"));
        }
        // serde's own message would quote the offending value, which may be posting text;
        // we name the field and the expected type instead.
        let payload: SubmissionPayload = serde_path_to_error::deserialize(value).map_err(|e| {
            let field = field_of(e.path());
            // The only field a JSON object can give twice is `submission_id`, as itself and
            // as its alias `id`.
            if e.inner().to_string().starts_with("duplicate field") {
                return InvalidInput::new(
                    "submission_id",
                    "is given twice, as id and as submission_id",
                );
            }
            let expected = if field == "metadata" {
                "a JSON object"
            } else {
                "a string"
            };
            InvalidInput::new(&field, format!("has the wrong type; expected {expected}"))
        })?;

        let submission_id = Id::parse(
            "submission_id",
            &required("submission_id", payload.submission_id)?,
        )?;
        let kind: SubmissionKind = parse_term("kind", &required("kind", payload.kind)?)?;
        let author_id = match (payload.author_id, default_author) {
            (Some(raw), _) => Id::parse("author_id", &raw)?,
            (None, Some(default)) => default.clone(),
            (None, None) => return Err(InvalidInput::new("author_id", "is required")),
        };
        let title = match payload.title {
            Some(t) if t.trim().is_empty() => None,
            Some(t) => Some(bounded_text("title", t, MAX_TITLE_CHARS, Blank::Allowed)?),
            None => None,
        };
        let body = bounded_text(
            "body",
            required("body", payload.body)?,
            MAX_BODY_CHARS,
            Blank::Refused,
        )?;
        let locale = payload.locale.map(|l| parse_locale(&l)).transpose()?;
        let metadata = payload.metadata.unwrap_or_default();
        let metadata_bytes = serde_json::to_vec(&metadata).map_or(usize::MAX, |v| v.len());
        if metadata_bytes > MAX_METADATA_BYTES {
            return Err(InvalidInput::new(
                "metadata",
                format!(
                    "is {metadata_bytes} bytes as JSON; at most {MAX_METADATA_BYTES} are allowed"
                ),
            ));
        }

        Ok(Submission {
            submission_id,
            kind,
            author_id,
            title,
            body,
            locale,
            metadata,
        })
    }

    pub fn submission_id(&self) -> &Id {
        &self.submission_id
    }
    pub fn kind(&self) -> SubmissionKind {
        self.kind
    }
    pub fn author_id(&self) -> &Id {
        &self.author_id
    }
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }
    pub fn body(&self) -> &str {
        &self.body
    }
    pub fn locale(&self) -> Option<&str> {
        self.locale.as_deref()
    }
    pub fn metadata(&self) -> &Map<String, Value> {
        &self.metadata
    }
}

/// A BCP 47-shaped tag such as `ja`, `en-US` or `zh-Hant-TW`; we only need it to pick
/// the language of messages, so the check is about shape, not the IANA registry.
fn parse_locale(raw: &str) -> Result<String, InvalidInput> {
    let mut parts = raw.split(['-', '_']);
    let language_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
    let rest_ok =
        parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if language_ok && rest_ok && raw.len() <= 35 {
        Ok(raw.to_owned())
    } else {
        Err(InvalidInput::new(
            "locale",
            "must be a language tag such as \"ja\" or \"en-US\"",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::MAX_ID_CHARS;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "submission_id": "job-123",
            "kind": "job_posting",
            "author_id": "user_42",
            "title": "ロゴ制作",
            "body": "新店舗のロゴを作ってください。",
            "locale": "ja-JP",
            "metadata": {"budget_jpy": 30000}
        })
    }

    fn error_for(mut patch: impl FnMut(&mut Map<String, Value>)) -> InvalidInput {
        let mut value = valid();
        patch(value.as_object_mut().unwrap());
        Submission::from_json(value).expect_err("payload should be refused")
    }

    #[test]
    fn a_complete_payload_parses_with_every_field_kept() {
        let s = Submission::from_json(valid()).unwrap();
        assert_eq!(s.submission_id().as_str(), "job-123");
        assert_eq!(s.kind(), SubmissionKind::JobPosting);
        assert_eq!(s.author_id().as_str(), "user_42");
        assert_eq!(s.title(), Some("ロゴ制作"));
        assert_eq!(s.locale(), Some("ja-JP"));
        assert_eq!(s.metadata()["budget_jpy"], 30000);
    }

    #[test]
    fn the_evaluation_set_schema_reads_with_id_and_a_default_author() {
        let line = json!({"id": "P0001", "kind": "message", "title": "", "body": "hello",
                          "labels": [], "hard_negative": false, "note": "x"});
        let author = Id::parse("author_id", "eval").unwrap();
        let s = Submission::from_json_with_default_author(line, Some(&author)).unwrap();
        assert_eq!(s.submission_id().as_str(), "P0001");
        assert_eq!(s.title(), None, "an empty title is no title");
        assert_eq!(s.author_id().as_str(), "eval");
    }

    #[test]
    fn each_missing_required_field_is_named() {
        for field in ["submission_id", "kind", "author_id", "body"] {
            let err = error_for(|m| {
                m.remove(field);
            });
            assert_eq!(err.field, field);
            assert_eq!(err.reason, "is required");
        }
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named_by_its_path() {
        let err = error_for(|m| {
            m.insert("body".into(), json!(42));
        });
        assert_eq!(err.field, "body");
        assert_eq!(err.reason, "has the wrong type; expected a string");
    }

    #[test]
    fn an_id_given_twice_as_id_and_submission_id_is_refused_naming_it() {
        let mut value = valid();
        value["id"] = json!("job-124");
        let err = Submission::from_json(value).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.reason.as_str()),
            (
                "submission_id",
                "is given twice, as id and as submission_id"
            )
        );
    }

    #[test]
    fn bounds_are_enforced_in_characters_not_bytes() {
        let ok = "あ".repeat(MAX_BODY_CHARS);
        let mut v = valid();
        v["body"] = json!(ok);
        assert!(Submission::from_json(v).is_ok());

        let err = error_for(|m| {
            m.insert("body".into(), json!("あ".repeat(MAX_BODY_CHARS + 1)));
        });
        assert_eq!(err.field, "body");
        assert!(err.reason.contains("20001"), "{}", err.reason);

        let err = error_for(|m| {
            m.insert("title".into(), json!("t".repeat(MAX_TITLE_CHARS + 1)));
        });
        assert_eq!(err.field, "title");
    }

    #[test]
    fn ids_outside_the_safe_alphabet_or_too_long_are_refused() {
        let err = error_for(|m| {
            m.insert("author_id".into(), json!("user 42"));
        });
        assert_eq!(err.field, "author_id");
        assert_eq!(err.reason, "may hold only A-Z a-z 0-9 _ - . :");

        let err = error_for(|m| {
            m.insert("submission_id".into(), json!("x".repeat(MAX_ID_CHARS + 1)));
        });
        assert_eq!(err.field, "submission_id");
    }

    #[test]
    fn an_unknown_kind_an_empty_body_and_a_bad_locale_are_refused() {
        let err = error_for(|m| {
            m.insert("kind".into(), json!("tweet"));
        });
        assert_eq!(
            (err.field.as_str(), err.reason.as_str()),
            (
                "kind",
                "must be one of job_posting, proposal, message, profile"
            )
        );
        let err = error_for(|m| {
            m.insert("body".into(), json!("   "));
        });
        assert_eq!(
            (err.field.as_str(), err.reason.as_str()),
            ("body", "must not be empty")
        );
        let err = error_for(|m| {
            m.insert("locale".into(), json!("japanese please"));
        });
        assert_eq!(err.field, "locale");
        assert!(!err.reason.contains("please"), "{}", err.reason);
    }

    #[test]
    fn oversized_metadata_is_refused() {
        let err = error_for(|m| {
            m.insert(
                "metadata".into(),
                json!({"blob": "x".repeat(MAX_METADATA_BYTES)}),
            );
        });
        assert_eq!(err.field, "metadata");
    }

    #[test]
    fn non_objects_and_broken_json_are_refused_at_the_root() {
        assert_eq!(Submission::from_json(json!([1, 2])).unwrap_err().field, "$");
        assert_eq!(
            Submission::from_json_str("{\"body\": ").unwrap_err().field,
            "$"
        );
    }
}
