//! Every mistake of an evaluation run, one row each, for policy authors: which item, which
//! category, false positive or false negative, and what the screener had to go on — the
//! rules that hit with the text they quoted, each source's score, the decision. The next
//! rule, exception or label is then one look away (`anshin eval --errors FILE`).

use serde::Serialize;

use super::eval::LabelledItem;
use crate::screening::Screening;
use crate::taxonomy::Category;
use crate::verdict::{Decision, Evidence};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Flagged in a category the item does not carry.
    FalsePositive,
    /// A category the item carries that the screener did not flag.
    FalseNegative,
}

/// One wrong call of the combined screener (the verdict) on one category of one item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalError {
    pub category: Category,
    pub error: ErrorKind,
    pub id: String,
    pub kind: &'static str,
    pub labels: Vec<Category>,
    pub hard_negative: bool,
    pub decision: Decision,
    /// Every category the verdict flagged.
    pub flagged: Vec<Category>,
    /// This category's scores on the policy's scale, and the threshold they were held to.
    pub rule_score: f64,
    pub model_score: Option<f64>,
    pub review_threshold: f64,
    /// The rules of this category that hit, and the text they quoted (only for a flagged
    /// category: the verdict keeps no evidence below the review threshold).
    pub rules: Vec<String>,
    pub evidence: Vec<Evidence>,
    /// The discussion signals found: the text was read as talking about violations.
    pub discussion: Vec<String>,
    pub title: Option<String>,
    pub body: String,
}

/// Every false positive and false negative of the verdicts, by category (taxonomy order),
/// false positives first, then by item id.
pub fn collect_errors(
    items: &[LabelledItem],
    screenings: &[Screening],
    review_threshold: impl Fn(Category) -> f64,
) -> Vec<EvalError> {
    let mut errors = Vec::new();
    for (item, screening) in items.iter().zip(screenings) {
        let verdict = &screening.verdict;
        let flagged: Vec<Category> = verdict.categories.iter().map(|f| f.category).collect();
        for category in Category::ALL {
            let error = match (item.labels.contains(&category), flagged.contains(&category)) {
                (false, true) => ErrorKind::FalsePositive,
                (true, false) => ErrorKind::FalseNegative,
                _ => continue,
            };
            let finding = verdict.categories.iter().find(|f| f.category == category);
            let scores = screening.scores[category.index()];
            let submission = &item.submission;
            errors.push(EvalError {
                category,
                error,
                id: submission.submission_id().to_string(),
                kind: submission.kind().as_str(),
                labels: item.labels.iter().copied().collect(),
                hard_negative: item.hard_negative,
                decision: verdict.decision,
                flagged: flagged.clone(),
                rule_score: scores.rule,
                model_score: scores.model,
                review_threshold: review_threshold(category),
                rules: finding.map(|f| f.rules.clone()).unwrap_or_default(),
                evidence: finding.map(|f| f.evidence.clone()).unwrap_or_default(),
                discussion: screening.discussion.clone(),
                title: submission.title().map(str::to_owned),
                body: submission.body().to_owned(),
            });
        }
    }
    errors.sort_by(|a, b| (a.category, a.error, &a.id).cmp(&(b.category, b.error, &b.id)));
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Id;
    use crate::policy::Policy;
    use crate::screening::classifier::ScriptedClassifier;
    use crate::screening::Screener;
    use serde_json::json;
    use std::sync::Arc;

    fn labelled(id: &str, body: &str, labels: &[&str]) -> LabelledItem {
        let author = Id::parse("author_id", "eval").unwrap();
        LabelledItem::from_json(
            json!({"id": id, "kind": "message", "body": body, "labels": labels}),
            &author,
        )
        .unwrap()
    }

    #[test]
    fn each_wrong_category_is_one_row_with_the_rules_evidence_and_scores() {
        let policy = Arc::new(Policy::embedded().unwrap());
        // The model says spam for everything, at its threshold.
        let screener = Screener::new(Arc::clone(&policy))
            .with_classifier(Arc::new(ScriptedClassifier::fixed(0.5, Category::Spam)));
        let items = vec![
            // An e-mail address labelled clean: an off_platform_contact false positive with
            // the address as evidence, and the model's spam a second false positive.
            labelled("fp", "連絡は taro@example.jp までお願いします", &[]),
            // Labelled harassment, and nothing hits it: a false negative.
            labelled(
                "fn",
                "納品しました。ご確認ください。",
                &["harassment", "spam"],
            ),
        ];
        let screenings: Vec<_> = items
            .iter()
            .map(|i| screener.screen_explained(&i.submission))
            .collect();
        let errors = collect_errors(&items, &screenings, |c| policy.category(c).review_threshold);
        let summary: Vec<(Category, ErrorKind, &str)> = errors
            .iter()
            .map(|e| (e.category, e.error, e.id.as_str()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (Category::OffPlatformContact, ErrorKind::FalsePositive, "fp"),
                (Category::Spam, ErrorKind::FalsePositive, "fp"),
                (Category::Harassment, ErrorKind::FalseNegative, "fn"),
            ]
        );
        let contact = &errors[0];
        assert!(contact.rules.iter().any(|r| r.contains("email")));
        assert_eq!(contact.evidence[0].text, "taro@example.jp");
        assert!(contact.rule_score >= contact.review_threshold);
        let missed = &errors[2];
        assert!(missed.rules.is_empty() && missed.evidence.is_empty());
        assert_eq!(missed.model_score, Some(0.0));
        assert_eq!(missed.labels, vec![Category::Spam, Category::Harassment]);
        assert_eq!(missed.decision, Decision::Review, "spam was flagged");
    }
}
