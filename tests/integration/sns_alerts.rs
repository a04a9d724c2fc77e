//! The SNS adapter against a real SNS API (moto), read back through moto's data endpoint.

use std::sync::Arc;

use anshin_core::adapters::aws::{SnsAlertSink, SnsViolationQueue};
use anshin_core::adapters::memory::MemoryCaseStore;
use anshin_core::alert::SubmissionAlert;
use anshin_core::alert::{Alert, AlertEventType};
use anshin_core::clock::SystemClock;
use anshin_core::escalation::ledger::LedgerStore;
use anshin_core::escalation::Escalator;
use anshin_core::policy::ladder::AccountLevel;
use anshin_core::policy::Policy;
use anshin_core::screening::ScreenDesk;
use anshin_core::screening::Screener;
use lambda_runtime::{Context, LambdaEvent};
use screen_submission::handle;
use serde_json::Value;

use crate::support::{
    fixture, fresh_dynamo_ledger, fresh_topic, sent_notifications, sns_client, sns_event,
};

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
    let escalation_topic = fresh_topic(&client, "anshin-escalation-hide").await;
    let deps = ScreenDesk::new(
        Screener::new(Arc::new(Policy::embedded().unwrap())),
        SnsAlertSink::new(client.clone(), topic.clone()),
        SnsViolationQueue::new(client, escalation_topic.clone()),
    );
    let payload = fixture(CRIME_RECRUITMENT);
    let verdict = handle(
        LambdaEvent::new(payload.clone(), Context::default()),
        &deps,
        &MemoryCaseStore::new(),
    )
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
    let deps = ScreenDesk::new(
        Screener::new(Arc::new(Policy::embedded().unwrap())),
        SnsAlertSink::new(client.clone(), topic.clone()),
        SnsViolationQueue::new(client, topic.clone()),
    );
    handle(
        LambdaEvent::new(fixture(CLEAN_JOB_POSTING), Context::default()),
        &deps,
        &MemoryCaseStore::new(),
    )
    .await
    .unwrap();
    assert!(sent_notifications(&topic).await.is_empty());
}

#[tokio::test]
async fn publishing_to_a_topic_that_does_not_exist_is_an_error_not_a_silent_loss() {
    let client = sns_client().await;
    let deps = ScreenDesk::new(
        Screener::new(Arc::new(Policy::embedded().unwrap())),
        SnsAlertSink::new(
            client.clone(),
            "arn:aws:sns:us-east-1:123456789012:no-such-topic",
        ),
        SnsViolationQueue::new(client, "arn:aws:sns:us-east-1:123456789012:no-such-topic"),
    );
    let error = handle(
        LambdaEvent::new(fixture(CRIME_RECRUITMENT), Context::default()),
        &deps,
        &MemoryCaseStore::new(),
    )
    .await
    .unwrap_err();
    let diagnostic = lambda_runtime::Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "AlertDeliveryFailed");
}

/// Screening → SNS → user-escalation → DynamoDB → SNS, on moto: the automatic strike of a
/// crime-recruitment posting reaches the ledger through the escalation topic, twice
/// delivered and counted once, and the level change is published to support.
#[tokio::test]
async fn an_automatic_strike_travels_through_sns_into_the_ledger_once() {
    let client = sns_client().await;
    let alerts_topic = fresh_topic(&client, "anshin-alerts-auto").await;
    let escalation_topic = fresh_topic(&client, "anshin-escalation-auto").await;
    let policy = Arc::new(Policy::embedded().unwrap());
    let deps = ScreenDesk::new(
        Screener::new(Arc::clone(&policy)),
        SnsAlertSink::new(client.clone(), alerts_topic.clone()),
        SnsViolationQueue::new(client.clone(), escalation_topic.clone()),
    );
    handle(
        LambdaEvent::new(fixture(CRIME_RECRUITMENT), Context::default()),
        &deps,
        &MemoryCaseStore::new(),
    )
    .await
    .unwrap();

    let commands = sent_notifications(&escalation_topic).await;
    assert_eq!(commands.len(), 1, "one automatic strike for one hide");
    let command: Value = serde_json::from_str(&commands[0].message).unwrap();
    assert_eq!(command["type"], "violation_confirmed");
    assert_eq!(command["user_id"], "client-0999");
    assert_eq!(command["category"], "illegal_work");

    let escalator = Escalator::new(
        fresh_dynamo_ledger().await,
        SnsAlertSink::new(client.clone(), alerts_topic.clone()),
        policy,
        Arc::new(SystemClock),
    );
    let event = sns_event(&escalation_topic, &commands[0].message);
    for _delivery in 0..2 {
        user_escalation::handle(
            LambdaEvent::new(event.clone(), Context::default()),
            &escalator,
        )
        .await
        .expect("user-escalation takes the SNS-wrapped command");
    }
    let violation_id = command["violation_id"].as_str().unwrap();
    let stored = escalator
        .store()
        .load_violation(violation_id)
        .await
        .unwrap()
        .expect("violation stored");
    assert_eq!(stored.outcome.level_after, AccountLevel::WithdrawalPending);
    let user = escalator.store().load_user("client-0999").await.unwrap();
    assert_eq!(user.standing.strikes.len(), 1, "two deliveries, one strike");

    let level_changes: Vec<Alert> = sent_notifications(&alerts_topic)
        .await
        .iter()
        .filter_map(|n| serde_json::from_str::<Alert>(&n.message).ok())
        .filter(|a| a.event_type() == AlertEventType::AccountLevelChanged)
        .collect();
    assert_eq!(
        level_changes.len(),
        2,
        "published at least once per delivery, with one key"
    );
    assert_eq!(level_changes[0].dedupe_key(), level_changes[1].dedupe_key());
}

#[tokio::test]
async fn a_violation_message_says_who_found_it() {
    use anshin_core::escalation::EscalationCommand;
    use anshin_core::violation::ViolationQueue;
    let client = sns_client().await;
    let topic = fresh_topic(&client, "anshin-escalation-source").await;
    let queue = SnsViolationQueue::new(client, topic.clone());
    let EscalationCommand::ViolationConfirmed(violation) =
        EscalationCommand::from_json(serde_json::json!({
            "type": "violation_confirmed", "violation_id": "rep-src-1", "user_id": "u-src",
            "category": "harassment", "severity": "high", "source": "report",
            "evidence": ["report:r-1"], "decided_by": "support-sato"
        }))
        .unwrap()
    else {
        panic!("a violation_confirmed command");
    };
    queue.submit(&violation).await.unwrap();

    let sent = sent_notifications(&topic).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        attribute(&sent[0].attributes, "source"),
        ("String", "report")
    );
    assert_eq!(
        attribute(&sent[0].attributes, "category"),
        ("String", "harassment")
    );
}
