//! Lambda entry point: read config, build clients once, serve.

use anshin_core::adapters::sns::{SnsAlertSink, SnsViolationQueue};
use anshin_core::config::ScreenConfig;
use anshin_core::screen::Screener;
use aws_config::BehaviorVersion;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use screen_submission::{handle, Deps};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = ScreenConfig::from_env()?;
    let policy = config.policy.load()?;
    let aws = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let sns = aws_sdk_sns::Client::new(&aws);
    let deps = Deps {
        screener: Screener::new(policy),
        alerts: SnsAlertSink::new(sns.clone(), config.alert_topic_arn),
        violations: SnsViolationQueue::new(sns, config.escalation_topic_arn),
    };
    run(service_fn(|event: LambdaEvent<Value>| handle(event, &deps))).await
}
