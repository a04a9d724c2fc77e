//! The screening desk: what happens to one submission, whoever runs it — the Lambda, `anshin
//! screen` and `anshin demo` all come through here, so the three cannot drift apart.
//!
//! 1. Screen it ([`Screener::screen_explained`]).
//! 2. Alert support at once on a `hide`, and on a `review` in a category the policy marks
//!    urgent ([`submission_alert`]).
//! 3. Turn a `hide` in an `auto_strike` category backed by a rule hit into a confirmed
//!    violation for user-escalation ([`auto_strikes`]).
//!
//! Screening is deterministic and every message carries a key derived from the submission,
//! its content and the policy, so a retried invocation repeats steps 2 and 3 harmlessly.

use tracing::info;

use super::evidence::redacted_excerpt;
use super::screener::{Screener, Screening};
use super::submission::Submission;
use crate::alert::{Alert, AlertError, AlertEventType, AlertSink, SubmissionAlert};
use crate::digest::stable_key;
use crate::input::Id;
use crate::policy::Policy;
use crate::taxonomy::Severity;
use crate::verdict::{Decision, ScoreSource, Verdict};
use crate::violation::{
    QueueError, ViolationConfirmed, ViolationQueue, ViolationSource, SCREENING_DECIDER,
};

/// What the desk did with one submission.
#[derive(Debug, Clone)]
pub struct ScreenOutcome {
    pub screening: Screening,
    /// The alert support was sent, if the verdict called for one.
    pub alert: Option<Alert>,
    /// The violations screening confirmed by itself and handed to user-escalation.
    pub strikes: Vec<ViolationConfirmed>,
}

/// A message the desk had to send did not go out. The caller should fail the invocation
/// so that it is retried; a retry sends the same messages with the same keys.
#[derive(Debug, thiserror::Error)]
pub enum ScreenDeskError {
    #[error(transparent)]
    Alert(#[from] AlertError),
    #[error(transparent)]
    Violation(#[from] QueueError),
}

/// Screens submissions and sends what their verdicts call for.
pub struct ScreenDesk<A, V> {
    screener: Screener,
    alerts: A,
    violations: V,
}

impl<A, V> ScreenDesk<A, V> {
    pub fn new(screener: Screener, alerts: A, violations: V) -> Self {
        ScreenDesk {
            screener,
            alerts,
            violations,
        }
    }

    pub fn screener(&self) -> &Screener {
        &self.screener
    }

    pub fn alerts(&self) -> &A {
        &self.alerts
    }

    pub fn violations(&self) -> &V {
        &self.violations
    }
}

impl<A: AlertSink, V: ViolationQueue> ScreenDesk<A, V> {
    pub async fn screen(&self, submission: &Submission) -> Result<ScreenOutcome, ScreenDeskError> {
        let screening = self.screener.screen_explained(submission);
        let verdict = &screening.verdict;
        // Ids, categories and scores only: the posting's text never reaches the logs.
        let flagged: Vec<String> = verdict
            .categories
            .iter()
            .map(|c| format!("{}={:.3}", c.category, c.score))
            .collect();
        info!(
            submission_id = %submission.submission_id(),
            decision = verdict.decision.as_str(),
            categories = ?flagged,
            policy_version = %verdict.policy_version,
            model_version = verdict.model_version.as_deref().unwrap_or("none"),
            "screened"
        );
        let alert = submission_alert(submission, verdict).map(Alert::Submission);
        if let Some(alert) = &alert {
            self.alerts.publish(alert).await?;
            info!(
                submission_id = %submission.submission_id(),
                dedupe_key = alert.dedupe_key(),
                event_type = alert.event_type().as_str(),
                "alerted support"
            );
        }
        let strikes = auto_strikes(submission, verdict, self.screener.policy());
        for violation in &strikes {
            self.violations.submit(violation).await?;
            info!(violation_id = %violation.violation_id, category = %violation.category, "automatic strike sent");
        }
        Ok(ScreenOutcome {
            screening,
            alert,
            strikes,
        })
    }
}

/// The alert a verdict calls for, if any (see [`Verdict::needs_alert`]).
pub fn submission_alert(submission: &Submission, verdict: &Verdict) -> Option<SubmissionAlert> {
    if !verdict.needs_alert() {
        return None;
    }
    let event_type = match verdict.decision {
        Decision::Hide => AlertEventType::SubmissionHidden,
        _ => AlertEventType::SubmissionHeldForReview,
    };
    Some(SubmissionAlert {
        event_type,
        // Same submission, same content, same decision, same policy → same key.
        dedupe_key: stable_key(&[
            &verdict.submission_id,
            &verdict.content_hash,
            verdict.decision.as_str(),
            &verdict.policy_version,
        ]),
        submission_id: verdict.submission_id.clone(),
        author_id: submission.author_id().to_string(),
        kind: submission.kind().as_str().to_owned(),
        decision: verdict.decision,
        categories: verdict.categories.iter().map(|c| c.category).collect(),
        severity: verdict.severity().unwrap_or(Severity::Low),
        policy_version: verdict.policy_version.clone(),
        model_version: verdict.model_version.clone(),
        content_hash: verdict.content_hash.clone(),
        excerpt: redacted_excerpt(submission.title(), submission.body(), verdict),
    })
}

/// The strikes a verdict makes by itself: a `hide` in a category the ladder marks
/// `auto_strike`, backed by a rule hit (a model score alone never strikes).
///
/// The violation id is derived from the submission, its content and the category, so a
/// re-screened or redelivered submission yields the same id and counts once.
pub fn auto_strikes(
    submission: &Submission,
    verdict: &Verdict,
    policy: &Policy,
) -> Vec<ViolationConfirmed> {
    if verdict.decision != Decision::Hide {
        return Vec::new();
    }
    verdict
        .categories
        .iter()
        .filter(|f| policy.ladder().auto_strike.contains(&f.category))
        .filter(|f| {
            f.source == ScoreSource::Rule && f.score >= policy.category(f.category).hide_threshold
        })
        .filter_map(|f| {
            let violation_id = Id::parse(
                "violation_id",
                &auto_strike_id(
                    submission.submission_id().as_str(),
                    f.category,
                    &verdict.content_hash,
                ),
            )
            .ok()?;
            Some(ViolationConfirmed {
                violation_id,
                user_id: submission.author_id().clone(),
                category: f.category,
                severity: policy.category(f.category).severity,
                source: ViolationSource::Screening,
                evidence: vec![format!("submission:{}", submission.submission_id())],
                decided_by: Id::parse("decided_by", SCREENING_DECIDER).ok()?,
            })
        })
        .collect()
}

/// The id of the automatic strike a submission's content earns in `category`: support's
/// desk derives it too, to revoke the strike when a person finds the hide was wrong.
pub fn auto_strike_id(
    submission_id: &str,
    category: crate::taxonomy::Category,
    content_hash: &str,
) -> String {
    format!(
        "auto-{}",
        stable_key(&[submission_id, category.id(), content_hash])
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::adapters::memory::{MemoryAlertSink, MemoryViolationQueue};
    use crate::taxonomy::Category;

    fn desk() -> ScreenDesk<MemoryAlertSink, MemoryViolationQueue> {
        ScreenDesk::new(
            Screener::new(Arc::new(Policy::embedded().unwrap())),
            MemoryAlertSink::collecting(),
            MemoryViolationQueue::collecting(),
        )
    }

    fn submission(json: &str) -> Submission {
        Submission::from_json_str(json).unwrap()
    }

    #[tokio::test]
    async fn a_crime_recruitment_hide_alerts_once_and_strikes_once_with_a_stable_id() {
        let desk = desk();
        let crime = submission(include_str!(
            "../../../events/screen-submission/crime-recruitment.json"
        ));
        let first = desk.screen(&crime).await.unwrap();
        assert_eq!(first.screening.verdict.decision, Decision::Hide);
        let alert = first.alert.as_ref().expect("a hide alerts support");
        assert_eq!(alert.event_type(), AlertEventType::SubmissionHidden);
        assert_eq!(first.strikes.len(), 1);
        assert_eq!(first.strikes[0].category, Category::IllegalWork);
        assert_eq!(first.strikes[0].decided_by.as_str(), SCREENING_DECIDER);

        // A retried invocation sends the same messages under the same keys.
        let again = desk.screen(&crime).await.unwrap();
        assert_eq!(again.alert.unwrap().dedupe_key(), alert.dedupe_key());
        assert_eq!(again.strikes[0].violation_id, first.strikes[0].violation_id);
        assert_eq!(desk.alerts().alerts().len(), 2);
        assert_eq!(desk.violations().violations().len(), 2);
    }

    #[tokio::test]
    async fn an_allowed_submission_sends_nothing() {
        let desk = desk();
        let clean = submission(include_str!(
            "../../../events/screen-submission/clean-job-posting.json"
        ));
        let outcome = desk.screen(&clean).await.unwrap();
        assert_eq!(outcome.screening.verdict.decision, Decision::Allow);
        assert!(outcome.alert.is_none() && outcome.strikes.is_empty());
        assert!(desk.alerts().alerts().is_empty());
        assert!(desk.violations().violations().is_empty());
    }

    #[tokio::test]
    async fn a_hide_outside_the_auto_strike_categories_alerts_without_striking() {
        let desk = desk();
        let contact = submission(include_str!(
            "../../../events/screen-submission/off-platform-contact-evasion.json"
        ));
        let outcome = desk.screen(&contact).await.unwrap();
        assert_eq!(outcome.screening.verdict.decision, Decision::Hide);
        assert!(outcome.alert.is_some());
        assert!(outcome.strikes.is_empty(), "{:?}", outcome.strikes);
    }
}
