//! The outbox in memory, and a publisher that keeps (and, if asked, prints) what it is given.
//!
//! Memory stores write their messages here under the same lock as their change, as the
//! DynamoDB stores write them in the same transaction; an [`crate::outbox::OutboxRelay`] over
//! this outbox delivers them.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::alert::Alert;
use crate::outbox::{Destination, MessagePublisher, OutboxMessage, OutboxStore, PublishError};
use crate::store::StoreError;

#[derive(Debug, Default)]
struct Messages {
    /// Pending messages by id, with the order they were first written in.
    pending: BTreeMap<String, (u64, OutboxMessage)>,
    /// Every message ever written, in order: what the changes announced (when logging).
    written: Vec<OutboxMessage>,
    next: u64,
}

#[derive(Debug, Default)]
pub struct MemoryOutbox {
    messages: Mutex<Messages>,
    /// Keep [`MemoryOutbox::written`]; off for a long-running relay (`anshin screen`), whose
    /// memory must not grow with its input.
    unlogged: bool,
}

impl MemoryOutbox {
    /// An outbox that also logs every message written, for tests and the demo to read.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// An outbox that keeps only what is pending.
    pub fn unlogged() -> Arc<Self> {
        Arc::new(MemoryOutbox {
            messages: Mutex::default(),
            unlogged: true,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Messages> {
        // Writes are whole pushes and inserts; a poisoned lock is still consistent.
        self.messages.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Called by a memory store while it holds its own lock for the change.
    pub(crate) fn write(&self, messages: &[OutboxMessage]) {
        let mut m = self.lock();
        for message in messages {
            if !self.unlogged {
                m.written.push(message.clone());
            }
            if !m.pending.contains_key(&message.id) {
                let order = m.next;
                m.next += 1;
                m.pending
                    .insert(message.id.clone(), (order, message.clone()));
            }
        }
    }

    /// Every message written so far, in order, published or not.
    pub fn written(&self) -> Vec<OutboxMessage> {
        self.lock().written.clone()
    }

    /// The alerts among [`MemoryOutbox::written`].
    pub fn alerts(&self) -> Vec<Alert> {
        alerts_in(&self.written())
    }

    /// How many messages wait to be published.
    pub fn pending_count(&self) -> usize {
        self.lock().pending.len()
    }
}

impl OutboxStore for MemoryOutbox {
    /// In memory nothing races a stream, so every pending message is due.
    async fn pending(
        &self,
        _written_before: u64,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let m = self.lock();
        let mut pending: Vec<&(u64, OutboxMessage)> = m.pending.values().collect();
        pending.sort_by_key(|(order, _)| *order);
        Ok(pending
            .into_iter()
            .take(limit)
            .map(|(_, message)| message.clone())
            .collect())
    }

    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        self.lock().pending.remove(id);
        Ok(())
    }
}

/// The alerts among `messages`, in order.
pub fn alerts_in(messages: &[OutboxMessage]) -> Vec<Alert> {
    messages
        .iter()
        .filter(|m| m.destination == Destination::Alerts)
        .filter_map(|m| serde_json::from_str(&m.body).ok())
        .collect()
}

/// Keeps every message published to it, or prints each to stderr and keeps none (so that
/// `anshin screen` stays in the same memory whatever its input): alerts as `alert: {json}`,
/// commands as `violation: {json}` or `resolution: {json}`.
#[derive(Debug, Default)]
pub struct MemoryPublisher {
    published: Mutex<Vec<OutboxMessage>>,
    echo_to_stderr: bool,
}

impl MemoryPublisher {
    pub fn collecting() -> Self {
        Self::default()
    }

    pub fn printing() -> Self {
        MemoryPublisher {
            published: Mutex::default(),
            echo_to_stderr: true,
        }
    }

    pub fn published(&self) -> Vec<OutboxMessage> {
        self.published
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The alerts published so far, in order.
    pub fn alerts(&self) -> Vec<Alert> {
        alerts_in(&self.published())
    }
}

impl MessagePublisher for MemoryPublisher {
    async fn publish(&self, message: &OutboxMessage) -> Result<(), PublishError> {
        if self.echo_to_stderr {
            let label = match message.destination {
                Destination::Alerts => "alert",
                Destination::Escalation => "violation",
                Destination::Resolutions => "resolution",
            };
            writeln!(std::io::stderr(), "{label}: {}", message.body).map_err(|e| PublishError {
                message_id: message.id.clone(),
                destination: message.destination,
                reason: e.to_string(),
            })?;
        } else {
            self.published
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(message.clone());
        }
        Ok(())
    }
}
