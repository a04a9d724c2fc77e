//! Errors shared across the core's boundaries.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::submission::Id;

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
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// Deserialises a command's JSON object into its all-optional wire shape. serde's own
/// messages can quote the offending value (posting or report text), so only the field and a
/// generic reason go back — except for unknown fields, whose message names just the field.
pub(crate) fn parse_payload<T: DeserializeOwned>(value: Value) -> Result<T, InvalidInput> {
    if !value.is_object() {
        return Err(InvalidInput::new("$", "must be a JSON object"));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner().to_string();
        if inner.starts_with("unknown field") {
            InvalidInput::new("$", inner)
        } else {
            InvalidInput::new(&field, "has the wrong type")
        }
    })
}

pub(crate) fn required<T>(field: &str, value: Option<T>) -> Result<T, InvalidInput> {
    value.ok_or_else(|| InvalidInput::new(field, "is required"))
}

pub(crate) fn required_id(field: &str, value: Option<String>) -> Result<Id, InvalidInput> {
    Id::parse(field, &required(field, value)?)
}
