//! What the integration tests need: the emulator's address, AWS clients pointed at it,
//! and a way to read back what SNS received.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anshin_core::adapters::aws::DynamoLedgerStore;
use anshin_core::adapters::aws::DynamoReportStore;
use aws_config::BehaviorVersion;
use serde_json::Value;

/// Set by `tests/run.sh` to the moto server it started.
pub const ENDPOINT_VAR: &str = "ANSHIN_TEST_AWS_ENDPOINT";

pub fn aws_endpoint() -> String {
    std::env::var(ENDPOINT_VAR).unwrap_or_else(|_| {
        panic!("{ENDPOINT_VAR} is not set: run the suite with tests/run.sh, which starts moto")
    })
}

async fn emulator_config() -> aws_config::SdkConfig {
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
        .load()
        .await
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

/// A DynamoDB report store and ledger sharing a table of their own in moto.
pub async fn fresh_dynamo_reports() -> (DynamoReportStore, DynamoLedgerStore) {
    let client = dynamodb_client().await;
    let table = unique_name("anshin-reports");
    anshin_core::adapters::aws::create_table(&client, &table)
        .await
        .expect("create table in moto");
    (
        DynamoReportStore::new(client.clone(), table.clone()),
        DynamoLedgerStore::new(client, table),
    )
}

/// A DynamoDB ledger on a table of its own in moto.
pub async fn fresh_dynamo_ledger() -> DynamoLedgerStore {
    let client = dynamodb_client().await;
    let table = unique_name("anshin-ledger");
    anshin_core::adapters::aws::create_table(&client, &table)
        .await
        .expect("create table in moto");
    DynamoLedgerStore::new(client, table)
}

/// A topic of its own for each test, so that tests running in parallel do not see each
/// other's messages.
pub async fn fresh_topic(client: &aws_sdk_sns::Client, name: &str) -> String {
    client
        .create_topic()
        .name(name)
        .send()
        .await
        .expect("create topic in moto")
        .topic_arn
        .expect("moto returns a topic ARN")
}

/// A message SNS accepted, as moto recorded it.
#[derive(Debug)]
pub struct SentNotification {
    pub message: String,
    pub subject: Option<String>,
    pub attributes: Value,
}

/// Reads moto's record of what was published to `topic_arn` (`/moto-api/data.json`).
pub async fn sent_notifications(topic_arn: &str) -> Vec<SentNotification> {
    let data: Value = reqwest::get(format!("{}/moto-api/data.json", aws_endpoint()))
        .await
        .expect("moto data.json")
        .json()
        .await
        .expect("data.json is JSON");
    let topics = data["sns"]["Topic"].as_array().cloned().unwrap_or_default();
    topics
        .iter()
        .filter(|t| t["arn"].as_str() == Some(topic_arn))
        .flat_map(|t| {
            t["sent_notifications"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|n| SentNotification {
            message: n[1].as_str().unwrap_or_default().to_owned(),
            subject: n[2].as_str().map(str::to_owned),
            attributes: n[3].clone(),
        })
        .collect()
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
