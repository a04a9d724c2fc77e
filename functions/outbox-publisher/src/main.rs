//! Lambda entry point: read config, build clients once, serve.

use std::sync::Arc;

use anshin_core::adapters::aws::{DynamoOutboxStore, SnsPublisher, TopicArns};
use anshin_core::clock::{Clock, SystemClock};
use anshin_core::config::PublisherConfig;
use anshin_core::outbox::OutboxRelay;
use aws_config::BehaviorVersion;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use outbox_publisher::handle;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = PublisherConfig::from_env()?;
    let aws = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let relay = OutboxRelay::new(
        DynamoOutboxStore::new(aws_sdk_dynamodb::Client::new(&aws), config.table),
        SnsPublisher::new(
            aws_sdk_sns::Client::new(&aws),
            TopicArns {
                alerts: Some(config.alert_topic_arn),
                escalation: Some(config.escalation_topic_arn),
                resolutions: Some(config.resolution_topic_arn),
            },
        ),
    );
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    run(service_fn(|event: LambdaEvent<Value>| {
        handle(event, &relay, clock.as_ref())
    }))
    .await
}
