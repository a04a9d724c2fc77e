//! The outbox on DynamoDB, in the shared table.
//!
//! | pk              | sk       | item                                                        |
//! |-----------------|----------|-------------------------------------------------------------|
//! | `OUTBOX#<id>`   | `OUTBOX` | the message (destination, subject, body, attributes), `written_at`, and `sweep_pk` = `OUTBOX#<shard>` / `sweep_at` = `written_at` |
//!
//! Every store puts its messages in the same `TransactWriteItems` as its change
//! ([`outbox_put`]). The table's stream (new images) drives the publisher function; the
//! sparse `sweep` index (only items with `sweep_pk` appear in it) lets a scheduled sweep
//! find what the stream did not deliver. The shard spreads the index's partition key so no
//! one partition takes every write.

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use serde::{Deserialize, Serialize};

use super::table::{from_item, key, malformed, to_item, unavailable, Item, SWEEP_INDEX};
use crate::digest::stable_key;
use crate::outbox::{OutboxMessage, OutboxStore};
use crate::store::StoreError;

const OUTBOX_PREFIX: &str = "OUTBOX#";
const OUTBOX_SK: &str = "OUTBOX";
/// Partitions of the sweep index per kind of item.
pub const SWEEP_SHARDS: u8 = 8;

#[derive(Serialize, Deserialize)]
struct OutboxItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    message: OutboxMessage,
    written_at: u64,
    sweep_pk: String,
    sweep_at: u64,
}

/// The sweep-index partition an id falls in, `<prefix><shard>`.
pub(crate) fn sweep_partition(prefix: &str, id: &str) -> String {
    let shard = stable_key(&[id]).as_bytes()[0] % SWEEP_SHARDS;
    format!("{prefix}{shard}")
}

/// The put that writes `message` into the outbox, for a store's transaction. Unguarded:
/// writing the same message twice leaves one item.
pub(crate) fn outbox_put(
    table: &str,
    message: &OutboxMessage,
    written_at: u64,
) -> Result<TransactWriteItem, StoreError> {
    let item = to_item(&OutboxItem {
        pk: format!("{OUTBOX_PREFIX}{}", message.id),
        sk: OUTBOX_SK.to_owned(),
        message: message.clone(),
        written_at,
        sweep_pk: sweep_partition(OUTBOX_PREFIX, &message.id),
        sweep_at: written_at,
    })?;
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .build()
        .map_err(|e| malformed("building an outbox put", e))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// The message an item of the table holds, if it is an outbox item: a stream delivers
/// every item's changes (as `serde_dynamo::Item`), and only these are messages.
pub fn message_from_item(
    item: impl Into<serde_dynamo::Item>,
) -> Result<Option<OutboxMessage>, StoreError> {
    let item: serde_dynamo::Item = item.into();
    let is_outbox = matches!(
        item.get("pk"),
        Some(serde_dynamo::AttributeValue::S(pk)) if pk.starts_with(OUTBOX_PREFIX)
    );
    if !is_outbox {
        return Ok(None);
    }
    serde_dynamo::from_item::<_, OutboxItem>(item)
        .map(|i| Some(i.message))
        .map_err(|e| malformed("decoding an outbox item", e))
}

/// The outbox's pending messages and their removal, for the relay.
#[derive(Debug, Clone)]
pub struct DynamoOutboxStore {
    client: Client,
    table: String,
}

impl DynamoOutboxStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoOutboxStore {
            client,
            table: table.into(),
        }
    }
}

impl OutboxStore for DynamoOutboxStore {
    async fn pending(
        &self,
        written_before: u64,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut pending: Vec<(u64, OutboxMessage)> = Vec::new();
        for shard in 0..SWEEP_SHARDS {
            let mut start: Option<Item> = None;
            loop {
                let page = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(SWEEP_INDEX)
                    .key_condition_expression("sweep_pk = :shard AND sweep_at <= :before")
                    .expression_attribute_values(
                        ":shard",
                        AttributeValue::S(format!("{OUTBOX_PREFIX}{shard}")),
                    )
                    .expression_attribute_values(
                        ":before",
                        AttributeValue::N(written_before.min(i64::MAX as u64).to_string()),
                    )
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(|e| unavailable("Query", DisplayErrorContext(e)))?;
                for item in page.items.unwrap_or_default() {
                    let item: OutboxItem = from_item(item)?;
                    pending.push((item.written_at, item.message));
                }
                match page.last_evaluated_key {
                    Some(next) if pending.len() < limit => start = Some(next),
                    _ => break,
                }
            }
        }
        pending.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
        Ok(pending.into_iter().take(limit).map(|(_, m)| m).collect())
    }

    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("{OUTBOX_PREFIX}{id}"), OUTBOX_SK)))
            .send()
            .await
            .map_err(|e| unavailable("DeleteItem", DisplayErrorContext(e)))?;
        Ok(())
    }
}
