//! The screening desk: what happens to one submission, whoever runs it — the Lambda, `anshin
//! screen` and `anshin demo` all come through here, so the three cannot drift apart.
//!
//! 1. Screen it ([`Screener::screen_explained`]).
//! 2. Alert support at once on a `hide`, and on a `review` in a category the policy marks
//!    urgent ([`submission_alert`]).
//! 3. Turn a `hide` in an `auto_strike` category backed by a rule hit into a confirmed
//!    violation for user-escalation ([`auto_strikes`]).
//! 4. Record the messages of 2 and 3 in one write ([`ScreeningRecorder`]), with support's
//!    case for a `review` or `hide` where the recorder keeps cases; the outbox delivers the
//!    messages at least once.
//!
//! Screening is deterministic and every message carries a key derived from the submission,
//! its content and the policy, so a retried invocation writes the same messages again,
//! harmlessly: the outbox holds one item per key.

use std::future::Future;

use tracing::info;

use super::evidence::redacted_excerpt;
use super::screener::{Screener, Screening};
use super::submission::Submission;
use crate::alert::{Alert, AlertEventType, SubmissionAlert};
use crate::digest::stable_key;
use crate::input::Id;
use crate::outbox::OutboxMessage;
use crate::policy::Policy;
use crate::store::StoreError;
use crate::taxonomy::Severity;
use crate::verdict::{Decision, ScoreSource, Verdict};
use crate::violation::{ViolationConfirmed, ViolationSource, SCREENING_DECIDER};

/// Where the desk writes what a verdict calls for, in one atomic step: the messages, for the
/// outbox to deliver, and — for a recorder that keeps support's cases — the case a `review`
/// or `hide` opens (`support::Case::for_verdict`). DynamoDB in AWS, memory locally. Called
/// for every verdict that holds or hides a submission (`messages` may be empty), never for
/// `allow`.
pub trait ScreeningRecorder: Send + Sync {
    fn record(
        &self,
        submission: &Submission,
        verdict: &Verdict,
        messages: Vec<OutboxMessage>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// What the desk did with one submission.
#[derive(Debug, Clone)]
pub struct ScreenOutcome {
    pub screening: Screening,
    /// The alert recorded for support, if the verdict called for one.
    pub alert: Option<Alert>,
    /// The violations screening confirmed by itself, recorded for user-escalation.
    pub strikes: Vec<ViolationConfirmed>,
}

/// What the verdict called for could not be recorded. The caller should fail the
/// invocation so that it is retried; a retry records the same messages under the same keys.
#[derive(Debug, thiserror::Error)]
pub enum ScreenDeskError {
    #[error("the screening's messages could not be recorded: {0}")]
    Record(#[from] StoreError),
    #[error("a message could not be encoded: {0}")]
    Encoding(String),
}

/// Screens submissions and records what their verdicts call for.
pub struct ScreenDesk<R> {
    screener: Screener,
    recorder: R,
}

impl<R> ScreenDesk<R> {
    pub fn new(screener: Screener, recorder: R) -> Self {
        ScreenDesk { screener, recorder }
    }

    pub fn screener(&self) -> &Screener {
        &self.screener
    }

    pub fn recorder(&self) -> &R {
        &self.recorder
    }
}

impl<R: ScreeningRecorder> ScreenDesk<R> {
    pub async fn screen(&self, submission: &Submission) -> Result<ScreenOutcome, ScreenDeskError> {
        self.deliver(submission, self.screener.screen_explained(submission))
            .await
    }

    /// Steps 2 and 3 for a submission this desk's screener has already screened — on
    /// another thread, say (`anshin screen` screens on every core and delivers in order).
    pub async fn deliver(
        &self,
        submission: &Submission,
        screening: Screening,
    ) -> Result<ScreenOutcome, ScreenDeskError> {
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
        let strikes = auto_strikes(submission, verdict, self.screener.policy());
        let mut messages = Vec::new();
        if let Some(alert) = &alert {
            messages.push(
                alert
                    .to_outbox()
                    .map_err(|e| ScreenDeskError::Encoding(e.to_string()))?,
            );
        }
        messages.extend(strikes.iter().map(ViolationConfirmed::to_outbox));
        if verdict.decision != Decision::Allow {
            self.recorder.record(submission, verdict, messages).await?;
            if let Some(alert) = &alert {
                info!(
                    submission_id = %submission.submission_id(),
                    dedupe_key = alert.dedupe_key(),
                    event_type = alert.event_type().as_str(),
                    "support alert recorded"
                );
            }
            for violation in &strikes {
                info!(violation_id = %violation.violation_id, category = %violation.category, "automatic strike recorded");
            }
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
    use crate::adapters::memory::{MemoryOutbox, MemoryScreeningRecorder};
    use crate::outbox::Destination;
    use crate::taxonomy::Category;

    fn desk() -> (ScreenDesk<MemoryScreeningRecorder>, Arc<MemoryOutbox>) {
        let outbox = MemoryOutbox::new();
        let desk = ScreenDesk::new(
            Screener::new(Arc::new(Policy::embedded().unwrap())),
            MemoryScreeningRecorder::new(Arc::clone(&outbox)),
        );
        (desk, outbox)
    }

    fn commands(outbox: &MemoryOutbox) -> usize {
        outbox
            .written()
            .iter()
            .filter(|m| m.destination == Destination::Escalation)
            .count()
    }

    fn submission(json: &str) -> Submission {
        Submission::from_json_str(json).unwrap()
    }

    #[tokio::test]
    async fn a_crime_recruitment_hide_alerts_once_and_strikes_once_with_a_stable_id() {
        let (desk, outbox) = desk();
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
        assert_eq!(outbox.alerts().len(), 2);
        assert_eq!(commands(&outbox), 2);
        assert_eq!(
            outbox.pending_count(),
            2,
            "the retry's messages are the same items"
        );
    }

    #[tokio::test]
    async fn an_allowed_submission_sends_nothing() {
        let (desk, outbox) = desk();
        let clean = submission(include_str!(
            "../../../events/screen-submission/clean-job-posting.json"
        ));
        let outcome = desk.screen(&clean).await.unwrap();
        assert_eq!(outcome.screening.verdict.decision, Decision::Allow);
        assert!(outcome.alert.is_none() && outcome.strikes.is_empty());
        assert!(outbox.written().is_empty());
    }

    #[tokio::test]
    async fn a_hide_outside_the_auto_strike_categories_alerts_without_striking() {
        let (desk, outbox) = desk();
        let contact = submission(include_str!(
            "../../../events/screen-submission/off-platform-contact-evasion.json"
        ));
        let outcome = desk.screen(&contact).await.unwrap();
        assert_eq!(outcome.screening.verdict.decision, Decision::Hide);
        assert!(outcome.alert.is_some());
        assert!(outcome.strikes.is_empty(), "{:?}", outcome.strikes);
        assert_eq!((outbox.alerts().len(), commands(&outbox)), (1, 0));
    }
}
