//! The SNS adapter of the message publisher: each outbox message goes to its destination's
//! topic, its body as the message and its attributes as message attributes (see
//! [`crate::alert::Alert::attributes`]), so that, say, a pager subscription takes only
//! `severity = critical`, or the platform only `event_type = account_level_changed`.

use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;

use crate::outbox::{AttributeValue, Destination, MessagePublisher, OutboxMessage, PublishError};

/// The topic of each destination; a function publishes only to the topics it is given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicArns {
    pub alerts: Option<String>,
    pub escalation: Option<String>,
    pub resolutions: Option<String>,
}

impl TopicArns {
    fn of(&self, destination: Destination) -> Option<&str> {
        match destination {
            Destination::Alerts => self.alerts.as_deref(),
            Destination::Escalation => self.escalation.as_deref(),
            Destination::Resolutions => self.resolutions.as_deref(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SnsPublisher {
    client: Client,
    topics: TopicArns,
}

impl SnsPublisher {
    pub fn new(client: Client, topics: TopicArns) -> Self {
        SnsPublisher { client, topics }
    }
}

fn attribute(value: &AttributeValue) -> Result<MessageAttributeValue, String> {
    let (data_type, value) = match value {
        AttributeValue::String(v) => ("String", v.clone()),
        AttributeValue::StringArray(vs) => (
            "String.Array",
            serde_json::to_string(vs).map_err(|e| e.to_string())?,
        ),
    };
    MessageAttributeValue::builder()
        .data_type(data_type)
        .string_value(value)
        .build()
        .map_err(|e| format!("building a message attribute: {e}"))
}

impl MessagePublisher for SnsPublisher {
    async fn publish(&self, message: &OutboxMessage) -> Result<(), PublishError> {
        let failed = |reason: String| PublishError {
            message_id: message.id.clone(),
            destination: message.destination,
            reason,
        };
        let topic = self
            .topics
            .of(message.destination)
            .ok_or_else(|| failed("no topic configured for this destination".into()))?;
        let mut request = self
            .client
            .publish()
            .topic_arn(topic)
            .set_subject(message.subject.clone())
            .message(&message.body);
        for (name, value) in &message.attributes {
            request = request.message_attributes(name, attribute(value).map_err(failed)?);
        }
        request
            .send()
            .await
            .map_err(|e| failed(DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}
