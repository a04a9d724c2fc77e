//! The report-intake Lambda: a user's report in (or support's resolution of one), a typed
//! answer out. The reporter's id comes from the platform's authenticated context, which
//! the platform puts in `reporter_id`; never from the report's free text.
//!
//! A report that makes categories of its target cross their threshold is recorded with
//! the threshold alert and support's case about the crossing (`support::Case::for_crossing`),
//! in one transaction: no crossing without its case, even if this process dies right after.
//!
//! Resolutions come here rather than to user-escalation because this function owns the
//! report's status and the reporter's track record; a confirmed report is handed on to
//! user-escalation as a violation whose id is derived from the report.
//!
//! Two doors: the platform invokes the function directly with one report or resolution,
//! and support's console writes resolutions to the outbox, whose publisher puts them on an
//! SNS topic the function subscribes to (one per record). Reports never come through SNS:
//! their reporter's id must come from the platform's authenticated context, which a topic
//! message does not carry.

use anshin_core::delivery::Delivery;
use anshin_core::metrics::{self, Unit};
use anshin_core::reports::{ReportCommand, ReportDesk, ReportError, ReportResponse, ReportStore};
use anshin_core::InvalidInput;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use tracing::warn;

#[derive(Debug, thiserror::Error)]
pub enum ReportIntakeError {
    #[error("invalid input: {0}")]
    InvalidInput(#[from] InvalidInput),
    #[error("{0}")]
    Report(#[from] ReportError),
}

impl From<ReportIntakeError> for Diagnostic {
    fn from(error: ReportIntakeError) -> Self {
        let error_type = match &error {
            ReportIntakeError::InvalidInput(_) => "InvalidInput",
            ReportIntakeError::Report(e) => match e {
                ReportError::RateLimited { .. } => "RateLimited",
                ReportError::UnknownReport(_) => "NotFound",
                ReportError::ConflictingResolution(_) => "Conflict",
                ReportError::CategoryNeeded => "InvalidInput",
                ReportError::Contention => "Contention",
                ReportError::Store(store) => store.error_type(),
            },
        };
        Diagnostic {
            error_type: error_type.to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// Reads one report from a direct invocation, or one resolution per SNS record; what each
/// door may carry is the core's rule ([`ReportCommand::from_invocation`]).
pub fn commands(payload: Value) -> Result<(Vec<ReportCommand>, bool), InvalidInput> {
    ReportCommand::from_invocation(payload).map(Delivery::into_commands)
}

/// What one invocation answers: one answer for a direct command, one per record for SNS.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Reply {
    One(ReportResponse),
    Batch(Vec<ReportResponse>),
}

/// Serves one invocation within its deadline: no retry loop below pauses past the time
/// Lambda gives it ([`anshin_core::deadline`]).
pub async fn handle<S: ReportStore>(
    event: LambdaEvent<Value>,
    desk: &ReportDesk<S>,
) -> Result<Reply, ReportIntakeError> {
    anshin_core::deadline::for_invocation(event.context.deadline, serve(event, desk)).await
}

async fn serve<S: ReportStore>(
    event: LambdaEvent<Value>,
    desk: &ReportDesk<S>,
) -> Result<Reply, ReportIntakeError> {
    let request_id = event.context.request_id.clone();
    let (commands, batched) = commands(event.payload).inspect_err(|e| {
        count("invalid");
        warn!(%request_id, field = %e.field, reason = %e.reason, "refused report command");
    })?;
    let mut answers = Vec::with_capacity(commands.len());
    for command in commands {
        let answer = desk.handle(command).await.map_err(|e| {
            if matches!(e, ReportError::RateLimited { .. }) {
                count("rate_limited");
            }
            warn!(%request_id, error = %e, "report command failed");
            ReportIntakeError::from(e)
        })?;
        if let ReportResponse::Accepted(accepted) = &answer {
            count(if accepted.new {
                "accepted"
            } else {
                "duplicate"
            });
            if !accepted.crossed.is_empty() {
                metrics::emit(
                    "report-intake",
                    &[("outcome", "threshold_crossed")],
                    &[("Crossings", 1.0, Unit::Count)],
                );
            }
        }
        answers.push(answer);
    }
    Ok(if batched {
        Reply::Batch(answers)
    } else {
        Reply::One(answers.remove(0))
    })
}

/// Reports by outcome: accepted, duplicate, rate_limited, invalid.
fn count(outcome: &str) {
    metrics::emit(
        "report-intake",
        &[("outcome", outcome)],
        &[("Reports", 1.0, Unit::Count)],
    );
}
