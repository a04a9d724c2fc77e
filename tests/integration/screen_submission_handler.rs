//! The screen-submission handler called directly, as Lambda would call it, on every
//! fixture in `events/screen-submission/`, on memory adapters: the outbox, support's cases
//! and user-escalation behind the outbox.

use anshin_core::adapters::memory::{
    InProcessPublisher, MemoryCaseStore, MemoryLedgerStore, MemoryOutbox, MemoryPublisher,
    MemoryReportStore, MemoryScreeningRecorder,
};
use anshin_core::alert::{Alert, AlertEventType};
use anshin_core::clock::SystemClock;
use anshin_core::escalation::{AccountStanding, Escalator};
use anshin_core::input::Id;
use anshin_core::outbox::{OutboxMessage, OutboxRelay};
use anshin_core::policy::ladder::AccountLevel;
use anshin_core::policy::Policy;
use anshin_core::screening::{ScreenDesk, Screener};
use anshin_core::screening::{ScreeningRecorder, Submission};
use anshin_core::store::StoreError;
use anshin_core::support::{CaseOrigin, CaseStatus, CaseStore};
use anshin_core::taxonomy::Category;
use anshin_core::verdict::{Decision, Field, Verdict};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use screen_submission::{handle, ScreenSubmissionError};
use serde_json::Value;
use std::sync::Arc;

use crate::support::{assert_names_every_event_in, assert_refused_naming, event, fixture};

const CLEAN_JOB_POSTING: &str =
    include_str!("../../events/screen-submission/clean-job-posting.json");
const CLEAN_ENGLISH_MESSAGE: &str =
    include_str!("../../events/screen-submission/clean-english-message.json");
const OFF_PLATFORM_EVASION: &str =
    include_str!("../../events/screen-submission/off-platform-contact-evasion.json");
const CRIME_RECRUITMENT: &str =
    include_str!("../../events/screen-submission/crime-recruitment.json");

/// Each malformed fixture in `events/screen-submission/invalid/` with the field its error
/// must name.
const MALFORMED: [(&str, &str); 4] = [
    ("missing-body.json", "body"),
    ("unknown-kind.json", "kind"),
    ("bad-author-id.json", "author_id"),
    ("body-not-a-string.json", "body"),
];

/// Each well-formed fixture in `events/screen-submission/` with the decision it must get.
const WELL_FORMED: [(&str, Decision); 5] = [
    ("clean-job-posting.json", Decision::Allow),
    ("clean-english-message.json", Decision::Allow),
    ("off-platform-contact-evasion.json", Decision::Hide),
    ("crime-recruitment.json", Decision::Hide),
    ("markup-in-body.json", Decision::Hide),
];

/// The handler's desk on memory adapters, with user-escalation behind its outbox: automatic
/// strikes reach a memory ledger the test can read once the relay delivers them, and
/// support's cases open in a memory case store.
struct Local {
    desk: ScreenDesk<MemoryScreeningRecorder>,
    cases: Arc<MemoryCaseStore>,
    escalator: Arc<Escalator<MemoryLedgerStore>>,
    relay: OutboxRelay<Arc<MemoryOutbox>, InProcessPublisher<MemoryLedgerStore, MemoryReportStore>>,
}

impl Local {
    /// The alerts the handler recorded, delivered or not.
    fn alerts(&self) -> Vec<Alert> {
        self.relay.store().alerts()
    }
}

fn deps() -> Local {
    let policy = Arc::new(Policy::embedded().expect("embedded policy"));
    let outbox = MemoryOutbox::new();
    let escalator = Arc::new(Escalator::new(
        MemoryLedgerStore::with_outbox(Arc::clone(&outbox)),
        Arc::clone(&policy),
        Arc::new(SystemClock),
    ));
    let cases = Arc::new(MemoryCaseStore::with_outbox(Arc::clone(&outbox)));
    let desk = ScreenDesk::new(
        Screener::new(policy),
        MemoryScreeningRecorder::new(Arc::clone(&outbox))
            .opening_cases(Arc::clone(&cases), Arc::new(SystemClock)),
    );
    let relay = OutboxRelay::new(
        outbox,
        InProcessPublisher::new(Arc::clone(&escalator), None, MemoryPublisher::collecting()),
    );
    Local {
        desk,
        cases,
        escalator,
        relay,
    }
}

/// Where an author stands in the memory ledger behind the handler, once the outbox has
/// been delivered.
async fn standing_of(deps: &Local, user: &str) -> AccountStanding {
    let relayed = deps.relay.drain().await.unwrap();
    assert!(relayed.failed.is_empty(), "{:?}", relayed.failed);
    let user = Id::parse("id", user).unwrap();
    deps.escalator.standing(&user).await.unwrap()
}

async fn invoke(payload: Value, deps: &Local) -> Result<Verdict, ScreenSubmissionError> {
    handle(LambdaEvent::new(payload, Context::default()), &deps.desk).await
}

/// Every evidence span must quote exactly the code points it claims, in the field it names.
fn assert_evidence_points_into_the_original(payload: &Value, verdict: &Verdict) {
    for finding in &verdict.categories {
        for e in &finding.evidence {
            let field = match e.field {
                Field::Title => payload["title"].as_str().unwrap(),
                Field::Body => payload["body"].as_str().unwrap(),
            };
            let quoted: String = field.chars().skip(e.start).take(e.end - e.start).collect();
            assert_eq!(quoted, e.text, "evidence {e:?} of {}", finding.category);
            assert!(!e.text.is_empty());
        }
    }
}

#[tokio::test]
async fn clean_postings_are_allowed_and_support_hears_nothing() {
    let deps = deps();
    for fixture_json in [CLEAN_JOB_POSTING, CLEAN_ENGLISH_MESSAGE] {
        let verdict = invoke(fixture(fixture_json), &deps).await.unwrap();
        assert_eq!(verdict.decision, Decision::Allow, "{verdict:?}");
        assert!(verdict.categories.is_empty());
        assert!(verdict.content_hash.starts_with("sha256:"));
    }
    assert!(deps.alerts().is_empty());
}

#[tokio::test]
async fn off_platform_contact_hidden_behind_evasions_is_found_and_quoted_as_written() {
    let deps = deps();
    let payload = fixture(OFF_PLATFORM_EVASION);
    let verdict = invoke(payload.clone(), &deps).await.unwrap();

    let finding = verdict
        .categories
        .iter()
        .find(|c| c.category == Category::OffPlatformContact)
        .expect("off-platform contact found");
    assert_eq!(
        verdict.decision,
        Decision::Hide,
        "e-mail, phone and LINE together are unambiguous"
    );
    assert!(!finding.message_ja.is_empty() && !finding.message_en.is_empty());
    assert_evidence_points_into_the_original(&payload, &verdict);
    let quoted: Vec<&str> = finding.evidence.iter().map(|e| e.text.as_str()).collect();
    for written in [
        "ぜろきゅうぜろ・いちにさんよん・ごろくななはち",
        "(at) example (dot) com",
        "Ｌ Ｉ Ｎ Ｅ",
    ] {
        assert!(
            quoted.iter().any(|q| q.contains(written)),
            "no evidence quotes {written:?}; evidence: {quoted:?}"
        );
    }
    assert_eq!(deps.alerts().len(), 1, "a hide always alerts support");
}

#[tokio::test]
async fn crime_recruitment_is_hidden_and_support_gets_an_alert_without_the_posting_text() {
    let deps = deps();
    let payload = fixture(CRIME_RECRUITMENT);
    let verdict = invoke(payload.clone(), &deps).await.unwrap();

    assert_eq!(verdict.decision, Decision::Hide);
    assert!(
        verdict
            .categories
            .iter()
            .any(|c| c.category == Category::IllegalWork),
        "{verdict:?}"
    );
    assert_evidence_points_into_the_original(&payload, &verdict);

    let alerts = deps.alerts();
    assert_eq!(alerts.len(), 1);
    let Alert::Submission(alert) = &alerts[0] else {
        panic!("expected a submission alert, got {:?}", alerts[0]);
    };
    assert_eq!(alert.event_type, AlertEventType::SubmissionHidden);
    assert_eq!(alert.submission_id, "job-20261127-0666");
    assert_eq!(alert.author_id, "client-0999");
    assert!(alert.categories.contains(&Category::IllegalWork));
    assert!(alert.excerpt.chars().count() <= anshin_core::screening::evidence::MAX_EXCERPT_CHARS);
    assert!(
        !alert.excerpt.chars().any(|c| c.is_ascii_digit()),
        "digits are masked: {}",
        alert.excerpt
    );
    let body = payload["body"].as_str().unwrap();
    let alert_json = serde_json::to_string(alert).unwrap();
    assert!(
        !alert_json.contains(body),
        "the alert must not carry the posting"
    );

    // Crime recruitment is auto_strike and straight_to_withdrawal: the author's account
    // now waits for a support member to confirm the withdrawal.
    let standing = standing_of(&deps, "client-0999").await;
    assert_eq!(standing.level, AccountLevel::WithdrawalPending);
    assert_eq!(standing.active_strikes.len(), 1);
    assert_eq!(standing.active_strikes[0].category, Category::IllegalWork);
}

#[tokio::test]
async fn a_hide_outside_auto_strike_categories_leaves_the_ledger_alone() {
    let deps = deps();
    let verdict = invoke(fixture(OFF_PLATFORM_EVASION), &deps).await.unwrap();
    assert_eq!(verdict.decision, Decision::Hide);
    let standing = standing_of(&deps, "worker-5120").await;
    assert!(
        standing.active_strikes.is_empty(),
        "off-platform contact waits for support"
    );
}

#[tokio::test]
async fn a_retried_invocation_gives_the_same_verdict_and_the_same_alert_dedupe_key() {
    let deps = deps();
    let first = invoke(fixture(CRIME_RECRUITMENT), &deps).await.unwrap();
    let second = invoke(fixture(CRIME_RECRUITMENT), &deps).await.unwrap();
    assert_eq!(first, second);
    let alerts = deps.alerts();
    assert_eq!(alerts.len(), 2);
    assert_eq!(alerts[0].dedupe_key(), alerts[1].dedupe_key());
    let standing = standing_of(&deps, "client-0999").await;
    assert_eq!(
        standing.active_strikes.len(),
        1,
        "the retry's automatic strike counts once"
    );
}

#[tokio::test]
async fn every_hold_or_hide_opens_one_case_for_support_and_an_allow_none() {
    let deps = deps();
    for (name, _) in WELL_FORMED {
        invoke(event(&format!("screen-submission/{name}")), &deps)
            .await
            .unwrap();
    }
    // A retried screening finds its case: keyed by submission and content.
    invoke(fixture(CRIME_RECRUITMENT), &deps).await.unwrap();
    let queue = deps.cases.queue().await.unwrap();
    let mut opened: Vec<&str> = queue
        .iter()
        .filter_map(|c| c.submission_id.as_deref())
        .collect();
    opened.sort();
    assert_eq!(
        opened,
        [
            "job-20261127-0666",
            "job-20261203-0666",
            "proposal-20261127-0042"
        ],
        "one case per hide, none for the clean ones"
    );
    assert!(queue
        .iter()
        .all(|c| c.origin == CaseOrigin::Screening && c.status == CaseStatus::Open));
    let crime = queue
        .iter()
        .find(|c| c.submission_id.as_deref() == Some("job-20261127-0666"))
        .unwrap();
    let (case, _) = deps.cases.load(&crime.case_id).await.unwrap().unwrap();
    let body = fixture(CRIME_RECRUITMENT)["body"].clone();
    assert_eq!(
        case.content.text.map(|t| t.body),
        body.as_str().map(str::to_owned)
    );
}

#[tokio::test]
async fn every_well_formed_event_gets_its_decision() {
    let names: Vec<&str> = WELL_FORMED.iter().map(|(name, _)| *name).collect();
    assert_names_every_event_in("screen-submission", &names);
    let deps = deps();
    for (name, decision) in WELL_FORMED {
        let verdict = invoke(event(&format!("screen-submission/{name}")), &deps)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(verdict.decision, decision, "{name}");
    }
}

#[tokio::test]
async fn every_malformed_event_is_refused_as_invalid_input_naming_the_field() {
    let names: Vec<&str> = MALFORMED.iter().map(|(name, _)| *name).collect();
    assert_names_every_event_in("screen-submission/invalid", &names);
    let deps = deps();
    for (name, field) in MALFORMED {
        let payload = event(&format!("screen-submission/invalid/{name}"));
        let error = invoke(payload, &deps).await.unwrap_err();
        assert_refused_naming(&Diagnostic::from(error), field);
    }
    let not_an_object = invoke(Value::String("hello".into()), &deps)
        .await
        .unwrap_err();
    assert_eq!(Diagnostic::from(not_an_object).error_type, "InvalidInput");
    assert!(
        deps.alerts().is_empty(),
        "a refused payload changes nothing"
    );
}

/// A table that refuses every write, as DynamoDB does during an outage.
struct UnreachableTable;

impl ScreeningRecorder for UnreachableTable {
    async fn record(
        &self,
        _submission: &Submission,
        _verdict: &Verdict,
        _messages: Vec<OutboxMessage>,
    ) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("table unreachable".into()))
    }
}

#[tokio::test]
async fn messages_that_cannot_be_recorded_fail_the_invocation_so_that_lambda_retries() {
    let desk = ScreenDesk::new(
        Screener::new(Arc::new(Policy::embedded().unwrap())),
        UnreachableTable,
    );
    let invoke = |payload| handle(LambdaEvent::new(payload, Context::default()), &desk);
    let error = invoke(fixture(CRIME_RECRUITMENT)).await.unwrap_err();
    let diagnostic = Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "StoreUnavailable");
    assert!(diagnostic.error_message.contains("table unreachable"));

    // A clean posting needs no message and no case, so nothing can fail.
    assert!(invoke(fixture(CLEAN_JOB_POSTING)).await.is_ok());
}
