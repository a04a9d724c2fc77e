//! support-console against moto: its real router (the one `lambda_http` serves), DynamoDB
//! stores in a table of their own, case text sealed with a KMS key in moto — and the path a
//! decision's messages take in AWS: written to the table's outbox with the case, published
//! to SNS topics in moto by the outbox relay, and taken from there by user-escalation and
//! report-intake (their real handlers, given the messages wrapped as SNS wraps them).
//!
//! Members sign in with tokens from the console's local issuer (a key made for the test),
//! checked by the same verifier as Cognito's.
//!
//! What the relay publishes goes to moto's SNS and is also kept in the test ([`Published`]),
//! so that the tests read and deliver it without fetching moto's whole state each time (one
//! test checks that SNS holds the same messages).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anshin_core::adapters::aws::{
    create_table, DynamoCaseStore, DynamoLedgerStore, DynamoOutboxStore, DynamoReportStore,
    DynamoScreeningRecorder, KmsSealer, SnsPublisher, TopicArns,
};
use anshin_core::clock::{Clock, ManualClock, SystemClock};
use anshin_core::escalation::Escalator;
use anshin_core::outbox::{
    Destination, MessagePublisher, OutboxMessage, OutboxRelay, OutboxStore, PublishError,
};
use anshin_core::policy::Policy;
use anshin_core::reports::ReportDesk;
use anshin_core::screening::{ScreenDesk, Screener};
use anshin_core::support::{CaseStore, SupportDesk};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};
use support_console::auth::{KeySource, LocalIssuer, LocalMember, Verifier};
use support_console::{router, Console, Stores};
use tower::ServiceExt;

use crate::support::{
    dynamodb_client, event, fresh_kms_key, fresh_topic, kms_client, sent_notifications, sns_client,
    sns_event, unique_name,
};

struct Moto;

impl Stores for Moto {
    type Cases = DynamoCaseStore;
    type Ledger = DynamoLedgerStore;
    type Reports = DynamoReportStore;
}

/// Every message the relay published, as (destination, body), in order.
#[derive(Clone, Default)]
struct Published(Arc<Mutex<Vec<(Destination, Value)>>>);

impl Published {
    fn to(&self, destination: Destination) -> Vec<Value> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(d, _)| *d == destination)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// SNS in moto, keeping what it published.
struct Recording {
    sns: SnsPublisher,
    published: Published,
}

impl MessagePublisher for Recording {
    async fn publish(&self, message: &OutboxMessage) -> Result<(), PublishError> {
        self.sns.publish(message).await?;
        let body = serde_json::from_str(&message.body).expect("outbox bodies are JSON");
        self.published
            .0
            .lock()
            .unwrap()
            .push((message.destination, body));
        Ok(())
    }
}

const ISSUER: &str = "http://127.0.0.1/test-issuer";
const AUDIENCE: &str = "anshin-console-test";
const MEMBERS: [&str; 5] = [
    "agent-a:support",
    "agent-b:support",
    "lead-a:support+lead",
    "lead-b:support+lead",
    "visitor-c:",
];

/// One stack on moto: the table, the key, the topics, the console, screen-submission and
/// report-intake opening cases, the outbox relay, and user-escalation behind it.
struct Stack {
    table: String,
    router: Router,
    tokens: HashMap<String, String>,
    issuer: LocalIssuer,
    cases: DynamoCaseStore,
    screen: ScreenDesk<DynamoScreeningRecorder>,
    reports: ReportDesk<DynamoReportStore>,
    escalator: Escalator<DynamoLedgerStore>,
    relay: OutboxRelay<DynamoOutboxStore, Recording>,
    published: Published,
    alert_topic: String,
    escalation_topic: String,
    resolution_topic: String,
    /// How many published (commands, resolutions) have been handed to their function.
    delivered: Mutex<(usize, usize)>,
}

impl Stack {
    async fn new() -> Stack {
        let dynamodb = dynamodb_client().await;
        let sns = sns_client().await;
        let table = unique_name("anshin-console");
        create_table(&dynamodb, &table).await.unwrap();
        let key = fresh_kms_key().await;
        let alert_topic = fresh_topic(&sns, &unique_name("alerts")).await;
        let escalation_topic = fresh_topic(&sns, &unique_name("escalation")).await;
        let resolution_topic = fresh_topic(&sns, &unique_name("resolutions")).await;
        let policy = Arc::new(Policy::embedded().unwrap());
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let cases = DynamoCaseStore::new(
            dynamodb.clone(),
            &table,
            KmsSealer::new(kms_client().await, &key),
            180,
        );
        let members = MEMBERS
            .iter()
            .map(|m| LocalMember::parse(m).unwrap())
            .collect();
        let issuer = LocalIssuer::generate(ISSUER, AUDIENCE, members).unwrap();
        let tokens = MEMBERS
            .iter()
            .map(|m| {
                let id = m.split(':').next().unwrap().to_owned();
                let token = issuer.token_for(&id).unwrap();
                (id, token)
            })
            .collect();
        let verifier = Verifier::new(
            ISSUER,
            AUDIENCE,
            "cognito:groups",
            KeySource::Static(issuer.jwks()),
        )
        .await
        .unwrap();
        let console = Console::<Moto> {
            desk: SupportDesk::new(
                cases.clone(),
                DynamoLedgerStore::new(dynamodb.clone(), &table),
                DynamoReportStore::new(dynamodb.clone(), &table),
                Arc::clone(&policy),
                Arc::clone(&clock),
            ),
            verifier,
            local_issuer: None,
        };
        let published = Published::default();
        Stack {
            table: table.clone(),
            router: router(Arc::new(console)),
            tokens,
            issuer,
            screen: ScreenDesk::new(
                Screener::new(Arc::clone(&policy)),
                DynamoScreeningRecorder::new(dynamodb.clone(), &table, Arc::clone(&clock))
                    .opening_cases(cases.clone()),
            ),
            reports: ReportDesk::new(
                DynamoReportStore::new(dynamodb.clone(), &table).opening_cases(cases.clone()),
                Screener::new(Arc::clone(&policy)),
                Arc::clone(&clock),
            ),
            escalator: Escalator::new(
                DynamoLedgerStore::new(dynamodb.clone(), &table),
                policy,
                clock,
            ),
            relay: OutboxRelay::new(
                DynamoOutboxStore::new(dynamodb, &table),
                Recording {
                    sns: SnsPublisher::new(
                        sns,
                        TopicArns {
                            alerts: Some(alert_topic.clone()),
                            escalation: Some(escalation_topic.clone()),
                            resolutions: Some(resolution_topic.clone()),
                        },
                    ),
                    published: published.clone(),
                },
            ),
            cases,
            published,
            alert_topic,
            escalation_topic,
            resolution_topic,
            delivered: Mutex::new((0, 0)),
        }
    }

    /// Screens a fixture through screen-submission's handler, which opens its case.
    async fn screen(&self, name: &str) -> Value {
        let verdict = screen_submission::handle(
            LambdaEvent::new(
                event(&format!("screen-submission/{name}")),
                Context::default(),
            ),
            &self.screen,
        )
        .await
        .unwrap();
        serde_json::to_value(verdict).unwrap()
    }

    /// Files a report through report-intake's handler; a crossing opens its case.
    async fn report(&self, payload: Value) {
        report_intake::handle(LambdaEvent::new(payload, Context::default()), &self.reports)
            .await
            .unwrap();
    }

    /// What outbox-publisher does: every pending outbox message published, then removed.
    async fn relay(&self) {
        let relayed = self.relay.drain().await.unwrap();
        assert!(relayed.failed.is_empty(), "{:?}", relayed.failed);
    }

    /// What the outbox still holds, by message id.
    async fn pending(&self) -> Vec<String> {
        let pending = self.relay.store().pending(u64::MAX, 500).await.unwrap();
        pending.into_iter().map(|m| m.id).collect()
    }

    /// What SNS would deliver, until nothing is left: the outbox relayed, then each new
    /// resolution given to report-intake and each new command to user-escalation, wrapped
    /// as SNS events — whose own messages (a confirmed report's violation, a level change)
    /// go round again.
    async fn deliver(&self) {
        loop {
            self.relay().await;
            let resolutions = self.published.to(Destination::Resolutions);
            let commands = self.published.to(Destination::Escalation);
            let (done_commands, done_resolutions) = *self.delivered.lock().unwrap();
            if (done_commands, done_resolutions) == (commands.len(), resolutions.len()) {
                return;
            }
            for message in &resolutions[done_resolutions..] {
                let wrapped = sns_event(&self.resolution_topic, &message.to_string());
                report_intake::handle(LambdaEvent::new(wrapped, Context::default()), &self.reports)
                    .await
                    .unwrap();
            }
            for message in &commands[done_commands..] {
                let wrapped = sns_event(&self.escalation_topic, &message.to_string());
                user_escalation::handle(
                    LambdaEvent::new(wrapped, Context::default()),
                    &self.escalator,
                )
                .await
                .unwrap();
            }
            *self.delivered.lock().unwrap() = (commands.len(), resolutions.len());
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        member: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let token = member.map(|m| self.tokens[m].clone());
        self.call_with_token(method, path, token.as_deref(), body)
            .await
    }

    async fn call_with_token(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(b) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    async fn page(&self, path: &str, member: Option<&str>) -> (StatusCode, String) {
        let mut request = Request::builder().uri(path);
        if let Some(m) = member {
            request = request.header(
                header::COOKIE,
                format!("anshin_session={}; lang=en", self.tokens[m]),
            );
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// A member's view of an account (`GET /api/accounts/{user}`), answered 200.
    async fn account(&self, user: &str, member: &str) -> Value {
        let (status, account) = self
            .call(
                Method::GET,
                &format!("/api/accounts/{user}"),
                Some(member),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{account}");
        account
    }

    async fn case_id_of(&self, submission_id: &str) -> String {
        self.cases
            .queue()
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.submission_id.as_deref() == Some(submission_id))
            .unwrap_or_else(|| panic!("no open case for {submission_id}"))
            .case_id
    }

    /// The messages of `kind` (`type` or `event_type`) published to `destination`, once
    /// everything pending has been relayed.
    async fn messages(&self, destination: Destination, kind: &str) -> Vec<Value> {
        self.relay().await;
        self.published
            .to(destination)
            .into_iter()
            .filter(|m| {
                m.get("type")
                    .or_else(|| m.get("event_type"))
                    .and_then(Value::as_str)
                    == Some(kind)
            })
            .collect()
    }
}

const CONTACT: &str = "proposal-20261127-0042";
const CONTACT_AUTHOR: &str = "worker-5120";
const CRIME: &str = "job-20261127-0666";

#[tokio::test]
async fn every_console_action_works_through_the_api_against_moto() {
    let s = Stack::new().await;
    s.screen("off-platform-contact-evasion.json").await;
    let crime = s.screen("crime-recruitment.json").await;
    assert_eq!(crime["submission_id"], CRIME);
    // A retried screening opens no second case.
    s.screen("off-platform-contact-evasion.json").await;

    // The queue: urgent first, filters.
    let (status, queue) = s
        .call(Method::GET, "/api/queue", Some("agent-a"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    let queue = queue.as_array().unwrap().clone();
    assert_eq!(queue.len(), 2, "{queue:?}");
    assert_eq!(
        queue[0]["submission_id"], CRIME,
        "the urgent crime recruitment comes first"
    );
    for (query, expected) in [
        ("category=illegal_work", 1),
        ("kind=proposal", 1),
        ("decision=review", 0),
        ("status=claimed", 0),
        ("origin=screening", 2),
    ] {
        let (_, filtered) = s
            .call(
                Method::GET,
                &format!("/api/queue?{query}"),
                Some("agent-a"),
                None,
            )
            .await;
        assert_eq!(filtered.as_array().unwrap().len(), expected, "{query}");
    }
    let (status, refused) = s
        .call(
            Method::GET,
            "/api/queue?category=%3Cscript%3E",
            Some("agent-a"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        !refused.to_string().contains("<script>"),
        "a refusal never echoes the value"
    );

    // Claim: one member's; another can neither claim nor decide it.
    let contact = s.case_id_of(CONTACT).await;
    let (status, claimed) = s
        .call(
            Method::POST,
            &format!("/api/cases/{contact}/claim"),
            Some("agent-a"),
            None,
        )
        .await;
    assert_eq!(
        (status, claimed["status"].as_str()),
        (StatusCode::OK, Some("claimed"))
    );
    let (status, _) = s
        .call(
            Method::POST,
            &format!("/api/cases/{contact}/claim"),
            Some("agent-b"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let confirm = json!({"action": "confirm", "categories": ["off_platform_contact"]});
    let (status, _) = s
        .call(
            Method::POST,
            &format!("/api/cases/{contact}/decision"),
            Some("agent-b"),
            Some(confirm.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // The case: text (opened from the KMS envelope), verdict, author.
    let (status, view) = s
        .call(
            Method::GET,
            &format!("/api/cases/{contact}"),
            Some("agent-a"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let fixture = event("screen-submission/off-platform-contact-evasion.json");
    assert_eq!(view["case"]["content"]["text"]["body"], fixture["body"]);
    assert_eq!(view["case"]["content"]["verdict"]["decision"], "hide");
    assert_eq!(view["author"]["standing"]["level"], "good_standing");

    // A body may not name who decides.
    let (status, _) = s.call(Method::POST, &format!("/api/cases/{contact}/decision"), Some("agent-a"),
        Some(json!({"action": "confirm", "categories": ["off_platform_contact"], "decided_by": "someone-else"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Confirm → one strike under agent-a's name, and case_resolved with the fix-its.
    let (status, decided) = s
        .call(
            Method::POST,
            &format!("/api/cases/{contact}/decision"),
            Some("agent-a"),
            Some(confirm),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    assert_eq!(decided["applied"], true);
    let strikes: Vec<Value> = s
        .messages(Destination::Escalation, "violation_confirmed")
        .await
        .into_iter()
        .filter(|m| m["source"] == "support")
        .collect();
    assert_eq!(strikes.len(), 1, "{strikes:?}");
    assert_eq!(strikes[0]["decided_by"], "agent-a");
    assert_eq!(strikes[0]["user_id"], CONTACT_AUTHOR);
    let resolved = s.messages(Destination::Alerts, "case_resolved").await;
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0]["outcome"], "removed");
    assert_eq!(
        resolved[0]["final_categories"],
        json!(["off_platform_contact"])
    );
    let fix = &resolved[0]["fixes"][0];
    assert!(fix["message_ja"].as_str().unwrap().contains("外部の連絡先"));
    assert!(
        !fix["evidence"].as_array().unwrap().is_empty(),
        "the platform gets the evidence to show the poster"
    );

    // user-escalation takes the strike; the account shows it.
    s.deliver().await;
    let account = s.account(CONTACT_AUTHOR, "agent-a").await;
    let active = account["standing"]["active_strikes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(active.len(), 1, "{account}");
    assert_eq!(account["standing"]["history"][0]["actor"], "agent-a");

    // Revoke it (an appeal).
    let violation = active[0]["violation_id"].as_str().unwrap().to_owned();
    let (status, sent) = s
        .call(
            Method::POST,
            &format!("/api/violations/{violation}/revocation"),
            Some("agent-b"),
            Some(json!({"reason": "appeal upheld"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    s.deliver().await;
    let account = s.account(CONTACT_AUTHOR, "agent-a").await;
    assert_eq!(
        account["standing"]["active_strikes"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let (status, _) = s
        .call(
            Method::POST,
            &format!("/api/violations/{violation}/revocation"),
            Some("agent-b"),
            Some(json!({"reason": "again"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a revoked strike cannot be revoked twice"
    );

    // False positive on the crime case: released, and screening's automatic strike revoked.
    let crime_case = s.case_id_of(CRIME).await;
    let (status, _) = s
        .call(
            Method::POST,
            &format!("/api/cases/{crime_case}/decision"),
            Some("agent-b"),
            Some(json!({"action": "false_positive"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let revocations = s
        .messages(Destination::Escalation, "violation_revoked")
        .await;
    assert!(
        revocations
            .iter()
            .any(|r| r["violation_id"].as_str().unwrap().starts_with("auto-")
                && r["decided_by"] == "agent-b"),
        "{revocations:?}"
    );
    s.deliver().await;
    let crime_author = s.account("client-0999", "agent-a").await;
    assert_eq!(
        crime_author["standing"]["active_strikes"]
            .as_array()
            .map(Vec::len),
        Some(0),
        "{crime_author}"
    );

    // Keep hidden and ask to fix: no strike, case_resolved kept_hidden.
    s.screen("markup-in-body.json").await;
    let markup = s.case_id_of("job-20261203-0666").await;
    let (status, _) = s
        .call(
            Method::POST,
            &format!("/api/cases/{markup}/decision"),
            Some("agent-a"),
            Some(json!({"action": "keep_hidden", "categories": ["off_platform_contact"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let resolved = s.messages(Destination::Alerts, "case_resolved").await;
    let kept: Vec<&Value> = resolved
        .iter()
        .filter(|r| r["outcome"] == "kept_hidden")
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["author_id"], "client-7781");
    assert!(s
        .messages(Destination::Escalation, "violation_confirmed")
        .await
        .iter()
        .all(|v| v["user_id"] != "client-7781"));

    // Trends: today's decisions per category, the released one.
    let (status, trends) = s
        .call(Method::GET, "/api/trends", Some("agent-a"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let today = trends["days"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(trends["days"].as_array().unwrap().len(), 30);
    assert_eq!(today["by_category"]["off_platform_contact"], 2, "{today}");
    assert_eq!(today["released"], 1);

    // Reports: three reporters push a target over; the report case resolves their reports.
    for reporter in ["worker-9001", "worker-9002", "worker-9003"] {
        s.report(json!({"type": "report", "reporter_id": reporter, "reporter_account_created_at": 1_600_000_000u64,
            "target_user_id": "client-4410", "category": "harassment", "description": "暴言が続きます"}))
            .await;
    }
    let (status, targets) = s
        .call(Method::GET, "/api/reports", Some("agent-a"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let targets = targets.as_array().unwrap().clone();
    assert_eq!(targets.len(), 1, "{targets:?}");
    assert_eq!(targets[0]["case"]["author_id"], "client-4410");
    assert_eq!(targets[0]["scores"][0], json!(["harassment", 3.0, 3]));
    let report_case = targets[0]["case"]["case_id"].as_str().unwrap().to_owned();
    let (status, _) = s
        .call(
            Method::POST,
            &format!("/api/cases/{report_case}/decision"),
            Some("agent-a"),
            Some(json!({"action": "confirm", "categories": ["harassment"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let resolutions = s.messages(Destination::Resolutions, "resolution").await;
    assert_eq!(resolutions.len(), 3, "{resolutions:?}");
    assert!(resolutions
        .iter()
        .all(|r| r["decision"] == "confirmed" && r["decided_by"] == "agent-a"));
    s.deliver().await;
    let target = s.account("client-4410", "agent-a").await;
    assert!(
        !target["standing"]["active_strikes"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{target}"
    );

    // The queue is empty now; closed cases keep what a training row needs.
    let (_, queue) = s
        .call(Method::GET, "/api/queue", Some("agent-a"), None)
        .await;
    assert_eq!(queue.as_array().unwrap().len(), 0, "{queue}");
    let (case, _) = s.cases.load(&contact).await.unwrap().unwrap();
    let row = case.training_row().unwrap();
    assert_eq!(
        (row["decision"].as_str(), row["categories"].clone()),
        (Some("confirmed_violation"), json!(["off_platform_contact"]))
    );
    assert_eq!(row["submission"]["body"], fixture["body"]);

    // SNS in moto received exactly what the relay published, and the outbox is empty.
    s.relay().await;
    for (destination, arn) in [
        (Destination::Alerts, &s.alert_topic),
        (Destination::Escalation, &s.escalation_topic),
        (Destination::Resolutions, &s.resolution_topic),
    ] {
        let on_sns: Vec<Value> = sent_notifications(arn)
            .await
            .iter()
            .map(|n| serde_json::from_str(&n.message).unwrap())
            .collect();
        assert_eq!(on_sns, s.published.to(destination), "{destination:?}");
    }
    let case_resolved = sent_notifications(&s.alert_topic)
        .await
        .iter()
        .filter(|n| n.attributes["event_type"]["Value"] == "case_resolved")
        .count();
    assert_eq!(
        case_resolved,
        s.messages(Destination::Alerts, "case_resolved").await.len()
    );
    assert!(s.pending().await.is_empty());
}

/// The raw item in DynamoDB: no posting text in clear, and a TTL once closed.
#[tokio::test]
async fn case_text_is_sealed_at_rest_and_expires_after_closing() {
    let s = Stack::new().await;
    s.screen("off-platform-contact-evasion.json").await;
    let case_id = s.case_id_of(CONTACT).await;
    let table_item = |pk: String| {
        let table = s.table.clone();
        async move {
            dynamodb_client()
                .await
                .get_item()
                .table_name(&table)
                .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(pk))
                .key(
                    "sk",
                    aws_sdk_dynamodb::types::AttributeValue::S("CASE".into()),
                )
                .consistent_read(true)
                .send()
                .await
                .unwrap()
                .item
                .expect("the case item")
        }
    };
    let item = table_item(format!("CASE#{case_id}")).await;
    let raw = format!("{item:?}");
    assert!(
        !raw.contains("WordPress") && !raw.contains("sakura"),
        "the text is not stored in clear"
    );
    assert!(item.contains_key("sealed") && !item.contains_key("ttl"));
    let (status, _) = s
        .call(
            Method::POST,
            &format!("/api/cases/{case_id}/decision"),
            Some("agent-a"),
            Some(json!({"action": "false_positive"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let item = table_item(format!("CASE#{case_id}")).await;
    let ttl: u64 = item["ttl"].as_n().unwrap().parse().unwrap();
    let (case, _) = s.cases.load(&case_id).await.unwrap().unwrap();
    assert_eq!(ttl, case.summary.closed_at.unwrap() + 180 * 86_400);
}

#[tokio::test]
async fn requests_without_a_valid_token_get_401_and_without_the_group_403_changing_nothing() {
    let s = Stack::new().await;
    s.screen("off-platform-contact-evasion.json").await;
    // The screening's alert goes out first: what is pending afterwards is the requests'.
    s.relay().await;
    let case_id = s.case_id_of(CONTACT).await;
    let (before, version_before) = s.cases.load(&case_id).await.unwrap().unwrap();
    let decide = format!("/api/cases/{case_id}/decision");
    let confirm = json!({"action": "confirm", "categories": ["off_platform_contact"]});

    let other = LocalIssuer::generate(
        ISSUER,
        AUDIENCE,
        vec![LocalMember::parse("agent-a:support").unwrap()],
    )
    .unwrap();
    let claims = json!({"sub": "agent-a", "cognito:groups": ["support", "lead"]});
    let bad_tokens = [
        None,
        Some("not-a-token".to_owned()),
        Some(other.token_for("agent-a").unwrap()),           // signed by a key the issuer never published
        Some(s.issuer.sign(&claims, -3600).unwrap()),           // expired
        Some(s.issuer.sign(&json!({"sub": "agent-a", "aud": "another-app", "cognito:groups": ["lead"]}), 600).unwrap()),
        Some(s.issuer.sign(&json!({"sub": "agent-a", "iss": "https://evil.example", "cognito:groups": ["lead"]}), 600).unwrap()),
        Some(s.issuer.sign(&json!({"sub": "agent-a", "token_use": "access", "cognito:groups": ["lead"]}), 600).unwrap()),
    ];
    for token in &bad_tokens {
        for (method, path, body) in [
            (Method::POST, decide.as_str(), Some(confirm.clone())),
            (Method::POST, &format!("/api/cases/{case_id}/claim"), None),
            (Method::GET, "/api/queue", None),
            (
                Method::POST,
                &format!("/api/accounts/{CONTACT_AUTHOR}/withdrawal-confirmation"),
                None,
            ),
        ] {
            let (status, answer) = s
                .call_with_token(method, path, token.as_deref(), body)
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} {answer}");
        }
    }
    let (status, _) = s.page("/queue", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Signed in, but in no group: 403 for everything but the public guidelines.
    for (method, path, body) in [
        (Method::POST, decide.as_str(), Some(confirm.clone())),
        (Method::POST, &format!("/api/cases/{case_id}/claim"), None),
        (Method::GET, "/api/queue", None),
        (Method::GET, &format!("/api/cases/{case_id}"), None),
        (
            Method::POST,
            "/api/violations/v-1/revocation",
            Some(json!({"reason": "x"})),
        ),
    ] {
        let (status, _) = s.call(method, path, Some("visitor-c"), body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    // Support, but not lead: no withdrawal confirmation, no reinstatement.
    let (status, _) = s
        .call(
            Method::POST,
            &format!("/api/accounts/{CONTACT_AUTHOR}/withdrawal-confirmation"),
            Some("agent-a"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = s
        .call(
            Method::POST,
            &format!("/api/accounts/{CONTACT_AUTHOR}/reinstatement"),
            Some("agent-a"),
            Some(json!({"reason": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, page) = s.page("/guidelines", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("依頼ガイドライン") && page.contains("提案ガイドライン"));

    let (after, version_after) = s.cases.load(&case_id).await.unwrap().unwrap();
    assert_eq!(
        (after, version_after),
        (before, version_before),
        "nothing changed"
    );
    assert!(
        s.pending().await.is_empty(),
        "nothing written to the outbox"
    );
    assert!(s
        .messages(Destination::Escalation, "violation_confirmed")
        .await
        .is_empty());
    assert!(s
        .messages(Destination::Alerts, "case_resolved")
        .await
        .is_empty());
}

#[tokio::test]
async fn two_members_confirm_a_withdrawal_and_one_member_twice_is_refused() {
    let s = Stack::new().await;
    s.screen("off-platform-contact-evasion.json").await;
    let case_id = s.case_id_of(CONTACT).await;
    // lead-a finds crime recruitment in it: one strike in a straight-to-withdrawal category.
    let (status, _) = s
        .call(
            Method::POST,
            &format!("/api/cases/{case_id}/decision"),
            Some("lead-a"),
            Some(json!({"action": "confirm", "categories": ["illegal_work"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    s.deliver().await;
    let account = s.account(CONTACT_AUTHOR, "lead-b").await;
    assert_eq!(account["standing"]["level"], "withdrawal_pending");
    assert_eq!(
        account["standing"]["pending_withdrawal"]["requested_by"],
        "lead-a"
    );

    let confirm = format!("/api/accounts/{CONTACT_AUTHOR}/withdrawal-confirmation");
    let (status, refused) = s.call(Method::POST, &confirm, Some("lead-a"), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert!(
        s.messages(Destination::Escalation, "withdrawal_confirmed")
            .await
            .is_empty(),
        "a refusal sends nothing"
    );

    let (status, sent) = s.call(Method::POST, &confirm, Some("lead-b"), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    assert_eq!(sent["decided_by"], "lead-b");
    s.deliver().await;
    let account = s.account(CONTACT_AUTHOR, "lead-a").await;
    assert_eq!(account["standing"]["level"], "withdrawn");
    let audit = account["standing"]["history"].as_array().unwrap();
    assert_eq!(audit.last().unwrap()["actor"], "lead-b");

    // Reinstating is a lead's too, with a reason.
    let (status, _) = s
        .call(
            Method::POST,
            &format!("/api/accounts/{CONTACT_AUTHOR}/reinstatement"),
            Some("lead-a"),
            Some(json!({"reason": ""})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = s
        .call(
            Method::POST,
            &format!("/api/accounts/{CONTACT_AUTHOR}/reinstatement"),
            Some("lead-a"),
            Some(json!({"reason": "identity verified, appeal upheld"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    s.deliver().await;
    let account = s.account(CONTACT_AUTHOR, "lead-a").await;
    assert_eq!(account["standing"]["level"], "good_standing");
}

#[tokio::test]
async fn a_double_submitted_decision_gives_one_strike_and_one_case_resolved() {
    let s = Stack::new().await;
    s.screen("off-platform-contact-evasion.json").await;
    let case_id = s.case_id_of(CONTACT).await;
    let path = format!("/api/cases/{case_id}/decision");
    let confirm = json!({"action": "confirm", "categories": ["off_platform_contact"]});
    // Two at once (a double-click), then the same again later (a retry).
    let (first, second) = tokio::join!(
        s.call(Method::POST, &path, Some("agent-a"), Some(confirm.clone())),
        s.call(Method::POST, &path, Some("agent-a"), Some(confirm.clone())),
    );
    let (third_status, third) = s
        .call(Method::POST, &path, Some("agent-a"), Some(confirm))
        .await;
    assert_eq!(
        (first.0, second.0, third_status),
        (StatusCode::OK, StatusCode::OK, StatusCode::OK)
    );
    let applied: Vec<bool> = [&first.1, &second.1, &third]
        .iter()
        .map(|v| v["applied"].as_bool().unwrap())
        .collect();
    assert_eq!(applied.iter().filter(|a| **a).count(), 1, "{applied:?}");
    assert_eq!(
        s.messages(Destination::Escalation, "violation_confirmed")
            .await
            .len(),
        1
    );
    assert_eq!(
        s.messages(Destination::Alerts, "case_resolved").await.len(),
        1
    );
    s.deliver().await;
    let account = s.account(CONTACT_AUTHOR, "agent-a").await;
    assert_eq!(
        account["standing"]["active_strikes"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Deciding it differently afterwards is a conflict, not a second decision.
    let (status, _) = s
        .call(
            Method::POST,
            &path,
            Some("agent-b"),
            Some(json!({"action": "false_positive"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn markup_in_a_posting_is_shown_as_text_on_the_case_page() {
    let s = Stack::new().await;
    s.screen("markup-in-body.json").await;
    let case_id = s.case_id_of("job-20261203-0666").await;
    let (status, page) = s.page(&format!("/cases/{case_id}"), Some("agent-a")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !page.contains("<script"),
        "no script element reaches the page"
    );
    assert!(!page.contains("<img"), "no img element reaches the page");
    assert!(
        page.contains("&lt;script&gt;document.body.setAttribute"),
        "the markup shows as text"
    );
    assert!(
        page.contains("onerror="),
        "the attribute text is there, as text"
    );
    assert!(page.contains("<mark"), "evidence is highlighted");
    let (status, queue) = s.page("/queue", Some("agent-a")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(queue.contains(&case_id));
}

/// A decision is recorded with its messages in one transaction: the process may die right
/// after it, before anything is published, and the messages still go out — here by the
/// scheduled sweep of a freshly started outbox-publisher.
#[tokio::test]
async fn a_decisions_messages_wait_in_the_outbox_and_survive_a_crash_before_publishing() {
    let s = Stack::new().await;
    s.screen("off-platform-contact-evasion.json").await;
    s.relay().await;
    let case_id = s.case_id_of(CONTACT).await;
    let (status, _) = s
        .call(
            Method::POST,
            &format!("/api/cases/{case_id}/decision"),
            Some("agent-a"),
            Some(json!({"action": "confirm", "categories": ["off_platform_contact"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut pending = s.pending().await;
    pending.sort();
    assert_eq!(pending.len(), 2, "{pending:?}");
    assert!(pending[0].starts_with("case-resolved-") && pending[1].starts_with("violation-case-"));
    let (case, _) = s.cases.load(&case_id).await.unwrap().unwrap();
    assert_eq!(case.summary.status.as_str(), "closed");
    assert!(s.published.to(Destination::Escalation).is_empty());

    // A new outbox-publisher's scheduled sweep, once the stream's grace has passed.
    let restarted = OutboxRelay::new(
        DynamoOutboxStore::new(dynamodb_client().await, &s.table),
        Recording {
            sns: SnsPublisher::new(
                sns_client().await,
                TopicArns {
                    alerts: Some(s.alert_topic.clone()),
                    escalation: Some(s.escalation_topic.clone()),
                    resolutions: Some(s.resolution_topic.clone()),
                },
            ),
            published: s.published.clone(),
        },
    );
    let later = ManualClock::at(SystemClock.now() + outbox_publisher::SWEEP_GRACE_SECONDS + 1);
    let tick = json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}});
    let swept = outbox_publisher::handle(
        LambdaEvent::new(tick, Context::default()),
        &restarted,
        &later,
    )
    .await
    .unwrap();
    assert_eq!(swept, outbox_publisher::Reply::Sweep { delivered: 2 });
    let strikes = s.published.to(Destination::Escalation);
    assert_eq!(strikes.len(), 1);
    assert_eq!(
        (
            strikes[0]["type"].as_str(),
            strikes[0]["decided_by"].as_str()
        ),
        (Some("violation_confirmed"), Some("agent-a"))
    );
    s.deliver().await;
    let account = s.account(CONTACT_AUTHOR, "agent-a").await;
    assert_eq!(
        account["standing"]["active_strikes"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{account}"
    );
}
