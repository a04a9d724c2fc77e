//! One behavioural suite for the strike ledger, run against the embedded store and
//! against the DynamoDB store on moto. Each scenario is a generic async function; the
//! macro at the bottom instantiates every scenario for every backend.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anshin_core::adapters::memory::MemoryAlertSink;
use anshin_core::alert::{Alert, AlertError, AlertSink};
use anshin_core::clock::SECONDS_PER_DAY;
use anshin_core::clock::{Clock, ManualClock};
use anshin_core::escalation::ledger::{AuditAction, LedgerStore};
use anshin_core::escalation::{
    EscalationCommand, EscalationError, Escalator, ViolationRevoked, WithdrawalConfirmed,
};
use anshin_core::input::Id;
use anshin_core::policy::ladder::AccountLevel;
use anshin_core::policy::Policy;
use anshin_core::taxonomy::{Category, Severity};
use anshin_core::violation::{ViolationConfirmed, ViolationSource};

const START: u64 = 1_800_000_000;

fn id(raw: &str) -> Id {
    Id::parse("id", raw).unwrap()
}

fn violation(
    violation_id: &str,
    user: &str,
    severity: Severity,
    decided_by: &str,
) -> ViolationConfirmed {
    ViolationConfirmed {
        violation_id: id(violation_id),
        user_id: id(user),
        category: Category::Spam,
        severity,
        source: ViolationSource::Support,
        evidence: vec![format!("submission:{violation_id}")],
        decided_by: id(decided_by),
    }
}

fn escalator<S: LedgerStore, A: AlertSink>(
    store: S,
    alerts: A,
    clock: Arc<ManualClock>,
) -> Escalator<S, A> {
    let clock: Arc<dyn Clock> = clock;
    Escalator::new(
        store,
        alerts,
        Arc::new(Policy::embedded().expect("embedded policy")),
        clock,
    )
}

fn level_changes(alerts: &[Alert]) -> Vec<(AccountLevel, AccountLevel)> {
    alerts
        .iter()
        .map(|a| match a {
            Alert::AccountLevel(a) => (a.previous_level, a.level),
            other => panic!("unexpected alert {other:?}"),
        })
        .collect()
}

/// With the embedded ladder (warning 1, suspension 4, withdrawal 8 points; medium 2, high 3).
pub async fn three_violations_climb_the_ladder_and_withdrawal_needs_a_second_member<
    S: LedgerStore,
>(
    store: S,
) {
    let clock = Arc::new(ManualClock::at(START));
    let e = escalator(store, MemoryAlertSink::collecting(), clock);
    let mut levels = Vec::new();
    for v in [
        violation("v-1", "u-ladder", Severity::Medium, "alice"),
        violation("v-2", "u-ladder", Severity::High, "alice"),
        violation("v-3", "u-ladder", Severity::High, "alice"),
    ] {
        levels.push(e.confirm(&v).await.unwrap().level);
    }
    assert_eq!(
        levels,
        [
            AccountLevel::Warning,
            AccountLevel::Suspended,
            AccountLevel::WithdrawalPending
        ]
    );

    let same_member = WithdrawalConfirmed {
        user_id: id("u-ladder"),
        decided_by: id("alice"),
    };
    assert!(matches!(
        e.confirm_withdrawal(&same_member).await,
        Err(EscalationError::SameApprover { .. })
    ));
    assert_eq!(
        e.standing(&id("u-ladder")).await.unwrap().level,
        AccountLevel::WithdrawalPending
    );

    let other_member = WithdrawalConfirmed {
        user_id: id("u-ladder"),
        decided_by: id("bob"),
    };
    let outcome = e.confirm_withdrawal(&other_member).await.unwrap();
    assert_eq!(outcome.level, AccountLevel::Withdrawn);
    assert!(outcome.applied);
    // A redelivered confirmation changes nothing.
    assert!(!e.confirm_withdrawal(&other_member).await.unwrap().applied);

    assert_eq!(
        level_changes(&e.alerts().alerts()),
        [
            (AccountLevel::GoodStanding, AccountLevel::Warning),
            (AccountLevel::Warning, AccountLevel::Suspended),
            (AccountLevel::Suspended, AccountLevel::WithdrawalPending),
            (AccountLevel::WithdrawalPending, AccountLevel::Withdrawn),
        ]
    );
    let history = e.standing(&id("u-ladder")).await.unwrap().history;
    let actions: Vec<(AuditAction, &str)> = history
        .iter()
        .map(|a| (a.action, a.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            (AuditAction::ViolationConfirmed, "alice"),
            (AuditAction::ViolationConfirmed, "alice"),
            (AuditAction::ViolationConfirmed, "alice"),
            (AuditAction::WithdrawalConfirmed, "bob"),
        ]
    );
}

pub async fn fifty_violations_delivered_four_times_concurrently_count_exactly_once<
    S: LedgerStore + 'static,
>(
    store: S,
) {
    let clock = Arc::new(ManualClock::at(START));
    let e = Arc::new(escalator(store, MemoryAlertSink::collecting(), clock));
    let mut tasks = Vec::new();
    for delivery in 0..4 {
        for n in 0..50 {
            let e = Arc::clone(&e);
            tasks.push(tokio::spawn(async move {
                let v = violation(&format!("v-{n:02}"), "u-busy", Severity::Low, "alice");
                (delivery, e.confirm(&v).await)
            }));
        }
    }
    let mut applied = 0;
    for task in tasks {
        let (_, outcome) = task.await.expect("task ran");
        applied += usize::from(outcome.expect("every delivery succeeds").applied);
    }
    assert_eq!(
        applied, 50,
        "exactly one delivery of each violation applies"
    );

    let report = e.standing(&id("u-busy")).await.unwrap();
    assert_eq!(report.active_strikes.len(), 50);
    let audited: Vec<&str> = report
        .history
        .iter()
        .filter(|a| a.action == AuditAction::ViolationConfirmed)
        .filter_map(|a| a.violation_id.as_deref())
        .collect();
    assert_eq!(audited.len(), 50, "one audit record per violation");
    assert_eq!(audited.iter().collect::<BTreeSet<_>>().len(), 50);
    for n in 0..50 {
        let stored = e
            .store()
            .load_violation(&format!("v-{n:02}"))
            .await
            .unwrap();
        assert!(stored.is_some(), "violation v-{n:02} stored");
    }
}

pub async fn revoking_drops_the_level_and_a_second_revoke_changes_nothing<S: LedgerStore>(
    store: S,
) {
    let clock = Arc::new(ManualClock::at(START));
    let e = escalator(store, MemoryAlertSink::collecting(), clock);
    e.confirm(&violation("r-1", "u-appeal", Severity::Medium, "alice"))
        .await
        .unwrap();
    let suspended = e
        .confirm(&violation("r-2", "u-appeal", Severity::High, "alice"))
        .await
        .unwrap();
    assert_eq!(suspended.level, AccountLevel::Suspended);

    let revoke = ViolationRevoked {
        violation_id: id("r-2"),
        decided_by: id("carol"),
        reason: "appeal upheld".into(),
    };
    let first = e.revoke(&revoke).await.unwrap();
    assert!(first.applied);
    assert_eq!(
        (first.level_before, first.level),
        (AccountLevel::Suspended, AccountLevel::Warning)
    );
    assert_eq!(first.points, 2);

    let second = e.revoke(&revoke).await.unwrap();
    assert!(!second.applied);
    assert_eq!(second.level, AccountLevel::Warning);
    assert_eq!(second.points, 2);

    let report = e.standing(&id("u-appeal")).await.unwrap();
    assert_eq!(report.active_strikes.len(), 1);
    let revocations = report
        .history
        .iter()
        .filter(|a| a.action == AuditAction::ViolationRevoked)
        .count();
    assert_eq!(revocations, 1);
    let stored = e.store().load_violation("r-2").await.unwrap().unwrap();
    assert_eq!(stored.revocation.unwrap().revoked_by, "carol");

    let unknown = ViolationRevoked {
        violation_id: id("nope"),
        decided_by: id("carol"),
        reason: "x".into(),
    };
    assert!(matches!(
        e.revoke(&unknown).await,
        Err(EscalationError::UnknownViolation(_))
    ));
}

pub async fn expired_strikes_stop_counting<S: LedgerStore>(store: S) {
    let clock = Arc::new(ManualClock::at(START));
    let e = escalator(store, MemoryAlertSink::collecting(), Arc::clone(&clock));
    e.confirm(&violation("x-1", "u-old", Severity::Medium, "alice"))
        .await
        .unwrap();
    let suspended = e
        .confirm(&violation("x-2", "u-old", Severity::High, "alice"))
        .await
        .unwrap();
    assert_eq!(suspended.level, AccountLevel::Suspended);

    clock.advance(366 * SECONDS_PER_DAY);
    let report = e.standing(&id("u-old")).await.unwrap();
    assert_eq!(report.points, 0, "both strikes expired");
    assert!(report.active_strikes.is_empty());

    let fresh = e
        .confirm(&violation("x-3", "u-old", Severity::Medium, "alice"))
        .await
        .unwrap();
    assert_eq!(
        fresh.level,
        AccountLevel::Warning,
        "only the fresh strike counts"
    );
    assert_eq!(fresh.points, 2);
}

/// Fails the first `failures` publishes, then delivers; remembers every dedupe key tried.
#[derive(Default)]
struct FlakyAlertSink {
    failures: AtomicUsize,
    tried: Mutex<Vec<String>>,
    delivered: MemoryAlertSink,
}

impl AlertSink for FlakyAlertSink {
    async fn publish(&self, alert: &Alert) -> Result<(), AlertError> {
        self.tried
            .lock()
            .unwrap()
            .push(alert.dedupe_key().to_owned());
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |f| f.checked_sub(1))
            .is_ok()
        {
            return Err(AlertError("SNS unavailable".into()));
        }
        self.delivered.publish(alert).await
    }
}

pub async fn a_failed_alert_fails_the_command_and_its_retry_publishes_without_counting_again<
    S: LedgerStore,
>(
    store: S,
) {
    let clock = Arc::new(ManualClock::at(START));
    let sink = FlakyAlertSink {
        failures: AtomicUsize::new(1),
        ..Default::default()
    };
    let e = escalator(store, sink, clock);
    let v = violation("f-1", "u-flaky", Severity::Medium, "alice");

    let first = e.confirm(&v).await;
    assert!(matches!(first, Err(EscalationError::Alert(_))), "{first:?}");
    let retry = e.confirm(&v).await.unwrap();
    assert!(
        !retry.applied,
        "the retry finds the strike already recorded"
    );
    assert_eq!(retry.level, AccountLevel::Warning);

    let report = e.standing(&id("u-flaky")).await.unwrap();
    assert_eq!(report.active_strikes.len(), 1);
    assert_eq!(report.history.len(), 1);

    let tried = e.alerts().tried.lock().unwrap().clone();
    assert_eq!(tried.len(), 2);
    assert_eq!(
        tried[0], tried[1],
        "the retry's alert has the failed one's dedupe key"
    );
    assert_eq!(e.alerts().delivered.alerts().len(), 1);
}

pub async fn a_violation_id_reused_for_another_user_is_refused<S: LedgerStore>(store: S) {
    let clock = Arc::new(ManualClock::at(START));
    let e = escalator(store, MemoryAlertSink::collecting(), clock);
    e.confirm(&violation("dup-1", "u-a", Severity::Low, "alice"))
        .await
        .unwrap();
    let reused = e
        .confirm(&violation("dup-1", "u-b", Severity::Low, "alice"))
        .await;
    assert!(
        matches!(reused, Err(EscalationError::ViolationIdConflict { .. })),
        "{reused:?}"
    );
    assert_eq!(
        e.standing(&id("u-b")).await.unwrap().active_strikes.len(),
        0
    );
}

pub async fn commands_parsed_from_json_run_end_to_end<S: LedgerStore>(store: S) {
    let clock = Arc::new(ManualClock::at(START));
    let e = escalator(store, MemoryAlertSink::collecting(), clock);
    let command = EscalationCommand::from_json(serde_json::json!({
        "type": "violation_confirmed", "violation_id": "j-1", "user_id": "u-json",
        "category": "illegal_work", "severity": "critical", "source": "screening",
        "evidence": ["submission:job-1"], "decided_by": "screening"
    }))
    .unwrap();
    e.handle(command).await.unwrap();
    // illegal_work goes straight to withdrawal, which waits for a human's confirmation.
    let report = e.standing(&id("u-json")).await.unwrap();
    assert_eq!(report.level, AccountLevel::WithdrawalPending);
    assert_eq!(report.pending_withdrawal.unwrap().requested_by, "screening");
}

macro_rules! escalation_suite {
    ($backend:ident, $make_store:path) => {
        mod $backend {

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn three_violations_climb_the_ladder_and_withdrawal_needs_a_second_member() {
                super::three_violations_climb_the_ladder_and_withdrawal_needs_a_second_member($make_store().await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn fifty_violations_delivered_four_times_concurrently_count_exactly_once() {
                super::fifty_violations_delivered_four_times_concurrently_count_exactly_once($make_store().await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn revoking_drops_the_level_and_a_second_revoke_changes_nothing() {
                super::revoking_drops_the_level_and_a_second_revoke_changes_nothing($make_store().await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn expired_strikes_stop_counting() {
                super::expired_strikes_stop_counting($make_store().await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_failed_alert_fails_the_command_and_its_retry_publishes_without_counting_again() {
                super::a_failed_alert_fails_the_command_and_its_retry_publishes_without_counting_again(
                    $make_store().await,
                )
                .await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_violation_id_reused_for_another_user_is_refused() {
                super::a_violation_id_reused_for_another_user_is_refused($make_store().await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn commands_parsed_from_json_run_end_to_end() {
                super::commands_parsed_from_json_run_end_to_end($make_store().await).await
            }
        }
    };
}

async fn embedded_store() -> anshin_core::adapters::memory::MemoryLedgerStore {
    anshin_core::adapters::memory::MemoryLedgerStore::new()
}

escalation_suite!(embedded, super::embedded_store);
escalation_suite!(dynamodb_on_moto, crate::support::fresh_dynamo_ledger);
