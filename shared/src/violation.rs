//! A confirmed violation, as one function hands it to another: screening's automatic
//! strikes and confirmed reports travel to user-escalation as this message, through the
//! [`ViolationQueue`] port (SNS in AWS, a direct call locally).

use std::future::Future;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::input::{Id, Vocabulary};
use crate::taxonomy::{Category, Severity};

/// Who found the violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationSource {
    Screening,
    Report,
    Support,
}

impl ViolationSource {
    pub const fn as_str(self) -> &'static str {
        match self {
            ViolationSource::Screening => "screening",
            ViolationSource::Report => "report",
            ViolationSource::Support => "support",
        }
    }
}

impl Vocabulary for ViolationSource {
    const ALL: &'static [Self] = &[
        ViolationSource::Screening,
        ViolationSource::Report,
        ViolationSource::Support,
    ];
    fn as_str(self) -> &'static str {
        ViolationSource::as_str(self)
    }
}

/// Who decides an automatic strike, in the audit trail and in the pending withdrawal
/// (so that any human can confirm it).
pub const SCREENING_DECIDER: &str = "anshin-screening";

/// A support decision (or an automatic one) that a user broke the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViolationConfirmed {
    pub violation_id: Id,
    pub user_id: Id,
    pub category: Category,
    pub severity: Severity,
    pub source: ViolationSource,
    /// References such as `submission:job-123` or `report:r-9`; never the text itself.
    pub evidence: Vec<String>,
    pub decided_by: Id,
}

impl ViolationConfirmed {
    /// The command as user-escalation reads it (`escalation::EscalationCommand::from_json`).
    pub fn to_command_json(&self) -> Value {
        serde_json::json!({
            "type": "violation_confirmed",
            "violation_id": self.violation_id,
            "user_id": self.user_id,
            "category": self.category,
            "severity": self.severity,
            "source": self.source,
            "evidence": self.evidence,
            "decided_by": self.decided_by,
        })
    }
}

/// The violation could not be handed to user-escalation. Safe to log.
#[derive(Debug, thiserror::Error)]
#[error("violation not delivered to user-escalation: {0}")]
pub struct QueueError(pub String);

/// Where screening and report resolution send the violations they confirm: SNS to
/// user-escalation in AWS, a direct call into an escalator locally.
pub trait ViolationQueue: Send + Sync {
    fn submit(
        &self,
        violation: &ViolationConfirmed,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}
