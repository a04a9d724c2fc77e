//! What the integration tests need: the emulator's address, AWS clients pointed at it,
//! and a way to read back what SNS received.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anshin_core::adapters::aws::{DynamoLedgerStore, DynamoOutboxStore, DynamoReportStore};
use aws_config::BehaviorVersion;
use serde_json::Value;

/// Set by `tests/run.sh` to the moto server it started.
pub const ENDPOINT_VAR: &str = "ANSHIN_TEST_AWS_ENDPOINT";

pub fn aws_endpoint() -> String {
    std::env::var(ENDPOINT_VAR).unwrap_or_else(|_| {
        panic!("{ENDPOINT_VAR} is not set: run the suite with tests/run.sh, which starts moto")
    })
}

/// The SDK configuration for moto, to be finished (an HTTP client, timeouts) and loaded.
pub fn emulator_config_loader() -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(aws_endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sns::config::Credentials::new(
            "test",
            "test",
            None,
            None,
            "anshin-tests",
        ))
}

async fn emulator_config() -> aws_config::SdkConfig {
    emulator_config_loader().load().await
}

pub async fn sns_client() -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(&emulator_config().await)
}

pub async fn kms_client() -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::new(&emulator_config().await)
}

/// A KMS key of its own in moto (the stack's key in AWS).
pub async fn fresh_kms_key() -> String {
    kms_client()
        .await
        .create_key()
        .description("anshin test key")
        .send()
        .await
        .expect("create key in moto")
        .key_metadata
        .expect("moto returns key metadata")
        .key_id
}

pub async fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&emulator_config().await)
}

/// A name no other test (or earlier run against the same emulator) uses.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// A table of its own in moto, with the schema the stores expect.
pub async fn fresh_table(prefix: &str) -> (aws_sdk_dynamodb::Client, String) {
    let client = dynamodb_client().await;
    let table = unique_name(prefix);
    anshin_core::adapters::aws::create_table(&client, &table)
        .await
        .expect("create table in moto");
    (client, table)
}

/// A DynamoDB report store, ledger and outbox sharing a table of their own in moto.
pub async fn fresh_dynamo_reports() -> (DynamoReportStore, DynamoLedgerStore, DynamoOutboxStore) {
    let (client, table) = fresh_table("anshin-reports").await;
    (
        DynamoReportStore::new(client.clone(), table.clone()),
        DynamoLedgerStore::new(client.clone(), table.clone()),
        DynamoOutboxStore::new(client, table),
    )
}

/// A DynamoDB ledger and its outbox on a table of their own in moto.
pub async fn fresh_dynamo_ledger() -> (DynamoLedgerStore, DynamoOutboxStore) {
    let (client, table) = fresh_table("anshin-ledger").await;
    (
        DynamoLedgerStore::new(client.clone(), table.clone()),
        DynamoOutboxStore::new(client, table),
    )
}

/// A topic of its own for each test, so that tests running in parallel do not see each
/// other's messages. An SQS queue is subscribed to it, so that [`sent_notifications`] can
/// read back what SNS accepted without dumping moto's whole state.
pub async fn fresh_topic(client: &aws_sdk_sns::Client, name: &str) -> String {
    let topic_arn = client
        .create_topic()
        .name(name)
        .send()
        .await
        .expect("create topic in moto")
        .topic_arn
        .expect("moto returns a topic ARN");
    let sqs = aws_sdk_sqs::Client::new(&emulator_config().await);
    let queue_url = sqs
        .create_queue()
        .queue_name(format!("{name}-{}", unique_name("q")).replace(':', "-"))
        .send()
        .await
        .expect("create queue in moto")
        .queue_url
        .expect("moto returns a queue URL");
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes")
        .attributes
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .expect("queue ARN");
    client
        .subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .expect("subscribe the queue");
    TOPIC_QUEUES
        .lock()
        .unwrap()
        .insert(topic_arn.clone(), (queue_url, Vec::new()));
    topic_arn
}

/// A topic's subscribed queue, and every notification read from it so far.
type TopicQueue = (String, Vec<SentNotification>);

/// Per topic made by [`fresh_topic`].
static TOPIC_QUEUES: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<String, TopicQueue>>,
> = std::sync::LazyLock::new(Default::default);

/// A message SNS accepted, as its subscribed queue received it.
#[derive(Debug, Clone)]
pub struct SentNotification {
    pub message: String,
    pub subject: Option<String>,
    /// `{"name": {"Type": …, "Value": …}}`, as SNS puts them in the envelope.
    pub attributes: Value,
}

/// Everything published to `topic_arn` (made by [`fresh_topic`]) so far, in order.
pub async fn sent_notifications(topic_arn: &str) -> Vec<SentNotification> {
    let queue_url = TOPIC_QUEUES
        .lock()
        .unwrap()
        .get(topic_arn)
        .map(|(url, _)| url.clone())
        .unwrap_or_else(|| panic!("{topic_arn} was not made by fresh_topic"));
    let sqs = aws_sdk_sqs::Client::new(&emulator_config().await);
    let mut received = Vec::new();
    loop {
        let page = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive from moto");
        let messages = page.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            let envelope: Value =
                serde_json::from_str(m.body().unwrap_or_default()).expect("an SNS envelope");
            received.push(SentNotification {
                message: envelope["Message"].as_str().unwrap_or_default().to_owned(),
                subject: envelope["Subject"].as_str().map(str::to_owned),
                attributes: envelope["MessageAttributes"].clone(),
            });
            if let Some(handle) = m.receipt_handle() {
                sqs.delete_message()
                    .queue_url(&queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .expect("delete from moto");
            }
        }
    }
    let mut queues = TOPIC_QUEUES.lock().unwrap();
    let seen = &mut queues.get_mut(topic_arn).expect("known topic").1;
    seen.extend(received);
    seen.clone()
}

/// Loads a fixture from `events/` as JSON.
pub fn fixture(json: &str) -> Value {
    serde_json::from_str(json).expect("fixture is JSON")
}

/// An SNS → Lambda event carrying `message`, as Lambda delivers it.
pub fn sns_event(topic_arn: &str, message: &str) -> Value {
    serde_json::json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": format!("{topic_arn}:subscription"),
            "Sns": {
                "Type": "Notification",
                "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                "TopicArn": topic_arn,
                "Subject": null,
                "Message": message,
                "Timestamp": "2026-11-27T12:00:00.000Z",
                "SignatureVersion": "1",
                "Signature": "EXAMPLE",
                "SigningCertUrl": "https://sns.example/cert.pem",
                "UnsubscribeUrl": "https://sns.example/unsubscribe",
                "MessageAttributes": {}
            }
        }]
    })
}

/// A refused payload must be typed `InvalidInput` and its message must start with the field.
pub fn assert_refused_naming(diagnostic: &lambda_runtime::Diagnostic, field: &str) {
    assert_eq!(
        diagnostic.error_type, "InvalidInput",
        "{}",
        diagnostic.error_message
    );
    assert!(
        diagnostic
            .error_message
            .starts_with(&format!("invalid input: {field}: ")),
        "{}",
        diagnostic.error_message
    );
}

/// The event fixture at `path` under `events/`, as JSON.
pub fn event(path: &str) -> Value {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("events")
        .join(path);
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
    fixture(&text)
}

/// Asserts that `names` are exactly the JSON files in `events/<folder>/`, so that a fixture
/// added there without a test (or a test naming a fixture that is gone) fails the suite.
pub fn assert_names_every_event_in(folder: &str, names: &[&str]) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("events")
        .join(folder);
    let on_disk: std::collections::BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    let named: std::collections::BTreeSet<String> = names.iter().map(|n| n.to_string()).collect();
    assert_eq!(
        on_disk, named,
        "the tests must exercise every event in events/{folder}/ and only those"
    );
}
