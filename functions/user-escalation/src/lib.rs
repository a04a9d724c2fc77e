//! The user-escalation Lambda: violation confirmed / revoked, withdrawal confirmed,
//! reinstated, and standing queries — invoked directly with one command, or through SNS
//! with one command per record.
//!
//! An SNS batch is handled record by record and fails as a whole if any record fails, so
//! that Lambda retries it; every command is idempotent, so the records that had already
//! succeeded change nothing the second time.
//!
//! The EventBridge schedule's tick runs the expiry sweep: accounts whose strikes have
//! expired get their level lowered, written and announced.

use anshin_core::delivery::{self, Delivery};
use anshin_core::escalation::{
    EscalationCommand, EscalationError, EscalationResponse, Escalator, LedgerStore,
};
use anshin_core::input::Vocabulary;
use anshin_core::metrics::{self, Unit};
use anshin_core::store::StoreError;
use anshin_core::InvalidInput;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use tracing::{info, warn};

#[derive(Debug, thiserror::Error)]
pub enum UserEscalationError {
    #[error("invalid input: {0}")]
    InvalidInput(#[from] InvalidInput),
    #[error("{0}")]
    Escalation(#[from] EscalationError),
}

impl From<UserEscalationError> for Diagnostic {
    fn from(error: UserEscalationError) -> Self {
        let error_type = match &error {
            UserEscalationError::InvalidInput(_) => "InvalidInput",
            UserEscalationError::Escalation(e) => match e {
                EscalationError::UnknownViolation(_) => "NotFound",
                EscalationError::ViolationIdConflict { .. }
                | EscalationError::NoPendingWithdrawal(_)
                | EscalationError::SameApprover { .. } => "Conflict",
                EscalationError::Contention(_) => "Contention",
                EscalationError::Store(StoreError::Unavailable(_)) => "LedgerUnavailable",
                EscalationError::Store(StoreError::Malformed(_) | StoreError::Inconsistent(_)) => {
                    "InternalError"
                }
            },
        };
        Diagnostic {
            error_type: error_type.to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// What one invocation answers: one response for a direct command, one per record for SNS.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Reply {
    One(EscalationResponse),
    Batch(Vec<EscalationResponse>),
}

/// Reads the invocation as an SNS event if it looks like one (one command per record),
/// else as a single command.
pub fn commands(payload: Value) -> Result<(Vec<EscalationCommand>, bool), InvalidInput> {
    delivery::read(
        payload,
        EscalationCommand::from_json,
        EscalationCommand::from_json,
    )
    .map(Delivery::into_commands)
}

/// Accounts one scheduled sweep settles at most; the next tick takes the rest.
pub const SWEEP_LIMIT: usize = 500;

/// Whether `payload` is the EventBridge schedule's tick (its content does not matter).
fn is_scheduled_tick(payload: &Value) -> bool {
    payload.get("source").and_then(Value::as_str) == Some("aws.events")
}

pub async fn handle<S: LedgerStore>(
    event: LambdaEvent<Value>,
    escalator: &Escalator<S>,
) -> Result<Reply, UserEscalationError> {
    let request_id = event.context.request_id.clone();
    if is_scheduled_tick(&event.payload) {
        let swept = escalator
            .sweep_expired(SWEEP_LIMIT)
            .await
            .inspect_err(|e| {
                warn!(%request_id, error = %e, "expiry sweep failed");
            })?;
        info!(%request_id, checked = swept.checked, changed = swept.changed, "expiry sweep done");
        metrics::emit(
            "user-escalation",
            &[("outcome", "expiry_sweep")],
            &[("LevelsLoweredByExpiry", swept.changed as f64, Unit::Count)],
        );
        return Ok(Reply::One(EscalationResponse::Sweep(swept)));
    }
    let (commands, batched) = commands(event.payload).inspect_err(|e| {
        warn!(%request_id, field = %e.field, reason = %e.reason, "refused escalation command");
    })?;
    let started = std::time::Instant::now();
    let mut responses = Vec::with_capacity(commands.len());
    for command in commands {
        let kind = command.command_type().as_str();
        let response = escalator.handle(command).await.inspect_err(|e| {
            warn!(%request_id, command = kind, error = %e, "escalation command failed");
        })?;
        info!(%request_id, command = kind, "escalation command done");
        if let EscalationResponse::Outcome(outcome) = &response {
            if let Some(change) = outcome.level_change() {
                metrics::emit(
                    "user-escalation",
                    &[("level", change.to.as_str())],
                    &[("LevelChanged", 1.0, Unit::Count)],
                );
            }
        }
        responses.push(response);
    }
    metrics::emit(
        "user-escalation",
        &[("outcome", "done")],
        &[(
            "LatencyMs",
            started.elapsed().as_secs_f64() * 1000.0,
            Unit::Milliseconds,
        )],
    );
    Ok(if batched {
        Reply::Batch(responses)
    } else {
        Reply::One(responses.remove(0))
    })
}
