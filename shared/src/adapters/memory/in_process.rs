//! Delivering outbox messages inside one process, the way SNS and the functions deliver them
//! in AWS: a command for user-escalation runs on an escalator, a resolution on a report desk,
//! and an alert is kept (and printed when asked) for whoever reads it.

use std::sync::Arc;

use serde_json::Value;

use super::outbox::MemoryPublisher;
use crate::escalation::{EscalationCommand, Escalator, LedgerStore};
use crate::outbox::{Destination, MessagePublisher, OutboxMessage, PublishError};
use crate::reports::{ReportCommand, ReportDesk, ReportStore};

pub struct InProcessPublisher<L, R> {
    escalator: Arc<Escalator<L>>,
    reports: Option<Arc<ReportDesk<R>>>,
    alerts: MemoryPublisher,
}

impl<L, R> InProcessPublisher<L, R> {
    /// Commands go to `escalator`, resolutions to `reports` (refused without one), alerts to
    /// `alerts`.
    pub fn new(
        escalator: Arc<Escalator<L>>,
        reports: Option<Arc<ReportDesk<R>>>,
        alerts: MemoryPublisher,
    ) -> Self {
        InProcessPublisher {
            escalator,
            reports,
            alerts,
        }
    }

    /// Where the alerts went.
    pub fn alerts(&self) -> &MemoryPublisher {
        &self.alerts
    }
}

fn refused(message: &OutboxMessage, reason: impl ToString) -> PublishError {
    PublishError {
        message_id: message.id.clone(),
        destination: message.destination,
        reason: reason.to_string(),
    }
}

impl<L: LedgerStore, R: ReportStore> MessagePublisher for InProcessPublisher<L, R> {
    async fn publish(&self, message: &OutboxMessage) -> Result<(), PublishError> {
        let body = || {
            serde_json::from_str::<Value>(&message.body)
                .map_err(|_| refused(message, "the message body is not JSON"))
        };
        match message.destination {
            Destination::Alerts => self.alerts.publish(message).await,
            Destination::Escalation => {
                let command =
                    EscalationCommand::from_json(body()?).map_err(|e| refused(message, e))?;
                self.escalator
                    .handle(command)
                    .await
                    .map(|_| ())
                    .map_err(|e| refused(message, e))
            }
            Destination::Resolutions => {
                let desk = self
                    .reports
                    .as_ref()
                    .ok_or_else(|| refused(message, "no report desk in this process"))?;
                let command = ReportCommand::from_json(body()?).map_err(|e| refused(message, e))?;
                desk.handle(command)
                    .await
                    .map(|_| ())
                    .map_err(|e| refused(message, e))
            }
        }
    }
}
