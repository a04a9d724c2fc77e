//! What report-intake takes: a user's report (from the platform's authenticated call) and
//! support's resolution of one, parsed from their JSON. A refusal names the field and what
//! is allowed, never the value received.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::Timestamp;
use crate::delivery::{self, Delivery};
use crate::digest::stable_key;
use crate::input::{
    bounded_text, optional_term, parse_payload, required, required_id, required_term, Blank, Id,
    InvalidInput, Vocabulary,
};
use crate::outbox::{AttributeValue, Destination, OutboxMessage};
use crate::screening::Submission;
use crate::taxonomy::{Category, ReportCategory, Severity};

/// Longest report description, in code points.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;

/// A validated report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The platform's id, if it sent one; otherwise derived from the de-duplication key.
    pub report_id: Id,
    pub reporter_id: Id,
    /// When the reporter's account was created (from the platform's authenticated context).
    pub reporter_account_created_at: Timestamp,
    pub target_user_id: Id,
    pub target_submission_id: Option<Id>,
    pub submission: Option<Submission>,
    pub category: ReportCategory,
    pub description: String,
}

impl Report {
    /// Reporter, target and submission: one report per triple counts.
    pub fn dedupe_key(&self) -> String {
        report_key(
            &self.reporter_id,
            &self.target_user_id,
            self.target_submission_id.as_ref(),
        )
    }
}

fn report_key(reporter: &Id, target: &Id, submission: Option<&Id>) -> String {
    stable_key(&[
        reporter.as_str(),
        target.as_str(),
        submission.map_or("", |s| s.as_str()),
    ])
}

/// Support's decision on a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResolutionDecision {
    Confirmed,
    Rejected,
}

impl Vocabulary for ResolutionDecision {
    const ALL: &'static [Self] = &[ResolutionDecision::Confirmed, ResolutionDecision::Rejected];
    fn as_str(self) -> &'static str {
        match self {
            ResolutionDecision::Confirmed => "confirmed",
            ResolutionDecision::Rejected => "rejected",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    pub report_id: Id,
    pub decision: ResolutionDecision,
    pub decided_by: Id,
    /// For a confirmed report: the category and severity of the violation; the category
    /// defaults to the reported one (required when that was `other`).
    pub category: Option<Category>,
    pub severity: Option<Severity>,
}

impl Resolution {
    /// The command as report-intake reads it: what goes on the wire.
    pub fn to_json(&self) -> Value {
        let mut wire = serde_json::json!({
            "type": "resolution",
            "report_id": self.report_id,
            "decision": self.decision,
            "decided_by": self.decided_by,
        });
        if let Some(category) = self.category {
            wire["category"] = serde_json::json!(category);
        }
        if let Some(severity) = self.severity {
            wire["severity"] = serde_json::json!(severity);
        }
        wire
    }

    /// The resolution as an outbox message for report-intake's topic, keyed by the report
    /// and the decision: written twice, it is one pending message.
    pub fn to_outbox(&self) -> OutboxMessage {
        OutboxMessage {
            id: format!(
                "resolution-{}",
                stable_key(&[self.report_id.as_str(), self.decision.as_str()])
            ),
            destination: Destination::Resolutions,
            subject: None,
            body: self.to_json().to_string(),
            attributes: vec![(
                "event_type".into(),
                AttributeValue::String("resolution".into()),
            )],
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReportCommand {
    Report(Box<Report>),
    Resolution(Resolution),
}

/// The `type` of a report-intake command, as spelled on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportCommandType {
    Report,
    Resolution,
}

impl Vocabulary for ReportCommandType {
    const ALL: &'static [Self] = &[ReportCommandType::Report, ReportCommandType::Resolution];
    fn as_str(self) -> &'static str {
        match self {
            ReportCommandType::Report => "report",
            ReportCommandType::Resolution => "resolution",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportPayload {
    #[serde(rename = "type")]
    command_type: Option<String>,
    report_id: Option<String>,
    reporter_id: Option<String>,
    reporter_account_created_at: Option<u64>,
    target_user_id: Option<String>,
    target_submission_id: Option<String>,
    submission: Option<Value>,
    category: Option<String>,
    description: Option<String>,
    decision: Option<String>,
    decided_by: Option<String>,
    severity: Option<String>,
}

impl ReportCommand {
    pub fn from_json(value: Value) -> Result<Self, InvalidInput> {
        let mut p: ReportPayload = parse_payload(value)?;
        match required_term("type", p.command_type.take())? {
            ReportCommandType::Report => report(p).map(|r| ReportCommand::Report(Box::new(r))),
            ReportCommandType::Resolution => Ok(ReportCommand::Resolution(Resolution {
                report_id: required_id("report_id", p.report_id)?,
                decision: required_term("decision", p.decision)?,
                decided_by: required_id("decided_by", p.decided_by)?,
                category: optional_term("category", p.category)?,
                severity: optional_term("severity", p.severity)?,
            })),
        }
    }

    /// Reads one invocation of report-intake: one report invoked directly, or one resolution
    /// per SNS record. Reports never come through SNS: their reporter's id must come from the
    /// platform's authenticated context, which a topic message does not carry. A resolution
    /// decides reports in a support member's name, so it comes only through the resolution
    /// topic, which accepts publishes from the outbox publisher alone (the support console's
    /// path); the platform's direct invocation may only file reports.
    pub fn from_invocation(payload: Value) -> Result<Delivery<Self>, InvalidInput> {
        delivery::read(payload, Self::from_platform, |message| {
            match Self::from_json(message)? {
                resolution @ ReportCommand::Resolution(_) => Ok(resolution),
                ReportCommand::Report(_) => Err(InvalidInput::new(
                    "type",
                    "only resolutions arrive through SNS; reports come from the platform's direct invocation",
                )),
            }
        })
    }

    /// A command as the platform may send it by direct invocation: a report.
    fn from_platform(payload: Value) -> Result<Self, InvalidInput> {
        match Self::from_json(payload)? {
            report @ ReportCommand::Report(_) => Ok(report),
            ReportCommand::Resolution(_) => Err(InvalidInput::new(
                "type",
                "a resolution acts in a support member's name and arrives only through the \
                 resolution topic, from the support console",
            )),
        }
    }
}

fn report(p: ReportPayload) -> Result<Report, InvalidInput> {
    let reporter_id = required_id("reporter_id", p.reporter_id)?;
    let target_user_id = required_id("target_user_id", p.target_user_id)?;
    if reporter_id == target_user_id {
        return Err(InvalidInput::new(
            "target_user_id",
            "is the reporter; one cannot report oneself",
        ));
    }
    let category: ReportCategory = required_term("category", p.category)?;
    let description = bounded_text(
        "description",
        p.description.unwrap_or_default(),
        MAX_DESCRIPTION_CHARS,
        Blank::Allowed,
    )?;
    let target_submission_id = p
        .target_submission_id
        .map(|s| Id::parse("target_submission_id", &s))
        .transpose()?;
    let submission = p
        .submission
        .map(|s| Submission::from_json(s).map_err(|e| e.within("submission")))
        .transpose()?;
    if let Some(s) = &submission {
        if s.author_id() != &target_user_id {
            return Err(InvalidInput::new(
                "submission.author_id",
                "is not the reported user",
            ));
        }
        if target_submission_id
            .as_ref()
            .is_some_and(|t| t != s.submission_id())
        {
            return Err(InvalidInput::new(
                "submission.submission_id",
                "differs from target_submission_id",
            ));
        }
    }
    let target_submission_id =
        target_submission_id.or_else(|| submission.as_ref().map(|s| s.submission_id().clone()));
    let report_id = match p.report_id {
        Some(raw) => Id::parse("report_id", &raw)?,
        None => Id::parse(
            "report_id",
            &format!(
                "rep-{}",
                report_key(&reporter_id, &target_user_id, target_submission_id.as_ref())
            ),
        )?,
    };
    Ok(Report {
        report_id,
        reporter_id,
        reporter_account_created_at: required(
            "reporter_account_created_at",
            p.reporter_account_created_at,
        )?,
        target_user_id,
        target_submission_id,
        submission,
        category,
        description,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_report_without_an_id_gets_one_from_its_dedupe_key() {
        let command = ReportCommand::from_json(json!({
            "type": "report", "reporter_id": "a", "reporter_account_created_at": 1,
            "target_user_id": "b", "category": "other"
        }))
        .unwrap();
        let ReportCommand::Report(report) = command else {
            panic!("a report")
        };
        assert_eq!(
            report.report_id.as_str(),
            format!("rep-{}", report.dedupe_key())
        );
    }

    #[test]
    fn an_unknown_category_or_decision_is_refused_with_the_allowed_values_only() {
        let err = ReportCommand::from_json(json!({
            "type": "report", "reporter_id": "a", "reporter_account_created_at": 1,
            "target_user_id": "b", "category": "rude-and-mean"
        }))
        .unwrap_err();
        assert_eq!(err.field, "category");
        assert!(err.reason.ends_with("harassment, other"), "{}", err.reason);
        assert!(!err.reason.contains("rude"));

        let err = ReportCommand::from_json(json!({
            "type": "resolution", "report_id": "r", "decided_by": "s", "decision": "maybe-later"
        }))
        .unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.reason.as_str()),
            ("decision", "must be one of confirmed, rejected")
        );
    }
}
