//! What a support decision sends. A decision causes messages other parts act on: a command
//! to user-escalation (a strike, a revocation, a withdrawal's second approval, a
//! reinstatement), resolutions to report-intake, and a [`CaseResolved`] event to the
//! platform, which tells the poster what to fix. Each is an outbox message
//! ([`crate::outbox`]) written by the case store in the same write as the decision that
//! causes it, and published by the outbox's relay: a process that dies after the decision
//! is recorded loses none of them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::case::{Case, CaseOutcome};
use crate::clock::Timestamp;
use crate::digest::stable_key;
use crate::outbox::{AttributeValue, Destination, OutboxMessage};
use crate::taxonomy::{Category, SubmissionKind};
use crate::verdict::Evidence;

/// The `event_type` of a [`CaseResolved`].
pub const CASE_RESOLVED: &str = "case_resolved";

/// What to fix in one category, with the spans of the posting that showed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FixIt {
    pub category: Category,
    pub message_ja: String,
    pub message_en: String,
    pub evidence: Vec<Evidence>,
}

/// Tells the platform how support decided a case: publish the submission again
/// (`released`), keep it hidden until the poster fixes what `fixes` says (`kept_hidden`),
/// or keep it down for good (`removed`, the author got a strike).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseResolved {
    pub event_type: String,
    /// One per case: a redelivery carries the same key.
    pub dedupe_key: String,
    pub case_id: String,
    pub submission_id: Option<String>,
    pub author_id: String,
    pub kind: Option<SubmissionKind>,
    pub outcome: CaseOutcome,
    pub final_categories: Vec<Category>,
    /// For each final category: the fix-it messages and the evidence (empty on release).
    pub fixes: Vec<FixIt>,
    pub decided_at: Timestamp,
    pub policy_version: String,
}

impl CaseResolved {
    /// The event for a closed case; None while it is open.
    pub fn for_case(case: &Case) -> Option<CaseResolved> {
        let resolution = case.summary.resolution.as_ref()?;
        let verdict = case.content.verdict.as_ref();
        let fixes = if resolution.outcome == CaseOutcome::Released {
            Vec::new()
        } else {
            resolution
                .final_categories
                .iter()
                .filter_map(|category| {
                    let finding = verdict?.categories.iter().find(|f| f.category == *category);
                    Some((category, finding))
                })
                .filter_map(|(category, finding)| {
                    let finding = finding?;
                    Some(FixIt {
                        category: *category,
                        message_ja: finding.message_ja.clone(),
                        message_en: finding.message_en.clone(),
                        evidence: finding.evidence.clone(),
                    })
                })
                .collect()
        };
        Some(CaseResolved {
            event_type: CASE_RESOLVED.to_owned(),
            dedupe_key: stable_key(&[case.id(), CASE_RESOLVED]),
            case_id: case.id().to_owned(),
            submission_id: case.summary.submission_id.clone(),
            author_id: case.summary.author_id.clone(),
            kind: case.summary.kind,
            outcome: resolution.outcome,
            final_categories: resolution.final_categories.clone(),
            fixes,
            decided_at: resolution.decided_at,
            policy_version: case.summary.policy_version.clone(),
        })
    }

    /// The event as an outbox message for the alert topic, where the platform subscribes
    /// with a filter on `event_type`.
    pub fn to_outbox(&self) -> Result<OutboxMessage, serde_json::Error> {
        let s = |v: &str| AttributeValue::String(v.to_owned());
        Ok(OutboxMessage {
            id: format!("case-resolved-{}", self.dedupe_key),
            destination: Destination::Alerts,
            subject: Some(
                format!("[anshin] case {} {}", self.case_id, self.outcome.as_str())
                    .chars()
                    .take(100)
                    .collect(),
            ),
            body: serde_json::to_string(self)?,
            attributes: vec![
                ("event_type".into(), s(CASE_RESOLVED)),
                ("dedupe_key".into(), s(&self.dedupe_key)),
                ("outcome".into(), s(self.outcome.as_str())),
                ("user_id".into(), s(&self.author_id)),
            ],
        })
    }
}
