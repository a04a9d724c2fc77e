//! The screen-submission Lambda: one submission in, one verdict out; support alerted at
//! once on `hide`, and on `review` in a category the policy marks urgent.
//!
//! A `hide` in an `auto_strike` category (crime recruitment, by default) also becomes a
//! confirmed violation, sent to user-escalation through SNS rather than written to the
//! ledger here: screening stays stateless and needs no DynamoDB rights, the platform's
//! wait does not include a ledger transaction, and SNS retries delivery (with a
//! dead-letter queue behind user-escalation). The violation id is derived from the
//! submission and its content, so however often it is delivered it counts once.
//!
//! `main.rs` only wires the AWS adapters; everything here is testable with embedded ones.

use anshin_core::alert::{Alert, AlertError, AlertSink, SubmissionAlert};
use anshin_core::escalation::{auto_strikes, QueueError, ViolationQueue};
use anshin_core::metrics::{self, Unit};
use anshin_core::screen::Screener;
use anshin_core::submission::Submission;
use anshin_core::verdict::Verdict;
use anshin_core::InvalidInput;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use tracing::{info, warn, Instrument};

const FUNCTION: &str = "screen-submission";

/// What the handler needs, built once per cold start.
pub struct Deps<A, V> {
    pub screener: Screener,
    pub alerts: A,
    pub violations: V,
}

/// What can go wrong, split by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum ScreenSubmissionError {
    /// The payload is wrong; retrying it will not help.
    #[error("invalid input: {0}")]
    InvalidInput(#[from] InvalidInput),
    /// Support could not be told; the invocation fails so that it is retried. Screening
    /// is deterministic and the alert carries a dedupe key, so a retry is harmless.
    #[error("{0}")]
    AlertDelivery(#[from] AlertError),
    /// An automatic strike could not be handed on; retried like an alert.
    #[error("{0}")]
    ViolationDelivery(#[from] QueueError),
}

impl From<ScreenSubmissionError> for Diagnostic {
    fn from(error: ScreenSubmissionError) -> Self {
        let error_type = match &error {
            ScreenSubmissionError::InvalidInput(_) => "InvalidInput",
            ScreenSubmissionError::AlertDelivery(_) => "AlertDeliveryFailed",
            ScreenSubmissionError::ViolationDelivery(_) => "ViolationDeliveryFailed",
        };
        Diagnostic {
            error_type: error_type.to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// Screens the submission in `event` and alerts support when the verdict calls for it.
pub async fn handle<A: AlertSink, V: ViolationQueue>(
    event: LambdaEvent<Value>,
    deps: &Deps<A, V>,
) -> Result<Verdict, ScreenSubmissionError> {
    let started = std::time::Instant::now();
    let request_id = event.context.request_id.clone();
    let submission = match Submission::from_json(event.payload) {
        Ok(submission) => submission,
        Err(error) => {
            metrics::emit(
                FUNCTION,
                &[("outcome", "refused")],
                &[("Refused", 1.0, Unit::Count)],
            );
            warn!(%request_id, field = %error.field, reason = %error.reason, "refused submission");
            return Err(error.into());
        }
    };
    let span = tracing::info_span!(
        "screen_submission",
        %request_id,
        submission_id = %submission.submission_id(),
        author_id = %submission.author_id(),
        kind = submission.kind().as_str(),
    );
    async {
        let screening = deps.screener.screen_explained(&submission);
        let verdict = screening.verdict;
        // Ids, categories and scores only: the posting's text never reaches the logs.
        let flagged: Vec<String> = verdict
            .categories
            .iter()
            .map(|c| format!("{}={:.3}", c.category, c.score))
            .collect();
        info!(
            decision = verdict.decision.as_str(),
            categories = ?flagged,
            policy_version = %verdict.policy_version,
            model_version = verdict.model_version.as_deref().unwrap_or("none"),
            "screened"
        );
        if let Some(shadow) = &screening.shadow {
            // Counted, never acted on: the rollout decision reads this metric.
            metrics::emit(
                FUNCTION,
                &[("shadow_model_version", shadow.model_version.as_deref().unwrap_or("none"))],
                &[
                    ("ShadowCompared", 1.0, Unit::Count),
                    ("ShadowDisagreement", if shadow.agrees { 0.0 } else { 1.0 }, Unit::Count),
                ],
            );
        }
        if let Some(alert) = SubmissionAlert::for_verdict(&submission, &verdict) {
            let alert = Alert::Submission(alert);
            deps.alerts.publish(&alert).await?;
            info!(
                dedupe_key = alert.dedupe_key(),
                event_type = alert.event_type().as_str(),
                "alerted support"
            );
        }
        for violation in auto_strikes(&submission, &verdict, deps.screener.policy()) {
            deps.violations.submit(&violation).await?;
            info!(violation_id = %violation.violation_id, category = %violation.category, "automatic strike sent");
        }
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        metrics::emit(
            FUNCTION,
            &[("decision", verdict.decision.as_str())],
            &[("Screened", 1.0, Unit::Count), ("LatencyMs", latency_ms, Unit::Milliseconds)],
        );
        for finding in &verdict.categories {
            metrics::emit(FUNCTION, &[("category", finding.category.id())], &[("CategoryFlagged", 1.0, Unit::Count)]);
        }
        Ok(verdict)
    }
    .instrument(span)
    .await
}
