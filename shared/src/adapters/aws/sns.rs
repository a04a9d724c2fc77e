//! The SNS adapter of the alert port.
//!
//! The message body is the alert as JSON; the message attributes repeat the fields that
//! subscriptions filter on (see [`Alert::attributes`]), so that, say, a pager
//! subscription can take only `severity = critical`, or the platform only
//! `event_type = account_level_changed`.

use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;

use crate::alert::{Alert, AlertError, AlertSink, AttributeValue};
use crate::violation::{QueueError, ViolationConfirmed, ViolationQueue};

#[derive(Debug, Clone)]
pub struct SnsAlertSink {
    client: Client,
    topic_arn: String,
}

impl SnsAlertSink {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        SnsAlertSink {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

pub(crate) fn attribute(value: &AttributeValue) -> Result<MessageAttributeValue, AlertError> {
    let (data_type, value) = match value {
        AttributeValue::String(v) => ("String", v.clone()),
        AttributeValue::StringArray(vs) => (
            "String.Array",
            serde_json::to_string(vs).map_err(|e| AlertError(e.to_string()))?,
        ),
    };
    MessageAttributeValue::builder()
        .data_type(data_type)
        .string_value(value)
        .build()
        .map_err(|e| AlertError(format!("building a message attribute: {e}")))
}

impl AlertSink for SnsAlertSink {
    async fn publish(&self, alert: &Alert) -> Result<(), AlertError> {
        let body = serde_json::to_string(alert).map_err(|e| AlertError(e.to_string()))?;
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            // SNS caps subjects at 100 characters; ids can be 128, so trim.
            .subject(alert.subject().chars().take(100).collect::<String>())
            .message(body);
        for (name, value) in alert.attributes() {
            request = request.message_attributes(name, attribute(&value)?);
        }
        request
            .send()
            .await
            .map_err(|e| AlertError(DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}

/// Sends confirmed violations (screening's automatic strikes, confirmed reports) to
/// user-escalation's topic, one command per message. SNS retries delivery to the function; the violation id makes repeats harmless.
#[derive(Debug, Clone)]
pub struct SnsViolationQueue {
    client: Client,
    topic_arn: String,
}

impl SnsViolationQueue {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        SnsViolationQueue {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

impl ViolationQueue for SnsViolationQueue {
    async fn submit(&self, violation: &ViolationConfirmed) -> Result<(), QueueError> {
        let attributes = [
            (
                "event_type",
                AttributeValue::String("violation_confirmed".into()),
            ),
            (
                "category",
                AttributeValue::String(violation.category.id().into()),
            ),
            // Who found it, so that a subscription can filter (e.g. only report-driven strikes).
            (
                "source",
                AttributeValue::String(violation.source.as_str().into()),
            ),
        ];
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(violation.to_command_json().to_string());
        for (name, value) in attributes {
            request =
                request.message_attributes(name, attribute(&value).map_err(|e| QueueError(e.0))?);
        }
        request
            .send()
            .await
            .map_err(|e| QueueError(DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}
