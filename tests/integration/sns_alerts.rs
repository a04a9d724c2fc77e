//! Messages through the outbox into a real SNS API (moto): written to DynamoDB by the
//! functions, published by the outbox-publisher's relay, read back through moto's data
//! endpoint.

use std::sync::Arc;

use anshin_core::adapters::aws::{
    DynamoLedgerStore, DynamoOutboxStore, DynamoScreeningRecorder, SnsPublisher, TopicArns,
};
use anshin_core::alert::SubmissionAlert;
use anshin_core::alert::{Alert, AlertEventType};
use anshin_core::clock::SystemClock;
use anshin_core::escalation::ledger::LedgerStore;
use anshin_core::escalation::Escalator;
use anshin_core::outbox::{OutboxRelay, OutboxStore};
use anshin_core::policy::ladder::AccountLevel;
use anshin_core::policy::Policy;
use anshin_core::screening::{ScreenDesk, Screener};
use lambda_runtime::{Context, LambdaEvent};
use screen_submission::handle;
use serde_json::Value;

use crate::support::{
    fixture, fresh_table, fresh_topic, sent_notifications, sns_client, sns_event,
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

/// A table and the three topics in moto, with the relay the outbox-publisher runs.
struct Stack {
    client: aws_sdk_dynamodb::Client,
    table: String,
    topics: TopicArns,
    relay: OutboxRelay<DynamoOutboxStore, SnsPublisher>,
}

async fn stack(name: &str) -> Stack {
    let (client, table) = fresh_table(&format!("anshin-{name}")).await;
    let sns = sns_client().await;
    let topics = TopicArns {
        alerts: Some(fresh_topic(&sns, &format!("anshin-alerts-{name}")).await),
        escalation: Some(fresh_topic(&sns, &format!("anshin-escalation-{name}")).await),
        resolutions: Some(fresh_topic(&sns, &format!("anshin-resolutions-{name}")).await),
    };
    let relay = OutboxRelay::new(
        DynamoOutboxStore::new(client.clone(), table.clone()),
        SnsPublisher::new(sns, topics.clone()),
    );
    Stack {
        client,
        table,
        topics,
        relay,
    }
}

impl Stack {
    fn screen_desk(&self) -> ScreenDesk<DynamoScreeningRecorder> {
        ScreenDesk::new(
            Screener::new(Arc::new(Policy::embedded().unwrap())),
            DynamoScreeningRecorder::new(
                self.client.clone(),
                self.table.clone(),
                Arc::new(SystemClock),
            ),
        )
    }

    fn alerts_topic(&self) -> &str {
        self.topics.alerts.as_deref().unwrap()
    }

    fn escalation_topic(&self) -> &str {
        self.topics.escalation.as_deref().unwrap()
    }
}

#[tokio::test]
async fn a_hide_is_recorded_and_the_relay_publishes_its_alert_with_filterable_attributes() {
    let stack = stack("hide").await;
    let desk = stack.screen_desk();
    let payload = fixture(CRIME_RECRUITMENT);
    let verdict = handle(LambdaEvent::new(payload.clone(), Context::default()), &desk)
        .await
        .expect("screened and recorded");
    assert!(
        sent_notifications(stack.alerts_topic()).await.is_empty(),
        "nothing is published before the relay runs"
    );

    let relayed = stack.relay.sweep(u64::MAX, 100).await.unwrap();
    assert_eq!(
        relayed.delivered.len(),
        2,
        "the alert and the automatic strike"
    );
    assert!(stack
        .relay
        .store()
        .pending(u64::MAX, 100)
        .await
        .unwrap()
        .is_empty());

    let sent = sent_notifications(stack.alerts_topic()).await;
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
async fn a_clean_posting_records_and_publishes_nothing() {
    let stack = stack("clean").await;
    handle(
        LambdaEvent::new(fixture(CLEAN_JOB_POSTING), Context::default()),
        &stack.screen_desk(),
    )
    .await
    .unwrap();
    assert!(stack
        .relay
        .store()
        .pending(u64::MAX, 100)
        .await
        .unwrap()
        .is_empty());
    assert!(stack
        .relay
        .sweep(u64::MAX, 100)
        .await
        .unwrap()
        .delivered
        .is_empty());
    assert!(sent_notifications(stack.alerts_topic()).await.is_empty());
}

#[tokio::test]
async fn a_topic_that_refuses_the_message_leaves_it_pending_for_the_next_sweep() {
    let stack = stack("refused").await;
    handle(
        LambdaEvent::new(fixture(CRIME_RECRUITMENT), Context::default()),
        &stack.screen_desk(),
    )
    .await
    .unwrap();
    let broken = OutboxRelay::new(
        DynamoOutboxStore::new(stack.client.clone(), stack.table.clone()),
        SnsPublisher::new(
            sns_client().await,
            TopicArns {
                alerts: Some("arn:aws:sns:us-east-1:123456789012:no-such-topic".into()),
                escalation: Some("arn:aws:sns:us-east-1:123456789012:no-such-topic".into()),
                resolutions: None,
            },
        ),
    );
    let failed = broken.sweep(u64::MAX, 100).await.unwrap();
    assert_eq!((failed.delivered.len(), failed.failed.len()), (0, 2));
    assert_eq!(
        stack
            .relay
            .store()
            .pending(u64::MAX, 100)
            .await
            .unwrap()
            .len(),
        2,
        "not published, not lost"
    );
    let retried = stack.relay.sweep(u64::MAX, 100).await.unwrap();
    assert_eq!(retried.delivered.len(), 2);
    assert_eq!(sent_notifications(stack.alerts_topic()).await.len(), 1);
}

/// Screening → outbox → SNS → user-escalation → DynamoDB → outbox → SNS, on moto: the
/// automatic strike of a crime-recruitment posting reaches the ledger through the
/// escalation topic, twice delivered and counted once, and the level change is published
/// to support once.
#[tokio::test]
async fn an_automatic_strike_travels_through_the_outbox_and_sns_into_the_ledger_once() {
    let stack = stack("auto").await;
    handle(
        LambdaEvent::new(fixture(CRIME_RECRUITMENT), Context::default()),
        &stack.screen_desk(),
    )
    .await
    .unwrap();
    stack.relay.sweep(u64::MAX, 100).await.unwrap();

    let commands = sent_notifications(stack.escalation_topic()).await;
    assert_eq!(commands.len(), 1, "one automatic strike for one hide");
    let command: Value = serde_json::from_str(&commands[0].message).unwrap();
    assert_eq!(command["type"], "violation_confirmed");
    assert_eq!(command["user_id"], "client-0999");
    assert_eq!(command["category"], "illegal_work");
    assert_eq!(
        attribute(&commands[0].attributes, "source"),
        ("String", "screening")
    );

    let escalator = Escalator::new(
        DynamoLedgerStore::new(stack.client.clone(), stack.table.clone()),
        Arc::new(Policy::embedded().unwrap()),
        Arc::new(SystemClock),
    );
    let event = sns_event(stack.escalation_topic(), &commands[0].message);
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

    stack.relay.sweep(u64::MAX, 100).await.unwrap();
    let level_changes: Vec<Alert> = sent_notifications(stack.alerts_topic())
        .await
        .iter()
        .filter_map(|n| serde_json::from_str::<Alert>(&n.message).ok())
        .filter(|a| a.event_type() == AlertEventType::AccountLevelChanged)
        .collect();
    assert_eq!(
        level_changes.len(),
        1,
        "the change is announced once, however often the command came"
    );
    let Alert::AccountLevel(change) = &level_changes[0] else {
        panic!("a level change");
    };
    assert_eq!(change.level, AccountLevel::WithdrawalPending);
    assert_eq!(change.sequence, 1);
}
