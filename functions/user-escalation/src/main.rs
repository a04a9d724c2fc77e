//! Lambda entry point: read config, build clients once, serve.

// The handler's future nests the core's retry loop around the SDK's own futures, deeper
// than rustc's default layout query depth of 128.
#![recursion_limit = "256"]

use std::sync::Arc;

use anshin_core::adapters::aws::DynamoLedgerStore;
use anshin_core::clock::SystemClock;
use anshin_core::config::EscalationConfig;
use anshin_core::escalation::Escalator;
use aws_config::BehaviorVersion;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;
use user_escalation::handle;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = EscalationConfig::from_env()?;
    let policy = config.policy.load()?;
    let aws = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let escalator = Escalator::new(
        DynamoLedgerStore::new(aws_sdk_dynamodb::Client::new(&aws), config.table),
        policy,
        Arc::new(SystemClock),
    );
    run(service_fn(|event: LambdaEvent<Value>| {
        handle(event, &escalator)
    }))
    .await
}
