//! Evidence: the spans of what the poster wrote that made rules hit, as support and the
//! poster see them (code points into the original field), and the redacted excerpt an
//! alert may carry.

use std::ops::Range;

use crate::text::NormalizedText;
use crate::verdict::{Evidence, Field, Verdict};

/// Evidence spans kept per category; enough to show the poster what to fix without
/// turning a long spam post into a long verdict.
pub const MAX_EVIDENCE_PER_CATEGORY: usize = 5;

/// Longest excerpt an alert carries, in code points.
pub const MAX_EXCERPT_CHARS: usize = 60;
const MASK: char = '■';

/// Byte range → code-point range of the same text.
pub(super) fn to_char_range(text: &str, bytes: Range<usize>) -> Range<usize> {
    let start = text[..bytes.start].chars().count();
    start..start + text[bytes].chars().count()
}

/// Merges overlapping spans per field and keeps the first few, quoting the original text.
pub(super) fn quote(
    spans: &[(Field, Range<usize>)],
    fields: &[(Field, &str, &NormalizedText)],
) -> Vec<Evidence> {
    let mut sorted: Vec<(Field, Range<usize>)> = spans.to_vec();
    sorted.sort_by_key(|(f, r)| (*f == Field::Body, r.start, r.end));
    let mut merged: Vec<(Field, Range<usize>)> = Vec::new();
    for (field, range) in sorted {
        match merged.last_mut() {
            Some((f, last)) if *f == field && range.start <= last.end => {
                last.end = last.end.max(range.end)
            }
            _ => merged.push((field, range)),
        }
    }
    merged
        .into_iter()
        .take(MAX_EVIDENCE_PER_CATEGORY)
        .map(|(field, range)| {
            let original = fields
                .iter()
                .find(|(f, _, _)| *f == field)
                .map_or("", |(_, text, _)| *text);
            Evidence {
                field,
                start: range.start,
                end: range.end,
                text: original
                    .chars()
                    .skip(range.start)
                    .take(range.end - range.start)
                    .collect(),
            }
        })
        .collect()
}

/// The text around the first piece of evidence, with every evidence span and every digit
/// masked: enough for support to triage, not enough to leak a phone number or an ID.
/// `title` and `body` are the submission's original fields.
pub fn redacted_excerpt(title: Option<&str>, body: &str, verdict: &Verdict) -> String {
    let evidence: Vec<_> = verdict
        .categories
        .iter()
        .flat_map(|c| c.evidence.iter())
        .collect();
    let (field, anchor) = evidence
        .iter()
        .map(|e| (e.field, e.start))
        .min_by_key(|(f, start)| (*f == Field::Body, *start))
        .unwrap_or((Field::Body, 0));
    let text = match field {
        Field::Title => title.unwrap_or_default(),
        Field::Body => body,
    };
    let start = anchor.saturating_sub(MAX_EXCERPT_CHARS / 3);
    text.chars()
        .enumerate()
        .skip(start)
        .take(MAX_EXCERPT_CHARS)
        .map(|(i, ch)| {
            let in_evidence = evidence
                .iter()
                .any(|e| e.field == field && (e.start..e.end).contains(&i));
            if in_evidence || ch.is_numeric() {
                MASK
            } else if ch.is_whitespace() {
                ' '
            } else {
                ch
            }
        })
        .collect()
}
