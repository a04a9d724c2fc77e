//! What a support decision sends, and the one port it goes through.
//!
//! A decision causes messages other parts act on: a command to user-escalation (a strike,
//! a revocation, a withdrawal's second approval, a reinstatement), a resolution to
//! report-intake, and a `case_resolved` event to the platform, which tells the poster what
//! to fix. They leave through [`SupportOutbox`]: today an adapter publishes them to SNS
//! right after the write that caused them; once the table's outbox lands, the store writes
//! them in the same transaction as the decision and this port is where that switch
//! happens, nowhere else.

use std::future::Future;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::case::{Case, CaseOutcome};
use crate::clock::Timestamp;
use crate::digest::stable_key;
use crate::escalation::EscalationCommand;
use crate::reports::Resolution;
use crate::taxonomy::{Category, SubmissionKind};
use crate::verdict::Evidence;

/// The `event_type` of a [`CaseResolved`].
pub const CASE_RESOLVED: &str = "case_resolved";

/// What to fix in one category, with the spans of the posting that showed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixIt {
    pub category: Category,
    pub message_ja: String,
    pub message_en: String,
    pub evidence: Vec<Evidence>,
}

/// Tells the platform how support decided a case: publish the submission again
/// (`released`), keep it hidden until the poster fixes what `fixes` says (`kept_hidden`),
/// or keep it down for good (`removed`, the author got a strike).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

/// One message a support action sends.
#[derive(Debug, Clone, PartialEq)]
pub enum SupportMessage {
    /// To user-escalation (its topic).
    Escalation(EscalationCommand),
    /// To report-intake (the report-resolution topic).
    Resolution(Resolution),
    /// To the platform (the alert topic, `event_type = case_resolved`).
    CaseResolved(CaseResolved),
}

impl SupportMessage {
    /// The message body, exactly as its receiver parses it.
    pub fn body(&self) -> Value {
        match self {
            SupportMessage::Escalation(c) => c.to_json(),
            SupportMessage::Resolution(r) => r.to_json(),
            // A struct of strings, numbers and enums: serialising it cannot fail.
            SupportMessage::CaseResolved(e) => serde_json::to_value(e).unwrap_or(Value::Null),
        }
    }

    /// `event_type` / `type`, for logs and subscription filters.
    pub fn kind(&self) -> &'static str {
        match self {
            SupportMessage::Escalation(c) => crate::input::Vocabulary::as_str(c.command_type()),
            SupportMessage::Resolution(_) => "resolution",
            SupportMessage::CaseResolved(_) => CASE_RESOLVED,
        }
    }
}

/// The messages could not be handed on. Safe to log (no posting text).
#[derive(Debug, thiserror::Error)]
#[error("support messages not delivered: {0}")]
pub struct OutboxError(pub String);

/// Where support's messages go.
pub trait SupportOutbox: Send + Sync {
    fn send(
        &self,
        messages: &[SupportMessage],
    ) -> impl Future<Output = Result<(), OutboxError>> + Send;
}
