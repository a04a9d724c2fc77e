//! How many DynamoDB calls a confirmed violation costs, counted by an SDK interceptor on
//! the way to moto. The goal: one write transaction and at most one read.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use anshin_core::adapters::aws::DynamoLedgerStore;
use anshin_core::clock::SystemClock;
use anshin_core::escalation::Escalator;
use anshin_core::input::Id;
use anshin_core::policy::Policy;
use anshin_core::taxonomy::{Category, Severity};
use anshin_core::violation::ViolationConfirmed;
use anshin_core::violation::ViolationSource;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;

use crate::support::{dynamodb_client, unique_name};

/// Counts requests by their `X-Amz-Target` operation.
#[derive(Debug, Default, Clone)]
struct CallCounter(Arc<Mutex<BTreeMap<String, usize>>>);

impl CallCounter {
    fn take(&self) -> BTreeMap<String, usize> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = context
            .request()
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or("unknown")
            .to_owned();
        *self.0.lock().unwrap().entry(operation).or_default() += 1;
        Ok(())
    }
}

fn calls(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[tokio::test]
async fn a_confirmed_violation_costs_one_read_and_one_write_transaction() {
    let plain = dynamodb_client().await;
    let table = unique_name("anshin-round-trips");
    anshin_core::adapters::aws::create_table(&plain, &table)
        .await
        .unwrap();
    let counter = CallCounter::default();
    let counted = aws_sdk_dynamodb::Client::from_conf(
        plain
            .config()
            .to_builder()
            .interceptor(counter.clone())
            .build(),
    );
    let escalator = Escalator::new(
        DynamoLedgerStore::new(counted, table),
        Arc::new(Policy::embedded().unwrap()),
        Arc::new(SystemClock),
    );
    let violation = ViolationConfirmed {
        violation_id: Id::parse("id", "rt-1").unwrap(),
        user_id: Id::parse("id", "u-rt").unwrap(),
        category: Category::Spam,
        severity: Severity::Low,
        source: ViolationSource::Support,
        evidence: vec![],
        decided_by: Id::parse("id", "alice").unwrap(),
    };

    assert!(escalator.confirm(&violation).await.unwrap().applied);
    assert_eq!(
        counter.take(),
        calls(&[("GetItem", 1), ("TransactWriteItems", 1)])
    );

    // A duplicate: the cancelled transaction, then one read of the recorded outcome.
    assert!(!escalator.confirm(&violation).await.unwrap().applied);
    assert_eq!(
        counter.take(),
        calls(&[("GetItem", 2), ("TransactWriteItems", 1)])
    );
}

#[tokio::test]
async fn the_table_expires_items_by_their_ttl_attribute() {
    let client = dynamodb_client().await;
    let table = unique_name("anshin-ttl");
    anshin_core::adapters::aws::create_table(&client, &table)
        .await
        .unwrap();
    let ttl = client
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let description = ttl.time_to_live_description.expect("a TTL description");
    assert_eq!(
        description.attribute_name.as_deref(),
        Some(anshin_core::adapters::aws::dynamodb::table::TTL_ATTRIBUTE)
    );
    assert_eq!(
        description.time_to_live_status,
        Some(aws_sdk_dynamodb::types::TimeToLiveStatus::Enabled)
    );
}
