//! The report-intake handler called directly on every fixture in `events/report-intake/`.

use std::sync::Arc;

use anshin_core::adapters::memory::{
    InProcessPublisher, MemoryCaseStore, MemoryLedgerStore, MemoryOutbox, MemoryPublisher,
    MemoryReportStore,
};
use anshin_core::clock::SystemClock;
use anshin_core::escalation::AccountStanding;
use anshin_core::escalation::Escalator;
use anshin_core::input::Id;
use anshin_core::outbox::OutboxRelay;
use anshin_core::policy::Policy;
use anshin_core::reports::{ReportDesk, ReportStore};
use anshin_core::screening::Screener;
use anshin_core::support::{CaseOrigin, CaseStore};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use report_intake::handle;
use serde_json::Value;

use crate::support::{
    assert_names_every_event_in, assert_refused_naming, event, fixture, sns_event,
};

/// The topic support's resolutions come through (the console's path).
const RESOLUTION_TOPIC: &str =
    "arn:aws:sns:ap-northeast-1:123456789012:anshin-prod-report-resolutions";

const WITH_SUBMISSION: &str =
    include_str!("../../events/report-intake/report-with-submission.json");
const REPORT_USER: &str = include_str!("../../events/report-intake/report-user.json");
const CONFIRMED: &str = include_str!("../../events/report-intake/sns-resolution-confirmed.json");
const REJECTED: &str = include_str!("../../events/report-intake/sns-resolution-rejected.json");

/// Each malformed fixture in `events/report-intake/invalid/` with the field its error must
/// name.
const MALFORMED: [(&str, &str); 8] = [
    ("self-report.json", "target_user_id"),
    ("unknown-category.json", "category"),
    ("missing-reporter.json", "reporter_id"),
    ("description-too-long.json", "description"),
    ("sns-report.json", "Records[0].Sns.Message.type"),
    ("sns-message-not-json.json", "Records[0].Sns.Message"),
    (
        "sns-unknown-decision.json",
        "Records[0].Sns.Message.decision",
    ),
    // Deciding reports is support's, through the console's path, never the platform's.
    ("resolution-by-direct-invocation.json", "type"),
];

/// Every well-formed fixture in `events/report-intake/`, in order, with what it must get:
/// `Ok` or the error type (the rejection after the confirmation is a conflict).
const SEQUENCE: [(&str, Result<(), &str>); 4] = [
    ("report-user.json", Ok(())),
    ("report-with-submission.json", Ok(())),
    ("sns-resolution-confirmed.json", Ok(())),
    ("sns-resolution-rejected.json", Err("Conflict")),
];

/// The report desk on memory stores, with user-escalation behind its outbox and support's
/// cases beside it.
struct LocalDesk {
    desk: Arc<ReportDesk<MemoryReportStore>>,
    cases: Arc<MemoryCaseStore>,
    relay: OutboxRelay<Arc<MemoryOutbox>, InProcessPublisher<MemoryLedgerStore, MemoryReportStore>>,
    escalator: Arc<Escalator<MemoryLedgerStore>>,
}

impl LocalDesk {
    fn store(&self) -> &MemoryReportStore {
        self.desk.store()
    }

    /// Where `user` stands once everything the desk wrote has been delivered.
    async fn standing_after_delivery(&self, user: &str) -> AccountStanding {
        let relayed = self.relay.drain().await.unwrap();
        assert!(relayed.failed.is_empty(), "{:?}", relayed.failed);
        self.escalator
            .standing(&Id::parse("id", user).unwrap())
            .await
            .unwrap()
    }
}

fn desk() -> LocalDesk {
    let policy = Arc::new(Policy::embedded().unwrap());
    let outbox = MemoryOutbox::new();
    let escalator = Arc::new(Escalator::new(
        MemoryLedgerStore::with_outbox(Arc::clone(&outbox)),
        Arc::clone(&policy),
        Arc::new(SystemClock),
    ));
    let cases = Arc::new(MemoryCaseStore::with_outbox(Arc::clone(&outbox)));
    let desk = Arc::new(ReportDesk::new(
        MemoryReportStore::with_outbox(Arc::clone(&outbox)).opening_cases(Arc::clone(&cases)),
        Screener::new(policy),
        Arc::new(SystemClock),
    ));
    let relay = OutboxRelay::new(
        outbox,
        InProcessPublisher::new(
            Arc::clone(&escalator),
            Some(Arc::clone(&desk)),
            MemoryPublisher::collecting(),
        ),
    );
    LocalDesk {
        desk,
        cases,
        relay,
        escalator,
    }
}

/// The handler's answer as the caller receives it: JSON.
async fn invoke_json(payload: Value, desk: &LocalDesk) -> Result<Value, Diagnostic> {
    handle(LambdaEvent::new(payload, Context::default()), &desk.desk)
        .await
        .map(|reply| serde_json::to_value(reply).expect("a reply serialises"))
        .map_err(Diagnostic::from)
}

async fn invoke(payload: &str, desk: &LocalDesk) -> Result<Value, Diagnostic> {
    invoke_json(fixture(payload), desk).await
}

#[tokio::test]
async fn a_report_carrying_the_submission_is_screened_and_answers_with_the_verdict() {
    let desk = desk();
    let answer = invoke(WITH_SUBMISSION, &desk).await.unwrap();
    assert_eq!(answer["new"], true);
    assert_eq!(answer["verdict"]["decision"], "hide");
    assert_eq!(
        answer["verdict"]["categories"][0]["category"],
        "off_platform_contact"
    );
}

#[tokio::test]
async fn a_report_then_its_confirmation_strike_the_reported_user_once() {
    let desk = desk();
    let answer = invoke(REPORT_USER, &desk).await.unwrap();
    assert_eq!(answer["report_id"], "rep-platform-000871");
    for _ in 0..2 {
        let resolved = invoke(CONFIRMED, &desk).await.unwrap();
        assert_eq!(resolved[0]["status"], "confirmed");
    }
    let standing = desk.standing_after_delivery("client-4410").await;
    assert_eq!(standing.active_strikes.len(), 1);
    let stats = desk.store().reporter_stats("worker-8810").await.unwrap();
    assert_eq!((stats.confirmed, stats.rejected), (1, 0));
    // The opposite decision afterwards is a conflict.
    assert_eq!(
        invoke(REJECTED, &desk).await.unwrap_err().error_type,
        "Conflict"
    );
}

#[tokio::test]
async fn a_resolution_invoked_directly_by_the_platform_is_refused_and_decides_nothing() {
    let desk = desk();
    invoke(REPORT_USER, &desk).await.unwrap();
    let direct = event("report-intake/invalid/resolution-by-direct-invocation.json");
    let error = invoke_json(direct, &desk).await.unwrap_err();
    assert_refused_naming(&error, "type");
    let stored = desk
        .store()
        .report("rep-platform-000871")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, anshin_core::reports::ReportStatus::Open);
    let standing = desk.standing_after_delivery("client-4410").await;
    assert!(
        standing.active_strikes.is_empty(),
        "no strike from the platform's door"
    );
}

#[tokio::test]
async fn the_report_that_crosses_a_threshold_opens_one_case_with_the_crossing() {
    let desk = desk();
    let report = |reporter: &str| {
        serde_json::json!({
            "type": "report", "reporter_id": reporter, "reporter_account_created_at": 1_600_000_000u64,
            "target_user_id": "client-4410", "category": "spam", "description": "宣伝ばかり"
        })
    };
    for reporter in ["worker-9001", "worker-9002"] {
        let answer = invoke_json(report(reporter), &desk).await.unwrap();
        assert_eq!(answer["crossed"], serde_json::json!([]));
    }
    assert!(
        desk.cases.queue().await.unwrap().is_empty(),
        "below the threshold"
    );
    let crossing = invoke_json(report("worker-9003"), &desk).await.unwrap();
    assert_eq!(crossing["crossed"], serde_json::json!(["spam"]));
    // A repeat of the crossing report, and a fourth report, open nothing more.
    invoke_json(report("worker-9003"), &desk).await.unwrap();
    invoke_json(report("worker-9004"), &desk).await.unwrap();
    let queue = desk.cases.queue().await.unwrap();
    assert_eq!(queue.len(), 1, "{queue:?}");
    let case = &queue[0];
    assert_eq!(
        (case.origin, case.author_id.as_str()),
        (CaseOrigin::Reports, "client-4410")
    );
    let reports = case.reports.as_ref().unwrap();
    assert_eq!(
        reports.crossed,
        [anshin_core::taxonomy::ReportCategory::Category(
            anshin_core::taxonomy::Category::Spam
        )]
    );
    assert_eq!(reports.epochs.values().copied().collect::<Vec<_>>(), [0]);
}

#[tokio::test]
async fn resolving_an_unknown_report_is_not_found() {
    assert_eq!(
        invoke(CONFIRMED, &desk()).await.unwrap_err().error_type,
        "NotFound"
    );
}

#[tokio::test]
async fn every_well_formed_event_gets_its_answer_in_sequence() {
    let names: Vec<&str> = SEQUENCE.iter().map(|(name, _)| *name).collect();
    assert_names_every_event_in("report-intake", &names);
    let desk = desk();
    for (name, expected) in SEQUENCE {
        let payload = event(&format!("report-intake/{name}"));
        let got = handle(LambdaEvent::new(payload, Context::default()), &desk.desk)
            .await
            .map(|_| ())
            .map_err(|e| Diagnostic::from(e).error_type);
        assert_eq!(got, expected.map_err(str::to_owned), "{name}");
    }
}

#[tokio::test]
async fn a_resolution_from_support_through_sns_strikes_once_however_often_it_is_delivered() {
    let desk = desk();
    invoke(REPORT_USER, &desk).await.unwrap();
    let wrapped = event("report-intake/sns-resolution-confirmed.json");
    let mut answers = Vec::new();
    for _ in 0..2 {
        let answer = invoke_json(wrapped.clone(), &desk).await.unwrap();
        let Value::Array(records) = answer else {
            panic!("an SNS event answers with one answer per record, got {answer}");
        };
        assert_eq!(records.len(), 1);
        answers.push(records[0].clone());
    }
    assert_eq!(answers[0]["status"], "confirmed");
    assert_eq!(answers[0]["applied"], true);
    assert_eq!(answers[1]["applied"], false, "a redelivery changes nothing");
    let standing = desk.standing_after_delivery("client-4410").await;
    assert_eq!(standing.active_strikes.len(), 1);
}

#[tokio::test]
async fn a_report_through_sns_is_refused_and_stores_nothing() {
    let desk = desk();
    let error = handle(
        LambdaEvent::new(
            event("report-intake/invalid/sns-report.json"),
            Context::default(),
        ),
        &desk.desk,
    )
    .await
    .map_err(Diagnostic::from)
    .unwrap_err();
    assert_refused_naming(&error, "Records[0].Sns.Message.type");
    assert_eq!(
        desk.store().tally("client-4410").await.unwrap().version,
        0,
        "nothing stored"
    );
}

#[tokio::test]
async fn every_malformed_report_is_refused_as_invalid_input_naming_the_field() {
    let names: Vec<&str> = MALFORMED.iter().map(|(name, _)| *name).collect();
    assert_names_every_event_in("report-intake/invalid", &names);
    let desk = desk();
    for (name, field) in MALFORMED {
        let payload = event(&format!("report-intake/invalid/{name}"));
        let error = handle(LambdaEvent::new(payload, Context::default()), &desk.desk)
            .await
            .map_err(Diagnostic::from)
            .unwrap_err();
        assert_refused_naming(&error, field);
    }
    assert_eq!(
        desk.store().tally("client-4410").await.unwrap().version,
        0,
        "nothing stored"
    );
}

#[tokio::test]
async fn confirming_an_other_report_without_a_category_is_refused_and_changes_nothing() {
    let desk = desk();
    let report: Value = serde_json::json!({
        "type": "report", "reporter_id": "worker-8810", "reporter_account_created_at": 1704067200,
        "target_user_id": "client-4410", "category": "other", "description": "様子がおかしい"
    });
    let answer = invoke(&report.to_string(), &desk).await.unwrap();
    let report_id = answer["report_id"].as_str().unwrap().to_owned();
    let resolution = serde_json::json!({
        "type": "resolution", "report_id": report_id, "decision": "confirmed", "decided_by": "support-sato"
    });
    let error = invoke_json(sns_event(RESOLUTION_TOPIC, &resolution.to_string()), &desk)
        .await
        .unwrap_err();
    assert_eq!(error.error_type, "InvalidInput");
    let stored = desk.store().report(&report_id).await.unwrap().unwrap();
    assert_eq!(stored.status, anshin_core::reports::ReportStatus::Open);
    let stats = desk.store().reporter_stats("worker-8810").await.unwrap();
    assert_eq!((stats.confirmed, stats.rejected), (0, 0));
}
