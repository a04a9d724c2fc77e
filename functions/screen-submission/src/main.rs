//! Lambda entry point: read config, build clients once, serve.

use std::sync::Arc;

use anshin_core::adapters::aws::DynamoScreeningRecorder;
use anshin_core::clock::SystemClock;
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
    let desk = ScreenDesk::new(
        screener,
        DynamoScreeningRecorder::new(
            aws_sdk_dynamodb::Client::new(&aws),
            config.table,
            Arc::new(SystemClock),
        ),
    );
    run(service_fn(|event: LambdaEvent<Value>| handle(event, &desk))).await
}
