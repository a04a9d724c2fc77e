//! `Submission → Verdict`: normalise each field, run the policy's rules, join the
//! classifier's scores when there is one, and decide.

use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::Arc;

use serde::Serialize;

use super::classifier::{Classifier, ScreenDocument};
use super::evidence::{quote, to_char_range};
use super::submission::Submission;
use crate::digest::content_hash;
use crate::policy::Policy;
use crate::taxonomy::Category;
use crate::text::{normalize, NormalizedText};
use crate::verdict::{CategoryFinding, Decision, Field, ScoreSource, Verdict};

/// One category's score from each source, on the policy's scale (so that the category's
/// `review_threshold` applies to both).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SourceScores {
    /// The rules' score, lowered by the policy's discussion factor when the text discusses
    /// violations (the rules' own judgement, as they would decide alone).
    pub rule: f64,
    /// `None` when no classifier ran.
    pub model: Option<f64>,
}

/// How a candidate (shadow) screener judged the same submission.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShadowComparison {
    pub decision: Decision,
    pub categories: Vec<Category>,
    pub policy_version: String,
    pub model_version: Option<String>,
    /// Same decision and same flagged categories as the active screener.
    pub agrees: bool,
}

/// A verdict with what went into it: per-source scores for evaluation, and the shadow's
/// opinion when a candidate is loaded.
#[derive(Debug, Clone)]
pub struct Screening {
    pub verdict: Verdict,
    pub scores: [SourceScores; Category::ALL.len()],
    /// The discussion signals found (policy ids): the text talks about violations.
    pub discussion: Vec<String>,
    pub shadow: Option<ShadowComparison>,
}

/// Maps a calibrated probability onto the policy's scale: piecewise linear, monotone,
/// with the model's operating point `threshold` landing on the policy's
/// `review_threshold`. Changing a category's review threshold in the policy then moves
/// the rules and the model together, and the model's own calibration stays in its
/// manifest.
pub fn model_score_on_policy_scale(probability: f64, threshold: f64, review_threshold: f64) -> f64 {
    let p = probability.clamp(0.0, 1.0);
    if p < threshold {
        p * review_threshold / threshold
    } else {
        review_threshold + (p - threshold) * (1.0 - review_threshold) / (1.0 - threshold)
    }
}

/// Screens submissions against one policy and, optionally, one classifier.
#[derive(Clone)]
pub struct Screener {
    policy: Arc<Policy>,
    classifier: Option<Arc<dyn Classifier>>,
    /// A candidate policy and model, scored on every submission and never deciding.
    shadow: Option<Arc<Screener>>,
}

impl Screener {
    pub fn new(policy: Arc<Policy>) -> Self {
        Screener {
            policy,
            classifier: None,
            shadow: None,
        }
    }

    pub fn with_classifier(mut self, classifier: Arc<dyn Classifier>) -> Self {
        self.classifier = Some(classifier);
        self
    }

    /// Loads a candidate beside this screener: it scores every submission and its
    /// disagreements are reported in [`Screening::shadow`], but it never changes a
    /// decision. A candidate's own shadow is dropped.
    pub fn with_shadow(mut self, mut candidate: Screener) -> Self {
        candidate.shadow = None;
        self.shadow = Some(Arc::new(candidate));
        self
    }

    pub fn model_version(&self) -> Option<&str> {
        self.classifier.as_ref().map(|c| c.version())
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The same policy, for another component that must agree with screening.
    pub fn shared_policy(&self) -> Arc<Policy> {
        Arc::clone(&self.policy)
    }

    pub fn screen(&self, submission: &Submission) -> Verdict {
        self.screen_explained(submission).verdict
    }

    /// [`Screener::screen`], with the per-source scores and the shadow's comparison.
    pub fn screen_explained(&self, submission: &Submission) -> Screening {
        // The normaliser does not depend on the policy: a shadow reuses the active's text.
        let title = submission.title().map(normalize);
        let body = normalize(submission.body());
        let (verdict, scores, discussion) = self.screen_scored(submission, title.as_ref(), &body);
        let shadow = self.shadow.as_ref().map(|candidate| {
            let (theirs, _, _) = candidate.screen_scored(submission, title.as_ref(), &body);
            let flagged = |v: &Verdict| {
                v.categories
                    .iter()
                    .map(|f| f.category)
                    .collect::<BTreeSet<_>>()
            };
            let comparison = ShadowComparison {
                agrees: theirs.decision == verdict.decision
                    && flagged(&theirs) == flagged(&verdict),
                decision: theirs.decision,
                categories: flagged(&theirs).into_iter().collect(),
                policy_version: theirs.policy_version,
                model_version: theirs.model_version,
            };
            if !comparison.agrees {
                // Ids and categories only; the text stays out of the logs.
                tracing::info!(
                    submission_id = %submission.submission_id(),
                    active_decision = verdict.decision.as_str(),
                    shadow_decision = comparison.decision.as_str(),
                    active_categories = ?flagged(&verdict),
                    shadow_categories = ?comparison.categories,
                    shadow_policy_version = %comparison.policy_version,
                    shadow_model_version = ?comparison.model_version,
                    "shadow screener disagrees"
                );
            }
            comparison
        });
        Screening {
            verdict,
            scores,
            discussion,
            shadow,
        }
    }

    /// `title` and `body`: the submission's fields, normalised.
    fn screen_scored(
        &self,
        submission: &Submission,
        title: Option<&NormalizedText>,
        body: &NormalizedText,
    ) -> (Verdict, [SourceScores; Category::ALL.len()], Vec<String>) {
        let title = submission.title().zip(title);
        let body = (submission.body(), body);
        let fields: Vec<(Field, &str, &NormalizedText)> = title
            .map(|(raw, norm)| (Field::Title, raw, norm))
            .into_iter()
            .chain([(Field::Body, body.0, body.1)])
            .collect();

        // A text that talks about violations (an awareness post, a manual, a spec, the
        // platform's own procedure) uses their words without committing them.
        let signals = self.policy.discussion();
        let mut discussion: Vec<String> = Vec::new();
        for (_, _, normalised) in &fields {
            for id in signals.found(normalised.as_str()) {
                if !discussion.iter().any(|d| d == id) {
                    discussion.push(id.to_owned());
                }
            }
        }
        let rule_factor = if discussion.is_empty() {
            1.0
        } else {
            signals.rule_factor()
        };

        let mut by_category: Vec<CategoryHits> = vec![CategoryHits::default(); Category::ALL.len()];
        let engine = self.policy.rules();
        for &(field, original, normalised) in &fields {
            for hit in engine.find_hits(submission.kind(), normalised.as_str()) {
                let rule = &engine.rules()[hit.rule];
                let hits = &mut by_category[rule.category.index()];
                hits.rules.insert(hit.rule);
                hits.spans.extend(hit.spans.iter().map(|span| {
                    (
                        field,
                        to_char_range(original, normalised.original_range(span.clone())),
                    )
                }));
            }
        }

        let classifier = self.classifier.as_ref().and_then(|c| {
            let document = ScreenDocument {
                kind: submission.kind(),
                title: title.map(|(_, n)| n),
                body: body.1,
            };
            match c.predict(&document) {
                Ok(scores) => Some((c, scores, c.thresholds())),
                Err(error) => {
                    tracing::error!(
                        submission_id = %submission.submission_id(),
                        model_version = c.version(),
                        %error,
                        "classifier failed; screening on rules alone"
                    );
                    None
                }
            }
        });
        let mut scores = [SourceScores::default(); Category::ALL.len()];
        let mut agreement = [false; Category::ALL.len()];

        let mut categories = Vec::new();
        for category in Category::ALL {
            let hits = &by_category[category.index()];
            let rule_hits_score = 1.0
                - hits
                    .rules
                    .iter()
                    .map(|&r| 1.0 - engine.rules()[r].weight)
                    .product::<f64>();
            let rule_score = round4(rule_hits_score * rule_factor);
            let settings = self.policy.category(category);
            let model_score = classifier.as_ref().map(|(_, p, t)| {
                round4(model_score_on_policy_scale(
                    p[category.index()],
                    t[category.index()],
                    settings.review_threshold,
                ))
            });
            scores[category.index()] = SourceScores {
                rule: rule_score,
                model: model_score,
            };
            // The model read the whole text, look-alikes included: where it still finds the
            // category, the rules' hits count in full even in a discussing text.
            let model_agrees = model_score.is_some_and(|m| m >= settings.review_threshold);
            let rule_score = if model_agrees {
                round4(rule_hits_score)
            } else {
                rule_score
            };
            agreement[category.index()] = model_agrees;
            // The higher source's score, except that rules which reach the hide threshold by
            // themselves keep the finding: what they quoted is what an automatic strike rests on.
            let (score, source) = match model_score {
                Some(m) if m > rule_score && rule_score < settings.hide_threshold => {
                    (m, ScoreSource::Model)
                }
                _ => (rule_score, ScoreSource::Rule),
            };
            if score < settings.review_threshold {
                continue;
            }
            categories.push(CategoryFinding {
                category,
                score,
                source,
                severity: settings.severity,
                urgent: settings.urgent,
                rules: hits
                    .rules
                    .iter()
                    .map(|&r| engine.rules()[r].id.clone())
                    .collect(),
                evidence: quote(&hits.spans, &fields),
                message_ja: settings.message_ja.clone(),
                message_en: settings.message_en.clone(),
            });
        }

        // A hide is the joint decision of rules and model: the rules flagged the category,
        // the model (when one scored the text) agrees, the score reaches the hide threshold,
        // and the text does not discuss violations. Anything less holds for a human, whose
        // decision then becomes a training label: the model never hides on its own, and
        // neither does one strong rule the model disagrees with.
        let model_scored = classifier.is_some();
        let decision = categories
            .iter()
            .map(|f| {
                let settings = self.policy.category(f.category);
                let index = f.category.index();
                if f.score >= settings.hide_threshold
                    && discussion.is_empty()
                    && scores[index].rule >= settings.review_threshold
                    && (!model_scored || agreement[index])
                {
                    Decision::Hide
                } else {
                    Decision::Review
                }
            })
            .max()
            .unwrap_or(Decision::Allow);
        // Stable order: highest score first, taxonomy order among equals.
        categories.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.category.cmp(&b.category))
        });

        let verdict = Verdict {
            submission_id: submission.submission_id().to_string(),
            decision,
            categories,
            policy_version: self.policy.version().to_owned(),
            model_version: classifier.map(|(c, _, _)| c.version().to_owned()),
            content_hash: content_hash(title.map(|(_, n)| n.as_str()), body.1.as_str()),
        };
        (verdict, scores, discussion)
    }
}

#[derive(Clone, Default)]
struct CategoryHits {
    /// Rule indices; a set, because a rule that hits twice counts once.
    rules: BTreeSet<usize>,
    /// Evidence as (field, code-point range in the original field).
    spans: Vec<(Field, Range<usize>)>,
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screening::classifier::ScriptedClassifier;
    use crate::taxonomy::Severity;
    use crate::verdict::Evidence;
    use serde_json::json;

    /// Every category present; spam has two weak rules and one strong; scam is urgent.
    fn policy() -> Arc<Policy> {
        let mut text = String::from(
            "version = \"unit-1\"\n[ladder]\nwarning_points = 1\nsuspension_points = 3\nwithdrawal_points = 6\n\
             strike_expiry_days = 365\npoints = { low = 1, medium = 2, high = 3, critical = 6 }\n\
             [reports]\nrate_limit_per_day = 20\nthreshold = 3.0\nsevere_threshold = 1.5\nsevere_categories = []\n\
             new_account_days = 30\nnew_account_weight = 0.5\nbrigade_window_minutes = 60\nbrigade_min_reports = 4\n\
             [discussion]\nrule_factor = 0.45\n[[discussion.signals]]\nid = \"discussion.warning\"\n\
             description = \"d\"\nkeywords = [\"beware of\"]\n",
        );
        for c in Category::ALL {
            let (severity, urgent) = match c {
                Category::Scam => ("high", true),
                _ => ("medium", false),
            };
            text.push_str(&format!(
                "[categories.{c}]\nname_ja = \"n\"\nname_en = \"n\"\nclause = \"c\"\nseverity = \"{severity}\"\n\
                 urgent = {urgent}\nreview_threshold = 0.5\nhide_threshold = 0.9\n\
                 message_ja = \"{c}を直してください\"\nmessage_en = \"fix {c}\"\n\
                 [[categories.{c}.rules]]\nid = \"{c}.strong\"\ndescription = \"d\"\nweight = 0.95\nkeywords = [\"strong-{c}\"]\n"
            ));
        }
        text.push_str(
            "[[categories.spam.rules]]\nid = \"spam.weak_a\"\ndescription = \"d\"\nweight = 0.3\nkeywords = [\"sale\"]\n\
             [[categories.spam.rules]]\nid = \"spam.weak_b\"\ndescription = \"d\"\nweight = 0.3\nkeywords = [\"today only\"]\n\
             [[categories.spam.rules]]\nid = \"spam.profiles_only\"\ndescription = \"d\"\nweight = 0.95\nkeywords = [\"follow me\"]\nkinds = [\"profile\"]\n",
        );
        Arc::new(Policy::from_toml_str(&text).unwrap())
    }

    fn submission(kind: &str, title: Option<&str>, body: &str) -> Submission {
        let mut value =
            json!({"submission_id": "s-1", "kind": kind, "author_id": "u-1", "body": body});
        if let Some(t) = title {
            value["title"] = json!(t);
        }
        Submission::from_json(value).unwrap()
    }

    #[test]
    fn a_clean_text_is_allowed_with_no_categories() {
        let v = Screener::new(policy()).screen(&submission(
            "message",
            None,
            "hello, the draft is attached",
        ));
        assert_eq!(v.decision, Decision::Allow);
        assert!(v.categories.is_empty());
        assert_eq!(v.policy_version, "unit-1");
        assert_eq!(v.model_version, None);
    }

    #[test]
    fn one_weak_rule_stays_below_review_but_two_together_reach_it() {
        let screener = Screener::new(policy());
        let one = screener.screen(&submission("message", None, "big sale on templates"));
        assert_eq!(one.decision, Decision::Allow);

        let two = screener.screen(&submission("message", None, "big sale, today only, sale!"));
        assert_eq!(two.decision, Decision::Review);
        let spam = &two.categories[0];
        assert_eq!(spam.category, Category::Spam);
        // 1 - 0.7 * 0.7, each rule counted once however often it hits.
        assert_eq!(spam.score, 0.51);
        assert_eq!(spam.rules, vec!["spam.weak_a", "spam.weak_b"]);
        assert_eq!(spam.evidence.len(), 3);
        assert_eq!(spam.message_en, "fix spam");
    }

    #[test]
    fn a_strong_rule_hides_and_categories_come_highest_score_first() {
        let v = Screener::new(policy()).screen(&submission(
            "job_posting",
            Some("strong-scam here"),
            "sale today only",
        ));
        assert_eq!(v.decision, Decision::Hide);
        let order: Vec<Category> = v.categories.iter().map(|c| c.category).collect();
        assert_eq!(order, vec![Category::Scam, Category::Spam]);
        let scam = &v.categories[0];
        assert_eq!(scam.severity, Severity::High);
        assert_eq!(
            scam.evidence,
            vec![Evidence {
                field: Field::Title,
                start: 0,
                end: 11,
                text: "strong-scam".into()
            }]
        );
        assert!(v.needs_alert());
    }

    #[test]
    fn a_review_alerts_only_in_an_urgent_category() {
        let urgent = Screener::new(policy())
            .with_classifier(Arc::new(ScriptedClassifier::fixed(0.6, Category::Scam)))
            .screen(&submission("message", None, "hello"));
        assert_eq!(urgent.decision, Decision::Review);
        assert!(urgent.needs_alert());
        assert_eq!(urgent.categories[0].source, ScoreSource::Model);
        assert_eq!(urgent.model_version.as_deref(), Some("fixed-1"));

        let ordinary = Screener::new(policy())
            .with_classifier(Arc::new(ScriptedClassifier::fixed(0.6, Category::Spam)))
            .screen(&submission("message", None, "hello"));
        assert_eq!(ordinary.decision, Decision::Review);
        assert!(!ordinary.needs_alert());
    }

    #[test]
    fn the_model_alone_holds_for_review_but_can_raise_a_rule_finding_to_hide() {
        let sure_model = || Arc::new(ScriptedClassifier::fixed(0.999, Category::Spam));
        let alone = Screener::new(policy())
            .with_classifier(sure_model())
            .screen(&submission("message", None, "hello"));
        assert!(alone.categories[0].score >= 0.9, "above the hide threshold");
        assert_eq!(alone.decision, Decision::Review);

        // Two weak spam rules: 1 - 0.7 * 0.7 = 0.51, a review on their own.
        let text = "sale today only";
        let rules_only = Screener::new(policy()).screen(&submission("message", None, text));
        assert_eq!(rules_only.decision, Decision::Review);
        let joined = Screener::new(policy())
            .with_classifier(sure_model())
            .screen(&submission("message", None, text));
        assert_eq!(joined.decision, Decision::Hide);
        assert_eq!(joined.categories[0].source, ScoreSource::Model);
    }

    #[test]
    fn one_strong_rule_the_model_disagrees_with_is_held_not_hidden() {
        let with_model = |p: f64| {
            Screener::new(policy())
                .with_classifier(Arc::new(ScriptedClassifier::fixed(p, Category::Scam)))
                .screen(&submission("message", None, "strong-scam"))
        };
        let disagrees = with_model(0.1);
        assert_eq!(disagrees.decision, Decision::Review);
        assert_eq!(
            disagrees.categories[0].score, 0.95,
            "the rule still flags it"
        );
        assert_eq!(with_model(0.6).decision, Decision::Hide, "the model agrees");
        // The model is surer than the rule, but the rule reached hide by itself: the finding
        // stays the rule's, with its score (an automatic strike rests on that).
        let surer = with_model(0.99);
        assert_eq!(surer.categories[0].source, ScoreSource::Rule);
        assert_eq!(surer.categories[0].score, 0.95);
    }

    #[test]
    fn a_text_that_discusses_violations_defers_the_rules_to_the_model_and_is_never_hidden() {
        let text = "beware of messages like strong-scam";
        let rules_only =
            Screener::new(policy()).screen_explained(&submission("message", None, text));
        assert_eq!(rules_only.verdict.decision, Decision::Allow);
        assert_eq!(rules_only.discussion, vec!["discussion.warning"]);
        assert_eq!(
            rules_only.scores[Category::Scam.index()].rule,
            0.4275,
            "0.95 × 0.45"
        );

        // The model still finds scam: the rules' hits count in full, but only for review.
        let agreeing = Screener::new(policy())
            .with_classifier(Arc::new(ScriptedClassifier::fixed(0.99, Category::Scam)))
            .screen_explained(&submission("message", None, text));
        assert_eq!(agreeing.verdict.decision, Decision::Review);
        let scam = &agreeing.verdict.categories[0];
        assert_eq!((scam.category, scam.rules.len()), (Category::Scam, 1));

        let plain = Screener::new(policy()).screen_explained(&submission(
            "message",
            None,
            "messages like strong-scam",
        ));
        assert!(plain.discussion.is_empty());
        assert_eq!(plain.verdict.decision, Decision::Hide);
    }

    #[test]
    fn the_models_operating_point_lands_on_the_review_threshold() {
        assert_eq!(model_score_on_policy_scale(0.3, 0.3, 0.6), 0.6);
        assert!(model_score_on_policy_scale(0.29, 0.3, 0.6) < 0.6);
        assert_eq!(model_score_on_policy_scale(1.0, 0.3, 0.6), 1.0);
        assert_eq!(model_score_on_policy_scale(0.0, 0.3, 0.6), 0.0);
        let mut last = 0.0;
        for i in 0..=100 {
            let mapped = model_score_on_policy_scale(f64::from(i) / 100.0, 0.42, 0.5);
            assert!(mapped >= last, "monotone");
            last = mapped;
        }
    }

    #[test]
    fn a_failing_classifier_leaves_the_rules_to_decide_and_no_model_version() {
        let v = Screener::new(policy())
            .with_classifier(Arc::new(ScriptedClassifier::failing()))
            .screen(&submission("message", None, "strong-scam"));
        assert_eq!(v.decision, Decision::Hide);
        assert_eq!(v.model_version, None);
    }

    #[test]
    fn a_shadow_is_scored_and_compared_but_never_decides() {
        let active = Screener::new(policy());
        let candidate = Screener::new(policy())
            .with_classifier(Arc::new(ScriptedClassifier::fixed(0.7, Category::Spam)));
        let screener = active.with_shadow(candidate);

        let s = screener.screen_explained(&submission("message", None, "hello"));
        assert_eq!(
            s.verdict.decision,
            Decision::Allow,
            "the shadow changes nothing"
        );
        assert_eq!(s.verdict.model_version, None);
        let shadow = s.shadow.unwrap();
        assert!(!shadow.agrees);
        assert_eq!(shadow.decision, Decision::Review);
        assert_eq!(shadow.categories, vec![Category::Spam]);
        assert_eq!(shadow.model_version.as_deref(), Some("fixed-1"));

        let same = screener.screen_explained(&submission("message", None, "strong-scam"));
        assert!(
            !same.shadow.as_ref().unwrap().agrees,
            "the shadow also flags spam"
        );
        let without_shadow =
            Screener::new(policy()).screen_explained(&submission("message", None, "hello"));
        assert!(without_shadow.shadow.is_none());
    }

    #[test]
    fn explained_scores_carry_each_source_on_the_policy_scale() {
        let s = Screener::new(policy())
            .with_classifier(Arc::new(ScriptedClassifier::fixed(0.75, Category::Spam)))
            .screen_explained(&submission("message", None, "strong-scam"));
        let spam = s.scores[Category::Spam.index()];
        assert_eq!(spam.rule, 0.0);
        assert_eq!(spam.model, Some(0.75), "0.5 + (0.75-0.5)*(0.5/0.5)");
        assert_eq!(s.scores[Category::Scam.index()].rule, 0.95);
        let rules_only =
            Screener::new(policy()).screen_explained(&submission("message", None, "x"));
        assert!(rules_only.scores.iter().all(|s| s.model.is_none()));
    }

    #[test]
    fn a_rule_limited_to_profiles_does_not_fire_on_messages() {
        let screener = Screener::new(policy());
        assert_eq!(
            screener
                .screen(&submission("message", None, "follow me"))
                .decision,
            Decision::Allow
        );
        assert_eq!(
            screener
                .screen(&submission("profile", None, "follow me"))
                .decision,
            Decision::Hide
        );
    }

    #[test]
    fn overlapping_hits_merge_into_one_evidence_span_in_code_points() {
        let v =
            Screener::new(policy()).screen(&submission("message", None, "あいstrong-spam sale"));
        let spam = &v.categories[0];
        assert_eq!(
            spam.evidence[0],
            Evidence {
                field: Field::Body,
                start: 2,
                end: 13,
                text: "strong-spam".into()
            }
        );
    }

    #[test]
    fn screening_is_deterministic_and_the_hash_ignores_cosmetic_width_and_case() {
        let screener = Screener::new(policy());
        let a = screener.screen(&submission("message", None, "Hello World"));
        let b = screener.screen(&submission("message", None, "Hello World"));
        let c = screener.screen(&submission("message", None, "ＨＥＬＬＯ　world"));
        assert_eq!(a, b);
        assert_eq!(a.content_hash, c.content_hash);
        let d = screener.screen(&submission("message", None, "Hello Moon"));
        assert_ne!(a.content_hash, d.content_hash);
    }
}
