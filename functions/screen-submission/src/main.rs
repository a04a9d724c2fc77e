//! Lambda entry point: read config, build clients once, serve.

use anshin_core::adapters::aws::{DynamoCaseStore, KmsSealer, SnsAlertSink, SnsViolationQueue};
use anshin_core::config::ScreenConfig;
use anshin_core::screening::ScreenDesk;
use aws_config::BehaviorVersion;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use screen_submission::handle;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = ScreenConfig::from_env()?;
    // Policy, model and any shadow candidate load here, once: a bad file fails the cold
    // start instead of a request.
    let screener = config.screening.load()?;
    let aws = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let sns = aws_sdk_sns::Client::new(&aws);
    let desk = ScreenDesk::new(
        screener,
        SnsAlertSink::new(sns.clone(), config.alert_topic_arn),
        SnsViolationQueue::new(sns, config.escalation_topic_arn),
    );
    let cases = DynamoCaseStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.cases.table,
        KmsSealer::new(aws_sdk_kms::Client::new(&aws), config.cases.key_id),
        config.cases.retention_days,
    );
    run(service_fn(|event: LambdaEvent<Value>| {
        handle(event, &desk, &cases)
    }))
    .await
}
