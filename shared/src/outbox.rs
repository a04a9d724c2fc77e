//! The outbox: how every message another function or the platform acts on leaves anshin, at
//! least once, even if the process dies right after the change that caused it.
//!
//! A state change and the messages it must announce are written in one atomic step (one
//! DynamoDB transaction, or one lock in memory): the strike and its `account_level_changed`
//! alert, the report and its threshold alert, the resolution and its `violation_confirmed`
//! command, the screening and its alert and automatic strikes. A separate path, the
//! [`OutboxRelay`] (driven by the table's stream in AWS, by a scheduled sweep as a backstop,
//! and inline by the CLI and the demo), publishes each pending message and only then deletes
//! it. A crash between the write and the publish leaves the message pending; a crash between
//! the publish and the delete publishes it again — consumers drop repeats by the message's
//! dedupe key, and drop stale account alerts by their sequence number.

use std::future::Future;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use crate::input::Vocabulary;
use crate::store::StoreError;

/// One message attribute, for subscription filter policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum AttributeValue {
    String(String),
    /// A JSON array of strings (SNS `String.Array`).
    StringArray(Vec<String>),
}

/// Where a message goes: which topic, hence which subscribers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Destination {
    /// Support, and the platform through filtered subscriptions.
    Alerts,
    /// user-escalation's commands.
    Escalation,
    /// report-intake's resolutions.
    Resolutions,
}

impl Vocabulary for Destination {
    const ALL: &'static [Self] = &[
        Destination::Alerts,
        Destination::Escalation,
        Destination::Resolutions,
    ];
    fn as_str(self) -> &'static str {
        match self {
            Destination::Alerts => "alerts",
            Destination::Escalation => "escalation",
            Destination::Resolutions => "resolutions",
        }
    }
}

/// A message waiting to be published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// Stable: the same message written twice is one pending item, published under one id.
    pub id: String,
    pub destination: Destination,
    /// A short subject line for e-mail subscriptions; ids only.
    pub subject: Option<String>,
    /// The message itself, JSON.
    pub body: String,
    pub attributes: Vec<(String, AttributeValue)>,
}

/// A message could not be published. Safe to log: no message body in it.
#[derive(Debug, thiserror::Error)]
#[error("publishing {message_id} to {destination:?} failed: {reason}")]
pub struct PublishError {
    pub message_id: String,
    pub destination: Destination,
    pub reason: String,
}

/// Publishes a message to its destination: SNS in AWS, collectors or direct calls locally.
pub trait MessagePublisher: Send + Sync {
    fn publish(
        &self,
        message: &OutboxMessage,
    ) -> impl Future<Output = Result<(), PublishError>> + Send;
}

/// Where pending messages wait. Writing them is each store's own business (inside its
/// transactions); the relay only lists and deletes.
pub trait OutboxStore: Send + Sync {
    /// Up to `limit` pending messages written at or before `written_before` (seconds since
    /// the epoch), oldest first.
    fn pending(
        &self,
        written_before: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboxMessage>, StoreError>> + Send;

    /// Removes a published message; removing one that is gone already is not an error.
    fn delete(&self, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl<T: MessagePublisher> MessagePublisher for Arc<T> {
    fn publish(
        &self,
        message: &OutboxMessage,
    ) -> impl Future<Output = Result<(), PublishError>> + Send {
        T::publish(self, message)
    }
}

impl<T: OutboxStore> OutboxStore for Arc<T> {
    fn pending(
        &self,
        written_before: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboxMessage>, StoreError>> + Send {
        T::pending(self, written_before, limit)
    }

    fn delete(&self, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        T::delete(self, id)
    }
}

/// What one pass of the relay did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayReport {
    /// Published and removed.
    pub delivered: Vec<String>,
    /// Not published (still pending, to be retried), with why.
    pub failed: Vec<(String, String)>,
}

/// Publishes pending messages, then removes them.
pub struct OutboxRelay<S, P> {
    store: S,
    publisher: P,
}

impl<S: OutboxStore, P: MessagePublisher> OutboxRelay<S, P> {
    pub fn new(store: S, publisher: P) -> Self {
        OutboxRelay { store, publisher }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn publisher(&self) -> &P {
        &self.publisher
    }

    /// Publishes `messages` (read from the table's stream, or from [`OutboxStore::pending`])
    /// one by one; a message is removed only once its destination accepted it.
    pub async fn deliver(&self, messages: Vec<OutboxMessage>) -> RelayReport {
        let mut report = RelayReport::default();
        for message in messages {
            if let Err(error) = self.publisher.publish(&message).await {
                warn!(message_id = %message.id, destination = message.destination.as_str(), %error, "outbox message not published; it stays pending");
                report.failed.push((message.id, error.reason));
                continue;
            }
            match self.store.delete(&message.id).await {
                Ok(()) => {
                    info!(message_id = %message.id, destination = message.destination.as_str(), "outbox message published");
                    report.delivered.push(message.id);
                }
                // Published but still pending: it will be published again, and its
                // subscribers drop the repeat by its dedupe key.
                Err(error) => {
                    warn!(message_id = %message.id, %error, "published, but not removed from the outbox");
                    report.failed.push((message.id, error.to_string()));
                }
            }
        }
        report
    }

    /// One sweep: every message pending since `written_before`, at most `limit` of them.
    pub async fn sweep(
        &self,
        written_before: u64,
        limit: usize,
    ) -> Result<RelayReport, StoreError> {
        let pending = self.store.pending(written_before, limit).await?;
        Ok(self.deliver(pending).await)
    }

    /// Sweeps until nothing is left to deliver — for a process that runs the relay itself
    /// (the CLI, the demo, tests), where delivering a command may write further messages.
    /// Stops at the first pass with a failure, leaving those messages pending.
    pub async fn drain(&self) -> Result<RelayReport, StoreError> {
        let mut total = RelayReport::default();
        loop {
            let pass = self.sweep(u64::MAX, 100).await?;
            let done = pass.delivered.is_empty() || !pass.failed.is_empty();
            total.delivered.extend(pass.delivered);
            total.failed.extend(pass.failed);
            if done {
                return Ok(total);
            }
        }
    }
}
