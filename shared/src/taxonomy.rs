//! The 13 violation categories of `spec/taxonomy.md`, by their stable ids.
//!
//! This enum is the only place the ids are spelled out; the policy file, the
//! verdict JSON and (later) the model's output columns all refer to it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A violation category. Serialises as its stable snake_case id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
        Category::ALL
            .into_iter()
            .find(|c| c.id() == id)
            .ok_or_else(|| UnknownCategory(id.to_owned()))
    }
}

/// How bad a violation of a category is; drives alert routing and (later) strike points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
    fn an_unknown_id_is_refused() {
        assert_eq!(
            "crypto".parse::<Category>(),
            Err(UnknownCategory("crypto".into()))
        );
    }
}
