//! Measuring the screener on labelled data: per-category precision, recall and F1,
//! macro-F1, any-violation precision and recall, and false-positive rates on clean items
//! and on hard negatives (clean items written to look suspicious).
//!
//! The input is the JSON Lines schema of `policy-eval/marketplace-ja.jsonl`
//! (`id`, `kind`, `title`, `body`, `labels`, `hard_negative`).

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use crate::input::{term_set, Id, InvalidInput};
use crate::screening::{Screener, Screening, SourceScores, Submission};
use crate::taxonomy::Category;

/// A submission with the categories it truly violates.
#[derive(Debug, Clone)]
pub struct LabelledItem {
    pub submission: Submission,
    pub labels: BTreeSet<Category>,
    pub hard_negative: bool,
}

impl LabelledItem {
    /// Parses one line of a labelled set; a missing author takes `default_author`.
    pub fn from_json(value: Value, default_author: &Id) -> Result<Self, InvalidInput> {
        let labels = match value.get("labels") {
            Some(Value::Array(labels)) => term_set("labels", labels)?,
            Some(_) => return Err(InvalidInput::new("labels", "must be an array")),
            None => return Err(InvalidInput::new("labels", "is required")),
        };
        let hard_negative = match value.get("hard_negative") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(InvalidInput::new("hard_negative", "must be true or false")),
        };
        let submission = Submission::from_json_with_default_author(value, Some(default_author))?;
        Ok(LabelledItem {
            submission,
            labels,
            hard_negative,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryMetrics {
    pub category: Category,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Items that truly carry this label.
    pub support: usize,
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BinaryMetrics {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// How many of a group of clean items were flagged (decision other than allow).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FalsePositiveRate {
    pub rate: f64,
    pub flagged: usize,
    pub total: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    pub items: usize,
    pub per_category: Vec<CategoryMetrics>,
    pub macro_f1: f64,
    /// "Is anything wrong with this item?", whatever the category.
    pub any_violation: BinaryMetrics,
    /// Every item with no label, hard negatives included.
    pub false_positive_rate_clean: FalsePositiveRate,
    pub false_positive_rate_hard_negative: FalsePositiveRate,
}

fn ratio(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

fn binary(tp: usize, fp: usize, fn_: usize) -> BinaryMetrics {
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + fn_);
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    BinaryMetrics {
        precision,
        recall,
        f1,
    }
}

/// Scores `predict`'s flagged categories against the labels. An item counts as flagged
/// (for the any-violation and false-positive figures) when `predict` returns any category.
pub fn evaluate(
    items: &[LabelledItem],
    mut predict: impl FnMut(&Submission) -> BTreeSet<Category>,
) -> EvalReport {
    let mut counts = [(0usize, 0usize, 0usize); Category::ALL.len()];
    let (mut any_tp, mut any_fp, mut any_fn) = (0, 0, 0);
    let (mut clean_flagged, mut clean_total, mut hard_flagged, mut hard_total) = (0, 0, 0, 0);

    for item in items {
        let predicted = predict(&item.submission);
        for c in Category::ALL {
            let (tp, fp, fn_) = &mut counts[c.index()];
            match (item.labels.contains(&c), predicted.contains(&c)) {
                (true, true) => *tp += 1,
                (false, true) => *fp += 1,
                (true, false) => *fn_ += 1,
                (false, false) => {}
            }
        }
        let flagged = !predicted.is_empty();
        match (!item.labels.is_empty(), flagged) {
            (true, true) => any_tp += 1,
            (false, true) => any_fp += 1,
            (true, false) => any_fn += 1,
            (false, false) => {}
        }
        if item.labels.is_empty() {
            clean_total += 1;
            clean_flagged += usize::from(flagged);
            if item.hard_negative {
                hard_total += 1;
                hard_flagged += usize::from(flagged);
            }
        }
    }

    let per_category: Vec<CategoryMetrics> = Category::ALL
        .into_iter()
        .map(|category| {
            let (tp, fp, fn_) = counts[category.index()];
            let m = binary(tp, fp, fn_);
            CategoryMetrics {
                category,
                precision: m.precision,
                recall: m.recall,
                f1: m.f1,
                support: tp + fn_,
                true_positives: tp,
                false_positives: fp,
                false_negatives: fn_,
            }
        })
        .collect();
    let macro_f1 = per_category.iter().map(|m| m.f1).sum::<f64>() / per_category.len() as f64;

    EvalReport {
        items: items.len(),
        per_category,
        macro_f1,
        any_violation: binary(any_tp, any_fp, any_fn),
        false_positive_rate_clean: FalsePositiveRate {
            rate: ratio(clean_flagged, clean_total),
            flagged: clean_flagged,
            total: clean_total,
        },
        false_positive_rate_hard_negative: FalsePositiveRate {
            rate: ratio(hard_flagged, hard_total),
            flagged: hard_flagged,
            total: hard_total,
        },
    }
}

/// Which source's findings are scored: the rules alone, the model alone, or both as the
/// screener joins them (the verdict).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    Rules,
    Model,
    Combined,
}

impl Column {
    pub const ALL: [Column; 3] = [Column::Rules, Column::Model, Column::Combined];

    pub fn as_str(self) -> &'static str {
        match self {
            Column::Rules => "rules",
            Column::Model => "model",
            Column::Combined => "combined",
        }
    }

    /// This column's score for one category, on the policy's scale.
    pub fn score(self, scores: &SourceScores) -> f64 {
        match self {
            Column::Rules => scores.rule,
            Column::Model => scores.model.unwrap_or(0.0),
            Column::Combined => scores.rule.max(scores.model.unwrap_or(0.0)),
        }
    }
}

/// The three columns of one evaluation run, from one screening pass over the items.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReports {
    pub policy_version: String,
    pub model_version: Option<String>,
    pub rules: EvalReport,
    /// `None` when the screener runs without a model.
    pub model: Option<EvalReport>,
    pub combined: EvalReport,
}

/// Screens every item once and scores the rules-only, model-only and combined findings.
/// Also returns the screenings, for precision-recall curves.
pub fn evaluate_sources(
    items: &[LabelledItem],
    screener: &Screener,
) -> (SourceReports, Vec<Screening>) {
    let screenings: Vec<Screening> = items
        .iter()
        .map(|item| screener.screen_explained(&item.submission))
        .collect();
    let policy = screener.policy();
    let column = |column: Column| {
        let mut next = screenings.iter();
        evaluate(items, |_| {
            let screening = next.next().expect("one screening per item");
            match column {
                Column::Combined => screening
                    .verdict
                    .categories
                    .iter()
                    .map(|f| f.category)
                    .collect(),
                _ => Category::ALL
                    .into_iter()
                    .filter(|c| {
                        column.score(&screening.scores[c.index()])
                            >= policy.category(*c).review_threshold
                    })
                    .collect(),
            }
        })
    };
    let reports = SourceReports {
        policy_version: policy.version().to_owned(),
        model_version: screener.model_version().map(str::to_owned),
        rules: column(Column::Rules),
        model: screener.model_version().map(|_| column(Column::Model)),
        combined: column(Column::Combined),
    };
    (reports, screenings)
}

/// One point of a precision-recall curve: flag the category at `score >= threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CurvePoint {
    pub threshold: f64,
    pub precision: f64,
    pub recall: f64,
}

/// Precision and recall of one column for one category at every distinct score, from
/// the highest threshold down. Empty when no item carries the label.
pub fn precision_recall_curve(
    items: &[LabelledItem],
    screenings: &[Screening],
    category: Category,
    column: Column,
) -> Vec<CurvePoint> {
    let mut scored: Vec<(f64, bool)> = items
        .iter()
        .zip(screenings)
        .map(|(item, s)| {
            (
                column.score(&s.scores[category.index()]),
                item.labels.contains(&category),
            )
        })
        .collect();
    let positives = scored.iter().filter(|(_, label)| *label).count();
    if positives == 0 {
        return Vec::new();
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut points = Vec::new();
    let (mut tp, mut flagged) = (0usize, 0usize);
    for run in scored.chunk_by(|a, b| a.0 == b.0) {
        let threshold = run[0].0;
        if threshold <= 0.0 {
            break;
        }
        flagged += run.len();
        tp += run.iter().filter(|(_, label)| *label).count();
        points.push(CurvePoint {
            threshold,
            precision: ratio(tp, flagged),
            recall: ratio(tp, positives),
        });
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(id: &str, labels: &[&str], hard_negative: bool) -> LabelledItem {
        let author = Id::parse("author_id", "eval").unwrap();
        LabelledItem::from_json(
            json!({"id": id, "kind": "message", "title": "", "body": "x",
                   "labels": labels, "hard_negative": hard_negative}),
            &author,
        )
        .unwrap()
    }

    #[test]
    fn counts_precision_recall_and_false_positive_rates_by_hand() {
        let items = vec![
            item("a", &["spam"], false),         // predicted spam: TP
            item("b", &["spam", "scam"], false), // predicted scam only: spam FN, scam TP
            item("c", &[], false),               // predicted spam: FP, clean flagged
            item("d", &[], true),                // predicted nothing
            item("e", &[], true),                // predicted adult: FP, hard negative flagged
        ];
        let predictions = |s: &Submission| -> BTreeSet<Category> {
            match s.submission_id().as_str() {
                "a" | "c" => [Category::Spam].into(),
                "b" => [Category::Scam].into(),
                "e" => [Category::Adult].into(),
                _ => BTreeSet::new(),
            }
        };
        let report = evaluate(&items, predictions);
        let spam = &report.per_category[Category::Spam.index()];
        assert_eq!(
            (
                spam.true_positives,
                spam.false_positives,
                spam.false_negatives
            ),
            (1, 1, 1)
        );
        assert_eq!(spam.support, 2);
        assert!((spam.precision - 0.5).abs() < 1e-12 && (spam.recall - 0.5).abs() < 1e-12);
        let scam = &report.per_category[Category::Scam.index()];
        assert_eq!((scam.precision, scam.recall, scam.f1), (1.0, 1.0, 1.0));
        assert_eq!(report.any_violation.recall, 1.0);
        assert!((report.any_violation.precision - 0.5).abs() < 1e-12);
        assert_eq!(
            report.false_positive_rate_clean,
            FalsePositiveRate {
                rate: 2.0 / 3.0,
                flagged: 2,
                total: 3
            }
        );
        assert_eq!(
            report.false_positive_rate_hard_negative,
            FalsePositiveRate {
                rate: 0.5,
                flagged: 1,
                total: 2
            }
        );
        // F1 of spam 0.5, scam 1.0, adult 0 (one FP, no support), the other ten 0.
        assert!((report.macro_f1 - 1.5 / 13.0).abs() < 1e-12);
    }

    #[test]
    fn an_unknown_label_is_refused_with_its_index() {
        let author = Id::parse("author_id", "eval").unwrap();
        let err = LabelledItem::from_json(
            json!({"id": "x", "kind": "message", "body": "x", "labels": ["spam", "crypto"]}),
            &author,
        )
        .unwrap_err();
        assert_eq!(err.field, "labels[1]");
    }

    mod sources {
        use super::*;
        use crate::policy::Policy;
        use crate::screening::classifier::ScriptedClassifier;
        use std::sync::Arc;

        /// Scores spam 0.9 when the body says "buy", 0.2 otherwise; threshold 0.5.
        fn buy_detector() -> ScriptedClassifier {
            ScriptedClassifier::new("buy-1", |document| {
                let mut scores = [0.0; 13];
                scores[Category::Spam.index()] = if document.body.as_str().contains("buy") {
                    0.9
                } else {
                    0.2
                };
                Ok(scores)
            })
        }

        fn labelled(id: &str, body: &str, labels: &[&str]) -> LabelledItem {
            let author = Id::parse("author_id", "eval").unwrap();
            LabelledItem::from_json(
                json!({"id": id, "kind": "message", "title": "", "body": body, "labels": labels}),
                &author,
            )
            .unwrap()
        }

        #[test]
        fn the_columns_score_rules_model_and_their_union_separately() {
            // The embedded policy's rules know nothing of "buy"; the model does.
            let screener = Screener::new(Arc::new(Policy::embedded().unwrap()))
                .with_classifier(Arc::new(buy_detector()));
            let items = vec![
                labelled("a", "buy buy buy now", &["spam"]),
                labelled("b", "納品しました。ご確認ください。", &[]),
            ];
            let (reports, screenings) = evaluate_sources(&items, &screener);
            let spam = |r: &EvalReport| r.per_category[Category::Spam.index()].clone();
            assert_eq!(spam(&reports.rules).true_positives, 0);
            assert_eq!(spam(reports.model.as_ref().unwrap()).true_positives, 1);
            assert_eq!(spam(&reports.combined).true_positives, 1);
            assert_eq!(reports.model_version.as_deref(), Some("buy-1"));

            let curve = precision_recall_curve(&items, &screenings, Category::Spam, Column::Model);
            assert_eq!(
                curve.first().map(|p| (p.precision, p.recall)),
                Some((1.0, 1.0))
            );
            assert_eq!(
                curve.last().map(|p| (p.precision, p.recall)),
                Some((0.5, 1.0))
            );
            assert!(
                precision_recall_curve(&items, &screenings, Category::Scam, Column::Model)
                    .is_empty()
            );
        }

        #[test]
        fn without_a_model_there_is_no_model_column() {
            let screener = Screener::new(Arc::new(Policy::embedded().unwrap()));
            let (reports, _) = evaluate_sources(&[labelled("a", "x", &[])], &screener);
            assert!(reports.model.is_none());
            assert_eq!(reports.model_version, None);
        }
    }
}
