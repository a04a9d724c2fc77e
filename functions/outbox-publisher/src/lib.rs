//! The outbox-publisher Lambda: every message a state change wrote to the table's outbox
//! reaches its SNS topic at least once.
//!
//! Two doors, one relay ([`anshin_core::outbox::OutboxRelay`]):
//! - the table's stream (new images): each new outbox item is published and then deleted.
//!   A record that fails is reported as a batch item failure, so Lambda retries it (and
//!   only it); after the retries it goes to the function's on-failure queue.
//! - a schedule (EventBridge): a sweep publishes whatever is still pending after a grace
//!   period — a stream record that was dropped, a delete that failed after a publish.
//!
//! A message published twice is harmless: subscribers drop repeats by its dedupe key.

use anshin_core::adapters::aws::dynamodb::outbox::message_from_item;
use anshin_core::clock::Clock;
use anshin_core::metrics::{self, Unit};
use anshin_core::outbox::{MessagePublisher, OutboxMessage, OutboxRelay, OutboxStore};
use anshin_core::store::StoreError;
use anshin_core::InvalidInput;
use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use tracing::warn;

const FUNCTION: &str = "outbox-publisher";
/// A sweep leaves alone what the stream is probably still delivering.
pub const SWEEP_GRACE_SECONDS: u64 = 60;
/// Messages one sweep takes at most; the next sweep takes the rest.
pub const SWEEP_LIMIT: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum PublisherError {
    #[error("invalid input: {0}")]
    InvalidInput(#[from] InvalidInput),
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A sweep could not publish everything it found; the next sweep tries again.
    #[error("{failed} outbox messages not published; they stay pending")]
    Undelivered { failed: usize },
}

impl From<PublisherError> for Diagnostic {
    fn from(error: PublisherError) -> Self {
        let error_type = match &error {
            PublisherError::InvalidInput(_) => "InvalidInput",
            PublisherError::Store(StoreError::Unavailable(_)) => "StoreUnavailable",
            PublisherError::Store(_) => "InternalError",
            PublisherError::Undelivered { .. } => "PublishFailed",
        };
        Diagnostic {
            error_type: error_type.to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// A stream record Lambda should deliver again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchItemFailure {
    pub item_identifier: String,
}

/// What one invocation answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Reply {
    /// For a stream batch: the records to retry (empty when all went out).
    Stream {
        #[serde(rename = "batchItemFailures")]
        batch_item_failures: Vec<BatchItemFailure>,
    },
    /// For a sweep: how many messages went out.
    Sweep { delivered: usize },
}

/// Whether `payload` is a stream batch (records from `aws:dynamodb`).
fn is_stream_event(payload: &Value) -> bool {
    payload
        .get("Records")
        .and_then(Value::as_array)
        .is_some_and(|records| {
            records
                .iter()
                .any(|r| r.get("eventSource").and_then(Value::as_str) == Some("aws:dynamodb"))
        })
}

pub async fn handle<S: OutboxStore, P: MessagePublisher>(
    event: LambdaEvent<Value>,
    relay: &OutboxRelay<S, P>,
    clock: &dyn Clock,
) -> Result<Reply, PublisherError> {
    if is_stream_event(&event.payload) {
        let batch: StreamEvent = serde_path_to_error::deserialize(event.payload).map_err(|e| {
            InvalidInput::new(&e.path().to_string(), "is missing or has the wrong type")
        })?;
        return Ok(deliver_stream(batch, relay).await);
    }
    // Anything else is the schedule's tick: its content does not matter.
    let report = relay
        .sweep(clock.now().saturating_sub(SWEEP_GRACE_SECONDS), SWEEP_LIMIT)
        .await?;
    count(report.delivered.len(), report.failed.len());
    if !report.failed.is_empty() {
        return Err(PublisherError::Undelivered {
            failed: report.failed.len(),
        });
    }
    Ok(Reply::Sweep {
        delivered: report.delivered.len(),
    })
}

/// Publishes the outbox items among the batch's new images; the others (every other item
/// of the table, and removals) are not messages.
async fn deliver_stream<S: OutboxStore, P: MessagePublisher>(
    batch: StreamEvent,
    relay: &OutboxRelay<S, P>,
) -> Reply {
    let mut failures = Vec::new();
    let mut delivered = 0;
    for record in batch.records {
        if !matches!(record.event_name.as_str(), "INSERT" | "MODIFY") {
            continue;
        }
        let identifier = record
            .change
            .sequence_number
            .clone()
            .unwrap_or_else(|| record.event_id.clone());
        let message: OutboxMessage = match message_from_item(record.change.new_image) {
            Ok(Some(message)) => message,
            Ok(None) => continue,
            Err(error) => {
                // Retrying cannot fix an item this build cannot read: say so and move on;
                // the sweep will meet it again, and the alarm on errors tells a person.
                warn!(sequence_number = %identifier, %error, "an outbox item could not be read");
                continue;
            }
        };
        let report = relay.deliver(vec![message]).await;
        delivered += report.delivered.len();
        if !report.failed.is_empty() {
            failures.push(BatchItemFailure {
                item_identifier: identifier,
            });
        }
    }
    count(delivered, failures.len());
    Reply::Stream {
        batch_item_failures: failures,
    }
}

fn count(delivered: usize, failed: usize) {
    metrics::emit(
        FUNCTION,
        &[("outcome", "relayed")],
        &[
            ("Published", delivered as f64, Unit::Count),
            ("PublishFailed", failed as f64, Unit::Count),
        ],
    );
}
