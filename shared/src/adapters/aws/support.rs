//! The SNS adapter of support's outbox: each message to the topic its receiver listens on —
//! commands to user-escalation's topic, resolutions to the report-resolution topic (which
//! report-intake takes), `case_resolved` to the alert topic, where the platform subscribes
//! with a filter on `event_type`.

use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::Client;

use super::sns::attribute;
use crate::alert::AttributeValue;
use crate::support::messages::{OutboxError, SupportMessage, SupportOutbox};

#[derive(Debug, Clone)]
pub struct SnsSupportOutbox {
    client: Client,
    escalation_topic_arn: String,
    resolution_topic_arn: String,
    alert_topic_arn: String,
}

impl SnsSupportOutbox {
    pub fn new(
        client: Client,
        escalation_topic_arn: impl Into<String>,
        resolution_topic_arn: impl Into<String>,
        alert_topic_arn: impl Into<String>,
    ) -> Self {
        SnsSupportOutbox {
            client,
            escalation_topic_arn: escalation_topic_arn.into(),
            resolution_topic_arn: resolution_topic_arn.into(),
            alert_topic_arn: alert_topic_arn.into(),
        }
    }
}

impl SupportOutbox for SnsSupportOutbox {
    async fn send(&self, messages: &[SupportMessage]) -> Result<(), OutboxError> {
        for message in messages {
            let s = |v: &str| AttributeValue::String(v.to_owned());
            let (topic, attributes) = match message {
                SupportMessage::Escalation(_) => (
                    &self.escalation_topic_arn,
                    vec![("event_type", s(message.kind())), ("source", s("support"))],
                ),
                SupportMessage::Resolution(_) => (
                    &self.resolution_topic_arn,
                    vec![("event_type", s("resolution"))],
                ),
                SupportMessage::CaseResolved(e) => (
                    &self.alert_topic_arn,
                    vec![
                        ("event_type", s(message.kind())),
                        ("dedupe_key", s(&e.dedupe_key)),
                        ("outcome", s(e.outcome.as_str())),
                        ("user_id", s(&e.author_id)),
                    ],
                ),
            };
            let mut request = self
                .client
                .publish()
                .topic_arn(topic)
                .message(message.body().to_string());
            for (name, value) in attributes {
                request = request
                    .message_attributes(name, attribute(&value).map_err(|e| OutboxError(e.0))?);
            }
            request
                .send()
                .await
                .map_err(|e| OutboxError(DisplayErrorContext(e).to_string()))?;
        }
        Ok(())
    }
}
