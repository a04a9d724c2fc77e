//! What screening answers: a decision the platform can act on, with reasons it can show.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::taxonomy::{Category, Severity};

/// What the platform should do with the submission.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// 公開: publish as is.
    Allow,
    /// 保留・目視確認: hold until a human has looked.
    Review,
    /// 非表示: hide at once.
    Hide,
}

impl Decision {
    pub const fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Review => "review",
            Decision::Hide => "hide",
        }
    }
}

/// Which detector produced a category's score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScoreSource {
    Rule,
    Model,
}

/// Which field of the submission a piece of evidence is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Title,
    Body,
}

/// A span of what the poster wrote that made a rule hit.
///
/// `start` and `end` count Unicode code points into the field (not bytes, not UTF-16
/// units), so `text == field.chars().skip(start).take(end - start)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    pub field: Field,
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// One category at or above its review threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CategoryFinding {
    pub category: Category,
    /// 0..1, rounded to 4 decimals so that verdicts compare and hash stably.
    pub score: f64,
    pub source: ScoreSource,
    pub severity: Severity,
    /// Support is alerted for this category already on review.
    pub urgent: bool,
    /// The policy rules that hit, for support staff and for tuning.
    pub rules: Vec<String>,
    pub evidence: Vec<Evidence>,
    pub message_ja: String,
    pub message_en: String,
}

/// The answer for one submission. Deterministic: the same submission, policy and model
/// always give the same verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Verdict {
    pub submission_id: String,
    pub decision: Decision,
    /// Highest score first.
    pub categories: Vec<CategoryFinding>,
    pub policy_version: String,
    /// `None` while screening runs on rules alone.
    pub model_version: Option<String>,
    /// `sha256:` of the normalised title and body, so that reposts with cosmetic changes
    /// hash alike.
    pub content_hash: String,
}

impl Verdict {
    /// Whether support must hear about this at once: every hide, and a review in a
    /// category the policy marks urgent.
    pub fn needs_alert(&self) -> bool {
        match self.decision {
            Decision::Hide => true,
            Decision::Review => self.categories.iter().any(|c| c.urgent),
            Decision::Allow => false,
        }
    }

    /// The highest severity among the flagged categories.
    pub fn severity(&self) -> Option<Severity> {
        self.categories.iter().map(|c| c.severity).max()
    }
}
