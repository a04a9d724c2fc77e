//! The promotion gate: a candidate (model and/or policy) against the active one, on the
//! same labelled files. A candidate that is worse than the active one on any file by more
//! than the stated margin is refused (`anshin eval --baseline <active manifest>`), however
//! much better it is elsewhere: a model that trades one kind of text for another is a
//! regression for the people who write that kind.

use serde::Serialize;

use super::eval::EvalReport;
use crate::taxonomy::Category;

/// How much worse a candidate may be before it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Margins {
    /// For macro-F1, any-violation F1 and the two false-positive rates (absolute).
    pub headline: f64,
    /// For each category's F1 (absolute); wider, because a category has few items.
    pub category: f64,
}

impl Default for Margins {
    fn default() -> Self {
        Margins {
            headline: 0.01,
            category: 0.05,
        }
    }
}

/// One figure of one file, both ways.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricComparison {
    pub metric: String,
    pub baseline: f64,
    pub candidate: f64,
    /// How much worse the candidate is (0 when it is as good or better).
    pub worse_by: f64,
    pub margin: f64,
    pub refused: bool,
}

fn metric(
    name: impl Into<String>,
    baseline: f64,
    candidate: f64,
    higher_is_better: bool,
    margin: f64,
) -> MetricComparison {
    let delta = if higher_is_better {
        baseline - candidate
    } else {
        candidate - baseline
    };
    let worse_by = delta.max(0.0);
    MetricComparison {
        metric: name.into(),
        baseline,
        candidate,
        worse_by,
        margin,
        // A hair of float noise above the margin is not a regression.
        refused: worse_by > margin + 1e-9,
    }
}

/// The combined columns of one file compared figure by figure. Categories absent from the
/// file (no item carries them and neither screener flags them) are left out.
pub fn compare_reports(
    baseline: &EvalReport,
    candidate: &EvalReport,
    margins: Margins,
) -> Vec<MetricComparison> {
    let mut rows = vec![
        metric(
            "macro_f1",
            baseline.macro_f1,
            candidate.macro_f1,
            true,
            margins.headline,
        ),
        metric(
            "any_violation_f1",
            baseline.any_violation.f1,
            candidate.any_violation.f1,
            true,
            margins.headline,
        ),
        metric(
            "false_positive_rate_clean",
            baseline.false_positive_rate_clean.rate,
            candidate.false_positive_rate_clean.rate,
            false,
            margins.headline,
        ),
        metric(
            "false_positive_rate_hard_negative",
            baseline.false_positive_rate_hard_negative.rate,
            candidate.false_positive_rate_hard_negative.rate,
            false,
            margins.headline,
        ),
    ];
    for category in Category::ALL {
        let (b, c) = (
            &baseline.per_category[category.index()],
            &candidate.per_category[category.index()],
        );
        let present = b.support > 0 || b.false_positives > 0 || c.false_positives > 0;
        if present {
            rows.push(metric(
                format!("f1.{category}"),
                b.f1,
                c.f1,
                true,
                margins.category,
            ));
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Id;
    use crate::offline::eval::{evaluate, LabelledItem};
    use crate::screening::Submission;
    use serde_json::json;
    use std::collections::BTreeSet;

    fn items() -> Vec<LabelledItem> {
        let author = Id::parse("author_id", "eval").unwrap();
        [
            ("a", vec!["spam"]),
            ("b", vec!["scam"]),
            ("c", vec![]),
            ("d", vec![]),
        ]
        .into_iter()
        .map(|(id, labels)| {
            LabelledItem::from_json(
                json!({"id": id, "kind": "message", "body": "x", "labels": labels}),
                &author,
            )
            .unwrap()
        })
        .collect()
    }

    fn report(flags: &[(&str, Category)]) -> EvalReport {
        evaluate(&items(), |s: &Submission| -> BTreeSet<Category> {
            flags
                .iter()
                .filter(|(id, _)| s.submission_id().as_str() == *id)
                .map(|&(_, c)| c)
                .collect()
        })
    }

    #[test]
    fn the_same_figures_pass_and_a_worse_false_positive_rate_is_refused() {
        let active = report(&[("a", Category::Spam), ("b", Category::Scam)]);
        let same = compare_reports(&active, &active, Margins::default());
        assert!(same.iter().all(|m| !m.refused && m.worse_by == 0.0));
        assert!(same.iter().any(|m| m.metric == "f1.spam"));
        assert!(
            !same.iter().any(|m| m.metric == "f1.adult"),
            "absent categories are left out"
        );

        // The candidate also flags a clean item: FP rate 0 → 0.5, any-violation F1 down.
        let candidate = report(&[
            ("a", Category::Spam),
            ("b", Category::Scam),
            ("c", Category::Spam),
        ]);
        let rows = compare_reports(&active, &candidate, Margins::default());
        let fp = rows
            .iter()
            .find(|m| m.metric == "false_positive_rate_clean")
            .unwrap();
        assert_eq!((fp.baseline, fp.candidate, fp.refused), (0.0, 0.5, true));
        assert!((fp.worse_by - 0.5).abs() < 1e-12);
    }

    #[test]
    fn a_better_candidate_passes_and_a_loss_within_the_margin_is_tolerated() {
        let active = report(&[("a", Category::Spam)]);
        let better = report(&[("a", Category::Spam), ("b", Category::Scam)]);
        assert!(compare_reports(&active, &better, Margins::default())
            .iter()
            .all(|m| !m.refused));
        // Losing scam costs macro-F1 1/13 ≈ 0.077: refused at the default margin, not at 0.1.
        let wide = Margins {
            headline: 0.6,
            category: 1.0,
        };
        assert!(compare_reports(&better, &active, Margins::default())
            .iter()
            .any(|m| m.refused));
        assert!(compare_reports(&better, &active, wide)
            .iter()
            .all(|m| !m.refused));
    }
}
