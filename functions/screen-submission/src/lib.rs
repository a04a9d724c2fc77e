//! The screen-submission Lambda: one submission in, one verdict out; support alerted at
//! once on `hide`, and on `review` in a category the policy marks urgent.
//!
//! A `hide` in an `auto_strike` category (crime recruitment, by default) also becomes a
//! confirmed violation for user-escalation. A `review` or `hide` also opens a case for
//! support's desk (`support::Case::for_verdict`, keyed by the submission and its content
//! hash, so a retried screening opens one case). The alert, the violation and the case are
//! written in one transaction before the verdict is answered — one write, and only for the
//! verdicts that hold or hide a posting — and the outbox publisher delivers the messages,
//! so nothing is lost if this process dies after answering, and no held posting is missing
//! from support's queue. The violation id is derived from the submission and its content,
//! so however often it is delivered it counts once.
//!
//! The flow itself (screen → alert → automatic strikes) is the core's `ScreenDesk`, which
//! `anshin screen` and `anshin demo` run too; this crate adds the Lambda's own concerns
//! (refusals, metrics, the error types the caller sees). `main.rs` only wires the AWS
//! adapters; everything here is testable with memory ones.

use anshin_core::metrics::{self, Unit};
use anshin_core::screening::{ScreenDesk, ScreenDeskError, ScreeningRecorder, Submission};
use anshin_core::verdict::Verdict;
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
    /// The alert, the automatic strikes or support's case could not be recorded; the
    /// invocation fails so that it is retried. Screening is deterministic and every message
    /// and the case carry a key derived from the submission, so a retry is harmless.
    #[error("{0}")]
    Record(#[from] ScreenDeskError),
}

impl From<ScreenSubmissionError> for Diagnostic {
    fn from(error: ScreenSubmissionError) -> Self {
        let error_type = match &error {
            ScreenSubmissionError::InvalidInput(_) => "InvalidInput",
            ScreenSubmissionError::Record(ScreenDeskError::Record(store)) => store.error_type(),
            ScreenSubmissionError::Record(ScreenDeskError::Encoding(_)) => "InternalError",
        };
        Diagnostic {
            error_type: error_type.to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// Screens the submission in `event`; the desk records the alert, the automatic strikes
/// and support's case when the verdict calls for them.
///
/// Serves one invocation within its deadline: no retry loop below pauses past the time
/// Lambda gives it ([`anshin_core::deadline`]).
pub async fn handle<R: ScreeningRecorder>(
    event: LambdaEvent<Value>,
    desk: &ScreenDesk<R>,
) -> Result<Verdict, ScreenSubmissionError> {
    anshin_core::deadline::for_invocation(event.context.deadline, serve(event, desk)).await
}

async fn serve<R: ScreeningRecorder>(
    event: LambdaEvent<Value>,
    desk: &ScreenDesk<R>,
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
