//! The one DynamoDB table the ledger and the reports share: string keys `pk` and `sk`, a
//! TTL attribute, and the helpers both adapters use to read, write and guard items.
//!
//! Key layouts are in [`super::ledger`] (users, violations, audit) and [`super::reports`]
//! (report keys, rate counters, reports, tallies, reporters).

use std::collections::HashMap;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use serde::{Deserialize, Serialize};

use crate::store::StoreError;

pub(crate) type Item = HashMap<String, AttributeValue>;

/// The table's TTL attribute (the SAM template names the same one).
pub const TTL_ATTRIBUTE: &str = "ttl";

/// The sparse index scheduled sweeps read: only items with a `sweep_pk` (pending outbox
/// messages, standings with a strike still to expire) appear in it, by `sweep_at`.
pub const SWEEP_INDEX: &str = "sweep";

/// Error codes that mean "over capacity": the SDK has already retried them with its
/// backoff (see `adapters::aws::sdk_config`), so what reaches us is for the caller to
/// retry later.
const THROTTLED: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    // The same, as cancellation reasons inside a transaction.
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
];

/// Error codes that mean "this request will never pass": a defect or an item too large.
const REJECTED: &[&str] = &[
    "ValidationException",
    "ItemCollectionSizeLimitExceededException",
    "SerializationException",
    // As cancellation reasons inside a transaction.
    "ValidationError",
    "ItemCollectionSizeLimitExceeded",
];

/// A failed call, sorted by what may be done about it. Throttling and rejection carry
/// only the operation and DynamoDB's error code: a validation message can quote the
/// item, and item text must never reach a log.
pub(crate) fn failed<E>(operation: &str, error: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match error.code() {
        Some(code) if THROTTLED.contains(&code) => {
            return StoreError::Throttled(format!("{operation}: {code}"))
        }
        Some(code) if REJECTED.contains(&code) => {
            return StoreError::Rejected(format!("{operation}: {code}"))
        }
        _ => {}
    }
    StoreError::Unavailable(format!("{operation}: {}", DisplayErrorContext(error)))
}

/// The codes of a cancelled transaction's parts, where it was one.
fn cancellation_codes(error: &SdkError<TransactWriteItemsError, HttpResponse>) -> Vec<&str> {
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
            .cancellation_reasons()
            .iter()
            .filter_map(|r| r.code())
            .collect(),
        _ => Vec::new(),
    }
}

/// A failed transaction, sorted like [`failed`], its parts' reasons included.
pub(crate) fn transaction_failed(
    error: SdkError<TransactWriteItemsError, HttpResponse>,
) -> StoreError {
    let reasons = cancellation_codes(&error);
    if let Some(code) = reasons.iter().find(|c| THROTTLED.contains(c)) {
        return StoreError::Throttled(format!("TransactWriteItems: {code}"));
    }
    if let Some(code) = reasons.iter().find(|c| REJECTED.contains(c)) {
        return StoreError::Rejected(format!("TransactWriteItems: {code}"));
    }
    failed("TransactWriteItems", error)
}

/// Whether the transaction lost a race with another transaction on one of its items
/// (DynamoDB cancels it whole): the writer should read again and retry, exactly as when
/// its own guard failed.
pub(crate) fn transaction_conflicted(
    error: &SdkError<TransactWriteItemsError, HttpResponse>,
) -> bool {
    error.code() == Some("TransactionConflictException")
        || cancellation_codes(error).contains(&"TransactionConflict")
}

/// A request this build could not put together, or an item it could not read.
pub(crate) fn malformed(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Malformed(format!("{what}: {error}"))
}

pub(crate) fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| malformed("encoding an item", e))
}

pub(crate) fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| malformed("decoding an item", e))
}

pub(crate) fn key(pk: String, sk: &str) -> Item {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(pk)),
        ("sk".to_owned(), AttributeValue::S(sk.to_owned())),
    ])
}

/// Creates the table (on demand, with TTL on [`TTL_ATTRIBUTE`], the [`SWEEP_INDEX`], and a
/// stream of new images for the outbox publisher). For local runs and tests; in AWS the SAM
/// template owns the table.
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let attribute = |name: &str, kind: ScalarAttributeType| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(kind)
            .build()
            .map_err(|e| malformed("table schema", e))
    };
    let key_element = |name: &str, key_type| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .map_err(|e| malformed("table schema", e))
    };
    let sweep = GlobalSecondaryIndex::builder()
        .index_name(SWEEP_INDEX)
        .key_schema(key_element("sweep_pk", KeyType::Hash)?)
        .key_schema(key_element("sweep_at", KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(|e| malformed("table schema", e))?;
    let stream = StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::NewImage)
        .build()
        .map_err(|e| malformed("table schema", e))?;
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk", ScalarAttributeType::S)?)
        .attribute_definitions(attribute("sk", ScalarAttributeType::S)?)
        .attribute_definitions(attribute("sweep_pk", ScalarAttributeType::S)?)
        .attribute_definitions(attribute("sweep_at", ScalarAttributeType::N)?)
        .key_schema(key_element("pk", KeyType::Hash)?)
        .key_schema(key_element("sk", KeyType::Range)?)
        .global_secondary_indexes(sweep)
        .stream_specification(stream)
        .send()
        .await
        .map_err(|e| failed("CreateTable", e))?;
    // Report rate counters carry a `ttl`; DynamoDB deletes them once it has passed.
    let ttl = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(TTL_ATTRIBUTE)
        .build()
        .map_err(|e| malformed("table schema", e))?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(ttl)
        .send()
        .await
        .map_err(|e| failed("UpdateTimeToLive", e))?;
    Ok(())
}

/// A strongly consistent read of one item: every guard decision reads its latest state.
pub(crate) async fn get_item(
    client: &Client,
    table: &str,
    pk: String,
    sk: &str,
) -> Result<Option<Item>, StoreError> {
    client
        .get_item()
        .table_name(table)
        .set_key(Some(key(pk, sk)))
        .consistent_read(true)
        .send()
        .await
        .map(|o| o.item)
        .map_err(|e| failed("GetItem", e))
}

/// Every item `query` matches, page after page (a `Query` answers at most 1 MB at a time).
pub(crate) async fn query_all(query: QueryFluentBuilder) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let page = query
            .clone()
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| failed("Query", e))?;
        items.extend(page.items.unwrap_or_default());
        match page.last_evaluated_key {
            Some(next) => start = Some(next),
            None => return Ok(items),
        }
    }
}

/// Why a `TransactWriteItems` failed, as the SDK says it: [`condition_failed`] reads it.
pub(crate) type TransactError = SdkError<TransactWriteItemsError, HttpResponse>;

/// Writes `operations` in one `TransactWriteItems`; no operations, no call.
pub(crate) async fn transact(
    client: &Client,
    operations: Vec<TransactWriteItem>,
) -> Result<(), TransactError> {
    if operations.is_empty() {
        return Ok(());
    }
    client
        .transact_write_items()
        .set_transact_items(Some(operations))
        .send()
        .await
        .map(|_| ())
}

/// Whether the transaction was cancelled because the operation at `index` failed its
/// condition.
pub(crate) fn condition_failed(error: &TransactError, index: usize) -> bool {
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
            cancelled
                .cancellation_reasons()
                .get(index)
                .and_then(|r| r.code())
                == Some("ConditionalCheckFailed")
        }
        _ => false,
    }
}
