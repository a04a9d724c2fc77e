//! Errors shared across the core's boundaries.

use std::fmt;

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
