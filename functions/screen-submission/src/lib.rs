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
//! A `review` or `hide` also opens a case for support's desk (`support::Case::for_verdict`,
//! keyed by the submission and its content hash, so a retried screening opens one case):
//! one DynamoDB transaction and one KMS data key, about 10–20 ms on the verdicts that hold
//! or hide a posting, nothing on `allow`. The platform waits for it because a verdict that
//! holds a posting no one can find in the queue would leave the posting held forever; a
//! failed write fails the invocation, and the platform's retry opens the case.
//!
//! The flow itself (screen → alert → automatic strikes) is the core's `ScreenDesk`, which
//! `anshin screen` and `anshin demo` run too; this crate adds the Lambda's own concerns
//! (refusals, metrics, the error types the caller sees). `main.rs` only wires the AWS
//! adapters; everything here is testable with memory ones.

use anshin_core::alert::AlertSink;
use anshin_core::clock::{Clock, SystemClock};
use anshin_core::metrics::{self, Unit};
use anshin_core::screening::{ScreenDesk, ScreenDeskError, Submission};
use anshin_core::store::StoreError;
use anshin_core::support::{open_case, Case, CaseStore};
use anshin_core::verdict::Verdict;
use anshin_core::violation::ViolationQueue;
use anshin_core::InvalidInput;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use tracing::{warn, Instrument};

const FUNCTION: &str = "screen-submission";

/// What can go wrong, split by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum ScreenSubmissionError {
    /// The payload is wrong; retrying it will not help.
    #[error("invalid input: {0}")]
    InvalidInput(#[from] InvalidInput),
    /// Support could not be told, or an automatic strike could not be handed on; the
    /// invocation fails so that it is retried. Screening is deterministic and every message
    /// carries a key derived from the submission, so a retry is harmless.
    #[error("{0}")]
    Delivery(#[from] ScreenDeskError),
    /// The case for support could not be opened; the invocation fails so that it is
    /// retried (the case id is derived from the submission: the retry opens one case).
    #[error("case not opened: {0}")]
    CaseStore(#[from] StoreError),
}

impl From<ScreenSubmissionError> for Diagnostic {
    fn from(error: ScreenSubmissionError) -> Self {
        let error_type = match &error {
            ScreenSubmissionError::InvalidInput(_) => "InvalidInput",
            ScreenSubmissionError::Delivery(ScreenDeskError::Alert(_)) => "AlertDeliveryFailed",
            ScreenSubmissionError::Delivery(ScreenDeskError::Violation(_)) => {
                "ViolationDeliveryFailed"
            }
            ScreenSubmissionError::CaseStore(_) => "CaseStoreUnavailable",
        };
        Diagnostic {
            error_type: error_type.to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// Screens the submission in `event`; the desk alerts support and hands on automatic
/// strikes when the verdict calls for them, and a `review` or `hide` opens a case.
pub async fn handle<A: AlertSink, V: ViolationQueue, C: CaseStore>(
    event: LambdaEvent<Value>,
    desk: &ScreenDesk<A, V>,
    cases: &C,
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
        let outcome = desk.screen(&submission).await?;
        if let Some(case) =
            Case::for_verdict(&submission, &outcome.screening.verdict, SystemClock.now())
        {
            open_case(cases, &case).await?;
        }
        if let Some(shadow) = &outcome.screening.shadow {
            // Counted, never acted on: the rollout decision reads this metric.
            metrics::emit(
                FUNCTION,
                &[(
                    "shadow_model_version",
                    shadow.model_version.as_deref().unwrap_or("none"),
                )],
                &[
                    ("ShadowCompared", 1.0, Unit::Count),
                    (
                        "ShadowDisagreement",
                        if shadow.agrees { 0.0 } else { 1.0 },
                        Unit::Count,
                    ),
                ],
            );
        }
        let verdict = outcome.screening.verdict;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        metrics::emit(
            FUNCTION,
            &[("decision", verdict.decision.as_str())],
            &[
                ("Screened", 1.0, Unit::Count),
                ("LatencyMs", latency_ms, Unit::Milliseconds),
            ],
        );
        for finding in &verdict.categories {
            metrics::emit(
                FUNCTION,
                &[("category", finding.category.id())],
                &[("CategoryFlagged", 1.0, Unit::Count)],
            );
        }
        Ok(verdict)
    }
    .instrument(span)
    .await
}
