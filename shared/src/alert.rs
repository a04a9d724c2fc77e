//! The alert port: how support (and the platform) hear at once about a hidden or urgently
//! held submission, or an account that moved on the ladder.
//!
//! An alert carries ids, categories, decisions and at most a short redacted excerpt —
//! never the posting's full text — because alerts travel through SNS, e-mail and chat
//! tools where personal data must not spread. Alerts leave through the outbox
//! ([`crate::outbox`]), so delivery is at least once: every alert has a dedupe key, and
//! alerts about one account or one report target carry a sequence number that grows with
//! every change, so subscribers drop repeats and stale ones.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::digest::stable_key;
use crate::outbox::{AttributeValue, Destination, OutboxMessage};
use crate::policy::ladder::{AccountLevel, LevelChange};
use crate::taxonomy::{Category, ReportCategory, Severity};
use crate::verdict::{Decision, Verdict};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertEventType {
    SubmissionHidden,
    SubmissionHeldForReview,
    AccountLevelChanged,
    ReportThresholdCrossed,
    ReportBrigadingSuspected,
}

impl AlertEventType {
    pub const fn as_str(self) -> &'static str {
        match self {
            AlertEventType::SubmissionHidden => "submission_hidden",
            AlertEventType::SubmissionHeldForReview => "submission_held_for_review",
            AlertEventType::AccountLevelChanged => "account_level_changed",
            AlertEventType::ReportThresholdCrossed => "report_threshold_crossed",
            AlertEventType::ReportBrigadingSuspected => "report_brigading_suspected",
        }
    }
}

/// Anything anshin tells support or the platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Alert {
    Submission(SubmissionAlert),
    AccountLevel(AccountLevelAlert),
    Reports(ReportThresholdAlert),
}

impl Alert {
    pub fn event_type(&self) -> AlertEventType {
        match self {
            Alert::Submission(a) => a.event_type,
            Alert::AccountLevel(a) => a.event_type,
            Alert::Reports(a) => a.event_type,
        }
    }

    pub fn dedupe_key(&self) -> &str {
        match self {
            Alert::Submission(a) => &a.dedupe_key,
            Alert::AccountLevel(a) => &a.dedupe_key,
            Alert::Reports(a) => &a.dedupe_key,
        }
    }

    /// A short subject line for e-mail subscriptions; ids only.
    pub fn subject(&self) -> String {
        match self {
            Alert::Submission(a) => format!(
                "[anshin] {} {} {}",
                a.decision.as_str(),
                a.kind,
                a.submission_id
            ),
            Alert::AccountLevel(a) => format!(
                "[anshin] account {} {} -> {}",
                a.user_id,
                a.previous_level.as_str(),
                a.level.as_str()
            ),
            Alert::Reports(a) => format!("[anshin] reports against {}", a.target_user_id),
        }
    }

    /// The alert as an outbox message for the alert topic.
    pub fn to_outbox(&self) -> Result<OutboxMessage, serde_json::Error> {
        Ok(OutboxMessage {
            id: format!("alert-{}", self.dedupe_key()),
            destination: Destination::Alerts,
            // SNS caps subjects at 100 characters; ids can be 128, so trim.
            subject: Some(self.subject().chars().take(100).collect()),
            body: serde_json::to_string(self)?,
            attributes: self
                .attributes()
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
        })
    }

    /// The attributes subscriptions filter on.
    pub fn attributes(&self) -> Vec<(&'static str, AttributeValue)> {
        let s = |v: &str| AttributeValue::String(v.to_owned());
        let mut attributes = vec![
            ("event_type", s(self.event_type().as_str())),
            ("dedupe_key", s(self.dedupe_key())),
        ];
        match self {
            Alert::Submission(a) => attributes.extend([
                ("decision", s(a.decision.as_str())),
                (
                    "categories",
                    AttributeValue::StringArray(
                        a.categories.iter().map(|c| c.id().to_owned()).collect(),
                    ),
                ),
                ("severity", s(a.severity.as_str())),
                ("kind", s(&a.kind)),
            ]),
            Alert::AccountLevel(a) => attributes.extend([
                ("level", s(a.level.as_str())),
                ("previous_level", s(a.previous_level.as_str())),
                ("user_id", s(&a.user_id)),
                ("category", s(a.category.map_or("none", |c| c.id()))),
            ]),
            Alert::Reports(a) => attributes.extend([
                ("user_id", s(&a.target_user_id)),
                (
                    "categories",
                    AttributeValue::StringArray(
                        a.crossed.iter().map(|c| c.id().to_owned()).collect(),
                    ),
                ),
                (
                    "brigading",
                    s(if a.brigading_suspected {
                        "true"
                    } else {
                        "false"
                    }),
                ),
                (
                    "hide_pending_review",
                    s(if a.hide_pending_review {
                        "true"
                    } else {
                        "false"
                    }),
                ),
            ]),
        }
        attributes
    }
}

/// Tells support, and the platform through a filtered subscription, that an account
/// moved on the ladder: show a warning, disable it, or ask a second member to confirm a
/// withdrawal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AccountLevelAlert {
    pub event_type: AlertEventType,
    /// The same change of the same user for the same reason → the same key.
    pub dedupe_key: String,
    pub user_id: String,
    pub previous_level: AccountLevel,
    pub level: AccountLevel,
    /// The violation (or action) that caused the change.
    pub cause: String,
    pub category: Option<Category>,
    pub points: u32,
    pub policy_version: String,
    /// The account's ledger version after the change: grows with every change, so a
    /// subscriber keeps the highest it has seen and drops older or repeated alerts.
    pub sequence: u64,
}

impl AccountLevelAlert {
    pub fn new(
        user_id: &str,
        change: LevelChange,
        cause: &str,
        category: Option<Category>,
        points: u32,
        policy_version: &str,
        sequence: u64,
    ) -> Self {
        AccountLevelAlert {
            event_type: AlertEventType::AccountLevelChanged,
            dedupe_key: stable_key(&[user_id, cause, change.from.as_str(), change.to.as_str()]),
            user_id: user_id.to_owned(),
            previous_level: change.from,
            level: change.to,
            cause: cause.to_owned(),
            category,
            points,
            policy_version: policy_version.to_owned(),
            sequence,
        }
    }
}

/// Reports against one user reached support's threshold, or look like a brigade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReportThresholdAlert {
    pub event_type: AlertEventType,
    pub dedupe_key: String,
    pub target_user_id: String,
    pub target_submission_id: Option<String>,
    /// Categories that crossed with the report that raised this alert.
    pub crossed: Vec<ReportCategory>,
    /// Every reported category, highest weighted score first: (category, score, reporters).
    pub top_categories: Vec<(ReportCategory, f64, usize)>,
    pub brigading_suspected: bool,
    /// The policy asks the platform to hide the submission until support has looked.
    pub hide_pending_review: bool,
    /// The reported submission's verdict, when the report carried it.
    pub verdict_decision: Option<Decision>,
    pub verdict_categories: Vec<Category>,
    /// The target's tally version after the report: grows with every report, so a
    /// subscriber drops older or repeated alerts about the same target.
    pub sequence: u64,
}

impl ReportThresholdAlert {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        target_user_id: &str,
        target_submission_id: Option<&str>,
        scores: &std::collections::BTreeMap<ReportCategory, (f64, usize)>,
        crossed: &[ReportCategory],
        brigading_suspected: bool,
        hide_pending_review: bool,
        verdict: Option<&Verdict>,
        trigger: &str,
        sequence: u64,
    ) -> Self {
        let mut top: Vec<(ReportCategory, f64, usize)> = scores
            .iter()
            .map(|(c, (score, reporters))| (*c, (score * 1000.0).round() / 1000.0, *reporters))
            .collect();
        top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let event_type = if crossed.is_empty() {
            AlertEventType::ReportBrigadingSuspected
        } else {
            AlertEventType::ReportThresholdCrossed
        };
        let crossed_ids: Vec<&str> = crossed.iter().map(|c| c.id()).collect();
        ReportThresholdAlert {
            event_type,
            dedupe_key: stable_key(&[
                target_user_id,
                event_type.as_str(),
                &crossed_ids.join(","),
                trigger,
            ]),
            target_user_id: target_user_id.to_owned(),
            target_submission_id: target_submission_id.map(str::to_owned),
            crossed: crossed.to_vec(),
            top_categories: top,
            brigading_suspected,
            hide_pending_review,
            verdict_decision: verdict.map(|v| v.decision),
            verdict_categories: verdict
                .map(|v| v.categories.iter().map(|c| c.category).collect())
                .unwrap_or_default(),
            sequence,
        }
    }
}

/// A message to support about one screened submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SubmissionAlert {
    pub event_type: AlertEventType,
    /// Same submission, same content, same decision, same policy → same key, so that a
    /// retried invocation's second alert can be recognised downstream.
    pub dedupe_key: String,
    pub submission_id: String,
    pub author_id: String,
    pub kind: String,
    pub decision: Decision,
    pub categories: Vec<Category>,
    pub severity: Severity,
    pub policy_version: String,
    pub model_version: Option<String>,
    pub content_hash: String,
    /// A few words around the first evidence, with the evidence itself and every digit
    /// masked: enough to triage, not enough to leak a phone number or an ID.
    pub excerpt: String,
}
