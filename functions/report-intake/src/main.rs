//! Lambda entry point: read config, build clients once, serve.

// The handler's future nests the desk's retry loop around the SDK's own futures, deeper
// than rustc's default layout query depth of 128.
#![recursion_limit = "256"]

use std::sync::Arc;

use anshin_core::adapters::aws::DynamoReportStore;
use anshin_core::clock::SystemClock;
use anshin_core::config::ReportConfig;
use anshin_core::reports::ReportDesk;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use report_intake::handle;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = ReportConfig::from_env()?;
    let screener = config.screener.load()?;
    let aws = anshin_core::adapters::aws::sdk::load().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let cases = config.cases.store(
        dynamodb.clone(),
        aws_sdk_kms::Client::new(&aws),
        &config.table,
    );
    let desk = ReportDesk::new(
        DynamoReportStore::new(dynamodb, config.table).opening_cases(cases),
        screener,
        Arc::new(SystemClock),
    );
    run(service_fn(|event: LambdaEvent<Value>| handle(event, &desk))).await
}
