//! A case: one thing support must look at — a submission screening held or hid, or a user
//! whose reports crossed their threshold — from the moment it opens to the decision that
//! closes it.
//!
//! A case is keyed by what it is about, so the same thing never opens twice: a screening
//! case by submission id and content hash (a retried screening finds its case), a report
//! case by the target and the crossing. It opens in the same write as what calls for it —
//! the screening's alert and strikes, the report that crossed — where the screening
//! recorder and the report store keep cases (their adapters call [`Case::for_verdict`] and
//! [`Case::for_crossing`]). The posting's text and the verdict (whose evidence quotes the
//! text) are the case's [`CaseContent`]: stores seal it at rest and nothing logs it. A closed case keeps what a training row needs — the text, the verdict's categories
//! and the final ones — until the store's retention ends.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tracing::info;

use crate::clock::Timestamp;
use crate::digest::stable_key;
use crate::input::Vocabulary;
use crate::reports::Crossing;
use crate::screening::Submission;
use crate::taxonomy::{Category, ReportCategory, Severity, SubmissionKind};
use crate::verdict::{Decision, Verdict};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseOrigin {
    /// A `review` or `hide` verdict.
    Screening,
    /// Users' reports against an account crossed their threshold.
    Reports,
}

impl CaseOrigin {
    pub const fn as_str(self) -> &'static str {
        match self {
            CaseOrigin::Screening => "screening",
            CaseOrigin::Reports => "reports",
        }
    }
}

impl Vocabulary for CaseOrigin {
    const ALL: &'static [Self] = &[CaseOrigin::Screening, CaseOrigin::Reports];
    fn as_str(self) -> &'static str {
        CaseOrigin::as_str(self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Claimed,
    Closed,
}

impl CaseStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Claimed => "claimed",
            CaseStatus::Closed => "closed",
        }
    }
}

impl Vocabulary for CaseStatus {
    const ALL: &'static [Self] = &[CaseStatus::Open, CaseStatus::Claimed, CaseStatus::Closed];
    fn as_str(self) -> &'static str {
        CaseStatus::as_str(self)
    }
}

/// How soon a person must look; the queue sorts by this, then by age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// An urgent category (the policy's `urgent`), or a critical one.
    Urgent,
    /// A hide, or reports the policy hides pending review.
    High,
    Normal,
}

impl Urgency {
    pub const fn as_str(self) -> &'static str {
        match self {
            Urgency::Urgent => "urgent",
            Urgency::High => "high",
            Urgency::Normal => "normal",
        }
    }

    /// 0 is most urgent; the store sorts on it.
    pub const fn rank(self) -> u8 {
        match self {
            Urgency::Urgent => 0,
            Urgency::High => 1,
            Urgency::Normal => 2,
        }
    }
}

/// What a decision did to the submission, as the platform hears it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseOutcome {
    /// A false positive: publish it.
    Released,
    /// Not a strike, but it stays hidden until the poster fixes what the messages say.
    KeptHidden,
    /// A confirmed violation: it stays down and the author gets a strike.
    Removed,
}

impl CaseOutcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            CaseOutcome::Released => "released",
            CaseOutcome::KeptHidden => "kept_hidden",
            CaseOutcome::Removed => "removed",
        }
    }
}

/// The three decisions a member can take on a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseAction {
    /// A violation in the chosen categories → a strike each.
    Confirm,
    /// Nothing wrong → released (an automatic strike it caused is revoked).
    FalsePositive,
    /// Keep it hidden and ask the poster to fix it; no strike.
    KeepHidden,
}

impl CaseAction {
    pub const fn as_str(self) -> &'static str {
        match self {
            CaseAction::Confirm => "confirm",
            CaseAction::FalsePositive => "false_positive",
            CaseAction::KeepHidden => "keep_hidden",
        }
    }

    pub const fn outcome(self) -> CaseOutcome {
        match self {
            CaseAction::Confirm => CaseOutcome::Removed,
            CaseAction::FalsePositive => CaseOutcome::Released,
            CaseAction::KeepHidden => CaseOutcome::KeptHidden,
        }
    }
}

impl Vocabulary for CaseAction {
    const ALL: &'static [Self] = &[
        CaseAction::Confirm,
        CaseAction::FalsePositive,
        CaseAction::KeepHidden,
    ];
    fn as_str(self) -> &'static str {
        CaseAction::as_str(self)
    }
}

/// What the poster wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseText {
    pub title: Option<String>,
    pub body: String,
}

/// The part of a case that quotes the poster: sealed at rest, never logged.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CaseContent {
    pub text: Option<CaseText>,
    pub verdict: Option<Verdict>,
}

/// The reports that opened a report case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseReports {
    pub crossed: Vec<ReportCategory>,
    /// The epoch each crossed category crossed in: the wave of reports a decision resolves.
    #[serde(default)]
    pub epochs: BTreeMap<ReportCategory, u32>,
    pub hide_pending_review: bool,
    pub brigading: bool,
}

/// The decision that closed a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseResolution {
    pub action: CaseAction,
    pub outcome: CaseOutcome,
    /// The categories support found; empty for a false positive.
    pub final_categories: Vec<Category>,
    pub decided_by: String,
    pub decided_at: Timestamp,
    /// The violations the decision confirmed (or revoked), by id.
    pub violation_ids: Vec<String>,
}

/// One line of a case's own audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseEvent {
    pub at: Timestamp,
    pub actor: String,
    pub what: String,
}

/// Everything about a case except its content: what queues, filters and trends read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseSummary {
    pub case_id: String,
    pub origin: CaseOrigin,
    pub submission_id: Option<String>,
    pub author_id: String,
    pub kind: Option<SubmissionKind>,
    /// The verdict's decision (screening cases, and report cases that carried a submission).
    pub decision: Option<Decision>,
    /// The verdict's categories, or the crossed report categories.
    pub categories: Vec<Category>,
    pub severity: Option<Severity>,
    pub content_hash: Option<String>,
    pub policy_version: String,
    pub model_version: Option<String>,
    pub urgency: Urgency,
    pub status: CaseStatus,
    pub claimed_by: Option<String>,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    pub resolution: Option<CaseResolution>,
    pub reports: Option<CaseReports>,
}

/// A case: its summary, its audit trail and its (sealed at rest) content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    #[serde(flatten)]
    pub summary: CaseSummary,
    pub history: Vec<CaseEvent>,
    pub content: CaseContent,
}

/// Who opens cases on their own: the screening and report paths.
pub const SYSTEM_ACTOR: &str = "anshin";

impl Case {
    pub fn id(&self) -> &str {
        &self.summary.case_id
    }

    /// The case a verdict opens: every `review` and `hide`, none for `allow`. Keyed by the
    /// submission and its content, so a retried screening finds the case it opened.
    pub fn for_verdict(submission: &Submission, verdict: &Verdict, now: Timestamp) -> Option<Case> {
        if verdict.decision == Decision::Allow {
            return None;
        }
        let urgency = if verdict
            .categories
            .iter()
            .any(|c| c.urgent || c.severity == Severity::Critical)
        {
            Urgency::Urgent
        } else if verdict.decision == Decision::Hide {
            Urgency::High
        } else {
            Urgency::Normal
        };
        Some(Case {
            summary: CaseSummary {
                case_id: screening_case_id(
                    submission.submission_id().as_str(),
                    &verdict.content_hash,
                ),
                origin: CaseOrigin::Screening,
                submission_id: Some(submission.submission_id().to_string()),
                author_id: submission.author_id().to_string(),
                kind: Some(submission.kind()),
                decision: Some(verdict.decision),
                categories: verdict.categories.iter().map(|c| c.category).collect(),
                severity: verdict.severity(),
                content_hash: Some(verdict.content_hash.clone()),
                policy_version: verdict.policy_version.clone(),
                model_version: verdict.model_version.clone(),
                urgency,
                status: CaseStatus::Open,
                claimed_by: None,
                opened_at: now,
                updated_at: now,
                closed_at: None,
                resolution: None,
                reports: None,
            },
            history: vec![CaseEvent {
                at: now,
                actor: SYSTEM_ACTOR.to_owned(),
                what: format!("opened: screening decided {}", verdict.decision.as_str()),
            }],
            content: CaseContent {
                text: Some(CaseText {
                    title: submission.title().map(str::to_owned),
                    body: submission.body().to_owned(),
                }),
                verdict: Some(verdict.clone()),
            },
        })
    }

    /// The case a report opens when it makes categories cross their threshold. Keyed by the
    /// target, the crossed categories and the report that crossed: the report store opens it
    /// in the same write as that report, which is recorded once.
    pub fn for_crossing(crossing: &Crossing) -> Case {
        let report = &crossing.report;
        let crossed: Vec<ReportCategory> = crossing.crossed.iter().map(|(c, _)| *c).collect();
        let crossed_ids: Vec<&str> = crossed.iter().map(|c| c.id()).collect();
        let categories: Vec<Category> = crossed
            .iter()
            .filter_map(|c| match c {
                ReportCategory::Category(c) => Some(*c),
                ReportCategory::Other => None,
            })
            .collect();
        let verdict = crossing.verdict.as_ref();
        let at = crossing.at;
        Case {
            summary: CaseSummary {
                case_id: format!(
                    "rep-{}",
                    stable_key(&[
                        report.target_user_id.as_str(),
                        &crossed_ids.join(","),
                        report.report_id.as_str(),
                    ])
                ),
                origin: CaseOrigin::Reports,
                submission_id: report.target_submission_id.as_ref().map(|s| s.to_string()),
                author_id: report.target_user_id.to_string(),
                kind: report.submission.as_ref().map(|s| s.kind()),
                decision: verdict.map(|v| v.decision),
                severity: verdict.and_then(Verdict::severity),
                categories,
                content_hash: verdict.map(|v| v.content_hash.clone()),
                policy_version: crossing.policy_version.clone(),
                model_version: verdict.and_then(|v| v.model_version.clone()),
                urgency: if crossing.hide_pending_review {
                    Urgency::High
                } else {
                    Urgency::Normal
                },
                status: CaseStatus::Open,
                claimed_by: None,
                opened_at: at,
                updated_at: at,
                closed_at: None,
                resolution: None,
                reports: Some(CaseReports {
                    crossed,
                    epochs: crossing.crossed.iter().copied().collect(),
                    hide_pending_review: crossing.hide_pending_review,
                    brigading: crossing.brigading,
                }),
            },
            history: vec![CaseEvent {
                at,
                actor: SYSTEM_ACTOR.to_owned(),
                what: format!("opened: reports crossed {}", crossed_ids.join(", ")),
            }],
            content: CaseContent {
                text: report.submission.as_ref().map(|s| CaseText {
                    title: s.title().map(str::to_owned),
                    body: s.body().to_owned(),
                }),
                verdict: verdict.cloned(),
            },
        }
    }

    /// The line `anshin feedback --decisions` turns into a corpus row: the text, the
    /// verdict's categories and the final ones. None while open, or without text.
    pub fn training_row(&self) -> Option<Value> {
        let resolution = self.summary.resolution.as_ref()?;
        let text = self.content.text.as_ref()?;
        let decision = match resolution.outcome {
            CaseOutcome::Released => "false_positive",
            CaseOutcome::KeptHidden | CaseOutcome::Removed => "confirmed_violation",
        };
        let mut submission = json!({
            "submission_id": self.summary.submission_id,
            "kind": self.summary.kind,
            "author_id": self.summary.author_id,
            "body": text.body,
        });
        if let Some(title) = &text.title {
            submission["title"] = json!(title);
        }
        Some(json!({
            "submission": submission,
            "decision": decision,
            "categories": if decision == "false_positive" { Vec::new() } else { resolution.final_categories.clone() },
        }))
    }
}

/// Logs what opened a case — its id, origin and urgency, never its content — or that it
/// was open already (a retried screening). For the stores whose writes open cases.
pub fn log_opening(case: &Case, opened: bool) {
    info!(case_id = %case.id(), origin = case.summary.origin.as_str(),
          urgency = case.summary.urgency.as_str(), opened, "support case opened");
}

/// The id of the case a screened submission opens.
pub fn screening_case_id(submission_id: &str, content_hash: &str) -> String {
    format!("sub-{}", stable_key(&[submission_id, content_hash]))
}
