//! The SNS adapter against a real SNS API (moto), read back through moto's data endpoint.

use std::sync::Arc;

use anshin_core::adapters::sns::SnsAlertSink;
use anshin_core::alert::SubmissionAlert;
use anshin_core::policy::Policy;
use anshin_core::screen::Screener;
use lambda_runtime::{Context, LambdaEvent};
use screen_submission::{handle, Deps};
use serde_json::Value;

use crate::support::{fixture, fresh_topic, sent_notifications, sns_client};

const CRIME_RECRUITMENT: &str =
    include_str!("../../events/screen-submission/crime-recruitment.json");
const CLEAN_JOB_POSTING: &str =
    include_str!("../../events/screen-submission/clean-job-posting.json");

/// (type, value) of a message attribute as moto records it: `{"Type": …, "Value": …}`.
fn attribute<'a>(attributes: &'a Value, name: &str) -> (&'a str, &'a str) {
    let a = &attributes[name];
    (
        a["Type"]
            .as_str()
            .unwrap_or_else(|| panic!("attribute {name} missing in {attributes}")),
        a["Value"].as_str().unwrap_or_default(),
    )
}

#[tokio::test]
async fn the_handler_publishes_a_hide_alert_to_sns_with_filterable_attributes() {
    let client = sns_client().await;
    let topic = fresh_topic(&client, "anshin-alerts-hide").await;
    let deps = Deps {
        screener: Screener::new(Arc::new(Policy::embedded().unwrap())),
        alerts: SnsAlertSink::new(client, topic.clone()),
    };
    let payload = fixture(CRIME_RECRUITMENT);
    let verdict = handle(LambdaEvent::new(payload.clone(), Context::default()), &deps)
        .await
        .expect("screened and alerted");

    let sent = sent_notifications(&topic).await;
    assert_eq!(sent.len(), 1, "exactly one alert for one hide");
    let alert: SubmissionAlert =
        serde_json::from_str(&sent[0].message).expect("message is a submission alert");
    assert_eq!(alert.submission_id, verdict.submission_id);
    assert_eq!(alert.content_hash, verdict.content_hash);
    assert!(sent[0]
        .subject
        .as_deref()
        .unwrap_or_default()
        .contains("hide"));

    let attributes = &sent[0].attributes;
    assert_eq!(
        attribute(attributes, "event_type"),
        ("String", "submission_hidden")
    );
    assert_eq!(attribute(attributes, "decision"), ("String", "hide"));
    assert_eq!(attribute(attributes, "severity"), ("String", "critical"));
    assert_eq!(attribute(attributes, "kind"), ("String", "job_posting"));
    let (data_type, categories) = attribute(attributes, "categories");
    assert_eq!(data_type, "String.Array");
    let categories: Vec<String> = serde_json::from_str(categories).unwrap();
    assert!(
        categories.contains(&"illegal_work".to_string()),
        "{categories:?}"
    );
    assert_eq!(attribute(attributes, "dedupe_key").1, alert.dedupe_key);

    let body = payload["body"].as_str().unwrap();
    assert!(
        !sent[0].message.contains(body),
        "no full posting text in SNS"
    );
}

#[tokio::test]
async fn a_clean_posting_publishes_nothing() {
    let client = sns_client().await;
    let topic = fresh_topic(&client, "anshin-alerts-clean").await;
    let deps = Deps {
        screener: Screener::new(Arc::new(Policy::embedded().unwrap())),
        alerts: SnsAlertSink::new(client, topic.clone()),
    };
    handle(
        LambdaEvent::new(fixture(CLEAN_JOB_POSTING), Context::default()),
        &deps,
    )
    .await
    .unwrap();
    assert!(sent_notifications(&topic).await.is_empty());
}

#[tokio::test]
async fn publishing_to_a_topic_that_does_not_exist_is_an_error_not_a_silent_loss() {
    let client = sns_client().await;
    let deps = Deps {
        screener: Screener::new(Arc::new(Policy::embedded().unwrap())),
        alerts: SnsAlertSink::new(client, "arn:aws:sns:us-east-1:123456789012:no-such-topic"),
    };
    let error = handle(
        LambdaEvent::new(fixture(CRIME_RECRUITMENT), Context::default()),
        &deps,
    )
    .await
    .unwrap_err();
    let diagnostic = lambda_runtime::Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "AlertDeliveryFailed");
}
