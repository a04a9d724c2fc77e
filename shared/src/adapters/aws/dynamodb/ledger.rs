//! The strike ledger on DynamoDB: one table, string keys `pk` and `sk`.
//!
//! Key layout (the only place it is defined):
//!
//! | pk                  | sk                   | item                                           |
//! |---------------------|----------------------|------------------------------------------------|
//! | `USER#<user_id>`    | `STANDING`           | `version`, `level`, `standing` (strikes, pending withdrawal); while a strike may expire, `sweep_pk` = `EXPIRY#<shard>` and `sweep_at` = the next expiry (the sparse sweep index) |
//! | `USER#<user_id>`    | `AUDIT#<version:012>`| one audit record per change, in commit order   |
//! | `VIOLATION#<id>`    | `VIOLATION`          | the violation record, `revocation` once revoked|
//!
//! Reports share the table ([`super::table`]); their keys are in [`super::reports`].
//!
//! A confirmed violation costs one consistent `GetItem` (the standing) and one
//! `TransactWriteItems`: the violation put (`attribute_not_exists(pk)`, so a duplicate id
//! cancels the whole transaction), the standing put (`version = :expected`, so a
//! concurrent writer cancels it), the audit record, and the level-change alert into the
//! outbox when the level moves. Cancellation reasons say which
//! guard failed. Audit keys use the standing's new version, so they are unique per user
//! and sort in commit order.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use serde::{Deserialize, Serialize};

use super::outbox::{outbox_put, sweep_partition, SWEEP_SHARDS};
use super::table::{
    condition_failed, failed, from_item, get_item, malformed, query_all, to_item,
    transaction_conflicted, transaction_failed, Item, SWEEP_INDEX,
};
use crate::clock::Timestamp;
use crate::escalation::ledger::{
    AuditRecord, Commit, CommitError, LedgerStore, UserState, ViolationRecord, ViolationWrite,
};
use crate::escalation::Standing;
use crate::policy::ladder::AccountLevel;
use crate::store::StoreError;

const STANDING_SK: &str = "STANDING";
const VIOLATION_SK: &str = "VIOLATION";
const AUDIT_PREFIX: &str = "AUDIT#";
const EXPIRY_PREFIX: &str = "EXPIRY#";

fn user_pk(user_id: &str) -> String {
    format!("USER#{user_id}")
}

fn violation_pk(violation_id: &str) -> String {
    format!("VIOLATION#{violation_id}")
}

fn audit_sk(version: u64) -> String {
    format!("{AUDIT_PREFIX}{version:012}")
}

#[derive(Serialize, Deserialize)]
struct StandingItem {
    pk: String,
    sk: String,
    version: u64,
    /// Repeated outside `standing` so that a console or a query can read it plainly.
    level: AccountLevel,
    standing: Standing,
    /// Present only while a strike may still expire: the item is then in the sparse sweep
    /// index, under `EXPIRY#<shard>`, at its next expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sweep_pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sweep_at: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct ViolationItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    record: ViolationRecord,
}

#[derive(Serialize, Deserialize)]
struct AuditItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    record: AuditRecord,
}

#[derive(Debug, Clone)]
pub struct DynamoLedgerStore {
    client: Client,
    table: String,
}

impl DynamoLedgerStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoLedgerStore {
            client,
            table: table.into(),
        }
    }

    async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        get_item(&self.client, &self.table, pk, sk).await
    }

    fn put(&self, item: Item) -> aws_sdk_dynamodb::types::builders::PutBuilder {
        Put::builder().table_name(&self.table).set_item(Some(item))
    }
}

impl LedgerStore for DynamoLedgerStore {
    async fn load_user(&self, user_id: &str) -> Result<UserState, StoreError> {
        match self.get(user_pk(user_id), STANDING_SK).await? {
            None => Ok(UserState::default()),
            Some(item) => {
                let item: StandingItem = from_item(item)?;
                Ok(UserState {
                    standing: item.standing,
                    version: item.version,
                })
            }
        }
    }

    async fn load_violation(
        &self,
        violation_id: &str,
    ) -> Result<Option<ViolationRecord>, StoreError> {
        self.get(violation_pk(violation_id), VIOLATION_SK)
            .await?
            .map(|item| from_item::<ViolationItem>(item).map(|i| i.record))
            .transpose()
    }

    async fn commit(&self, commit: Commit) -> Result<(), CommitError> {
        let new_version = commit.expected_version + 1;
        let mut operations = Vec::with_capacity(3);
        // Index of the violation operation in the transaction, to read its cancellation reason.
        let violation_op = match &commit.violation {
            ViolationWrite::Untouched => None,
            ViolationWrite::Insert(record) | ViolationWrite::Revoke(record) => {
                let item = to_item(&ViolationItem {
                    pk: violation_pk(&record.violation_id),
                    sk: VIOLATION_SK.to_owned(),
                    record: record.clone(),
                })?;
                let guard = match commit.violation {
                    ViolationWrite::Insert(_) => "attribute_not_exists(pk)",
                    _ => "attribute_exists(pk) AND attribute_not_exists(revocation)",
                };
                let put = self
                    .put(item)
                    .condition_expression(guard)
                    .build()
                    .map_err(|e| malformed("building the violation put", e))?;
                operations.push(TransactWriteItem::builder().put(put).build());
                Some(operations.len() - 1)
            }
        };

        let next_expiry = commit.standing.next_expiry();
        let standing_item = to_item(&StandingItem {
            pk: user_pk(&commit.user_id),
            sk: STANDING_SK.to_owned(),
            version: new_version,
            level: commit.standing.level(),
            standing: commit.standing.clone(),
            sweep_pk: next_expiry.map(|_| sweep_partition(EXPIRY_PREFIX, &commit.user_id)),
            sweep_at: next_expiry,
        })?;
        let standing_put = if commit.expected_version == 0 {
            self.put(standing_item)
                .condition_expression("attribute_not_exists(pk)")
        } else {
            self.put(standing_item)
                .condition_expression("version = :expected")
                .expression_attribute_values(
                    ":expected",
                    AttributeValue::N(commit.expected_version.to_string()),
                )
        }
        .build()
        .map_err(|e| malformed("building the standing put", e))?;
        operations.push(TransactWriteItem::builder().put(standing_put).build());
        let standing_op = operations.len() - 1;

        let audit_put = self
            .put(to_item(&AuditItem {
                pk: user_pk(&commit.user_id),
                sk: audit_sk(new_version),
                record: commit.audit.clone(),
            })?)
            .build()
            .map_err(|e| malformed("building the audit put", e))?;
        operations.push(TransactWriteItem::builder().put(audit_put).build());
        // The messages the change announces, in the same transaction (see `super::outbox`).
        for message in &commit.outbox {
            operations.push(outbox_put(&self.table, message, commit.audit.at)?);
        }

        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(operations))
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if violation_op.is_some_and(|i| condition_failed(&error, i)) {
            return Err(match commit.violation {
                ViolationWrite::Insert(_) => CommitError::ViolationAlreadyRecorded,
                _ => CommitError::ViolationAlreadyRevoked,
            });
        }
        // Losing a race to another transaction is the same news as a moved version: read
        // again and retry (the escalator's loop does, within its budget and deadline).
        if condition_failed(&error, standing_op) || transaction_conflicted(&error) {
            return Err(CommitError::StandingChanged);
        }
        Err(CommitError::Store(transaction_failed(error)))
    }

    async fn due_for_expiry(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let mut due: Vec<(u64, String)> = Vec::new();
        for shard in 0..SWEEP_SHARDS {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(SWEEP_INDEX)
                .key_condition_expression("sweep_pk = :shard AND sweep_at <= :now")
                .expression_attribute_values(
                    ":shard",
                    AttributeValue::S(format!("{EXPIRY_PREFIX}{shard}")),
                )
                .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
                .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                .send()
                .await
                .map_err(|e| failed("Query", e))?;
            for item in page.items.unwrap_or_default() {
                let item: StandingItem = from_item(item)?;
                let user = item.pk.strip_prefix("USER#").unwrap_or(&item.pk).to_owned();
                due.push((item.sweep_at.unwrap_or(0), user));
            }
        }
        due.sort();
        Ok(due.into_iter().take(limit).map(|(_, user)| user).collect())
    }

    async fn audit_trail(&self, user_id: &str) -> Result<Vec<AuditRecord>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(user_pk(user_id)))
            .expression_attribute_values(":prefix", AttributeValue::S(AUDIT_PREFIX.to_owned()))
            .consistent_read(true);
        query_all(query)
            .await?
            .into_iter()
            .map(|item| from_item::<AuditItem>(item).map(|i| i.record))
            .collect()
    }
}
