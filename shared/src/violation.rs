//! A confirmed violation, as one function hands it to another: screening's automatic
//! strikes, confirmed reports and support's decisions travel to user-escalation as this
//! command, through the outbox and the escalation topic.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::input::{Id, Vocabulary};
use crate::outbox::{AttributeValue, Destination, OutboxMessage};
use crate::taxonomy::{Category, Severity};

/// Who found the violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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

    /// The command as an outbox message for user-escalation's topic. The attributes let a
    /// subscription filter, e.g. only report-driven strikes.
    pub fn to_outbox(&self) -> OutboxMessage {
        let s = |v: &str| AttributeValue::String(v.to_owned());
        OutboxMessage {
            id: format!("violation-{}", self.violation_id),
            destination: Destination::Escalation,
            subject: None,
            body: self.to_command_json().to_string(),
            attributes: vec![
                ("event_type".into(), s("violation_confirmed")),
                ("category".into(), s(self.category.id())),
                ("source".into(), s(self.source.as_str())),
            ],
        }
    }
}
