//! What every boundary shares when it reads a caller's payload: the refusal
//! ([`InvalidInput`]), the identifier newtype ([`Id`]), bounded free text, and one parser for
//! closed vocabularies (enum values and lists of them).
//!
//! Parse, don't validate: each helper either returns a value that is valid from then on or a
//! refusal that names the field and the reason — never the value received, which may be
//! posting text, a report's description or simply garbage of any length.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use serde_path_to_error::Segment;

/// A payload the caller sent that we refuse: which field, and why.
///
/// `field` is a JSON path such as `body`, `labels[2]` or `$` (the whole document).
/// The message never echoes the field's content, so it is safe to log and to return.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InvalidInput {
    pub field: String,
    pub reason: String,
}

impl InvalidInput {
    pub fn new(field: &str, reason: impl Into<String>) -> Self {
        InvalidInput {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    /// The same refusal one level down, e.g. `category` inside `submission` becomes
    /// `submission.category`.
    pub fn within(self, parent: &str) -> Self {
        let field = if self.field == "$" {
            parent.to_owned()
        } else {
            format!("{parent}.{}", self.field)
        };
        InvalidInput {
            field,
            reason: self.reason,
        }
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// Deserialises a command's JSON object into its all-optional wire shape. serde's own
/// messages can quote the offending value (posting or report text), so only the field and a
/// generic reason go back — except for unknown fields, whose message names just the field.
pub fn parse_payload<T: DeserializeOwned>(value: Value) -> Result<T, InvalidInput> {
    if !value.is_object() {
        return Err(InvalidInput::new("$", "must be a JSON object"));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = field_of(e.path());
        let inner = e.into_inner().to_string();
        if inner.starts_with("unknown field") {
            InvalidInput::new("$", inner)
        } else {
            InvalidInput::new(&field, "has the wrong type")
        }
    })
}

/// The field a deserialisation error points at, as a refusal names it: field names and
/// indices (`Records[0].Sns.Timestamp`), `$` for the whole document. The path stops before a
/// segment that is not a short plain name: a map's key (an SNS message attribute's name) is
/// the sender's text, and a refusal never echoes that.
pub fn field_of(path: &serde_path_to_error::Path) -> String {
    /// Longer than any field name of ours or AWS's.
    const MAX_NAME_CHARS: usize = 64;
    let is_name = |s: &str| {
        s.len() <= MAX_NAME_CHARS
            && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let mut field = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => {
                if field.is_empty() {
                    field.push('$');
                }
                field.push_str(&format!("[{index}]"));
            }
            Segment::Map { key: name } | Segment::Enum { variant: name } if is_name(name) => {
                if !field.is_empty() {
                    field.push('.');
                }
                field.push_str(name);
            }
            Segment::Map { .. } | Segment::Enum { .. } | Segment::Unknown => break,
        }
    }
    if field.is_empty() {
        field.push('$');
    }
    field
}

pub fn required<T>(field: &str, value: Option<T>) -> Result<T, InvalidInput> {
    value.ok_or_else(|| InvalidInput::new(field, "is required"))
}

pub fn required_id(field: &str, value: Option<String>) -> Result<Id, InvalidInput> {
    Id::parse(field, &required(field, value)?)
}

// ---- identifiers ---------------------------------------------------------------------------

/// Longest id (submission, author, …) we accept.
pub const MAX_ID_CHARS: usize = 128;

/// An identifier from the platform: 1–128 characters of `A–Z a–z 0–9 _ - . :`.
///
/// The alphabet is narrow on purpose: ids end up in DynamoDB keys, SNS attributes and logs,
/// where free text would be a place to smuggle personal data or break a key layout.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Id(String);

impl Id {
    pub fn parse(field: &str, raw: &str) -> Result<Self, InvalidInput> {
        let len = raw.chars().count();
        if len == 0 {
            return Err(InvalidInput::new(field, "must not be empty"));
        }
        if len > MAX_ID_CHARS {
            return Err(InvalidInput::new(
                field,
                format!("is {len} characters long; at most {MAX_ID_CHARS} are allowed"),
            ));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
        {
            return Err(InvalidInput::new(
                field,
                "may hold only A-Z a-z 0-9 _ - . :",
            ));
        }
        Ok(Id(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The pattern [`Id::parse`] enforces, for the published JSON Schemas.
pub const ID_PATTERN: &str = "^[A-Za-z0-9_.:-]+$";

impl schemars::JsonSchema for Id {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Id".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An identifier from the platform: 1-128 characters of A-Z a-z 0-9 _ - . :",
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_ID_CHARS,
            "pattern": ID_PATTERN,
        })
    }
}

// ---- bounded free text -----------------------------------------------------------------------

/// Whether a text field may be empty (or only whitespace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blank {
    Allowed,
    Refused,
}

/// Free text of at most `max_chars` code points (not bytes), without NUL characters (they
/// end strings in too many downstream tools), and non-blank unless `blank` allows it.
pub fn bounded_text(
    field: &str,
    text: String,
    max_chars: usize,
    blank: Blank,
) -> Result<String, InvalidInput> {
    if blank == Blank::Refused && text.trim().is_empty() {
        return Err(InvalidInput::new(field, "must not be empty"));
    }
    let len = text.chars().count();
    if len > max_chars {
        return Err(InvalidInput::new(
            field,
            format!("is {len} characters long; at most {max_chars} are allowed"),
        ));
    }
    if text.contains('\0') {
        return Err(InvalidInput::new(field, "contains a NUL character"));
    }
    Ok(text)
}

// ---- closed vocabularies ---------------------------------------------------------------------

/// A type whose values are a fixed list of wire strings: categories, severities, kinds,
/// command types. One parser reads them all, and its refusal lists what is allowed.
pub trait Vocabulary: Copy + 'static {
    /// Every value, in the order the refusal lists them.
    const ALL: &'static [Self];

    /// The value's stable wire string.
    fn as_str(self) -> &'static str;

    /// The value whose wire string is `raw`, if any.
    fn from_wire(raw: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == raw)
    }
}

/// A vocabulary's JSON Schema: a string, one of its wire values (for the types whose serde
/// form is written by hand, so that schemars cannot derive it).
pub fn vocabulary_schema<T: Vocabulary>(description: &str) -> schemars::Schema {
    let values: Vec<&str> = T::ALL.iter().map(|v| v.as_str()).collect();
    schemars::json_schema!({ "description": description, "type": "string", "enum": values })
}

/// `a, b, c`: the allowed values, for a refusal.
pub fn allowed<T: Vocabulary>() -> String {
    T::ALL
        .iter()
        .map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads one value of a vocabulary. The refusal names the field and the allowed values,
/// never what was received.
pub fn parse_term<T: Vocabulary>(field: &str, raw: &str) -> Result<T, InvalidInput> {
    T::from_wire(raw)
        .ok_or_else(|| InvalidInput::new(field, format!("must be one of {}", allowed::<T>())))
}

/// [`parse_term`] for an optional field.
pub fn optional_term<T: Vocabulary>(
    field: &str,
    raw: Option<String>,
) -> Result<Option<T>, InvalidInput> {
    raw.map(|raw| parse_term(field, &raw)).transpose()
}

/// [`parse_term`] for a required field.
pub fn required_term<T: Vocabulary>(field: &str, raw: Option<String>) -> Result<T, InvalidInput> {
    parse_term(field, &required(field, raw)?)
}

/// Reads a JSON array of vocabulary values as a set; a refusal names the element
/// (`field[i]`).
pub fn term_set<T: Vocabulary + Ord>(
    field: &str,
    items: &[Value],
) -> Result<BTreeSet<T>, InvalidInput> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let field = format!("{field}[{i}]");
            let raw = item
                .as_str()
                .ok_or_else(|| InvalidInput::new(&field, "must be a string"))?;
            parse_term(&field, raw)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Colour {
        Red,
        Green,
    }

    impl Vocabulary for Colour {
        const ALL: &'static [Self] = &[Colour::Red, Colour::Green];
        fn as_str(self) -> &'static str {
            match self {
                Colour::Red => "red",
                Colour::Green => "green",
            }
        }
    }

    #[test]
    fn a_term_outside_the_vocabulary_is_refused_with_the_allowed_values_and_never_echoed() {
        assert_eq!(parse_term::<Colour>("colour", "green"), Ok(Colour::Green));
        let secret = "call me on 090-1234-5678";
        let err = parse_term::<Colour>("colour", secret).unwrap_err();
        assert_eq!(err.field, "colour");
        assert_eq!(err.reason, "must be one of red, green");
        assert!(!err.to_string().contains("090"));
    }

    #[test]
    fn a_term_set_names_the_element_that_fails() {
        let set: BTreeSet<Colour> = term_set("labels", &[json!("red"), json!("red")]).unwrap();
        assert_eq!(set.len(), 1);
        let err = term_set::<Colour>("labels", &[json!("red"), json!("blue")]).unwrap_err();
        assert_eq!(err.field, "labels[1]");
        let err = term_set::<Colour>("labels", &[json!(3)]).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.reason.as_str()),
            ("labels[0]", "must be a string")
        );
    }

    #[test]
    fn bounded_text_counts_code_points_refuses_nul_and_blank_when_asked() {
        let field = "reason";
        assert!(bounded_text(field, "あ".repeat(10), 10, Blank::Refused).is_ok());
        let err = bounded_text(field, "あ".repeat(11), 10, Blank::Refused).unwrap_err();
        assert_eq!(err.reason, "is 11 characters long; at most 10 are allowed");
        let err = bounded_text(field, "  ".into(), 10, Blank::Refused).unwrap_err();
        assert_eq!(err.reason, "must not be empty");
        assert_eq!(
            bounded_text(field, "".into(), 10, Blank::Allowed),
            Ok(String::new())
        );
        let err = bounded_text(field, "a\0b".into(), 10, Blank::Allowed).unwrap_err();
        assert_eq!(err.reason, "contains a NUL character");
    }

    #[test]
    fn an_id_outside_the_safe_alphabet_is_refused_without_quoting_it() {
        assert_eq!(Id::parse("user_id", "user_42").unwrap().as_str(), "user_42");
        let err = Id::parse("user_id", "user 42<script>").unwrap_err();
        assert_eq!(err.reason, "may hold only A-Z a-z 0-9 _ - . :");
        assert!(!err.to_string().contains("script"));
        let err = Id::parse("user_id", &"x".repeat(MAX_ID_CHARS + 1)).unwrap_err();
        assert_eq!(err.field, "user_id");
        assert_eq!(
            Id::parse("user_id", "").unwrap_err().reason,
            "must not be empty"
        );
    }

    #[test]
    fn a_nested_refusal_is_named_by_its_path() {
        let err = InvalidInput::new("category", "must be one of a").within("submission");
        assert_eq!(err.field, "submission.category");
        let err = InvalidInput::new("$", "must be a JSON object").within("submission");
        assert_eq!(err.field, "submission");
    }
}
