//! One behavioural suite for the strike ledger, run against the memory store and against
//! the DynamoDB store on moto. Each scenario is a generic async function taking a store and
//! a view of the outbox it writes to; the macro at the bottom instantiates every scenario
//! for every backend.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anshin_core::adapters::memory::MemoryPublisher;
use anshin_core::alert::Alert;
use anshin_core::clock::SECONDS_PER_DAY;
use anshin_core::clock::{Clock, ManualClock};
use anshin_core::escalation::ledger::{AuditAction, LedgerStore};
use anshin_core::escalation::{
    EscalationCommand, EscalationError, Escalator, ViolationRevoked, WithdrawalConfirmed,
};
use anshin_core::input::Id;
use anshin_core::outbox::{
    MessagePublisher, OutboxMessage, OutboxRelay, OutboxStore, PublishError,
};
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

fn escalator<S: LedgerStore>(store: S, clock: Arc<ManualClock>) -> Escalator<S> {
    let clock: Arc<dyn Clock> = clock;
    Escalator::new(
        store,
        Arc::new(Policy::embedded().expect("embedded policy")),
        clock,
    )
}

/// The alerts waiting in the outbox, in the order of the account changes that wrote them.
async fn pending_alerts(outbox: &impl OutboxStore) -> Vec<Alert> {
    let mut alerts: Vec<Alert> = outbox
        .pending(u64::MAX, 1_000)
        .await
        .expect("outbox readable")
        .iter()
        .filter_map(|m| serde_json::from_str(&m.body).ok())
        .collect();
    alerts.sort_by_key(|a| match a {
        Alert::AccountLevel(a) => a.sequence,
        _ => 0,
    });
    alerts
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
    O: OutboxStore,
>(
    store: S,
    outbox: O,
) {
    let clock = Arc::new(ManualClock::at(START));
    let e = escalator(store, clock);
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

    let alerts = pending_alerts(&outbox).await;
    assert_eq!(
        level_changes(&alerts),
        [
            (AccountLevel::GoodStanding, AccountLevel::Warning),
            (AccountLevel::Warning, AccountLevel::Suspended),
            (AccountLevel::Suspended, AccountLevel::WithdrawalPending),
            (AccountLevel::WithdrawalPending, AccountLevel::Withdrawn),
        ]
    );
    let sequences: Vec<u64> = alerts
        .iter()
        .map(|a| match a {
            Alert::AccountLevel(a) => a.sequence,
            _ => 0,
        })
        .collect();
    assert_eq!(
        sequences,
        [1, 2, 3, 4],
        "one sequence number per change, growing"
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
    O: OutboxStore,
>(
    store: S,
    _outbox: O,
) {
    let clock = Arc::new(ManualClock::at(START));
    let e = Arc::new(escalator(store, clock));
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

pub async fn revoking_drops_the_level_and_a_second_revoke_changes_nothing<
    S: LedgerStore,
    O: OutboxStore,
>(
    store: S,
    outbox: O,
) {
    let clock = Arc::new(ManualClock::at(START));
    let e = escalator(store, clock);
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
    assert_eq!(
        level_changes(&pending_alerts(&outbox).await),
        [
            (AccountLevel::GoodStanding, AccountLevel::Warning),
            (AccountLevel::Warning, AccountLevel::Suspended),
            (AccountLevel::Suspended, AccountLevel::Warning),
        ],
        "the revocation's level change is announced, once"
    );

    // A confirmation redelivered after the revocation announces nothing stale.
    let replay = e
        .confirm(&violation("r-2", "u-appeal", Severity::High, "alice"))
        .await
        .unwrap();
    assert!(!replay.applied);
    assert_eq!(pending_alerts(&outbox).await.len(), 3);

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

pub async fn expired_strikes_stop_counting<S: LedgerStore, O: OutboxStore>(store: S, _outbox: O) {
    let clock = Arc::new(ManualClock::at(START));
    let e = escalator(store, Arc::clone(&clock));
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
    assert_eq!(
        report.level,
        AccountLevel::GoodStanding,
        "a query answers the level as it is now, before any sweep"
    );

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

pub async fn an_account_suspended_by_strikes_that_expire_is_restored_by_the_sweep_with_one_alert<
    S: LedgerStore,
    O: OutboxStore,
>(
    store: S,
    outbox: O,
) {
    let clock = Arc::new(ManualClock::at(START));
    let e = escalator(store, Arc::clone(&clock));
    e.confirm(&violation("s-1", "u-expiring", Severity::Medium, "alice"))
        .await
        .unwrap();
    let suspended = e
        .confirm(&violation("s-2", "u-expiring", Severity::High, "alice"))
        .await
        .unwrap();
    assert_eq!(suspended.level, AccountLevel::Suspended);
    assert_eq!(
        e.sweep_expired(100).await.unwrap().checked,
        0,
        "nothing has expired yet"
    );

    clock.advance(366 * SECONDS_PER_DAY);
    let swept = e.sweep_expired(100).await.unwrap();
    assert_eq!((swept.checked, swept.changed), (1, 1));
    let alerts = pending_alerts(&outbox).await;
    assert_eq!(
        level_changes(&alerts),
        [
            (AccountLevel::GoodStanding, AccountLevel::Warning),
            (AccountLevel::Warning, AccountLevel::Suspended),
            (AccountLevel::Suspended, AccountLevel::GoodStanding),
        ]
    );
    let Some(Alert::AccountLevel(restored)) = alerts.last() else {
        panic!("a level change");
    };
    assert_eq!(restored.sequence, 3);
    let standing = e.store().load_user("u-expiring").await.unwrap();
    assert_eq!(
        standing.standing.level(),
        AccountLevel::GoodStanding,
        "written, not only computed"
    );
    assert!(standing.standing.strikes.is_empty());

    let again = e.sweep_expired(100).await.unwrap();
    assert_eq!(
        (again.checked, again.changed),
        (0, 0),
        "a settled account is not due again"
    );
    assert_eq!(pending_alerts(&outbox).await.len(), 3, "announced once");
    let history = e.standing(&id("u-expiring")).await.unwrap().history;
    assert_eq!(
        history.last().map(|a| (a.action, a.actor.as_str())),
        Some((AuditAction::StrikesExpired, "anshin-expiry"))
    );
}

pub async fn a_pending_withdrawal_whose_strikes_expired_cannot_be_confirmed<
    S: LedgerStore,
    O: OutboxStore,
>(
    store: S,
    _outbox: O,
) {
    let clock = Arc::new(ManualClock::at(START));
    let e = escalator(store, Arc::clone(&clock));
    for n in 0..3 {
        e.confirm(&violation(
            &format!("w-{n}"),
            "u-lapsed",
            Severity::High,
            "alice",
        ))
        .await
        .unwrap();
    }
    assert_eq!(
        e.standing(&id("u-lapsed")).await.unwrap().level,
        AccountLevel::WithdrawalPending
    );
    clock.advance(366 * SECONDS_PER_DAY);
    let late = e
        .confirm_withdrawal(&WithdrawalConfirmed {
            user_id: id("u-lapsed"),
            decided_by: id("bob"),
        })
        .await;
    assert!(
        matches!(late, Err(EscalationError::NoPendingWithdrawal(_))),
        "{late:?}"
    );
    assert_eq!(
        e.standing(&id("u-lapsed")).await.unwrap().level,
        AccountLevel::GoodStanding
    );
}

/// Fails the first `failures` publishes, then delivers; remembers every message id tried.
#[derive(Default)]
struct FlakyPublisher {
    failures: AtomicUsize,
    tried: Mutex<Vec<String>>,
    delivered: MemoryPublisher,
}

impl MessagePublisher for FlakyPublisher {
    async fn publish(&self, message: &OutboxMessage) -> Result<(), PublishError> {
        self.tried.lock().unwrap().push(message.id.clone());
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |f| f.checked_sub(1))
            .is_ok()
        {
            return Err(PublishError {
                message_id: message.id.clone(),
                destination: message.destination,
                reason: "SNS unavailable".into(),
            });
        }
        self.delivered.publish(message).await
    }
}

pub async fn a_failed_publish_leaves_the_alert_pending_until_the_next_sweep_delivers_it_once<
    S: LedgerStore,
    O: OutboxStore,
>(
    store: S,
    outbox: O,
) {
    let clock = Arc::new(ManualClock::at(START));
    let e = escalator(store, clock);
    let v = violation("f-1", "u-flaky", Severity::Medium, "alice");
    assert!(e.confirm(&v).await.unwrap().applied);
    // A redelivered command neither counts nor announces again.
    assert!(!e.confirm(&v).await.unwrap().applied);

    let relay = OutboxRelay::new(
        outbox,
        FlakyPublisher {
            failures: AtomicUsize::new(1),
            ..Default::default()
        },
    );
    let first = relay.sweep(u64::MAX, 100).await.unwrap();
    assert_eq!((first.delivered.len(), first.failed.len()), (0, 1));
    assert_eq!(
        pending_alerts(relay.store()).await.len(),
        1,
        "still pending"
    );
    let second = relay.sweep(u64::MAX, 100).await.unwrap();
    assert_eq!((second.delivered.len(), second.failed.len()), (1, 0));
    assert!(pending_alerts(relay.store()).await.is_empty());
    assert!(relay
        .sweep(u64::MAX, 100)
        .await
        .unwrap()
        .delivered
        .is_empty());

    let tried = relay.publisher().tried.lock().unwrap().clone();
    assert_eq!(tried.len(), 2);
    assert_eq!(tried[0], tried[1], "the retry publishes the same message");
    assert_eq!(
        level_changes(&relay.publisher().delivered.alerts()),
        [(AccountLevel::GoodStanding, AccountLevel::Warning)]
    );
    let report = e.standing(&id("u-flaky")).await.unwrap();
    assert_eq!((report.active_strikes.len(), report.history.len()), (1, 1));
}

/// A ledger that dies right after its transaction succeeds, as a process killed between
/// the commit and anything after it would.
struct DiesAfterCommit<S>(S);

impl<S: LedgerStore> LedgerStore for DiesAfterCommit<S> {
    async fn load_user(
        &self,
        user_id: &str,
    ) -> Result<anshin_core::escalation::ledger::UserState, anshin_core::store::StoreError> {
        self.0.load_user(user_id).await
    }
    async fn load_violation(
        &self,
        violation_id: &str,
    ) -> Result<
        Option<anshin_core::escalation::ledger::ViolationRecord>,
        anshin_core::store::StoreError,
    > {
        self.0.load_violation(violation_id).await
    }
    async fn commit(
        &self,
        commit: anshin_core::escalation::ledger::Commit,
    ) -> Result<(), anshin_core::escalation::ledger::CommitError> {
        self.0.commit(commit).await?;
        panic!("the process dies right after the commit");
    }
    async fn due_for_expiry(
        &self,
        now: u64,
        limit: usize,
    ) -> Result<Vec<String>, anshin_core::store::StoreError> {
        self.0.due_for_expiry(now, limit).await
    }
    async fn audit_trail(
        &self,
        user_id: &str,
    ) -> Result<Vec<anshin_core::escalation::ledger::AuditRecord>, anshin_core::store::StoreError>
    {
        self.0.audit_trail(user_id).await
    }
}

pub async fn a_command_that_dies_after_its_commit_still_has_its_alert_delivered<
    S: LedgerStore + 'static,
    O: OutboxStore,
>(
    store: S,
    outbox: O,
) {
    let clock = Arc::new(ManualClock::at(START));
    let dying = Arc::new(escalator(DiesAfterCommit(store), clock));
    let task = {
        let dying = Arc::clone(&dying);
        tokio::spawn(async move {
            dying
                .confirm(&violation("c-1", "u-crash", Severity::High, "alice"))
                .await
        })
    };
    assert!(task.await.unwrap_err().is_panic(), "the handler died");

    let relay = OutboxRelay::new(outbox, MemoryPublisher::collecting());
    let delivered = relay.drain().await.unwrap();
    assert_eq!(delivered.delivered.len(), 1);
    assert_eq!(
        level_changes(&relay.publisher().alerts()),
        [(AccountLevel::GoodStanding, AccountLevel::Warning)]
    );
}

pub async fn a_violation_id_reused_for_another_user_is_refused<S: LedgerStore, O: OutboxStore>(
    store: S,
    _outbox: O,
) {
    let clock = Arc::new(ManualClock::at(START));
    let e = escalator(store, clock);
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

pub async fn commands_parsed_from_json_run_end_to_end<S: LedgerStore, O: OutboxStore>(
    store: S,
    _outbox: O,
) {
    let clock = Arc::new(ManualClock::at(START));
    let e = escalator(store, clock);
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
    ($backend:ident, $make_store:path, [$($scenario:ident),* $(,)?]) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let (store, outbox) = $make_store().await;
                    super::$scenario(store, outbox).await
                }
            )*
        }
    };
    ($backend:ident, $make_store:path) => {
        escalation_suite!($backend, $make_store, [
            three_violations_climb_the_ladder_and_withdrawal_needs_a_second_member,
            fifty_violations_delivered_four_times_concurrently_count_exactly_once,
            revoking_drops_the_level_and_a_second_revoke_changes_nothing,
            expired_strikes_stop_counting,
            an_account_suspended_by_strikes_that_expire_is_restored_by_the_sweep_with_one_alert,
            a_pending_withdrawal_whose_strikes_expired_cannot_be_confirmed,
            a_failed_publish_leaves_the_alert_pending_until_the_next_sweep_delivers_it_once,
            a_command_that_dies_after_its_commit_still_has_its_alert_delivered,
            a_violation_id_reused_for_another_user_is_refused,
            commands_parsed_from_json_run_end_to_end,
        ]);
    };
}

async fn memory_store() -> (
    anshin_core::adapters::memory::MemoryLedgerStore,
    Arc<anshin_core::adapters::memory::MemoryOutbox>,
) {
    let outbox = anshin_core::adapters::memory::MemoryOutbox::new();
    (
        anshin_core::adapters::memory::MemoryLedgerStore::with_outbox(Arc::clone(&outbox)),
        outbox,
    )
}

escalation_suite!(memory, super::memory_store);
escalation_suite!(dynamodb_on_moto, crate::support::fresh_dynamo_ledger);
