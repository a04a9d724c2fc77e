//! The user-escalation handler called directly on every fixture in `events/user-escalation/`,
//! as a direct invocation and SNS-wrapped, with the embedded ledger.

use std::sync::Arc;

use anshin_core::adapters::memory::MemoryLedgerStore;
use anshin_core::clock::SystemClock;
use anshin_core::escalation::{EscalationResponse, Escalator};
use anshin_core::policy::ladder::AccountLevel;
use anshin_core::policy::Policy;
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde_json::Value;
use user_escalation::{handle, Reply};

use crate::support::{assert_names_every_event_in, assert_refused_naming, event, fixture};

const CONFIRMED: &str = include_str!("../../events/user-escalation/violation-confirmed.json");
const REVOKED: &str = include_str!("../../events/user-escalation/violation-revoked.json");
const WITHDRAWAL: &str = include_str!("../../events/user-escalation/withdrawal-confirmed.json");
const REINSTATED: &str = include_str!("../../events/user-escalation/reinstated.json");
const QUERY: &str = include_str!("../../events/user-escalation/standing-query.json");
const SNS_CONFIRMED: &str =
    include_str!("../../events/user-escalation/sns-violation-confirmed.json");

/// Each malformed fixture in `events/user-escalation/invalid/` with the field its error
/// must name.
const MALFORMED: [(&str, &str); 6] = [
    ("missing-user-id.json", "user_id"),
    ("unknown-category.json", "category"),
    ("unknown-type.json", "type"),
    ("empty-revocation-reason.json", "reason"),
    (
        "sns-unknown-severity.json",
        "Records[0].Sns.Message.severity",
    ),
    ("sns-message-not-json.json", "Records[0].Sns.Message"),
];

/// EventBridge's tick, which runs the expiry sweep.
const SCHEDULED_SWEEP: &str = "scheduled-expiry-sweep.json";

#[tokio::test]
async fn the_scheduled_tick_runs_the_expiry_sweep() {
    let e = escalator();
    let reply = handle(
        LambdaEvent::new(
            event(&format!("user-escalation/{SCHEDULED_SWEEP}")),
            Context::default(),
        ),
        &e,
    )
    .await
    .unwrap();
    match reply {
        Reply::One(EscalationResponse::Sweep(swept)) => {
            assert_eq!(
                (swept.checked, swept.changed),
                (0, 0),
                "nothing has expired"
            )
        }
        other => panic!("a sweep's answer expected, got {other:?}"),
    }
}

/// Every well-formed fixture in `events/user-escalation/`, in an order in which each one
/// applies (a revocation needs its violation, a withdrawal its pending strike), with the
/// level it leaves the account at.
const SEQUENCE: [(&str, AccountLevel); 6] = [
    ("violation-confirmed.json", AccountLevel::Warning),
    ("standing-query.json", AccountLevel::Warning),
    ("violation-revoked.json", AccountLevel::GoodStanding),
    (
        "sns-violation-confirmed.json",
        AccountLevel::WithdrawalPending,
    ),
    ("withdrawal-confirmed.json", AccountLevel::Withdrawn),
    ("reinstated.json", AccountLevel::GoodStanding),
];

type LocalEscalator = Escalator<MemoryLedgerStore>;

fn escalator() -> LocalEscalator {
    Escalator::new(
        MemoryLedgerStore::new(),
        Arc::new(Policy::embedded().unwrap()),
        Arc::new(SystemClock),
    )
}

async fn invoke(payload: &str, e: &LocalEscalator) -> Result<Reply, Diagnostic> {
    handle(LambdaEvent::new(fixture(payload), Context::default()), e)
        .await
        .map_err(Diagnostic::from)
}

fn outcome(reply: Reply) -> anshin_core::escalation::EscalationOutcome {
    match reply {
        Reply::One(EscalationResponse::Outcome(o)) => o,
        other => panic!("expected one outcome, got {other:?}"),
    }
}

#[tokio::test]
async fn a_confirmed_violation_then_its_revocation_move_the_account_and_back() {
    let e = escalator();
    let confirmed = outcome(invoke(CONFIRMED, &e).await.unwrap());
    assert_eq!(
        (confirmed.level_before, confirmed.level),
        (AccountLevel::GoodStanding, AccountLevel::Warning)
    );
    let again = outcome(invoke(CONFIRMED, &e).await.unwrap());
    assert!(!again.applied, "a redelivered confirmation adds nothing");

    let Reply::One(EscalationResponse::Standing(report)) = invoke(QUERY, &e).await.unwrap() else {
        panic!("a standing query answers with a report");
    };
    assert_eq!(report.level, AccountLevel::Warning);
    assert_eq!(report.history.len(), 1);

    let revoked = outcome(invoke(REVOKED, &e).await.unwrap());
    assert_eq!(revoked.level, AccountLevel::GoodStanding);
}

#[tokio::test]
async fn an_sns_delivered_automatic_strike_leads_to_withdrawal_once_a_second_member_confirms() {
    let e = escalator();
    let Reply::Batch(responses) = invoke(SNS_CONFIRMED, &e).await.unwrap() else {
        panic!("an SNS event answers with one response per record");
    };
    assert_eq!(responses.len(), 1);
    let EscalationResponse::Outcome(o) = &responses[0] else {
        panic!("outcome expected")
    };
    assert_eq!(o.level, AccountLevel::WithdrawalPending);

    let withdrawn = outcome(invoke(WITHDRAWAL, &e).await.unwrap());
    assert_eq!(withdrawn.level, AccountLevel::Withdrawn);
    let back = outcome(invoke(REINSTATED, &e).await.unwrap());
    assert_eq!(
        (back.level_before, back.level),
        (AccountLevel::Withdrawn, AccountLevel::GoodStanding)
    );
}

#[tokio::test]
async fn a_withdrawal_with_nothing_pending_is_a_conflict() {
    let e = escalator();
    let error = invoke(WITHDRAWAL, &e).await.unwrap_err();
    assert_eq!(error.error_type, "Conflict");
}

#[tokio::test]
async fn every_well_formed_event_applies_in_sequence() {
    let mut names: Vec<&str> = SEQUENCE.iter().map(|(name, _)| *name).collect();
    names.push(SCHEDULED_SWEEP);
    assert_names_every_event_in("user-escalation", &names);
    let e = escalator();
    for (name, level) in SEQUENCE {
        let payload = event(&format!("user-escalation/{name}"));
        let reply = handle(LambdaEvent::new(payload, Context::default()), &e)
            .await
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        let reached = match reply {
            Reply::One(EscalationResponse::Outcome(o)) => {
                assert!(o.applied, "{name}");
                o.level
            }
            Reply::One(EscalationResponse::Standing(report)) => report.level,
            Reply::One(EscalationResponse::Sweep(swept)) => panic!("{name}: a sweep? {swept:?}"),
            Reply::Batch(responses) => match responses.as_slice() {
                [EscalationResponse::Outcome(o)] => o.level,
                other => panic!("{name}: one outcome expected, got {other:?}"),
            },
        };
        assert_eq!(reached, level, "{name}");
    }
}

#[tokio::test]
async fn every_malformed_command_is_refused_as_invalid_input_naming_the_field_and_changes_nothing()
{
    let names: Vec<&str> = MALFORMED.iter().map(|(name, _)| *name).collect();
    assert_names_every_event_in("user-escalation/invalid", &names);
    let e = escalator();
    for (name, field) in MALFORMED {
        let payload = event(&format!("user-escalation/invalid/{name}"));
        let error = handle(LambdaEvent::new(payload, Context::default()), &e)
            .await
            .map_err(Diagnostic::from)
            .unwrap_err();
        assert_refused_naming(&error, field);
    }
    // A malformed direct command, wrapped in SNS, names the record and the field.
    let mut wrapped: Value = fixture(SNS_CONFIRMED);
    wrapped["Records"][0]["Sns"]["Message"] =
        Value::String(event("user-escalation/invalid/unknown-category.json").to_string());
    let error = handle(LambdaEvent::new(wrapped, Context::default()), &e)
        .await
        .map_err(Diagnostic::from)
        .unwrap_err();
    assert!(
        error
            .error_message
            .contains("Records[0].Sns.Message.category"),
        "{}",
        error.error_message
    );
    assert!(
        e.store().outbox().written().is_empty(),
        "nothing changed, nothing announced"
    );
}
