//! Lambda entry point: read config, build clients once, serve.

// The runtime's service future nests the handler's (screening, recording, the case's KMS
// sealing, the deadline scope) deeply enough to pass rustc's default layout-query depth of 128.
#![recursion_limit = "256"]

use std::sync::Arc;

use anshin_core::adapters::aws::DynamoScreeningRecorder;
use anshin_core::clock::SystemClock;
use anshin_core::config::ScreenConfig;
use anshin_core::screening::ScreenDesk;
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
    let aws = anshin_core::adapters::aws::sdk::load().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let cases = config.cases.store(
        dynamodb.clone(),
        aws_sdk_kms::Client::new(&aws),
        &config.table,
    );
    let desk = ScreenDesk::new(
        screener,
        DynamoScreeningRecorder::new(dynamodb, config.table, Arc::new(SystemClock))
            .opening_cases(cases),
    );
    run(service_fn(|event: LambdaEvent<Value>| handle(event, &desk))).await
}
