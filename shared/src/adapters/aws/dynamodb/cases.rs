//! Support's cases on DynamoDB, in the ledger's table.
//!
//! Key layout (the only place it is defined):
//!
//! | pk                   | sk                              | item |
//! |----------------------|---------------------------------|------|
//! | `CASE#<case_id>`     | `CASE`                          | `version`, `summary`, `history`, `sealed` (the text and the verdict, KMS envelope), `ttl` once closed |
//! | `QUEUE`              | `CASE#<case_id>`                | `summary`, while the case is not closed |
//! | `CASEDAY#<day>`      | `CASE#<case_id>`                | `summary` as opened (content hash, author: reposts), `ttl` |
//! | `CLOSED#<day>`       | `CASE#<case_id>`                | `summary` as decided (trends, repeat offenders), `ttl` |
//! | `AUTHOR#<author_id>` | `CASE#<opened_at:012>#<case_id>`| `summary`, kept current (the author's history), `ttl` once closed |
//!
//! `<day>` is days since the epoch (UTC). A case is opened inside the transaction of the
//! write that calls for it (the screening recorder's, the report store's:
//! [`DynamoCaseStore::open_operations`]): the case put (guarded `attribute_not_exists(pk)`:
//! a retried screening opens nothing) and its three index items; its text and verdict are
//! sealed first with a data key of their own ([`super::super::kms`]). Every later write is
//! one `TransactWriteItems` that updates the case's summary and history (guarded
//! `version = :expected`; the sealed content is never rewritten), brings the index items
//! along — the queue item goes when the case closes, the day's decision item comes — and
//! puts the messages the change sends into the outbox ([`super::outbox`]). Closed items
//! carry `ttl` = closing + retention, and DynamoDB deletes them — the sealed text with them
//! — once it has passed.
//!
//! The queue is one partition holding only the open backlog, read with one `Query`; the
//! trends read 30 day partitions each way.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use serde::{Deserialize, Serialize};

use super::outbox::outbox_put;
use super::table::{
    condition_failed, failed, from_item, get_item, key, malformed, query_all, to_item, transact,
    transaction_conflicted, transaction_failed, Item, TTL_ATTRIBUTE,
};
use crate::adapters::aws::kms::{KmsSealer, Sealed};
use crate::clock::{Timestamp, SECONDS_PER_DAY};
use crate::outbox::OutboxMessage;
use crate::store::StoreError;
use crate::support::case::{Case, CaseContent, CaseEvent, CaseStatus, CaseSummary};
use crate::support::store::{expires_at, CaseStore, CaseWriteError};

const CASE_SK: &str = "CASE";
const QUEUE_PK: &str = "QUEUE";

fn case_pk(case_id: &str) -> String {
    format!("CASE#{case_id}")
}

fn index_sk(case_id: &str) -> String {
    format!("CASE#{case_id}")
}

fn author_sk(summary: &CaseSummary) -> String {
    format!("CASE#{:012}#{}", summary.opened_at, summary.case_id)
}

#[derive(Serialize, Deserialize)]
struct CaseItem {
    pk: String,
    sk: String,
    version: u64,
    summary: CaseSummary,
    history: Vec<CaseEvent>,
    sealed: Sealed,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ttl: Option<Timestamp>,
}

#[derive(Serialize, Deserialize)]
struct IndexItem {
    pk: String,
    sk: String,
    summary: CaseSummary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ttl: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct DynamoCaseStore {
    client: Client,
    table: String,
    sealer: KmsSealer,
    retention_days: u64,
}

impl DynamoCaseStore {
    pub fn new(
        client: Client,
        table: impl Into<String>,
        sealer: KmsSealer,
        retention_days: u64,
    ) -> Self {
        DynamoCaseStore {
            client,
            table: table.into(),
            sealer,
            retention_days,
        }
    }

    fn put(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .build()
            .map_err(|e| malformed("building a put", e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn index(
        &self,
        pk: String,
        sk: String,
        summary: &CaseSummary,
        ttl: Option<Timestamp>,
    ) -> Result<TransactWriteItem, StoreError> {
        self.put(to_item(&IndexItem {
            pk,
            sk,
            summary: summary.clone(),
            ttl,
        })?)
    }

    async fn query(&self, pk: String) -> Result<Vec<CaseSummary>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(pk))
            .consistent_read(true);
        query_all(query)
            .await?
            .into_iter()
            .map(|item| from_item::<IndexItem>(item).map(|i| i.summary))
            .collect()
    }

    /// The operations that open `case`, for the transaction of the write that calls for it;
    /// the first is the case put, guarded by `attribute_not_exists(pk)` (a transaction
    /// cancelled by its condition found the case open already). Seals the content first.
    pub(crate) async fn open_operations(
        &self,
        case: &Case,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let content =
            serde_json::to_vec(&case.content).map_err(|e| malformed("encoding case content", e))?;
        let sealed = self.sealer.seal(case.id(), &content).await?;
        let summary = &case.summary;
        let item = to_item(&CaseItem {
            pk: case_pk(case.id()),
            sk: CASE_SK.to_owned(),
            version: 1,
            summary: summary.clone(),
            history: case.history.clone(),
            sealed,
            ttl: expires_at(summary, self.retention_days),
        })?;
        let case_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| malformed("building the case put", e))?;
        let day = summary.opened_at / SECONDS_PER_DAY;
        let index_ttl = Some(summary.opened_at + self.retention_days * SECONDS_PER_DAY);
        Ok(vec![
            TransactWriteItem::builder().put(case_put).build(),
            self.index(QUEUE_PK.to_owned(), index_sk(case.id()), summary, None)?,
            self.index(
                format!("CASEDAY#{day}"),
                index_sk(case.id()),
                summary,
                index_ttl,
            )?,
            self.index(
                format!("AUTHOR#{}", summary.author_id),
                author_sk(summary),
                summary,
                None,
            )?,
        ])
    }
}

impl CaseStore for DynamoCaseStore {
    async fn load(&self, case_id: &str) -> Result<Option<(Case, u64)>, StoreError> {
        let Some(item) = get_item(&self.client, &self.table, case_pk(case_id), CASE_SK).await?
        else {
            return Ok(None);
        };
        let item: CaseItem = from_item(item)?;
        let content = self.sealer.open(case_id, &item.sealed).await?;
        let content: CaseContent =
            serde_json::from_slice(&content).map_err(|e| malformed("decoding case content", e))?;
        Ok(Some((
            Case {
                summary: item.summary,
                history: item.history,
                content,
            },
            item.version,
        )))
    }

    async fn save(
        &self,
        case: &Case,
        expected_version: u64,
        outbox: &[OutboxMessage],
    ) -> Result<(), CaseWriteError> {
        let summary = &case.summary;
        let ttl = expires_at(summary, self.retention_days);
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(case_pk(case.id()), CASE_SK)))
            .condition_expression("version = :expected")
            .expression_attribute_values(
                ":expected",
                AttributeValue::N(expected_version.to_string()),
            )
            .expression_attribute_values(
                ":version",
                AttributeValue::N((expected_version + 1).to_string()),
            )
            .expression_attribute_values(":summary", AttributeValue::M(to_item(summary)?))
            .expression_attribute_values(
                ":history",
                serde_dynamo::to_attribute_value(&case.history)
                    .map_err(|e| malformed("encoding history", e))?,
            )
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE);
        update = match ttl {
            Some(t) => update
                .update_expression(
                    "SET version = :version, summary = :summary, history = :history, #ttl = :ttl",
                )
                .expression_attribute_values(":ttl", AttributeValue::N(t.to_string())),
            None => update.update_expression(
                "SET version = :version, summary = :summary, history = :history REMOVE #ttl",
            ),
        };
        let update = update
            .build()
            .map_err(|e| malformed("building the case update", e))?;
        let mut operations = vec![TransactWriteItem::builder().update(update).build()];
        if summary.status == CaseStatus::Closed {
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(QUEUE_PK.to_owned(), &index_sk(case.id()))))
                .build()
                .map_err(|e| malformed("building the queue delete", e))?;
            operations.push(TransactWriteItem::builder().delete(delete).build());
            if let Some(closed) = summary.closed_at {
                operations.push(self.index(
                    format!("CLOSED#{}", closed / SECONDS_PER_DAY),
                    index_sk(case.id()),
                    summary,
                    ttl,
                )?);
            }
        } else {
            operations.push(self.index(QUEUE_PK.to_owned(), index_sk(case.id()), summary, None)?);
        }
        operations.push(self.index(
            format!("AUTHOR#{}", summary.author_id),
            author_sk(summary),
            summary,
            ttl,
        )?);
        for message in outbox {
            operations.push(outbox_put(&self.table, message, summary.updated_at)?);
        }
        match transact(&self.client, operations).await {
            Ok(()) => Ok(()),
            // Another decision got there first, by its guard or by racing this transaction:
            // the desk reads the case again.
            Err(e) if condition_failed(&e, 0) || transaction_conflicted(&e) => {
                Err(CaseWriteError::Changed)
            }
            Err(e) => Err(transaction_failed(e).into()),
        }
    }

    async fn send(&self, outbox: &[OutboxMessage], at: Timestamp) -> Result<(), StoreError> {
        let operations = outbox
            .iter()
            .map(|m| outbox_put(&self.table, m, at))
            .collect::<Result<Vec<_>, _>>()?;
        transact(&self.client, operations)
            .await
            .map_err(transaction_failed)
    }

    async fn queue(&self) -> Result<Vec<CaseSummary>, StoreError> {
        self.query(QUEUE_PK.to_owned()).await
    }

    async fn opened_on(&self, day: u64) -> Result<Vec<CaseSummary>, StoreError> {
        self.query(format!("CASEDAY#{day}")).await
    }

    async fn closed_on(&self, day: u64) -> Result<Vec<CaseSummary>, StoreError> {
        self.query(format!("CLOSED#{day}")).await
    }

    async fn cases_of(
        &self,
        author_id: &str,
        limit: usize,
    ) -> Result<Vec<CaseSummary>, StoreError> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(format!("AUTHOR#{author_id}")))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| failed("Query", e))?;
        page.items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item::<IndexItem>(item).map(|i| i.summary))
            .collect()
    }
}
