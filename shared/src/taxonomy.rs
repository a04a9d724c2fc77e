//! The words everything else is written in: the 13 violation categories (by their stable
//! ids), severities, the kinds of submission, and what a user may report.
//!
//! The taxonomy itself is the product owner's (`../shared/spec/taxonomy.md`, beside the
//! repository); these enums are the only place in the code where its ids are spelled out.
//! The policy file, the verdict JSON, the model's output columns and every command refer
//! to them.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::input::Vocabulary;

/// A violation category. Serialises as its stable snake_case id.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    OffPlatformContact,
    PersonalInfo,
    IllegalWork,
    AcademicCheating,
    FakeReviews,
    MlmInfoProducts,
    Adult,
    UpfrontPayment,
    UnpaidWork,
    AccountTrade,
    Scam,
    Spam,
    Harassment,
}

impl Category {
    /// Every category, in taxonomy order (the order of the model's output columns too).
    pub const ALL: [Category; 13] = [
        Category::OffPlatformContact,
        Category::PersonalInfo,
        Category::IllegalWork,
        Category::AcademicCheating,
        Category::FakeReviews,
        Category::MlmInfoProducts,
        Category::Adult,
        Category::UpfrontPayment,
        Category::UnpaidWork,
        Category::AccountTrade,
        Category::Scam,
        Category::Spam,
        Category::Harassment,
    ];

    pub const fn id(self) -> &'static str {
        match self {
            Category::OffPlatformContact => "off_platform_contact",
            Category::PersonalInfo => "personal_info",
            Category::IllegalWork => "illegal_work",
            Category::AcademicCheating => "academic_cheating",
            Category::FakeReviews => "fake_reviews",
            Category::MlmInfoProducts => "mlm_info_products",
            Category::Adult => "adult",
            Category::UpfrontPayment => "upfront_payment",
            Category::UnpaidWork => "unpaid_work",
            Category::AccountTrade => "account_trade",
            Category::Scam => "scam",
            Category::Spam => "spam",
            Category::Harassment => "harassment",
        }
    }

    /// Position in [`Category::ALL`]; used to index per-category arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl Vocabulary for Category {
    const ALL: &'static [Self] = &Category::ALL;
    fn as_str(self) -> &'static str {
        self.id()
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The id is not one of the taxonomy's 13.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown category id {0:?}")]
pub struct UnknownCategory(pub String);

impl FromStr for Category {
    type Err = UnknownCategory;

    fn from_str(id: &str) -> Result<Self, Self::Err> {
        Category::from_wire(id).ok_or_else(|| UnknownCategory(id.to_owned()))
    }
}

/// How bad a violation of a category is; drives alert routing and (later) strike points.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl Vocabulary for Severity {
    const ALL: &'static [Self] = &[
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];
    fn as_str(self) -> &'static str {
        Severity::as_str(self)
    }
}

/// What kind of posting this is; rules can be limited to some kinds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionKind {
    JobPosting,
    Proposal,
    Message,
    Profile,
}

impl SubmissionKind {
    pub const ALL: [SubmissionKind; 4] = [
        SubmissionKind::JobPosting,
        SubmissionKind::Proposal,
        SubmissionKind::Message,
        SubmissionKind::Profile,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            SubmissionKind::JobPosting => "job_posting",
            SubmissionKind::Proposal => "proposal",
            SubmissionKind::Message => "message",
            SubmissionKind::Profile => "profile",
        }
    }
}

impl Vocabulary for SubmissionKind {
    const ALL: &'static [Self] = &SubmissionKind::ALL;
    fn as_str(self) -> &'static str {
        SubmissionKind::as_str(self)
    }
}

/// What a reporting user says is wrong: a taxonomy category, or `other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReportCategory {
    Category(Category),
    Other,
}

impl ReportCategory {
    /// Every taxonomy category, then `other`.
    const ALL: [ReportCategory; 14] = {
        let mut all = [ReportCategory::Other; 14];
        let mut i = 0;
        while i < Category::ALL.len() {
            all[i] = ReportCategory::Category(Category::ALL[i]);
            i += 1;
        }
        all
    };

    pub fn id(self) -> &'static str {
        match self {
            ReportCategory::Category(c) => c.id(),
            ReportCategory::Other => "other",
        }
    }
}

impl Vocabulary for ReportCategory {
    const ALL: &'static [Self] = &ReportCategory::ALL;
    fn as_str(self) -> &'static str {
        self.id()
    }
}

impl Serialize for ReportCategory {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl JsonSchema for ReportCategory {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ReportCategory".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        crate::input::vocabulary_schema::<ReportCategory>("A taxonomy category id, or `other`.")
    }
}

impl<'de> Deserialize<'de> for ReportCategory {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        ReportCategory::from_wire(&raw)
            .ok_or_else(|| serde::de::Error::custom("not a taxonomy category id or \"other\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_parses_back_to_its_category_and_indexes_match_the_order() {
        for (i, c) in Category::ALL.into_iter().enumerate() {
            assert_eq!(c.id().parse::<Category>(), Ok(c));
            assert_eq!(c.index(), i);
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.id()));
        }
    }

    #[test]
    fn report_categories_read_and_write_as_taxonomy_ids_or_other() {
        let c: ReportCategory = serde_json::from_value(serde_json::json!("other")).unwrap();
        assert_eq!(c, ReportCategory::Other);
        let c: ReportCategory = serde_json::from_value(serde_json::json!("scam")).unwrap();
        assert_eq!(c, ReportCategory::Category(Category::Scam));
        assert_eq!(serde_json::to_value(c).unwrap(), serde_json::json!("scam"));
        assert!(serde_json::from_value::<ReportCategory>(serde_json::json!("rude")).is_err());
        assert_eq!(<ReportCategory as Vocabulary>::ALL.len(), 14);
    }

    #[test]
    fn an_unknown_id_is_refused() {
        assert_eq!(
            "crypto".parse::<Category>(),
            Err(UnknownCategory("crypto".into()))
        );
    }
}
