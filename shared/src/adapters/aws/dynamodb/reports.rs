//! Reports on DynamoDB, in the ledger's table.
//!
//! Key layout:
//!
//! | pk                              | sk        | item                                        |
//! |---------------------------------|-----------|---------------------------------------------|
//! | `REPORTKEY#<dedupe key>`        | `KEY`     | the id of the report first filed under it   |
//! | `RATE#<reporter_id>#<UTC day>`  | `RATE`    | `filed` count, `ttl` (DynamoDB TTL) two days on |
//! | `REPORT#<report_id>`            | `REPORT`  | the report, its weight and status           |
//! | `TARGET#<user_id>`              | `REPORTS` | `version`, `tally` (weights, crossings)      |
//! | `REPORTER#<reporter_id>`        | `STATS`   | `confirmed`, `rejected`                     |
//!
//! An intake is one `TransactWriteItems`: the key put (`attribute_not_exists`), the rate
//! counter update (`ADD filed 1` if under the limit), the report put, and the tally put
//! (`version = :expected`). Whichever guard fails cancels all four, so a repeat, a
//! 21st report or a race stores nothing. A resolution is one transaction too: the report's
//! status moves from `open` only once, together with the reporter's counter.

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use serde::{Deserialize, Serialize};

use super::outbox::outbox_put;
use super::table::{
    condition_failed, from_item, get_item, key, malformed, to_item, unavailable, Item,
    TTL_ATTRIBUTE,
};
use crate::policy::reports::ReporterStats;
use crate::reports::command::ResolutionDecision;
use crate::reports::store::{
    ReportRecord, ReportStatus, ReportStore, ReportWrite, ReportWriteError, ResolveWrite,
    ResolveWriteError, TallyState,
};
use crate::reports::tally::TargetTally;
use crate::store::StoreError;

#[derive(Debug, Clone)]
pub struct DynamoReportStore {
    client: Client,
    table: String,
}

#[derive(Serialize, Deserialize)]
struct TallyItem {
    pk: String,
    sk: String,
    version: u64,
    tally: TargetTally,
}

#[derive(Serialize, Deserialize)]
struct ReportItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    record: ReportRecord,
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn read_u32(item: &Item, name: &str) -> u32 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

impl DynamoReportStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoReportStore {
            client,
            table: table.into(),
        }
    }

    async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        get_item(&self.client, &self.table, pk, sk).await
    }
}

impl ReportStore for DynamoReportStore {
    async fn reporter_stats(&self, reporter_id: &str) -> Result<ReporterStats, StoreError> {
        Ok(
            match self.get(format!("REPORTER#{reporter_id}"), "STATS").await? {
                Some(item) => ReporterStats {
                    confirmed: read_u32(&item, "confirmed"),
                    rejected: read_u32(&item, "rejected"),
                },
                None => ReporterStats::default(),
            },
        )
    }

    async fn tally(&self, target_user_id: &str) -> Result<TallyState, StoreError> {
        match self
            .get(format!("TARGET#{target_user_id}"), "REPORTS")
            .await?
        {
            None => Ok(TallyState::default()),
            Some(item) => {
                let item: TallyItem = from_item(item)?;
                Ok(TallyState {
                    tally: item.tally,
                    version: item.version,
                })
            }
        }
    }

    async fn record(&self, write: ReportWrite) -> Result<(), ReportWriteError> {
        let build_error =
            |e| ReportWriteError::Store(malformed("building the intake transaction", e));
        let mut key_item = key(format!("REPORTKEY#{}", write.dedupe_key), "KEY");
        key_item.insert("report_id".into(), s(&write.report.report_id));
        let key_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(key_item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(build_error)?;
        let rate_update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(
                format!("RATE#{}#{}", write.report.reporter_id, write.rate_day),
                "RATE",
            )))
            .update_expression("ADD #filed :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(#filed) OR #filed < :limit")
            .expression_attribute_names("#filed", "filed")
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(write.rate_limit))
            .expression_attribute_values(":ttl", n(write.rate_expires_at))
            .build()
            .map_err(build_error)?;
        let report_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&ReportItem {
                pk: format!("REPORT#{}", write.report.report_id),
                sk: "REPORT".into(),
                record: write.report.clone(),
            })?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(build_error)?;
        let tally_item = to_item(&TallyItem {
            pk: format!("TARGET#{}", write.report.target_user_id),
            sk: "REPORTS".into(),
            version: write.expected_tally_version + 1,
            tally: write.tally.clone(),
        })?;
        let tally_put = if write.expected_tally_version == 0 {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(tally_item))
                .condition_expression("attribute_not_exists(pk)")
        } else {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(tally_item))
                .condition_expression("version = :expected")
                .expression_attribute_values(":expected", n(write.expected_tally_version))
        }
        .build()
        .map_err(build_error)?;

        let mut operations = vec![
            TransactWriteItem::builder().put(key_put).build(),
            TransactWriteItem::builder().update(rate_update).build(),
            TransactWriteItem::builder().put(report_put).build(),
            TransactWriteItem::builder().put(tally_put).build(),
        ];
        for message in &write.outbox {
            operations.push(outbox_put(&self.table, message, write.report.received_at)?);
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
        if condition_failed(&error, 0) {
            let original = self
                .get(format!("REPORTKEY#{}", write.dedupe_key), "KEY")
                .await?
                .and_then(|item| item.get("report_id").and_then(|v| v.as_s().ok()).cloned());
            return Err(ReportWriteError::Duplicate(original));
        }
        if condition_failed(&error, 2) {
            return Err(ReportWriteError::Duplicate(Some(write.report.report_id)));
        }
        if condition_failed(&error, 1) {
            return Err(ReportWriteError::RateLimited);
        }
        if condition_failed(&error, 3) {
            return Err(ReportWriteError::TallyChanged);
        }
        Err(ReportWriteError::Store(unavailable(
            "TransactWriteItems",
            DisplayErrorContext(error),
        )))
    }

    async fn report(&self, report_id: &str) -> Result<Option<ReportRecord>, StoreError> {
        self.get(format!("REPORT#{report_id}"), "REPORT")
            .await?
            .map(|item| from_item::<ReportItem>(item).map(|i| i.record))
            .transpose()
    }

    async fn resolve(&self, write: ResolveWrite) -> Result<(), ResolveWriteError> {
        let ResolveWrite {
            report_id,
            reporter_id,
            decision,
            decided_by,
            resolved_at,
            outbox,
        } = write;
        let build_error = |e| ResolveWriteError::Store(malformed("building the resolution", e));
        let status = ReportStatus::from(decision);
        let report_update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(format!("REPORT#{report_id}"), "REPORT")))
            .update_expression("SET #status = :status, decided_by = :by")
            .condition_expression("#status = :open")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(status.as_str()))
            .expression_attribute_values(":open", s(ReportStatus::Open.as_str()))
            .expression_attribute_values(":by", s(decided_by))
            .build()
            .map_err(build_error)?;
        let counter = match decision {
            ResolutionDecision::Confirmed => "confirmed",
            ResolutionDecision::Rejected => "rejected",
        };
        let stats_update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(format!("REPORTER#{reporter_id}"), "STATS")))
            .update_expression("ADD #counter :one")
            .expression_attribute_names("#counter", counter)
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(build_error)?;
        let mut operations = vec![
            TransactWriteItem::builder().update(report_update).build(),
            TransactWriteItem::builder().update(stats_update).build(),
        ];
        for message in &outbox {
            operations.push(outbox_put(&self.table, message, resolved_at)?);
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(operations))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e, 0) => Err(ResolveWriteError::AlreadyResolved),
            Err(e) => Err(ResolveWriteError::Store(unavailable(
                "TransactWriteItems",
                DisplayErrorContext(e),
            ))),
        }
    }
}
