//! Fault injection against moto, and the soak that runs through it.
//!
//! [`FaultyHttpClient`] sits where the AWS SDK sends its HTTP requests. For a configurable
//! share of calls it answers instead of moto — a throttling error in the service's own
//! protocol, a 500, or nothing at all until the attempt times out — or it lets the call
//! reach moto and then drops the answer, so that the write happened but the caller saw
//! a failure: the case exactly-once guards exist for. The SDK's retry policy
//! (`adapters::aws::sdk::retries`) sees these as it would see real ones.
//!
//! The soak drives the escalator and the report desk from concurrent tasks over DynamoDB
//! and SNS clients that fail like this, redelivers every command the way Lambda and SNS
//! would until it gets a definite answer (and delivers some twice on purpose), relays the
//! outbox to SNS through a faulty client too, and then checks with clean clients: exactly
//! the right strikes and report records, and every level change on the SNS side.
//!
//! CI runs a small soak; `ANSHIN_SOAK=full` runs the full one (300 violations, 100
//! revokes, 500 reports, plus 10,000 reports against one target) — see README.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anshin_core::adapters::aws::{
    sdk, DynamoLedgerStore, DynamoOutboxStore, DynamoReportStore, SnsPublisher, TopicArns,
};
use anshin_core::alert::Alert;
use anshin_core::clock::{Clock, ManualClock, SECONDS_PER_DAY};
use anshin_core::escalation::ledger::AuditAction;
use anshin_core::escalation::{EscalationError, Escalator, ViolationRevoked};
use anshin_core::input::Id;
use anshin_core::outbox::{OutboxRelay, OutboxStore};
use anshin_core::policy::Policy;
use anshin_core::reports::{ReportCommand, ReportDesk, ReportError};
use anshin_core::screening::Screener;
use anshin_core::store::StoreError;
use anshin_core::taxonomy::{Category, Severity};
use anshin_core::violation::{ViolationConfirmed, ViolationSource};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use serde_json::json;

use crate::support::{
    emulator_config_loader, fresh_table, fresh_topic, sent_notifications, sns_client,
};

/// What the client did with one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// Answered with the service's throttling error.
    Throttle,
    /// Answered 500.
    ServerError,
    /// Never answered: the SDK's attempt timeout ends the call.
    Hang,
    /// Reached the service, which acted on it; the answer was thrown away.
    DropAnswer,
}

const FAULTS: [Fault; 4] = [
    Fault::Throttle,
    Fault::ServerError,
    Fault::Hang,
    Fault::DropAnswer,
];

/// Counts of the faults injected, and of the calls that went through untouched.
#[derive(Debug, Default)]
pub struct FaultLog {
    calls: AtomicUsize,
    injected: [AtomicUsize; 4],
}

impl FaultLog {
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    pub fn injected(&self, fault: Fault) -> usize {
        self.injected[fault as usize].load(Ordering::Relaxed)
    }

    pub fn total_injected(&self) -> usize {
        FAULTS.iter().map(|f| self.injected(*f)).sum()
    }
}

/// An HTTP client for the SDK that fails `share` of the calls, spread evenly over the
/// four [`Fault`]s, from a fixed seed so that a failing run can be replayed.
#[derive(Debug, Clone)]
pub struct FaultyHttpClient {
    inner: SharedHttpClient,
    share: f64,
    state: Arc<AtomicU64>,
    log: Arc<FaultLog>,
}

impl FaultyHttpClient {
    pub fn new(share: f64, seed: u64) -> Self {
        FaultyHttpClient {
            inner: aws_smithy_http_client::Builder::new().build_http(),
            share,
            state: Arc::new(AtomicU64::new(seed | 1)),
            log: Arc::new(FaultLog::default()),
        }
    }

    pub fn log(&self) -> Arc<FaultLog> {
        Arc::clone(&self.log)
    }
}

impl HttpClient for FaultyHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(FaultyConnector {
            inner: self.inner.http_connector(settings, components),
            share: self.share,
            state: Arc::clone(&self.state),
            log: Arc::clone(&self.log),
        })
    }
}

#[derive(Debug)]
struct FaultyConnector {
    inner: SharedHttpConnector,
    share: f64,
    state: Arc<AtomicU64>,
    log: Arc<FaultLog>,
}

impl FaultyConnector {
    /// xorshift64 over a shared state: deterministic for a seed, cheap, no extra crate.
    fn next_unit(&self) -> f64 {
        let mut x = self.state.load(Ordering::Relaxed);
        loop {
            let mut next = x;
            next ^= next << 13;
            next ^= next >> 7;
            next ^= next << 17;
            match self
                .state
                .compare_exchange_weak(x, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return (next >> 11) as f64 / (1u64 << 53) as f64,
                Err(seen) => x = seen,
            }
        }
    }

    fn pick(&self) -> Option<Fault> {
        let roll = self.next_unit();
        if roll >= self.share {
            return None;
        }
        let slot = ((roll / self.share) * FAULTS.len() as f64) as usize;
        Some(FAULTS[slot.min(FAULTS.len() - 1)])
    }
}

/// The service's own throttling error: DynamoDB speaks JSON (its requests carry
/// `X-Amz-Target`), SNS the query protocol's XML.
fn throttling_answer(request: &HttpRequest) -> HttpResponse {
    let dynamodb = request.headers().get("x-amz-target").is_some();
    let body = if dynamodb {
        r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#
    } else {
        r#"<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>injected</RequestId></ErrorResponse>"#
    };
    let mut answer = HttpResponse::new(400.try_into().unwrap(), SdkBody::from(body));
    let content_type = if dynamodb {
        "application/x-amz-json-1.0"
    } else {
        "text/xml"
    };
    answer.headers_mut().insert("content-type", content_type);
    answer
}

impl HttpConnector for FaultyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        self.log.calls.fetch_add(1, Ordering::Relaxed);
        let Some(fault) = self.pick() else {
            return self.inner.call(request);
        };
        self.log.injected[fault as usize].fetch_add(1, Ordering::Relaxed);
        match fault {
            Fault::Throttle => HttpConnectorFuture::ready(Ok(throttling_answer(&request))),
            Fault::ServerError => HttpConnectorFuture::ready(Ok(HttpResponse::new(
                500.try_into().unwrap(),
                SdkBody::from("injected internal error"),
            ))),
            Fault::Hang => HttpConnectorFuture::new(async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Err(ConnectorError::timeout("injected hang".into()))
            }),
            Fault::DropAnswer => {
                let reached = self.inner.call(request);
                HttpConnectorFuture::new(async move {
                    let _ = reached.await;
                    Err(ConnectorError::io("injected: answer dropped".into()))
                })
            }
        }
    }
}

/// The attempt timeout the soak runs with: shorter than production's, so that injected
/// hangs cost the soak less; the operation budget and the retry policy are production's.
/// Not shorter still: moto serves one request at a time, and a queue of honest requests
/// must not look like hangs.
const SOAK_ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1500);

/// Commands in flight at once: what a few concurrent Lambda instances would send, and
/// what one moto process answers without queueing past the attempt timeout.
const IN_FLIGHT: usize = 12;

/// An SDK configuration pointed at moto through `client`.
pub async fn faulty_config(client: &FaultyHttpClient) -> aws_config::SdkConfig {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(sdk::CONNECT_TIMEOUT)
        .operation_attempt_timeout(SOAK_ATTEMPT_TIMEOUT)
        .operation_timeout(sdk::OPERATION_TIMEOUT)
        .build();
    emulator_config_loader()
        .http_client(client.clone())
        .timeout_config(timeouts)
        .retry_config(sdk::retries())
        .load()
        .await
}

/// Whether a failed delivery is one its source would deliver again (Lambda's retries for
/// SNS and stream sources, the platform's for direct calls).
fn redeliverable_store(error: &StoreError) -> bool {
    matches!(error, StoreError::Unavailable(_) | StoreError::Throttled(_))
}

/// Delivers one command until it gets a definite answer, as its source would; counts
/// the redeliveries.
async fn deliver<T, E, F, Fut>(
    redeliveries: &AtomicUsize,
    redeliverable: F,
    mut send: impl FnMut() -> Fut,
) -> Result<T, E>
where
    F: Fn(&E) -> bool,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    for _ in 0..60 {
        match send().await {
            Err(e) if redeliverable(&e) => {
                redeliveries.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            other => return other,
        }
    }
    send().await
}

fn id(raw: &str) -> Id {
    Id::parse("id", raw).unwrap()
}

/// How big a soak is.
#[derive(Debug, Clone, Copy)]
struct SoakSize {
    users: usize,
    violations_per_user: usize,
    /// Violations revoked after their confirmation, spread evenly over all of them.
    revokes: usize,
    report_targets: usize,
    reports_per_target: usize,
    /// Reports from distinct reporters against one single target (the tally bound).
    one_target_reports: usize,
}

impl SoakSize {
    fn from_env() -> Self {
        if std::env::var("ANSHIN_SOAK").as_deref() == Ok("full") {
            SoakSize {
                users: 60,
                violations_per_user: 5,
                revokes: 100,
                report_targets: 25,
                reports_per_target: 20,
                one_target_reports: 10_000,
            }
        } else {
            SoakSize {
                users: 12,
                violations_per_user: 5,
                revokes: 20,
                report_targets: 5,
                reports_per_target: 20,
                one_target_reports: 300,
            }
        }
    }
}

const NOW: u64 = 1_800_000_000;
const FAULT_SHARE: f64 = 0.10;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_soak_with_ten_percent_faults_counts_every_strike_and_report_exactly_once() {
    let size = SoakSize::from_env();
    let started = Instant::now();
    let (clean_dynamodb, table) = fresh_table("anshin-soak").await;
    let sns = sns_client().await;
    let alerts_topic = fresh_topic(&sns, &crate::support::unique_name("soak-alerts")).await;
    let escalation_topic = fresh_topic(&sns, &crate::support::unique_name("soak-escalation")).await;

    let faulty = FaultyHttpClient::new(FAULT_SHARE, 0x5eed_a115);
    let config = faulty_config(&faulty).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let policy = Arc::new(Policy::embedded().unwrap());
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::at(NOW));
    let escalator = Arc::new(Escalator::new(
        DynamoLedgerStore::new(dynamodb.clone(), table.clone()),
        Arc::clone(&policy),
        Arc::clone(&clock),
    ));
    let desk = Arc::new(ReportDesk::new(
        DynamoReportStore::new(dynamodb.clone(), table.clone()),
        Screener::new(Arc::clone(&policy)),
        Arc::clone(&clock),
    ));
    let redeliveries = Arc::new(AtomicUsize::new(0));
    let in_flight = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));

    // Violations, each delivered once, a third of them twice; the revoked ones are revoked
    // by the same task once confirmed (and that revoke too is sometimes delivered twice).
    let mut tasks = tokio::task::JoinSet::new();
    let total_violations = size.users * size.violations_per_user;
    for n in 0..total_violations {
        let escalator = Arc::clone(&escalator);
        let redeliveries = Arc::clone(&redeliveries);
        let revoke = n % (total_violations / size.revokes) == 0;
        let in_flight = Arc::clone(&in_flight);
        tasks.spawn(async move {
            let _permit = in_flight.acquire_owned().await.unwrap();
            let user = format!("soak-user-{:03}", n % size.users);
            let violation = ViolationConfirmed {
                violation_id: id(&format!("soak-v-{n:04}")),
                user_id: id(&user),
                category: Category::Spam,
                severity: [Severity::Low, Severity::Medium, Severity::High][n % 3],
                source: ViolationSource::Support,
                evidence: vec![format!("submission:soak-{n}")],
                decided_by: id("support-soak"),
            };
            let redeliverable = |e: &EscalationError| match e {
                EscalationError::Store(s) => redeliverable_store(s),
                EscalationError::Contention(_) => true,
                _ => false,
            };
            for _ in 0..(1 + usize::from(n % 3 == 0)) {
                deliver(&redeliveries, redeliverable, || {
                    escalator.confirm(&violation)
                })
                .await
                .expect("a confirmation ends in an answer");
            }
            if revoke {
                let revocation = ViolationRevoked {
                    violation_id: violation.violation_id.clone(),
                    decided_by: id("support-lead"),
                    reason: "appeal upheld".into(),
                };
                for _ in 0..(1 + usize::from(n % 2 == 0)) {
                    deliver(&redeliveries, redeliverable, || {
                        escalator.revoke(&revocation)
                    })
                    .await
                    .expect("a revocation ends in an answer");
                }
            }
        });
    }

    // Reports: distinct reporters, several targets; a third delivered twice.
    let report_command = |reporter: String, target: String| match ReportCommand::from_json(json!({
        "type": "report", "reporter_id": reporter,
        "reporter_account_created_at": NOW - 400 * SECONDS_PER_DAY,
        "target_user_id": target, "target_submission_id": format!("job-of-{target}"),
        "category": "scam", "description": "soak"
    }))
    .unwrap()
    {
        ReportCommand::Report(r) => *r,
        other => panic!("{other:?}"),
    };
    let mut reports = Vec::new();
    for t in 0..size.report_targets {
        for r in 0..size.reports_per_target {
            reports.push(report_command(
                format!("soak-reporter-{t:02}-{r:03}"),
                format!("soak-target-{t:02}"),
            ));
        }
    }
    for r in 0..size.one_target_reports {
        reports.push(report_command(
            format!("soak-crowd-{r:05}"),
            "soak-target-busy".to_owned(),
        ));
    }
    let expected_reports = reports.len();
    let refused_for_rule = Arc::new(AtomicUsize::new(0));
    // Report tasks in chunks, so that thousands of reports on one target race in bounded
    // numbers as a real platform's concurrency would.
    for (chunk_no, chunk) in reports.chunks(8).enumerate() {
        let desk = Arc::clone(&desk);
        let redeliveries = Arc::clone(&redeliveries);
        let refused_for_rule = Arc::clone(&refused_for_rule);
        let chunk = chunk.to_vec();
        let in_flight = Arc::clone(&in_flight);
        tasks.spawn(async move {
            let _permit = in_flight.acquire_owned().await.unwrap();
            let redeliverable = |e: &ReportError| match e {
                ReportError::Store(s) => redeliverable_store(s),
                ReportError::Contention => true,
                _ => false,
            };
            for (i, report) in chunk.iter().enumerate() {
                for _ in 0..(1 + usize::from((chunk_no + i) % 3 == 0)) {
                    match deliver(&redeliveries, redeliverable, || desk.intake(report)).await {
                        Ok(_) => {}
                        Err(ReportError::RateLimited { .. }) => {
                            refused_for_rule.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(other) => panic!("report refused: {other}"),
                    }
                }
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a soak task panicked");
    }
    let commands_done = started.elapsed();

    // The outbox, relayed to SNS through faulty clients until nothing is pending.
    let relay = OutboxRelay::new(
        DynamoOutboxStore::new(dynamodb.clone(), table.clone()),
        SnsPublisher::new(
            aws_sdk_sns::Client::new(&config),
            TopicArns {
                alerts: Some(alerts_topic.clone()),
                escalation: Some(escalation_topic.clone()),
                resolutions: None,
            },
        ),
    );
    let clean_outbox = DynamoOutboxStore::new(clean_dynamodb.clone(), table.clone());
    let mut passes = 0;
    loop {
        passes += 1;
        let _ = relay.drain().await;
        if clean_outbox.pending(u64::MAX, 1).await.unwrap().is_empty() {
            break;
        }
        assert!(passes < 500, "the outbox never emptied");
    }

    // --- Checks, with clean clients. ---
    let ledger = Escalator::new(
        DynamoLedgerStore::new(clean_dynamodb.clone(), table.clone()),
        Arc::clone(&policy),
        Arc::clone(&clock),
    );
    let mut level_changes_in_ledger: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let (mut confirmed, mut revoked, mut active) = (0, 0, 0);
    for u in 0..size.users {
        let user = format!("soak-user-{u:03}");
        let standing = ledger.standing(&id(&user)).await.unwrap();
        active += standing.active_strikes.len();
        for record in &standing.history {
            match record.action {
                AuditAction::ViolationConfirmed => confirmed += 1,
                AuditAction::ViolationRevoked => revoked += 1,
                _ => {}
            }
            if record.level_before != record.level_after {
                level_changes_in_ledger
                    .entry(user.clone())
                    .or_default()
                    .push((
                        format!("{:?}", record.level_before),
                        format!("{:?}", record.level_after),
                    ));
            }
        }
    }
    assert_eq!(
        confirmed, total_violations,
        "one confirmation audited per violation"
    );
    assert_eq!(
        revoked, size.revokes,
        "one revocation audited per revoked violation"
    );
    assert_eq!(active, total_violations - size.revokes, "active strikes");

    // Every report stored once: count the report items in the table.
    let mut stored_reports = 0;
    let mut start_key = None;
    loop {
        let page = clean_dynamodb
            .scan()
            .table_name(&table)
            .filter_expression("begins_with(pk, :p) AND sk = :s")
            .expression_attribute_values(
                ":p",
                aws_sdk_dynamodb::types::AttributeValue::S("REPORT#".into()),
            )
            .expression_attribute_values(
                ":s",
                aws_sdk_dynamodb::types::AttributeValue::S("REPORT".into()),
            )
            .set_exclusive_start_key(start_key)
            .send()
            .await
            .unwrap();
        stored_reports += page.items().len();
        start_key = page.last_evaluated_key().cloned();
        if start_key.is_none() {
            break;
        }
    }
    let refused = refused_for_rule.load(Ordering::Relaxed);
    assert_eq!(
        stored_reports + refused,
        expected_reports,
        "every report stored once or refused by rule ({refused} rate-limited)"
    );
    assert_eq!(refused, 0, "distinct reporters are never rate-limited");

    // Every level change reached SNS at least once: distinct (user, sequence) alerts per
    // user match the ledger's level-changing audit records, transition for transition.
    let mut announced: BTreeMap<String, BTreeMap<u64, (String, String)>> = BTreeMap::new();
    for notification in sent_notifications(&alerts_topic).await {
        if let Ok(Alert::AccountLevel(a)) = serde_json::from_str(&notification.message) {
            announced.entry(a.user_id.clone()).or_default().insert(
                a.sequence,
                (format!("{:?}", a.previous_level), format!("{:?}", a.level)),
            );
        }
    }
    for (user, changes) in &level_changes_in_ledger {
        let mut expected: Vec<_> = changes.clone();
        expected.sort();
        let mut seen: Vec<_> = announced
            .get(user)
            .map(|by_sequence| by_sequence.values().cloned().collect())
            .unwrap_or_default();
        seen.sort();
        assert_eq!(seen, expected, "{user}: level changes on SNS");
    }
    let announced_users: BTreeSet<_> = announced.keys().cloned().collect();
    let changed_users: BTreeSet<_> = level_changes_in_ledger.keys().cloned().collect();
    assert_eq!(announced_users, changed_users);

    let log = faulty.log();
    assert!(
        FAULTS.iter().all(|f| log.injected(*f) > 0),
        "every kind of fault was injected"
    );
    println!(
        "soak: {total_violations} violations, {} revokes, {expected_reports} reports \
         ({} on one target); {} calls, {} faults (throttle {}, 500 {}, hang {}, dropped answer {}), \
         {} redeliveries; commands {:.1}s, relay {passes} passes, total {:.1}s",
        size.revokes,
        size.one_target_reports,
        log.calls(),
        log.total_injected(),
        log.injected(Fault::Throttle),
        log.injected(Fault::ServerError),
        log.injected(Fault::Hang),
        log.injected(Fault::DropAnswer),
        redeliveries.load(Ordering::Relaxed),
        commands_done.as_secs_f64(),
        started.elapsed().as_secs_f64(),
    );
}
