//! The outbox-publisher handler, as Lambda calls it: with a batch from the table's stream,
//! and on the schedule's tick — against moto's DynamoDB and SNS.

use std::sync::Arc;

use anshin_core::adapters::aws::{
    DynamoOutboxStore, DynamoScreeningRecorder, SnsPublisher, TopicArns,
};
use anshin_core::adapters::memory::{MemoryOutbox, MemoryPublisher};
use anshin_core::alert::Alert;
use anshin_core::clock::{Clock, ManualClock, SystemClock};
use anshin_core::outbox::{OutboxRelay, OutboxStore};
use anshin_core::policy::Policy;
use anshin_core::screening::{ScreenDesk, Screener};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use outbox_publisher::{handle, BatchItemFailure, Reply};
use serde_json::{json, Value};

use crate::support::{
    assert_names_every_event_in, assert_refused_naming, event, fixture, fresh_table, fresh_topic,
    sent_notifications, sns_client,
};

const CRIME_RECRUITMENT: &str =
    include_str!("../../events/screen-submission/crime-recruitment.json");

struct Stack {
    client: aws_sdk_dynamodb::Client,
    table: String,
    alerts: String,
    escalation: String,
    relay: OutboxRelay<DynamoOutboxStore, SnsPublisher>,
}

async fn stack(name: &str) -> Stack {
    let (client, table) = fresh_table(&format!("anshin-publisher-{name}")).await;
    let sns = sns_client().await;
    let alerts = fresh_topic(&sns, &format!("anshin-alerts-publisher-{name}")).await;
    let escalation = fresh_topic(&sns, &format!("anshin-escalation-publisher-{name}")).await;
    let relay = OutboxRelay::new(
        DynamoOutboxStore::new(client.clone(), table.clone()),
        SnsPublisher::new(
            sns,
            TopicArns {
                alerts: Some(alerts.clone()),
                escalation: Some(escalation.clone()),
                resolutions: None,
            },
        ),
    );
    Stack {
        client,
        table,
        alerts,
        escalation,
        relay,
    }
}

/// Screens the crime-recruitment posting, so that its alert and automatic strike wait in
/// the outbox.
async fn record_a_hide(stack: &Stack) {
    let desk = ScreenDesk::new(
        Screener::new(Arc::new(Policy::embedded().unwrap())),
        DynamoScreeningRecorder::new(
            stack.client.clone(),
            stack.table.clone(),
            Arc::new(SystemClock),
        ),
    );
    screen_submission::handle(
        LambdaEvent::new(fixture(CRIME_RECRUITMENT), Context::default()),
        &desk,
    )
    .await
    .unwrap();
}

/// The stream batch DynamoDB would deliver for the outbox items now in the table, as INSERT
/// records with their new images, plus one record of an item that is not a message.
async fn stream_batch(stack: &Stack) -> Value {
    let scan = stack
        .client
        .scan()
        .table_name(&stack.table)
        .send()
        .await
        .unwrap();
    let mut records: Vec<Value> = scan
        .items
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let image: serde_dynamo::Item = item.into();
            json!({
                "eventID": format!("event-{i}"), "eventName": "INSERT", "eventVersion": "1.1",
                "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1_800_000_000,
                    "Keys": {}, "NewImage": image, "SequenceNumber": format!("{}", 100 + i),
                    "SizeBytes": 100, "StreamViewType": "NEW_IMAGE"
                },
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x"
            })
        })
        .collect();
    records.push(json!({
        "eventID": "event-other", "eventName": "INSERT", "eventVersion": "1.1",
        "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_800_000_000,
            "Keys": {}, "NewImage": {"pk": {"S": "USER#u-1"}, "sk": {"S": "STANDING"}},
            "SequenceNumber": "999", "SizeBytes": 10, "StreamViewType": "NEW_IMAGE"
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x"
    }));
    json!({ "Records": records })
}

#[tokio::test]
async fn a_stream_batch_publishes_each_outbox_item_once_and_removes_it() {
    let stack = stack("stream").await;
    record_a_hide(&stack).await;
    let batch = stream_batch(&stack).await;
    let reply = handle(
        LambdaEvent::new(batch, Context::default()),
        &stack.relay,
        &SystemClock,
    )
    .await
    .unwrap();
    assert_eq!(
        reply,
        Reply::Stream {
            batch_item_failures: Vec::new()
        }
    );
    assert_eq!(sent_notifications(&stack.alerts).await.len(), 1);
    assert_eq!(sent_notifications(&stack.escalation).await.len(), 1);
    assert!(
        stack
            .relay
            .store()
            .pending(u64::MAX, 10)
            .await
            .unwrap()
            .is_empty(),
        "published messages leave the outbox"
    );
}

#[tokio::test]
async fn a_record_whose_topic_refuses_it_is_returned_for_retry_and_stays_pending() {
    let stack = stack("retry").await;
    record_a_hide(&stack).await;
    let batch = stream_batch(&stack).await;
    // A publisher with no escalation topic: the automatic strike cannot go out.
    let half = OutboxRelay::new(
        DynamoOutboxStore::new(stack.client.clone(), stack.table.clone()),
        SnsPublisher::new(
            sns_client().await,
            TopicArns {
                alerts: Some(stack.alerts.clone()),
                escalation: None,
                resolutions: None,
            },
        ),
    );
    let reply = handle(
        LambdaEvent::new(batch, Context::default()),
        &half,
        &SystemClock,
    )
    .await
    .unwrap();
    let Reply::Stream {
        batch_item_failures,
    } = reply
    else {
        panic!("a stream batch gets a stream reply");
    };
    assert_eq!(batch_item_failures.len(), 1, "{batch_item_failures:?}");
    assert!(
        batch_item_failures[0]
            != BatchItemFailure {
                item_identifier: "999".into()
            }
    );
    let pending = stack.relay.store().pending(u64::MAX, 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert!(pending[0].id.starts_with("violation-"));
}

#[tokio::test]
async fn the_scheduled_sweep_publishes_what_is_older_than_the_grace_period() {
    let stack = stack("sweep").await;
    let before = SystemClock.now();
    record_a_hide(&stack).await;
    let tick = json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}});
    // Right after the write, the stream is presumed to be delivering: the sweep waits.
    let now = ManualClock::at(before);
    let early = handle(
        LambdaEvent::new(tick.clone(), Context::default()),
        &stack.relay,
        &now,
    )
    .await
    .unwrap();
    assert_eq!(early, Reply::Sweep { delivered: 0 });
    now.advance(SystemClock.now() - before + outbox_publisher::SWEEP_GRACE_SECONDS + 1);
    let late = handle(
        LambdaEvent::new(tick, Context::default()),
        &stack.relay,
        &now,
    )
    .await
    .unwrap();
    assert_eq!(late, Reply::Sweep { delivered: 2 });
    assert_eq!(sent_notifications(&stack.alerts).await.len(), 1);
}

#[tokio::test]
async fn a_malformed_stream_batch_is_refused_naming_the_field() {
    let stack = stack("malformed").await;
    let batch = json!({"Records": [{"eventSource": "aws:dynamodb", "eventName": 7}]});
    let error = handle(
        LambdaEvent::new(batch, Context::default()),
        &stack.relay,
        &SystemClock,
    )
    .await
    .unwrap_err();
    let diagnostic = Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "InvalidInput");
    assert!(
        diagnostic.error_message.contains("Records[0]"),
        "{}",
        diagnostic.error_message
    );
}

#[tokio::test]
async fn every_event_in_the_events_folder_gets_its_answer() {
    assert_names_every_event_in(
        "outbox-publisher",
        &["stream-outbox-alert.json", "scheduled-sweep.json"],
    );
    let relay = OutboxRelay::new(MemoryOutbox::new(), MemoryPublisher::collecting());
    let invoke = |name: &str| {
        handle(
            LambdaEvent::new(
                event(&format!("outbox-publisher/{name}")),
                Context::default(),
            ),
            &relay,
            &SystemClock,
        )
    };
    assert_eq!(
        invoke("stream-outbox-alert.json").await.unwrap(),
        Reply::Stream {
            batch_item_failures: Vec::new()
        }
    );
    let published = relay.publisher().alerts();
    let [Alert::AccountLevel(alert)] = published.as_slice() else {
        panic!("the stream's alert, published: {published:?}");
    };
    assert_eq!((alert.user_id.as_str(), alert.sequence), ("client-0999", 1));
    assert_eq!(
        invoke("scheduled-sweep.json").await.unwrap(),
        Reply::Sweep { delivered: 0 }
    );

    assert_names_every_event_in(
        "outbox-publisher/invalid",
        &["stream-record-size-not-a-number.json"],
    );
    let error = invoke("invalid/stream-record-size-not-a-number.json")
        .await
        .unwrap_err();
    assert_refused_naming(&Diagnostic::from(error), "Records[0].dynamodb.SizeBytes");
}
