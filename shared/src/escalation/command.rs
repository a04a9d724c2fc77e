//! The commands user-escalation takes, parsed from their JSON: a refusal names the field and
//! what is allowed, never the value received.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::delivery::{self, Delivery};
use crate::digest::stable_key;
use crate::input::{
    bounded_text, parse_payload, required, required_id, required_term, Blank, Id, InvalidInput,
    Vocabulary,
};
use crate::outbox::{AttributeValue, Destination, OutboxMessage};
use crate::violation::ViolationConfirmed;

/// Longest free-text reason we keep (appeals, reinstatements).
pub const MAX_REASON_CHARS: usize = 1_000;
/// Evidence references per violation, and the length of each.
pub const MAX_EVIDENCE_REFS: usize = 20;
pub const MAX_EVIDENCE_REF_CHARS: usize = 256;

/// An appeal upheld: the violation stops counting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViolationRevoked {
    pub violation_id: Id,
    pub decided_by: Id,
    pub reason: String,
}

/// The second support member's confirmation of a forced withdrawal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WithdrawalConfirmed {
    pub user_id: Id,
    pub decided_by: Id,
}

/// Bringing a withdrawn account back, with a clean slate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reinstated {
    pub user_id: Id,
    pub decided_by: Id,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum EscalationCommand {
    ViolationConfirmed(ViolationConfirmed),
    ViolationRevoked(ViolationRevoked),
    WithdrawalConfirmed(WithdrawalConfirmed),
    Reinstated(Reinstated),
    /// Where a user stands, with the history.
    StandingQuery {
        user_id: Id,
    },
}

/// The `type` of a command, as it is spelled on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscalationCommandType {
    ViolationConfirmed,
    ViolationRevoked,
    WithdrawalConfirmed,
    Reinstated,
    StandingQuery,
}

impl Vocabulary for EscalationCommandType {
    const ALL: &'static [Self] = &[
        EscalationCommandType::ViolationConfirmed,
        EscalationCommandType::ViolationRevoked,
        EscalationCommandType::WithdrawalConfirmed,
        EscalationCommandType::Reinstated,
        EscalationCommandType::StandingQuery,
    ];
    fn as_str(self) -> &'static str {
        match self {
            EscalationCommandType::ViolationConfirmed => "violation_confirmed",
            EscalationCommandType::ViolationRevoked => "violation_revoked",
            EscalationCommandType::WithdrawalConfirmed => "withdrawal_confirmed",
            EscalationCommandType::Reinstated => "reinstated",
            EscalationCommandType::StandingQuery => "standing_query",
        }
    }
}

/// The wire shape: every field optional so that a missing one is named.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommandPayload {
    #[serde(rename = "type")]
    command_type: Option<String>,
    violation_id: Option<String>,
    user_id: Option<String>,
    category: Option<String>,
    severity: Option<String>,
    source: Option<String>,
    evidence: Option<Vec<String>>,
    decided_by: Option<String>,
    reason: Option<String>,
}

fn reason(value: Option<String>) -> Result<String, InvalidInput> {
    bounded_text(
        "reason",
        required("reason", value)?,
        MAX_REASON_CHARS,
        Blank::Refused,
    )
}

fn evidence(value: Option<Vec<String>>) -> Result<Vec<String>, InvalidInput> {
    let evidence = value.unwrap_or_default();
    if evidence.len() > MAX_EVIDENCE_REFS {
        return Err(InvalidInput::new(
            "evidence",
            format!(
                "has {} references; at most {MAX_EVIDENCE_REFS} are allowed",
                evidence.len()
            ),
        ));
    }
    evidence
        .into_iter()
        .enumerate()
        .map(|(i, reference)| {
            bounded_text(
                &format!("evidence[{i}]"),
                reference,
                MAX_EVIDENCE_REF_CHARS,
                Blank::Refused,
            )
        })
        .collect()
}

impl EscalationCommand {
    pub fn command_type(&self) -> EscalationCommandType {
        match self {
            EscalationCommand::ViolationConfirmed(_) => EscalationCommandType::ViolationConfirmed,
            EscalationCommand::ViolationRevoked(_) => EscalationCommandType::ViolationRevoked,
            EscalationCommand::WithdrawalConfirmed(_) => EscalationCommandType::WithdrawalConfirmed,
            EscalationCommand::Reinstated(_) => EscalationCommandType::Reinstated,
            EscalationCommand::StandingQuery { .. } => EscalationCommandType::StandingQuery,
        }
    }

    /// The command as [`EscalationCommand::from_json`] reads it: what goes on the wire.
    pub fn to_json(&self) -> Value {
        match self {
            EscalationCommand::ViolationConfirmed(v) => v.to_command_json(),
            EscalationCommand::ViolationRevoked(r) => serde_json::json!({
                "type": "violation_revoked", "violation_id": r.violation_id,
                "decided_by": r.decided_by, "reason": r.reason,
            }),
            EscalationCommand::WithdrawalConfirmed(w) => serde_json::json!({
                "type": "withdrawal_confirmed", "user_id": w.user_id, "decided_by": w.decided_by,
            }),
            EscalationCommand::Reinstated(r) => serde_json::json!({
                "type": "reinstated", "user_id": r.user_id, "decided_by": r.decided_by,
                "reason": r.reason,
            }),
            EscalationCommand::StandingQuery { user_id } => serde_json::json!({
                "type": "standing_query", "user_id": user_id,
            }),
        }
    }

    /// The command as an outbox message for user-escalation's topic. A confirmed violation
    /// is keyed by its id; any other command by its whole wire form, so that the same
    /// command written twice (a double-click) is one pending message, and a repeat
    /// delivered later changes nothing in user-escalation.
    pub fn to_outbox(&self) -> OutboxMessage {
        if let EscalationCommand::ViolationConfirmed(v) = self {
            return v.to_outbox();
        }
        let kind = self.command_type().as_str();
        let body = self.to_json().to_string();
        OutboxMessage {
            id: format!("{kind}-{}", stable_key(&[&body])),
            destination: Destination::Escalation,
            subject: None,
            body,
            attributes: vec![("event_type".into(), AttributeValue::String(kind.to_owned()))],
        }
    }

    pub fn from_json(value: Value) -> Result<Self, InvalidInput> {
        let p: CommandPayload = parse_payload(value)?;
        Ok(match required_term("type", p.command_type)? {
            EscalationCommandType::ViolationConfirmed => {
                EscalationCommand::ViolationConfirmed(ViolationConfirmed {
                    violation_id: required_id("violation_id", p.violation_id)?,
                    user_id: required_id("user_id", p.user_id)?,
                    category: required_term("category", p.category)?,
                    severity: required_term("severity", p.severity)?,
                    source: required_term("source", p.source)?,
                    evidence: evidence(p.evidence)?,
                    decided_by: required_id("decided_by", p.decided_by)?,
                })
            }
            EscalationCommandType::ViolationRevoked => {
                EscalationCommand::ViolationRevoked(ViolationRevoked {
                    violation_id: required_id("violation_id", p.violation_id)?,
                    decided_by: required_id("decided_by", p.decided_by)?,
                    reason: reason(p.reason)?,
                })
            }
            EscalationCommandType::WithdrawalConfirmed => {
                EscalationCommand::WithdrawalConfirmed(WithdrawalConfirmed {
                    user_id: required_id("user_id", p.user_id)?,
                    decided_by: required_id("decided_by", p.decided_by)?,
                })
            }
            EscalationCommandType::Reinstated => EscalationCommand::Reinstated(Reinstated {
                user_id: required_id("user_id", p.user_id)?,
                decided_by: required_id("decided_by", p.decided_by)?,
                reason: reason(p.reason)?,
            }),
            EscalationCommandType::StandingQuery => EscalationCommand::StandingQuery {
                user_id: required_id("user_id", p.user_id)?,
            },
        })
    }

    /// Reads one invocation of user-escalation: one command invoked directly, or one per
    /// SNS record.
    ///
    /// The two doors differ in who can stand behind them. The escalation topic accepts
    /// publishes from the outbox publisher alone (its topic policy), so what arrives through
    /// it was written by one of the stack's functions — the support console among them. A
    /// direct invocation is the platform's: it may confirm a violation or ask for a standing,
    /// but the commands that act in a support member's name (revoking a strike on appeal,
    /// confirming a forced withdrawal, reinstating) are refused there, so no platform
    /// credential can act as support.
    pub fn from_invocation(payload: Value) -> Result<Delivery<Self>, InvalidInput> {
        delivery::read(payload, Self::from_platform, Self::from_json)
    }

    /// A command as the platform may send it by direct invocation.
    fn from_platform(payload: Value) -> Result<Self, InvalidInput> {
        let command = Self::from_json(payload)?;
        match command.command_type() {
            EscalationCommandType::ViolationConfirmed | EscalationCommandType::StandingQuery => {
                Ok(command)
            }
            EscalationCommandType::ViolationRevoked
            | EscalationCommandType::WithdrawalConfirmed
            | EscalationCommandType::Reinstated => Err(InvalidInput::new(
                "type",
                "violation_revoked, withdrawal_confirmed and reinstated act in a support member's \
                 name and arrive only through the escalation topic, from the support console",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_command_reads_back_from_its_own_wire_form() {
        for wire in [
            json!({"type": "violation_revoked", "violation_id": "v", "decided_by": "s", "reason": "appeal"}),
            json!({"type": "withdrawal_confirmed", "user_id": "u", "decided_by": "s"}),
            json!({"type": "reinstated", "user_id": "u", "decided_by": "s", "reason": "r"}),
            json!({"type": "standing_query", "user_id": "u"}),
            json!({"type": "violation_confirmed", "violation_id": "v", "user_id": "u",
                   "category": "spam", "severity": "low", "source": "support",
                   "evidence": ["case:c"], "decided_by": "s"}),
        ] {
            let command = EscalationCommand::from_json(wire.clone()).unwrap();
            assert_eq!(command.to_json(), wire);
        }
    }

    #[test]
    fn an_unknown_type_or_severity_is_refused_with_the_allowed_values_only() {
        let err =
            EscalationCommand::from_json(json!({"type": "delete_everything_now"})).unwrap_err();
        assert_eq!(err.field, "type");
        assert!(err
            .reason
            .starts_with("must be one of violation_confirmed,"));
        assert!(!err.reason.contains("delete_everything"));

        let err = EscalationCommand::from_json(json!({
            "type": "violation_confirmed", "violation_id": "v", "user_id": "u",
            "category": "spam", "severity": "apocalyptic", "source": "support", "decided_by": "s"
        }))
        .unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.reason.as_str()),
            ("severity", "must be one of low, medium, high, critical")
        );
    }

    #[test]
    fn evidence_references_are_bounded_in_number_and_length() {
        let command = |evidence: Value| {
            EscalationCommand::from_json(json!({
                "type": "violation_confirmed", "violation_id": "v", "user_id": "u",
                "category": "spam", "severity": "low", "source": "support", "decided_by": "s",
                "evidence": evidence
            }))
        };
        assert!(command(json!(["submission:a"])).is_ok());
        let err = command(json!(["ok", ""])).unwrap_err();
        assert_eq!(err.field, "evidence[1]");
        let err = command(json!(vec!["x"; MAX_EVIDENCE_REFS + 1])).unwrap_err();
        assert_eq!(err.field, "evidence");
    }
}
