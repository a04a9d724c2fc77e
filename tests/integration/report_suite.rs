//! One behavioural suite for report intake, run against the memory stores and against
//! DynamoDB on moto. Confirmed reports leave through the outbox, and a relay hands them to
//! an escalator on a ledger of the same backend.

use std::ops::Deref;
use std::sync::Arc;

use anshin_core::adapters::memory::{
    InProcessPublisher, MemoryLedgerStore, MemoryOutbox, MemoryPublisher, MemoryReportStore,
};
use anshin_core::alert::{Alert, AlertEventType};
use anshin_core::clock::SECONDS_PER_DAY;
use anshin_core::clock::{Clock, ManualClock};
use anshin_core::escalation::ledger::LedgerStore;
use anshin_core::escalation::Escalator;
use anshin_core::input::Id;
use anshin_core::outbox::{OutboxRelay, OutboxStore};
use anshin_core::policy::Policy;
use anshin_core::reports::{
    Report, ReportCommand, ReportDesk, ReportError, ReportStatus, ReportStore, Resolution,
    ResolutionDecision,
};
use anshin_core::screening::Screener;
use anshin_core::taxonomy::{Category, ReportCategory};
use serde_json::json;

const NOW: u64 = 1_800_000_000;
/// An account old enough to count fully.
const OLD_ACCOUNT: u64 = NOW - 400 * SECONDS_PER_DAY;
/// An account created yesterday.
const NEW_ACCOUNT: u64 = NOW - SECONDS_PER_DAY;

/// A report desk and an escalator on one backend, with the relay that carries the desk's
/// messages as SNS and user-escalation would: confirmed violations to the escalator, alerts
/// to a collector.
struct Stack<R, L, O> {
    desk: Arc<ReportDesk<R>>,
    escalator: Arc<Escalator<L>>,
    relay: OutboxRelay<O, InProcessPublisher<L, R>>,
}

impl<R, L, O> Deref for Stack<R, L, O> {
    type Target = ReportDesk<R>;
    fn deref(&self) -> &Self::Target {
        &self.desk
    }
}

impl<R: ReportStore, L: LedgerStore, O: OutboxStore> Stack<R, L, O> {
    /// Delivers everything pending, then the alerts delivered so far.
    async fn alerts(&self) -> Vec<Alert> {
        let relayed = self.relay.drain().await.unwrap();
        assert!(relayed.failed.is_empty(), "{:?}", relayed.failed);
        self.relay.publisher().alerts().alerts()
    }

    /// Delivers everything pending, then the escalator behind the desk.
    async fn escalator(&self) -> &Escalator<L> {
        self.alerts().await;
        &self.escalator
    }
}

fn desk<R: ReportStore, L: LedgerStore, O: OutboxStore>(
    reports: R,
    ledger: L,
    outbox: O,
) -> (Stack<R, L, O>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at(NOW));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let policy = Arc::new(Policy::embedded().unwrap());
    let escalator = Arc::new(Escalator::new(
        ledger,
        Arc::clone(&policy),
        Arc::clone(&dyn_clock),
    ));
    let desk = Arc::new(ReportDesk::new(reports, Screener::new(policy), dyn_clock));
    let relay = OutboxRelay::new(
        outbox,
        InProcessPublisher::new(
            Arc::clone(&escalator),
            Some(Arc::clone(&desk)),
            MemoryPublisher::collecting(),
        ),
    );
    (
        Stack {
            desk,
            escalator,
            relay,
        },
        clock,
    )
}

fn report(reporter: &str, target: &str, category: &str, created_at: u64) -> Report {
    report_on(
        reporter,
        target,
        &format!("job-of-{target}"),
        category,
        created_at,
    )
}

fn report_on(
    reporter: &str,
    target: &str,
    submission: &str,
    category: &str,
    created_at: u64,
) -> Report {
    let command = ReportCommand::from_json(json!({
        "type": "report", "reporter_id": reporter, "reporter_account_created_at": created_at,
        "target_user_id": target, "target_submission_id": submission,
        "category": category, "description": "見てください"
    }))
    .unwrap();
    match command {
        ReportCommand::Report(r) => *r,
        other => panic!("{other:?}"),
    }
}

const SPAM: ReportCategory = ReportCategory::Category(Category::Spam);

fn resolution(report_id: &str, decision: ResolutionDecision) -> Resolution {
    Resolution {
        report_id: Id::parse("report_id", report_id).unwrap(),
        decision,
        decided_by: Id::parse("decided_by", "support-sato").unwrap(),
        category: None,
        severity: None,
    }
}

async fn report_alerts<R: ReportStore, L: LedgerStore, O: OutboxStore>(
    stack: &Stack<R, L, O>,
) -> Vec<anshin_core::alert::ReportThresholdAlert> {
    stack
        .alerts()
        .await
        .into_iter()
        .filter_map(|a| match a {
            Alert::Reports(r) => Some(r),
            _ => None,
        })
        .collect()
}

pub async fn a_duplicate_report_counts_once_and_returns_the_original_id<
    R: ReportStore,
    L: LedgerStore,
    O: OutboxStore,
>(
    r: R,
    l: L,
    o: O,
) {
    let (desk, _) = desk(r, l, o);
    let first = desk
        .intake(&report("rep-a", "target-1", "spam", OLD_ACCOUNT))
        .await
        .unwrap();
    assert!(first.new);
    let mut again = report("rep-a", "target-1", "spam", OLD_ACCOUNT);
    again.report_id = Id::parse("report_id", "platform-assigned-99").unwrap();
    let second = desk.intake(&again).await.unwrap();
    assert!(!second.new);
    assert_eq!(
        second.report_id, first.report_id,
        "the original id comes back"
    );
    let tally = desk.store().tally("target-1").await.unwrap();
    assert_eq!(tally.version, 1, "one write");
    assert_eq!(
        tally.tally.scores()[&anshin_core::taxonomy::ReportCategory::Category(
            anshin_core::taxonomy::Category::Spam
        )],
        (1.0, 1),
        "one reporter counted once"
    );
    assert!(desk
        .store()
        .report("platform-assigned-99")
        .await
        .unwrap()
        .is_none());
}

pub async fn the_21st_report_of_a_day_is_rate_limited_and_stores_nothing<
    R: ReportStore,
    L: LedgerStore,
    O: OutboxStore,
>(
    r: R,
    l: L,
    o: O,
) {
    let (desk, clock) = desk(r, l, o);
    for i in 0..20 {
        desk.intake(&report("busy", &format!("t-{i}"), "spam", OLD_ACCOUNT))
            .await
            .unwrap();
    }
    let refused = desk
        .intake(&report("busy", "t-20", "spam", OLD_ACCOUNT))
        .await;
    assert!(
        matches!(refused, Err(ReportError::RateLimited { limit: 20, .. })),
        "{refused:?}"
    );
    assert_eq!(
        desk.store().tally("t-20").await.unwrap().version,
        0,
        "nothing stored"
    );
    let would_be = report("busy", "t-20", "spam", OLD_ACCOUNT);
    assert!(desk
        .store()
        .report(would_be.report_id.as_str())
        .await
        .unwrap()
        .is_none());
    // The limit is per UTC day: the next day the same report is taken.
    clock.advance(SECONDS_PER_DAY);
    let next_day = desk.intake(&would_be).await.unwrap();
    assert!(next_day.new, "{next_day:?}");
}

pub async fn five_distinct_reporters_crossing_the_threshold_raise_exactly_one_alert<
    R: ReportStore,
    L: LedgerStore,
    O: OutboxStore,
>(
    r: R,
    l: L,
    o: O,
) {
    let (desk, _) = desk(r, l, o);
    // spam: threshold 3.0; a reporter with no record weighs 1.0.
    let mut crossed_at = Vec::new();
    for i in 0..5 {
        let accepted = desk
            .intake(&report(&format!("r-{i}"), "spammer", "spam", OLD_ACCOUNT))
            .await
            .unwrap();
        if !accepted.crossed.is_empty() {
            crossed_at.push(i);
        }
    }
    assert_eq!(crossed_at, [2], "the third distinct reporter crosses 3.0");
    let alerts = report_alerts(&desk).await;
    assert_eq!(alerts.len(), 1, "one alert per crossing");
    assert_eq!(alerts[0].event_type, AlertEventType::ReportThresholdCrossed);
    assert_eq!(
        alerts[0].top_categories[0].2, 3,
        "three reporters at the time of crossing"
    );
}

pub async fn a_confirmation_delivered_twice_makes_exactly_one_strike<
    R: ReportStore,
    L: LedgerStore + 'static,
    O: OutboxStore,
>(
    r: R,
    l: L,
    o: O,
) {
    let (desk, _) = desk(r, l, o);
    let accepted = desk
        .intake(&report("rep-c", "fraudster", "scam", OLD_ACCOUNT))
        .await
        .unwrap();
    let confirm = resolution(&accepted.report_id, ResolutionDecision::Confirmed);
    let first = desk.resolve(&confirm).await.unwrap();
    let second = desk.resolve(&confirm).await.unwrap();
    assert!(first.applied && !second.applied);
    assert_eq!(first.violation_id, second.violation_id);
    let standing = desk
        .escalator()
        .await
        .standing(&Id::parse("id", "fraudster").unwrap())
        .await
        .unwrap();
    assert_eq!(standing.active_strikes.len(), 1);
    assert_eq!(standing.history.len(), 1);
    assert_eq!(
        desk.store()
            .report(&accepted.report_id)
            .await
            .unwrap()
            .unwrap()
            .status,
        ReportStatus::Confirmed
    );
    // Rejecting a confirmed report is a conflict, not a silent change.
    let reject = resolution(&accepted.report_id, ResolutionDecision::Rejected);
    assert!(matches!(
        desk.resolve(&reject).await,
        Err(ReportError::ConflictingResolution(_))
    ));
}

pub async fn reporter_accuracy_moves_with_confirmations_and_rejections<
    R: ReportStore,
    L: LedgerStore,
    O: OutboxStore,
>(
    r: R,
    l: L,
    o: O,
) {
    let (desk, _) = desk(r, l, o);
    let good = desk
        .intake(&report("reliable", "x-1", "spam", OLD_ACCOUNT))
        .await
        .unwrap();
    let bad = desk
        .intake(&report("careless", "x-1", "spam", OLD_ACCOUNT))
        .await
        .unwrap();
    assert_eq!((good.weight, bad.weight), (1.0, 1.0), "newcomers weigh 1.0");
    desk.resolve(&resolution(&good.report_id, ResolutionDecision::Confirmed))
        .await
        .unwrap();
    desk.resolve(&resolution(&bad.report_id, ResolutionDecision::Rejected))
        .await
        .unwrap();
    let next_good = desk
        .intake(&report("reliable", "x-2", "spam", OLD_ACCOUNT))
        .await
        .unwrap();
    let next_bad = desk
        .intake(&report("careless", "x-2", "spam", OLD_ACCOUNT))
        .await
        .unwrap();
    assert!(
        (next_good.weight - 4.0 / 3.0).abs() < 1e-9,
        "{}",
        next_good.weight
    );
    assert!(
        (next_bad.weight - 2.0 / 3.0).abs() < 1e-9,
        "{}",
        next_bad.weight
    );
}

pub async fn a_burst_of_new_account_reports_is_flagged_as_brigading_and_does_not_cross<
    R: ReportStore,
    L: LedgerStore,
    O: OutboxStore,
>(
    r: R,
    l: L,
    o: O,
) {
    let (desk, clock) = desk(r, l, o);
    // harassment is severe (threshold 1.5): four new accounts at 0.5 each would cross.
    let mut last = None;
    for i in 0..4 {
        last = Some(
            desk.intake(&report(
                &format!("sock-{i}"),
                "victim",
                "harassment",
                NEW_ACCOUNT,
            ))
            .await
            .unwrap(),
        );
        clock.advance(60);
    }
    let last = last.unwrap();
    assert!(last.brigading);
    assert!(
        last.crossed.is_empty(),
        "a brigade does not cross by itself"
    );
    let alerts = report_alerts(&desk).await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0].event_type,
        AlertEventType::ReportBrigadingSuspected
    );
    assert!(alerts[0].brigading_suspected);
}

pub async fn reports_older_than_the_window_stop_counting<
    R: ReportStore,
    L: LedgerStore,
    O: OutboxStore,
>(
    r: R,
    l: L,
    o: O,
) {
    let (desk, clock) = desk(r, l, o);
    for i in 0..2 {
        desk.intake(&report(
            &format!("early-{i}"),
            "fading",
            "spam",
            OLD_ACCOUNT,
        ))
        .await
        .unwrap();
    }
    // spam crosses at 3.0: a third reporter would cross, but not once the first two have
    // left the 90-day window (which moves in steps of a tenth of itself, 9 days).
    clock.advance(99 * SECONDS_PER_DAY);
    let late = desk
        .intake(&report("late", "fading", "spam", OLD_ACCOUNT))
        .await
        .unwrap();
    assert!(late.crossed.is_empty(), "{late:?}");
    let tally = desk.store().tally("fading").await.unwrap().tally;
    assert_eq!(tally.scores()[&SPAM], (1.0, 1));
}

pub async fn a_resolution_rearms_the_crossing_so_a_new_wave_alerts_again<
    R: ReportStore,
    L: LedgerStore,
    O: OutboxStore,
>(
    r: R,
    l: L,
    o: O,
) {
    let (desk, _) = desk(r, l, o);
    let mut first_wave = Vec::new();
    for i in 0..3 {
        first_wave.push(
            desk.intake(&report(
                &format!("wave1-{i}"),
                "repeat",
                "spam",
                OLD_ACCOUNT,
            ))
            .await
            .unwrap(),
        );
    }
    assert!(!first_wave[2].crossed.is_empty(), "the first wave crosses");
    desk.resolve(&resolution(
        &first_wave[0].report_id,
        ResolutionDecision::Rejected,
    ))
    .await
    .unwrap();
    let mut second_wave = Vec::new();
    for i in 0..3 {
        second_wave.push(
            desk.intake(&report(
                &format!("wave2-{i}"),
                "repeat",
                "spam",
                OLD_ACCOUNT,
            ))
            .await
            .unwrap(),
        );
    }
    assert!(
        second_wave[1].crossed.is_empty(),
        "the count started afresh"
    );
    assert!(
        !second_wave[2].crossed.is_empty(),
        "the second wave crosses on its own"
    );
    assert_eq!(report_alerts(&desk).await.len(), 2);
}

pub async fn three_confirmed_reports_of_one_posting_make_one_strike<
    R: ReportStore,
    L: LedgerStore,
    O: OutboxStore,
>(
    r: R,
    l: L,
    o: O,
) {
    let (desk, _) = desk(r, l, o);
    let mut violations = Vec::new();
    for i in 0..3 {
        let accepted = desk
            .intake(&report_on(
                &format!("witness-{i}"),
                "scammer",
                "job-77",
                "scam",
                OLD_ACCOUNT,
            ))
            .await
            .unwrap();
        let resolved = desk
            .resolve(&resolution(
                &accepted.report_id,
                ResolutionDecision::Confirmed,
            ))
            .await
            .unwrap();
        violations.push(resolved.violation_id.unwrap());
    }
    assert!(
        violations.iter().all(|v| *v == violations[0]),
        "{violations:?}"
    );
    let standing = desk
        .escalator()
        .await
        .standing(&Id::parse("id", "scammer").unwrap())
        .await
        .unwrap();
    assert_eq!(standing.active_strikes.len(), 1, "one posting, one strike");
    assert_eq!(standing.history.len(), 1);
}

pub async fn a_reporter_reporting_several_postings_of_one_target_counts_once<
    R: ReportStore,
    L: LedgerStore,
    O: OutboxStore,
>(
    r: R,
    l: L,
    o: O,
) {
    let (desk, _) = desk(r, l, o);
    for n in 0..3 {
        let accepted = desk
            .intake(&report_on(
                "zealous",
                "prolific",
                &format!("job-{n}"),
                "spam",
                OLD_ACCOUNT,
            ))
            .await
            .unwrap();
        assert!(accepted.new && accepted.crossed.is_empty(), "{accepted:?}");
    }
    let tally = desk.store().tally("prolific").await.unwrap().tally;
    assert_eq!(tally.scores()[&SPAM], (1.0, 1));
}

pub async fn hundreds_of_distinct_reporters_leave_the_tally_small<
    R: ReportStore,
    L: LedgerStore,
    O: OutboxStore,
>(
    r: R,
    l: L,
    o: O,
) {
    let (desk, clock) = desk(r, l, o);
    for i in 0..200 {
        let accepted = desk
            .intake(&report(&format!("crowd-{i}"), "viral", "spam", OLD_ACCOUNT))
            .await
            .unwrap();
        assert!(accepted.new);
        clock.advance(30);
    }
    let tally = desk.store().tally("viral").await.unwrap();
    assert_eq!(tally.version, 200);
    assert_eq!(tally.tally.scores()[&SPAM], (200.0, 200));
    let size = serde_json::to_string(&tally.tally).unwrap().len();
    assert!(size < 2_000, "the tally stays small: {size} bytes");
    assert_eq!(
        report_alerts(&desk).await.len(),
        1,
        "one crossing, one alert"
    );
}

macro_rules! report_suite {
    ($backend:ident, $make:path, [$($scenario:ident),* $(,)?]) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let (r, l, o) = $make().await;
                    super::$scenario(r, l, o).await
                }
            )*
        }
    };
    ($backend:ident, $make:path) => {
        report_suite!($backend, $make, [
            a_duplicate_report_counts_once_and_returns_the_original_id,
            the_21st_report_of_a_day_is_rate_limited_and_stores_nothing,
            five_distinct_reporters_crossing_the_threshold_raise_exactly_one_alert,
            a_confirmation_delivered_twice_makes_exactly_one_strike,
            reporter_accuracy_moves_with_confirmations_and_rejections,
            a_burst_of_new_account_reports_is_flagged_as_brigading_and_does_not_cross,
            reports_older_than_the_window_stop_counting,
            a_resolution_rearms_the_crossing_so_a_new_wave_alerts_again,
            three_confirmed_reports_of_one_posting_make_one_strike,
            a_reporter_reporting_several_postings_of_one_target_counts_once,
            hundreds_of_distinct_reporters_leave_the_tally_small,
        ]);
    };
}

async fn memory_backend() -> (MemoryReportStore, MemoryLedgerStore, Arc<MemoryOutbox>) {
    let outbox = MemoryOutbox::new();
    (
        MemoryReportStore::with_outbox(Arc::clone(&outbox)),
        MemoryLedgerStore::with_outbox(Arc::clone(&outbox)),
        outbox,
    )
}

report_suite!(memory, super::memory_backend);
report_suite!(dynamodb_on_moto, crate::support::fresh_dynamo_reports);
