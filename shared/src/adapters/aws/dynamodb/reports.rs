//! Reports on DynamoDB, in the ledger's table.
//!
//! Key layout:
//!
//! | pk                              | sk        | item                                        |
//! |---------------------------------|-----------|---------------------------------------------|
//! | `REPORTKEY#<dedupe key>`        | `KEY`     | the id of the report first filed under it   |
//! | `RATE#<reporter_id>#<UTC day>`  | `RATE`    | `filed` count, `ttl` (DynamoDB TTL) two days on |
//! | `REPORT#<report_id>`            | `REPORT`  | the report, its weight and status           |
//! | `TARGET#<user_id>`              | `REPORTS` | `version`, `tally` (bounded sums per time bucket and category, held new-account reports, crossings, epochs) |
//! | `TARGET#<user_id>`              | `MARK#<category>#<reporter_id>` | what the reporter counts for in that category: `weight`, `bucket`, `epoch`; `ttl` once its bucket has left the window |
//! | `REPORTER#<reporter_id>`        | `STATS`   | `confirmed`, `rejected`                     |
//!
//! An intake is one `TransactWriteItems`: the key put (`attribute_not_exists`), the rate
//! counter update (`ADD filed 1` if under the limit), the report put, the tally put
//! (`version = :expected`), the reporters' marks that changed, the outbox messages and,
//! when the report crossed and the store keeps cases, support's case about the crossing
//! ([`super::cases`]).
//! Whichever guard fails cancels everything, so a repeat, a 21st report or a race stores
//! nothing. A resolution is one transaction too: the report's status moves from `open`
//! only once, together with the reporter's counter, the re-armed tally (at its version)
//! and the violation it hands on.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use serde::{Deserialize, Serialize};

use super::cases::DynamoCaseStore;
use super::outbox::outbox_put;
use super::table::{
    condition_failed, failed, from_item, get_item, key, malformed, query_all, to_item,
    transaction_conflicted, transaction_failed, Item, TTL_ATTRIBUTE,
};
use crate::policy::reports::ReporterStats;
use crate::reports::command::ResolutionDecision;
use crate::reports::store::{
    sort_heaviest_first, CountedReport, MarkKey, ReportRecord, ReportStatus, ReportStore,
    ReportWrite, ReportWriteError, ResolveWrite, ResolveWriteError, TallyState,
};
use crate::reports::tally::{ReporterMark, TargetTally};
use crate::store::StoreError;
use crate::support::case::{log_opening, Case};
use crate::taxonomy::ReportCategory;

#[derive(Debug, Clone)]
pub struct DynamoReportStore {
    client: Client,
    table: String,
    cases: Option<DynamoCaseStore>,
}

#[derive(Serialize, Deserialize)]
struct TallyItem {
    pk: String,
    sk: String,
    version: u64,
    tally: TargetTally,
}

#[derive(Serialize, Deserialize)]
struct MarkItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    mark: ReporterMark,
    /// The report that set the mark (absent on marks written before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    report_id: Option<String>,
    ttl: u64,
}

fn target_pk(target_user_id: &str) -> String {
    format!("TARGET#{target_user_id}")
}

fn mark_sk(category: ReportCategory, reporter_id: &str) -> String {
    format!("MARK#{}#{reporter_id}", category.id())
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
            cases: None,
        }
    }

    /// Also opens support's case for every crossing, in `cases` (the same table), in the
    /// report's transaction.
    pub fn opening_cases(mut self, cases: DynamoCaseStore) -> Self {
        self.cases = Some(cases);
        self
    }

    /// The put that replaces a target's tally, guarded by the version it was read at.
    fn tally_put(
        &self,
        target_user_id: &str,
        expected_version: u64,
        tally: &TargetTally,
    ) -> Result<Put, StoreError> {
        let item = to_item(&TallyItem {
            pk: target_pk(target_user_id),
            sk: "REPORTS".into(),
            version: expected_version + 1,
            tally: tally.clone(),
        })?;
        let put = Put::builder().table_name(&self.table).set_item(Some(item));
        if expected_version == 0 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("version = :expected")
                .expression_attribute_values(":expected", n(expected_version))
        }
        .build()
        .map_err(|e| malformed("building the tally put", e))
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
        match self.get(target_pk(target_user_id), "REPORTS").await? {
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

    async fn marks(
        &self,
        target_user_id: &str,
        keys: &[MarkKey],
    ) -> Result<Vec<(MarkKey, ReporterMark)>, StoreError> {
        let mut found = Vec::new();
        // BatchGetItem takes at most 100 keys; an intake reads far fewer.
        for chunk in keys.chunks(100) {
            let mut request = KeysAndAttributes::builder().consistent_read(true);
            for (category, reporter) in chunk {
                request = request.keys(key(
                    target_pk(target_user_id),
                    &mark_sk(*category, reporter),
                ));
            }
            let mut pending = Some(HashMap::from([(
                self.table.clone(),
                request
                    .build()
                    .map_err(|e| malformed("building a batch read", e))?,
            )]));
            while let Some(batch) = pending.take().filter(|b| !b.is_empty()) {
                let page = self
                    .client
                    .batch_get_item()
                    .set_request_items(Some(batch))
                    .send()
                    .await
                    .map_err(|e| failed("BatchGetItem", e))?;
                for item in page
                    .responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default()
                {
                    let item: MarkItem = from_item(item)?;
                    if let Some(found_key) = chunk
                        .iter()
                        .find(|(c, r)| mark_sk(*c, r) == item.sk)
                        .cloned()
                    {
                        found.push((found_key, item.mark));
                    }
                }
                pending = page.unprocessed_keys;
            }
        }
        Ok(found)
    }

    async fn counted_reports(
        &self,
        target_user_id: &str,
        category: ReportCategory,
        epoch: u32,
        limit: usize,
    ) -> Result<Vec<CountedReport>, StoreError> {
        let marks = format!("MARK#{}#", category.id());
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :marks)")
            .filter_expression("#epoch = :epoch")
            .expression_attribute_names("#epoch", "epoch")
            .expression_attribute_values(":pk", s(target_pk(target_user_id)))
            .expression_attribute_values(":marks", s(&marks))
            .expression_attribute_values(":epoch", n(epoch))
            .consistent_read(true);
        let mut counted = query_all(query)
            .await?
            .into_iter()
            .map(|item| {
                let item: MarkItem = from_item(item)?;
                Ok(CountedReport {
                    reporter_id: item.sk.strip_prefix(&marks).unwrap_or_default().to_owned(),
                    report_id: item.report_id,
                    weight: item.mark.weight,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        sort_heaviest_first(&mut counted);
        counted.truncate(limit);
        Ok(counted)
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
        let tally_put = self.tally_put(
            &write.report.target_user_id,
            write.expected_tally_version,
            &write.tally,
        )?;

        let mut operations = vec![
            TransactWriteItem::builder().put(key_put).build(),
            TransactWriteItem::builder().update(rate_update).build(),
            TransactWriteItem::builder().put(report_put).build(),
            TransactWriteItem::builder().put(tally_put).build(),
        ];
        for m in &write.marks {
            let item = to_item(&MarkItem {
                pk: target_pk(&write.report.target_user_id),
                sk: mark_sk(m.category, &m.reporter_id),
                mark: m.mark,
                report_id: m.report_id.clone(),
                ttl: m.expires_at,
            })?;
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .build()
                .map_err(build_error)?;
            operations.push(TransactWriteItem::builder().put(put).build());
        }
        for message in &write.outbox {
            operations.push(outbox_put(&self.table, message, write.report.received_at)?);
        }
        let case = match (&self.cases, &write.crossing) {
            (Some(cases), Some(crossing)) => {
                let case = Case::for_crossing(crossing);
                operations.extend(cases.open_operations(&case).await?);
                Some(case)
            }
            _ => None,
        };
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(operations))
            .send()
            .await;
        let error = match result {
            Ok(_) => {
                if let Some(case) = &case {
                    log_opening(case, true);
                }
                return Ok(());
            }
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
        // Losing a race to another transaction on the tally (another report of the same
        // target) is the same news as a moved tally version: read again and retry.
        if condition_failed(&error, 3) || transaction_conflicted(&error) {
            return Err(ReportWriteError::TallyChanged);
        }
        Err(ReportWriteError::Store(transaction_failed(error)))
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
            tally,
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
        let tally_put =
            self.tally_put(&tally.target_user_id, tally.expected_version, &tally.tally)?;
        let mut operations = vec![
            TransactWriteItem::builder().update(report_update).build(),
            TransactWriteItem::builder().update(stats_update).build(),
            TransactWriteItem::builder().put(tally_put).build(),
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
            Err(e) if condition_failed(&e, 2) || transaction_conflicted(&e) => {
                Err(ResolveWriteError::TallyChanged)
            }
            Err(e) => Err(ResolveWriteError::Store(transaction_failed(e))),
        }
    }
}
